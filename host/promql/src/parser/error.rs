//! Parse errors, displayed as Prometheus does:
//! `1:14: parse error: unexpected <op:+>`.

use std::fmt;

use super::ast::Span;

/// An error found while lexing, parsing or type checking, before it is tied
/// to the query text (see [`ParseError`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

impl SyntaxError {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        SyntaxError {
            span,
            message: message.into(),
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A query that does not parse or type check.
///
/// Displays as `<line>:<column>: parse error: <message>`, with the 1-based
/// line and the 1-based byte column of the start of the offending span.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{line}:{column}: parse error: {message}")]
pub struct ParseError {
    /// Byte range in the query.
    pub span: Span,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based byte column of `span.start` in its line.
    pub column: usize,
    /// What went wrong, in Prometheus' words.
    pub message: String,
}

impl ParseError {
    /// Ties a [`SyntaxError`] to the query it was found in.
    pub fn new(query: &str, err: SyntaxError) -> Self {
        let pos = err.span.start.min(query.len());
        let before = query.get(..pos).unwrap_or(query);
        let line = before.matches('\n').count() + 1;
        let column = match before.rfind('\n') {
            Some(nl) => pos - nl,
            None => pos + 1,
        };
        ParseError {
            span: err.span,
            line,
            column,
            message: err.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_line_and_column() {
        let e = ParseError::new(
            "foo +\n  )",
            SyntaxError::new(Span::new(8, 9), "unexpected"),
        );
        assert_eq!(e.to_string(), "2:3: parse error: unexpected");
        let e = ParseError::new("foo", SyntaxError::new(Span::new(0, 3), "x"));
        assert_eq!(e.to_string(), "1:1: parse error: x");
    }
}
