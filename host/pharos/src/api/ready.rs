//! `/-/ready`: ready while the storage works fully. While it reports
//! problems (appends refused, flushes or checkpoints failing, sled waiting
//! to be reopened, a panic in its maintenance thread) the answer is 503
//! with one line per problem, so a load balancer or an operator sees why.
//! Each problem clears by itself when the same work next succeeds.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

pub async fn ready(State(state): State<AppState>) -> Response {
    let problems = state.storage.problems();
    let content_type = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    if problems.is_empty() {
        return (content_type, "Pharos Server is Ready.\n").into_response();
    }
    let mut text = String::from("Pharos Server is not ready.\n");
    for p in &problems {
        text.push_str("storage: ");
        text.push_str(p);
        text.push('\n');
    }
    (StatusCode::SERVICE_UNAVAILABLE, content_type, text).into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Method, StatusCode};
    use pharos_model::Matcher;
    use pharos_tsdb::wal::WalError;
    use pharos_tsdb::{
        AppendStats, Appendable, Error, MemStorage, Queryable, SeriesAppend, Storage, TsdbStatus,
    };

    use crate::api::test_util::request;
    use crate::api::{AppState, router};

    /// A storage with problems, which refuses writes as a full disk does.
    struct Full(MemStorage);

    impl Appendable for Full {
        fn append(&self, _: &[SeriesAppend]) -> Result<AppendStats, Error> {
            Err(Error::WriteFailed(WalError::Io {
                path: "data/wal/00000003".into(),
                source: std::io::ErrorKind::StorageFull.into(),
            }))
        }
    }

    impl Queryable for Full {
        fn select(
            &self,
            m: &[Matcher],
            mint: i64,
            maxt: i64,
        ) -> Result<Vec<pharos_tsdb::Series>, Error> {
            self.0.select(m, mint, maxt)
        }
        fn label_names(&self, m: &[Matcher], mint: i64, maxt: i64) -> Result<Vec<String>, Error> {
            self.0.label_names(m, mint, maxt)
        }
        fn label_values(
            &self,
            name: &str,
            m: &[Matcher],
            mint: i64,
            maxt: i64,
        ) -> Result<Vec<String>, Error> {
            self.0.label_values(name, m, mint, maxt)
        }
    }

    impl Storage for Full {
        fn status(&self, limit: usize) -> TsdbStatus {
            self.0.status(limit)
        }
        fn problems(&self) -> Vec<String> {
            vec![
                "appends are refused: writing the WAL failed: no space left".into(),
                "flushing chunks to sled failed: disk almost full".into(),
            ]
        }
    }

    fn full() -> axum::Router {
        router(AppState::new(Arc::new(Full(MemStorage::new()))))
    }

    #[tokio::test]
    async fn not_ready_while_the_storage_has_problems() {
        let (status, _, body) = request(full(), Method::GET, "/-/ready", None, "").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            "Pharos Server is not ready.\n\
             storage: appends are refused: writing the WAL failed: no space left\n\
             storage: flushing chunks to sled failed: disk almost full\n"
        );
        // Queries still answer.
        let (status, _, _) = request(full(), Method::GET, "/api/v1/query?query=1", None, "").await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_refused_remote_write_is_503_so_the_sender_retries() {
        let body = pharos_prompb::encode_write_request(&pharos_prompb::WriteRequest {
            timeseries: vec![pharos_prompb::TimeSeries {
                labels: vec![pharos_prompb::Label {
                    name: "__name__".into(),
                    value: "up".into(),
                }],
                samples: vec![pharos_prompb::Sample {
                    value: 1.0,
                    timestamp: 1000,
                }],
                ..Default::default()
            }],
            ..Default::default()
        });
        let req = axum::http::Request::post("/api/v1/write")
            .header("content-type", "application/x-protobuf")
            .header("content-encoding", "snappy")
            .body(Body::from(body))
            .unwrap();
        let resp = tower::ServiceExt::oneshot(full(), req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let text = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let text = std::str::from_utf8(&text).unwrap();
        assert!(text.contains("storage cannot write"), "{text}");
    }
}
