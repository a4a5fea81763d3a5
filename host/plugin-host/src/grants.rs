//! A plugin's network grants, parsed once when the plugin is loaded:
//!
//! - `allow_http`: the `scheme://host[:port]` origins a plugin may send
//!   HTTP requests to. `scheme` is `http`, `https` or `*`; `host` is a name,
//!   `*.example.org` (any subdomain, not the domain itself), `*` (any host),
//!   or an IP literal (`[::1]` for IPv6); `port` is a number or `*`, and
//!   defaults to the scheme's (80, 443). A path is refused: grants are per
//!   origin, as in Spin's `allowed_outbound_hosts`.
//! - `allow_private_ips`: the non-public networks (CIDR or single address) a
//!   plugin may connect to. Every request is checked against the address it
//!   actually connects to, after DNS, so a granted name that resolves to
//!   `127.0.0.1` or `169.254.169.254` is still refused without this grant
//!   (no SSRF through DNS). Public addresses need no entry.
//!
//! - `allow_dns`, `allow_tcp`, `allow_read`: DNS names, TCP `host:port`
//!   pairs and read-only directories (see [`crate::capabilities`]).
//!
//! Nothing is granted by default.

use crate::capabilities::{NamePattern, TcpRule, normalize_name, parse_read_dir};
use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

/// The grants as an operator writes them (`[plugins.<name>]` in the TOML).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    /// Origins the plugin may send HTTP requests to.
    #[serde(default)]
    pub allow_http: Vec<String>,
    /// Non-public networks the plugin may connect to.
    #[serde(default)]
    pub allow_private_ips: Vec<String>,
    /// DNS names the plugin may look up (`name`, `*.domain`, `*`).
    #[serde(default)]
    pub allow_dns: Vec<String>,
    /// `host:port` pairs the plugin may open TCP connections to.
    #[serde(default)]
    pub allow_tcp: Vec<String>,
    /// Absolute directories the plugin may read (recursively, read-only).
    #[serde(default)]
    pub allow_read: Vec<PathBuf>,
}

/// A grant that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// An `allow_http` entry is malformed.
    #[error("allow_http entry {entry:?}: {reason}")]
    Http {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An `allow_private_ips` entry is neither an address nor a CIDR network.
    #[error("allow_private_ips entry {entry:?} is neither an IP address nor a CIDR network")]
    Ip {
        /// The entry as written.
        entry: String,
    },
    /// An `allow_dns` entry is malformed.
    #[error("allow_dns entry {entry:?}: {reason}")]
    Dns {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An `allow_tcp` entry is malformed.
    #[error("allow_tcp entry {entry:?}: {reason}")]
    Tcp {
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An `allow_read` entry is not an acceptable directory.
    #[error("allow_read entry {entry:?}: {reason}")]
    Read {
        /// The entry as written.
        entry: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemeRule {
    Any,
    Http,
    Https,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    Any,
    Exact(String),
    SubdomainOf(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OriginRule {
    scheme: SchemeRule,
    host: HostRule,
    port: Option<u16>,
}

/// Parsed grants, checked on every outbound request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    origins: Vec<OriginRule>,
    private: Vec<IpNet>,
    dns: Vec<NamePattern>,
    pub(crate) tcp: Vec<TcpRule>,
    pub(crate) read: Vec<PathBuf>,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

fn parse_origin(entry: &str) -> Result<OriginRule, GrantError> {
    let err = |reason| GrantError::Http {
        entry: entry.to_owned(),
        reason,
    };
    let (scheme, rest) = entry
        .split_once("://")
        .ok_or_else(|| err("expected scheme://host[:port], e.g. https://api.example.org"))?;
    let scheme_rule = match scheme.to_ascii_lowercase().as_str() {
        "*" => SchemeRule::Any,
        "http" => SchemeRule::Http,
        "https" => SchemeRule::Https,
        _ => return Err(err("the scheme must be http, https or *")),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) {
        return Err(err(
            "grants are per origin: remove the path, query or user info",
        ));
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| err("unclosed [ in the host"))?;
        (format!("[{h}]"), after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (rest.to_owned(), None),
        }
    };
    let port = match port {
        Some("*") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| err("the port must be a number or *"))?,
        ),
        None => match scheme_rule {
            SchemeRule::Any => return Err(err("with scheme *, give a port (a number or *)")),
            SchemeRule::Http => default_port("http"),
            SchemeRule::Https => default_port("https"),
        },
    };
    let host = host.to_ascii_lowercase();
    let host_rule = if host == "*" {
        HostRule::Any
    } else if let Some(domain) = host.strip_prefix("*.") {
        if domain.is_empty() || domain.contains('*') {
            return Err(err("a wildcard host is * or *.domain"));
        }
        HostRule::SubdomainOf(domain.to_owned())
    } else if host.is_empty() || host.contains('*') {
        return Err(err("the host is empty or has a * that is not a leading *."));
    } else {
        HostRule::Exact(normalize_host(&host))
    };
    Ok(OriginRule {
        scheme: scheme_rule,
        host: host_rule,
        port,
    })
}

/// Lower case, no brackets around IPv6, no trailing dot.
fn normalize_host(host: &str) -> String {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    let h = h.strip_suffix('.').unwrap_or(h);
    match h.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => h.to_ascii_lowercase(),
    }
}

impl AllowList {
    /// Parses grants; the first bad entry fails the whole list.
    pub fn parse(grants: &Grants) -> Result<Self, GrantError> {
        let origins = grants
            .allow_http
            .iter()
            .map(|e| parse_origin(e))
            .collect::<Result<_, _>>()?;
        let private = grants
            .allow_private_ips
            .iter()
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| GrantError::Ip { entry: e.clone() })
            })
            .collect::<Result<_, _>>()?;
        let dns = grants
            .allow_dns
            .iter()
            .map(|e| NamePattern::parse(e))
            .collect::<Result<_, _>>()?;
        let tcp = grants
            .allow_tcp
            .iter()
            .map(|e| TcpRule::parse(e))
            .collect::<Result<_, _>>()?;
        let read = grants
            .allow_read
            .iter()
            .map(|e| parse_read_dir(e))
            .collect::<Result<_, _>>()?;
        Ok(AllowList {
            origins,
            private,
            dns,
            tcp,
            read,
        })
    }

    /// Whether looking up `name` is granted: by `allow_dns`, or, for
    /// address lookups (`address_lookup`), by being the host of an
    /// `allow_tcp` entry.
    pub fn allows_dns(&self, name: &str, address_lookup: bool) -> bool {
        let name = normalize_name(name);
        self.dns.iter().any(|p| p.matches(&name))
            || (address_lookup
                && self.tcp.iter().any(
                    |r| matches!(&r.host, crate::capabilities::TcpHost::Name(n) if *n == name),
                ))
    }

    /// The directories granted for reading.
    pub fn read_dirs(&self) -> &[PathBuf] {
        &self.read
    }

    /// Whether a request to `scheme://host:port` is granted.
    pub fn allows_origin(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme = scheme.to_ascii_lowercase();
        let host = normalize_host(host);
        self.origins.iter().any(|r| {
            let scheme_ok = match r.scheme {
                SchemeRule::Any => true,
                SchemeRule::Http => scheme == "http",
                SchemeRule::Https => scheme == "https",
            };
            let host_ok = match &r.host {
                HostRule::Any => true,
                HostRule::Exact(h) => *h == host,
                HostRule::SubdomainOf(d) => host
                    .strip_suffix(d.as_str())
                    .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1),
            };
            scheme_ok && host_ok && r.port.is_none_or(|p| p == port)
        })
    }

    /// Whether connecting to `ip` is granted: public addresses always are,
    /// others only inside an `allow_private_ips` network.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        non_public_class(ip).is_none() || self.private.iter().any(|n| n.contains(&ip))
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Why an address is not public, or `None` when it is.
pub fn non_public_class(ip: IpAddr) -> Option<AddressClass> {
    use AddressClass::*;
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_loopback() {
                Some(Loopback)
            } else if v4.is_private() {
                Some(Private)
            } else if v4.is_link_local() {
                Some(LinkLocal)
            } else if v4.is_unspecified() || o[0] == 0 {
                Some(Unspecified)
            } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
                Some(SharedCgnat)
            } else if v4.is_multicast()
                || v4.is_broadcast()
                || o[0] >= 240
                || v4.is_documentation()
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
            {
                Some(Reserved)
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // The IPv4 address in segments `i` and `i + 1`.
            let v4_at = |i: usize| {
                let [a, b] = s[i].to_be_bytes();
                let [c, d] = s[i + 1].to_be_bytes();
                std::net::Ipv4Addr::new(a, b, c, d)
            };
            // An address that carries an IPv4 address is as public as
            // that address; one that is public still lies in a special
            // range, so it is `Reserved` when `otherwise` says so.
            let embedded = |v4, otherwise: Option<AddressClass>| {
                non_public_class(IpAddr::V4(v4)).or(otherwise)
            };
            if v6.is_loopback() {
                Some(Loopback)
            } else if v6.is_unspecified() {
                Some(Unspecified)
            } else if s[..6] == [0; 6] {
                // ::a.b.c.d, IPv4-compatible (deprecated, RFC 4291).
                embedded(v4_at(6), Some(Reserved))
            } else if s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 {
                // ::ffff:0:a.b.c.d, IPv4-translated (RFC 2765).
                embedded(v4_at(6), Some(Reserved))
            } else if (s[0] & 0xfe00) == 0xfc00 {
                Some(Private)
            } else if (s[0] & 0xffc0) == 0xfec0 {
                // fec0::/10, site-local (deprecated, RFC 3879).
                Some(Private)
            } else if (s[0] & 0xffc0) == 0xfe80 {
                Some(LinkLocal)
            } else if v6.is_multicast()
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                // 2001::/32, Teredo: tunnels to an IPv4 host whose
                // address is obfuscated in the last 32 bits.
                || (s[0] == 0x2001 && s[1] == 0)
                // 2001:2::/48, benchmarking.
                || (s[0] == 0x2001 && s[1] == 2 && s[2] == 0)
                // 100::/64, discard-only.
                || (s[0] == 0x100 && s[1..4] == [0; 3])
            {
                Some(Reserved)
            } else if s[0] == 0x2002 {
                // 2002::/16, 6to4: judge the IPv4 address in bits 16–48.
                embedded(v4_at(1), None)
            } else if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
                // 64:ff9b:1::/48, NAT64 for local use (RFC 8215).
                Some(Private)
            } else if s[0] == 0x64 && s[1] == 0xff9b {
                // NAT64 (64:ff9b::/96): judge the embedded IPv4 address.
                embedded(v4_at(6), None)
            } else {
                None
            }
        }
    }
}

/// The kind of a non-public address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 (site-local),
    /// 64:ff9b:1::/48 (local NAT64).
    Private,
    /// 169.254/16 (cloud metadata lives here), fe80::/10.
    LinkLocal,
    /// 100.64/10 (carrier-grade NAT).
    SharedCgnat,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// Multicast, broadcast, documentation, benchmarking and reserved
    /// ranges; Teredo (2001::/32), and IPv4-compatible or -translated
    /// addresses of public IPv4 hosts. (Addresses embedding an IPv4
    /// address — those, 6to4 2002::/16, NAT64 64:ff9b::/96 — take the
    /// class of the embedded address when it is not public.)
    Reserved,
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link-local",
            AddressClass::SharedCgnat => "shared (CGNAT)",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Reserved => "reserved",
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn list(http: &[&str], ips: &[&str]) -> AllowList {
        AllowList::parse(&Grants {
            allow_http: http.iter().map(|s| s.to_string()).collect(),
            allow_private_ips: ips.iter().map(|s| s.to_string()).collect(),
            ..Grants::default()
        })
        .unwrap()
    }

    #[test]
    fn origins_match_scheme_host_and_port() {
        let l = list(
            &[
                "https://events.pagerduty.com",
                "http://*.example.org:8080",
                "*://127.0.0.1:*",
                "http://[::1]:9090",
            ],
            &[],
        );
        let cases = [
            ("https", "events.pagerduty.com", 443, true),
            ("https", "EVENTS.pagerduty.com.", 443, true),
            ("http", "events.pagerduty.com", 80, false),
            ("https", "events.pagerduty.com", 8443, false),
            ("https", "evil-events.pagerduty.com", 443, false),
            ("http", "a.example.org", 8080, true),
            ("http", "a.b.example.org", 8080, true),
            ("http", "example.org", 8080, false),
            ("http", "badexample.org", 8080, false),
            ("http", "a.example.org", 80, false),
            ("http", "127.0.0.1", 1234, true),
            ("https", "127.0.0.1", 1, true),
            ("http", "::1", 9090, true),
            ("http", "[::1]", 9090, true),
            ("http", "127.0.0.2", 1234, false),
        ];
        for (scheme, host, port, want) in cases {
            assert_eq!(
                l.allows_origin(scheme, host, port),
                want,
                "{scheme}://{host}:{port}"
            );
        }
    }

    #[test]
    fn dns_grants_and_tcp_hosts() {
        let l = AllowList::parse(&Grants {
            allow_dns: vec!["*.example.org".into()],
            allow_tcp: vec!["smtp.mail.test:587".into(), "10.0.0.1:25".into()],
            ..Grants::default()
        })
        .unwrap();
        assert!(l.allows_dns("_x._tcp.example.org", false));
        assert!(l.allows_dns("A.Example.Org.", true));
        assert!(!l.allows_dns("example.org", false));
        // A TCP host may be resolved to addresses, but not asked for SRV.
        assert!(l.allows_dns("smtp.mail.test", true));
        assert!(!l.allows_dns("smtp.mail.test", false));
        assert!(!l.allows_dns("other.mail.test", true));
        assert!(AllowList::default().read_dirs().is_empty());
        for bad in [
            Grants {
                allow_dns: vec!["a..b".into()],
                ..Grants::default()
            },
            Grants {
                allow_tcp: vec!["no-port".into()],
                ..Grants::default()
            },
            Grants {
                allow_read: vec!["relative".into()],
                ..Grants::default()
            },
        ] {
            assert!(AllowList::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in [
            "example.org",
            "ftp://x",
            "https://x/path",
            "https://x:99999",
            "*://x",
            "https://a.*.org",
            "https://user@x",
            "http://*.",
        ] {
            let r = AllowList::parse(&Grants {
                allow_http: vec![bad.into()],
                ..Grants::default()
            });
            assert!(matches!(r, Err(GrantError::Http { .. })), "{bad}: {r:?}");
        }
        let r = AllowList::parse(&Grants {
            allow_private_ips: vec!["10.0.0.0/33".into()],
            ..Grants::default()
        });
        assert!(matches!(r, Err(GrantError::Ip { .. })));
    }

    #[test]
    fn non_public_addresses_need_a_grant() {
        let none = list(&[], &[]);
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "224.0.0.1",
        ] {
            assert!(!none.allows_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "172.32.0.1",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(none.allows_ip(ip.parse().unwrap()), "{ip}");
        }
        let granted = list(&[], &["127.0.0.1", "10.0.0.0/8", "::1"]);
        for (ip, want) in [
            ("127.0.0.1", true),
            ("127.0.0.2", false),
            ("10.9.9.9", true),
            ("::1", true),
            ("::ffff:127.0.0.1", true),
            ("169.254.169.254", false),
        ] {
            assert_eq!(granted.allows_ip(ip.parse().unwrap()), want, "{ip}");
        }
    }

    /// IPv6 ranges that embed or tunnel to IPv4, and deprecated local
    /// ones: none reaches a private host without a grant.
    #[test]
    fn special_ipv6_ranges_are_not_public() {
        use AddressClass::*;
        let cases = [
            // IPv4-compatible ::a.b.c.d
            ("::127.0.0.1", Loopback),
            ("::10.0.0.1", Private),
            ("::169.254.169.254", LinkLocal),
            ("::8.8.8.8", Reserved),
            ("::0.0.0.2", Unspecified),
            // IPv4-translated ::ffff:0:a.b.c.d
            ("::ffff:0:127.0.0.1", Loopback),
            ("::ffff:0:8.8.8.8", Reserved),
            // 6to4 2002::/16 with the IPv4 address after the prefix
            ("2002:7f00:1::1", Loopback),
            ("2002:a9fe:a9fe::", LinkLocal),
            ("2002:c0a8:101:1::5", Private),
            // Teredo 2001::/32
            ("2001::1", Reserved),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Reserved),
            // site-local fec0::/10
            ("fec0::1", Private),
            ("feff:ffff::1", Private),
            // NAT64 local use 64:ff9b:1::/48, whatever it embeds
            ("64:ff9b:1::808:808", Private),
            ("64:ff9b:1:ffff::1", Private),
            // NAT64 well-known prefix embedding a private address
            ("64:ff9b::7f00:1", Loopback),
            ("64:ff9b::a00:1", Private),
            // benchmarking, discard-only
            ("2001:2::1", Reserved),
            ("100::1", Reserved),
        ];
        let none = list(&[], &[]);
        for (ip, class) in cases {
            let addr: IpAddr = ip.parse().unwrap();
            assert_eq!(non_public_class(addr), Some(class), "{ip}");
            assert!(!none.allows_ip(addr), "{ip}");
        }
        // Neighbours of the ranges stay public.
        for ip in ["2001:1::1", "2001:3::1", "2003::1", "fe00::1", "101::1"] {
            assert_eq!(non_public_class(ip.parse().unwrap()), None, "{ip}");
        }
        // A grant covers them like any address.
        let granted = list(&[], &["2002::/16", "fec0::/10"]);
        assert!(granted.allows_ip("2002:7f00:1::1".parse().unwrap()));
        assert!(granted.allows_ip("fec0::1".parse().unwrap()));
    }

    #[test]
    fn classes_name_the_range() {
        assert_eq!(
            non_public_class("169.254.169.254".parse().unwrap()),
            Some(AddressClass::LinkLocal)
        );
        assert_eq!(
            non_public_class("127.0.0.1".parse().unwrap()),
            Some(AddressClass::Loopback)
        );
        assert_eq!(non_public_class("93.184.216.34".parse().unwrap()), None);
    }
}
