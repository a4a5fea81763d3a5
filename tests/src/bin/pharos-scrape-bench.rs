//! Scrape benchmark: the same farm of avalanche-like targets (N targets × M
//! series, values changing every scrape) scraped by Pharos, Prometheus and
//! VictoriaMetrics (`-promscrape.config`) with the same job, one system at a
//! time on this machine. Reports each system's CPU per scraped sample and
//! peak RSS, and Pharos' ratios to the peers.
//!
//! See `tests/bench/README.md`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use pharos_tests::bench::procfs::{clock_ticks, cpu_ticks, memory};
use pharos_tests::bench::server::System;
use pharos_tests::bench::targets::TargetFarm;
use pharos_tests::process::{Process, free_port};

#[derive(Parser, Debug)]
#[command(about = "Scrape the same targets with Pharos, Prometheus and VictoriaMetrics.")]
struct Args {
    /// Number of targets.
    #[arg(long, default_value_t = 50)]
    targets: usize,
    /// Series per target.
    #[arg(long, default_value_t = 2000)]
    series: usize,
    /// Scrape interval in seconds.
    #[arg(long, default_value_t = 5)]
    interval: u64,
    /// Seconds measured per system, after a warm-up of three intervals.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Systems to run, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "pharos,prometheus,victoria-metrics"
    )]
    only: Vec<String>,
    #[arg(long, default_value = "target/release/pharos")]
    pharos_bin: PathBuf,
    #[arg(long, default_value = "prometheus")]
    prometheus_bin: PathBuf,
    #[arg(long, default_value = "victoria-metrics")]
    victoria_metrics_bin: PathBuf,
}

struct Measured {
    system: System,
    scrapes: u64,
    samples: u64,
    cpu_secs: f64,
    peak_rss: u64,
    seconds: f64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let farm = TargetFarm::start(args.targets, args.series)?;
    let work = tempfile::tempdir()?;
    let mut results = Vec::new();
    for name in &args.only {
        let system = System::parse(name)?;
        eprintln!("== {}", system.name());
        match run_one(system, &args, &farm, work.path()) {
            Ok(m) => results.push(m),
            Err(e) => eprintln!("{} skipped: {e:#}", system.name()),
        }
    }
    farm.stop();
    print_table(&results, &args);
    Ok(())
}

fn run_one(system: System, args: &Args, farm: &TargetFarm, work: &Path) -> Result<Measured> {
    let dir = work.join(system.name());
    std::fs::create_dir_all(&dir)?;
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let data = dir.join("data");
    let mut cmd;
    let ready;
    let targets: Vec<String> = farm.addrs.iter().map(|a| format!("'{a}'")).collect();
    let yaml = format!(
        "global:\n  scrape_interval: {i}s\n  scrape_timeout: {i}s\nscrape_configs:\n- job_name: bench\n  static_configs: [{{targets: [{}]}}]\n",
        targets.join(", "),
        i = args.interval
    );
    match system {
        System::Pharos => {
            let config = dir.join("pharos.toml");
            let list: Vec<String> = farm.addrs.iter().map(|a| format!("{a:?}")).collect();
            std::fs::write(
                &config,
                format!(
                    "[global]\nscrape_interval = \"{i}s\"\nscrape_timeout = \"{i}s\"\n\n[[scrape]]\njob = \"bench\"\ntargets = [{}]\n",
                    list.join(", "),
                    i = args.interval
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
            ready = "/-/ready";
        }
        System::Prometheus => {
            let config = dir.join("prometheus.yml");
            std::fs::write(&config, &yaml)?;
            cmd = Command::new(&args.prometheus_bin);
            cmd.arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", data.display()))
                .arg(format!("--web.listen-address={listen}"));
            ready = "/-/ready";
        }
        System::VictoriaMetrics => {
            let config = dir.join("scrape.yml");
            std::fs::write(&config, &yaml)?;
            cmd = Command::new(&args.victoria_metrics_bin);
            cmd.arg(format!("-promscrape.config={}", config.display()))
                .arg(format!("-storageDataPath={}", data.display()))
                .arg(format!("-httpListenAddr={listen}"));
            ready = "/health";
        }
    }
    let log = std::fs::File::create(dir.join("log"))?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", system.name()))?;
    let mut process = Process::new(child);
    let client = reqwest::blocking::Client::new();
    process.wait_ready(
        &client,
        &format!("http://{listen}{ready}"),
        Duration::from_secs(60),
    )?;
    std::thread::sleep(Duration::from_secs(3 * args.interval + 1));
    let pid = process.id();
    let (cpu0, s0, t0) = (cpu_ticks(pid)?, farm.scrapes(), Instant::now());
    std::thread::sleep(Duration::from_secs(args.duration));
    let (cpu1, s1, seconds) = (cpu_ticks(pid)?, farm.scrapes(), t0.elapsed().as_secs_f64());
    let mem = memory(pid)?;
    process.stop(Duration::from_secs(120))?;
    let scrapes = s1 - s0;
    Ok(Measured {
        system,
        scrapes,
        samples: scrapes * args.series as u64,
        cpu_secs: (cpu1 - cpu0) as f64 / clock_ticks() as f64,
        peak_rss: mem.hwm,
        seconds,
    })
}

fn print_table(results: &[Measured], args: &Args) {
    println!(
        "\nscrape benchmark: {} targets x {} series, every {}s, {}s measured\n",
        args.targets, args.series, args.interval, args.duration
    );
    println!(
        "{:<18} {:>9} {:>14} {:>14} {:>16} {:>13}",
        "system", "scrapes", "samples", "samples/s", "CPU s/M samples", "peak RSS MiB"
    );
    let per_m = |m: &Measured| m.cpu_secs / (m.samples.max(1) as f64 / 1e6);
    let mib = |m: &Measured| m.peak_rss as f64 / (1 << 20) as f64;
    for m in results {
        println!(
            "{:<18} {:>9} {:>14} {:>14.0} {:>16.3} {:>13.1}",
            m.system.name(),
            m.scrapes,
            m.samples,
            m.samples as f64 / m.seconds,
            per_m(m),
            mib(m)
        );
    }
    if let Some(p) = results.iter().find(|m| m.system == System::Pharos) {
        for peer in results.iter().filter(|m| m.system != System::Pharos) {
            println!(
                "{:<18} {:>9} {:>14} {:>14} {:>16.2} {:>13.2}",
                format!("pharos/{}", peer.system.name()),
                "",
                "",
                "",
                per_m(p) / per_m(peer),
                mib(p) / mib(peer)
            );
        }
    }
}
