//! The systems under test, each started as a child process on a free
//! loopback port with a fresh data directory, and killed when dropped.

use anyhow::{Context, Result, bail};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{Process, free_port};

/// A system the benchmark can write to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum System {
    Pharos,
    Prometheus,
    VictoriaMetrics,
}

impl System {
    pub const ALL: [System; 3] = [System::Pharos, System::Prometheus, System::VictoriaMetrics];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            System::Pharos => "pharos",
            System::Prometheus => "prometheus",
            System::VictoriaMetrics => "victoria-metrics",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "pharos" => Ok(System::Pharos),
            "prometheus" | "prom" => Ok(System::Prometheus),
            "victoria-metrics" | "victoriametrics" | "vm" => Ok(System::VictoriaMetrics),
            other => bail!("unknown system {other:?} (pharos, prometheus, victoria-metrics)"),
        }
    }

    fn ready_path(self) -> &'static str {
        match self {
            System::Pharos | System::Prometheus => "/-/ready",
            System::VictoriaMetrics => "/health",
        }
    }
}

/// A running system. Dropping it kills the process.
pub struct Server {
    pub system: System,
    pub base_url: String,
    pub data_dir: PathBuf,
    pub log_path: PathBuf,
    process: Process,
}

impl Server {
    /// Starts `system` from binary `bin`, keeping its data and log in `dir`.
    /// Pharos gets a configuration without scrape jobs: it only receives
    /// remote writes.
    pub fn start(system: System, bin: &Path, dir: &Path, retention: &str) -> Result<Self> {
        Self::start_with(system, bin, dir, retention, crate::pharos::NO_SCRAPE_CONFIG)
    }

    /// Starts Pharos from `bin` with `config` (TOML) as its configuration,
    /// keeping its data and log in `dir`.
    pub fn start_pharos(bin: &Path, dir: &Path, config: &str) -> Result<Self> {
        Self::start_with(System::Pharos, bin, dir, "", config)
    }

    fn start_with(
        system: System,
        bin: &Path,
        dir: &Path,
        retention: &str,
        pharos_config: &str,
    ) -> Result<Self> {
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        let data_dir = dir.join("data");
        std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {data_dir:?}"))?;
        let mut cmd = Command::new(bin);
        match system {
            System::Pharos => {
                let config = dir.join("pharos.toml");
                std::fs::write(&config, pharos_config)
                    .with_context(|| format!("writing {config:?}"))?;
                cmd.arg("run")
                    .arg("--listen")
                    .arg(&listen)
                    .arg("--data")
                    .arg(&data_dir)
                    .arg("--config")
                    .arg(&config);
            }
            System::Prometheus => {
                // No scrape jobs: the server only receives remote writes.
                let config = dir.join("prometheus.yml");
                std::fs::write(&config, "global:\n  scrape_interval: 15s\n")
                    .with_context(|| format!("writing {config:?}"))?;
                cmd.arg("--config.file")
                    .arg(&config)
                    .arg("--storage.tsdb.path")
                    .arg(&data_dir)
                    .arg(format!("--storage.tsdb.retention.time={retention}"))
                    .arg("--web.listen-address")
                    .arg(&listen)
                    .arg("--web.enable-remote-write-receiver");
            }
            System::VictoriaMetrics => {
                cmd.arg(format!("-storageDataPath={}", data_dir.display()))
                    .arg(format!("-httpListenAddr={listen}"))
                    .arg(format!("-retentionPeriod={retention}"));
            }
        }
        let log_path = dir.join(format!("{}.log", system.name()));
        let log = File::create(&log_path).with_context(|| format!("creating {log_path:?}"))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("duplicating the log file")?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {bin:?}"))?;
        Ok(Server {
            system,
            base_url: format!("http://{listen}"),
            data_dir,
            log_path,
            process: Process::new(child),
        })
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Waits until the readiness endpoint answers 2xx.
    pub fn wait_ready(
        &mut self,
        client: &reqwest::blocking::Client,
        timeout: Duration,
    ) -> Result<()> {
        let url = format!("{}{}", self.base_url, self.system.ready_path());
        self.process.wait_ready(client, &url, timeout)
    }

    /// Asks the system to persist what it buffers in memory, where it has a
    /// way to (VictoriaMetrics' `/internal/force_flush`).
    pub fn flush(&self, client: &reqwest::blocking::Client) -> Result<()> {
        if self.system == System::VictoriaMetrics {
            let url = format!("{}/internal/force_flush", self.base_url);
            let resp = client
                .get(&url)
                .send()
                .with_context(|| format!("GET {url}"))?;
            if !resp.status().is_success() {
                bail!("GET {url}: {}", resp.status());
            }
        }
        Ok(())
    }

    /// Sends SIGTERM and waits for the process to exit. Returns whether it
    /// exited in time; if not, it is killed.
    pub fn stop(&mut self, timeout: Duration) -> Result<bool> {
        Ok(self.process.stop(timeout)?.is_some())
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.process.running()
    }

    /// The last `n` lines of the log, for error messages.
    pub fn log_tail(&self, n: usize) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}
