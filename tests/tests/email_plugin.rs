//! The `email` notifier plugin delivers through a real SMTP server.
//!
//! The server is aiosmtpd (PyPI), run by `tests/scripts/smtp-server.py` on
//! loopback, installed on first use into `target/tools/aiosmtpd-venv` by
//! `tests/scripts/install-aiosmtpd.sh`; without it the tests fail and say
//! why. Certificates come from the `openssl` command line: a private CA and
//! server certificates it signs, plus a second CA that signed nothing.
//!
//! The built plugin is loaded through the plugin host with the grants an
//! operator would give (`allow_tcp` for the smarthost, `allow_private_ips`
//! for loopback, `allow_read` for `tls_config.ca_file` and
//! `auth_password_file`) and called with a configuration whose strings are
//! already rendered, as the host renders them. The server parses what it
//! received with Python's `email` package, so the headers, the
//! `multipart/alternative` text and HTML parts and the envelope are checked
//! by an independent MIME parser.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use pharos_plugin_host::{
    Alert, AlertStatus, CallError, Grants, Label, Notification, Plugin, PluginError, PluginKind,
    PluginSettings, Runtime, RuntimeOptions,
};
use pharos_tests::process::Process;
use serde_json::{Value, json};

// --- the SMTP server ----------------------------------------------------------

static INSTALL: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The virtualenv's python with aiosmtpd, installing it on first use.
fn aiosmtpd_python() -> Result<PathBuf> {
    let venv = repo().join("target/tools/aiosmtpd-venv");
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let script = repo().join("tests/scripts/install-aiosmtpd.sh");
    let status = Command::new("bash")
        .arg(&script)
        .arg(&venv)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    if !status.success() {
        bail!(
            "the SMTP server for this test could not be installed: {} {} failed with {status} (see its output above)",
            script.display(),
            venv.display()
        );
    }
    Ok(venv.join("bin/python"))
}

/// How the server speaks.
#[derive(Clone, Copy)]
enum Mode {
    /// Clear text, `STARTTLS` required before `MAIL`.
    StartTls,
    /// TLS from the first byte.
    Implicit,
}

/// aiosmtpd on loopback; each delivered message arrives as JSON.
struct SmtpServer {
    addr: String,
    messages: Receiver<Value>,
    _process: Process,
}

impl SmtpServer {
    fn start(
        host: &str,
        port: u16,
        mode: Mode,
        cert: &Cert,
        exclude_auth: &[&str],
        client_ca: Option<&Cert>,
    ) -> Result<SmtpServer> {
        let python = aiosmtpd_python()?;
        let mut cmd = Command::new(python);
        cmd.arg(repo().join("tests/scripts/smtp-server.py"))
            .args(["--host", host, "--port", &port.to_string()])
            .args([
                "--mode",
                match mode {
                    Mode::StartTls => "starttls",
                    Mode::Implicit => "implicit",
                },
            ])
            .arg("--cert")
            .arg(&cert.cert)
            .arg("--key")
            .arg(&cert.key)
            .args(["--user", USER, "--password", PASSWORD]);
        for mechanism in exclude_auth {
            cmd.args(["--exclude-auth", mechanism]);
        }
        if let Some(ca) = client_ca {
            cmd.arg("--client-ca").arg(&ca.cert);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting tests/scripts/smtp-server.py")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let process = Process::new(child);
        let (ready_tx, ready_rx) = channel();
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(port) = line.strip_prefix("listening ") {
                    let _ = ready_tx.send(port.trim().parse::<u16>().ok());
                } else if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let port = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .ok()
            .flatten()
            .with_context(|| {
                format!("the SMTP server did not start listening on {host}:{port} (see its output above)")
            })?;
        let addr = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(SmtpServer {
            addr,
            messages,
            _process: process,
        })
    }

    /// The next delivered message.
    fn message(&self) -> Result<Value> {
        self.messages
            .recv_timeout(Duration::from_secs(10))
            .context("no message reached the SMTP server")
    }

    /// Whether a message arrived (after a failed delivery: it must not).
    fn nothing_delivered(&self) -> bool {
        self.messages
            .recv_timeout(Duration::from_millis(300))
            .is_err()
    }
}

const USER: &str = "pharos";
const PASSWORD: &str = "s3cr3t-smtp-password";

// --- certificates --------------------------------------------------------------

struct Cert {
    cert: PathBuf,
    key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running openssl (Debian's package openssl) to make test certificates")?;
    if !out.status.success() {
        bail!(
            "openssl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// A self-signed CA named `name` in `dir` (`<name>.pem`, `<name>.key`).
fn make_ca(dir: &Path, name: &str) -> Result<Cert> {
    let (cert, key) = (format!("{name}.pem"), format!("{name}.key"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN=Pharos test CA {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &key,
            "-out",
            &cert,
        ],
    )?;
    Ok(Cert {
        cert: dir.join(cert),
        key: dir.join(key),
    })
}

/// A server certificate (RSA, as most mail servers have) for
/// `subject_alt_name` (e.g. `DNS:smtp.pharos.test` or `IP:127.0.0.1`),
/// signed by `ca`; with `client`, a client certificate with an ECDSA key.
fn issue(dir: &Path, ca: &Cert, name: &str, subject_alt_name: &str, client: bool) -> Result<Cert> {
    let (cert, key, csr, ext) = (
        format!("{name}.pem"),
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.ext"),
    );
    std::fs::write(
        dir.join(&ext),
        format!(
            "subjectAltName={subject_alt_name}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage={}\n",
            if client { "clientAuth" } else { "serverAuth" }
        ),
    )?;
    let key_type: &[&str] = if client {
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    } else {
        &["-newkey", "rsa:2048"]
    };
    let subject = format!("/CN={name}");
    let mut args = vec!["req"];
    args.extend_from_slice(key_type);
    args.extend_from_slice(&["-nodes", "-subj", &subject, "-keyout", &key, "-out", &csr]);
    openssl(dir, &args)?;
    let (ca_cert, ca_key) = (ca.cert.display().to_string(), ca.key.display().to_string());
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_cert,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-sha256",
            "-extfile",
            &ext,
            "-out",
            &cert,
        ],
    )?;
    Ok(Cert {
        cert: dir.join(cert),
        key: dir.join(key),
    })
}

/// The test's files: two CAs, server certificates, the password file.
struct Pki {
    dir: tempfile::TempDir,
    ca: Cert,
    other_ca: Cert,
    /// For `smtp.pharos.test` only (reached as 127.0.0.1 with `server_name`).
    named: Cert,
}

impl Pki {
    fn new() -> Result<Pki> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().canonicalize()?;
        let ca = make_ca(&path, "ca")?;
        let other_ca = make_ca(&path, "other-ca")?;
        let named = issue(
            &path,
            &ca,
            "smtp.pharos.test",
            "DNS:smtp.pharos.test",
            false,
        )?;
        std::fs::write(path.join("password"), format!("{PASSWORD}\n"))?;
        Ok(Pki {
            dir,
            ca,
            other_ca,
            named,
        })
    }

    fn path(&self) -> Result<PathBuf> {
        Ok(self.dir.path().canonicalize()?)
    }
}

// --- the plugin ------------------------------------------------------------------

fn runtime() -> Result<Runtime> {
    Ok(Runtime::new(RuntimeOptions {
        pooling: None,
        ..RuntimeOptions::default()
    })?)
}

async fn load(rt: &Runtime, smarthost: &str, read: &Path) -> Result<Plugin> {
    let ip = smarthost
        .rsplit_once(':')
        .map(|(h, _)| h.trim_matches(['[', ']']))
        .unwrap_or(smarthost);
    let settings = PluginSettings {
        grants: Grants {
            allow_tcp: vec![smarthost.to_owned()],
            allow_private_ips: vec![ip.to_owned()],
            allow_read: vec![read.to_path_buf()],
            ..Grants::default()
        },
        ..PluginSettings::default()
    };
    Ok(rt
        .load_embedded("email", PluginKind::Notifier, &settings)
        .await?)
}

fn label(name: &str, value: &str) -> Label {
    Label {
        name: name.into(),
        value: value.into(),
    }
}

/// A firing group (the plugin sends the rendered configuration; the group
/// only travels along).
fn group() -> Notification {
    let labels = vec![label("alertname", "DiskFull"), label("instance", "node-1")];
    Notification {
        receiver: "team".into(),
        status: AlertStatus::Firing,
        alerts: vec![Alert {
            status: AlertStatus::Firing,
            labels: labels.clone(),
            annotations: vec![label("summary", "disk full")],
            starts_at_ms: 1_709_287_200_123,
            ends_at_ms: None,
            generator_url: "http://pharos.test/graph".into(),
            fingerprint: "c2bd4b2b1a8f3a7d".into(),
        }],
        group_labels: vec![label("alertname", "DiskFull")],
        common_labels: labels,
        common_annotations: vec![label("summary", "disk full")],
        group_key: "{}:{alertname=\"DiskFull\"}".into(),
        truncated_alerts: 0,
        external_url: "http://pharos.test".into(),
    }
}

const SUBJECT: &str = "[FIRING:1] DiskFull — node-1 ünïcode";
const FROM: &str = "Pharos <pharos@example.org>";
const TO: &str = "Ops <ops@example.org>, \"Doe, Jane\" <jane@example.org>";

/// A plain-text part that exercises quoted-printable: `=`, a line longer
/// than 76 characters, a line starting with `.` (dot-stuffing), trailing
/// spaces and non-ASCII.
fn text_body() -> String {
    format!(
        "Alerts Firing:\nLabels:\n - alertname = DiskFull\n.a line starting with a dot\ntrailing spaces   \n{}\nfin ✓",
        "long ".repeat(30)
    )
}

const HTML: &str = "<html><body><h1>[FIRING:1] DiskFull</h1><p style=\"color: #ff0000\">node-1 — disk full</p>\n.\n</body></html>";

/// Alertmanager-style configuration, already rendered.
fn config(smarthost: &str) -> Value {
    json!({
        "smarthost": smarthost,
        "from": FROM,
        "to": TO,
        "hello": "pharos.example.org",
        "auth_username": USER,
        "headers": {"Subject": SUBJECT, "X-Pharos-Receiver": "team"},
        "text": text_body(),
        "html": HTML,
    })
}

fn header<'a>(m: &'a Value, name: &str) -> Option<&'a str> {
    m["headers"].as_array().and_then(|hs| {
        hs.iter()
            .find(|h| h[0].as_str().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .and_then(|h| h[1].as_str())
    })
}

fn lf(s: &str) -> String {
    s.replace("\r\n", "\n")
}

/// The delivered message is the configured one.
fn assert_delivered(m: &Value, mechanism: &str) {
    assert_eq!(m["mail_from"], "pharos@example.org", "{m:#}");
    assert_eq!(
        m["rcpt_tos"],
        json!(["ops@example.org", "jane@example.org"]),
        "{m:#}"
    );
    assert_eq!(m["tls"], true, "{m:#}");
    assert_eq!(m["auth_mechanism"], mechanism, "{m:#}");
    assert_eq!(m["auth_login"], USER, "{m:#}");
    assert_eq!(m["defects"], json!([]), "{m:#}");

    assert_eq!(header(m, "Subject"), Some(SUBJECT), "{m:#}");
    assert_eq!(header(m, "From"), Some(FROM), "{m:#}");
    assert_eq!(header(m, "To"), Some(TO), "{m:#}");
    assert_eq!(header(m, "X-Pharos-Receiver"), Some("team"), "{m:#}");
    assert_eq!(header(m, "MIME-Version"), Some("1.0"), "{m:#}");
    assert!(
        header(m, "Message-Id")
            .is_some_and(|id| id.starts_with('<') && id.ends_with("@example.org>")),
        "{m:#}"
    );
    assert!(
        header(m, "Date").is_some_and(|d| d.ends_with(" +0000")),
        "{m:#}"
    );
    // The raw Subject is Q-encoded, as Go's mime.QEncoding writes it.
    let raw = m["data"].as_str().unwrap_or_default();
    assert!(raw.contains("\r\nSubject: =?utf-8?q?"), "{raw}");
    assert!(raw.lines().all(|l| l.len() <= 998 && l.is_ascii()), "{raw}");

    assert_eq!(m["content_type"], "multipart/alternative", "{m:#}");
    let parts = m["parts"].as_array().cloned().unwrap_or_default();
    assert_eq!(parts.len(), 2, "{m:#}");
    assert_eq!(parts[0]["content_type"], "text/plain");
    assert_eq!(parts[1]["content_type"], "text/html");
    for p in &parts {
        assert_eq!(p["charset"], "utf-8", "{p:#}");
        assert_eq!(p["transfer_encoding"], "quoted-printable", "{p:#}");
    }
    assert_eq!(
        lf(parts[0]["body"].as_str().unwrap_or_default()),
        text_body(),
        "the text part"
    );
    assert_eq!(
        lf(parts[1]["body"].as_str().unwrap_or_default()),
        HTML,
        "the HTML part"
    );
}

fn expect_error(result: Result<(), CallError>) -> PluginError {
    match result {
        Err(CallError::Plugin { error, .. }) => error,
        other => panic!("expected the plugin to fail, got {other:?}"),
    }
}

// --- the tests ---------------------------------------------------------------------

/// STARTTLS on a clear-text port, the certificate checked against a private
/// CA (`ca_file`) for `server_name`, AUTH PLAIN with the password from a
/// file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_a_private_ca_and_auth_plain() -> Result<()> {
    let pki = Pki::new()?;
    let dir = pki.path()?;
    // LOGIN excluded: the server offers PLAIN only.
    let server = SmtpServer::start("127.0.0.1", 0, Mode::StartTls, &pki.named, &["LOGIN"], None)?;
    let rt = runtime()?;
    let email = load(&rt, &server.addr, &dir).await?;

    let mut cfg = config(&server.addr);
    cfg["auth_password_file"] = json!(dir.join("password"));
    cfg["tls_config"] = json!({"ca_file": pki.ca.cert, "server_name": "smtp.pharos.test"});
    email.validate_config(&cfg.to_string()).await?;
    email.notify(&cfg.to_string(), &group()).await?;
    assert_delivered(&server.message()?, "PLAIN");

    // Without server_name the certificate (for smtp.pharos.test) does not
    // match 127.0.0.1: refused, and worth retrying as Alertmanager does.
    if let Some(tls) = cfg["tls_config"].as_object_mut() {
        tls.remove("server_name");
    }
    match expect_error(email.notify(&cfg.to_string(), &group()).await) {
        PluginError::Transient(m) => assert!(m.contains("not valid for"), "{m}"),
        other => panic!("expected a transient error, got {other:?}"),
    }
    assert!(server.nothing_delivered());
    Ok(())
}

/// A certificate from another CA is refused (transient, as Alertmanager
/// retries a failed STARTTLS), and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_ca_is_refused() -> Result<()> {
    let pki = Pki::new()?;
    let dir = pki.path()?;
    let server = SmtpServer::start("127.0.0.1", 0, Mode::StartTls, &pki.named, &[], None)?;
    let rt = runtime()?;
    let email = load(&rt, &server.addr, &dir).await?;

    let mut cfg = config(&server.addr);
    cfg["auth_password"] = json!(PASSWORD);
    cfg["tls_config"] = json!({"ca_file": pki.other_ca.cert, "server_name": "smtp.pharos.test"});
    match expect_error(email.notify(&cfg.to_string(), &group()).await) {
        PluginError::Transient(m) => {
            assert!(m.contains("not signed by a trusted CA"), "{m}");
            assert!(m.contains("tls_config.ca_file"), "{m}");
            assert!(!m.contains(PASSWORD), "{m}");
        }
        other => panic!("expected a transient error, got {other:?}"),
    }
    // The public roots do not know the private CA either.
    cfg["tls_config"] = json!({"server_name": "smtp.pharos.test"});
    assert!(matches!(
        expect_error(email.notify(&cfg.to_string(), &group()).await),
        PluginError::Transient(_)
    ));
    // insecure_skip_verify accepts it.
    cfg["tls_config"] = json!({"insecure_skip_verify": true});
    email.notify(&cfg.to_string(), &group()).await?;
    assert_delivered(&server.message()?, "LOGIN");
    assert!(server.nothing_delivered());
    Ok(())
}

/// Port 465 is implicit TLS, as in Alertmanager: the server is bound to
/// port 465 of a loopback address of its own (127.0.0.0/8), with a
/// certificate for that IP address. It offers `AUTH LOGIN PLAIN`, and
/// Alertmanager's rule picks the first: LOGIN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_on_port_465_and_auth_login() -> Result<()> {
    let pki = Pki::new()?;
    let dir = pki.path()?;
    let pid = std::process::id();
    let ip = format!("127.{}.{}.{}", 100 + pid % 100, (pid / 100) % 250 + 1, 46);
    let cert = issue(&dir, &pki.ca, "implicit", &format!("IP:{ip}"), false)?;
    let server = SmtpServer::start(&ip, 465, Mode::Implicit, &cert, &[], None)
        .with_context(|| format!("binding {ip}:465 needs root (CI runs as root)"))?;
    let rt = runtime()?;
    let email = load(&rt, &server.addr, &dir).await?;

    let mut cfg = config(&server.addr);
    cfg["auth_password"] = json!(PASSWORD);
    cfg["tls_config"] = json!({"ca_file": pki.ca.cert});
    email.notify(&cfg.to_string(), &group()).await?;
    assert_delivered(&server.message()?, "LOGIN");

    // A wrong password is a 535: permanent, and the password is not shown.
    cfg["auth_password"] = json!("wrong-password");
    match expect_error(email.notify(&cfg.to_string(), &group()).await) {
        PluginError::Permanent(m) => {
            assert!(m.contains("535"), "{m}");
            assert!(!m.contains("wrong-password"), "{m}");
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
    assert!(server.nothing_delivered());
    Ok(())
}

/// A client certificate (`cert_file`, `key_file`, an ECDSA key) is
/// presented to a server that requires one; without it the server ends
/// the handshake (transient).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_is_presented() -> Result<()> {
    let pki = Pki::new()?;
    let dir = pki.path()?;
    let client = issue(
        &dir,
        &pki.ca,
        "pharos-client",
        "DNS:pharos.example.org",
        true,
    )?;
    let server = SmtpServer::start(
        "127.0.0.1",
        0,
        Mode::StartTls,
        &pki.named,
        &["LOGIN"],
        Some(&pki.ca),
    )?;
    let rt = runtime()?;
    let email = load(&rt, &server.addr, &dir).await?;

    let mut cfg = config(&server.addr);
    cfg["auth_password"] = json!(PASSWORD);
    cfg["tls_config"] = json!({
        "ca_file": pki.ca.cert,
        "server_name": "smtp.pharos.test",
        "cert_file": client.cert,
        "key_file": client.key,
    });
    email.notify(&cfg.to_string(), &group()).await?;
    let m = server.message()?;
    assert_delivered(&m, "PLAIN");
    assert_eq!(m["client_cn"], "pharos-client", "{m:#}");

    cfg["tls_config"] = json!({"ca_file": pki.ca.cert, "server_name": "smtp.pharos.test"});
    assert!(matches!(
        expect_error(email.notify(&cfg.to_string(), &group()).await),
        PluginError::Transient(_)
    ));
    assert!(server.nothing_delivered());
    Ok(())
}

/// Connection failures are transient; a smarthost without a grant is
/// refused by the host, naming the grant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_failures_and_missing_grants() -> Result<()> {
    let pki = Pki::new()?;
    let dir = pki.path()?;
    let rt = runtime()?;
    // Nothing listens there.
    let port = pharos_tests::process::free_port()?;
    let smarthost = format!("127.0.0.1:{port}");
    let email = load(&rt, &smarthost, &dir).await?;
    match expect_error(
        email
            .notify(&config(&smarthost).to_string(), &group())
            .await,
    ) {
        PluginError::Transient(m) => assert!(m.contains(&smarthost), "{m}"),
        other => panic!("expected a transient error, got {other:?}"),
    }
    // Granted another port: the host denies the connection.
    let email = load(&rt, "127.0.0.1:1", &dir).await?;
    let err = email
        .notify(&config(&smarthost).to_string(), &group())
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("allow_tcp"), "{err}");
    Ok(())
}

/// `validate-config` refuses bad options naming the key and accepts
/// templates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configs_are_refused_naming_the_key() -> Result<()> {
    let pki = Pki::new()?;
    let rt = runtime()?;
    let email = load(&rt, "127.0.0.1:25", &pki.path()?).await?;
    let base = config("smtp.example.org:587");
    let cases = [
        (json!({"from": FROM, "to": TO}), "smarthost"),
        (
            json!({"smarthost": "smtp.example.org", "from": FROM, "to": TO}),
            "smarthost",
        ),
        (
            json!({"smarthost": "x:25", "from": "a@x, b@x", "to": TO}),
            "from",
        ),
        (
            json!({"smarthost": "x:25", "from": FROM, "to": "nobody"}),
            "to",
        ),
        (
            json!({"smarthost": "x:25", "from": FROM, "to": TO, "require_tls": "yes"}),
            "require_tls",
        ),
        (
            json!({"smarthost": "x:25", "from": FROM, "to": TO, "auth_password": "p", "auth_password_file": "/f"}),
            "auth_password_file",
        ),
        (
            json!({"smarthost": "x:25", "from": FROM, "to": TO, "tls_config": {"min_version": "SSL3"}}),
            "tls_config.min_version",
        ),
    ];
    for (cfg, key) in cases {
        match email.validate_config(&cfg.to_string()).await {
            Err(CallError::Plugin {
                error: PluginError::Config(m),
                ..
            }) => assert!(m.contains(key), "{cfg}: {m:?} does not name {key}"),
            other => panic!("{cfg}: expected a config error naming {key}, got {other:?}"),
        }
    }
    email.validate_config(&base.to_string()).await?;
    let templated = json!({
        "smarthost": "{{ .CommonLabels.relay }}:587",
        "from": "{{ .CommonLabels.team }}@example.org",
        "to": "{{ .CommonLabels.owner }}",
        "headers": {"Subject": "{{ template \"email.default.subject\" . }}"},
        "html": "{{ template \"email.default.html\" . }}",
    });
    email.validate_config(&templated.to_string()).await?;
    Ok(())
}
