//! Sending alerts to external Alertmanagers (Prometheus' `notifier`):
//! every alert the rules fire or resolve gets the `alert_relabel_configs`
//! and goes, in batches of up to 256, to every Alertmanager of
//! `[[alerting.alertmanagers]]` as `POST /api/v2/alerts` with a JSON array
//! of `{labels, annotations, startsAt, endsAt, generatorURL}`, the body
//! Prometheus sends. A full queue drops its oldest alerts (counted), as
//! Prometheus; a failed send is counted and logged, not retried — the
//! rules resend firing alerts every `resend_delay`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use parking_lot::Mutex;
use pharos_config::{AlertmanagerConfig, Config};
use pharos_model::Labels;
use pharos_model::alert::{Alert, AlertSink};
use pharos_relabel::Relabel;
use serde::Serialize;
use tokio::sync::Notify;

use crate::api::rfc3339;

/// Prometheus' `--alertmanager.notification-queue-capacity`.
const QUEUE_CAPACITY: usize = 10_000;
/// Alerts per request.
const MAX_BATCH: usize = 256;

/// One Alertmanager address with its client.
struct Target {
    url: String,
    client: reqwest::Client,
    config: AlertmanagerConfig,
    sent: AtomicU64,
    errors: AtomicU64,
}

/// Counters under Prometheus' `prometheus_notifications_*` names.
#[derive(Debug, Clone, Default)]
pub struct NotifierStats {
    /// (Alertmanager URL, alerts sent, failed sends' alerts).
    pub per_alertmanager: Vec<(String, u64, u64)>,
    pub dropped: u64,
    pub queue_length: u64,
    pub queue_capacity: u64,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Alert>,
    targets: Vec<Arc<Target>>,
    relabel: Vec<Relabel>,
}

/// The sender: an [`AlertSink`] for the rule manager.
pub struct Notifier {
    state: Mutex<State>,
    wake: Notify,
    dropped: AtomicU64,
    user_agent: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PostableAlert<'a> {
    labels: &'a Labels,
    annotations: &'a Labels,
    starts_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ends_at: Option<String>,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
}

fn time(ms: i64) -> String {
    rfc3339(UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
}

impl Notifier {
    pub fn new(user_agent: String) -> Arc<Self> {
        Arc::new(Notifier {
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            dropped: AtomicU64::new(0),
            user_agent,
        })
    }

    /// Takes the Alertmanagers and relabeling of a (checked) config.
    pub fn apply(&self, config: &Config) -> anyhow::Result<()> {
        let mut targets = Vec::new();
        for am in &config.alerting.alertmanagers {
            let client = pharos_http_client::builder(&am.http, &self.user_agent)?
                .timeout(am.timeout)
                .build()?;
            for t in &am.targets {
                targets.push(Arc::new(Target {
                    url: am.alerts_url(t),
                    client: client.clone(),
                    config: am.clone(),
                    sent: AtomicU64::new(0),
                    errors: AtomicU64::new(0),
                }));
            }
        }
        let mut state = self.state.lock();
        // Keep the counters of Alertmanagers that stay.
        for t in &mut targets {
            if let Some(old) = state.targets.iter().find(|o| o.url == t.url)
                && let Some(t) = Arc::get_mut(t)
            {
                t.sent = AtomicU64::new(old.sent.load(Ordering::Relaxed));
                t.errors = AtomicU64::new(old.errors.load(Ordering::Relaxed));
            }
        }
        state.targets = targets;
        state.relabel = config.alerting.alert_relabel_configs.clone();
        Ok(())
    }

    pub fn stats(&self) -> NotifierStats {
        let s = self.state.lock();
        NotifierStats {
            per_alertmanager: s
                .targets
                .iter()
                .map(|t| {
                    (
                        t.url.clone(),
                        t.sent.load(Ordering::Relaxed),
                        t.errors.load(Ordering::Relaxed),
                    )
                })
                .collect(),
            dropped: self.dropped.load(Ordering::Relaxed),
            queue_length: s.queue.len() as u64,
            queue_capacity: QUEUE_CAPACITY as u64,
        }
    }

    /// Sends queued alerts until `stop` completes.
    pub async fn run(self: Arc<Self>, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let (batch, targets) = {
                let mut s = self.state.lock();
                let n = s.queue.len().min(MAX_BATCH);
                let batch: Vec<Alert> = s.queue.drain(..n).collect();
                (batch, s.targets.clone())
            };
            if batch.is_empty() {
                tokio::select! {
                    () = &mut stop => return,
                    () = self.wake.notified() => continue,
                }
            }
            if targets.is_empty() {
                continue;
            }
            let body: Vec<PostableAlert<'_>> = batch
                .iter()
                .map(|a| PostableAlert {
                    labels: &a.labels,
                    annotations: &a.annotations,
                    starts_at: time(a.starts_at),
                    ends_at: a.ends_at.map(time),
                    generator_url: &a.generator_url,
                })
                .collect();
            let body = match serde_json::to_vec(&body) {
                Ok(b) => bytes::Bytes::from(b),
                Err(e) => {
                    tracing::error!(error = %e, "cannot encode alerts");
                    continue;
                }
            };
            // Every Alertmanager at once, as Prometheus.
            let mut sends = tokio::task::JoinSet::new();
            for t in targets {
                sends.spawn(send(t, body.clone(), batch.len()));
            }
            while sends.join_next().await.is_some() {}
        }
    }
}

/// Posts one batch to one Alertmanager.
async fn send(t: Arc<Target>, body: bytes::Bytes, n: usize) {
    let req = t
        .client
        .post(&t.url)
        .header("Content-Type", "application/json")
        .body(body);
    let req = match pharos_http_client::authorize(req, &t.config.http) {
        Ok(r) => r,
        Err(e) => {
            t.errors.fetch_add(n as u64, Ordering::Relaxed);
            tracing::error!(alertmanager = %t.url, error = %e, "cannot send alerts");
            return;
        }
    };
    match req.send().await {
        Ok(resp) if resp.status().is_success() => {
            t.sent.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(resp) => {
            t.errors.fetch_add(n as u64, Ordering::Relaxed);
            tracing::error!(alertmanager = %t.url, status = %resp.status(), count = n, "error sending alerts");
        }
        Err(e) => {
            t.errors.fetch_add(n as u64, Ordering::Relaxed);
            tracing::error!(alertmanager = %t.url, error = %e, count = n, "error sending alerts");
        }
    }
}

impl AlertSink for Notifier {
    fn send(&self, alerts: Vec<Alert>) {
        let mut s = self.state.lock();
        if s.targets.is_empty() {
            return;
        }
        for mut a in alerts {
            if !s.relabel.is_empty() {
                match pharos_relabel::process(&a.labels, &s.relabel) {
                    Some(l) if !l.is_empty() => a.labels = l,
                    _ => continue,
                }
            }
            s.queue.push_back(a);
        }
        let over = s.queue.len().saturating_sub(QUEUE_CAPACITY);
        if over > 0 {
            s.queue.drain(..over);
            self.dropped.fetch_add(over as u64, Ordering::Relaxed);
            tracing::warn!(
                dropped = over,
                "alert notification queue full, dropping alerts"
            );
        }
        drop(s);
        self.wake.notify_one();
    }
}
