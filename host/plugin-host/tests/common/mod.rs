//! Shared test helpers: a runtime, fixture loading and a tiny HTTP/1.1
//! server on 127.0.0.1 (port 0) that answers every request the same way
//! and records what it received.

#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

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
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let reply = reply.map(Arc::new);
    let seen = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let reply = reply.clone();
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
                seen.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf).into_owned());
                let Some(reply) = reply else {
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
