//! The crate's error type.

/// A template failure. The text is Go's, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text does not parse: `template: NAME:LINE: ...`.
    #[error("{0}")]
    Parse(String),
    /// Execution failed:
    /// `template: NAME:LINE:COL: executing "NAME" at <NODE>: ...`.
    #[error("{0}")]
    Exec(String),
}
