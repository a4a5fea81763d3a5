//! Sending a generated workload: the whole run rendered up front as
//! remote-write bodies ([`Corpus`]) and sent scrape by scrape by several
//! threads ([`send_all`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::workload::{Params, Workload};
use crate::remote_write::post_write;

/// The encoded run: `scrapes[s][b]` is the body of batch `b` at scrape `s`.
pub struct Corpus {
    pub scrapes: Vec<Vec<Vec<u8>>>,
    /// Series (= samples) per batch; the same at every scrape.
    pub batch_series: Vec<u64>,
    pub bytes: u64,
    /// End of the data (ms), just after the last scrape.
    pub end_ms: i64,
    pub span_ms: i64,
}

#[derive(Default)]
pub struct SendStats {
    pub requests: u64,
    pub failed_requests: u64,
    pub failed_samples: u64,
    pub errors: Vec<String>,
    pub wall: Duration,
}

impl Corpus {
    /// Renders the whole workload up front, reporting its shape on stderr.
    pub fn generate(params: Params) -> Corpus {
        let span_ms = params.interval_ms * params.samples as i64;
        let end_ms = params.start_ms + span_ms;
        let t0 = Instant::now();
        let mut workload = Workload::new(params);
        let scrapes = workload.encode();
        let bytes = scrapes.iter().flatten().map(|b| b.len() as u64).sum();
        let batch_series = workload.batch_lens().map(|n| n as u64).collect();
        eprintln!(
            "generated {} series ({} counters, {} gauges, {} histogram series; {} metric names, {} targets) x {} samples in {:.1} s: {} requests, {:.1} MiB snappy",
            workload.len(),
            workload.counters,
            workload.gauges,
            workload.histogram_series,
            workload.metric_names,
            workload.targets,
            params.samples,
            t0.elapsed().as_secs_f64(),
            scrapes.iter().map(Vec::len).sum::<usize>(),
            bytes as f64 / (1024.0 * 1024.0)
        );
        Corpus {
            scrapes,
            batch_series,
            bytes,
            end_ms,
            span_ms,
        }
    }

    /// Samples in the whole run.
    pub fn samples(&self) -> u64 {
        self.batch_series.iter().sum::<u64>() * self.scrapes.len() as u64
    }
}

/// Sends every batch of `corpus` to `base_url` with `concurrency` senders,
/// scrape by scrape (all batches of a scrape before the next one).
pub fn send_all(
    base_url: &str,
    corpus: &Corpus,
    concurrency: usize,
    name: &str,
) -> Result<SendStats> {
    let clients = (0..concurrency)
        .map(|_| {
            reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(300))
                .user_agent("pharos-ingest-bench")
                .build()
                .context("building the HTTP client")
        })
        .collect::<Result<Vec<_>>>()?;
    let next: Vec<AtomicUsize> = corpus.scrapes.iter().map(|_| AtomicUsize::new(0)).collect();
    let barrier = Barrier::new(concurrency);
    let stats = Mutex::new(SendStats::default());
    let t0 = Instant::now();
    let progress_every = corpus.scrapes.len().div_ceil(10).max(1);
    std::thread::scope(|scope| {
        for (worker, client) in clients.into_iter().enumerate() {
            let (next, barrier, stats) = (&next, &barrier, &stats);
            scope.spawn(move || {
                let mut local = SendStats::default();
                for (s, scrape) in corpus.scrapes.iter().enumerate() {
                    loop {
                        let b = next[s].fetch_add(1, Ordering::Relaxed);
                        let Some(body) = scrape.get(b) else { break };
                        local.requests += 1;
                        if let Err(e) = send_one(&client, base_url, body) {
                            local.failed_requests += 1;
                            local.failed_samples += corpus.batch_series[b];
                            if local.errors.len() < 5 {
                                local.errors.push(format!("scrape {s} batch {b}: {e:#}"));
                            }
                        }
                    }
                    barrier.wait();
                    if worker == 0 && (s + 1) % progress_every == 0 {
                        let done: u64 = corpus.batch_series.iter().sum::<u64>() * (s as u64 + 1);
                        let secs = t0.elapsed().as_secs_f64();
                        eprintln!(
                            "{name}: {}/{} scrapes, {:.1} M samples, {:.0} samples/s",
                            s + 1,
                            corpus.scrapes.len(),
                            done as f64 / 1e6,
                            done as f64 / secs
                        );
                    }
                }
                if let Ok(mut total) = stats.lock() {
                    total.requests += local.requests;
                    total.failed_requests += local.failed_requests;
                    total.failed_samples += local.failed_samples;
                    let room = 10usize.saturating_sub(total.errors.len());
                    total.errors.extend(local.errors.into_iter().take(room));
                }
            });
        }
    });
    let mut stats = stats
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a sender panicked"))?;
    stats.wall = t0.elapsed();
    Ok(stats)
}

/// One remote-write request; non-2xx answers are errors.
pub fn send_one(client: &reqwest::blocking::Client, base_url: &str, body: &[u8]) -> Result<()> {
    let (status, text) = post_write(client, base_url, body.to_vec()).context("POST")?;
    if !(200..300).contains(&status) {
        bail!(
            "HTTP {status}: {}",
            text.trim().chars().take(300).collect::<String>()
        );
    }
    Ok(())
}
