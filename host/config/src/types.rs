//! The effective configuration: what a loaded `pharos.toml` means, with
//! every default filled in, durations resolved, relabel steps compiled.
//! Field names are the file's keys; serializing a [`Config`] gives the
//! effective config as TOML (see [`crate::render`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use pharos_model::Labels;
use pharos_relabel::Relabel;
use serde::{Serialize, Serializer};
use url::Url;

use crate::redact_url;
use crate::size::ByteSize;

/// Prometheus' default `scrape_interval` (1m).
pub const DEFAULT_SCRAPE_INTERVAL: Duration = Duration::from_secs(60);
/// Prometheus' default `scrape_timeout` (10s).
pub const DEFAULT_SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
/// Prometheus' default `evaluation_interval` (1m).
pub const DEFAULT_EVALUATION_INTERVAL: Duration = Duration::from_secs(60);
/// Prometheus' default time retention when neither time nor size is set.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(15 * 24 * 3600);
/// The default discovery `refresh_interval`.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// The default `[server] listen` address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9090";

/// A whole loaded config file.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub global: GlobalConfig,
    #[serde(rename = "scrape", skip_serializing_if = "Vec::is_empty")]
    pub scrape: Vec<ScrapeConfig>,
    #[serde(rename = "exporter", skip_serializing_if = "Vec::is_empty")]
    pub exporters: Vec<ExporterConfig>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub plugins: BTreeMap<String, PluginConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remote_write: Vec<RemoteWriteConfig>,
    pub rules: RulesConfig,
    #[serde(skip_serializing_if = "AlertingSection::is_empty")]
    pub alerting: AlertingSection,
    pub query: QueryConfig,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dashboards: Vec<DashboardConfig>,
}

/// One `[[dashboards]]` entry: a Grafana dashboard's JSON file imported
/// as it is (`file`, relative to the config file's directory), or rows of
/// panels written here. The web interface shows it at
/// `dashboards?name=<name>`; `/api/v1/dashboards` lists them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DashboardConfig {
    /// Letters, digits, `-`, `_` and `.`; unique.
    pub name: String,
    /// Shown instead of the name (a Grafana file has its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// How often the page re-runs the queries (a Grafana file has its own;
    /// default 30s).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser::opt_duration"
    )]
    pub refresh: Option<Duration>,
    /// The time range shown first, up to now (default 1h).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser::opt_duration"
    )]
    pub range: Option<Duration>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<DashboardRow>,
}

/// `[[dashboards.rows]]`: panels side by side, wrapping after 24 columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DashboardRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub panels: Vec<DashboardPanel>,
}

/// A panel of a dashboard written in TOML.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DashboardPanel {
    pub title: String,
    #[serde(rename = "type")]
    pub kind: DashboardPanelKind,
    /// The PromQL query; `$__rate_interval`, `$__interval` and `$__range`
    /// work as in Grafana.
    pub expr: String,
    /// Each series' name, `{{label}}` replaced by its value; default the
    /// series' labels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legend: Option<String>,
    /// A Grafana unit: `bytes`, `s`, `percent`, `percentunit`, `Bps`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Columns of 24; default the row's width shared by its panels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Grid rows of 30 pixels (default 8; 4 for a stat).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// What a TOML panel draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DashboardPanelKind {
    /// Lines over the time range.
    #[default]
    Timeseries,
    /// One big number per series, the latest value.
    Stat,
    /// The latest values, one row per series.
    Table,
}

/// `[query]`: limits of the PromQL engine, as Prometheus' `--query.*`
/// flags, with their defaults. Changes need a restart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryConfig {
    /// Longest a query may run, its wait in the queue included (2m).
    #[serde(serialize_with = "ser::duration")]
    pub timeout: Duration,
    /// Most samples a query may hold at once (50000000).
    pub max_samples: u64,
    /// Queries evaluated at once; more wait in a queue (20).
    pub max_concurrency: u64,
    /// How far back an instant selector looks for a sample (5m).
    #[serde(serialize_with = "ser::duration")]
    pub lookback_delta: Duration,
}

impl Default for QueryConfig {
    fn default() -> Self {
        QueryConfig {
            timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
            max_concurrency: 20,
            lookback_delta: Duration::from_secs(300),
        }
    }
}

/// `[alerting]`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AlertingSection {
    /// External Alertmanagers that get every alert rules fire.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alertmanagers: Vec<AlertmanagerConfig>,
    /// Applied to every alert before it is sent anywhere.
    #[serde(
        serialize_with = "ser::relabels",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub alert_relabel_configs: Vec<Relabel>,
    /// Pharos' own router: route tree, receivers, inhibition, time
    /// intervals (checked as Alertmanager checks them).
    #[serde(skip)]
    pub routing: pharos_alerting::AlertingConfig,
}

impl AlertingSection {
    fn is_empty(&self) -> bool {
        self.alertmanagers.is_empty() && self.alert_relabel_configs.is_empty()
    }
}

/// One external Alertmanager: its addresses and how to reach them.
#[derive(Debug, Clone, Serialize)]
pub struct AlertmanagerConfig {
    /// `host:port` of each Alertmanager.
    pub targets: Vec<String>,
    pub scheme: Scheme,
    /// Prefixed to `/api/v2/alerts`.
    pub path_prefix: String,
    /// Only `v2` (Alertmanager 0.16 and later), as Prometheus 3.
    pub api_version: String,
    #[serde(serialize_with = "ser::duration")]
    pub timeout: Duration,
    #[serde(flatten)]
    pub http: HttpClientConfig,
}

impl AlertmanagerConfig {
    /// The URL alerts are posted to at `target`.
    pub fn alerts_url(&self, target: &str) -> String {
        let prefix = self.path_prefix.trim_end_matches('/');
        format!("{}://{target}{prefix}/api/v2/alerts", self.scheme)
    }
}

/// `[rules]`: which Prometheus rule files to evaluate, and the settings
/// Prometheus has as `--rules.*` flags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulesConfig {
    /// File paths or glob patterns (`*`, `?`, `[…]`, `**`), relative ones
    /// taken from the config file's directory.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Subtracted from every group's evaluation time for its queries, so
    /// late samples are seen (Prometheus' `rule_query_offset`, default 0).
    #[serde(serialize_with = "ser::duration")]
    pub query_offset: Duration,
    /// Least time between two sends of an unchanged firing alert (1m).
    #[serde(serialize_with = "ser::duration")]
    pub resend_delay: Duration,
    /// How long Pharos may be down for alerts to get their `for` state
    /// back after a restart (1h).
    #[serde(serialize_with = "ser::duration")]
    pub for_outage_tolerance: Duration,
    /// The least time a restored alert with a long `for` still waits before
    /// firing (10m).
    #[serde(serialize_with = "ser::duration")]
    pub for_grace_period: Duration,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            files: Vec::new(),
            query_offset: Duration::ZERO,
            resend_delay: Duration::from_secs(60),
            for_outage_tolerance: Duration::from_secs(3600),
            for_grace_period: Duration::from_secs(600),
        }
    }
}

/// `[server]`: where the HTTP API and UI listen.
#[derive(Debug, Clone, Serialize)]
pub struct ServerConfig {
    /// `host:port`; default `127.0.0.1:9090`.
    pub listen: String,
    /// The URL users reach Pharos under, if set.
    #[serde(
        serialize_with = "ser::opt_url",
        skip_serializing_if = "Option::is_none"
    )]
    pub external_url: Option<Url>,
    /// The listener: TLS, basic auth, limits, lifecycle and remote-write
    /// switches (see [`crate::web`]).
    #[serde(flatten)]
    pub web: crate::web::WebConfig,
}

/// `[storage]`: the TSDB.
#[derive(Debug, Clone, Serialize)]
pub struct StorageConfig {
    /// Data directory; default `data`.
    pub path: PathBuf,
    /// Time retention; `None` keeps data regardless of age. Defaults to 15d
    /// when neither `retention` nor `retention_size` is set, as Prometheus.
    #[serde(
        serialize_with = "ser::opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub retention: Option<Duration>,
    /// Size retention; `None` means no size limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_size: Option<ByteSize>,
    /// How far back out-of-order samples are accepted; zero refuses them.
    #[serde(serialize_with = "ser::duration")]
    pub out_of_order_time_window: Duration,
}

/// `[global]`: defaults for every job, and the external labels.
#[derive(Debug, Clone, Serialize)]
pub struct GlobalConfig {
    #[serde(serialize_with = "ser::duration")]
    pub scrape_interval: Duration,
    #[serde(serialize_with = "ser::duration")]
    pub scrape_timeout: Duration,
    #[serde(serialize_with = "ser::duration")]
    pub evaluation_interval: Duration,
    /// Added to series and alerts sent out (remote write, notifications).
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub external_labels: Labels,
}

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    #[default]
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Scheme {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One `[[scrape]]` job, with the global defaults applied.
#[derive(Debug, Clone, Serialize)]
pub struct ScrapeConfig {
    pub job: String,
    #[serde(serialize_with = "ser::duration")]
    pub scrape_interval: Duration,
    /// Never longer than `scrape_interval`.
    #[serde(serialize_with = "ser::duration")]
    pub scrape_timeout: Duration,
    pub metrics_path: String,
    pub scheme: Scheme,
    /// URL query parameters, each with one or more values.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Vec<String>>,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub enable_compression: bool,
    /// Static targets (`host:port`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// Labels added to every static target.
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// Discovery plugins that produce more targets.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discovery: Vec<DiscoveryConfig>,
    #[serde(
        serialize_with = "ser::relabels",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub relabel_configs: Vec<Relabel>,
    #[serde(
        serialize_with = "ser::relabels",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub metric_relabel_configs: Vec<Relabel>,
    /// Limits; 0 means no limit, as in Prometheus.
    pub sample_limit: u64,
    pub label_limit: u64,
    pub label_name_length_limit: u64,
    pub label_value_length_limit: u64,
    pub target_limit: u64,
    /// 0 means no limit.
    pub body_size_limit: ByteSize,
    /// The exposition format to assume when a target's Content-Type is
    /// missing or unknown (Prometheus 3 `fallback_scrape_protocol`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_scrape_protocol: Option<String>,
    #[serde(flatten)]
    pub http: HttpClientConfig,
}

/// One discovery plugin of a scrape job. Its `config` is the plugin's
/// business: the plugin validates it.
#[derive(Debug, Clone, Serialize)]
pub struct DiscoveryConfig {
    pub plugin: String,
    #[serde(serialize_with = "ser::duration")]
    pub refresh_interval: Duration,
    pub config: toml::Table,
    /// Where the entry is written (`scrape[i].discovery[d]`), for errors
    /// found after loading (the plugin refusing its config).
    #[serde(skip)]
    pub location: Location,
}

/// Where a value is written in the config file: errors found after
/// loading (by the plugin platform) point there, as the loader's own do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The file name as given to the loader.
    pub file: String,
    /// 1-based line and column; 0 when unknown.
    pub line: usize,
    pub column: usize,
    /// The key path, such as `scrape[0].discovery[1]`.
    pub key: String,
    /// The scrape or exporter job the key belongs to, if any.
    pub job: Option<String>,
}

impl Location {
    /// An [`Invalid`](crate::Invalid) error at this place; `sub` is
    /// appended to the key path (e.g. `.config`).
    pub fn error(&self, sub: &str, message: impl fmt::Display) -> crate::ConfigError {
        crate::ConfigError::Invalid(crate::Invalid {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            key: format!("{}{sub}", self.key),
            job: self.job.clone(),
            message: message.to_string().replace('\n', "; "),
        })
    }
}

/// How to reach a target or endpoint over HTTP: the settings Prometheus
/// calls `http_client_config` that Pharos supports. Debug and
/// serialization mask the secrets (`proxy_url`'s password as `xxxxx`).
#[derive(Clone, Default, Serialize)]
pub struct HttpClientConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<PathBuf>,
    #[serde(
        serialize_with = "ser::opt_url",
        skip_serializing_if = "Option::is_none"
    )]
    pub proxy_url: Option<Url>,
    #[serde(skip_serializing_if = "TlsConfig::is_default")]
    pub tls: TlsConfig,
}

impl fmt::Debug for HttpClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientConfig")
            .field("basic_auth", &self.basic_auth)
            .field("bearer_token", &self.bearer_token)
            .field("bearer_token_file", &self.bearer_token_file)
            .field(
                "proxy_url",
                &self.proxy_url.as_ref().map(|u| redact_url(u.as_str())),
            )
            .field("tls", &self.tls)
            .finish()
    }
}

/// `basic_auth`: a user name and a password or a file holding one.
#[derive(Debug, Clone, Serialize)]
pub struct BasicAuth {
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
}

/// `tls`: Prometheus' `tls_config`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    pub insecure_skip_verify: bool,
}

impl TlsConfig {
    pub fn is_default(&self) -> bool {
        *self == TlsConfig::default()
    }
}

/// A secret from the config file. Debug, Display and serialization print
/// `<secret>`, as Prometheus does; [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub const MASK: &'static str = "<secret>";

    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MASK)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(Self::MASK)
    }
}

/// One `[[exporter]]` job: a plugin the host calls on a schedule, like a
/// scrape target. Its `config` is the plugin's business.
#[derive(Debug, Clone, Serialize)]
pub struct ExporterConfig {
    pub job: String,
    pub plugin: String,
    /// Defaults to the global `scrape_interval`.
    #[serde(serialize_with = "ser::duration")]
    pub interval: Duration,
    /// The `instance` label of the job's series; defaults to the plugin's
    /// name.
    pub instance: String,
    /// Labels added to every series of the job, like a scrape job's
    /// target `labels`.
    #[serde(skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    pub config: toml::Table,
    /// Where the job is written (`exporter[i]`).
    #[serde(skip)]
    pub location: Location,
}

/// `[plugins.<name>]`: grants and limits for one plugin (see the plugin
/// host for what each grant allows). Nothing is granted by default; unset
/// limits take the plugin host's defaults.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PluginConfig {
    /// Origins the plugin may reach over HTTP (`https://host[:port]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_http: Vec<String>,
    /// Non-public networks (CIDR or address) the plugin may connect to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_private_ips: Vec<String>,
    /// DNS names the plugin may look up (`name`, `*.domain`, `*`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_dns: Vec<String>,
    /// `host:port` pairs the plugin may open TCP connections to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_tcp: Vec<String>,
    /// Absolute directories the plugin may read (read-only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_read: Vec<PathBuf>,
    /// Largest linear memory of one call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<ByteSize>,
    /// CPU time one call may spend running WebAssembly.
    #[serde(
        serialize_with = "ser::opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub cpu_budget: Option<Duration>,
    /// Wall-clock time one call may take.
    #[serde(
        serialize_with = "ser::opt_duration",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<Duration>,
    /// Where the table and each of its values are written: `""` is the
    /// table, `allow_http[1]` one entry, `memory_limit` a key.
    #[serde(skip)]
    pub locations: BTreeMap<String, Location>,
}

impl PluginConfig {
    /// Where `key` (e.g. `allow_http[1]`) is written, or the table.
    pub fn location(&self, key: &str) -> Location {
        self.locations
            .get(key)
            .or_else(|| self.locations.get(""))
            .cloned()
            .unwrap_or_default()
    }
}

/// One `[[remote_write]]` endpoint. Debug and serialization mask the
/// secrets: the URL's password as `xxxxx` (as Prometheus), header values
/// as `<secret>` (they often carry tokens; Prometheus 2.42 prints them).
#[derive(Clone, Serialize)]
pub struct RemoteWriteConfig {
    #[serde(serialize_with = "ser::url")]
    pub url: Url,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(serialize_with = "ser::duration")]
    pub remote_timeout: Duration,
    #[serde(
        serialize_with = "ser::masked_values",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub headers: BTreeMap<String, String>,
    #[serde(
        serialize_with = "ser::relabels",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub write_relabel_configs: Vec<Relabel>,
    pub queue_config: QueueConfig,
    #[serde(flatten)]
    pub http: HttpClientConfig,
}

impl RemoteWriteConfig {
    /// The URL with its password masked, for logs, metrics and files.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.as_str())
    }
}

impl fmt::Debug for RemoteWriteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: BTreeMap<&str, &str> = self
            .headers
            .keys()
            .map(|k| (k.as_str(), Secret::MASK))
            .collect();
        f.debug_struct("RemoteWriteConfig")
            .field("url", &self.redacted_url())
            .field("name", &self.name)
            .field("remote_timeout", &self.remote_timeout)
            .field("headers", &headers)
            .field("write_relabel_configs", &self.write_relabel_configs)
            .field("queue_config", &self.queue_config)
            .field("http", &self.http)
            .finish()
    }
}

/// Remote-write queue tuning, with Prometheus 3's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueConfig {
    pub capacity: u64,
    pub max_shards: u64,
    pub min_shards: u64,
    pub max_samples_per_send: u64,
    #[serde(serialize_with = "ser::duration")]
    pub batch_send_deadline: Duration,
    #[serde(serialize_with = "ser::duration")]
    pub min_backoff: Duration,
    #[serde(serialize_with = "ser::duration")]
    pub max_backoff: Duration,
    pub retry_on_http_429: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 10_000,
            max_shards: 50,
            min_shards: 1,
            max_samples_per_send: 2_000,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            retry_on_http_429: false,
        }
    }
}

/// Serializers for fields whose file form differs from their Rust type.
mod ser {
    use std::time::Duration;

    use pharos_model::format_duration;
    use pharos_relabel::Relabel;
    use serde::Serializer;
    use serde::ser::{SerializeMap, SerializeSeq};
    use std::collections::BTreeMap;
    use url::Url;

    pub(super) fn duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*d))
    }

    pub(super) fn opt_duration<S: Serializer>(
        d: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => duration(d, s),
            None => s.serialize_none(),
        }
    }

    /// The URL with its password masked (`xxxxx`).
    pub(super) fn url<S: Serializer>(u: &Url, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::redact_url(u.as_str()))
    }

    /// A map's keys with every value masked (`<secret>`).
    pub(super) fn masked_values<S: Serializer>(
        m: &BTreeMap<String, String>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(m.len()))?;
        for k in m.keys() {
            map.serialize_entry(k, super::Secret::MASK)?;
        }
        map.end()
    }

    pub(super) fn opt_url<S: Serializer>(u: &Option<Url>, s: S) -> Result<S::Ok, S::Error> {
        match u {
            Some(u) => url(u, s),
            None => s.serialize_none(),
        }
    }

    /// Relabel steps as Prometheus prints them, defaults written out.
    pub(super) fn relabels<S: Serializer>(rs: &[Relabel], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(rs.len()))?;
        for r in rs {
            seq.serialize_element(&r.config().with_defaults())?;
        }
        seq.end()
    }
}
