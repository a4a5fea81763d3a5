//! Durations as Prometheus writes them in config files, flags, PromQL and
//! API parameters (`model.Duration` in prometheus/common): a sequence of integer amounts
//! with the units `y` (365 days), `w`, `d`, `h`, `m`, `s`, `ms`, each unit at
//! most once and in that order (`1h30m`, `90s`, `1w2d`); `0` alone is zero.
//! No fractions, no signs, no spaces.
//!
//! [`format_duration`] prints the way Prometheus prints a loaded config:
//! largest units first, years and weeks only when the duration is a whole
//! number of them (`14d` prints `2w`, `10d` stays `10d`, `372d` stays
//! `372d`), zero as `0s`, so `90s` prints `1m30s`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

/// The largest duration Prometheus represents: Go's `time.Duration` holds
/// at most 2^63-1 nanoseconds (about 292 years).
const MAX_MS: u64 = i64::MAX as u64 / 1_000_000;

/// A duration string that is not in Prometheus' form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration string")]
    Empty,
    #[error("not a valid duration string: {0:?}")]
    Invalid(String),
    #[error("duration out of range: {0:?}")]
    OutOfRange(String),
}

/// Parses a Prometheus duration string (`15s`, `1m30s`, `1d`, `100ms`),
/// at most what Go's `time.Duration` holds.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    match parse_duration_millis(s)? {
        ms if ms <= MAX_MS => Ok(Duration::from_millis(ms)),
        _ => Err(DurationError::OutOfRange(s.to_owned())),
    }
}

/// The milliseconds of a Prometheus duration string, however many fit in
/// a `u64`: the grammar of [`parse_duration`] without its range, for
/// callers with a range of their own (PromQL's lexer).
pub fn parse_duration_millis(s: &str) -> Result<u64, DurationError> {
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    if s == "0" {
        return Ok(0);
    }
    let invalid = || DurationError::Invalid(s.to_owned());
    let mut rest = s;
    let mut next_unit = 0;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let (number, after) = rest.split_at(digits);
        // `ms` before `m`, so `5ms` is milliseconds.
        let (index, (unit, ms)) = UNITS
            .iter()
            .enumerate()
            .skip(next_unit)
            .filter(|(_, (u, _))| after.starts_with(u))
            .max_by_key(|(_, (u, _))| u.len())
            .ok_or_else(invalid)?;
        let amount: u64 = number
            .parse()
            .map_err(|_| DurationError::OutOfRange(s.to_owned()))?;
        total = amount
            .checked_mul(*ms)
            .and_then(|v| v.checked_add(total))
            .ok_or_else(|| DurationError::OutOfRange(s.to_owned()))?;
        next_unit = index + 1;
        rest = &after[unit.len()..];
    }
    Ok(total)
}

/// Prints a duration as Prometheus does (see the module docs). Sub-
/// millisecond parts are dropped.
pub fn format_duration(d: Duration) -> String {
    let mut ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in UNITS {
        if (unit == "y" || unit == "w") && ms % size != 0 {
            continue;
        }
        let n = ms / size;
        if n > 0 {
            out.push_str(&n.to_string());
            out.push_str(unit);
            ms -= n * size;
        }
    }
    out
}

/// Prints signed milliseconds as [`format_duration`] does, with a `-` in
/// front of a negative duration (PromQL's `offset -5m`).
pub fn format_millis(ms: i64) -> String {
    let abs = format_duration(Duration::from_millis(ms.unsigned_abs()));
    if ms < 0 { format!("-{abs}") } else { abs }
}

/// A duration that reads and prints in Prometheus' form; serde reads and
/// writes it as such a string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PromDuration(pub Duration);

impl PromDuration {
    pub fn from_secs(secs: u64) -> Self {
        PromDuration(Duration::from_secs(secs))
    }
    pub fn from_millis(ms: u64) -> Self {
        PromDuration(Duration::from_millis(ms))
    }
    pub fn get(self) -> Duration {
        self.0
    }
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl From<Duration> for PromDuration {
    fn from(d: Duration) -> Self {
        PromDuration(d)
    }
}

impl From<PromDuration> for Duration {
    fn from(d: PromDuration) -> Self {
        d.0
    }
}

impl FromStr for PromDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s).map(PromDuration)
    }
}

impl fmt::Display for PromDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl Serialize for PromDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PromDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a duration string such as "15s", "1m30s" or "1d""#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<PromDuration, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ms(s: &str) -> u64 {
        parse_duration(s).unwrap().as_millis() as u64
    }

    #[test]
    fn parses_prometheus_forms() {
        assert_eq!(ms("0"), 0);
        assert_eq!(ms("0s"), 0);
        assert_eq!(ms("15s"), 15_000);
        assert_eq!(ms("1m30s"), 90_000);
        assert_eq!(ms("90s"), 90_000);
        assert_eq!(ms("1h"), 3_600_000);
        assert_eq!(ms("1d"), 86_400_000);
        assert_eq!(ms("1w"), 7 * 86_400_000);
        assert_eq!(ms("1y"), 365 * 86_400_000);
        assert_eq!(ms("100ms"), 100);
        assert_eq!(ms("1s500ms"), 1_500);
        assert_eq!(
            ms("1y2w3d4h5m6s7ms"),
            ms("1y") + ms("2w") + ms("3d") + 4 * 3_600_000 + 5 * 60_000 + 6_007
        );
        assert_eq!(ms("5m"), 300_000);
    }

    /// The error texts promtool 2.42 prints for the same strings.
    #[test]
    fn rejects_what_prometheus_rejects() {
        let err = |s: &str| parse_duration(s).unwrap_err().to_string();
        assert_eq!(err("5x"), r#"not a valid duration string: "5x""#);
        assert_eq!(err("1.5s"), r#"not a valid duration string: "1.5s""#);
        assert_eq!(err("1s1m"), r#"not a valid duration string: "1s1m""#);
        assert_eq!(err(""), "empty duration string");
        for bad in [
            "s", "-1s", "1", "1 s", "1ss", "1m1m", "ms1", "1h 2m", "1sms",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(
            parse_duration("300y"),
            Err(DurationError::OutOfRange(_))
        ));
        assert!(parse_duration("292y").is_ok());
        assert!(matches!(
            parse_duration("99999999999999999999s"),
            Err(DurationError::OutOfRange(_))
        ));
    }

    /// Prometheus 2.42's /api/v1/status/config printed these (except the
    /// sub-millisecond one).
    #[test]
    fn formats_like_prometheus() {
        let f = |s: &str| format_duration(parse_duration(s).unwrap());
        assert_eq!(f("90s"), "1m30s");
        assert_eq!(f("14d"), "2w");
        assert_eq!(f("10d"), "10d");
        assert_eq!(f("1h30m"), "1h30m");
        assert_eq!(f("1500ms"), "1s500ms");
        assert_eq!(f("0"), "0s");
        assert_eq!(f("60m"), "1h");
        assert_eq!(f("365d"), "1y");
        assert_eq!(f("372d"), "372d");
        assert_eq!(f("730d"), "2y");
        assert_eq!(f("14d1h"), "14d1h");
        assert_eq!(f("7d1ms"), "7d1ms");
        assert_eq!(format_duration(Duration::from_micros(1500)), "1ms");
        assert_eq!(format_millis(-300_000), "-5m");
        assert_eq!(format_millis(90_000), "1m30s");
        assert_eq!(format_millis(0), "0s");
    }

    #[test]
    fn serde_reads_and_writes_strings() {
        let d: PromDuration = serde_json::from_str(r#""1m30s""#).unwrap();
        assert_eq!(d, PromDuration::from_secs(90));
        assert_eq!(serde_json::to_string(&d).unwrap(), r#""1m30s""#);
        let err = serde_json::from_str::<PromDuration>("5")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(r#"expected a duration string such as "15s""#),
            "{err}"
        );
        let err = serde_json::from_str::<PromDuration>(r#""5x""#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(r#"not a valid duration string: "5x""#),
            "{err}"
        );
    }
}
