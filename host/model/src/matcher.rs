use std::fmt;

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::Regex;

/// How a [`Matcher`] compares a label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// A regex in a matcher that does not compile.
#[derive(Debug, thiserror::Error)]
#[error("invalid regular expression {pattern:?}: {source}")]
pub struct MatcherError {
    pub pattern: String,
    #[source]
    pub source: regex::Error,
}

/// Compiled matcher regexes by pattern. Compiling costs far more than
/// matching (~100 µs for a small alternation), and dashboards send the same
/// selectors over and over; [`Regex`] clones share the compiled program.
static REGEX_CACHE: LazyLock<Mutex<HashMap<String, Regex>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
/// Patterns kept before the cache starts over.
const REGEX_CACHE_SIZE: usize = 1024;

/// The anchored regex of a matcher pattern, from the cache when possible.
fn compile(pattern: &str) -> Result<Regex, MatcherError> {
    if let Ok(cache) = REGEX_CACHE.lock()
        && let Some(re) = cache.get(pattern)
    {
        return Ok(re.clone());
    }
    let re = Regex::new(&format!("^(?s:{pattern})$")).map_err(|source| MatcherError {
        pattern: pattern.to_owned(),
        source,
    })?;
    if let Ok(mut cache) = REGEX_CACHE.lock() {
        if cache.len() >= REGEX_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(pattern.to_owned(), re.clone());
    }
    Ok(re)
}

/// A label matcher with Prometheus 3.x semantics: regexes are RE2 (the
/// `regex` crate), fully anchored, and `.` matches a newline. A missing label
/// has the value `""`, so a matcher that matches the empty string also
/// matches series that lack the label.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    re: Option<Regex>,
}

impl Matcher {
    /// Builds a matcher, compiling the regex for `=~` and `!~`.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let value = value.into();
        let re = match op {
            MatchOp::Regex | MatchOp::NotRegex => Some(compile(&value)?),
            _ => None,
        };
        Ok(Matcher {
            name: name.into(),
            op,
            value,
            re,
        })
    }

    /// An `=` matcher; it cannot fail.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            re: None,
        }
    }

    /// Whether a label value (`""` for a missing label) matches.
    pub fn matches(&self, v: &str) -> bool {
        match (self.op, &self.re) {
            (MatchOp::Equal, _) => v == self.value,
            (MatchOp::NotEqual, _) => v != self.value,
            (MatchOp::Regex, Some(re)) => re.is_match(v),
            (MatchOp::NotRegex, Some(re)) => !re.is_match(v),
            // Regex ops always carry a compiled regex (see `new`).
            (MatchOp::Regex | MatchOp::NotRegex, None) => false,
        }
    }

    /// Whether this matcher also selects series that lack the label.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }

    /// For `=~` matchers that are a plain alternation of literals
    /// (`a|b|c`), the literals; lets an index look them up directly.
    pub fn set_matches(&self) -> Option<Vec<String>> {
        if self.op != MatchOp::Regex {
            return None;
        }
        let special = |c: char| "\\.+*?()[]{}^$".contains(c);
        let parts: Vec<String> = self.value.split('|').map(str::to_owned).collect();
        parts
            .iter()
            .all(|p| !p.chars().any(special))
            .then_some(parts)
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}
impl Eq for Matcher {}

/// Prints `name="value"` as PromQL writes it.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(op: MatchOp, v: &str) -> Matcher {
        Matcher::new(op, "l", v).expect("valid matcher")
    }

    #[test]
    fn regex_is_fully_anchored() {
        assert!(m(MatchOp::Regex, "foo").matches("foo"));
        assert!(!m(MatchOp::Regex, "foo").matches("foobar"));
        assert!(!m(MatchOp::Regex, "foo").matches("xfoo"));
        assert!(m(MatchOp::Regex, "a|b").matches("b"));
        assert!(!m(MatchOp::Regex, "a|b").matches("ab"));
    }

    #[test]
    fn dot_matches_newline_as_in_prometheus_3() {
        assert!(m(MatchOp::Regex, "a.b").matches("a\nb"));
    }

    #[test]
    fn empty_matching() {
        assert!(m(MatchOp::Regex, ".*").matches_empty());
        assert!(!m(MatchOp::Regex, ".+").matches_empty());
        assert!(m(MatchOp::NotEqual, "x").matches_empty());
        assert!(m(MatchOp::Equal, "").matches_empty());
        assert!(m(MatchOp::NotRegex, "x").matches_empty());
    }

    #[test]
    fn bad_regex_is_an_error() {
        let e = Matcher::new(MatchOp::Regex, "l", "(").expect_err("must fail");
        assert!(e.to_string().contains("invalid regular expression"));
    }

    #[test]
    fn set_matches_only_for_literals() {
        assert_eq!(
            m(MatchOp::Regex, "a|bc").set_matches(),
            Some(vec!["a".to_string(), "bc".to_string()])
        );
        assert_eq!(m(MatchOp::Regex, "a.*").set_matches(), None);
        assert_eq!(m(MatchOp::Equal, "a").set_matches(), None);
    }
}
