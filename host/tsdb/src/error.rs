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
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("corrupt data in {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("storage is closed")]
    Closed,
}

impl Error {
    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
