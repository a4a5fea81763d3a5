//! File naming and directory bookkeeping for the WAL directory.
//!
//! A segment is named by its sequence number, zero-padded to 8 digits
//! (`00000042`); a checkpoint is `checkpoint.<8 digits>`, written first as
//! `checkpoint.<8 digits>.tmp`. Numbers past 99 999 999 simply get more
//! digits; names are parsed, not compared as strings.

use std::fs::{self, File};
use std::io::{self, IoSlice, Write};
use std::path::{Path, PathBuf};

use super::WalError;

const CHECKPOINT_PREFIX: &str = "checkpoint.";
const TMP_SUFFIX: &str = ".tmp";

/// File name of segment `n`.
pub(crate) fn segment_name(n: u64) -> String {
    format!("{n:08}")
}

/// File name of the checkpoint standing for segments below `n`.
pub(crate) fn checkpoint_name(n: u64) -> String {
    format!("{CHECKPOINT_PREFIX}{n:08}")
}

/// File name a checkpoint is written under before it is renamed.
pub(crate) fn checkpoint_tmp_name(n: u64) -> String {
    format!("{CHECKPOINT_PREFIX}{n:08}{TMP_SUFFIX}")
}

/// What a directory entry's name says it is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Segment(u64),
    Checkpoint(u64),
    CheckpointTmp,
    Other,
}

fn parse_number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub(crate) fn classify(name: &str) -> Kind {
    if let Some(n) = parse_number(name) {
        return Kind::Segment(n);
    }
    if let Some(rest) = name.strip_prefix(CHECKPOINT_PREFIX) {
        if let Some(n) = parse_number(rest) {
            return Kind::Checkpoint(n);
        }
        if rest.ends_with(TMP_SUFFIX) {
            return Kind::CheckpointTmp;
        }
    }
    Kind::Other
}

/// The WAL files found in a directory, each list sorted by number.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// `(number, size in bytes)`.
    pub segments: Vec<(u64, u64)>,
    /// `(number, size in bytes)`.
    pub checkpoints: Vec<(u64, u64)>,
    /// Leftover temporary checkpoints from an interrupted write.
    pub tmps: Vec<PathBuf>,
}

/// Lists WAL files in `dir`. Entries that are not regular files, and names
/// that are not ours, are ignored (logged at debug level).
pub(crate) fn list(dir: &Path) -> Result<Listing, WalError> {
    let mut out = Listing::default();
    let entries = fs::read_dir(dir).map_err(io_err(dir))?;
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            tracing::debug!(path = %path.display(), "wal: ignoring non-UTF-8 file name");
            continue;
        };
        let kind = classify(&name);
        if kind == Kind::Other {
            tracing::debug!(path = %path.display(), "wal: ignoring unknown file");
            continue;
        }
        let meta = entry.metadata().map_err(io_err(&path))?;
        if !meta.is_file() {
            tracing::debug!(path = %path.display(), "wal: ignoring non-file entry");
            continue;
        }
        match kind {
            Kind::Segment(n) => out.segments.push((n, meta.len())),
            Kind::Checkpoint(n) => out.checkpoints.push((n, meta.len())),
            Kind::CheckpointTmp => out.tmps.push(path),
            Kind::Other => {}
        }
    }
    out.segments.sort_unstable();
    out.checkpoints.sort_unstable();
    Ok(out)
}

/// Makes entries created, renamed or removed in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), WalError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes `path`; a file that is already gone counts as removed.
pub(crate) fn remove(path: &Path) -> Result<(), WalError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// `write_all` for a vector of slices: one `writev` unless the kernel writes
/// short.
pub(crate) fn write_all_vectored(file: &mut File, mut bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    IoSlice::advance_slices(&mut bufs, 0);
    while !bufs.is_empty() {
        match file.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Maps an I/O error to [`WalError::Io`] naming `path`.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WalError + '_ {
    move |source| WalError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(segment_name(1), "00000001");
        assert_eq!(segment_name(123_456_789), "123456789");
        assert_eq!(classify(&segment_name(42)), Kind::Segment(42));
        assert_eq!(classify(&checkpoint_name(7)), Kind::Checkpoint(7));
        assert_eq!(classify(&checkpoint_tmp_name(7)), Kind::CheckpointTmp);
        assert_eq!(classify("checkpoint.00000007.tmp.x"), Kind::Other);
        assert_eq!(classify("0000001a"), Kind::Other);
        assert_eq!(classify("+1"), Kind::Other);
        assert_eq!(classify("lock"), Kind::Other);
        assert_eq!(classify("99999999999999999999999"), Kind::Other);
    }
}
