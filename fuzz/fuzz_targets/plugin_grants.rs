//! A plugin's grants as `[plugins.<name>]` lists them, one entry a line:
//! the first character picks the list (`h` allow_http, `i`
//! allow_private_ips, `d` allow_dns, `t` allow_tcp, `r` allow_read), the
//! rest is the entry. A list that parses answers questions about origins,
//! names and addresses built from the same input. An address's class is
//! the same written as IPv4 or as IPv4-mapped IPv6.
#![no_main]
use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use pharos_plugin_host::{AllowList, Grants, non_public_class};

fuzz_target!(|data: &[u8]| {
    if let Some(b) = data.first_chunk::<16>() {
        let v6 = IpAddr::from(*b);
        let _ = non_public_class(v6);
        let v4 = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        assert_eq!(
            non_public_class(IpAddr::V4(v4)),
            non_public_class(IpAddr::V6(v4.to_ipv6_mapped())),
            "{v4}"
        );
    }
    let text = String::from_utf8_lossy(data);
    let mut g = Grants::default();
    for line in text.lines() {
        let Some(kind) = line.chars().next() else {
            continue;
        };
        let entry = line[kind.len_utf8()..].to_owned();
        match kind {
            'h' => g.allow_http.push(entry),
            'i' => g.allow_private_ips.push(entry),
            'd' => g.allow_dns.push(entry),
            't' => g.allow_tcp.push(entry),
            'r' => g.allow_read.push(entry.into()),
            _ => {}
        }
    }
    let Ok(allow) = AllowList::parse(&g) else {
        return;
    };
    for line in text.lines() {
        let host = line.get(1..).unwrap_or_default();
        let host = host.split(['/', ':']).nth(3).unwrap_or(host);
        for scheme in ["http", "https"] {
            let _ = allow.allows_origin(scheme, host, 443);
        }
        let _ = allow.allows_dns(host, true);
        if let Ok(ip) = host.parse::<IpAddr>() {
            let _ = allow.allows_ip(ip);
        }
    }
});
