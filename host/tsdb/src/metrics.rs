use std::sync::atomic::{AtomicU64, Ordering};

/// Counters the storage keeps about itself; the server exports them.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) samples_appended: AtomicU64,
    pub(crate) series_created: AtomicU64,
    pub(crate) out_of_order_rejected: AtomicU64,
    pub(crate) out_of_order_accepted: AtomicU64,
    pub(crate) duplicate_rejected: AtomicU64,
    pub(crate) batches_rejected: AtomicU64,
    pub(crate) chunks_persisted: AtomicU64,
    pub(crate) checkpoints: AtomicU64,
    pub(crate) retention_chunks_deleted: AtomicU64,
    pub(crate) retention_series_deleted: AtomicU64,
    pub(crate) wal_write_errors: AtomicU64,
    pub(crate) flush_errors: AtomicU64,
    pub(crate) checkpoint_errors: AtomicU64,
    pub(crate) retention_errors: AtomicU64,
    pub(crate) maintenance_panics: AtomicU64,
    pub(crate) sled_reopens: AtomicU64,
}

pub(crate) fn inc(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// A snapshot of the storage's counters and sizes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbMetrics {
    pub samples_appended: u64,
    pub series_created: u64,
    pub out_of_order_rejected: u64,
    pub out_of_order_accepted: u64,
    pub duplicate_rejected: u64,
    pub batches_rejected: u64,
    pub chunks_persisted: u64,
    pub checkpoints: u64,
    pub retention_chunks_deleted: u64,
    pub retention_series_deleted: u64,
    /// Appends refused because the WAL could not be written (disk full,
    /// I/O error).
    pub wal_write_errors: u64,
    /// Failures to make data durable: writing chunks and series to sled and
    /// flushing it, fsyncing the WAL.
    pub flush_errors: u64,
    pub checkpoint_errors: u64,
    pub retention_errors: u64,
    /// Panics of the maintenance thread (each logged; the work restarts).
    pub maintenance_panics: u64,
    /// Times sled was reopened after a write error.
    pub sled_reopens: u64,
    pub head_series: u64,
    pub wal_bytes: u64,
    pub sled_bytes: u64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> DbMetrics {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        DbMetrics {
            samples_appended: g(&self.samples_appended),
            series_created: g(&self.series_created),
            out_of_order_rejected: g(&self.out_of_order_rejected),
            out_of_order_accepted: g(&self.out_of_order_accepted),
            duplicate_rejected: g(&self.duplicate_rejected),
            batches_rejected: g(&self.batches_rejected),
            chunks_persisted: g(&self.chunks_persisted),
            checkpoints: g(&self.checkpoints),
            retention_chunks_deleted: g(&self.retention_chunks_deleted),
            retention_series_deleted: g(&self.retention_series_deleted),
            wal_write_errors: g(&self.wal_write_errors),
            flush_errors: g(&self.flush_errors),
            checkpoint_errors: g(&self.checkpoint_errors),
            retention_errors: g(&self.retention_errors),
            maintenance_panics: g(&self.maintenance_panics),
            sled_reopens: g(&self.sled_reopens),
            ..DbMetrics::default()
        }
    }
}
