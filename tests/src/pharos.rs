//! Runs the real `pharos` binary for system tests: a child process on a free
//! loopback port with its own data directory, killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pharos_prompb::{Label, Sample, TimeSeries, WriteRequest};

use crate::bench::server::free_port;

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

/// A running Pharos server.
pub struct Pharos {
    pub url: String,
    pub data: PathBuf,
    child: Child,
}

impl Pharos {
    /// Starts `pharos run` on a free port with data in `data`, and waits until
    /// it answers `/-/ready`.
    pub fn start(data: &Path) -> Result<Pharos> {
        let port = free_port()?;
        let child = Command::new(pharos_bin()?)
            .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting pharos")?;
        let mut p = Pharos {
            url: format!("http://127.0.0.1:{port}"),
            data: data.to_path_buf(),
            child,
        };
        p.wait_ready(Duration::from_secs(60))?;
        Ok(p)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let client = reqwest::blocking::Client::new();
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(status) = self.child.try_wait()? {
                bail!("pharos exited before it was ready: {status}");
            }
            if let Ok(r) = client.get(format!("{}/-/ready", self.url)).send()
                && r.status().is_success()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("pharos was not ready within {timeout:?}")
    }

    /// SIGKILL: no shutdown work at all.
    pub fn kill(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(mut self) -> Result<()> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status()?;
        let status = self.child.wait()?;
        if !status.success() {
            bail!("pharos exited with {status} after SIGTERM");
        }
        Ok(())
    }
}

impl Drop for Pharos {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One series for [`write_request`]: labels and `(timestamp, value)` pairs.
pub type SeriesSpec<'a> = (Vec<(&'a str, String)>, Vec<(i64, f64)>);

/// A remote-write request from series specs.
pub fn write_request(series: &[SeriesSpec<'_>]) -> WriteRequest {
    WriteRequest {
        timeseries: series
            .iter()
            .map(|(labels, samples)| TimeSeries {
                labels: labels
                    .iter()
                    .map(|(n, v)| Label {
                        name: (*n).to_string(),
                        value: v.clone(),
                    })
                    .collect(),
                samples: samples
                    .iter()
                    .map(|(t, v)| Sample {
                        value: *v,
                        timestamp: *t,
                    })
                    .collect(),
                exemplars: vec![],
            })
            .collect(),
        metadata: vec![],
    }
}

/// POSTs a remote-write body; returns the HTTP status and body text.
pub fn post_write(
    client: &reqwest::blocking::Client,
    url: &str,
    body: Vec<u8>,
) -> Result<(u16, String)> {
    let r = client
        .post(format!("{url}/api/v1/write"))
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
        .send()?;
    let status = r.status().as_u16();
    Ok((status, r.text()?))
}
