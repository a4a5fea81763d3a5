//! The scrape-facing API of a server started in-process from a config
//! file, against a local HTTP target: `/api/v1/targets`, the metadata
//! endpoints, `/api/v1/status/config` and `/flags`, in Prometheus' exact
//! shapes.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::header;
use axum::routing::get;
use pharos::reload::ConfigSource;
use pharos::server::Server;
use serde_json::{Value, json};

const BODY: &str = "# HELP a_total Requests.\n# TYPE a_total counter\na_total 1\n\
# HELP b Bytes.\n# TYPE b gauge\nb{x=\"1\"} 2\nb{x=\"2\"} 3\n";

async fn start_target() -> String {
    let app = Router::new().route(
        "/metrics",
        get(|| async { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn get_json(base: &str, path: &str) -> (u16, Value) {
    let resp = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_metadata_and_config_in_prometheus_shapes() {
    let target = start_target().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pharos.toml");
    std::fs::write(
        &config,
        format!(
            "[global]\nscrape_interval = \"200ms\"\nscrape_timeout = \"100ms\"\n\n\
             [[scrape]]\njob = \"app\"\ntargets = [\"{target}\", \"skip:1\"]\nlabels = {{ team = \"a\" }}\n\
             relabel_configs = [{{ source_labels = [\"__address__\"], regex = \"skip:.*\", action = \"drop\" }}]\n"
        ),
    )
    .unwrap();
    let server = Server::start_with(ConfigSource {
        file: Some(config.clone()),
        listen: Some("127.0.0.1:0".into()),
        data: Some(dir.path().join("data")),
        ..ConfigSource::default()
    })
    .await
    .unwrap();
    let base = format!("http://{}", server.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.serve(async {
        let _ = stopped.await;
    }));

    let deadline = Instant::now() + Duration::from_secs(20);
    let targets = loop {
        let (_, v) = get_json(&base, "/api/v1/targets").await;
        if v["data"]["activeTargets"][0]["health"] == "up" {
            break v;
        }
        assert!(Instant::now() < deadline, "never up: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut t = targets["data"]["activeTargets"][0].clone();
    for key in ["lastScrape", "lastScrapeDuration", "globalUrl"] {
        assert!(t.as_object_mut().unwrap().remove(key).is_some(), "{key}");
    }
    assert_eq!(
        t,
        json!({
            "discoveredLabels": {
                "__address__": target, "__metrics_path__": "/metrics", "__scheme__": "http",
                "__scrape_interval__": "200ms", "__scrape_timeout__": "100ms",
                "job": "app", "team": "a"
            },
            "labels": {"instance": target, "job": "app", "team": "a"},
            "scrapePool": "app",
            "scrapeUrl": format!("http://{target}/metrics"),
            "lastError": "",
            "health": "up",
            "scrapeInterval": "200ms",
            "scrapeTimeout": "100ms"
        })
    );
    assert_eq!(
        targets["data"]["droppedTargets"],
        json!([{"discoveredLabels": {
            "__address__": "skip:1", "__metrics_path__": "/metrics", "__scheme__": "http",
            "__scrape_interval__": "200ms", "__scrape_timeout__": "100ms",
            "job": "app", "team": "a"
        }}])
    );
    let (_, v) = get_json(&base, "/api/v1/targets?state=dropped").await;
    assert_eq!(v["data"]["activeTargets"], json!([]));
    assert_eq!(
        v["data"]["droppedTargets"].as_array().map(Vec::len),
        Some(1)
    );

    let (_, v) = get_json(&base, "/api/v1/metadata").await;
    assert_eq!(
        v,
        json!({"status": "success", "data": {
            "a_total": [{"type": "counter", "help": "Requests.", "unit": ""}],
            "b": [{"type": "gauge", "help": "Bytes.", "unit": ""}]
        }})
    );
    let (_, v) = get_json(&base, "/api/v1/metadata?limit=1").await;
    assert_eq!(v["data"].as_object().map(|o| o.len()), Some(1));
    let (status, v) = get_json(&base, "/api/v1/metadata?limit=x").await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "limit must be a number");

    let (_, v) = get_json(&base, "/api/v1/targets/metadata?metric=b").await;
    assert_eq!(
        v["data"],
        json!([{"target": {"instance": target, "job": "app", "team": "a"},
                "type": "gauge", "help": "Bytes.", "unit": ""}])
    );
    let (_, v) = get_json(&base, "/api/v1/targets/metadata?match_target={job=\"app\"}").await;
    assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["data"][0]["metric"], "a_total");
    let (status, v) = get_json(&base, "/api/v1/targets/metadata?metric=nope").await;
    assert_eq!((status, &v["errorType"]), (404, &json!("not_found")));

    let (_, v) = get_json(&base, "/api/v1/status/config").await;
    let yaml = v["data"]["yaml"].as_str().unwrap();
    assert!(yaml.contains("job_name: app"), "{yaml}");
    let (_, v) = get_json(&base, "/api/v1/status/flags").await;
    assert_eq!(v["data"]["config"], config.display().to_string());
    assert_eq!(v["data"]["listen"], "127.0.0.1:0");

    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("pharos_target_scrape_pool_targets{scrape_job=\"app\"} 1"),
        "{metrics}"
    );

    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
}
