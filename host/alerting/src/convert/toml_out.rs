//! A small TOML writer that keeps the order keys were added in and lays a
//! document out for people: the route tree and the receivers as
//! `[[…]]` sections, short tables and lists inline, long lists one item a
//! line, matchers in literal strings (`'severity="page"'`), multi-line
//! templates in `'''` blocks.

use std::fmt::Write as _;

/// Longest inline rendering of a table or list kept on one line.
const INLINE_WIDTH: usize = 100;

/// A TOML value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    /// A list: inline when short, one item a line when long; a list of
    /// tables too long for one line becomes `[[…]]` sections.
    Array(Vec<Value>),
    /// A table: inline when short, a `[…]` section otherwise.
    Table(Table),
    /// A table that is always a `[…]` section (`[alerting.route]`).
    Section(Table),
    /// Tables that are always written as `[[…]]` sections (routes,
    /// receivers, notifiers).
    Sections(Vec<Table>),
}

/// An ordered table.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Table(pub Vec<(String, Value)>);

impl Table {
    pub(crate) fn new() -> Self {
        Table(Vec::new())
    }

    pub(crate) fn push(&mut self, key: &str, value: Value) {
        self.0.push((key.to_owned(), value));
    }

    pub(crate) fn push_str(&mut self, key: &str, value: &str) {
        self.push(key, Value::Str(value.to_owned()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Writes a whole document: `root`'s tables as sections under their keys.
pub(crate) fn render(root: &Table) -> String {
    let mut out = String::new();
    write_table(&mut out, &[], root);
    out
}

fn is_section(v: &Value) -> bool {
    match v {
        Value::Sections(_) | Value::Section(_) => true,
        Value::Table(_) => inline(v).is_none(),
        Value::Array(items) => {
            !items.is_empty()
                && items.iter().all(|i| matches!(i, Value::Table(_)))
                && inline(v).is_none()
        }
        _ => false,
    }
}

fn write_table(out: &mut String, path: &[String], table: &Table) {
    for (k, v) in &table.0 {
        if !is_section(v) {
            let _ = writeln!(out, "{} = {}", key(k), value_text(v));
        }
    }
    for (k, v) in &table.0 {
        if !is_section(v) {
            continue;
        }
        let mut sub = path.to_vec();
        sub.push(k.clone());
        let header = sub.iter().map(|s| key(s)).collect::<Vec<_>>().join(".");
        match v {
            Value::Table(t) | Value::Section(t) => {
                if !out.is_empty() {
                    out.push('\n');
                }
                let _ = writeln!(out, "[{header}]");
                write_table(out, &sub, t);
            }
            Value::Sections(ts) => {
                for t in ts {
                    section(out, &header, &sub, t);
                }
            }
            Value::Array(items) => {
                for i in items {
                    if let Value::Table(t) = i {
                        section(out, &header, &sub, t);
                    }
                }
            }
            _ => {}
        }
    }
}

fn section(out: &mut String, header: &str, path: &[String], t: &Table) {
    if !out.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "[[{header}]]");
    write_table(out, path, t);
}

/// A value on the right of `=`: inline when it fits, else a list one item
/// a line (whose items must then fit on a line each).
fn value_text(v: &Value) -> String {
    if let Some(s) = inline(v) {
        return s;
    }
    match v {
        Value::Array(items) => {
            let mut s = String::from("[\n");
            for i in items {
                let _ = writeln!(s, "  {},", inline_unbounded(i));
            }
            s.push(']');
            s
        }
        other => inline_unbounded(other),
    }
}

/// The one-line form, if it is short enough (scalars always are) and
/// holds no section.
fn inline(v: &Value) -> Option<String> {
    if has_sections(v) {
        return None;
    }
    let s = inline_unbounded(v);
    match v {
        Value::Str(_) | Value::Int(_) | Value::Bool(_) => Some(s),
        _ if s.len() <= INLINE_WIDTH && !s.contains('\n') => Some(s),
        _ => None,
    }
}

fn has_sections(v: &Value) -> bool {
    match v {
        Value::Section(_) | Value::Sections(_) => true,
        Value::Table(t) => t.0.iter().any(|(_, v)| has_sections(v)),
        Value::Array(items) => items.iter().any(has_sections),
        Value::Str(_) | Value::Int(_) | Value::Bool(_) => false,
    }
}

fn inline_unbounded(v: &Value) -> String {
    match v {
        Value::Str(s) => string(s),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(inline_unbounded).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Table(t) | Value::Section(t) => inline_table(t),
        Value::Sections(ts) => {
            let parts: Vec<String> = ts.iter().map(inline_table).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

fn inline_table(t: &Table) -> String {
    if t.is_empty() {
        return "{}".to_owned();
    }
    let parts: Vec<String> =
        t.0.iter()
            .map(|(k, v)| format!("{} = {}", key(k), inline_unbounded(v)))
            .collect();
    format!("{{ {} }}", parts.join(", "))
}

/// A key: bare when it can be.
pub(crate) fn key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_owned()
    } else {
        basic(k)
    }
}

/// A string: literal (`'…'`) when it holds quotes or backslashes and can
/// be one, a multi-line literal for text with newlines, else basic.
pub(crate) fn string(s: &str) -> String {
    let plain = |c: char| c == '\t' || !c.is_control();
    if !s.contains('\n') {
        if (s.contains('"') || s.contains('\\')) && !s.contains('\'') && s.chars().all(plain) {
            return format!("'{s}'");
        }
        return basic(s);
    }
    if !s.contains("'''") && !s.ends_with('\'') && s.chars().all(|c| c == '\n' || plain(c)) {
        // The newline right after the opening delimiter is not part of
        // the string.
        return format!("'''\n{s}'''");
    }
    basic(s)
}

fn basic(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_parse_back() {
        for s in [
            "plain",
            r#"severity="page""#,
            r#"it's "quoted""#,
            "a\\b",
            "line one\nline two\n",
            "ends with quote'\n",
            "tab\there",
            "bell\u{7}",
            "''' inside\n",
            "",
        ] {
            let doc = format!("v = {}\n", string(s));
            let t: toml::Table = toml::from_str(&doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
            assert_eq!(t.get("v").and_then(toml::Value::as_str), Some(s), "{doc}");
        }
    }

    #[test]
    fn layout() {
        let mut inner = Table::new();
        inner.push_str("receiver", "b");
        inner.push("matchers", Value::Array(vec![Value::Str("a=\"1\"".into())]));
        let mut route = Table::new();
        route.push_str("receiver", "a");
        route.push("routes", Value::Sections(vec![inner]));
        let mut alerting = Table::new();
        alerting.push_str("resolve_timeout", "5m");
        alerting.push("route", Value::Section(route));
        let mut root = Table::new();
        root.push("alerting", Value::Section(alerting));
        let text = render(&root);
        assert_eq!(
            text,
            "[alerting]\nresolve_timeout = \"5m\"\n\n[alerting.route]\nreceiver = \"a\"\n\n[[alerting.route.routes]]\nreceiver = \"b\"\nmatchers = ['a=\"1\"']\n"
        );
        let _: toml::Table = toml::from_str(&text).expect("valid TOML");
    }

    #[test]
    fn long_lists_break_lines() {
        let items: Vec<Value> = (0..20).map(|i| Value::Str(format!("label{i}"))).collect();
        let mut t = Table::new();
        t.push("group_by", Value::Array(items));
        let text = render(&t);
        assert!(text.starts_with("group_by = [\n  \"label0\",\n"), "{text}");
        let back: toml::Table = toml::from_str(&text).expect("valid TOML");
        assert_eq!(
            back.get("group_by")
                .and_then(toml::Value::as_array)
                .map(Vec::len),
            Some(20)
        );
    }
}
