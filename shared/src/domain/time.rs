//! Time: one `Timestamp` for every instant the product stores, answers or compares, and
//! calendar dates. A request reads the clock once (`RequestCtx::now`); jobs take the time of
//! their schedule, so tests can set both.

use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

pub use jiff::civil::Date;
pub use jiff::SignedDuration;

/// An instant to the microsecond, stored and answered as RFC 3339 UTC with six fraction
/// digits (`2026-12-01T08:05:03.250000Z`): fixed width, so instants inside keys sort as text.
/// Finer precision is dropped when one is made, so an instant equals itself read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

impl Timestamp {
    /// The clock. Read at the edges only: a request's context, a job's start.
    pub fn now() -> Timestamp {
        Timestamp::truncated(jiff::Timestamp::now())
    }

    fn truncated(t: jiff::Timestamp) -> Timestamp {
        let micros = t.as_microsecond();
        Timestamp(jiff::Timestamp::from_microsecond(micros).expect("a valid instant stays valid at coarser precision"))
    }

    /// An RFC 3339 instant with its offset (`Z` or `±hh:mm`) from a request, or 422 naming
    /// the field.
    pub fn parse(field: &str, s: &str) -> Result<Timestamp> {
        s.parse::<jiff::Timestamp>()
            .map(Timestamp::truncated)
            .map_err(|_| Error::invalid(field, format!("`{field}` must be an RFC 3339 timestamp")))
    }

    pub fn from_second(seconds: i64) -> Result<Timestamp> {
        jiff::Timestamp::from_second(seconds).map(Timestamp).map_err(Error::internal)
    }

    /// Epoch seconds (budget minutes, TTL attributes, code expiries).
    pub fn as_second(self) -> i64 {
        self.0.as_second()
    }

    /// An instant from calendar arithmetic (business time), at this type's precision.
    pub fn from_jiff(t: jiff::Timestamp) -> Timestamp {
        Timestamp::truncated(t)
    }

    /// For calendar arithmetic in a time zone (business hours).
    pub fn as_jiff(self) -> jiff::Timestamp {
        self.0
    }

    /// The UTC calendar date (a patient's daily message limit).
    pub fn date(self) -> Date {
        self.0.to_zoned(jiff::tz::TimeZone::UTC).date()
    }

    /// The UTC month, `YYYY-MM` (the billing report's partition).
    pub fn month(self) -> String {
        let d = self.date();
        format!("{:04}-{:02}", d.year(), d.month())
    }
}

impl std::ops::Add<SignedDuration> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: SignedDuration) -> Timestamp {
        Timestamp::truncated(self.0 + d)
    }
}

impl std::ops::Sub<SignedDuration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, d: SignedDuration) -> Timestamp {
        Timestamp::truncated(self.0 - d)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let utc = self.0.to_zoned(jiff::tz::TimeZone::UTC).datetime();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            utc.year(),
            utc.month(),
            utc.day(),
            utc.hour(),
            utc.minute(),
            utc.second(),
            self.0.subsec_microsecond()
        )
    }
}

/// An RFC 3339 instant with its offset; `Timestamp::parse` names the field it came from.
impl std::str::FromStr for Timestamp {
    type Err = Error;
    fn from_str(s: &str) -> Result<Timestamp> {
        Timestamp::parse("timestamp", s)
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.to_string()
    }
}

impl From<&Timestamp> for String {
    fn from(t: &Timestamp) -> String {
        t.to_string()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Timestamp, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        text.parse::<jiff::Timestamp>().map(Timestamp::truncated).map_err(serde::de::Error::custom)
    }
}

/// A calendar date written `YYYY-MM-DD`, or 422 naming the field.
pub fn parse_date(field: &str, s: &str) -> Result<Date> {
    Date::strptime("%Y-%m-%d", s)
        .map_err(|_| Error::invalid(field, format!("`{field}` must be a date such as 2026-12-01")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_and_sort_as_text() {
        let t = Timestamp::from_second(0).unwrap();
        assert_eq!(t.to_string(), "1970-01-01T00:00:00.000000Z");
        let t = Timestamp::parse("at", "2026-12-01T09:05:03.25+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-12-01T08:05:03.250000Z");
        let later = t + SignedDuration::from_micros(1);
        assert!(later > t && later.to_string() > t.to_string());
        assert!(Timestamp::parse("at", "2026-12-01T09:05:03").is_err(), "a time without its offset is no instant");
        assert_eq!(t.month(), "2026-12");
        assert_eq!(t.date().day(), 1);
    }

    #[test]
    fn an_instant_equals_itself_read_back() {
        let t = Timestamp::now();
        let json = serde_json::to_value(t).unwrap();
        assert_eq!(serde_json::from_value::<Timestamp>(json).unwrap(), t, "nanoseconds are dropped when made");
        let fine = Timestamp::parse("at", "2026-12-01T08:05:03.123456789Z").unwrap();
        assert_eq!(fine.to_string(), "2026-12-01T08:05:03.123456Z");
    }

    #[test]
    fn dates_are_calendar_dates() {
        assert_eq!(parse_date("d", "2026-12-01").unwrap().day(), 1);
        assert!(parse_date("d", "2026-13-01").is_err());
    }
}
