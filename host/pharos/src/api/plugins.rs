//! `GET /api/v1/plugins` (Pharos' own; Prometheus has no plugins): every
//! plugin — built in or installed, loaded or not — with its kind, version,
//! source, grants and limits, the capabilities it may ask for, its health
//! and last error, its call counters, and each use (a scrape job's
//! discovery entry or an exporter job) with the health and error of its
//! latest call. Field names and health values follow `/api/v1/targets`
//! (`health`, `lastError`, RFC 3339 times), inside the usual envelope.

use std::collections::BTreeMap;

use axum::extract::State;
use pharos_plugins::{PluginStatus, SourceKind, UseStatus};
use serde::Serialize;

use super::targets::rfc3339;
use super::{ApiResponse, AppState};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginJson {
    name: String,
    /// `discovery`, `exporter`, `notifier`; empty until loaded.
    kind: String,
    version: String,
    description: String,
    /// `embedded` or `installed`.
    source: &'static str,
    /// The installed component's path.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    sha256: String,
    loaded: bool,
    grants: BTreeMap<&'static str, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limits: Option<LimitsJson>,
    capabilities: Vec<String>,
    health: &'static str,
    last_error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error_time: Option<String>,
    calls: u64,
    errors: BTreeMap<&'static str, u64>,
    call_duration_seconds_total: f64,
    memory_high_water_bytes: u64,
    denied_requests: u64,
    uses: Vec<UseJson>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitsJson {
    memory_bytes: usize,
    cpu_budget_seconds: f64,
    timeout_seconds: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UseJson {
    job: String,
    kind: String,
    /// Where the use is written, e.g. `scrape[0].discovery[1]`.
    key: String,
    health: &'static str,
    last_error: String,
    last_call: Option<String>,
    last_call_duration: Option<f64>,
    skipped_calls: u64,
}

fn use_json(u: &UseStatus) -> UseJson {
    UseJson {
        job: u.job.clone(),
        kind: u.kind.to_string(),
        key: u.key.clone(),
        health: u.health.as_str(),
        last_error: u.last_error.clone(),
        last_call: u.last_call.map(rfc3339),
        last_call_duration: u.last_duration.map(|d| d.as_secs_f64()),
        skipped_calls: u.skipped,
    }
}

fn plugin_json(s: &PluginStatus) -> PluginJson {
    let (source, path) = match &s.source {
        SourceKind::Embedded => ("embedded", None),
        SourceKind::Installed(p) => ("installed", Some(p.display().to_string())),
    };
    let mut grants = BTreeMap::new();
    if let Some(settings) = &s.settings {
        let g = &settings.grants;
        grants.insert("allow_http", g.allow_http.clone());
        grants.insert("allow_private_ips", g.allow_private_ips.clone());
        grants.insert("allow_dns", g.allow_dns.clone());
        grants.insert("allow_tcp", g.allow_tcp.clone());
        grants.insert(
            "allow_read",
            g.allow_read
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        );
    }
    let m = s.metrics.as_ref();
    PluginJson {
        name: s.name.clone(),
        kind: s.kind.map(|k| k.to_string()).unwrap_or_default(),
        version: s.version.clone().unwrap_or_default(),
        description: s.description.clone().unwrap_or_default(),
        source,
        path,
        sha256: s.sha256.clone().unwrap_or_default(),
        loaded: s.loaded,
        grants,
        limits: s.settings.as_ref().map(|x| LimitsJson {
            memory_bytes: x.limits.memory,
            cpu_budget_seconds: x.limits.cpu.as_secs_f64(),
            timeout_seconds: x.limits.timeout.as_secs_f64(),
        }),
        capabilities: s.capabilities.clone(),
        health: s.health.as_str(),
        last_error: s
            .last_error
            .as_ref()
            .map(|(_, e)| e.clone())
            .unwrap_or_default(),
        last_error_time: s.last_error.as_ref().map(|(t, _)| rfc3339(*t)),
        calls: m.map_or(0, |m| m.calls),
        errors: m
            .map(|m| m.errors.iter().map(|(k, n)| (k.as_str(), *n)).collect())
            .unwrap_or_default(),
        call_duration_seconds_total: m.map_or(0.0, |m| m.duration_total.as_secs_f64()),
        memory_high_water_bytes: m.map_or(0, |m| m.memory_high_water_bytes),
        denied_requests: m.map_or(0, |m| m.denied_requests),
        uses: s.uses.iter().map(use_json).collect(),
    }
}

/// `GET /api/v1/plugins`.
pub async fn plugins(State(state): State<AppState>) -> ApiResponse<Vec<PluginJson>> {
    let Some(set) = state.plugins.clone() else {
        return ApiResponse::new(Vec::new());
    };
    // Listing reads the store's manifests from disk.
    let statuses = tokio::task::spawn_blocking(move || set.statuses())
        .await
        .unwrap_or_default();
    ApiResponse::new(statuses.iter().map(plugin_json).collect())
}
