//! Watching a server while a benchmark loads it: its resident memory
//! sampled every 100 ms (peak per measurement period), its readiness
//! endpoint polled, and whether it is still the process that was started
//! (same pid, same start time). Over a memory cap the watcher kills it, so a
//! runaway server cannot take the machine down with it.

use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::procfs;
use super::stream::one_line;

/// What the watcher saw, shared with the caller.
#[derive(Default)]
pub struct WatchStats {
    /// `VmRSS` at the last sample.
    pub rss: AtomicU64,
    /// Highest sampled `VmRSS` since the last [`WatchStats::take_peak`].
    period_peak: AtomicU64,
    /// Highest sampled `VmRSS` overall.
    pub peak: AtomicU64,
    pub ready_polls: AtomicU64,
    /// Polls not answered 2xx within the poll timeout.
    pub ready_failures: AtomicU64,
    pub ready_max_ms: AtomicU64,
    /// The process is gone or another one has its pid.
    pub lost: AtomicBool,
    /// The watcher killed the server over the memory cap.
    pub killed: AtomicBool,
    ready_errors: Mutex<Vec<(String, u64)>>,
}

impl WatchStats {
    /// The peak since the last call, and starts a new period.
    pub fn take_peak(&self) -> u64 {
        let now = self.rss.load(Ordering::Relaxed);
        self.period_peak.swap(now, Ordering::Relaxed).max(now)
    }

    /// Distinct readiness failures with their counts.
    pub fn ready_errors(&self) -> Vec<(String, u64)> {
        self.ready_errors
            .lock()
            .map(|e| e.clone())
            .unwrap_or_default()
    }

    fn ready_error(&self, text: String) {
        self.ready_failures.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut errors) = self.ready_errors.lock() {
            if let Some(e) = errors.iter_mut().find(|(t, _)| *t == text) {
                e.1 += 1;
            } else if errors.len() < 10 {
                errors.push((text, 1));
            }
        }
    }
}

/// How to watch.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    pub pid: u32,
    /// The readiness URL, e.g. `http://127.0.0.1:9090/-/ready`.
    pub ready_url: String,
    pub poll_every: Duration,
    pub poll_timeout: Duration,
    /// Kill the server when its `VmRSS` passes this many bytes.
    pub kill_above: u64,
}

/// Watches until `stop` is set; runs on the calling thread (and one more
/// for the readiness polls).
pub fn watch(cfg: &WatchConfig, stats: &WatchStats, stop: &AtomicBool) -> Result<()> {
    let started = procfs::start_time(cfg.pid)?;
    let client = reqwest::blocking::Client::builder()
        .timeout(cfg.poll_timeout)
        .build()?;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) && !stats.lost.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                poll_ready(&client, &cfg.ready_url, stats);
                let ms = t0.elapsed().as_millis() as u64;
                stats.ready_max_ms.fetch_max(ms, Ordering::Relaxed);
                std::thread::sleep(cfg.poll_every.saturating_sub(t0.elapsed()));
            }
        });
        while !stop.load(Ordering::Relaxed) {
            let same = procfs::start_time(cfg.pid).is_ok_and(|t| t == started);
            match procfs::memory(cfg.pid) {
                Ok(m) if same => {
                    stats.rss.store(m.rss, Ordering::Relaxed);
                    stats.period_peak.fetch_max(m.rss, Ordering::Relaxed);
                    stats.peak.fetch_max(m.rss, Ordering::Relaxed);
                    if m.rss > cfg.kill_above && !stats.killed.swap(true, Ordering::Relaxed) {
                        eprintln!(
                            "server RSS {} MiB over the cap of {} MiB: killing it",
                            m.rss >> 20,
                            cfg.kill_above >> 20
                        );
                        let _ = Command::new("kill")
                            .arg("-KILL")
                            .arg(cfg.pid.to_string())
                            .status();
                    }
                }
                _ => {
                    stats.lost.store(true, Ordering::Relaxed);
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    Ok(())
}

fn poll_ready(client: &reqwest::blocking::Client, url: &str, stats: &WatchStats) {
    stats.ready_polls.fetch_add(1, Ordering::Relaxed);
    match client.get(url).send() {
        Ok(resp) if resp.status().is_success() => {}
        Ok(resp) => {
            let status = resp.status().as_u16();
            let text = resp.text().unwrap_or_default();
            stats.ready_error(format!("HTTP {status}: {}", one_line(&text)));
        }
        Err(e) if e.is_timeout() => stats.ready_error("no answer within the poll timeout".into()),
        Err(e) => stats.ready_error(format!("{e:#}")),
    }
}
