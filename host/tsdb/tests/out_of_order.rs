//! Out-of-order samples: rejected and counted with no window; accepted within
//! the window (and queryable, also after a restart); never silently dropped.

#![allow(clippy::unwrap_used)]

use pharos_model::{Labels, Matcher, Sample};
use pharos_tsdb::{AppendError, Appendable, Db, DbOptions, Error, Queryable, SeriesAppend};

fn batch(samples: &[(i64, f64)]) -> Vec<SeriesAppend> {
    vec![SeriesAppend {
        labels: Labels::from_pairs([("__name__", "m")]),
        samples: samples.iter().map(|(t, v)| Sample::new(*t, *v)).collect(),
    }]
}

fn stored(db: &Db) -> Vec<(i64, f64)> {
    db.select(&[Matcher::equal("__name__", "m")], i64::MIN, i64::MAX)
        .unwrap()
        .iter()
        .flat_map(|s| s.samples())
        .map(|s| (s.t, s.v))
        .collect()
}

#[test]
fn rejected_and_counted_without_a_window() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_without_worker(dir.path(), DbOptions::default()).unwrap();
    db.append(&batch(&[(1000, 1.0), (2000, 2.0)])).unwrap();
    let err = db.append(&batch(&[(3000, 3.0), (1500, 1.5)])).unwrap_err();
    assert!(
        matches!(err, Error::Append(AppendError::OutOfOrder { t: 1500, .. })),
        "{err}"
    );
    // The whole batch was refused, its in-order sample too.
    assert_eq!(stored(&db), [(1000, 1.0), (2000, 2.0)]);
    let m = db.metrics();
    assert_eq!((m.out_of_order_rejected, m.batches_rejected), (1, 1));
    // Same timestamp, same value: accepted as a no-op; other value: refused.
    db.append(&batch(&[(2000, 2.0)])).unwrap();
    let err = db.append(&batch(&[(2000, 9.0)])).unwrap_err();
    assert!(
        err.to_string().contains("duplicate sample for timestamp"),
        "{err}"
    );
}

#[test]
fn accepted_within_the_window_and_kept_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        out_of_order_window: 10_000,
        ..DbOptions::default()
    };
    let db = Db::open_without_worker(dir.path(), opts.clone()).unwrap();
    db.append(&batch(&[(10_000, 1.0), (20_000, 2.0)])).unwrap();
    db.append(&batch(&[(15_000, 1.5)])).unwrap();
    // Older than the window (newest is 20s, window 10s): refused.
    assert!(db.append(&batch(&[(9_000, 0.9)])).is_err());
    // A different value for a buffered out-of-order timestamp: refused.
    assert!(db.append(&batch(&[(15_000, 7.0)])).is_err());
    let want = [(10_000, 1.0), (15_000, 1.5), (20_000, 2.0)];
    assert_eq!(stored(&db), want);
    assert_eq!(db.metrics().out_of_order_accepted, 1);

    // Crash (no close): the WAL brings it back.
    drop(db);
    let db = Db::open_without_worker(dir.path(), opts.clone()).unwrap();
    assert_eq!(stored(&db), want);
    // Checkpoint and clean restart: the checkpoint brings it back.
    db.checkpoint().unwrap();
    db.close().unwrap();
    drop(db);
    let db = Db::open_without_worker(dir.path(), opts).unwrap();
    assert_eq!(stored(&db), want);
}

#[test]
fn persisted_out_of_order_chunks_do_not_hide_the_open_chunk_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        out_of_order_window: 1_000_000,
        chunk_samples: 4,
        ..DbOptions::default()
    };
    let db = Db::open_without_worker(dir.path(), opts.clone()).unwrap();
    db.append(&batch(&[(100, 1.0), (200, 2.0), (300, 3.0)]))
        .unwrap();
    // Four out-of-order samples fill an out-of-order chunk, which is cut and
    // persisted while the in-order samples are still in the open chunk.
    db.append(&batch(&[(110, 1.1), (120, 1.2), (130, 1.3), (140, 1.4)]))
        .unwrap();
    db.flush().unwrap();
    db.close().unwrap();
    drop(db);
    let db = Db::open_without_worker(dir.path(), opts).unwrap();
    assert_eq!(
        stored(&db),
        [
            (100, 1.0),
            (110, 1.1),
            (120, 1.2),
            (130, 1.3),
            (140, 1.4),
            (200, 2.0),
            (300, 3.0)
        ]
    );
    // And appending continues after the newest in-order sample.
    assert!(db.append(&batch(&[(300, 9.0)])).is_err());
    db.append(&batch(&[(400, 4.0)])).unwrap();
}
