//! Times as the index stores them: BIGINT microseconds since the Unix epoch, UTC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hallmark_model::time::Timestamp;

/// Microseconds since the epoch (0 before it, which no valid timestamp is).
pub fn to_micros(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The timestamp `micros` after the epoch, when it is one a [`Timestamp`] can hold.
pub fn from_micros(micros: i64) -> Option<Timestamp> {
    let micros = u64::try_from(micros).ok()?;
    Timestamp::new(UNIX_EPOCH + Duration::from_micros(micros)).ok()
}

/// An RFC 3339 text as microseconds, if it reads as a timestamp.
pub fn parse_micros(text: &str) -> Option<i64> {
    text.parse::<Timestamp>().ok().map(|t| to_micros(t.time()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_fractions_of_a_second() {
        let t: Timestamp = "2026-11-26T09:30:00.25Z".parse().unwrap();
        let m = to_micros(t.time());
        assert_eq!(from_micros(m), Some(t));
        assert_eq!(parse_micros("2026-11-26T09:30:00Z"), Some(m - 250_000));
        assert_eq!(from_micros(-1), None);
    }
}
