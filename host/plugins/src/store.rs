//! The installed-plugin store: `<data>/plugins/`.
//!
//! ```text
//! <data>/plugins/<name>.json               the manifest (see Manifest)
//! <data>/plugins/<name>-<sha256[..16]>.wasm  the component it names
//! <data>/plugins/cache/                    compiled artifacts (plugin host)
//! ```
//!
//! Installing checks the file before anything is written: its sha256
//! against `--sha256` when given (required for a plain `http://` URL, see
//! `fetch`), then that it is a component implementing
//! one of the worlds (the plugin host loads it and calls `describe()`).
//! The name is the one `describe()` returns. A built-in plugin's name is
//! refused; an installed plugin's name is replaced (upgrade or rollback).
//!
//! Writes are atomic: the component goes to a temporary file that is
//! synced and renamed into place under a content-addressed name, then the
//! manifest the same way; only then is a replaced version's component
//! deleted. A crash at any point leaves either the old install or the new
//! one, never a manifest naming a half-written file. Concurrent installs
//! of the same name are not coordinated (the last rename wins).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use pharos_config::redact_url;
use pharos_plugin_host::{PluginSettings, Runtime, components};
use sha2::{Digest, Sha256};

use crate::capabilities::requested_capabilities;
use crate::error::StoreError;
use crate::fetch::fetch;
use crate::manifest::{Manifest, valid_name};

/// The installed plugins of one data directory.
#[derive(Debug, Clone)]
pub struct PluginStore {
    dir: PathBuf,
}

/// What an install did.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The new manifest.
    pub manifest: Manifest,
    /// The install it replaced, if the name was installed already.
    pub replaced: Option<Manifest>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `bytes` to `path` atomically (temporary file, sync, rename).
fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let err = |source| StoreError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".install-")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Syncs a directory so renames in it survive a crash (best effort).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

impl PluginStore {
    /// The store of the data directory `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        PluginStore {
            dir: data_dir.join("plugins"),
        }
    }

    /// `<data>/plugins`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where compiled artifacts are cached: `<data>/plugins/cache`.
    pub fn cache_dir(&self) -> PathBuf {
        self.dir.join("cache")
    }

    fn manifest_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// The path of an installed plugin's component.
    pub fn component_path(&self, m: &Manifest) -> PathBuf {
        self.dir.join(&m.file)
    }

    /// Every installed plugin, by name. A missing store is empty.
    pub fn list(&self) -> Result<Vec<Manifest>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StoreError::Read {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| StoreError::Read {
                path: self.dir.clone(),
                source,
            })?;
            let path = entry.path();
            let is_manifest = path.extension().is_some_and(|e| e == "json")
                && path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(valid_name);
            if is_manifest {
                out.push(Manifest::read(&path)?);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The installed plugin `name`, if any.
    pub fn get(&self, name: &str) -> Result<Option<Manifest>, StoreError> {
        if !valid_name(name) {
            return Ok(None);
        }
        let path = self.manifest_path(name);
        if !path.exists() {
            return Ok(None);
        }
        Manifest::read(&path).map(Some)
    }

    /// The component of an installed plugin, checked against its manifest.
    pub fn read_component(&self, m: &Manifest) -> Result<Vec<u8>, StoreError> {
        let path = self.component_path(m);
        let bytes = std::fs::read(&path).map_err(|source| StoreError::Read {
            path: path.clone(),
            source,
        })?;
        let actual = sha256_hex(&bytes);
        if actual != m.sha256 {
            return Err(StoreError::Corrupt {
                name: m.name.clone(),
                path,
                expected: m.sha256.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Installs the component at `source` (a path or an `http(s)://`
    /// URL), refusing it if its sha256 is not `expected` (when given).
    pub async fn install(
        &self,
        runtime: &Runtime,
        source: &str,
        expected: Option<&str>,
    ) -> Result<Installed, StoreError> {
        let expected = match expected {
            Some(h) if h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()) => {
                Some(h.to_ascii_lowercase())
            }
            Some(h) => return Err(StoreError::BadHash(h.to_owned())),
            None => None,
        };
        let (bytes, recorded) = fetch(source, expected.is_some()).await?;
        let sha = sha256_hex(&bytes);
        if let Some(expected) = expected
            && expected != sha
        {
            return Err(StoreError::HashMismatch {
                source_name: redact_url(source),
                expected,
                actual: sha,
            });
        }
        let plugin = runtime
            .load_any("install", &bytes, &PluginSettings::default())
            .await
            .map_err(|error| StoreError::NotAPlugin {
                source_name: redact_url(source),
                error,
            })?;
        let Some(info) = plugin.info() else {
            return Err(StoreError::InvalidName(String::new()));
        };
        if !valid_name(&info.name) {
            return Err(StoreError::InvalidName(info.name.clone()));
        }
        if components::embedded_component(&info.name).is_some() {
            return Err(StoreError::BuiltIn(info.name.clone()));
        }
        let manifest = Manifest {
            name: info.name.clone(),
            version: info.version.clone(),
            kind: info.kind.to_string(),
            description: info.description.clone(),
            file: format!("{}-{}.wasm", info.name, &sha[..16]),
            sha256: sha,
            size: bytes.len() as u64,
            source: recorded,
            capabilities: requested_capabilities(plugin.imports()),
            installed_at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        std::fs::create_dir_all(&self.dir).map_err(|source| StoreError::Write {
            path: self.dir.clone(),
            source,
        })?;
        // A manifest that does not parse is replaced, not an obstacle.
        let replaced = self.get(&manifest.name).ok().flatten();
        write_atomic(&self.dir, &self.component_path(&manifest), &bytes)?;
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Manifest {
            path: self.manifest_path(&manifest.name),
            message: e.to_string(),
        })?;
        write_atomic(&self.dir, &self.manifest_path(&manifest.name), &json)?;
        sync_dir(&self.dir);
        if let Some(old) = &replaced
            && old.file != manifest.file
        {
            let _ = std::fs::remove_file(self.component_path(old));
        }
        tracing::info!(plugin = %manifest.name, version = %manifest.version, kind = %manifest.kind, sha256 = %manifest.sha256, "plugin installed");
        Ok(Installed { manifest, replaced })
    }

    /// Removes the installed plugin `name`; returns its manifest. A
    /// manifest whose `file` is not a plain file name of the store is
    /// refused before anything is deleted ([`StoreError::UnsafeFile`]).
    pub fn remove(&self, name: &str) -> Result<Manifest, StoreError> {
        let Some(m) = self.get(name)? else {
            if components::embedded_component(name).is_some() {
                return Err(StoreError::RemoveBuiltIn(name.to_owned()));
            }
            return Err(StoreError::NotInstalled(name.to_owned()));
        };
        let path = self.manifest_path(name);
        std::fs::remove_file(&path).map_err(|source| StoreError::Write { path, source })?;
        let _ = std::fs::remove_file(self.component_path(&m));
        sync_dir(&self.dir);
        tracing::info!(plugin = %name, "plugin removed");
        Ok(m)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn manifest(file: &str) -> String {
        serde_json::json!({
            "name": "evil",
            "version": "1.0.0",
            "kind": "discovery",
            "description": "",
            "sha256": "00",
            "size": 0,
            "file": file,
            "source": "/x.wasm",
            "capabilities": [],
            "installed_at": 0,
        })
        .to_string()
    }

    /// A manifest whose `file` leads out of the store (edited by hand, or
    /// written by something else) makes `remove` fail before it deletes
    /// anything, and the file it names is never touched.
    #[test]
    fn remove_refuses_a_manifest_naming_a_file_outside_the_store() {
        let data = tempfile::tempdir().unwrap();
        let store = PluginStore::new(data.path());
        std::fs::create_dir_all(store.dir()).unwrap();
        let victim = data.path().join("victim.wasm");
        std::fs::write(&victim, "keep me").unwrap();
        let manifest_path = store.dir().join("evil.json");
        for file in [
            "../victim.wasm".to_owned(),
            victim.display().to_string(),
            "sub/../../victim.wasm".to_owned(),
        ] {
            std::fs::write(&manifest_path, manifest(&file)).unwrap();
            let err = store.remove("evil").unwrap_err();
            assert!(
                matches!(&err, StoreError::UnsafeFile { file: f, .. } if *f == file),
                "{err:?}"
            );
            assert!(err.to_string().contains("refusing"), "{err}");
            assert!(victim.exists(), "{file}: the victim was deleted");
            assert!(manifest_path.exists(), "{file}: the manifest was deleted");
            assert!(store.get("evil").is_err());
            assert!(store.list().is_err());
        }
        // A sound manifest is removed with its component.
        std::fs::write(store.dir().join("evil-00.wasm"), "c").unwrap();
        std::fs::write(&manifest_path, manifest("evil-00.wasm")).unwrap();
        assert_eq!(store.remove("evil").unwrap().file, "evil-00.wasm");
        assert!(!manifest_path.exists());
        assert!(!store.dir().join("evil-00.wasm").exists());
        assert!(victim.exists());
    }
}
