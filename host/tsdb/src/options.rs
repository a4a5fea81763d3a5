use std::time::Duration;

/// Storage settings. Times in milliseconds.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Data older than this (relative to the newest sample) is deleted.
    /// `None` keeps everything.
    pub retention: Option<i64>,
    /// Oldest chunks are deleted while the storage is larger than this.
    pub retention_size: Option<u64>,
    /// Samples up to this much older than the newest sample of the storage
    /// are accepted out of order; 0 rejects every out-of-order sample.
    pub out_of_order_window: i64,
    /// WAL segment size in bytes.
    pub wal_segment_size: u64,
    /// Most bytes of WAL segments kept past a checkpoint for readers that
    /// hold them (remote-write queues behind), see `wal::hold`.
    pub wal_hold_max_bytes: u64,
    /// Samples per chunk before it is cut.
    pub chunk_samples: usize,
    /// A chunk is cut before it would span more than this.
    pub max_chunk_span: i64,
    /// How often full chunks are written to sled.
    pub flush_interval: Duration,
    /// How often a checkpoint truncates the WAL.
    pub checkpoint_interval: Duration,
    /// A checkpoint is also taken when the WAL grows past this many bytes.
    pub checkpoint_wal_size: u64,
    /// How often retention runs.
    pub retention_interval: Duration,
    /// sled's page cache.
    pub cache_bytes: u64,
    /// Free disk space kept in reserve for sled: writes to sled (flushes,
    /// series, retention) are postponed while the disk has less than this
    /// plus twice what they would write. sled cannot even reopen on a full
    /// disk, and a sled that failed a write can fail reads too, so it is
    /// better not written at all then. 0 writes regardless.
    pub sled_min_free: u64,
}

impl DbOptions {
    pub(crate) fn chunk_policy(&self) -> crate::head::ChunkPolicy {
        crate::head::ChunkPolicy {
            samples: self.chunk_samples,
            max_span: self.max_chunk_span,
        }
    }
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            retention: Some(15 * 24 * 3600 * 1000),
            retention_size: None,
            out_of_order_window: 0,
            wal_segment_size: 128 << 20,
            wal_hold_max_bytes: 4 << 30,
            chunk_samples: 120,
            max_chunk_span: 2 * 3600 * 1000,
            flush_interval: Duration::from_secs(10),
            checkpoint_interval: Duration::from_secs(15 * 60),
            checkpoint_wal_size: 512 << 20,
            retention_interval: Duration::from_secs(60),
            cache_bytes: 32 << 20,
            sled_min_free: 8 << 20,
        }
    }
}
