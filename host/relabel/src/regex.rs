//! Relabel regexes with Go's RE2 meaning on the `regex` crate.
//!
//! Prometheus 3.x compiles a relabel regex as `^(?s:<regex>)$`: fully
//! anchored, and `.` matches a newline (2.x used `^(?:<regex>)$`, where it
//! did not; Pharos follows 3.x, as the rest of Pharos does).
//!
//! The two engines read most patterns alike. Where Go and the `regex` crate
//! differ, the pattern is rewritten before compiling:
//! - Go's Perl classes are ASCII-only: `\d` is `[0-9]`, `\w` is
//!   `[0-9A-Za-z_]`, `\s` is `[\t\n\f\r ]`, and `\b`/`\B` are ASCII word
//!   boundaries; the `regex` crate makes them Unicode-aware.
//! - Go reads `\Q…\E` as a literal; the `regex` crate has no such syntax.
//! - Inside a bracket class Go takes `[`, `&&`, `--` and `~~` literally;
//!   the `regex` crate reads them as nested classes and set operations.

use regex::Regex;

use crate::error::RelabelError;

/// Compiles `pattern` anchored at both ends, as Prometheus 3.x does.
pub(crate) fn compile(pattern: &str) -> Result<Regex, RelabelError> {
    let translated = translate(pattern);
    Regex::new(&format!("^(?s:{translated})$")).map_err(|e| RelabelError::InvalidRegex {
        pattern: pattern.to_owned(),
        message: reason(&e),
    })
}

/// The one-line reason out of the `regex` crate's multi-line error.
fn reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or(text.trim())
        .to_owned()
}

/// Rewrites the parts of a Go pattern that the `regex` crate reads
/// differently (see the module docs).
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('d' | 'D' | 'w' | 'W' | 's' | 'S')) => {
                    out.push_str(perl_class(e, in_class));
                }
                Some(e @ ('b' | 'B')) if !in_class => {
                    out.push_str("(?-u:\\");
                    out.push(e);
                    out.push(')');
                }
                Some('Q') => {
                    let mut literal = String::new();
                    while let Some(q) = chars.next() {
                        if q == '\\' && chars.peek() == Some(&'E') {
                            chars.next();
                            break;
                        }
                        literal.push(q);
                    }
                    if in_class {
                        literal
                            .chars()
                            .for_each(|q| push_class_literal(&mut out, q));
                    } else {
                        out.push_str(&regex::escape(&literal));
                    }
                }
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                // A `]` first in a class is a literal in both engines.
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push_str("\\]");
                }
            }
            '[' if chars.peek() == Some(&':') => {
                // A POSIX class such as `[:alpha:]`: copy it whole.
                out.push('[');
                for p in chars.by_ref() {
                    out.push(p);
                    if p == ']' {
                        break;
                    }
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            c if in_class && matches!(c, '[' | '&' | '~') => push_class_literal(&mut out, c),
            '-' if in_class && chars.peek() == Some(&'-') => {
                // `a--` in Go is a range ending in `-`; escape the second
                // dash so the `regex` crate does not see a difference op.
                chars.next();
                out.push_str("-\\-");
            }
            c => out.push(c),
        }
    }
    out
}

fn push_class_literal(out: &mut String, c: char) {
    if c.is_ascii_punctuation() {
        out.push('\\');
    }
    out.push(c);
}

/// Go's ASCII meaning of a Perl class, inside or outside a bracket class.
fn perl_class(e: char, in_class: bool) -> &'static str {
    match (e, in_class) {
        ('d', false) => "[0-9]",
        ('d', true) => "0-9",
        ('D', _) => "[^0-9]",
        ('w', false) => "[0-9A-Za-z_]",
        ('w', true) => "0-9A-Za-z_",
        ('W', _) => "[^0-9A-Za-z_]",
        ('s', false) => "[\\t\\n\\f\\r ]",
        ('s', true) => "\\t\\n\\f\\r ",
        _ => "[^\\t\\n\\f\\r ]",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn is_match(pattern: &str, s: &str) -> bool {
        compile(pattern).unwrap().is_match(s)
    }

    #[test]
    fn anchored_and_dot_matches_newline() {
        assert!(is_match("foo", "foo"));
        assert!(!is_match("foo", "foobar"));
        assert!(!is_match("foo", "afoo"));
        assert!(!is_match("a|b", "ab"));
        assert!(is_match("a.b", "a\nb"));
    }

    #[test]
    fn perl_classes_are_ascii_as_in_go() {
        assert!(is_match(r"\d+", "123"));
        assert!(!is_match(r"\d", "٣"));
        assert!(is_match(r"\D", "٣"));
        assert!(!is_match(r"\w", "é"));
        assert!(is_match(r"\W", "é"));
        assert!(is_match(r"[\w-]+", "a-b_c"));
        assert!(!is_match(r"[\w]", "é"));
        assert!(is_match(r"[\D]", "x"));
        assert!(!is_match(r"\s", "\u{b}"));
        assert!(is_match(r"a\sb", "a\tb"));
        assert!(is_match(r".*\bé", "aé"));
    }

    #[test]
    fn class_punctuation_is_literal_as_in_go() {
        assert!(is_match(r"[[]", "["));
        assert!(is_match(r"[a&&b]+", "a&b"));
        assert!(is_match(r"[]a]+", "]a"));
        assert!(is_match(r"[^]a]", "b"));
        assert!(is_match(r"[[:alpha:]]+", "ab"));
        assert!(is_match(r"[~~]", "~"));
    }

    #[test]
    fn quoted_literals() {
        assert!(is_match(r"\Qa.b\E", "a.b"));
        assert!(!is_match(r"\Qa.b\E", "axb"));
        assert!(is_match(r"x\Q(*)", "x(*)"));
    }

    #[test]
    fn errors_name_the_pattern_and_reason() {
        let err = compile("(x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "error parsing regexp: unclosed group: `(x`"
        );
    }
}
