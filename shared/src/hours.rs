//! Practice hours in the practice's time zone (REPLY-5): pure functions, the clock passed in.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Opening hours: the weekdays open (1 = Monday … 7 = Sunday) and the local times between
/// which the practice answers (`HH:MM`, close after open).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BusinessHours {
    pub days: Vec<u8>,
    pub open: String,
    pub close: String,
}

fn minutes(field: &str, hhmm: &str) -> Result<u16> {
    let bad = || Error::invalid(field, "times are `HH:MM`, 24-hour");
    let (h, m) = hhmm.split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 || hhmm.len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl BusinessHours {
    /// Opening and closing time, in minutes after local midnight.
    pub fn open_close_minutes(&self) -> Result<(u16, u16)> {
        Ok((minutes("businessHours.open", &self.open)?, minutes("businessHours.close", &self.close)?))
    }

    pub fn validate(&self) -> Result<()> {
        if self.days.iter().any(|d| !(1..=7).contains(d)) {
            return Err(Error::invalid("businessHours.days", "days are 1 (Monday) to 7 (Sunday)"));
        }
        if minutes("businessHours.open", &self.open)? >= minutes("businessHours.close", &self.close)? {
            return Err(Error::invalid("businessHours.close", "close must be after open"));
        }
        Ok(())
    }
}

/// A time zone by IANA name, or 422.
pub fn time_zone(name: &str) -> Result<jiff::tz::TimeZone> {
    jiff::tz::TimeZone::get(name)
        .map_err(|_| Error::invalid("timeZone", "timeZone must be an IANA time zone name such as America/Chicago"))
}

/// Whether `now` falls outside the practice's hours, and the local date it falls on (the
/// period an after-hours auto-reply is sent at most once in).
pub fn after_hours(hours: &BusinessHours, tz: &jiff::tz::TimeZone, now: jiff::Timestamp) -> Result<(bool, String)> {
    let local = now.to_zoned(tz.clone());
    let day = local.weekday().to_monday_one_offset() as u8;
    let minute = local.hour() as u16 * 60 + local.minute() as u16;
    let open = minutes("businessHours.open", &hours.open)?;
    let close = minutes("businessHours.close", &hours.close)?;
    let inside = hours.days.contains(&day) && minute >= open && minute < close;
    Ok((!inside, local.date().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekdays_9_to_5() -> BusinessHours {
        BusinessHours { days: vec![1, 2, 3, 4, 5], open: "09:00".into(), close: "17:00".into() }
    }

    #[test]
    fn reply_5_after_hours_are_judged_in_the_practice_time_zone() {
        let tz = time_zone("America/Chicago").unwrap();
        // Monday 2026-11-23 15:00 UTC = 09:00 in Chicago (CST, UTC-6): open.
        let t: jiff::Timestamp = "2026-11-23T15:00:00Z".parse().unwrap();
        assert_eq!(after_hours(&weekdays_9_to_5(), &tz, t).unwrap(), (false, "2026-11-23".to_string()));
        // 14:59 UTC is 08:59 local: closed, though 14:59 would be open in UTC.
        let t: jiff::Timestamp = "2026-11-23T14:59:00Z".parse().unwrap();
        assert!(after_hours(&weekdays_9_to_5(), &tz, t).unwrap().0);
        // Tuesday 02:00 UTC is Monday 20:00 local: after hours, on Monday's date.
        let t: jiff::Timestamp = "2026-11-24T02:00:00Z".parse().unwrap();
        assert_eq!(after_hours(&weekdays_9_to_5(), &tz, t).unwrap(), (true, "2026-11-23".to_string()));
        // Saturday noon: closed.
        let t: jiff::Timestamp = "2026-11-28T18:00:00Z".parse().unwrap();
        assert!(after_hours(&weekdays_9_to_5(), &tz, t).unwrap().0);
    }

    #[test]
    fn hours_and_zones_are_validated() {
        assert!(time_zone("Mars/Olympus").is_err());
        assert!(BusinessHours { days: vec![8], open: "09:00".into(), close: "17:00".into() }.validate().is_err());
        assert!(BusinessHours { days: vec![1], open: "17:00".into(), close: "09:00".into() }.validate().is_err());
        assert!(BusinessHours { days: vec![1], open: "9:00".into(), close: "17:00".into() }.validate().is_err());
        assert!(weekdays_9_to_5().validate().is_ok());
    }
}
