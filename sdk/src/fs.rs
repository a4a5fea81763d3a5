//! Reading files from the directories the operator granted in the plugin's
//! `allow_read` (read-only, preopened at their own absolute paths), with
//! errors that say what to grant.
//!
//! `std::fs` works as well; these helpers only turn a path outside every
//! granted directory into [`FsError::Denied`] (a `config` error naming
//! `allow_read`), where WASI reports it as a missing file.
//!
//! ```no_run
//! # fn f() -> Result<(), pharos_sdk::Error> {
//! let text = pharos_sdk::fs::read_to_string("/etc/pharos/targets/web.json")?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why reading failed.
#[derive(Debug)]
pub enum FsError {
    /// The path is outside every directory granted in `allow_read`.
    Denied {
        /// The path asked for.
        path: PathBuf,
    },
    /// Another I/O error (the file does not exist, is not UTF-8, …).
    Io {
        /// The path asked for.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
}

impl FsError {
    fn new(path: &Path, error: io::Error) -> Self {
        // A path outside every preopened directory fails like a missing
        // file (`NotFound`): tell them apart by the grants themselves.
        if !is_granted(path) {
            FsError::Denied {
                path: path.to_path_buf(),
            }
        } else {
            FsError::Io {
                path: path.to_path_buf(),
                error,
            }
        }
    }

    /// Whether the path does not exist (inside a granted directory).
    pub fn is_not_found(&self) -> bool {
        matches!(self, FsError::Io { error, .. } if error.kind() == io::ErrorKind::NotFound)
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsError::Denied { path } => write!(
                f,
                "reading {} is not granted: add its directory (e.g. \"{}\") to the plugin's allow_read",
                path.display(),
                path.parent().unwrap_or(path).display()
            ),
            FsError::Io { path, error } => write!(f, "cannot read {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for FsError {}

impl From<FsError> for crate::Error {
    /// A denial is a `config` error; a missing file or another I/O error is
    /// `transient` (files come and go, as Prometheus' file SD expects).
    fn from(e: FsError) -> Self {
        match &e {
            FsError::Denied { .. } => crate::Error::config(e),
            FsError::Io { .. } => crate::Error::transient(e),
        }
    }
}

/// The directories granted in `allow_read`, as the plugin sees them.
pub fn granted_dirs() -> Vec<PathBuf> {
    #[cfg(target_arch = "wasm32")]
    {
        wasip2::filesystem::preopens::get_directories()
            .into_iter()
            .map(|(_, dir)| PathBuf::from(dir))
            .collect()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Vec::new()
    }
}

/// Whether `path` lies in a directory granted in `allow_read`.
pub fn is_granted(path: &Path) -> bool {
    granted_dirs().iter().any(|dir| path.starts_with(dir))
}

/// Reads a whole file.
pub fn read(path: impl AsRef<Path>) -> Result<Vec<u8>, FsError> {
    let path = path.as_ref();
    std::fs::read(path).map_err(|e| FsError::new(path, e))
}

/// Reads a whole file as UTF-8 text.
pub fn read_to_string(path: impl AsRef<Path>) -> Result<String, FsError> {
    let path = path.as_ref();
    std::fs::read_to_string(path).map_err(|e| FsError::new(path, e))
}

/// The paths of the entries of a directory, sorted.
pub fn read_dir(path: impl AsRef<Path>) -> Result<Vec<PathBuf>, FsError> {
    let path = path.as_ref();
    let mut entries = std::fs::read_dir(path)
        .map_err(|e| FsError::new(path, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| FsError::new(path, e))?;
    entries.sort();
    Ok(entries)
}
