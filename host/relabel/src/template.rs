//! `target_label` and `replacement` templates, expanded with Go's
//! `Regexp.ExpandString` rules, which Prometheus uses:
//! - `$name` and `${name}` name a capture group by number or name; `name`
//!   is the longest run of letters, digits and `_`, so `$1x` is the group
//!   named `1x` (empty), not group 1 followed by `x`; write `${1}x`.
//! - a number with a leading zero (`$01`) is a name, not a number;
//! - a group that does not exist or did not match expands to nothing;
//! - `$$` is a literal `$`; a `$` not followed by a valid name is literal.
//!
//! The `regex` crate's `Captures::expand` differs on leading zeros and on
//! non-ASCII names, so templates are parsed here once, at compile time.

use regex::{Captures, Regex};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Group(usize),
}

/// A template parsed against one regex.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    pub(crate) fn parse(template: &str, re: &Regex) -> Self {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = template;
        while let Some(at) = rest.find('$') {
            literal.push_str(&rest[..at]);
            rest = &rest[at..];
            if let Some(after) = rest.strip_prefix("$$") {
                literal.push('$');
                rest = after;
                continue;
            }
            match reference(rest) {
                Some((name, after)) => {
                    // A reference to a group that does not exist expands to
                    // nothing: it leaves no piece behind.
                    if let Some(group) = lookup(name, re) {
                        if !literal.is_empty() {
                            pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                        }
                        pieces.push(Piece::Group(group));
                    }
                    rest = after;
                }
                None => {
                    literal.push('$');
                    rest = &rest[1..];
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Template { pieces }
    }

    /// The text when the template has no group references.
    pub(crate) fn as_literal(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Literal(s)] => Some(s),
            _ => None,
        }
    }

    /// Whether the template is exactly `$1` (or an equivalent).
    pub(crate) fn is_group(&self, group: usize) -> bool {
        self.pieces == [Piece::Group(group)]
    }

    /// Appends the expansion for one match to `out`.
    pub(crate) fn expand_into(&self, caps: &Captures<'_>, out: &mut String) {
        for p in &self.pieces {
            match p {
                Piece::Literal(s) => out.push_str(s),
                Piece::Group(i) => {
                    if let Some(m) = caps.get(*i) {
                        out.push_str(m.as_str());
                    }
                }
            }
        }
    }

    pub(crate) fn expand(&self, caps: &Captures<'_>) -> String {
        let mut out = String::new();
        self.expand_into(caps, &mut out);
        out
    }
}

/// Splits `$name` or `${name}` off the front of `s` (which starts with
/// `$`): the name and the text after the reference.
fn reference(s: &str) -> Option<(&str, &str)> {
    let is_name = |c: char| c == '_' || c.is_alphanumeric();
    let body = &s[1..];
    if let Some(inner) = body.strip_prefix('{') {
        let end = inner.find(|c| !is_name(c)).unwrap_or(inner.len());
        let (name, after) = inner.split_at(end);
        let after = after.strip_prefix('}')?;
        (!name.is_empty()).then_some((name, after))
    } else {
        let end = body.find(|c| !is_name(c)).unwrap_or(body.len());
        let (name, after) = body.split_at(end);
        (!name.is_empty()).then_some((name, after))
    }
}

/// The group a reference names: a number in Go's form (ASCII digits, no
/// leading zero, at most nine digits) or a group name.
fn lookup(name: &str, re: &Regex) -> Option<usize> {
    let numeric = name.len() <= 9
        && name.bytes().all(|b| b.is_ascii_digit())
        && (name == "0" || !name.starts_with('0'));
    if numeric {
        let n: usize = name.parse().ok()?;
        return (n < re.captures_len()).then_some(n);
    }
    re.capture_names().position(|n| n == Some(name))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Expands `template` for `value` matched against `pattern`; the
    /// expectations were read from Prometheus 2.42's /api/v1/targets.
    fn expand(pattern: &str, template: &str, value: &str) -> String {
        let re = Regex::new(&format!("^(?s:{pattern})$")).unwrap();
        let caps = re.captures(value).unwrap();
        Template::parse(template, &re).expand(&caps)
    }

    const RE: &str = r"(\w)(\w)?(?P<name>.*)";

    #[test]
    fn go_expansion_rules() {
        assert_eq!(expand(RE, "$1x", "abc"), "");
        assert_eq!(expand(RE, "${1}x", "abc"), "ax");
        assert_eq!(expand(RE, "$01", "abc"), "");
        assert_eq!(expand(RE, "[$2]", "abc"), "[b]");
        assert_eq!(expand(RE, "[$2]", "a"), "[]");
        assert_eq!(expand(RE, "<$name>", "abc"), "<c>");
        assert_eq!(expand(RE, "$$1", "abc"), "$1");
        assert_eq!(expand(RE, "a$", "abc"), "a$");
        assert_eq!(expand(RE, "$ x", "abc"), "$ x");
        assert_eq!(expand(RE, "${1", "abc"), "${1");
        assert_eq!(expand(RE, "$é|$1", "abc"), "|a");
        assert_eq!(expand(RE, "$3|$4|$9", "abc"), "c||");
        assert_eq!(expand(RE, "${name}1|${ 1}|${}", "abc"), "c1|${ 1}|${}");
        assert_eq!(expand(RE, "$0", "abc"), "abc");
        assert_eq!(expand(RE, "$1000000000", "abc"), "");
    }

    #[test]
    fn literal_templates() {
        let re = Regex::new("(.*)").unwrap();
        assert_eq!(Template::parse("abc", &re).as_literal(), Some("abc"));
        assert_eq!(Template::parse("a$$b", &re).as_literal(), Some("a$b"));
        assert_eq!(Template::parse("", &re).as_literal(), Some(""));
        assert_eq!(Template::parse("$1", &re).as_literal(), None);
        assert!(Template::parse("$1", &re).is_group(1));
        assert!(Template::parse("${1}", &re).is_group(1));
        // A reference to a group that does not exist is always empty.
        assert_eq!(Template::parse("a$7-b", &re).as_literal(), Some("a-b"));
        assert_eq!(Template::parse("a$7b", &re).as_literal(), Some("a"));
    }
}
