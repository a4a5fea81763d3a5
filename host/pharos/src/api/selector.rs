//! A small parser for PromQL series selectors, as used by `match[]`:
//! `up`, `{job="x"}`, `up{job=~"a.*",instance!='b'}`.
//!
//! It stands in until the real PromQL parser (`host/promql`) lands, and will
//! be replaced by its `parse_metric_selector`. Error messages follow
//! Prometheus' (`1:4: parse error: unexpected end of input inside braces`).

use std::fmt;

use pharos_model::{METRIC_NAME, MatchOp, Matcher, MatcherError};

/// A selector that does not parse; displays as Prometheus does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError {
    line: usize,
    col: usize,
    msg: String,
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: parse error: {}", self.line, self.col, self.msg)
    }
}

impl std::error::Error for SelectorError {}

/// Parses one series selector into its matchers (the metric name, if any,
/// as a `__name__="…"` matcher first).
pub fn parse_selector(input: &str) -> Result<Vec<Matcher>, SelectorError> {
    let mut p = Parser { s: input, pos: 0 };
    let mut matchers = Vec::new();
    p.skip_ws();
    let mut name = None;
    match p.peek() {
        None => return Err(p.err(p.pos, "unexpected end of input")),
        Some(c) if is_metric_start(c) => {
            let start = p.pos;
            let n = p.take_while(is_metric_char);
            if let Some(k) = keyword(n) {
                return Err(p.err(start, format!("unexpected {k}")));
            }
            matchers.push(Matcher::equal(METRIC_NAME, n));
            name = Some(n);
            p.skip_ws();
        }
        Some('{') => {}
        Some(_) => return Err(p.unexpected(p.pos, false, "")),
    }
    if p.peek() == Some('{') {
        p.braces(name, &mut matchers)?;
        p.skip_ws();
    }
    if p.peek().is_some() {
        return Err(p.unexpected(p.pos, false, ""));
    }
    Ok(matchers)
}

/// How Prometheus names a keyword token in errors (`<op:or>`, `<offset>`);
/// `None` for plain identifiers.
fn keyword(ident: &str) -> Option<String> {
    match ident.to_ascii_lowercase().as_str() {
        op @ ("and" | "or" | "unless" | "atan2") => Some(format!("<op:{op}>")),
        k @ ("offset" | "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
        | "bool") => Some(format!("<{k}>")),
        _ => None,
    }
}

/// A regex error on one line, as Go prints it:
/// `error parsing regexp: unclosed group: `(``.
fn regex_error(e: &MatcherError) -> String {
    let detail = e.source.to_string();
    let last = detail
        .lines()
        .last()
        .unwrap_or_default()
        .trim_start_matches("error: ");
    format!("error parsing regexp: {last}: `{}`", e.pattern)
}

fn is_metric_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}
fn is_metric_char(c: char) -> bool {
    is_metric_start(c) || c.is_ascii_digit()
}
fn is_label_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}
fn is_label_char(c: char) -> bool {
    is_label_start(c) || c.is_ascii_digit()
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        let len = self.rest().find(|c| !f(c)).unwrap_or(self.rest().len());
        self.pos += len;
        &self.s[start..self.pos]
    }

    /// Skips whitespace and `#` comments.
    fn skip_ws(&mut self) {
        loop {
            self.take_while(char::is_whitespace);
            if self.peek() == Some('#') {
                self.take_while(|c| c != '\n');
            } else {
                return;
            }
        }
    }

    fn err(&self, at: usize, msg: impl Into<String>) -> SelectorError {
        let before = &self.s[..at];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        SelectorError {
            line,
            col: at - line_start + 1,
            msg: msg.into(),
        }
    }

    /// `unexpected <token at `at`><context>`, or Prometheus' lexer error
    /// for a character that starts no token.
    fn unexpected(&self, at: usize, in_braces: bool, context: &str) -> SelectorError {
        let rest = &self.s[at..];
        let Some(c) = rest.chars().next() else {
            let what = if in_braces {
                "unexpected end of input inside braces"
            } else {
                "unexpected end of input"
            };
            return self.err(at, what);
        };
        let token = if is_metric_start(c) {
            let end = rest.find(|c| !is_metric_char(c)).unwrap_or(rest.len());
            let ident = &rest[..end];
            match keyword(ident) {
                Some(k) if !in_braces => k,
                _ => format!("identifier {ident:?}"),
            }
        } else if c.is_ascii_digit() {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
                .unwrap_or(rest.len());
            format!("number {:?}", &rest[..end])
        } else if matches!(c, '"' | '\'' | '`') {
            let mut p = Parser { s: self.s, pos: at };
            match p.string() {
                Ok(_) => format!("string {:?}", &self.s[at..p.pos]),
                Err(e) => return e,
            }
        } else if let Some(op) = ["=~", "!~", "!=", "==", "<=", ">="]
            .into_iter()
            .find(|op| rest.starts_with(op))
        {
            format!("{op:?}")
        } else if "{}[](),=+-*/%^<>@".contains(c) {
            format!("{:?}", c.to_string())
        } else {
            let where_ = if in_braces { " inside braces" } else { "" };
            return self.err(at, format!("unexpected character{where_}: {c:?}"));
        };
        self.err(at, format!("unexpected {token}{context}"))
    }

    /// `{name op "value", …}`, appending to `matchers`.
    fn braces(
        &mut self,
        metric: Option<&str>,
        matchers: &mut Vec<Matcher>,
    ) -> Result<(), SelectorError> {
        self.pos += 1; // '{'
        loop {
            self.skip_ws();
            match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(c) if is_label_start(c) => {}
                _ => {
                    return Err(self.unexpected(
                        self.pos,
                        true,
                        " in label matching, expected identifier or \"}\"",
                    ));
                }
            }
            let start = self.pos;
            let name = self.take_while(is_label_char);
            self.skip_ws();
            let op = if self.rest().starts_with("=~") {
                MatchOp::Regex
            } else if self.rest().starts_with("!~") {
                MatchOp::NotRegex
            } else if self.rest().starts_with("!=") {
                MatchOp::NotEqual
            } else if self.rest().starts_with('=') && !self.rest().starts_with("==") {
                MatchOp::Equal
            } else {
                return Err(self.unexpected(
                    self.pos,
                    true,
                    " in label matching, expected label matching operator",
                ));
            };
            self.pos += op.as_str().len();
            self.skip_ws();
            if !matches!(self.peek(), Some('"' | '\'' | '`')) {
                return Err(self.unexpected(self.pos, true, " in label matching, expected string"));
            }
            let value = self.string()?;
            if name == METRIC_NAME
                && let Some(metric) = metric
            {
                return Err(self.err(
                    start,
                    format!("metric name must not be set twice: {metric:?} or {value:?}"),
                ));
            }
            let m = Matcher::new(op, name, value).map_err(|e| self.err(start, regex_error(&e)))?;
            matchers.push(m);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {}
                _ => {
                    return Err(self.unexpected(
                        self.pos,
                        true,
                        " in label matching, expected \",\" or \"}\"",
                    ));
                }
            }
        }
    }

    /// A quoted string at `pos`: `"…"` or `'…'` with Go escapes, or a raw
    /// `` `…` ``. Errors point at the opening quote, as Prometheus'.
    fn string(&mut self) -> Result<String, SelectorError> {
        let start = self.pos;
        let quote = self.peek().unwrap_or('"');
        self.pos += 1;
        if quote == '`' {
            let Some(len) = self.rest().find('`') else {
                return Err(self.err(start, "unterminated raw string"));
            };
            let v = self.rest()[..len].to_owned();
            self.pos += len + 1;
            return Ok(v);
        }
        let mut out: Vec<u8> = Vec::new();
        let mut chars = self.rest().char_indices();
        let unterminated = || self.err(start, "unterminated quoted string");
        loop {
            let Some((i, c)) = chars.next() else {
                return Err(unterminated());
            };
            match c {
                '\n' => return Err(unterminated()),
                c if c == quote => {
                    self.pos += i + 1;
                    break;
                }
                '\\' => {
                    let Some((_, e)) = chars.next() else {
                        return Err(unterminated());
                    };
                    let simple = match e {
                        'a' => Some(0x07),
                        'b' => Some(0x08),
                        'f' => Some(0x0c),
                        'n' => Some(b'\n'),
                        'r' => Some(b'\r'),
                        't' => Some(b'\t'),
                        'v' => Some(0x0b),
                        '\\' => Some(b'\\'),
                        e if e == quote => Some(e as u8),
                        _ => None,
                    };
                    if let Some(b) = simple {
                        out.push(b);
                        continue;
                    }
                    let (digits, radix) = match e {
                        'x' => (2, 16),
                        'u' => (4, 16),
                        'U' => (8, 16),
                        '0'..='7' => (2, 8),
                        _ => {
                            return Err(self.err(
                                start,
                                format!("unknown escape sequence U+{:04X} {e:?}", e as u32),
                            ));
                        }
                    };
                    let mut n: u32 = if radix == 8 { e as u32 - '0' as u32 } else { 0 };
                    for _ in 0..digits {
                        let d = chars.next().and_then(|(_, c)| c.to_digit(radix));
                        let Some(d) = d else {
                            return Err(self.err(start, "illegal character in escape sequence"));
                        };
                        n = n * radix + d;
                    }
                    match e {
                        'x' | '0'..='7' => match u8::try_from(n) {
                            Ok(b) => out.push(b),
                            Err(_) => {
                                return Err(self.err(start, "octal escape value > 255"));
                            }
                        },
                        _ => {
                            let Some(ch) = char::from_u32(n) else {
                                return Err(self.err(
                                    start,
                                    "escape sequence is an invalid Unicode code point",
                                ));
                            };
                            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                    }
                }
                c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        String::from_utf8(out).map_err(|_| self.err(start, "invalid UTF-8 in string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Vec<String> {
        parse_selector(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn err(s: &str) -> String {
        match parse_selector(s) {
            Ok(m) => panic!("{s}: parsed as {m:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn selectors() {
        assert_eq!(ok("up"), [r#"__name__="up""#]);
        assert_eq!(ok("  up  "), [r#"__name__="up""#]);
        assert_eq!(ok("a:b_c1"), [r#"__name__="a:b_c1""#]);
        assert_eq!(ok("{}"), Vec::<String>::new());
        assert_eq!(ok(r#"{job="x"}"#), [r#"job="x""#]);
        assert_eq!(
            ok(r#"up{job=~"a.*",instance!='b', x !~ `c\d` ,}"#),
            [
                r#"__name__="up""#,
                r#"job=~"a.*""#,
                r#"instance!="b""#,
                r#"x!~"c\\d""#
            ]
        );
        assert_eq!(ok(r#"{__name__="up"}"#), [r#"__name__="up""#]);
        assert_eq!(ok("up # comment\n"), [r#"__name__="up""#]);
    }

    #[test]
    fn escapes() {
        assert_eq!(
            ok(r#"{a="q\"\\\n\t\x41\101\u00e9\U0001F600'"}"#),
            [r#"a="q\"\\\n\tAAé😀'""#]
        );
        assert_eq!(ok(r#"{a='it\'s "x"'}"#), [r#"a="it's \"x\"""#]);
    }

    /// Messages as Prometheus 2.42 prints them for the same input.
    #[test]
    fn errors_match_prometheus() {
        let cases = [
            ("", "1:1: parse error: unexpected end of input"),
            (
                "up{",
                "1:4: parse error: unexpected end of input inside braces",
            ),
            (
                "up{job=a}",
                r#"1:8: parse error: unexpected identifier "a" in label matching, expected string"#,
            ),
            (
                r#"{job="a",,}"#,
                r#"1:10: parse error: unexpected "," in label matching, expected identifier or "}""#,
            ),
            (
                r#"{,job="a"}"#,
                r#"1:2: parse error: unexpected "," in label matching, expected identifier or "}""#,
            ),
            (
                "{job}",
                r#"1:5: parse error: unexpected "}" in label matching, expected label matching operator"#,
            ),
            (
                "{job=}",
                r#"1:6: parse error: unexpected "}" in label matching, expected string"#,
            ),
            (
                r#"up{job="a"}x"#,
                r#"1:12: parse error: unexpected identifier "x""#,
            ),
            (
                r#"up{job="a"}{x="b"}"#,
                r#"1:12: parse error: unexpected "{""#,
            ),
            ("up[5m]", r#"1:3: parse error: unexpected "[""#),
            (r#"{job="a"#, "1:6: parse error: unterminated quoted string"),
            (
                r#"{job="a\q"}"#,
                "1:6: parse error: unknown escape sequence U+0071 'q'",
            ),
            (
                r#"{"up"}"#,
                r#"1:2: parse error: unexpected string "\"up\"" in label matching, expected identifier or "}""#,
            ),
            (
                r#"{job="a" or x="b"}"#,
                r#"1:10: parse error: unexpected identifier "or" in label matching, expected "," or "}""#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(err(input), want, "{input}");
        }
    }

    #[test]
    fn other_errors() {
        assert_eq!(
            err(r#"up{__name__="x"}"#),
            r#"1:4: parse error: metric name must not be set twice: "up" or "x""#
        );
        assert_eq!(
            err(r#"up{job=~"("}"#),
            "1:4: parse error: error parsing regexp: unclosed group: `(`"
        );
        assert_eq!(err("up or x"), "1:4: parse error: unexpected <op:or>");
        assert_eq!(err("up offset 5m"), "1:4: parse error: unexpected <offset>");
        assert_eq!(err("on"), "1:1: parse error: unexpected <on>");
        assert_eq!(ok(r#"{on="x"}"#), [r#"on="x""#]);
        assert_eq!(
            err("{a!}"),
            r#"1:3: parse error: unexpected character inside braces: '!'"#
        );
        assert_eq!(err("$"), "1:1: parse error: unexpected character: '$'");
        assert_eq!(
            err("up\n{"),
            "2:2: parse error: unexpected end of input inside braces"
        );
        assert_eq!(err("{a=`x"), "1:4: parse error: unterminated raw string");
    }
}
