//! Ids and timestamps. Ids sort by creation time (48-bit milliseconds, then 80 random bits,
//! in Crockford base32, like a ULID), so keys that embed them stay in creation order.

pub use jiff::{SignedDuration, Timestamp};

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

pub fn new_id(prefix: &str) -> String {
    let millis = Timestamp::now().as_millisecond() as u128;
    let mut random = [0u8; 10];
    aws_lc_rs::rand::fill(&mut random).expect("system random source");
    let mut value: u128 = millis << 80;
    for (i, b) in random.iter().enumerate() {
        value |= u128::from(*b) << (8 * (9 - i));
    }
    let mut out = String::with_capacity(prefix.len() + 26);
    out.push_str(prefix);
    for i in (0..26).rev() {
        out.push(ALPHABET[((value >> (5 * i)) & 31) as usize] as char);
    }
    out
}

/// Now, as RFC 3339 UTC with microseconds: fixed width, so it sorts as text.
pub fn now() -> String {
    format_time(Timestamp::now())
}

pub fn format_time(t: Timestamp) -> String {
    let utc = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        utc.year(),
        utc.month(),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        t.subsec_microsecond()
    )
}

/// An RFC 3339 timestamp with its offset (`Z` or `±hh:mm`), or 422 naming the field.
pub fn parse_time(field: &str, s: &str) -> crate::Result<Timestamp> {
    s.parse::<Timestamp>().map_err(|_| crate::Error::invalid(field, format!("`{field}` must be an RFC 3339 timestamp")))
}

/// A calendar date written `YYYY-MM-DD`, or 422 naming the field.
pub fn parse_date(field: &str, s: &str) -> crate::Result<jiff::civil::Date> {
    jiff::civil::Date::strptime("%Y-%m-%d", s)
        .map_err(|_| crate::Error::invalid(field, format!("`{field}` must be a date such as 2026-12-01")))
}

pub fn epoch_seconds() -> i64 {
    Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_are_unique() {
        let a = new_id("msg_");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id("msg_");
        assert!(a < b);
        assert_eq!(a.len(), 30);
        assert_ne!(new_id("x"), new_id("x"));
    }

    #[test]
    fn timestamps_are_fixed_width() {
        let t = Timestamp::from_second(0).unwrap();
        assert_eq!(format_time(t), "1970-01-01T00:00:00.000000Z");
        let t = parse_time("at", "2026-12-01T09:05:03.25+01:00").unwrap();
        assert_eq!(format_time(t), "2026-12-01T08:05:03.250000Z");
        assert!(parse_time("at", "2026-12-01T09:05:03").is_err(), "a time without its offset is no instant");
        assert_eq!(parse_date("d", "2026-12-01").unwrap().day(), 1);
        assert!(parse_date("d", "2026-13-01").is_err());
    }
}
