//! `webhook` notifier: Alertmanager 0.25's `webhook_config` as a Pharos
//! plugin.
//!
//! POSTs each notification to `url` as Alertmanager's webhook JSON,
//! version `"4"`, byte for byte as Alertmanager writes it (Go's JSON
//! escaping, fields in its order, maps sorted, a trailing newline):
//!
//! ```json
//! {"receiver":"team","status":"firing","alerts":[{"status":"firing",
//!  "labels":{…},"annotations":{…},"startsAt":"2024-03-01T10:00:00.123Z",
//!  "endsAt":"0001-01-01T00:00:00Z","generatorURL":"…","fingerprint":"…"}],
//!  "groupLabels":{…},"commonLabels":{…},"commonAnnotations":{…},
//!  "externalURL":"…","version":"4","groupKey":"…","truncatedAlerts":0}
//! ```
//!
//! A firing alert's `endsAt` is Go's zero time, as in Alertmanager. With
//! `max_alerts` (0: no limit) only the first `max_alerts` alerts are sent,
//! `truncatedAlerts` counts the others (plus any the host already left
//! out), and `status`, `commonLabels` and `commonAnnotations` describe the
//! alerts sent, as Alertmanager computes them.
//!
//! Configuration (see `schema.json`): `url` or `url_file`; optional
//! `max_alerts`; optional `basic_auth` (`username`, `password` or
//! `password_file`) or `authorization` (`type`, default `Bearer`, and
//! `credentials` or `credentials_file`) — Alertmanager's `http_config`
//! keys, one level up. `*_file` values are read through the plugin's
//! `allow_read` grant and trimmed. Secrets and the URL's path never appear
//! in errors. The host renders templates in string values before `notify`
//! (see `wit/notifier.wit`); the webhook's strings are used as they come.
//!
//! A 2xx answer is success; 5xx, 429 and network failures are `transient`
//! (retried), other statuses `permanent`.

#[macro_use]
mod common;

use common::{GO_ZERO_TIME, check_one_of, check_url, go_time, kv, post_json, secret, to_go_json};
use pharos_sdk::{Alert, AlertStatus, Error, Label, Notification, Notifier};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The plugin's configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default, deserialize_with = "de_url")]
    url: Option<String>,
    #[serde(default, deserialize_with = "de_url_file")]
    url_file: Option<String>,
    #[serde(default, deserialize_with = "de_max_alerts")]
    max_alerts: u64,
    #[serde(default, deserialize_with = "de_basic_auth")]
    basic_auth: Option<BasicAuth>,
    #[serde(default, deserialize_with = "de_authorization")]
    authorization: Option<Authorization>,
}

keyed! {
    de_url: Option<String> = "url";
    de_url_file: Option<String> = "url_file";
    de_max_alerts: u64 = "max_alerts";
    de_basic_auth: Option<BasicAuth> = "basic_auth";
    de_authorization: Option<Authorization> = "authorization";
}

/// HTTP basic authentication.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    username: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    password_file: Option<String>,
}

/// An `Authorization: <type> <credentials>` header.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    #[serde(default = "bearer", rename = "type")]
    kind: String,
    #[serde(default)]
    credentials: Option<String>,
    #[serde(default)]
    credentials_file: Option<String>,
}

fn bearer() -> String {
    "Bearer".into()
}

impl Config {
    fn check(&self) -> Result<(), Error> {
        check_one_of("url", self.url.as_deref(), self.url_file.as_deref(), true)?;
        if let Some(url) = &self.url {
            check_url("url", url)?;
        }
        if self.basic_auth.is_some() && self.authorization.is_some() {
            return Err(Error::config(
                "`basic_auth` and `authorization` are mutually exclusive: set one",
            ));
        }
        if let Some(b) = &self.basic_auth {
            if b.username.is_empty() {
                return Err(Error::config("`basic_auth.username` must not be empty"));
            }
            check_one_of(
                "basic_auth.password",
                b.password.as_deref(),
                b.password_file.as_deref(),
                false,
            )?;
        }
        if let Some(a) = &self.authorization {
            if a.kind.is_empty() || a.kind.contains(char::is_whitespace) {
                return Err(Error::config(
                    "`authorization.type` must be one word, e.g. Bearer",
                ));
            }
            if a.kind.eq_ignore_ascii_case("basic") {
                return Err(Error::config(
                    "`authorization.type` must not be Basic: use `basic_auth`",
                ));
            }
            check_one_of(
                "authorization.credentials",
                a.credentials.as_deref(),
                a.credentials_file.as_deref(),
                true,
            )?;
        }
        Ok(())
    }

    /// The `Authorization` header's value, if any (files read now).
    fn auth_header(&self) -> Result<Option<String>, Error> {
        if let Some(b) = &self.basic_auth {
            let password = secret(
                "basic_auth.password",
                b.password.as_deref(),
                b.password_file.as_deref(),
            )?
            .unwrap_or_default();
            let token = base64(format!("{}:{password}", b.username).as_bytes());
            return Ok(Some(format!("Basic {token}")));
        }
        if let Some(a) = &self.authorization {
            let credentials = secret(
                "authorization.credentials",
                a.credentials.as_deref(),
                a.credentials_file.as_deref(),
            )?
            .unwrap_or_default();
            return Ok(Some(format!("{} {credentials}", a.kind)));
        }
        Ok(None)
    }
}

/// Standard base64 with padding (RFC 4648), for basic authentication.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Alertmanager's webhook message (`notify/webhook.Message`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Message<'a> {
    receiver: &'a str,
    status: &'static str,
    alerts: Vec<AlertJson<'a>>,
    group_labels: BTreeMap<&'a str, &'a str>,
    common_labels: BTreeMap<&'a str, &'a str>,
    common_annotations: BTreeMap<&'a str, &'a str>,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    version: &'static str,
    group_key: &'a str,
    truncated_alerts: u64,
}

/// One alert of the message (`template.Alert`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlertJson<'a> {
    status: &'static str,
    labels: BTreeMap<&'a str, &'a str>,
    annotations: BTreeMap<&'a str, &'a str>,
    starts_at: String,
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    fingerprint: &'a str,
}

fn status(s: AlertStatus) -> &'static str {
    match s {
        AlertStatus::Firing => "firing",
        AlertStatus::Resolved => "resolved",
    }
}

/// The labels every alert has with the same value (Alertmanager's
/// `GetTemplateData`).
fn common<'a>(sets: impl Iterator<Item = &'a [Label]>) -> BTreeMap<&'a str, &'a str> {
    let mut sets = sets.map(kv);
    let Some(mut common) = sets.next() else {
        return BTreeMap::new();
    };
    for set in sets {
        common.retain(|k, v| set.get(k) == Some(v));
    }
    common
}

/// The webhook body for a notification, as Alertmanager encodes it.
fn message(n: &Notification, max_alerts: u64) -> Result<Vec<u8>, Error> {
    let total = n.alerts.len() as u64;
    let keep = if max_alerts != 0 && total > max_alerts {
        usize::try_from(max_alerts).unwrap_or(usize::MAX)
    } else {
        n.alerts.len()
    };
    let alerts: &[Alert] = n.alerts.get(..keep).unwrap_or(&n.alerts);
    let dropped = total - alerts.len() as u64;
    // Alertmanager builds the template data from the alerts it sends.
    let (status_of_group, common_labels, common_annotations) = if dropped == 0 {
        (n.status, kv(&n.common_labels), kv(&n.common_annotations))
    } else {
        let firing = alerts.iter().any(|a| a.status == AlertStatus::Firing);
        (
            if firing {
                AlertStatus::Firing
            } else {
                AlertStatus::Resolved
            },
            common(alerts.iter().map(|a| a.labels.as_slice())),
            common(alerts.iter().map(|a| a.annotations.as_slice())),
        )
    };
    let msg = Message {
        receiver: &n.receiver,
        status: status(status_of_group),
        alerts: alerts
            .iter()
            .map(|a| AlertJson {
                status: status(a.status),
                labels: kv(&a.labels),
                annotations: kv(&a.annotations),
                starts_at: go_time(a.starts_at_ms),
                ends_at: match (a.status, a.ends_at_ms) {
                    (AlertStatus::Resolved, Some(ms)) => go_time(ms),
                    _ => GO_ZERO_TIME.to_owned(),
                },
                generator_url: &a.generator_url,
                fingerprint: &a.fingerprint,
            })
            .collect(),
        group_labels: kv(&n.group_labels),
        common_labels,
        common_annotations,
        external_url: &n.external_url,
        version: "4",
        group_key: &n.group_key,
        truncated_alerts: dropped + u64::from(n.truncated_alerts),
    };
    to_go_json(&msg)
}

struct Webhook;

impl Notifier for Webhook {
    type Config = Config;
    const NAME: &'static str = "webhook";
    const DESCRIPTION: &'static str =
        "Posts notifications to a URL as Alertmanager's webhook JSON (version 4).";
    const CONFIG_SCHEMA: &'static str = include_str!("../schema.json");

    fn validate(config: &Config) -> Result<(), Error> {
        config.check()
    }

    fn notify(config: Config, n: Notification) -> Result<(), Error> {
        let url = secret("url", config.url.as_deref(), config.url_file.as_deref())?
            .ok_or_else(|| Error::config("one of `url` and `url_file` is required"))?;
        if config.url.is_none() {
            check_url("url_file", &url)?;
        }
        let body = message(&n, config.max_alerts)?;
        let mut headers = Vec::new();
        if let Some(auth) = config.auth_header()? {
            headers.push(("Authorization", auth));
        }
        post_json(&url, body, &headers)?;
        Ok(())
    }
}

pharos_sdk::export!(notifier: Webhook);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b"alice:s3cret"), "YWxpY2U6czNjcmV0");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }

    fn config(json: &str) -> Result<(), Error> {
        pharos_sdk::parse_config::<Config>(json)?.check()
    }

    #[test]
    fn bad_configs_name_the_key() {
        let cases = [
            (r#"{}"#, "`url`"),
            (r#"{"url": "x", "url_file": "y"}"#, "`url_file`"),
            (r#"{"url": "ftp://x"}"#, "`url`"),
            (r#"{"url": "http://x", "max_alerts": -1}"#, "max_alerts"),
            (r#"{"url": "http://x", "bogus": 1}"#, "bogus"),
            (r#"{"url": 5}"#, "`url`"),
            (
                r#"{"url": "http://x", "basic_auth": "alice:pw"}"#,
                "`basic_auth`",
            ),
            (
                r#"{"url": "http://x", "basic_auth": {"username": ""}}"#,
                "basic_auth.username",
            ),
            (
                r#"{"url": "http://x", "authorization": {}}"#,
                "authorization.credentials",
            ),
            (
                r#"{"url": "http://x", "authorization": {"type": "Basic", "credentials": "c"}}"#,
                "authorization.type",
            ),
            (
                r#"{"url": "http://x", "basic_auth": {"username": "u"}, "authorization": {"credentials": "c"}}"#,
                "basic_auth",
            ),
        ];
        for (json, key) in cases {
            let err = config(json).err().map(|e| e.message().to_owned());
            assert!(
                err.as_deref().is_some_and(|m| m.contains(key)),
                "{json}: {err:?} should name {key}"
            );
        }
        assert!(config(r#"{"url": "https://x/hook", "max_alerts": 3}"#).is_ok());
        assert!(config(r#"{"url_file": "/etc/pharos/hook"}"#).is_ok());
    }

    #[test]
    fn secrets_stay_out_of_errors() {
        let err = config(r#"{"url": "http://x", "basic_auth": {"username": "u", "password": "pw", "password_file": "/f"}}"#)
            .err()
            .map(|e| e.message().to_owned())
            .unwrap_or_default();
        assert!(!err.contains("pw"), "{err}");
        let err = config(r#"{"url": "http://x", "basic_auth": "alice:pw"}"#)
            .err()
            .map(|e| e.message().to_owned())
            .unwrap_or_default();
        assert!(!err.contains("alice:pw"), "{err}");
    }
}
