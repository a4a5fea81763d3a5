//! The built-in `dns` discovery against a real DNS server on a loopback
//! UDP port (a tiny authoritative server in the test, see
//! `common/dns_server.rs`): the exact groups and `__meta_dns_*` labels
//! Prometheus' DNS SD produces for SRV, A, AAAA, MX and NS records, and the
//! `allow_dns` grant.

#![allow(clippy::unwrap_used)]

mod common;

use common::dns_server::{self, a, aaaa, mx, ns, srv};
use pharos_plugin_host::{
    CallError, Denial, ErrorKind, Plugin, PluginKind, PluginSettings, Runtime, RuntimeOptions,
};

async fn zone() -> dns_server::DnsServer {
    dns_server::start(vec![
        srv(
            "_metrics._tcp.example.org.",
            10,
            5,
            9100,
            "node1.example.org.",
        ),
        srv(
            "_metrics._tcp.example.org.",
            20,
            0,
            9101,
            "node2.example.org.",
        ),
        a("node1.example.org.", "10.0.0.1"),
        a("node1.example.org.", "10.0.0.2"),
        aaaa("node1.example.org.", "2001:db8::1"),
        mx("example.org.", 10, "mail.example.org."),
        ns("example.org.", "ns1.example.org."),
    ])
    .await
}

async fn plugin(server: &dns_server::DnsServer, allow_dns: &[&str]) -> Plugin {
    let runtime = Runtime::new(RuntimeOptions {
        pooling: Some(8),
        dns_servers: vec![server.addr],
        ..RuntimeOptions::default()
    })
    .unwrap();
    let mut settings: PluginSettings = common::settings();
    settings.grants.allow_dns = allow_dns.iter().map(|s| s.to_string()).collect();
    runtime
        .load_embedded("dns", PluginKind::Discovery, &settings)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn srv_a_aaaa_mx_and_ns_records_give_prometheus_labels() {
    let server = zone().await;
    let dns = plugin(&server, &["*.example.org", "example.org"]).await;
    let cases = [
        (
            r#"{"names":["_metrics._tcp.example.org"]}"#,
            "dns_srv.groups.json",
        ),
        (
            r#"{"names":["node1.example.org"],"type":"A","port":9100}"#,
            "dns_a.groups.json",
        ),
        (
            r#"{"names":["node1.example.org."],"type":"AAAA","port":9100}"#,
            "dns_aaaa.groups.json",
        ),
        (
            r#"{"names":["example.org"],"type":"MX","port":25}"#,
            "dns_mx.groups.json",
        ),
        (
            r#"{"names":["example.org"],"type":"NS","port":9153}"#,
            "dns_ns.groups.json",
        ),
    ];
    for (config, expected) in cases {
        let groups = dns.discover(config).await.unwrap();
        common::assert_groups(&groups, expected, &[]);
    }
    let questions = server.questions.lock().unwrap().clone();
    assert!(
        questions.contains(&("_metrics._tcp.example.org.".into(), "SRV".into())),
        "{questions:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_name_gives_an_empty_group() {
    let server = zone().await;
    let dns = plugin(&server, &["*.example.org"]).await;
    let groups = dns
        .discover(r#"{"names":["nothing.example.org","_metrics._tcp.example.org"]}"#)
        .await
        .unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].source, "nothing.example.org");
    assert!(groups[0].targets.is_empty());
    assert_eq!(groups[1].targets.len(), 2);
    // A known name without records of the type: empty too.
    let groups = dns
        .discover(r#"{"names":["node1.example.org"],"type":"MX","port":25}"#)
        .await
        .unwrap();
    assert!(groups[0].targets.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_not_granted_is_denied_with_the_grant_to_add() {
    let server = zone().await;
    let dns = plugin(&server, &["*.example.com"]).await;
    let err = dns
        .discover(r#"{"names":["_metrics._tcp.example.org"]}"#)
        .await
        .unwrap_err();
    match &err {
        CallError::Denied {
            denial: Denial::Dns { name, record_type },
            ..
        } => {
            assert_eq!(name, "_metrics._tcp.example.org");
            assert_eq!(*record_type, "SRV");
        }
        other => panic!("expected a DNS denial, got {other:?}"),
    }
    assert_eq!(err.kind(), ErrorKind::Denied);
    let text = err.to_string();
    assert!(
        text.contains("allow_dns") && text.contains("_metrics._tcp.example.org"),
        "{text}"
    );
    assert!(
        server.questions.lock().unwrap().is_empty(),
        "no query left the host"
    );
    assert_eq!(dns.metrics().denied_requests, 1);

    // Nothing granted at all: denied the same way.
    let none = plugin(&server, &[]).await;
    let err = none
        .discover(r#"{"names":["node1.example.org"],"type":"A","port":1}"#)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configuration_is_checked_offline() {
    let server = zone().await;
    let dns = plugin(&server, &["*"]).await;
    for (config, fragment) in [
        (r#"{"names":["a.example.org"],"type":"A"}"#, "port"),
        (r#"{"names":[]}"#, "names"),
        (r#"{"names":["a"],"type":"TXT"}"#, "unknown variant"),
        (r#"{"name":["a"]}"#, "unknown field"),
    ] {
        let err = dns.validate_config(config).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{config}: {err}");
        assert!(err.to_string().contains(fragment), "{config}: {err}");
    }
    assert!(server.questions.lock().unwrap().is_empty());
}
