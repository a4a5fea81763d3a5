//! DNS lookups through the host's `dns` interface.
//!
//! Only names the operator granted in the plugin's `allow_dns` can be looked
//! up (`A`/`AAAA` lookups of the hosts in `allow_tcp` need no extra entry).
//! A refused lookup is [`DnsError::Denied`], whose text names the grant; as
//! an [`Error`](crate::Error) it becomes a `config` error. A name that does
//! not exist, or has no record of the type, gives an empty list.
//!
//! ```no_run
//! # fn f() -> Result<(), pharos_sdk::Error> {
//! for srv in pharos_sdk::dns::lookup_srv("_metrics._tcp.example.org")? {
//!     pharos_sdk::log::info("found", &[("target", &srv.target)]);
//! }
//! # Ok(()) }
//! ```

use crate::bindings::discovery::pharos::plugin::dns;
use std::net::IpAddr;

pub use dns::{DnsError, IpFamily, MxRecord, SrvRecord};

/// The `A` (IPv4) or `AAAA` (IPv6) addresses of `name`.
pub fn lookup_ip(name: &str, family: IpFamily) -> Result<Vec<IpAddr>, DnsError> {
    let texts = dns::lookup_ip(name, family)?;
    Ok(texts.iter().filter_map(|t| t.parse().ok()).collect())
}

/// The `SRV` records of `name`.
pub fn lookup_srv(name: &str) -> Result<Vec<SrvRecord>, DnsError> {
    dns::lookup_srv(name)
}

/// The `MX` records of `name`.
pub fn lookup_mx(name: &str) -> Result<Vec<MxRecord>, DnsError> {
    dns::lookup_mx(name)
}

/// The `NS` records of `name` (name server names).
pub fn lookup_ns(name: &str) -> Result<Vec<String>, DnsError> {
    dns::lookup_ns(name)
}

impl DnsError {
    /// The error's text (the generated `Display` also shows the case).
    pub fn message(&self) -> String {
        match self {
            DnsError::Denied(m) | DnsError::Failed(m) => m.clone(),
            DnsError::InvalidName(m) => format!("invalid DNS name: {m}"),
        }
    }
}

impl From<DnsError> for crate::Error {
    /// A denial or an invalid name is a `config` error (only the
    /// configuration can fix it); a failed lookup is `transient`.
    fn from(e: DnsError) -> Self {
        match &e {
            DnsError::Denied(_) | DnsError::InvalidName(_) => crate::Error::config(e.message()),
            DnsError::Failed(_) => crate::Error::transient(e.message()),
        }
    }
}
