//! The compiled-artifact cache: a second load hits it, and a tampered
//! entry is rejected and recompiled.

#![allow(clippy::unwrap_used)]

mod common;

use pharos_plugin_host::{CacheOutcome, PluginKind, Runtime, RuntimeOptions};
use std::path::Path;

fn runtime(dir: &Path) -> Runtime {
    Runtime::new(RuntimeOptions {
        pooling: Some(4),
        cache_dir: Some(dir.to_owned()),
        ..RuntimeOptions::default()
    })
    .unwrap()
}

fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    v.sort();
    v
}

async fn load(rt: Runtime) -> CacheOutcome {
    let p = common::load(
        &rt,
        "fixture-noop",
        PluginKind::Discovery,
        &common::settings(),
    )
    .await;
    assert_eq!(
        p.discover(r#"{"targets":3}"#).await.unwrap()[0]
            .targets
            .len(),
        3
    );
    p.load_info().cache
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_load_hits_and_a_tampered_entry_is_recompiled() {
    let dir = tempfile::tempdir().unwrap();

    assert_eq!(load(runtime(dir.path())).await, CacheOutcome::Miss);
    let files = entries(dir.path());
    assert_eq!(files.len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key is private to its owner");
    }

    assert_eq!(load(runtime(dir.path())).await, CacheOutcome::Hit);

    // Flip one byte of the machine code: the MAC no longer verifies.
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&files[0], &bytes).unwrap();
    assert_eq!(load(runtime(dir.path())).await, CacheOutcome::Rejected);

    // The rejected entry was replaced by a fresh, valid one.
    assert_eq!(load(runtime(dir.path())).await, CacheOutcome::Hit);

    // An entry planted without the key (here: a copy from another cache) is refused too.
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(&files[0], other.path().join(files[0].file_name().unwrap())).unwrap();
    assert_eq!(load(runtime(other.path())).await, CacheOutcome::Rejected);
}
