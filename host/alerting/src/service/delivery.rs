//! One integration's delivery queue and the task that works it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::{Notify, watch};

use super::metrics::Metrics;
use super::{Deliver, DeliveryError};
use crate::store::{Delivery, Store};

/// Receiver name and integration index.
pub(crate) type QueueKey = (String, usize);

const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// `min(1s · 2^(failures-1), 5m)`.
pub(crate) fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(16);
    BACKOFF_BASE.saturating_mul(1 << exp).min(BACKOFF_MAX)
}

/// The deliveries of one integration, oldest first.
pub(crate) struct DeliveryQueue {
    key: QueueKey,
    plugin: String,
    items: Mutex<VecDeque<Delivery>>,
    ready: Notify,
    worker: AtomicBool,
}

impl DeliveryQueue {
    pub(crate) fn new(key: QueueKey, plugin: &str) -> Self {
        DeliveryQueue {
            key,
            plugin: plugin.to_owned(),
            items: Mutex::new(VecDeque::new()),
            ready: Notify::new(),
            worker: AtomicBool::new(false),
        }
    }

    pub(crate) fn push(&self, d: Delivery) {
        self.items.lock().push_back(d);
        self.ready.notify_one();
    }

    /// True for the first caller only: one worker per queue.
    pub(crate) fn claim_worker(&self) -> bool {
        !self.worker.swap(true, Ordering::SeqCst)
    }

    fn front(&self) -> Option<Delivery> {
        self.items.lock().front().cloned()
    }

    fn pop(&self, seq: u64) {
        let mut items = self.items.lock();
        if items.front().is_some_and(|d| d.seq == seq) {
            items.pop_front();
        }
    }

    fn set_attempts(&self, seq: u64, attempts: u32) {
        if let Some(d) = self.items.lock().front_mut().filter(|d| d.seq == seq) {
            d.attempts = attempts;
        }
    }
}

/// Delivers the queue's notifications in order until `stop`.
pub(crate) async fn work(
    queue: Arc<DeliveryQueue>,
    deliver: Arc<dyn Deliver>,
    store: &Store,
    metrics: &Metrics,
    timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let (receiver, integration) = (&queue.key.0, queue.key.1);
    loop {
        if *stop.borrow() {
            return;
        }
        let Some(mut d) = queue.front() else {
            tokio::select! {
                _ = queue.ready.notified() => continue,
                _ = stop.changed() => return,
            }
        };
        let started = Instant::now();
        let result = tokio::select! {
            r = tokio::time::timeout(timeout, deliver.deliver(&d)) => r.unwrap_or_else(|_| {
                Err(DeliveryError::Transient {
                    message: format!("notify timed out after {}s", timeout.as_secs_f64()),
                    retry_after: None,
                })
            }),
            _ = stop.changed() => return,
        };
        metrics.attempted(&queue.plugin, started.elapsed(), result.as_ref().err());
        match result {
            Ok(()) => {
                tracing::debug!(receiver = %receiver, integration, plugin = %queue.plugin, group = %d.notification.group_key, attempts = d.attempts + 1, "notification delivered");
                finish(&queue, store, d.seq);
            }
            Err(DeliveryError::Transient {
                message,
                retry_after,
            }) => {
                d.attempts = d.attempts.saturating_add(1);
                queue.set_attempts(d.seq, d.attempts);
                if d.seq < u64::MAX / 2
                    && let Err(e) = store.update_delivery(&d)
                {
                    tracing::warn!(error = %e, "cannot record a failed delivery attempt");
                }
                let wait = retry_after
                    .map_or_else(|| backoff(d.attempts), |r| r.min(BACKOFF_MAX))
                    .max(backoff(1));
                tracing::warn!(receiver = %receiver, integration, plugin = %queue.plugin, group = %d.notification.group_key, attempts = d.attempts, retry_in_s = wait.as_secs_f64(), error = %message, "notify failed; will retry");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => return,
                }
            }
            Err(e) => {
                tracing::error!(receiver = %receiver, integration, plugin = %queue.plugin, group = %d.notification.group_key, reason = e.reason(), error = %e, "notify failed; notification dropped");
                metrics.dropped(&queue.plugin, e.reason());
                finish(&queue, store, d.seq);
            }
        }
    }
}

fn finish(queue: &DeliveryQueue, store: &Store, seq: u64) {
    queue.pop(seq);
    // Sequence numbers from the top of the range were never stored.
    if seq < u64::MAX / 2
        && let Err(e) = store.remove_delivery(seq)
    {
        tracing::error!(error = %e, "cannot remove a made delivery; it may be made again after a restart");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(16));
        assert_eq!(backoff(100), BACKOFF_MAX);
    }
}
