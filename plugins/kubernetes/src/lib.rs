//! `kubernetes` discovery: Prometheus' `kubernetes_sd_config` for the
//! `node`, `service`, `pod` and `endpoints` roles, as a Pharos plugin.
//!
//! Lists the role's objects from the API server (`/api/v1/...`, in every
//! namespace or in `namespaces.names`, filtered by `selectors`) with a
//! bearer token, and builds the target groups and `__meta_kubernetes_*`
//! labels Prometheus' Kubernetes SD builds
//! (<https://prometheus.io/docs/prometheus/latest/configuration/configuration/#kubernetes_sd_config>);
//! see `targets.rs` for each role. Prometheus watches; this plugin lists on
//! every call, which gives the same groups at each refresh.
//!
//! Configuration: `api_server` (required: in-cluster discovery is not
//! automatic), `role`, `bearer_token` or `bearer_token_file` (its directory
//! granted in `allow_read`), `namespaces: {names: [...]}`, `selectors:
//! [{role, label, field}]`, `timeout_seconds`. The API server must be
//! granted in `allow_http`; its certificate must chain to a public root
//! (custom CAs are not supported yet).

mod api;
mod targets;

use api::{Client, ObjectList};
use pharos_sdk::{Discovery, Error, TargetGroup};

/// A Kubernetes SD role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// One target per node (the kubelet).
    Node,
    /// One target per service port.
    Service,
    /// One target per container port of each pod.
    Pod,
    /// One target per address and port of each `Endpoints` object.
    Endpoints,
}

/// `namespaces` as Prometheus writes it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Namespaces {
    #[serde(default)]
    names: Vec<String>,
}

/// One `selectors` entry.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    role: Role,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    field: Option<String>,
}

/// The plugin's configuration.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    api_server: String,
    role: Role,
    #[serde(default)]
    bearer_token: Option<String>,
    #[serde(default)]
    bearer_token_file: Option<String>,
    #[serde(default)]
    namespaces: Namespaces,
    #[serde(default)]
    selectors: Vec<Selector>,
    #[serde(default)]
    timeout_seconds: Option<f64>,
    #[serde(default)]
    #[allow(dead_code)]
    refresh_interval: Option<serde_json::Value>,
}

struct KubernetesSd;

impl Discovery for KubernetesSd {
    type Config = Config;
    const NAME: &'static str = "kubernetes";
    const DESCRIPTION: &'static str = "Targets from the Kubernetes API (node, service, pod, endpoints roles), as Prometheus' kubernetes_sd.";
    const CONFIG_SCHEMA: &'static str = include_str!("../schema.json");

    fn validate(config: &Config) -> Result<(), Error> {
        let scheme_ok =
            config.api_server.starts_with("http://") || config.api_server.starts_with("https://");
        if !scheme_ok {
            return Err(Error::config(
                "`api_server` must be an http:// or https:// URL",
            ));
        }
        if config.bearer_token.is_some() && config.bearer_token_file.is_some() {
            return Err(Error::config(
                "give `bearer_token` or `bearer_token_file`, not both",
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
        let client = Client::new(&config)?;
        let groups = match config.role {
            Role::Node => {
                let nodes: ObjectList<api::Node> = client.list_cluster("nodes", Role::Node)?;
                nodes.items.iter().map(targets::node_group).collect()
            }
            Role::Service => {
                let services: Vec<api::Service> = client.list("services", Role::Service)?;
                services.iter().map(targets::service_group).collect()
            }
            Role::Pod => {
                let pods: Vec<api::Pod> = client.list("pods", Role::Pod)?;
                pods.iter().map(targets::pod_group).collect()
            }
            Role::Endpoints => {
                let endpoints: Vec<api::Endpoints> = client.list("endpoints", Role::Endpoints)?;
                let services: Vec<api::Service> = client.list("services", Role::Service)?;
                let pods: Vec<api::Pod> = client.list("pods", Role::Pod)?;
                endpoints
                    .iter()
                    .map(|e| targets::endpoints_group(e, &services, &pods))
                    .collect()
            }
        };
        Ok(groups)
    }
}

pharos_sdk::export!(discovery: KubernetesSd);
