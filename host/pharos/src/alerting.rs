//! Pharos' own Alertmanager in the server: the router
//! ([`AlertingService`]) delivers through notifier plugins.
//!
//! Before each `notify` the host fills in the defaults of the plugin's
//! configuration schema and renders every string of the configuration with
//! Alertmanager's template data for the group, the default templates and
//! the operator's template files (`wit/notifier.wit`); the plugin gets
//! final text. A notifier's `send_resolved` defaults to the plugin's
//! schema keyword `"x-pharos-send-resolved"` (Alertmanager's default for
//! its kind: false for Slack and email), true without it.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use pharos_alerting::dispatch::{AlertQueue, Notification};
use pharos_alerting::fingerprint::fingerprint;
use pharos_alerting::notify::{
    SEND_RESOLVED_KEYWORD, Templates, common_pairs, render_notifier_config, template_data,
};
use pharos_alerting::service::{Deliver, DeliveryError, DeliveryFuture};
use pharos_alerting::store::Delivery;
use pharos_model::Labels;
use pharos_model::alert::{Alert, AlertSink};
use pharos_plugin_host::{
    Alert as WitAlert, AlertStatus, CallError, Label, Notification as WitNotification, PluginError,
};
use pharos_plugins::PluginSet;
use pharos_relabel::Relabel;

/// How long one `notify` call may take before it counts as a transient
/// failure (the plugin host's own call timeout applies inside it).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

/// Rule evaluation's way into the router: `[alerting]
/// alert_relabel_configs` applied first, as to the alerts sent to
/// external Alertmanagers (an alert relabeled to nothing is dropped).
pub struct RelabelingSink {
    queue: AlertQueue,
    relabel: RwLock<Vec<Relabel>>,
}

impl RelabelingSink {
    /// A sink into `queue`.
    pub fn new(queue: AlertQueue) -> Self {
        RelabelingSink {
            queue,
            relabel: RwLock::new(Vec::new()),
        }
    }

    /// Uses `relabel` from now on (start and reload).
    pub fn set_relabel(&self, relabel: Vec<Relabel>) {
        *self.relabel.write() = relabel;
    }
}

impl AlertSink for RelabelingSink {
    fn send(&self, alerts: Vec<Alert>) {
        let relabel = self.relabel.read();
        if relabel.is_empty() {
            self.queue.send(alerts);
            return;
        }
        let kept = alerts
            .into_iter()
            .filter_map(|mut a| {
                let l = pharos_relabel::process(&a.labels, &relabel).filter(|l| !l.is_empty())?;
                a.labels = l;
                Some(a)
            })
            .collect();
        self.queue.send(kept);
    }
}

/// What rendering needs, swapped whole on reload.
#[derive(Debug, Clone)]
pub struct RenderContext {
    /// Default templates and the operator's files.
    pub templates: Arc<Templates>,
    /// `.ExternalURL`.
    pub external_url: String,
}

/// Delivers notifications through the plugin set.
pub struct PluginDeliverer {
    plugins: PluginSet,
    context: RwLock<RenderContext>,
}

impl PluginDeliverer {
    /// A deliverer over `plugins`.
    pub fn new(plugins: PluginSet, context: RenderContext) -> Self {
        PluginDeliverer {
            plugins,
            context: RwLock::new(context),
        }
    }

    /// Uses new templates and external URL from now on (a reload).
    pub fn set_context(&self, context: RenderContext) {
        *self.context.write() = context;
    }

    async fn deliver_one(&self, d: &Delivery) -> Result<(), DeliveryError> {
        let n = &d.notification;
        let entry = self.plugins.get(&n.plugin).ok_or_else(|| {
            DeliveryError::Config(format!("notifier plugin {:?} is not loaded", n.plugin))
        })?;
        let schema = schema_of(&self.plugins, &n.plugin);
        let context = self.context.read().clone();
        let data = template_data(n, &context.external_url).to_value();
        let config = render_notifier_config(&schema, &d.config, &context.templates, &data)
            .map_err(|e| DeliveryError::Config(format!("rendering the configuration: {e}")))?;
        let wit = to_wit(n, &context.external_url);
        let json = config.to_string();
        entry
            .plugin
            .notify(&json, &wit)
            .await
            .map_err(delivery_error)
    }
}

impl Deliver for PluginDeliverer {
    fn deliver<'a>(&'a self, d: &'a Delivery) -> DeliveryFuture<'a> {
        Box::pin(self.deliver_one(d))
    }
}

/// A plugin's configuration schema as JSON (`{}` when it has none or it
/// does not parse).
pub fn schema_of(plugins: &PluginSet, plugin: &str) -> serde_json::Value {
    plugins
        .get(plugin)
        .and_then(|e| e.plugin.info().map(|i| i.config_schema.clone()))
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_else(|| serde_json::json!({}))
}

/// `send_resolved` of a notifier that leaves it out.
pub fn send_resolved_default(plugins: &PluginSet, plugin: &str) -> bool {
    schema_of(plugins, plugin)
        .get(SEND_RESOLVED_KEYWORD)
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(true)
}

/// The plugin host's errors, sorted by what the delivery queue does
/// next: a plugin's own error keeps its kind; a timeout is transient; a
/// sandbox refusal or a wrong kind is a configuration error; a crash is
/// permanent for this notification.
fn delivery_error(e: CallError) -> DeliveryError {
    let text = e.to_string();
    match e {
        CallError::Plugin { error, .. } => match error {
            PluginError::Transient(_) => DeliveryError::Transient {
                message: text,
                retry_after: None,
            },
            PluginError::Permanent(_) => DeliveryError::Permanent(text),
            PluginError::Config(_) => DeliveryError::Config(text),
        },
        CallError::TimedOut { .. } => DeliveryError::Transient {
            message: text,
            retry_after: None,
        },
        CallError::Denied { .. } | CallError::WrongKind { .. } => DeliveryError::Config(text),
        _ => DeliveryError::Permanent(text),
    }
}

fn wit_labels(l: &Labels) -> Vec<Label> {
    l.iter()
        .map(|l| Label {
            name: l.name.clone(),
            value: l.value.clone(),
        })
        .collect()
}

fn map_labels(m: std::collections::BTreeMap<String, String>) -> Vec<Label> {
    m.into_iter()
        .map(|(name, value)| Label { name, value })
        .collect()
}

fn as_map(l: &Labels) -> std::collections::BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

/// The notification as the `notifier` world receives it: Alertmanager's
/// webhook payload fields.
pub fn to_wit(n: &Notification, external_url: &str) -> WitNotification {
    let alerts: Vec<WitAlert> = n
        .alerts
        .iter()
        .map(|a| {
            let resolved = a.resolved_at(n.at);
            WitAlert {
                status: if resolved {
                    AlertStatus::Resolved
                } else {
                    AlertStatus::Firing
                },
                labels: wit_labels(&a.labels),
                annotations: wit_labels(&a.annotations),
                starts_at_ms: a.starts_at,
                ends_at_ms: if resolved { a.ends_at } else { None },
                generator_url: a.generator_url.clone(),
                fingerprint: fingerprint(&a.labels),
            }
        })
        .collect();
    let labels: Vec<_> = n.alerts.iter().map(|a| as_map(&a.labels)).collect();
    let annotations: Vec<_> = n.alerts.iter().map(|a| as_map(&a.annotations)).collect();
    WitNotification {
        receiver: n.receiver.clone(),
        status: if n.is_firing() {
            AlertStatus::Firing
        } else {
            AlertStatus::Resolved
        },
        alerts,
        group_labels: wit_labels(&n.group_labels),
        common_labels: map_labels(common_pairs(labels.iter())),
        common_annotations: map_labels(common_pairs(annotations.iter())),
        group_key: n.group_key.clone(),
        truncated_alerts: 0,
        external_url: external_url.trim_end_matches('/').to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wit_notification_has_alertmanagers_fields() {
        let alert = |instance: &str, ends_at: Option<i64>| Alert {
            labels: Labels::from_pairs([
                ("alertname", "DiskFull"),
                ("instance", instance),
                ("job", "node"),
                ("severity", "page"),
            ]),
            annotations: Labels::from_pairs([("summary", "full")]),
            starts_at: 1_000,
            ends_at,
            generator_url: "http://p/graph".into(),
        };
        let n = Notification {
            receiver: "team".into(),
            integration: 0,
            plugin: "webhook".into(),
            group_key: "{}:{alertname=\"DiskFull\"}".into(),
            route_id: "{}".into(),
            group_labels: Labels::from_pairs([("alertname", "DiskFull")]),
            alerts: vec![alert("db-1:9100", None), alert("db-2:9100", Some(5_000))],
            at: 9_000,
        };
        let w = to_wit(&n, "http://pharos:9090/");
        assert_eq!(w.status, AlertStatus::Firing);
        assert_eq!(w.external_url, "http://pharos:9090");
        assert_eq!(w.alerts[0].fingerprint, "196f6f40c92cfa2a");
        assert_eq!(w.alerts[0].ends_at_ms, None);
        assert_eq!(w.alerts[1].status, AlertStatus::Resolved);
        assert_eq!(w.alerts[1].ends_at_ms, Some(5_000));
        let common: Vec<&str> = w.common_labels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(common, ["alertname", "job", "severity"]);
        assert_eq!(w.common_annotations.len(), 1);
    }
}
