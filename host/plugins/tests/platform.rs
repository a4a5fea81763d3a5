//! The plugin platform with real components (the fixtures and first-party
//! plugins `build.rs` of the plugin host built): installing, listing and
//! removing; checking configs against the plugins; discovery through a
//! plugin; exporter jobs appending batches with report series and
//! staleness markers; and a reload picking up a plugin installed after
//! the start.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pharos_config::Config;
use pharos_model::{Labels, is_stale_nan};
use pharos_plugin_host::components;
use pharos_plugins::{ExporterManager, Health, PluginSet, StoreError};
use pharos_scrape::{DiscoveryError, DiscoveryRegistry};
use pharos_tsdb::{AppendStats, Appendable, Error, SeriesAppend};

fn fixture(crate_name: &str) -> PathBuf {
    components::built_component_path(crate_name)
        .unwrap_or_else(|| panic!("{crate_name} was not built"))
        .to_path_buf()
}

fn set(data: &Path) -> PluginSet {
    PluginSet::new(data).unwrap()
}

fn config(text: &str) -> Config {
    Config::from_toml(text, "pharos.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// Records every batch, as the storage would get it.
#[derive(Default)]
struct Recorder {
    batches: Mutex<Vec<Vec<SeriesAppend>>>,
}

impl Appendable for Recorder {
    fn append(&self, batch: &[SeriesAppend]) -> Result<AppendStats, Error> {
        self.batches.lock().unwrap().push(batch.to_vec());
        Ok(AppendStats {
            samples: batch.len(),
            series_created: 0,
        })
    }
}

impl Recorder {
    /// `name{labels} value` of each series of batch `i` (stale as `stale`).
    fn batch(&self, i: usize) -> Vec<String> {
        let b = self.batches.lock().unwrap();
        let mut out: Vec<String> = b[i]
            .iter()
            .map(|s| {
                let v = s.samples[0].v;
                let v = if is_stale_nan(v) {
                    "stale".to_owned()
                } else {
                    v.to_string()
                };
                format!("{} {v}", s.labels)
            })
            .collect();
        out.sort();
        out
    }

    fn len(&self) -> usize {
        self.batches.lock().unwrap().len()
    }
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_list_replace_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let set = set(dir.path());
    let store = set.store();
    let noop = fixture("fixture-noop");
    let bytes = std::fs::read(&noop).unwrap();

    let wrong = "0".repeat(64);
    let err = store
        .install(set.runtime(), noop.to_str().unwrap(), Some(&wrong))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::HashMismatch { .. }), "{err}");
    assert!(store.list().unwrap().is_empty());

    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let installed = store
        .install(
            set.runtime(),
            noop.to_str().unwrap(),
            Some(&sha.to_uppercase()),
        )
        .await
        .unwrap();
    let m = &installed.manifest;
    assert_eq!(
        (m.name.as_str(), m.kind.as_str(), m.version.as_str()),
        ("noop", "discovery", "0.1.0")
    );
    assert_eq!(m.sha256, sha);
    assert_eq!(m.size, bytes.len() as u64);
    assert_eq!(
        m.source,
        std::fs::canonicalize(&noop).unwrap().display().to_string()
    );
    assert!(installed.replaced.is_none());
    assert_eq!(std::fs::read(store.component_path(m)).unwrap(), bytes);

    // Installing the same name again replaces it.
    let again = store
        .install(set.runtime(), noop.to_str().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(
        again.replaced.as_ref().map(|r| r.sha256.as_str()),
        Some(sha.as_str())
    );
    let names: Vec<String> = store.list().unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["noop"]);

    // A built-in plugin's name is refused; so is a file that is no plugin.
    let http = dir.path().join("http.wasm");
    std::fs::write(&http, components::embedded_component("http").unwrap()).unwrap();
    let err = store
        .install(set.runtime(), http.to_str().unwrap(), None)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"a built-in plugin is named "http"; an installed plugin cannot replace it (give yours another name in its describe())"#
    );
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm not really").unwrap();
    let err = store
        .install(set.runtime(), junk.to_str().unwrap(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAPlugin { .. }), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "{} is not an installable Pharos plugin: ",
            junk.display()
        )),
        "{err}"
    );

    assert!(matches!(
        store.remove("http"),
        Err(StoreError::RemoveBuiltIn(_))
    ));
    assert!(matches!(
        store.remove("nope"),
        Err(StoreError::NotInstalled(_))
    ));
    let removed = store.remove("noop").unwrap();
    assert_eq!(removed.name, "noop");
    assert!(store.list().unwrap().is_empty());
    assert!(!store.component_path(&removed).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_from_a_url() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let bytes = std::fs::read(fixture("fixture-exporter")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = bytes.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = conn.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let reply = if head.starts_with("GET /exporter.wasm ") {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            } else {
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            };
            let _ = conn.write_all(&reply).await;
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let set = set(dir.path());
    let url = format!("http://{addr}/exporter.wasm");
    // Plain http only with the file's hash: nothing is fetched without.
    let err = set
        .store()
        .install(set.runtime(), &url, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InsecureDownload { .. }), "{err}");
    assert!(set.store().list().unwrap().is_empty());
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let m = set
        .store()
        .install(set.runtime(), &url, Some(&sha))
        .await
        .unwrap()
        .manifest;
    assert_eq!(
        (m.name.as_str(), m.kind.as_str()),
        ("fixture-exporter", "exporter")
    );
    assert_eq!(m.source, url);
    let err = set
        .store()
        .install(
            set.runtime(),
            &format!("http://{addr}/missing.wasm"),
            Some(&sha),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cannot download http://{addr}/missing.wasm: HTTP status 404 Not Found")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configs_are_checked_against_the_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let set = set(dir.path());
    let bad = config(
        r#"
[[scrape]]
job = "a"
discovery = [{ plugin = "nope" }]

[[scrape]]
job = "b"
discovery = [{ plugin = "probe", config = {} }]

[[exporter]]
job = "c"
plugin = "json"
config = { url = "ftp://x", metrics = [] }

[plugins.json]
allow_http = ["https://ok.example.org", "ftp://x"]
"#,
    );
    let err = set.prepare(&bad).await.err().unwrap();
    assert_eq!(err.errors.len(), 3, "{err}");
    assert!(
        err.errors[0].starts_with(r#"pharos.toml:4:14: scrape[0].discovery[0].plugin (job "a"): no plugin named "nope": built in are consul, dns, email, file, http, json, kubernetes, pagerduty, probe, slack, webhook; installed are none"#),
        "{}",
        err.errors[0]
    );
    assert_eq!(
        err.errors[1],
        r#"pharos.toml:16:41: plugins.json.allow_http[1]: allow_http entry "ftp://x": the scheme must be http, https or *"#
    );
    assert_eq!(
        err.errors[2],
        r#"pharos.toml:8:14: scrape[1].discovery[0].config (job "b"): plugin "probe" is a exporter plugin; this needs a discovery plugin"#
    );

    let refused = config(
        r#"
[[exporter]]
job = "c"
plugin = "json"
config = { url = "ftp://x", metrics = [] }
"#,
    );
    let err = set.prepare(&refused).await.err().unwrap();
    assert_eq!(err.errors.len(), 1, "{err}");
    assert!(
        err.errors[0].starts_with(
            r#"pharos.toml:2:1: exporter[0].config (job "c"): the plugin refused its config: "#
        ),
        "{}",
        err.errors[0]
    );
    assert!(
        err.errors[0].contains("`url` must be an http:// or https:// URL"),
        "{}",
        err.errors[0]
    );
    // Nothing was committed.
    assert!(set.loaded().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_through_a_plugin_and_a_plugin_installed_later() {
    let dir = tempfile::tempdir().unwrap();
    let set = set(dir.path());
    let text = r#"
[[scrape]]
job = "synthetic"
discovery = [{ plugin = "noop", config = { targets = 2 } }]
"#;
    // Not installed yet: refused.
    let err = set.prepare(&config(text)).await.err().unwrap();
    assert!(err.errors[0].contains(r#"no plugin named "noop""#), "{err}");

    set.store()
        .install(
            set.runtime(),
            fixture("fixture-noop").to_str().unwrap(),
            None,
        )
        .await
        .unwrap();
    let cfg = config(text);
    let prepared = set.prepare(&cfg).await.unwrap();
    assert_eq!(prepared.plugin_names(), ["noop"]);
    set.commit(prepared);

    let d = set
        .discoverer("synthetic", &cfg.scrape[0].discovery[0])
        .unwrap();
    let groups = d.discover().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].source, "noop:0");
    assert_eq!(groups[0].labels.to_string(), r#"{job_hint="noop"}"#);
    let targets: Vec<String> = groups[0].targets.iter().map(Labels::to_string).collect();
    assert_eq!(
        targets,
        [
            r#"{__address__="10.0.0.0:9100", __meta_noop_index="0"}"#,
            r#"{__address__="10.0.0.1:9100", __meta_noop_index="1"}"#
        ]
    );
    let status = set.statuses();
    let noop = status.iter().find(|s| s.name == "noop").unwrap();
    assert!(noop.loaded);
    assert_eq!(noop.health, Health::Up);
    assert_eq!(noop.uses.len(), 1);
    assert_eq!(noop.uses[0].key, "scrape[0].discovery[0]");
    assert_eq!(noop.uses[0].health, Health::Up);
    let http = status.iter().find(|s| s.name == "http").unwrap();
    assert!(!http.loaded);

    // The wrong kind is refused by the registry too.
    let cfg2 = config("[[scrape]]\njob = \"x\"\ndiscovery = [{ plugin = \"probe\" }]\n");
    // (probe is not loaded in this set: the registry says so.)
    let err = set
        .discoverer("x", &cfg2.scrape[0].discovery[0])
        .err()
        .unwrap();
    assert_eq!(
        err,
        DiscoveryError::Config(r#"no plugin named "probe" is loaded"#.into())
    );
}

fn series_value(batch: &[String], prefix: &str) -> Option<String> {
    batch
        .iter()
        .find(|s| s.starts_with(prefix))
        .map(|s| s.rsplit_once(' ').unwrap().1.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporter_jobs_append_like_scrapes() {
    let dir = tempfile::tempdir().unwrap();
    let set = set(dir.path());
    set.store()
        .install(
            set.runtime(),
            fixture("fixture-exporter").to_str().unwrap(),
            None,
        )
        .await
        .unwrap();
    let text = |name: &str| {
        format!(
            r#"
[[exporter]]
job = "fx"
plugin = "fixture-exporter"
interval = "50ms"
labels = {{ team = "a" }}
config = {{ name = "{name}", value = 2.5 }}
"#
        )
    };
    let cfg = config(&text("first_value"));
    set.commit(set.prepare(&cfg).await.unwrap());
    let rec = Arc::new(Recorder::default());
    let manager = ExporterManager::new(rec.clone(), set.clone());
    manager.apply(&cfg.exporters);
    wait_for("two runs", || rec.len() >= 2);
    let first = rec.batch(0);
    let t = r#"instance="fixture-exporter", job="fx""#;
    assert_eq!(
        first
            .iter()
            .filter(|s| !s.starts_with("scrape_duration_seconds{"))
            .cloned()
            .collect::<Vec<_>>(),
        [
            format!(r#"first_value{{{t}, source="config", team="a"}} 2.5"#),
            format!(r#"scrape_samples_post_metric_relabeling{{{t}, team="a"}} 1"#),
            format!(r#"scrape_samples_scraped{{{t}, team="a"}} 1"#),
            format!(r#"scrape_series_added{{{t}, team="a"}} 1"#),
            format!(r#"up{{{t}, team="a"}} 1"#),
        ]
    );
    assert_eq!(
        series_value(&rec.batch(1), "scrape_series_added{"),
        Some("0".into())
    );

    // A changed job replaces its loop; the series that went away get
    // staleness markers in the new loop's first batch.
    let before = rec.len();
    let cfg = config(&text("second_value"));
    set.commit(set.prepare(&cfg).await.unwrap());
    manager.apply(&cfg.exporters);
    let mut changed = None;
    wait_for("a batch of the new job", || {
        let n = rec.len();
        changed = (before..n)
            .map(|i| rec.batch(i))
            .find(|b| b.iter().any(|s| s.contains("second_value")));
        changed.is_some()
    });
    let changed = changed.unwrap();
    assert_eq!(series_value(&changed, "first_value{"), Some("stale".into()));
    assert_eq!(series_value(&changed, "second_value{"), Some("2.5".into()));

    // Removing the job marks everything it wrote stale.
    set.commit(set.prepare(&config("")).await.unwrap());
    manager.apply(&[]);
    let mut last = Vec::new();
    wait_for("the staleness batch", || {
        let n = rec.len();
        last = rec.batch(n - 1);
        last.iter().all(|s| s.ends_with(" stale"))
    });
    let names: Vec<&str> = last.iter().map(|s| s.split('{').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "scrape_duration_seconds",
            "scrape_samples_post_metric_relabeling",
            "scrape_samples_scraped",
            "scrape_series_added",
            "second_value",
            "up"
        ]
    );
    assert!(manager.jobs().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_exporter_is_down_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let set = set(dir.path());
    // 127.0.0.1 is not granted: the sandbox refuses the request.
    let cfg = config(
        r#"
[[exporter]]
job = "j"
plugin = "json"
interval = "50ms"
config = { url = "http://127.0.0.1:9/stats", metrics = [{ name = "x", path = "a" }] }
"#,
    );
    set.commit(set.prepare(&cfg).await.unwrap());
    let rec = Arc::new(Recorder::default());
    let manager = ExporterManager::new(rec.clone(), set.clone());
    manager.apply(&cfg.exporters);
    wait_for("a run", || rec.len() >= 1);
    let b = rec.batch(0);
    assert_eq!(series_value(&b, "up{"), Some("0".into()));
    assert_eq!(
        series_value(&b, "scrape_samples_scraped{"),
        Some("0".into())
    );
    assert_eq!(b.len(), 5, "{b:?}");
    let status = set.statuses();
    let json = status.iter().find(|s| s.name == "json").unwrap();
    assert_eq!(json.health, Health::Down);
    let (_, err) = json.last_error.clone().unwrap();
    assert!(
        err.contains("http://127.0.0.1:9 is not granted; add \"http://127.0.0.1:9\" to the plugin's allow_http"),
        "{err}"
    );
    let m = json.metrics.clone().unwrap();
    assert!(
        m.errors_of(pharos_plugin_host::ErrorKind::Denied) >= 1,
        "{m:?}"
    );
    manager.stop(Duration::from_secs(5)).await;
}
