//! The listener against real clients: Pharos with TLS (a CA made here with
//! rcgen) and bcrypt basic auth, queried by promtool 2.42 and a
//! Grafana-like reqwest client, remote-written to by Prometheus 2.42
//! (`basic_auth` and `tls_config`); client certificates required; a
//! certificate replaced on disk is served without a restart; a bad key is
//! refused by `pharos check config` and at start; slow and idle clients are
//! cut off; connections beyond `max_connections` wait; the lifecycle
//! endpoints and the remote-write receiver follow their switches; a reload
//! while one runs answers 503.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use pharos_tests::pharos::pharos_bin;
use pharos_tests::process::{Process, free_port};
use pharos_tests::references::require;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::Value;

/// A CA and what it signed: PEM texts.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Result<Ca> {
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate()?;
        let cert = p.self_signed(&key)?;
        Ok(Ca { cert, key })
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A leaf certificate and its key (PEM) for `names`.
    fn issue(&self, names: &[&str], usage: ExtendedKeyUsagePurpose) -> Result<(String, String)> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut p = CertificateParams::new(names)?;
        p.distinguished_name.push(DnType::CommonName, "pharos test");
        p.extended_key_usages = vec![usage];
        let key = KeyPair::generate()?;
        let cert = p.signed_by(&key, &self.cert, &self.key)?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    fn server(&self) -> Result<(String, String)> {
        self.issue(
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client identity: certificate and key in one PEM (reqwest's form).
    fn client(&self) -> Result<String> {
        let (cert, key) = self.issue(&["client"], ExtendedKeyUsagePurpose::ClientAuth)?;
        Ok(format!("{cert}{key}"))
    }
}

/// A `pharos run` with its log in a file.
struct Pharos {
    port: u16,
    log: PathBuf,
    process: Process,
}

impl Pharos {
    /// Starts Pharos on `config` (written to `DIR/NAME.toml`, data in
    /// `DIR/NAME-data`); readiness is the caller's to wait for.
    fn start(dir: &Path, name: &str, config: &str) -> Result<Pharos> {
        let file = dir.join(format!("{name}.toml"));
        std::fs::write(&file, config)?;
        let port = free_port()?;
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(pharos_bin()?)
            .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(dir.join(format!("{name}-data")))
            .arg("--config")
            .arg(&file)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting pharos")?;
        Ok(Pharos {
            port,
            log,
            process: Process::new(child),
        })
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn https(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Polls `ready` until it holds; fails if Pharos exits first.
    fn wait(&mut self, what: &str, timeout: Duration, ready: impl Fn() -> bool) -> Result<()> {
        let deadline = Instant::now() + timeout;
        while !ready() {
            if !self.process.running() {
                bail!("pharos exited before {what}; log:\n{}", self.logs());
            }
            if Instant::now() > deadline {
                bail!("{what}: not after {timeout:?}; log:\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }
}

/// A reqwest client that trusts only `ca` (PEM), with an optional client
/// identity — what Grafana's data source does with a custom CA.
fn client(ca: &str, identity: Option<&str>) -> Result<Client> {
    let mut b = Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes())?)
        .timeout(Duration::from_secs(10));
    if let Some(id) = identity {
        b = b.identity(reqwest::Identity::from_pem(id.as_bytes())?);
    }
    Ok(b.build()?)
}

fn hash(password: &str) -> Result<String> {
    Ok(bcrypt::hash(password, 10)?)
}

#[test]
fn promtool_grafana_and_prometheus_work_against_tls_and_basic_auth() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let ca = Ca::new("pharos test CA")?;
    let (cert, key) = ca.server()?;
    std::fs::write(d.join("ca.crt"), ca.pem())?;
    std::fs::write(d.join("server.crt"), cert)?;
    std::fs::write(d.join("server.key"), key)?;
    let config = format!(
        "[global]\nscrape_interval = \"15s\"\n\n\
         [server.basic_auth_users]\ngrafana = \"{}\"\nprometheus = \"{}\"\n\n\
         [server.tls_server_config]\ncert_file = \"server.crt\"\nkey_file = \"server.key\"\n",
        hash("g-secret")?,
        hash("p-secret")?
    );
    let mut p = Pharos::start(d, "tls", &config)?;
    let grafana = client(&ca.pem(), None)?;
    let ready = p.https("/-/ready");
    p.wait("ready over TLS", Duration::from_secs(60), || {
        grafana
            .get(&ready)
            .basic_auth("grafana", Some("g-secret"))
            .send()
            .is_ok_and(|r| r.status() == StatusCode::OK)
    })?;

    // No or wrong credentials: exporter-toolkit's 401.
    for auth in [
        None,
        Some(("grafana", "wrong")),
        Some(("nobody", "g-secret")),
    ] {
        let mut req = grafana.get(p.https("/api/v1/status/buildinfo"));
        if let Some((u, pw)) = auth {
            req = req.basic_auth(u, Some(pw));
        }
        let resp = req.send()?;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(resp.headers()["www-authenticate"], "Basic");
        assert_eq!(resp.text()?, "Unauthorized\n");
    }
    // Plain HTTP on the TLS port gets no answer.
    let plain = Client::builder().timeout(Duration::from_secs(5)).build()?;
    let answered = plain
        .get(format!("http://{}/-/ready", p.addr()))
        .send()
        .is_ok_and(|r| r.status().is_success());
    assert!(!answered, "plain HTTP answered on the TLS port");

    // The lifecycle endpoints are off by default, with Prometheus' texts.
    let resp = grafana
        .post(p.https("/-/reload"))
        .basic_auth("grafana", Some("g-secret"))
        .send()?;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(resp.text()?, "Lifecycle API is not enabled.");
    let resp = grafana
        .get(p.https("/-/quit"))
        .basic_auth("grafana", Some("g-secret"))
        .send()?;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.text()?, "Only POST or PUT requests allowed");
    // What a web page could post to the receiver: 415.
    let resp = grafana
        .post(p.https("/api/v1/write"))
        .basic_auth("prometheus", Some("p-secret"))
        .header("Content-Type", "text/plain")
        .body("x")
        .send()?;
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        resp.text()?,
        "expected application/x-protobuf as the first (media) part, got text/plain content-type\n"
    );

    // Prometheus 2.42 remote-writes its own metrics with basic_auth and
    // tls_config.
    let prom_port = free_port()?;
    std::fs::write(
        d.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n\
             scrape_configs:\n- job_name: prometheus\n  static_configs: [{{targets: ['127.0.0.1:{prom_port}']}}]\n\
             remote_write:\n- url: {}\n  basic_auth: {{username: prometheus, password: p-secret}}\n  \
             tls_config: {{ca_file: {}}}\n  queue_config: {{batch_send_deadline: 500ms, min_backoff: 50ms}}\n",
            p.https("/api/v1/write"),
            d.join("ca.crt").display()
        ),
    )?;
    let prom = Command::new(require("prometheus")?)
        .arg(format!(
            "--config.file={}",
            d.join("prometheus.yml").display()
        ))
        .arg(format!("--storage.tsdb.path={}", d.join("prom").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(d.join("prometheus.log"))?)
        .spawn()
        .context("starting prometheus")?;
    let _prom = Process::new(prom);
    // Grafana's way: a POST form query, with credentials.
    let query = p.https("/api/v1/query");
    let written = || -> Result<bool> {
        let v: Value = grafana
            .post(&query)
            .basic_auth("grafana", Some("g-secret"))
            .form(&[("query", "count(prometheus_build_info{job=\"prometheus\"})")])
            .send()?
            .json()?;
        Ok(v["data"]["result"][0]["value"][1] == "1")
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !written().unwrap_or(false) {
        if Instant::now() > deadline {
            bail!(
                "Prometheus' samples never arrived; prometheus log:\n{}\npharos log:\n{}",
                std::fs::read_to_string(d.join("prometheus.log")).unwrap_or_default(),
                p.logs()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }

    // promtool 2.42 (no --http.config.file yet): credentials in the URL,
    // the CA through Go's SSL_CERT_FILE.
    let promtool = require("promtool")?;
    let query = |password: &str, expr: &str| {
        Command::new(&promtool)
            .env("SSL_CERT_FILE", d.join("ca.crt"))
            .args(["query", "instant"])
            .arg(format!("https://grafana:{password}@127.0.0.1:{}", p.port))
            .arg(expr)
            .output()
    };
    let out = query("g-secret", "count(prometheus_build_info)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("=> 1 @"),
        "promtool: {}\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let out = query("nope", "1")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("401"),
        "promtool with a wrong password: {}\n{stderr}",
        out.status
    );
    Ok(())
}

#[test]
fn client_certificates_are_required_and_certificates_reload() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let ca = Ca::new("pharos test CA")?;
    let (cert, key) = ca.server()?;
    std::fs::write(d.join("ca.crt"), ca.pem())?;
    std::fs::write(d.join("server.crt"), cert)?;
    std::fs::write(d.join("server.key"), key)?;
    let config = "[server.tls_server_config]\ncert_file = \"server.crt\"\nkey_file = \"server.key\"\n\
                  client_ca_file = \"ca.crt\"\nclient_auth_type = \"RequireAndVerifyClientCert\"\n";
    let mut p = Pharos::start(d, "mtls", config)?;
    let identity = ca.client()?;
    let good = client(&ca.pem(), Some(&identity))?;
    let ready = p.https("/-/ready");
    p.wait(
        "ready with a client certificate",
        Duration::from_secs(60),
        || {
            good.get(&ready)
                .send()
                .is_ok_and(|r| r.status() == StatusCode::OK)
        },
    )?;
    // No client certificate, or one from another CA: refused.
    let anonymous = client(&ca.pem(), None)?;
    let stranger = client(&ca.pem(), Some(&Ca::new("other CA")?.client()?))?;
    for (who, c) in [("no certificate", &anonymous), ("another CA", &stranger)] {
        let r = c.get(&ready).send();
        assert!(
            r.as_ref().is_err(),
            "{who}: answered {:?}",
            r.map(|r| r.status())
        );
    }

    // A new server certificate from a new CA, written over the files:
    // served without a restart.
    let ca2 = Ca::new("pharos test CA 2")?;
    let (cert2, key2) = ca2.server()?;
    let replace = |name: &str, text: &str| -> Result<()> {
        let tmp = d.join(format!("{name}.tmp"));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, d.join(name))?;
        Ok(())
    };
    replace("server.key", &key2)?;
    replace("server.crt", &cert2)?;
    let renewed = client(&ca2.pem(), Some(&identity))?;
    p.wait(
        "the new certificate served",
        Duration::from_secs(20),
        || {
            renewed
                .get(&ready)
                .send()
                .is_ok_and(|r| r.status() == StatusCode::OK)
        },
    )?;
    // A new connection (the old client's pooled one used the old pair).
    let old = client(&ca.pem(), Some(&identity))?;
    assert!(
        old.get(&ready).send().is_err(),
        "the old certificate is still served"
    );

    // A broken key: the reload (SIGHUP) is refused, the running
    // certificate stays.
    replace("server.key", "not a key\n")?;
    let hup = Command::new("kill")
        .args(["-HUP", &p.process.id().to_string()])
        .status()?;
    ensure!(hup.success(), "kill -HUP failed");
    let log_file = p.log.clone();
    p.wait("the refused reload logged", Duration::from_secs(20), || {
        let log = std::fs::read_to_string(&log_file).unwrap_or_default();
        log.contains("reload refused") && log.contains("server.tls_server_config.key_file")
    })?;
    std::thread::sleep(Duration::from_millis(1500));
    let r = renewed.get(&ready).send()?;
    assert_eq!(r.status(), StatusCode::OK);
    let log = p.logs();
    assert!(
        log.contains("failed to load X509KeyPair: tls: failed to find any PEM data in key input"),
        "{log}"
    );
    Ok(())
}

#[test]
fn a_bad_key_is_refused_by_check_config_and_at_start() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let ca = Ca::new("pharos test CA")?;
    let (cert, _) = ca.server()?;
    let (_, other_key) = ca.server()?;
    std::fs::write(d.join("server.crt"), cert)?;
    std::fs::write(d.join("other.key"), other_key)?;
    let mismatch = d.join("mismatch.toml");
    std::fs::write(
        &mismatch,
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[server.tls_server_config]\ncert_file = \"server.crt\"\nkey_file = \"other.key\"\n",
    )?;
    let missing = d.join("missing.toml");
    std::fs::write(
        &missing,
        "[server.tls_server_config]\ncert_file = \"nope.crt\"\nkey_file = \"other.key\"\n",
    )?;
    let pharos = pharos_bin()?;
    let out = Command::new(&pharos)
        .current_dir(d)
        .args(["check", "config"])
        .args([&mismatch, &missing])
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "  FAILED: {}:6:12: server.tls_server_config.key_file: failed to load X509KeyPair: tls: private key does not match public key",
            mismatch.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "  FAILED: {}:2:13: server.tls_server_config.cert_file: failed to read cert_file ({}): ",
            missing.display(),
            d.join("nope.crt").display()
        )),
        "{stderr}"
    );
    let out = Command::new(&pharos)
        .args(["run", "--data"])
        .arg(d.join("data"))
        .arg("--config")
        .arg(&mismatch)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("pharos: error: invalid configuration: ")
            && stderr.contains("server.tls_server_config.key_file: failed to load X509KeyPair: tls: private key does not match public key"),
        "{stderr}"
    );
    Ok(())
}

/// One request on `conn` (keep-alive); the status line and body.
fn request(conn: &mut TcpStream, path: &str) -> Result<String> {
    write!(conn, "GET {path} HTTP/1.1\r\nHost: pharos\r\n\r\n")?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk)?;
        ensure!(n > 0, "connection closed before the answer");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if body.len() >= len {
                return Ok(head.lines().next().unwrap_or_default().to_owned());
            }
        }
    }
}

/// Waits until the server closes `conn` (EOF or reset) without
/// answering; how long that took.
fn closed_within(conn: &mut TcpStream, limit: Duration) -> Result<Duration> {
    let start = Instant::now();
    conn.set_read_timeout(Some(Duration::from_millis(100)))?;
    let mut buf = [0u8; 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return Ok(start.elapsed()),
            Ok(n) => bail!("answered: {:?}", String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Ok(start.elapsed());
            }
            Err(_) => {}
        }
        if start.elapsed() > limit {
            bail!("still open after {limit:?}");
        }
    }
}

#[test]
fn slow_clients_are_cut_off_and_connections_wait_for_a_slot() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = "[server]\nread_header_timeout = \"1s\"\nread_timeout = \"2s\"\nidle_timeout = \"3s\"\nmax_connections = 3\n";
    let mut p = Pharos::start(dir.path(), "limits", config)?;
    let addr = p.addr();
    p.wait("ready", Duration::from_secs(60), || {
        TcpStream::connect(&addr)
            .and_then(|mut c| {
                c.set_read_timeout(Some(Duration::from_secs(5)))?;
                request(&mut c, "/-/ready").map_err(std::io::Error::other)
            })
            .is_ok_and(|status| status.starts_with("HTTP/1.1 200"))
    })?;

    // Beyond max_connections a connection waits for a slot: three
    // keep-alive connections hold them, the fourth is not answered until
    // one closes.
    let mut held: Vec<TcpStream> = Vec::new();
    for _ in 0..3 {
        let mut c = TcpStream::connect(&addr)?;
        c.set_read_timeout(Some(Duration::from_secs(5)))?;
        ensure!(request(&mut c, "/-/healthy")?.starts_with("HTTP/1.1 200"));
        held.push(c);
    }
    let mut waiting = TcpStream::connect(&addr)?;
    write!(waiting, "GET /-/healthy HTTP/1.1\r\nHost: pharos\r\n\r\n")?;
    waiting.set_read_timeout(Some(Duration::from_millis(1000)))?;
    let mut buf = [0u8; 1024];
    match waiting.read(&mut buf) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        other => bail!("a connection beyond the limit was served: {other:?}"),
    }
    drop(held.pop());
    waiting.set_read_timeout(Some(Duration::from_secs(2)))?;
    let n = waiting.read(&mut buf)?;
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(waiting);
    drop(held);

    // Slowloris: a connection that sends nothing, and one that trickles
    // header lines, are closed after read_header_timeout (1s).
    let mut silent = TcpStream::connect(&addr)?;
    let took = closed_within(&mut silent, Duration::from_secs(5))?;
    assert!(took >= Duration::from_millis(800), "closed after {took:?}");
    let mut trickle = TcpStream::connect(&addr)?;
    trickle.set_read_timeout(Some(Duration::from_millis(200)))?;
    let start = Instant::now();
    write!(trickle, "GET /-/healthy HTTP/1.1\r\n")?;
    let mut closed = false;
    while start.elapsed() < Duration::from_secs(5) {
        if write!(trickle, "X-Slow: {}\r\n", start.elapsed().as_millis()).is_err() {
            closed = true;
            break;
        }
        match trickle.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => bail!("answered: {:?}", String::from_utf8_lossy(&buf[..n])),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    let took = start.elapsed();
    assert!(
        closed,
        "a trickling client is still connected after {took:?}"
    );
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(4),
        "closed after {took:?}"
    );

    // A body that trickles in fails after read_timeout (2s).
    let mut slow_body = TcpStream::connect(&addr)?;
    slow_body.set_read_timeout(Some(Duration::from_millis(200)))?;
    write!(
        slow_body,
        "POST /api/v1/query HTTP/1.1\r\nHost: pharos\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nquery="
    )?;
    let start = Instant::now();
    let mut answer = Vec::new();
    while start.elapsed() < Duration::from_secs(6) {
        if write!(slow_body, "1").is_err() {
            break;
        }
        match slow_body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {}
        }
    }
    let took = start.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 400") && answer.contains("read timeout"),
        "{answer:?}"
    );
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "answered after {took:?}"
    );

    // A form body over the API's limit (2 MiB) is refused, not buffered.
    let big = format!("query={}", "1".repeat(3 << 20));
    let resp = Client::new()
        .post(format!("http://{addr}/api/v1/query"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(big)
        .send()?;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    drop(resp);

    // Idle keep-alive connections are closed after idle_timeout (3s).
    let mut idle = TcpStream::connect(&addr)?;
    idle.set_read_timeout(Some(Duration::from_secs(5)))?;
    ensure!(request(&mut idle, "/-/healthy")?.starts_with("HTTP/1.1 200"));
    let took = closed_within(&mut idle, Duration::from_secs(8))?;
    assert!(
        took >= Duration::from_millis(2500),
        "idle connection closed after {took:?}"
    );
    Ok(())
}

#[test]
fn lifecycle_receiver_switch_concurrent_reloads_and_quit() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    // Enough rules that a reload takes a while.
    let mut rules = String::from("groups:\n");
    for i in 0..2_000 {
        if i % 100 == 0 {
            rules.push_str(&format!("- name: g{i}\n  rules:\n"));
        }
        rules.push_str(&format!(
            "  - record: job:r{i}:rate5m\n    expr: sum by (job) (rate(m{i}_total{{code=~\"5..\"}}[5m]))\n"
        ));
    }
    std::fs::write(d.join("rules.yml"), rules)?;
    let config = |receiver: bool| {
        format!(
            "[server]\nenable_lifecycle = true\nenable_remote_write_receiver = {receiver}\n\n\
             [rules]\nfiles = [\"rules.yml\"]\n"
        )
    };
    let mut p = Pharos::start(d, "lifecycle", &config(false))?;
    let base = format!("http://{}", p.addr());
    let http = Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let ready = format!("{base}/-/ready");
    p.wait("ready", Duration::from_secs(120), || {
        http.get(&ready)
            .send()
            .is_ok_and(|r| r.status() == StatusCode::OK)
    })?;
    let write = || {
        let body = pharos_prompb::encode_write_request(&pharos_prompb::WriteRequest {
            timeseries: vec![pharos_prompb::TimeSeries {
                labels: vec![pharos_prompb::Label {
                    name: "__name__".into(),
                    value: "written".into(),
                }],
                samples: vec![pharos_prompb::Sample {
                    value: 1.0,
                    timestamp: 1_000,
                }],
                ..Default::default()
            }],
            ..Default::default()
        });
        http.post(format!("{base}/api/v1/write"))
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(body)
            .send()
    };
    let resp = write()?;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        resp.text()?,
        "remote write receiver needs to be enabled with enable_remote_write_receiver = true in [server]\n"
    );

    // Reloads at once: one runs, the others answer 503 instead of
    // queueing; the receiver is on afterwards.
    std::fs::write(d.join("lifecycle.toml"), config(true))?;
    let n = 6;
    let barrier = Arc::new(Barrier::new(n));
    let answers: Vec<(StatusCode, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let barrier = barrier.clone();
                let http = http.clone();
                let url = format!("{base}/-/reload");
                s.spawn(move || -> Result<(StatusCode, String)> {
                    barrier.wait();
                    let r = http.post(url).send()?;
                    Ok((r.status(), r.text()?))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow::anyhow!("thread panicked"))?)
            .collect::<Result<_>>()
    })?;
    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(
        ok >= 1 && !busy.is_empty() && ok + busy.len() == n,
        "{answers:?}"
    );
    for (_, text) in busy {
        assert_eq!(text, "a reload is already in progress, try again later\n");
    }
    assert_eq!(write()?.status(), StatusCode::NO_CONTENT);

    // /-/quit shuts Pharos down cleanly.
    let resp = http.post(format!("{base}/-/quit")).send()?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text()?, "Requesting termination... Goodbye!");
    let deadline = Instant::now() + Duration::from_secs(60);
    while p.process.running() {
        ensure!(
            Instant::now() < deadline,
            "pharos still running after /-/quit"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = p.process.stop(Duration::from_secs(1))?;
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}\n{}",
        p.logs()
    );
    Ok(())
}

/// `curl` (with HTTP/2 from nghttp2) asking `url`: the HTTP version it
/// got, or its error.
fn curl_version(args: &[&str], url: &str) -> Result<String> {
    let out = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
            "--max-time",
            "10",
        ])
        .args(args)
        .arg(url)
        .output()
        .context("running curl")?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Ok(format!(
            "error: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[test]
fn inline_certificates_allowed_sans_http2_switch_and_headers() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let ca = Ca::new("pharos test CA")?;
    let (cert, key) = ca.server()?;
    // Everything inline: no file to read.
    let config = format!(
        "[server.tls_server_config]\ncert = '''\n{cert}'''\nkey = '''\n{key}'''\n\
         client_ca = '''\n{}'''\nclient_auth_type = \"RequireAndVerifyClientCert\"\n\
         client_allowed_sans = [\"grafana.example\", \"10.0.0.7\"]\n\n\
         [server.http_server_config]\nhttp2 = false\n\
         headers = {{ Strict-Transport-Security = \"max-age=3600\", X-Frame-Options = \"deny\" }}\n",
        ca.pem()
    );
    let mut p = Pharos::start(d, "inline", &config)?;
    let issue = |names: &[&str]| -> Result<String> {
        let (c, k) = ca.issue(names, ExtendedKeyUsagePurpose::ClientAuth)?;
        Ok(format!("{c}{k}"))
    };
    let grafana = client(&ca.pem(), Some(&issue(&["grafana.example"])?))?;
    let by_ip = client(&ca.pem(), Some(&issue(&["client", "10.0.0.7"])?))?;
    let other = client(&ca.pem(), Some(&issue(&["client.example"])?))?;
    let ready = p.https("/-/ready");
    p.wait("ready for an allowed SAN", Duration::from_secs(60), || {
        grafana
            .get(&ready)
            .send()
            .is_ok_and(|r| r.status() == StatusCode::OK)
    })?;
    let resp = by_ip.get(p.https("/api/v1/status/buildinfo")).send()?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["strict-transport-security"], "max-age=3600");
    assert_eq!(resp.headers()["x-frame-options"], "deny");
    // Verified by the CA but named otherwise: the handshake fails.
    let refused = other.get(&ready).send();
    assert!(
        refused.is_err(),
        "answered {:?}",
        refused.map(|r| r.status())
    );
    let log_file = p.log.clone();
    p.wait("the refusal logged", Duration::from_secs(10), || {
        let log = std::fs::read_to_string(&log_file).unwrap_or_default();
        log.contains("none of client_allowed_sans")
    })?;

    // http2 = false: ALPN offers HTTP/1.1 only.
    let (c, k) = ca.issue(&["grafana.example"], ExtendedKeyUsagePurpose::ClientAuth)?;
    std::fs::write(d.join("ca.crt"), ca.pem())?;
    std::fs::write(d.join("client.crt"), c)?;
    std::fs::write(d.join("client.key"), k)?;
    let path = |n: &str| d.join(n).display().to_string();
    let tls_args = [
        "--http2",
        "--cacert",
        &path("ca.crt"),
        "--cert",
        &path("client.crt"),
        "--key",
        &path("client.key"),
    ];
    assert_eq!(curl_version(&tls_args, &ready)?, "1.1");
    Ok(())
}

#[test]
fn rate_limit_and_http2_over_plain_http() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    // HTTP/2 on by default: a client starting with the h2 preface gets it.
    let mut open = Pharos::start(d, "h2", "")?;
    let url = format!("http://{}/-/ready", open.addr());
    let h2c = ["--http2-prior-knowledge"];
    open.wait("ready", Duration::from_secs(60), || {
        curl_version(&h2c, &url).is_ok_and(|v| v == "2")
    })?;
    drop(open);

    // A burst of 3 and a token an hour: the fourth request gets 429,
    // before authentication.
    let config = format!(
        "[server.rate_limit]\ninterval = \"1h\"\nburst = 3\n\n\
         [server.http_server_config]\nhttp2 = false\n\n\
         [server.basic_auth_users]\nu = \"{}\"\n",
        hash("pw")?
    );
    let mut p = Pharos::start(d, "rate", &config)?;
    let url = format!("http://{}/-/healthy", p.addr());
    let plain = Client::builder().timeout(Duration::from_secs(10)).build()?;
    let answers = Arc::new(std::sync::Mutex::new(Vec::new()));
    {
        let answers = answers.clone();
        p.wait(
            "the listener answering",
            Duration::from_secs(60),
            || match plain.get(&url).basic_auth("u", Some("pw")).send() {
                Ok(r) => {
                    answers.lock().map(|mut a| a.push(r.status())).ok();
                    true
                }
                Err(_) => false,
            },
        )?;
    }
    let mut limited = None;
    for _ in 0..5 {
        let r = plain.get(&url).basic_auth("u", Some("pw")).send()?;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r.text()?);
            break;
        }
        answers.lock().map(|mut a| a.push(r.status())).ok();
    }
    let answers = answers.lock().map(|a| a.clone()).unwrap_or_default();
    assert_eq!(
        limited.as_deref(),
        Some("Too Many Requests\n"),
        "{answers:?}"
    );
    assert_eq!(answers, [StatusCode::OK; 3]);
    // Limited before authentication: no credentials, still 429.
    let r = plain.get(&url).send()?;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // http2 = false: the h2 preface is not understood.
    assert!(curl_version(&h2c, &url)?.starts_with("error"));
    Ok(())
}
