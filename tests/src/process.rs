//! Servers run as child processes, for the system tests ([`crate::pharos`])
//! and the benchmark ([`crate::bench::server`]): a free loopback port to
//! listen on, waiting for a readiness endpoint, SIGTERM with a deadline, and
//! SIGKILL when dropped.

use std::net::TcpListener;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A free loopback port (bound, read, released; a tiny race is accepted).
pub fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?;
    Ok(l.local_addr()?.port())
}

/// A child process, killed when dropped.
pub struct Process(Child);

impl Process {
    pub fn new(child: Child) -> Self {
        Process(child)
    }

    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }

    /// Polls `url` until it answers 2xx; fails if the process exits first or
    /// `timeout` passes.
    pub fn wait_ready(
        &mut self,
        client: &reqwest::blocking::Client,
        url: &str,
        timeout: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.0.try_wait().context("polling the child")? {
                bail!("exited with {status} before becoming ready");
            }
            if let Ok(resp) = client.get(url).send()
                && resp.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{url} not ready after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit. Returns its
    /// status, or `None` if the process had to be killed.
    pub fn stop(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        if let Some(status) = self.0.try_wait().context("polling the child")? {
            return Ok(Some(status));
        }
        let pid = self.id();
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .context("running kill -TERM")?;
        if !status.success() {
            bail!("kill -TERM {pid} failed: {status}");
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.0.try_wait().context("polling the child")? {
                return Ok(Some(status));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill()?;
        Ok(None)
    }

    /// SIGKILL, and reaps the process.
    pub fn kill(&mut self) -> Result<()> {
        self.0.kill().context("killing the child")?;
        self.0.wait().context("reaping the child")?;
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.running() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
