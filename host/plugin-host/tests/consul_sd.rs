//! The built-in `consul` discovery against a Consul-API-shaped HTTP server
//! in the test (a real Consul agent cannot run here: no binary, no
//! network): the calls Prometheus' Consul SD makes (agent, catalog,
//! health), the token and query parameters, and the exact
//! `__meta_consul_*` labels.

#![allow(clippy::unwrap_used)]

mod common;

use common::Reply;
use pharos_plugin_host::{ErrorKind, PluginKind};

fn json(body: String) -> Reply {
    Reply {
        status: 200,
        content_type: "application/json",
        body,
    }
}

async fn consul() -> common::TestServer {
    common::serve_routes(vec![
        (
            "/v1/agent/self",
            json(r#"{"Config":{"Datacenter":"dc1","NodeName":"agent"}}"#.into()),
        ),
        (
            "/v1/catalog/services",
            json(r#"{"consul":[],"web":["prod","http"],"db":["prod"]}"#.into()),
        ),
        (
            "/v1/health/service/web",
            json(common::testdata("consul_health_web.response.json")),
        ),
        ("/v1/health/service/db", json("[]".into())),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_and_health_give_prometheus_labels() {
    let server = consul().await;
    let plugin = common::runtime()
        .load_embedded(
            "consul",
            PluginKind::Discovery,
            &common::http_settings(&server),
        )
        .await
        .unwrap();
    let config = serde_json::json!({
        "server": format!("127.0.0.1:{}", server.addr.port()),
        "token": "s3cret",
        "tags": ["http"],
        "node_meta": {"rack": "r1"},
    })
    .to_string();
    let groups = plugin.discover(&config).await.unwrap();
    common::assert_groups(&groups, "consul.groups.json", &[]);

    let requests = server.requests.lock().unwrap().clone();
    let lines: Vec<&str> = requests.iter().map(|r| r.lines().next().unwrap()).collect();
    assert_eq!(
        lines,
        [
            "GET /v1/agent/self HTTP/1.1",
            "GET /v1/catalog/services?dc=dc1&stale&node-meta=rack%3Ar1 HTTP/1.1",
            "GET /v1/health/service/web?dc=dc1&stale&node-meta=rack%3Ar1&tag=http HTTP/1.1",
        ]
    );
    assert!(
        requests
            .iter()
            .all(|r| r.to_lowercase().contains("x-consul-token: s3cret")),
        "every request carries the token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_datacenter_and_service_list_skip_the_rest() {
    let server = consul().await;
    let plugin = common::runtime()
        .load_embedded(
            "consul",
            PluginKind::Discovery,
            &common::http_settings(&server),
        )
        .await
        .unwrap();
    let config = serde_json::json!({
        "server": format!("127.0.0.1:{}", server.addr.port()),
        "datacenter": "eu-1",
        "services": ["db"],
        "allow_stale": false,
    })
    .to_string();
    let groups = plugin.discover(&config).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].source, "db");
    assert_eq!(
        common::label_map(&groups[0].labels),
        [
            ("__meta_consul_dc".to_owned(), "eu-1".to_owned()),
            ("__meta_consul_service".to_owned(), "db".to_owned())
        ]
        .into()
    );
    assert!(groups[0].targets.is_empty());
    let requests = server.requests.lock().unwrap().clone();
    let lines: Vec<&str> = requests.iter().map(|r| r.lines().next().unwrap()).collect();
    assert_eq!(
        lines,
        [
            "GET /v1/catalog/services?dc=eu-1 HTTP/1.1",
            "GET /v1/health/service/db?dc=eu-1 HTTP/1.1",
        ]
    );

    let err = plugin
        .validate_config(r#"{"server":"http://consul:8500"}"#)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_agent_is_a_transient_error_and_an_ungranted_one_is_denied() {
    let server = common::serve(Some(Reply {
        status: 500,
        content_type: "text/plain",
        body: "agent down".into(),
    }))
    .await;
    let config =
        serde_json::json!({"server": format!("127.0.0.1:{}", server.addr.port())}).to_string();
    let plugin = common::runtime()
        .load_embedded(
            "consul",
            PluginKind::Discovery,
            &common::http_settings(&server),
        )
        .await
        .unwrap();
    let err = plugin.discover(&config).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");

    let denied = common::runtime()
        .load_embedded("consul", PluginKind::Discovery, &common::settings())
        .await
        .unwrap();
    let err = denied.discover(&config).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
    assert!(err.to_string().contains("allow_http"), "{err}");
}
