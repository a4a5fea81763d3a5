//! The manifest of an installed plugin: `<data>/plugins/<name>.json`
//! beside its component. It records what `describe()` said at install
//! time (name, version, kind, description), the component's sha256 and
//! file, where it came from, the capabilities it may ask for, and when it
//! was installed. The file is JSON so an operator can read it.

use std::path::Path;

use pharos_plugin_host::PluginKind;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// One installed plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The name `describe()` returned: what configs call it.
    pub name: String,
    /// Its version (semver, from `describe()`).
    pub version: String,
    /// `discovery`, `exporter` or `notifier`.
    pub kind: String,
    /// One line saying what it does.
    pub description: String,
    /// The component's sha256, hex.
    pub sha256: String,
    /// The component's size in bytes.
    pub size: u64,
    /// The component's file name in the store directory.
    pub file: String,
    /// What was installed: an absolute path or a URL.
    pub source: String,
    /// Grants the plugin may need (see [`crate::requested_capabilities`]).
    pub capabilities: Vec<String>,
    /// When it was installed, in seconds since the Unix epoch.
    pub installed_at: u64,
}

impl Manifest {
    /// The kind as the plugin host's enum.
    pub fn plugin_kind(&self) -> Option<PluginKind> {
        kind_from_str(&self.kind)
    }

    pub(crate) fn read(path: &Path) -> Result<Manifest, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|source| StoreError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Manifest::parse(&text, path)
    }

    /// A manifest's text, checked (`path` names it in errors).
    pub(crate) fn parse(text: &str, path: &Path) -> Result<Manifest, StoreError> {
        let m: Manifest = serde_json::from_str(text).map_err(|e| StoreError::Manifest {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if m.plugin_kind().is_none() {
            return Err(StoreError::Manifest {
                path: path.to_path_buf(),
                message: format!("unknown kind {:?}", m.kind),
            });
        }
        if !valid_name(&m.name) {
            return Err(StoreError::Manifest {
                path: path.to_path_buf(),
                message: format!("invalid plugin name {:?}", m.name),
            });
        }
        // `file` is joined to the store directory to read, replace and
        // remove the component: it must not lead anywhere else.
        if !valid_file(&m.file) {
            return Err(StoreError::UnsafeFile {
                path: path.to_path_buf(),
                file: m.file.clone(),
            });
        }
        Ok(m)
    }
}

/// `discovery`, `exporter`, `notifier` → the enum.
pub(crate) fn kind_from_str(s: &str) -> Option<PluginKind> {
    match s {
        "discovery" => Some(PluginKind::Discovery),
        "exporter" => Some(PluginKind::Exporter),
        "notifier" => Some(PluginKind::Notifier),
        _ => None,
    }
}

/// Whether `name` may name a plugin: `[a-z][a-z0-9_-]*`, at most 64.
pub(crate) fn valid_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Whether `file` names a component directly in the store directory: one
/// plain file name ending in `.wasm` — no `/` or `\\`, not `..`, not
/// absolute, not hidden, no NUL.
pub(crate) fn valid_file(file: &str) -> bool {
    let mut components = Path::new(file).components();
    let single = matches!(
        (components.next(), components.next()),
        (Some(std::path::Component::Normal(_)), None)
    );
    single
        && file.len() <= 255
        && file.ends_with(".wasm")
        && !file.starts_with('.')
        && !file.contains(['/', '\\', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_files_stay_in_the_store() {
        for ok in ["http-0123456789abcdef.wasm", "a.wasm", "my_sd-v2.wasm"] {
            assert!(valid_file(ok), "{ok}");
        }
        for bad in [
            "",
            ".wasm",
            "../x.wasm",
            "../../etc/passwd",
            "/etc/passwd",
            "/x.wasm",
            "a/b.wasm",
            "a\\..\\b.wasm",
            "./a.wasm",
            "a.wasm/",
            "..",
            ".",
            "x.json",
            "a\0.wasm",
        ] {
            assert!(!valid_file(bad), "{bad:?}");
        }
    }

    #[test]
    fn names_and_kinds() {
        for ok in ["http", "my-sd", "k8s_v2"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "Http", "9x", "a.b", "../x", "a/b"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        assert_eq!(kind_from_str("exporter"), Some(PluginKind::Exporter));
        assert_eq!(kind_from_str("scraper"), None);
    }
}
