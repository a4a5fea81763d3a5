//! Request parameters as Prometheus reads them: form values from the URL
//! query and (for POST) a form-encoded body; times as RFC 3339 or Unix
//! seconds; `limit`; `match[]` series selectors.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use pharos_model::Matcher;
use pharos_model::civil::days_from_civil;
use pharos_promql::parse_metric_selector;

use super::ApiError;

/// Prometheus' `MinTime` in milliseconds (`-292273086-05-16T16:47:06Z`),
/// the default `start`.
const MIN_TIME: i64 = -9_223_309_901_257_974_000;
/// Prometheus' `MaxTime` in milliseconds
/// (`292277025-08-18T07:12:54.999999999Z`), the default `end`.
const MAX_TIME: i64 = 9_223_309_901_257_974_999;
const MIN_TIME_FORMATTED: &str = "-292273086-05-16T16:47:06Z";
const MAX_TIME_FORMATTED: &str = "292277025-08-18T07:12:54.999999999Z";

/// All form values of a request, as Go's `r.Form`: body values first, then
/// URL query values.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The values of a URL query string (or a form-encoded body).
    pub(super) fn from_query(query: &[u8]) -> Params {
        Params(form_urlencoded::parse(query).into_owned().collect())
    }

    /// The first value of `name`, or `None` when absent or empty (Go's
    /// `FormValue` does not tell the two apart).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `start` and `end` in milliseconds, all of time when absent.
    pub fn time_range(&self) -> Result<(i64, i64), ApiError> {
        Ok((self.time("start", MIN_TIME)?, self.time("end", MAX_TIME)?))
    }

    /// `start`/`end`-style time in milliseconds, `default` when absent.
    fn time(&self, name: &str, default: i64) -> Result<i64, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(s) => parse_time(s).map_err(|e| {
                ApiError::invalid_param(name, format!("invalid time value for '{name}': {e}"))
            }),
        }
    }

    /// `limit`: `None` when absent or 0 (no limit).
    pub fn limit(&self) -> Result<Option<usize>, ApiError> {
        let Some(s) = self.get("limit") else {
            return Ok(None);
        };
        let n = parse_int(s).map_err(|e| ApiError::invalid_param("limit", e))?;
        if n < 0 {
            return Err(ApiError::invalid_param(
                "limit",
                "limit must be non-negative",
            ));
        }
        Ok(usize::try_from(n).ok().filter(|&n| n > 0))
    }

    /// The `match[]` selectors; each must have a matcher that does not
    /// match the empty string. Errors are the bare parser message.
    fn matcher_sets(&self) -> Result<Vec<Vec<Matcher>>, String> {
        let sets = self
            .all("match[]")
            .into_iter()
            .map(|s| parse_metric_selector(s).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        if sets.iter().any(|ms| ms.iter().all(Matcher::matches_empty)) {
            return Err("match[] must contain at least one non-empty matcher".to_owned());
        }
        Ok(sets)
    }

    /// `limit`, `start`, `end` and `match[]`, read in Prometheus' order;
    /// `bad_match` words a `match[]` that does not parse.
    pub fn match_query(
        &self,
        bad_match: impl FnOnce(String) -> ApiError,
    ) -> Result<MatchQuery, ApiError> {
        let limit = self.limit()?;
        let (start, end) = self.time_range()?;
        let sets = self.matcher_sets().map_err(bad_match)?;
        Ok(MatchQuery {
            limit,
            start,
            end,
            sets,
        })
    }
}

/// What `/api/v1/series`, `/api/v1/labels` and
/// `/api/v1/label/<name>/values` ask: series selectors over a time range,
/// with an optional cap on the answer.
#[derive(Debug)]
pub struct MatchQuery {
    /// `None`: no limit.
    pub limit: Option<usize>,
    pub start: i64,
    pub end: i64,
    /// The `match[]` selectors; none means all series.
    pub sets: Vec<Vec<Matcher>>,
}

impl MatchQuery {
    /// Runs `f` for each selector (once with no matchers when there are
    /// none) and merges the answers, sorted and deduplicated.
    pub fn union<T: Ord, I: IntoIterator<Item = T>, E>(
        &self,
        mut f: impl FnMut(&[Matcher]) -> Result<I, E>,
    ) -> Result<Vec<T>, E> {
        if self.sets.is_empty() {
            return Ok(f(&[])?.into_iter().collect());
        }
        let mut all = BTreeSet::new();
        for ms in &self.sets {
            all.extend(f(ms)?);
        }
        Ok(all.into_iter().collect())
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let query = req.uri().query().unwrap_or("").to_owned();
        let is_form = req.method() == Method::POST
            && req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let mut pairs = Vec::new();
        if is_form {
            let body = Bytes::from_request(req, state)
                .await
                .map_err(|e| ApiError::bad_data(format!("error parsing form values: {e}")))?;
            pairs.extend(form_urlencoded::parse(&body).into_owned());
        }
        pairs.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
        Ok(Params(pairs))
    }
}

/// Go's `strconv.Atoi`, with its error text.
fn parse_int(s: &str) -> Result<i64, String> {
    s.parse::<i64>().map_err(|_| {
        let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
        let why = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        format!("strconv.Atoi: parsing {s:?}: {why}")
    })
}

/// A time as Prometheus' `parseTime` reads it: Unix seconds with an
/// optional fraction (rounded to milliseconds), or RFC 3339. Returns
/// milliseconds, clamped to [`MIN_TIME`, `MAX_TIME`].
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>()
        && f.is_finite()
    {
        let secs = f.trunc();
        let ms = secs * 1000.0 + ((f - secs) * 1000.0).round();
        // Compared as floats: the bounds are not exact f64 values.
        return Ok(if ms >= MAX_TIME as f64 {
            MAX_TIME
        } else if ms <= MIN_TIME as f64 {
            MIN_TIME
        } else {
            ms as i64
        });
    }
    if let Some(ms) = parse_rfc3339(s) {
        return Ok(ms);
    }
    match s {
        MIN_TIME_FORMATTED => Ok(MIN_TIME),
        MAX_TIME_FORMATTED => Ok(MAX_TIME),
        _ => Err(format!("cannot parse {s:?} to a valid timestamp")),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` to milliseconds (fraction
/// truncated to milliseconds, as Prometheus' `timestamp.FromTime`).
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = b.get(from..to)?;
        part.iter().all(u8::is_ascii_digit).then_some(())?;
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, min, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut i = 19;
    let mut frac_ms = 0;
    if sep(i, b'.') || sep(i, b',') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let digits = &s[start..i.min(start + 3)];
        frac_ms = digits.parse::<i64>().ok()? * 10_i64.pow(3 - digits.len() as u32);
    }
    let offset = match b.get(i)? {
        b'Z' if i + 1 == b.len() => 0,
        &c @ (b'+' | b'-') if i + 6 == b.len() && sep(i + 3, b':') => {
            let (h, m) = (num(i + 1, i + 3)?, num(i + 4, i + 6)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if c == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let max_day = *month_days.get(usize::try_from(month - 1).ok()?)?;
    if day < 1 || day > max_day || hour > 23 || min > 59 || sec > 59 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset;
    Some(secs * 1000 + frac_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds() {
        assert_eq!(parse_time("0"), Ok(0));
        assert_eq!(parse_time("1700000000"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("1700000000.123"), Ok(1_700_000_000_123));
        assert_eq!(parse_time("1.0006"), Ok(1001));
        assert_eq!(parse_time("-1.5"), Ok(-1500));
        assert_eq!(parse_time("1e3"), Ok(1_000_000));
        assert_eq!(parse_time("1e300"), Ok(MAX_TIME));
        assert_eq!(parse_time("-1e300"), Ok(MIN_TIME));
    }

    #[test]
    fn rfc3339() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Ok(1_700_000_000_000));
        assert_eq!(parse_time("2023-11-14T22:13:20.5Z"), Ok(1_700_000_000_500));
        assert_eq!(
            parse_time("2023-11-14T22:13:20.123456789Z"),
            Ok(1_700_000_000_123)
        );
        assert_eq!(
            parse_time("2023-11-15T00:13:20+02:00"),
            Ok(1_700_000_000_000)
        );
        assert_eq!(
            parse_time("2023-11-14T21:13:20-01:00"),
            Ok(1_700_000_000_000)
        );
        assert_eq!(parse_time("2024-02-29T00:00:00Z"), Ok(1_709_164_800_000));
        assert_eq!(parse_time("1969-12-31T23:59:59Z"), Ok(-1000));
    }

    #[test]
    fn sentinels() {
        assert_eq!(parse_time(MIN_TIME_FORMATTED), Ok(MIN_TIME));
        assert_eq!(parse_time(MAX_TIME_FORMATTED), Ok(MAX_TIME));
    }

    #[test]
    fn bad_times() {
        for s in [
            "abc",
            "",
            "NaN",
            "inf",
            "2023-02-29T00:00:00Z",
            "2023-11-14 22:13:20Z",
            "2023-11-14T22:13:20",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20Zx",
        ] {
            assert_eq!(
                parse_time(s),
                Err(format!("cannot parse {s:?} to a valid timestamp")),
                "{s}"
            );
        }
    }

    #[test]
    fn atoi_errors() {
        assert_eq!(parse_int("12"), Ok(12));
        assert_eq!(
            parse_int("abc"),
            Err(r#"strconv.Atoi: parsing "abc": invalid syntax"#.to_owned())
        );
        assert_eq!(
            parse_int("99999999999999999999"),
            Err(r#"strconv.Atoi: parsing "99999999999999999999": value out of range"#.to_owned())
        );
    }
}
