//! Shared test helpers: a runtime, fixture loading and a tiny HTTP/1.1
//! server on 127.0.0.1 (port 0) that answers every request the same way
//! and records what it received.

#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

pub mod dns_server;

use pharos_plugin_host::{Limits, Plugin, PluginKind, PluginSettings, Runtime, RuntimeOptions};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub fn runtime() -> Runtime {
    Runtime::new(RuntimeOptions {
        pooling: Some(8),
        ..RuntimeOptions::default()
    })
    .unwrap()
}

/// Small limits so misbehaving fixtures are stopped quickly.
pub fn settings() -> PluginSettings {
    PluginSettings {
        limits: Limits {
            memory: 32 << 20,
            cpu: Duration::from_millis(300),
            timeout: Duration::from_secs(5),
        },
        ..PluginSettings::default()
    }
}

pub fn fixture(crate_name: &str) -> Vec<u8> {
    let path = pharos_plugin_host::components::built_component_path(crate_name)
        .unwrap_or_else(|| panic!("{crate_name} was not built"));
    std::fs::read(path).unwrap()
}

pub async fn load(
    runtime: &Runtime,
    crate_name: &str,
    kind: PluginKind,
    settings: &PluginSettings,
) -> Plugin {
    runtime
        .load(crate_name, kind, &fixture(crate_name), settings)
        .await
        .unwrap()
}

pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

pub struct TestServer {
    pub addr: SocketAddr,
    /// Raw requests received (head and body).
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Serves `reply` to every request; `None` accepts and never answers.
pub async fn serve(reply: Option<Reply>) -> TestServer {
    match reply {
        Some(reply) => {
            let reply = Arc::new(reply);
            serve_fn(move |_| {
                Some(Reply {
                    status: reply.status,
                    content_type: reply.content_type,
                    body: reply.body.clone(),
                })
            })
            .await
        }
        None => serve_fn(|_| None).await,
    }
}

/// Serves fixed replies by request path (the query string ignored); 404
/// for any other path.
pub async fn serve_routes(routes: Vec<(&'static str, Reply)>) -> TestServer {
    let routes = Arc::new(routes);
    serve_fn(move |head| {
        let target = head.split(' ').nth(1).unwrap_or("");
        let path = target.split('?').next().unwrap_or("");
        let reply = routes.iter().find(|(p, _)| *p == path).map(|(_, r)| Reply {
            status: r.status,
            content_type: r.content_type,
            body: r.body.clone(),
        });
        Some(reply.unwrap_or(Reply {
            status: 404,
            content_type: "text/plain",
            body: format!("no route for {path}"),
        }))
    })
    .await
}

/// Answers each request with what `respond` returns for its raw text (head
/// and body); `None` accepts and never answers.
pub async fn serve_fn(
    respond: impl Fn(&str) -> Option<Reply> + Send + Sync + 'static,
) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let respond = Arc::new(respond);
    let seen = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let respond = respond.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = conn.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = find(&buf, b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&buf).into_owned();
                seen.lock().unwrap().push(text.clone());
                let Some(reply) = respond(&text) else {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    return;
                };
                let response = format!(
                    "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    reply.status,
                    reply.content_type,
                    reply.body.len(),
                    reply.body
                );
                let _ = conn.write_all(response.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    TestServer { addr, requests }
}

/// A label set as a sorted map, for exact comparisons.
pub fn label_map(ls: &[pharos_plugin_host::Label]) -> std::collections::BTreeMap<String, String> {
    ls.iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

/// Settings granting HTTP to a local server (origin and loopback address).
pub fn http_settings(server: &TestServer) -> PluginSettings {
    let mut settings = settings();
    settings.grants.allow_http = vec![format!("http://127.0.0.1:{}", server.addr.port())];
    settings.grants.allow_private_ips = vec!["127.0.0.1".into()];
    settings
}

/// Groups as JSON (`source`, `labels`, `targets`), label sets as objects,
/// for comparing with an expected file under `testdata/`.
pub fn groups_json(groups: &[pharos_plugin_host::TargetGroup]) -> serde_json::Value {
    groups
        .iter()
        .map(|g| {
            serde_json::json!({
                "source": g.source,
                "labels": label_map(&g.labels),
                "targets": g.targets.iter().map(|t| label_map(t)).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// Reads `testdata/<name>` of this crate.
pub fn testdata(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compares groups with the expected JSON in `testdata/<name>`, where
/// `{PORT}` / `{DIR}` stand for values known only at run time.
pub fn assert_groups(
    groups: &[pharos_plugin_host::TargetGroup],
    name: &str,
    vars: &[(&str, &str)],
) {
    let mut text = testdata(name);
    for (k, v) in vars {
        text = text.replace(k, v);
    }
    let want: serde_json::Value = serde_json::from_str(&text).unwrap();
    let got = groups_json(groups);
    assert_eq!(
        got,
        want,
        "groups differ from testdata/{name}; got:\n{}",
        serde_json::to_string_pretty(&got).unwrap()
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
