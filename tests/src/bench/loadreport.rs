//! What the load benchmark (`pharos-load-bench`) measured, the targets it
//! holds the figures against, and its report: tables on stdout and the
//! same figures as JSON.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::heavy::{HeavyQuery, Names, Outcome};
use super::procfs::{self, Memory};
use super::promtext::{Wording, status_of, wording};
use super::stream::StreamStats;
use super::table::{render, render_left};
use super::watch::WatchStats;

const MIB: f64 = 1024.0 * 1024.0;

/// The run's settings, as the report prints them.
#[derive(Clone, Debug)]
pub struct Settings {
    pub series: usize,
    pub interval: u64,
    pub batch: usize,
    pub senders: usize,
    pub rate: f64,
    pub period: u64,
    pub clients: usize,
    pub terms: usize,
    /// Only the queries whose name contains one of these, when not empty.
    pub queries: Vec<String>,
    pub query_timeout: u64,
    pub max_samples: u64,
    pub max_concurrency: u64,
    pub bytes_per_sample: u64,
    pub min_ratio: f64,
    pub ready_every_ms: u64,
    pub ready_timeout_ms: u64,
}

fn ticks_per_s() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| procfs::clock_ticks() as f64)
}

/// The counters at one moment.
#[derive(Clone, Copy, Debug)]
pub struct Snap {
    pub t: Instant,
    acked: u64,
    retries: u64,
    dropped_samples: u64,
    starved_ns: u64,
    server_ticks: u64,
    own_ticks: u64,
    rss: u64,
}

impl Snap {
    pub fn take(st: &StreamStats, w: &WatchStats, pid: u32) -> Snap {
        Snap {
            t: Instant::now(),
            acked: st.acked.load(Ordering::Relaxed),
            retries: st.retries.load(Ordering::Relaxed),
            dropped_samples: st.dropped_samples.load(Ordering::Relaxed),
            starved_ns: st.starved_ns.load(Ordering::Relaxed),
            server_ticks: procfs::cpu_ticks(pid).unwrap_or(0),
            own_ticks: procfs::own_cpu_ticks().unwrap_or(0),
            rss: w.rss.load(Ordering::Relaxed),
        }
    }
}

/// One measured period.
#[derive(Clone, Debug)]
pub struct Phase {
    pub name: &'static str,
    pub secs: f64,
    pub acked: u64,
    pub retries: u64,
    pub dropped_samples: u64,
    /// Seconds the senders waited for the generator.
    pub starved_s: f64,
    pub server_cpu_s: f64,
    /// CPU of this benchmark process (generator, senders, query clients).
    pub bench_cpu_s: f64,
    pub rss_start: u64,
    pub rss_end: u64,
    /// Highest sampled `VmRSS` in the period (and, under load, until the
    /// clients finished).
    pub rss_peak: u64,
    /// Seconds the query clients took to finish after the period.
    pub drain_s: f64,
}

impl Phase {
    pub fn between(name: &'static str, a: &Snap, b: &Snap, peak: u64) -> Phase {
        let t = ticks_per_s();
        Phase {
            name,
            secs: (b.t - a.t).as_secs_f64(),
            acked: b.acked - a.acked,
            retries: b.retries - a.retries,
            dropped_samples: b.dropped_samples - a.dropped_samples,
            starved_s: (b.starved_ns - a.starved_ns) as f64 / 1e9,
            server_cpu_s: b.server_ticks.saturating_sub(a.server_ticks) as f64 / t,
            bench_cpu_s: b.own_ticks.saturating_sub(a.own_ticks) as f64 / t,
            rss_start: a.rss,
            rss_end: b.rss,
            rss_peak: peak.max(b.rss),
            drain_s: 0.0,
        }
    }

    /// Samples acknowledged per second.
    pub fn rate(&self) -> f64 {
        self.acked as f64 / self.secs.max(1e-9)
    }
}

/// The memory bound: what ingestion alone took, plus what the queries
/// the limits let run at once may hold.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// Peak RSS of the period alone.
    pub base: u64,
    /// RSS growth over the period alone, allowed once more for the period
    /// under load (the head keeps growing with the data).
    pub growth: u64,
    /// `max_concurrency × max_samples × bytes_per_sample`.
    pub queries: u64,
    pub total: u64,
}

impl Bound {
    pub fn from_limits(alone: &Phase, concurrency: u64, max_samples: u64, bps: u64) -> Bound {
        let growth = alone.rss_end.saturating_sub(alone.rss_start);
        let queries = concurrency.saturating_mul(max_samples).saturating_mul(bps);
        Bound {
            base: alone.rss_peak,
            growth,
            queries,
            total: alone.rss_peak + growth + queries,
        }
    }
}

/// Everything the run measured.
#[derive(Default)]
pub struct Measured {
    pub pid: u32,
    pub names: Names,
    pub mix: Vec<HeavyQuery>,
    pub phases: Vec<Phase>,
    pub outcomes: Vec<Outcome>,
    pub bound: Option<Bound>,
    /// Highest sampled `VmRSS` over the run.
    pub peak_sampled: u64,
    /// `VmRSS` and `VmHWM` at the end, before the server was stopped.
    pub memory_end: Option<Memory>,
    pub alive_end: bool,
    pub killed: bool,
    pub clean_exit: bool,
    pub ready_polls: u64,
    pub ready_failures: u64,
    pub ready_max_ms: u64,
    pub ready_errors: Vec<(String, u64)>,
    pub write_errors: Vec<(String, u64)>,
    pub notes: Vec<String>,
    pub log_tail: String,
    pub load_before: String,
}

impl Measured {
    pub fn new(pid: u32) -> Self {
        Measured {
            pid,
            ..Default::default()
        }
    }

    pub fn note(&mut self, n: String) {
        eprintln!("{n}");
        self.notes.push(n);
    }

    fn phase(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// Ingestion rate under load over the rate alone.
    pub fn ratio(&self) -> Option<f64> {
        Some(self.phase("under load")?.rate() / self.phase("alone")?.rate())
    }
}

/// The checks and the targets missed.
#[derive(Default)]
pub struct Verdict {
    /// (check, measured, target, met).
    pub checks: Vec<(String, String, String, bool)>,
    pub failures: Vec<String>,
}

impl Verdict {
    fn check(&mut self, name: &str, measured: String, target: String, ok: bool) {
        if !ok {
            self.failures
                .push(format!("{name}: {measured} (target {target})"));
        }
        self.checks.push((name.into(), measured, target, ok));
    }
}

/// An error answer's kind: its status, `errorType` and text.
type ErrorKey = (u16, String, String);

fn error_kinds(m: &Measured) -> BTreeMap<ErrorKey, (u64, Vec<usize>)> {
    let mut kinds: BTreeMap<ErrorKey, (u64, Vec<usize>)> = BTreeMap::new();
    for o in m.outcomes.iter().filter(|o| !o.error_type.is_empty()) {
        let e = kinds
            .entry((
                o.status,
                o.error_type.clone(),
                o.error.chars().take(1000).collect(),
            ))
            .or_default();
        e.0 += 1;
        if !e.1.contains(&o.query) {
            e.1.push(o.query);
        }
    }
    kinds
}

/// Whether an error answer is in Prometheus' words with Prometheus'
/// status.
fn error_ok(key: &ErrorKey) -> (Wording, bool) {
    let (status, typ, text) = key;
    let w = wording(text);
    let ok = status_of(typ) == Some(*status) && w != Wording::Different;
    (w, ok)
}

/// The `q` quantile of `d` (nearest rank), in milliseconds.
fn quantile_ms(d: &mut [Duration], q: f64) -> f64 {
    if d.is_empty() {
        return f64::NAN;
    }
    d.sort();
    let i = ((q * d.len() as f64).ceil() as usize).clamp(1, d.len()) - 1;
    d[i].as_secs_f64() * 1000.0
}

fn mib(b: u64) -> String {
    format!("{:.0}", b as f64 / MIB)
}

/// Prints the tables and returns the verdict.
pub fn print(s: &Settings, m: &Measured) -> Verdict {
    let mut v = Verdict::default();
    println!();
    println!(
        "{} series every {} s, batches of {}, {} senders, {}; periods of {} s; {} query clients; [query] timeout {} s, max_samples {}, max_concurrency {}; load average before: {}",
        s.series,
        s.interval,
        s.batch,
        s.senders,
        if s.rate > 0.0 {
            format!("offering {:.0} samples/s", s.rate)
        } else {
            "as fast as acknowledged".to_string()
        },
        s.period,
        s.clients,
        s.query_timeout,
        s.max_samples,
        s.max_concurrency,
        m.load_before
    );
    if !s.queries.is_empty() {
        println!("only the queries named like {:?}", s.queries);
    }
    println!();
    let alone = m.phase("alone").map(Phase::rate);
    let rows: Vec<Vec<String>> = m
        .phases
        .iter()
        .map(|p| {
            vec![
                p.name.to_string(),
                format!("{:.1}", p.secs),
                p.acked.to_string(),
                format!("{:.0}", p.rate()),
                alone.map_or(String::new(), |a| format!("{:.2}", p.rate() / a)),
                format!("{:.2}", p.server_cpu_s / p.secs),
                format!("{:.2}", p.bench_cpu_s / p.secs),
                p.retries.to_string(),
                p.dropped_samples.to_string(),
                format!("{:.1}", p.starved_s),
                mib(p.rss_start),
                mib(p.rss_peak),
                mib(p.rss_end),
            ]
        })
        .collect();
    println!(
        "{}",
        render(
            &[
                "ingestion",
                "s",
                "samples acked",
                "samples/s",
                "vs alone",
                "server cores",
                "bench cores",
                "retries",
                "dropped",
                "starved s",
                "RSS start MiB",
                "RSS peak MiB",
                "RSS end MiB",
            ],
            &rows
        )
    );
    print_queries(m);
    let kinds = error_kinds(m);
    print_errors(&kinds, m);
    checks(s, m, &kinds, &mut v);
    let rows: Vec<Vec<String>> = v
        .checks
        .iter()
        .map(|(c, got, target, ok)| {
            vec![
                c.clone(),
                got.clone(),
                target.clone(),
                if *ok { "ok" } else { "FAILED" }.to_string(),
            ]
        })
        .collect();
    println!(
        "{}",
        render_left(&["check", "measured", "target", ""], &rows, &[0, 1, 2])
    );
    if let Some(b) = &m.bound {
        println!(
            "RSS bound {} MiB = {} MiB peak alone + {} MiB its growth once more + {} max_concurrency x {} max_samples x {} B/sample ({} MiB)",
            mib(b.total),
            mib(b.base),
            mib(b.growth),
            s.max_concurrency,
            s.max_samples,
            s.bytes_per_sample,
            mib(b.queries)
        );
    }
    for (e, n) in &m.write_errors {
        println!("remote write answered {n}x: {e}");
    }
    for (e, n) in &m.ready_errors {
        println!("/-/ready failed {n}x: {e}");
    }
    for n in &m.notes {
        println!("note: {n}");
    }
    if !m.log_tail.is_empty() {
        println!("--- server log tail ---\n{}", m.log_tail);
    }
    v
}

fn print_queries(m: &Measured) {
    let mut rows = Vec::new();
    let mut all: Vec<Duration> = m.outcomes.iter().map(|o| o.latency).collect();
    for (i, q) in m.mix.iter().enumerate() {
        let mine: Vec<&Outcome> = m.outcomes.iter().filter(|o| o.query == i).collect();
        let n = |f: &dyn Fn(u16) -> bool| mine.iter().filter(|o| f(o.status)).count().to_string();
        let mut lat: Vec<Duration> = mine.iter().map(|o| o.latency).collect();
        rows.push(vec![
            q.name.to_string(),
            mine.len().to_string(),
            n(&|s| s == 200),
            n(&|s| s == 400),
            n(&|s| s == 422),
            n(&|s| s == 503),
            n(&|s| s != 0 && ![200, 400, 422, 503].contains(&s)),
            n(&|s| s == 0),
            format!("{:.0}", quantile_ms(&mut lat, 0.5)),
            format!("{:.0}", quantile_ms(&mut lat, 0.99)),
            format!(
                "{:.1}",
                mine.iter().map(|o| o.bytes).max().unwrap_or(0) as f64 / MIB
            ),
        ]);
    }
    let n = |f: &dyn Fn(u16) -> bool| m.outcomes.iter().filter(|o| f(o.status)).count();
    rows.push(vec![
        "all".into(),
        m.outcomes.len().to_string(),
        n(&|s| s == 200).to_string(),
        n(&|s| s == 400).to_string(),
        n(&|s| s == 422).to_string(),
        n(&|s| s == 503).to_string(),
        n(&|s| s != 0 && ![200, 400, 422, 503].contains(&s)).to_string(),
        n(&|s| s == 0).to_string(),
        format!("{:.0}", quantile_ms(&mut all, 0.5)),
        format!("{:.0}", quantile_ms(&mut all, 0.99)),
        String::new(),
    ]);
    println!(
        "{}",
        render(
            &[
                "query",
                "asked",
                "200",
                "400",
                "422",
                "503",
                "other",
                "no answer",
                "p50 ms",
                "p99 ms",
                "max MiB",
            ],
            &rows
        )
    );
}

fn print_errors(kinds: &BTreeMap<ErrorKey, (u64, Vec<usize>)>, m: &Measured) {
    let rows: Vec<Vec<String>> = kinds
        .iter()
        .map(|(key, (n, queries))| {
            let (w, ok) = error_ok(key);
            let names: Vec<&str> = queries
                .iter()
                .filter_map(|&i| m.mix.get(i).map(|q| q.name))
                .collect();
            vec![
                key.0.to_string(),
                key.1.clone(),
                n.to_string(),
                if ok { w.as_str() } else { "NOT prometheus" }.to_string(),
                key.2.chars().take(110).collect(),
                names.join(", ").chars().take(70).collect(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        println!(
            "{}",
            render(
                &[
                    "status",
                    "errorType",
                    "count",
                    "wording",
                    "error",
                    "queries"
                ],
                &rows
            )
        );
    }
}

fn checks(
    s: &Settings,
    m: &Measured,
    kinds: &BTreeMap<ErrorKey, (u64, Vec<usize>)>,
    v: &mut Verdict,
) {
    v.check(
        "server stayed up, same process",
        format!(
            "pid {}: {}",
            m.pid,
            if m.killed {
                "KILLED by the benchmark over the memory cap"
            } else if m.alive_end {
                "alive, same start time"
            } else {
                "GONE"
            }
        ),
        "alive throughout".into(),
        m.alive_end && !m.killed,
    );
    v.check(
        "/-/ready answered",
        format!(
            "{} of {} polls failed, slowest {} ms",
            m.ready_failures, m.ready_polls, m.ready_max_ms
        ),
        format!(
            "every {} ms poll within {} ms",
            s.ready_every_ms, s.ready_timeout_ms
        ),
        m.ready_failures == 0 && m.ready_polls > 0,
    );
    match m.ratio() {
        Some(r) => v.check(
            "ingestion under load / alone",
            format!("{r:.2}"),
            format!(">= {:.2}", s.min_ratio),
            r >= s.min_ratio,
        ),
        None => v.check(
            "ingestion under load / alone",
            "not measured".into(),
            format!(">= {:.2}", s.min_ratio),
            false,
        ),
    }
    let bound = m.bound.map(|b| b.total);
    let within = |rss: u64| bound.is_some_and(|b| rss <= b);
    let target = bound.map_or("?".into(), |b| format!("<= {} MiB", mib(b)));
    let hwm = m.memory_end.map_or(m.peak_sampled, |mem| mem.hwm);
    v.check(
        "peak RSS (VmHWM)",
        format!("{} MiB", mib(hwm)),
        target.clone(),
        within(hwm),
    );
    let end = m.memory_end.map(|mem| mem.rss);
    v.check(
        "RSS at the end",
        end.map_or("?".into(), |r| format!("{} MiB", mib(r))),
        target,
        end.is_some_and(within),
    );
    let unanswered = m.outcomes.iter().filter(|o| o.status == 0).count();
    v.check(
        "queries answered",
        format!("{} of {}", m.outcomes.len() - unanswered, m.outcomes.len()),
        "all, within timeout + 30 s".into(),
        unanswered == 0 && !m.outcomes.is_empty(),
    );
    let bad: Vec<&ErrorKey> = kinds
        .keys()
        .filter(|k| k.0 != 0 && !error_ok(k).1)
        .collect();
    v.check(
        "error answers in Prometheus' words and status",
        format!("{} of {} kinds differ", bad.len(), kinds.len()),
        "none differ".into(),
        bad.is_empty(),
    );
    let mut lat: Vec<Duration> = m.outcomes.iter().map(|o| o.latency).collect();
    let p50 = quantile_ms(&mut lat, 0.5);
    let p99 = quantile_ms(&mut lat, 0.99);
    v.checks.push((
        "query latency p50 / p99".into(),
        format!("{p50:.0} / {p99:.0} ms"),
        String::new(),
        true,
    ));
}

/// The report as JSON.
pub fn json(s: &Settings, m: &Measured, v: &Verdict) -> Value {
    let phases: Vec<Value> = m
        .phases
        .iter()
        .map(|p| {
            json!({
                "name": p.name, "seconds": p.secs, "samples_acked": p.acked,
                "samples_per_s": p.rate(), "retries": p.retries,
                "dropped_samples": p.dropped_samples, "starved_s": p.starved_s,
                "server_cpu_s": p.server_cpu_s, "bench_cpu_s": p.bench_cpu_s,
                "rss_start_bytes": p.rss_start, "rss_peak_bytes": p.rss_peak,
                "rss_end_bytes": p.rss_end, "clients_drain_s": p.drain_s,
            })
        })
        .collect();
    let queries: Vec<Value> = m
        .mix
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let mine: Vec<&Outcome> = m.outcomes.iter().filter(|o| o.query == i).collect();
            let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
            for o in &mine {
                *by_status.entry(o.status.to_string()).or_default() += 1;
            }
            let mut lat: Vec<Duration> = mine.iter().map(|o| o.latency).collect();
            json!({
                "name": q.name,
                "expr": q.expr.chars().take(300).collect::<String>(),
                "expr_len": q.expr.len(),
                "when": format!("{:?}", q.when),
                "asked": mine.len(),
                "by_status": by_status,
                "p50_ms": quantile_ms(&mut lat, 0.5),
                "p99_ms": quantile_ms(&mut lat, 0.99),
                "max_body_bytes": mine.iter().map(|o| o.bytes).max().unwrap_or(0),
            })
        })
        .collect();
    let errors: Vec<Value> = error_kinds(m)
        .iter()
        .map(|(key, (n, qs))| {
            let (w, ok) = error_ok(key);
            json!({
                "status": key.0, "error_type": key.1, "error": key.2, "count": n,
                "wording": w.as_str(), "prometheus_status_and_words": ok,
                "queries": qs.iter().filter_map(|&i| m.mix.get(i).map(|q| q.name)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut lat: Vec<Duration> = m.outcomes.iter().map(|o| o.latency).collect();
    json!({
        "settings": {
            "series": s.series, "interval_s": s.interval, "batch": s.batch,
            "senders": s.senders, "offered_rate": s.rate, "period_s": s.period,
            "clients": s.clients, "terms": s.terms, "queries": s.queries, "query_timeout_s": s.query_timeout,
            "max_samples": s.max_samples, "max_concurrency": s.max_concurrency,
            "bytes_per_sample": s.bytes_per_sample, "min_ratio": s.min_ratio,
        },
        "names": { "bucket": m.names.bucket, "counter": m.names.counter },
        "loadavg_before": m.load_before,
        "phases": phases,
        "ratio_under_load": m.ratio(),
        "queries": queries,
        "errors": errors,
        "latency_ms": { "p50": quantile_ms(&mut lat, 0.5), "p99": quantile_ms(&mut lat, 0.99) },
        "bound": m.bound.map(|b| json!({
            "total_bytes": b.total, "base_bytes": b.base, "growth_bytes": b.growth,
            "queries_bytes": b.queries,
        })),
        "peak_rss_sampled_bytes": m.peak_sampled,
        "vm_hwm_bytes": m.memory_end.map(|x| x.hwm),
        "rss_end_bytes": m.memory_end.map(|x| x.rss),
        "alive": m.alive_end, "killed": m.killed, "clean_exit": m.clean_exit,
        "ready": { "polls": m.ready_polls, "failures": m.ready_failures,
                   "slowest_ms": m.ready_max_ms, "errors": m.ready_errors },
        "write_errors": m.write_errors,
        "notes": m.notes,
        "checks": v.checks.iter().map(|(c, got, t, ok)| json!({
            "check": c, "measured": got, "target": t, "ok": ok,
        })).collect::<Vec<_>>(),
        "failures": v.failures,
    })
}

/// `/proc/loadavg`'s three averages: other work on the machine skews the
/// figures.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
