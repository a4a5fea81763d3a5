//! Listing objects from the Kubernetes API server, and the parts of the
//! objects the labels need (core/v1 Node, Service, Pod, Endpoints).

use crate::{Config, Role};
use pharos_sdk::Error;
use pharos_sdk::http::Request;
use std::collections::BTreeMap;
use std::time::Duration;

/// A `…List` answer.
#[derive(Debug, serde::Deserialize)]
pub struct ObjectList<T> {
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
}

/// `metadata.ownerReferences[]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub controller: Option<bool>,
}

/// `metadata`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub owner_references: Vec<OwnerReference>,
}

/// A Node.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Node {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: NodeSpec,
    #[serde(default)]
    pub status: NodeStatus,
}

/// `Node.spec`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSpec {
    #[serde(rename = "providerID", default)]
    pub provider_id: String,
}

/// `Node.status`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    #[serde(default)]
    pub addresses: Vec<NodeAddress>,
    #[serde(default)]
    pub daemon_endpoints: DaemonEndpoints,
}

/// `Node.status.addresses[]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NodeAddress {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub address: String,
}

/// `Node.status.daemonEndpoints`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonEndpoints {
    #[serde(default)]
    pub kubelet_endpoint: KubeletEndpoint,
}

/// `Node.status.daemonEndpoints.kubeletEndpoint`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KubeletEndpoint {
    #[serde(default)]
    pub port: u16,
}

/// A Service.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Service {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: ServiceSpec,
    #[serde(default)]
    pub status: ServiceStatus,
}

/// `Service.spec`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(rename = "clusterIP", default)]
    pub cluster_ip: String,
    #[serde(default)]
    pub external_name: String,
    #[serde(default)]
    pub ports: Vec<ServicePort>,
}

/// `Service.spec.ports[]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ServicePort {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub protocol: String,
}

/// `Service.status`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    #[serde(default)]
    pub load_balancer: LoadBalancerStatus,
}

/// `Service.status.loadBalancer`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LoadBalancerStatus {
    #[serde(default)]
    pub ingress: Vec<LoadBalancerIngress>,
}

/// `Service.status.loadBalancer.ingress[]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LoadBalancerIngress {
    #[serde(default)]
    pub ip: String,
}

/// A Pod.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Pod {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub spec: PodSpec,
    #[serde(default)]
    pub status: PodStatus,
}

/// `Pod.spec`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default)]
    pub node_name: String,
    #[serde(default)]
    pub containers: Vec<Container>,
    #[serde(default)]
    pub init_containers: Vec<Container>,
}

/// `Pod.spec.containers[]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Container {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub ports: Vec<ContainerPort>,
}

/// `Pod.spec.containers[].ports[]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub container_port: u16,
    #[serde(default)]
    pub protocol: String,
}

/// `Pod.status`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    #[serde(default)]
    pub phase: String,
    #[serde(rename = "podIP", default)]
    pub pod_ip: String,
    #[serde(rename = "hostIP", default)]
    pub host_ip: String,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub container_statuses: Vec<ContainerStatus>,
    #[serde(default)]
    pub init_container_statuses: Vec<ContainerStatus>,
}

/// `Pod.status.conditions[]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Condition {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub status: String,
}

/// `Pod.status.containerStatuses[]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    #[serde(default)]
    pub name: String,
    #[serde(rename = "containerID", default)]
    pub container_id: String,
}

/// An Endpoints object.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Endpoints {
    #[serde(default)]
    pub metadata: Meta,
    #[serde(default)]
    pub subsets: Vec<EndpointSubset>,
}

/// `Endpoints.subsets[]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSubset {
    #[serde(default)]
    pub addresses: Vec<EndpointAddress>,
    #[serde(default)]
    pub not_ready_addresses: Vec<EndpointAddress>,
    #[serde(default)]
    pub ports: Vec<EndpointPort>,
}

/// `Endpoints.subsets[].addresses[]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointAddress {
    #[serde(default)]
    pub ip: String,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub node_name: Option<String>,
    #[serde(default)]
    pub target_ref: Option<ObjectReference>,
}

/// `Endpoints.subsets[].addresses[].targetRef`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ObjectReference {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: String,
}

/// `Endpoints.subsets[].ports[]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EndpointPort {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub port: u16,
    #[serde(default)]
    pub protocol: String,
}

fn encode(s: &str) -> String {
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

/// An API client for one configuration.
pub struct Client<'a> {
    config: &'a Config,
    base: String,
    token: Option<String>,
}

impl<'a> Client<'a> {
    /// Reads the token file, if any.
    pub fn new(config: &'a Config) -> Result<Self, Error> {
        let token = match (&config.bearer_token, &config.bearer_token_file) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(file)) => Some(pharos_sdk::fs::read_to_string(file)?.trim().to_owned()),
            (None, None) => None,
        };
        Ok(Client {
            config,
            base: config.api_server.trim_end_matches('/').to_owned(),
            token,
        })
    }

    fn selectors(&self, role: Role) -> String {
        let mut q = Vec::new();
        for s in self.config.selectors.iter().filter(|s| s.role == role) {
            if let Some(l) = &s.label {
                q.push(format!("labelSelector={}", encode(l)));
            }
            if let Some(f) = &s.field {
                q.push(format!("fieldSelector={}", encode(f)));
            }
        }
        if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        }
    }

    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let url = format!("{}{path}", self.base);
        let mut request = Request::get(url.as_str()).header("Accept", "application/json");
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(t) = self.config.timeout_seconds {
            request = request.timeout(Duration::from_secs_f64(t));
        }
        Ok(request.send()?.error_for_status()?.json()?)
    }

    /// Lists a cluster-scoped resource (`/api/v1/<resource>`).
    pub fn list_cluster<T: serde::de::DeserializeOwned>(
        &self,
        resource: &str,
        role: Role,
    ) -> Result<ObjectList<T>, Error> {
        self.get(&format!("/api/v1/{resource}{}", self.selectors(role)))
    }

    /// Lists a namespaced resource in every namespace, or in each of
    /// `namespaces.names`.
    pub fn list<T: serde::de::DeserializeOwned>(
        &self,
        resource: &str,
        role: Role,
    ) -> Result<Vec<T>, Error> {
        let selectors = self.selectors(role);
        if self.config.namespaces.names.is_empty() {
            let list: ObjectList<T> = self.get(&format!("/api/v1/{resource}{selectors}"))?;
            return Ok(list.items);
        }
        let mut items = Vec::new();
        for ns in &self.config.namespaces.names {
            let list: ObjectList<T> = self.get(&format!(
                "/api/v1/namespaces/{}/{resource}{selectors}",
                encode(ns)
            ))?;
            items.extend(list.items);
        }
        Ok(items)
    }
}
