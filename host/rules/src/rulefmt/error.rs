//! Rule file errors. Each one displays as the line `promtool check rules`
//! (Prometheus 2.42) prints for it, file name first:
//!
//! ```text
//! rules.yml: 5:15: group "node", rule 2, "NodeDown": could not parse expression: 1:5: parse error: ...
//! rules.yml: yaml: unmarshal errors:
//!   line 3: field foo not found in type rulefmt.RuleGroup
//! rules.yml: 7:5: groupname: "node" is repeated in the same file
//! ```

use std::fmt;

/// A problem with a rule file; `Display` is promtool's line for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The file could not be read (`open x.yml: no such file or directory`).
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// Not YAML: go-yaml's `yaml: line N: <libyaml problem>`.
    #[error("{path}: yaml: {message}")]
    Syntax { path: String, message: String },
    /// Unknown fields, wrong types, duplicate keys: go-yaml's list.
    #[error("{path}: yaml: unmarshal errors:\n  {}", errors.join("\n  "))]
    Unmarshal { path: String, errors: Vec<String> },
    /// A value that failed its own decoding (a bad duration): Go prints
    /// only the message.
    #[error("{path}: {message}")]
    Decode { path: String, message: String },
    /// A problem with a whole group.
    #[error("{path}: {line}:{column}: {problem}")]
    Group {
        path: String,
        line: usize,
        column: usize,
        problem: GroupProblem,
    },
    /// A problem with one rule.
    #[error("{path}: {}", RuleLine { group, index: *index, name, pos: *pos, alt: *alt, problem })]
    Rule {
        path: String,
        group: String,
        /// 1-based index of the rule in its group.
        index: usize,
        /// `alert` or `record` as written (may be empty).
        name: String,
        /// Line and column promtool names, when it names one.
        pos: Option<(usize, usize)>,
        /// The second position (`alert` when both `record` and `alert` are set).
        alt: Option<(usize, usize)>,
        problem: RuleProblem,
    },
}

/// What is wrong with a group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupProblem {
    #[error("Groupname must not be empty")]
    EmptyName,
    #[error("groupname: \"{0}\" is repeated in the same file")]
    Repeated(String),
}

/// What is wrong with a rule (Prometheus' texts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleProblem {
    #[error("only one of 'record' and 'alert' must be set")]
    BothRecordAndAlert,
    #[error("one of 'record' or 'alert' must be set")]
    NeitherRecordNorAlert,
    #[error("field 'expr' must be set in rule")]
    MissingExpr,
    #[error("could not parse expression: {0}")]
    Expr(String),
    #[error("invalid field 'annotations' in recording rule")]
    AnnotationsInRecording,
    #[error("invalid field 'for' in recording rule")]
    ForInRecording,
    #[error("invalid field 'keep_firing_for' in recording rule")]
    KeepFiringForInRecording,
    #[error("invalid recording rule name: {0}")]
    RecordName(String),
    #[error("invalid label name: {0}")]
    LabelName(String),
    #[error("invalid annotation name: {0}")]
    AnnotationName(String),
    /// A label template that does not parse: `label "k": template: ...`.
    #[error("label {}: {message}", go_quote(key))]
    LabelTemplate { key: String, message: String },
    /// An annotation template that does not parse.
    #[error("annotation {}: {message}", go_quote(key))]
    AnnotationTemplate { key: String, message: String },
}

struct RuleLine<'a> {
    group: &'a str,
    index: usize,
    name: &'a str,
    pos: Option<(usize, usize)>,
    alt: Option<(usize, usize)>,
    problem: &'a RuleProblem,
}

impl fmt::Display for RuleLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((l, c)) = self.pos {
            write!(f, "{l}:{c}: ")?;
        }
        if let Some((l, c)) = self.alt {
            write!(f, "{l}:{c}: ")?;
        }
        write!(
            f,
            "group {}, rule {}, {}: {}",
            go_quote(self.group),
            self.index,
            go_quote(self.name),
            self.problem
        )
    }
}

/// Go's `%q` for a string (`strconv.Quote`).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Close to Go's `strconv.IsPrint` for the characters rule names hold.
fn is_go_printable(c: char) -> bool {
    !c.is_control()
        && !matches!(
            c,
            '\u{a0}'..='\u{a0}' | '\u{ad}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
        )
        && !('\u{e000}'..='\u{f8ff}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_error_line() {
        let e = RuleError::Rule {
            path: "a.yml".into(),
            group: "g".into(),
            index: 2,
            name: "foo".into(),
            pos: Some((5, 15)),
            alt: None,
            problem: RuleProblem::Expr("1:5: parse error: x".into()),
        };
        assert_eq!(
            e.to_string(),
            "a.yml: 5:15: group \"g\", rule 2, \"foo\": could not parse expression: 1:5: parse error: x"
        );
        assert_eq!(go_quote("a\"b\n"), "\"a\\\"b\\n\"");
    }
}
