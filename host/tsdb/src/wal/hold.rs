//! Holds: readers outside the head (remote-write queues) that still need
//! WAL segments a checkpoint would delete.
//!
//! A checkpoint makes the segments before it redundant for the head, and
//! Prometheus deletes them whether its remote-write queues have read them or
//! not: an endpoint that is down for longer than that loses the data. Pharos
//! keeps such segments for a reader that holds them, up to a size limit
//! ([`super::WalOptions::hold_max_bytes`]); past it the oldest go, with a
//! warning, and the reader skips them as before.
//!
//! A hold is a small file in `<wal>/holds/` naming the oldest segment its
//! reader still needs, so it survives restarts without any registration:
//!
//! ```text
//! segment 12
//! ```
//!
//! The WAL reads the holds at open and at every checkpoint. Segments kept
//! for holds are not replayed (the checkpoint covers them); they are plain
//! segment files to a [`super::watch::WalTail`].

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::WalError;
use super::segment::io_err;

/// The directory of hold files inside a WAL directory.
pub const HOLDS_DIR: &str = "holds";

/// One reader's hold on the WAL.
#[derive(Debug)]
pub struct WalHold {
    path: PathBuf,
    segment: Option<u64>,
}

impl WalHold {
    /// The hold named `name` in `wal_dir`, created if new (holding nothing
    /// until [`WalHold::advance`]). Names are the reader's choice; anything
    /// but ASCII letters, digits, `-` and `_` becomes `_`.
    pub fn acquire(wal_dir: &Path, name: &str) -> Result<WalHold, WalError> {
        let dir = wal_dir.join(HOLDS_DIR);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let file: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(file);
        let segment = match fs::read_to_string(&path) {
            Ok(text) => parse(&text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&path)(e)),
        };
        Ok(WalHold { path, segment })
    }

    /// The segment held, if any.
    pub fn segment(&self) -> Option<u64> {
        self.segment
    }

    /// Holds segments from `segment` on (the reader is done with the ones
    /// before). Writes the file only when the segment changes, atomically.
    pub fn advance(&mut self, segment: u64) -> Result<(), WalError> {
        if self.segment == Some(segment) {
            return Ok(());
        }
        let tmp = self.path.with_extension("tmp");
        let write = || -> io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            writeln!(f, "segment {segment}")?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)
        };
        write().map_err(io_err(&self.path))?;
        self.segment = Some(segment);
        Ok(())
    }

    /// Gives the hold up: its segments may go at the next checkpoint.
    pub fn release(self) -> Result<(), WalError> {
        release_file(&self.path)
    }
}

/// Removes the hold named by its file `name` in `wal_dir` (for a reader that
/// no longer exists). Missing holds are not an error.
pub fn release(wal_dir: &Path, name: &str) -> Result<(), WalError> {
    release_file(&wal_dir.join(HOLDS_DIR).join(name))
}

fn release_file(path: &Path) -> Result<(), WalError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Every hold in `wal_dir`: (file name, segment held). Unreadable or
/// malformed files are skipped with a warning.
pub fn list(wal_dir: &Path) -> Vec<(String, u64)> {
    let dir = wal_dir.join(HOLDS_DIR);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "tmp") {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        match fs::read_to_string(&path).ok().as_deref().and_then(parse) {
            Some(seg) => out.push((name, seg)),
            None => {
                tracing::warn!(path = %path.display(), "wal: ignoring a malformed hold file");
            }
        }
    }
    out.sort();
    out
}

/// The oldest segment any hold needs.
pub(crate) fn floor(wal_dir: &Path) -> Option<u64> {
    list(wal_dir).into_iter().map(|(_, s)| s).min()
}

fn parse(text: &str) -> Option<u64> {
    text.trim().strip_prefix("segment ")?.trim().parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn holds_persist_and_the_floor_is_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(floor(dir.path()), None);
        let mut a = WalHold::acquire(dir.path(), "queue a/1").unwrap();
        assert_eq!(a.segment(), None);
        a.advance(7).unwrap();
        let mut b = WalHold::acquire(dir.path(), "b").unwrap();
        b.advance(3).unwrap();
        assert_eq!(
            list(dir.path()),
            [("b".to_string(), 3), ("queue_a_1".to_string(), 7)]
        );
        assert_eq!(floor(dir.path()), Some(3));
        b.advance(9).unwrap();
        assert_eq!(floor(dir.path()), Some(7));
        // Reopened, a hold knows its segment.
        assert_eq!(
            WalHold::acquire(dir.path(), "queue a/1").unwrap().segment(),
            Some(7)
        );
        a.release().unwrap();
        release(dir.path(), "b").unwrap();
        release(dir.path(), "b").unwrap();
        assert_eq!(floor(dir.path()), None);
    }
}
