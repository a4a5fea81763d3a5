//! Content negotiation for scrapes, as Prometheus 2.42 does it.
//!
//! Prometheus sends [`SCRAPE_ACCEPT_HEADER`] (OpenMetrics 1.0.0 preferred,
//! then OpenMetrics 0.0.1, then the text format 0.0.4, then anything) and
//! picks the parser from the response's `Content-Type` with Go's
//! `mime.ParseMediaType`: the media type `application/openmetrics-text` (any
//! case, any parameters) selects OpenMetrics; anything else, including a
//! missing header, `text/plain` and unknown types, selects the text format.
//! A header Go cannot parse also falls back to the text format (Prometheus
//! logs it at debug level): [`Format::from_content_type`] returns the error
//! so the caller can do the same.

/// The `Accept` header Prometheus 2.42 sends on every scrape (captured
/// from a running Prometheus 2.42).
pub const SCRAPE_ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// An exposition format, i.e. which parser reads a scrape body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The Prometheus text format 0.0.4.
    PromText,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

/// A `Content-Type` header that is not a media type. Prometheus then parses
/// the body as the text format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentTypeError {
    #[error("no media type")]
    NoMediaType,
    #[error("expected slash after first token")]
    ExpectedSlash,
    #[error("expected token after slash")]
    ExpectedSubtype,
    #[error("unexpected content after media subtype")]
    TrailingContent,
    #[error("invalid media parameter")]
    InvalidParameter,
    #[error("duplicate parameter name {0:?}")]
    DuplicateParameter(String),
}

impl Format {
    /// The format for a response's `Content-Type` (`None` when the header is
    /// missing). `Err` means the header is malformed; Prometheus then uses
    /// [`Format::PromText`], and so should the caller.
    pub fn from_content_type(content_type: Option<&str>) -> Result<Format, ContentTypeError> {
        let Some(ct) = content_type.filter(|ct| !ct.is_empty()) else {
            return Ok(Format::PromText);
        };
        let media_type = media_type(ct)?;
        Ok(
            if media_type.eq_ignore_ascii_case("application/openmetrics-text") {
                Format::OpenMetrics
            } else {
                Format::PromText
            },
        )
    }

    /// The `Content-Type` an exporter serving this format sends.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::PromText => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// RFC 2045 token characters, as Go's `mime` package defines them.
fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c)
}

fn token(s: &str) -> (&str, &str) {
    let n = s.find(|c| !is_token_char(c)).unwrap_or(s.len());
    s.split_at(n)
}

/// Checks a `Content-Type` as Go's `mime.ParseMediaType` does and returns
/// its media type (`type/subtype`, or a lone `type`).
fn media_type(v: &str) -> Result<&str, ContentTypeError> {
    let (base, mut params) = v.split_at(v.find(';').unwrap_or(v.len()));
    let base = base.trim();
    let (typ, rest) = token(base);
    if typ.is_empty() {
        return Err(ContentTypeError::NoMediaType);
    }
    if !rest.is_empty() {
        let sub = rest
            .strip_prefix('/')
            .ok_or(ContentTypeError::ExpectedSlash)?;
        let (subtype, rest) = token(sub);
        if subtype.is_empty() {
            return Err(ContentTypeError::ExpectedSubtype);
        }
        if !rest.is_empty() {
            return Err(ContentTypeError::TrailingContent);
        }
    }
    let mut seen: Vec<String> = Vec::new();
    loop {
        params = params.trim_start();
        if params.is_empty() {
            break;
        }
        match parameter(params) {
            Some((key, rest)) => {
                let key = key.to_ascii_lowercase();
                if seen.contains(&key) {
                    return Err(ContentTypeError::DuplicateParameter(key));
                }
                seen.push(key);
                params = rest;
            }
            // A trailing semicolon is allowed.
            None if params.trim() == ";" => break,
            None => return Err(ContentTypeError::InvalidParameter),
        }
    }
    Ok(base)
}

/// `; key=value` (value a token or a quoted string): the key and the rest.
fn parameter(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start().strip_prefix(';')?.trim_start();
    let (key, rest) = token(s);
    if key.is_empty() {
        return None;
    }
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in quoted.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return Some((key, &quoted[i + 1..])),
                _ => {}
            }
        }
        return None;
    }
    let (value, rest) = token(rest);
    (!value.is_empty()).then_some((key, rest))
}
