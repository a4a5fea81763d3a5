//! A shard: one sender task of a queue. It takes samples from the reader,
//! cuts batches of `max_samples_per_send` (or whatever it has once the
//! oldest queued sample waited `batch_send_deadline`), and sends one batch
//! at a time, retrying with exponential backoff from `min_backoff` to
//! `max_backoff` (or the endpoint's `Retry-After`) while the outcome is
//! worth retrying. Samples of a series always go to the same shard, so they
//! arrive in order. As in Prometheus' `shards.runShard`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pharos_config::QueueConfig;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::batch::{Pending, encode};
use crate::client::{Client, Outcome};
use crate::metrics::{Counters, add};
use crate::progress::Progress;

/// What every shard of a queue shares.
pub(crate) struct SendContext {
    pub(crate) queue: String,
    pub(crate) url: String,
    pub(crate) client: Client,
    pub(crate) cfg: QueueConfig,
    pub(crate) progress: Arc<Progress>,
    pub(crate) counters: Arc<Counters>,
    /// Becomes true when sends must be abandoned (stop deadline passed).
    pub(crate) abort: watch::Receiver<bool>,
    /// When a batch was last accepted, for resharding decisions.
    pub(crate) last_success: parking_lot::Mutex<Option<Instant>>,
}

/// The reader's end of a shard.
pub(crate) struct ShardHandle {
    pub(crate) tx: mpsc::UnboundedSender<Vec<Pending>>,
    /// Samples the shard may still take (its `capacity`); the reader
    /// takes permits before handing samples over, the shard gives them
    /// back once they are acknowledged.
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) join: JoinHandle<()>,
}

/// Starts a shard on `rt`.
pub(crate) fn spawn(
    rt: &tokio::runtime::Handle,
    ctx: Arc<SendContext>,
    capacity: usize,
) -> ShardHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    let permits = Arc::new(Semaphore::new(capacity));
    let join = rt.spawn(run(rx, permits.clone(), ctx));
    ShardHandle { tx, permits, join }
}

async fn run(
    mut rx: mpsc::UnboundedReceiver<Vec<Pending>>,
    permits: Arc<Semaphore>,
    ctx: Arc<SendContext>,
) {
    let max = usize::try_from(ctx.cfg.max_samples_per_send)
        .unwrap_or(usize::MAX)
        .max(1);
    let mut pending: Vec<Pending> = Vec::new();
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut abort = ctx.abort.clone();
    loop {
        let timer = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(samples) => {
                    if pending.is_empty() {
                        deadline = Some(tokio::time::Instant::now() + ctx.cfg.batch_send_deadline);
                    }
                    pending.extend(samples);
                    while pending.len() >= max {
                        let rest = pending.split_off(max);
                        let batch = std::mem::replace(&mut pending, rest);
                        if !send_batch(&ctx, &permits, batch).await {
                            return;
                        }
                    }
                    if pending.is_empty() {
                        deadline = None;
                    }
                }
                None => {
                    // The reader is done with this shard: flush and end.
                    while !pending.is_empty() {
                        let rest = pending.split_off(max.min(pending.len()));
                        let batch = std::mem::replace(&mut pending, rest);
                        if !send_batch(&ctx, &permits, batch).await {
                            return;
                        }
                    }
                    return;
                }
            },
            () = timer => {
                deadline = None;
                let batch = std::mem::take(&mut pending);
                if !send_batch(&ctx, &permits, batch).await {
                    return;
                }
            }
            () = crate::until_set(&mut abort) => return,
        }
    }
}

/// Sends one batch until it is accepted, refused for good, or the queue
/// aborts. Returns false on abort (the batch stays unacknowledged, so a
/// restart sends it again).
async fn send_batch(ctx: &SendContext, permits: &Semaphore, batch: Vec<Pending>) -> bool {
    if batch.is_empty() {
        return true;
    }
    let e = encode(&batch);
    drop(batch);
    let n = e.samples as u64;
    let body = bytes_of(e.body);
    let mut backoff = ctx.cfg.min_backoff;
    let mut abort = ctx.abort.clone();
    let mut attempt = 0u32;
    let outcome = loop {
        attempt += 1;
        let started = Instant::now();
        let outcome = tokio::select! {
            o = ctx.client.send(body.clone()) => o,
            () = crate::until_set(&mut abort) => break None,
        };
        ctx.counters.observe_send(started.elapsed());
        match outcome {
            Outcome::Retry {
                reason,
                retry_after,
            } => {
                let wait = retry_after.unwrap_or(backoff);
                tracing::warn!(
                    queue = %ctx.queue,
                    url = %ctx.url,
                    samples = n,
                    attempt,
                    retry_in_ms = wait.as_millis() as u64,
                    error = %reason,
                    "remote write: send failed; retrying"
                );
                add(&ctx.counters.samples_retried, n);
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = crate::until_set(&mut abort) => break None,
                }
                backoff = next_backoff(backoff, ctx.cfg.max_backoff);
            }
            done => break Some(done),
        }
    };
    permits.add_permits(e.samples);
    ctx.counters
        .samples_pending
        .fetch_sub(n as i64, Ordering::Relaxed);
    match outcome {
        None => false,
        Some(Outcome::Success) => {
            ctx.progress.done(e.records);
            add(&ctx.counters.samples_sent, n);
            add(&ctx.counters.batches_sent, 1);
            add(&ctx.counters.bytes_sent, body.len() as u64);
            ctx.counters
                .highest_sent_ts
                .fetch_max(e.max_t, Ordering::Relaxed);
            *ctx.last_success.lock() = Some(Instant::now());
            true
        }
        Some(Outcome::Fail { reason }) | Some(Outcome::Retry { reason, .. }) => {
            tracing::error!(
                queue = %ctx.queue,
                url = %ctx.url,
                samples = n,
                error = %reason,
                "remote write: non-recoverable error; dropping the batch"
            );
            ctx.progress.done(e.records);
            add(&ctx.counters.samples_failed, n);
            add(&ctx.counters.batches_failed, 1);
            true
        }
    }
}

fn bytes_of(v: Vec<u8>) -> bytes::Bytes {
    bytes::Bytes::from(v)
}

/// Doubles `cur`, up to `max`.
pub(crate) fn next_backoff(cur: Duration, max: Duration) -> Duration {
    cur.saturating_mul(2).min(max).max(cur.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let max = Duration::from_millis(500);
        let mut b = Duration::from_millis(30);
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(b.as_millis());
            b = next_backoff(b, max);
        }
        assert_eq!(seen, vec![30, 60, 120, 240, 480, 500]);
        assert_eq!(next_backoff(Duration::ZERO, max), Duration::ZERO);
    }
}
