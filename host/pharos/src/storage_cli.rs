//! `pharos storage check DIR`: reports what of a storage directory is
//! damaged (WAL segments, checkpoint, sled trees and values), with what a
//! start would do about it. The checking is `pharos_tsdb::check`'s; this
//! prints it.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;

/// Checks `dir`; returns the text to print and whether it is clean. An
/// error when it cannot be checked (not a storage directory, or a running
/// Pharos holds it).
pub fn check(dir: &Path) -> anyhow::Result<(String, bool)> {
    let report = pharos_tsdb::check::check(dir).with_context(|| {
        format!(
            "cannot check the storage in {} (is a Pharos running on it? stop it first)",
            dir.display()
        )
    })?;
    let mut out = String::new();
    let _ = writeln!(out, "Checking {}", dir.display());
    for line in &report.checked {
        let _ = writeln!(out, "  {line}");
    }
    if report.is_clean() {
        let _ = writeln!(out, "SUCCESS: nothing is damaged");
        return Ok((out, true));
    }
    let total = report.damage.len() as u64 + report.unlisted.iter().map(|(_, n)| n).sum::<u64>();
    let _ = writeln!(out, "FAILED: {total} damaged:");
    for d in &report.damage {
        let _ = writeln!(out, "  {d}");
    }
    for (part, n) in &report.unlisted {
        let _ = writeln!(out, "  ... and {n} more in {part}");
    }
    Ok((out, false))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use pharos_model::{Labels, Sample};
    use pharos_tsdb::{Appendable, Db, DbOptions, SeriesAppend};

    use super::check;

    #[test]
    fn reports_clean_then_damaged() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let db = Db::open_without_worker(&dir, DbOptions::default()).unwrap();
        db.append(&[SeriesAppend {
            labels: Labels::from_pairs([("__name__", "up")]),
            samples: vec![Sample::new(1000, 1.0)],
        }])
        .unwrap();
        db.close().unwrap();
        drop(db);
        let (out, clean) = loop {
            // sled lets go of its lock a moment after the close.
            match check(&dir) {
                Ok(r) => break r,
                Err(e) if format!("{e:#}").contains("lock") => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => panic!("{e:#}"),
            }
        };
        assert!(clean, "{out}");
        assert!(out.ends_with("SUCCESS: nothing is damaged\n"), "{out}");

        let wal = dir.join("wal");
        let cp = std::fs::read_dir(&wal)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains("checkpoint."))
            .unwrap();
        std::fs::write(&cp, b"not a checkpoint").unwrap();
        let (out, clean) = check(&dir).unwrap();
        assert!(!clean, "{out}");
        assert!(out.contains("FAILED: 1 damaged:\n  checkpoint "), "{out}");

        let err = check(&tmp.path().join("nowhere")).unwrap_err();
        assert!(
            format!("{err:#}").contains("not a storage directory"),
            "{err:#}"
        );
    }
}
