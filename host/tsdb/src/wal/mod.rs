//! Write-ahead log: durable, ordered storage of opaque byte records.
//!
//! The WAL is the record layer under the head block, in the spirit of
//! Prometheus' `tsdb/wlog`: what a record contains (series, samples, …) is
//! decided by the caller; this module frames, stores, replays and repairs.
//! The on-disk format is specified in `docs/format/wal.md`:
//!
//! - a directory of **segments** named by their zero-padded sequence number
//!   (`00000000`, `00000001`, …), rotated at [`WalOptions::segment_size`]; a
//!   record never spans segments;
//! - every record framed as `[len: u32 LE][crc32c(payload): u32 LE][payload]`
//!   with `0 < len <= MAX_RECORD_LEN`;
//! - **checkpoints** `checkpoint.NNNNNNNN` in the same framing, standing for
//!   everything in segments `< NNNNNNNN`, written atomically.
//!
//! Durability: [`Wal::append`] and [`Wal::append_many`] hand the bytes to the
//! kernel with a write syscall before returning, so a process crash loses
//! nothing that was appended; surviving a machine crash needs [`Wal::sync`].
//!
//! Write failures (a full disk, an I/O error): disk space is reserved
//! before each write (`space`), so a full disk refuses an append before
//! any byte of it is written. A write that fails anyway is cut off again,
//! its whole batch with it, so the log holds a batch entirely or not at
//! all; if the cut fails too, appends are refused with
//! [`WalError::Poisoned`] and every later append tries the cut again first.
//! Nothing needs a restart: once the disk takes writes again, so does the
//! WAL.
//!
//! Repair: [`Wal::open`] replays in one streaming pass. A torn or corrupt
//! record in a segment (bad checksum, zero or oversized length, truncated
//! frame, zeroed page) ends the log there: every record before it is kept,
//! the segment is truncated at the damage, later segments are deleted, and
//! the loss is logged and reported in [`ReplayReport`]. A corrupt
//! *checkpoint* is not repaired: it was fsynced before it was renamed into
//! place, so damage means the storage lost data it had acknowledged, and
//! [`Wal::open`] fails with [`WalError::CorruptCheckpoint`] instead of
//! silently discarding history.
//!
//! ```no_run
//! # fn main() -> Result<(), pharos_tsdb::wal::WalError> {
//! use pharos_tsdb::wal::{Wal, WalOptions};
//!
//! let dir = std::path::Path::new("data/wal");
//! let (mut wal, report) = Wal::open(dir, WalOptions::default(), |rec| {
//!     println!("replayed {} bytes", rec.len());
//!     Ok(())
//! })?;
//! assert!(report.corruption.is_none());
//! wal.append(b"a record")?;
//! wal.append_many(&[b"two".as_slice(), b"more"])?;
//! wal.sync()?;
//! # Ok(())
//! # }
//! ```

mod checkpoint;
pub mod hold;
pub(crate) mod reader;
pub(crate) mod record;
pub(crate) mod segment;
mod space;
#[cfg(test)]
mod tests;
pub mod watch;

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, IoSlice, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub use record::{HEADER_LEN, MAX_RECORD_LEN};

use reader::{FrameReader, ReadError};
use record::{Corruption, check_payload, frame_len, header, push_frame};
use segment::{checkpoint_name, io_err, remove, segment_name, sync_dir, write_all_vectored};

/// Default [`WalOptions::segment_size`]: 128 MiB.
pub const DEFAULT_SEGMENT_SIZE: u64 = 128 << 20;

/// `append_many` writes its batch once it reaches this size, so the scratch
/// buffer stays bounded.
const BATCH_FLUSH: usize = 8 << 20;

/// Scratch buffers larger than this are released after use.
const BUF_RETAIN: usize = 8 << 20;

/// Error type returned by the replay callback of [`Wal::open`].
pub type CallbackError = Box<dyn std::error::Error + Send + Sync>;

/// Tuning for a [`Wal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalOptions {
    /// A segment is closed and the next one started when the next record
    /// would push it past this many bytes. A record larger than this still
    /// goes (alone) into a fresh segment. Default: [`DEFAULT_SEGMENT_SIZE`].
    pub segment_size: u64,
    /// Most bytes of segments kept past a checkpoint for readers' holds
    /// ([`hold`]); the oldest beyond it are deleted. Default 4 GiB.
    pub hold_max_bytes: u64,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: DEFAULT_SEGMENT_SIZE,
            hold_max_bytes: 4 << 30,
        }
    }
}

/// What [`Wal::open`] replayed and what it had to drop.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReplayReport {
    /// Number `N` of the checkpoint replayed (`checkpoint.N`), if any.
    pub checkpoint: Option<u64>,
    /// Segment files read (including one truncated by repair).
    pub segments: usize,
    /// Records passed to the callback, checkpoint records included.
    pub records: u64,
    /// Bytes of those records' frames (headers included).
    pub bytes: u64,
    /// Bytes removed by repair: the damaged segment's tail plus every later
    /// segment.
    pub dropped_bytes: u64,
    /// Segments after the damaged one that repair deleted.
    pub dropped_segments: usize,
    /// What was found and where (file, offset, reason), when the log was
    /// damaged or has a gap in its segment numbers. `None` for a clean log.
    pub corruption: Option<String>,
}

/// Errors of the write-ahead log.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// An I/O operation on `path` failed.
    #[error("wal: {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    /// The checkpoint file is damaged. Not repaired automatically: records it
    /// stands for exist nowhere else. Records before `offset` were already
    /// passed to the callback.
    #[error("wal: corrupt checkpoint {path} at offset {offset}: {reason}")]
    CorruptCheckpoint {
        path: String,
        offset: u64,
        reason: String,
    },
    /// The replay callback returned an error for the record at `path`,
    /// `offset`; [`Wal::open`] stopped there and changed nothing on disk
    /// beyond cleaning up leftovers.
    #[error("wal: replay of record at {path} offset {offset} failed: {source}")]
    Replay {
        path: String,
        offset: u64,
        #[source]
        source: CallbackError,
    },
    /// Records must hold at least one byte (a zero length marks corruption).
    #[error("wal: empty record")]
    EmptyRecord,
    /// The record exceeds [`MAX_RECORD_LEN`].
    #[error("wal: record of {len} bytes exceeds the maximum of {max}")]
    RecordTooLarge { len: usize, max: usize },
    /// [`Wal::checkpoint`] was asked for a segment number it cannot use.
    #[error("wal: cannot checkpoint at segment {seg}: {reason}")]
    InvalidCheckpoint { seg: u64, reason: String },
    /// A write failed and what it left of its batch could not be cut off
    /// again yet. The log refuses appends until it can: every append (and
    /// rotation) tries the cut again first, and reopening repairs the tail.
    #[error(
        "wal: {path}: a failed write could not be cut off yet ({source}); appends are refused until it can be"
    )]
    Poisoned {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// An open write-ahead log. See the [module docs](self).
pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    /// The segment being appended to, positioned at its end.
    file: File,
    cur_seg: u64,
    cur_size: u64,
    /// Sizes of the other segments on disk, by number.
    closed: BTreeMap<u64, u64>,
    /// Segments a checkpoint covers, kept for readers' holds ([`hold`]).
    held: BTreeMap<u64, u64>,
    /// `(number, size)` of the checkpoint on disk.
    checkpoint: Option<(u64, u64)>,
    /// Scratch buffer for `append_many` and checkpoints.
    buf: Vec<u8>,
    /// Set when a failed write left part of its batch in the current
    /// segment and cutting it off failed too: the size to cut back to before
    /// anything else is written.
    rollback: Option<u64>,
    /// The current segment has disk space allocated up to this offset
    /// ([`space`]); appends within it cannot run out of space.
    reserved: u64,
    /// Whether the file system can reserve space at all.
    can_reserve: bool,
}

impl fmt::Debug for Wal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wal")
            .field("dir", &self.dir)
            .field("opts", &self.opts)
            .field("current_segment", &self.cur_seg)
            .field("current_size", &self.cur_size)
            .field("closed_segments", &self.closed.len())
            .field("checkpoint", &self.checkpoint)
            .field("rollback", &self.rollback)
            .finish()
    }
}

impl Wal {
    /// Opens the WAL in `dir` (creating the directory if needed) and replays
    /// it: the latest checkpoint (if any), then every segment numbered at or
    /// above it, calling `on_record` for each valid record in order. One
    /// streaming pass; records are never all held in memory.
    ///
    /// On the way it deletes leftovers of interrupted operations: `*.tmp`
    /// checkpoints first, then, once the latest checkpoint has replayed
    /// cleanly, older checkpoints and the segments it covers.
    ///
    /// A torn or corrupt record in a segment ends the log: records before it
    /// are kept (and were already replayed), later segments are deleted
    /// (highest first), that segment is truncated at the damage, a
    /// `tracing::warn!` names segment, offset, reason and dropped bytes, and
    /// the [`ReplayReport`] says the same. A gap in segment numbers is
    /// replayed across, warned about and noted in `corruption` (nothing is
    /// dropped: this code never creates gaps, so one means files were removed
    /// by hand).
    ///
    /// Errors: [`WalError::CorruptCheckpoint`] if the checkpoint is damaged;
    /// [`WalError::Replay`] wrapping the callback's error if it returns `Err`
    /// (replay stops at that record, nothing is repaired); [`WalError::Io`].
    ///
    /// New appends go to a fresh segment numbered after the last kept one
    /// (or the checkpoint's number, or 0 in an empty directory).
    pub fn open(
        dir: &Path,
        opts: WalOptions,
        mut on_record: impl FnMut(&[u8]) -> Result<(), CallbackError>,
    ) -> Result<(Wal, ReplayReport), WalError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let listing = segment::list(dir)?;
        let mut report = ReplayReport::default();

        for tmp in &listing.tmps {
            tracing::warn!(path = %tmp.display(), "wal: removing leftover temporary checkpoint");
            remove(tmp)?;
        }
        if !listing.tmps.is_empty() {
            sync_dir(dir)?;
        }

        // The checkpoint is replayed before anything it supersedes is
        // deleted, so a damaged one leaves the operator every file there was.
        let checkpoint = listing.checkpoints.last().copied();
        let mut segments = listing.segments;
        let mut findings: Vec<String> = Vec::new();
        let mut held = BTreeMap::new();
        if let Some((cp, size)) = checkpoint {
            let path = dir.join(checkpoint_name(cp));
            if let Some((offset, what)) = replay_file(&path, size, &mut on_record, &mut report)? {
                tracing::error!(path = %path.display(), offset, reason = %what, "wal: corrupt checkpoint");
                return Err(WalError::CorruptCheckpoint {
                    path: path.display().to_string(),
                    offset,
                    reason: what.to_string(),
                });
            }
            report.checkpoint = Some(cp);

            // Leftovers of an interrupted cleanup after this checkpoint was
            // written: older checkpoints and the segments it covers.
            let mut removed = false;
            for &(n, _) in listing.checkpoints.iter().rev().skip(1) {
                let path = dir.join(checkpoint_name(n));
                tracing::info!(path = %path.display(), "wal: removing superseded checkpoint");
                remove(&path)?;
                removed = true;
            }
            // Covered segments a reader holds stay, unreplayed.
            let floor = hold::floor(dir).unwrap_or(u64::MAX);
            let covered = segments.partition_point(|&(n, _)| n < cp);
            for &(n, size) in &segments[..covered] {
                if n >= floor {
                    held.insert(n, size);
                    continue;
                }
                let path = dir.join(segment_name(n));
                tracing::info!(path = %path.display(), checkpoint = cp, "wal: removing segment covered by checkpoint");
                remove(&path)?;
                removed = true;
            }
            segments.drain(..covered);
            if removed {
                sync_dir(dir)?;
            }
        }

        let mut kept: BTreeMap<u64, u64> = BTreeMap::new();
        let mut expected = checkpoint.map(|(cp, _)| cp);
        for (i, &(n, size)) in segments.iter().enumerate() {
            if let Some(want) = expected.filter(|&want| want != n) {
                let what = format!(
                    "segments {}..={} missing before {}",
                    segment_name(want),
                    segment_name(n - 1),
                    dir.join(segment_name(n)).display()
                );
                tracing::warn!(
                    first_missing = want,
                    last_missing = n - 1,
                    "wal: gap in segment numbers; replaying across it"
                );
                findings.push(what);
            }
            expected = Some(n + 1);
            report.segments += 1;
            let path = dir.join(segment_name(n));
            let Some((offset, what)) = replay_file(&path, size, &mut on_record, &mut report)?
            else {
                kept.insert(n, size);
                continue;
            };
            let later = &segments[i + 1..];
            let dropped_bytes =
                size.saturating_sub(offset) + later.iter().map(|&(_, s)| s).sum::<u64>();
            // Later segments go first, highest first, so a crash during
            // repair leaves a prefix of the log with the damage still in it.
            for &(m, _) in later.iter().rev() {
                remove(&dir.join(segment_name(m)))?;
            }
            truncate(&path, offset)?;
            sync_dir(dir)?;
            kept.insert(n, offset);
            tracing::warn!(
                segment = %segment_name(n),
                path = %path.display(),
                offset,
                reason = %what,
                dropped_bytes,
                dropped_segments = later.len(),
                "wal: corrupt record; truncated the segment there and dropped later segments"
            );
            report.dropped_bytes = dropped_bytes;
            report.dropped_segments = later.len();
            findings.push(format!(
                "{} at offset {offset}: {what}; dropped {dropped_bytes} bytes and {} later segment(s)",
                path.display(),
                later.len()
            ));
            break;
        }
        if !findings.is_empty() {
            report.corruption = Some(findings.join("; "));
        }

        let next = match kept.last_key_value() {
            Some((&n, _)) => n + 1,
            None => checkpoint.map_or(0, |(cp, _)| cp),
        };
        let file = create_segment(dir, next)?;
        tracing::debug!(
            dir = %dir.display(),
            checkpoint = ?report.checkpoint,
            segments = report.segments,
            records = report.records,
            next_segment = next,
            "wal: replayed"
        );
        let wal = Wal {
            dir: dir.to_path_buf(),
            opts,
            file,
            cur_seg: next,
            cur_size: 0,
            closed: kept,
            held,
            checkpoint,
            buf: Vec::new(),
            rollback: None,
            reserved: 0,
            can_reserve: true,
        };
        Ok((wal, report))
    }

    /// Appends one record (1 byte to [`MAX_RECORD_LEN`]) with a single
    /// vectored write syscall, without copying it: once this returns, a
    /// process crash cannot lose it. Rotates first if the record would push
    /// the segment past `segment_size`. Does not fsync (see [`Wal::sync`]).
    ///
    /// Disk space for the record is reserved first ([`space`]), so a full
    /// disk refuses it before any byte is written. If the write fails
    /// anyway, the partial frame is cut off again so the log stays valid; if
    /// even that fails, appends are refused ([`WalError::Poisoned`]) until a
    /// later call manages the cut.
    pub fn append(&mut self, record: &[u8]) -> Result<(), WalError> {
        self.repair()?;
        check_payload(record)?;
        let n = frame_len(record);
        self.make_room(n)?;
        let start = self.cur_size;
        self.reserve(n)?;
        let h = header(record);
        let mut bufs = [IoSlice::new(&h), IoSlice::new(record)];
        if let Err(e) = write_all_vectored(&mut self.file, &mut bufs) {
            let e = io_err(&self.current_path())(e);
            return Err(self.cut_back(start, e));
        }
        self.cur_size += n;
        Ok(())
    }

    /// Appends several records, framing them into one reused buffer and
    /// writing it with one syscall per segment (group commit); a batch is
    /// also written early every 8 MiB. All records are validated before
    /// anything is written.
    ///
    /// A batch that fits in one segment goes into one segment: if it would
    /// overflow the current one, the WAL rotates first. A failed batch is
    /// then cut off whole (as [`Wal::append`] cuts a record), so the log
    /// holds all of it or nothing. Only a batch larger than a segment is
    /// written across segments, and a failure part-way leaves its records in
    /// the segments already closed.
    pub fn append_many(&mut self, records: &[&[u8]]) -> Result<(), WalError> {
        self.repair()?;
        for record in records {
            check_payload(record)?;
        }
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.append_batch(records, &mut buf);
        self.restore_buf(buf);
        result
    }

    /// Flushes the current segment's data to stable storage (fdatasync).
    pub fn sync(&mut self) -> Result<(), WalError> {
        self.file
            .sync_data()
            .map_err(io_err(&self.dir.join(segment_name(self.cur_seg))))
    }

    /// Closes the current segment (fsync) and starts the next one; returns
    /// the new segment's number.
    pub fn rotate(&mut self) -> Result<u64, WalError> {
        self.repair()?;
        let path = self.dir.join(segment_name(self.cur_seg));
        self.file.sync_all().map_err(io_err(&path))?;
        let next = self.cur_seg + 1;
        self.file = create_segment(&self.dir, next)?;
        self.closed.insert(self.cur_seg, self.cur_size);
        self.cur_seg = next;
        self.cur_size = 0;
        self.reserved = 0;
        Ok(next)
    }

    /// Whether appends are refused because a failed write could not be cut
    /// off yet ([`WalError::Poisoned`]); the next append tries again.
    pub fn is_poisoned(&self) -> bool {
        self.rollback.is_some()
    }

    /// Number of the segment appends currently go to.
    pub fn current_segment(&self) -> u64 {
        self.cur_seg
    }

    /// Writes `checkpoint.<seg>` from `records` atomically (tmp file, fsync,
    /// rename, fsync directory), then deletes segments `< seg` and older
    /// checkpoints: records before `seg` then live only in the checkpoint.
    ///
    /// `seg` must not exceed [`Wal::current_segment`] (the segment being
    /// written cannot be covered) nor be below the existing checkpoint's
    /// number; otherwise [`WalError::InvalidCheckpoint`]. The usual sequence
    /// is `let seg = wal.rotate()?;` then build the checkpoint from the state
    /// as of segments `< seg`.
    pub fn checkpoint<'a>(
        &mut self,
        seg: u64,
        records: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), WalError> {
        if seg > self.cur_seg {
            return Err(WalError::InvalidCheckpoint {
                seg,
                reason: format!("beyond the current segment {}", self.cur_seg),
            });
        }
        if let Some((cp, _)) = self.checkpoint.filter(|&(cp, _)| seg < cp) {
            return Err(WalError::InvalidCheckpoint {
                seg,
                reason: format!("older than the existing {}", checkpoint_name(cp)),
            });
        }
        let mut buf = std::mem::take(&mut self.buf);
        let written = checkpoint::write(&self.dir, seg, records, &mut buf);
        self.restore_buf(buf);
        let (path, size) = written?;
        let old = self.checkpoint.replace((seg, size));
        let covered: Vec<(u64, u64)> = self.closed.range(..seg).map(|(&n, &s)| (n, s)).collect();
        for (n, size) in covered {
            self.closed.remove(&n);
            self.held.insert(n, size);
        }
        self.prune_held()?;
        if let Some((cp, _)) = old.filter(|&(cp, _)| cp != seg) {
            remove(&self.dir.join(checkpoint_name(cp)))?;
        }
        sync_dir(&self.dir)?;
        tracing::debug!(path = %path.display(), size, "wal: checkpoint written");
        Ok(())
    }

    /// Total bytes of segments and checkpoint on disk, tracked as they are
    /// written and deleted (no `stat`), segments kept for holds included.
    pub fn size_bytes(&self) -> u64 {
        self.live_bytes() + self.held_bytes()
    }

    /// Bytes of the checkpoint and the segments after it: what replay
    /// reads, and what decides when to take the next checkpoint.
    pub fn live_bytes(&self) -> u64 {
        let closed: u64 = self.closed.values().sum();
        closed + self.cur_size + self.checkpoint.map_or(0, |(_, size)| size)
    }

    /// Bytes of segments covered by the checkpoint but kept for holds.
    pub fn held_bytes(&self) -> u64 {
        self.held.values().sum()
    }

    /// Deletes the covered segments no hold needs, then the oldest held
    /// ones beyond [`WalOptions::hold_max_bytes`].
    fn prune_held(&mut self) -> Result<(), WalError> {
        let floor = hold::floor(&self.dir).unwrap_or(u64::MAX);
        let unneeded: Vec<u64> = self.held.range(..floor).map(|(&n, _)| n).collect();
        for n in unneeded {
            remove(&self.dir.join(segment_name(n)))?;
            self.held.remove(&n);
        }
        let mut total = self.held_bytes();
        while total > self.opts.hold_max_bytes {
            let Some((n, size)) = self.held.pop_first() else {
                break;
            };
            tracing::warn!(
                segment = %segment_name(n),
                held_bytes = total,
                limit = self.opts.hold_max_bytes,
                "wal: deleting a segment a reader still holds: the segments kept for readers exceed the limit"
            );
            remove(&self.dir.join(segment_name(n)))?;
            total -= size;
        }
        Ok(())
    }

    /// The WAL directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Cuts off what a failed write left, if an earlier cut failed; refuses
    /// with [`WalError::Poisoned`] while that keeps failing.
    fn repair(&mut self) -> Result<(), WalError> {
        let Some(size) = self.rollback else {
            return Ok(());
        };
        match self.truncate_current(size) {
            Ok(()) => {
                self.rollback = None;
                tracing::info!(
                    segment = %segment_name(self.cur_seg),
                    size,
                    "wal: cut off the failed write; taking appends again"
                );
                Ok(())
            }
            Err(source) => Err(WalError::Poisoned {
                path: self.current_path().display().to_string(),
                source,
            }),
        }
    }

    fn current_path(&self) -> PathBuf {
        self.dir.join(segment_name(self.cur_seg))
    }

    /// Whether a frame of `n` bytes after `pending` bytes not yet written
    /// would overflow the non-empty current segment: the rotation rule.
    fn overflows(&self, pending: usize, n: u64) -> bool {
        let size = self.cur_size + pending as u64;
        size > 0 && size + n > self.opts.segment_size
    }

    /// Rotates if a frame of `n` bytes would overflow the current segment.
    fn make_room(&mut self, n: u64) -> Result<(), WalError> {
        if self.overflows(0, n) {
            self.rotate()?;
        }
        Ok(())
    }

    /// Makes sure the next `n` bytes of the current segment have disk space
    /// ([`space`]): reserves [`space::STEP`] ahead (not past the segment
    /// size), or just `n` when the disk has no more.
    fn reserve(&mut self, n: u64) -> Result<(), WalError> {
        let end = self.cur_size + n;
        if !self.can_reserve || end <= self.reserved {
            return Ok(());
        }
        let from = self.reserved.max(self.cur_size);
        let ahead = (end + space::STEP).min(self.opts.segment_size.max(end));
        let mut got = space::reserve(&self.file, from, ahead - from).map(|ok| ok.then_some(ahead));
        if got.is_err() && ahead > end {
            // Not a step's worth left: just what this write needs.
            got = space::reserve(&self.file, from, end - from).map(|ok| ok.then_some(end));
        }
        match got {
            Ok(Some(to)) => self.reserved = to,
            Ok(None) => self.can_reserve = false,
            Err(e) => return Err(io_err(&self.current_path())(e)),
        }
        Ok(())
    }

    fn append_batch(&mut self, records: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), WalError> {
        let total: u64 = records.iter().map(|r| frame_len(r)).sum();
        if total <= self.opts.segment_size {
            self.make_room(total)?;
        }
        // Where the batch starts in the current segment: a failure cuts the
        // segment back to it.
        let mut start = self.cur_size;
        buf.clear();
        for record in records {
            let n = frame_len(record);
            if self.overflows(buf.len(), n) {
                self.write_buf(buf, start)?;
                if let Err(e) = self.rotate() {
                    return Err(self.cut_back(start, e));
                }
                start = 0;
            } else if buf.len() >= BATCH_FLUSH {
                self.write_buf(buf, start)?;
            }
            push_frame(buf, record);
        }
        self.write_buf(buf, start)
    }

    /// Writes `buf` to the current segment, in which the batch began at
    /// `start`.
    fn write_buf(&mut self, buf: &mut Vec<u8>, start: u64) -> Result<(), WalError> {
        if buf.is_empty() {
            return Ok(());
        }
        let n = buf.len() as u64;
        let written = self.reserve(n).and_then(|()| {
            let path = self.current_path();
            self.file.write_all(buf).map_err(io_err(&path))
        });
        if let Err(e) = written {
            return Err(self.cut_back(start, e));
        }
        self.cur_size += n;
        buf.clear();
        Ok(())
    }

    /// After a failed write: cuts the current segment back to `size` (the
    /// start of the failed batch in it) and returns the write's error. If
    /// the cut fails too, appends are refused until [`Wal::repair`] manages
    /// it, so a torn frame never ends up before later records.
    fn cut_back(&mut self, size: u64, error: WalError) -> WalError {
        if let Err(cut) = self.truncate_current(size) {
            let path = self.current_path();
            tracing::error!(
                path = %path.display(),
                size,
                error = %cut,
                "wal: cannot cut a failed write off; refusing appends until it can be"
            );
            self.rollback = Some(size);
        }
        error
    }

    /// Cuts the current segment to `size` and positions writes there; if
    /// the handle fails, through a new handle on the same file.
    fn truncate_current(&mut self, size: u64) -> io::Result<()> {
        let cut = |f: &mut File| -> io::Result<()> {
            f.set_len(size)?;
            f.seek(SeekFrom::Start(size))?;
            Ok(())
        };
        if cut(&mut self.file).is_err() {
            let mut file = OpenOptions::new().write(true).open(self.current_path())?;
            cut(&mut file)?;
            self.file = file;
        }
        self.cur_size = size;
        // Shrinking frees what was reserved past the new end.
        self.reserved = size;
        Ok(())
    }

    fn restore_buf(&mut self, mut buf: Vec<u8>) {
        buf.clear();
        if buf.capacity() > BUF_RETAIN {
            buf = Vec::new();
        }
        self.buf = buf;
    }
}

/// Replays the frames of one file into `on_record`. Returns where and why
/// the file is damaged, or `None` if it ended cleanly.
fn replay_file(
    path: &Path,
    size: u64,
    on_record: &mut impl FnMut(&[u8]) -> Result<(), CallbackError>,
    report: &mut ReplayReport,
) -> Result<Option<(u64, Corruption)>, WalError> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut reader = FrameReader::new(file, size);
    loop {
        match reader.next_record() {
            Ok(None) => return Ok(None),
            Ok(Some((offset, payload))) => {
                on_record(payload).map_err(|source| WalError::Replay {
                    path: path.display().to_string(),
                    offset,
                    source,
                })?;
                report.records += 1;
                report.bytes += frame_len(payload);
            }
            Err(ReadError::Io(e)) => return Err(io_err(path)(e)),
            Err(ReadError::Corrupt { offset, what }) => return Ok(Some((offset, what))),
        }
    }
}

/// Cuts `path` to `len` bytes and makes that durable.
fn truncate(path: &Path, len: u64) -> Result<(), WalError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io_err(path))?;
    file.set_len(len).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

/// Creates the empty segment `n` and makes its directory entry durable. An
/// empty file of that name (left by a rotation whose directory fsync
/// failed) is taken over; one with data is an error.
fn create_segment(dir: &Path, n: u64) -> Result<File, WalError> {
    let path = dir.join(segment_name(n));
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_err(&path))?;
    let len = file.metadata().map_err(io_err(&path))?.len();
    if len != 0 {
        return Err(io_err(&path)(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("a segment of {len} bytes exists already"),
        )));
    }
    sync_dir(dir)?;
    Ok(file)
}
