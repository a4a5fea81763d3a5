//! The built-in `kubernetes` discovery against a Kubernetes-API-shaped
//! HTTP server in the test (a real API server cannot run here): the list
//! calls of each role with the bearer token, namespaces and selectors, and
//! the exact `__meta_kubernetes_*` labels of the node, service, pod and
//! endpoints roles.

#![allow(clippy::unwrap_used)]

mod common;

use common::Reply;
use pharos_plugin_host::{ErrorKind, Plugin, PluginKind};

fn json(name: &str) -> Reply {
    Reply {
        status: 200,
        content_type: "application/json",
        body: common::testdata(name),
    }
}

async fn api_server() -> common::TestServer {
    common::serve_routes(vec![
        ("/api/v1/nodes", json("k8s_nodes.response.json")),
        ("/api/v1/services", json("k8s_services.response.json")),
        (
            "/api/v1/namespaces/shop/services",
            json("k8s_services.response.json"),
        ),
        ("/api/v1/pods", json("k8s_pods.response.json")),
        (
            "/api/v1/namespaces/shop/pods",
            json("k8s_pods.response.json"),
        ),
        (
            "/api/v1/namespaces/shop/endpoints",
            json("k8s_endpoints.response.json"),
        ),
    ])
    .await
}

async fn plugin(server: &common::TestServer) -> Plugin {
    common::runtime()
        .load_embedded(
            "kubernetes",
            PluginKind::Discovery,
            &common::http_settings(server),
        )
        .await
        .unwrap()
}

fn config(server: &common::TestServer, role: &str, extra: serde_json::Value) -> String {
    let mut c = serde_json::json!({
        "api_server": format!("http://127.0.0.1:{}", server.addr.port()),
        "role": role,
        "bearer_token": "tok3n",
    });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c.to_string()
}

fn request_lines(server: &common::TestServer) -> Vec<String> {
    let requests = server.requests.lock().unwrap().clone();
    for r in &requests {
        assert!(
            r.to_lowercase().contains("authorization: bearer tok3n"),
            "no bearer token in {r}"
        );
    }
    requests
        .iter()
        .map(|r| r.lines().next().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_role() {
    let server = api_server().await;
    let groups = plugin(&server)
        .await
        .discover(&config(&server, "node", serde_json::json!({})))
        .await
        .unwrap();
    common::assert_groups(&groups, "k8s_nodes.groups.json", &[]);
    assert_eq!(request_lines(&server), ["GET /api/v1/nodes HTTP/1.1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_role_with_a_selector() {
    let server = api_server().await;
    let extra = serde_json::json!({"selectors": [{"role": "service", "label": "app=web"}]});
    let groups = plugin(&server)
        .await
        .discover(&config(&server, "service", extra))
        .await
        .unwrap();
    common::assert_groups(&groups, "k8s_services.groups.json", &[]);
    assert_eq!(
        request_lines(&server),
        ["GET /api/v1/services?labelSelector=app%3Dweb HTTP/1.1"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_role() {
    let server = api_server().await;
    let groups = plugin(&server)
        .await
        .discover(&config(&server, "pod", serde_json::json!({})))
        .await
        .unwrap();
    common::assert_groups(&groups, "k8s_pods.groups.json", &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_role_in_a_namespace_joins_services_and_pods() {
    let server = api_server().await;
    let extra = serde_json::json!({"namespaces": {"names": ["shop"]}});
    let groups = plugin(&server)
        .await
        .discover(&config(&server, "endpoints", extra))
        .await
        .unwrap();
    common::assert_groups(&groups, "k8s_endpoints.groups.json", &[]);
    assert_eq!(
        request_lines(&server),
        [
            "GET /api/v1/namespaces/shop/endpoints HTTP/1.1",
            "GET /api/v1/namespaces/shop/services HTTP/1.1",
            "GET /api/v1/namespaces/shop/pods HTTP/1.1",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configurations_and_refusals() {
    let server = api_server().await;
    let k8s = plugin(&server).await;
    for (cfg, fragment) in [
        (r#"{"api_server":"k8s:6443","role":"pod"}"#, "api_server"),
        (
            r#"{"api_server":"https://k8s","role":"ingress"}"#,
            "unknown variant",
        ),
        (
            r#"{"api_server":"https://k8s","role":"pod","bearer_token":"a","bearer_token_file":"/b"}"#,
            "not both",
        ),
    ] {
        let err = k8s.validate_config(cfg).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{cfg}: {err}");
        assert!(err.to_string().contains(fragment), "{cfg}: {err}");
    }
    // A token file outside any allow_read grant.
    let err = k8s
        .discover(&config(
            &server,
            "pod",
            serde_json::json!({"bearer_token": null, "bearer_token_file": "/var/run/secrets/token"}),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("allow_read"), "{err}");
    // Unauthorized: a permanent error with the status.
    let denied = common::serve(Some(Reply {
        status: 403,
        content_type: "application/json",
        body: r#"{"kind":"Status","reason":"Forbidden"}"#.into(),
    }))
    .await;
    let err = plugin(&denied)
        .await
        .discover(&config(&denied, "node", serde_json::json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent, "{err}");
    assert!(err.to_string().contains("403"), "{err}");
}
