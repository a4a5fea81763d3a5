//! Faults the storage must survive without a restart: a refused write, a
//! panic in the maintenance thread. (A full disk, on a real file system, is
//! `tests/disk_full.rs`.)

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pharos_model::{Labels, Matcher, Sample};

use super::Db;
use crate::{Appendable, DbOptions, Error, Queryable, SeriesAppend};

fn opts() -> DbOptions {
    DbOptions {
        wal_segment_size: 4096,
        chunk_samples: 4,
        flush_interval: Duration::from_millis(50),
        retention: None,
        ..DbOptions::default()
    }
}

fn series(name: &str, i: usize, samples: &[(i64, f64)]) -> SeriesAppend {
    SeriesAppend {
        labels: Labels::from_pairs([("__name__", name.to_string()), ("i", format!("{i:04}"))]),
        samples: samples.iter().map(|&(t, v)| Sample::new(t, v)).collect(),
    }
}

fn dump(db: &Db) -> Vec<(String, Vec<(i64, f64)>)> {
    let all = [Matcher::new(pharos_model::MatchOp::Regex, "__name__", ".+").unwrap()];
    db.select(&all, i64::MIN, i64::MAX)
        .unwrap()
        .into_iter()
        .map(|s| {
            let samples = s.samples().iter().map(|x| (x.t, x.v)).collect();
            (s.labels.to_string(), samples)
        })
        .collect()
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn reopen(dir: &Path) -> Db {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Db::open_without_worker(dir, opts()) {
            Ok(db) => return db,
            Err(e) if e.to_string().contains("could not acquire lock") => {
                assert!(Instant::now() < deadline, "{e}");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("reopening: {e}"),
        }
    }
}

#[test]
fn a_refused_batch_uses_up_its_series_ids_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = Db::open_without_worker(dir, opts()).unwrap();
    db.append(&[series("a", 0, &[(1, 1.0)])]).unwrap();
    let next = db.inner.next_id.load(Ordering::SeqCst);
    // Larger than a segment: its series record goes into the current
    // segment, its samples after a rotation, which fails (the next
    // segment's name is taken).
    let seg = db.inner.wal.lock().current_segment();
    let stray = dir.join("wal").join(format!("{:08}", seg + 1));
    std::fs::write(&stray, b"stray").unwrap();
    let big: Vec<SeriesAppend> = (0..150).map(|i| series("b", i, &[(2, 2.0)])).collect();
    let err = db.append(&big).unwrap_err();
    assert!(matches!(err, Error::WriteFailed(_)), "{err}");
    assert_eq!(db.problems().len(), 1, "{:?}", db.problems());
    assert_eq!(db.metrics().wal_write_errors, 1);
    // Never given to another series, whatever of the batch reached a disk.
    assert_eq!(db.inner.next_id.load(Ordering::SeqCst), next + 150);
    // Reads go on.
    assert_eq!(dump(&db), [("a{i=\"0000\"}".into(), vec![(1, 1.0)])]);

    std::fs::remove_file(&stray).unwrap();
    db.append(&[series("c", 0, &[(3, 3.0)])]).unwrap();
    assert!(db.problems().is_empty(), "{:?}", db.problems());
    let want = vec![
        ("a{i=\"0000\"}".to_string(), vec![(1, 1.0)]),
        ("c{i=\"0000\"}".to_string(), vec![(3, 3.0)]),
    ];
    assert_eq!(dump(&db), want);
    // After a crash (no close), the WAL gives back exactly the same.
    drop(db);
    let db = reopen(dir);
    assert_eq!(dump(&db), want);
    assert!(db.inner.next_id.load(Ordering::SeqCst) > next);
}

#[test]
fn a_maintenance_panic_is_counted_reported_and_survived() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::open(tmp.path(), opts()).unwrap();
    db.inner.panic_next_tick.store(true, Ordering::SeqCst);
    wait_for("the panic", || db.metrics().maintenance_panics == 1);
    // Reported until a round completes (the next one, a tick later).
    let problems = db.problems();
    assert!(
        problems.is_empty() || problems[0].contains("injected maintenance panic"),
        "{problems:?}"
    );
    // The work goes on: full chunks reach sled.
    let batch: Vec<SeriesAppend> = (0..3)
        .map(|i| series("x", i, &[(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0), (5, 5.0)]))
        .collect();
    db.append(&batch).unwrap();
    wait_for("a flush after the panic", || {
        db.metrics().chunks_persisted >= 3
    });
    wait_for("healthy again", || db.problems().is_empty());
    assert_eq!(db.metrics().maintenance_panics, 1);
    db.close().unwrap();
}
