//! Parse errors: a line number and what went wrong there.
//!
//! Prometheus 2.42 fails a scrape with messages such as
//! `expected value after metric, got "INVALID"`, naming the lexer's token
//! class. Ours keep that wording but name the line and the text found
//! instead, e.g. `line 3: expected value after metric, got "}"`.

use std::fmt;

/// A malformed exposition body: the 1-based line and what is wrong there.
/// One error fails the whole scrape, as in Prometheus.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct ParseError {
    /// The 1-based line on which the problem was found.
    pub line: usize,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

/// What is wrong with an exposition body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// A token other than the one the grammar allows here.
    #[error("expected {expected}, got {found}")]
    Unexpected {
        expected: &'static str,
        found: Found,
    },
    /// A value or timestamp that is not a number in the allowed syntax.
    #[error("invalid {what} {}", Quoted(text))]
    InvalidNumber { what: &'static str, text: Vec<u8> },
    /// A well-formed number that does not fit (`1e400`, a 20-digit
    /// timestamp).
    #[error("{what} {} is out of range", Quoted(text))]
    NumberOutOfRange { what: &'static str, text: Vec<u8> },
    /// A `# TYPE` line naming a type the format does not have.
    #[error("invalid metric type {}", Quoted(.0))]
    InvalidMetricType(Vec<u8>),
    /// Bytes that are not UTF-8 where text is required (label values, help).
    #[error("{0} is not valid UTF-8")]
    InvalidUtf8(&'static str),
    /// The same label name twice in one label set (including `__name__`
    /// next to a metric name).
    #[error("duplicate label name {0:?}")]
    DuplicateLabel(String),
    /// `name{__name__=""}`: the empty value deletes the metric name, as in
    /// Prometheus.
    #[error("missing metric name (__name__ label)")]
    MissingMetricName,
    /// OpenMetrics: a `# UNIT` whose metric name does not end in `_<unit>`.
    #[error("metric name {metric:?} does not end with \"_\" and its unit {unit:?}")]
    UnitNotSuffix { unit: String, metric: String },
    /// OpenMetrics: an exemplar on a series whose name ends in neither
    /// `_total` nor `_bucket`.
    #[error("metric {0:?} does not support exemplars (only _total and _bucket series do)")]
    ExemplarNotAllowed(String),
    /// OpenMetrics: a comment other than `# HELP`, `# TYPE`, `# UNIT`, `# EOF`.
    #[error(
        "unexpected comment: OpenMetrics allows only \"# HELP\", \"# TYPE\", \"# UNIT\" and \"# EOF\""
    )]
    UnexpectedComment,
    /// OpenMetrics: an empty line.
    #[error("unexpected blank line")]
    BlankLine,
    /// OpenMetrics: the body ends without `# EOF`.
    #[error("data does not end with # EOF")]
    MissingEof,
    /// OpenMetrics: anything after `# EOF` and its line break.
    #[error("unexpected data after # EOF")]
    DataAfterEof,
}

/// What the parser found where it expected something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The body ended.
    EndOfInput,
    /// The line ended.
    EndOfLine,
    /// Some text: a word, or a single character of punctuation.
    Text(Vec<u8>),
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::EndOfInput => f.write_str("end of input"),
            Found::EndOfLine => f.write_str("end of line"),
            Found::Text(t) => Quoted(t).fmt(f),
        }
    }
}

/// Prints bytes in double quotes, escaping like Rust's `{:?}` and showing
/// bytes that are not UTF-8 as `\xNN`.
pub(crate) struct Quoted<'b>(pub &'b [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                if c == '\'' {
                    f.write_str("'")?;
                } else {
                    write!(f, "{}", c.escape_debug())?;
                }
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_line_and_quotes_bytes() {
        let e = ParseError {
            line: 3,
            kind: ParseErrorKind::Unexpected {
                expected: "value after metric",
                found: Found::Text(b"}".to_vec()),
            },
        };
        assert_eq!(
            e.to_string(),
            r#"line 3: expected value after metric, got "}""#
        );
        let e = ParseErrorKind::InvalidNumber {
            what: "value",
            text: b"1\r\xff'\"".to_vec(),
        };
        assert_eq!(e.to_string(), r#"invalid value "1\r\xff'\"""#);
        let e = ParseErrorKind::Unexpected {
            expected: "label name",
            found: Found::EndOfLine,
        };
        assert_eq!(e.to_string(), "expected label name, got end of line");
    }
}
