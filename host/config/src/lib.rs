//! The Pharos configuration file, `pharos.toml`: loading, Prometheus'
//! defaults, validation with clear errors, and rendering back out.
//!
//! ```
//! use pharos_config::Config;
//!
//! let config = Config::from_toml(
//!     r#"
//!     [global]
//!     scrape_interval = "15s"
//!
//!     [[scrape]]
//!     job = "node"
//!     targets = ["127.0.0.1:9100"]
//!     "#,
//!     "pharos.toml",
//! )
//! .unwrap();
//! assert_eq!(config.scrape[0].scrape_timeout.as_secs(), 10);
//! assert_eq!(config.scrape[0].metrics_path, "/metrics");
//!
//! let err = Config::from_toml("[global]\nscrape_interval = 15\n", "pharos.toml").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     r#"pharos.toml:2:19: global.scrape_interval: invalid type: integer `15`, expected a duration string such as "15s", "1m30s" or "1d""#
//! );
//! ```
//!
//! # Public API
//! - [`Config::load`]`(path) -> Result<Config, ConfigError>` reads a file;
//!   [`Config::from_toml`]`(text, file_name)` parses text (errors name
//!   `file_name`); [`Config::embedded_default`] is the config used when none
//!   is given ([`DEFAULT_TOML`]: scrape Pharos itself on 127.0.0.1:9090).
//! - [`Config`] and its parts ([`ScrapeConfig`], [`RemoteWriteConfig`], …)
//!   are the effective config: every default filled in (Prometheus' where
//!   Prometheus has one), durations as `std::time::Duration`, relabel steps
//!   compiled ([`pharos_relabel::Relabel`]), secrets wrapped in [`Secret`].
//! - [`Config::to_toml`] and [`Config::to_prometheus_yaml`] render it back,
//!   secrets masked; the YAML form is what `/api/v1/status/config` serves.
//! - [`ConfigError`]: `Read` (I/O) or `Invalid` ([`Invalid`]: file, line,
//!   column, key path, job, message), printed as
//!   `file:line:column: key (job "name"): message`.
//! - [`ByteSize`] reads sizes as Prometheus does (`512MiB`; `1GB` is 2^30).
//!
//! # Rules
//! - Unknown keys are errors everywhere except in plugin-owned tables
//!   (`config = {…}` of discovery and exporter entries, which the plugin
//!   validates). `[plugins.<name>]` takes the grants `allow_http`,
//!   `allow_private_ips`, `allow_dns`, `allow_tcp`, `allow_read` and the
//!   limits `memory_limit`, `cpu_budget`, `timeout`; the plugin platform
//!   parses the grants and checks the plugin configs, and reports what it
//!   refuses at the place it is written ([`Location`]).
//! - Semantic checks use Prometheus' texts where Prometheus has the check
//!   (timeout greater than interval, duplicate job names, label names,
//!   relabel steps, auth combinations, reserved remote-write headers).
//! - Label names are checked with the legacy rule, as in Prometheus 2.
//! - `[rules]` lists Prometheus rule files (paths or glob patterns); the
//!   files themselves are loaded and checked by `pharos-rules`.
//! - `[alerting]`: `alertmanagers` (external Alertmanagers, Prometheus'
//!   `alerting.alertmanagers` with static targets), `alert_relabel_configs`,
//!   and Pharos' own router (`route`, `receivers`, `inhibit_rules`,
//!   `time_intervals`, `resolve_timeout`), whose types and Alertmanager's
//!   checks live in `pharos-alerting`. The router part is not rendered by
//!   [`Config::to_toml`] yet.
//! - `[server]` holds the listener's keys ([`web`]): Prometheus' web config
//!   file (`tls_server_config`, `basic_auth_users` as bcrypt hashes) and
//!   its `--web.*` flags (`enable_lifecycle`, `max_connections`, timeouts,
//!   the remote-write receiver's switch and concurrency). The certificate
//!   files are read by the listener, which points its errors back here.

mod error;
mod raw;
mod redact;
pub mod render;
mod resolve;
mod size;
#[cfg(test)]
mod tests;
mod types;
pub mod web;
mod yaml;

use std::path::Path;

pub use error::{ConfigError, Invalid};
pub use redact::{REDACTED_PASSWORD, redact_url};
pub use size::{ByteSize, SizeError};
pub use types::*;
pub use web::{
    ClientAuthType, HttpServerConfig, Pem, PemSource, RateLimit, TlsServerConfig, TlsVersion,
    WebConfig,
};

use error::Locator;
use raw::RawConfig;

/// The config used when none is given: serve on 127.0.0.1:9090, store into
/// `./data`, scrape Pharos itself.
pub const DEFAULT_TOML: &str = include_str!("../default.toml");

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        Config::from_toml(&text, &file)
    }

    /// Parses and validates config text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Config, ConfigError> {
        let mut loc = Locator {
            src: text,
            file,
            jobs: Vec::new(),
        };
        let de = toml::Deserializer::parse(text).map_err(|e| {
            // Name the key when the parser only says "duplicate key".
            let named = e.span().and_then(|s| text.get(s)).filter(|k| !k.is_empty());
            match named {
                Some(k) if e.message() == "duplicate key" => {
                    loc.error(e.span(), "", format!("duplicate key `{k}`"))
                }
                _ => loc.error(e.span(), "", e.message()),
            }
        })?;
        let raw: RawConfig = match serde_path_to_error::deserialize(de) {
            Ok(raw) => raw,
            Err(e) => {
                // `toml::Spanned` shows up in the path as a pseudo-field.
                let key = e
                    .path()
                    .to_string()
                    .replace(".$__serde_spanned_private_value", "");
                let key = if key == "." { String::new() } else { key };
                loc.jobs = job_names_from_text(text);
                let e = e.into_inner();
                return Err(loc.error(e.span(), key, e.message()));
            }
        };
        loc.jobs = raw
            .scrape
            .iter()
            .enumerate()
            .map(|(i, s)| ("scrape", i, s.get_ref().job.get_ref().clone()))
            .chain(
                raw.exporter
                    .iter()
                    .enumerate()
                    .map(|(i, e)| ("exporter", i, e.get_ref().job.get_ref().clone())),
            )
            .collect();
        resolve::resolve(raw, &loc)
    }

    /// The embedded default config ([`DEFAULT_TOML`]).
    pub fn embedded_default() -> Result<Config, ConfigError> {
        Config::from_toml(DEFAULT_TOML, "<default config>")
    }
}

/// Job names read from text that failed to deserialize, to name the job
/// an error belongs to.
fn job_names_from_text(text: &str) -> Vec<(&'static str, usize, String)> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let mut jobs = Vec::new();
    for section in ["scrape", "exporter"] {
        let entries = table.get(section).and_then(toml::Value::as_array);
        for (i, entry) in entries.into_iter().flatten().enumerate() {
            if let Some(job) = entry.get("job").and_then(toml::Value::as_str) {
                jobs.push((section, i, job.to_owned()));
            }
        }
    }
    jobs
}
