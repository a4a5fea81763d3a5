//! The built-in `file` discovery against real files in a temporary
//! directory granted read-only (`allow_read`): the exact groups and
//! `__meta_filepath` labels of Prometheus' file SD, re-reading on each
//! call, and a path outside the grant refused with the grant to add.

#![allow(clippy::unwrap_used)]

mod common;

use pharos_plugin_host::{CallError, ErrorKind, Plugin, PluginError, PluginKind};
use std::path::Path;

async fn plugin(granted: &[&Path]) -> Plugin {
    let mut settings = common::settings();
    settings.grants.allow_read = granted.iter().map(|p| p.to_path_buf()).collect();
    common::runtime()
        .load_embedded("file", PluginKind::Discovery, &settings)
        .await
        .unwrap()
}

fn config(files: &[String]) -> String {
    serde_json::json!({ "files": files }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_yaml_files_give_prometheus_groups_and_are_reread() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("web.json"),
        r#"[{"targets":["10.0.0.1:9100","10.0.0.2:9100"],"labels":{"env":"prod"}}]"#,
    )
    .unwrap();
    std::fs::write(
        d.join("db.yml"),
        "- targets: ['db1:9187']\n  labels:\n    team: data\n",
    )
    .unwrap();
    std::fs::write(d.join("ignored.txt"), "not a target file").unwrap();
    let file = plugin(&[d]).await;
    let dir_text = d.to_str().unwrap();
    let cfg = config(&[
        format!("{dir_text}/*.json"),
        format!("{dir_text}/*.yml"),
        format!("{dir_text}/missing.yaml"),
    ]);
    let groups = file.discover(&cfg).await.unwrap();
    common::assert_groups(&groups, "file_sd.groups.json", &[("{DIR}", dir_text)]);

    // Changed on disk: the next call sees it.
    std::fs::write(d.join("web.json"), r#"[{"targets":["10.0.0.3:9100"]}]"#).unwrap();
    let groups = file.discover(&cfg).await.unwrap();
    let web = groups
        .iter()
        .find(|g| g.source.ends_with("web.json:0"))
        .unwrap();
    assert_eq!(
        common::label_map(&web.targets[0])["__address__"],
        "10.0.0.3:9100"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_outside_the_granted_directories_is_denied() {
    let granted = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("secret.json"), r#"[{"targets":["x:1"]}]"#).unwrap();
    let file = plugin(&[granted.path()]).await;
    let outside = format!("{}/secret.json", other.path().display());
    let err = file
        .discover(&config(std::slice::from_ref(&outside)))
        .await
        .unwrap_err();
    match &err {
        CallError::Plugin {
            error: PluginError::Config(m),
            ..
        } => assert!(m.contains("allow_read") && m.contains(&outside), "{m}"),
        other => panic!("expected a config error naming allow_read, got {other:?}"),
    }
    // Nothing granted: the same.
    let none = plugin(&[]).await;
    let err = none.discover(&config(&[outside])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("allow_read"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_and_configurations_fail_the_call() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), "{not json").unwrap();
    let file = plugin(&[dir.path()]).await;
    let err = file
        .discover(&config(&[format!("{}/bad.json", dir.path().display())]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
    assert!(err.to_string().contains("bad.json"), "{err}");

    for (cfg, fragment) in [
        (r#"{"files":["relative/*.json"]}"#, "absolute"),
        (r#"{"files":["/etc/targets.txt"]}"#, ".json"),
        (r#"{"files":[]}"#, "at least one"),
    ] {
        let err = file.validate_config(cfg).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{cfg}: {err}");
        assert!(err.to_string().contains(fragment), "{cfg}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_directory_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::settings();
    settings.grants.allow_read = vec![dir.path().to_path_buf()];
    let chaos = common::load(
        &common::runtime(),
        "fixture-chaos",
        PluginKind::Discovery,
        &settings,
    )
    .await;
    let target = dir.path().join("new.json");
    let cfg = serde_json::json!({"mode": "write", "url": target.to_str().unwrap()}).to_string();
    let err = chaos.discover(&cfg).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
    assert!(!target.exists(), "the plugin wrote into a read-only grant");
}

/// A symbolic link inside a granted directory that points outside it (to
/// a file, or to a directory) cannot be followed: the preopened directory
/// resolves every path beneath itself. A link that stays inside works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinks_cannot_escape_a_granted_directory() {
    let granted = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let g = granted.path();
    std::fs::write(
        other.path().join("secret.json"),
        r#"[{"targets":["secret:1"]}]"#,
    )
    .unwrap();
    std::fs::write(g.join("real.json"), r#"[{"targets":["inside:1"]}]"#).unwrap();
    std::os::unix::fs::symlink(other.path().join("secret.json"), g.join("escape.json")).unwrap();
    std::os::unix::fs::symlink(other.path(), g.join("outside")).unwrap();
    std::os::unix::fs::symlink("../../../../../../..", g.join("up")).unwrap();
    std::os::unix::fs::symlink(g.join("real.json"), g.join("absolute-inside.json")).unwrap();
    std::os::unix::fs::symlink("real.json", g.join("inside.json")).unwrap();
    let file = plugin(&[g]).await;
    let dir = g.to_str().unwrap();
    let secret = other.path().join("secret.json");
    let up = format!("{dir}/up{}", secret.display());
    for path in [
        format!("{dir}/escape.json"),
        format!("{dir}/outside/secret.json"),
        up,
        // An absolute link, even to a file inside, leaves the directory's
        // namespace: refused too.
        format!("{dir}/absolute-inside.json"),
    ] {
        let result = file.discover(&config(std::slice::from_ref(&path))).await;
        let groups = result.as_ref().map(Vec::len);
        assert!(
            result.as_ref().is_err(),
            "{path}: a link out of the grant was followed ({groups:?} groups)"
        );
        let err = result.unwrap_err();
        assert!(!err.to_string().contains("secret:1"), "{err}");
    }
    // A relative link that stays inside is followed.
    let groups = file
        .discover(&config(&[format!("{dir}/inside.json")]))
        .await
        .unwrap();
    assert_eq!(
        common::label_map(&groups[0].targets[0])["__address__"],
        "inside:1"
    );
}
