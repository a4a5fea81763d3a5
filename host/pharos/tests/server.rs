//! The server lifecycle against real storage: writes acknowledged over HTTP
//! survive a graceful shutdown, in-process and through the binary with
//! SIGTERM.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pharos::server::Server;
use pharos_model::Matcher;
use pharos_prompb::{Label, Sample, TimeSeries, WriteRequest, encode_write_request};
use pharos_tsdb::{Db, DbOptions, Queryable};

fn write_body(name: &str) -> Vec<u8> {
    encode_write_request(&WriteRequest {
        timeseries: vec![TimeSeries {
            labels: vec![Label {
                name: "__name__".into(),
                value: name.into(),
            }],
            samples: vec![
                Sample {
                    value: 1.0,
                    timestamp: 1_000,
                },
                Sample {
                    value: 2.0,
                    timestamp: 2_000,
                },
            ],
            ..Default::default()
        }],
        ..Default::default()
    })
}

/// One HTTP/1.1 request over a fresh connection; returns status and body.
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-protobuf\r\n\
         Content-Encoding: snappy\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp[9..12].parse().unwrap();
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

fn stored(dir: &Path, name: &str) -> usize {
    let db = Db::open_without_worker(dir, DbOptions::default()).unwrap();
    let series = db
        .select(&[Matcher::equal("__name__", name)], i64::MIN, i64::MAX)
        .unwrap();
    let n = series.iter().map(|s| s.samples().len()).sum();
    db.close().unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_shutdown_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start("127.0.0.1:0", dir.path()).await.unwrap();
    let addr = server.local_addr().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));

    let a = addr.clone();
    let (status, _) = tokio::task::spawn_blocking(move || {
        http(&a, "POST", "/api/v1/write", &write_body("lifecycle"))
    })
    .await
    .unwrap();
    assert_eq!(status, 204);
    let a = addr.clone();
    let (status, body) = tokio::task::spawn_blocking(move || http(&a, "GET", "/-/ready", b""))
        .await
        .unwrap();
    assert_eq!((status, body.as_str()), (200, "Pharos Server is Ready.\n"));

    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    assert_eq!(stored(dir.path(), "lifecycle"), 2);
}

#[test]
fn binary_flushes_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args(["run", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(rest) = line.split(" listen=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let (status, body) = http(&addr, "POST", "/api/v1/write", &write_body("sigterm"));
    assert_eq!((status, body.as_str()), (204, ""));

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("storage closed")),
        "{rest:#?}"
    );
    assert_eq!(stored(dir.path(), "sigterm"), 2);
}

#[test]
fn a_missing_config_file_is_refused_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args(["run", "--config", "does-not-exist.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does-not-exist.toml"), "{err}");
}

#[test]
fn version_and_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        v.starts_with(&format!("pharos {}", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args(["run", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--config <FILE>",
        "--listen <ADDR>",
        "--data <DIR>",
        "127.0.0.1:9090",
    ] {
        assert!(help.contains(flag), "{flag} missing in {help}");
    }
}
