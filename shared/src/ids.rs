//! Ids and timestamps. Ids sort by creation time (48-bit milliseconds, then 80 random bits,
//! in Crockford base32, like a ULID), so keys that embed them stay in creation order.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

pub fn new_id(prefix: &str) -> String {
    let millis = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as u128;
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
    format_time(OffsetDateTime::now_utc())
}

pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

pub fn parse_time(field: &str, s: &str) -> crate::Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|_| crate::Error::invalid(field, format!("`{field}` must be an RFC 3339 timestamp")))
}

pub fn epoch_seconds() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
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
        let t = OffsetDateTime::from_unix_timestamp(0).unwrap();
        assert_eq!(format_time(t), "1970-01-01T00:00:00.000000Z");
    }
}
