//! `GET/POST /api/v1/labels` and `GET /api/v1/label/<name>/values`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use pharos_model::is_valid_legacy_label_name;

use super::params::Params;
use super::{ApiError, ApiResponse, AppState};

/// The label names of the series matching any `match[]` (all series
/// without one). Both endpoints take one of the query engine's slots until
/// their answer is written ([`pharos_promql::Engine::slot`]).
pub async fn label_names(
    State(state): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    let q = params.match_query(ApiError::bad_data)?;
    let limit = q.limit;
    let _slot = state.engine.slot().await?;
    let names = state
        .storage(move |s| q.union(|ms| s.label_names(ms, q.start, q.end)))
        .await?;
    Ok(ApiResponse::limited(names, limit).into_response())
}

/// The values of label `name` in the series matching any `match[]` (all
/// series without one).
pub async fn label_values(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    if !is_valid_legacy_label_name(&name) {
        return Err(ApiError::bad_data(format!("invalid label name: {name:?}")));
    }
    let q = params.match_query(ApiError::bad_data)?;
    let limit = q.limit;
    let _slot = state.engine.slot().await?;
    let values = state
        .storage(move |s| q.union(|ms| s.label_values(&name, ms, q.start, q.end)))
        .await?;
    Ok(ApiResponse::limited(values, limit).into_response())
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use crate::api::test_util::{assert_bad_data, empty, get, post_form, seeded};

    #[tokio::test]
    async fn names() {
        let (status, body) = get(seeded(), "/api/v1/labels").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"status":"success","data":["__name__","instance","job","version"]})
        );
        let (_, body) = get(seeded(), "/api/v1/labels?match[]=up").await;
        assert_eq!(
            body,
            json!({"status":"success","data":["__name__","instance","job"]})
        );
        let (_, body) = get(
            seeded(),
            "/api/v1/labels?match[]=up&match[]=build_info&limit=3",
        )
        .await;
        assert_eq!(
            body,
            json!({"status":"success","data":["__name__","instance","job"],
                   "warnings":["results truncated due to limit"]})
        );
        let (_, body) = post_form(seeded(), "/api/v1/labels", "match[]=build_info").await;
        assert_eq!(
            body,
            json!({"status":"success","data":["__name__","version"]})
        );
        let (_, body) = get(empty(), "/api/v1/labels").await;
        assert_eq!(body, json!({"status":"success","data":[]}));
    }

    #[tokio::test]
    async fn values() {
        let (status, body) = get(seeded(), "/api/v1/label/job/values").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"status":"success","data":["node","prometheus"]})
        );
        let (_, body) = get(seeded(), "/api/v1/label/__name__/values").await;
        assert_eq!(
            body,
            json!({"status":"success","data":["build_info","go_goroutines","up"]})
        );
        let (_, body) = get(
            seeded(),
            r#"/api/v1/label/instance/values?match[]=up{job="node"}&limit=1"#,
        )
        .await;
        assert_eq!(
            body,
            json!({"status":"success","data":["a:9100"],
                   "warnings":["results truncated due to limit"]})
        );
        let (_, body) = get(seeded(), "/api/v1/label/nope/values").await;
        assert_eq!(body, json!({"status":"success","data":[]}));
        let (_, body) = get(seeded(), "/api/v1/label/instance/values?start=1500").await;
        assert_eq!(body, json!({"status":"success","data":["a:9100"]}));
    }

    #[tokio::test]
    async fn errors() {
        let cases = [
            ("/api/v1/label/1x/values", r#"invalid label name: "1x""#),
            ("/api/v1/label/a-b/values", r#"invalid label name: "a-b""#),
            (
                "/api/v1/labels?match[]=up{",
                "1:4: parse error: unexpected end of input inside braces",
            ),
            (
                r#"/api/v1/labels?match[]={job!="x"}"#,
                "match[] must contain at least one non-empty matcher",
            ),
            (
                "/api/v1/label/job/values?match[]=up{",
                "1:4: parse error: unexpected end of input inside braces",
            ),
            (
                "/api/v1/labels?start=yesterday",
                r#"invalid parameter "start": invalid time value for 'start': cannot parse "yesterday" to a valid timestamp"#,
            ),
            (
                "/api/v1/label/job/values?limit=1.5",
                r#"invalid parameter "limit": strconv.Atoi: parsing "1.5": invalid syntax"#,
            ),
        ];
        for (uri, msg) in cases {
            assert_bad_data(seeded(), uri, msg).await;
        }
    }

    #[tokio::test]
    async fn label_values_is_get_only() {
        let (status, _) = post_form(seeded(), "/api/v1/label/job/values", "").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
}
