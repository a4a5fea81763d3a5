//! The labels a queue sends for each series id: the WAL's series records
//! give them, the storage ([`SeriesLookup`]) fills in ids whose record the
//! queue did not read (series created before the WAL segments it reads).
//!
//! As in Prometheus, a series' labels get the external labels the series
//! does not already have (its own labels win), then `write_relabel_configs`;
//! a series that relabeling drops, or that ends up with no labels, is not
//! sent. Each label set is computed once and cached in wire form.

use std::sync::Arc;

use pharos_model::{Labels, LabelsBuilder};
use pharos_relabel::{Relabel, process_builder};
use pharos_tsdb::wal::watch::SeriesLookup;
use rustc_hash::FxHashMap as HashMap;

use crate::batch::encode_labels;

/// A series as sent: its labels in wire form (see [`encode_labels`]).
#[derive(Debug, PartialEq)]
pub(crate) struct SeriesEntry {
    pub(crate) id: u64,
    pub(crate) wire: Vec<u8>,
}

/// What the cache knows about an id.
#[derive(Debug)]
pub(crate) enum Lookup {
    Send(Arc<SeriesEntry>),
    /// Relabeling dropped the series.
    Dropped,
    /// Neither the WAL read so far nor the storage knows the id.
    Unknown,
}

struct Slot {
    entry: Option<Arc<SeriesEntry>>,
    /// WAL segment in which the id was last used.
    seen: u64,
}

/// Series labels of one queue, by id.
pub(crate) struct SeriesCache {
    map: HashMap<u64, Slot>,
    external: Labels,
    relabel: Vec<Relabel>,
    lookup: Option<Arc<dyn SeriesLookup>>,
}

impl SeriesCache {
    pub(crate) fn new(
        external: Labels,
        relabel: Vec<Relabel>,
        lookup: Option<Arc<dyn SeriesLookup>>,
    ) -> Self {
        SeriesCache {
            map: HashMap::default(),
            external,
            relabel,
            lookup,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Records the labels of series `id` from a series record in `segment`.
    pub(crate) fn store(&mut self, id: u64, labels: &Labels, segment: u64) {
        let entry = self.process(id, labels);
        self.map.insert(
            id,
            Slot {
                entry,
                seen: segment,
            },
        );
    }

    /// What to do with a sample of series `id` read in `segment`.
    pub(crate) fn get(&mut self, id: u64, segment: u64) -> Lookup {
        if let Some(slot) = self.map.get_mut(&id) {
            slot.seen = segment;
            return match &slot.entry {
                Some(e) => Lookup::Send(e.clone()),
                None => Lookup::Dropped,
            };
        }
        let Some(labels) = self.lookup.as_ref().and_then(|l| l.series_labels(id)) else {
            return Lookup::Unknown;
        };
        self.store(id, &labels, segment);
        self.get(id, segment)
    }

    /// Forgets series not used in `segment` or the one before, when the
    /// storage can give them again. Called as the reader enters `segment`.
    pub(crate) fn forget_idle(&mut self, segment: u64) {
        if self.lookup.is_some() {
            self.map.retain(|_, s| s.seen + 1 >= segment);
        }
    }

    fn process(&self, id: u64, labels: &Labels) -> Option<Arc<SeriesEntry>> {
        let mut b: LabelsBuilder = labels.to_builder();
        for l in &self.external {
            if labels.get(&l.name).is_none() {
                b.set(l.name.clone(), l.value.clone());
            }
        }
        if !process_builder(&mut b, &self.relabel) {
            return None;
        }
        let labels = b.build();
        if labels.is_empty() {
            return None;
        }
        let wire = encode_labels(labels.iter().map(|l| (l.name.as_str(), l.value.as_str())));
        Some(Arc::new(SeriesEntry { id, wire }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pharos_relabel::RelabelConfig;

    struct Fixed(Vec<(u64, Labels)>);

    impl SeriesLookup for Fixed {
        fn series_labels(&self, id: u64) -> Option<Labels> {
            self.0
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, l)| l.clone())
        }
    }

    fn pairs(e: &SeriesEntry) -> Vec<(String, String)> {
        use prost::Message;
        let ts = pharos_prompb::TimeSeries::decode(e.wire.as_slice()).unwrap();
        ts.labels.into_iter().map(|l| (l.name, l.value)).collect()
    }

    fn owned(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    fn relabel(yaml_like: &[(&str, &str)]) -> Relabel {
        let mut v = serde_json::Map::new();
        for (k, val) in yaml_like {
            let value = if *k == "source_labels" {
                serde_json::json!(val.split(',').collect::<Vec<_>>())
            } else {
                serde_json::json!(val)
            };
            v.insert((*k).to_owned(), value);
        }
        let c: RelabelConfig = serde_json::from_value(serde_json::Value::Object(v)).unwrap();
        c.compile().unwrap()
    }

    #[test]
    fn external_labels_do_not_override_and_relabel_runs_after_them() {
        let external = Labels::from_pairs([("region", "eu"), ("job", "ext")]);
        let drop_debug = relabel(&[
            ("source_labels", "__name__"),
            ("regex", "debug_.*"),
            ("action", "drop"),
        ]);
        let copy_region = relabel(&[("source_labels", "region"), ("target_label", "zone")]);
        let mut c = SeriesCache::new(external, vec![drop_debug, copy_region], None);
        c.store(
            1,
            &Labels::from_pairs([("__name__", "up"), ("job", "node")]),
            0,
        );
        c.store(2, &Labels::from_pairs([("__name__", "debug_x")]), 0);
        let Lookup::Send(e) = c.get(1, 0) else {
            panic!()
        };
        assert_eq!(
            pairs(&e),
            owned(&[
                ("__name__", "up"),
                ("job", "node"),
                ("region", "eu"),
                ("zone", "eu")
            ])
        );
        assert!(matches!(c.get(2, 0), Lookup::Dropped));
        assert!(matches!(c.get(3, 0), Lookup::Unknown));
    }

    #[test]
    fn unknown_ids_come_from_the_storage_and_idle_ones_are_forgotten() {
        let lookup = Fixed(vec![(7, Labels::from_pairs([("__name__", "a")]))]);
        let mut c = SeriesCache::new(Labels::empty(), vec![], Some(Arc::new(lookup)));
        let Lookup::Send(e) = c.get(7, 3) else {
            panic!()
        };
        assert_eq!((e.id, pairs(&e)), (7, owned(&[("__name__", "a")])));
        assert_eq!(c.len(), 1);
        c.forget_idle(4);
        assert_eq!(c.len(), 1);
        c.forget_idle(5);
        assert_eq!(c.len(), 0);
        // Given again by the storage.
        assert!(matches!(c.get(7, 5), Lookup::Send(_)));
        // Without a storage to ask, nothing is forgotten.
        let mut c = SeriesCache::new(Labels::empty(), vec![], None);
        c.store(1, &Labels::from_pairs([("__name__", "a")]), 0);
        c.forget_idle(10);
        assert_eq!(c.len(), 1);
    }
}
