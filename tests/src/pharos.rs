//! Runs the real `pharos` binary for system tests: a child process on a free
//! loopback port with its own data directory, killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::process::{Process, free_port};

/// The `pharos` binary: `$PHAROS_BIN`, or the one cargo built next to this
/// test in the workspace's target directory.
pub fn pharos_bin() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("PHAROS_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test> → target/<profile>/pharos
    let dir = exe
        .ancestors()
        .nth(2)
        .context("test binary has no target directory")?;
    let bin = dir.join("pharos");
    if !bin.exists() {
        bail!(
            "{} is missing: build it first (`cargo build -p pharos`) or set PHAROS_BIN",
            bin.display()
        );
    }
    Ok(bin)
}

/// How long [`Pharos::stop`] waits for the exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(120);

/// A running Pharos server, killed when dropped.
pub struct Pharos {
    pub url: String,
    process: Process,
}

/// A config with no scrape jobs: Pharos only receives what is written to it.
pub const NO_SCRAPE_CONFIG: &str = "[global]\nscrape_interval = \"15s\"\n";

impl Pharos {
    /// Starts `pharos run` on a free port with data in `data` and no scrape
    /// jobs (the config is written next to `data`), and waits until it
    /// answers `/-/ready`.
    pub fn start(data: &Path) -> Result<Pharos> {
        let config = data.with_extension("toml");
        std::fs::write(&config, NO_SCRAPE_CONFIG).context("writing the config")?;
        Self::start_with_config(data, &config)
    }

    /// Starts `pharos run --config CONFIG --enable-lifecycle` (tests
    /// reload over HTTP) on a free port with data in `data`, and waits
    /// until it answers `/-/ready`.
    pub fn start_with_config(data: &Path, config: &Path) -> Result<Pharos> {
        let port = free_port()?;
        let child = Command::new(pharos_bin()?)
            .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .arg("--config")
            .arg(config)
            .arg("--enable-lifecycle")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting pharos")?;
        let mut p = Pharos {
            url: format!("http://127.0.0.1:{port}"),
            process: Process::new(child),
        };
        let client = reqwest::blocking::Client::new();
        let ready = format!("{}/-/ready", p.url);
        p.process
            .wait_ready(&client, &ready, Duration::from_secs(60))
            .context("pharos")?;
        Ok(p)
    }

    /// The process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// SIGKILL: no shutdown work at all.
    pub fn kill(mut self) -> Result<()> {
        self.process.kill()
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(mut self) -> Result<()> {
        match self.process.stop(STOP_TIMEOUT)? {
            Some(status) if status.success() => Ok(()),
            Some(status) => bail!("pharos exited with {status} after SIGTERM"),
            None => bail!("pharos did not exit within {STOP_TIMEOUT:?} of SIGTERM; killed"),
        }
    }
}
