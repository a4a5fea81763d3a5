//! The first-party notifier plugins send what Alertmanager 0.25 sends.
//!
//! `tests/scripts/record-notifier-payloads.sh` ran Alertmanager 0.25 with one
//! receiver holding webhook, Slack and PagerDuty integrations pointed at a
//! recorder, posted one alert group (firing, then resolved) and kept the
//! bodies as `plugins/<name>/testdata/*.json`. Here each built plugin is
//! loaded through the plugin host with the grants an operator would give it
//! (`allow_http` and `allow_private_ips` for the loopback recorder,
//! `allow_read` for `*_file` secrets), called with the same group (read back
//! from Alertmanager's own webhook body) and a configuration whose strings
//! are pre-rendered as the host renders them (taken from the recorded
//! bodies), and its request must equal Alertmanager's byte for byte
//! (timestamps and fingerprints are fixed by the recording, so nothing
//! needs masking). Bad configurations are refused with the key named.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use pharos_plugin_host::{
    Alert, AlertStatus, CallError, Grants, Label, Notification, Plugin, PluginError, PluginKind,
    PluginSettings, Runtime, RuntimeOptions,
};
use pharos_tests::recorder::{Recorder, Request};
use serde_json::{Value, json};

fn testdata(plugin: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins")
        .join(plugin)
        .join("testdata")
        .join(file)
}

fn golden(plugin: &str, file: &str) -> Result<Vec<u8>> {
    let path = testdata(plugin, file);
    std::fs::read(&path).with_context(|| path.display().to_string())
}

fn golden_json(plugin: &str, file: &str) -> Result<Value> {
    Ok(serde_json::from_slice(&golden(plugin, file)?)?)
}

/// The headers Alertmanager sent with a recorded body (`requests.txt`:
/// `<file> POST <path> content-type=<v> authorization=<v or ->`).
fn recorded_header(plugin: &str, file: &str, header: &str) -> Result<Option<String>> {
    let text = std::fs::read_to_string(testdata(plugin, "requests.txt"))?;
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(file))
        .with_context(|| format!("{file} in {plugin}/testdata/requests.txt"))?;
    let (_, after) = line
        .split_once(" content-type=")
        .context("malformed requests.txt line")?;
    // `authorization=` comes last: its value may hold spaces.
    let (content_type, authorization) = after
        .split_once(" authorization=")
        .context("malformed requests.txt line")?;
    let value = if header == "authorization" {
        authorization
    } else {
        content_type
    };
    Ok((value != "-").then(|| value.to_owned()))
}

// --- a recorder --------------------------------------------------------------

// --- the alert group ---------------------------------------------------------

/// Go's RFC 3339 time (`2024-03-01T10:00:00.123Z`, UTC) in milliseconds.
fn parse_time(s: &str) -> Option<i64> {
    let (date, time) = s.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':').map(|p| p.parse::<i64>());
    let (h, mi, sec) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let millis = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}").get(..3)?.parse::<i64>().ok()?
    };
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec) * 1000) + millis)
}

fn labels(v: &Value) -> Vec<Label> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| Label {
            name: k.clone(),
            value: v.as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

fn status(v: &Value) -> AlertStatus {
    if v == "resolved" {
        AlertStatus::Resolved
    } else {
        AlertStatus::Firing
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The notification the host would pass for the group Alertmanager sent
/// as this webhook body.
fn notification(body: &Value) -> Result<Notification> {
    let mut alerts = Vec::new();
    for a in body["alerts"].as_array().context("alerts")? {
        let resolved = a["status"] == "resolved";
        alerts.push(Alert {
            status: status(&a["status"]),
            labels: labels(&a["labels"]),
            annotations: labels(&a["annotations"]),
            starts_at_ms: parse_time(a["startsAt"].as_str().unwrap_or_default())
                .context("startsAt")?,
            ends_at_ms: if resolved {
                Some(parse_time(a["endsAt"].as_str().unwrap_or_default()).context("endsAt")?)
            } else {
                None
            },
            generator_url: text(&a["generatorURL"]),
            fingerprint: text(&a["fingerprint"]),
        });
    }
    Ok(Notification {
        receiver: text(&body["receiver"]),
        status: status(&body["status"]),
        alerts,
        group_labels: labels(&body["groupLabels"]),
        common_labels: labels(&body["commonLabels"]),
        common_annotations: labels(&body["commonAnnotations"]),
        group_key: text(&body["groupKey"]),
        truncated_alerts: 0,
        external_url: text(&body["externalURL"]),
    })
}

/// The group in both states, from Alertmanager's default webhook bodies.
fn group(phase: &str) -> Result<Notification> {
    notification(&golden_json("webhook", &format!("{phase}.json"))?)
}

// --- loading and calling -----------------------------------------------------

fn runtime() -> Result<Runtime> {
    Ok(Runtime::new(RuntimeOptions {
        pooling: None,
        ..RuntimeOptions::default()
    })?)
}

async fn load(rt: &Runtime, name: &str, rec: &Recorder, read: Option<&Path>) -> Result<Plugin> {
    let settings = PluginSettings {
        grants: Grants {
            allow_http: vec![format!("http://{}", rec.addr)],
            allow_private_ips: vec!["127.0.0.1".into()],
            allow_read: read.map(Path::to_path_buf).into_iter().collect(),
            ..Grants::default()
        },
        ..PluginSettings::default()
    };
    Ok(rt
        .load_embedded(name, PluginKind::Notifier, &settings)
        .await?)
}

/// Calls `notify` and returns the one request it made.
async fn send(
    plugin: &Plugin,
    rec: &Recorder,
    config: &Value,
    n: &Notification,
) -> Result<Request> {
    plugin.notify(&config.to_string(), n).await?;
    let mut requests = rec.take();
    if requests.len() != 1 {
        bail!("expected one request, got {}", requests.len());
    }
    requests.pop().context("one request")
}

fn assert_body(got: &Request, plugin: &str, file: &str) -> Result<()> {
    let want = golden(plugin, file)?;
    assert_eq!(
        String::from_utf8_lossy(&got.body),
        String::from_utf8_lossy(&want),
        "{plugin}: the body differs from Alertmanager's {file}"
    );
    assert_eq!(
        got.headers.get("content-type").map(String::as_str),
        recorded_header(plugin, file, "content-type")?.as_deref(),
        "{plugin} {file}: content-type"
    );
    assert_eq!(
        got.headers.get("authorization").cloned(),
        recorded_header(plugin, file, "authorization")?,
        "{plugin} {file}: authorization"
    );
    Ok(())
}

/// `validate-config` refuses `config` with a `config` error naming `key`.
async fn assert_refused(plugin: &Plugin, config: Value, key: &str) {
    let err = plugin.validate_config(&config.to_string()).await;
    match err {
        Err(CallError::Plugin {
            error: PluginError::Config(m),
            ..
        }) => assert!(m.contains(key), "{config}: {m:?} does not name {key}"),
        other => panic!("{config}: expected a config error naming {key}, got {other:?}"),
    }
}

// --- webhook -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_sends_alertmanagers_json() -> Result<()> {
    let rec = Recorder::start("200 OK", "")?;
    let secrets = tempfile::tempdir()?;
    let secrets_dir = secrets.path().canonicalize()?;
    let password = secrets_dir.join("password");
    std::fs::write(&password, "s3cret\n")?;
    let rt = runtime()?;
    let webhook = load(&rt, "webhook", &rec, Some(&secrets_dir)).await?;

    for phase in ["firing", "resolved"] {
        let n = group(phase)?;
        let config = json!({"url": rec.url("/webhook")});
        let got = send(&webhook, &rec, &config, &n).await?;
        assert_eq!(got.path, "/webhook");
        assert_body(&got, "webhook", &format!("{phase}.json"))?;

        // max_alerts 1 and basic auth with the password in a file.
        let config = json!({
            "url": rec.url("/webhook-max-alerts"),
            "max_alerts": 1,
            "basic_auth": {"username": "alice", "password_file": password},
        });
        let got = send(&webhook, &rec, &config, &n).await?;
        assert_body(&got, "webhook", &format!("{phase}_max_alerts.json"))?;
    }

    assert_refused(&webhook, json!({}), "url").await;
    assert_refused(&webhook, json!({"url": "ftp://x"}), "url").await;
    assert_refused(
        &webhook,
        json!({"url": "http://x", "max_alerts": "many"}),
        "max_alerts",
    )
    .await;
    assert_refused(
        &webhook,
        json!({"url": "http://x", "authorization": {"credentials": "t0k3n", "credentials_file": "/f"}}),
        "authorization.credentials",
    )
    .await;

    // A 4xx is permanent, a 5xx transient; neither shows the URL's path.
    let failing = Recorder::start("503 Service Unavailable", "down")?;
    let webhook = load(&rt, "webhook", &failing, None).await?;
    let err = webhook
        .notify(
            &json!({"url": failing.url("/hook/s3cr3t-path")}).to_string(),
            &group("firing")?,
        )
        .await;
    match err {
        Err(CallError::Plugin {
            error: PluginError::Transient(m),
            ..
        }) => assert!(!m.contains("s3cr3t"), "{m}"),
        other => panic!("expected a transient error, got {other:?}"),
    }
    Ok(())
}

// --- slack -------------------------------------------------------------------

/// The configuration that makes the plugin send `body`: its strings as the
/// host renders them (the recorded values; keys Alertmanager left out
/// because they rendered empty get the empty string, as the host's
/// rendering of their schema default would give).
fn slack_config(body: &Value) -> Result<Value> {
    let mut config = serde_json::Map::new();
    for (k, v) in body.as_object().context("slack body")? {
        if k != "attachments" {
            config.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in body["attachments"][0]
        .as_object()
        .context("one attachment")?
    {
        config.insert(k.clone(), v.clone());
    }
    let schema: Value =
        serde_json::from_slice(&std::fs::read(testdata("slack", "../schema.json"))?)?;
    for (k, p) in schema["properties"].as_object().context("schema")? {
        if config.contains_key(k) {
            continue;
        }
        match &p["default"] {
            Value::String(_) => {
                config.insert(k.clone(), json!(""));
            }
            Value::Bool(b) => {
                config.insert(k.clone(), json!(b));
            }
            _ => {}
        }
    }
    Ok(Value::Object(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_sends_alertmanagers_message() -> Result<()> {
    let rec = Recorder::start("200 OK", r#"{"ok":true}"#)?;
    let secrets = tempfile::tempdir()?;
    let secrets_dir = secrets.path().canonicalize()?;
    let token = secrets_dir.join("token");
    std::fs::write(&token, "xoxb-test-token\n")?;
    let rt = runtime()?;
    let slack = load(&rt, "slack", &rec, Some(&secrets_dir)).await?;

    for phase in ["firing", "resolved"] {
        let n = group(phase)?;
        // An incoming webhook with Alertmanager's defaults.
        let file = format!("{phase}.json");
        let mut config = slack_config(&golden_json("slack", &file)?)?;
        config["api_url"] = json!(rec.url("/slack"));
        let got = send(&slack, &rec, &config, &n).await?;
        assert_eq!(got.path, "/slack");
        assert_body(&got, "slack", &file)?;

        // chat.postMessage with a token from a file and every option set.
        let file = format!("{phase}_postmessage.json");
        let mut config = slack_config(&golden_json("slack", &file)?)?;
        config["api_url"] = json!(rec.url("/api/chat.postMessage"));
        config["token_file"] = json!(token);
        let got = send(&slack, &rec, &config, &n).await?;
        assert_eq!(got.path, "/api/chat.postMessage");
        assert_body(&got, "slack", &file)?;
    }

    assert_refused(&slack, json!({}), "api_url").await;
    assert_refused(&slack, json!({"token": "xoxb-1"}), "channel").await;
    assert_refused(
        &slack,
        json!({"api_url": "https://x", "fields": [{"title": "t"}]}),
        "fields[0].value",
    )
    .await;

    // The Web API refuses with 200 and `"ok": false`: a permanent error
    // with Slack's reason, and no token in it.
    let refusing = Recorder::start("200 OK", r#"{"ok":false,"error":"channel_not_found"}"#)?;
    let slack = load(&rt, "slack", &refusing, None).await?;
    let config = json!({
        "api_url": refusing.url("/api/chat.postMessage"),
        "token": "xoxb-s3cr3t",
        "channel": "#nowhere",
    });
    match slack.notify(&config.to_string(), &group("firing")?).await {
        Err(CallError::Plugin {
            error: PluginError::Permanent(m),
            ..
        }) => {
            assert!(m.contains("channel_not_found"), "{m}");
            assert!(!m.contains("s3cr3t"), "{m}");
        }
        other => panic!("expected a permanent error, got {other:?}"),
    }
    Ok(())
}

// --- pagerduty ---------------------------------------------------------------

/// The configuration that makes the plugin send `body` (see
/// [`slack_config`]); `source` is left out where it equals `client`, as
/// Alertmanager's default does.
fn pagerduty_config(body: &Value) -> Result<Value> {
    let payload = &body["payload"];
    let mut config = json!({
        "routing_key": body["routing_key"],
        "client": body["client"],
        "client_url": body["client_url"],
        "description": payload["summary"],
        "severity": payload["severity"],
        "details": payload["custom_details"],
    });
    if payload["source"] != body["client"] {
        config["source"] = payload["source"].clone();
    }
    for key in ["class", "component", "group"] {
        if let Some(v) = payload.get(key) {
            config[key] = v.clone();
        }
    }
    // Images without src and links without href are left out.
    let mut images = body["images"].as_array().cloned().unwrap_or_default();
    images.push(json!({"src": "", "alt": "no src"}));
    let mut links = body["links"].as_array().cloned().unwrap_or_default();
    links.push(json!({"href": "", "text": "no href"}));
    config["images"] = json!(images);
    config["links"] = json!(links);
    Ok(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_sends_alertmanagers_events() -> Result<()> {
    let rec = Recorder::start(
        "202 Accepted",
        r#"{"status":"success","message":"Event processed","dedup_key":"x"}"#,
    )?;
    let secrets = tempfile::tempdir()?;
    let secrets_dir = secrets.path().canonicalize()?;
    let routing_key = secrets_dir.join("routing-key");
    let rt = runtime()?;
    let pagerduty = load(&rt, "pagerduty", &rec, Some(&secrets_dir)).await?;

    for phase in ["firing", "resolved"] {
        let n = group(phase)?;
        let file = format!("{phase}.json");
        let mut config = pagerduty_config(&golden_json("pagerduty", &file)?)?;
        config["url"] = json!(rec.url("/pagerduty"));
        let got = send(&pagerduty, &rec, &config, &n).await?;
        assert_eq!(got.path, "/pagerduty");
        assert_body(&got, "pagerduty", &file)?;

        // Every option, the routing key from a file.
        let file = format!("{phase}_full.json");
        let body = golden_json("pagerduty", &file)?;
        let mut config = pagerduty_config(&body)?;
        std::fs::write(&routing_key, format!("{}\n", text(&body["routing_key"])))?;
        if let Some(c) = config.as_object_mut() {
            c.remove("routing_key");
        }
        config["routing_key_file"] = json!(routing_key);
        config["url"] = json!(rec.url("/pagerduty-full"));
        let got = send(&pagerduty, &rec, &config, &n).await?;
        assert_body(&got, "pagerduty", &file)?;
    }

    assert_refused(&pagerduty, json!({}), "routing_key").await;
    assert_refused(
        &pagerduty,
        json!({"routing_key": "k", "details": {"n": 1}}),
        "details",
    )
    .await;

    // 429 is transient; the routing key is not in the error.
    let limited = Recorder::start("429 Too Many Requests", r#"{"status":"throttle"}"#)?;
    let pagerduty = load(&rt, "pagerduty", &limited, None).await?;
    let config = json!({"routing_key": "s3cr3t-key", "url": limited.url("/v2/enqueue")});
    match pagerduty
        .notify(&config.to_string(), &group("firing")?)
        .await
    {
        Err(CallError::Plugin {
            error: PluginError::Transient(m),
            ..
        }) => assert!(!m.contains("s3cr3t"), "{m}"),
        other => panic!("expected a transient error, got {other:?}"),
    }
    Ok(())
}
