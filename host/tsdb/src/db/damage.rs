//! Errors for damaged data at start, saying what to do about it.

use std::path::Path;

use crate::Error;
use crate::wal::WalError;

fn check_hint(dir: &Path) -> String {
    format!("`pharos storage check {}` lists all damage", dir.display())
}

/// sled could not be opened or read at start: damage gets advice, other
/// errors (I/O, a lock held by a running Pharos) pass through.
pub(super) fn sled(dir: &Path, e: Error) -> Error {
    let damaged = matches!(
        e,
        Error::Corrupt { .. }
            | Error::Sled(
                sled::Error::Corruption { .. }
                    | sled::Error::Unsupported(_)
                    | sled::Error::ReportableBug(_)
            )
    );
    if !damaged {
        return e;
    }
    let sled = dir.join("sled");
    Error::Damaged {
        what: format!("sled in {}", sled.display()),
        detail: e.to_string(),
        advice: format!(
            "{}. Restore {} from a backup, or move it aside to start with an empty one: what it held is then lost (the WAL keeps only what arrived since its last checkpoint)",
            check_hint(dir),
            sled.display()
        ),
    }
}

/// The WAL could not be replayed at start: a damaged checkpoint, or a
/// record that does not decode.
pub(super) fn wal(dir: &Path, e: WalError) -> Error {
    match e {
        WalError::CorruptCheckpoint {
            path,
            offset,
            reason,
        } => Error::Damaged {
            what: format!("the WAL checkpoint {path}"),
            detail: format!("at offset {offset}: {reason}"),
            advice: format!(
                "Pharos does not start on it: it holds data that exists nowhere else. {}. To start anyway, move {path} out of the WAL directory (keep the copy): the samples it held that were not in sled yet (up to the last 2 hours of each series) are lost",
                check_hint(dir)
            ),
        },
        WalError::Replay {
            path,
            offset,
            source,
        } => {
            let is_checkpoint = Path::new(&path)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("checkpoint."));
            let advice = if is_checkpoint {
                format!(
                    "{}. To start anyway, move {path} out of the WAL directory (keep the copy): the samples it held that were not in sled yet are lost",
                    check_hint(dir)
                )
            } else {
                format!(
                    "{}. To start anyway, cut the segment there (`truncate -s {offset} {path}`, after a copy): the records from there on are lost",
                    check_hint(dir)
                )
            };
            Error::Damaged {
                what: format!("the WAL record at {path} offset {offset}"),
                detail: source.to_string(),
                advice,
            }
        }
        e => Error::Wal(e),
    }
}
