//! Query benchmark: loads the same day of scrape-shaped data (the ingestion
//! benchmark's workload) into Pharos, Prometheus and VictoriaMetrics, one
//! system at a time, then asks each the same fixed suite of queries and
//! prints median latencies and the ratios Pharos/peer.
//!
//! See `tests/bench/README.md`.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use pharos_tests::bench::send::{Corpus, send_all};
use pharos_tests::bench::server::{Server, System};
use pharos_tests::bench::workload::Params;
use serde_json::Value;

#[derive(Parser, Debug)]
#[command(
    about = "Ask Pharos, Prometheus and VictoriaMetrics the same queries over the same data."
)]
struct Args {
    /// Number of series.
    #[arg(long, default_value_t = 10_000)]
    series: usize,
    /// Samples per series; with the 60 s interval the default is one day.
    #[arg(long, default_value_t = 1440)]
    samples: usize,
    /// Scrape interval in seconds.
    #[arg(long, default_value_t = 60)]
    interval: u64,
    /// Timed runs per query (after one warm-up run); the median is reported.
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Systems to run, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pharos,prometheus,victoria-metrics"
    )]
    only: Vec<String>,
    #[arg(long)]
    pharos_bin: Option<PathBuf>,
    #[arg(long, default_value = "prometheus")]
    prometheus_bin: PathBuf,
    #[arg(long, default_value = "victoria-metrics")]
    victoria_metrics_bin: PathBuf,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// One query of the suite: instant at the end of the data, or a range
/// over the whole day.
struct Query {
    name: &'static str,
    expr: &'static str,
    range: bool,
}

/// `{bucket}` and `{counter}` stand for the histogram bucket and the
/// counter name with the most series in the data (picked after loading the
/// first system). Functions drop the metric name, so a selector spanning
/// several names would make `rate()` fail with duplicate label sets in all
/// three systems: each query reads one name, except the pure selectors.
const SUITE: &[Query] = &[
    Query {
        name: "rate over many series",
        expr: "rate({bucket}[5m])",
        range: false,
    },
    Query {
        name: "sum by job of rate",
        expr: "sum by (job) (rate({counter}[5m]))",
        range: false,
    },
    Query {
        name: "topk",
        expr: "topk(10, rate({bucket}[5m]))",
        range: false,
    },
    Query {
        name: "histogram_quantile",
        expr: "histogram_quantile(0.99, sum by (job, le) (rate({bucket}[5m])))",
        range: false,
    },
    Query {
        name: "regex matchers",
        expr: r#"count by (__name__) ({__name__=~"http_.*|grpc_.*", code=~"5..", method!~"GET|PUT"})"#,
        range: false,
    },
    Query {
        name: "subquery",
        expr: "max_over_time(sum by (job) (rate({counter}[5m]))[1h:1m])",
        range: false,
    },
    Query {
        name: "range: day at 60s step",
        expr: "sum by (job) (rate({bucket}[5m]))",
        range: true,
    },
    Query {
        name: "range: gauges by job",
        expr: r#"avg by (job) ({__name__=~".+_memory_bytes"})"#,
        range: true,
    },
];

struct Timing {
    median_ms: f64,
    series: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    let interval_ms = (args.interval * 1000) as i64;
    let corpus = Corpus::generate(Params {
        series: args.series,
        samples: args.samples,
        interval_ms,
        jitter_ms: 2,
        batch: 5_000,
        start_ms: now_ms - interval_ms * args.samples as i64,
        seed: args.seed,
    });
    // Ask at whole minutes a little before the end, so that every system
    // has the data (VictoriaMetrics hides the last 30 s by default).
    let end = (corpus.end_ms - 120_000) / 60_000 * 60_000;
    let start = end - 86_400_000.min(corpus.span_ms - 600_000) / 60_000 * 60_000;

    let mut systems: Vec<System> = Vec::new();
    for name in &args.only {
        let s = System::parse(name)?;
        if !systems.contains(&s) {
            systems.push(s);
        }
    }
    systems.sort_by_key(|s| System::ALL.iter().position(|a| a == s));
    let mut results: Vec<(System, Vec<Timing>)> = Vec::new();
    let mut names: Option<(String, String)> = None;
    for system in systems {
        eprintln!("== {}", system.name());
        let bin = match system {
            System::Pharos => match &args.pharos_bin {
                Some(b) => b.clone(),
                None => std::env::current_exe()?.with_file_name("pharos"),
            },
            System::Prometheus => args.prometheus_bin.clone(),
            System::VictoriaMetrics => args.victoria_metrics_bin.clone(),
        };
        let dir = tempfile::Builder::new()
            .prefix(&format!("pharos-query-bench-{}-", system.name()))
            .tempdir()?;
        let mut server = Server::start(system, &bin, dir.path(), "30d")?;
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()?;
        server.wait_ready(&client, Duration::from_secs(60))?;
        let sent = send_all(&server.base_url, &corpus, 4, system.name())?;
        if sent.failed_requests > 0 {
            bail!(
                "{}: {} requests failed: {:?}",
                system.name(),
                sent.failed_requests,
                sent.errors
            );
        }
        server.flush(&client)?;
        eprintln!(
            "{}: loaded {} samples in {:.1} s",
            system.name(),
            corpus.samples(),
            sent.wall.as_secs_f64()
        );
        if names.is_none() {
            names = Some(pick_names(&client, &server.base_url, end)?);
        }
        let (bucket, counter) = names.clone().unwrap_or_default();
        let mut timings = Vec::new();
        for q in SUITE {
            let expr = q
                .expr
                .replace("{bucket}", &bucket)
                .replace("{counter}", &counter);
            timings.push(time_query(
                &client, &server, q, &expr, start, end, args.runs,
            )?);
        }
        server.stop(Duration::from_secs(120))?;
        results.push((system, timings));
    }
    let (bucket, counter) = names.unwrap_or_default();
    print_table(&results, &args, start, end);
    println!("{{bucket}} = {bucket}, {{counter}} = {counter}");
    Ok(())
}

fn time_query(
    client: &reqwest::blocking::Client,
    server: &Server,
    q: &Query,
    expr: &str,
    start: i64,
    end: i64,
    runs: usize,
) -> Result<Timing> {
    let secs = |ms: i64| format!("{:.3}", ms as f64 / 1000.0);
    let (path, mut form) = if q.range {
        (
            "/api/v1/query_range",
            vec![
                ("query", expr.to_string()),
                ("start", secs(start)),
                ("end", secs(end)),
                ("step", "60".to_string()),
            ],
        )
    } else {
        (
            "/api/v1/query",
            vec![("query", expr.to_string()), ("time", secs(end))],
        )
    };
    if server.system == System::VictoriaMetrics {
        // Without this VictoriaMetrics answers repeats from its result cache.
        form.push(("nocache", "1".to_string()));
    }
    let url = format!("{}{path}", server.base_url);
    let mut times = Vec::with_capacity(runs);
    let mut series = 0;
    for i in 0..=runs {
        let t0 = Instant::now();
        let resp = client
            .post(&url)
            .form(&form)
            .send()
            .with_context(|| q.name)?;
        let body: Value = resp.json().with_context(|| q.name)?;
        let took = t0.elapsed();
        if body["status"] != "success" {
            bail!("{} on {}: {body}", q.name, server.system.name());
        }
        series = body["data"]["result"].as_array().map_or(0, Vec::len);
        if i > 0 {
            times.push(took.as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(Timing {
        median_ms: times[times.len() / 2],
        series,
    })
}

/// The bucket series name and the counter name with the most series.
fn pick_names(
    client: &reqwest::blocking::Client,
    base: &str,
    end: i64,
) -> Result<(String, String)> {
    let top = |re: &str| -> Result<String> {
        let q = format!("topk(1, count by (__name__) ({{__name__=~\"{re}\"}}))");
        let body: Value = client
            .post(format!("{base}/api/v1/query"))
            .form(&[
                ("query", q),
                ("time", format!("{:.3}", end as f64 / 1000.0)),
            ])
            .send()?
            .json()?;
        body["data"]["result"][0]["metric"]["__name__"]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("no series named like {re}: {body}"))
    };
    Ok((top(".+_bucket")?, top(".+_total")?))
}

fn print_table(results: &[(System, Vec<Timing>)], args: &Args, start: i64, end: i64) {
    println!();
    println!(
        "{} series x {} samples every {} s; instant queries at the end, range queries over {:.1} h at 60 s step; median of {} runs (ms), result series in brackets",
        args.series,
        args.samples,
        args.interval,
        (end - start) as f64 / 3_600_000.0,
        args.runs
    );
    let mut header = format!("{:26}", "query");
    for (s, _) in results {
        header.push_str(&format!(" {:>20}", s.name()));
    }
    let pharos = results.iter().position(|(s, _)| *s == System::Pharos);
    for (s, _) in results {
        if Some(*s) != pharos.map(|i| results[i].0) && pharos.is_some() {
            header.push_str(&format!(" {:>14}", format!("pharos/{}", short(*s))));
        }
    }
    println!("{header}");
    for (i, q) in SUITE.iter().enumerate() {
        let mut row = format!("{:26}", q.name);
        for (_, t) in results {
            row.push_str(&format!(" {:>12.2} [{:>5}]", t[i].median_ms, t[i].series));
        }
        if let Some(p) = pharos {
            for (s, t) in results {
                if *s != System::Pharos {
                    row.push_str(&format!(
                        " {:>13.2}x",
                        results[p].1[i].median_ms / t[i].median_ms
                    ));
                }
            }
        }
        println!("{row}");
    }
}

fn short(s: System) -> &'static str {
    match s {
        System::Pharos => "pharos",
        System::Prometheus => "prom",
        System::VictoriaMetrics => "vm",
    }
}
