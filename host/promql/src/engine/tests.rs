//! Engine behaviour the conformance scripts do not cover: limits, the
//! queue, result shapes.

use std::sync::Arc;
use std::time::Duration;

use pharos_model::{Labels, Sample};
use pharos_tsdb::{Appendable, MemStorage, Queryable, SeriesAppend};

use super::{Engine, EngineOptions, EvalError, QueryRequest, QueryValue, Steps};
use crate::parse;

/// `n` series `m{i="…"}` with a sample every 10 s for an hour.
fn storage(n: usize) -> MemStorage {
    let s = MemStorage::new();
    let batch: Vec<SeriesAppend> = (0..n)
        .map(|i| SeriesAppend {
            labels: Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]),
            samples: (0..360)
                .map(|k| Sample::new(k * 10_000, k as f64))
                .collect(),
        })
        .collect();
    s.append(&batch).expect("append");
    s
}

fn run(engine: &Engine, q: &dyn Queryable, text: &str, t: i64) -> Result<QueryValue, EvalError> {
    let e = parse(text).expect("parses");
    engine
        .exec(q, QueryRequest::instant(&e, text, t))
        .map(|r| r.value)
}

#[test]
fn too_many_samples_is_an_execution_error_with_prometheus_text() {
    let s = storage(10);
    let engine = Engine::new(EngineOptions {
        max_samples: 100,
        ..Default::default()
    });
    let err = run(&engine, &s, "sum(rate(m[1h]))", 3_600_000).expect_err("over the limit");
    assert_eq!(
        err.to_string(),
        "query processing would load too many samples into memory in query execution"
    );
    // Under the limit the same engine answers.
    assert!(run(&engine, &s, "m{i=\"1\"}", 3_600_000).is_ok());
}

#[test]
fn timeouts_stop_the_query() {
    let s = storage(10);
    let engine = Engine::new(EngineOptions {
        timeout: Duration::ZERO,
        ..Default::default()
    });
    let err = run(&engine, &s, "m", 1_000).expect_err("no time at all");
    assert!(matches!(err, EvalError::Timeout(_)), "{err}");
    assert_eq!(err.to_string(), "query timed out in query execution");
}

#[test]
fn results_have_prometheus_shapes() {
    let s = storage(2);
    let engine = Engine::new(EngineOptions::default());
    match run(&engine, &s, "m", 60_000).expect("ok") {
        QueryValue::Vector { t, samples } => {
            assert_eq!(t, 60_000);
            assert_eq!(samples.len(), 2);
            assert_eq!(samples[0].1, 6.0);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        run(&engine, &s, "1 + 1", 0).expect("ok"),
        QueryValue::Scalar { f, .. } if f == 2.0
    ));
    let e = parse("count(m)").expect("parses");
    let r = engine
        .exec(&s, QueryRequest::range(&e, "count(m)", 0, 60_000, 30_000))
        .expect("ok");
    match r.value {
        QueryValue::Matrix(series) => {
            assert_eq!(series.len(), 1);
            let pts: Vec<(i64, f64)> = series[0].points.iter().map(|p| (p.t, p.f)).collect();
            assert_eq!(pts, [(0, 2.0), (30_000, 2.0), (60_000, 2.0)]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_beyond_the_concurrency_limit_wait_their_turn() {
    let s: Arc<dyn Queryable> = Arc::new(storage(50));
    let engine = Engine::new(EngineOptions {
        max_concurrency: 1,
        ..Default::default()
    });
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (engine, s) = (engine.clone(), s.clone());
        handles.push(tokio::spawn(async move {
            let text = "sum(rate(m[5m]))";
            let e = Arc::new(parse(text).expect("parses"));
            engine
                .run(
                    s,
                    e,
                    Arc::from(text),
                    Steps::instant(3_000_000),
                    false,
                    None,
                )
                .await
        }));
    }
    for h in handles {
        let r = h.await.expect("joined").expect("answered, not rejected");
        assert!(matches!(r.value, QueryValue::Vector { .. }));
    }
}
