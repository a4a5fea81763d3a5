//! The errors of loading and calling plugins. A failed call is one of a few
//! kinds a caller must tell apart — the plugin's own error (with its
//! retry hint), a limit the sandbox enforced, or a capability it refused —
//! so each is a variant, as wasmtime-wasi-http's `ErrorCode` has one per
//! failure (STYLE.md §3).

use crate::grants::{AddressClass, GrantError};
use crate::types::{PluginError, PluginKind};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a valid component for this engine.
    #[error("plugin {plugin}: cannot compile the component: {message}")]
    Compile {
        /// The plugin's name.
        plugin: String,
        /// wasmtime's message.
        message: String,
    },
    /// The component does not implement the world of its kind, or imports
    /// something the host does not offer.
    #[error("plugin {plugin}: not a {kind} plugin, or it needs imports Pharos lacks: {message}")]
    World {
        /// The plugin's name.
        plugin: String,
        /// The kind it was loaded as.
        kind: PluginKind,
        /// wasmtime's message.
        message: String,
    },
    /// The component implements none of the three worlds.
    #[error(
        "plugin {plugin}: not a Pharos plugin: the component implements none of the worlds discovery, exporter, notifier of pharos:plugin@0.1.0 (or it needs imports Pharos lacks)"
    )]
    NoWorld {
        /// The plugin's name.
        plugin: String,
    },
    /// `describe` says another kind than the one it was loaded as.
    #[error("plugin {plugin}: loaded as {expected} but describes itself as {actual}")]
    KindMismatch {
        /// The plugin's name.
        plugin: String,
        /// The kind it was loaded as.
        expected: PluginKind,
        /// The kind `describe` returned.
        actual: PluginKind,
    },
    /// `describe` failed.
    #[error("plugin {plugin}: describe failed: {source}")]
    Describe {
        /// The plugin's name.
        plugin: String,
        /// The call's error.
        #[source]
        source: Box<CallError>,
    },
    /// A grant does not parse.
    #[error("plugin {plugin}: {source}")]
    Grant {
        /// The plugin's name.
        plugin: String,
        /// The bad grant.
        #[source]
        source: GrantError,
    },
    /// No embedded first-party plugin has this name.
    #[error("no built-in plugin named {0:?}")]
    UnknownEmbedded(String),
    /// The engine could not be built.
    #[error("cannot configure the WebAssembly engine: {0}")]
    Engine(String),
    /// The compiled-artifact cache could not be opened.
    #[error("cannot open the plugin cache at {path}: {source}")]
    Cache {
        /// The cache directory.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Which budget a timed-out call exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// The CPU budget, counted in epoch ticks while the plugin ran.
    Cpu(Duration),
    /// The wall-clock timeout of the whole call.
    WallClock(Duration),
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Budget::Cpu(d) => write!(f, "CPU budget of {d:?} used up"),
            Budget::WallClock(d) => write!(f, "no answer within the {d:?} timeout"),
        }
    }
}

/// A request the sandbox refused, and the grant that would allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// The origin is not in `allow_http`.
    Origin {
        /// The request's URL.
        url: String,
        /// The origin to grant, `scheme://host:port`.
        origin: String,
    },
    /// The address the name resolved to is not public and not in
    /// `allow_private_ips`.
    Address {
        /// The request's URL.
        url: String,
        /// The address it would have connected to.
        ip: IpAddr,
        /// Why the address is not public.
        class: AddressClass,
    },
    /// The name is not in `allow_dns`.
    Dns {
        /// The name looked up, as the plugin asked it.
        name: String,
        /// The record type (`A`, `AAAA`, `SRV`, `MX`, `NS`).
        record_type: &'static str,
    },
    /// A TCP connection to an address no `allow_tcp` entry grants, or to a
    /// non-public address without `allow_private_ips`.
    Tcp {
        /// The address the plugin tried to connect to.
        addr: SocketAddr,
        /// Set when `allow_tcp` grants the address but it is not public.
        class: Option<AddressClass>,
    },
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::Origin { url, origin } => write!(
                f,
                "HTTP request to {url} denied: {origin} is not granted; add \"{origin}\" to the plugin's allow_http"
            ),
            Denial::Address { url, ip, class } => write!(
                f,
                "HTTP request to {url} denied: it resolves to {ip}, a {class} address; add \"{ip}\" to the plugin's allow_private_ips to grant it"
            ),
            Denial::Dns { name, record_type } => write!(
                f,
                "DNS lookup of {name} ({record_type}) denied: add \"{name}\" (or a pattern such as \"*.example.org\") to the plugin's allow_dns"
            ),
            Denial::Tcp { addr, class: None } => write!(
                f,
                "TCP connection to {addr} denied: add \"{addr}\" (or the host name and port) to the plugin's allow_tcp"
            ),
            Denial::Tcp {
                addr,
                class: Some(class),
            } => write!(
                f,
                "TCP connection to {addr} denied: {ip} is a {class} address; add \"{ip}\" to the plugin's allow_private_ips to grant it",
                ip = addr.ip()
            ),
        }
    }
}

/// Why a call failed. Every variant names the plugin.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The plugin returned an error; its kind says whether to retry.
    #[error("plugin {plugin}: {}", plugin_error_text(error))]
    Plugin {
        /// The plugin's name.
        plugin: String,
        /// The plugin's error.
        error: PluginError,
    },
    /// The call exceeded its CPU budget or its wall-clock timeout.
    #[error("plugin {plugin} timed out: {budget}")]
    TimedOut {
        /// The plugin's name.
        plugin: String,
        /// Which budget ran out.
        budget: Budget,
    },
    /// The plugin tried to grow its memory past the limit.
    #[error(
        "plugin {plugin} exceeded its memory limit of {limit} bytes (it asked for {requested})"
    )]
    MemoryLimit {
        /// The plugin's name.
        plugin: String,
        /// The limit in bytes.
        limit: usize,
        /// The size it asked to grow to.
        requested: usize,
    },
    /// The plugin exhausted its WebAssembly stack (unbounded recursion).
    #[error("plugin {plugin} overflowed its stack")]
    StackOverflow {
        /// The plugin's name.
        plugin: String,
    },
    /// The plugin panicked (Rust plugins) and trapped.
    #[error("plugin {plugin} panicked: {message}")]
    Panicked {
        /// The plugin's name.
        plugin: String,
        /// What it printed to stderr.
        message: String,
    },
    /// The plugin trapped for another reason (out-of-bounds access, …).
    #[error("plugin {plugin} trapped: {message}")]
    Trap {
        /// The plugin's name.
        plugin: String,
        /// The trap and what the plugin printed to stderr, if anything.
        message: String,
    },
    /// The plugin failed after the sandbox refused one of its requests.
    #[error("plugin {plugin}: {denial}")]
    Denied {
        /// The plugin's name.
        plugin: String,
        /// The first refused request.
        denial: Denial,
    },
    /// The plugin returned more targets or series than one call may
    /// ([`crate::MAX_TARGETS_PER_CALL`], [`crate::MAX_SERIES_PER_CALL`]).
    #[error("plugin {plugin} returned {count} {what}, more than the {limit} allowed per call")]
    TooManyResults {
        /// The plugin's name.
        plugin: String,
        /// `targets` or `series`.
        what: &'static str,
        /// How many it returned.
        count: usize,
        /// The cap.
        limit: usize,
    },
    /// The plugin does not export this call (wrong kind).
    #[error("plugin {plugin} is a {kind} plugin and has no {call} function")]
    WrongKind {
        /// The plugin's name.
        plugin: String,
        /// The plugin's kind.
        kind: PluginKind,
        /// The function that was called.
        call: &'static str,
    },
}

/// `config error: …`, `transient error: …`, `permanent error: …`.
fn plugin_error_text(e: &PluginError) -> String {
    let kind = match e {
        PluginError::Config(_) => "config",
        PluginError::Transient(_) => "transient",
        PluginError::Permanent(_) => "permanent",
    };
    format!("{kind} error: {}", e.message())
}

/// The kind of a call's failure, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `plugin-error.config`.
    Config,
    /// `plugin-error.transient`.
    Transient,
    /// `plugin-error.permanent`.
    Permanent,
    /// CPU budget or wall-clock timeout.
    Timeout,
    /// Memory limit.
    Memory,
    /// Stack overflow.
    StackOverflow,
    /// Panic.
    Panic,
    /// Other trap.
    Trap,
    /// A refused capability.
    Denied,
    /// A call the plugin's kind lacks.
    WrongKind,
    /// More targets or series than one call may return.
    TooManyResults,
}

impl ErrorKind {
    /// Every kind, in a fixed order (the metrics' array index).
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Config,
        ErrorKind::Transient,
        ErrorKind::Permanent,
        ErrorKind::Timeout,
        ErrorKind::Memory,
        ErrorKind::StackOverflow,
        ErrorKind::Panic,
        ErrorKind::Trap,
        ErrorKind::Denied,
        ErrorKind::WrongKind,
        ErrorKind::TooManyResults,
    ];

    /// A snake_case name, for a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::Transient => "transient",
            ErrorKind::Permanent => "permanent",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Memory => "memory_limit",
            ErrorKind::StackOverflow => "stack_overflow",
            ErrorKind::Panic => "panic",
            ErrorKind::Trap => "trap",
            ErrorKind::Denied => "denied",
            ErrorKind::WrongKind => "wrong_kind",
            ErrorKind::TooManyResults => "too_many_results",
        }
    }

    pub(crate) fn index(self) -> usize {
        ErrorKind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

impl CallError {
    /// The failure's kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CallError::Plugin { error, .. } => match error {
                PluginError::Config(_) => ErrorKind::Config,
                PluginError::Transient(_) => ErrorKind::Transient,
                PluginError::Permanent(_) => ErrorKind::Permanent,
            },
            CallError::TimedOut { .. } => ErrorKind::Timeout,
            CallError::MemoryLimit { .. } => ErrorKind::Memory,
            CallError::StackOverflow { .. } => ErrorKind::StackOverflow,
            CallError::Panicked { .. } => ErrorKind::Panic,
            CallError::Trap { .. } => ErrorKind::Trap,
            CallError::Denied { .. } => ErrorKind::Denied,
            CallError::WrongKind { .. } => ErrorKind::WrongKind,
            CallError::TooManyResults { .. } => ErrorKind::TooManyResults,
        }
    }

    /// Whether calling again unchanged may succeed: transient plugin errors
    /// and timeouts. Configuration errors, denials and crashes need a change
    /// first (the caller still retries at its next interval).
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), ErrorKind::Transient | ErrorKind::Timeout)
    }
}
