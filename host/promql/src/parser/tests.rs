//! Parser unit tests: precedence, literals, selectors, modifiers, errors
//! with positions, type checking. Larger suites live in `tests/testdata/`.

use pharos_model::MatchOp;

use super::ast::*;
use super::parse;

/// The tree as an S-expression, to check its shape independently of the
/// printer.
fn sx(e: &Expr) -> String {
    match e {
        Expr::NumberLiteral(n) => super::format_number(n.value),
        Expr::StringLiteral(s) => format!("{:?}", s.value),
        Expr::VectorSelector(vs) => vs.name.clone().unwrap_or_else(|| "{..}".into()),
        Expr::MatrixSelector(ms) => format!(
            "{}[{:?}]",
            sx(&Expr::VectorSelector(ms.vs.clone())),
            ms.range.as_millis()
        ),
        Expr::Subquery(sq) => format!("(subquery {})", sx(&sq.expr)),
        Expr::Unary(u) => format!(
            "({} {})",
            if u.op == UnaryOp::Neg { "-" } else { "+" },
            sx(&u.expr)
        ),
        Expr::Binary(b) => format!("({} {} {})", b.op, sx(&b.lhs), sx(&b.rhs)),
        Expr::Aggregate(a) => format!("({} {})", a.op, sx(&a.expr)),
        Expr::Call(c) => {
            let args: Vec<String> = c.args.iter().map(sx).collect();
            format!("({} {})", c.func.name, args.join(" "))
        }
        Expr::Paren(p) => format!("[{}]", sx(&p.expr)),
    }
}

fn p(q: &str) -> Expr {
    parse(q).unwrap_or_else(|e| panic!("{q:?} does not parse: {e}"))
}

fn shape(q: &str) -> String {
    sx(&p(q))
}

fn err(q: &str) -> String {
    match parse(q) {
        Ok(e) => panic!("{q:?} parsed as {e}"),
        Err(e) => e.to_string(),
    }
}

fn num(q: &str) -> f64 {
    match p(q) {
        Expr::NumberLiteral(n) => n.value,
        e => panic!("{q:?} is not a number: {e:?}"),
    }
}

#[test]
fn precedence_and_associativity() {
    assert_eq!(shape("a + b * c"), "(+ a (* b c))");
    assert_eq!(shape("a * b + c"), "(+ (* a b) c)");
    assert_eq!(shape("a - b - c"), "(- (- a b) c)");
    assert_eq!(shape("a / b % c atan2 d"), "(atan2 (% (/ a b) c) d)");
    assert_eq!(shape("a ^ b ^ c"), "(^ a (^ b c))");
    assert_eq!(shape("a or b and c"), "(or a (and b c))");
    assert_eq!(shape("a and b unless c"), "(unless (and a b) c)");
    assert_eq!(
        shape("a or b unless c == d + e"),
        "(or a (unless b (== c (+ d e))))"
    );
    assert_eq!(shape("a > b + c"), "(> a (+ b c))");
    assert_eq!(shape("a </ 1 + 2"), "(</ a (+ 1 2))");
    // Unary minus binds tighter than * but looser than ^.
    assert_eq!(shape("-2 ^ 2"), "(- (^ 2 2))");
    assert_eq!(shape("-a * b"), "(* (- a) b)");
    assert_eq!(shape("2 ^ -1 * 3"), "(* (^ 2 -1) 3)");
    assert_eq!(shape("2 ^ -a ^ b"), "(^ 2 (- (^ a b)))");
    assert_eq!(shape("a - -b"), "(- a (- b))");
    assert_eq!(shape("- - 1"), "1");
    assert_eq!(shape("-(1)"), "(- [1])");
    assert_eq!(shape("(a + b) * c"), "(* [(+ a b)] c)");
    // Offsets bind to the selector, not the sum.
    assert_eq!(shape("a + b offset 5m"), "(+ a b)");
    assert_eq!(shape("-foo offset 1m"), "(- foo)");
}

#[test]
fn number_literals() {
    assert_eq!(num("42"), 42.0);
    assert_eq!(num("-1.5"), -1.5);
    assert_eq!(num("+.5"), 0.5);
    assert_eq!(num("0x1f"), 31.0);
    assert_eq!(num("1e3"), 1000.0);
    assert_eq!(num("1E-3"), 0.001);
    assert_eq!(num("Inf"), f64::INFINITY);
    assert_eq!(num("-inf"), f64::NEG_INFINITY);
    assert_eq!(num("+INF"), f64::INFINITY);
    assert!(num("NaN").is_nan());
    assert!(num("nAn").is_nan());
    // Durations as numbers of seconds.
    assert_eq!(num("1h30m"), 5400.0);
    assert_eq!(num("5m"), 300.0);
    assert_eq!(num("100ms"), 0.1);
}

#[test]
fn string_literals() {
    let s = |q: &str| match p(q) {
        Expr::StringLiteral(s) => s.value,
        e => panic!("{e:?}"),
    };
    assert_eq!(s(r#""a\tb""#), "a\tb");
    assert_eq!(s(r"'it\'s'"), "it's");
    assert_eq!(s(r"`raw\n`"), "raw\\n");
    assert_eq!(s(r#""\u263a\U0001F600\x41\101""#), "☺😀AA");
    assert_eq!(p(r#""a\"b""#).to_string(), r#""a\"b""#);
}

#[test]
fn selectors() {
    let Expr::VectorSelector(vs) = p(r#"foo{a="1", b!="2", c=~"3", d!~"4"}"#) else {
        panic!("not a selector");
    };
    assert_eq!(vs.name.as_deref(), Some("foo"));
    let ops: Vec<(&str, MatchOp)> = vs
        .matchers
        .iter()
        .map(|m| (m.name.as_str(), m.op))
        .collect();
    assert_eq!(
        ops,
        [
            ("a", MatchOp::Equal),
            ("b", MatchOp::NotEqual),
            ("c", MatchOp::Regex),
            ("d", MatchOp::NotRegex),
            ("__name__", MatchOp::Equal)
        ]
    );
    // Keywords are label and metric names where a name is expected.
    assert_eq!(
        p("sum{by=\"x\", offset=\"y\"}").to_string(),
        "sum{by=\"x\",offset=\"y\"}"
    );
    assert_eq!(p("by + on_x").to_string(), "by + on_x");
    assert_eq!(p("offset offset 5m").to_string(), "offset offset 5m");
    assert_eq!(p("foo:bar:rate5m").to_string(), "foo:bar:rate5m");
    // UTF-8 names.
    let Expr::VectorSelector(vs) = p(r#"{"foo.bar", "läbel"="x"}"#) else {
        panic!("not a selector");
    };
    assert_eq!(vs.name.as_deref(), Some("foo.bar"));
    assert_eq!(vs.matchers[0].name, "läbel");
    assert_eq!(
        p(r#"{"foo.bar", "läbel"="x"}"#).to_string(),
        r#"{"foo.bar","läbel"="x"}"#
    );
    assert_eq!(p(r#"{"foo"}"#).to_string(), "foo");
    assert_eq!(
        p(r#"sum by ("a.b", c) (x)"#).to_string(),
        r#"sum by ("a.b", c) (x)"#
    );
    assert_eq!(p(r#"{__name__="foo"}"#).to_string(), r#"{__name__="foo"}"#);
    assert_eq!(p(r#"foo{a="b",}"#).to_string(), r#"foo{a="b"}"#);
}

#[test]
fn ranges_offsets_and_at() {
    let Expr::MatrixSelector(ms) = p("foo[5m] offset -1h @ 100") else {
        panic!("not a matrix selector");
    };
    assert_eq!(ms.range, DurationExpr::Literal(300_000));
    assert_eq!(ms.vs.offset, Some(DurationExpr::Literal(-3_600_000)));
    assert_eq!(ms.vs.at, Some(AtModifier::Timestamp(100_000)));
    assert_eq!(
        p("foo @ 100 offset 5m").to_string(),
        "foo @ 100.000 offset 5m"
    );
    assert_eq!(
        p("foo offset 5m @ 100").to_string(),
        "foo @ 100.000 offset 5m"
    );
    assert_eq!(p("foo @ start()").to_string(), "foo @ start()");
    assert_eq!(p("foo @ END()").to_string(), "foo @ end()");
    assert_eq!(p("foo @ -1.5").to_string(), "foo @ -1.500");
    assert_eq!(p("foo[90]").to_string(), "foo[1m30s]");
    let Expr::Subquery(sq) = p("rate(foo[5m])[1h:] offset 10m") else {
        panic!("not a subquery");
    };
    assert_eq!(sq.step, None);
    assert_eq!(sq.range, DurationExpr::Literal(3_600_000));
    assert_eq!(sq.offset, Some(DurationExpr::Literal(600_000)));
    assert_eq!(p("foo[5m:1m]").to_string(), "foo[5m:1m]");
}

#[test]
fn duration_expressions() {
    let Expr::MatrixSelector(ms) = p("foo[5m + 1m]") else {
        panic!("not a matrix selector");
    };
    assert_eq!(ms.range.as_millis(), Some(360_000));
    let Expr::MatrixSelector(ms) = p("foo[step() * 2]") else {
        panic!("not a matrix selector");
    };
    let ctx = DurationContext {
        step_ms: 15_000,
        range_ms: 0,
    };
    assert_eq!(ms.range.as_millis(), None);
    assert_eq!(ms.range.eval(ctx), Some(30_000));
    assert_eq!(shape("foo offset 100 + 2"), "(+ foo 2)");
    assert_eq!(shape("foo offset -2 ^ 2"), "(^ foo 2)");
    assert_eq!(p("foo offset (1h * 2)").to_string(), "foo offset (1h * 2)");
    assert_eq!(
        p("foo offset -min_of(step(), 1s)").to_string(),
        "foo offset -min_of(step(), 1s)"
    );
    assert_eq!(p("foo[1h30m % 1h]").to_string(), "foo[1h30m % 1h]");
}

#[test]
fn binary_modifiers() {
    let Expr::Binary(b) = p("a * on(x, y) group_left(z) b") else {
        panic!("not binary");
    };
    let vm = b.matching.as_ref().expect("vector matching");
    assert!(vm.on);
    assert_eq!(vm.labels, ["x", "y"]);
    assert_eq!(vm.card, Cardinality::ManyToOne);
    assert_eq!(vm.include, ["z"]);
    let Expr::Binary(b) = p("a and b") else {
        panic!("not binary");
    };
    assert_eq!(
        b.matching.as_ref().map(|m| m.card),
        Some(Cardinality::ManyToMany)
    );
    let Expr::Binary(b) = p("a + 1") else {
        panic!("not binary");
    };
    assert!(b.matching.is_none());
    assert_eq!(p("a > bool 1").to_string(), "a > bool 1");
    assert_eq!(
        p("a / ignoring(x) group_right b").to_string(),
        "a / ignoring (x) group_right () b"
    );
    assert_eq!(p("a + fill(0) b").to_string(), "a + fill(0) b");
    assert_eq!(
        p("a + on(x) fill_left(1) fill_right(-Inf) b").to_string(),
        "a + on (x) fill_left(1) fill_right(-Inf) b"
    );
    assert_eq!(p("fill + fill(0) fill").to_string(), "fill + fill(0) fill");
}

#[test]
fn aggregations() {
    assert_eq!(p("sum(x) by (job)").to_string(), "sum by (job) (x)");
    assert_eq!(p("SUM BY (job) (x)").to_string(), "sum by (job) (x)");
    assert_eq!(p("topk by (a) (5, x)").to_string(), "topk by (a) (5, x)");
    assert_eq!(
        p("count_values without () (\"v\", x)").to_string(),
        "count_values without () (\"v\", x)"
    );
    assert_eq!(p("quantile(0.9, x)").to_string(), "quantile(0.9, x)");
    assert_eq!(p("limit_ratio(0.5, x)").to_string(), "limit_ratio(0.5, x)");
    let Expr::Aggregate(a) = p("sum without (a, b,) (x)") else {
        panic!("not an aggregation");
    };
    assert!(a.without);
    assert_eq!(a.grouping, ["a", "b"]);
}

#[test]
fn calls() {
    let Expr::Call(c) = p("label_join(x, \"d\", \",\", \"a\", \"b\", \"c\")") else {
        panic!("not a call");
    };
    assert_eq!(c.func.name, "label_join");
    assert_eq!(c.args.len(), 6);
    assert_eq!(p("round(x)").to_string(), "round(x)");
    assert_eq!(p("time()").value_type(), ValueType::Scalar);
    assert_eq!(
        p("info(x, {data=~\".*\"})").to_string(),
        "info(x, {data=~\".*\"})"
    );
    assert_eq!(
        p("rate(x[5m] anchored)").to_string(),
        "rate(x[5m] anchored)"
    );
}

#[test]
fn spans() {
    let e = p("foo + rate(bar[5m] offset 1m)");
    assert_eq!((e.span().start, e.span().end), (0, 29));
    let Expr::Binary(b) = e else {
        panic!("not binary")
    };
    assert_eq!((b.rhs.span().start, b.rhs.span().end), (6, 29));
    let Expr::Call(c) = &*b.rhs else {
        panic!("not a call")
    };
    assert_eq!((c.args[0].span().start, c.args[0].span().end), (11, 28));
}

#[test]
fn errors_with_positions() {
    assert_eq!(err(""), "1:1: parse error: no expression found in input");
    assert_eq!(
        err("# only a comment"),
        "1:1: parse error: no expression found in input"
    );
    assert_eq!(err("foo +"), "1:6: parse error: unexpected end of input");
    assert_eq!(err("1 + + "), "1:7: parse error: unexpected end of input");
    assert_eq!(
        err("foo bar"),
        "1:5: parse error: unexpected identifier \"bar\""
    );
    assert_eq!(err("foo * * 2"), "1:7: parse error: unexpected <op:*>");
    assert_eq!(
        err("sum(x))"),
        "1:7: parse error: unexpected right parenthesis ')'"
    );
    assert_eq!(err("(1"), "1:3: parse error: unclosed left parenthesis");
    assert_eq!(err("foo\n  + ,"), "2:5: parse error: unexpected \",\"");
    assert_eq!(
        err("nope(1)"),
        "1:1: parse error: unknown function with name \"nope\""
    );
    assert_eq!(
        err("rate(x, )"),
        "1:7: parse error: trailing commas not allowed in function call args"
    );
    assert_eq!(
        err("{}"),
        "1:1: parse error: vector selector must contain at least one non-empty matcher"
    );
    assert_eq!(
        err("{a=~\".*\"}"),
        "1:1: parse error: vector selector must contain at least one non-empty matcher"
    );
    assert_eq!(
        err("foo{__name__=\"bar\"}"),
        "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""
    );
    assert_eq!(
        err("(foo)[5m]"),
        "1:6: parse error: ranges only allowed for vector selectors"
    );
    assert_eq!(
        err("foo offset 5m[5m]"),
        "1:14: parse error: no offset modifiers allowed before range"
    );
    assert_eq!(
        err("foo offset 1m offset 2m"),
        "1:1: parse error: offset may not be set multiple times"
    );
    assert_eq!(
        err("foo @ 1 @ 2"),
        "1:1: parse error: @ <timestamp> may not be set multiple times"
    );
    assert!(
        err("1 offset 5m")
            .contains("offset modifier must be preceded by an instant vector selector")
    );
    assert!(err("foo{a=~\"(\"}").contains("error parsing regexp"));
}

#[test]
fn type_errors() {
    assert_eq!(
        err("rate(foo)"),
        "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"
    );
    assert_eq!(
        err("abs(foo[5m])"),
        "1:5: parse error: expected type instant vector in call to function \"abs\", got range vector"
    );
    assert_eq!(
        err("foo[5m] + 1"),
        "1:1: parse error: binary expression must contain only scalar and instant vector types"
    );
    assert_eq!(
        err("1 == 1"),
        "1:3: parse error: comparisons between scalars must use BOOL modifier"
    );
    assert_eq!(
        err("a + bool b"),
        "1:3: parse error: bool modifier can only be used on comparison operators"
    );
    assert_eq!(
        err("1 and foo"),
        "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"
    );
    assert_eq!(
        err("a and on(x) group_left b"),
        "1:1: parse error: no grouping allowed for \"and\" operation"
    );
    assert_eq!(
        err("1 + on(x) foo"),
        "1:1: parse error: vector matching only allowed between instant vectors"
    );
    assert_eq!(
        err("a * on(x) group_left(x) b"),
        "1:3: parse error: label \"x\" must not occur in ON and GROUP clause at once"
    );
    assert_eq!(
        err("sum(foo[5m])"),
        "1:5: parse error: expected type instant vector in aggregation expression, got range vector"
    );
    assert_eq!(
        err("topk(foo, bar)"),
        "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"
    );
    assert_eq!(
        err("count_values(1, bar)"),
        "1:14: parse error: expected type string in aggregation parameter, got scalar"
    );
    assert_eq!(
        err("topk(bar)"),
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"
    );
    assert_eq!(
        err("time(1)"),
        "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1"
    );
    assert_eq!(
        err("round()"),
        "1:1: parse error: expected at least 1 argument(s) in call to \"round\", got 0"
    );
    assert_eq!(
        err("round(a, 1, 2)"),
        "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"
    );
    assert_eq!(
        err("-\"a\""),
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\""
    );
    assert_eq!(
        err("foo[5m][5m:]"),
        "1:1: parse error: subquery is only allowed on instant vector, got range vector instead"
    );
    assert_eq!(
        err("deriv(foo[3m] smoothed)"),
        "1:7: parse error: smoothed modifier can only be used with: delta, increase, rate - not with deriv"
    );
    assert_eq!(
        err("max_over_time(foo[3m] anchored)"),
        "1:15: parse error: anchored modifier can only be used with: changes, delta, increase, rate, resets - not with max_over_time"
    );
    // Strings, scalars and range vectors are fine at the top level.
    assert_eq!(p("\"s\"").value_type(), ValueType::String);
    assert_eq!(p("foo[5m]").value_type(), ValueType::Matrix);
}

#[test]
fn deep_nesting_is_rejected_not_a_stack_overflow() {
    for n in [2_000, 100_000] {
        let sum = vec!["a"; n].join(" + ");
        assert!(err(&sum).contains("nests too deeply"));
        let parens = format!("{}a{}", "(".repeat(n), ")".repeat(n));
        assert!(err(&parens).contains("nests too deeply"));
        let unary = format!("{}a", "-".repeat(n));
        assert!(err(&unary).contains("nests too deeply"));
        let dur = format!("a[{}1m{}]", "(".repeat(n), ")".repeat(n));
        assert!(err(&dur).contains("nests too deeply"));
    }
    let ok = vec!["a"; 999].join(" + ");
    assert_eq!(p(&ok).to_string(), ok);
}
