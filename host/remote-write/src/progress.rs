//! How far the endpoint has acknowledged the WAL, and the marker file that
//! keeps it across restarts.
//!
//! Every WAL record the reader passes gets a sequence number and a count of
//! samples still to be acknowledged. Shards send samples of many records at
//! once and finish out of order; the acknowledged position only advances
//! past a record once it and every record before it are done (sent, or
//! dropped for good). A restart resumes there, so it resends at most the
//! samples of records that were not wholly acknowledged. (Prometheus keeps
//! no such marker: it starts each queue at the end of the WAL.)
//!
//! The marker also moves the queue's hold on the WAL
//! (`pharos_tsdb::wal::hold`, named [`HOLD_PREFIX`] + the marker's file
//! stem): segments from the marker's on outlive checkpoints, so an endpoint
//! that is down for long loses nothing until the WAL's hold limit.
//!
//! The marker is a small text file, written atomically (temporary file,
//! fsync, rename) every 250 ms while it changes and when the queue stops:
//!
//! ```text
//! # pharos remote-write progress for "name" (http://user:xxxxx@…)
//! segment 12
//! offset 40960
//! ```

use std::collections::VecDeque;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use pharos_tsdb::wal::hold::WalHold;
use pharos_tsdb::wal::watch::WalPosition;

use crate::Error;

/// Outstanding count of a record whose samples are still being counted.
const OPEN: u32 = u32::MAX;

/// Acknowledgement bookkeeping of one queue.
#[derive(Debug)]
pub(crate) struct Progress {
    inner: Mutex<Track>,
}

#[derive(Debug)]
struct Track {
    /// Sequence number of `records[0]`.
    base: u64,
    /// For each record not yet done: the position after it and the samples
    /// still outstanding.
    records: VecDeque<(WalPosition, u32)>,
    /// Every record before this position is done.
    acked: WalPosition,
    /// `acked` changed since the marker was last written.
    dirty: bool,
}

impl Progress {
    /// Starts with everything before `start` acknowledged.
    pub(crate) fn new(start: WalPosition) -> Self {
        Progress {
            inner: Mutex::new(Track {
                base: 0,
                records: VecDeque::new(),
                acked: start,
                dirty: false,
            }),
        }
    }

    /// Registers the record ending at `end` with `samples` to be
    /// acknowledged; returns its sequence number.
    pub(crate) fn push(&self, end: WalPosition, samples: u32) -> u64 {
        let mut t = self.inner.lock();
        let seq = t.base + t.records.len() as u64;
        t.records.push_back((end, samples));
        t.advance();
        seq
    }

    /// Registers the record ending at `end` whose sample count is not
    /// known yet: nothing passes it until [`Progress::set`] gives it.
    pub(crate) fn open(&self, end: WalPosition) -> u64 {
        self.push(end, OPEN)
    }

    /// Gives record `seq` (from [`Progress::open`]) its sample count.
    pub(crate) fn set(&self, seq: u64, samples: u32) {
        let mut t = self.inner.lock();
        if let Some(i) = seq.checked_sub(t.base)
            && let Some(r) = t.records.get_mut(i as usize)
        {
            r.1 = samples;
        }
        t.advance();
    }

    /// Marks `n` samples of record `seq` done.
    pub(crate) fn done(&self, counts: impl IntoIterator<Item = (u64, u32)>) {
        let mut t = self.inner.lock();
        for (seq, n) in counts {
            let Some(i) = seq.checked_sub(t.base) else {
                continue;
            };
            if let Some(r) = t.records.get_mut(i as usize) {
                r.1 = r.1.saturating_sub(n);
            }
        }
        t.advance();
    }

    /// Everything before this position is acknowledged.
    pub(crate) fn acked(&self) -> WalPosition {
        self.inner.lock().acked
    }

    /// The acknowledged position if it changed since the last call.
    pub(crate) fn take_dirty(&self) -> Option<WalPosition> {
        let mut t = self.inner.lock();
        std::mem::take(&mut t.dirty).then_some(t.acked)
    }
}

impl Track {
    fn advance(&mut self) {
        while let Some(&(end, 0)) = self.records.front() {
            self.records.pop_front();
            self.base += 1;
            if end != self.acked {
                self.acked = end;
                self.dirty = true;
            }
        }
    }
}

/// The marker file of one queue.
#[derive(Debug)]
pub(crate) struct Marker {
    path: PathBuf,
    header: String,
    queue: String,
    /// The last position written; writes are serialized and never go back.
    saved: Mutex<Option<WalPosition>>,
    /// The queue's hold on the WAL, once taken.
    hold: Mutex<Option<WalHold>>,
}

/// Names of remote-write holds start with this.
pub(crate) const HOLD_PREFIX: &str = "remote-write-";

impl Marker {
    /// The marker for queue `key` in `dir`: the key made safe for a file
    /// name plus a checksum of the key, so distinct keys never collide.
    pub(crate) fn new(dir: &Path, key: &str, name: &str, url: &str) -> Marker {
        let safe: String = key
            .chars()
            .take(48)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let file = format!("{safe}-{:08x}.progress", crc32c::crc32c(key.as_bytes()));
        Marker {
            path: dir.join(file),
            header: format!("# pharos remote-write progress for {name:?} ({url})\n"),
            queue: name.to_owned(),
            saved: Mutex::new(None),
            hold: Mutex::new(None),
        }
    }

    /// The name of the queue's WAL hold.
    pub(crate) fn hold_name(&self) -> String {
        let stem = self.path.file_stem().unwrap_or_default().to_string_lossy();
        format!("{HOLD_PREFIX}{stem}")
    }

    /// Takes the queue's hold on the WAL in `wal_dir`; [`Marker::save`]
    /// moves it along.
    pub(crate) fn hold_wal(&self, wal_dir: &Path) -> Result<(), Error> {
        let hold = WalHold::acquire(wal_dir, &self.hold_name()).map_err(|source| Error::Wal {
            queue: self.queue.clone(),
            source,
        })?;
        *self.hold.lock() = Some(hold);
        Ok(())
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The saved position; `None` if there is no marker. An unreadable
    /// marker is logged and treated as absent.
    pub(crate) fn load(&self) -> Result<Option<WalPosition>, Error> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let pos = parse(&text);
        if pos.is_none() {
            tracing::warn!(path = %self.path.display(), "remote write: ignoring an unreadable progress marker");
        }
        Ok(pos)
    }

    /// Writes `pos` atomically, unless a position at or after it was
    /// written already.
    pub(crate) fn save(&self, pos: WalPosition) -> Result<(), Error> {
        let mut saved = self.saved.lock();
        if saved.is_some_and(|s| s >= pos) {
            return Ok(());
        }
        let io = |source| Error::Io {
            path: self.path.clone(),
            source,
        };
        let tmp = self.path.with_extension("progress.tmp");
        let text = format!(
            "{}segment {}\noffset {}\n",
            self.header, pos.segment, pos.offset
        );
        let mut f = fs::File::create(&tmp).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_data().map_err(io)?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(io)?;
        *saved = Some(pos);
        if let Some(hold) = self.hold.lock().as_mut() {
            hold.advance(pos.segment).map_err(|source| Error::Wal {
                queue: self.queue.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// Takes over the marker an earlier version kept under `legacy_key` (the
/// URL with its password, which was part of the file name and header):
/// it is renamed to `marker`'s file unless that exists, else removed. The
/// header is rewritten, without the password, by the queue's first
/// [`Marker::save`]; the old hold, named after the old file, is released
/// by [`crate::RemoteWrite::start`] as one no queue wants.
pub(crate) fn adopt(dir: &Path, legacy_key: &str, marker: &Marker) -> Result<(), Error> {
    let old = Marker::new(dir, legacy_key, "", "").path;
    if !old.exists() {
        return Ok(());
    }
    let io = |source| Error::Io {
        path: marker.path.clone(),
        source,
    };
    if marker.path.exists() {
        fs::remove_file(&old).map_err(io)?;
    } else {
        fs::rename(&old, &marker.path).map_err(io)?;
        tracing::info!(
            queue = %marker.queue,
            marker = %marker.path.display(),
            "remote write: took over the progress marker named after the URL with its password"
        );
    }
    Ok(())
}

fn parse(text: &str) -> Option<WalPosition> {
    let mut segment = None;
    let mut offset = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once(' ')?;
        let value: u64 = value.trim().parse().ok()?;
        match key {
            "segment" => segment = Some(value),
            "offset" => offset = Some(value),
            _ => return None,
        }
    }
    Some(WalPosition {
        segment: segment?,
        offset: offset?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn pos(segment: u64, offset: u64) -> WalPosition {
        WalPosition { segment, offset }
    }

    #[test]
    fn acked_position_waits_for_every_earlier_record() {
        let p = Progress::new(pos(0, 0));
        let a = p.push(pos(0, 10), 2);
        let b = p.push(pos(0, 20), 0);
        let c = p.push(pos(0, 30), 3);
        assert_eq!((a, b, c), (0, 1, 2));
        assert_eq!(p.acked(), pos(0, 0));
        assert_eq!(p.take_dirty(), None);
        // c finishes first: nothing moves until a is done.
        p.done([(c, 3)]);
        assert_eq!(p.acked(), pos(0, 0));
        p.done([(a, 1)]);
        assert_eq!(p.acked(), pos(0, 0));
        p.done([(a, 1)]);
        assert_eq!(p.acked(), pos(0, 30));
        assert_eq!(p.take_dirty(), Some(pos(0, 30)));
        assert_eq!(p.take_dirty(), None);
        // Records without samples are done at once when at the front.
        p.push(pos(1, 5), 0);
        assert_eq!(p.acked(), pos(1, 5));
        // An open record holds back everything after it until counted.
        let o = p.open(pos(1, 9));
        let q = p.push(pos(1, 12), 0);
        assert_eq!(p.acked(), pos(1, 5));
        p.set(o, 1);
        assert_eq!(p.acked(), pos(1, 5));
        p.done([(o, 1)]);
        assert_eq!((q, p.acked()), (o + 1, pos(1, 12)));
        // Stale and unknown sequence numbers are ignored.
        p.done([(0, 1), (99, 1)]);
        assert_eq!(p.acked(), pos(1, 12));
    }

    #[test]
    fn marker_round_trips_and_rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let m = Marker::new(
            dir.path(),
            "http://x:9/api/v1/write",
            "abc",
            "http://x:9/api/v1/write",
        );
        assert!(
            m.path()
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("http___x_9_api_v1_write-")
        );
        assert_eq!(m.load().unwrap(), None);
        m.save(pos(12, 40960)).unwrap();
        assert_eq!(m.load().unwrap(), Some(pos(12, 40960)));
        // Never backwards.
        m.save(pos(12, 4)).unwrap();
        assert_eq!(m.load().unwrap(), Some(pos(12, 40960)));
        let text = fs::read_to_string(m.path()).unwrap();
        assert!(
            text.starts_with("# pharos remote-write progress for \"abc\""),
            "{text}"
        );
        fs::write(m.path(), "segment x\noffset 1\n").unwrap();
        assert_eq!(m.load().unwrap(), None);
        assert_eq!(parse("segment 1\n"), None);
        assert_eq!(parse("offset 1\nsegment 2\n"), Some(pos(2, 1)));
        assert_eq!(parse("segment 1\noffset 2\nother 3\n"), None);
    }

    /// A marker named after a URL with its password (as earlier versions
    /// wrote it) is taken over by the masked key's marker, position and
    /// all; no file name or content keeps the password.
    #[test]
    fn legacy_marker_with_a_password_is_adopted() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = "http://u:hunter2@x:9/push";
        let old = Marker::new(dir.path(), legacy, "q", legacy);
        old.save(pos(3, 77)).unwrap();
        let new = Marker::new(
            dir.path(),
            "http://u:xxxxx@x:9/push",
            "q",
            "http://u:xxxxx@x:9/push",
        );
        adopt(dir.path(), legacy, &new).unwrap();
        assert_eq!(new.load().unwrap(), Some(pos(3, 77)));
        new.save(pos(3, 80)).unwrap();
        for e in fs::read_dir(dir.path()).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let text = fs::read_to_string(e.path()).unwrap();
            assert!(
                !name.contains("hunter2") && !text.contains("hunter2"),
                "{name}: {text}"
            );
        }
        // With both present, the old one goes.
        old.save(pos(1, 1)).unwrap();
        adopt(dir.path(), legacy, &new).unwrap();
        assert!(!old.path().exists());
        assert_eq!(new.load().unwrap(), Some(pos(3, 80)));
    }
}
