//! What the first-party notifiers (`webhook`, `slack`, `pagerduty`) share;
//! the other two include this file by path (`#[path]`), so keep it free of
//! anything specific to one of them.
//!
//! - [`to_go_json`]: JSON bytes exactly as Go's `json.NewEncoder(w).Encode`
//!   writes them in Alertmanager 0.25 (built with Go 1.19): `<`, `>`, `&`,
//!   U+2028 and U+2029 escaped as `\u003c`…, other control characters as
//!   `\u00XX` (no `\b`/`\f`), struct fields in declaration order, map keys
//!   sorted, and a trailing newline.
//! - [`go_time`]: a millisecond timestamp in Go's `time.RFC3339Nano` (UTC,
//!   trailing zeros of the fraction dropped), as `time.Time` marshals.
//! - [`secret`]: a value given inline or in a file (`*_file`, read through
//!   the `allow_read` grant and trimmed, as Alertmanager does).
//! - [`check_url`] and [`post_json`]: URL checks that tolerate templates, and
//!   a POST whose errors never show the URL's path or query (they carry the
//!   secret of a Slack webhook or a webhook token).
//! - [`Truncated`]: Alertmanager's `notify.Truncate` (runes, `…`).
//! - [`keyed`] and the `keyed!` macro: field deserializers whose errors
//!   name the key (serde names unknown and missing keys, not ill-typed
//!   ones) and never quote a string value (it may be a secret).

// Not every notifier uses every helper.
#![allow(dead_code)]

use pharos_sdk::http::{HttpError, Request, Response};
use pharos_sdk::{Error, Label};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};
use std::collections::BTreeMap;
use std::io;

/// The `User-Agent` of every notification request.
pub const USER_AGENT: &str = concat!("Pharos/", env!("CARGO_PKG_VERSION"));

/// Declares `fn $name(d) -> Result<$ty, _>` deserializing a field through
/// [`keyed`]: use it as `#[serde(deserialize_with = "name")]`.
macro_rules! keyed {
    ($($name:ident: $ty:ty = $key:literal;)*) => {
        $(
            fn $name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                crate::common::keyed($key, d)
            }
        )*
    };
}

/// Deserializes the value of `key`, naming the key in the error and leaving
/// string values out of it.
pub fn keyed<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    key: &str,
    d: D,
) -> Result<T, D::Error> {
    T::deserialize(d).map_err(|e| {
        let mut message = e.to_string();
        // serde_json adds the position again to the outer error.
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        // `invalid type: string "…", expected …`: drop the value.
        if let Some(start) = message.find("string \"")
            && let Some(len) = message[start + 8..].find("\", expected")
        {
            message.replace_range(start + 6..start + 8 + len + 1, "");
        }
        D::Error::custom(format!("`{key}`: {message}"))
    })
}

/// A `serde_json` formatter that escapes strings as Go's `encoding/json`
/// does with its default `SetEscapeHTML(true)`.
pub struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escaped.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_char_escape<W>(&mut self, writer: &mut W, char_escape: CharEscape) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        match char_escape {
            CharEscape::Backspace => writer.write_all(b"\\u0008"),
            CharEscape::FormFeed => writer.write_all(b"\\u000c"),
            other => CompactFormatter.write_char_escape(writer, other),
        }
    }
}

/// `value` as Go's `json.NewEncoder(&buf).Encode(value)` writes it.
pub fn to_go_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value
        .serialize(&mut ser)
        .map_err(|e| Error::permanent(format!("cannot encode the JSON body: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

/// Go's zero `time.Time` as JSON: what Alertmanager sends as the `endsAt` of
/// a firing alert.
pub const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Milliseconds since the Unix epoch in Go's `RFC3339Nano`, UTC.
pub fn go_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if millis != 0 {
        let frac = format!("{millis:03}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Labels as a Go `map[string]string` marshals: sorted by name (the last of
/// a repeated name wins).
pub fn kv(labels: &[Label]) -> BTreeMap<&str, &str> {
    labels
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect()
}

/// Checks that exactly one (or, unless `required`, at most one) of `key`
/// and `<key>_file` is set, and that the one set is not empty.
pub fn check_one_of(
    key: &str,
    inline: Option<&str>,
    file: Option<&str>,
    required: bool,
) -> Result<(), Error> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(Error::config(format!(
            "`{key}` and `{key}_file` are mutually exclusive: set one"
        ))),
        (None, None) if required => Err(Error::config(format!(
            "one of `{key}` and `{key}_file` is required"
        ))),
        (Some(""), _) => Err(Error::config(format!("`{key}` must not be empty"))),
        (_, Some("")) => Err(Error::config(format!("`{key}_file` must not be empty"))),
        _ => Ok(()),
    }
}

/// The value of `key` given inline or read from the file `<key>_file`
/// (trimmed); `None` when neither is set. The value itself never appears in
/// an error.
pub fn secret(
    key: &str,
    inline: Option<&str>,
    file: Option<&str>,
) -> Result<Option<String>, Error> {
    if let Some(v) = inline {
        return Ok(Some(v.to_owned()));
    }
    let Some(path) = file else { return Ok(None) };
    let text = pharos_sdk::fs::read_to_string(path)?;
    let value = text.trim();
    if value.is_empty() {
        return Err(Error::config(format!("`{key}_file`: {path} is empty")));
    }
    Ok(Some(value.to_owned()))
}

/// Checks that `value` (of the key `key`) is an http:// or https:// URL.
/// Configurations are checked before the host renders their templates, so a
/// value with `{{` passes.
pub fn check_url(key: &str, value: &str) -> Result<(), Error> {
    if value.contains("{{") {
        return Ok(());
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') => Ok(()),
        _ => Err(Error::config(format!(
            "`{key}` must be an http:// or https:// URL with a host"
        ))),
    }
}

/// `scheme://host[:port]` of a URL, with the rest replaced: what errors show.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // Drop any `user:password@`.
    let host = rest[..end].rsplit('@').next().unwrap_or_default();
    if scheme.is_empty() {
        "<redacted>".to_owned()
    } else if end < rest.len() {
        format!("{scheme}://{host}/<redacted>")
    } else {
        format!("{scheme}://{host}")
    }
}

/// Turns an HTTP failure into the plugin error of its kind (see the SDK:
/// not granted → `config`, network, 5xx and 429 → `transient`, other
/// statuses → `permanent`) with the URL redacted.
pub fn http_error(e: HttpError, url: &str) -> Error {
    let shown = redact(url);
    let err: Error = e.into();
    let message = err.message().replace(url, &shown);
    match err {
        Error::Config(_) => Error::config(message),
        Error::Transient(_) => Error::transient(message),
        Error::Permanent(_) => Error::permanent(message),
    }
}

/// POSTs a JSON body (already encoded) with extra headers; a status other
/// than 2xx is an error.
pub fn post_json(url: &str, body: Vec<u8>, headers: &[(&str, String)]) -> Result<Response, Error> {
    let mut request = Request::post(url, body)
        .header("Content-Type", "application/json")
        .header("User-Agent", USER_AGENT);
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    request
        .send()
        .and_then(Response::error_for_status)
        .map_err(|e| http_error(e, url))
}

/// Alertmanager's `notify.Truncate`: at most `n` runes, the last one `…`
/// when cut.
pub struct Truncated {
    /// The text, cut or not.
    pub text: String,
    /// Whether it was cut.
    pub cut: bool,
}

/// See [`Truncated`].
pub fn truncate(s: &str, n: usize) -> Truncated {
    if s.chars().count() <= n {
        return Truncated {
            text: s.to_owned(),
            cut: false,
        };
    }
    let text = if n <= 3 {
        s.chars().take(n).collect()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    };
    Truncated { text, cut: true }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_json_escapes_like_go() {
        let v = serde_json::json!({"b": "<a & b>\u{2028}\u{8}\u{c}\n\t\"\\/é", "a": 1});
        let out = to_go_json(&v).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&out),
            "{\"a\":1,\"b\":\"\\u003ca \\u0026 b\\u003e\\u2028\\u0008\\u000c\\n\\t\\\"\\\\/é\"}\n"
        );
    }

    #[test]
    fn times_are_rfc3339nano() {
        assert_eq!(go_time(1_709_287_200_123), "2024-03-01T10:00:00.123Z");
        assert_eq!(go_time(1_709_287_205_000), "2024-03-01T10:00:05Z");
        assert_eq!(go_time(1_709_290_800_500), "2024-03-01T11:00:00.5Z");
        assert_eq!(go_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(go_time(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(go_time(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact("https://hooks.slack.com/services/T0/B0/XXX"),
            "https://hooks.slack.com/<redacted>"
        );
        assert_eq!(redact("http://u:p@h:8080?x=1"), "http://h:8080/<redacted>");
        assert_eq!(redact("https://h"), "https://h");
        assert_eq!(redact("nonsense"), "<redacted>");
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("url", "https://example.org/x").is_ok());
        assert!(check_url("url", "{{ .ExternalURL }}/hook").is_ok());
        assert!(check_url("url", "ftp://example.org").is_err());
        assert!(check_url("url", "http://").is_err());
    }

    #[test]
    fn truncation_counts_runes() {
        assert_eq!(truncate("héllo", 5).text, "héllo");
        let t = truncate("héllo world", 5);
        assert!(t.cut);
        assert_eq!(t.text, "héll…");
        assert_eq!(truncate("héllo", 2).text, "hé");
    }
}
