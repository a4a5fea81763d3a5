//! Evaluation errors, each with the text Prometheus uses.

use thiserror::Error;

/// Why a query could not be evaluated.
#[derive(Debug, Error)]
pub enum EvalError {
    /// The query ran past its timeout (`errorType: timeout`).
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// The query was cancelled (`errorType: canceled`).
    #[error("query was canceled in {0}")]
    Canceled(&'static str),
    /// More samples than the engine's limit would be held at once.
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// A data-dependent failure such as duplicate series
    /// (`errorType: execution`).
    #[error("{0}")]
    Execution(String),
    /// A bad argument discovered at evaluation (`errorType: bad_data`).
    #[error("{0}")]
    BadData(String),
    /// The storage failed.
    #[error("{0}")]
    Storage(#[from] pharos_tsdb::Error),
}

impl EvalError {
    pub(crate) fn exec(msg: impl Into<String>) -> Self {
        EvalError::Execution(msg.into())
    }
}

/// The duplicate-labelset error of Prometheus.
pub(crate) fn duplicate_labelset() -> EvalError {
    EvalError::exec("vector cannot contain metrics with the same labelset")
}
