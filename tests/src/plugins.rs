//! Helpers for the plugin system tests: a small HTTP server whose answers
//! the test changes per path (an HTTP SD endpoint, a JSON document, a
//! metrics target), a Pharos process whose log is kept in a file so tests
//! can read what it logged, the `pharos` command line, and polling.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::pharos::pharos_bin;
use crate::process::{Process, free_port};

/// One answer: status line, content type, body.
#[derive(Clone)]
struct Reply {
    status: &'static str,
    content_type: String,
    body: String,
}

/// An HTTP/1.1 server on 127.0.0.1 answering each path with what the test
/// set for it (404 otherwise).
pub struct HttpServer {
    pub addr: String,
    routes: Arc<Mutex<BTreeMap<String, Reply>>>,
}

impl HttpServer {
    pub fn start() -> Result<HttpServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?.to_string();
        let routes: Arc<Mutex<BTreeMap<String, Reply>>> = Arc::default();
        let r = routes.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let r = r.clone();
                std::thread::spawn(move || serve(conn, &r));
            }
        });
        Ok(HttpServer { addr, routes })
    }

    /// Answers `path` with 200, `content_type` and `body` from now on.
    pub fn set(&self, path: &str, content_type: &str, body: &str) {
        if let Ok(mut routes) = self.routes.lock() {
            routes.insert(
                path.to_owned(),
                Reply {
                    status: "200 OK",
                    content_type: content_type.to_owned(),
                    body: body.to_owned(),
                },
            );
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

fn serve(mut conn: std::net::TcpStream, routes: &Mutex<BTreeMap<String, Reply>>) {
    let Ok(clone) = conn.try_clone() else { return };
    let mut reader = BufReader::new(clone);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut content_length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line.trim_end().is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                content_length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        let reply = routes
            .lock()
            .ok()
            .and_then(|r| r.get(&path).cloned())
            .unwrap_or(Reply {
                status: "404 Not Found",
                content_type: "text/plain".into(),
                body: "not found\n".into(),
            });
        let resp = format!(
            "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{}",
            reply.status,
            reply.content_type,
            reply.body.len(),
            reply.body
        );
        if conn.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// A Pharos server whose stderr (its log, at `info`) goes to a file.
pub struct LoggedPharos {
    pub url: String,
    pub log: PathBuf,
    process: Process,
}

impl LoggedPharos {
    /// `pharos run --config CONFIG --data DATA --enable-lifecycle` on a
    /// free port, logging to `<DATA>.log`; waits until it answers
    /// `/-/ready`.
    pub fn start(data: &Path, config: &Path) -> Result<LoggedPharos> {
        let port = free_port()?;
        let log = data.with_extension("log");
        let file = std::fs::File::create(&log).context("creating the log file")?;
        let child = Command::new(pharos_bin()?)
            .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .arg("--config")
            .arg(config)
            .arg("--enable-lifecycle")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .spawn()
            .context("starting pharos")?;
        let mut p = LoggedPharos {
            url: format!("http://127.0.0.1:{port}"),
            log,
            process: Process::new(child),
        };
        let client = reqwest::blocking::Client::new();
        let ready = format!("{}/-/ready", p.url);
        if let Err(e) = p
            .process
            .wait_ready(&client, &ready, Duration::from_secs(120))
        {
            bail!("pharos: {e:#}\nlog:\n{}", p.logs());
        }
        Ok(p)
    }

    /// What it logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn get_json(&self, path: &str) -> Result<Value> {
        crate::api::get_json(&self.url, path)
    }

    /// The body of a GET as text (`/metrics`).
    pub fn get_text(&self, path: &str) -> Result<String> {
        let resp = reqwest::blocking::get(format!("{}{path}", self.url))?;
        Ok(resp.error_for_status()?.text()?)
    }

    /// `POST /-/reload`: `Ok(())` or the server's refusal text.
    pub fn reload(&self) -> Result<std::result::Result<(), String>> {
        let resp = reqwest::blocking::Client::new()
            .post(format!("{}/-/reload", self.url))
            .send()?;
        if resp.status().is_success() {
            Ok(Ok(()))
        } else {
            Ok(Err(resp.text()?))
        }
    }

    /// An instant query's result vector.
    pub fn query(&self, expr: &str) -> Result<Vec<Value>> {
        crate::api::query(&self.url, expr)
    }

    /// The value of a one-series instant query, if there is one.
    pub fn scalar(&self, expr: &str) -> Result<Option<f64>> {
        crate::api::scalar(&self.url, expr)
    }

    /// The `/api/v1/plugins` entry of `name`.
    pub fn plugin(&self, name: &str) -> Result<Option<Value>> {
        let v = self.get_json("/api/v1/plugins")?;
        if v["status"] != "success" {
            bail!("/api/v1/plugins: {v}");
        }
        Ok(v["data"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name).cloned()))
    }

    /// The `uses` entry of plugin `name` for `job`.
    pub fn plugin_use(&self, name: &str, job: &str) -> Result<Option<Value>> {
        Ok(self.plugin(name)?.and_then(|p| {
            p["uses"]
                .as_array()
                .and_then(|us| us.iter().find(|u| u["job"] == job).cloned())
        }))
    }

    /// The active targets of `job` from `/api/v1/targets`.
    pub fn targets(&self, job: &str) -> Result<Vec<Value>> {
        let v = self.get_json("/api/v1/targets?state=active")?;
        Ok(v["data"]["activeTargets"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .filter(|t| t["labels"]["job"] == job)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// Runs `pharos ARGS…` and returns its output.
pub fn pharos_cli(args: &[&str]) -> Result<Output> {
    Command::new(pharos_bin()?)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .context("running pharos")
}

/// Runs `pharos ARGS…`, failing with its stderr unless it succeeds;
/// returns its stdout.
pub fn pharos_ok(args: &[&str]) -> Result<String> {
    let out = pharos_cli(args)?;
    if !out.status.success() {
        bail!(
            "pharos {} failed ({}):\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Where scaffolded plugin crates build (`<target>/template-build`),
/// shared by the tests that build them so dependencies compile once.
pub fn template_target_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe
        .ancestors()
        .nth(3)
        .context("test binary has no target directory")?
        .join("template-build"))
}
