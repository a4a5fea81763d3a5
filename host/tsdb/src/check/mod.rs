//! `pharos storage check`: reads a storage directory and reports what is
//! damaged, without changing it (sled is opened as a start would open it,
//! which lets sled recover its own log tail).
//!
//! - WAL (`wal/`): the checkpoint and every segment it does not cover,
//!   frame by frame (checksums, lengths, torn tails) and record by record
//!   (each must decode, chunks must decode as chunks); gaps in segment
//!   numbers.
//! - sled (`sled/`): the format marker; every block of the `series` tree;
//!   every entry of the `chunks` tree: chunks decode and agree with their
//!   keys and time index, belong to a known series, spans decode.
//!
//! ```no_run
//! let report = pharos_tsdb::check::check(std::path::Path::new("data")).unwrap();
//! for d in &report.damage {
//!     println!("{d}");
//! }
//! ```

mod sled_check;
mod wal_check;

use std::fmt;
use std::path::Path;

use crate::Error;

/// Damage listed per part at most; beyond it a count.
const MAX_LISTED: usize = 100;

/// Which part of the storage is damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    WalSegment,
    Checkpoint,
    Sled,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::WalSegment => "wal segment",
            Part::Checkpoint => "checkpoint",
            Part::Sled => "sled",
        })
    }
}

/// One damaged place: the part, where in it, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub part: Part,
    pub place: String,
    pub what: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.part, self.place, self.what)
    }
}

/// What [`check`] read and what it found damaged.
#[derive(Debug, Default, Clone)]
pub struct CheckReport {
    /// What was read, a line per part ("wal: 3 segments, 1200 records").
    pub checked: Vec<String>,
    /// What is damaged (at most 100 per part are listed, see `unlisted`).
    pub damage: Vec<Damage>,
    /// Damage found beyond the listed, per part.
    pub unlisted: Vec<(Part, u64)>,
}

impl CheckReport {
    /// Nothing damaged.
    pub fn is_clean(&self) -> bool {
        self.damage.is_empty() && self.unlisted.is_empty()
    }

    pub(crate) fn found(&mut self, part: Part, place: impl Into<String>, what: impl Into<String>) {
        let listed = self.damage.iter().filter(|d| d.part == part).count();
        if listed < MAX_LISTED {
            self.damage.push(Damage {
                part,
                place: place.into(),
                what: what.into(),
            });
        } else if let Some((_, n)) = self.unlisted.iter_mut().find(|(p, _)| *p == part) {
            *n += 1;
        } else {
            self.unlisted.push((part, 1));
        }
    }
}

/// Checks the storage in `dir` (the directory holding `wal/` and
/// `sled/`). An error only when it cannot be checked at all: it is not a
/// storage directory, or a running Pharos holds sled.
pub fn check(dir: &Path) -> Result<CheckReport, Error> {
    let wal = dir.join("wal");
    let sled = dir.join("sled");
    if !wal.is_dir() && !sled.is_dir() {
        return Err(Error::io(
            dir,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not a storage directory (no wal/ or sled/ in it)",
            ),
        ));
    }
    let mut report = CheckReport::default();
    let has_checkpoint = wal_check::check(&wal, &mut report)?;
    sled_check::check(&sled, has_checkpoint, &mut report)?;
    Ok(report)
}

#[cfg(test)]
mod tests;
