//! The built-in exporters against real local servers: `probe` (HTTP and
//! TCP, blackbox-style metrics) and `json` (fields of a JSON document as
//! metrics).

#![allow(clippy::unwrap_used)]

mod common;

use common::Reply;
use pharos_plugin_host::{
    CallError, Denial, ErrorKind, MetricFamily, Plugin, PluginKind, PluginSettings,
};
use std::collections::BTreeMap;

async fn exporter(name: &str, settings: &PluginSettings) -> Plugin {
    common::runtime()
        .load_embedded(name, PluginKind::Exporter, settings)
        .await
        .unwrap()
}

/// A sample as `(labels, value)`.
type Sample = (BTreeMap<String, String>, f64);

/// `family name -> [(labels, value)]`.
fn samples(families: &[MetricFamily]) -> BTreeMap<String, Vec<Sample>> {
    families
        .iter()
        .map(|f| {
            let s = f
                .metrics
                .iter()
                .map(|m| (common::label_map(&m.labels), m.value))
                .collect();
            (f.name.clone(), s)
        })
        .collect()
}

fn target(t: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("target".to_owned(), t.to_owned())])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_probes_report_success_status_and_body_checks() {
    let up = common::serve(Some(Reply {
        status: 200,
        content_type: "text/plain",
        body: "all systems ok".into(),
    }))
    .await;
    let down = common::serve(Some(Reply {
        status: 503,
        content_type: "text/plain",
        body: "maintenance".into(),
    }))
    .await;
    let mut settings = common::http_settings(&up);
    settings
        .grants
        .allow_http
        .push(format!("http://127.0.0.1:{}", down.addr.port()));
    let probe = exporter("probe", &settings).await;
    let (u, d) = (up.url("/health"), down.url("/"));
    let config = serde_json::json!({"targets": [u, d], "module": "http_2xx"}).to_string();
    let got = samples(&probe.collect(&config).await.unwrap());
    assert_eq!(got["probe_success"], [(target(&u), 1.0), (target(&d), 0.0)]);
    assert_eq!(
        got["probe_http_status_code"],
        [(target(&u), 200.0), (target(&d), 503.0)]
    );
    assert_eq!(
        got["probe_http_content_length"],
        [(target(&u), 14.0), (target(&d), 11.0)]
    );
    assert_eq!(
        got["probe_http_ssl"],
        [(target(&u), 0.0), (target(&d), 0.0)]
    );
    let durations = &got["probe_duration_seconds"];
    assert_eq!(durations.len(), 2);
    assert!(durations.iter().all(|(_, v)| *v > 0.0), "{durations:?}");
    assert!(up.requests.lock().unwrap()[0].starts_with("GET /health HTTP/1.1"));

    // A body check: the page must say "ok" and must not say "error".
    let config = serde_json::json!({
        "targets": [u], "fail_if_body_not_contains": ["healthy"]
    })
    .to_string();
    let got = samples(&probe.collect(&config).await.unwrap());
    assert_eq!(got["probe_success"], [(target(&u), 0.0)]);
    assert_eq!(got["probe_failed_due_to_body"], [(target(&u), 1.0)]);
    // Accepting 503 explicitly.
    let config = serde_json::json!({"targets": [d], "valid_status_codes": [503]}).to_string();
    let got = samples(&probe.collect(&config).await.unwrap());
    assert_eq!(got["probe_success"], [(target(&d), 1.0)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_target_is_a_failed_probe_but_an_ungranted_one_is_an_error() {
    // A port with nothing listening: bind, note the port, close.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut settings = common::settings();
    settings.grants.allow_http = vec![format!("http://127.0.0.1:{closed}")];
    settings.grants.allow_private_ips = vec!["127.0.0.1".into()];
    let probe = exporter("probe", &settings).await;
    let url = format!("http://127.0.0.1:{closed}/");
    let got = samples(
        &probe
            .collect(&serde_json::json!({"targets": [url]}).to_string())
            .await
            .unwrap(),
    );
    assert_eq!(got["probe_success"], [(target(&url), 0.0)]);
    assert!(!got.contains_key("probe_http_status_code"));

    let err = probe
        .collect(&serde_json::json!({"targets": ["http://127.0.0.1:1/"]}).to_string())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            CallError::Denied {
                denial: Denial::Origin { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("allow_http"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_probes_connect_to_granted_ports() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut settings = common::settings();
    settings.grants.allow_tcp = vec!["127.0.0.1:*".into(), format!("localhost:{open}")];
    settings.grants.allow_private_ips = vec!["127.0.0.1".into(), "::1".into()];
    let probe = exporter("probe", &settings).await;
    let (a, b, c) = (
        format!("127.0.0.1:{open}"),
        format!("127.0.0.1:{closed}"),
        format!("localhost:{open}"),
    );
    let config = serde_json::json!({"targets": [a, b, c], "module": "tcp"}).to_string();
    let got = samples(&probe.collect(&config).await.unwrap());
    assert_eq!(
        got["probe_success"],
        [(target(&a), 1.0), (target(&b), 0.0), (target(&c), 1.0)]
    );
    assert_eq!(got.len(), 2, "tcp probes have no http metrics: {got:?}");

    let denied = exporter("probe", &common::settings()).await;
    let err = denied.collect(&config).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
    assert!(err.to_string().contains("allow_tcp"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_fields_become_metrics() {
    let server = common::serve(Some(Reply {
        status: 200,
        content_type: "application/json",
        body: r#"{"uptime": 3600, "healthy": true,
                  "queues": [{"name": "mail", "depth": 3}, {"name": "sms", "depth": 0}]}"#
            .into(),
    }))
    .await;
    let json = exporter("json", &common::http_settings(&server)).await;
    let info = json.info().unwrap();
    assert_eq!(
        (info.name.as_str(), info.kind),
        ("json", PluginKind::Exporter)
    );
    let config = serde_json::json!({
        "url": server.url("/stats"),
        "metrics": [
            {"name": "app_uptime_seconds", "path": "uptime", "type": "counter", "help": "Uptime."},
            {"name": "app_healthy", "path": "healthy"},
            {"name": "app_queue_depth", "path": "queues.*", "value": "depth", "labels": {"queue": "name"}}
        ]
    })
    .to_string();
    let families = json.collect(&config).await.unwrap();
    assert_eq!(families[0].type_, pharos_plugin_host::MetricType::Counter);
    assert_eq!(families[0].help, "Uptime.");
    let got = samples(&families);
    let queue = |q: &str| BTreeMap::from([("queue".to_owned(), q.to_owned())]);
    assert_eq!(got["app_uptime_seconds"], [(BTreeMap::new(), 3600.0)]);
    assert_eq!(got["app_healthy"], [(BTreeMap::new(), 1.0)]);
    assert_eq!(
        got["app_queue_depth"],
        [(queue("mail"), 3.0), (queue("sms"), 0.0)]
    );

    let err = json
        .validate_config(r#"{"url":"http://x/","metrics":[{"name":"bad name","path":"a"}]}"#)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
}
