//! `json` exporter: fetches a JSON document over HTTP and turns fields into
//! metrics by configured paths, like prometheus-community's json_exporter
//! (with a simpler path syntax).
//!
//! ```json
//! {"url": "http://app:8080/stats",
//!  "metrics": [
//!    {"name": "app_uptime_seconds", "path": "uptime"},
//!    {"name": "app_queue_depth", "path": "queues.*", "value": "depth",
//!     "labels": {"queue": "name", "index": "$key"}}]}
//! ```
//!
//! Paths are dot-separated keys; a number selects an array element; `*`
//! selects every element of an array or every value of an object, one
//! sample each. `value` and `labels` are paths inside each selected item
//! (`value` defaults to the item itself); `$key` in `labels` is the key or
//! index the last `*` matched. Numbers are taken as they are, booleans as 1
//! and 0, numeric strings parsed; `null` and anything else yields no
//! sample. A path that selects nothing gives a family without samples.
//! Metric types: `gauge` (default), `counter`, `untyped`.
//!
//! The document's server must be granted in `allow_http`. HTTP and parse
//! failures fail the collection (`up` = 0 for the job).

mod extract;

use extract::MetricSpec;
use pharos_sdk::http::Request;
use pharos_sdk::{Error, Exporter, MetricFamily};
use std::collections::BTreeMap;
use std::time::Duration;

/// The plugin's configuration.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    timeout_seconds: Option<f64>,
    metrics: Vec<MetricSpec>,
}

struct JsonExporter;

impl Exporter for JsonExporter {
    type Config = Config;
    const NAME: &'static str = "json";
    const DESCRIPTION: &'static str = "Metrics from fields of a JSON document fetched over HTTP.";
    const CONFIG_SCHEMA: &'static str = include_str!("../schema.json");

    fn validate(config: &Config) -> Result<(), Error> {
        let lower = config.url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(Error::config("`url` must be an http:// or https:// URL"));
        }
        if let Some(t) = config.timeout_seconds
            && !(t > 0.0 && t.is_finite())
        {
            return Err(Error::config("`timeout_seconds` must be a positive number"));
        }
        extract::validate(&config.metrics).map_err(Error::config)
    }

    fn collect(config: Config) -> Result<Vec<MetricFamily>, Error> {
        let mut request = Request::get(config.url.as_str()).header("Accept", "application/json");
        for (k, v) in &config.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        if let Some(t) = config.timeout_seconds {
            request = request.timeout(Duration::from_secs_f64(t));
        }
        let doc: serde_json::Value = request.send()?.error_for_status()?.json()?;
        Ok(config
            .metrics
            .iter()
            .map(|spec| extract::family(spec, &doc))
            .collect())
    }
}

pharos_sdk::export!(exporter: JsonExporter);
