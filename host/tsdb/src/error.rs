use std::io;

/// Why a batch of samples was refused. The whole batch is refused: nothing
/// of it is stored. `index` is the position in the batch of the series
/// refused, so a caller can drop it and retry without matching labels.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AppendError {
    /// Same timestamp as a stored sample, different value (Prometheus' text).
    #[error("duplicate sample for timestamp {t} in series {series}")]
    DuplicateSample {
        index: usize,
        series: String,
        t: i64,
    },
    /// Older than the newest sample of its series, outside the window.
    #[error("out of order sample: timestamp {t} older than {newest} in series {series}")]
    OutOfOrder {
        index: usize,
        series: String,
        t: i64,
        newest: i64,
    },
    /// A label set that cannot identify a series.
    #[error("invalid series {series}: {reason}")]
    InvalidSeries {
        index: usize,
        series: String,
        reason: &'static str,
    },
}

impl AppendError {
    pub(crate) fn duplicate(index: usize, series: &str, t: i64) -> Self {
        AppendError::DuplicateSample {
            index,
            series: series.to_owned(),
            t,
        }
    }

    /// The position in the batch of the series refused.
    pub fn index(&self) -> usize {
        match self {
            AppendError::DuplicateSample { index, .. }
            | AppendError::OutOfOrder { index, .. }
            | AppendError::InvalidSeries { index, .. } => *index,
        }
    }

    /// The series refused, as the error names it.
    pub fn series(&self) -> &str {
        match self {
            AppendError::DuplicateSample { series, .. }
            | AppendError::OutOfOrder { series, .. }
            | AppendError::InvalidSeries { series, .. } => series,
        }
    }
}

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Append(#[from] AppendError),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Wal(#[from] crate::wal::WalError),
    /// The WAL could not take the batch: the disk is full or failing. The
    /// batch was refused whole and nothing of it is stored; reads go on,
    /// and appends succeed again as soon as the disk takes writes (no
    /// restart). Worth retrying later.
    #[error("storage cannot write, batch refused (retry later): {0}")]
    WriteFailed(crate::wal::WalError),
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    /// Writes to sled were postponed: the disk has less free space than
    /// they need plus [`crate::DbOptions::sled_min_free`]. They are tried
    /// again at the next round; nothing is lost meanwhile.
    #[error(
        "disk almost full: {free} bytes free, {needed} needed to write to sled; postponed until there is room"
    )]
    NoRoom { free: u64, needed: u64 },
    /// sled is being reopened after a write error (sled refuses every write
    /// after one until it is reopened); retry shortly.
    #[error("sled is being reopened after a write error; retry shortly")]
    SledReopening,
    #[error("corrupt data in {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("storage is closed")]
    Closed,
    /// Data on disk is damaged, and the storage does not start on it rather
    /// than silently lose what it holds; `advice` says what to do.
    #[error("{what} is damaged: {detail}. {advice}")]
    Damaged {
        what: String,
        detail: String,
        advice: String,
    },
}

impl Error {
    /// Whether this is a write that failed because the disk is full (or
    /// over quota).
    pub fn is_disk_full(&self) -> bool {
        use crate::wal::WalError;
        let io = match self {
            Error::WriteFailed(WalError::Io { source, .. } | WalError::Poisoned { source, .. })
            | Error::Wal(WalError::Io { source, .. })
            | Error::Sled(sled::Error::Io(source))
            | Error::Io { source, .. } => source,
            Error::NoRoom { .. } => return true,
            _ => return false,
        };
        matches!(
            io.kind(),
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
        )
    }

    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
