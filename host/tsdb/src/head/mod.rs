//! The head: recent samples of every series, in memory. The open chunk of a
//! series takes appends; full chunks wait here until the flusher has put them
//! into sled; out-of-order samples accepted within the window wait in a
//! sorted buffer.

mod index;

use rustc_hash::FxHashMap as HashMap;
use std::hash::Hasher;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use pharos_model::{Labels, Matcher, Sample};

use crate::chunkenc::XorAppender;
pub(crate) use index::Index;

/// A chunk that is full but not yet persisted.
#[derive(Debug, Clone)]
pub(crate) struct ClosedChunk {
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    pub(crate) ooo: bool,
    pub(crate) bytes: Arc<[u8]>,
}

/// When chunks are cut.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkPolicy {
    pub(crate) samples: usize,
    pub(crate) max_span: i64,
}

#[derive(Debug)]
pub(crate) struct MemSeries {
    /// The label set, encoded as in a WAL series record (`series_key`): one
    /// allocation, compared and hashed as plain bytes on the append path.
    pub(crate) key: Box<[u8]>,
    pub(crate) open: XorAppender,
    pub(crate) closed: Vec<ClosedChunk>,
    /// Out-of-order samples, sorted by time.
    pub(crate) ooo: Vec<Sample>,
    /// Newest in-order sample, persisted or not (`t == i64::MIN` when none).
    pub(crate) last: Sample,
    /// Time span of everything stored for this series.
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    /// Newest in-order sample already in sled (`i64::MIN` when none).
    pub(crate) persisted_maxt: i64,
    /// Newest sample of any chunk in sled, out-of-order ones included
    /// (`i64::MIN` when none): reads skip sled below it.
    pub(crate) persisted_until: i64,
}

impl MemSeries {
    pub(crate) fn new(key: Box<[u8]>) -> Self {
        MemSeries {
            key,
            open: XorAppender::new(),
            closed: Vec::new(),
            ooo: Vec::new(),
            last: Sample::new(i64::MIN, 0.0),
            mint: i64::MAX,
            maxt: i64::MIN,
            persisted_maxt: i64::MIN,
            persisted_until: i64::MIN,
        }
    }

    /// The label set, decoded from the key.
    pub(crate) fn labels(&self) -> Labels {
        let labels = crate::record::Decoder::new(&self.key).labels();
        debug_assert!(labels.is_ok(), "series keys are written by series_key");
        labels.unwrap_or_default()
    }

    fn widen(&mut self, t: i64) {
        self.mint = self.mint.min(t);
        self.maxt = self.maxt.max(t);
    }

    /// Appends a sample newer than `last`. Returns true if a chunk was cut.
    pub(crate) fn append(&mut self, s: Sample, p: ChunkPolicy) -> bool {
        let n = self.open.num_samples();
        let cut = n > 0
            && (n >= p.samples
                || self
                    .open
                    .min_time()
                    .is_some_and(|m| s.t.saturating_sub(m) > p.max_span));
        if cut {
            self.cut_open();
        }
        self.open.append(s.t, s.v);
        self.last = s;
        self.widen(s.t);
        cut
    }

    /// Moves the open chunk to the closed ones. Returns false if it was
    /// empty.
    pub(crate) fn cut_open(&mut self) -> bool {
        let full = std::mem::take(&mut self.open);
        self.close_chunk(full, false)
    }

    fn close_chunk(&mut self, chunk: XorAppender, ooo: bool) -> bool {
        let (Some(mint), Some(maxt)) = (chunk.min_time(), chunk.max_time()) else {
            return false;
        };
        self.closed.push(ClosedChunk {
            mint,
            maxt,
            ooo,
            bytes: chunk.into_bytes().into(),
        });
        true
    }

    /// Inserts an out-of-order sample (the caller checked duplicates).
    /// Returns true if an out-of-order chunk was cut.
    pub(crate) fn insert_ooo(&mut self, s: Sample, p: ChunkPolicy) -> bool {
        let i = self.ooo.partition_point(|x| x.t < s.t);
        self.ooo.insert(i, s);
        self.widen(s.t);
        let span = match (self.ooo.first(), self.ooo.last()) {
            (Some(f), Some(l)) => l.t.saturating_sub(f.t),
            _ => 0,
        };
        if self.ooo.len() >= p.samples || span > p.max_span {
            self.cut_ooo();
            return true;
        }
        false
    }

    pub(crate) fn cut_ooo(&mut self) {
        if self.ooo.is_empty() {
            return;
        }
        let mut app = XorAppender::new();
        for s in self.ooo.drain(..) {
            app.append(s.t, s.v);
        }
        self.close_chunk(app, true);
    }

    /// The out-of-order sample at `t`, if buffered.
    pub(crate) fn ooo_at(&self, t: i64) -> Option<Sample> {
        self.ooo
            .binary_search_by_key(&t, |s| s.t)
            .ok()
            .map(|i| self.ooo[i])
    }

    pub(crate) fn num_samples(&self) -> usize {
        self.open.num_samples() + self.ooo.len()
    }
}

pub(crate) type SeriesCell = Arc<Mutex<MemSeries>>;

#[derive(Debug, Default)]
pub(crate) struct HeadInner {
    pub(crate) series: HashMap<u64, SeriesCell>,
    by_hash: ByHash,
    pub(crate) index: Index,
}

/// Series ids by the hash of their key. Hashes rarely collide, so the
/// first id of a hash sits in a plain map and only further ones in a list
/// (a `Vec` per hash cost ~40 bytes a series).
#[derive(Debug, Default)]
struct ByHash {
    first: HashMap<u64, u64>,
    more: HashMap<u64, Vec<u64>>,
}

impl ByHash {
    fn ids(&self, hash: u64) -> impl Iterator<Item = u64> + '_ {
        let more = self.more.get(&hash).map(Vec::as_slice).unwrap_or_default();
        self.first
            .get(&hash)
            .copied()
            .into_iter()
            .chain(more.iter().copied())
    }

    fn add(&mut self, hash: u64, id: u64) {
        if let Some(&first) = self.first.get(&hash) {
            if first != id {
                self.more.entry(hash).or_default().push(id);
            }
        } else {
            self.first.insert(hash, id);
        }
    }

    fn remove(&mut self, hash: u64, id: u64) {
        if self.first.get(&hash) == Some(&id) {
            match self.more.get_mut(&hash).and_then(Vec::pop) {
                Some(next) => {
                    self.first.insert(hash, next);
                }
                None => {
                    self.first.remove(&hash);
                }
            }
        } else if let Some(ids) = self.more.get_mut(&hash) {
            ids.retain(|x| *x != id);
        }
        if self.more.get(&hash).is_some_and(Vec::is_empty) {
            self.more.remove(&hash);
        }
    }
}

#[cfg(test)]
mod by_hash_tests {
    use super::ByHash;

    #[test]
    fn colliding_hashes_keep_every_id() {
        let mut b = ByHash::default();
        b.add(7, 1);
        b.add(7, 2);
        b.add(7, 3);
        b.add(8, 4);
        assert_eq!(b.ids(7).collect::<Vec<_>>(), [1, 2, 3]);
        b.remove(7, 1);
        let mut left: Vec<u64> = b.ids(7).collect();
        left.sort_unstable();
        assert_eq!(left, [2, 3]);
        b.remove(7, 3);
        b.remove(7, 2);
        assert_eq!(b.ids(7).count(), 0);
        assert!(b.more.is_empty());
        assert_eq!(b.ids(8).collect::<Vec<_>>(), [4]);
    }
}

/// All series, looked up by id or by labels, plus the index.
#[derive(Debug, Default)]
pub(crate) struct Head {
    pub(crate) inner: RwLock<HeadInner>,
}

/// Appends the series key of `labels` (the WAL's label-set encoding) to
/// `buf`.
pub(crate) fn series_key(buf: &mut Vec<u8>, labels: &Labels) {
    crate::record::put_labels(buf, labels);
}

pub(crate) fn key_hash(key: &[u8]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(key);
    h.finish()
}

impl Head {
    /// The id of the series with this key (see [`series_key`]).
    pub(crate) fn lookup(&self, key: &[u8], hash: u64) -> Option<(u64, SeriesCell)> {
        let inner = self.inner.read();
        inner.by_hash.ids(hash).find_map(|id| {
            let s = inner.series.get(&id)?;
            (*s.lock().key == *key).then(|| (id, s.clone()))
        })
    }

    pub(crate) fn get(&self, id: u64) -> Option<SeriesCell> {
        self.inner.read().series.get(&id).cloned()
    }

    /// Adds a series with these labels; returns it (or the existing one
    /// with that id).
    pub(crate) fn insert(&self, id: u64, labels: &Labels) -> SeriesCell {
        let mut inner = self.inner.write();
        if let Some(s) = inner.series.get(&id) {
            return s.clone();
        }
        let mut key = Vec::new();
        series_key(&mut key, labels);
        let series = MemSeries::new(key.into_boxed_slice());
        let hash = key_hash(&series.key);
        inner.index.add(id, labels);
        inner.by_hash.add(hash, id);
        let s = Arc::new(Mutex::new(series));
        inner.series.insert(id, s.clone());
        s
    }

    pub(crate) fn remove(&self, id: u64) {
        let mut inner = self.inner.write();
        let Some(s) = inner.series.remove(&id) else {
            return;
        };
        let (labels, hash) = {
            let s = s.lock();
            (s.labels(), key_hash(&s.key))
        };
        inner.index.remove(id, &labels);
        inner.by_hash.remove(hash, id);
    }

    /// Series matching the matchers, sorted by id.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Vec<(u64, SeriesCell)> {
        let inner = self.inner.read();
        inner
            .index
            .select(matchers)
            .into_iter()
            .filter_map(|id| inner.series.get(&id).map(|s| (id, s.clone())))
            .collect()
    }

    pub(crate) fn num_series(&self) -> usize {
        self.inner.read().series.len()
    }

    /// Every series, for checkpoints and retention.
    pub(crate) fn all(&self) -> Vec<(u64, SeriesCell)> {
        let inner = self.inner.read();
        let mut v: Vec<_> = inner.series.iter().map(|(k, v)| (*k, v.clone())).collect();
        v.sort_unstable_by_key(|x| x.0);
        v
    }
}
