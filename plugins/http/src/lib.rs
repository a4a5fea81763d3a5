//! `http` discovery: Prometheus' `http_sd_config` as a Pharos plugin.
//!
//! Fetches `url` with a GET and reads the body as a JSON list of target
//! groups, `[{"targets": ["host:port", …], "labels": {"name": "value"}}]`,
//! exactly as Prometheus' HTTP SD does
//! (<https://prometheus.io/docs/prometheus/latest/http_sd/>):
//!
//! - the response must have status 200 and `Content-Type: application/json`
//!   (optionally with `charset=utf-8`); a `null` body means no targets;
//! - each target becomes a label set `{__address__="host:port"}`;
//! - each group gets the label `__meta_url` with the URL it came from, and
//!   the source `<url>:<index of the group>`;
//! - label names must be valid Prometheus label names.
//!
//! Configuration (JSON, converted from the job's TOML):
//!
//! ```json
//! {"url": "https://sd.example.org/targets",
//!  "headers": {"Authorization": "Bearer …"},
//!  "timeout_seconds": 10,
//!  "refresh_interval_seconds": 60}
//! ```
//!
//! `refresh_interval_seconds`, when given, is sent as the
//! `X-Prometheus-Refresh-Interval-Seconds` header, as Prometheus does.

mod parse;

use pharos_sdk::http::Request;
use pharos_sdk::{Discovery, Error, TargetGroup};
use std::collections::BTreeMap;
use std::time::Duration;

/// The plugin's configuration.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    timeout_seconds: Option<f64>,
    #[serde(default)]
    refresh_interval_seconds: Option<f64>,
}

struct HttpSd;

impl Discovery for HttpSd {
    type Config = Config;
    const NAME: &'static str = "http";
    const DESCRIPTION: &'static str =
        "Targets from an HTTP endpoint in Prometheus' http_sd JSON format.";
    const CONFIG_SCHEMA: &'static str = include_str!("../schema.json");

    fn validate(config: &Config) -> Result<(), Error> {
        parse::check_url(&config.url).map_err(Error::config)?;
        if let Some(t) = config.timeout_seconds
            && !(t > 0.0 && t.is_finite())
        {
            return Err(Error::config("`timeout_seconds` must be a positive number"));
        }
        Ok(())
    }

    fn discover(config: Config) -> Result<Vec<TargetGroup>, Error> {
        let mut request = Request::get(config.url.as_str())
            .header("Accept", "application/json")
            .header(
                "User-Agent",
                concat!("pharos-http-sd/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(r) = config.refresh_interval_seconds {
            request = request.header("X-Prometheus-Refresh-Interval-Seconds", r.to_string());
        }
        for (name, value) in &config.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(t) = config.timeout_seconds {
            request = request.timeout(Duration::from_secs_f64(t));
        }
        let response = request.send()?;
        if response.status() != 200 {
            let err = Error::transient(format!(
                "server returned HTTP status {} for {}",
                response.status(),
                config.url
            ));
            return Err(err);
        }
        let content_type = response.header("content-type").unwrap_or("");
        if !parse::is_json_content_type(content_type) {
            return Err(Error::permanent(format!(
                "unsupported content type {content_type:?} from {}",
                config.url
            )));
        }
        parse::target_groups(&config.url, response.body()).map_err(Error::permanent)
    }
}

pharos_sdk::export!(discovery: HttpSd);
