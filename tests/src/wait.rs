//! Waiting for a running system to reach a state.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

/// Polls `cond` every 100 ms for up to 60 s.
pub fn eventually<T>(what: &str, mut cond: impl FnMut() -> Result<Option<T>>) -> Result<T> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last_err = None;
    loop {
        match cond() {
            Ok(Some(x)) => return Ok(x),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if Instant::now() > deadline {
            bail!("timed out waiting for {what} (last error: {last_err:?})");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
