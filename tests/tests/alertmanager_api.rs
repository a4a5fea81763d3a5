//! Pharos' Alertmanager API v2 side by side with Alertmanager 0.25
//! (Debian's `prometheus-alertmanager`), through the real binaries.
//!
//! Both run the same routing (Alertmanager YAML here, Pharos' `[alerting]`
//! TOML there), get the same alerts and silences, and must answer every
//! request with the same status, content type and body byte for byte —
//! fingerprints included — once three things that legitimately differ are
//! masked: silence ids (mapped to the silence's comment), times the
//! servers take from their own clocks (receipt, defaults, expiry: any time
//! of this year or the next; the times posted lie in 2001 and after 2090),
//! and `config.original` / `versionInfo` / `uptime` of `/api/v2/status`.
//! Then `amtool` prints the same against both, and Prometheus 2.42 delivers
//! its alerts to Pharos.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use pharos_tests::pharos::pharos_bin;
use pharos_tests::process::{Process, free_port};
use pharos_tests::references::require;
use pharos_tests::wait::eventually;
use serde_json::Value;

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| path.display().to_string())
}

/// The routing: a `continue` route, a `...` grouping, an inhibition; the
/// first child's receiver sorts after the second's.
const AM_YAML: &str = r#"global:
  resolve_timeout: 5m
route:
  receiver: team
  group_by: [alertname, cluster]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['severity="page"']
      receiver: zeta-oncall
      continue: true
    - matchers: ['service=~"pay.*"']
      receiver: alpha-payments
      group_by: ['...']
receivers:
  - name: team
  - name: zeta-oncall
  - name: alpha-payments
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname]
"#;

const PHAROS_TOML: &str = r#"[global]
scrape_interval = "15s"

[alerting]
resolve_timeout = "5m"

[alerting.route]
receiver = "team"
group_by = ["alertname", "cluster"]
group_wait = "30s"
group_interval = "5m"
repeat_interval = "4h"

[[alerting.route.routes]]
matchers = ['severity="page"']
receiver = "zeta-oncall"
continue = true

[[alerting.route.routes]]
matchers = ['service=~"pay.*"']
receiver = "alpha-payments"
group_by = ["..."]

[[alerting.receivers]]
name = "team"

[[alerting.receivers]]
name = "zeta-oncall"

[[alerting.receivers]]
name = "alpha-payments"

[[alerting.inhibit_rules]]
source_matchers = ['severity="critical"']
target_matchers = ['severity="warning"']
equal = ["alertname"]
"#;

/// The servers' time zone. Alertmanager writes a time it was sent in the
/// sender's offset and Pharos in its own zone; with UTC everywhere the two
/// agree whatever the machine's zone.
const TZ: &str = "UTC";

/// Pharos on a free port with the config at `config`, in UTC, logging to
/// `<data>.log`; killed when dropped.
struct Pharos {
    url: String,
    log: std::path::PathBuf,
    _process: Process,
}

impl Pharos {
    fn start(data: &Path, config: &Path) -> Result<Pharos> {
        let port = free_port()?;
        let log = data.with_extension("log");
        let mut process = Process::new(
            Command::new(pharos_bin()?)
                .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--data"])
                .arg(data)
                .arg("--config")
                .arg(config)
                .env("RUST_LOG", "info")
                .env("TZ", TZ)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(std::fs::File::create(&log)?))
                .spawn()
                .context("starting pharos")?,
        );
        let url = format!("http://127.0.0.1:{port}");
        let ready = process.wait_ready(
            &reqwest::blocking::Client::new(),
            &format!("{url}/-/ready"),
            Duration::from_secs(120),
        );
        if let Err(e) = ready {
            bail!(
                "pharos: {e:#}\nlog:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        Ok(Pharos {
            url,
            log,
            _process: process,
        })
    }

    fn get_json(&self, path: &str) -> Result<Value> {
        pharos_tests::api::get_json(&self.url, path)
    }

    /// What it logged so far.
    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Alertmanager 0.25 on a free port with its own storage, in UTC, killed
/// when dropped.
struct Alertmanager {
    url: String,
    _process: Process,
}

impl Alertmanager {
    fn start(dir: &Path) -> Result<Alertmanager> {
        let bin = require("prometheus-alertmanager")?;
        let config = dir.join("alertmanager.yml");
        write(&config, AM_YAML)?;
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let mut process = Process::new(
            Command::new(bin)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.path={}", dir.join("am").display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--cluster.listen-address=")
                .env("TZ", TZ)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?,
        );
        process.wait_ready(
            &reqwest::blocking::Client::new(),
            &format!("{url}/-/ready"),
            Duration::from_secs(60),
        )?;
        Ok(Alertmanager {
            url,
            _process: process,
        })
    }
}

/// One system under comparison: its URL and the silence ids it gave out,
/// by comment.
struct Side {
    name: &'static str,
    url: String,
    silences: BTreeMap<String, String>,
}

/// What a request got: status, content type, `Allow`, body.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    allow: Option<String>,
    body: String,
}

fn client() -> Result<reqwest::blocking::Client> {
    Ok(reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

fn call(url: &str, method: &str, path: &str, ct: Option<&str>, body: &str) -> Result<Answer> {
    let mut req = client()?.request(method.parse()?, format!("{url}{path}"));
    if let Some(ct) = ct {
        req = req.header("content-type", ct);
    }
    let resp = req
        .body(body.to_owned())
        .send()
        .with_context(|| format!("{method} {url}{path}"))?;
    let header = |k: &str| {
        resp.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Ok(Answer {
        status: resp.status().as_u16(),
        content_type: header("content-type"),
        allow: header("allow"),
        body: resp.text()?,
    })
}

/// The years whose times come from the servers' clocks.
fn clock_years() -> Vec<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    // Good enough for a test: 365.2425 days a year.
    let year = 1970 + (now as f64 / 31_556_952.0) as u64;
    (year - 1..=year + 1).map(|y| y.to_string()).collect()
}

impl Side {
    /// A body with ids and clock times masked.
    fn mask(&self, body: &str) -> String {
        let mut out = body.to_owned();
        for (comment, id) in &self.silences {
            out = out.replace(id, &format!("<silence {comment}>"));
        }
        let years = clock_years();
        for key in ["startsAt", "endsAt", "updatedAt"] {
            let pat = format!("\"{key}\":\"");
            let mut masked = String::new();
            let mut rest = out.as_str();
            while let Some(i) = rest.find(&pat) {
                masked.push_str(&rest[..i + pat.len()]);
                rest = &rest[i + pat.len()..];
                let end = rest.find('"').unwrap_or(rest.len());
                let value = &rest[..end];
                if years.iter().any(|y| value.starts_with(y.as_str())) {
                    masked.push_str("<clock>");
                } else {
                    masked.push_str(value);
                }
                rest = &rest[end..];
            }
            masked.push_str(rest);
            out = masked;
        }
        out
    }

    fn request(&self, method: &str, path: &str, ct: Option<&str>, body: &str) -> Result<Answer> {
        let mut a = call(&self.url, method, path, ct, body)?;
        a.body = self.mask(&a.body);
        // Alertmanager lists the allowed methods of a 405 in Go's map
        // order, which varies from call to call.
        if let Some(allow) = a.allow.take() {
            let mut methods: Vec<&str> = allow.split(',').collect();
            methods.sort_unstable();
            let sorted = methods.join(",");
            a.body = a
                .body
                .replace(&format!("[{allow}]"), &format!("[{sorted}]"));
            a.allow = Some(sorted);
        }
        Ok(a)
    }

    fn post(&self, path: &str, body: &str) -> Result<Answer> {
        self.request("POST", path, Some("application/json"), body)
    }

    /// Creates a silence, remembering its id under its comment.
    fn silence(&mut self, body: &str, comment: &str) -> Result<String> {
        let a = call(
            &self.url,
            "POST",
            "/api/v2/silences",
            Some("application/json"),
            body,
        )?;
        if a.status != 200 {
            bail!("{}: silence {comment}: {a:?}", self.name);
        }
        let v: Value = serde_json::from_str(&a.body)?;
        let id = v["silenceID"].as_str().context("silenceID")?.to_owned();
        self.silences.insert(comment.to_owned(), id.clone());
        Ok(id)
    }

    fn amtool(&self, args: &[&str]) -> Result<String> {
        let out = Command::new(require("amtool")?)
            .arg(format!("--alertmanager.url={}", self.url))
            .args(args)
            .env("TZ", TZ)
            .output()
            .context("running amtool")?;
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            text.push_str(&format!("[{}]", out.status));
        }
        Ok(self.mask(&text))
    }
}

/// Asks both the same and requires the same answer.
fn same(
    am: &Side,
    ph: &Side,
    method: &str,
    path: &str,
    ct: Option<&str>,
    body: &str,
) -> Result<()> {
    let want = am.request(method, path, ct, body)?;
    let got = ph.request(method, path, ct, body)?;
    if want != got {
        bail!("{method} {path} {body}\n alertmanager: {want:?}\n pharos:       {got:?}");
    }
    Ok(())
}

const T0: &str = "2001-03-01T10:00:00.123Z";
const FUTURE: &str = "2099-01-01T00:00:00Z";

fn alerts_body() -> String {
    format!(
        r#"[
  {{"labels":{{"alertname":"DiskFull","instance":"db-1:9100","job":"node","severity":"page","cluster":"eu"}},"annotations":{{"summary":"disk <full> & \"more\"","runbook":"https://wiki/disk"}},"generatorURL":"http://prom:9090/graph?g0.expr=up&g0.tab=1","startsAt":"{T0}","endsAt":"{FUTURE}"}},
  {{"labels":{{"alertname":"DiskFull","instance":"db-2:9100","job":"node","severity":"page","cluster":"eu"}},"startsAt":"{T0}","endsAt":"{FUTURE}"}},
  {{"labels":{{"alertname":"Pay","service":"payments","severity":"warning"}},"startsAt":"{T0}","endsAt":"{FUTURE}"}},
  {{"labels":{{"alertname":"Pay","service":"payments","severity":"critical"}},"startsAt":"{T0}","endsAt":"{FUTURE}"}},
  {{"labels":{{"alertname":"Both","severity":"page","service":"payments","cluster":"us"}},"startsAt":"{T0}","endsAt":"{FUTURE}"}},
  {{"labels":{{"alertname":"Old"}},"startsAt":"2001-03-01T10:00:00Z","endsAt":"2001-03-01T11:00:00Z"}},
  {{"labels":{{"alertname":"Plain","empty":""}}}},
  {{"labels":{{"alertname":"Plain","ok":"x\ny\u2028"}},"annotations":{{"e":"x"}}}}
]"#
    )
}

fn silence_body(matchers: &str, start: &str, end: &str, comment: &str) -> String {
    format!(
        r#"{{"matchers":{matchers},"startsAt":"{start}","endsAt":"{end}","createdBy":"tester","comment":"{comment}"}}"#
    )
}

/// The silences: active (start in the past, moved to now), pending, a
/// negative regex one, and one expired.
fn silences() -> Vec<(String, &'static str)> {
    vec![
        (
            silence_body(
                r#"[{"name":"alertname","value":"DiskFull","isRegex":false},{"name":"instance","value":"db-2.*","isRegex":true}]"#,
                "2001-01-01T00:00:00Z",
                "2098-01-01T00:00:00Z",
                "disk2",
            ),
            "disk2",
        ),
        (
            silence_body(
                r#"[{"name":"alertname","value":"Pay","isRegex":false}]"#,
                "2097-01-01T00:00:00Z",
                "2099-06-01T00:00:00Z",
                "pending",
            ),
            "pending",
        ),
        (
            silence_body(
                r#"[{"name":"severity","value":"warn.*","isRegex":true,"isEqual":false},{"name":"alertname","value":"Both","isRegex":false,"isEqual":true}]"#,
                "2001-01-01T00:00:00Z",
                "2097-06-01T00:00:00Z",
                "both",
            ),
            "both",
        ),
        (
            silence_body(
                r#"[{"name":"job","value":"node","isRegex":false,"isEqual":false}]"#,
                "2001-01-01T00:00:00Z",
                "2096-06-01T00:00:00Z",
                "expired",
            ),
            "expired",
        ),
    ]
}

/// Error cases: every answer must be Alertmanager's, byte for byte. None
/// of them changes the state.
fn error_cases(unknown: &str) -> Vec<(&'static str, String, Option<&'static str>, String)> {
    let json = Some("application/json");
    let alerts = "/api/v2/alerts".to_owned();
    let silences = "/api/v2/silences".to_owned();
    let sil = |m: &str, s: &str, e: &str| silence_body(m, s, e, "x");
    let m = r#"[{"name":"a","value":"x","isRegex":false}]"#;
    let mut cases: Vec<(&'static str, String, Option<&'static str>, String)> = [
        "{}",
        "nope",
        "",
        " ",
        "[{}]",
        r#"[{"labels":null}]"#,
        r#"[{"labels":{}}]"#,
        r#"[{"labels":{"a":""}}]"#,
        r#"[{"labels":{"0a":"b"}}]"#,
        r#"[{"labels":{"a b":"c"}}]"#,
        r#"[{"labels":{"a":"b"},"annotations":{"0x":"y"}}]"#,
        r#"[{"labels":{"a":"b"},"startsAt":"2001-03-01T10:00:00Z","endsAt":"2001-03-01T09:00:00Z"}]"#,
        r#"[{"labels":{"a":"b"},"startsAt":"2099-03-01T10:00:00Z"}]"#,
        r#"[{"labels":{"a":"b"},"startsAt":"yesterday"}]"#,
        r#"[{"labels":{"a":"b"},"startsAt":"2001-03-01T10:00:00+0200"}]"#,
        r#"[{"labels":{"a":"b"},"startsAt":"2001-13-01T10:00:00Z"}]"#,
        r#"[{"labels":{"a":"b"},"startsAt":1}]"#,
        r#"[{"labels":{"a":"b"},"generatorURL":"foo"}]"#,
        r#"[{"labels":{"a":"b"},"generatorURL":1}]"#,
        r#"[{"labels":[]}]"#,
        r#"[{"labels":{"a":1}}]"#,
        r#"[{"labels":{"a":"b"},"annotations":{"x":1}}]"#,
        "[1]",
        r#""x""#,
        r#"[{"labels":{"a":"b"}},]"#,
        r#"[{"labels":{"0a":"b"}},{"labels":{}},{"labels":{"a":"b"},"annotations":{"1":"x"}}]"#,
        "[{\"labels\":{\"a\":\"b\nc\"}}]",
        "[tru]",
        "[-]",
    ]
    .into_iter()
    .map(|b| ("POST", alerts.clone(), json, b.to_owned()))
    .collect();
    for b in [
        "{}".to_owned(),
        String::new(),
        "null".to_owned(),
        "[]".to_owned(),
        sil("[]", "2001-01-01T00:00:00Z", FUTURE),
        sil(
            r#"[{"name":"a","value":"x"}]"#,
            "2001-01-01T00:00:00Z",
            FUTURE,
        ),
        sil(
            r#"[{"name":"a","isRegex":false}]"#,
            "2001-01-01T00:00:00Z",
            FUTURE,
        ),
        sil(
            r#"[{"name":"a","value":"","isRegex":false}]"#,
            "2001-01-01T00:00:00Z",
            FUTURE,
        ),
        sil(
            r#"[{"name":"0a","value":"x","isRegex":false}]"#,
            "2001-01-01T00:00:00Z",
            FUTURE,
        ),
        sil(
            r#"[{"name":"a","value":"(","isRegex":true}]"#,
            "2001-01-01T00:00:00Z",
            FUTURE,
        ),
        sil(
            r#"[{"name":"a","value":"a{2,1}","isRegex":true}]"#,
            "2001-01-01T00:00:00Z",
            FUTURE,
        ),
        sil(m, "2098-01-01T00:00:00Z", "2097-01-01T00:00:00Z"),
        sil(m, "2098-01-01T00:00:00Z", "2098-01-01T00:00:00Z"),
        sil(m, "2001-01-01T00:00:00Z", "2001-02-01T00:00:00Z"),
        sil(m, "bad", FUTURE),
        sil(r#"{}"#, "2001-01-01T00:00:00Z", FUTURE),
        sil(r#"[1]"#, "2001-01-01T00:00:00Z", FUTURE),
        format!(
            r#"{{"id":"nope","matchers":{m},"startsAt":"2001-01-01T00:00:00Z","endsAt":"{FUTURE}","createdBy":"x","comment":"x"}}"#
        ),
        format!(
            r#"{{"id":1,"matchers":{m},"startsAt":"2001-01-01T00:00:00Z","endsAt":"{FUTURE}","createdBy":"x","comment":"x"}}"#
        ),
        format!(
            r#"{{"matchers":{m},"startsAt":"2001-01-01T00:00:00Z","endsAt":"{FUTURE}","createdBy":1,"comment":"x"}}"#
        ),
    ] {
        cases.push(("POST", silences.clone(), json, b));
    }
    for ct in [
        Some("text/plain"),
        None,
        Some("application/json; charset=utf-8; x=1"),
    ] {
        cases.push(("POST", alerts.clone(), ct, "[{}]".to_owned()));
        cases.push(("POST", silences.clone(), ct, "{}".to_owned()));
    }
    for (method, path) in [
        ("GET", "/api/v2/alerts?filter=foo".to_owned()),
        ("GET", "/api/v2/alerts?filter=%7Ba%3D%22b%22%7D".to_owned()),
        ("GET", "/api/v2/alerts?filter=a%3D%22b".to_owned()),
        ("GET", "/api/v2/alerts?filter=a%3D~%22(%22".to_owned()),
        ("GET", "/api/v2/alerts?filter=".to_owned()),
        ("GET", "/api/v2/alerts?receiver=(".to_owned()),
        ("GET", "/api/v2/alerts/groups?filter=foo".to_owned()),
        (
            "GET",
            "/api/v2/alerts/groups?receiver=a%7B2%2C1%7D".to_owned(),
        ),
        ("GET", "/api/v2/silences?filter=foo".to_owned()),
        ("GET", "/api/v2/silence/abc".to_owned()),
        ("DELETE", "/api/v2/silence/abc".to_owned()),
        (
            "GET",
            "/api/v2/silence/6c3947fb-a66c-4cdb-af8d-525e41a4f34e%0A".to_owned(),
        ),
        ("GET", format!("/api/v2/silence/{unknown}")),
        ("DELETE", format!("/api/v2/silence/{unknown}")),
        ("GET", "/api/v2/nope".to_owned()),
        ("GET", "/api/v2/silence/".to_owned()),
        ("PUT", "/api/v2/alerts".to_owned()),
        ("DELETE", "/api/v2/silences".to_owned()),
        ("POST", "/api/v2/status".to_owned()),
        ("PUT", format!("/api/v2/silence/{unknown}")),
        ("OPTIONS", "/api/v2/alerts".to_owned()),
    ] {
        cases.push((method, path, None, String::new()));
    }
    cases
}

#[test]
fn the_api_answers_as_alertmanager_0_25() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let am = Alertmanager::start(dir.path())?;
    let config = dir.path().join("pharos.toml");
    write(&config, PHAROS_TOML)?;
    let pharos = Pharos::start(&dir.path().join("data"), &config)?;
    let mut sides = [
        Side {
            name: "alertmanager",
            url: am.url.clone(),
            silences: BTreeMap::new(),
        },
        Side {
            name: "pharos",
            url: pharos.url.clone(),
            silences: BTreeMap::new(),
        },
    ];

    // The same alerts and silences into both.
    for s in &mut sides {
        let a = s.post("/api/v2/alerts", &alerts_body())?;
        assert_eq!((a.status, a.body.as_str()), (200, ""), "{}", s.name);
        for (body, comment) in silences() {
            s.silence(&body, comment)?;
        }
        let id = s.silences["expired"].clone();
        let a = s.request("DELETE", &format!("/api/v2/silence/{id}"), None, "")?;
        assert_eq!(a.status, 200, "{}: {a:?}", s.name);
    }
    // Alertmanager's inhibitor learns of new alerts asynchronously.
    eventually("the inhibition in Alertmanager", || {
        let a = call(
            &am.url,
            "GET",
            "/api/v2/alerts?inhibited=false&filter=severity%3Dwarning",
            None,
            "",
        )?;
        Ok((a.body.trim() == "[]").then_some(()))
    })?;
    let [am_side, ph_side] = &sides;

    let mut reads: Vec<String> = [
        "/api/v2/alerts",
        "/api/v2/alerts/",
        "/api/v2/alerts?active=false",
        "/api/v2/alerts?silenced=false",
        "/api/v2/alerts?inhibited=false&silenced=false",
        "/api/v2/alerts?active=false&silenced=false",
        "/api/v2/alerts?unprocessed=false",
        "/api/v2/alerts?active=no&inhibited=1",
        "/api/v2/alerts?filter=alertname%3DDiskFull",
        "/api/v2/alerts?filter=severity%3D~%22p.%2A%22&filter=cluster%21%3Deu",
        "/api/v2/alerts?filter=alertname%3DPlain",
        "/api/v2/alerts?filter=a%3Db%2Cc%3Dd",
        "/api/v2/alerts?receiver=alpha.*",
        "/api/v2/alerts?receiver=zeta-oncall&active=false",
        "/api/v2/alerts?receiver=team&receiver=",
        "/api/v2/alerts?filter=alertname%3DPay%zz",
        "/api/v2/alerts/groups",
        "/api/v2/alerts/groups?receiver=zeta-oncall",
        "/api/v2/alerts/groups?filter=alertname%3DBoth",
        "/api/v2/alerts/groups?silenced=false&inhibited=false",
        "/api/v2/alerts/groups?active=false",
        "/api/v2/silences",
        "/api/v2/silences?filter=alertname%3DDiskFull",
        "/api/v2/silences?filter=instance%3D~db-2.%2A",
        "/api/v2/silences?filter=severity%21~warn.%2A&filter=alertname%3DBoth",
        "/api/v2/silences?filter=job%3Dnode",
        "/api/v2/receivers",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for comment in am_side.silences.keys() {
        reads.push(format!("/api/v2/silence/<{comment}>"));
    }
    for path in &reads {
        let (a, p) = match path.strip_prefix("/api/v2/silence/<") {
            Some(c) => {
                let c = c.trim_end_matches('>');
                (
                    format!("/api/v2/silence/{}", am_side.silences[c]),
                    format!("/api/v2/silence/{}", ph_side.silences[c]),
                )
            }
            None => (path.clone(), path.clone()),
        };
        let want = am_side.request("GET", &a, None, "")?;
        let got = ph_side.request("GET", &p, None, "")?;
        assert_eq!(want.status, 200, "{path}: {want:?}");
        assert_eq!(got, want, "GET {path}");
    }

    // A new version of a known alert is merged as Alertmanager merges it
    // (earliest start, the later explicit end); a resolved one leaves the
    // lists.
    let updates = format!(
        r#"[
  {{"labels":{{"alertname":"Pay","service":"payments","severity":"warning"}},"annotations":{{"summary":"updated"}},"startsAt":"2001-03-01T09:00:00Z","endsAt":"2098-05-01T00:00:00Z"}},
  {{"labels":{{"alertname":"DiskFull","instance":"db-2:9100","job":"node","severity":"page","cluster":"eu"}},"startsAt":"{T0}","endsAt":"2001-03-01T12:00:00Z"}}
]"#
    );
    for s in [am_side, ph_side] {
        assert_eq!(
            s.post("/api/v2/alerts", &updates)?.status,
            200,
            "{}",
            s.name
        );
    }
    for path in [
        "/api/v2/alerts",
        "/api/v2/alerts?filter=alertname%3DPay",
        "/api/v2/alerts/groups",
    ] {
        same(am_side, ph_side, "GET", path, None, "")?;
    }

    for (method, path, ct, body) in error_cases("00000000-0000-0000-0000-000000000000") {
        same(am_side, ph_side, method, &path, ct, &body)?;
    }
    // CORS.
    for (method, headers) in [
        ("GET", vec![("origin", "http://x")]),
        (
            "OPTIONS",
            vec![
                ("origin", "http://x"),
                ("access-control-request-method", "POST"),
            ],
        ),
        (
            "OPTIONS",
            vec![
                ("origin", "http://x"),
                ("access-control-request-method", "DELETE"),
            ],
        ),
        (
            "OPTIONS",
            vec![
                ("origin", "http://x"),
                ("access-control-request-method", "GET"),
                (
                    "access-control-request-headers",
                    "content-type,x-requested-with",
                ),
            ],
        ),
    ] {
        let answer = |url: &str| -> Result<Vec<String>> {
            let mut req = client()?.request(method.parse()?, format!("{url}/api/v2/receivers"));
            for (k, v) in &headers {
                req = req.header(*k, *v);
            }
            let resp = req.send()?;
            let mut h: Vec<String> = resp
                .headers()
                .iter()
                .filter(|(k, _)| k.as_str().starts_with("access-control") || k.as_str() == "vary")
                .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or_default()))
                .collect();
            h.sort();
            h.push(resp.status().to_string());
            Ok(h)
        };
        assert_eq!(
            answer(&ph_side.url)?,
            answer(&am_side.url)?,
            "{method} {headers:?}"
        );
    }

    // The status: same shape; the config, version and start time are
    // each server's own.
    let status = |s: &Side| -> Result<Value> {
        let a = s.request("GET", "/api/v2/status", None, "")?;
        assert_eq!(a.content_type.as_deref(), Some("application/json"));
        let mut v: Value = serde_json::from_str(&a.body)?;
        let keys: Vec<String> = v.as_object().context("object")?.keys().cloned().collect();
        let info: Vec<String> = v["versionInfo"]
            .as_object()
            .context("versionInfo")?
            .keys()
            .cloned()
            .collect();
        v["config"]["original"] = Value::Null;
        v["versionInfo"] = serde_json::json!(info);
        v["uptime"] = serde_json::json!(keys);
        Ok(v)
    };
    assert_eq!(status(ph_side)?, status(am_side)?);

    // amtool prints the same against both.
    let amtool_reads: Vec<Vec<&str>> = vec![
        vec!["alert", "query", "alertname!=Plain"],
        vec!["alert", "query", "-i", "-s", "alertname!=Plain"],
        vec![
            "alert",
            "query",
            "-a",
            "-i",
            "-s",
            "-r",
            "zeta-oncall",
            "alertname!=Plain",
        ],
        vec!["alert", "query", "-o", "extended", "alertname=DiskFull"],
        vec!["alert", "query", "-o", "json", "-s", "alertname=DiskFull"],
        vec!["alert", "query", "Pay"],
        vec!["silence", "query"],
        vec!["silence", "query", "--expired"],
        vec!["silence", "query", "alertname=DiskFull"],
        vec!["silence", "query", "-o", "json"],
        vec!["config", "routes"],
        vec![
            "config",
            "routes",
            "test",
            "severity=page",
            "service=payments",
        ],
        vec![
            "config",
            "routes",
            "test",
            "--verify.receivers=team",
            "alertname=x",
        ],
        vec!["alert", "query", "-r", "("],
        vec!["silence", "expire", "00000000-0000-0000-0000-000000000000"],
    ];
    for args in &amtool_reads {
        let want = am_side.amtool(args)?;
        // Alertmanager's answer is a real one (only the bad regex and the
        // unknown silence fail).
        assert_eq!(
            want.contains("exit status"),
            args.contains(&"(") || args.contains(&"expire"),
            "amtool {args:?} against Alertmanager: {want}"
        );
        assert_eq!(ph_side.amtool(args)?, want, "amtool {args:?}");
    }
    // amtool changes both the same way.
    let end = "--end=2097-03-01T00:00:00Z";
    let mut updates = Vec::new();
    for s in &mut sides {
        let out = s.amtool(&[
            "alert",
            "add",
            "alertname=Added",
            "sev=x",
            "--annotation=summary=hi",
            "--generator-url=http://g/",
            "--start=2001-03-01T10:00:00Z",
            end,
        ])?;
        assert_eq!(out, "", "{}", s.name);
        for (matcher, comment, start) in [
            ("alertname=Added", "by amtool", None),
            (
                "alertname=Later",
                "pending by amtool",
                Some("--start=2096-01-01T00:00:00Z"),
            ),
        ] {
            let mut args = vec!["silence", "add", matcher, "--author=me", end];
            let c = format!("--comment={comment}");
            args.push(&c);
            args.extend(start);
            let out = s.amtool(&args)?;
            s.silences.insert(comment.to_owned(), out.trim().to_owned());
        }
        // A pending silence keeps its id when updated.
        let id = s.silences["pending by amtool"].clone();
        updates.push(s.amtool(&["silence", "update", &id, "--comment=pending by amtool"])?);
    }
    assert_eq!(updates[1], updates[0], "amtool silence update");
    assert!(
        updates[0].contains("<silence pending by amtool>"),
        "{}",
        updates[0]
    );
    let [am_side, ph_side] = &sides;
    for args in [
        vec!["alert", "query", "-s", "alertname=Added"],
        vec!["alert", "query", "alertname=Added"],
        vec!["silence", "query", "alertname=~Added|Later"],
    ] {
        assert_eq!(
            ph_side.amtool(&args)?,
            am_side.amtool(&args)?,
            "amtool {args:?}"
        );
    }
    same(
        am_side,
        ph_side,
        "GET",
        "/api/v2/alerts?filter=alertname%3DAdded",
        None,
        "",
    )?;
    for s in [am_side, ph_side] {
        let id = &s.silences["by amtool"];
        assert_eq!(s.amtool(&["silence", "expire", id])?, "", "{}", s.name);
    }
    for args in [
        vec!["silence", "query", "--expired", "alertname=Added"],
        vec!["alert", "query", "alertname=Added"],
    ] {
        assert_eq!(
            ph_side.amtool(&args)?,
            am_side.amtool(&args)?,
            "amtool {args:?}"
        );
    }
    same(am_side, ph_side, "GET", "/api/v2/silences", None, "")?;

    // amtool reads Pharos' configuration as an Alertmanager one.
    let shown = ph_side.amtool(&["config", "show"])?;
    let yml = dir.path().join("from-pharos.yml");
    write(&yml, &shown)?;
    let check = Command::new(require("amtool")?)
        .args(["check-config"])
        .arg(&yml)
        .output()?;
    assert!(
        check.status.success(),
        "{shown}\n{}",
        String::from_utf8_lossy(&check.stdout)
    );
    drop(pharos);
    Ok(())
}

/// Prometheus 2.42 with Pharos as its Alertmanager: its alert arrives
/// with its labels, annotations, generator URL and Prometheus' `endsAt`.
#[test]
fn prometheus_delivers_its_alerts() -> Result<()> {
    let prom_bin = require("prometheus")?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("pharos.toml");
    write(&config, PHAROS_TOML)?;
    let pharos = Pharos::start(&dir.path().join("data"), &config)?;
    let target = pharos.url.trim_start_matches("http://").to_owned();
    write(
        &dir.path().join("rules.yml"),
        "groups:\n- name: g\n  rules:\n  - alert: AlwaysOn\n    expr: vector(1)\n    labels:\n      severity: page\n    annotations:\n      summary: always <on>\n",
    )?;
    write(
        &dir.path().join("prometheus.yml"),
        &format!(
            "global:\n  evaluation_interval: 1s\n  external_labels:\n    cluster: eu\nrule_files: [rules.yml]\nalerting:\n  alertmanagers:\n  - api_version: v2\n    static_configs:\n    - targets: ['{target}']\n"
        ),
    )?;
    let port = free_port()?;
    let prom_url = format!("http://127.0.0.1:{port}");
    let mut prom = Process::new(
        Command::new(prom_bin)
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("prom").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Alerts dropped before the Alertmanager is discovered are
            // sent again a resend delay later.
            .arg("--rules.alert.resend-delay=1s")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    prom.wait_ready(
        &reqwest::blocking::Client::new(),
        &format!("{prom_url}/-/ready"),
        Duration::from_secs(60),
    )?;
    let alert = eventually("Prometheus' alert in Pharos", || {
        let v = pharos.get_json("/api/v2/alerts")?;
        Ok(v.as_array().and_then(|a| {
            a.iter()
                .find(|a| a["labels"]["alertname"] == "AlwaysOn")
                .cloned()
        }))
    })
    .with_context(|| format!("pharos log:\n{}", pharos.logs()))?;
    assert_eq!(
        alert["labels"],
        serde_json::json!({"alertname":"AlwaysOn","cluster":"eu","severity":"page"})
    );
    assert_eq!(
        alert["annotations"],
        serde_json::json!({"summary":"always <on>"})
    );
    assert_eq!(
        alert["receivers"],
        serde_json::json!([{"name":"zeta-oncall"}])
    );
    assert_eq!(alert["status"]["state"], "active");
    let url = alert["generatorURL"].as_str().unwrap_or_default();
    assert!(
        url.ends_with("/graph?g0.expr=vector%281%29&g0.tab=1"),
        "{url}"
    );
    // Prometheus sends an end 4 × max(evaluation interval, resend delay)
    // = 4s after the evaluation, not Pharos' resolve_timeout (5m) after
    // receipt.
    let t = |k: &str| unix_secs(alert[k].as_str().unwrap_or_default());
    let ahead = t("endsAt")? - t("updatedAt")?;
    assert!((1..=4).contains(&ahead), "{ahead}s: {alert}");
    let metrics = reqwest::blocking::get(format!("{prom_url}/metrics"))?.text()?;
    let sent = metrics
        .lines()
        .find(|l| l.starts_with("prometheus_notifications_sent_total{"))
        .unwrap_or_default()
        .to_owned();
    let errors = metrics
        .lines()
        .find(|l| l.starts_with("prometheus_notifications_errors_total{"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        sent.contains(&format!("{}/api/v2/alerts", pharos.url)),
        "{metrics}"
    );
    assert!(errors.ends_with(" 0"), "{errors}");
    prom.stop(Duration::from_secs(30))?;
    Ok(())
}

/// Unix seconds of a time as the API writes it
/// (`2006-01-02T15:04:05.000Z07:00`).
fn unix_secs(t: &str) -> Result<i64> {
    let num = |r: std::ops::Range<usize>| -> Result<i64> {
        t.get(r)
            .context("short time")?
            .parse()
            .with_context(|| t.to_owned())
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let secs = num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?;
    let offset = match t.get(23..) {
        Some("Z") => 0,
        Some(o) if o.len() == 6 => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (num(24..26)? * 3600 + num(27..29)? * 60)
        }
        _ => bail!("no zone in {t}"),
    };
    // Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Ok(days * 86_400 + secs - offset)
}
