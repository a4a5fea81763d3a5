//! What one call's `Store` holds: the WASI context (no environment; stderr
//! captured to report panics; the plugin's `allow_read` directories
//! preopened read-only at their own paths; TCP connect checked against
//! `allow_tcp`, everything else on sockets refused), the `wasi:http`
//! context with Pharos' outbound hooks, the DNS capability, the resource
//! limiter and the `host` interface's state (the plugin's name and its log
//! budget).

use crate::bindings::host;
use crate::capabilities::TcpHost;
use crate::dns::{Dns, Resolver};
use crate::error::Denial;
use crate::grants::{AllowList, non_public_class};
use crate::limits::Limiter;
use crate::outbound::Outbound;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Bytes of a plugin's stderr kept to explain a trap (a panic message).
const STDERR_CAPACITY: usize = 4096;
/// Log lines one call may write; later ones are dropped and counted.
const LOG_LINES_PER_CALL: u32 = 200;
/// Longest log message kept, in bytes.
const LOG_MESSAGE_MAX: usize = 4096;
/// Most fields of one log line; later ones are dropped.
const LOG_FIELDS_MAX: usize = 32;
/// Longest field name kept, in bytes.
const LOG_FIELD_NAME_MAX: usize = 64;
/// Most bytes of one log line's field values together.
const LOG_FIELD_VALUES_MAX: usize = 4096;

pub(crate) struct State {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) outbound: Outbound,
    pub(crate) dns: Dns,
    denials: Arc<Mutex<Vec<Denial>>>,
    pub(crate) limiter: Limiter,
    pub(crate) stderr: MemoryOutputPipe,
    plugin: Arc<str>,
    log_budget: u32,
    pub(crate) logs_dropped: u32,
}

impl State {
    pub(crate) fn new(
        plugin: Arc<str>,
        allow: Arc<AllowList>,
        tls: Arc<rustls::ClientConfig>,
        resolver: Arc<Resolver>,
        limiter: Limiter,
    ) -> Self {
        let denials: Arc<Mutex<Vec<Denial>>> = Arc::default();
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let mut wasi = WasiCtx::builder();
        wasi.stderr(stderr.clone())
            .allow_ip_name_lookup(false)
            .allow_udp(false);
        grant_read_dirs(&mut wasi, &plugin, &allow);
        // TCP stays on so that every connect reaches the check, which
        // refuses what `allow_tcp` does not grant and records why.
        let check = TcpCheck {
            plugin: plugin.clone(),
            allow: allow.clone(),
            resolver: resolver.clone(),
            denials: denials.clone(),
        };
        wasi.allow_tcp(true)
            .socket_addr_check(move |addr, usage| check.check(addr, usage));
        let outbound = Outbound::new(plugin.clone(), allow.clone(), tls, denials.clone());
        let dns = Dns {
            resolver,
            allow,
            plugin: plugin.clone(),
            denials: denials.clone(),
        };
        State {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            outbound,
            dns,
            denials,
            limiter,
            stderr,
            plugin,
            log_budget: LOG_LINES_PER_CALL,
            logs_dropped: 0,
        }
    }

    /// The requests refused during this call, in order.
    pub(crate) fn denials(&self) -> Vec<Denial> {
        self.denials.lock().clone()
    }

    /// What the plugin wrote to stderr, as text.
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_owned()
    }
}

/// Preopens each granted directory read-only at its own absolute path. A
/// directory that cannot be opened (missing, no permission) is left out
/// with a warning: the plugin then fails to open paths under it.
fn grant_read_dirs(wasi: &mut WasiCtxBuilder, plugin: &str, allow: &AllowList) {
    for dir in allow.read_dirs() {
        let Some(guest) = dir.to_str() else { continue };
        if let Err(e) = wasi.preopened_dir(dir, guest, FsPerms::ReadOnly) {
            tracing::warn!(plugin, dir = guest, error = %e, "cannot open a directory granted in allow_read");
        }
    }
}

type CheckFuture = Pin<Box<dyn Future<Output = bool> + Send + Sync>>;

/// The `wasi:sockets` check of a plugin with `allow_tcp` grants: TCP
/// connects to granted addresses (non-public ones also need
/// `allow_private_ips`) and the implicit wildcard bind that precedes a
/// connect; nothing else.
struct TcpCheck {
    plugin: Arc<str>,
    allow: Arc<AllowList>,
    resolver: Arc<Resolver>,
    denials: Arc<Mutex<Vec<Denial>>>,
}

impl TcpCheck {
    fn check(&self, addr: SocketAddr, usage: SocketAddrUse) -> CheckFuture {
        match usage {
            SocketAddrUse::TcpBind => {
                let ok = addr.ip().is_unspecified() && addr.port() == 0;
                return Box::pin(async move { ok });
            }
            SocketAddrUse::TcpConnect => {}
            _ => return Box::pin(async { false }),
        }
        let plugin = self.plugin.clone();
        let allow = self.allow.clone();
        let resolver = self.resolver.clone();
        let denials = self.denials.clone();
        let task = tokio::spawn(async move {
            let mut granted = allow.tcp.iter().any(|r| r.matches_literally(addr));
            if !granted {
                for rule in allow.tcp.iter().filter(|r| r.port_matches(addr.port())) {
                    if let TcpHost::Name(name) = &rule.host
                        && resolver.addresses(name).await.contains(&addr.ip())
                    {
                        granted = true;
                        break;
                    }
                }
            }
            let denial = if !granted {
                Some(Denial::Tcp { addr, class: None })
            } else if !allow.allows_ip(addr.ip()) {
                Some(Denial::Tcp {
                    addr,
                    class: non_public_class(addr.ip()),
                })
            } else {
                None
            };
            match denial {
                None => true,
                Some(denial) => {
                    tracing::warn!(plugin = &*plugin, %denial, "plugin request denied");
                    denials.lock().push(denial);
                    false
                }
            }
        });
        Box::pin(async move { task.await.unwrap_or(false) })
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

/// A plugin's log line made safe to print: the message truncated to
/// [`LOG_MESSAGE_MAX`] with control characters escaped (a plugin cannot
/// forge a log line with `\n`), at most [`LOG_FIELDS_MAX`] fields, names
/// truncated and reduced to `[A-Za-z0-9_.-]`, values truncated to share
/// [`LOG_FIELD_VALUES_MAX`] bytes (they print quoted and escaped).
fn bounded_line(message: String, fields: Vec<(String, String)>) -> (String, Vec<(String, String)>) {
    let message = truncate(
        escape_controls(truncate(message, LOG_MESSAGE_MAX)),
        LOG_MESSAGE_MAX,
    );
    let dropped = fields.len().saturating_sub(LOG_FIELDS_MAX);
    let mut budget = LOG_FIELD_VALUES_MAX;
    let mut out: Vec<(String, String)> = fields
        .into_iter()
        .take(LOG_FIELDS_MAX)
        .map(|(k, v)| {
            let k: String = truncate(k, LOG_FIELD_NAME_MAX)
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let v = truncate(v, budget);
            budget = budget.saturating_sub(v.len());
            (if k.is_empty() { "_".to_owned() } else { k }, v)
        })
        .collect();
    if dropped > 0 {
        out.push(("fields_dropped".to_owned(), dropped.to_string()));
    }
    (message, out)
}

/// `s` with control characters written as escapes (`\n`, `\u{1b}`).
fn escape_controls(s: String) -> String {
    if !s.chars().any(char::is_control) {
        return s;
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
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
        let (message, fields) = bounded_line(message, fields);
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
    use super::*;

    #[test]
    fn truncation_keeps_char_boundaries() {
        assert_eq!(truncate("héllo".into(), 2), "h…");
        assert_eq!(truncate("abc".into(), 3), "abc");
        assert_eq!(truncate("abc".into(), 0), "…");
    }

    /// A plugin cannot write a huge line, nor one that reads as two.
    #[test]
    fn log_lines_are_bounded_and_cannot_forge_lines() {
        let fields: Vec<(String, String)> = (0..1000)
            .map(|i| (format!("k{i}\nlevel=ERROR"), "v".repeat(10_000)))
            .collect();
        let (message, fields) = bounded_line(
            format!("ok\nERROR forged line{}", "x".repeat(1 << 20)),
            fields,
        );
        assert!(
            message.starts_with("ok\\nERROR forged"),
            "{}",
            &message[..40]
        );
        assert!(!message.contains('\n'));
        assert!(message.len() <= LOG_MESSAGE_MAX + 16, "{}", message.len());
        assert_eq!(fields.len(), LOG_FIELDS_MAX + 1);
        assert_eq!(fields[0].0, "k0_level_ERROR");
        assert_eq!(
            fields[LOG_FIELDS_MAX],
            ("fields_dropped".to_owned(), "968".to_owned())
        );
        let values: usize = fields.iter().map(|(_, v)| v.len()).sum();
        assert!(
            values <= LOG_FIELD_VALUES_MAX + 3 * (LOG_FIELDS_MAX + 1),
            "{values}"
        );
        let line = Fields(&fields).to_string();
        assert!(!line.contains('\n'));
        assert!(line.len() < 16 << 10, "{}", line.len());
    }
}
