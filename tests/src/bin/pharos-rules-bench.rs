//! Rule-evaluation benchmark: the rule files promtool accepts from the
//! committed corpus (kube-prometheus mixins, awesome-prometheus-alerts),
//! evaluated by Pharos and Prometheus over the same remote-written data
//! whose metric names and labels match the rules' selectors, one system at a
//! time on this machine. Reports CPU per evaluation round, the slowest
//! group's evaluation time, failing rules, and Pharos' ratios.
//!
//! See `tests/bench/README.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use pharos_tests::bench::procfs::{clock_ticks, cpu_ticks, memory};
use pharos_tests::bench::rules::{DataSet, RuleMetrics, Selector, Selectors, corpus_files};
use pharos_tests::bench::send::send_all;
use pharos_tests::bench::server::System;
use pharos_tests::process::{Process, free_port};
use serde_json::Value;

#[derive(Parser, Debug)]
#[command(about = "Evaluate the same rules over the same data in Pharos and Prometheus.")]
struct Args {
    /// Series generated per metric name the rules select.
    #[arg(long, default_value_t = 100)]
    series_per_metric: usize,
    /// Samples per series (scrapes); the data ends when it is sent. Keep
    /// `samples * interval` under an hour: Prometheus refuses samples more
    /// than 1 h older than the newest in its head, and the rules write
    /// samples at "now" while the data is still arriving.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Seconds between samples of the data.
    #[arg(long, default_value_t = 15)]
    interval: u64,
    /// Rule evaluation interval in seconds (`evaluation_interval`).
    #[arg(long, default_value_t = 10)]
    eval_interval: u64,
    /// Seconds measured per system, after the data is loaded and
    /// `--warmup` evaluation intervals.
    #[arg(long, default_value_t = 90)]
    duration: u64,
    /// Evaluation intervals waited after loading, before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// Systems to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "pharos,prometheus")]
    only: Vec<String>,
    /// The rule corpus; the files whose recorded promtool verdict is exit
    /// status 0 are used.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Rule files to use instead of the corpus.
    #[arg(long, value_delimiter = ',')]
    rule_files: Vec<PathBuf>,
    #[arg(long, default_value = "target/release/pharos")]
    pharos_bin: PathBuf,
    #[arg(long, default_value = "prometheus")]
    prometheus_bin: PathBuf,
    /// Keep the data directories and logs (printed at the end).
    #[arg(long)]
    keep: bool,
}

/// A running system under test.
struct Running {
    base: String,
    process: Process,
    log: PathBuf,
}

/// A rule's state in `/api/v1/rules`.
#[derive(Clone, Debug)]
struct RuleState {
    health: String,
    error: String,
}

/// Key of a rule: file, group, index in the group, name.
type RuleKey = (String, String, usize, String);

struct Measured {
    system: System,
    groups: usize,
    rules: usize,
    rounds: f64,
    missed: f64,
    cpu_secs: f64,
    seconds: f64,
    slowest_group: String,
    slowest_ms: f64,
    sum_ms: f64,
    samples_per_round: f64,
    failures_per_round: f64,
    rss: u64,
    states: BTreeMap<RuleKey, RuleState>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let files = if args.rule_files.is_empty() {
        let corpus = args.corpus.clone().unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../host/rules/testdata/rulefmt/corpus")
        });
        corpus_files(&corpus)?
    } else {
        args.rule_files
            .iter()
            .map(|f| f.canonicalize().with_context(|| format!("{f:?}")))
            .collect::<Result<Vec<_>>>()?
    };
    if files.is_empty() {
        bail!("no rule files");
    }
    let work = tempfile::Builder::new()
        .prefix("pharos-rules-bench-")
        .tempdir()?;
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;

    // What the rules read, from Pharos' parser (a Pharos without data).
    let exprs = discover(&args, &files, work.path(), &client)?;
    let data = DataSet::plan(&exprs, args.series_per_metric);
    let selectors: BTreeSet<Selector> = exprs
        .iter()
        .flat_map(|e| e.selectors.iter().cloned())
        .filter(|s| !s.name.contains(':') && !s.name.starts_with("ALERTS"))
        .collect();
    eprintln!(
        "{} rule files, {} expressions, {} distinct selectors of raw data, {} metric names -> {} series x {} samples every {} s",
        files.len(),
        exprs.len(),
        selectors.len(),
        data.metrics.len(),
        data.series(),
        args.samples,
        args.interval
    );

    let mut results = Vec::new();
    for name in &args.only {
        let system = System::parse(name)?;
        eprintln!("== {}", system.name());
        match run_one(
            system,
            &args,
            &files,
            &data,
            &selectors,
            work.path(),
            &client,
        ) {
            Ok(m) => results.push(m),
            Err(e) => eprintln!("{} skipped: {e:#}", system.name()),
        }
    }
    print_table(&results, &args, files.len(), data.series());
    if args.keep {
        let kept = work.keep();
        eprintln!("data and logs kept in {kept:?}");
    }
    Ok(())
}

/// Starts a Pharos with the rule files and no data, reads every rule's
/// expression from `/api/v1/rules` and its tree from `/api/v1/parse_query`.
fn discover(
    args: &Args,
    files: &[PathBuf],
    work: &Path,
    client: &reqwest::blocking::Client,
) -> Result<Vec<Selectors>> {
    let dir = work.join("discover");
    std::fs::create_dir_all(&dir)?;
    // A long interval: this instance only parses.
    let mut r = start(System::Pharos, args, files, &dir, 3600)?;
    let rules: Value = client
        .get(format!("{}/api/v1/rules", r.base))
        .send()?
        .json()?;
    let mut out = Vec::new();
    for g in rules["data"]["groups"].as_array().into_iter().flatten() {
        for rule in g["rules"].as_array().into_iter().flatten() {
            let q = rule["query"].as_str().unwrap_or("");
            let tree: Value = client
                .post(format!("{}/api/v1/parse_query", r.base))
                .form(&[("query", q)])
                .send()?
                .json()?;
            if tree["status"] != "success" {
                bail!("parse_query {q:?}: {tree}");
            }
            out.push(Selectors::from_tree(&tree["data"]));
        }
    }
    r.process.stop(Duration::from_secs(30))?;
    if out.is_empty() {
        bail!("Pharos loaded no rules; see {:?}", r.log);
    }
    Ok(out)
}

/// Starts `system` with the rule files, evaluating every `eval_secs`.
fn start(
    system: System,
    args: &Args,
    files: &[PathBuf],
    dir: &Path,
    eval_secs: u64,
) -> Result<Running> {
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let data = dir.join("data");
    std::fs::create_dir_all(&data)?;
    let mut cmd;
    match system {
        System::Pharos => {
            let list: Vec<String> = files
                .iter()
                .map(|f| serde_json::to_string(&f.to_string_lossy()).unwrap_or_default())
                .collect();
            let config = dir.join("pharos.toml");
            std::fs::write(
                &config,
                format!(
                    "[global]\nscrape_interval = \"15s\"\nevaluation_interval = \"{eval_secs}s\"\n\n[rules]\nfiles = [\n  {}\n]\n",
                    list.join(",\n  ")
                ),
            )?;
            cmd = Command::new(&args.pharos_bin);
            cmd.arg("run")
                .arg("--listen")
                .arg(&listen)
                .arg("--data")
                .arg(&data)
                .arg("--config")
                .arg(&config);
        }
        System::Prometheus => {
            let list: Vec<String> = files
                .iter()
                .map(|f| format!("  - {}", f.display()))
                .collect();
            let config = dir.join("prometheus.yml");
            std::fs::write(
                &config,
                format!(
                    "global:\n  scrape_interval: 15s\n  evaluation_interval: {eval_secs}s\nrule_files:\n{}\n",
                    list.join("\n")
                ),
            )?;
            cmd = Command::new(&args.prometheus_bin);
            cmd.arg("--config.file")
                .arg(&config)
                .arg("--storage.tsdb.path")
                .arg(&data)
                .arg("--web.listen-address")
                .arg(&listen)
                .arg("--web.enable-remote-write-receiver");
        }
        System::VictoriaMetrics => bail!("victoria-metrics does not evaluate rules by itself"),
    }
    let log = dir.join(format!("{}.log", system.name()));
    let out = std::fs::File::create(&log)?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("starting {}", system.name()))?;
    let mut process = Process::new(child);
    let base = format!("http://{listen}");
    let client = reqwest::blocking::Client::new();
    if let Err(e) = process.wait_ready(&client, &format!("{base}/-/ready"), Duration::from_secs(60))
    {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        bail!(
            "{e:#}\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(Running { base, process, log })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn scrape_metrics(client: &reqwest::blocking::Client, base: &str) -> Result<RuleMetrics> {
    let text = client.get(format!("{base}/metrics")).send()?.text()?;
    Ok(RuleMetrics::parse(&text))
}

fn run_one(
    system: System,
    args: &Args,
    files: &[PathBuf],
    data: &DataSet,
    selectors: &BTreeSet<Selector>,
    work: &Path,
    client: &reqwest::blocking::Client,
) -> Result<Measured> {
    let dir = work.join(system.name());
    std::fs::create_dir_all(&dir)?;
    let mut r = start(system, args, files, &dir, args.eval_interval)?;
    let interval_ms = args.interval as i64 * 1000;
    let t0 = Instant::now();
    let corpus = data.encode(
        now_ms() - interval_ms * args.samples as i64,
        args.samples,
        interval_ms,
        5000,
    );
    eprintln!(
        "{}: generated {} samples ({:.1} MiB snappy) in {:.1} s",
        system.name(),
        corpus.samples(),
        corpus.bytes as f64 / (1024.0 * 1024.0),
        t0.elapsed().as_secs_f64()
    );
    let sent = send_all(&r.base, &corpus, 2, system.name())?;
    if sent.failed_requests > 0 {
        bail!(
            "{} of {} requests failed: {:?}",
            sent.failed_requests,
            sent.requests,
            sent.errors
        );
    }
    eprintln!(
        "{}: loaded in {:.1} s",
        system.name(),
        sent.wall.as_secs_f64()
    );
    drop(corpus);
    // Which selectors find data (the same data in every system).
    let (mut with_data, mut without) = (0, Vec::new());
    for s in selectors {
        let body: Value = client
            .post(format!("{}/api/v1/query", r.base))
            .form(&[("query", format!("count({})", s.text()))])
            .send()?
            .json()?;
        if body["data"]["result"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            with_data += 1;
        } else {
            without.push(s.text());
        }
    }
    eprintln!(
        "{}: {with_data} of {} selectors find data; without: {}",
        system.name(),
        selectors.len(),
        without
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("  ")
    );
    std::thread::sleep(Duration::from_secs(args.warmup * args.eval_interval));

    let ticks = clock_ticks() as f64;
    let pid = r.process.id();
    let before = scrape_metrics(client, &r.base)?;
    let cpu0 = cpu_ticks(pid)?;
    let start = Instant::now();
    let end = start + Duration::from_secs(args.duration);
    // Each group's last duration, sampled once per interval.
    let mut durations: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    while Instant::now() < end {
        let left = end.saturating_duration_since(Instant::now());
        std::thread::sleep(left.min(Duration::from_secs(args.eval_interval)));
        if !r.process.running() {
            bail!("{} exited; see {:?}", system.name(), r.log);
        }
        let m = scrape_metrics(client, &r.base)?;
        for (g, d) in m.get("prometheus_rule_group_last_duration_seconds") {
            durations.entry(g).or_default().push(d);
        }
    }
    let cpu1 = cpu_ticks(pid)?;
    let seconds = start.elapsed().as_secs_f64();
    let after = scrape_metrics(client, &r.base)?;
    let rss = memory(pid)?.rss;
    let states = rule_states(client, &r.base)?;

    let delta = |name: &str| -> BTreeMap<String, f64> {
        let b = before.get(name);
        after
            .get(name)
            .into_iter()
            .map(|(g, v)| {
                let d = v - b.get(&g).copied().unwrap_or(0.0);
                (g, d)
            })
            .collect()
    };
    let intervals = after.get("prometheus_rule_group_interval_seconds");
    let iterations = delta("prometheus_rule_group_iterations_total");
    let base_groups: Vec<f64> = iterations
        .iter()
        .filter(|(g, _)| {
            intervals
                .get(*g)
                .is_none_or(|i| (*i - args.eval_interval as f64).abs() < 1e-9)
        })
        .map(|(_, v)| *v)
        .collect();
    let rounds = base_groups.iter().sum::<f64>() / base_groups.len().max(1) as f64;
    let missed = delta("prometheus_rule_group_iterations_missed_total")
        .values()
        .sum::<f64>();
    let failures = delta("prometheus_rule_evaluation_failures_total")
        .values()
        .sum::<f64>();
    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let (slowest_group, slowest) = durations
        .iter()
        .map(|(g, v)| (g.clone(), mean(v)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or_default();
    let sum_ms = durations.values().map(mean).sum::<f64>() * 1000.0;
    let samples_per_round = after.sum("prometheus_rule_group_last_evaluation_samples");
    let rules = after.sum("prometheus_rule_group_rules") as usize;
    let groups = after.get("prometheus_rule_group_rules").len();
    r.process.stop(Duration::from_secs(60))?;
    Ok(Measured {
        system,
        groups,
        rules,
        rounds,
        missed,
        cpu_secs: (cpu1 - cpu0) as f64 / ticks,
        seconds,
        slowest_group: short_group(&slowest_group),
        slowest_ms: slowest * 1000.0,
        sum_ms,
        samples_per_round,
        failures_per_round: failures / rounds.max(1.0),
        rss,
        states,
    })
}

/// `file;group` with the file's directory dropped.
fn short_group(g: &str) -> String {
    match g.split_once(';') {
        Some((file, group)) => {
            let f = Path::new(file)
                .file_name()
                .map_or(file.to_string(), |f| f.to_string_lossy().into_owned());
            format!("{f};{group}")
        }
        None => g.to_string(),
    }
}

/// Every rule's health from `/api/v1/rules`.
fn rule_states(
    client: &reqwest::blocking::Client,
    base: &str,
) -> Result<BTreeMap<RuleKey, RuleState>> {
    let body: Value = client.get(format!("{base}/api/v1/rules")).send()?.json()?;
    let mut out = BTreeMap::new();
    for g in body["data"]["groups"].as_array().into_iter().flatten() {
        let file = g["file"].as_str().unwrap_or("");
        let file = Path::new(file)
            .file_name()
            .map_or(file.to_string(), |f| f.to_string_lossy().into_owned());
        let group = g["name"].as_str().unwrap_or("").to_string();
        for (i, rule) in g["rules"].as_array().into_iter().flatten().enumerate() {
            out.insert(
                (
                    file.clone(),
                    group.clone(),
                    i,
                    rule["name"].as_str().unwrap_or("").to_string(),
                ),
                RuleState {
                    health: rule["health"].as_str().unwrap_or("").to_string(),
                    error: rule["lastError"].as_str().unwrap_or("").to_string(),
                },
            );
        }
    }
    Ok(out)
}

fn print_table(results: &[Measured], args: &Args, files: usize, series: usize) {
    println!();
    println!(
        "{files} rule files; {series} series x {} samples every {} s; evaluation every {} s; {} s measured per system",
        args.samples, args.interval, args.eval_interval, args.duration
    );
    println!(
        "{:22} {:>6} {:>6} {:>7} {:>7} {:>13} {:>13} {:>16} {:>12} {:>9} {:>9} {:>8}  slowest group",
        "system",
        "groups",
        "rules",
        "rounds",
        "CPU s",
        "CPU ms/round",
        "slowest ms",
        "sum groups ms",
        "samples/rnd",
        "failing",
        "fail/rnd",
        "RSS MiB"
    );
    for m in results {
        let failing = m.states.values().filter(|s| s.health == "err").count();
        println!(
            "{:22} {:>6} {:>6} {:>7.1} {:>7.2} {:>13.1} {:>13.1} {:>16.1} {:>12.0} {:>9} {:>9.1} {:>8.1}  {}",
            m.system.name(),
            m.groups,
            m.rules,
            m.rounds,
            m.cpu_secs,
            m.cpu_secs * 1000.0 / m.rounds.max(1e-9),
            m.slowest_ms,
            m.sum_ms,
            m.samples_per_round,
            failing,
            m.failures_per_round,
            m.rss as f64 / (1024.0 * 1024.0),
            m.slowest_group
        );
        if m.missed > 0.0 {
            println!(
                "  {}: {} missed iterations; measured over {:.1} s",
                m.system.name(),
                m.missed,
                m.seconds
            );
        }
    }
    let p = results.iter().find(|m| m.system == System::Pharos);
    let q = results.iter().find(|m| m.system == System::Prometheus);
    let (Some(p), Some(q)) = (p, q) else { return };
    let per_round = |m: &Measured| m.cpu_secs / m.rounds.max(1e-9);
    println!(
        "{:22} {:>6} {:>6} {:>7} {:>7} {:>12.2}x {:>12.2}x {:>15.2}x {:>11.2}x {:>9} {:>9} {:>7.2}x",
        "pharos/prometheus",
        "",
        "",
        "",
        "",
        per_round(p) / per_round(q),
        p.slowest_ms / q.slowest_ms,
        p.sum_ms / q.sum_ms,
        p.samples_per_round / q.samples_per_round,
        "",
        "",
        p.rss as f64 / q.rss as f64
    );
    // Rules whose health differs.
    let mut differ = Vec::new();
    for (k, ps) in &p.states {
        let qs = q.states.get(k);
        let qh = qs.map_or("missing", |s| s.health.as_str());
        if (ps.health == "err") != (qh == "err") {
            differ.push((k, ps, qs));
        }
    }
    let missing = q
        .states
        .keys()
        .filter(|k| !p.states.contains_key(*k))
        .count();
    println!(
        "rules failing in one system only: {}{}",
        differ.len(),
        if missing > 0 {
            format!(" ({missing} of Prometheus' rules not in Pharos)")
        } else {
            String::new()
        }
    );
    for (k, ps, qs) in differ.iter().take(20) {
        println!(
            "  {};{} #{} {}: pharos {} {:?}, prometheus {} {:?}",
            k.0,
            k.1,
            k.2,
            k.3,
            ps.health,
            ps.error,
            qs.map_or("missing", |s| s.health.as_str()),
            qs.map_or("", |s| s.error.as_str())
        );
    }
    let both: BTreeSet<&str> = p
        .states
        .iter()
        .filter(|(k, s)| s.health == "err" && q.states.get(*k).is_some_and(|s| s.health == "err"))
        .map(|(_, s)| s.error.as_str())
        .take(5)
        .collect();
    if !both.is_empty() {
        println!("failing in both, e.g. (Pharos' message): {both:?}");
    }
}
