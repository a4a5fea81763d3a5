//! `/api/v1/query`, `/api/v1/query_range`, `/api/v1/format_query` and
//! `/api/v1/parse_query`, with Prometheus' parameters, error texts and
//! result shapes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pharos_promql::engine::Steps;
use pharos_promql::format_query;
use pharos_tsdb::Queryable;

use super::params::{Params, parse_time};
use super::query_json::{result_len, write_data, write_strings};
use super::{ApiError, ApiResponse, AppState};

/// Prometheus refuses range queries with more points per series.
const MAX_POINTS: i64 = 11_000;

/// A duration parameter as Prometheus' `parseDuration` reads it: seconds
/// (fractions allowed) or a Prometheus duration (`1m30s`), up to what an
/// `i64` of milliseconds holds, as PromQL ranges.
fn parse_duration(s: &str) -> Option<Duration> {
    if let Ok(f) = s.parse::<f64>() {
        let ms = (f * 1000.0).round();
        return (ms.is_finite() && ms >= 0.0 && ms < i64::MAX as f64)
            .then(|| Duration::from_millis(ms as u64));
    }
    let ms = pharos_model::parse_duration_millis(s).ok()?;
    (i64::try_from(ms).is_ok()).then(|| Duration::from_millis(ms))
}

pub(super) fn duration_param(p: &Params, name: &str) -> Result<Option<Duration>, ApiError> {
    match p.get(name) {
        None => Ok(None),
        Some(s) => parse_duration(s).map(Some).ok_or_else(|| {
            ApiError::invalid_param(name, format!("cannot parse {s:?} to a valid duration"))
        }),
    }
}

pub(super) fn time_param(p: &Params, name: &str, default: i64) -> Result<i64, ApiError> {
    match p.get(name) {
        None => Ok(default),
        Some(s) => parse_time(s).map_err(|e| ApiError::invalid_param(name, e)),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub async fn query(State(state): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let t = time_param(&p, "time", now_ms())?;
    let timeout = duration_param(&p, "timeout")?;
    let limit = p.limit()?;
    run(&state, &p, Steps::instant(t), false, timeout, limit).await
}

pub async fn query_range(State(state): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let start = match p.get("start") {
        None => {
            return Err(ApiError::invalid_param(
                "start",
                "cannot parse \"\" to a valid timestamp",
            ));
        }
        Some(_) => time_param(&p, "start", 0)?,
    };
    let end = match p.get("end") {
        None => {
            return Err(ApiError::invalid_param(
                "end",
                "cannot parse \"\" to a valid timestamp",
            ));
        }
        Some(_) => time_param(&p, "end", 0)?,
    };
    if end < start {
        return Err(ApiError::invalid_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    let step = match p.get("step") {
        None => {
            return Err(ApiError::invalid_param(
                "step",
                "cannot parse \"\" to a valid duration",
            ));
        }
        Some(_) => duration_param(&p, "step")?.unwrap_or_default(),
    };
    let step_ms = i64::try_from(step.as_millis()).unwrap_or(i64::MAX);
    if step_ms <= 0 {
        return Err(ApiError::invalid_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    // In i128: `end - start` overflows i64 for extreme times (both ends
    // are clamped to Prometheus' MinTime/MaxTime, 2^64 ms apart).
    if (i128::from(end) - i128::from(start)) / i128::from(step_ms) > i128::from(MAX_POINTS) {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let timeout = duration_param(&p, "timeout")?;
    let limit = p.limit()?;
    let steps = Steps {
        start,
        end,
        interval: step_ms,
    };
    run(&state, &p, steps, true, timeout, limit).await
}

async fn run(
    state: &AppState,
    p: &Params,
    steps: Steps,
    range: bool,
    timeout: Option<Duration>,
    limit: Option<usize>,
) -> Result<Response, ApiError> {
    let text: Arc<str> = Arc::from(p.get("query").unwrap_or(""));
    // Long queries are parsed off the async workers, a few at a time.
    let expr = state
        .engine
        .parse(text.clone())
        .await
        .map_err(|e| ApiError::invalid_param("query", e))?;
    let stats = p.get("stats").is_some();
    let queued = Instant::now();
    let storage: Arc<dyn Queryable> = state.storage.clone();
    let res = state
        .engine
        .run(storage, Arc::new(expr), text, steps, range, timeout)
        .await?;
    let total = queued.elapsed();

    let mut body = String::with_capacity(256);
    body.push_str("{\"status\":\"success\",\"data\":");
    write_data(&mut body, &res.value, limit);
    if stats {
        body.push_str(&format!(
            ",\"stats\":{{\"timings\":{{\"evalTotalTime\":{s},\"resultSortTime\":0,\"queryPreparationTime\":0,\"innerEvalTime\":{s},\"execQueueTime\":0,\"execTotalTime\":{s}}},\"samples\":{{\"totalQueryableSamples\":{n},\"peakSamples\":{n}}}}}",
            s = total.as_secs_f64(),
            n = res.samples
        ));
    }
    body.push('}');
    let mut warnings = res.annotations.warnings;
    if limit.is_some_and(|l| result_len(&res.value) > l) {
        warnings.push("results truncated due to limit".to_string());
    }
    if !warnings.is_empty() {
        body.push_str(",\"warnings\":");
        write_strings(&mut body, &warnings);
    }
    if !res.annotations.infos.is_empty() {
        body.push_str(",\"infos\":");
        write_strings(&mut body, &res.annotations.infos);
    }
    body.push('}');
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// `/api/v1/format_query`: the query pretty-printed.
pub async fn format(p: Params) -> Result<ApiResponse<String>, ApiError> {
    let text = p.get("query").unwrap_or("");
    format_query(text)
        .map(ApiResponse::new)
        .map_err(|e| ApiError::invalid_param("query", e))
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use serde_json::json;

    use crate::api::test_util::{get, post_form, seeded};

    /// A long query is parsed off the async worker: on a runtime with one
    /// thread, another task runs while it is parsed.
    #[tokio::test(flavor = "current_thread")]
    async fn a_long_query_leaves_the_runtime_free() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};

        use axum::http::Method;

        use crate::api::test_util::{empty, request};

        let body = format!("query={}&time=1", vec!["a"; 100_000].join("%2B"));
        let other_ran = Arc::new(AtomicBool::new(false));
        let seen = other_ran.clone();
        let query = tokio::spawn(async move {
            let (status, _, _) = request(
                empty(),
                Method::POST,
                "/api/v1/query",
                Some("application/x-www-form-urlencoded"),
                body,
            )
            .await;
            (status, seen.load(Ordering::SeqCst))
        });
        let marker = other_ran.clone();
        let other = tokio::spawn(async move { marker.store(true, Ordering::SeqCst) });
        let (status, ran_meanwhile) = query.await.expect("query task");
        other.await.expect("other task");
        assert_eq!(status, StatusCode::BAD_REQUEST, "nests too deeply");
        assert!(ran_meanwhile, "the parse held the only worker");
    }

    #[tokio::test]
    async fn instant_vector() {
        let (status, body) = get(seeded(), "/api/v1/query?query=up{job=\"node\"}&time=1030").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "success");
        assert_eq!(body["data"]["resultType"], "vector");
        let result = body["data"]["result"].as_array().expect("result array");
        assert_eq!(result.len(), 2);
        assert_eq!(
            result[0]["metric"],
            json!({"__name__":"up","instance":"a:9100","job":"node"})
        );
        assert_eq!(result[0]["value"][0], json!(1030));
    }

    #[tokio::test]
    async fn scalar_and_string() {
        let (_, body) = get(seeded(), "/api/v1/query?query=1%2B1&time=1.5").await;
        assert_eq!(
            body,
            json!({"status":"success","data":{"resultType":"scalar","result":[1.5,"2"]}})
        );
        let (_, body) = get(seeded(), "/api/v1/query?query=\"a\"&time=2").await;
        assert_eq!(
            body,
            json!({"status":"success","data":{"resultType":"string","result":[2,"a"]}})
        );
        let (_, body) = get(seeded(), "/api/v1/query?query=1/0&time=2").await;
        assert_eq!(body["data"]["result"][1], "+Inf");
    }

    #[tokio::test]
    async fn range_query_post_form() {
        let (status, body) = post_form(
            seeded(),
            "/api/v1/query_range",
            "query=count(up)&start=1000&end=1060&step=30",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["resultType"], "matrix");
        assert_eq!(body["data"]["result"][0]["metric"], json!({}));
        assert_eq!(body["data"]["result"][0]["values"][0], json!([1000, "3"]));
    }

    #[tokio::test]
    async fn errors_are_shaped_like_prometheus() {
        let (status, body) = get(seeded(), "/api/v1/query?query=sum(").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"})
        );
        let (status, body) = get(
            seeded(),
            "/api/v1/query_range?query=up&start=10&end=5&step=1",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body["error"],
            "invalid parameter \"end\": end timestamp must not be before start time"
        );
        let (_, body) = get(
            seeded(),
            "/api/v1/query_range?query=up&start=0&end=100000&step=1",
        )
        .await;
        assert_eq!(
            body["error"],
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"
        );
        let (status, body) = get(seeded(), "/api/v1/query?query=up[5m]&time=1000").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["resultType"], "matrix");
        let (status, body) = get(
            seeded(),
            "/api/v1/query_range?query=up[5m]&start=0&end=10&step=1",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body["error"],
            "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"
        );
    }

    /// Extreme `start`/`end` (the whole i64 range, RFC 3339 sentinels,
    /// huge floats) neither overflow the point check nor reach the engine.
    #[tokio::test]
    async fn extreme_ranges_are_refused_without_overflow() {
        const TOO_MANY_POINTS: &str = "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)";
        for (start, end, step) in [
            ("-1e300", "1e300", "1"),
            ("-9223372036854775", "9223372036854775", "1ms"),
            (
                "-292273086-05-16T16:47:06Z",
                "292277025-08-18T07:12:54.999999999Z",
                "1",
            ),
            ("-1e300", "1e300", "1000y"),
        ] {
            let (status, body) = get(
                seeded(),
                &format!("/api/v1/query_range?query=up&start={start}&end={end}&step={step}"),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{start} {end} {step}");
            assert_eq!(body["error"], TOO_MANY_POINTS);
        }
        // The largest step gives one point per 292 million years: allowed.
        let (status, _) = get(
            seeded(),
            "/api/v1/query_range?query=1&start=-1e300&end=1e300&step=9e15",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = get(
            seeded(),
            "/api/v1/query_range?query=up&start=1e300&end=-1e300&step=1",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body["error"],
            "invalid parameter \"end\": end timestamp must not be before start time"
        );
    }

    #[test]
    fn durations_as_prometheus_reads_them() {
        use super::parse_duration;
        use std::time::Duration;
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1ms"), Some(Duration::from_millis(1)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m:"), None);
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("1e300"), None);
    }

    #[tokio::test]
    async fn format_query() {
        let (_, body) = get(
            seeded(),
            "/api/v1/format_query?query=sum(rate(x[5m]))by(job)",
        )
        .await;
        assert_eq!(
            body,
            json!({"status":"success","data":"sum by (job) (rate(x[5m]))"})
        );
    }
}
