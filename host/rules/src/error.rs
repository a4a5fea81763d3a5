//! Why a rule's evaluation failed, with Prometheus' texts (they show up as
//! `lastError` in `/api/v1/rules`).

use thiserror::Error;

/// A failed evaluation of one rule.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RuleError {
    /// The query failed (its PromQL error text).
    #[error("{0}")]
    Query(String),
    /// The expression gave a string or a range vector.
    #[error("rule result is not a vector or scalar")]
    NotAVector,
    /// Two samples of a recording rule got the same labels.
    #[error("vector contains metrics with the same labelset after applying rule labels")]
    DuplicateRecording,
    /// Two samples of an alerting rule got the same labels.
    #[error("vector contains metrics with the same labelset after applying alert labels")]
    DuplicateAlert,
    /// A recording rule produced more series than the group's `limit`.
    #[error("exceeded limit of {limit} with {got} series")]
    SeriesLimit { limit: usize, got: usize },
    /// An alerting rule has more active alerts than the group's `limit`.
    #[error("exceeded limit of {limit} with {got} alerts")]
    AlertLimit { limit: usize, got: usize },
    /// Storage refused the rule's samples.
    #[error("{0}")]
    Append(String),
}
