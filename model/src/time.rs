//! RFC 3339 timestamps, as in-toto predicates and protobuf JSON write them.
//!
//! [`Timestamp`] reads a zone of `Z` or `±HH:MM` and any number of fractional digits, and writes
//! UTC with `Z` (fractional seconds only when there are any), so what it writes every reader
//! understands.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// Seconds from the epoch to 9999-12-31T23:59:59Z: four-digit years only.
const MAX_SECONDS: u64 = 253_402_300_799;

/// An instant between 1970 and the end of year 9999, written as RFC 3339 in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(SystemTime);

impl Timestamp {
    /// The instant `time`; refused before 1970 or after year 9999, which RFC 3339 in UTC with a
    /// four-digit year cannot write.
    pub fn new(time: SystemTime) -> Result<Self> {
        let seconds = time
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::TimeOutOfRange)?
            .as_secs();
        if seconds > MAX_SECONDS {
            return Err(Error::TimeOutOfRange);
        }
        Ok(Timestamp(time))
    }

    /// The same instant without its fraction of a second (what Hallmark writes).
    pub fn whole_seconds(self) -> Self {
        let since = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        Timestamp(UNIX_EPOCH + Duration::from_secs(since.as_secs()))
    }

    /// The instant.
    pub fn time(self) -> SystemTime {
        self.0
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> SystemTime {
        t.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // In range by construction, which is all humantime's formatter needs.
        humantime::format_rfc3339(self.0).fmt(f)
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        parse(text).ok_or_else(|| Error::Timestamp(text.to_owned()))
    }
}

fn parse(text: &str) -> Option<Timestamp> {
    let (local, offset_seconds) = split_zone(text)?;
    let bytes = local.as_bytes();
    // `YYYY-MM-DDTHH:MM:SS` then, optionally, `.` and at least one digit; humantime checks the
    // rest but also accepts a space separator and stray zone letters, which RFC 3339 does not.
    if bytes.len() < 19 || bytes[10] != b'T' {
        return None;
    }
    match &bytes[19..] {
        [] => {}
        [b'.', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {}
        _ => return None,
    }
    let utc_as_if = humantime::parse_rfc3339_weak(local).ok()?;
    let seconds = utc_as_if.duration_since(UNIX_EPOCH).ok()?;
    let shifted = i128::from(seconds.as_secs()) - i128::from(offset_seconds);
    let shifted = u64::try_from(shifted).ok()?;
    Timestamp::new(UNIX_EPOCH + Duration::new(shifted, seconds.subsec_nanos())).ok()
}

/// The text before the zone, and the zone's offset from UTC in seconds.
fn split_zone(text: &str) -> Option<(&str, i64)> {
    if let Some(local) = text.strip_suffix('Z') {
        return Some((local, 0));
    }
    let split = text.len().checked_sub(6)?;
    let (local, zone) = (text.get(..split)?, text.get(split..)?.as_bytes());
    let sign = match zone {
        [b'+', ..] => 1,
        [b'-', ..] => -1,
        _ => return None,
    };
    let [_, h1, h2, b':', m1, m2] = *zone else {
        return None;
    };
    let digit = |b: u8| b.is_ascii_digit().then(|| i64::from(b - b'0'));
    let hours = digit(h1)? * 10 + digit(h2)?;
    let minutes = digit(m1)? * 10 + digit(m2)?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((local, sign * (hours * 3600 + minutes * 60)))
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64, nanos: u32) -> Timestamp {
        Timestamp(UNIX_EPOCH + Duration::new(seconds, nanos))
    }

    #[test]
    fn reads_utc_offsets_and_fractions() {
        let noon = at(1_764_158_400, 0); // 2025-11-26T12:00:00Z
        for text in [
            "2025-11-26T12:00:00Z",
            "2025-11-26T12:00:00+00:00",
            "2025-11-26T13:30:00+01:30",
            "2025-11-26T07:00:00-05:00",
        ] {
            assert_eq!(text.parse::<Timestamp>().unwrap(), noon, "{text}");
        }
        assert_eq!(
            "1985-04-12T23:20:50.52Z".parse::<Timestamp>().unwrap(),
            at(482_196_050, 520_000_000)
        );
    }

    #[test]
    fn writes_utc_with_a_fraction_only_when_there_is_one() {
        assert_eq!(at(1_764_158_400, 0).to_string(), "2025-11-26T12:00:00Z");
        assert_eq!(
            at(1_764_158_400, 500_000_000).to_string(),
            "2025-11-26T12:00:00.500000000Z"
        );
        assert_eq!(
            at(1_764_158_400, 500_000_000).whole_seconds(),
            at(1_764_158_400, 0)
        );
    }

    #[test]
    fn refuses_what_rfc_3339_does_not_allow() {
        for bad in [
            "",
            "2025-11-26",
            "2025-11-26 12:00:00Z",
            "2025-11-26T12:00:00",
            "2025-11-26T12:00:00.Z",
            "2025-11-26T12:00:00.5ZZ",
            "2025-11-26T12:00:00+0100",
            "2025-11-26T12:00:00+24:00",
            "2025-13-26T12:00:00Z",
            "1970-01-01T00:00:00+00:01",
            "9999-12-31T23:59:59-00:01",
            "2025-11-26T12:00:00Zé",
            "é025-11-26T12:00:00Z",
        ] {
            assert!(
                matches!(bad.parse::<Timestamp>(), Err(Error::Timestamp(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_instants_it_cannot_write() {
        assert!(Timestamp::new(UNIX_EPOCH - Duration::from_secs(1)).is_err());
        assert!(Timestamp::new(UNIX_EPOCH + Duration::from_secs(MAX_SECONDS + 1)).is_err());
    }

    #[test]
    fn round_trips_through_json() {
        let t = at(1_764_158_400, 0);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2025-11-26T12:00:00Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert!(serde_json::from_str::<Timestamp>("12").is_err());
    }
}
