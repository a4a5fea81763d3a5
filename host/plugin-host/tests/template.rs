//! `pharos plugin new`'s template: a crate of each kind is scaffolded into
//! a temporary directory, built with `cargo build --target wasm32-wasip2`
//! (its dependencies pinned by the plugins workspace's lock file, so it
//! builds offline once the plugins have been built), and loaded and called
//! by the plugin host.

#![allow(clippy::unwrap_used)]

mod common;

use pharos_plugin_host::PluginKind;
use pharos_plugin_host::template::{SdkSource, cargo_build, scaffold};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A target directory shared by runs (`<target>/template-build`), so the
/// dependencies compile once.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // <target>/debug/deps/<test binary>
    exe.ancestors().nth(3).unwrap().join("template-build")
}

fn build(dir: &Path) -> PathBuf {
    let lock = repo().join("plugins/Cargo.lock");
    cargo_build(dir, &target_dir(), Some(&lock)).unwrap()
}

async fn scaffold_build_load(name: &str, kind: PluginKind) -> pharos_plugin_host::Plugin {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    let files = scaffold(&dir, name, kind, &SdkSource::Path(repo().join("sdk"))).unwrap();
    assert!(files.iter().any(|f| f.ends_with("src/lib.rs")));
    let wasm = build(&dir);
    let bytes = std::fs::read(&wasm).unwrap();
    let plugin = common::runtime()
        .load(name, kind, &bytes, &common::settings())
        .await
        .unwrap();
    let info = plugin.info().unwrap();
    assert_eq!(
        (info.name.as_str(), info.kind, info.version.as_str()),
        (name, kind, "0.1.0")
    );
    plugin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scaffolded_plugin_of_each_kind_builds_and_runs() {
    let sd = scaffold_build_load("my-sd", PluginKind::Discovery).await;
    let groups = sd
        .discover(r#"{"targets":["10.0.0.1:9100","10.0.0.2:9100"]}"#)
        .await
        .unwrap();
    assert_eq!(groups[0].source, "my-sd");
    assert_eq!(
        common::label_map(&groups[0].targets[1]),
        [
            ("__address__".to_owned(), "10.0.0.2:9100".to_owned()),
            ("__meta_my_sd_index".to_owned(), "1".to_owned())
        ]
        .into()
    );
    let err = sd
        .validate_config(r#"{"targets":["no-port"]}"#)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("host:port"), "{err}");

    let exporter = scaffold_build_load("my-exporter", PluginKind::Exporter).await;
    let families = exporter.collect(r#"{"values":{"eu":1.5}}"#).await.unwrap();
    assert_eq!(families[0].name, "my_exporter_value");
    assert_eq!(families[0].metrics[0].value, 1.5);

    let notifier = scaffold_build_load("my-notifier", PluginKind::Notifier).await;
    let err = notifier
        .validate_config(r#"{"url":"ftp://x"}"#)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("url"), "{err}");
}
