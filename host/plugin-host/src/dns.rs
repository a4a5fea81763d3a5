//! DNS for plugins: the `pharos:plugin/dns` interface and the name
//! resolution behind `allow_tcp` grants.
//!
//! One resolver (hickory-resolver) serves every plugin of a runtime, so its
//! cache is shared. It is built on first use from the runtime's
//! nameservers, or from the machine's `/etc/resolv.conf` when none are
//! configured. Each lookup checks the plugin's `allow_dns` first; a refusal
//! is recorded (so the call's error names the grant) and returned to the
//! plugin as `dns-error.denied`. As Prometheus' DNS service discovery does,
//! a name that does not exist or has no record of the asked type gives an
//! empty answer rather than an error.

use crate::bindings::dns::{self, DnsError, IpFamily, MxRecord, SrvRecord};
use crate::error::Denial;
use crate::grants::AllowList;
use crate::state::State;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use parking_lot::Mutex;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The runtime's resolver, built on first use.
pub(crate) struct Resolver {
    servers: Vec<SocketAddr>,
    timeout: Duration,
    cell: OnceLock<Result<TokioResolver, String>>,
}

impl Resolver {
    /// `servers` empty: the system's configuration.
    pub(crate) fn new(servers: Vec<SocketAddr>, timeout: Duration) -> Self {
        Resolver {
            servers,
            timeout,
            cell: OnceLock::new(),
        }
    }

    fn get(&self) -> Result<&TokioResolver, String> {
        self.cell
            .get_or_init(|| self.build())
            .as_ref()
            .map_err(Clone::clone)
    }

    fn build(&self) -> Result<TokioResolver, String> {
        let mut builder = if self.servers.is_empty() {
            TokioResolver::builder_tokio()
                .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?
        } else {
            let servers = self
                .servers
                .iter()
                .map(|addr| {
                    let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                    for c in &mut ns.connections {
                        c.port = addr.port();
                    }
                    ns
                })
                .collect();
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(servers),
                TokioRuntimeProvider::default(),
            )
        };
        let options = builder.options_mut();
        options.timeout = self.timeout;
        options.attempts = 2;
        builder
            .build()
            .map_err(|e| format!("cannot set up the DNS resolver: {e}"))
    }

    /// Looks `name` up; `Ok(None)` when it has no such records.
    async fn lookup(&self, name: &str, rtype: RecordType) -> Result<Option<Lookup>, DnsError> {
        let parsed = Name::from_utf8(name)
            .map_err(|e| DnsError::InvalidName(format!("{name:?} is not a DNS name: {e}")))?;
        let resolver = self.get().map_err(DnsError::Failed)?;
        match resolver.lookup(parsed, rtype).await {
            Ok(lookup) => Ok(Some(lookup)),
            Err(e) if e.is_no_records_found() => Ok(None),
            Err(e) => Err(DnsError::Failed(format!(
                "{rtype} lookup of {name} failed: {e}"
            ))),
        }
    }

    /// The addresses of `name`, IPv4 and IPv6, for checking a TCP grant.
    pub(crate) async fn addresses(&self, name: &str) -> Vec<IpAddr> {
        let Ok(resolver) = self.get() else {
            return Vec::new();
        };
        match resolver.lookup_ip(name).await {
            Ok(ips) => ips.iter().collect(),
            Err(e) => {
                tracing::debug!(name, error = %e, "cannot resolve an allow_tcp host");
                Vec::new()
            }
        }
    }
}

/// Per-call DNS state: the runtime's resolver, the plugin's grants and the
/// call's refusals.
pub(crate) struct Dns {
    pub(crate) resolver: Arc<Resolver>,
    pub(crate) allow: Arc<AllowList>,
    pub(crate) plugin: Arc<str>,
    pub(crate) denials: Arc<Mutex<Vec<Denial>>>,
}

impl Dns {
    fn check(&self, name: &str, record_type: &'static str, address: bool) -> Result<(), DnsError> {
        if self.allow.allows_dns(name, address) {
            return Ok(());
        }
        let denial = Denial::Dns {
            name: name.to_owned(),
            record_type,
        };
        let text = denial.to_string();
        tracing::warn!(plugin = &*self.plugin, %denial, "plugin request denied");
        self.denials.lock().push(denial);
        Err(DnsError::Denied(text))
    }

    async fn records(
        &self,
        name: &str,
        rtype: RecordType,
        label: &'static str,
    ) -> Result<Vec<RData>, DnsError> {
        self.check(
            name,
            label,
            matches!(rtype, RecordType::A | RecordType::AAAA),
        )?;
        let lookup = self.resolver.lookup(name, rtype).await?;
        Ok(lookup
            .map(|l| {
                l.answers()
                    .iter()
                    .map(|r| r.data.clone())
                    .filter(|d| d.record_type() == rtype)
                    .collect()
            })
            .unwrap_or_default())
    }
}

impl dns::Host for State {
    async fn lookup_ip(&mut self, name: String, family: IpFamily) -> Result<Vec<String>, DnsError> {
        let (rtype, label) = match family {
            IpFamily::Ipv4 => (RecordType::A, "A"),
            IpFamily::Ipv6 => (RecordType::AAAA, "AAAA"),
        };
        let data = self.dns.records(&name, rtype, label).await?;
        Ok(data
            .into_iter()
            .filter_map(|d| match d {
                RData::A(a) => Some(a.0.to_string()),
                RData::AAAA(a) => Some(a.0.to_string()),
                _ => None,
            })
            .collect())
    }

    async fn lookup_srv(&mut self, name: String) -> Result<Vec<SrvRecord>, DnsError> {
        let data = self.dns.records(&name, RecordType::SRV, "SRV").await?;
        Ok(data
            .into_iter()
            .filter_map(|d| match d {
                RData::SRV(s) => Some(SrvRecord {
                    target: s.target.to_ascii(),
                    port: s.port,
                    priority: s.priority,
                    weight: s.weight,
                }),
                _ => None,
            })
            .collect())
    }

    async fn lookup_mx(&mut self, name: String) -> Result<Vec<MxRecord>, DnsError> {
        let data = self.dns.records(&name, RecordType::MX, "MX").await?;
        Ok(data
            .into_iter()
            .filter_map(|d| match d {
                RData::MX(m) => Some(MxRecord {
                    exchange: m.exchange.to_ascii(),
                    preference: m.preference,
                }),
                _ => None,
            })
            .collect())
    }

    async fn lookup_ns(&mut self, name: String) -> Result<Vec<String>, DnsError> {
        let data = self.dns.records(&name, RecordType::NS, "NS").await?;
        Ok(data
            .into_iter()
            .filter_map(|d| match d {
                RData::NS(n) => Some(n.0.to_ascii()),
                _ => None,
            })
            .collect())
    }
}
