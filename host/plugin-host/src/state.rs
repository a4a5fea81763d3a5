//! What one call's `Store` holds: an empty WASI context (no preopens, no
//! environment, no sockets; stderr captured to report panics), the
//! `wasi:http` context with Pharos' outbound hooks, the resource limiter
//! and the `host` interface's state (the plugin's name and its log budget).

use crate::bindings::host;
use crate::error::Denial;
use crate::limits::Limiter;
use crate::outbound::Outbound;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Bytes of a plugin's stderr kept to explain a trap (a panic message).
const STDERR_CAPACITY: usize = 4096;
/// Log lines one call may write; later ones are dropped and counted.
const LOG_LINES_PER_CALL: u32 = 200;
/// Longest log message kept, in bytes.
const LOG_MESSAGE_MAX: usize = 4096;

pub(crate) struct State {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) outbound: Outbound,
    pub(crate) limiter: Limiter,
    pub(crate) stderr: MemoryOutputPipe,
    plugin: Arc<str>,
    log_budget: u32,
    pub(crate) logs_dropped: u32,
}

impl State {
    pub(crate) fn new(plugin: Arc<str>, outbound: Outbound, limiter: Limiter) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtx::builder().stderr(stderr.clone()).build();
        State {
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            outbound,
            limiter,
            stderr,
            plugin,
            log_budget: LOG_LINES_PER_CALL,
            logs_dropped: 0,
        }
    }

    pub(crate) fn denials(&self) -> Vec<Denial> {
        self.outbound.denials()
    }

    /// What the plugin wrote to stderr, as text.
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_owned()
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

struct Fields<'a>(&'a [(String, String)]);

impl std::fmt::Display for Fields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{k}={v:?}")?;
        }
        Ok(())
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

impl host::Host for State {
    fn log(&mut self, level: host::LogLevel, message: String, fields: Vec<(String, String)>) {
        if self.log_budget == 0 {
            self.logs_dropped += 1;
            return;
        }
        self.log_budget -= 1;
        let message = truncate(message, LOG_MESSAGE_MAX);
        let plugin = &*self.plugin;
        let fields = Fields(&fields);
        match level {
            host::LogLevel::Trace => {
                tracing::trace!(target: "pharos::plugin", plugin, %fields, "{message}")
            }
            host::LogLevel::Debug => {
                tracing::debug!(target: "pharos::plugin", plugin, %fields, "{message}")
            }
            host::LogLevel::Info => {
                tracing::info!(target: "pharos::plugin", plugin, %fields, "{message}")
            }
            host::LogLevel::Warn => {
                tracing::warn!(target: "pharos::plugin", plugin, %fields, "{message}")
            }
            host::LogLevel::Error => {
                tracing::error!(target: "pharos::plugin", plugin, %fields, "{message}")
            }
        }
    }

    fn now_ms(&mut self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::truncate;

    #[test]
    fn truncation_keeps_char_boundaries() {
        assert_eq!(truncate("héllo".into(), 2), "h…");
        assert_eq!(truncate("abc".into(), 3), "abc");
    }
}
