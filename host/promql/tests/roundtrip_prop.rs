//! Property tests: random well-typed PromQL expressions parse, and printing
//! round-trips (`parse(print(e)) == e`, printing idempotent); random input
//! never panics the parser.

use pharos_promql::parse;
use proptest::prelude::*;

/// One of `items`, as an owned string.
fn one_of(items: &[&'static str]) -> impl Strategy<Value = String> + use<> {
    prop::sample::select(items.to_vec()).prop_map(str::to_string)
}

/// `q` parses, and its printed form parses to the same tree and prints the
/// same again.
fn check_round_trip(q: &str) -> Result<(), TestCaseError> {
    let e = parse(q).map_err(|err| TestCaseError::fail(format!("{q}\n{err}")))?;
    let printed = e.to_string();
    let again = parse(&printed)
        .map_err(|err| TestCaseError::fail(format!("{q}\nprinted {printed}\n{err}")))?;
    prop_assert_eq!(&again, &e, "{} printed as {}", q, printed);
    prop_assert_eq!(again.to_string(), printed);
    Ok(())
}

fn metric_name() -> impl Strategy<Value = String> {
    one_of(&[
        "foo",
        "http_requests_total",
        "sum",
        "by",
        "offset",
        "and",
        "start",
        "fill",
        "smoothed",
        "job:rate:5m",
        "_x1",
    ])
}

fn label_name() -> impl Strategy<Value = String> {
    one_of(&[
        "job",
        "by",
        "on",
        "offset",
        "bool",
        "le",
        "_a",
        "\"dotted.name\"",
        "'ü'",
    ])
}

fn label_value() -> impl Strategy<Value = String> {
    one_of(&[
        r#""x""#,
        r#"'y'"#,
        r#""a\"b\\c\n""#,
        r#""\u00e9\x41\101""#,
        "`raw\\d+`",
        r#""""#,
    ])
}

fn regex_value() -> impl Strategy<Value = String> {
    one_of(&[r#"".+""#, "`a|b\\d`", r#"'x.*'"#, r#""""#])
}

fn matcher() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            label_name(),
            prop::sample::select(vec!["=", "!="]),
            label_value()
        )
            .prop_map(|(n, op, v)| format!("{n}{op}{v}")),
        (
            label_name(),
            prop::sample::select(vec!["=~", "!~"]),
            regex_value()
        )
            .prop_map(|(n, op, v)| format!("{n}{op}{v}")),
    ]
}

fn selector() -> impl Strategy<Value = String> {
    prop_oneof![
        metric_name(),
        (metric_name(), prop::collection::vec(matcher(), 0..3))
            .prop_map(|(n, ms)| format!("{n}{{{}}}", ms.join(", "))),
        (prop::collection::vec(matcher(), 0..2)).prop_map(|ms| {
            let mut all = vec![r#""quoted.metric""#.to_string()];
            all.extend(ms);
            format!("{{{}}}", all.join(","))
        }),
        matcher().prop_map(|m| format!("{{job=\"x\", {m}}}")),
    ]
}

fn duration() -> impl Strategy<Value = String> {
    one_of(&[
        "5m",
        "1h30m",
        "90",
        "10s",
        "1ms",
        "1y2w",
        "1.5",
        "5m + 1m",
        "step() * 2",
        "(1h)",
        "min_of(step(), 1m)",
        "max_of(range(), 10s) % 7",
        "-5m + 10m",
        "2 ^ 3",
    ])
}

fn offset_arg() -> impl Strategy<Value = String> {
    one_of(&[
        "5m",
        "-5m",
        "1h30m",
        "100",
        "-2",
        "(1h * 2)",
        "step()",
        "-step()",
        "+min_of(step(), 1s)",
        "(-(1m))",
    ])
}

fn modifiers() -> impl Strategy<Value = String> {
    (
        prop::option::of(offset_arg()),
        prop::option::of(prop::sample::select(vec![
            "100", "-5", "1.5", "1m40s", "start()", "end()",
        ])),
        any::<bool>(),
    )
        .prop_map(|(o, at, at_first)| {
            let o = o.map(|o| format!(" offset {o}")).unwrap_or_default();
            let at = at.map(|a| format!(" @ {a}")).unwrap_or_default();
            if at_first {
                format!("{at}{o}")
            } else {
                format!("{o}{at}")
            }
        })
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        one_of(&[
            "1", "0.5", "1e3", "1.5E-7", "0x1f", "Inf", "-Inf", "NaN", "5m", ".5", "1_000",
        ]),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        any::<i32>().prop_map(|v| v.to_string()),
    ]
}

fn range_expr(vector: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        (selector(), duration(), modifiers()).prop_map(|(s, d, m)| format!("{s}[{d}]{m}")),
        (selector(), duration(), Just(" anchored")).prop_map(|(s, d, x)| format!("{s}[{d}]{x}")),
        (
            vector,
            duration(),
            prop::option::of(duration()),
            modifiers()
        )
            .prop_map(|(v, r, s, m)| format!("({v})[{r}:{}]{m}", s.unwrap_or_default())),
    ]
}

fn bin_mods(set: bool) -> impl Strategy<Value = String> {
    (
        prop::option::of((any::<bool>(), prop::collection::vec(label_name(), 0..3))),
        prop::option::of((any::<bool>(), prop::collection::vec(label_name(), 0..2))),
        prop::option::of(prop::sample::select(vec![
            "fill(0)",
            "fill_left(1)",
            "fill_right(-Inf)",
            "fill_left(NaN) fill_right(2)",
        ])),
    )
        .prop_map(move |(on, group, fill)| {
            let mut out = String::new();
            if let Some((on, labels)) = on {
                let kw = if on { "on" } else { "ignoring" };
                out.push_str(&format!(" {kw}({})", labels.join(", ")));
                if let (false, Some((left, inc))) = (set, group) {
                    let kw = if left { "group_left" } else { "group_right" };
                    // A label may not be both in on(...) and group(...).
                    let inc: Vec<String> = inc
                        .into_iter()
                        .map(|l| match l.strip_prefix(['"', '\'']) {
                            Some(rest) => format!("{}x_{rest}", &l[..1]),
                            None => format!("x_{l}"),
                        })
                        .collect();
                    out.push_str(&format!(" {kw}({})", inc.join(",")));
                }
            }
            if let (false, Some(f)) = (set, fill) {
                out.push(' ');
                out.push_str(f);
            }
            out
        })
}

/// `a op b`, with everything parenthesized when it has matching modifiers,
/// which operators of higher precedence would otherwise apply to a scalar
/// operand.
fn binary(a: &str, op: &str, mods: &str, b: &str) -> String {
    if mods.is_empty() {
        format!("{a} {op} {b}")
    } else {
        format!("(({a}) {op}{mods} ({b}))")
    }
}

fn scalar_leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        number(),
        Just("time()".to_string()),
        Just("pi()".to_string()),
        Just("step()".to_string()),
    ]
}

fn scalar_expr() -> impl Strategy<Value = String> {
    scalar_leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|s| format!("({s})")),
            inner.clone().prop_map(|s| format!("-{s}")),
            (
                inner.clone(),
                prop::sample::select(vec![
                    "+", "-", "*", "/", "%", "^", "atan2", "== bool", "> bool", "<= bool",
                ]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("max_of({a}, {b})")),
        ]
    })
}

fn vector_expr() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        (selector(), modifiers()).prop_map(|(s, m)| format!("{s}{m}")),
        selector().prop_map(|s| format!("{s} smoothed")),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        let range = range_expr(inner.clone().boxed());
        prop_oneof![
            inner.clone().prop_map(|v| format!("({v})")),
            inner.clone().prop_map(|v| format!("-{v}")),
            (
                inner.clone(),
                prop::sample::select(vec![
                    "+", "-", "*", "/", "%", "^", "atan2", "==", "!=", ">", "<", ">=", "<=",
                    "> bool", "</", ">/",
                ]),
                bin_mods(false),
                inner.clone()
            )
                .prop_map(|(a, op, m, b)| binary(&a, op, &m, &b)),
            (
                inner.clone(),
                prop::sample::select(vec!["and", "or", "unless"]),
                bin_mods(true),
                inner.clone()
            )
                .prop_map(|(a, op, m, b)| binary(&a, op, &m, &b)),
            (inner.clone(), scalar_expr()).prop_map(|(v, s)| format!("{v} * {s}")),
            (scalar_expr(), inner.clone()).prop_map(|(s, v)| format!("{s} - {v}")),
            (
                prop::sample::select(vec!["sum", "avg", "count", "max", "group", "stddev"]),
                prop::collection::vec(label_name(), 0..3),
                any::<bool>(),
                inner.clone()
            )
                .prop_map(|(op, ls, before, v)| {
                    let g = format!("by ({})", ls.join(", "));
                    if before {
                        format!("{op} {g} ({v})")
                    } else {
                        format!("{op}({v}) {g}")
                    }
                }),
            (
                prop::sample::select(vec!["topk", "bottomk", "quantile", "limitk", "limit_ratio"]),
                scalar_expr(),
                inner.clone()
            )
                .prop_map(|(op, p, v)| format!("{op} without (a) ({p}, {v})")),
            inner
                .clone()
                .prop_map(|v| format!("count_values(\"value\", {v})")),
            (
                prop::sample::select(vec![
                    "abs",
                    "ceil",
                    "sort_desc",
                    "histogram_count",
                    "timestamp"
                ]),
                inner.clone()
            )
                .prop_map(|(f, v)| format!("{f}({v})")),
            (
                prop::sample::select(vec!["rate", "increase", "delta", "changes", "resets",]),
                range
            )
                .prop_map(|(f, r)| format!("{f}({r})")),
            (scalar_expr(), inner.clone())
                .prop_map(|(s, v)| format!("histogram_quantile({s}, {v})")),
            inner
                .clone()
                .prop_map(|v| format!("label_replace({v}, \"dst\", \"$1\", \"src\", \"(.*)\")")),
            inner.prop_map(|v| format!("info({v}, {{data=~\".*\"}})")),
            scalar_expr().prop_map(|s| format!("vector({s})")),
            (selector(), duration()).prop_map(|(s, d)| format!("rate({s}[{d}] smoothed)")),
        ]
    })
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_queries_round_trip(q in vector_expr()) {
        check_round_trip(&q)?;
    }

    #[test]
    fn scalar_queries_round_trip(q in scalar_expr()) {
        check_round_trip(&q)?;
    }

    #[test]
    fn random_input_never_panics(q in "[a-z0-9 (){}\\[\\]\"'`,:=~!<>/*+^%@.#\\\\_-]{0,40}") {
        let _ = parse(&q);
    }

    #[test]
    fn mutated_queries_never_panic(q in vector_expr(), cut in any::<prop::sample::Index>()) {
        let chars: Vec<char> = q.chars().collect();
        let i = cut.index(chars.len() + 1);
        let truncated: String = chars[..i].iter().collect();
        let _ = parse(&truncated);
    }
}
