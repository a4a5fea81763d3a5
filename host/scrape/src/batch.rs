//! A scrape batch kept from one scrape to the next. Storage takes a slice
//! of `SeriesAppend`s with owned label sets; a target exposes the same
//! series in the same order scrape after scrape, so the entry at position
//! `k` usually belongs to the same series as last time: then only its
//! sample is replaced, and the label set is neither cloned nor freed. An
//! entry is rebuilt only when the series at its position changed.

use pharos_model::{Labels, Sample};
use pharos_tsdb::SeriesAppend;

/// An id that never matches: the entry is rebuilt next time.
pub(crate) const NO_ID: u64 = u64::MAX;

/// Ids of the report series (above every cache series id).
pub(crate) const REPORT_ID_BASE: u64 = 1 << 40;

#[derive(Debug, Default)]
pub(crate) struct Batch {
    items: Vec<SeriesAppend>,
    ids: Vec<u64>,
    len: usize,
}

impl Batch {
    /// Starts a new batch, keeping the entries for reuse.
    pub(crate) fn begin(&mut self) {
        self.len = 0;
    }

    /// Adds a sample of the series `id`; `labels` builds its label set when
    /// the entry cannot be reused.
    pub(crate) fn push_with(&mut self, id: u64, labels: impl FnOnce() -> Labels, sample: Sample) {
        if let Some(item) = self.items.get_mut(self.len) {
            if id == NO_ID || self.ids[self.len] != id {
                item.labels = labels();
                self.ids[self.len] = id;
            }
            item.samples.clear();
            item.samples.push(sample);
        } else {
            self.items.push(SeriesAppend {
                labels: labels(),
                samples: vec![sample],
            });
            self.ids.push(id);
        }
        self.len += 1;
    }

    /// Adds a sample of a series that is not worth remembering (a
    /// staleness marker).
    pub(crate) fn push_once(&mut self, labels: &Labels, sample: Sample) {
        self.push_with(NO_ID, || labels.clone(), sample);
    }

    /// The entries of the current batch.
    pub(crate) fn as_slice(&self) -> &[SeriesAppend] {
        &self.items[..self.len]
    }

    /// Forgets which series each entry holds (series ids are about to be
    /// reused).
    pub(crate) fn forget_ids(&mut self) {
        self.ids.fill(NO_ID);
    }

    /// Drops entries beyond the current batch when far more are kept than
    /// used.
    pub(crate) fn shrink(&mut self) {
        if self.items.len() > 2 * self.len + 64 {
            self.items.truncate(self.len);
            self.ids.truncate(self.len);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_reused_only_for_the_same_series() {
        let mut b = Batch::default();
        let a = Labels::from_pairs([("__name__", "a")]);
        let c = Labels::from_pairs([("__name__", "c")]);
        b.begin();
        b.push_with(1, || a.clone(), Sample::new(1, 1.0));
        b.push_once(&c, Sample::new(1, 2.0));
        assert_eq!(b.as_slice().len(), 2);
        b.begin();
        let mut built = 0;
        b.push_with(
            1,
            || {
                built += 1;
                a.clone()
            },
            Sample::new(2, 3.0),
        );
        b.push_with(
            1,
            || {
                built += 1;
                a.clone()
            },
            Sample::new(2, 4.0),
        );
        assert_eq!(
            built, 1,
            "first reused, second rebuilt over the stale marker"
        );
        assert_eq!(b.as_slice().len(), 2);
        assert_eq!(b.as_slice()[0].samples, [Sample::new(2, 3.0)]);
        b.forget_ids();
        b.begin();
        b.push_with(1, || c.clone(), Sample::new(3, 5.0));
        assert_eq!(b.as_slice()[0].labels, c);
    }
}
