//! Remote-write ingestion benchmark: writes the same deterministic,
//! scrape-shaped data to Pharos, Prometheus and VictoriaMetrics, one system
//! after the other on the same machine, and prints throughput, CPU, memory
//! and disk per system plus the ratios Pharos/peer.
//!
//! See `tests/bench/README.md` for how to run it and what each column means.

use anyhow::{Context, Result, bail};
use clap::Parser;
use pharos_tests::bench::procfs::{self, DirSize};
use pharos_tests::bench::send::{Corpus, SendStats, send_all};
use pharos_tests::bench::server::{Server, System};
use pharos_tests::bench::workload::Params;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Parser, Debug)]
#[command(
    about = "Remote-write the same data to Pharos, Prometheus and VictoriaMetrics and compare their cost."
)]
struct Args {
    /// Number of series.
    #[arg(long, default_value_t = 100_000)]
    series: usize,
    /// Samples per series (scrapes).
    #[arg(long, default_value_t = 120)]
    samples: usize,
    /// Scrape interval in seconds. The data ends about now and starts
    /// `samples * interval` earlier; above 3 h in total Prometheus compacts
    /// a block (e.g. `--interval 120` with 120 samples spans 4 h).
    #[arg(long, default_value_t = 15)]
    interval: u64,
    /// Scrape timestamp jitter, at most this many milliseconds either side.
    #[arg(long, default_value_t = 2)]
    jitter_ms: u64,
    /// Series per remote-write request.
    #[arg(long, default_value_t = 5_000)]
    batch: usize,
    /// Concurrent senders.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Systems to run, comma-separated: pharos, prometheus, victoria-metrics.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pharos,prometheus,victoria-metrics"
    )]
    only: Vec<String>,
    /// The Pharos binary (default: `pharos` next to this binary).
    #[arg(long)]
    pharos_bin: Option<PathBuf>,
    #[arg(long, default_value = "prometheus")]
    prometheus_bin: PathBuf,
    #[arg(long, default_value = "victoria-metrics")]
    victoria_metrics_bin: PathBuf,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Where the per-system data directories are created (default: the
    /// system temp directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Keep the data directories and logs instead of deleting them.
    #[arg(long)]
    keep: bool,
    /// Seconds to wait for a system to become ready.
    #[arg(long, default_value_t = 60)]
    ready_timeout: u64,
    /// After the last write, wait at most this many seconds for the server to
    /// go idle (its CPU meanwhile is counted).
    #[arg(long, default_value_t = 60)]
    settle_max: u64,
    /// Seconds to wait for a graceful exit after SIGTERM before killing.
    #[arg(long, default_value_t = 120)]
    stop_timeout: u64,
    /// When the data spans more than 3 h, wait at most this many seconds for
    /// Prometheus to compact its head into a block before stopping it.
    #[arg(long, default_value_t = 240)]
    compaction_wait: u64,
}

/// One system's results.
struct Row {
    system: System,
    samples: u64,
    send: SendStats,
    cpu_send_s: f64,
    cpu_total_s: f64,
    settle_s: f64,
    peak_rss: u64,
    peak_rss_sampled: u64,
    rss_after: u64,
    series_visible: Option<u64>,
    clean_exit: bool,
    disk: DirSize,
    breakdown: Vec<(String, DirSize)>,
    note: String,
    data_dir: Option<PathBuf>,
    /// `/proc/loadavg` just before the system started: other work on the
    /// machine skews every figure.
    load_before: String,
}

impl Row {
    fn ok_samples(&self) -> u64 {
        self.samples - self.send.failed_samples
    }
    fn samples_per_s(&self) -> f64 {
        self.ok_samples() as f64 / self.send.wall.as_secs_f64()
    }
    fn cpu_per_million(&self) -> f64 {
        self.cpu_total_s / (self.ok_samples() as f64 / 1e6)
    }
    fn rss_per_series(&self, series: usize) -> f64 {
        self.rss_after as f64 / series as f64
    }
    fn disk_per_sample(&self) -> f64 {
        self.disk.apparent as f64 / self.ok_samples() as f64
    }
    fn alloc_per_sample(&self) -> f64 {
        self.disk.allocated as f64 / self.ok_samples() as f64
    }
}

const MIB: f64 = 1024.0 * 1024.0;
const HOUR_MS: i64 = 3_600_000;

fn main() -> Result<()> {
    let args = Args::parse();
    if args.series == 0 || args.samples == 0 || args.concurrency == 0 || args.batch == 0 {
        bail!("--series, --samples, --batch and --concurrency must be positive");
    }
    let mut systems = Vec::new();
    for name in &args.only {
        let s = System::parse(name)?;
        if !systems.contains(&s) {
            systems.push(s);
        }
    }
    // Run in a fixed order whatever the order on the command line.
    systems.sort_by_key(|s| System::ALL.iter().position(|a| a == s));
    let ticks = procfs::clock_ticks() as f64;

    let corpus = generate(&args)?;
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for system in systems {
        eprintln!("== {}", system.name());
        match run_system(&args, system, &corpus, ticks) {
            Ok(Some(row)) => rows.push(row),
            Ok(None) => {}
            Err(e) => {
                eprintln!("{}: FAILED: {e:#}", system.name());
                failures.push(format!("{}: {e:#}", system.name()));
            }
        }
    }

    let table = render_table(&rows, args.series);
    println!();
    println!(
        "{} series x {} samples = {} samples per system, {} s interval, batches of {}, {} senders, CLK_TCK {}",
        args.series,
        args.samples,
        args.series * args.samples,
        args.interval,
        args.batch,
        args.concurrency,
        ticks
    );
    println!("{table}");
    for row in &rows {
        let top: Vec<String> = row
            .breakdown
            .iter()
            .take(4)
            .map(|(n, s)| format!("{n} {:.1} MiB", s.apparent as f64 / MIB))
            .collect();
        println!(
            "{}: {}; disk: {}; {}{}",
            row.system.name(),
            row.note,
            top.join(", "),
            if row.clean_exit {
                "clean exit"
            } else {
                "KILLED after stop timeout"
            },
            row.data_dir
                .as_ref()
                .map(|d| format!("; kept in {}", d.display()))
                .unwrap_or_default()
        );
        for e in &row.send.errors {
            println!("  {} error: {e}", row.system.name());
        }
    }
    for f in &failures {
        println!("FAILED {f}");
    }
    if let Some(path) = &args.json {
        let doc = to_json(&args, &corpus, &rows, &failures, ticks);
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {path:?}"))?;
    }
    if !failures.is_empty() {
        bail!("{} system(s) failed", failures.len());
    }
    Ok(())
}

fn generate(args: &Args) -> Result<Corpus> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("clock before 1970")?
        .as_millis() as i64;
    let interval_ms = (args.interval * 1000) as i64;
    let span_ms = interval_ms * args.samples as i64;
    Ok(Corpus::generate(Params {
        series: args.series,
        samples: args.samples,
        interval_ms,
        jitter_ms: args.jitter_ms.min(args.interval * 1000 / 4) as i64,
        batch: args.batch,
        start_ms: now_ms - span_ms,
        seed: args.seed,
    }))
}

fn run_system(args: &Args, system: System, corpus: &Corpus, ticks: f64) -> Result<Option<Row>> {
    let bin = match system {
        System::Pharos => match &args.pharos_bin {
            Some(b) => b.clone(),
            None => std::env::current_exe()
                .context("locating this binary")?
                .with_file_name("pharos"),
        },
        System::Prometheus => args.prometheus_bin.clone(),
        System::VictoriaMetrics => args.victoria_metrics_bin.clone(),
    };
    let load_before = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    eprintln!("{}: load average before: {load_before}", system.name());
    let prefix = format!("pharos-bench-{}-", system.name());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    let dir = match &args.work_dir {
        Some(w) => builder.tempdir_in(w),
        None => builder.tempdir(),
    }
    .context("creating a data directory")?;
    // Retention far beyond the data, so nothing is dropped as too old.
    let retention = match system {
        System::VictoriaMetrics => "10y",
        _ => "3650d",
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .context("building the HTTP client")?;

    let started = Server::start(system, &bin, dir.path(), retention);
    let mut server = match (started, system) {
        (Ok(s), _) => s,
        (Err(e), System::Pharos) => {
            eprintln!("SKIPPING pharos: {e:#}");
            return Ok(None);
        }
        (Err(e), _) => return Err(e),
    };
    if let Err(e) = server.wait_ready(&client, Duration::from_secs(args.ready_timeout)) {
        let msg = format!("{e:#}\n--- log tail ---\n{}", server.log_tail(15));
        if system == System::Pharos {
            eprintln!(
                "SKIPPING pharos: it did not become ready with `{} run --listen ADDR --data DIR`: {msg}",
                bin.display()
            );
            return Ok(None);
        }
        bail!("not ready: {msg}");
    }
    let pid = server.pid();

    // Sample VmRSS while the system works; VmHWM gives the exact peak.
    let stop_monitor = Arc::new(AtomicBool::new(false));
    let peak_sampled = Arc::new(AtomicU64::new(0));
    let monitor = {
        let (stop, peak) = (stop_monitor.clone(), peak_sampled.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(m) = procfs::memory(pid) {
                    peak.fetch_max(m.rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };

    let cpu0 = procfs::cpu_ticks(pid)?;
    let send = send_all(&server.base_url, corpus, args.concurrency, system.name())?;
    let cpu_send = procfs::cpu_ticks(pid)?;
    eprintln!(
        "{}: sent in {:.1} s, {} failed requests; settling",
        system.name(),
        send.wall.as_secs_f64(),
        send.failed_requests
    );
    if !server.running() {
        bail!(
            "exited during ingestion\n--- log tail ---\n{}",
            server.log_tail(15)
        );
    }
    if let Err(e) = server.flush(&client) {
        eprintln!("{}: flush failed: {e:#}", system.name());
    }
    let settle_start = Instant::now();
    settle(pid, ticks, Duration::from_secs(args.settle_max))?;
    let mut note = String::new();
    if system == System::Prometheus {
        if corpus.span_ms > 3 * HOUR_MS {
            let blocks =
                wait_for_block(&server.data_dir, Duration::from_secs(args.compaction_wait))?;
            settle(pid, ticks, Duration::from_secs(args.settle_max))?;
            note = format!("{blocks} block(s) + WAL + head chunks");
        } else {
            note = "WAL + head chunks (data spans < 3 h: no block)".to_string();
        }
    }
    let settle_s = settle_start.elapsed().as_secs_f64();
    let cpu_total = procfs::cpu_ticks(pid)?;
    let mem = procfs::memory(pid)?;
    stop_monitor.store(true, Ordering::Relaxed);
    let _ = monitor.join();

    let series_visible = match count_series(&client, &server.base_url, corpus) {
        Ok(n) => Some(n),
        Err(e) => {
            eprintln!("{}: series count query failed: {e:#}", system.name());
            None
        }
    };
    eprintln!("{}: stopping", system.name());
    let clean_exit = server.stop(Duration::from_secs(args.stop_timeout))?;
    let disk = procfs::dir_size(&server.data_dir)?;
    let breakdown = procfs::dir_breakdown(&server.data_dir)?;
    if system == System::Prometheus {
        let blocks = block_stats(&server.data_dir)?;
        if blocks.count > 0 {
            note.push_str(&format!(
                "; blocks alone: {:.3} B/sample over their {} samples",
                blocks.size.apparent as f64 / blocks.samples.max(1) as f64,
                blocks.samples
            ));
        }
    }
    if note.is_empty() {
        note = format!("{} files", disk.files);
    }
    let data_dir = if args.keep { Some(dir.keep()) } else { None };
    let samples: u64 = corpus.batch_series.iter().sum::<u64>() * corpus.scrapes.len() as u64;
    Ok(Some(Row {
        system,
        samples,
        send,
        cpu_send_s: (cpu_send - cpu0) as f64 / ticks,
        cpu_total_s: (cpu_total - cpu0) as f64 / ticks,
        settle_s,
        peak_rss: mem.hwm,
        peak_rss_sampled: peak_sampled.load(Ordering::Relaxed).max(mem.rss),
        rss_after: mem.rss,
        series_visible,
        clean_exit,
        disk,
        breakdown,
        note,
        data_dir,
        load_before,
    }))
}

/// Sends every scrape in time order. Within a scrape the batches are shared
/// among the senders; all senders finish a scrape before the next starts, so
/// each series' samples arrive in order.
/// Waits until the process has used under 2 % of a core for a whole second,
/// or `max` has passed.
fn settle(pid: u32, ticks: f64, max: Duration) -> Result<()> {
    let deadline = Instant::now() + max;
    let mut last = procfs::cpu_ticks(pid)?;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
        let now = procfs::cpu_ticks(pid)?;
        if ((now - last) as f64 / ticks) < 0.02 {
            return Ok(());
        }
        last = now;
    }
    Ok(())
}

/// Waits for Prometheus to cut a block; returns how many there are.
fn wait_for_block(data_dir: &Path, max: Duration) -> Result<usize> {
    let deadline = Instant::now() + max;
    loop {
        let blocks = block_dirs(data_dir)?.len();
        if blocks > 0 || Instant::now() > deadline {
            return Ok(blocks);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Prometheus' block directories: those with a `meta.json`.
fn block_dirs(data_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut blocks = Vec::new();
    for entry in std::fs::read_dir(data_dir).with_context(|| format!("listing {data_dir:?}"))? {
        let path = entry
            .with_context(|| format!("listing {data_dir:?}"))?
            .path();
        if path.join("meta.json").is_file() {
            blocks.push(path);
        }
    }
    Ok(blocks)
}

/// Prometheus' persistent blocks: how many, their size and the samples
/// their `meta.json` says they hold.
#[derive(Default)]
struct Blocks {
    count: usize,
    samples: u64,
    size: DirSize,
}

fn block_stats(data_dir: &Path) -> Result<Blocks> {
    let mut blocks = Blocks::default();
    for path in block_dirs(data_dir)? {
        let meta_path = path.join("meta.json");
        let text = std::fs::read_to_string(&meta_path)
            .with_context(|| format!("reading {meta_path:?}"))?;
        let meta: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {meta_path:?}"))?;
        blocks.count += 1;
        blocks.samples += meta
            .pointer("/stats/numSamples")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        blocks.size += procfs::dir_size(&path)?;
    }
    Ok(blocks)
}

/// The number of series the system shows: an instant `count` at the end of
/// the data or, where queries are not served, the length of `/api/v1/series`.
fn count_series(
    client: &reqwest::blocking::Client,
    base_url: &str,
    corpus: &Corpus,
) -> Result<u64> {
    let by_query = query_count(client, base_url, corpus.end_ms);
    let Err(query_err) = by_query else {
        return by_query;
    };
    let resp = client
        .get(format!("{base_url}/api/v1/series"))
        .query(&[
            ("match[]", "{__name__=~\".+\"}".to_string()),
            (
                "start",
                format!("{:.3}", (corpus.end_ms - corpus.span_ms) as f64 / 1000.0),
            ),
            ("end", format!("{:.3}", corpus.end_ms as f64 / 1000.0)),
        ])
        .send()
        .context("GET /api/v1/series")?;
    let status = resp.status();
    let text = resp.text().context("reading the series response")?;
    if !status.is_success() {
        bail!(
            "{query_err:#}; GET /api/v1/series: HTTP {status}: {}",
            text.trim().chars().take(300).collect::<String>()
        );
    }
    let resp: Value = serde_json::from_str(&text).context("decoding the series response")?;
    let series = resp
        .pointer("/data")
        .and_then(Value::as_array)
        .context("no data array in the series response")?;
    Ok(series.len() as u64)
}

fn query_count(client: &reqwest::blocking::Client, base_url: &str, end_ms: i64) -> Result<u64> {
    let time = format!("{:.3}", (end_ms + 1000) as f64 / 1000.0);
    let resp = client
        .get(format!("{base_url}/api/v1/query"))
        .query(&[
            ("query", "count({__name__=~\".+\"})"),
            ("time", time.as_str()),
        ])
        .send()
        .context("GET /api/v1/query")?;
    let status = resp.status();
    let text = resp.text().context("reading the query response")?;
    if !status.is_success() {
        bail!("GET /api/v1/query: HTTP {status}: {}", text.trim());
    }
    let resp: Value = serde_json::from_str(&text)
        .with_context(|| format!("decoding the query response {:?}", text.trim()))?;
    let value = resp
        .pointer("/data/result/0/value/1")
        .and_then(Value::as_str)
        .with_context(|| format!("unexpected answer {resp}"))?;
    Ok(value
        .parse::<f64>()
        .with_context(|| format!("count {value:?}"))? as u64)
}

fn render_table(rows: &[Row], series: usize) -> String {
    let header = [
        "system",
        "samples/s",
        "CPU s/M samples",
        "peak RSS MiB",
        "RSS B/series",
        "disk B/sample",
        "alloc B/sample",
        "disk MiB",
        "wall s",
        "CPU s",
        "failed req",
        "series seen",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for r in rows {
        lines.push(vec![
            r.system.name().to_string(),
            format!("{:.0}", r.samples_per_s()),
            format!("{:.3}", r.cpu_per_million()),
            format!("{:.1}", r.peak_rss as f64 / MIB),
            format!("{:.0}", r.rss_per_series(series)),
            format!("{:.3}", r.disk_per_sample()),
            format!("{:.3}", r.alloc_per_sample()),
            format!("{:.1}", r.disk.apparent as f64 / MIB),
            format!("{:.1}", r.send.wall.as_secs_f64()),
            format!("{:.1}", r.cpu_total_s),
            r.send.failed_requests.to_string(),
            r.series_visible.map_or("?".to_string(), |n| n.to_string()),
        ]);
    }
    for (peer, ratios) in ratio_rows(rows, series) {
        let mut line = vec![format!("pharos/{}", peer.name())];
        line.extend(ratios.iter().map(|(_, v)| format!("{v:.2}x")));
        line.resize(header.len(), String::new());
        lines.push(line);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| lines.iter().map(|l| l[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                if c == 0 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
            out.push('\n');
        }
    }
    out
}

/// Pharos' figures divided by each peer's, in table column order.
fn ratio_rows(rows: &[Row], series: usize) -> Vec<(System, Vec<(&'static str, f64)>)> {
    let Some(p) = rows.iter().find(|r| r.system == System::Pharos) else {
        return Vec::new();
    };
    rows.iter()
        .filter(|r| r.system != System::Pharos)
        .map(|q| {
            (
                q.system,
                vec![
                    ("samples_per_s", p.samples_per_s() / q.samples_per_s()),
                    (
                        "cpu_s_per_million_samples",
                        p.cpu_per_million() / q.cpu_per_million(),
                    ),
                    ("peak_rss", p.peak_rss as f64 / q.peak_rss as f64),
                    (
                        "rss_per_series",
                        p.rss_per_series(series) / q.rss_per_series(series),
                    ),
                    (
                        "disk_bytes_per_sample",
                        p.disk_per_sample() / q.disk_per_sample(),
                    ),
                    (
                        "allocated_bytes_per_sample",
                        p.alloc_per_sample() / q.alloc_per_sample(),
                    ),
                ],
            )
        })
        .collect()
}

fn to_json(args: &Args, corpus: &Corpus, rows: &[Row], failures: &[String], ticks: f64) -> Value {
    let systems: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "system": r.system.name(),
                "samples_sent": r.samples,
                "samples_ok": r.ok_samples(),
                "requests": r.send.requests,
                "failed_requests": r.send.failed_requests,
                "errors": r.send.errors,
                "wall_s": r.send.wall.as_secs_f64(),
                "samples_per_s": r.samples_per_s(),
                "cpu_s_during_send": r.cpu_send_s,
                "cpu_s_total": r.cpu_total_s,
                "settle_s": r.settle_s,
                "cpu_s_per_million_samples": r.cpu_per_million(),
                "peak_rss_bytes": r.peak_rss,
                "peak_rss_sampled_bytes": r.peak_rss_sampled,
                "rss_after_bytes": r.rss_after,
                "rss_bytes_per_series": r.rss_per_series(args.series),
                "disk_apparent_bytes": r.disk.apparent,
                "disk_allocated_bytes": r.disk.allocated,
                "disk_files": r.disk.files,
                "disk_bytes_per_sample": r.disk_per_sample(),
                "allocated_bytes_per_sample": r.alloc_per_sample(),
                "disk_breakdown": r.breakdown.iter().map(|(n, s)| json!({
                    "entry": n, "apparent_bytes": s.apparent, "allocated_bytes": s.allocated,
                })).collect::<Vec<_>>(),
                "series_visible": r.series_visible,
                "clean_exit": r.clean_exit,
                "note": r.note,
                "data_dir": r.data_dir,
                "loadavg_before": r.load_before,
            })
        })
        .collect();
    let ratios: Vec<Value> = ratio_rows(rows, args.series)
        .into_iter()
        .map(|(peer, rs)| {
            let mut o = serde_json::Map::new();
            o.insert("peer".into(), json!(peer.name()));
            for (k, v) in rs {
                o.insert(k.into(), json!(v));
            }
            Value::Object(o)
        })
        .collect();
    json!({
        "config": {
            "series": args.series,
            "samples_per_series": args.samples,
            "interval_s": args.interval,
            "jitter_ms": args.jitter_ms,
            "batch": args.batch,
            "concurrency": args.concurrency,
            "seed": args.seed,
            "clk_tck": ticks,
            "encoded_bytes": corpus.bytes,
            "data_end_ms": corpus.end_ms,
            "data_span_ms": corpus.span_ms,
        },
        "systems": systems,
        "ratios_pharos_over_peer": ratios,
        "failures": failures,
    })
}
