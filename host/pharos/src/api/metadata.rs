//! Metric metadata from the scrape targets (`# HELP`, `# TYPE`, `# UNIT`):
//! `GET /api/v1/metadata` (per metric, deduplicated across targets; `metric`,
//! `limit`, `limit_per_metric`) and `GET /api/v1/targets/metadata` (per
//! target; `match_target`, `metric`, `limit`), as Prometheus answers them.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use pharos_model::Labels;
use pharos_promql::parse_metric_selector;
use serde::Serialize;

use super::params::Params;
use super::{ApiError, ApiResponse, AppState, ErrorType};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Metadata {
    #[serde(rename = "type")]
    typ: &'static str,
    help: String,
    unit: String,
}

/// A number parameter (`-1` when absent), with Prometheus' error text.
fn number(params: &Params, name: &str) -> Result<i64, ApiError> {
    match params.get(name) {
        None => Ok(-1),
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::bad_data(format!("{name} must be a number"))),
    }
}

pub async fn metadata(
    State(state): State<AppState>,
    params: Params,
) -> Result<ApiResponse<BTreeMap<String, Vec<Metadata>>>, ApiError> {
    let limit = number(&params, "limit")?;
    let per_metric = number(&params, "limit_per_metric")?;
    let metric = params.get("metric");
    let mut sets: BTreeMap<String, BTreeSet<Metadata>> = BTreeMap::new();
    for t in state.scrape.iter().flat_map(|m| m.active_targets()) {
        for mm in t.status.metadata.iter() {
            if metric.is_some_and(|want| want != mm.metric) {
                continue;
            }
            let set = sets.entry(mm.metric.clone()).or_default();
            if per_metric > 0 && set.len() as i64 >= per_metric {
                continue;
            }
            set.insert(Metadata {
                typ: mm.metric_type.as_str(),
                help: mm.help.clone(),
                unit: mm.unit.clone(),
            });
        }
    }
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok(ApiResponse::new(
        sets.into_iter()
            .take(take)
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect(),
    ))
}

#[derive(Debug, Serialize)]
pub struct TargetMetadata {
    target: Labels,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric: Option<String>,
    #[serde(rename = "type")]
    typ: &'static str,
    help: String,
    unit: String,
}

pub async fn target_metadata(
    State(state): State<AppState>,
    params: Params,
) -> Result<ApiResponse<Vec<TargetMetadata>>, ApiError> {
    let limit = number(&params, "limit")?;
    let matchers = match params.get("match_target") {
        None => Vec::new(),
        Some(s) => parse_metric_selector(s).map_err(|e| ApiError::bad_data(e.to_string()))?,
    };
    let metric = params.get("metric");
    let mut out = Vec::new();
    'targets: for t in state.scrape.iter().flat_map(|m| m.active_targets()) {
        let labels = &t.target.series_labels;
        if !matchers
            .iter()
            .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
        {
            continue;
        }
        for mm in t.status.metadata.iter() {
            if limit >= 0 && out.len() as i64 >= limit {
                break 'targets;
            }
            if metric.is_some_and(|want| want != mm.metric) {
                continue;
            }
            out.push(TargetMetadata {
                target: labels.clone(),
                metric: metric.is_none().then(|| mm.metric.clone()),
                typ: mm.metric_type.as_str(),
                help: mm.help.clone(),
                unit: mm.unit.clone(),
            });
        }
    }
    if out.is_empty() && limit != 0 {
        return Err(ApiError::new(
            ErrorType::NotFound,
            "specified metadata not found",
        ));
    }
    Ok(ApiResponse::new(out))
}
