//! Label matchers in Alertmanager 0.25's syntax (`pkg/labels/parse.go`):
//! the strings of `matchers`, `source_matchers`, `target_matchers`, amtool's
//! arguments and silence filters.
//!
//! A matcher is a label name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), one of `=`, `!=`,
//! `=~`, `!~`, and a value that may be wrapped in double quotes. Inside the
//! value `\"`, `\n` and `\\` are escapes; any other backslash is literal.
//! A list is comma-separated, optionally inside one pair of braces
//! (`{a="b", c=~"d"}`), commas inside quotes do not separate, a trailing
//! comma is allowed.
//!
//! Matching differs from PromQL's ([`pharos_model::Matcher`]) in one way,
//! which is why this module has its own matcher: Alertmanager anchors a
//! regex as `^(?:…)$` without the `s` flag, so `.` does not match a newline.
//! A missing label has the value `""`.
//!
//! ```
//! use pharos_alerting::matchers::parse_matchers;
//! let ms = parse_matchers(r#"{severity="page", service=~"pay.*"}"#).unwrap();
//! assert_eq!(ms[1].to_string(), r#"service=~"pay.*""#);
//! ```

use std::cmp::Ordering;
use std::fmt;

use pharos_model::{Labels, MatchOp};
use regex::Regex;

/// A matcher string that Alertmanager would refuse, with its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherParseError {
    /// The text is not `name op value`.
    #[error("bad matcher format: {0}")]
    BadFormat(String),
    /// A `"` inside the value that is not escaped, or an opening quote
    /// without a closing one.
    #[error("matcher value contains unescaped double quote: {0}")]
    UnescapedQuote(String),
    /// The regex of `=~` or `!~` does not compile: Go's message where the
    /// error maps onto one of Go's (see `goregex`), else the `regex`
    /// crate's description.
    #[error("error parsing regexp: {message}")]
    Regex {
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
}

/// One Alertmanager label matcher.
#[derive(Debug, Clone)]
pub struct AmMatcher {
    name: String,
    op: MatchOp,
    value: String,
    re: Option<Regex>,
}

impl AmMatcher {
    /// Builds a matcher; compiles the anchored regex of `=~` and `!~`.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherParseError> {
        let value = value.into();
        let re = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(compile(&value)?),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(AmMatcher {
            name: name.into(),
            op,
            value,
            re,
        })
    }

    /// The label name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operator.
    pub fn op(&self) -> MatchOp {
        self.op
    }

    /// The value (the pattern for regex operators), unescaped.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether `=~` or `!~`.
    pub fn is_regex(&self) -> bool {
        matches!(self.op, MatchOp::Regex | MatchOp::NotRegex)
    }

    /// Whether a label value (`""` for a missing label) matches.
    pub fn matches(&self, v: &str) -> bool {
        match (self.op, &self.re) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::Regex, Some(re)) => re.is_match(v),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(v),
            // `new` always compiles a regex for the regex operators.
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }

    /// Whether the matcher accepts this label set.
    pub fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(labels.get(&self.name).unwrap_or(""))
    }

    /// The order Alertmanager sorts route matchers in: name, value, then
    /// operator (`=`, `!=`, `=~`, `!~`).
    pub fn sort_cmp(&self, other: &Self) -> Ordering {
        self.name
            .cmp(&other.name)
            .then_with(|| self.value.cmp(&other.value))
            .then_with(|| op_rank(self.op).cmp(&op_rank(other.op)))
    }
}

fn op_rank(op: MatchOp) -> u8 {
    match op {
        MatchOp::Equal => 0,
        MatchOp::NotEqual => 1,
        MatchOp::Regex => 2,
        MatchOp::NotRegex => 3,
    }
}

fn compile(pattern: &str) -> Result<Regex, MatcherParseError> {
    let expr = format!("^(?:{pattern})$");
    // Go refuses some patterns the `regex` crate accepts (`a**`): check
    // with Go's rules first, so the same configs fail.
    if let Some(message) = crate::goregex::go_error(&expr) {
        return Err(MatcherParseError::Regex {
            pattern: pattern.to_owned(),
            message,
        });
    }
    Regex::new(&expr).map_err(|e| MatcherParseError::Regex {
        pattern: pattern.to_owned(),
        message: regex_message(&e),
    })
}

/// The last line of a `regex` error: the short description.
fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or("invalid regular expression")
        .to_owned()
}

impl PartialEq for AmMatcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}
impl Eq for AmMatcher {}

/// `name="value"` with OpenMetrics escaping (`\\`, `\n`, `\"`), as
/// Alertmanager prints matchers in route keys and in its API.
impl fmt::Display for AmMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}\"", self.name, self.op.as_str())?;
        for c in self.value.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '"' => f.write_str("\\\"")?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

/// A conjunction of matchers: all must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matchers(pub Vec<AmMatcher>);

impl Matchers {
    /// Whether every matcher accepts the label set (true when empty).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.0.iter().all(|m| m.matches_labels(labels))
    }

    /// Sorts as Alertmanager sorts a route's matchers.
    pub fn sort(&mut self) {
        self.0.sort_by(AmMatcher::sort_cmp);
    }

    /// The matchers.
    pub fn iter(&self) -> std::slice::Iter<'_, AmMatcher> {
        self.0.iter()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `{a="b",c=~"d"}`: the form in route keys.
impl fmt::Display for Matchers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{m}")?;
        }
        f.write_str("}")
    }
}

/// Go's `\s`: ASCII whitespace as RE2 knows it.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c')
}

/// Parses a comma-separated list of matchers, optionally in braces.
pub fn parse_matchers(s: &str) -> Result<Vec<AmMatcher>, MatcherParseError> {
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s);
    let mut tokens: Vec<String> = Vec::new();
    let mut token = String::new();
    let (mut quoted, mut escaped) = (false, false);
    for c in s.chars() {
        match c {
            ',' if !quoted => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            ',' => {}
            '"' => {
                if escaped {
                    escaped = false;
                } else {
                    quoted = !quoted;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    let last = token.trim_matches(is_space);
    if !last.is_empty() {
        tokens.push(last.to_owned());
    }
    tokens.iter().map(|t| parse_matcher(t)).collect()
}

/// Parses one matcher: `name op value`, whitespace allowed around each.
pub fn parse_matcher(s: &str) -> Result<AmMatcher, MatcherParseError> {
    let bad = || MatcherParseError::BadFormat(s.to_owned());
    let rest = s.trim_start_matches(is_space);
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| {
            let ok =
                c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
            !ok
        })
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return Err(bad());
    }
    let (name, rest) = rest.split_at(name_len);
    let rest = rest.trim_start_matches(is_space);
    let (op, rest) = [
        ("=~", MatchOp::Regex),
        ("=", MatchOp::Equal),
        ("!=", MatchOp::NotEqual),
        ("!~", MatchOp::NotRegex),
    ]
    .into_iter()
    .find_map(|(text, op)| rest.strip_prefix(text).map(|r| (op, r)))
    .ok_or_else(bad)?;
    let raw = rest.trim_matches(is_space);
    let value = unescape(raw)?;
    AmMatcher::new(op, name, value)
}

/// Unescapes a matcher value: strips one pair of surrounding quotes and
/// resolves `\"`, `\n`, `\\`; a `"` anywhere else is an error.
fn unescape(raw: &str) -> Result<String, MatcherParseError> {
    let quote_err = || MatcherParseError::UnescapedQuote(raw.to_owned());
    let (body, mut want_close) = match raw.strip_prefix('"') {
        Some(b) => (b, true),
        None => (raw, false),
    };
    let mut out = String::with_capacity(body.len());
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
            match c {
                'n' => out.push('\n'),
                '"' | '\\' => out.push(c),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            continue;
        }
        match c {
            '\\' if i + 1 < body.len() => escaped = true,
            '\\' => out.push('\\'),
            '"' => {
                if !want_close || i + 1 < body.len() {
                    return Err(quote_err());
                }
                want_close = false;
            }
            c => out.push(c),
        }
    }
    if want_close {
        return Err(quote_err());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_does_not_match_newline_with_dot() {
        let m = parse_matcher("a=~x.y").expect("valid");
        assert!(m.matches("x-y"));
        assert!(!m.matches("x\ny"));
        assert!(!m.matches("x-yz"));
    }

    #[test]
    fn display_escapes() {
        let m = AmMatcher::new(MatchOp::Equal, "a", "q\"\\\n").expect("valid");
        assert_eq!(m.to_string(), r#"a="q\"\\\n""#);
    }

    #[test]
    fn sort_by_name_value_op() {
        let mut ms = Matchers(parse_matchers(r#"owner="team-A", level!="critical""#).expect("ok"));
        ms.sort();
        assert_eq!(ms.to_string(), r#"{level!="critical",owner="team-A"}"#);
    }

    #[test]
    fn unicode_and_odd_input_never_panics() {
        for s in [
            "",
            "{",
            "}",
            "\"",
            "\\",
            "a=\\",
            "é=1",
            "a=é\"",
            "a=\"é",
            "{a=\"\u{1F600}\"}",
        ] {
            let _ = parse_matchers(s);
        }
    }
}
