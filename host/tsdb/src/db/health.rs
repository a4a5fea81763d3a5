//! What keeps the storage from working fully right now: each kind of
//! failure is set when it happens and cleared when the same work next
//! succeeds. The server's `/-/ready` fails while any is set.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::Mutex;

/// A kind of failure, one slot each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Problem {
    /// Appends refused: the WAL cannot be written.
    WalWrite,
    /// The WAL cannot be fsynced.
    WalSync,
    /// Chunks or series cannot be written to sled.
    Flush,
    Checkpoint,
    Retention,
    /// sled refused a write and is not reopened yet.
    Sled,
    /// The maintenance thread panicked and its next round has not finished.
    Maintenance,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::WalWrite => "appends are refused: writing the WAL failed",
            Problem::WalSync => "syncing the WAL failed",
            Problem::Flush => "flushing chunks to sled failed",
            Problem::Checkpoint => "the WAL checkpoint failed",
            Problem::Retention => "retention failed",
            Problem::Sled => "sled failed a write and is not reopened yet",
            Problem::Maintenance => "the storage maintenance thread panicked",
        })
    }
}

impl Problem {
    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// The current problems, with the error of each.
#[derive(Debug, Default)]
pub(crate) struct Health {
    /// A bit per problem set: the append path checks it without a lock.
    set: AtomicU32,
    problems: Mutex<Vec<(Problem, String)>>,
}

impl Health {
    pub(crate) fn set(&self, problem: Problem, error: impl fmt::Display) {
        let mut p = self.problems.lock();
        self.set.fetch_or(problem.bit(), Ordering::SeqCst);
        let text = error.to_string();
        match p.iter_mut().find(|(k, _)| *k == problem) {
            Some(slot) => slot.1 = text,
            None => {
                p.push((problem, text));
                p.sort_by_key(|(k, _)| *k);
            }
        }
    }

    /// Clears `problem`; whether it was set.
    pub(crate) fn clear(&self, problem: Problem) -> bool {
        if !self.has(problem) {
            return false;
        }
        let mut p = self.problems.lock();
        self.set.fetch_and(!problem.bit(), Ordering::SeqCst);
        let before = p.len();
        p.retain(|(k, _)| *k != problem);
        p.len() != before
    }

    pub(crate) fn has(&self, problem: Problem) -> bool {
        self.set.load(Ordering::SeqCst) & problem.bit() != 0
    }

    /// One sentence per problem: what fails and the last error.
    pub(crate) fn list(&self) -> Vec<String> {
        self.problems
            .lock()
            .iter()
            .map(|(k, e)| format!("{k}: {e}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_and_clear_removes() {
        let h = Health::default();
        assert!(h.list().is_empty());
        h.set(Problem::Flush, "disk full");
        h.set(Problem::WalWrite, "disk full");
        h.set(Problem::Flush, "still full");
        assert_eq!(
            h.list(),
            [
                "appends are refused: writing the WAL failed: disk full",
                "flushing chunks to sled failed: still full",
            ]
        );
        assert!(h.clear(Problem::WalWrite));
        assert!(!h.clear(Problem::WalWrite));
        assert!(!h.has(Problem::WalWrite));
        assert!(h.has(Problem::Flush));
        h.clear(Problem::Flush);
        assert!(h.list().is_empty());
    }
}
