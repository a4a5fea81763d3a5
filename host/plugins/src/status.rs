//! What the server shows about its plugins (`/api/v1/plugins`, `pharos
//! plugin list`): per plugin its kind, version, source, grants and limits,
//! the capabilities it may ask for, its health and last error, and its
//! call counters; per use (a scrape job's discovery entry or an exporter
//! job) the health and error of its latest call, as `/api/v1/targets`
//! shows them per target.

use std::time::{Duration, SystemTime};

use pharos_plugin_host::{MetricsSnapshot, PluginKind, PluginSettings};

/// The outcome of the latest call, as Prometheus' target health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// The latest call succeeded.
    Up,
    /// The latest call failed.
    Down,
    /// No call yet.
    Unknown,
}

impl Health {
    /// `up`, `down` or `unknown`, as the targets API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Down => "down",
            Health::Unknown => "unknown",
        }
    }
}

/// One use of a plugin: a discovery entry of a scrape job, or an exporter
/// job.
#[derive(Debug, Clone, PartialEq)]
pub struct UseStatus {
    /// The job.
    pub job: String,
    /// `discovery` or `exporter`.
    pub kind: PluginKind,
    /// Where the use is written, e.g. `scrape[0].discovery[1]`.
    pub key: String,
    /// The latest call's outcome.
    pub health: Health,
    /// The latest call's error; empty when it succeeded.
    pub last_error: String,
    /// When the latest call started.
    pub last_call: Option<SystemTime>,
    /// How long it took.
    pub last_duration: Option<Duration>,
    /// Calls skipped because the plugin was backing off.
    pub skipped: u64,
}

/// Where a plugin comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// Built into the binary.
    Embedded,
    /// Installed: the component's path.
    Installed(std::path::PathBuf),
}

/// One plugin as the server sees it.
#[derive(Debug, Clone)]
pub struct PluginStatus {
    pub name: String,
    /// Known once loaded (or from an installed plugin's manifest).
    pub kind: Option<PluginKind>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub source: SourceKind,
    pub sha256: Option<String>,
    /// Whether the running server has it loaded (a plugin no config uses
    /// is not loaded; one installed since the last reload is not yet).
    pub loaded: bool,
    /// Its grants and limits, when loaded.
    pub settings: Option<PluginSettings>,
    /// Grants it may need, read from its imports.
    pub capabilities: Vec<String>,
    /// Down if any use's latest call failed; up if all that ran succeeded.
    pub health: Health,
    /// The most recent error of any use (kept after a recovery).
    pub last_error: Option<(SystemTime, String)>,
    /// Call counters, when loaded.
    pub metrics: Option<MetricsSnapshot>,
    pub uses: Vec<UseStatus>,
}
