//! The grants beyond HTTP, parsed once when a plugin is loaded:
//!
//! - `allow_dns`: names the plugin may look up through the `dns` interface:
//!   an exact name, `*.example.org` (any name below `example.org`, at any
//!   depth, not `example.org` itself) or `*` (any name). Case and a trailing
//!   dot do not matter.
//! - `allow_tcp`: `host:port` pairs the plugin may open TCP connections to
//!   through `wasi:sockets`. `host` is a name, an IP literal (`[::1]` for
//!   IPv6) or `*`; `port` a number or `*`. A name grants the addresses it
//!   resolves to when the plugin connects; non-public addresses still need
//!   `allow_private_ips`. The names of these grants may also be looked up
//!   (`lookup-ip`) without an `allow_dns` entry.
//! - `allow_read`: absolute directories the plugin may read, recursively and
//!   read-only, through `wasi:filesystem` (preopened at the same path).
//!
//! Nothing is granted by default.

use crate::grants::GrantError;
use std::net::{IpAddr, SocketAddr};
use std::path::{Component, Path, PathBuf};

/// One `allow_dns` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NamePattern {
    Any,
    Exact(String),
    SubdomainOf(String),
}

/// Lower case without a trailing dot.
pub(crate) fn normalize_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl NamePattern {
    pub(crate) fn parse(entry: &str) -> Result<Self, GrantError> {
        let err = |reason| GrantError::Dns {
            entry: entry.to_owned(),
            reason,
        };
        if entry.trim() == "*" {
            return Ok(NamePattern::Any);
        }
        let name = normalize_name(entry.trim());
        if let Some(domain) = name.strip_prefix("*.") {
            if !is_valid_name(domain) {
                return Err(err("a wildcard is * or *.domain with a valid domain"));
            }
            return Ok(NamePattern::SubdomainOf(domain.to_owned()));
        }
        if !is_valid_name(&name) {
            return Err(err(
                "expected a DNS name (letters, digits, '-', '_' and dots), *.domain or *",
            ));
        }
        Ok(NamePattern::Exact(name))
    }

    /// Whether the normalized `name` matches.
    pub(crate) fn matches(&self, name: &str) -> bool {
        match self {
            NamePattern::Any => true,
            NamePattern::Exact(n) => n == name,
            NamePattern::SubdomainOf(d) => name
                .strip_suffix(d.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
        }
    }
}

/// The host of an `allow_tcp` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TcpHost {
    Any,
    Ip(IpAddr),
    Name(String),
}

/// One `allow_tcp` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TcpRule {
    pub(crate) host: TcpHost,
    /// `None`: any port.
    pub(crate) port: Option<u16>,
}

impl TcpRule {
    pub(crate) fn parse(entry: &str) -> Result<Self, GrantError> {
        let err = |reason| GrantError::Tcp {
            entry: entry.to_owned(),
            reason,
        };
        let entry_trim = entry.trim();
        let (host, port) = if let Some(v6) = entry_trim.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| err("unclosed [ in the host"))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| err("expected host:port, e.g. smtp.example.org:587"))?;
            (h, port)
        } else {
            entry_trim
                .rsplit_once(':')
                .ok_or_else(|| err("expected host:port, e.g. smtp.example.org:587"))?
        };
        let port = match port {
            "*" => None,
            p => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| err("the port must be a number from 1 to 65535, or *"))?,
            ),
        };
        let host = if host == "*" {
            TcpHost::Any
        } else if let Ok(ip) = host.parse::<IpAddr>() {
            TcpHost::Ip(ip)
        } else {
            let name = normalize_name(host);
            if !is_valid_name(&name) {
                return Err(err("the host must be a DNS name, an IP address or *"));
            }
            TcpHost::Name(name)
        };
        Ok(TcpRule { host, port })
    }

    pub(crate) fn port_matches(&self, port: u16) -> bool {
        self.port.is_none_or(|p| p == port)
    }

    /// Whether the rule grants `addr` without resolving a name.
    pub(crate) fn matches_literally(&self, addr: SocketAddr) -> bool {
        self.port_matches(addr.port())
            && match &self.host {
                TcpHost::Any => true,
                TcpHost::Ip(ip) => canonical(*ip) == canonical(addr.ip()),
                TcpHost::Name(_) => false,
            }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Parses an `allow_read` entry: an absolute path without `..`, made
/// lexically clean (no `.`, no repeated or trailing `/`).
pub(crate) fn parse_read_dir(entry: &Path) -> Result<PathBuf, GrantError> {
    let err = |reason| GrantError::Read {
        entry: entry.to_path_buf(),
        reason,
    };
    if !entry.is_absolute() {
        return Err(err("the directory must be an absolute path"));
    }
    let mut clean = PathBuf::new();
    for c in entry.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => clean.push(c.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => return Err(err("the path must not contain ..")),
            Component::Normal(n) => clean.push(n),
        }
    }
    if entry.to_str().is_none() {
        return Err(err("the path must be UTF-8"));
    }
    Ok(clean)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn name_patterns() {
        let cases = [
            (
                "_metrics._tcp.example.org",
                "_metrics._tcp.example.org",
                true,
            ),
            (
                "_metrics._tcp.example.org.",
                "_metrics._tcp.example.org",
                true,
            ),
            ("Example.ORG", "example.org", true),
            ("example.org", "www.example.org", false),
            ("*.example.org", "www.example.org", true),
            ("*.example.org", "a.b.example.org", true),
            ("*.example.org", "example.org", false),
            ("*.example.org", "badexample.org", false),
            ("*", "anything.at.all", true),
        ];
        for (pattern, name, want) in cases {
            let p = NamePattern::parse(pattern).unwrap();
            assert_eq!(
                p.matches(&normalize_name(name)),
                want,
                "{pattern} vs {name}"
            );
        }
        for bad in ["", "*.", "a..b", "a.*.org", "exa mple.org", "a/b"] {
            assert!(
                matches!(NamePattern::parse(bad), Err(GrantError::Dns { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn tcp_rules() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        let r = TcpRule::parse("127.0.0.1:2525").unwrap();
        assert!(r.matches_literally(addr("127.0.0.1:2525")));
        assert!(r.matches_literally(addr("[::ffff:127.0.0.1]:2525")));
        assert!(!r.matches_literally(addr("127.0.0.1:2526")));
        let r = TcpRule::parse("[::1]:*").unwrap();
        assert!(r.matches_literally(addr("[::1]:1")));
        let r = TcpRule::parse("SMTP.example.org.:587").unwrap();
        assert_eq!(r.host, TcpHost::Name("smtp.example.org".into()));
        assert!(!r.matches_literally(addr("10.0.0.1:587")));
        assert!(
            TcpRule::parse("*:*")
                .unwrap()
                .matches_literally(addr("1.2.3.4:5"))
        );
        for bad in [
            "example.org",
            "example.org:0",
            "x:70000",
            "[::1",
            "a b:1",
            ":25",
        ] {
            assert!(
                matches!(TcpRule::parse(bad), Err(GrantError::Tcp { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn read_dirs() {
        assert_eq!(
            parse_read_dir(Path::new("/etc/pharos/./targets/")).unwrap(),
            Path::new("/etc/pharos/targets")
        );
        for bad in ["relative/dir", "/etc/../root"] {
            assert!(
                matches!(parse_read_dir(Path::new(bad)), Err(GrantError::Read { .. })),
                "{bad}"
            );
        }
    }
}
