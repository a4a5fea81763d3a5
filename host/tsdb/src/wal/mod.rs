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
mod segment;
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
    /// A write failed and the partial frame could not be cut off again; the
    /// log refuses appends until it is reopened (which repairs the tail).
    #[error("wal: {path}: failed write could not be rolled back; reopen the WAL")]
    Poisoned { path: String },
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
    /// Set when a failed write left a partial frame that could not be removed.
    poisoned: bool,
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
            .field("poisoned", &self.poisoned)
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
            poisoned: false,
        };
        Ok((wal, report))
    }

    /// Appends one record (1 byte to [`MAX_RECORD_LEN`]) with a single
    /// vectored write syscall, without copying it: once this returns, a
    /// process crash cannot lose it. Rotates first if the record would push
    /// the segment past `segment_size`. Does not fsync (see [`Wal::sync`]).
    ///
    /// If the write fails, the partial frame is cut off again so the log
    /// stays valid; if even that fails, the WAL is poisoned (see
    /// [`WalError::Poisoned`]).
    pub fn append(&mut self, record: &[u8]) -> Result<(), WalError> {
        self.check_usable()?;
        check_payload(record)?;
        let n = frame_len(record);
        self.make_room(n)?;
        let h = header(record);
        let mut bufs = [IoSlice::new(&h), IoSlice::new(record)];
        self.write_or_roll_back(|f| write_all_vectored(f, &mut bufs))?;
        self.cur_size += n;
        Ok(())
    }

    /// Appends several records, framing them into one reused buffer and
    /// writing it with one syscall per segment (group commit); a batch is
    /// also written early every 8 MiB. All records are validated before
    /// anything is written; an I/O error part-way may leave a prefix of the
    /// batch appended.
    pub fn append_many(&mut self, records: &[&[u8]]) -> Result<(), WalError> {
        self.check_usable()?;
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
        self.check_usable()?;
        let path = self.dir.join(segment_name(self.cur_seg));
        self.file.sync_all().map_err(io_err(&path))?;
        let next = self.cur_seg + 1;
        self.file = create_segment(&self.dir, next)?;
        self.closed.insert(self.cur_seg, self.cur_size);
        self.cur_seg = next;
        self.cur_size = 0;
        Ok(next)
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

    fn check_usable(&self) -> Result<(), WalError> {
        if self.poisoned {
            return Err(WalError::Poisoned {
                path: self
                    .dir
                    .join(segment_name(self.cur_seg))
                    .display()
                    .to_string(),
            });
        }
        Ok(())
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

    fn append_batch(&mut self, records: &[&[u8]], buf: &mut Vec<u8>) -> Result<(), WalError> {
        buf.clear();
        for record in records {
            let n = frame_len(record);
            if self.overflows(buf.len(), n) {
                self.write_buf(buf)?;
                self.rotate()?;
            } else if buf.len() >= BATCH_FLUSH {
                self.write_buf(buf)?;
            }
            push_frame(buf, record);
        }
        self.write_buf(buf)
    }

    fn write_buf(&mut self, buf: &mut Vec<u8>) -> Result<(), WalError> {
        if buf.is_empty() {
            return Ok(());
        }
        self.write_or_roll_back(|f| f.write_all(buf))?;
        self.cur_size += buf.len() as u64;
        buf.clear();
        Ok(())
    }

    /// Runs `write` on the current segment; on failure cuts the segment back
    /// to its last complete frame, or poisons the WAL if that fails too.
    fn write_or_roll_back(
        &mut self,
        write: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> Result<(), WalError> {
        let Err(e) = write(&mut self.file) else {
            return Ok(());
        };
        let path = self.dir.join(segment_name(self.cur_seg));
        let size = self.cur_size;
        let rolled_back = self
            .file
            .set_len(size)
            .and_then(|()| self.file.seek(SeekFrom::Start(size)).map(|_| ()));
        if let Err(rb) = rolled_back {
            tracing::error!(path = %path.display(), error = %rb, "wal: cannot roll back failed write; refusing appends until reopened");
            self.poisoned = true;
        }
        Err(io_err(&path)(e))
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

/// Creates the empty segment `n` (which must not exist yet) and makes its
/// directory entry durable.
fn create_segment(dir: &Path, n: u64) -> Result<File, WalError> {
    let path = dir.join(segment_name(n));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io_err(&path))?;
    sync_dir(dir)?;
    Ok(file)
}
