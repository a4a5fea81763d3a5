//! Byte sizes as Prometheus reads them (`body_size_limit`,
//! `--storage.tsdb.retention.size`, via `units.Base2Bytes`): a number and a
//! unit, repeatable (`1MiB512KiB`), fractions allowed (`1.5GiB`). Every unit
//! is a power of 1024, and `KB`, `MB`, `GB`, … mean the same as `KiB`,
//! `MiB`, `GiB`, … (so `1GB` is 2^30 bytes, as in Prometheus). `0` alone is
//! zero. Sizes print the way Prometheus prints them: `1GiB`, `1MiB512KiB`.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

const UNITS: [(&str, &str, u32); 7] = [
    ("EiB", "EB", 60),
    ("PiB", "PB", 50),
    ("TiB", "TB", 40),
    ("GiB", "GB", 30),
    ("MiB", "MB", 20),
    ("KiB", "KB", 10),
    ("B", "B", 0),
];

/// A size in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

/// A size string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid size {input:?}: {reason}")]
pub struct SizeError {
    pub input: String,
    pub reason: String,
}

impl ByteSize {
    pub fn bytes(self) -> u64 {
        self.0
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl FromStr for ByteSize {
    type Err = SizeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fail = |reason: &str| SizeError {
            input: s.to_owned(),
            reason: reason.to_owned(),
        };
        if s.is_empty() {
            return Err(fail("empty"));
        }
        if s == "0" {
            return Ok(ByteSize(0));
        }
        let mut rest = s;
        let mut total: f64 = 0.0;
        while !rest.is_empty() {
            let n = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let number: f64 = rest[..n]
                .parse()
                .map_err(|_| fail("expected a number followed by a unit such as MiB"))?;
            rest = &rest[n..];
            let u = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = &rest[..u];
            if unit.is_empty() {
                return Err(fail("missing unit (B, KiB, MiB, GiB, TiB, PiB, EiB)"));
            }
            let shift = UNITS
                .iter()
                .find(|(iec, si, _)| unit == *iec || unit == *si)
                .map(|(_, _, shift)| *shift)
                .ok_or_else(|| {
                    fail(&format!(
                        "unknown unit {unit:?} (B, KiB, MiB, GiB, TiB, PiB, EiB)"
                    ))
                })?;
            total += number * (1u64 << shift) as f64;
            rest = &rest[u..];
        }
        if total >= u64::MAX as f64 {
            return Err(fail("too large"));
        }
        Ok(ByteSize(total as u64))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0B");
        }
        let mut rest = self.0;
        for (unit, _, shift) in UNITS {
            let n = rest >> shift;
            if n > 0 {
                write!(f, "{n}{unit}")?;
                rest -= n << shift;
            }
        }
        Ok(())
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a size string such as "512MiB" or "50GiB""#)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ByteSize, E> {
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

    fn b(s: &str) -> u64 {
        s.parse::<ByteSize>().unwrap().0
    }

    /// promtool 2.42 accepts these for body_size_limit, with these values.
    #[test]
    fn parses_like_prometheus() {
        assert_eq!(b("0"), 0);
        assert_eq!(b("1B"), 1);
        assert_eq!(b("1KB"), 1024);
        assert_eq!(b("1KiB"), 1024);
        assert_eq!(b("512MiB"), 512 << 20);
        assert_eq!(b("50GiB"), 50 << 30);
        assert_eq!(b("1GB"), 1 << 30);
        assert_eq!(b("1.5GB"), 3 << 29);
        assert_eq!(b("1MiB512KiB"), (1 << 20) + (512 << 10));
        assert_eq!(b("1TiB"), 1 << 40);
        assert_eq!(b("1EB"), 1 << 60);
    }

    #[test]
    fn rejects_what_prometheus_rejects() {
        for bad in [
            "", "100", "1", "1gb", "1k", "10XB", "1 GB", "-1GB", "GB", "1..5GB",
        ] {
            assert!(bad.parse::<ByteSize>().is_err(), "{bad:?}");
        }
        let err = "10XB".parse::<ByteSize>().unwrap_err().to_string();
        assert_eq!(
            err,
            r#"invalid size "10XB": unknown unit "XB" (B, KiB, MiB, GiB, TiB, PiB, EiB)"#
        );
    }

    /// Prometheus 2.42 printed `1GB` as `1GiB` and `1536KiB` as `1MiB512KiB`.
    #[test]
    fn prints_like_prometheus() {
        assert_eq!(ByteSize(b("1GB")).to_string(), "1GiB");
        assert_eq!(ByteSize(b("1536KiB")).to_string(), "1MiB512KiB");
        assert_eq!(ByteSize(0).to_string(), "0B");
        assert_eq!(ByteSize(1025).to_string(), "1KiB1B");
    }
}
