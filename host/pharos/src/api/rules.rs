//! `GET /api/v1/rules` and `GET /api/v1/alerts`: rule groups with their
//! health and alerts, shaped as Prometheus 2.42 answers (Grafana reads
//! recording rules from here).

use std::time::{Duration, UNIX_EPOCH};

use axum::extract::State;
use pharos_model::Labels;
use pharos_rules::alerting::{ActiveAlert, AlertState};
use pharos_rules::rulefmt::RuleKind;
use pharos_rules::{Group, Rule};
use serde::Serialize;

use super::params::Params;
use super::targets::rfc3339;
use super::{ApiError, ApiResponse, AppState};

#[derive(Debug, Serialize)]
pub struct RulesJson {
    groups: Vec<GroupJson>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupJson {
    name: String,
    file: String,
    rules: Vec<RuleJson>,
    #[serde(serialize_with = "go_f64")]
    interval: f64,
    limit: usize,
    #[serde(serialize_with = "go_f64")]
    evaluation_time: f64,
    last_evaluation: String,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum RuleJson {
    Alerting(AlertingJson),
    Recording(RecordingJson),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AlertingJson {
    state: &'static str,
    name: String,
    query: String,
    #[serde(serialize_with = "go_f64")]
    duration: f64,
    #[serde(serialize_with = "go_f64")]
    keep_firing_for: f64,
    labels: Labels,
    annotations: Labels,
    alerts: Vec<AlertJson>,
    health: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    #[serde(serialize_with = "go_f64")]
    evaluation_time: f64,
    last_evaluation: String,
    #[serde(rename = "type")]
    typ: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RecordingJson {
    name: String,
    query: String,
    #[serde(skip_serializing_if = "Labels::is_empty")]
    labels: Labels,
    health: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    #[serde(serialize_with = "go_f64")]
    evaluation_time: f64,
    last_evaluation: String,
    #[serde(rename = "type")]
    typ: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertJson {
    labels: Labels,
    annotations: Labels,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    active_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep_firing_since: Option<String>,
    value: String,
}

#[derive(Debug, Serialize)]
pub struct AlertsJson {
    alerts: Vec<AlertJson>,
}

/// Which rules a `/api/v1/rules` request asks for.
struct Filter<'a> {
    alerting: bool,
    recording: bool,
    names: Vec<&'a str>,
    groups: Vec<&'a str>,
    files: Vec<&'a str>,
    exclude_alerts: bool,
}

impl Filter<'_> {
    fn narrowed(&self) -> bool {
        let everything = self.alerting
            && self.recording
            && self.names.is_empty()
            && self.groups.is_empty()
            && self.files.is_empty();
        !everything
    }

    fn keeps(&self, rule: &Rule) -> bool {
        (if rule.is_alerting() {
            self.alerting
        } else {
            self.recording
        }) && (self.names.is_empty() || self.names.contains(&rule.name()))
    }
}

pub async fn rules(
    State(state): State<AppState>,
    params: Params,
) -> Result<ApiResponse<RulesJson>, ApiError> {
    let (alerting, recording) = match params.get("type").map(str::to_ascii_lowercase) {
        None => (true, true),
        Some(t) if t.is_empty() => (true, true),
        Some(t) if t == "alert" => (true, false),
        Some(t) if t == "record" => (false, true),
        Some(t) => {
            return Err(ApiError::bad_data(format!(
                "invalid query parameter type='{t}'"
            )));
        }
    };
    let exclude_alerts = match params.get("exclude_alerts") {
        None | Some("") => false,
        Some(v) => parse_bool(v)
            .ok_or_else(|| ApiError::bad_data(format!("parsing exclude_alerts: {v:?}")))?,
    };
    let filter = Filter {
        alerting,
        recording,
        names: params.all("rule_name[]"),
        groups: params.all("rule_group[]"),
        files: params.all("file[]"),
        exclude_alerts,
    };
    let mut groups = Vec::new();
    for g in state.rules.iter().flat_map(|r| r.groups()) {
        let g = g.lock();
        if (!filter.groups.is_empty() && !filter.groups.contains(&g.name.as_str()))
            || (!filter.files.is_empty() && !filter.files.contains(&g.file.as_str()))
        {
            continue;
        }
        let json = group_json(&g, &filter);
        if json.rules.is_empty() && filter.narrowed() {
            continue;
        }
        groups.push(json);
    }
    Ok(ApiResponse::new(RulesJson { groups }))
}

pub async fn alerts(State(state): State<AppState>) -> Result<ApiResponse<AlertsJson>, ApiError> {
    let mut alerts = Vec::new();
    for g in state.rules.iter().flat_map(|r| r.groups()) {
        let g = g.lock();
        for r in &g.rules {
            alerts.extend(active(r).map(alert_json));
        }
    }
    Ok(ApiResponse::new(AlertsJson { alerts }))
}

fn group_json(g: &Group, filter: &Filter<'_>) -> GroupJson {
    GroupJson {
        name: g.name.clone(),
        file: g.file.clone(),
        rules: g
            .rules
            .iter()
            .filter(|r| filter.keeps(r))
            .map(|r| rule_json(r, filter.exclude_alerts))
            .collect(),
        interval: g.interval.as_secs_f64(),
        limit: g.limit,
        evaluation_time: g.evaluation_time,
        last_evaluation: time(g.last_evaluation),
    }
}

fn rule_json(r: &Rule, exclude_alerts: bool) -> RuleJson {
    let query = r.def.expr.to_string();
    let health = r.health.as_str();
    let last_error = r.last_error.as_ref().map(ToString::to_string);
    let labels = Labels::from_pairs(r.labels.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    match &r.def.kind {
        RuleKind::Recording(_) => RuleJson::Recording(RecordingJson {
            name: r.name().to_owned(),
            query,
            labels,
            health,
            last_error,
            evaluation_time: r.evaluation_time,
            last_evaluation: time(r.last_evaluation),
            typ: "recording",
        }),
        RuleKind::Alerting(a) => RuleJson::Alerting(AlertingJson {
            state: r.alerts.state().as_str(),
            name: r.name().to_owned(),
            query,
            duration: a.hold.as_secs_f64(),
            keep_firing_for: a.keep_firing_for.as_secs_f64(),
            labels,
            annotations: Labels::from_pairs(
                a.annotations.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            ),
            alerts: if exclude_alerts {
                Vec::new()
            } else {
                active(r).map(alert_json).collect()
            },
            health,
            last_error,
            evaluation_time: r.evaluation_time,
            last_evaluation: time(r.last_evaluation),
            typ: "alerting",
        }),
    }
}

/// A rule's pending and firing alerts, sorted by labels.
fn active(r: &Rule) -> impl Iterator<Item = &ActiveAlert> {
    r.alerts
        .alerts()
        .into_iter()
        .filter(|a| a.state != AlertState::Inactive)
}

fn alert_json(a: &ActiveAlert) -> AlertJson {
    AlertJson {
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        state: a.state.as_str(),
        active_at: Some(time(a.active_at)),
        keep_firing_since: a.keep_firing_since.map(time),
        value: go_float_e(a.value),
    }
}

/// Unix milliseconds as Go's `time.Time` marshals (0: Go's zero time).
fn time(ms: i64) -> String {
    if ms == 0 {
        return "0001-01-01T00:00:00Z".to_owned();
    }
    let t = match u64::try_from(ms) {
        Ok(ms) => UNIX_EPOCH + Duration::from_millis(ms),
        Err(_) => UNIX_EPOCH,
    };
    rfc3339(t)
}

/// A float as Go's JSON encoder writes it: whole numbers without a
/// fraction (`60`, not `60.0`).
fn go_f64<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`: `1e+00`, `1.5e-07`, `NaN`,
/// `+Inf`.
pub(crate) fn go_float_e(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let s = format!("{v:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_as_go_formats_them() {
        assert_eq!(go_float_e(1.0), "1e+00");
        assert_eq!(go_float_e(1234.5), "1.2345e+03");
        assert_eq!(go_float_e(0.00015), "1.5e-04");
        assert_eq!(go_float_e(-2e100), "-2e+100");
        assert_eq!(go_float_e(0.0), "0e+00");
        assert_eq!(go_float_e(f64::NAN), "NaN");
        assert_eq!(go_float_e(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn times_as_go_marshals_them() {
        assert_eq!(time(0), "0001-01-01T00:00:00Z");
        assert_eq!(time(1_700_000_000_500), "2023-11-14T22:13:20.5Z");
    }
}
