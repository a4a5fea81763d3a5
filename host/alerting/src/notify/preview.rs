//! `pharos check template`: a receiver's notifier configurations rendered
//! for a synthetic alert group, before any alert fires (what Alertmanager
//! users have asked for since 2016, prometheus/alertmanager#584).

use std::fmt::{self, Write as _};

use pharos_model::Labels;
use pharos_model::alert::Alert;
use serde_json::Value;

use super::data::template_data;
use super::render::{RenderError, element_schema, member_schema, render_notifier_config};
use super::templates::Templates;
use crate::config::AlertingConfig;
use crate::dispatch::Notification;
use crate::route::{RouteTree, group_key};

/// The schema keyword giving a notifier's `send_resolved` default
/// (`wit/notifier.wit`; true without it).
pub const SEND_RESOLVED_KEYWORD: &str = "x-pharos-send-resolved";

/// The labels every alert of the sample group has.
pub const SAMPLE_GROUP_LABELS: [(&str, &str); 5] = [
    ("alertname", "HighRequestLatency"),
    ("cluster", "eu-1"),
    ("job", "api"),
    ("service", "checkout"),
    ("severity", "page"),
];

/// Why a notifier's preview failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    /// The configuration has no such receiver.
    #[error("no receiver named {0:?} in [alerting]")]
    UnknownReceiver(String),
    /// The plugin's configuration schema is not available (the plugin is
    /// unknown, does not load, or its schema is not JSON).
    #[error("plugin {plugin:?}: {message}")]
    Schema {
        /// The plugin.
        plugin: String,
        /// Why.
        message: String,
    },
    /// A value does not render.
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// One notifier of the receiver, rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewEntry {
    /// Its index in the receiver's `notifiers`.
    pub index: usize,
    /// Its plugin.
    pub plugin: String,
    /// Whether it gets resolved alerts (if not, the sample's resolved
    /// alert is left out, as a delivery leaves it out).
    pub send_resolved: bool,
    /// The configuration the plugin would get (defaults filled in, every
    /// string rendered), or why there is none. The JSON Schema the config
    /// was completed with is kept for [`Preview`]'s masking of secrets.
    pub result: Result<(Value, Value), PreviewError>,
}

/// A receiver's notifiers rendered for the sample group.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// The receiver.
    pub receiver: String,
    /// The sample group (all its alerts).
    pub notification: Notification,
    /// Each notifier, in order.
    pub entries: Vec<PreviewEntry>,
}

impl Preview {
    /// Whether every notifier rendered.
    pub fn is_ok(&self) -> bool {
        self.entries.iter().all(|e| e.result.is_ok())
    }
}

fn labels(extra: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(SAMPLE_GROUP_LABELS.iter().chain(extra).copied())
}

fn annotations(instance: &str, latency: &str) -> Labels {
    Labels::from_pairs([
        (
            "summary".to_owned(),
            format!("High request latency on {instance}"),
        ),
        (
            "description".to_owned(),
            format!(
                "99th percentile latency on {instance} is {latency} (threshold 500ms) for the last 10 minutes."
            ),
        ),
        (
            "runbook_url".to_owned(),
            "https://runbooks.example.org/HighRequestLatency".to_owned(),
        ),
    ])
}

/// The synthetic group of a preview, flushed at `now` (Unix ms) to
/// `receiver`: three alerts of `HighRequestLatency` on `api-1:8080`,
/// `api-2:8080` (firing for 25 and 12 minutes) and `api-3:8080` (resolved
/// 5 minutes ago), with [`SAMPLE_GROUP_LABELS`] plus `instance`, a
/// `summary`, `description` and `runbook_url`, and a generator URL under
/// `external_url`. The group labels are those of the receiver's first
/// route's `group_by` the alerts share (all shared ones for `...`;
/// `alertname` when no route names the receiver).
pub fn sample_notification(
    cfg: &AlertingConfig,
    receiver: &str,
    external_url: &str,
    now: i64,
) -> Notification {
    let base = external_url.trim_end_matches('/');
    let generator_url = format!(
        "{base}/graph?g0.expr=histogram_quantile%280.99%2C+sum+by+%28le%2C+instance%29+%28rate%28http_request_duration_seconds_bucket%7Bjob%3D%22api%22%7D%5B5m%5D%29%29%29+%3E+0.5&g0.tab=1"
    );
    let minutes = |m: i64| now - m * 60_000;
    let alert = |instance: &str, latency: &str, started: i64, ended: Option<i64>| Alert {
        labels: labels(&[("instance", instance)]),
        annotations: annotations(instance, latency),
        starts_at: started,
        ends_at: ended,
        generator_url: generator_url.clone(),
    };
    let alerts = vec![
        alert("api-1:8080", "1.23s", minutes(25), None),
        alert("api-2:8080", "870ms", minutes(12), None),
        alert("api-3:8080", "640ms", minutes(60), Some(minutes(5))),
    ];
    let route = cfg
        .route
        .as_ref()
        .and_then(|_| RouteTree::from_config(cfg).ok());
    let found = route.as_ref().and_then(|t| {
        t.walk()
            .find(|(_, r)| r.opts.receiver == receiver)
            .map(|(id, r)| (id, r.key.clone(), r.id.clone()))
    });
    let shared = labels(&[]);
    let (group_labels, route_key, route_id) = match (&route, found) {
        (Some(tree), Some((id, key, rid))) => (tree.group_labels(id, &shared), key, rid),
        _ => (
            Labels::from_pairs([("alertname", "HighRequestLatency")]),
            "{}".to_owned(),
            "{}".to_owned(),
        ),
    };
    Notification {
        receiver: receiver.to_owned(),
        integration: 0,
        plugin: String::new(),
        group_key: group_key(&route_key, &group_labels),
        route_id,
        group_labels,
        alerts,
        at: now,
    }
}

/// Renders each notifier of `receiver` for the [`sample_notification`]:
/// its plugin's schema (`schema_of(plugin)`, from the plugin's
/// `describe()`) gives the defaults (and `send_resolved`'s, see
/// [`SEND_RESOLVED_KEYWORD`]), then every string is rendered, as before a
/// real `notify`. A notifier that fails is reported in its entry;
/// the others are still rendered.
pub fn preview(
    cfg: &AlertingConfig,
    receiver: &str,
    templates: &Templates,
    external_url: &str,
    now: i64,
    schema_of: &mut dyn FnMut(&str) -> Result<Value, String>,
) -> Result<Preview, PreviewError> {
    let r = cfg
        .receivers
        .iter()
        .find(|r| r.name.as_str() == receiver)
        .ok_or_else(|| PreviewError::UnknownReceiver(receiver.to_owned()))?;
    let notification = sample_notification(cfg, receiver, external_url, now);
    let mut entries = Vec::with_capacity(r.notifiers.len());
    for (index, n) in r.notifiers.iter().enumerate() {
        let plugin = n.plugin.value.clone();
        let schema = schema_of(&plugin).map_err(|message| PreviewError::Schema {
            plugin: plugin.clone(),
            message,
        });
        let send_resolved = n.send_resolved.unwrap_or_else(|| {
            schema
                .as_ref()
                .ok()
                .and_then(|s| s.get(SEND_RESOLVED_KEYWORD))
                .and_then(Value::as_bool)
                .unwrap_or(true)
        });
        let mut group = notification.clone();
        group.integration = index;
        group.plugin = plugin.clone();
        if !send_resolved {
            group.alerts.retain(|a| !a.resolved_at(now));
        }
        let data = template_data(&group, external_url).to_value();
        let result = schema.and_then(|schema| {
            let config = serde_json::to_value(&n.config).map_err(|e| PreviewError::Schema {
                plugin: plugin.clone(),
                message: format!("config is not JSON: {e}"),
            })?;
            let rendered = render_notifier_config(&schema, &config, templates, &data)?;
            Ok((rendered, schema))
        });
        entries.push(PreviewEntry {
            index,
            plugin,
            send_resolved,
            result,
        });
    }
    Ok(Preview {
        receiver: receiver.to_owned(),
        notification,
        entries,
    })
}

/// Key names whose values a preview prints as `<secret>` (besides those
/// whose schema says `"writeOnly": true`): the credentials and endpoints
/// the first-party plugins treat as secrets.
const SECRET_KEYS: [&str; 10] = [
    "api_key",
    "api_url",
    "auth_password",
    "auth_secret",
    "credentials",
    "password",
    "routing_key",
    "service_key",
    "token",
    "url",
];

/// Writes `value` as `path: value` lines: one line per scalar, JSON-quoted
/// strings, a multi-line string as a YAML-style block (`|` keeps its last
/// line break, `|-` says it has none), secrets masked.
fn write_value(out: &mut String, path: &str, schema: Option<&Value>, value: &Value) {
    let secret = schema
        .and_then(|s| s.get("writeOnly"))
        .and_then(Value::as_bool)
        == Some(true)
        || path
            .rsplit(['.', ']'])
            .next()
            .is_some_and(|k| SECRET_KEYS.contains(&k));
    match value {
        _ if secret && !value.is_null() => {
            let _ = writeln!(out, "  {path}: <secret>");
        }
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                write_value(out, &p, member_schema(schema, k), v);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                write_value(out, &format!("{path}[{i}]"), element_schema(schema, i), v);
            }
        }
        Value::String(s) if s.contains('\n') => {
            let body = s.strip_suffix('\n');
            let _ = writeln!(out, "  {path}: {}", if body.is_some() { "|" } else { "|-" });
            for line in body.unwrap_or(s).split('\n') {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "      {line}");
                }
            }
        }
        other => {
            let _ = writeln!(out, "  {path}: {other}");
        }
    }
}

impl fmt::Display for Preview {
    /// What `pharos check template` prints: the sample group, then each
    /// notifier's rendered configuration.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.notification;
        let firing = n.alerts.iter().filter(|a| !a.resolved_at(n.at)).count();
        writeln!(
            f,
            "Receiver {:?}, sample group {} ({} firing, {} resolved):",
            self.receiver,
            n.group_labels,
            firing,
            n.alerts.len() - firing
        )?;
        for a in &n.alerts {
            let state = if a.resolved_at(n.at) {
                "resolved"
            } else {
                "firing"
            };
            writeln!(f, "  {state:<8} {}", a.labels)?;
        }
        if self.entries.is_empty() {
            writeln!(f, "\nThe receiver has no notifiers.")?;
        }
        for e in &self.entries {
            let resolved = if e.send_resolved {
                ""
            } else {
                " (send_resolved = false: without the resolved alert)"
            };
            writeln!(f, "\nnotifiers[{}]: {}{resolved}", e.index, e.plugin)?;
            match &e.result {
                Ok((config, schema)) => {
                    let mut out = String::new();
                    write_value(&mut out, "", Some(schema), config);
                    f.write_str(&out)?;
                }
                Err(err) => writeln!(f, "  error: {err}")?,
            }
        }
        Ok(())
    }
}
