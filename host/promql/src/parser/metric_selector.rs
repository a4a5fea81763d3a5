//! Series selectors on their own, as the HTTP API's `match[]` takes them:
//! `up`, `{job="x"}`, `up{job=~"a.*",instance!='b'}`.
//!
//! Ports Prometheus' `ParseMetricSelector` (`promql/parser/parse.go`),
//! which starts its grammar at a lone vector selector: no offset, no `@`,
//! nothing after it. Here the selector is found with the [`Lexer`] and handed
//! to [`parse`], so the lexing, the matchers and their errors are the ones
//! of whole queries; what follows the selector is refused as Prometheus
//! refuses it (`1:4: parse error: unexpected <offset>`).

use pharos_model::Matcher;

use super::ast::{Expr, Span};
use super::error::{ParseError, SyntaxError};
use super::lexer::{Lexer, Tok};
use super::{convert_error, grammar};

/// Parses one series selector into its matchers, the metric name (if any)
/// among them as `__name__="…"` (last, as [`parse`](super::parse) orders them).
///
/// As in Prometheus, the selector is not type checked: `{}` and
/// `{job!="x"}` parse, and the caller decides what to make of selectors that
/// match every series.
///
/// ```
/// use pharos_promql::parse_metric_selector;
///
/// let ms = parse_metric_selector(r#"up{job="api"}"#).unwrap();
/// let text: Vec<String> = ms.iter().map(ToString::to_string).collect();
/// assert_eq!(text, [r#"job="api""#, r#"__name__="up""#]);
///
/// let err = parse_metric_selector("up[5m]").unwrap_err();
/// assert_eq!(err.to_string(), r#"1:3: parse error: unexpected "[""#);
/// ```
pub fn parse_metric_selector(input: &str) -> Result<Vec<Matcher>, ParseError> {
    metric_selector(input).map_err(|e| ParseError::new(input, e))
}

fn metric_selector(input: &str) -> Result<Vec<Matcher>, SyntaxError> {
    let unexpected = |(l, tok, r): (usize, Tok, usize)| {
        SyntaxError::new(
            Span::new(l, r),
            format!("unexpected {}", tok.describe(&input[l..r])),
        )
    };
    let unclosed = || {
        let end = input.len();
        SyntaxError::new(Span::new(end, end), "unexpected end of input inside braces")
    };
    let mut tokens = Lexer::new(input);
    let mut next = tokens.next().transpose()?;
    // The selector is `input[..end]`.
    let mut end = None;
    // An optional metric name: any token the grammar takes as one on its
    // own, keywords such as `sum` or `offset` included.
    if let Some(first) = next.take_if(|(_, tok, _)| *tok != Tok::LBrace) {
        if selector(&input[..first.2]).is_err() {
            return Err(unexpected(first));
        }
        end = Some(first.2);
        next = tokens.next().transpose()?;
    }
    // Optional braces, through their `}`. A lexer error inside them (input
    // ending there is one) is left to the grammar, which reports an earlier
    // syntax error first, as Prometheus does.
    if next.take_if(|(_, tok, _)| *tok == Tok::LBrace).is_some() {
        loop {
            match tokens.next() {
                Some(Ok((_, Tok::RBrace, r))) => break end = Some(r),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(selector(input).err().unwrap_or(e)),
                None => return Err(selector(input).err().unwrap_or_else(unclosed)),
            }
        }
        next = tokens.next().transpose()?;
    }
    let Some(end) = end else {
        let end = input.len();
        return Err(SyntaxError::new(
            Span::new(end, end),
            "unexpected end of input",
        ));
    };
    let matchers = selector(&input[..end])?;
    match next {
        Some(after) => Err(unexpected(after)),
        None => Ok(matchers),
    }
}

/// The matchers of `text` if the grammar reads it as a lone vector
/// selector (not type checked).
fn selector(text: &str) -> Result<Vec<Matcher>, SyntaxError> {
    let expr = grammar::promql::QueryParser::new()
        .parse(text, Lexer::new(text))
        .map_err(|e| convert_error(text, e))?;
    match expr {
        Expr::VectorSelector(vs) => Ok(vs.matchers),
        e => Err(SyntaxError::new(e.span(), "not a vector selector")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Vec<String> {
        parse_metric_selector(s)
            .unwrap_or_else(|e| panic!("{s:?}: {e}"))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn err(s: &str) -> String {
        match parse_metric_selector(s) {
            Ok(m) => panic!("{s:?}: parsed as {m:?}"),
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
                r#"instance!="b""#,
                r#"job=~"a.*""#,
                r#"x!~"c\\d""#,
                r#"__name__="up""#,
            ]
        );
        assert_eq!(ok(r#"{__name__="up"}"#), [r#"__name__="up""#]);
        assert_eq!(ok("up # comment\n"), [r#"__name__="up""#]);
        // Prometheus 3's quoted metric names.
        assert_eq!(ok(r#"{"up"}"#), [r#"__name__="up""#]);
    }

    /// Keywords that Prometheus' grammar takes as metric names.
    #[test]
    fn keywords_as_names() {
        assert_eq!(ok("sum"), [r#"__name__="sum""#]);
        assert_eq!(ok("by"), [r#"__name__="by""#]);
        assert_eq!(ok(r#"offset{a="b"}"#), [r#"a="b""#, r#"__name__="offset""#]);
        assert_eq!(ok(r#"{on="x"}"#), [r#"on="x""#]);
    }

    /// Not type checked, as in Prometheus: the caller judges selectors that
    /// match everything.
    #[test]
    fn empty_matching_selectors_parse() {
        assert_eq!(ok(r#"{job!="x"}"#), [r#"job!="x""#]);
        assert_eq!(ok(r#"{__name__=~".*"}"#), [r#"__name__=~".*""#]);
    }

    #[test]
    fn escapes() {
        assert_eq!(
            ok(r#"{a="q\"\\\n\t\x41\101\u00e9\U0001F600'"}"#),
            [r#"a="q\"\\\n\tAAé😀'""#]
        );
        assert_eq!(ok(r#"{a='it\'s "x"'}"#), [r#"a="it's \"x\"""#]);
    }

    /// Messages as Prometheus 2.42 prints them for the same `match[]`.
    #[test]
    fn errors_match_prometheus() {
        let cases = [
            ("", "1:1: parse error: unexpected end of input"),
            (" ", "1:2: parse error: unexpected end of input"),
            (
                "up{",
                "1:4: parse error: unexpected end of input inside braces",
            ),
            (
                "up\n{",
                "2:2: parse error: unexpected end of input inside braces",
            ),
            (
                r#"up{a="b","#,
                "1:10: parse error: unexpected end of input inside braces",
            ),
            (
                "{job}",
                r#"1:5: parse error: unexpected "}" in label matching, expected label matching operator"#,
            ),
            (
                r#"up{job="a"}x"#,
                r#"1:12: parse error: unexpected identifier "x""#,
            ),
            (
                "foo bar",
                r#"1:5: parse error: unexpected identifier "bar""#,
            ),
            (
                r#"up{job="a"}{x="b"}"#,
                r#"1:12: parse error: unexpected "{""#,
            ),
            ("up[5m]", r#"1:3: parse error: unexpected "[""#),
            (
                r#"up{job="a"}[5m] offset 1m"#,
                r#"1:12: parse error: unexpected "[""#,
            ),
            (r#"{job="a"#, "1:6: parse error: unterminated quoted string"),
            ("{a=`x", "1:4: parse error: unterminated raw string"),
            ("up or x", "1:4: parse error: unexpected <op:or>"),
            ("up or {", "1:4: parse error: unexpected <op:or>"),
            (r#"up{job="a"} or"#, "1:13: parse error: unexpected <op:or>"),
            (r#"up{job="a"} + 1"#, "1:13: parse error: unexpected <op:+>"),
            ("up offset 5m", "1:4: parse error: unexpected <offset>"),
            (
                r#"{job="x"}offset 5m"#,
                "1:10: parse error: unexpected <offset>",
            ),
            (
                r#"ident{job="x"} bool"#,
                "1:16: parse error: unexpected <bool>",
            ),
            ("on", "1:1: parse error: unexpected <on>"),
            ("ignoring", "1:1: parse error: unexpected <ignoring>"),
            ("atan2", "1:1: parse error: unexpected <op:atan2>"),
            ("sum(up)", r#"1:4: parse error: unexpected "(""#),
            ("sum(", r#"1:4: parse error: unexpected "(""#),
            ("rate(x[5m])", r#"1:5: parse error: unexpected "(""#),
            ("(up)", r#"1:1: parse error: unexpected "(""#),
            ("-up", "1:1: parse error: unexpected <op:->"),
            ("1", r#"1:1: parse error: unexpected number "1""#),
            ("nan", r#"1:1: parse error: unexpected number "nan""#),
            (
                r#""foo""#,
                r#"1:1: parse error: unexpected string "\"foo\"""#,
            ),
            (
                "{a!}",
                "1:3: parse error: unexpected character after '!' inside braces: '}'",
            ),
            ("$", "1:1: parse error: unexpected character: '$'"),
        ];
        for (input, want) in cases {
            assert_eq!(err(input), want, "{input:?}");
        }
    }

    #[test]
    fn other_errors() {
        assert_eq!(
            err(r#"up{job=~"("}"#),
            "1:4: parse error: error parsing regexp: unclosed group: `(`"
        );
        // Prometheus adds an internal token name: `unexpected "<Item 57385>" <op:@>`.
        assert_eq!(err("up @ 100"), "1:4: parse error: unexpected <op:@>");
        assert_eq!(
            err(r#"up{a="b"} anchored"#),
            "1:11: parse error: unexpected <anchored>"
        );
    }

    /// Prometheus 2.42's messages that come from the shared lexer and
    /// grammar: the context Prometheus adds inside braces
    /// (`parser::context_of`), string errors placed at the opening quote
    /// (`lexer.rs`); and a metric name also set inside the braces, which
    /// `ParseMetricSelector` does not check (`parse` refuses it in type
    /// checking, as `checkAST` does).
    #[test]
    fn errors_prometheus_words_differently() {
        let cases = [
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
                "{job=}",
                r#"1:6: parse error: unexpected "}" in label matching, expected string"#,
            ),
            (
                r#"{job="a" or x="b"}"#,
                r#"1:10: parse error: unexpected identifier "or" in label matching, expected "," or "}""#,
            ),
            (
                r#"{job="a\q"}"#,
                "1:6: parse error: unknown escape sequence U+0071 'q'",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(err(input), want, "{input:?}");
        }
        assert_eq!(
            ok(r#"up{__name__="x"}"#),
            [r#"__name__="x""#, r#"__name__="up""#]
        );
    }
}
