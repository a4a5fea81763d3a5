//! Status endpoints: `/api/v1/status/tsdb` (Prometheus' fields, then
//! `walSizeBytes` and `storageSizeBytes` when storage is on disk),
//! `/api/v1/status/buildinfo`,
//! `/api/v1/query_exemplars` (no exemplars are stored yet), `/-/healthy`
//! (`/-/ready` is in `ready.rs`).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use super::params::Params;
use super::{ApiError, ApiResponse, AppState};
use crate::build_info;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadStats {
    num_series: u64,
    num_label_pairs: u64,
    chunk_count: u64,
    min_time: i64,
    max_time: i64,
}

#[derive(Debug, Serialize)]
pub struct Stat {
    name: String,
    value: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TsdbStatus {
    head_stats: HeadStats,
    series_count_by_metric_name: Vec<Stat>,
    label_value_count_by_label_name: Vec<Stat>,
    memory_in_bytes_by_label_name: Vec<Stat>,
    series_count_by_label_value_pair: Vec<Stat>,
    /// Pharos' own, after Prometheus' fields: the write-ahead log's bytes
    /// on disk (segments and checkpoint) and the sled store's (index and
    /// chunks). Absent for storage with nothing on disk.
    #[serde(skip_serializing_if = "Option::is_none")]
    wal_size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_size_bytes: Option<u64>,
}

fn stats(v: Vec<(String, u64)>) -> Vec<Stat> {
    v.into_iter()
        .map(|(name, value)| Stat { name, value })
        .collect()
}

/// `limit` (default 10) caps each top list, as in Prometheus 3.x.
pub async fn tsdb(
    State(state): State<AppState>,
    params: Params,
) -> Result<ApiResponse<TsdbStatus>, ApiError> {
    let limit = match params.get("limit") {
        None => 10,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| ApiError::bad_data("limit must be a positive number"))?,
    };
    let (s, disk) = state
        .storage(move |s| Ok((s.status(limit), s.disk_usage())))
        .await?;
    Ok(ApiResponse::new(TsdbStatus {
        head_stats: HeadStats {
            num_series: s.num_series,
            num_label_pairs: s.num_label_pairs,
            chunk_count: s.chunk_count,
            min_time: s.min_time,
            max_time: s.max_time,
        },
        series_count_by_metric_name: stats(s.series_count_by_metric_name),
        label_value_count_by_label_name: stats(s.label_value_count_by_label_name),
        memory_in_bytes_by_label_name: stats(s.memory_in_bytes_by_label_name),
        series_count_by_label_value_pair: stats(s.series_count_by_label_value_pair),
        wal_size_bytes: disk.map(|d| d.wal_bytes),
        storage_size_bytes: disk.map(|d| d.storage_bytes),
    }))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildInfo {
    version: &'static str,
    revision: &'static str,
    branch: &'static str,
    build_user: &'static str,
    build_date: &'static str,
    go_version: &'static str,
}

/// Prometheus' shape; no `features` key, so Grafana does not take us for
/// Mimir. `goVersion` carries the rustc version.
pub async fn build_info() -> ApiResponse<BuildInfo> {
    ApiResponse::new(BuildInfo {
        version: build_info::VERSION,
        revision: build_info::REVISION,
        branch: build_info::BRANCH,
        build_user: build_info::BUILD_USER,
        build_date: build_info::BUILD_DATE,
        go_version: build_info::RUSTC_VERSION,
    })
}

/// No exemplars are stored: an empty list once `start`/`end` are valid.
/// The query itself is not parsed until the PromQL parser lands.
pub async fn query_exemplars(params: Params) -> Result<ApiResponse<[(); 0]>, ApiError> {
    let (start, end) = params.time_range()?;
    if end < start {
        return Err(ApiError::bad_data(
            "end timestamp must not be before start timestamp",
        ));
    }
    Ok(ApiResponse::new([]))
}

fn text(s: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], s)
}

pub async fn healthy() -> impl IntoResponse {
    text("Pharos Server is Healthy.\n")
}

#[cfg(test)]
mod tests {
    use axum::http::{Method, StatusCode, header};
    use serde_json::json;

    use crate::api::test_util::{assert_bad_data, empty, get, request, seeded};

    #[tokio::test]
    async fn tsdb_status() {
        let (status, body) = get(seeded(), "/api/v1/status/tsdb?limit=2").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"status":"success","data":{
                "headStats":{"numSeries":5,"numLabelPairs":9,"chunkCount":0,
                             "minTime":1_000_000,"maxTime":2_000_000},
                "seriesCountByMetricName":[{"name":"up","value":3},{"name":"build_info","value":1}],
                "labelValueCountByLabelName":[{"name":"__name__","value":3},{"name":"instance","value":3}],
                "memoryInBytesByLabelName":[{"name":"instance","value":26},{"name":"__name__","value":25}],
                "seriesCountByLabelValuePair":[{"name":"__name__=up","value":3},{"name":"instance=localhost:9090","value":2}],
            }})
        );
    }

    /// On disk, the sizes of the WAL and of sled follow Prometheus'
    /// fields, as the storage reports them to `/metrics`.
    #[tokio::test]
    async fn tsdb_status_has_the_sizes_on_disk() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = pharos_tsdb::Db::open_without_worker(dir.path(), Default::default())
            .unwrap_or_else(|e| panic!("{e}"));
        pharos_tsdb::Appendable::append(&db, &crate::api::test_util::seed_batch())
            .unwrap_or_else(|e| panic!("{e}"));
        let m = db.metrics();
        // The samples are in the WAL; sled gets chunks once they are cut.
        assert!(m.wal_bytes > 0, "{m:?}");
        let app = crate::api::router(crate::api::AppState::new(std::sync::Arc::new(db)));
        let (status, body) = get(app, "/api/v1/status/tsdb").await;
        assert_eq!(status, StatusCode::OK);
        let data = &body["data"];
        let mut keys: Vec<&str> = data
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "headStats",
                "labelValueCountByLabelName",
                "memoryInBytesByLabelName",
                "seriesCountByLabelValuePair",
                "seriesCountByMetricName",
                "storageSizeBytes",
                "walSizeBytes",
            ]
        );
        assert_eq!(data["headStats"]["numSeries"], json!(5));
        assert_eq!(data["walSizeBytes"], json!(m.wal_bytes));
        // sled flushes in its own threads: its files only grow meanwhile.
        let sled = data["storageSizeBytes"].as_u64();
        assert!(sled.is_some_and(|n| n >= m.sled_bytes), "{sled:?} {m:?}");
    }

    #[tokio::test]
    async fn tsdb_status_empty_and_bad_limit() {
        let (_, body) = get(empty(), "/api/v1/status/tsdb").await;
        assert_eq!(
            body,
            json!({"status":"success","data":{
                "headStats":{"numSeries":0,"numLabelPairs":0,"chunkCount":0,
                             "minTime":i64::MAX,"maxTime":i64::MIN},
                "seriesCountByMetricName":[],"labelValueCountByLabelName":[],
                "memoryInBytesByLabelName":[],"seriesCountByLabelValuePair":[],
            }})
        );
        for bad in ["0", "x", "-1"] {
            assert_bad_data(
                empty(),
                &format!("/api/v1/status/tsdb?limit={bad}"),
                "limit must be a positive number",
            )
            .await;
        }
    }

    #[tokio::test]
    async fn buildinfo() {
        let (status, body) = get(empty(), "/api/v1/status/buildinfo").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "success");
        let data = body["data"].as_object().expect("object");
        let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "branch",
                "buildDate",
                "buildUser",
                "goVersion",
                "revision",
                "version"
            ]
        );
        assert_eq!(data["version"], env!("CARGO_PKG_VERSION"));
        assert!(
            data["goVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("rustc"))
        );
    }

    #[tokio::test]
    async fn exemplars() {
        let (status, body) = get(empty(), "/api/v1/query_exemplars?query=up&start=1&end=2").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"status":"success","data":[]}));
        assert_bad_data(
            empty(),
            "/api/v1/query_exemplars?query=up&start=2&end=1",
            "end timestamp must not be before start timestamp",
        )
        .await;
    }

    #[tokio::test]
    async fn health() {
        for (path, text) in [
            ("/-/healthy", "Pharos Server is Healthy.\n"),
            ("/-/ready", "Pharos Server is Ready.\n"),
        ] {
            let (status, headers, body) = request(empty(), Method::GET, path, None, "").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
            assert_eq!(body, text.as_bytes());
            let (status, _, body) = request(empty(), Method::HEAD, path, None, "").await;
            assert_eq!(status, StatusCode::OK);
            assert!(body.is_empty());
            let (status, _, _) = request(empty(), Method::POST, path, None, "").await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        }
    }

    #[tokio::test]
    async fn unknown_paths_are_404() {
        // `/` is the web interface's (a redirect to its query page).
        for path in ["/api/v1/nope", "/nope"] {
            let (status, _, body) = request(empty(), Method::GET, path, None, "").await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(body, b"404 page not found\n".as_slice());
        }
        // Under /api/v2 the answer is Alertmanager's (go-swagger's) JSON.
        let (status, _, body) = request(empty(), Method::GET, "/api/v2/series", None, "").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body,
            br#"{"code":404,"message":"path /api/v2/series was not found"}"#.as_slice()
        );
    }

    /// Every answer carries the security headers: the API's JSON, its
    /// errors, plain text, the Alertmanager API, metrics, 404s and
    /// redirects, not only the web interface's pages.
    #[tokio::test]
    async fn every_response_has_the_security_headers() {
        let cases = [
            (Method::GET, "/api/v1/query?query=1"),
            (Method::GET, "/api/v1/query?query=("),
            (Method::GET, "/api/v1/status/tsdb"),
            (Method::GET, "/api/v1/dashboards"),
            (Method::GET, "/api/v2/status"),
            (Method::GET, "/api/v2/nope"),
            (Method::GET, "/metrics"),
            (Method::GET, "/-/healthy"),
            (Method::POST, "/-/healthy"),
            (Method::GET, "/federate"),
            (Method::GET, "/nope"),
            (Method::GET, "/"),
            (Method::GET, "/query"),
        ];
        for (method, path) in cases {
            let (status, headers, _) = request(empty(), method.clone(), path, None, "").await;
            let h = |name: header::HeaderName| {
                headers
                    .get(&name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            let what = format!("{method} {path} ({status})");
            assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
            assert_eq!(h(header::X_FRAME_OPTIONS), "DENY", "{what}");
            let csp = h(header::CONTENT_SECURITY_POLICY);
            assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        }
    }
}
