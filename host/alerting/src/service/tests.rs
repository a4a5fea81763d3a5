//! The service with a recording deliverer: retries, restarts, isolation
//! of receivers, persistence of silences and alerts.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use pharos_model::Labels;
use pharos_model::alert::{Alert, AlertSink};

use super::*;
use crate::matchers::{AmMatcher, Matchers};
use crate::silence::Silence;

/// Records deliveries; fails the first `fail` attempts per receiver, and
/// blocks forever for receiver `stuck`.
#[derive(Default)]
struct Recorder {
    fail: Mutex<BTreeMap<String, u32>>,
    permanent: bool,
    attempts: Mutex<Vec<(String, usize)>>,
    delivered: Mutex<Vec<(String, Vec<String>)>>,
}

impl Deliver for Recorder {
    fn deliver<'a>(&'a self, d: &'a Delivery) -> DeliveryFuture<'a> {
        Box::pin(async move {
            let n = &d.notification;
            self.attempts
                .lock()
                .push((n.receiver.clone(), n.alerts.len()));
            if n.receiver == "stuck" {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            let mut fail = self.fail.lock();
            if let Some(left) = fail.get_mut(&n.receiver).filter(|l| **l > 0) {
                *left -= 1;
                return Err(if self.permanent {
                    DeliveryError::Permanent("refused".into())
                } else {
                    DeliveryError::Transient {
                        message: "503".into(),
                        retry_after: None,
                    }
                });
            }
            let names = n
                .alerts
                .iter()
                .map(|a| a.labels.get("alertname").unwrap_or_default().to_owned())
                .collect();
            self.delivered.lock().push((n.receiver.clone(), names));
            Ok(())
        })
    }
}

const CONFIG: &str = r#"
[route]
receiver = "team"
group_by = ["alertname"]
group_wait = "50ms"
group_interval = "1h"
repeat_interval = "4h"

[[route.routes]]
matchers = ['team="stuck"']
receiver = "stuck"

[[receivers]]
name = "team"
notifiers = [{ plugin = "webhook", config = { url = "http://x" } }]

[[receivers]]
name = "stuck"
notifiers = [{ plugin = "webhook" }]
"#;

fn config() -> AlertingConfig {
    AlertingConfig::from_toml_str(CONFIG).expect("config")
}

fn open(dir: &Path, rec: Arc<Recorder>) -> AlertingService {
    AlertingService::open(
        &config(),
        Options {
            dir: dir.to_path_buf(),
            deliver: rec,
            send_resolved_default: Arc::new(|_| true),
            delivery_timeout: Duration::from_secs(10),
        },
    )
    .expect("open")
}

fn alert(name: &str, team: &str) -> Alert {
    Alert {
        labels: Labels::from_pairs([("alertname", name), ("team", team)]),
        annotations: Labels::empty(),
        starts_at: now_ms(),
        ends_at: Some(now_ms() + 600_000),
        generator_url: String::new(),
    }
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_exactly_one_delivery() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Arc::new(Recorder::default());
    rec.fail.lock().insert("team".into(), 2);
    let svc = open(dir.path(), rec.clone());
    svc.start();
    svc.sink().send(vec![alert("Down", "a")]);
    wait_for("a delivery", || !rec.delivered.lock().is_empty()).await;
    // Backoff 1 s then 2 s: three attempts, one delivery.
    assert_eq!(rec.attempts.lock().len(), 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        *rec.delivered.lock(),
        vec![("team".to_owned(), vec!["Down".to_owned()])]
    );
    assert_eq!(svc.pending_deliveries(), 0);
    let text = encode_metrics(&svc);
    assert!(
        text.contains("alertmanager_notifications_total{integration=\"webhook\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("alertmanager_notifications_failed_total{integration=\"webhook\"} 2"),
        "{text}"
    );
    svc.stop().await;
}

#[tokio::test]
async fn a_permanent_error_drops_the_notification() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Arc::new(Recorder {
        permanent: true,
        ..Recorder::default()
    });
    rec.fail.lock().insert("team".into(), 1);
    let svc = open(dir.path(), rec.clone());
    svc.start();
    svc.post_alerts(vec![alert("Down", "a")]);
    wait_for("an attempt", || !rec.attempts.lock().is_empty()).await;
    wait_for("the drop", || svc.pending_deliveries() == 0).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rec.attempts.lock().len(), 1);
    assert!(rec.delivered.lock().is_empty());
    let text = encode_metrics(&svc);
    assert!(
        text.contains("pharos_alerting_notifications_dropped_total{integration=\"webhook\",reason=\"permanent\"} 1"),
        "{text}"
    );
    svc.stop().await;
}

#[tokio::test]
async fn a_stuck_receiver_does_not_delay_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Arc::new(Recorder::default());
    let svc = open(dir.path(), rec.clone());
    svc.start();
    svc.sink().send(vec![alert("Stuck", "stuck")]);
    wait_for("the stuck attempt", || !rec.attempts.lock().is_empty()).await;
    svc.sink().send(vec![alert("Down", "a")]);
    wait_for("the other delivery", || !rec.delivered.lock().is_empty()).await;
    assert_eq!(rec.delivered.lock()[0].0, "team");
    svc.stop().await;
}

#[tokio::test]
async fn undelivered_notifications_silences_and_alerts_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let down = Arc::new(Recorder::default());
    down.fail.lock().insert("team".into(), u32::MAX);
    let svc = open(dir.path(), down.clone());
    svc.start();
    svc.post_alerts(vec![alert("Down", "a")]);
    wait_for("a failed attempt", || !down.attempts.lock().is_empty()).await;
    let id = svc
        .set_silence(Silence {
            id: String::new(),
            matchers: Matchers(vec![
                AmMatcher::new(pharos_model::MatchOp::Equal, "alertname", "Other").expect("m"),
            ]),
            starts_at: now_ms(),
            ends_at: now_ms() + 3_600_000,
            updated_at: 0,
            created_by: "me".into(),
            comment: "maintenance".into(),
        })
        .expect("silence");
    svc.stop().await;
    drop(svc);

    let up = Arc::new(Recorder::default());
    let svc = open(dir.path(), up.clone());
    svc.with_state(|st| {
        assert!(st.silences.get(&id).is_some(), "silence restored");
        assert_eq!(st.dispatcher.alerts().count(), 1, "alert restored");
    });
    svc.start();
    wait_for("the delivery after the restart", || {
        !up.delivered.lock().is_empty()
    })
    .await;
    // The restored group must not notify again: the notification log
    // says it was sent (the pending delivery carried it).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        *up.delivered.lock(),
        vec![("team".to_owned(), vec!["Down".to_owned()])]
    );
    svc.stop().await;
}

#[tokio::test]
async fn a_reload_keeps_alerts_and_the_notification_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = Arc::new(Recorder::default());
    let svc = open(dir.path(), rec.clone());
    svc.start();
    svc.post_alerts(vec![alert("Down", "a")]);
    wait_for("a delivery", || !rec.delivered.lock().is_empty()).await;
    let changed = CONFIG.replace("repeat_interval = \"4h\"", "repeat_interval = \"5h\"");
    svc.apply_config(&AlertingConfig::from_toml_str(&changed).expect("config"))
        .expect("reload");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rec.delivered.lock().len(), 1, "no second notification");
    assert_eq!(svc.with_state(|st| st.dispatcher.alerts().count()), 1);
    svc.stop().await;
}

fn encode_metrics(svc: &AlertingService) -> String {
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(svc.collector()));
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry).expect("encode");
    out
}
