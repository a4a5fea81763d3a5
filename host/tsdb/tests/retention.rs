//! Retention by time and by size deletes whole chunks, and series whose data
//! is all gone disappear from the index.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use pharos_model::{Labels, MatchOp, Matcher, Sample};
use pharos_tsdb::{Appendable, Db, DbOptions, Queryable, SeriesAppend, SeriesRef};

fn options() -> DbOptions {
    DbOptions {
        chunk_samples: 10,
        max_chunk_span: 1_000_000,
        flush_interval: Duration::from_secs(3600),
        checkpoint_interval: Duration::from_secs(3600),
        retention: None,
        ..DbOptions::default()
    }
}

fn series(name: &str, from: i64, to: i64) -> SeriesAppend {
    SeriesAppend {
        labels: Labels::from_pairs([("__name__", name)]),
        samples: (from..to)
            .map(|i| Sample::new(i * 1000, i as f64))
            .collect(),
    }
}

fn all() -> Vec<Matcher> {
    vec![Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()]
}

#[test]
fn time_retention_drops_old_chunks_and_dead_series() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_without_worker(
        dir.path(),
        DbOptions {
            retention: Some(50_000),
            ..options()
        },
    )
    .unwrap();
    // "old" stops at t=29s; "live" goes on to t=99s (100 samples, 10 chunks).
    db.append(&[series("old", 0, 30), series("live", 0, 100)])
        .unwrap();
    db.checkpoint().unwrap(); // cuts idle chunks and persists full ones
    db.apply_retention().unwrap();

    let got = db.select(&all(), i64::MIN, i64::MAX).unwrap();
    let names: Vec<_> = got
        .iter()
        .map(|s| s.labels.metric_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["live"]);
    let samples = got[0].samples();
    // Whole chunks go: the oldest kept chunk may start before the cutoff
    // (49s), but no chunk that ended before it survives.
    let first = samples.first().unwrap().t;
    assert!(
        first > 39_000 && first <= 49_000,
        "first kept sample at {first}"
    );
    assert_eq!(samples.last().unwrap().t, 99_000);
    assert_eq!(
        db.label_values("__name__", &[], i64::MIN, i64::MAX)
            .unwrap(),
        ["live"]
    );
    let m = db.metrics();
    // live: 0-9s … 30-39s; old: its two persisted chunks (its open chunk
    // went with the series).
    assert_eq!(m.retention_chunks_deleted, 6, "{m:?}");
    assert_eq!(m.retention_series_deleted, 1);

    // The deletion is durable.
    db.close().unwrap();
    drop(db);
    let db = Db::open_without_worker(dir.path(), options()).unwrap();
    let got = db.select(&all(), i64::MIN, i64::MAX).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].samples().first().unwrap().t, first);
}

#[test]
fn size_retention_deletes_oldest_chunks_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_without_worker(dir.path(), options()).unwrap();
    for i in 0..50 {
        db.append(&[series(&format!("m{i}"), 0, 200)]).unwrap();
    }
    db.checkpoint().unwrap();
    db.close().unwrap();
    drop(db);
    // Reopen with a size limit far below what is stored.
    let db = Db::open_without_worker(
        dir.path(),
        DbOptions {
            retention_size: Some(1),
            ..options()
        },
    )
    .unwrap();
    let before: usize = db
        .select(&all(), i64::MIN, i64::MAX)
        .unwrap()
        .iter()
        .map(|s| s.samples().len())
        .sum();
    db.apply_retention().unwrap();
    let after = db.select(&all(), i64::MIN, i64::MAX).unwrap();
    let kept: usize = after.iter().map(|s| s.samples().len()).sum();
    assert!(kept < before, "nothing was deleted ({kept} of {before})");
    // What is left is the newest data: every kept series ends at 199s.
    for s in &after {
        assert_eq!(s.samples().last().unwrap().t, 199_000);
    }
    assert!(db.metrics().retention_chunks_deleted > 0);
}

#[test]
fn a_reference_to_a_deleted_series_falls_back_to_its_labels() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_without_worker(
        dir.path(),
        DbOptions {
            retention: Some(50_000),
            ..options()
        },
    )
    .unwrap();
    let mut refs = [SeriesRef::NONE; 2];
    db.append_with_refs(&[series("old", 0, 30), series("live", 0, 100)], &mut refs)
        .unwrap();
    let old_ref = refs[0];
    // With a live reference the labels may be left out.
    let mut by_ref = [refs[1]];
    let unlabelled = SeriesAppend {
        labels: Labels::empty(),
        ..series("live", 100, 101)
    };
    db.append_with_refs(std::slice::from_ref(&unlabelled), &mut by_ref)
        .unwrap();
    assert_eq!(
        db.labels_of(refs[1]),
        Some(Labels::from_pairs([("__name__", "live")]))
    );
    db.checkpoint().unwrap();
    db.apply_retention().unwrap();
    assert_eq!(db.labels_of(old_ref), None);
    assert_eq!(db.labels_of(SeriesRef::NONE), None);
    // A stale reference without labels is refused at its position,
    // changing nothing.
    let mut stale = [refs[1], old_ref];
    let err = db
        .append_with_refs(
            &[
                series("live", 150, 151),
                SeriesAppend {
                    labels: Labels::empty(),
                    ..series("old", 200, 201)
                },
            ],
            &mut stale,
        )
        .unwrap_err();
    assert!(err.to_string().contains("stale series reference"), "{err}");
    let pharos_tsdb::Error::Append(refused) = &err else {
        panic!("{err}")
    };
    assert_eq!(refused.index(), 1);
    assert_eq!(stale, [refs[1], old_ref]);
    // "old" is gone; its reference is stale and the labels win.
    db.append_with_refs(
        &[series("old", 200, 201), series("live", 100, 101)],
        &mut refs,
    )
    .unwrap();
    assert_ne!(
        refs[0], old_ref,
        "a deleted series' reference is never reused"
    );
    let got = db
        .select(&[Matcher::equal("__name__", "old")], i64::MIN, i64::MAX)
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].samples(), [Sample::new(200_000, 200.0)]);
}
