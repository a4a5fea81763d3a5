//! `GET/POST /api/v1/labels` and `GET /api/v1/label/<name>/values`.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use pharos_model::Matcher;

use super::params::{MAX_TIME, MIN_TIME, Params};
use super::{ApiError, ApiResponse, AppState};

/// The warning Prometheus adds when `limit` cut the result.
pub const TRUNCATED: &str = "results truncated due to limit";

/// Keeps the first `limit` items; warns when some were cut.
pub fn truncate<T>(mut v: Vec<T>, limit: Option<usize>) -> (Vec<T>, Vec<String>) {
    match limit {
        Some(n) if v.len() > n => {
            v.truncate(n);
            (v, vec![TRUNCATED.to_owned()])
        }
        _ => (v, Vec::new()),
    }
}

/// Whether `name` is a legacy Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
fn is_valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The common parameters, read in Prometheus' order.
struct LabelQuery {
    limit: Option<usize>,
    start: i64,
    end: i64,
    /// Optional `match[]`: empty means all series.
    sets: Vec<Vec<Matcher>>,
}

impl LabelQuery {
    fn from_params(params: &Params) -> Result<Self, ApiError> {
        Ok(LabelQuery {
            limit: params.limit()?,
            start: params.time("start", MIN_TIME)?,
            end: params.time("end", MAX_TIME)?,
            sets: params.matcher_sets().map_err(ApiError::bad_data)?,
        })
    }
}

pub async fn label_names(
    State(state): State<AppState>,
    params: Params,
) -> Result<ApiResponse<Vec<String>>, ApiError> {
    let LabelQuery {
        limit,
        start,
        end,
        sets,
    } = LabelQuery::from_params(&params)?;
    let names = state
        .storage(move |s| {
            if sets.is_empty() {
                return s.label_names(&[], start, end);
            }
            let mut all = BTreeSet::new();
            for ms in &sets {
                all.extend(s.label_names(ms, start, end)?);
            }
            Ok(all.into_iter().collect())
        })
        .await?;
    let (data, warnings) = truncate(names, limit);
    Ok(ApiResponse::with_warnings(data, warnings))
}

pub async fn label_values(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<ApiResponse<Vec<String>>, ApiError> {
    if !is_valid_label_name(&name) {
        return Err(ApiError::bad_data(format!("invalid label name: {name:?}")));
    }
    let LabelQuery {
        limit,
        start,
        end,
        sets,
    } = LabelQuery::from_params(&params)?;
    let values = state
        .storage(move |s| {
            if sets.is_empty() {
                return s.label_values(&name, &[], start, end);
            }
            let mut all = BTreeSet::new();
            for ms in &sets {
                all.extend(s.label_values(&name, ms, start, end)?);
            }
            Ok(all.into_iter().collect())
        })
        .await?;
    let (data, warnings) = truncate(values, limit);
    Ok(ApiResponse::with_warnings(data, warnings))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use crate::api::test_util::{empty, get, post_form, seeded};

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
            let (status, body) = get(seeded(), uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
            assert_eq!(
                body,
                json!({"status":"error","errorType":"bad_data","error":msg}),
                "{uri}"
            );
        }
    }

    #[tokio::test]
    async fn label_values_is_get_only() {
        let (status, _) = post_form(seeded(), "/api/v1/label/job/values", "").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }
}
