//! Persistent part of the storage, in sled: the series records and the
//! compressed chunks. Layout in `docs/format/sled.md`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use pharos_model::Labels;

use crate::Error;
use crate::head::ClosedChunk;
use crate::record::{Decoder, put_labels, put_uvarint};

pub(crate) const CHUNK: u8 = b'c';
pub(crate) const TIME: u8 = b't';
pub(crate) const SPAN: u8 = b'p';
pub(crate) const FORMAT_KEY: &[u8] = b"format";
pub(crate) const FORMAT_VERSION: &[u8] = b"pharos-tsdb-2";
/// Series records are packed this many ids to a sled value: one sled entry
/// per series cost ~2 KiB of sled memory and ~400 B of disk each.
const SERIES_BLOCK: u64 = 1024;

/// Orders signed times correctly as big-endian bytes.
fn time_key(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

pub(crate) fn key_time(b: &[u8]) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    (u64::from_be_bytes(a) ^ (1 << 63)) as i64
}

pub(crate) fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

/// Time span of a series' persisted chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// Oldest sample of any persisted chunk.
    pub(crate) mint: i64,
    /// Newest sample of any persisted chunk, out-of-order ones included.
    pub(crate) maxt: i64,
    /// Newest sample of the in-order chunks (`i64::MIN` when none): where
    /// in-order appends continue after a restart.
    pub(crate) in_order_maxt: i64,
}

impl Span {
    fn of(c: &ClosedChunk) -> Span {
        Span {
            mint: c.mint,
            maxt: c.maxt,
            in_order_maxt: if c.ooo { i64::MIN } else { c.maxt },
        }
    }

    fn merge(self, o: Span) -> Span {
        Span {
            mint: self.mint.min(o.mint),
            maxt: self.maxt.max(o.maxt),
            in_order_maxt: self.in_order_maxt.max(o.in_order_maxt),
        }
    }

    fn encode(self) -> Vec<u8> {
        let mut v = Vec::with_capacity(24);
        v.extend_from_slice(&time_key(self.mint));
        v.extend_from_slice(&time_key(self.maxt));
        v.extend_from_slice(&time_key(self.in_order_maxt));
        v
    }

    pub(crate) fn decode(v: &[u8]) -> Option<Span> {
        (v.len() == 24).then(|| Span {
            mint: key_time(&v[..8]),
            maxt: key_time(&v[8..16]),
            in_order_maxt: key_time(&v[16..]),
        })
    }
}

/// A persisted series: id, labels and the span of its chunks, if any.
pub(crate) type PersistedSeries = (u64, Labels, Option<Span>);

/// One chunk to persist.
pub(crate) struct ChunkWrite<'a> {
    pub(crate) id: u64,
    pub(crate) chunk: &'a ClosedChunk,
    /// Unique suffix for out-of-order chunks.
    pub(crate) seq: u64,
}

/// The sled database: tree `series` (id → labels) and tree `chunks` holding
/// chunks, their time index and per-series spans.
///
/// After a failed write sled refuses every write until it is reopened (its
/// error is sticky), so a write error marks the store failed and
/// [`Store::reopen`] replaces the handles once the disk takes writes again.
/// sled then holds what it had made durable: the storage keeps everything
/// newer in the head until a flush has made it durable, so nothing is lost.
pub(crate) struct Store {
    path: PathBuf,
    cache_bytes: u64,
    /// `None` only while a reopen has not succeeded.
    trees: RwLock<Option<Trees>>,
    /// Set by a failed write: sled needs a reopen.
    failed: AtomicBool,
}

#[derive(Clone)]
struct Trees {
    db: sled::Db,
    series: sled::Tree,
    chunks: sled::Tree,
}

impl Trees {
    fn open(path: &Path, cache_bytes: u64) -> Result<Self, Error> {
        let db = open_sled(path, cache_bytes)?;
        match db.get(FORMAT_KEY)? {
            None => {
                db.insert(FORMAT_KEY, FORMAT_VERSION)?;
            }
            Some(v) if v.as_ref() == FORMAT_VERSION => {}
            Some(v) => {
                return Err(Error::Corrupt {
                    what: "sled",
                    detail: format!("unknown storage format {:?}", String::from_utf8_lossy(&v)),
                });
            }
        }
        Ok(Trees {
            series: db.open_tree("series")?,
            chunks: db.open_tree("chunks")?,
            db,
        })
    }
}

/// Opens the sled database at `path` with the storage's settings.
pub(crate) fn open_sled(path: &Path, cache_bytes: u64) -> sled::Result<sled::Db> {
    sled::Config::new()
        .path(path)
        .cache_capacity(cache_bytes)
        .mode(sled::Mode::LowSpace)
        .open()
}

/// Free space a reopen wants to find first, so it does not trade a working
/// read handle for one that fails again at once.
const REOPEN_PROBE_BYTES: usize = 4 << 20;

/// How long a reopen waits for the old handles' file lock to go.
const REOPEN_LOCK_WAIT: Duration = Duration::from_secs(2);

impl Store {
    pub(crate) fn open(path: &Path, cache_bytes: u64) -> Result<Self, Error> {
        Ok(Store {
            trees: RwLock::new(Some(Trees::open(path, cache_bytes)?)),
            path: path.to_path_buf(),
            cache_bytes,
            failed: AtomicBool::new(false),
        })
    }

    /// The current handles (cheap clones).
    fn trees(&self) -> Result<Trees, Error> {
        self.trees.read().clone().ok_or(Error::SledReopening)
    }

    /// Passes a write's result on, marking the store failed on error.
    fn wrote<T>(&self, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &r
            && !matches!(e, Error::SledReopening)
            && !self.failed.swap(true, Ordering::SeqCst)
        {
            tracing::error!(path = %self.path.display(), error = %e, "sled failed a write; it will be reopened once the disk takes writes");
        }
        r
    }

    /// Whether a write failed and sled needs [`Store::reopen`].
    pub(crate) fn needs_reopen(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Reopens sled after a failed write, once a probe file of a few MiB
    /// can be written beside it. `Ok(false)` when the disk has no room yet
    /// (the old handles stay, for reads). Readers wait while it runs.
    pub(crate) fn reopen(&self) -> Result<bool, Error> {
        if let Err(e) = self.probe_space() {
            tracing::debug!(error = %e, "sled not reopened yet: no room on the disk");
            return Ok(false);
        }
        let mut trees = self.trees.write();
        *trees = None;
        let started = Instant::now();
        let opened = loop {
            match Trees::open(&self.path, self.cache_bytes) {
                // The old handles' background thread lets go of the file
                // lock a moment after they are dropped.
                Err(Error::Sled(sled::Error::Io(e)))
                    if e.to_string().contains("could not acquire lock")
                        && started.elapsed() < REOPEN_LOCK_WAIT =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                r => break r,
            }
        };
        *trees = Some(opened?);
        self.failed.store(false, Ordering::SeqCst);
        tracing::info!(path = %self.path.display(), duration_ms = started.elapsed().as_millis() as u64, "sled reopened after a write error");
        Ok(true)
    }

    /// Bytes free on sled's file system for an unprivileged writer, when
    /// the platform says.
    pub(crate) fn free_bytes(&self) -> Option<u64> {
        #[cfg(target_os = "linux")]
        {
            let st = rustix::fs::statvfs(&self.path).ok()?;
            Some(st.f_bavail.saturating_mul(st.f_frsize))
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// Writes and syncs a probe file beside the sled directory, then
    /// removes it.
    fn probe_space(&self) -> std::io::Result<()> {
        use std::io::Write;
        let probe = self.path.with_extension("space-probe");
        let written = (|| {
            let mut f = std::fs::File::create(&probe)?;
            f.write_all(&vec![0u8; REOPEN_PROBE_BYTES])?;
            f.sync_all()
        })();
        let removed = std::fs::remove_file(&probe);
        written.and(removed)
    }

    /// Saves series records: each is appended to its block of
    /// [`SERIES_BLOCK`] ids (one read and one write per block touched).
    /// `key` is the series key (the label set's record encoding).
    pub(crate) fn put_series<'a>(
        &self,
        series: impl IntoIterator<Item = (u64, &'a [u8])>,
    ) -> Result<(), Error> {
        let mut blocks: std::collections::BTreeMap<u64, Vec<u8>> = Default::default();
        for (id, key) in series {
            let buf = blocks.entry(id / SERIES_BLOCK).or_default();
            put_uvarint(buf, id);
            buf.extend_from_slice(key);
        }
        self.wrote((|| {
            let t = self.trees()?;
            let mut batch = sled::Batch::default();
            for (block, added) in blocks {
                let key = block.to_be_bytes();
                let mut value = t.series.get(key)?.map(|v| v.to_vec()).unwrap_or_default();
                value.extend_from_slice(&added);
                batch.insert(&key, value);
            }
            t.series.apply_batch(batch)?;
            Ok(())
        })())
    }

    /// The `(id, labels)` records of one series block.
    pub(crate) fn block_entries(value: &[u8]) -> Result<Vec<(u64, Labels)>, Error> {
        let mut d = Decoder::new(value);
        let mut out = Vec::new();
        while !d.is_empty() {
            let id = d.uvarint()?;
            out.push((id, d.labels()?));
        }
        Ok(out)
    }

    /// Every persisted series with its stored time span (if it has chunks).
    pub(crate) fn load_series(&self) -> Result<Vec<PersistedSeries>, Error> {
        let t = self.trees()?;
        let mut out = Vec::new();
        for kv in t.series.iter() {
            let (_, v) = kv?;
            for (id, labels) in Self::block_entries(&v)? {
                out.push((id, labels, Self::span(&t, id)?));
            }
        }
        // A series saved twice (re-saved after a crash) is loaded once.
        out.sort_by_key(|s| s.0);
        out.dedup_by_key(|s| s.0);
        Ok(out)
    }

    fn span_key(id: u64) -> [u8; 9] {
        let mut k = [SPAN; 9];
        k[1..].copy_from_slice(&id.to_be_bytes());
        k
    }

    fn span(t: &Trees, id: u64) -> Result<Option<Span>, Error> {
        Ok(t.chunks
            .get(Self::span_key(id))?
            .and_then(|v| Span::decode(&v)))
    }

    fn chunk_key(id: u64, mint: i64, seq: u64) -> Vec<u8> {
        let mut k = Vec::with_capacity(25);
        k.push(CHUNK);
        k.extend_from_slice(&id.to_be_bytes());
        k.extend_from_slice(&time_key(mint));
        if seq != 0 {
            k.extend_from_slice(&seq.to_be_bytes());
        }
        k
    }

    /// Persists chunks and the spans of their series in one atomic batch.
    pub(crate) fn write_chunks(&self, writes: &[ChunkWrite<'_>]) -> Result<(), Error> {
        self.wrote(self.try_write_chunks(writes))
    }

    fn try_write_chunks(&self, writes: &[ChunkWrite<'_>]) -> Result<(), Error> {
        let t = self.trees()?;
        let mut batch = sled::Batch::default();
        let mut spans: rustc_hash::FxHashMap<u64, Span> = Default::default();
        for w in writes {
            let key = Self::chunk_key(w.id, w.chunk.mint, w.seq);
            let mut val = Vec::with_capacity(8 + w.chunk.bytes.len());
            val.extend_from_slice(&time_key(w.chunk.maxt));
            val.extend_from_slice(&w.chunk.bytes);
            let mut tkey = vec![TIME];
            tkey.extend_from_slice(&time_key(w.chunk.maxt));
            tkey.extend_from_slice(&key[1..]);
            // The chunk's stored size, so size retention needs no read.
            batch.insert(tkey, &(val.len() as u32).to_be_bytes());
            batch.insert(key, val);
            let span = Span::of(w.chunk);
            spans
                .entry(w.id)
                .and_modify(|s| *s = s.merge(span))
                .or_insert(span);
        }
        for (id, span) in spans {
            let span = match Self::span(&t, id)? {
                Some(old) => old.merge(span),
                None => span,
            };
            batch.insert(&Self::span_key(id), span.encode());
        }
        t.chunks.apply_batch(batch)?;
        Ok(())
    }

    /// Chunks of series `id` that overlap `[mint, maxt]`; `max_span` bounds
    /// how long a chunk can be, so the scan starts at `mint - max_span`.
    pub(crate) fn chunks(
        &self,
        id: u64,
        mint: i64,
        maxt: i64,
        max_span: i64,
    ) -> Result<Vec<Arc<[u8]>>, Error> {
        let from = Self::chunk_key(id, mint.saturating_sub(max_span), 0);
        let mut to = Self::chunk_key(id, maxt, 0);
        to.extend_from_slice(&[0xff; 9]);
        let t = self.trees()?;
        let mut out = Vec::new();
        for kv in t.chunks.range(from..to) {
            let (k, v) = kv?;
            if k.len() < 17 || v.len() < 8 {
                return Err(Error::Corrupt {
                    what: "chunk",
                    detail: format!("short key or value for series {id}"),
                });
            }
            let cmint = key_time(&k[9..17]);
            let cmaxt = key_time(&v[..8]);
            if cmaxt >= mint && cmint <= maxt {
                out.push(Arc::from(&v[8..]));
            }
        }
        Ok(out)
    }

    /// Deletes chunks whose newest sample is older than `cutoff` (at most
    /// `max` of them). Returns how many were deleted, their series ids and
    /// their size in bytes.
    pub(crate) fn delete_before(
        &self,
        cutoff: i64,
        max: usize,
    ) -> Result<(u64, Vec<u64>, u64), Error> {
        self.wrote(self.try_delete_before(cutoff, max))
    }

    fn try_delete_before(&self, cutoff: i64, max: usize) -> Result<(u64, Vec<u64>, u64), Error> {
        let t = self.trees()?;
        let mut end = vec![TIME];
        end.extend_from_slice(&time_key(cutoff));
        let mut batch = sled::Batch::default();
        let mut ids = Vec::new();
        let mut bytes = 0u64;
        let mut count = 0u64;
        for kv in t.chunks.range(vec![TIME]..end).take(max) {
            count += 1;
            let (tk, size) = kv?;
            let mut ck = vec![CHUNK];
            ck.extend_from_slice(&tk[9..]);
            if let Ok(size) = <[u8; 4]>::try_from(size.as_ref()) {
                bytes += u64::from(u32::from_be_bytes(size));
            }
            if tk.len() >= 17 {
                ids.push(be_u64(&tk[9..17]));
            }
            batch.remove(ck);
            batch.remove(tk);
        }
        t.chunks.apply_batch(batch)?;
        ids.sort_unstable();
        ids.dedup();
        Ok((count, ids, bytes))
    }

    /// Deletes every chunk of series `id`.
    pub(crate) fn delete_series_chunks(&self, id: u64) -> Result<(), Error> {
        self.wrote(self.try_delete_series_chunks(id))
    }

    fn try_delete_series_chunks(&self, id: u64) -> Result<(), Error> {
        let t = self.trees()?;
        let mut prefix = vec![CHUNK];
        prefix.extend_from_slice(&id.to_be_bytes());
        let mut batch = sled::Batch::default();
        for kv in t.chunks.scan_prefix(&prefix) {
            let (k, v) = kv?;
            if v.len() >= 8 {
                let mut tk = vec![TIME];
                tk.extend_from_slice(&v[..8]);
                tk.extend_from_slice(&k[1..]);
                batch.remove(tk);
            }
            batch.remove(k);
        }
        t.chunks.apply_batch(batch)?;
        Ok(())
    }

    /// Drops series records and their spans (their chunks must be gone).
    pub(crate) fn delete_series(&self, ids: &[u64]) -> Result<(), Error> {
        self.wrote(self.try_delete_series(ids))
    }

    fn try_delete_series(&self, ids: &[u64]) -> Result<(), Error> {
        let t = self.trees()?;
        let gone: rustc_hash::FxHashSet<u64> = ids.iter().copied().collect();
        let mut blocks: Vec<u64> = ids.iter().map(|id| id / SERIES_BLOCK).collect();
        blocks.sort_unstable();
        blocks.dedup();
        let mut batch = sled::Batch::default();
        for block in blocks {
            let key = block.to_be_bytes();
            let Some(v) = t.series.get(key)? else {
                continue;
            };
            let mut kept = Vec::with_capacity(v.len());
            for (id, labels) in Self::block_entries(&v)? {
                if !gone.contains(&id) {
                    put_uvarint(&mut kept, id);
                    put_labels(&mut kept, &labels);
                }
            }
            if kept.is_empty() {
                batch.remove(&key);
            } else {
                batch.insert(&key, kept);
            }
        }
        t.series.apply_batch(batch)?;
        let mut spans = sled::Batch::default();
        for id in ids {
            spans.remove(&Self::span_key(*id));
        }
        t.chunks.apply_batch(spans)?;
        Ok(())
    }

    /// Whether series `id` still has any chunk; also returns the oldest
    /// remaining chunk's start.
    pub(crate) fn first_chunk(&self, id: u64) -> Result<Option<i64>, Error> {
        let mut prefix = vec![CHUNK];
        prefix.extend_from_slice(&id.to_be_bytes());
        match self.trees()?.chunks.scan_prefix(prefix).next() {
            Some(kv) => {
                let (k, _) = kv?;
                Ok((k.len() >= 17).then(|| key_time(&k[9..17])))
            }
            None => Ok(None),
        }
    }

    /// Sets series `id`'s span start after retention removed older chunks.
    pub(crate) fn set_span_start(&self, id: u64, mint: i64) -> Result<(), Error> {
        self.wrote((|| {
            let t = self.trees()?;
            if let Some(span) = Self::span(&t, id)? {
                t.chunks
                    .insert(Self::span_key(id), Span { mint, ..span }.encode())?;
            }
            Ok(())
        })())
    }

    /// Oldest persisted chunk end, for size-based retention.
    pub(crate) fn oldest_chunk_maxt(&self) -> Result<Option<i64>, Error> {
        match self.trees()?.chunks.scan_prefix([TIME]).next() {
            Some(kv) => {
                let (k, _) = kv?;
                Ok((k.len() >= 9).then(|| key_time(&k[1..9])))
            }
            None => Ok(None),
        }
    }

    /// Makes everything written so far durable.
    pub(crate) fn flush(&self) -> Result<(), Error> {
        self.wrote((|| {
            self.trees()?.db.flush()?;
            Ok(())
        })())
    }

    pub(crate) fn size_on_disk(&self) -> u64 {
        self.trees()
            .ok()
            .and_then(|t| t.db.size_on_disk().ok())
            .unwrap_or(0)
    }

    /// A unique, increasing number that survives restarts.
    pub(crate) fn generate_id(&self) -> Result<u64, Error> {
        self.wrote((|| Ok(self.trees()?.db.generate_id()?))())
    }
}
