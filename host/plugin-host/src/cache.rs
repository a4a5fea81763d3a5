//! The compiled-artifact cache: machine code of each component, so that a
//! restart does not recompile every plugin (cranelift takes ~100 ms–1 s per
//! component; loading a cached artifact takes about a millisecond).
//!
//! Loading machine code is `unsafe`: wasmtime's `Component::deserialize`
//! trusts its input completely, so a file planted in the cache would run
//! with the host's rights. The cache therefore loads only files that Pharos
//! wrote, which it proves with a MAC:
//!
//! - On first use it creates `key` in the cache directory: 32 random bytes,
//!   mode 0600, created exclusively (never overwritten).
//! - Each entry is `<sha256(component ++ engine fingerprint)>.cwasm`:
//!   the magic `PHAROSC1`, then HMAC-SHA256(key, engine fingerprint ‖
//!   sha256(component) ‖ artifact), then the artifact.
//! - An entry is deserialized only if its MAC verifies (in constant time).
//!   Any other entry — tampered, truncated, written by another engine
//!   configuration or another key — is deleted and the component is
//!   compiled again. The engine fingerprint is wasmtime's
//!   `precompile_compatibility_hash` (wasmtime version and every setting
//!   that affects code), so an upgrade invalidates old entries.
//!
//! What this defends against: anyone who can write the cache directory but
//! cannot read `key`, and stale or corrupt files. What it cannot defend
//! against: someone who can read the key runs as Pharos' user, and could
//! replace the binary as well. Writes go to a temporary file renamed into
//! place, so a crash never leaves a half-written entry under a real name.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"PHAROSC1";
const MAC_LEN: usize = 32;
const KEY_FILE: &str = "key";

type HmacSha256 = Hmac<Sha256>;

/// What happened when a component was looked up in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// A valid entry was loaded; nothing was compiled.
    Hit,
    /// No entry: compiled and stored.
    Miss,
    /// An entry failed its check (tampered, corrupt, foreign): it was
    /// deleted, and the component compiled and stored again.
    Rejected,
    /// The runtime has no cache: compiled.
    Disabled,
}

/// A directory of MAC-protected compiled artifacts.
#[derive(Debug)]
pub(crate) struct ArtifactCache {
    dir: PathBuf,
    key: [u8; 32],
    engine: [u8; 32],
}

/// Feeds `Hash` output into SHA-256, to turn the engine's compatibility
/// hash into stable bytes.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// A fingerprint of everything about the engine that affects machine code.
pub(crate) fn engine_fingerprint(engine: &wasmtime::Engine) -> [u8; 32] {
    let mut h = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    h.0.finalize().into()
}

impl ArtifactCache {
    /// Opens (creating if needed) the cache in `dir` for `engine`.
    pub(crate) fn open(dir: &Path, engine: &wasmtime::Engine) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let key = load_or_create_key(&dir.join(KEY_FILE))?;
        Ok(ArtifactCache {
            dir: dir.to_owned(),
            key,
            engine: engine_fingerprint(engine),
        })
    }

    fn entry_path(&self, component_sha: &[u8; 32]) -> PathBuf {
        let mut h = Sha256::new();
        h.update(component_sha);
        h.update(self.engine);
        self.dir
            .join(format!("{}.cwasm", hex::encode(h.finalize())))
    }

    fn mac(&self, component_sha: &[u8; 32]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(&self.engine);
        mac.update(component_sha);
        mac
    }

    /// Returns the verified artifact for the component, or why there is none.
    pub(crate) fn get(&self, component_sha: &[u8; 32]) -> Result<Vec<u8>, CacheOutcome> {
        let path = self.entry_path(component_sha);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(_) => return Err(CacheOutcome::Miss),
        };
        let valid = bytes.len() > MAGIC.len() + MAC_LEN && bytes.starts_with(MAGIC) && {
            let (tag, artifact) = bytes[MAGIC.len()..].split_at(MAC_LEN);
            let mut mac = self.mac(component_sha);
            mac.update(artifact);
            mac.verify_slice(tag).is_ok()
        };
        if !valid {
            tracing::warn!(path = %path.display(), "plugin cache entry failed its integrity check; recompiling");
            let _ = fs::remove_file(&path);
            return Err(CacheOutcome::Rejected);
        }
        Ok(bytes[MAGIC.len() + MAC_LEN..].to_vec())
    }

    /// Stores an artifact (best effort: a failure is logged, not returned).
    pub(crate) fn put(&self, component_sha: &[u8; 32], artifact: &[u8]) {
        let path = self.entry_path(component_sha);
        let mut mac = self.mac(component_sha);
        mac.update(artifact);
        let tag = mac.finalize().into_bytes();
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let result = (|| {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(MAGIC)?;
            f.write_all(&tag)?;
            f.write_all(artifact)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            tracing::warn!(path = %path.display(), error = %e, "cannot write a plugin cache entry");
        }
    }

    /// The entry file of a component (for tests that tamper with it).
    #[cfg(test)]
    pub(crate) fn path_of(&self, component_sha: &[u8; 32]) -> PathBuf {
        self.entry_path(component_sha)
    }
}

fn load_or_create_key(path: &Path) -> io::Result<[u8; 32]> {
    match fs::read(path) {
        Ok(bytes) => bytes.try_into().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a 32-byte key", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| io::Error::other(e.to_string()))?;
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match options.open(path) {
                Ok(mut f) => {
                    f.write_all(&key)?;
                    f.sync_all()?;
                    Ok(key)
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => load_or_create_key(path),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// SHA-256 of a component's bytes.
pub(crate) fn component_sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn entries_verify_and_tampering_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let engine = wasmtime::Engine::default();
        let cache = ArtifactCache::open(dir.path(), &engine).unwrap();
        let sha = component_sha(b"component");
        assert_eq!(cache.get(&sha), Err(CacheOutcome::Miss));
        cache.put(&sha, b"machine code");
        assert_eq!(cache.get(&sha).unwrap(), b"machine code");

        // The same key is read back by a second opening.
        let again = ArtifactCache::open(dir.path(), &engine).unwrap();
        assert_eq!(again.get(&sha).unwrap(), b"machine code");

        let path = cache.path_of(&sha);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.get(&sha), Err(CacheOutcome::Rejected));
        assert!(!path.exists(), "a rejected entry is deleted");
    }

    #[test]
    fn another_key_does_not_verify() {
        let engine = wasmtime::Engine::default();
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let ca = ArtifactCache::open(a.path(), &engine).unwrap();
        let cb = ArtifactCache::open(b.path(), &engine).unwrap();
        let sha = component_sha(b"c");
        ca.put(&sha, b"code");
        fs::copy(ca.path_of(&sha), cb.path_of(&sha)).unwrap();
        assert_eq!(cb.get(&sha), Err(CacheOutcome::Rejected));
    }
}
