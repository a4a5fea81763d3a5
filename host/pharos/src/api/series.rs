//! `GET/POST /api/v1/series`: the label sets matching any `match[]`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::params::Params;
use super::{ApiError, ApiResponse, AppState};

/// As Prometheus' `series`: `match[]` is required; the series of all
/// selectors are merged, sorted and deduplicated. It takes one of the query
/// engine's slots until its answer is written ([`pharos_promql::Engine::slot`]).
pub async fn series(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    if params.all("match[]").is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let q = params.match_query(|e| ApiError::invalid_param("match[]", e))?;
    let limit = q.limit;
    let _slot = state.engine.slot().await?;
    let found = state
        .storage(move |s| {
            q.union(|ms| {
                let series = s.select(ms, q.start, q.end)?;
                Ok(series.into_iter().map(|x| x.labels))
            })
        })
        .await?;
    Ok(ApiResponse::limited(found, limit).into_response())
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use crate::api::test_util::{assert_bad_data, get, post_form, seeded};

    #[tokio::test]
    async fn one_selector() {
        let (status, body) = get(seeded(), "/api/v1/series?match[]=up").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"status":"success","data":[
                {"__name__":"up","instance":"a:9100","job":"node"},
                {"__name__":"up","instance":"b:9100","job":"node"},
                {"__name__":"up","instance":"localhost:9090","job":"prometheus"},
            ]})
        );
    }

    #[tokio::test]
    async fn matchers_and_union() {
        let app = seeded();
        let (_, body) = get(
            app.clone(),
            r#"/api/v1/series?match[]=up{job="node",instance!~"a.*"}&match[]={__name__=~"go_.*"}&match[]=up{instance="b:9100"}"#,
        )
        .await;
        assert_eq!(
            body,
            json!({"status":"success","data":[
                {"__name__":"go_goroutines","instance":"localhost:9090","job":"prometheus"},
                {"__name__":"up","instance":"b:9100","job":"node"},
            ]})
        );
    }

    #[tokio::test]
    async fn post_form_and_time_range() {
        // Samples of `up` are at 1000s..=1060s; only `a` has one at 2000s.
        let (status, body) = post_form(
            seeded(),
            "/api/v1/series",
            "match%5B%5D=up&start=1500&end=2023-01-01T00:00:00Z",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"status":"success","data":[{"__name__":"up","instance":"a:9100","job":"node"}]})
        );
        let (_, body) = get(seeded(), "/api/v1/series?match[]=up&start=3000").await;
        assert_eq!(body, json!({"status":"success","data":[]}));
    }

    /// Series, label names and label values wait for one of the engine's
    /// slots, as queries do, and time out in its queue.
    #[tokio::test]
    async fn metadata_waits_for_a_query_slot() {
        use std::sync::Arc;
        use std::time::Duration;

        use pharos_promql::{Engine, EngineOptions};
        use pharos_tsdb::{Appendable, MemStorage};

        let engine = Engine::new(EngineOptions {
            max_concurrency: 1,
            timeout: Duration::from_millis(200),
            ..Default::default()
        });
        let storage = Arc::new(MemStorage::new());
        storage
            .append(&crate::api::test_util::seed_batch())
            .expect("seeded");
        let app = || {
            crate::api::router(
                crate::api::AppState::new(storage.clone()).with_engine(engine.clone()),
            )
        };
        let uris = [
            "/api/v1/series?match[]=up",
            "/api/v1/labels",
            "/api/v1/label/job/values",
        ];
        let taken = engine.slot().await.expect("the only slot");
        for uri in uris {
            let (status, body) = get(app(), uri).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}: {body}");
            assert_eq!(body["error"], "query timed out in query queue", "{uri}");
        }
        drop(taken);
        for uri in uris {
            let (status, body) = get(app(), uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        }
    }

    #[tokio::test]
    async fn limit_truncates_with_warning() {
        let (_, body) = get(seeded(), "/api/v1/series?match[]=up&limit=2").await;
        assert_eq!(
            body,
            json!({"status":"success","data":[
                {"__name__":"up","instance":"a:9100","job":"node"},
                {"__name__":"up","instance":"b:9100","job":"node"},
            ],"warnings":["results truncated due to limit"]})
        );
        let (_, body) = get(seeded(), "/api/v1/series?match[]=up&limit=3").await;
        assert_eq!(body["data"].as_array().map(Vec::len), Some(3));
        assert_eq!(body.get("warnings"), None);
    }

    #[tokio::test]
    async fn errors() {
        let cases = [
            ("/api/v1/series", "no match[] parameter provided"),
            (
                "/api/v1/series?match[]=up&start=abc",
                r#"invalid parameter "start": invalid time value for 'start': cannot parse "abc" to a valid timestamp"#,
            ),
            (
                "/api/v1/series?match[]=up&end=x",
                r#"invalid parameter "end": invalid time value for 'end': cannot parse "x" to a valid timestamp"#,
            ),
            (
                "/api/v1/series?match[]=up&limit=abc",
                r#"invalid parameter "limit": strconv.Atoi: parsing "abc": invalid syntax"#,
            ),
            (
                "/api/v1/series?match[]=up&limit=-1",
                r#"invalid parameter "limit": limit must be non-negative"#,
            ),
            (
                "/api/v1/series?match[]=up{",
                r#"invalid parameter "match[]": 1:4: parse error: unexpected end of input inside braces"#,
            ),
            (
                r#"/api/v1/series?match[]={job!="x"}"#,
                r#"invalid parameter "match[]": match[] must contain at least one non-empty matcher"#,
            ),
            (
                "/api/v1/series?match[]=up&match[]={}",
                r#"invalid parameter "match[]": match[] must contain at least one non-empty matcher"#,
            ),
            (
                "/api/v1/series?match[]=",
                r#"invalid parameter "match[]": 1:1: parse error: unexpected end of input"#,
            ),
        ];
        for (uri, msg) in cases {
            assert_bad_data(seeded(), uri, msg).await;
        }
    }
}
