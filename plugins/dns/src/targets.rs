//! The pure parts of DNS SD: configuration checks and the targets built
//! from records, with the labels Prometheus' DNS SD sets. Tested on the
//! host target.

use pharos_sdk::dns::{MxRecord, SrvRecord};
use pharos_sdk::{Labels, labels};
use std::net::IpAddr;

/// The record type to look up (`type`), spelled as in Prometheus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
pub enum RecordType {
    /// `SRV` records (the default): targets and ports from the records.
    #[default]
    #[serde(rename = "SRV")]
    Srv,
    /// `A` records with the configured port.
    A,
    /// `AAAA` records with the configured port.
    #[serde(rename = "AAAA")]
    Aaaa,
    /// `MX` records with the configured port.
    #[serde(rename = "MX")]
    Mx,
    /// `NS` records with the configured port.
    #[serde(rename = "NS")]
    Ns,
}

/// The label with the name that was looked up.
pub const NAME_LABEL: &str = "__meta_dns_name";
/// The SRV record's target, trailing dot kept.
pub const SRV_TARGET_LABEL: &str = "__meta_dns_srv_record_target";
/// The SRV record's port.
pub const SRV_PORT_LABEL: &str = "__meta_dns_srv_record_port";
/// The MX record's exchange, trailing dot kept.
pub const MX_TARGET_LABEL: &str = "__meta_dns_mx_record_target";
/// The NS record's name server, trailing dot kept.
pub const NS_TARGET_LABEL: &str = "__meta_dns_ns_record_target";

/// Checks the configuration as Prometheus does.
pub fn validate(
    names: &[String],
    record_type: RecordType,
    port: Option<u16>,
) -> Result<(), String> {
    if names.is_empty() {
        return Err("`names` must list at least one DNS name".into());
    }
    if let Some(bad) = names.iter().find(|n| n.trim().is_empty()) {
        return Err(format!("`names` has an empty entry: {bad:?}"));
    }
    match (record_type, port) {
        (RecordType::Srv, _) => Ok(()),
        (_, Some(p)) if p > 0 => Ok(()),
        _ => Err("`port` is required (1-65535) unless `type` is SRV".into()),
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn trim_dot(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

/// One target per SRV record.
pub fn from_srv(name: &str, records: &[SrvRecord]) -> Vec<Labels> {
    records
        .iter()
        .map(|r| {
            let port = r.port.to_string();
            labels([
                (
                    "__address__",
                    host_port(trim_dot(&r.target), r.port).as_str(),
                ),
                (NAME_LABEL, name),
                (SRV_TARGET_LABEL, r.target.as_str()),
                (SRV_PORT_LABEL, port.as_str()),
            ])
        })
        .collect()
}

/// One target per address.
pub fn from_ips(name: &str, ips: &[IpAddr], port: u16) -> Vec<Labels> {
    ips.iter()
        .map(|ip| {
            labels([
                ("__address__", host_port(&ip.to_string(), port).as_str()),
                (NAME_LABEL, name),
            ])
        })
        .collect()
}

/// One target per MX record.
pub fn from_mx(name: &str, records: &[MxRecord], port: u16) -> Vec<Labels> {
    records
        .iter()
        .map(|r| {
            labels([
                (
                    "__address__",
                    host_port(trim_dot(&r.exchange), port).as_str(),
                ),
                (NAME_LABEL, name),
                (MX_TARGET_LABEL, r.exchange.as_str()),
            ])
        })
        .collect()
}

/// One target per NS record.
pub fn from_ns(name: &str, servers: &[String], port: u16) -> Vec<Labels> {
    servers
        .iter()
        .map(|ns| {
            labels([
                ("__address__", host_port(trim_dot(ns), port).as_str()),
                (NAME_LABEL, name),
                (NS_TARGET_LABEL, ns.as_str()),
            ])
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn map(ls: &Labels) -> BTreeMap<&str, &str> {
        ls.iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect()
    }

    #[test]
    fn srv_targets_drop_the_dot_in_the_address_only() {
        let t = from_srv(
            "_m._tcp.example.org",
            &[SrvRecord {
                target: "node1.example.org.".into(),
                port: 9100,
                priority: 10,
                weight: 5,
            }],
        );
        assert_eq!(
            map(&t[0]),
            BTreeMap::from([
                ("__address__", "node1.example.org:9100"),
                (NAME_LABEL, "_m._tcp.example.org"),
                (SRV_TARGET_LABEL, "node1.example.org."),
                (SRV_PORT_LABEL, "9100"),
            ])
        );
    }

    #[test]
    fn ipv6_addresses_are_bracketed() {
        let t = from_ips(
            "h",
            &["2001:db8::1".parse().unwrap(), "10.0.0.1".parse().unwrap()],
            80,
        );
        assert_eq!(map(&t[0])["__address__"], "[2001:db8::1]:80");
        assert_eq!(map(&t[1])["__address__"], "10.0.0.1:80");
    }

    #[test]
    fn port_is_required_except_for_srv() {
        let names = vec!["a.example.org".to_owned()];
        assert!(validate(&names, RecordType::Srv, None).is_ok());
        assert!(validate(&names, RecordType::A, Some(9100)).is_ok());
        for t in [
            RecordType::A,
            RecordType::Aaaa,
            RecordType::Mx,
            RecordType::Ns,
        ] {
            assert!(validate(&names, t, None).unwrap_err().contains("port"));
        }
        assert!(
            validate(&[], RecordType::Srv, None)
                .unwrap_err()
                .contains("names")
        );
    }
}
