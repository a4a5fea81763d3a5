//! The scrape cache of one target, Prometheus' `scrapeCache`: it maps the
//! series text of a sample line (`name{labels}` exactly as written) to the
//! series it becomes after target labels and `metric_relabel_configs`, so
//! a series seen before costs a hash lookup and no label parsing or
//! relabeling. Texts are kept as their 128-bit SipHash under a key drawn
//! at random per process ([`TextKey`]), not as strings: a target cannot
//! aim at a collision without the key, and by chance one is as likely as
//! not in 10^19 texts. It also remembers which series the last successful
//! scrape produced, for staleness markers, and the metric metadata
//! (`# HELP`, `# TYPE`, `# UNIT`) of the target.
//!
//! Once storage has returned a series' reference, the cache drops its copy
//! of the labels and appends by reference alone: storage holds the labels
//! anyway, and gives them back ([`Appendable::labels_of`]) on the rare
//! occasions the cache needs them (staleness markers, a hash collision). A
//! reference storage no longer knows (retention deleted the series) is
//! forgotten, and the scrape is processed again, which rebuilds the labels
//! from the body.
//!
//! Entries not seen for [`EVICT_AFTER`] scrapes are evicted.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::{Arc, OnceLock};

use pharos_model::{Labels, Sample};
use pharos_textparse::MetricType;
use pharos_tsdb::{Appendable, SeriesAppend, SeriesRef};
use rustc_hash::FxHashMap;
use siphasher::sip128::SipHasher13;

/// Scrapes after which an entry not seen again is forgotten.
pub const EVICT_AFTER: u64 = 10;

/// A series text, as the cache keys it.
pub(crate) type TextKey = u128;

/// The key of series text `text`: its SipHash-1-3, 128 bits, under the
/// process' key (drawn from std's random source).
pub(crate) fn text_key(text: &str) -> TextKey {
    static HASHER: OnceLock<SipHasher13> = OnceLock::new();
    let hasher = HASHER.get_or_init(|| {
        let random = std::collections::hash_map::RandomState::new();
        SipHasher13::new_with_keys(random.hash_one(0u8), random.hash_one(1u8))
    });
    hasher.hash(text.as_bytes()).as_u128()
}

/// What a series text maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextRef {
    /// Index into [`ScrapeCache::series`].
    Series(u32),
    /// Dropped by `metric_relabel_configs`.
    Dropped,
}

#[derive(Debug)]
pub(crate) struct TextEntry {
    pub(crate) target: TextRef,
    pub(crate) last_iter: u64,
}

/// What the cache knows of a series besides its labels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlotMeta {
    pub(crate) id: u32,
    pub(crate) hash: u64,
    /// The scrape that last produced it (to find series that went away,
    /// and for eviction).
    pub(crate) last_iter: u64,
    /// The scrape whose batch it is in (a sample or a staleness marker).
    pub(crate) placed_iter: u64,
}

/// Marks a free id in [`ScrapeCache::pos`].
const FREE: u32 = u32::MAX;

/// One metric family's metadata, as the metadata APIs report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricMetadata {
    pub metric: String,
    pub metric_type: MetricType,
    pub help: String,
    pub unit: String,
}

#[derive(Debug)]
pub(crate) struct MetadataEntry {
    pub(crate) meta: MetricMetadata,
    pub(crate) last_iter: u64,
}

/// The cache. Series live in `slots`, each a `SeriesAppend` holding the
/// series' labels until storage has a reference for it (empty after) and
/// a one-sample buffer: a scrape moves the series it produces to the front
/// (`slots[..placed]`), so that prefix is the scrape's storage batch,
/// built without copying a label.
#[derive(Debug, Default)]
pub(crate) struct ScrapeCache {
    pub(crate) by_text: FxHashMap<TextKey, TextEntry>,
    slots: Vec<SeriesAppend>,
    meta: Vec<SlotMeta>,
    /// Storage references of the slots' series (same order as `slots`):
    /// appends pass them so storage skips matching labels. A slot with a
    /// reference has empty labels once its batch was accepted.
    refs: Vec<SeriesRef>,
    /// Series id to its position in `slots` ([`FREE`] if unused).
    pos: Vec<u32>,
    free: Vec<u32>,
    /// Label-set hash to series: finds a series reached through another
    /// text (two spellings, or relabeling that merges series).
    by_hash: FxHashMap<u64, u32>,
    /// How many slots the current scrape has placed.
    placed: usize,
    /// The current scrape number; bumped at the start of each scrape.
    pub(crate) iter: u64,
    /// Series the last successful scrape stored (without explicit
    /// timestamps): the candidates for staleness markers.
    pub(crate) prev: Vec<u32>,
    /// The same for the scrape being processed: it becomes `prev` once
    /// storage has accepted the scrape ([`ScrapeCache::commit`]), so a
    /// refused scrape leaves `prev` as it was.
    pub(crate) current: Vec<u32>,
    /// Ids of the report series, once interned.
    pub(crate) report_ids: Option<[u32; 5]>,
    pub(crate) metadata: FxHashMap<String, MetadataEntry>,
    /// Set when metadata changed in the current scrape.
    pub(crate) metadata_changed: bool,
    /// Metadata entries seen in the current scrape.
    metadata_seen: usize,
    /// How many entries the last published list had.
    metadata_published: usize,
}

/// What placing a sample did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placed {
    New,
    /// The series already has a sample in this scrape.
    Duplicate,
}

impl ScrapeCache {
    /// Starts a scrape.
    pub(crate) fn begin(&mut self) -> u64 {
        self.iter += 1;
        self.placed = 0;
        self.metadata_changed = false;
        self.metadata_seen = 0;
        self.iter
    }

    /// The series with `labels` (hashed to `hash`), added if new. Returns
    /// its id and whether it was added. `storage` tells the labels of a
    /// series the cache knows only by reference.
    pub(crate) fn intern(
        &mut self,
        labels: Labels,
        hash: u64,
        storage: &dyn Appendable,
    ) -> (u32, bool) {
        if let Some(&id) = self.by_hash.get(&hash)
            && let Some(l) = self.labels(id, storage)
            && *l == labels
        {
            return (id, false);
        }
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.pos.push(FREE);
                (self.pos.len() - 1) as u32
            }
        };
        self.pos[id as usize] = self.slots.len() as u32;
        self.slots.push(SeriesAppend {
            labels,
            samples: Vec::with_capacity(1),
        });
        self.meta.push(SlotMeta {
            id,
            hash,
            last_iter: 0,
            placed_iter: 0,
        });
        self.refs.push(SeriesRef::NONE);
        self.by_hash.insert(hash, id);
        (id, true)
    }

    fn slot(&self, id: u32) -> Option<usize> {
        let p = *self.pos.get(id as usize)?;
        (p != FREE).then_some(p as usize)
    }

    /// The labels of series `id`: the cache's own, or storage's for a
    /// series known by reference (`None` if storage no longer has it).
    pub(crate) fn labels(&self, id: u32, storage: &dyn Appendable) -> Option<Cow<'_, Labels>> {
        let p = self.slot(id)?;
        if self.refs[p].is_none() {
            return Some(Cow::Borrowed(&self.slots[p].labels));
        }
        storage.labels_of(self.refs[p]).map(Cow::Owned)
    }

    pub(crate) fn meta(&self, id: u32) -> Option<&SlotMeta> {
        self.slot(id).map(|p| &self.meta[p])
    }

    /// Marks `id` as produced by the current scrape.
    pub(crate) fn seen(&mut self, id: u32) {
        if let Some(p) = self.slot(id) {
            self.meta[p].last_iter = self.iter;
        }
    }

    /// Puts `sample` of series `id` into the current batch. A series
    /// already placed keeps its first sample (`Duplicate`) unless
    /// `overwrite`.
    pub(crate) fn place(&mut self, id: u32, sample: Sample, overwrite: bool) -> Placed {
        let Some(p) = self.slot(id) else {
            return Placed::Duplicate;
        };
        if self.meta[p].placed_iter == self.iter {
            if overwrite {
                self.slots[p].samples.clear();
                self.slots[p].samples.push(sample);
            }
            return Placed::Duplicate;
        }
        let to = self.placed;
        if p != to {
            self.slots.swap(p, to);
            self.meta.swap(p, to);
            self.refs.swap(p, to);
            self.pos[self.meta[p].id as usize] = p as u32;
            self.pos[id as usize] = to as u32;
        }
        self.meta[to].placed_iter = self.iter;
        let buf = &mut self.slots[to].samples;
        buf.clear();
        buf.push(sample);
        self.placed += 1;
        Placed::New
    }

    /// The current scrape's batch.
    #[cfg(test)]
    pub(crate) fn batch(&self) -> &[SeriesAppend] {
        &self.slots[..self.placed]
    }

    /// After storage accepted the current scrape: drops the labels of
    /// every placed series that now has a reference, and makes the
    /// scrape's series the candidates for the next staleness markers.
    pub(crate) fn commit(&mut self) {
        for p in 0..self.placed {
            if !self.refs[p].is_none() {
                self.slots[p].labels = Labels::empty();
            }
        }
        self.prev = std::mem::take(&mut self.current);
    }

    /// Forgets every series the cache knows only by a reference storage no
    /// longer has, and the texts leading to them, so processing the
    /// scrape again rebuilds them from the body. Ends the current batch.
    /// Returns whether any was forgotten.
    pub(crate) fn forget_unknown(&mut self, storage: &dyn Appendable) -> bool {
        self.placed = 0;
        let mut gone = rustc_hash::FxHashSet::default();
        let mut p = 0;
        while p < self.slots.len() {
            if self.refs[p].is_none() || storage.labels_of(self.refs[p]).is_some() {
                p += 1;
                continue;
            }
            gone.insert(self.meta[p].id);
            self.free_slot(p);
        }
        if gone.is_empty() {
            return false;
        }
        self.by_text
            .retain(|_, e| !matches!(e.target, TextRef::Series(id) if gone.contains(&id)));
        if self
            .report_ids
            .is_some_and(|ids| ids.iter().any(|id| gone.contains(id)))
        {
            self.report_ids = None;
        }
        true
    }

    /// Frees the slot at `p` (moving the last slot there).
    fn free_slot(&mut self, p: usize) {
        let m = self.meta[p];
        if self.by_hash.get(&m.hash) == Some(&m.id) {
            self.by_hash.remove(&m.hash);
        }
        self.pos[m.id as usize] = FREE;
        self.free.push(m.id);
        self.slots.swap_remove(p);
        self.meta.swap_remove(p);
        self.refs.swap_remove(p);
        if p < self.slots.len() {
            self.pos[self.meta[p].id as usize] = p as u32;
        }
    }

    /// The current scrape's batch with its series' storage references,
    /// for the storage to use and fill in. Series known by reference
    /// carry empty labels.
    pub(crate) fn batch_with_refs(&mut self) -> (&[SeriesAppend], &mut [SeriesRef]) {
        (&self.slots[..self.placed], &mut self.refs[..self.placed])
    }

    /// Forgets entries not seen for [`EVICT_AFTER`] scrapes. A text entry
    /// seen implies its series seen, so live texts never point at freed
    /// series. Placed slots are never old, and stay where they are.
    pub(crate) fn evict(&mut self) {
        let iter = self.iter;
        let old = |last: u64| last + EVICT_AFTER < iter;
        self.by_text.retain(|_, e| !old(e.last_iter));
        let reserved = self.report_ids.unwrap_or([FREE; 5]);
        let mut p = self.placed;
        while p < self.slots.len() {
            let m = self.meta[p];
            if !old(m.last_iter) || reserved.contains(&m.id) {
                p += 1;
                continue;
            }
            self.free_slot(p);
        }
        self.metadata.retain(|_, m| !old(m.last_iter));
    }

    /// Whether eviction is worth running now: every [`EVICT_AFTER`]
    /// scrapes, or when far more texts are cached than a scrape has.
    pub(crate) fn should_evict(&self, scraped: usize) -> bool {
        self.iter.is_multiple_of(EVICT_AFTER) || self.by_text.len() > 2 * scraped + 16
    }

    /// Whether the metadata of this scrape differs from the last list
    /// published with [`ScrapeCache::metadata_list`].
    pub(crate) fn metadata_dirty(&self) -> bool {
        self.metadata_changed || self.metadata_seen != self.metadata_published
    }

    /// Metadata seen in the current scrape, sorted by metric.
    pub(crate) fn metadata_list(&mut self) -> Arc<[MetricMetadata]> {
        self.metadata_published = self.metadata_seen;
        let mut v: Vec<MetricMetadata> = self
            .metadata
            .values()
            .filter(|m| m.last_iter == self.iter)
            .map(|m| m.meta.clone())
            .collect();
        v.sort_by(|a, b| a.metric.cmp(&b.metric));
        v.into()
    }

    /// Records a metadata line of the current scrape.
    pub(crate) fn note_metadata(
        &mut self,
        metric: &str,
        edit: impl FnOnce(&mut MetricMetadata) -> bool,
    ) {
        let iter = self.iter;
        let entry = match self.metadata.get_mut(metric) {
            Some(e) => e,
            None => {
                self.metadata_changed = true;
                self.metadata
                    .entry(metric.to_owned())
                    .or_insert_with(|| MetadataEntry {
                        meta: MetricMetadata {
                            metric: metric.to_owned(),
                            metric_type: MetricType::Unknown,
                            help: String::new(),
                            unit: String::new(),
                        },
                        last_iter: 0,
                    })
            }
        };
        if entry.last_iter != iter {
            entry.last_iter = iter;
            self.metadata_seen += 1;
        }
        if edit(&mut entry.meta) {
            self.metadata_changed = true;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use pharos_tsdb::MemStorage;

    #[test]
    fn text_keys_tell_texts_apart() {
        let a = text_key(r#"a{x="1"}"#);
        assert_eq!(a, text_key(r#"a{x="1"}"#));
        assert_ne!(a, text_key(r#"a{x="2"}"#));
        assert_ne!(a, text_key(r#"a{x="1"} "#));
        assert_ne!(text_key(""), text_key("a"));
    }

    #[test]
    fn intern_finds_equal_labels_and_eviction_frees() {
        let mut c = ScrapeCache::default();
        let st = MemStorage::new();
        c.begin();
        let l = Labels::from_pairs([("__name__", "a")]);
        let (id, added) = c.intern(l.clone(), 7, &st);
        assert!(added);
        assert_eq!(c.intern(l.clone(), 7, &st), (id, false));
        // Same hash, other labels: a separate series.
        let (other, added) = c.intern(Labels::from_pairs([("__name__", "b")]), 7, &st);
        assert!(added && other != id);
        c.seen(id);
        for _ in 0..=EVICT_AFTER {
            c.begin();
        }
        c.evict();
        assert!(c.labels(id, &st).is_none() && c.labels(other, &st).is_none());
        let (again, added) = c.intern(l, 7, &st);
        assert!(added);
        assert!(again == id || again == other);
    }

    #[test]
    fn placed_series_form_the_batch_in_placement_order() {
        let mut c = ScrapeCache::default();
        let st = MemStorage::new();
        c.begin();
        let ids: Vec<u32> = ["a", "b", "c"]
            .iter()
            .map(|n| {
                c.intern(
                    Labels::from_pairs([("__name__", *n)]),
                    n.len() as u64 + n.as_bytes()[0] as u64,
                    &st,
                )
                .0
            })
            .collect();
        for &id in &ids {
            assert_eq!(c.place(id, Sample::new(1, 1.0), false), Placed::New);
        }
        assert_eq!(
            c.place(ids[0], Sample::new(1, 9.0), false),
            Placed::Duplicate
        );
        assert_eq!(c.batch().len(), 3);
        c.begin();
        c.place(ids[2], Sample::new(2, 3.0), false);
        c.place(ids[0], Sample::new(2, 1.0), false);
        let names: Vec<&str> = c
            .batch()
            .iter()
            .map(|s| s.labels.metric_name().unwrap())
            .collect();
        assert_eq!(names, ["c", "a"]);
        assert_eq!(c.batch()[0].samples, [Sample::new(2, 3.0)]);
        assert_eq!(c.labels(ids[1], &st).unwrap().metric_name(), Some("b"));
    }
}
