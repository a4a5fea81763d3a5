//! The pure parts of Consul SD: which services to watch and the labels of
//! each instance, named as Prometheus' Consul SD names them. Tested on the
//! host target.

use crate::api::{Check, ServiceEntry};
use pharos_sdk::{Label, Labels, TargetGroup};

const PREFIX: &str = "__meta_consul_";

/// Whether a catalog service is selected: listed in `services` (or no list)
/// and carrying every tag of `tags`.
pub fn should_watch(
    services: &[String],
    tags: &[String],
    name: &str,
    service_tags: &[String],
) -> bool {
    (services.is_empty() || services.iter().any(|s| s == name))
        && tags.iter().all(|t| service_tags.contains(t))
}

/// The aggregated status of checks as Consul's API client computes it:
/// maintenance beats critical beats warning beats passing.
pub fn aggregated_status(checks: &[Check]) -> &'static str {
    let maintenance = checks.iter().any(|c| {
        c.check_id == "_node_maintenance" || c.check_id.starts_with("_service_maintenance:")
    });
    if maintenance {
        return "maintenance";
    }
    if checks.iter().any(|c| c.status == "critical") {
        "critical"
    } else if checks.iter().any(|c| c.status == "warning") {
        "warning"
    } else {
        "passing"
    }
}

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

fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn label(name: &str, value: impl Into<String>) -> Label {
    Label::new(format!("{PREFIX}{name}"), value)
}

/// The labels of one instance.
pub fn target(entry: &ServiceEntry, separator: &str) -> Labels {
    let s = &entry.service;
    let n = &entry.node;
    let host = if s.address.is_empty() {
        &n.address
    } else {
        &s.address
    };
    let tags = s.tags.as_deref().unwrap_or_default();
    let mut labels = vec![
        Label::new("__address__", join_host_port(host, s.port)),
        label("address", n.address.as_str()),
        label("node", n.node.as_str()),
        label("namespace", s.namespace.as_str()),
        label("partition", s.partition.as_str()),
        label(
            "tags",
            format!("{separator}{}{separator}", tags.join(separator)),
        ),
        label("service_address", s.address.as_str()),
        label("service_port", s.port.to_string()),
        label("service_id", s.id.as_str()),
        label("health", aggregated_status(&entry.checks)),
    ];
    for (k, v) in n.meta.iter().flatten() {
        labels.push(label(&format!("metadata_{}", sanitize(k)), v.as_str()));
    }
    for (k, v) in s.meta.iter().flatten() {
        labels.push(label(
            &format!("service_metadata_{}", sanitize(k)),
            v.as_str(),
        ));
    }
    for (k, v) in n.tagged_addresses.iter().flatten() {
        labels.push(label(
            &format!("tagged_address_{}", sanitize(k)),
            v.as_str(),
        ));
    }
    labels.retain(|l| !l.value.is_empty());
    labels
}

/// The target group of one service.
pub fn group(service: &str, dc: &str, separator: &str, entries: &[ServiceEntry]) -> TargetGroup {
    TargetGroup {
        targets: entries.iter().map(|e| target(e, separator)).collect(),
        labels: vec![label("service", service), label("dc", dc)],
        source: service.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check(id: &str, status: &str) -> Check {
        Check {
            check_id: id.into(),
            status: status.into(),
        }
    }

    #[test]
    fn health_aggregation() {
        assert_eq!(aggregated_status(&[]), "passing");
        assert_eq!(
            aggregated_status(&[check("a", "passing"), check("b", "warning")]),
            "warning"
        );
        assert_eq!(
            aggregated_status(&[check("a", "critical"), check("b", "warning")]),
            "critical"
        );
        assert_eq!(
            aggregated_status(&[
                check("_service_maintenance:web1", "critical"),
                check("b", "passing")
            ]),
            "maintenance"
        );
    }

    #[test]
    fn selection_by_name_and_tags() {
        let tags = vec!["prod".to_owned(), "http".to_owned()];
        assert!(should_watch(&[], &[], "web", &tags));
        assert!(should_watch(
            &["web".into()],
            &["prod".into()],
            "web",
            &tags
        ));
        assert!(!should_watch(&["db".into()], &[], "web", &tags));
        assert!(!should_watch(&[], &["canary".into()], "web", &tags));
    }

    #[test]
    fn label_names_are_sanitized() {
        assert_eq!(sanitize("rack-id"), "rack_id");
        assert_eq!(sanitize("0zone"), "_zone");
        assert_eq!(sanitize("a.b/c"), "a_b_c");
    }
}
