//! No query overflows the stack: deeply nested input is refused by the
//! parser (on success and on error paths, where a half-built deep tree is
//! dropped), and a query at the depth limit parses, prints and evaluates.
//!
//! Each case runs on a thread with a small stack, so a recursion that only
//! fits the 8 MiB main thread of a test still fails here. The tests profile
//! builds with `opt-level = 1`; release frames are smaller still.

use std::thread;

use pharos_model::{Labels, Sample};
use pharos_promql::parser::MAX_DEPTH;
use pharos_promql::{Engine, EngineOptions, QueryRequest, format_query, parse};
use pharos_tsdb::{Appendable, MemStorage, SeriesAppend};

/// The stack the parser must live with: far below the 2 MiB of a tokio or
/// blocking thread.
const SMALL_STACK: usize = 256 * 1024;
/// A tokio worker's or `spawn_blocking` thread's default stack.
const DEFAULT_STACK: usize = 2 * 1024 * 1024;

fn on_stack<T: Send + 'static>(stack: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    thread::Builder::new()
        .stack_size(stack)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow")
}

/// Queries nesting `n` levels deep, of every shape that nests.
fn deep_queries(n: usize) -> Vec<(&'static str, String)> {
    vec![
        ("sum", vec!["a"; n].join(" + ")),
        ("pow", vec!["a"; n].join(" ^ ")),
        ("or", vec!["a"; n].join(" or ")),
        ("parens", format!("{}a{}", "(".repeat(n), ")".repeat(n))),
        ("unary", format!("{}a", "-".repeat(n))),
        ("calls", format!("{}a{}", "abs(".repeat(n), ")".repeat(n))),
        (
            "aggregations",
            format!("{}a{}", "sum(".repeat(n), ")".repeat(n)),
        ),
        ("subqueries", format!("a{}", "[1m:]".repeat(n))),
        (
            "duration parens",
            format!("a[{}1m{}]", "(".repeat(n), ")".repeat(n)),
        ),
        ("duration sum", format!("a[{}]", vec!["1m"; n].join("+"))),
        (
            "duration offset",
            format!("a offset ({})", vec!["1m"; n].join("+")),
        ),
    ]
}

#[test]
fn deep_queries_are_refused_on_a_small_stack() {
    on_stack(SMALL_STACK, || {
        for (shape, q) in deep_queries(100_000) {
            let err = parse(&q).expect_err(shape);
            assert!(
                err.to_string().contains("nests too deeply"),
                "{shape}: {err}"
            );
        }
    });
}

/// Signs on a duration fold into its literal, however many there are.
#[test]
fn long_duration_sign_chains_fold_on_a_small_stack() {
    on_stack(SMALL_STACK, || {
        let q = format!("a[{}1m]", "-".repeat(100_000));
        assert_eq!(parse(&q).expect("folds").to_string(), "a[1m]");
    });
}

#[test]
fn deep_trees_dropped_on_a_syntax_error_do_not_recurse() {
    on_stack(SMALL_STACK, || {
        for (shape, q) in deep_queries(100_000) {
            // A syntax error after the deep part: the parser drops the
            // half-built tree from its stack.
            for tail in [")", " + ", " by", "]"] {
                let q = format!("{q}{tail}");
                assert!(parse(&q).is_err(), "{shape} {tail:?}");
            }
        }
    });
}

#[test]
fn format_query_refuses_deep_queries_on_a_small_stack() {
    on_stack(SMALL_STACK, || {
        let q = vec!["a"; 100_000].join(" * ");
        assert!(format_query(&q).is_err());
    });
}

/// A query exactly at the limit parses, prints, re-parses and evaluates on
/// the stack of a query thread.
#[test]
fn queries_at_the_depth_limit_evaluate_on_a_default_stack() {
    on_stack(DEFAULT_STACK, || {
        let s = MemStorage::new();
        s.append(&[SeriesAppend {
            labels: Labels::from_pairs([("__name__", "a".to_string())]),
            samples: (0..10).map(|k| Sample::new(k * 10_000, 1.0)).collect(),
        }])
        .expect("append");
        let engine = Engine::new(EngineOptions::default());
        // The deepest accepted query of each shape; shapes whose innermost
        // node is not a vector wrap `a` in something that is.
        let n = MAX_DEPTH - 1;
        let cases = [
            vec!["a"; n].join(" + "),
            vec!["a"; n].join(" ^ "),
            format!("{}a{}", "(".repeat(n - 1), ")".repeat(n - 1)),
            format!("{}a", "-".repeat(n - 1)),
            format!("{}a{}", "abs(".repeat(n - 1), ")".repeat(n - 1)),
            format!("{}a{}", "sum(".repeat(n - 1), ")".repeat(n - 1)),
            format!(
                "{}a{}",
                "max_over_time(".repeat(n / 2 - 1),
                "[1m:30s])".repeat(n / 2 - 1)
            ),
        ];
        for q in cases {
            let e = parse(&q).unwrap_or_else(|err| panic!("{}…: {err}", &q[..40]));
            let printed = e.to_string();
            assert_eq!(parse(&printed).expect("reparses"), e);
            let r = engine
                .exec(&s, QueryRequest::instant(&e, &q, 90_000))
                .unwrap_or_else(|err| panic!("{}…: {err}", &q[..40]));
            drop(r);
        }
    });
}
