//! Remote write without end: the ingestion benchmark's workload rendered
//! scrape by scrape while it is sent (the whole run would not fit in
//! memory), for as long as a run needs, with counters a caller reads at
//! the edges of its measurement periods.
//!
//! A generator thread encodes scrapes a few ahead of the senders; the
//! senders share each scrape's batches and finish a scrape before the next
//! starts, as [`super::send::send_all`] does, so every series' samples
//! arrive in order. A request answered 5xx or 429, or not answered, is
//! retried with backoff, as Prometheus' remote-write queue does; any other
//! 4xx drops the batch.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::workload::{Params, Workload};
use crate::remote_write::post_write;

/// Scrapes encoded ahead of the senders.
const AHEAD: usize = 4;
/// Longest a batch is retried before it is dropped.
const RETRY_FOR: Duration = Duration::from_secs(60);

/// Counters of a running stream, shared with the caller.
#[derive(Default)]
pub struct StreamStats {
    /// Samples acknowledged (2xx).
    pub acked: AtomicU64,
    pub requests: AtomicU64,
    /// Requests sent again after a 5xx, a 429 or no answer.
    pub retries: AtomicU64,
    /// Batches given up (4xx, or retried for too long) and their samples.
    pub dropped_requests: AtomicU64,
    pub dropped_samples: AtomicU64,
    /// Scrapes whose batches are all acknowledged or dropped.
    pub scrapes: AtomicU64,
    /// End of the data written so far (ms): the interval after the last
    /// complete scrape. 0 before the first one.
    pub data_end_ms: AtomicI64,
    /// Nanoseconds the senders waited for the generator (if large, the
    /// generator and not the server set the pace).
    pub starved_ns: AtomicU64,
    /// The first errors seen, with how often each text came.
    errors: Mutex<Vec<(String, u64)>>,
}

impl StreamStats {
    fn error(&self, text: String) {
        if let Ok(mut errors) = self.errors.lock() {
            if let Some(e) = errors.iter_mut().find(|(t, _)| *t == text) {
                e.1 += 1;
            } else if errors.len() < 20 {
                errors.push((text, 1));
            }
        }
    }

    /// Distinct error texts (retried and dropped) with their counts.
    pub fn errors(&self) -> Vec<(String, u64)> {
        self.errors.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

/// What to send and how.
#[derive(Clone, Debug)]
pub struct StreamConfig {
    pub base_url: String,
    pub params: Params,
    pub concurrency: usize,
    /// Samples per second to offer at most; 0: as fast as acknowledged.
    pub rate: f64,
}

/// Sends scrapes of `cfg.params`' workload until `stop` is set (the scrape
/// in flight is finished first). Runs on the calling thread.
pub fn stream(cfg: &StreamConfig, stats: &StreamStats, stop: &AtomicBool) -> Result<()> {
    let clients = (0..cfg.concurrency.max(1))
        .map(|_| {
            reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(120))
                .user_agent("pharos-load-bench")
                .build()
                .context("building the HTTP client")
        })
        .collect::<Result<Vec<_>>>()?;
    let params = cfg.params;
    let mut workload = Workload::new(params);
    let batch_series: Vec<u64> = workload.batch_lens().map(|n| n as u64).collect();
    let per_scrape: u64 = batch_series.iter().sum();
    let (tx, rx) = sync_channel::<Vec<Vec<u8>>>(AHEAD);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for s in 0.. {
                if tx.send(workload.next_scrape(s)).is_err() {
                    break;
                }
            }
        });
        let t0 = Instant::now();
        let mut s: u64 = 0;
        while !stop.load(Ordering::Relaxed) {
            if cfg.rate > 0.0 {
                let due = t0 + Duration::from_secs_f64((s * per_scrape) as f64 / cfg.rate);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            let waited = Instant::now();
            let Ok(scrape) = rx.recv() else { break };
            stats
                .starved_ns
                .fetch_add(waited.elapsed().as_nanos() as u64, Ordering::Relaxed);
            let next = AtomicUsize::new(0);
            std::thread::scope(|inner| {
                for client in &clients {
                    let (next, scrape, batch_series) = (&next, &scrape, &batch_series);
                    inner.spawn(move || {
                        loop {
                            let b = next.fetch_add(1, Ordering::Relaxed);
                            let Some(body) = scrape.get(b) else { break };
                            let n = batch_series.get(b).copied().unwrap_or(0);
                            send_with_retry(client, &cfg.base_url, body, n, stats, stop);
                        }
                    });
                }
            });
            s += 1;
            stats.scrapes.store(s, Ordering::Relaxed);
            let end = params.start_ms + s as i64 * params.interval_ms;
            stats.data_end_ms.store(end, Ordering::Relaxed);
        }
        // Unblocks the generator.
        drop(rx);
    });
    Ok(())
}

/// Sends one batch of `samples` samples until it is acknowledged, refused
/// for good, or has been retried for [`RETRY_FOR`].
fn send_with_retry(
    client: &reqwest::blocking::Client,
    base_url: &str,
    body: &[u8],
    samples: u64,
    stats: &StreamStats,
    stop: &AtomicBool,
) {
    let first = Instant::now();
    let mut backoff = Duration::from_millis(50);
    loop {
        stats.requests.fetch_add(1, Ordering::Relaxed);
        let (retry, text) = match post_write(client, base_url, body.to_vec()) {
            Ok((status, _)) if (200..300).contains(&status) => {
                stats.acked.fetch_add(samples, Ordering::Relaxed);
                return;
            }
            Ok((status, text)) => (
                status >= 500 || status == 429,
                format!("HTTP {status}: {}", one_line(&text)),
            ),
            Err(e) => (true, format!("{e:#}")),
        };
        stats.error(text);
        // Past the deadline, or stopping: the ordering of what follows no
        // longer matters.
        if !retry || first.elapsed() > RETRY_FOR || stop.load(Ordering::Relaxed) {
            stats.dropped_requests.fetch_add(1, Ordering::Relaxed);
            stats.dropped_samples.fetch_add(samples, Ordering::Relaxed);
            return;
        }
        stats.retries.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// The first 200 characters of a body, on one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect()
}
