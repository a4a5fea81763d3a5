//! A full disk, for real: the storage on a size-limited tmpfs that the test
//! mounts (root only; otherwise the test says it is skipped, and fails when
//! `PHAROS_REQUIRE_ROOT_TESTS` is set, as in CI). The disk is filled while
//! appends run: appends are refused with a typed error, queries answer with
//! exactly what was acknowledged, sled's failure is reported, and once space
//! returns appends are taken again and sled is reopened without a restart.
//! After a crash, every acknowledged sample is back.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pharos_model::{Labels, MatchOp, Matcher, Sample};
use pharos_tsdb::{Appendable, Db, DbMetrics, DbOptions, Error, Queryable, SeriesAppend};

/// A tmpfs of `size` mounted for the test, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// `None` (with a message saying why) when not root.
    fn mount(name: &str, size: &str) -> Option<Tmpfs> {
        if !is_root() {
            let msg = format!("SKIPPED {name}: mounting a tmpfs needs root");
            assert!(
                std::env::var_os("PHAROS_REQUIRE_ROOT_TESTS").is_none(),
                "{msg}"
            );
            eprintln!("{msg}");
            return None;
        }
        let dir = PathBuf::from(format!("/tmp/storagefault-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "mount -t tmpfs on {}", dir.display());
        Some(Tmpfs { dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // sled's thread may hold files a moment after the storage is gone.
        for _ in 0..50 {
            let ok = Command::new("umount").arg(&self.dir).status();
            if ok.is_ok_and(|s| s.success()) {
                let _ = std::fs::remove_dir(&self.dir);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

/// Writes to `path` until the disk is full; returns the bytes written.
fn fill(path: &Path) -> u64 {
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0x5a; 64 << 10];
    let mut n = 0u64;
    loop {
        match f.write(&block) {
            Ok(0) => return n,
            Ok(k) => n += k as u64,
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
                return n;
            }
        }
    }
}

fn options(sled_min_free: u64) -> DbOptions {
    DbOptions {
        wal_segment_size: 256 << 10,
        chunk_samples: 30,
        flush_interval: Duration::from_millis(100),
        checkpoint_interval: Duration::from_secs(1),
        retention: None,
        cache_bytes: 1 << 20,
        sled_min_free,
        ..DbOptions::default()
    }
}

type Model = BTreeMap<String, Vec<(i64, u64)>>;

/// Round `r`: the same 20 series every round and one new series.
fn batch(r: i64) -> Vec<SeriesAppend> {
    let mut b: Vec<SeriesAppend> = (0..20)
        .map(|i| SeriesAppend {
            labels: Labels::from_pairs([("__name__", "fill".to_string()), ("i", i.to_string())]),
            samples: vec![Sample::new(r * 1000, (r * 20 + i) as f64)],
        })
        .collect();
    b.push(SeriesAppend {
        labels: Labels::from_pairs([("__name__", "new".to_string()), ("round", r.to_string())]),
        samples: vec![Sample::new(r * 1000, r as f64)],
    });
    b
}

fn acknowledge(model: &mut Model, batch: &[SeriesAppend]) {
    for s in batch {
        let e = model.entry(s.labels.to_string()).or_default();
        e.extend(s.samples.iter().map(|x| (x.t, x.v.to_bits())));
    }
}

fn dump(db: &Db) -> Model {
    let all = [Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
    db.select(&all, i64::MIN, i64::MAX)
        .unwrap()
        .into_iter()
        .map(|s| {
            let v = s.samples().iter().map(|x| (x.t, x.v.to_bits())).collect();
            (s.labels.to_string(), v)
        })
        .collect()
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn reopen(dir: &Path) -> Db {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Db::open_without_worker(dir, options(0)) {
            Ok(db) => return db,
            Err(e) if e.to_string().contains("could not acquire lock") => {
                assert!(Instant::now() < deadline, "{e}");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("reopening: {e}"),
        }
    }
}

/// With room kept for sled (the default), sled is never written on a full
/// disk: reads answer throughout and sled needs no reopen.
#[test]
fn a_full_disk_refuses_appends_and_recovers_without_a_restart() {
    let Some(fs) = Tmpfs::mount("disk-full", "32m") else {
        return;
    };
    let m = fill_and_free(&fs.dir, 8 << 20, true);
    assert_eq!(m.sled_reopens, 0, "{m:?}");
}

/// Without that reserve sled fails its writes on the full disk; it is
/// reopened once there is room again, and nothing is lost.
#[test]
fn sled_failing_on_a_full_disk_is_reopened_when_space_returns() {
    let Some(fs) = Tmpfs::mount("sled-full", "32m") else {
        return;
    };
    let m = fill_and_free(&fs.dir, 0, false);
    assert!(m.sled_reopens >= 1, "{m:?}");
}

/// Appends until the disk on `root` is full, then frees it; checks what
/// the storage says and keeps on the way. `reads_throughout`: queries must
/// answer while the disk is full (a sled that failed a write can fail reads
/// that find a node to split).
fn fill_and_free(root: &Path, sled_min_free: u64, reads_throughout: bool) -> DbMetrics {
    let data = root.join("data");
    let filler = root.join("filler");
    let db = Db::open(&data, options(sled_min_free)).unwrap();
    let mut model = Model::new();
    let mut r = 0;
    for _ in 0..50 {
        let b = batch(r);
        db.append(&b).unwrap();
        acknowledge(&mut model, &b);
        r += 1;
    }
    wait_for("chunks in sled", || db.metrics().chunks_persisted > 0);

    // The disk fills up; appends go on until the WAL needs space it cannot
    // have.
    assert!(fill(&filler) > 0);
    let refused = loop {
        let b = batch(r);
        match db.append(&b) {
            Ok(_) => acknowledge(&mut model, &b),
            Err(e) => break e,
        }
        r += 1;
        assert!(r < 200_000, "no append was refused on a full disk");
    };
    assert!(
        matches!(refused, Error::WriteFailed(_)) && refused.is_disk_full(),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("No space left on device"),
        "{refused}"
    );
    let problems = db.problems();
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("appends are refused")),
        "{problems:?}"
    );
    // Still refused, and reads answer with exactly what was acknowledged.
    for _ in 0..3 {
        assert!(matches!(db.append(&batch(r)), Err(Error::WriteFailed(_))));
    }
    if reads_throughout {
        assert_eq!(dump(&db), model);
    }
    // Flushing to sled fails too, and the storage says so.
    wait_for("a failed flush", || db.metrics().flush_errors > 0);
    let problems = db.problems();
    assert!(problems.iter().any(|p| p.contains("sled")), "{problems:?}");
    if reads_throughout {
        assert_eq!(dump(&db), model);
    }
    let full = db.metrics();

    // Space returns: the refused batch goes in when sent again, and the
    // maintenance thread catches up.
    std::fs::remove_file(&filler).unwrap();
    let b = batch(r);
    db.append(&b).unwrap();
    acknowledge(&mut model, &b);
    r += 1;
    wait_for("the storage healthy again", || db.problems().is_empty());
    let m = db.metrics();
    assert!(m.wal_write_errors >= 4, "{m:?}");
    assert!(m.chunks_persisted > full.chunks_persisted, "{m:?}");
    assert_eq!(dump(&db), model);
    for _ in 0..100 {
        let b = batch(r);
        db.append(&b).unwrap();
        acknowledge(&mut model, &b);
        r += 1;
    }
    db.checkpoint().unwrap();
    assert_eq!(dump(&db), model);

    // A crash (no close): everything acknowledged is back.
    drop(db);
    let db = reopen(&data);
    assert_eq!(dump(&db), model);
    db.close().unwrap();
    m
}
