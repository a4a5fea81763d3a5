//! The built-in `http` discovery against a real HTTP SD server: the exact
//! groups, labels and sources Prometheus' http_sd would produce.

#![allow(clippy::unwrap_used)]

mod common;

use pharos_plugin_host::{CallError, ErrorKind, PluginError, PluginKind, TargetGroup};
use std::collections::BTreeMap;

fn labels(ls: &[pharos_plugin_host::Label]) -> BTreeMap<&str, &str> {
    ls.iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect()
}

async fn load(server: &common::TestServer) -> pharos_plugin_host::Plugin {
    let mut settings = common::settings();
    settings.grants.allow_http = vec![format!("http://127.0.0.1:{}", server.addr.port())];
    settings.grants.allow_private_ips = vec!["127.0.0.1".into()];
    common::runtime()
        .load_embedded("http", PluginKind::Discovery, &settings)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_sd_returns_the_exact_groups() {
    let server = common::serve(Some(common::Reply {
        status: 200,
        content_type: "application/json; charset=utf-8",
        body: r#"[{"targets":["10.1.0.1:9100","10.1.0.2:9100"],"labels":{"env":"prod","__meta_datacenter":"eu"}},{"targets":["db:9187"]}]"#.into(),
    }))
    .await;
    let plugin = load(&server).await;
    let info = plugin.info().unwrap();
    assert_eq!(
        (info.name.as_str(), info.kind),
        ("http", PluginKind::Discovery)
    );
    let url = server.url("/sd");
    let groups: Vec<TargetGroup> = plugin
        .discover(&format!(
            r#"{{"url":"{url}","refresh_interval_seconds":30}}"#
        ))
        .await
        .unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].source, format!("{url}:0"));
    assert_eq!(groups[1].source, format!("{url}:1"));
    assert_eq!(
        labels(&groups[0].labels),
        BTreeMap::from([
            ("env", "prod"),
            ("__meta_datacenter", "eu"),
            ("__meta_url", url.as_str())
        ])
    );
    assert_eq!(
        labels(&groups[1].labels),
        BTreeMap::from([("__meta_url", url.as_str())])
    );
    let targets: Vec<_> = groups[0].targets.iter().map(|t| labels(t)).collect();
    assert_eq!(
        targets,
        [
            BTreeMap::from([("__address__", "10.1.0.1:9100")]),
            BTreeMap::from([("__address__", "10.1.0.2:9100")])
        ]
    );
    let request = server.requests.lock().unwrap()[0].to_lowercase();
    assert!(request.starts_with("get /sd http/1.1"), "{request}");
    assert!(
        request.contains("x-prometheus-refresh-interval-seconds: 30"),
        "{request}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_sd_refuses_what_prometheus_refuses() {
    let server = common::serve(Some(common::Reply {
        status: 200,
        content_type: "text/plain",
        body: "[]".into(),
    }))
    .await;
    let plugin = load(&server).await;
    let err = plugin
        .discover(&format!(r#"{{"url":"{}"}}"#, server.url("/")))
        .await
        .unwrap_err();
    match &err {
        CallError::Plugin {
            error: PluginError::Permanent(m),
            ..
        } => assert!(m.contains("unsupported content type"), "{m}"),
        other => panic!("expected a permanent error, got {other:?}"),
    }

    let err = plugin
        .validate_config(r#"{"url":"ftp://x/"}"#)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    let err = plugin
        .validate_config(r#"{"url":"http://x/","tiemout_seconds":1}"#)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
    plugin
        .validate_config(r#"{"url":"https://sd.example.org/targets"}"#)
        .await
        .unwrap();

    let down = common::serve(Some(common::Reply {
        status: 503,
        content_type: "application/json",
        body: "[]".into(),
    }))
    .await;
    let mut settings = common::settings();
    settings.grants.allow_http = vec![format!("http://127.0.0.1:{}", down.addr.port())];
    settings.grants.allow_private_ips = vec!["127.0.0.1".into()];
    let plugin = common::runtime()
        .load_embedded("http", PluginKind::Discovery, &settings)
        .await
        .unwrap();
    let err = plugin
        .discover(&format!(r#"{{"url":"{}"}}"#, down.url("/")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.to_string().contains("503"), "{err}");
}
