//! The crate's errors: what can go wrong installing, listing and removing
//! plugins ([`StoreError`]), and a config the plugin platform refuses
//! ([`CheckError`]: every problem found, each at its place in the file).

use std::fmt;
use std::path::PathBuf;

use pharos_plugin_host::LoadError;

/// Why an install, list or remove failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The component file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A plain `http://` URL without `--sha256`: whoever is on the path
    /// could choose the code.
    #[error(
        "refusing to install from {url} over plain http without --sha256: use an https:// URL, or give the file's --sha256"
    )]
    InsecureDownload { url: String },
    /// The manifest's `file` is not a plain file name in the store (an
    /// absolute path or one with `..` or `/`): nothing is read or deleted.
    #[error(
        "{path}: file {file:?} is not a file name in the plugin store; refusing to use it (remove the manifest by hand)"
    )]
    UnsafeFile { path: PathBuf, file: String },
    /// The download failed.
    #[error("cannot download {url}: {message}")]
    Download { url: String, message: String },
    /// The file is larger than a plugin may be.
    #[error("{source_name} is larger than {limit} bytes")]
    TooLarge { source_name: String, limit: u64 },
    /// `--sha256` does not match the file.
    #[error("sha256 mismatch for {source_name}: expected {expected}, got {actual}")]
    HashMismatch {
        source_name: String,
        expected: String,
        actual: String,
    },
    /// `--sha256` is not 64 hex digits.
    #[error("--sha256 {0:?} is not 64 hexadecimal digits")]
    BadHash(String),
    /// The file is not a component implementing one of the worlds.
    #[error("{source_name} is not an installable Pharos plugin: {error}")]
    NotAPlugin {
        source_name: String,
        #[source]
        error: LoadError,
    },
    /// `describe()` returned a name that cannot name a plugin.
    #[error(
        "the plugin describes itself as {0:?}: a plugin name is lower-case letters, digits, '-' and '_', starting with a letter"
    )]
    InvalidName(String),
    /// The name is a built-in plugin's.
    #[error(
        "a built-in plugin is named {0:?}; an installed plugin cannot replace it (give yours another name in its describe())"
    )]
    BuiltIn(String),
    /// `remove` of a built-in plugin.
    #[error("{0:?} is built into Pharos and cannot be removed")]
    RemoveBuiltIn(String),
    /// No installed plugin has this name.
    #[error("no installed plugin named {0:?} (`pharos plugin list` shows them)")]
    NotInstalled(String),
    /// Writing the store failed.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A manifest in the store does not parse.
    #[error("{path} is not a valid plugin manifest: {message}")]
    Manifest { path: PathBuf, message: String },
    /// An installed component no longer matches its manifest.
    #[error(
        "installed plugin {name}: {path} does not match the sha256 in its manifest (expected {expected}, got {actual}); install it again"
    )]
    Corrupt {
        name: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },
    /// The WebAssembly runtime could not be set up.
    #[error("{0}")]
    Runtime(#[source] LoadError),
}

/// Everything the plugin platform refuses in a config (unknown plugins,
/// then grants and loading, then each use): each message names the file,
/// line, column and key where it can, as `pharos_config::ConfigError`
/// does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    pub errors: Vec<String>,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.errors.join("; "))
    }
}

impl std::error::Error for CheckError {}
