//! The three Consul HTTP API calls the plugin makes, and the shapes of their
//! answers (only the fields Prometheus' Consul SD reads).

use crate::Config;
use pharos_sdk::Error;
use pharos_sdk::http::Request;
use std::collections::BTreeMap;
use std::time::Duration;

/// One entry of `/v1/health/service/<name>`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceEntry {
    #[serde(default)]
    pub node: Node,
    #[serde(default)]
    pub service: Service,
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// The node of a service entry.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Node {
    #[serde(default)]
    pub node: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub tagged_addresses: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub meta: Option<BTreeMap<String, String>>,
}

/// The service instance of a service entry.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Service {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub meta: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub partition: String,
}

/// A health check of a service entry.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Check {
    #[serde(rename = "CheckID", default)]
    pub check_id: String,
    #[serde(default)]
    pub status: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AgentSelf {
    config: AgentConfig,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AgentConfig {
    datacenter: String,
}

/// Percent-encodes a query parameter or path segment (RFC 3986 unreserved
/// characters stay).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A Consul API client for one configuration.
pub struct Client<'a> {
    config: &'a Config,
    base: String,
}

impl<'a> Client<'a> {
    pub fn new(config: &'a Config) -> Self {
        let prefix = config.path_prefix.trim_end_matches('/');
        Client {
            config,
            base: format!("{}://{}{prefix}", config.scheme, config.server),
        }
    }

    fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Error> {
        let mut url = format!("{}{path}", self.base);
        for (i, (k, v)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(k);
            if !v.is_empty() {
                url.push('=');
                url.push_str(&encode(v));
            }
        }
        let mut request = Request::get(url.as_str()).header("Accept", "application/json");
        if let Some(token) = &self.config.token {
            request = request.header("X-Consul-Token", token.as_str());
        }
        if let Some(t) = self.config.timeout_seconds {
            request = request.timeout(Duration::from_secs_f64(t));
        }
        Ok(request.send()?.error_for_status()?.json()?)
    }

    /// Query parameters common to the catalog and health calls.
    fn common(&self, dc: &str) -> Vec<(&'static str, String)> {
        let mut q = vec![("dc", dc.to_owned())];
        if self.config.allow_stale {
            q.push(("stale", String::new()));
        }
        for (k, v) in &self.config.node_meta {
            q.push(("node-meta", format!("{k}:{v}")));
        }
        if let Some(f) = &self.config.filter {
            q.push(("filter", f.clone()));
        }
        if let Some(ns) = &self.config.namespace {
            q.push(("ns", ns.clone()));
        }
        if let Some(p) = &self.config.partition {
            q.push(("partition", p.clone()));
        }
        q
    }

    /// The datacenter of the agent (`/v1/agent/self`).
    pub fn agent_datacenter(&self) -> Result<String, Error> {
        let me: AgentSelf = self.get("/v1/agent/self", &[])?;
        Ok(me.config.datacenter)
    }

    /// Every service with its tags (`/v1/catalog/services`), sorted by name.
    pub fn catalog_services(&self, dc: &str) -> Result<BTreeMap<String, Vec<String>>, Error> {
        let services: BTreeMap<String, Option<Vec<String>>> =
            self.get("/v1/catalog/services", &self.common(dc))?;
        Ok(services
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect())
    }

    /// The instances of a service with their checks (`/v1/health/service/<name>`).
    pub fn health_service(&self, dc: &str, service: &str) -> Result<Vec<ServiceEntry>, Error> {
        let mut q = self.common(dc);
        for t in &self.config.tags {
            q.push(("tag", t.clone()));
        }
        let entries: Option<Vec<ServiceEntry>> =
            self.get(&format!("/v1/health/service/{}", encode(service)), &q)?;
        Ok(entries.unwrap_or_default())
    }
}
