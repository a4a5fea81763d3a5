//! The file as written: every key optional where it has a default, unknown
//! keys refused, and spans kept on the values that semantic checks point
//! at. [`crate::resolve`] turns this into the effective [`crate::Config`].

use std::collections::BTreeMap;

use pharos_model::PromDuration;
use pharos_relabel::RelabelConfig;
use serde::Deserialize;
use toml::Spanned;

use pharos_alerting::Located;
use pharos_alerting::config::{
    InhibitRuleConfig, ReceiverConfig, RouteConfig, TimeIntervalsConfig,
};

use crate::size::ByteSize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub storage: RawStorage,
    #[serde(default)]
    pub global: RawGlobal,
    #[serde(default)]
    pub scrape: Vec<Spanned<RawScrape>>,
    #[serde(default)]
    pub exporter: Vec<Spanned<RawExporter>>,
    #[serde(default)]
    pub plugins: BTreeMap<String, Spanned<RawPlugin>>,
    #[serde(default)]
    pub remote_write: Vec<Spanned<RawRemoteWrite>>,
    #[serde(default)]
    pub rules: RawRules,
    #[serde(default)]
    pub alerting: RawAlerting,
    #[serde(default)]
    pub query: RawQuery,
    #[serde(default)]
    pub dashboards: Vec<Spanned<RawDashboard>>,
}

/// `[[dashboards]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDashboard {
    pub name: Spanned<String>,
    pub title: Option<String>,
    pub file: Option<Spanned<String>>,
    pub refresh: Option<Spanned<PromDuration>>,
    pub range: Option<Spanned<PromDuration>>,
    #[serde(default)]
    pub rows: Vec<RawDashboardRow>,
}

/// `[[dashboards.rows]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDashboardRow {
    pub title: Option<String>,
    #[serde(default)]
    pub panels: Vec<Spanned<RawDashboardPanel>>,
}

/// `[[dashboards.rows.panels]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDashboardPanel {
    pub title: String,
    #[serde(rename = "type", default)]
    pub kind: crate::types::DashboardPanelKind,
    pub expr: Spanned<String>,
    pub legend: Option<String>,
    pub unit: Option<String>,
    pub width: Option<Spanned<u32>>,
    pub height: Option<Spanned<u32>>,
}

/// `[query]`: the PromQL engine's limits (Prometheus' `--query.*` flags).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuery {
    pub timeout: Option<PromDuration>,
    pub max_samples: Option<u64>,
    pub max_concurrency: Option<u64>,
    pub lookback_delta: Option<PromDuration>,
}

/// `[alerting]`: where Pharos' alerts go — external Alertmanagers
/// (`alertmanagers`, Prometheus' `alerting` section) and Pharos' own
/// router (the rest, Alertmanager's configuration in TOML; its types and
/// checks are `pharos-alerting`'s).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlerting {
    #[serde(default)]
    pub alertmanagers: Vec<Spanned<RawAlertmanager>>,
    #[serde(default)]
    pub alert_relabel_configs: Vec<Spanned<RelabelConfig>>,
    pub resolve_timeout: Option<Located<PromDuration>>,
    pub route: Option<Located<RouteConfig>>,
    #[serde(default)]
    pub receivers: Vec<Located<ReceiverConfig>>,
    #[serde(default)]
    pub inhibit_rules: Vec<Located<InhibitRuleConfig>>,
    #[serde(default)]
    pub time_intervals: Vec<Located<TimeIntervalsConfig>>,
    #[serde(default)]
    pub templates: Vec<Located<String>>,
}

/// One `[[alerting.alertmanagers]]` entry: Prometheus' `alertmanager_config`
/// with static targets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAlertmanager {
    pub targets: Vec<Spanned<String>>,
    pub scheme: Option<Spanned<String>>,
    pub path_prefix: Option<Spanned<String>>,
    pub api_version: Option<Spanned<String>>,
    pub timeout: Option<PromDuration>,
    pub tls: Option<Spanned<RawTls>>,
    pub basic_auth: Option<Spanned<RawBasicAuth>>,
    pub bearer_token: Option<Spanned<String>>,
    pub bearer_token_file: Option<Spanned<String>>,
    pub proxy_url: Option<Spanned<String>>,
}

impl RawAlertmanager {
    pub fn http(&self) -> RawHttp<'_> {
        RawHttp {
            tls: &self.tls,
            basic_auth: &self.basic_auth,
            bearer_token: &self.bearer_token,
            bearer_token_file: &self.bearer_token_file,
            proxy_url: &self.proxy_url,
        }
    }
}

/// `[rules]`: Prometheus rule files and how alerts are evaluated.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRules {
    #[serde(default)]
    pub files: Vec<Spanned<String>>,
    pub query_offset: Option<PromDuration>,
    pub resend_delay: Option<PromDuration>,
    pub for_outage_tolerance: Option<PromDuration>,
    pub for_grace_period: Option<PromDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub listen: Option<Spanned<String>>,
    pub external_url: Option<Spanned<String>>,
    // The listener's keys, resolved by `crate::web`.
    pub enable_lifecycle: Option<bool>,
    pub enable_remote_write_receiver: Option<bool>,
    pub remote_write_receiver_max_concurrency: Option<u64>,
    pub max_connections: Option<u64>,
    pub read_header_timeout: Option<PromDuration>,
    pub read_timeout: Option<PromDuration>,
    pub idle_timeout: Option<PromDuration>,
    #[serde(default)]
    pub basic_auth_users: BTreeMap<Spanned<String>, Spanned<String>>,
    pub tls_server_config: Option<Spanned<crate::web::RawTlsServer>>,
    pub http_server_config: Option<Spanned<crate::web::RawHttpServer>>,
    pub rate_limit: Option<Spanned<crate::web::RawRateLimit>>,
}

impl RawServer {
    pub fn web(&self) -> crate::web::RawWeb<'_> {
        crate::web::RawWeb {
            enable_lifecycle: self.enable_lifecycle,
            enable_remote_write_receiver: self.enable_remote_write_receiver,
            remote_write_receiver_max_concurrency: self.remote_write_receiver_max_concurrency,
            max_connections: self.max_connections,
            read_header_timeout: self.read_header_timeout,
            read_timeout: self.read_timeout,
            idle_timeout: self.idle_timeout,
            basic_auth_users: &self.basic_auth_users,
            tls_server_config: &self.tls_server_config,
            http_server_config: &self.http_server_config,
            rate_limit: &self.rate_limit,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStorage {
    pub path: Option<Spanned<String>>,
    pub retention: Option<PromDuration>,
    pub retention_size: Option<ByteSize>,
    pub out_of_order_time_window: Option<PromDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGlobal {
    pub scrape_interval: Option<PromDuration>,
    pub scrape_timeout: Option<Spanned<PromDuration>>,
    pub evaluation_interval: Option<PromDuration>,
    #[serde(default)]
    pub external_labels: BTreeMap<Spanned<String>, String>,
}

/// The HTTP client keys, shared by `[[scrape]]` and `[[remote_write]]`.
/// (Listed in both structs: `deny_unknown_fields` does not combine with
/// `flatten`.)
pub(crate) struct RawHttp<'a> {
    pub tls: &'a Option<Spanned<RawTls>>,
    pub basic_auth: &'a Option<Spanned<RawBasicAuth>>,
    pub bearer_token: &'a Option<Spanned<String>>,
    pub bearer_token_file: &'a Option<Spanned<String>>,
    pub proxy_url: &'a Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScrape {
    pub job: Spanned<String>,
    pub scrape_interval: Option<PromDuration>,
    pub scrape_timeout: Option<Spanned<PromDuration>>,
    pub metrics_path: Option<Spanned<String>>,
    pub scheme: Option<Spanned<String>>,
    #[serde(default)]
    pub params: BTreeMap<String, Vec<String>>,
    pub honor_labels: Option<bool>,
    pub honor_timestamps: Option<bool>,
    pub enable_compression: Option<bool>,
    #[serde(default)]
    pub targets: Vec<Spanned<String>>,
    #[serde(default)]
    pub labels: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    pub discovery: Vec<Spanned<RawDiscovery>>,
    #[serde(default)]
    pub relabel_configs: Vec<Spanned<RelabelConfig>>,
    #[serde(default)]
    pub metric_relabel_configs: Vec<Spanned<RelabelConfig>>,
    pub sample_limit: Option<u64>,
    pub label_limit: Option<u64>,
    pub label_name_length_limit: Option<u64>,
    pub label_value_length_limit: Option<u64>,
    pub target_limit: Option<u64>,
    pub body_size_limit: Option<ByteSize>,
    pub fallback_scrape_protocol: Option<Spanned<String>>,
    pub tls: Option<Spanned<RawTls>>,
    pub basic_auth: Option<Spanned<RawBasicAuth>>,
    pub bearer_token: Option<Spanned<String>>,
    pub bearer_token_file: Option<Spanned<String>>,
    pub proxy_url: Option<Spanned<String>>,
}

impl RawScrape {
    pub fn http(&self) -> RawHttp<'_> {
        RawHttp {
            tls: &self.tls,
            basic_auth: &self.basic_auth,
            bearer_token: &self.bearer_token,
            bearer_token_file: &self.bearer_token_file,
            proxy_url: &self.proxy_url,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDiscovery {
    pub plugin: Spanned<String>,
    pub refresh_interval: Option<PromDuration>,
    #[serde(default)]
    pub config: toml::Table,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTls {
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub server_name: Option<String>,
    pub insecure_skip_verify: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBasicAuth {
    #[serde(default)]
    pub username: String,
    pub password: Option<String>,
    pub password_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExporter {
    pub job: Spanned<String>,
    pub plugin: Spanned<String>,
    pub interval: Option<PromDuration>,
    pub instance: Option<Spanned<String>>,
    #[serde(default)]
    pub labels: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    pub config: toml::Table,
}

/// `[plugins.<name>]`: the plugin's grants and limits. Unknown keys are
/// refused like everywhere else; entries keep their spans so the plugin
/// platform can point at a grant it cannot parse.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlugin {
    #[serde(default)]
    pub allow_http: Vec<Spanned<String>>,
    #[serde(default)]
    pub allow_private_ips: Vec<Spanned<String>>,
    #[serde(default)]
    pub allow_dns: Vec<Spanned<String>>,
    #[serde(default)]
    pub allow_tcp: Vec<Spanned<String>>,
    #[serde(default)]
    pub allow_read: Vec<Spanned<String>>,
    pub memory_limit: Option<Spanned<ByteSize>>,
    pub cpu_budget: Option<PromDuration>,
    pub timeout: Option<PromDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRemoteWrite {
    pub url: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub remote_timeout: Option<PromDuration>,
    #[serde(default)]
    pub headers: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    pub write_relabel_configs: Vec<Spanned<RelabelConfig>>,
    pub queue_config: Option<Spanned<RawQueue>>,
    pub tls: Option<Spanned<RawTls>>,
    pub basic_auth: Option<Spanned<RawBasicAuth>>,
    pub bearer_token: Option<Spanned<String>>,
    pub bearer_token_file: Option<Spanned<String>>,
    pub proxy_url: Option<Spanned<String>>,
}

impl RawRemoteWrite {
    pub fn http(&self) -> RawHttp<'_> {
        RawHttp {
            tls: &self.tls,
            basic_auth: &self.basic_auth,
            bearer_token: &self.bearer_token,
            bearer_token_file: &self.bearer_token_file,
            proxy_url: &self.proxy_url,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQueue {
    pub capacity: Option<u64>,
    pub max_shards: Option<u64>,
    pub min_shards: Option<u64>,
    pub max_samples_per_send: Option<u64>,
    pub batch_send_deadline: Option<PromDuration>,
    pub min_backoff: Option<PromDuration>,
    pub max_backoff: Option<PromDuration>,
    pub retry_on_http_429: Option<bool>,
}
