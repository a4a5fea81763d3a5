//! The seam with rule evaluation: [`AlertQueue`] implements
//! [`AlertSink`] by queueing batches on a channel; the dispatcher's owner
//! drains them into the [`Dispatcher`](super::Dispatcher) with its clock.

use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use pharos_model::alert::{Alert, AlertSink};

use super::Dispatcher;

/// The sending half: hand it to rule evaluation and the API.
#[derive(Debug, Clone)]
pub struct AlertQueue {
    tx: UnboundedSender<Vec<Alert>>,
}

/// The receiving half, drained by the dispatcher's owner.
#[derive(Debug)]
pub struct AlertInbox {
    rx: UnboundedReceiver<Vec<Alert>>,
}

/// A connected queue and inbox.
pub fn alert_queue() -> (AlertQueue, AlertInbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    (AlertQueue { tx }, AlertInbox { rx })
}

impl AlertSink for AlertQueue {
    fn send(&self, alerts: Vec<Alert>) {
        if alerts.is_empty() {
            return;
        }
        let n = alerts.len();
        if self.tx.send(alerts).is_err() {
            tracing::warn!(alerts = n, "alert dispatcher is gone; alerts dropped");
        }
    }
}

impl AlertInbox {
    /// Moves every queued alert into the dispatcher at `now`; returns how
    /// many alerts were moved and whether all senders are gone.
    pub fn drain_into(&mut self, dispatcher: &mut Dispatcher, now: i64) -> (usize, bool) {
        let mut moved = 0;
        loop {
            match self.rx.try_recv() {
                Ok(batch) => {
                    moved += batch.len();
                    dispatcher.insert_batch(batch, now);
                }
                Err(TryRecvError::Empty) => return (moved, false),
                Err(TryRecvError::Disconnected) => return (moved, true),
            }
        }
    }

    /// The next queued batch, if one is waiting.
    pub fn try_recv(&mut self) -> Option<Vec<Alert>> {
        self.rx.try_recv().ok()
    }

    /// Waits for the next batch; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<Vec<Alert>> {
        self.rx.recv().await
    }
}
