//! An avalanche-like scrape target farm for the scrape benchmark: `n`
//! targets, each on its own loopback port, each exposing `m` series in the
//! Prometheus text format (gauges with six labels, values changing at every
//! scrape), served by a small HTTP/1.1 responder with keep-alive. Every
//! request is counted, so the benchmark knows how many samples a system
//! scraped.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Series per metric name, as avalanche's `--series-count` (10 names per
/// 100 series by default here).
const SERIES_PER_METRIC: usize = 10;

/// The running farm.
pub struct TargetFarm {
    /// `127.0.0.1:port` of each target.
    pub addrs: Vec<String>,
    scrapes: Arc<AtomicU64>,
    runtime: tokio::runtime::Runtime,
}

impl TargetFarm {
    /// Starts `targets` targets with `series` series each.
    pub fn start(targets: usize, series: usize) -> Result<TargetFarm> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("starting the target runtime")?;
        let scrapes = Arc::new(AtomicU64::new(0));
        let mut addrs = Vec::new();
        for t in 0..targets {
            let listener = runtime
                .block_on(TcpListener::bind("127.0.0.1:0"))
                .context("binding a target")?;
            addrs.push(listener.local_addr()?.to_string());
            let scrapes = scrapes.clone();
            runtime.spawn(async move {
                let counter = Arc::new(AtomicU64::new(0));
                while let Ok((conn, _)) = listener.accept().await {
                    let (scrapes, counter) = (scrapes.clone(), counter.clone());
                    tokio::spawn(serve(conn, t, series, scrapes, counter));
                }
            });
        }
        Ok(TargetFarm {
            addrs,
            scrapes,
            runtime,
        })
    }

    /// Requests answered so far, all targets together.
    pub fn scrapes(&self) -> u64 {
        self.scrapes.load(Ordering::Relaxed)
    }

    /// Stops serving.
    pub fn stop(self) {
        self.runtime.shutdown_background();
    }
}

async fn serve(
    mut conn: tokio::net::TcpStream,
    target: usize,
    series: usize,
    scrapes: Arc<AtomicU64>,
    counter: Arc<AtomicU64>,
) {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        // Read one request head (scrapers send no body).
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        buf.drain(..head_end);
        let round = counter.fetch_add(1, Ordering::Relaxed);
        let body = body(target, series, round);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if conn.write_all(head.as_bytes()).await.is_err()
            || conn.write_all(body.as_bytes()).await.is_err()
        {
            return;
        }
        scrapes.fetch_add(1, Ordering::Relaxed);
    }
}

/// The exposition of one target at one scrape.
pub fn body(target: usize, series: usize, round: u64) -> String {
    let mut out = String::with_capacity(series * 160);
    for i in 0..series {
        let metric = i / SERIES_PER_METRIC;
        if i % SERIES_PER_METRIC == 0 {
            let _ = writeln!(
                out,
                "# HELP avalanche_metric_{metric} A bench metric.\n# TYPE avalanche_metric_{metric} gauge"
            );
        }
        // Values change every scrape, like avalanche's.
        let v = (i as u64 * 7919 + round * 104_729 + target as u64) % 100;
        let _ = writeln!(
            out,
            "avalanche_metric_{metric}{{series_id=\"{}\",cycle_id=\"0\",label_key_0=\"label_val_{}\",label_key_1=\"label_val_{}\",label_key_2=\"label_val_{}\",label_key_3=\"label_val_3\"}} {v}",
            i % SERIES_PER_METRIC,
            i % 3,
            i % 5,
            i % 7
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_series_asked_for() {
        let b = body(1, 25, 0);
        let samples = b.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(samples, 25);
        assert_ne!(body(1, 25, 0), body(1, 25, 1));
    }
}
