//! Errors of the remote-write API: configuration that cannot be used and
//! storage the queues cannot read. Send failures are not errors of the API:
//! they are retried or counted and logged by the queue (see `send`).

use std::path::PathBuf;

/// Why a remote-write queue could not be started or reconfigured.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HTTP client for an endpoint could not be built (TLS files,
    /// proxy URL, …).
    #[error("remote_write {queue:?}: {message}")]
    Client { queue: String, message: String },
    /// Two configs name the same queue (same `name`, or same URL without a
    /// name).
    #[error("remote_write: two queues are named {0:?}; give them distinct names")]
    DuplicateQueue(String),
    /// The WAL could not be opened for reading.
    #[error("remote_write {queue:?}: {source}")]
    Wal {
        queue: String,
        #[source]
        source: pharos_tsdb::wal::WalError,
    },
    /// The progress directory or a marker file could not be used.
    #[error("remote_write: {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// [`crate::RemoteWrite::start`] was called outside a tokio runtime.
    #[error("remote_write: must be started inside a tokio runtime")]
    NoRuntime,
}
