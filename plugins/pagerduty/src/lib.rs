//! `pagerduty` notifier: Alertmanager 0.25's `pagerduty_config` (Events API
//! v2) as a Pharos plugin.
//!
//! Sends one event per notification to `url` (default
//! `https://events.pagerduty.com/v2/enqueue`), byte for byte the JSON
//! Alertmanager 0.25 sends: `event_action` `trigger` while the group fires
//! and `resolve` once it resolved, with `dedup_key` the SHA-256 (hex) of
//! the group key as Alertmanager's `notify.Key.Hash`, so the incident
//! opened by a group is the one its resolution closes (and a redelivery
//! deduplicates):
//!
//! ```json
//! {"routing_key":"…","dedup_key":"17c4e4…","event_action":"trigger",
//!  "payload":{"summary":"[FIRING:2] DiskFull (node page)","source":"Alertmanager",
//!   "severity":"error","custom_details":{"firing":"…","num_firing":"2",
//!   "num_resolved":"0","resolved":""}},
//!  "client":"Alertmanager","client_url":"http://am.example/#/alerts?receiver=team"}
//! ```
//!
//! Every text option is a template rendered by the host before `notify`
//! (see `wit/notifier.wit`); `schema.json` gives Alertmanager's defaults
//! (`description`, `client`, `client_url` and the four `details`). As in
//! Alertmanager, `source` defaults to `client`, `severity` to `error`, the
//! summary is cut to 1024 characters, images without `src` and links
//! without `href` are left out, and when the event would exceed 512 KB the
//! custom details are replaced by a note saying so.
//!
//! `routing_key` or `routing_key_file` (read through `allow_read`) is
//! required; it never appears in errors. A 2xx answer is success; 429, 5xx
//! and network failures are `transient`, other statuses `permanent`.
//! Alertmanager's Events API v1 (`service_key`) is not supported.

#[macro_use]
#[path = "../../webhook/src/common.rs"]
mod common;

use common::{check_one_of, check_url, post_json, secret, to_go_json, truncate};
use pharos_sdk::{AlertStatus, Error, Notification, Notifier};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The Events API v2 endpoint.
const DEFAULT_URL: &str = "https://events.pagerduty.com/v2/enqueue";
/// PagerDuty's limit on an event's size, in bytes.
const MAX_EVENT_SIZE: usize = 512_000;
/// Alertmanager's `maxV2SummaryLenRunes`.
const MAX_SUMMARY_RUNES: usize = 1024;

/// The plugin's configuration (Alertmanager's `pagerduty_config` keys).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    #[serde(deserialize_with = "de_routing_key")]
    routing_key: Option<String>,
    #[serde(deserialize_with = "de_routing_key_file")]
    routing_key_file: Option<String>,
    #[serde(deserialize_with = "de_url")]
    url: Option<String>,
    #[serde(deserialize_with = "de_client")]
    client: String,
    #[serde(deserialize_with = "de_client_url")]
    client_url: String,
    #[serde(deserialize_with = "de_description")]
    description: String,
    #[serde(deserialize_with = "de_severity")]
    severity: String,
    #[serde(deserialize_with = "de_source")]
    source: Option<String>,
    #[serde(deserialize_with = "de_class")]
    class: String,
    #[serde(deserialize_with = "de_component")]
    component: String,
    #[serde(deserialize_with = "de_group")]
    group: String,
    #[serde(deserialize_with = "de_details")]
    details: BTreeMap<String, String>,
    #[serde(deserialize_with = "de_images")]
    images: Vec<Image>,
    #[serde(deserialize_with = "de_links")]
    links: Vec<Link>,
}

keyed! {
    de_routing_key: Option<String> = "routing_key";
    de_routing_key_file: Option<String> = "routing_key_file";
    de_url: Option<String> = "url";
    de_client: String = "client";
    de_client_url: String = "client_url";
    de_description: String = "description";
    de_severity: String = "severity";
    de_source: Option<String> = "source";
    de_class: String = "class";
    de_component: String = "component";
    de_group: String = "group";
    de_details: BTreeMap<String, String> = "details";
    de_images: Vec<Image> = "images";
    de_links: Vec<Link> = "links";
}

/// An image shown in the incident, as configured and sent.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    #[serde(default)]
    src: String,
    #[serde(default)]
    alt: String,
    #[serde(default)]
    href: String,
}

/// A link shown in the incident, as configured and sent.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    #[serde(default)]
    href: String,
    #[serde(default)]
    text: String,
}

/// The event (`notify/pagerduty.pagerDutyMessage`, v2 fields).
#[derive(Serialize)]
struct Message<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    routing_key: &'a str,
    #[serde(skip_serializing_if = "String::is_empty")]
    dedup_key: String,
    event_action: &'static str,
    payload: Payload<'a>,
    #[serde(skip_serializing_if = "str::is_empty")]
    client: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    client_url: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<&'a Image>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<&'a Link>,
}

/// The event's payload (`pagerDutyPayload`).
#[derive(Serialize)]
struct Payload<'a> {
    summary: String,
    source: &'a str,
    severity: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    class: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    component: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    group: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    custom_details: BTreeMap<&'a str, &'a str>,
}

/// `notify.Key.Hash`: the hex SHA-256 of the group key.
fn dedup_key(group_key: &str) -> String {
    Sha256::digest(group_key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Config {
    fn check(&self) -> Result<(), Error> {
        check_one_of(
            "routing_key",
            self.routing_key.as_deref(),
            self.routing_key_file.as_deref(),
            true,
        )?;
        if let Some(url) = &self.url {
            check_url("url", url)?;
        }
        Ok(())
    }

    /// The event for a notification, as Alertmanager encodes it.
    fn body(&self, routing_key: &str, n: &Notification) -> Result<Vec<u8>, Error> {
        let mut message = Message {
            routing_key,
            dedup_key: dedup_key(&n.group_key),
            event_action: match n.status {
                AlertStatus::Firing => "trigger",
                AlertStatus::Resolved => "resolve",
            },
            payload: Payload {
                summary: truncate(&self.description, MAX_SUMMARY_RUNES).text,
                source: self.source.as_deref().unwrap_or(&self.client),
                severity: if self.severity.is_empty() {
                    "error"
                } else {
                    &self.severity
                },
                class: &self.class,
                component: &self.component,
                group: &self.group,
                custom_details: self
                    .details
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            },
            client: &self.client,
            client_url: &self.client_url,
            images: self.images.iter().filter(|i| !i.src.is_empty()).collect(),
            links: self.links.iter().filter(|l| !l.href.is_empty()).collect(),
        };
        let body = to_go_json(&message)?;
        if body.len() <= MAX_EVENT_SIZE {
            return Ok(body);
        }
        let size = body.len().to_string();
        pharos_sdk::log::warn(
            "custom details removed: the event exceeds PagerDuty's size limit",
            &[("size", size.as_str())],
        );
        message.payload.custom_details = BTreeMap::from([(
            "error",
            "Custom details have been removed because the original event exceeds the maximum size of 512KB",
        )]);
        to_go_json(&message)
    }
}

struct PagerDuty;

impl Notifier for PagerDuty {
    type Config = Config;
    const NAME: &'static str = "pagerduty";
    const DESCRIPTION: &'static str =
        "Triggers and resolves PagerDuty incidents (Events API v2) as Alertmanager does.";
    const CONFIG_SCHEMA: &'static str = include_str!("../schema.json");

    fn validate(config: &Config) -> Result<(), Error> {
        config.check()
    }

    fn notify(config: Config, n: Notification) -> Result<(), Error> {
        let routing_key = secret(
            "routing_key",
            config.routing_key.as_deref(),
            config.routing_key_file.as_deref(),
        )?
        .ok_or_else(|| Error::config("one of `routing_key` and `routing_key_file` is required"))?;
        let url = config.url.as_deref().unwrap_or(DEFAULT_URL);
        let body = config.body(&routing_key, &n)?;
        post_json(url, body, &[])?;
        Ok(())
    }
}

pharos_sdk::export!(notifier: PagerDuty);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Result<Config, Error> {
        let c = pharos_sdk::parse_config::<Config>(json)?;
        c.check()?;
        Ok(c)
    }

    #[test]
    fn dedup_key_is_alertmanagers() {
        // Recorded from Alertmanager 0.25 (testdata/firing.json).
        assert_eq!(
            dedup_key("{}:{alertname=\"DiskFull\"}"),
            "17c4e445d234645c9e547ff6d32a864af0ebdadcd1902771c24c8d366637ff41"
        );
    }

    #[test]
    fn bad_configs_name_the_key() {
        let cases = [
            (r#"{}"#, "`routing_key`"),
            (
                r#"{"routing_key": "k", "routing_key_file": "/f"}"#,
                "`routing_key_file`",
            ),
            (
                r#"{"routing_key": "k", "url": "events.pagerduty.com"}"#,
                "`url`",
            ),
            (r#"{"routing_key": "k", "details": {"a": 1}}"#, "`details`"),
            (
                r#"{"routing_key": "k", "links": [{"txt": "Runbook"}]}"#,
                "`links`",
            ),
            (
                r#"{"routing_key": "k", "service_key": "v1"}"#,
                "service_key",
            ),
        ];
        for (json, key) in cases {
            let err = config(json).err().map(|e| e.message().to_owned());
            assert!(
                err.as_deref().is_some_and(|m| m.contains(key)),
                "{json}: {err:?} should name {key}"
            );
        }
        assert!(config(r#"{"routing_key_file": "/etc/pd"}"#).is_ok());
    }

    #[test]
    fn source_defaults_to_client_and_severity_to_error() {
        let n = Notification {
            receiver: "r".into(),
            status: AlertStatus::Resolved,
            alerts: Vec::new(),
            group_labels: Vec::new(),
            common_labels: Vec::new(),
            common_annotations: Vec::new(),
            group_key: "{}:{}".into(),
            truncated_alerts: 0,
            external_url: String::new(),
        };
        let body = config(r#"{"routing_key": "k", "client": "C <1>", "description": "D"}"#)
            .and_then(|c| c.body("k", &n))
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains(r#""event_action":"resolve""#), "{text}");
        assert!(
            text.contains(r#""summary":"D","source":"C \u003c1\u003e","severity":"error"}"#),
            "{text}"
        );
    }
}
