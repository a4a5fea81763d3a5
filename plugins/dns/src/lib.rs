//! `dns` discovery: Prometheus' `dns_sd_config` as a Pharos plugin.
//!
//! Looks up each of `names` with the record `type` (`SRV` by default, or
//! `A`, `AAAA`, `MX`, `NS`) through the host's `dns` interface, so the
//! operator must grant the names in `allow_dns`. As Prometheus does
//! (<https://prometheus.io/docs/prometheus/latest/configuration/configuration/#dns_sd_config>):
//!
//! - one target group per name, with the name as its `source`;
//! - `SRV`: a target `<target without trailing dot>:<port>` per record;
//!   `A`/`AAAA`: `<address>:<port>` (IPv6 in brackets); `MX`/`NS`:
//!   `<host without trailing dot>:<port>`, with `port` from the
//!   configuration (required for every type but `SRV`);
//! - labels `__meta_dns_name` (the name looked up),
//!   `__meta_dns_srv_record_target` and `__meta_dns_srv_record_port` (SRV),
//!   `__meta_dns_mx_record_target` (MX) and `__meta_dns_ns_record_target`
//!   (NS), the record targets keeping their trailing dot;
//! - a name that does not exist, or has no such records, gives an empty
//!   group (its targets vanish); a failed lookup fails the call, so the host
//!   keeps the previous targets.
//!
//! Configuration: `{"names": ["_metrics._tcp.example.org"], "type": "SRV",
//! "port": 9100}`.

mod targets;

use pharos_sdk::dns::{self, IpFamily};
use pharos_sdk::{Discovery, Error, TargetGroup};
use targets::RecordType;

/// The plugin's configuration.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    names: Vec<String>,
    #[serde(rename = "type", default)]
    record_type: RecordType,
    #[serde(default)]
    port: Option<u16>,
    /// Accepted for compatibility with Prometheus' configuration; the
    /// host's job decides how often to call.
    #[serde(default)]
    #[allow(dead_code)]
    refresh_interval: Option<serde_json::Value>,
}

struct DnsSd;

impl Discovery for DnsSd {
    type Config = Config;
    const NAME: &'static str = "dns";
    const DESCRIPTION: &'static str =
        "Targets from DNS SRV, A, AAAA, MX or NS records, as Prometheus' dns_sd.";
    const CONFIG_SCHEMA: &'static str = include_str!("../schema.json");

    fn validate(config: &Config) -> Result<(), Error> {
        targets::validate(&config.names, config.record_type, config.port).map_err(Error::config)
    }

    fn discover(config: Config) -> Result<Vec<TargetGroup>, Error> {
        let port = config.port.unwrap_or(0);
        let mut groups = Vec::with_capacity(config.names.len());
        for name in &config.names {
            let targets = match config.record_type {
                RecordType::Srv => targets::from_srv(name, &dns::lookup_srv(name)?),
                RecordType::A => {
                    targets::from_ips(name, &dns::lookup_ip(name, IpFamily::Ipv4)?, port)
                }
                RecordType::Aaaa => {
                    targets::from_ips(name, &dns::lookup_ip(name, IpFamily::Ipv6)?, port)
                }
                RecordType::Mx => targets::from_mx(name, &dns::lookup_mx(name)?, port),
                RecordType::Ns => targets::from_ns(name, &dns::lookup_ns(name)?, port),
            };
            groups.push(TargetGroup {
                targets,
                labels: Vec::new(),
                source: name.clone(),
            });
        }
        Ok(groups)
    }
}

pharos_sdk::export!(discovery: DnsSd);
