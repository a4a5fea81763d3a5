//! The target groups and labels of each role, named as Prometheus'
//! Kubernetes SD names them:
//!
//! - `node`: source `node/<name>`; group labels
//!   `__meta_kubernetes_node_name`, `_node_provider_id`,
//!   `_node_label_<l>`/`_node_labelpresent_<l>`,
//!   `_node_annotation_<a>`/`_node_annotationpresent_<a>`; one target at
//!   the first address by type priority (InternalIP, InternalDNS,
//!   ExternalIP, ExternalDNS, LegacyHostIP, Hostname) and the kubelet port,
//!   with `instance` set to the node name and
//!   `__meta_kubernetes_node_address_<type>` for each address type.
//! - `service`: source `svc/<ns>/<name>`; group labels
//!   `__meta_kubernetes_namespace`, `_service_name`, `_service_label_*`,
//!   `_service_annotation_*` (and `…present_*`); one target per port at
//!   `<name>.<ns>.svc:<port>` with `_service_port_name`,
//!   `_service_port_number`, `_service_port_protocol`, `_service_type`,
//!   and `_service_cluster_ip`, `_service_external_name` (ExternalName) or
//!   `_service_loadbalancer_ip` (LoadBalancer).
//! - `pod`: source `pod/<ns>/<name>`; group labels `_namespace`,
//!   `_pod_name`, `_pod_ip`, `_pod_label_*`, `_pod_annotation_*`,
//!   `_pod_ready`, `_pod_phase`, `_pod_node_name`, `_pod_host_ip`,
//!   `_pod_uid`, `_pod_controller_kind`, `_pod_controller_name`; one target
//!   per container port (`<pod ip>:<port>`), or per container without ports
//!   (`<pod ip>`), with `_pod_container_name`, `_pod_container_image`,
//!   `_pod_container_id`, `_pod_container_init` and
//!   `_pod_container_port_{name,number,protocol}`. Pods without an IP have
//!   no targets.
//! - `endpoints`: source `endpoints/<ns>/<name>`; group labels
//!   `_namespace`, `_endpoints_name`, `_endpoints_label_*`, and the
//!   service's group labels when a service of that name exists; one target
//!   per address and port with `_endpoint_ready`, `_endpoint_port_name`,
//!   `_endpoint_port_protocol`, `_endpoint_hostname`, `_endpoint_node_name`,
//!   `_endpoint_address_target_kind`/`_name`, and, for addresses backed by a
//!   pod, the pod's labels and those of the container serving the port;
//!   container ports of those pods that no endpoint port names become
//!   targets too.
//!
//! Labels with empty values are left out (an empty value means no label).

use crate::api::{Container, Endpoints, Meta, Node, Pod, Service};
use pharos_sdk::{Label, Labels, TargetGroup};
use std::collections::BTreeSet;

const P: &str = "__meta_kubernetes_";

/// A label name with invalid characters replaced by `_`, as Prometheus'
/// `strutil.SanitizeLabelName` does.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit()) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn push(labels: &mut Labels, name: &str, value: impl Into<String>) {
    let value = value.into();
    if !value.is_empty() {
        labels.push(Label::new(format!("{P}{name}"), value));
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `<kind>_label_*`, `<kind>_labelpresent_*`, `<kind>_annotation_*`,
/// `<kind>_annotationpresent_*`.
fn object_labels(labels: &mut Labels, kind: &str, meta: &Meta) {
    for (k, v) in &meta.labels {
        let k = sanitize(k);
        push(labels, &format!("{kind}_label_{k}"), v.as_str());
        push(labels, &format!("{kind}_labelpresent_{k}"), "true");
    }
    for (k, v) in &meta.annotations {
        let k = sanitize(k);
        push(labels, &format!("{kind}_annotation_{k}"), v.as_str());
        push(labels, &format!("{kind}_annotationpresent_{k}"), "true");
    }
}

const ADDRESS_PRIORITY: [&str; 6] = [
    "InternalIP",
    "InternalDNS",
    "ExternalIP",
    "ExternalDNS",
    "LegacyHostIP",
    "Hostname",
];

/// The group of one node.
pub fn node_group(node: &Node) -> TargetGroup {
    let mut group_labels = Vec::new();
    push(&mut group_labels, "node_name", node.metadata.name.as_str());
    push(
        &mut group_labels,
        "node_provider_id",
        node.spec.provider_id.as_str(),
    );
    object_labels(&mut group_labels, "node", &node.metadata);
    let addresses = &node.status.addresses;
    let first = ADDRESS_PRIORITY
        .iter()
        .find_map(|kind| addresses.iter().find(|a| a.kind == *kind));
    let mut targets = Vec::new();
    if let Some(addr) = first {
        let port = node.status.daemon_endpoints.kubelet_endpoint.port;
        let mut t = vec![
            Label::new("__address__", host_port(&addr.address, port)),
            Label::new("instance", node.metadata.name.as_str()),
        ];
        let mut seen = BTreeSet::new();
        for a in addresses {
            if seen.insert(a.kind.as_str()) {
                push(
                    &mut t,
                    &format!("node_address_{}", sanitize(&a.kind)),
                    a.address.as_str(),
                );
            }
        }
        targets.push(t);
    }
    TargetGroup {
        targets,
        labels: group_labels,
        source: format!("node/{}", node.metadata.name),
    }
}

fn service_group_labels(svc: &Service) -> Labels {
    let mut labels = Vec::new();
    push(&mut labels, "namespace", svc.metadata.namespace.as_str());
    push(&mut labels, "service_name", svc.metadata.name.as_str());
    object_labels(&mut labels, "service", &svc.metadata);
    labels
}

/// The group of one service.
pub fn service_group(svc: &Service) -> TargetGroup {
    let host = format!("{}.{}.svc", svc.metadata.name, svc.metadata.namespace);
    let targets = svc
        .spec
        .ports
        .iter()
        .map(|p| {
            let mut t = vec![Label::new("__address__", host_port(&host, p.port))];
            push(&mut t, "service_port_name", p.name.as_str());
            push(&mut t, "service_port_number", p.port.to_string());
            push(&mut t, "service_port_protocol", p.protocol.as_str());
            push(&mut t, "service_type", svc.spec.kind.as_str());
            if svc.spec.kind == "ExternalName" {
                push(
                    &mut t,
                    "service_external_name",
                    svc.spec.external_name.as_str(),
                );
            } else {
                push(&mut t, "service_cluster_ip", svc.spec.cluster_ip.as_str());
            }
            if svc.spec.kind == "LoadBalancer"
                && let Some(ingress) = svc.status.load_balancer.ingress.first()
            {
                push(&mut t, "service_loadbalancer_ip", ingress.ip.as_str());
            }
            t
        })
        .collect();
    TargetGroup {
        targets,
        labels: service_group_labels(svc),
        source: format!("svc/{}/{}", svc.metadata.namespace, svc.metadata.name),
    }
}

/// The pod-level labels (the group labels of the `pod` role).
fn pod_labels(pod: &Pod) -> Labels {
    let mut labels = Vec::new();
    push(&mut labels, "namespace", pod.metadata.namespace.as_str());
    push(&mut labels, "pod_name", pod.metadata.name.as_str());
    push(&mut labels, "pod_ip", pod.status.pod_ip.as_str());
    object_labels(&mut labels, "pod", &pod.metadata);
    let ready = pod
        .status
        .conditions
        .iter()
        .find(|c| c.kind == "Ready")
        .map_or("unknown".to_owned(), |c| c.status.to_ascii_lowercase());
    push(&mut labels, "pod_ready", ready);
    push(&mut labels, "pod_phase", pod.status.phase.as_str());
    push(&mut labels, "pod_node_name", pod.spec.node_name.as_str());
    push(&mut labels, "pod_host_ip", pod.status.host_ip.as_str());
    push(&mut labels, "pod_uid", pod.metadata.uid.as_str());
    if let Some(owner) = pod
        .metadata
        .owner_references
        .iter()
        .find(|o| o.controller == Some(true))
    {
        push(&mut labels, "pod_controller_kind", owner.kind.as_str());
        push(&mut labels, "pod_controller_name", owner.name.as_str());
    }
    labels
}

fn container_id(pod: &Pod, name: &str, init: bool) -> String {
    let statuses = if init {
        &pod.status.init_container_statuses
    } else {
        &pod.status.container_statuses
    };
    statuses
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.container_id.clone())
        .unwrap_or_default()
}

fn containers(pod: &Pod) -> impl Iterator<Item = (&Container, bool)> {
    pod.spec
        .containers
        .iter()
        .map(|c| (c, false))
        .chain(pod.spec.init_containers.iter().map(|c| (c, true)))
}

/// The container-level labels of one container (and port, if any).
fn container_labels(
    pod: &Pod,
    c: &Container,
    init: bool,
    port: Option<&crate::api::ContainerPort>,
) -> Labels {
    let mut t = Vec::new();
    push(&mut t, "pod_container_name", c.name.as_str());
    push(&mut t, "pod_container_image", c.image.as_str());
    push(&mut t, "pod_container_id", container_id(pod, &c.name, init));
    push(&mut t, "pod_container_init", init.to_string());
    if let Some(p) = port {
        push(&mut t, "pod_container_port_name", p.name.as_str());
        push(
            &mut t,
            "pod_container_port_number",
            p.container_port.to_string(),
        );
        push(&mut t, "pod_container_port_protocol", p.protocol.as_str());
    }
    t
}

/// The group of one pod.
pub fn pod_group(pod: &Pod) -> TargetGroup {
    let mut targets = Vec::new();
    let ip = &pod.status.pod_ip;
    if !ip.is_empty() {
        for (c, init) in containers(pod) {
            if c.ports.is_empty() {
                let mut t = vec![Label::new("__address__", ip.as_str())];
                t.extend(container_labels(pod, c, init, None));
                targets.push(t);
            }
            for p in &c.ports {
                let mut t = vec![Label::new("__address__", host_port(ip, p.container_port))];
                t.extend(container_labels(pod, c, init, Some(p)));
                targets.push(t);
            }
        }
    }
    TargetGroup {
        targets,
        labels: pod_labels(pod),
        source: format!("pod/{}/{}", pod.metadata.namespace, pod.metadata.name),
    }
}

/// The group of one Endpoints object.
pub fn endpoints_group(ep: &Endpoints, services: &[Service], pods: &[Pod]) -> TargetGroup {
    let ns = &ep.metadata.namespace;
    let mut group_labels = Vec::new();
    push(&mut group_labels, "namespace", ns.as_str());
    push(
        &mut group_labels,
        "endpoints_name",
        ep.metadata.name.as_str(),
    );
    object_labels(&mut group_labels, "endpoints", &ep.metadata);
    if let Some(svc) = services
        .iter()
        .find(|s| s.metadata.namespace == *ns && s.metadata.name == ep.metadata.name)
    {
        for l in service_group_labels(svc) {
            if !group_labels.iter().any(|g| g.name == l.name) {
                group_labels.push(l);
            }
        }
    }
    let mut targets = Vec::new();
    // (pod namespace/name, container name, port) already targeted.
    let mut seen_ports: BTreeSet<(String, String, u16)> = BTreeSet::new();
    let mut seen_pods: Vec<&Pod> = Vec::new();
    for subset in &ep.subsets {
        let addresses = subset
            .addresses
            .iter()
            .map(|a| (a, true))
            .chain(subset.not_ready_addresses.iter().map(|a| (a, false)));
        for (addr, ready) in addresses {
            let pod = addr
                .target_ref
                .as_ref()
                .filter(|r| r.kind == "Pod")
                .and_then(|r| {
                    let rns = if r.namespace.is_empty() {
                        ns
                    } else {
                        &r.namespace
                    };
                    pods.iter()
                        .find(|p| p.metadata.namespace == *rns && p.metadata.name == r.name)
                });
            for port in &subset.ports {
                let mut t = vec![Label::new("__address__", host_port(&addr.ip, port.port))];
                push(&mut t, "endpoint_port_name", port.name.as_str());
                push(&mut t, "endpoint_port_protocol", port.protocol.as_str());
                push(&mut t, "endpoint_ready", ready.to_string());
                push(&mut t, "endpoint_hostname", addr.hostname.as_str());
                if let Some(node) = &addr.node_name {
                    push(&mut t, "endpoint_node_name", node.as_str());
                }
                if let Some(r) = &addr.target_ref {
                    push(&mut t, "endpoint_address_target_kind", r.kind.as_str());
                    push(&mut t, "endpoint_address_target_name", r.name.as_str());
                }
                if let Some(pod) = pod {
                    add_missing(&mut t, pod_labels(pod));
                    let serving = containers(pod).find_map(|(c, init)| {
                        c.ports
                            .iter()
                            .find(|p| p.container_port == port.port && p.protocol == port.protocol)
                            .map(|p| (c, init, p))
                    });
                    if let Some((c, init, p)) = serving {
                        add_missing(&mut t, container_labels(pod, c, init, Some(p)));
                        seen_ports.insert((pod_key(pod), c.name.clone(), p.container_port));
                    }
                    if !seen_pods.iter().any(|s| pod_key(s) == pod_key(pod)) {
                        seen_pods.push(pod);
                    }
                }
                targets.push(t);
            }
        }
    }
    // Container ports of the pods above that no endpoint port covers.
    for pod in seen_pods {
        if pod.status.pod_ip.is_empty() {
            continue;
        }
        for (c, init) in containers(pod) {
            for p in &c.ports {
                if seen_ports.contains(&(pod_key(pod), c.name.clone(), p.container_port)) {
                    continue;
                }
                let mut t = vec![Label::new(
                    "__address__",
                    host_port(&pod.status.pod_ip, p.container_port),
                )];
                add_missing(&mut t, pod_labels(pod));
                add_missing(&mut t, container_labels(pod, c, init, Some(p)));
                targets.push(t);
            }
        }
    }
    TargetGroup {
        targets,
        labels: group_labels,
        source: format!("endpoints/{ns}/{}", ep.metadata.name),
    }
}

fn pod_key(pod: &Pod) -> String {
    format!("{}/{}", pod.metadata.namespace, pod.metadata.name)
}

fn add_missing(target: &mut Labels, extra: Labels) {
    for l in extra {
        if !target.iter().any(|t| t.name == l.name) {
            target.push(l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_are_sanitized() {
        assert_eq!(sanitize("app.kubernetes.io/name"), "app_kubernetes_io_name");
        assert_eq!(sanitize("9lives"), "_lives");
    }
}
