//! Pharos' Alertmanager at run time: the [`Dispatcher`] driven by the
//! clock, its state persisted in a [`Store`], and notifications delivered
//! through a [`Deliver`] implementation (the server's: notifier plugins).
//!
//! - Alerts arrive from rule evaluation through the [`AlertQueue`] of
//!   [`AlertingService::sink`] and from `POST /api/v2/alerts` through
//!   [`AlertingService::post_alerts`]; both are stored before the next
//!   flush.
//! - One task owns the clock: it moves queued alerts in, flushes the groups
//!   that are due, writes the flush's notification log entries and its
//!   notifications to the store in one transaction (flushed to disk), then
//!   hands each notification to its integration's delivery queue; and
//!   every minute forgets resolved alerts, old log entries and silences
//!   expired longer than the retention.
//! - One delivery task per receiver integration, so a slow or failing
//!   receiver never delays another. It delivers in order; a transient
//!   error is retried with exponential backoff (1 s doubling to 5 min, or
//!   the receiver's `Retry-After`), forever, so a receiver that is down
//!   for a while gets everything once it is back; a permanent or config
//!   error is logged, counted and dropped. A delivery leaves the store only
//!   once made (or dropped): after a crash, what was not confirmed is
//!   delivered again (at least once, as Alertmanager).
//! - A configuration reload keeps alerts, silences, the notification log
//!   and pending deliveries.

mod delivery;
mod metrics;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use pharos_model::alert::Alert;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

pub use metrics::AlertingCollector;

use crate::config::{AlertingConfig, ConfigError};
use crate::dispatch::{AlertInbox, AlertQueue, Dispatcher, alert_queue};
use crate::silence::{Silence, SilenceError, Silences};
use crate::store::{Delivery, Store, StoreError};
use delivery::{DeliveryQueue, QueueKey};
use metrics::Metrics;

/// How long expired silences are kept (Alertmanager's `--data.retention`).
pub const SILENCE_RETENTION_MS: i64 = 120 * 3600 * 1000;
/// How often resolved alerts, old log entries and silences are forgotten.
const GC_INTERVAL: Duration = Duration::from_secs(60);
/// The longest the clock task sleeps without looking at the groups.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// Why a delivery failed; decides what happens next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying (5xx, 429, a timeout, a connection error).
    #[error("{message}")]
    Transient {
        /// What happened.
        message: String,
        /// How long the receiver asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The receiver refused the notification; retrying will not help.
    #[error("{0}")]
    Permanent(String),
    /// The notifier's configuration is wrong (or its plugin is missing).
    #[error("{0}")]
    Config(String),
}

impl DeliveryError {
    /// The `reason` this error counts under.
    pub fn reason(&self) -> &'static str {
        match self {
            DeliveryError::Transient { .. } => "transient",
            DeliveryError::Permanent(_) => "permanent",
            DeliveryError::Config(_) => "config",
        }
    }
}

/// A boxed future of a delivery.
pub type DeliveryFuture<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;

/// Makes one delivery (renders and calls the notifier).
pub trait Deliver: Send + Sync + 'static {
    /// Delivers `d`; the service retries or drops by the error's kind.
    fn deliver<'a>(&'a self, d: &'a Delivery) -> DeliveryFuture<'a>;
}

/// The service's settings.
pub struct Options {
    /// The store's directory (`<data>/alerting`).
    pub dir: std::path::PathBuf,
    /// Where deliveries go.
    pub deliver: Arc<dyn Deliver>,
    /// `send_resolved` of a notifier that leaves it out, by plugin name.
    pub send_resolved_default: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    /// Longest time one delivery attempt may take.
    pub delivery_timeout: Duration,
}

/// The router's mutable state, as the API reads it.
pub struct State {
    /// Routing, groups, the notification log.
    pub dispatcher: Dispatcher,
    /// The silences.
    pub silences: Silences,
    /// The configuration in force.
    pub config: AlertingConfig,
}

pub(crate) struct Inner {
    state: Mutex<State>,
    store: Store,
    deliver: Arc<dyn Deliver>,
    send_resolved_default: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    delivery_timeout: Duration,
    queues: Mutex<BTreeMap<QueueKey, Arc<DeliveryQueue>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    wake: Notify,
    metrics: Metrics,
    stop: watch::Sender<bool>,
    sink: AlertQueue,
    inbox: Mutex<Option<AlertInbox>>,
    started_at: i64,
}

/// The running router. Cheap to clone.
#[derive(Clone)]
pub struct AlertingService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for AlertingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AlertingService")
    }
}

/// A starting failure.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store cannot be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The configuration is refused.
    #[error("alerting: {0}")]
    Config(#[from] ConfigError),
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl AlertingService {
    /// Opens the store, restores what it holds and applies `config`.
    /// Nothing runs until [`start`](Self::start).
    pub fn open(config: &AlertingConfig, opts: Options) -> Result<Self, StartError> {
        let store = Store::open(&opts.dir)?;
        let loaded = store.load()?;
        let now = now_ms();
        let default = opts.send_resolved_default.clone();
        let mut dispatcher = Dispatcher::with_send_resolved_defaults(config, &|p| default(p))?;
        let mut silences = Silences::new();
        for s in loaded.silences {
            let id = s.id.clone();
            if let Err(e) = silences.restore(s) {
                tracing::warn!(silence = %id, error = %e, "stored silence dropped");
            }
        }
        for (k, e) in loaded.nflog {
            dispatcher.restore_nflog(k, e);
        }
        let restored = loaded.alerts.len();
        for a in loaded.alerts {
            dispatcher.restore(a, now);
        }
        let (sink, inbox) = alert_queue();
        let service = AlertingService {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    dispatcher,
                    silences,
                    config: config.clone(),
                }),
                store,
                deliver: opts.deliver,
                send_resolved_default: opts.send_resolved_default,
                delivery_timeout: opts.delivery_timeout,
                queues: Mutex::new(BTreeMap::new()),
                workers: Mutex::new(Vec::new()),
                wake: Notify::new(),
                metrics: Metrics::default(),
                stop: watch::channel(false).0,
                sink,
                inbox: Mutex::new(Some(inbox)),
                started_at: now,
            }),
        };
        let pending = loaded.deliveries.len();
        for d in loaded.deliveries {
            service.enqueue(d);
        }
        tracing::info!(
            alerts = restored,
            deliveries = pending,
            "alerting state restored"
        );
        Ok(service)
    }

    /// Where rule evaluation hands its alerts.
    pub fn sink(&self) -> AlertQueue {
        self.inner.sink.clone()
    }

    /// When the service started, Unix ms.
    pub fn started_at(&self) -> i64 {
        self.inner.started_at
    }

    /// The metrics collector (`alertmanager_*`).
    pub fn collector(&self) -> AlertingCollector {
        AlertingCollector::new(Arc::downgrade(&self.inner))
    }

    /// Starts the clock task and the delivery tasks (on the current tokio
    /// runtime).
    pub fn start(&self) {
        let Some(inbox) = self.inner.inbox.lock().take() else {
            return;
        };
        let me = self.clone();
        let clock = tokio::spawn(async move { me.run(inbox).await });
        self.inner.workers.lock().push(clock);
        let queues: Vec<Arc<DeliveryQueue>> = self.inner.queues.lock().values().cloned().collect();
        for q in queues {
            self.spawn_worker(q);
        }
    }

    /// Stops every task; pending deliveries stay in the store.
    pub async fn stop(&self) {
        let _ = self.inner.stop.send(true);
        self.inner.wake.notify_one();
        let workers = std::mem::take(&mut *self.inner.workers.lock());
        for w in workers {
            let _ = w.await;
        }
        if let Err(e) = self.inner.store.flush() {
            tracing::error!(error = %e, "cannot flush the alerting store");
        }
    }

    /// Reads the state under its lock.
    pub fn with_state<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.inner.state.lock())
    }

    /// Applies a new configuration, keeping alerts, silences, the
    /// notification log and pending deliveries.
    pub fn apply_config(&self, config: &AlertingConfig) -> Result<(), ConfigError> {
        let default = self.inner.send_resolved_default.clone();
        let next = Dispatcher::with_send_resolved_defaults(config, &|p| default(p))?;
        let mut st = self.inner.state.lock();
        st.dispatcher.replace(next, now_ms());
        st.config = config.clone();
        drop(st);
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Takes alerts posted to the API (validated there), stores them and
    /// makes them visible at once.
    pub fn post_alerts(&self, alerts: Vec<Alert>) {
        if alerts.is_empty() {
            return;
        }
        let now = now_ms();
        self.insert(alerts, now);
        self.inner.wake.notify_one();
    }

    fn insert(&self, alerts: Vec<Alert>, now: i64) {
        let mut firing = 0;
        let mut resolved = 0;
        let mut stored = Vec::with_capacity(alerts.len());
        {
            let mut st = self.inner.state.lock();
            for a in alerts {
                if a.resolved_at(now) {
                    resolved += 1;
                } else {
                    firing += 1;
                }
                stored.push(st.dispatcher.insert(a, now).clone());
            }
        }
        self.inner.metrics.received(firing, resolved);
        if let Err(e) = self.inner.store.put_alerts(&stored) {
            tracing::error!(error = %e, alerts = stored.len(), "cannot store alerts");
        }
    }

    /// Creates or updates a silence (Alertmanager's rules, see
    /// [`Silences::set`]) and stores it before answering; returns its id.
    pub fn set_silence(&self, sil: Silence) -> Result<String, SilenceError> {
        let now = now_ms();
        let previous = sil.id.clone();
        let mut st = self.inner.state.lock();
        let id = st
            .silences
            .set(sil, now, || uuid::Uuid::new_v4().to_string())?;
        let changed: Vec<Silence> = [previous.as_str(), id.as_str()]
            .into_iter()
            .filter(|i| !i.is_empty())
            .filter_map(|i| st.silences.get(i).cloned())
            .collect();
        drop(st);
        self.persist_silences(&changed);
        self.inner.wake.notify_one();
        Ok(id)
    }

    /// Expires a silence now.
    pub fn expire_silence(&self, id: &str) -> Result<(), SilenceError> {
        let mut st = self.inner.state.lock();
        st.silences.expire(id, now_ms())?;
        let changed: Vec<Silence> = st.silences.get(id).cloned().into_iter().collect();
        drop(st);
        self.persist_silences(&changed);
        Ok(())
    }

    fn persist_silences(&self, changed: &[Silence]) {
        if let Err(e) = self.inner.store.put_silences(changed) {
            tracing::error!(error = %e, "cannot store silences");
        }
    }

    /// Deliveries waiting (for the API and tests).
    pub fn pending_deliveries(&self) -> usize {
        self.inner.store.pending_deliveries()
    }

    async fn run(self, mut inbox: AlertInbox) {
        let mut stop = self.inner.stop.subscribe();
        let mut last_gc = now_ms();
        loop {
            let now = now_ms();
            self.flush(now);
            if now.saturating_sub(last_gc) >= GC_INTERVAL.as_millis() as i64 {
                self.gc(now);
                last_gc = now;
            }
            let sleep = self
                .with_state(|st| st.dispatcher.next_flush())
                .map_or(MAX_SLEEP, |t| {
                    Duration::from_millis(u64::try_from(t.saturating_sub(now_ms())).unwrap_or(0))
                        .min(MAX_SLEEP)
                });
            tokio::select! {
                batch = inbox.recv() => match batch {
                    Some(alerts) => {
                        let mut all = alerts;
                        // Take whatever else queued up in one go.
                        while let Ok(more) = inbox_try(&mut inbox) {
                            all.extend(more);
                        }
                        self.insert(all, now_ms());
                    }
                    None => {
                        // Every sender is gone; keep flushing until told
                        // to stop.
                        tokio::select! {
                            _ = tokio::time::sleep(sleep) => {}
                            _ = stop.changed() => break,
                        }
                    }
                },
                _ = tokio::time::sleep(sleep) => {}
                _ = self.inner.wake.notified() => {}
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
        }
        // Alerts queued while stopping are kept.
        let now = now_ms();
        let mut rest = Vec::new();
        while let Ok(more) = inbox_try(&mut inbox) {
            rest.extend(more);
        }
        self.insert(rest, now);
    }

    /// Flushes the groups due at `now` and queues their notifications.
    fn flush(&self, now: i64) {
        let (made, nflog) = {
            let mut guard = self.inner.state.lock();
            let st = &mut *guard;
            let notes = st.dispatcher.flush_due(now, &st.silences);
            if notes.is_empty() {
                return;
            }
            let nflog = st.dispatcher.nflog_written_at(now);
            let made: Vec<_> = notes
                .into_iter()
                .map(|n| {
                    let config = st
                        .dispatcher
                        .receiver(&n.receiver)
                        .and_then(|r| r.get(n.integration))
                        .map(|i| serde_json::to_value(&i.config).unwrap_or_default())
                        .unwrap_or_default();
                    (n, config)
                })
                .collect();
            (made, nflog)
        };
        match self.inner.store.commit_flush(&nflog, made.clone()) {
            Ok(deliveries) => {
                for d in deliveries {
                    self.enqueue(d);
                }
            }
            Err(e) => {
                // Not stored: deliver anyway (losing only the guarantee
                // across a crash), rather than not at all.
                tracing::error!(error = %e, notifications = made.len(), "cannot store notifications; delivering without persistence");
                for (i, (notification, config)) in made.into_iter().enumerate() {
                    self.enqueue(Delivery {
                        seq: u64::MAX - i as u64,
                        notification,
                        config,
                        attempts: 0,
                    });
                }
            }
        }
    }

    fn gc(&self, now: i64) {
        let (forgotten, expired) = {
            let mut st = self.inner.state.lock();
            let before: Vec<String> = st.silences.iter().map(|s| s.id.clone()).collect();
            st.silences.gc(now, SILENCE_RETENTION_MS);
            let expired: Vec<String> = before
                .into_iter()
                .filter(|id| st.silences.get(id).is_none())
                .collect();
            (st.dispatcher.gc(now), expired)
        };
        let store = &self.inner.store;
        let result = store
            .remove_alerts(&forgotten.alerts)
            .and_then(|()| store.remove_nflog(&forgotten.nflog))
            .and_then(|()| store.remove_silences(expired.iter().map(String::as_str)));
        if let Err(e) = result {
            tracing::error!(error = %e, "cannot drop forgotten alerting state");
        }
    }

    fn enqueue(&self, d: Delivery) {
        let key: QueueKey = (d.notification.receiver.clone(), d.notification.integration);
        let (queue, new) = {
            let mut queues = self.inner.queues.lock();
            match queues.get(&key) {
                Some(q) => (q.clone(), false),
                None => {
                    let q = Arc::new(DeliveryQueue::new(key.clone(), &d.notification.plugin));
                    queues.insert(key, q.clone());
                    (q, true)
                }
            }
        };
        queue.push(d);
        // Workers start with `start`; queues made before it wait for it.
        if new && self.inner.inbox.lock().is_none() {
            self.spawn_worker(queue);
        }
    }

    fn spawn_worker(&self, queue: Arc<DeliveryQueue>) {
        if !queue.claim_worker() {
            return;
        }
        let inner = self.inner.clone();
        let stop = self.inner.stop.subscribe();
        let handle = tokio::spawn(async move {
            delivery::work(
                queue,
                inner.deliver.clone(),
                &inner.store,
                &inner.metrics,
                inner.delivery_timeout,
                stop,
            )
            .await;
        });
        self.inner.workers.lock().push(handle);
    }
}

fn inbox_try(inbox: &mut AlertInbox) -> Result<Vec<Alert>, ()> {
    inbox.try_recv().ok_or(())
}

#[cfg(test)]
mod tests;
