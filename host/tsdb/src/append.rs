//! The write side: what the scraper and the remote-write receiver hand to
//! storage.

use pharos_model::{Labels, Sample};

use crate::Error;

/// Samples to append to one series, in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesAppend {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

/// What an accepted batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendStats {
    /// Samples stored (identical re-sent samples are not counted).
    pub samples: usize,
    /// Series seen for the first time.
    pub series_created: usize,
}

/// A storage's reference to one of its series. A caller that appends to the
/// same series again and again (a scrape target's cache) keeps the
/// reference from one append and passes it to the next, so the storage
/// finds the series without matching its labels — Prometheus' series refs.
/// [`SeriesRef::NONE`] means "not known yet".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SeriesRef(pub(crate) u64);

impl SeriesRef {
    /// No reference: the storage finds the series by its labels.
    pub const NONE: SeriesRef = SeriesRef(0);

    pub fn is_none(self) -> bool {
        self.0 == 0
    }
}

/// Appends batches atomically: a batch is stored whole and acknowledged only
/// after its WAL write, or refused whole with an [`crate::AppendError`].
pub trait Appendable: Send + Sync {
    fn append(&self, batch: &[SeriesAppend]) -> Result<AppendStats, Error>;

    /// [`Appendable::append`] with a reference per series: `refs[i]`
    /// belongs to `batch[i]` (series past the end of `refs` go by labels).
    /// A reference this storage returned for the same labels is used
    /// instead of the labels; a stale one (the series
    /// was deleted meanwhile) or [`SeriesRef::NONE`] falls back to the
    /// labels. When the batch is accepted, every `refs[i]` is set to its
    /// series' reference; when it is refused, `refs` is left as it was.
    /// An entry with a live reference may leave its labels empty (errors
    /// then name the stored labels); with a stale one it is refused as
    /// [`crate::AppendError::InvalidSeries`] at its index, and the caller
    /// retries with labels.
    ///
    /// The default ignores references (storages without them).
    fn append_with_refs(
        &self,
        batch: &[SeriesAppend],
        refs: &mut [SeriesRef],
    ) -> Result<AppendStats, Error> {
        let _ = refs;
        self.append(batch)
    }

    /// The labels of the series behind a reference this storage returned,
    /// or `None` if it no longer has that series (or knows no references).
    /// Lets a caller that appends by reference drop its own copy of the
    /// labels.
    fn labels_of(&self, r: SeriesRef) -> Option<Labels> {
        let _ = r;
        None
    }
}

/// The numbers behind `/api/v1/status/tsdb`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TsdbStatus {
    pub num_series: u64,
    pub num_label_pairs: u64,
    pub chunk_count: u64,
    /// Milliseconds; `i64::MAX` when empty, as Prometheus reports it.
    pub min_time: i64,
    /// Milliseconds; `i64::MIN` when empty.
    pub max_time: i64,
    /// Top entries, largest first: (metric name, series count).
    pub series_count_by_metric_name: Vec<(String, u64)>,
    /// (label name, number of distinct values).
    pub label_value_count_by_label_name: Vec<(String, u64)>,
    /// (label name, bytes of all its values).
    pub memory_in_bytes_by_label_name: Vec<(String, u64)>,
    /// ("name=value", series count).
    pub series_count_by_label_value_pair: Vec<(String, u64)>,
}

/// What storage holds on disk, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiskUsage {
    pub wal_bytes: u64,
    pub storage_bytes: u64,
}

/// Everything the HTTP API needs from storage.
pub trait Storage: crate::Queryable + Appendable {
    /// Index statistics with the top `limit` entries of each list.
    fn status(&self, limit: usize) -> TsdbStatus;

    /// Bytes on disk: the write-ahead log's segments and checkpoint, and
    /// the sled store's files. `None` for storage that keeps nothing on
    /// disk.
    fn disk_usage(&self) -> Option<DiskUsage> {
        None
    }

    /// What keeps the storage from working fully right now, one line each;
    /// empty when healthy (the server is not ready while it is not).
    fn problems(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Sorts `(key, count)` pairs largest first (ties by key) and keeps `limit`.
pub(crate) fn top(mut v: Vec<(String, u64)>, limit: usize) -> Vec<(String, u64)> {
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(limit);
    v
}
