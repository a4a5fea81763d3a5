//! TCP through `wasi:sockets` is granted per `host:port` (`allow_tcp`),
//! with non-public addresses also needing `allow_private_ips`: checked with
//! a plugin connecting to a real listener on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod common;

use pharos_plugin_host::{AddressClass, CallError, Denial, ErrorKind, PluginKind};
use tokio::net::TcpListener;

async fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

async fn connect(allow_tcp: &[String], private: &[&str], addr: &str) -> Result<(), CallError> {
    let mut settings = common::settings();
    settings.grants.allow_tcp = allow_tcp.to_vec();
    settings.grants.allow_private_ips = private.iter().map(|s| s.to_string()).collect();
    let chaos = common::load(
        &common::runtime(),
        "fixture-chaos",
        PluginKind::Discovery,
        &settings,
    )
    .await;
    let cfg = serde_json::json!({"mode": "tcp", "url": addr}).to_string();
    chaos.discover(&cfg).await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_address_connects() {
    let (l, port) = listener().await;
    let addr = format!("127.0.0.1:{port}");
    connect(std::slice::from_ref(&addr), &["127.0.0.1"], &addr)
        .await
        .unwrap();
    // The listener saw the connection.
    let accepted = tokio::time::timeout(std::time::Duration::from_secs(5), l.accept()).await;
    assert!(accepted.is_ok_and(|a| a.is_ok()));
    // A granted name resolving to the address works too, and `*` ports.
    connect(&["localhost:*".to_owned()], &["127.0.0.1"], &addr)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_addresses_and_ports_are_denied_with_the_grant_to_add() {
    let (_l, port) = listener().await;
    let addr = format!("127.0.0.1:{port}");
    for grants in [vec![], vec![format!("127.0.0.1:{}", port.wrapping_add(1))]] {
        let err = connect(&grants, &["127.0.0.1"], &addr).await.unwrap_err();
        match &err {
            CallError::Denied {
                denial:
                    Denial::Tcp {
                        addr: a,
                        class: None,
                    },
                ..
            } => assert_eq!(a.to_string(), addr),
            other => panic!("{grants:?}: expected a TCP denial, got {other:?}"),
        }
        assert!(err.to_string().contains("allow_tcp"), "{err}");
    }
    // Granted, but loopback without allow_private_ips.
    let err = connect(std::slice::from_ref(&addr), &[], &addr)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
    match &err {
        CallError::Denied {
            denial: Denial::Tcp { class, .. },
            ..
        } => assert_eq!(*class, Some(AddressClass::Loopback)),
        other => panic!("expected a TCP address denial, got {other:?}"),
    }
    assert!(err.to_string().contains("allow_private_ips"), "{err}");
}
