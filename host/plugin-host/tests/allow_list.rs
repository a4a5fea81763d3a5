//! Outbound HTTP is granted per origin, and non-public addresses need an
//! explicit grant even when the name was granted: checked against a real
//! server on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod common;

use pharos_plugin_host::{AddressClass, CallError, Denial, PluginKind};

fn http_config(url: &str) -> String {
    format!(r#"{{"mode":"http","url":"{url}"}}"#)
}

async fn server() -> common::TestServer {
    common::serve(Some(common::Reply {
        status: 200,
        content_type: "text/plain",
        body: "10.0.0.1:9100\n10.0.0.2:9100\n".into(),
    }))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_origin_with_a_loopback_grant_works() {
    let rt = common::runtime();
    let server = server().await;
    let mut settings = common::settings();
    settings.grants.allow_http = vec![format!("http://127.0.0.1:{}", server.addr.port())];
    settings.grants.allow_private_ips = vec!["127.0.0.1/32".into()];
    let chaos = common::load(&rt, "fixture-chaos", PluginKind::Discovery, &settings).await;
    let groups = chaos
        .discover(&http_config(&server.url("/targets")))
        .await
        .unwrap();
    let addresses: Vec<&str> = groups[0]
        .targets
        .iter()
        .map(|t| t[0].value.as_str())
        .collect();
    assert_eq!(addresses, ["10.0.0.1:9100", "10.0.0.2:9100"]);
    let requests = server.requests.lock().unwrap();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].starts_with("GET /targets HTTP/1.1\r\n"),
        "{}",
        requests[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_not_granted_is_denied_with_the_grant_to_add() {
    let rt = common::runtime();
    let server = server().await;
    let mut settings = common::settings();
    settings.grants.allow_http = vec!["https://events.pagerduty.com".into()];
    settings.grants.allow_private_ips = vec!["127.0.0.1".into()];
    let chaos = common::load(&rt, "fixture-chaos", PluginKind::Discovery, &settings).await;
    let err = chaos
        .discover(&http_config(&server.url("/")))
        .await
        .unwrap_err();
    let want_origin = format!("http://127.0.0.1:{}", server.addr.port());
    match &err {
        CallError::Denied {
            denial: Denial::Origin { origin, .. },
            ..
        } => assert_eq!(*origin, want_origin),
        other => panic!("expected an origin denial, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("allow_http") && text.contains(&want_origin),
        "{text}"
    );
    assert!(
        server.requests.lock().unwrap().is_empty(),
        "nothing reached the server"
    );
    assert_eq!(chaos.metrics().denied_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_and_link_local_need_an_address_grant() {
    let rt = common::runtime();
    let server = server().await;
    let port = server.addr.port();
    let mut settings = common::settings();
    settings.grants.allow_http = vec![
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        "http://169.254.169.254".into(),
    ];
    let chaos = common::load(&rt, "fixture-chaos", PluginKind::Discovery, &settings).await;

    let cases = [
        (format!("http://127.0.0.1:{port}/"), AddressClass::Loopback),
        // A granted name that resolves to loopback: no SSRF through DNS.
        (format!("http://localhost:{port}/"), AddressClass::Loopback),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            AddressClass::LinkLocal,
        ),
    ];
    for (url, want) in cases {
        let err = chaos.discover(&http_config(&url)).await.unwrap_err();
        match &err {
            CallError::Denied {
                denial: Denial::Address { class, .. },
                ..
            } => assert_eq!(*class, want, "{url}"),
            other => panic!("{url}: expected an address denial, got {other:?}"),
        }
        assert!(err.to_string().contains("allow_private_ips"), "{err}");
    }
    assert!(
        server.requests.lock().unwrap().is_empty(),
        "nothing reached the server"
    );
    // The host keeps working: the same plugin still answers.
    chaos.discover(r#"{"mode":"ok"}"#).await.unwrap();
}
