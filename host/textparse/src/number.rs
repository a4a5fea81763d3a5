//! Sample values and timestamps, accepted exactly as Prometheus 2.42 accepts
//! them.
//!
//! Prometheus reads values with Go's `strconv.ParseFloat` after rejecting
//! `p`, `P` and `_` (so no hexadecimal floats and no digit separators):
//! decimal numbers with an optional sign, fraction and exponent, and
//! `Inf`/`Infinity`/`NaN` in any case (a sign is allowed on the infinities,
//! not on NaN). A finite number too large for a float is an error, one too
//! small becomes 0. Every NaN is stored as Prometheus' "normal" NaN, so a
//! scraped NaN is never the staleness marker.
//!
//! Text-format timestamps are unsigned decimal integers of milliseconds that
//! fit an `i64`. OpenMetrics timestamps are floats of seconds (same syntax
//! as values, not NaN or infinite) converted to milliseconds by truncating
//! toward zero, as Prometheus does (`1.0019` is `1001`).

/// The bits of the NaN Prometheus stores for a scraped NaN
/// (`value.NormalNaN`), distinct from the staleness marker.
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// Why a number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberError {
    Invalid,
    OutOfRange,
}

/// Parses a sample value.
pub(crate) fn parse_value(tok: &[u8]) -> Result<f64, NumberError> {
    // Fast path: the integers exporters write most ("0", "1", "4096") are
    // exact in a float up to 15 digits.
    if !tok.is_empty() && tok.len() <= 15 && tok.iter().all(u8::is_ascii_digit) {
        let n = tok.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        return Ok(n as f64);
    }
    let s = std::str::from_utf8(tok).map_err(|_| NumberError::Invalid)?;
    if s.bytes().any(|b| matches!(b, b'p' | b'P' | b'_')) {
        return Err(NumberError::Invalid);
    }
    let unsigned = s.strip_prefix(['+', '-']);
    let is_nan = unsigned.unwrap_or(s).eq_ignore_ascii_case("nan");
    if is_nan && unsigned.is_some() {
        return Err(NumberError::Invalid);
    }
    let v: f64 = s.parse().map_err(|_| NumberError::Invalid)?;
    if v.is_nan() {
        return Ok(f64::from_bits(NORMAL_NAN_BITS));
    }
    if v.is_infinite() {
        let word = unsigned.unwrap_or(s);
        if !(word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity")) {
            return Err(NumberError::OutOfRange);
        }
    }
    Ok(v)
}

/// Parses a text-format timestamp: decimal digits of milliseconds.
pub(crate) fn parse_int_timestamp(tok: &[u8]) -> Result<i64, NumberError> {
    if tok.is_empty() || !tok.iter().all(u8::is_ascii_digit) {
        return Err(NumberError::Invalid);
    }
    tok.iter().try_fold(0i64, |n, &d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(i64::from(d - b'0')))
            .ok_or(NumberError::OutOfRange)
    })
}

/// Parses an OpenMetrics timestamp (float seconds) into milliseconds.
/// Seconds beyond the `i64` millisecond range saturate, as the timestamp
/// is then out of any storage's bounds anyway.
pub(crate) fn parse_float_timestamp(tok: &[u8]) -> Result<i64, NumberError> {
    let secs = parse_value(tok)?;
    if !secs.is_finite() {
        return Err(NumberError::Invalid);
    }
    // `as` truncates toward zero and saturates, like Go's int64() on amd64
    // for the values that matter.
    Ok((secs * 1000.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Result<f64, NumberError> {
        parse_value(s.as_bytes())
    }

    #[test]
    fn values_go_accepts() {
        let cases: &[(&str, f64)] = &[
            ("0", 0.0),
            ("1", 1.0),
            ("123456789012345", 123456789012345.0),
            ("1234567890123456789", 1234567890123456789.0),
            ("-1.5", -1.5),
            ("+1.5e+2", 150.0),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            (".5", 0.5),
            ("5.", 5.0),
            ("007", 7.0),
            ("1e-400", 0.0),
            ("Inf", f64::INFINITY),
            ("+inf", f64::INFINITY),
            ("-Inf", f64::NEG_INFINITY),
            ("INFINITY", f64::INFINITY),
            ("-infinity", f64::NEG_INFINITY),
        ];
        for &(s, want) in cases {
            assert_eq!(v(s), Ok(want), "{s}");
        }
        assert!(v("-0").is_ok_and(|x| x == 0.0 && x.is_sign_negative()));
        for nan in ["NaN", "nan", "NAN"] {
            assert_eq!(v(nan).map(f64::to_bits), Ok(NORMAL_NAN_BITS), "{nan}");
        }
    }

    #[test]
    fn values_go_refuses() {
        for s in [
            "", "+", ".", "e5", "1e", "1e+", "0x10", "0x1p3", "1_000", "+NaN", "-nan", "infin",
            "nanx", "1.2.3", "1,5", "1 ", "1\r", "١", "\u{0}",
        ] {
            assert_eq!(v(s), Err(NumberError::Invalid), "{s:?}");
        }
        for s in ["1e400", "-1e309", "1.8e308"] {
            assert_eq!(v(s), Err(NumberError::OutOfRange), "{s:?}");
        }
    }

    #[test]
    fn int_timestamps() {
        let t = |s: &str| parse_int_timestamp(s.as_bytes());
        assert_eq!(t("0"), Ok(0));
        assert_eq!(t("0001"), Ok(1));
        assert_eq!(t("1795606089001"), Ok(1795606089001));
        assert_eq!(t("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(t("9223372036854775808"), Err(NumberError::OutOfRange));
        for bad in ["", "-5", "+5", "1.5", "1e3", "5x"] {
            assert_eq!(t(bad), Err(NumberError::Invalid), "{bad}");
        }
    }

    #[test]
    fn float_timestamps_truncate_like_prometheus() {
        let t = |s: &str| parse_float_timestamp(s.as_bytes());
        // Observed on Prometheus 2.42: .0019 s is stored as 1 ms, .9996 s as 999.
        assert_eq!(t("1795606110.0019"), Ok(1795606110001));
        assert_eq!(t("1795606108.9996"), Ok(1795606108999));
        assert_eq!(t("1600000000.123"), Ok(1600000000123));
        assert_eq!(t("1.6e9"), Ok(1600000000000));
        assert_eq!(t("-1.5"), Ok(-1500));
        assert_eq!(t("1e300"), Ok(i64::MAX));
        for bad in ["NaN", "+Inf", "-Inf", "x", "1_0", ""] {
            assert_eq!(t(bad), Err(NumberError::Invalid), "{bad}");
        }
    }
}
