#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use pharos_model::{Labels, Sample};

use super::{Part, check};
use crate::store::{CHUNK, open_sled};
use crate::{Appendable, Db, DbOptions, Error, SeriesAppend};

fn opts() -> DbOptions {
    DbOptions {
        wal_segment_size: 4096,
        chunk_samples: 5,
        flush_interval: Duration::from_secs(3600),
        retention: None,
        ..DbOptions::default()
    }
}

fn append(db: &Db, from: i64, to: i64) {
    for t in from..to {
        let batch: Vec<SeriesAppend> = (0..5)
            .map(|i| SeriesAppend {
                labels: Labels::from_pairs([("__name__", "m".to_string()), ("i", i.to_string())]),
                samples: vec![Sample::new(t * 1000, t as f64)],
            })
            .collect();
        db.append(&batch).unwrap();
    }
}

/// A storage with chunks in sled, a checkpoint and segments after it.
fn storage(dir: &Path) {
    let db = Db::open_without_worker(dir, opts()).unwrap();
    append(&db, 0, 40);
    db.checkpoint().unwrap();
    append(&db, 40, 80);
    db.flush().unwrap();
    drop(db);
    // sled's thread lets go of its lock a moment after the drop.
    wait_unlocked(dir);
}

fn wait_unlocked(dir: &Path) {
    for _ in 0..500 {
        match open_sled(&dir.join("sled"), 1 << 20) {
            Ok(_) => return,
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn wal_file(dir: &Path, prefix: &str) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(prefix) && p.metadata().unwrap().len() > 100
        })
        .collect();
    files.sort();
    files.pop().unwrap()
}

fn flip(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= 0x40;
    std::fs::write(path, b).unwrap();
}

fn open_error(dir: &Path) -> String {
    match Db::open_without_worker(dir, opts()) {
        Ok(_) => panic!("opened a damaged storage"),
        Err(e @ Error::Damaged { .. }) => e.to_string(),
        Err(e) => panic!("not reported as damage: {e}"),
    }
}

#[test]
fn a_clean_storage_checks_clean() {
    let tmp = tempfile::tempdir().unwrap();
    storage(tmp.path());
    let r = check(tmp.path()).unwrap();
    assert!(r.is_clean(), "{:?}", r.damage);
    assert_eq!(r.checked.len(), 2, "{:?}", r.checked);
    assert!(
        r.checked[0].starts_with("wal: checkpoint checkpoint."),
        "{:?}",
        r.checked
    );
    assert!(
        r.checked[1].starts_with("sled: 5 series, "),
        "{:?}",
        r.checked
    );
    assert!(check(&tmp.path().join("nothing")).is_err());
}

#[test]
fn a_damaged_segment_is_reported_with_what_start_drops() {
    let tmp = tempfile::tempdir().unwrap();
    storage(tmp.path());
    let seg = wal_file(tmp.path(), "0");
    flip(&seg, 50);
    let r = check(tmp.path()).unwrap();
    assert_eq!(r.damage.len(), 1, "{:?}", r.damage);
    let d = &r.damage[0];
    assert_eq!(d.part, Part::WalSegment);
    assert!(d.place.contains(&seg.display().to_string()), "{d}");
    assert!(d.what.contains("checksum mismatch"), "{d}");
    assert!(d.what.contains("start keeps the records before it"), "{d}");
}

#[test]
fn a_damaged_checkpoint_is_reported_and_refused_at_start_with_advice() {
    let tmp = tempfile::tempdir().unwrap();
    storage(tmp.path());
    let cp = wal_file(tmp.path(), "checkpoint.");
    flip(&cp, 30);
    let r = check(tmp.path()).unwrap();
    assert!(
        r.damage.iter().any(|d| d.part == Part::Checkpoint),
        "{:?}",
        r.damage
    );
    let e = open_error(tmp.path());
    assert!(
        e.contains(&format!("the WAL checkpoint {} is damaged", cp.display())),
        "{e}"
    );
    assert!(e.contains("pharos storage check"), "{e}");
    assert!(e.contains(&format!("move {}", cp.display())), "{e}");
}

#[test]
fn damaged_sled_values_are_reported_and_refused_at_start_with_advice() {
    let tmp = tempfile::tempdir().unwrap();
    storage(tmp.path());
    {
        let db = open_sled(&tmp.path().join("sled"), 1 << 20).unwrap();
        let series = db.open_tree("series").unwrap();
        series.insert(0u64.to_be_bytes(), &[0xff; 7][..]).unwrap();
        let chunks = db.open_tree("chunks").unwrap();
        let key = chunks.scan_prefix([CHUNK]).next().unwrap().unwrap().0;
        chunks.insert(key, &[0u8; 12][..]).unwrap();
        db.flush().unwrap();
    }
    wait_unlocked(tmp.path());
    let r = check(tmp.path()).unwrap();
    let sled: Vec<String> = r
        .damage
        .iter()
        .filter(|d| d.part == Part::Sled)
        .map(ToString::to_string)
        .collect();
    assert!(
        sled.iter()
            .any(|d| d.contains("series block 0: does not decode")),
        "{sled:?}"
    );
    assert!(
        sled.iter()
            .any(|d| d.contains("chunk of series") && d.contains("does not decode")),
        "{sled:?}"
    );
    let e = open_error(tmp.path());
    assert!(e.contains("sled in "), "{e}");
    assert!(e.contains("pharos storage check"), "{e}");
    assert!(e.contains("move it aside"), "{e}");
}

#[test]
fn a_damaged_sled_file_is_reported_and_refused_at_start_with_advice() {
    let tmp = tempfile::tempdir().unwrap();
    storage(tmp.path());
    let db = tmp.path().join("sled").join("db");
    for at in 100..164 {
        flip(&db, at);
    }
    let r = check(tmp.path()).unwrap();
    assert_eq!(r.damage.len(), 1, "{:?}", r.damage);
    assert_eq!(r.damage[0].part, Part::Sled);
    assert!(
        r.damage[0]
            .what
            .starts_with("cannot be opened: Read corrupted data"),
        "{}",
        r.damage[0]
    );
    let e = open_error(tmp.path());
    assert!(e.contains("sled in "), "{e}");
    assert!(e.contains("move it aside"), "{e}");
}
