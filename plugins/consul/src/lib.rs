//! `consul` discovery: Prometheus' `consul_sd_config` as a Pharos plugin.
//!
//! Asks Consul's HTTP API for the catalog's services
//! (`/v1/catalog/services`), keeps those the configuration selects
//! (`services`, `tags`), and lists each one's instances with their health
//! (`/v1/health/service/<name>`). Each service becomes one target group
//! (source: the service name) with the labels Prometheus' Consul SD sets
//! (<https://prometheus.io/docs/prometheus/latest/configuration/configuration/#consul_sd_config>):
//! `__meta_consul_service` and `__meta_consul_dc` on the group; per
//! instance `__address__` (the service address, else the node address, with
//! the service port), `__meta_consul_address`, `__meta_consul_node`,
//! `__meta_consul_tags` (joined by `tag_separator`, with one at each end),
//! `__meta_consul_service_address`, `__meta_consul_service_port`,
//! `__meta_consul_service_id`, `__meta_consul_health`,
//! `__meta_consul_namespace`, `__meta_consul_partition`,
//! `__meta_consul_metadata_<key>` (node meta),
//! `__meta_consul_service_metadata_<key>` and
//! `__meta_consul_tagged_address_<key>` (node tagged addresses).
//!
//! Configuration keys follow Prometheus: `server` (`localhost:8500`),
//! `scheme`, `path_prefix`, `token` (sent as `X-Consul-Token`),
//! `datacenter` (asked from `/v1/agent/self` when absent), `namespace`,
//! `partition`, `services`, `tags`, `node_meta`, `tag_separator`,
//! `allow_stale` (default true), `filter`. The operator grants the server
//! in `allow_http`.

mod api;
mod targets;

use pharos_sdk::{Discovery, Error, TargetGroup};
use std::collections::BTreeMap;

/// The plugin's configuration.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_server")]
    server: String,
    #[serde(default = "default_scheme")]
    scheme: String,
    #[serde(default)]
    path_prefix: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    datacenter: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    partition: Option<String>,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    node_meta: BTreeMap<String, String>,
    #[serde(default = "default_separator")]
    tag_separator: String,
    #[serde(default = "default_true")]
    allow_stale: bool,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    timeout_seconds: Option<f64>,
    #[serde(default)]
    #[allow(dead_code)]
    refresh_interval: Option<serde_json::Value>,
}

fn default_server() -> String {
    "localhost:8500".into()
}
fn default_scheme() -> String {
    "http".into()
}
fn default_separator() -> String {
    ",".into()
}
fn default_true() -> bool {
    true
}

struct ConsulSd;

impl Discovery for ConsulSd {
    type Config = Config;
    const NAME: &'static str = "consul";
    const DESCRIPTION: &'static str =
        "Targets from Consul's catalog and health API, as Prometheus' consul_sd.";
    const CONFIG_SCHEMA: &'static str = include_str!("../schema.json");

    fn validate(config: &Config) -> Result<(), Error> {
        if config.scheme != "http" && config.scheme != "https" {
            return Err(Error::config("`scheme` must be \"http\" or \"https\""));
        }
        if config.server.is_empty() || config.server.contains('/') {
            return Err(Error::config(
                "`server` must be host:port (e.g. \"localhost:8500\"), without a scheme or path",
            ));
        }
        if let Some(t) = config.timeout_seconds
            && !(t > 0.0 && t.is_finite())
        {
            return Err(Error::config("`timeout_seconds` must be a positive number"));
        }
        Ok(())
    }

    fn discover(config: Config) -> Result<Vec<TargetGroup>, Error> {
        let client = api::Client::new(&config);
        let dc = match &config.datacenter {
            Some(dc) => dc.clone(),
            None => client.agent_datacenter()?,
        };
        let services = client.catalog_services(&dc)?;
        let mut groups = Vec::new();
        for (name, tags) in &services {
            if !targets::should_watch(&config.services, &config.tags, name, tags) {
                continue;
            }
            let entries = client.health_service(&dc, name)?;
            groups.push(targets::group(name, &dc, &config.tag_separator, &entries));
        }
        Ok(groups)
    }
}

pharos_sdk::export!(discovery: ConsulSd);
