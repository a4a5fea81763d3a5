//! The scrape cache of one target, Prometheus' `scrapeCache`: it maps the
//! series text of a sample line (`name{labels}` exactly as written) to the
//! series it becomes after target labels and `metric_relabel_configs`, so
//! a series seen before costs a hash lookup and no label parsing or
//! relabeling. It also remembers which series the last successful scrape
//! produced, for staleness markers, and the metric metadata (`# HELP`,
//! `# TYPE`, `# UNIT`) of the target.
//!
//! Entries not seen for [`EVICT_AFTER`] scrapes are evicted.

use std::sync::Arc;

use pharos_model::Labels;
use pharos_textparse::MetricType;
use rustc_hash::FxHashMap;

/// Scrapes after which an entry not seen again is forgotten.
pub const EVICT_AFTER: u64 = 10;

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

/// A series this target produces.
#[derive(Debug)]
pub(crate) struct CachedSeries {
    pub(crate) labels: Labels,
    pub(crate) hash: u64,
    /// The scrape that last produced it (to find duplicates within one
    /// scrape and series that went away).
    pub(crate) last_iter: u64,
}

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

#[derive(Debug, Default)]
pub(crate) struct ScrapeCache {
    pub(crate) by_text: FxHashMap<Box<str>, TextEntry>,
    pub(crate) series: Vec<Option<CachedSeries>>,
    free: Vec<u32>,
    /// Label-set hash to series: finds a series reached through another
    /// text (two spellings, or relabeling that merges series).
    by_hash: FxHashMap<u64, u32>,
    /// The current scrape number; bumped at the start of each scrape.
    pub(crate) iter: u64,
    /// Series the last successful scrape stored (without explicit
    /// timestamps): the candidates for staleness markers.
    pub(crate) prev: Vec<u32>,
    pub(crate) metadata: FxHashMap<String, MetadataEntry>,
    /// Set when metadata changed in the current scrape.
    pub(crate) metadata_changed: bool,
    /// Metadata entries seen in the current scrape.
    metadata_seen: usize,
    /// How many entries the last published list had.
    metadata_published: usize,
    /// The batch of the last scrape, kept for reuse.
    pub(crate) batch: crate::batch::Batch,
}

impl ScrapeCache {
    /// Starts a scrape.
    pub(crate) fn begin(&mut self) -> u64 {
        self.iter += 1;
        self.metadata_changed = false;
        self.metadata_seen = 0;
        self.iter
    }

    /// The series with `labels` (hashed to `hash`), added if new. Returns
    /// its index and whether it was added.
    pub(crate) fn intern(&mut self, labels: Labels, hash: u64) -> (u32, bool) {
        if let Some(&id) = self.by_hash.get(&hash)
            && let Some(Some(s)) = self.series.get(id as usize)
            && s.labels == labels
        {
            return (id, false);
        }
        let entry = CachedSeries {
            labels,
            hash,
            last_iter: 0,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.series[id as usize] = Some(entry);
                id
            }
            None => {
                self.series.push(Some(entry));
                (self.series.len() - 1) as u32
            }
        };
        self.by_hash.insert(hash, id);
        (id, true)
    }

    pub(crate) fn series(&self, id: u32) -> Option<&CachedSeries> {
        self.series.get(id as usize).and_then(Option::as_ref)
    }

    pub(crate) fn series_mut(&mut self, id: u32) -> Option<&mut CachedSeries> {
        self.series.get_mut(id as usize).and_then(Option::as_mut)
    }

    /// Forgets entries not seen for [`EVICT_AFTER`] scrapes. A text entry
    /// seen implies its series seen, so live texts never point at freed
    /// series.
    pub(crate) fn evict(&mut self) {
        let iter = self.iter;
        let old = |last: u64| last + EVICT_AFTER < iter;
        self.by_text.retain(|_, e| !old(e.last_iter));
        for (i, slot) in self.series.iter_mut().enumerate() {
            if let Some(s) = slot
                && old(s.last_iter)
            {
                if self.by_hash.get(&s.hash) == Some(&(i as u32)) {
                    self.by_hash.remove(&s.hash);
                }
                *slot = None;
                self.free.push(i as u32);
            }
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

    #[test]
    fn intern_finds_equal_labels_and_eviction_frees() {
        let mut c = ScrapeCache::default();
        c.begin();
        let l = Labels::from_pairs([("__name__", "a")]);
        let (id, added) = c.intern(l.clone(), 7);
        assert!(added);
        assert_eq!(c.intern(l.clone(), 7), (id, false));
        // Same hash, other labels: a separate series.
        let (other, added) = c.intern(Labels::from_pairs([("__name__", "b")]), 7);
        assert!(added && other != id);
        if let Some(s) = c.series_mut(id) {
            s.last_iter = 1;
        }
        for _ in 0..=EVICT_AFTER {
            c.begin();
        }
        c.evict();
        assert!(c.series(id).is_none());
        let (again, added) = c.intern(l, 7);
        assert!(added);
        assert!(again == id || again == other);
    }
}
