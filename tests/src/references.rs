//! The reference systems tests compare with (Prometheus 2.42, promtool,
//! VictoriaMetrics, node exporter): found on `PATH`, or installed on first
//! use by `tests/scripts/install-references.sh`, so `cargo test` needs no
//! set-up by hand.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

static INSTALL: Mutex<()> = Mutex::new(());

fn on_path(bin: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(bin))
        .find(|p| p.is_file())
}

/// The path of reference binary `bin`, installing its package if needed.
pub fn require(bin: &str) -> Result<PathBuf> {
    if let Some(p) = on_path(bin) {
        return Ok(p);
    }
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = on_path(bin) {
        return Ok(p);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-references.sh");
    let status = Command::new("bash")
        .arg(&script)
        .arg(bin)
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    if !status.success() {
        bail!("{} {bin} failed with {status}", script.display());
    }
    on_path(bin).with_context(|| format!("{bin} still missing after {}", script.display()))
}

/// Debian's node exporter on a free loopback port, once it serves
/// `/metrics`: the process (stopped when dropped) and its port.
pub fn start_node_exporter() -> Result<(crate::process::Process, u16)> {
    let port = crate::process::free_port()?;
    let child = std::process::Command::new(require("prometheus-node-exporter")?)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting node exporter")?;
    let mut node = crate::process::Process::new(child);
    node.wait_ready(
        &reqwest::blocking::Client::new(),
        &format!("http://127.0.0.1:{port}/metrics"),
        std::time::Duration::from_secs(30),
    )?;
    Ok((node, port))
}
