//! Go's `regexp/syntax` error messages for patterns that do not compile,
//! so a bad matcher regex is reported as Alertmanager reports it
//! (`error parsing regexp: missing closing ]: `[regexp)$``).
//!
//! The pattern is parsed with `regex-syntax`; its error kinds map onto
//! Go's codes, and the quoted fragment is cut from the anchored expression
//! the way Go cuts it. Go also refuses two things the `regex` crate
//! accepts: stacked repetition operators (`a**`) and repeat counts above
//! 1000; both are checked here.

use regex_syntax::ast::{self, Ast, ErrorKind, RepetitionKind, RepetitionRange, Visitor};

/// Go's message (without the `error parsing regexp: ` prefix) for an
/// expression, or `None` when Go would accept it as far as known here.
pub fn go_error(expr: &str) -> Option<String> {
    let frag = |r: std::ops::Range<usize>| expr.get(r).unwrap_or("").to_owned();
    match ast::parse::Parser::new().parse(expr) {
        Ok(ast) => ast::visit(&ast, GoLimits { expr }).err(),
        Err(e) => {
            let span = e.span().start.offset..e.span().end.offset;
            let (code, fragment) = match e.kind() {
                ErrorKind::ClassUnclosed => ("missing closing ]", frag(span.start..expr.len())),
                ErrorKind::GroupUnclosed => ("missing closing )", expr.to_owned()),
                ErrorKind::GroupUnopened => ("unexpected )", expr.to_owned()),
                ErrorKind::RepetitionCountInvalid
                | ErrorKind::RepetitionCountUnclosed
                | ErrorKind::RepetitionCountDecimalEmpty
                | ErrorKind::DecimalInvalid
                | ErrorKind::DecimalEmpty => ("invalid repeat count", frag(span)),
                ErrorKind::RepetitionMissing => (
                    "missing argument to repetition operator",
                    operator_at(expr, span.start),
                ),
                ErrorKind::ClassRangeInvalid => ("invalid character class range", frag(span)),
                ErrorKind::EscapeUnexpectedEof => {
                    ("trailing backslash at end of expression", String::new())
                }
                ErrorKind::EscapeUnrecognized
                | ErrorKind::EscapeHexEmpty
                | ErrorKind::EscapeHexInvalid
                | ErrorKind::EscapeHexInvalidDigit
                | ErrorKind::ClassEscapeInvalid
                | ErrorKind::UnsupportedBackreference => ("invalid escape sequence", frag(span)),
                ErrorKind::UnicodeClassInvalid => ("invalid character class", frag(span)),
                ErrorKind::GroupNameInvalid
                | ErrorKind::GroupNameEmpty
                | ErrorKind::GroupNameUnexpectedEof => ("invalid named capture", frag(span)),
                ErrorKind::GroupNameDuplicate { .. } => {
                    ("duplicate capture group name", frag(span))
                }
                ErrorKind::NestLimitExceeded(_) => ("expression nests too deeply", String::new()),
                _ => ("invalid or unsupported Perl syntax", frag(span)),
            };
            Some(if fragment.is_empty() && code.starts_with("trailing") {
                format!("{code}: ``")
            } else {
                format!("{code}: `{fragment}`")
            })
        }
    }
}

/// The repetition operator that starts at `at` (`*`, `+?`, `{2,3}`).
fn operator_at(expr: &str, at: usize) -> String {
    let rest = expr.get(at..).unwrap_or("");
    let len = if rest.starts_with('{') {
        rest.find('}').map_or(rest.len(), |i| i + 1)
    } else {
        rest.chars().next().map_or(0, char::len_utf8)
    };
    let op = rest.get(..len).unwrap_or("");
    let lazy = rest.get(len..).is_some_and(|r| r.starts_with('?'));
    if lazy {
        format!("{op}?")
    } else {
        op.to_owned()
    }
}

/// Walks a parsed expression for what Go refuses and `regex` accepts.
struct GoLimits<'a> {
    expr: &'a str,
}

impl Visitor for GoLimits<'_> {
    type Output = ();
    type Err = String;

    fn finish(self) -> Result<(), String> {
        Ok(())
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), String> {
        let Ast::Repetition(rep) = ast else {
            return Ok(());
        };
        let op_text = |r: &ast::RepetitionOp| {
            self.expr
                .get(r.span.start.offset..r.span.end.offset)
                .unwrap_or("")
                .to_owned()
        };
        if let RepetitionKind::Range(range) = &rep.op.kind {
            let (RepetitionRange::Exactly(n) | RepetitionRange::AtLeast(n)) = *range else {
                let RepetitionRange::Bounded(a, b) = *range else {
                    return Ok(());
                };
                if a > 1000 || b > 1000 {
                    return Err(format!("invalid repeat count: `{}`", op_text(&rep.op)));
                }
                return self.nested(rep);
            };
            if n > 1000 {
                return Err(format!("invalid repeat count: `{}`", op_text(&rep.op)));
            }
        }
        self.nested(rep)
    }
}

impl GoLimits<'_> {
    /// `a**`, `a+{2}`: a repetition applied directly to a repetition.
    fn nested(&self, rep: &ast::Repetition) -> Result<(), String> {
        if let Ast::Repetition(inner) = rep.ast.as_ref() {
            let text = self
                .expr
                .get(inner.op.span.start.offset..rep.op.span.end.offset)
                .unwrap_or("");
            return Err(format!("invalid nested repetition operator: `{text}`"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_as_go_prints_them() {
        let cases = [
            ("^(?:invalid[regexp)$", "missing closing ]: `[regexp)$`"),
            ("^(?:(()$", "missing closing ): `^(?:(()$`"),
            ("^(?:)))$", "unexpected ): `^(?:)))$`"),
            ("^(?:x{2,1})$", "invalid repeat count: `{2,1}`"),
            ("^(?:x**)$", "invalid nested repetition operator: `**`"),
            ("^(?:[z-a])$", "invalid character class range: `z-a`"),
            ("^(?:(?P<n>x)$", "missing closing ): `^(?:(?P<n>x)$`"),
        ];
        for (expr, want) in cases {
            assert_eq!(go_error(expr).as_deref(), Some(want), "{expr}");
        }
        assert_eq!(go_error("^(?:a|b.*)$"), None);
    }
}
