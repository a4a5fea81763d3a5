//! The typed calls of the exporter and notifier worlds, and the checks that
//! a component is loaded as the kind it implements.

#![allow(clippy::unwrap_used)]

mod common;

use pharos_plugin_host::{
    Alert, AlertStatus, Label, LoadError, MetricType, Notification, PluginKind,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporter_collects_typed_families() {
    let rt = common::runtime();
    let exporter = common::load(
        &rt,
        "fixture-exporter",
        PluginKind::Exporter,
        &common::settings(),
    )
    .await;
    let families = exporter
        .collect(r#"{"name":"probe_success","value":1.5}"#)
        .await
        .unwrap();
    assert_eq!(families.len(), 1);
    let f = &families[0];
    assert_eq!(
        (f.name.as_str(), f.type_),
        ("probe_success", MetricType::Gauge)
    );
    assert_eq!(f.metrics[0].value, 1.5);
    assert_eq!(
        f.metrics[0].labels,
        [Label {
            name: "source".into(),
            value: "config".into()
        }]
    );
    assert_eq!(f.metrics[0].timestamp_ms, None);
    let err = exporter
        .validate_config(r#"{"name":"","value":1}"#)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("`name` must not be empty"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifier_delivers_over_granted_http() {
    let server = common::serve(Some(common::Reply {
        status: 200,
        content_type: "text/plain",
        body: "ok".into(),
    }))
    .await;
    let mut settings = common::settings();
    settings.grants.allow_http = vec![format!("http://127.0.0.1:{}", server.addr.port())];
    settings.grants.allow_private_ips = vec!["127.0.0.1".into()];
    let rt = common::runtime();
    let notifier = common::load(&rt, "fixture-notifier", PluginKind::Notifier, &settings).await;
    let label = |n: &str, v: &str| Label {
        name: n.into(),
        value: v.into(),
    };
    let notification = Notification {
        receiver: "team".into(),
        status: AlertStatus::Firing,
        alerts: vec![Alert {
            status: AlertStatus::Firing,
            labels: vec![label("alertname", "HighLatency"), label("severity", "page")],
            annotations: vec![label("summary", "p99 above 1s")],
            starts_at_ms: 1_700_000_000_000,
            ends_at_ms: None,
            generator_url: "http://pharos/graph".into(),
            fingerprint: "c0ffee".into(),
        }],
        group_labels: vec![label("alertname", "HighLatency")],
        common_labels: vec![],
        common_annotations: vec![],
        group_key: "{}:{alertname=\"HighLatency\"}".into(),
        truncated_alerts: 0,
        external_url: "http://pharos".into(),
    };
    notifier
        .notify(
            &format!(r#"{{"url":"{}"}}"#, server.url("/hook")),
            &notification,
        )
        .await
        .unwrap();
    let request = server.requests.lock().unwrap()[0].clone();
    assert!(request.starts_with("POST /hook HTTP/1.1"), "{request}");
    let body = request.split("\r\n\r\n").nth(1).unwrap();
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["receiver"], "team");
    assert_eq!(json["alerts"][0]["labels"]["alertname"], "HighLatency");
    assert_eq!(json["alerts"][0]["fingerprint"], "c0ffee");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_loaded_as_another_kind_is_refused() {
    let rt = common::runtime();
    let bytes = common::fixture("fixture-exporter");
    let err = rt
        .load("x", PluginKind::Discovery, &bytes, &common::settings())
        .await
        .unwrap_err();
    assert!(matches!(err, LoadError::World { .. }), "{err:?}");
    let err = rt
        .load("x", PluginKind::Discovery, b"not wasm", &common::settings())
        .await
        .unwrap_err();
    assert!(matches!(err, LoadError::Compile { .. }), "{err:?}");
    let mut settings = common::settings();
    settings.grants.allow_http = vec!["example.org".into()];
    let err = rt
        .load("x", PluginKind::Exporter, &bytes, &settings)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("allow_http entry"), "{err}");
}
