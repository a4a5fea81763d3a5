//! `GET /api/v1/status/config` (the running config as Prometheus-style
//! YAML, `{"yaml": …}`), `GET /api/v1/status/flags` (the command line's
//! values) and `POST /-/reload` (reload the config file; a bad file is
//! refused with its reason, as Prometheus' `failed to reload config: …`,
//! and the running config stays; while a reload runs, 503). Whether
//! `/-/reload` answers at all is the listener's business
//! (`[server] enable_lifecycle`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{ApiResponse, AppState};

#[derive(Debug, Serialize)]
pub struct ConfigYaml {
    yaml: String,
}

pub async fn config(State(state): State<AppState>) -> ApiResponse<ConfigYaml> {
    let yaml = state
        .reloader
        .as_ref()
        .map(|r| r.current().to_prometheus_yaml())
        .unwrap_or_default();
    ApiResponse::new(ConfigYaml { yaml })
}

pub async fn flags(State(state): State<AppState>) -> ApiResponse<BTreeMap<String, String>> {
    ApiResponse::new(state.flags.as_ref().clone())
}

pub async fn reload(State(state): State<AppState>) -> Response {
    let Some(r) = state.reloader.clone() else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "no configuration to reload\n".into(),
        );
    };
    // One HTTP reload at a time: others answer 503 rather than each
    // waiting on a blocking thread.
    let Some(claim) = r.claim_reload() else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "a reload is already in progress, try again later\n".into(),
        );
    };
    match tokio::task::spawn_blocking(move || claim.reload()).await {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(e)) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e:#}\n"),
        ),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        ),
    }
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}
