//! The formats of Alertmanager's API (go-openapi `strfmt`, Go's `time` and
//! `net/url`), as measured against Alertmanager 0.25:
//!
//! - times are written `2006-01-02T15:04:05.000Z07:00` (milliseconds,
//!   truncated) in the server's local time zone, `Z` for a zero offset;
//! - times are read in any of the layouts Alertmanager accepts (RFC 3339
//!   with or without a fraction, with `±hhmm` offsets only after exactly 3
//!   or 6 fraction digits, without a zone as UTC, to the minute, or
//!   `2006-01-02 15:04:05`); a refused time gets Go's message for the last
//!   layout tried (`parsing time "x" as "2006-01-02 15:04:05": cannot parse
//!   "x" as "2006"`);
//! - ids are `uuid`s by strfmt's pattern; `generatorURL` must be a `uri`
//!   as Go's `url.ParseRequestURI` reads one.
//!
//! Alertmanager keeps the offset a sender wrote and echoes it; Pharos keeps
//! Unix milliseconds, so every time is written in the local zone.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// Go's zero `time.Time` (`0001-01-01T00:00:00Z`), in Unix seconds:
/// Alertmanager's "not set".
const GO_ZERO_UNIX: i64 = -62_135_596_800;

/// A Unix millisecond time as Alertmanager writes it, in the local zone.
pub fn format_ms(ms: i64) -> String {
    format_ms_in(ms, &TimeZone::system())
}

/// A Unix millisecond time as Alertmanager writes it, in `tz`.
pub fn format_ms_in(ms: i64, tz: &TimeZone) -> String {
    let Ok(ts) = Timestamp::from_millisecond(ms) else {
        return String::new();
    };
    let z = ts.to_zoned(tz.clone());
    let (year, month, day) = (z.year(), z.month(), z.day());
    let (hour, minute, second) = (z.hour(), z.minute(), z.second());
    let millis = ms.rem_euclid(1000);
    let mut s =
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}");
    let off = z.offset().seconds();
    if off == 0 {
        s.push('Z');
    } else {
        let sign = if off < 0 { '-' } else { '+' };
        let a = off.unsigned_abs();
        s.push_str(&format!("{sign}{:02}:{:02}", a / 3600, a % 3600 / 60));
    }
    s
}

/// A parsed time: Unix milliseconds, or `None` for Go's zero time.
pub type ParsedTime = Option<i64>;

/// The layouts strfmt tries, in order; the error is the last one's.
const LAYOUTS: [&str; 9] = [
    "2006-01-02T15:04:05.000Z07:00",
    "2006-01-02T15:04:05.000Z0700",
    "2006-01-02T15:04:05.000000Z07:00",
    "2006-01-02T15:04:05.000000Z0700",
    "2006-01-02T15:04:05.999999999Z07:00",
    "2006-01-02T15:04:05",
    "2006-01-02T15:04Z",
    "2006-01-02T15:04",
    "2006-01-02 15:04:05",
];

/// Reads a JSON time string as Alertmanager does. `""` is the Unix epoch
/// (strfmt's reading of an empty string).
pub fn parse_time(value: &str) -> Result<ParsedTime, String> {
    if value.is_empty() {
        return Ok(Some(0));
    }
    let mut last = String::new();
    for layout in LAYOUTS {
        match parse_layout(layout, value) {
            Ok((secs, nanos)) => {
                if secs == GO_ZERO_UNIX && nanos == 0 {
                    return Ok(None);
                }
                let ms = secs
                    .saturating_mul(1000)
                    .saturating_add(i64::from(nanos / 1_000_000));
                return Ok(Some(ms));
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Go's `time.quote`: double quotes, `"` and `\` escaped, bytes outside
/// printable ASCII as `\xNN`.
fn time_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if (c as u32) < 0x20 || (c as u32) >= 0x80 {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Layout elements this parser knows (those of [`LAYOUTS`]).
#[derive(Clone, Copy, PartialEq)]
enum Elem {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    /// `.000…`: exactly n digits.
    FracFixed(usize),
    /// `.999…`: optional, any number of digits.
    FracOpt,
    /// `Z07:00`.
    ZoneColon,
    /// `Z0700`.
    Zone,
}

const ELEMS: [(&str, Elem); 11] = [
    ("2006", Elem::Year),
    ("01", Elem::Month),
    ("02", Elem::Day),
    ("15", Elem::Hour),
    ("04", Elem::Minute),
    ("05", Elem::Second),
    (".000000", Elem::FracFixed(6)),
    (".000", Elem::FracFixed(3)),
    (".999999999", Elem::FracOpt),
    ("Z07:00", Elem::ZoneColon),
    ("Z0700", Elem::Zone),
];

/// The next element: (literal prefix, element text, element, rest).
fn next_chunk(layout: &str) -> (&str, &str, Option<Elem>, &str) {
    for i in 0..layout.len() {
        let rest = &layout[i..];
        for (text, e) in ELEMS {
            if let Some(after) = rest.strip_prefix(text) {
                return (&layout[..i], text, Some(e), after);
            }
        }
    }
    (layout, "", None, "")
}

fn is_digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// Go's `getnum`: one or two digits (two when `fixed`).
fn getnum(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    if !is_digit(b, 0) {
        return None;
    }
    if !is_digit(b, 1) {
        if fixed {
            return None;
        }
        return Some((i64::from(b[0] - b'0'), &s[1..]));
    }
    Some((
        i64::from(b[0] - b'0') * 10 + i64::from(b[1] - b'0'),
        &s[2..],
    ))
}

/// Go's `skip`: matches a literal prefix; a space matches any run of
/// spaces.
fn skip<'v>(mut value: &'v str, mut prefix: &str) -> Result<&'v str, &'v str> {
    while let Some(p) = prefix.chars().next() {
        if p == ' ' {
            if !value.is_empty() && !value.starts_with(' ') {
                return Err(value);
            }
            prefix = prefix.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        if !value.starts_with(p) {
            return Err(value);
        }
        prefix = &prefix[p.len_utf8()..];
        value = &value[p.len_utf8()..];
    }
    Ok(value)
}

/// Digits after `.` or `,` as nanoseconds (Go keeps the first nine).
fn nanos(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut d: String = digits.chars().take(9).collect();
    while d.len() < 9 {
        d.push('0');
    }
    d.parse().ok()
}

fn days_in(month: i64, year: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Go's `time.Parse(layout, value)` for the layouts above: (Unix
/// seconds, nanoseconds) or Go's error message.
fn parse_layout(layout: &str, full: &str) -> Result<(i64, u32), String> {
    let cannot = |value_elem: &str, layout_elem: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            time_quote(full),
            time_quote(layout),
            time_quote(value_elem),
            time_quote(layout_elem)
        )
    };
    let range = |what: &str| format!("parsing time {}: {what} out of range", time_quote(full));
    let (mut year, mut month, mut day) = (0i64, 1i64, 1i64);
    let (mut hour, mut minute, mut second, mut nsec) = (0i64, 0i64, 0i64, 0u32);
    let mut offset: i64 = 0;
    let mut value = full;
    let mut layout_rest = layout;
    loop {
        let (prefix, text, elem, rest) = next_chunk(layout_rest);
        value = skip(value, prefix).map_err(|v| cannot(v, prefix))?;
        let Some(elem) = elem else {
            break;
        };
        layout_rest = rest;
        let at = value;
        let bad = || cannot(at, text);
        match elem {
            Elem::Year => {
                if value.len() < 4 || !value.is_char_boundary(4) {
                    return Err(bad());
                }
                let (p, r) = value.split_at(4);
                year = go_atoi(p).ok_or_else(bad)?;
                value = r;
            }
            Elem::Month => {
                let (n, r) = getnum(value, true).ok_or_else(bad)?;
                if !(1..=12).contains(&n) {
                    return Err(range("month"));
                }
                month = n;
                value = r;
            }
            Elem::Day => {
                let (n, r) = getnum(value, true).ok_or_else(bad)?;
                if n > 31 {
                    return Err(range("day"));
                }
                day = n;
                value = r;
            }
            Elem::Hour => {
                let (n, r) = getnum(value, false).ok_or_else(bad)?;
                if n >= 24 {
                    return Err(range("hour"));
                }
                hour = n;
                value = r;
            }
            Elem::Minute => {
                let (n, r) = getnum(value, true).ok_or_else(bad)?;
                if n >= 60 {
                    return Err(range("minute"));
                }
                minute = n;
                value = r;
            }
            Elem::Second => {
                let (n, r) = getnum(value, true).ok_or_else(bad)?;
                if n >= 60 {
                    return Err(range("second"));
                }
                second = n;
                value = r;
                // A fraction the layout does not name is read anyway.
                let next = next_chunk(layout_rest).2;
                let b = value.as_bytes();
                if b.len() >= 2
                    && matches!(b[0], b'.' | b',')
                    && is_digit(b, 1)
                    && !matches!(next, Some(Elem::FracFixed(_) | Elem::FracOpt))
                {
                    let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    nsec = nanos(&value[1..n]).ok_or_else(bad)?;
                    value = &value[n..];
                }
            }
            Elem::FracFixed(n) => {
                let b = value.as_bytes();
                if b.len() < n + 1 || !matches!(b[0], b'.' | b',') {
                    return Err(bad());
                }
                nsec = value.get(1..=n).and_then(nanos).ok_or_else(bad)?;
                value = &value[n + 1..];
            }
            Elem::FracOpt => {
                let b = value.as_bytes();
                if b.len() >= 2 && matches!(b[0], b'.' | b',') && is_digit(b, 1) {
                    let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    nsec = nanos(&value[1..n]).ok_or_else(bad)?;
                    value = &value[n..];
                }
            }
            Elem::ZoneColon | Elem::Zone => {
                if let Some(r) = value.strip_prefix('Z') {
                    value = r;
                    continue;
                }
                let b = value.as_bytes();
                let colon = elem == Elem::ZoneColon;
                let need = if colon { 6 } else { 5 };
                if b.len() < need || (colon && b[3] != b':') {
                    return Err(bad());
                }
                let (hh, mm) = if colon { (1..3, 4..6) } else { (1..3, 3..5) };
                let num = |r: std::ops::Range<usize>| {
                    value.get(r).and_then(|t| getnum(t, true)).map(|(n, _)| n)
                };
                let (Some(h), Some(m)) = (num(hh), num(mm)) else {
                    return Err(bad());
                };
                if h > 24 {
                    return Err(range("time zone offset hour"));
                }
                if m > 60 {
                    return Err(range("time zone offset minute"));
                }
                let sign = match b[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return Err(bad()),
                };
                offset = sign * (h * 3600 + m * 60);
                value = &value[need..];
            }
        }
    }
    if !value.is_empty() {
        return Err(format!(
            "parsing time {}: extra text: {}",
            time_quote(full),
            time_quote(value)
        ));
    }
    if day < 1 || day > days_in(month, year) {
        return Err(range("day"));
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Ok((secs, nsec))
}

/// Go's internal `atoi`: an optional sign, then digits only.
fn go_atoi(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    Some(if neg { -n } else { n })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// strfmt's `uuid` format (case-insensitive hex, dashes optional).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    for (n, group) in [8usize, 4, 4, 4, 12].into_iter().enumerate() {
        if n > 0 && b.get(i) == Some(&b'-') {
            i += 1;
        }
        for _ in 0..group {
            if !b.get(i).is_some_and(u8::is_ascii_hexdigit) {
                return false;
            }
            i += 1;
        }
    }
    i == b.len()
}

/// Go's `%q` (`strconv.Quote`).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_print(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint`: no controls, no spaces
/// other than U+0020, no format characters.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'))
}

/// strfmt's `uri` format: Go's `url.ParseRequestURI` succeeds — a
/// scheme (then anything but bad escapes and bad hosts), or an absolute
/// path.
pub fn is_request_uri(s: &str) -> bool {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return false;
    }
    // Scheme: a letter, then letters, digits, `+`, `-`, `.`, up to `:`.
    let mut scheme_len = None;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return false, // missing protocol scheme
            b':' => {
                scheme_len = Some(i);
                break;
            }
            _ => break,
        }
    }
    let rest = match scheme_len {
        Some(n) => &s[n + 1..],
        None => s,
    };
    // The query is taken as it is.
    let rest = rest.split_once('?').map_or(rest, |(p, _)| p);
    if !rest.starts_with('/') {
        // With a scheme, an opaque URI; without, not a request URI.
        return scheme_len.is_some();
    }
    let mut path = rest;
    if scheme_len.is_some()
        && let Some(after) = rest.strip_prefix("//")
    {
        let (authority, p) = after.find('/').map_or((after, ""), |i| after.split_at(i));
        if !valid_authority(authority) {
            return false;
        }
        path = p;
    }
    valid_escapes(path, false)
}

/// `%XX` escapes are well-formed; in a host, only characters Go allows.
fn valid_escapes(s: &str, host: bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if !(is_hex(b.get(i + 1)) && is_hex(b.get(i + 2))) {
                    return false;
                }
                i += 3;
                continue;
            }
            c if host && c < 0x80 => {
                let ok = c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:[]<>\"".contains(&c);
                if !ok {
                    return false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    true
}

fn is_hex(b: Option<&u8>) -> bool {
    b.is_some_and(u8::is_ascii_hexdigit)
}

fn valid_authority(authority: &str) -> bool {
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host.strip_prefix('[') {
        let Some((_, port)) = v6.split_once(']') else {
            return false;
        };
        return port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    }
    let (name, port) = host.rsplit_once(':').unwrap_or((host, ""));
    port.bytes().all(|b| b.is_ascii_digit()) && valid_escapes(name, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> String {
        match parse_time(s) {
            Ok(Some(ms)) => format_ms_in(ms, &TimeZone::UTC),
            Ok(None) => "zero".to_owned(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn accepts_what_alertmanager_accepts() {
        // Each recorded from Alertmanager 0.25 (posted as startsAt, read
        // back from GET /api/v2/alerts).
        for (given, shown) in [
            ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.000Z"),
            ("2024-03-01T10:00:00.123456789Z", "2024-03-01T10:00:00.123Z"),
            ("2024-03-01T10:00:00.1Z", "2024-03-01T10:00:00.100Z"),
            ("2024-03-01T10:00:00", "2024-03-01T10:00:00.000Z"),
            ("2024-03-01 10:00:00", "2024-03-01T10:00:00.000Z"),
            ("2024-03-01T10:00Z", "2024-03-01T10:00:00.000Z"),
            ("2024-03-01T10:00", "2024-03-01T10:00:00.000Z"),
            ("2024-03-01T10:00:00.5", "2024-03-01T10:00:00.500Z"),
            ("2024-03-01 10:00:00.5", "2024-03-01T10:00:00.500Z"),
            (
                "2024-03-01T10:00:00.1234567891Z",
                "2024-03-01T10:00:00.123Z",
            ),
            ("2024-03-01T10:00:00-00:00", "2024-03-01T10:00:00.000Z"),
            ("2024-03-01T10:00:00,5Z", "2024-03-01T10:00:00.500Z"),
            ("2024-03-01T10:00:00.000+0200", "2024-03-01T08:00:00.000Z"),
            (
                "2024-03-01T10:00:00.123456+0200",
                "2024-03-01T08:00:00.123Z",
            ),
            ("2024-03-01T10:00:00.123+02:00", "2024-03-01T08:00:00.123Z"),
            ("", "1970-01-01T00:00:00.000Z"),
            ("0001-01-01T00:00:00Z", "zero"),
        ] {
            assert_eq!(utc(given), shown, "{given}");
        }
    }

    #[test]
    fn refuses_with_alertmanagers_messages() {
        let layout = r#"as "2006-01-02 15:04:05""#;
        for (given, msg) in [
            (
                "2024-03-01T10:00:00+0200",
                format!(
                    r#"parsing time "2024-03-01T10:00:00+0200" {layout}: cannot parse "T10:00:00+0200" as " ""#
                ),
            ),
            (
                "2024-03-01",
                format!(r#"parsing time "2024-03-01" {layout}: cannot parse "" as "15""#),
            ),
            (
                "yesterday",
                format!(r#"parsing time "yesterday" {layout}: cannot parse "yesterday" as "2006""#),
            ),
            (
                "2024-13-01T10:00:00Z",
                r#"parsing time "2024-13-01T10:00:00Z": month out of range"#.to_owned(),
            ),
            (
                "10000-03-01T10:00:00Z",
                format!(
                    r#"parsing time "10000-03-01T10:00:00Z" {layout}: cannot parse "0-03-01T10:00:00Z" as "-""#
                ),
            ),
            (
                "2024-3-1T10:00:00Z",
                format!(
                    r#"parsing time "2024-3-1T10:00:00Z" {layout}: cannot parse "3-1T10:00:00Z" as "01""#
                ),
            ),
            (
                " 2024-03-01T10:00:00Z",
                format!(
                    r#"parsing time " 2024-03-01T10:00:00Z" {layout}: cannot parse " 2024-03-01T10:00:00Z" as "2006""#
                ),
            ),
        ] {
            assert_eq!(utc(given), format!("error: {msg}"), "{given}");
        }
        for refused in [
            "2024-03-01T10:00:00.1+0200",
            "2024-03-01T10:00:00.123456789+0200",
            "2024-03-01T10:00+02:00",
            "2024-03-01T24:00:00Z",
            "2024-02-30T10:00:00Z",
            "2024-03-01t10:00:00z",
            "2024-03-01T10:00:00.Z",
            "2024-03-01T10:00:00+02",
        ] {
            assert!(utc(refused).starts_with("error: "), "{refused}");
        }
    }

    #[test]
    fn formats_with_the_local_offset() {
        let tz = TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC);
        if tz != TimeZone::UTC {
            assert_eq!(
                format_ms_in(1_709_287_200_123, &tz),
                "2024-03-01T11:00:00.123+01:00"
            );
        }
        assert_eq!(format_ms_in(-1, &TimeZone::UTC), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn uuids_and_uris() {
        for ok in [
            "6c3947fb-a66c-4cdb-af8d-525e41a4f34e",
            "6C3947FB-A66C-4CDB-AF8D-525E41A4F34E",
            "6c3947fba66c4cdbaf8d525e41a4f34e",
            "6c3947fb-a66c4cdb-af8d-525e41a4f34e",
        ] {
            assert!(is_uuid(ok), "{ok}");
        }
        for bad in [
            "abc",
            "{6c3947fb-a66c-4cdb-af8d-525e41a4f34e}",
            "urn:uuid:6c3947fb-a66c-4cdb-af8d-525e41a4f34e",
            "6c3947fb--a66c-4cdb-af8d-525e41a4f34e",
            "6c3947fb-a66c-4cdb-af8d-525e41a4f34e\n",
            "g6c3947fb-a66c-4cdb-af8d-525e41a4f34e",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
        // As Alertmanager 0.25 judged each `generatorURL`.
        for ok in [
            "/graph",
            "http://x/ y",
            "http://prom:9090/graph?g0.expr=up",
            "mailto:x",
        ] {
            assert!(is_request_uri(ok), "{ok}");
        }
        for bad in [
            "foo",
            "::",
            "http://[::1",
            "%zz",
            "a b",
            "http://a b/",
            ":foo",
            "http://x/%",
            "\t",
        ] {
            assert!(!is_request_uri(bad), "{bad}");
        }
    }

    #[test]
    fn quotes_as_go() {
        assert_eq!(go_quote("a\"b\\c\td\u{1}é"), r#""a\"b\\c\td\x01é""#);
    }
}
