//! Tailing the WAL of a running storage, for readers outside the head such
//! as remote write, in the spirit of Prometheus' `tsdb/wlog` watcher.
//!
//! A [`WalTail`] reads frames from a [`WalPosition`] (segment number and
//! byte offset of a frame boundary) onwards, while the [`Db`](crate::Db)
//! keeps appending:
//!
//! - In the segment being written, an incomplete or not yet valid frame at
//!   the end means "nothing more for now": [`WalTail::next_record`] returns
//!   `None` and the caller polls again later.
//! - A segment is finished once the next one exists (the writer only
//!   creates segment `N + 1` after the last write to `N`); the tail then
//!   moves on. Damage in a finished segment is logged and skipped.
//! - Checkpoints delete segments from the front. A segment the tail has
//!   open stays readable; segments deleted before the tail reached them are
//!   lost to it: it jumps to the oldest segment left, logs a warning and
//!   counts them in [`TailStats::segments_skipped`]. (Prometheus' watcher
//!   also loses what a truncation removed before it was read.)
//!
//! [`decode`] gives a record's meaning (series and sample records; the
//! checkpoint-only records are reported as [`WalRecord::Other`]), and
//! [`SeriesLookup`] resolves a series id the tail has not seen a series
//! record for (series created before a checkpoint live in sled, not in the
//! WAL), which [`Db`](crate::Db) implements.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use pharos_model::{Labels, Sample};

use super::WalError;
use super::record::{Corruption, HEADER_LEN, parse_header};
use super::segment::{self, io_err, segment_name};
use crate::record::{self, Record};

/// Bytes read from a segment at a time (more for a larger record).
const READ_CHUNK: usize = 256 << 10;

/// A place in the WAL: the start of a frame in segment `segment`, `offset`
/// bytes into the file. Ordered as the records are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WalPosition {
    pub segment: u64,
    pub offset: u64,
}

impl std::fmt::Display for WalPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", segment_name(self.segment), self.offset)
    }
}

/// What a [`WalTail`] had to pass over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TailStats {
    /// Segments deleted (by a checkpoint) before the tail read them.
    pub segments_skipped: u64,
    /// Finished segments whose rest was skipped because of a damaged frame.
    pub corrupt_segments: u64,
}

/// Reads the WAL in `dir` record by record from a position, following new
/// appends, rotation and checkpoints. See the [module docs](self).
pub struct WalTail {
    dir: PathBuf,
    /// Segment being read, and the file if it could be opened.
    seg: u64,
    file: Option<File>,
    /// Offset in `seg` of the next frame.
    offset: u64,
    /// Bytes of `seg` read ahead: `buf[..filled]` holds the file from
    /// offset `buf_off` on, and `buf_off <= offset <= buf_off + filled`.
    buf: Vec<u8>,
    buf_off: u64,
    filled: usize,
    stats: TailStats,
}

impl std::fmt::Debug for WalTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalTail")
            .field("dir", &self.dir)
            .field("position", &self.position())
            .field("stats", &self.stats)
            .finish()
    }
}

/// What reading at the current offset gave.
enum Frame {
    /// A valid frame with a payload of this many bytes.
    Valid(usize),
    /// The file ends exactly at the offset.
    End,
    /// The bytes at the offset are not (yet) a valid frame.
    Invalid(Corruption),
}

impl WalTail {
    /// A tail positioned after the last complete record currently in the
    /// WAL: it returns only records appended from now on.
    pub fn at_end(dir: &Path) -> Result<WalTail, WalError> {
        let listing = segment::list(dir)?;
        let pos = match listing.segments.last() {
            Some(&(n, _)) => WalPosition {
                segment: n,
                offset: 0,
            },
            None => WalPosition {
                segment: listing.checkpoints.last().map_or(0, |&(n, _)| n),
                offset: 0,
            },
        };
        let mut tail = WalTail::empty(dir, pos);
        // Skip what the last segment holds; it may end in a frame still
        // being written, so stop at the last complete one.
        if tail.open_current()? {
            while let Frame::Valid(len) = tail.read_frame()? {
                tail.offset += (HEADER_LEN + len) as u64;
            }
        }
        Ok(tail)
    }

    /// A tail at the first record of the oldest segment: it returns every
    /// record the segments hold (not the checkpoint's).
    pub fn at_start(dir: &Path) -> Result<WalTail, WalError> {
        let listing = segment::list(dir)?;
        let first = match listing.segments.first() {
            Some(&(n, _)) => n,
            None => listing.checkpoints.last().map_or(0, |&(n, _)| n),
        };
        let mut tail = WalTail::empty(
            dir,
            WalPosition {
                segment: first,
                offset: 0,
            },
        );
        tail.open_current()?;
        Ok(tail)
    }

    /// A tail that starts at `pos`, typically saved from an earlier
    /// [`WalTail::position`]. A position the WAL no longer holds is moved
    /// to the nearest place that exists, with a warning: to the oldest
    /// segment after `pos` when `pos`'s segment was deleted by a checkpoint
    /// (counted in [`TailStats::segments_skipped`]); to the end of a
    /// finished segment that repair truncated below `pos`, or the start of
    /// a live one made anew; to the start of the oldest segment when every
    /// segment is older than `pos` (the WAL was replaced).
    pub fn open_at(dir: &Path, pos: WalPosition) -> Result<WalTail, WalError> {
        let listing = segment::list(dir)?;
        let mut tail = WalTail::empty(dir, pos);
        let later = listing.segments.iter().find(|&&(n, _)| n >= pos.segment);
        match later {
            Some(&(n, size)) if n == pos.segment => {
                if size < pos.offset {
                    let has_next = listing.segments.iter().any(|&(m, _)| m > n);
                    tail.offset = if has_next { size } else { 0 };
                    tracing::warn!(
                        dir = %dir.display(),
                        position = %pos,
                        segment_size = size,
                        resume_offset = tail.offset,
                        "wal tail: position is past the end of its segment (WAL repaired?)"
                    );
                }
            }
            Some(&(n, _)) => {
                tracing::warn!(
                    dir = %dir.display(),
                    position = %pos,
                    first_segment = n,
                    skipped = n - pos.segment,
                    "wal tail: segments from the position on were deleted by a checkpoint before they were read; their data is lost to this reader"
                );
                tail.stats.segments_skipped += n - pos.segment;
                tail.seg = n;
                tail.offset = 0;
            }
            None => {
                let first = listing.segments.first().map_or(0, |&(n, _)| n);
                tracing::warn!(
                    dir = %dir.display(),
                    position = %pos,
                    first_segment = first,
                    "wal tail: every segment is older than the position (WAL replaced?); reading from the oldest segment"
                );
                tail.seg = first;
                tail.offset = 0;
            }
        }
        tail.buf_off = tail.offset;
        tail.open_current()?;
        Ok(tail)
    }

    fn empty(dir: &Path, pos: WalPosition) -> WalTail {
        WalTail {
            dir: dir.to_path_buf(),
            seg: pos.segment,
            file: None,
            offset: pos.offset,
            buf: Vec::new(),
            buf_off: pos.offset,
            filled: 0,
            stats: TailStats::default(),
        }
    }

    /// Where the next record starts: every record before it has been
    /// returned (or skipped).
    pub fn position(&self) -> WalPosition {
        WalPosition {
            segment: self.seg,
            offset: self.offset,
        }
    }

    /// What the tail passed over so far.
    pub fn stats(&self) -> TailStats {
        self.stats
    }

    /// The WAL directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The next record's payload, or `None` when the tail has caught up
    /// with the writer (call again later). Once it returns a record,
    /// [`WalTail::position`] is the position right after that record.
    pub fn next_record(&mut self) -> Result<Option<&[u8]>, WalError> {
        loop {
            if self.file.is_none() && !self.open_current()? {
                // Our segment is gone or not there yet.
                if !self.advance()? {
                    return Ok(None);
                }
                continue;
            }
            let len = match self.read_frame()? {
                Frame::Valid(len) => len,
                Frame::End => {
                    if !self.advance()? {
                        return Ok(None);
                    }
                    continue;
                }
                Frame::Invalid(what) => {
                    // Final only in a finished segment; at the end of the
                    // live one it is a frame still being written.
                    if !self.next_segment_exists()? {
                        return Ok(None);
                    }
                    // The frame may have been completed between our read
                    // and the rotation: read once more before skipping.
                    self.filled = 0;
                    self.buf_off = self.offset;
                    match self.read_frame()? {
                        Frame::Valid(len) => len,
                        Frame::End => {
                            self.advance()?;
                            continue;
                        }
                        Frame::Invalid(_) => {
                            tracing::warn!(
                                segment = %segment_name(self.seg),
                                dir = %self.dir.display(),
                                offset = self.offset,
                                reason = %what,
                                "wal tail: damaged record in a finished segment; skipping the rest of it"
                            );
                            self.stats.corrupt_segments += 1;
                            self.advance()?;
                            continue;
                        }
                    }
                }
            };
            let start = (self.offset - self.buf_off) as usize + HEADER_LEN;
            self.offset += (HEADER_LEN + len) as u64;
            return Ok(Some(&self.buf[start..start + len]));
        }
    }

    /// Opens segment `seg` if it exists; `false` if it does not.
    fn open_current(&mut self) -> Result<bool, WalError> {
        let path = self.dir.join(segment_name(self.seg));
        match File::open(&path) {
            Ok(f) => {
                self.file = Some(f);
                self.buf_off = self.offset;
                self.filled = 0;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    fn next_segment_exists(&self) -> Result<bool, WalError> {
        exists(&self.dir.join(segment_name(self.seg + 1)))
    }

    /// Moves to the next segment if the current one is finished; `false`
    /// if it is still the one being written (or nothing newer exists).
    fn advance(&mut self) -> Result<bool, WalError> {
        let next = if self.next_segment_exists()? {
            self.seg + 1
        } else if self.file.is_some() && exists(&self.dir.join(segment_name(self.seg)))? {
            // Still on disk and nothing after it: the live segment.
            return Ok(false);
        } else {
            // Our segment was deleted by a checkpoint (or never existed):
            // go to the oldest one after it.
            let listing = segment::list(&self.dir)?;
            let Some(&(n, _)) = listing.segments.iter().find(|&&(n, _)| n > self.seg) else {
                return Ok(false);
            };
            let skipped = n - self.seg - u64::from(self.file.is_some());
            if skipped > 0 {
                tracing::warn!(
                    dir = %self.dir.display(),
                    from = %segment_name(self.seg),
                    to = %segment_name(n),
                    skipped,
                    "wal tail: segments were deleted by a checkpoint before they were read; their data is lost to this reader"
                );
                self.stats.segments_skipped += skipped;
            }
            n
        };
        self.seg = next;
        self.offset = 0;
        self.file = None;
        self.open_current()?;
        Ok(true)
    }

    /// Reads the frame at `offset` into the buffer.
    fn read_frame(&mut self) -> Result<Frame, WalError> {
        let have = self.fill(HEADER_LEN)?;
        if have == 0 {
            return Ok(Frame::End);
        }
        if have < HEADER_LEN {
            return Ok(Frame::Invalid(Corruption::TornHeader {
                available: have as u64,
            }));
        }
        let at = (self.offset - self.buf_off) as usize;
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&self.buf[at..at + HEADER_LEN]);
        let (len, stored) = match parse_header(&h) {
            Ok(x) => x,
            Err(what) => return Ok(Frame::Invalid(what)),
        };
        let len = len as usize;
        let have = self.fill(HEADER_LEN + len)?;
        if have < HEADER_LEN + len {
            return Ok(Frame::Invalid(Corruption::Truncated {
                len: len as u32,
                available: (have - HEADER_LEN) as u64,
            }));
        }
        let at = (self.offset - self.buf_off) as usize;
        let payload = &self.buf[at + HEADER_LEN..at + HEADER_LEN + len];
        let computed = crc32c::crc32c(payload);
        if computed != stored {
            return Ok(Frame::Invalid(Corruption::Checksum { stored, computed }));
        }
        Ok(Frame::Valid(len))
    }

    /// Makes `buf` hold at least `want` bytes from `offset` if the file has
    /// them; returns how many it holds from `offset`.
    fn fill(&mut self, want: usize) -> Result<usize, WalError> {
        let at = (self.offset - self.buf_off) as usize;
        if self.filled - at >= want {
            return Ok(self.filled - at);
        }
        // Drop what was consumed, and make room.
        self.buf.copy_within(at..self.filled, 0);
        self.filled -= at;
        self.buf_off = self.offset;
        let size = want.max(READ_CHUNK);
        if self.buf.len() < size {
            self.buf.resize(size, 0);
        }
        let path = self.dir.join(segment_name(self.seg));
        let Some(file) = self.file.as_mut() else {
            return Ok(self.filled);
        };
        file.seek(SeekFrom::Start(self.buf_off + self.filled as u64))
            .map_err(io_err(&path))?;
        while self.filled < want {
            match file.read(&mut self.buf[self.filled..]) {
                Ok(0) => break,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
        // Keep the buffer from growing for good after one large record.
        if self.buf.len() > 4 * READ_CHUNK && self.filled <= READ_CHUNK {
            self.buf.truncate(READ_CHUNK);
            self.buf.shrink_to_fit();
        }
        Ok(self.filled)
    }
}

fn exists(path: &Path) -> Result<bool, WalError> {
    match fs::metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// A WAL record as readers outside the head see it.
#[derive(Debug, Clone, PartialEq)]
pub enum WalRecord {
    /// Series created, with their ids.
    Series(Vec<(u64, Labels)>),
    /// Samples appended, by series id, in append order.
    Samples(Vec<(u64, Sample)>),
    /// A record only the head needs (checkpoint chunks, out-of-order
    /// buffers).
    Other,
}

/// Decodes a WAL record's payload (formats in `docs/format/records.md`).
pub fn decode(payload: &[u8]) -> Result<WalRecord, crate::Error> {
    Ok(match record::decode(payload)? {
        Record::Series(s) => WalRecord::Series(s),
        Record::Samples(s) => WalRecord::Samples(s),
        Record::Chunk { .. } | Record::OooSamples { .. } => WalRecord::Other,
    })
}

/// Resolves series ids to label sets, for ids whose series record a reader
/// did not see (series created before the segments it read).
pub trait SeriesLookup: Send + Sync {
    /// The labels of series `id`, or `None` if the storage does not know it
    /// (any more).
    fn series_labels(&self, id: u64) -> Option<Labels>;
}

impl SeriesLookup for crate::Db {
    fn series_labels(&self, id: u64) -> Option<Labels> {
        self.inner.head.get(id).map(|s| s.lock().labels())
    }
}

#[cfg(test)]
mod tests;
