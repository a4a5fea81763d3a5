//! The storage against a simple in-memory model: random appends (in order,
//! out of order, duplicates), queries, flushes, checkpoints, clean restarts
//! and crashes (dropping the storage without closing it). After every step
//! both must agree. Even-numbered series are appended through the series
//! references earlier appends returned (kept across restarts, as ids are
//! stable), odd ones by labels.

#![allow(clippy::unwrap_used)]

use pharos_model::{Labels, MatchOp, Matcher, Sample, stale_nan};
use pharos_tsdb::{
    Appendable, Db, DbOptions, Error, MemStorage, Queryable, SeriesAppend, SeriesRef,
};
use proptest::prelude::*;
use std::time::Duration;

const SERIES: usize = 6;

fn labels(i: usize) -> Labels {
    Labels::from_pairs([
        (
            "__name__",
            if i.is_multiple_of(2) { "even" } else { "odd" }.to_string(),
        ),
        ("i", i.to_string()),
        ("group", (i % 3).to_string()),
    ])
}

#[derive(Debug, Clone)]
enum Op {
    /// (series, time step, value kind) per sample.
    Append(Vec<(usize, i64, u8)>),
    Query(usize, i64, i64),
    LabelValues(usize),
    Flush,
    Checkpoint,
    Restart,
    Crash,
}

fn value(kind: u8, t: i64) -> f64 {
    match kind {
        0 => t as f64,
        1 => f64::NAN,
        2 => stale_nan(),
        3 => f64::INFINITY,
        _ => (t as f64) * 0.25 + f64::from(kind),
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => prop::collection::vec((0..SERIES, -3i64..40, 0u8..6), 1..12).prop_map(Op::Append),
        2 => (0..4usize, -10i64..200, 0i64..400).prop_map(|(m, a, b)| Op::Query(m, a, a + b)),
        1 => (0..3usize).prop_map(Op::LabelValues),
        1 => Just(Op::Flush),
        1 => Just(Op::Checkpoint),
        1 => Just(Op::Restart),
        1 => Just(Op::Crash),
    ]
}

fn matchers(which: usize) -> Vec<Matcher> {
    match which {
        0 => vec![Matcher::equal("__name__", "even")],
        1 => vec![Matcher::new(MatchOp::Regex, "group", "0|2").unwrap()],
        2 => vec![Matcher::new(MatchOp::NotEqual, "i", "3").unwrap()],
        _ => vec![Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()],
    }
}

fn options() -> DbOptions {
    DbOptions {
        chunk_samples: 4,
        max_chunk_span: 50,
        wal_segment_size: 4096,
        flush_interval: Duration::from_secs(3600),
        checkpoint_interval: Duration::from_secs(3600),
        retention: None,
        ..DbOptions::default()
    }
}

fn kind(r: &Result<pharos_tsdb::AppendStats, Error>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(Error::Append(e)) => format!("{e}"),
        Err(e) => format!("other: {e}"),
    }
}

fn dump(q: &dyn Queryable, m: &[Matcher], mint: i64, maxt: i64) -> Vec<(Labels, Vec<Sample>)> {
    q.select(m, mint, maxt)
        .unwrap()
        .into_iter()
        .map(|s| {
            let samples = s.samples();
            (s.labels, samples)
        })
        .filter(|(_, s)| !s.is_empty())
        .collect()
}

fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let model = MemStorage::new();
    let mut db = Some(Db::open_without_worker(dir.path(), options()).unwrap());
    // Each series advances its own clock, so most appends are in order.
    let mut clock = [0i64; SERIES];
    let mut known = [SeriesRef::NONE; SERIES];
    for op in ops {
        let store = db.as_ref().unwrap();
        match op {
            Op::Append(samples) => {
                let mut batch: Vec<SeriesAppend> = Vec::new();
                for (series, step, kind) in samples {
                    let t = clock[series] + step;
                    clock[series] = clock[series].max(t);
                    let s = Sample::new(t, value(kind, t));
                    match batch.iter_mut().find(|b| b.labels == labels(series)) {
                        Some(b) => b.samples.push(s),
                        None => batch.push(SeriesAppend {
                            labels: labels(series),
                            samples: vec![s],
                        }),
                    }
                }
                let index = |b: &SeriesAppend| (0..SERIES).find(|i| labels(*i) == b.labels);
                let mut refs: Vec<SeriesRef> = batch
                    .iter()
                    .map(|b| match index(b) {
                        Some(i) if i % 2 == 0 => known[i],
                        _ => SeriesRef::NONE,
                    })
                    .collect();
                let before = refs.clone();
                let want = model.append(&batch);
                let got = store.append_with_refs(&batch, &mut refs);
                assert_eq!(kind(&got), kind(&want), "batch {batch:?}");
                if got.is_ok() {
                    for (b, r) in batch.iter().zip(&refs) {
                        assert!(!r.is_none(), "no reference returned");
                        if let Some(i) = index(b) {
                            assert!(known[i].is_none() || known[i] == *r, "reference changed");
                            known[i] = *r;
                        }
                    }
                } else {
                    assert_eq!(refs, before, "a refused batch changed references");
                }
            }
            Op::Query(m, mint, maxt) => {
                let m = matchers(m);
                assert_eq!(dump(store, &m, mint, maxt), dump(&model, &m, mint, maxt));
            }
            Op::LabelValues(n) => {
                let name = ["__name__", "i", "group"][n];
                assert_eq!(
                    store.label_values(name, &[], i64::MIN, i64::MAX).unwrap(),
                    model.label_values(name, &[], i64::MIN, i64::MAX).unwrap()
                );
            }
            Op::Flush => store.flush().unwrap(),
            Op::Checkpoint => store.checkpoint().unwrap(),
            Op::Restart => {
                db.take().unwrap().close().unwrap();
                db = Some(reopen(dir.path()));
            }
            Op::Crash => {
                drop(db.take());
                db = Some(reopen(dir.path()));
            }
        }
    }
    let store = db.as_ref().unwrap();
    let all = matchers(3);
    assert_eq!(
        dump(store, &all, i64::MIN, i64::MAX),
        dump(&model, &all, i64::MIN, i64::MAX)
    );
}

/// Opens the storage again. After a drop in the same process (the
/// "crash"), sled's background thread can hold its file lock for a moment
/// longer, which a real crash (the process gone) never does: retry that.
fn reopen(path: &std::path::Path) -> Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Db::open_without_worker(path, options()) {
            Ok(db) => return db,
            Err(e)
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("reopening the storage: {e}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn storage_matches_model(ops in prop::collection::vec(op(), 1..60)) {
        run(ops);
    }
}
