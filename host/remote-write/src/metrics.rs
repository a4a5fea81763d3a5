//! Per-queue counters, updated lock-free by the reader and the shards, and
//! the plain snapshot ([`QueueStats`]) the server exports. The meanings
//! follow Prometheus' `prometheus_remote_storage_*` metrics.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use pharos_tsdb::wal::watch::WalPosition;

/// Upper bounds (seconds) of the send-duration histogram, as Prometheus'
/// `prometheus_remote_storage_sent_batch_duration_seconds`: the default
/// buckets, then 25, 60, 120 and 300 s.
pub const SEND_DURATION_BUCKETS: [f64; 15] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 60.0, 120.0, 300.0,
];

/// Counters of one queue, shared by its reader and shards.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) samples_in: AtomicU64,
    pub(crate) samples_sent: AtomicU64,
    pub(crate) samples_failed: AtomicU64,
    pub(crate) samples_retried: AtomicU64,
    pub(crate) samples_dropped: AtomicU64,
    pub(crate) samples_pending: AtomicI64,
    pub(crate) batches_sent: AtomicU64,
    pub(crate) batches_failed: AtomicU64,
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) send_nanos: AtomicU64,
    pub(crate) send_count: AtomicU64,
    /// Sends per bucket of [`SEND_DURATION_BUCKETS`] (not cumulative),
    /// and one more for longer ones.
    pub(crate) send_buckets: [AtomicU64; SEND_DURATION_BUCKETS.len() + 1],
    pub(crate) highest_sent_ts: AtomicI64,
    pub(crate) highest_read_ts: AtomicI64,
    pub(crate) shards: AtomicU64,
    pub(crate) shards_desired: AtomicU64,
    pub(crate) wal_segments_skipped: AtomicU64,
    pub(crate) wal_corrupt_segments: AtomicU64,
    pub(crate) series_cached: AtomicU64,
}

impl Counters {
    pub(crate) fn new() -> Self {
        let c = Counters::default();
        c.highest_sent_ts.store(i64::MIN, Ordering::Relaxed);
        c.highest_read_ts.store(i64::MIN, Ordering::Relaxed);
        c
    }
}

pub(crate) fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    /// Counts one HTTP request (any attempt) that took `d`.
    pub(crate) fn observe_send(&self, d: Duration) {
        add(&self.send_nanos, d.as_nanos() as u64);
        add(&self.send_count, 1);
        let secs = d.as_secs_f64();
        let bucket = SEND_DURATION_BUCKETS.partition_point(|&le| le < secs);
        add(&self.send_buckets[bucket], 1);
    }
}

/// A snapshot of one queue's counters. Totals count since the queue
/// started (a queue restarted by a reload starts from zero, as in
/// Prometheus).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStats {
    /// The config's `name`, or a short hash of its URL.
    pub name: String,
    /// The endpoint, as `remote_name`/`url` labels.
    pub url: String,
    /// Samples read from the WAL and queued for sending (after relabeling).
    pub samples_in_total: u64,
    /// Samples the endpoint accepted.
    pub samples_sent_total: u64,
    /// Samples in batches the endpoint refused for good (4xx other than a
    /// retried 429): dropped, as Prometheus does.
    pub samples_failed_total: u64,
    /// Samples in sends that were retried (once per retry).
    pub samples_retried_total: u64,
    /// Samples dropped before sending: by `write_relabel_configs`, or for a
    /// series id the storage no longer knows.
    pub samples_dropped_total: u64,
    /// Samples queued or in flight, not yet acknowledged.
    pub samples_pending: u64,
    /// Requests the endpoint accepted / refused for good.
    pub batches_sent_total: u64,
    pub batches_failed_total: u64,
    /// Compressed request bytes the endpoint accepted.
    pub bytes_sent_total: u64,
    /// Total time spent in HTTP requests (every attempt) and their count.
    pub send_duration_seconds_sum: f64,
    pub send_duration_seconds_count: u64,
    /// Requests per bucket of [`SEND_DURATION_BUCKETS`], not cumulative;
    /// the last counts those longer than the last bound.
    pub send_duration_buckets: [u64; SEND_DURATION_BUCKETS.len() + 1],
    /// Newest sample timestamp (ms) the endpoint accepted; `None` before
    /// the first success.
    pub highest_sent_timestamp_ms: Option<i64>,
    /// Newest sample timestamp (ms) read from the WAL.
    pub highest_read_timestamp_ms: Option<i64>,
    /// Shards running now, and what the throughput calls for.
    pub shards: u64,
    pub shards_desired: u64,
    pub shards_min: u64,
    pub shards_max: u64,
    /// Where the reader is in the WAL, and how far the endpoint has
    /// acknowledged (what the progress marker holds).
    pub wal_read_position: WalPosition,
    pub wal_acked_position: WalPosition,
    /// WAL segments deleted by a checkpoint before the queue read them
    /// (their samples were never sent), and damaged segments skipped.
    pub wal_segments_skipped_total: u64,
    pub wal_corrupt_segments_total: u64,
    /// Series the queue holds labels for.
    pub series_cached: u64,
}

fn ts(v: i64) -> Option<i64> {
    (v != i64::MIN).then_some(v)
}

impl Counters {
    pub(crate) fn snapshot(&self, base: QueueStats) -> QueueStats {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        QueueStats {
            samples_in_total: r(&self.samples_in),
            samples_sent_total: r(&self.samples_sent),
            samples_failed_total: r(&self.samples_failed),
            samples_retried_total: r(&self.samples_retried),
            samples_dropped_total: r(&self.samples_dropped),
            samples_pending: self.samples_pending.load(Ordering::Relaxed).max(0) as u64,
            batches_sent_total: r(&self.batches_sent),
            batches_failed_total: r(&self.batches_failed),
            bytes_sent_total: r(&self.bytes_sent),
            send_duration_seconds_sum: r(&self.send_nanos) as f64 / 1e9,
            send_duration_seconds_count: r(&self.send_count),
            send_duration_buckets: std::array::from_fn(|i| r(&self.send_buckets[i])),
            highest_sent_timestamp_ms: ts(self.highest_sent_ts.load(Ordering::Relaxed)),
            highest_read_timestamp_ms: ts(self.highest_read_ts.load(Ordering::Relaxed)),
            shards: r(&self.shards),
            shards_desired: r(&self.shards_desired),
            wal_segments_skipped_total: r(&self.wal_segments_skipped),
            wal_corrupt_segments_total: r(&self.wal_corrupt_segments),
            series_cached: r(&self.series_cached),
            ..base
        }
    }
}
