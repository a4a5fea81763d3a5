//! `GET /api/v2/alerts`, `GET /api/v2/alerts/groups`, `POST
//! /api/v2/alerts`, as Alertmanager 0.25 answers them.
//!
//! Reading: alerts whose `endsAt` has passed are left out; an alert is
//! `suppressed` while an active silence or an inhibition mutes it, else
//! `active` (Alertmanager works the status out on every request, so
//! `unprocessed` never shows, and `unprocessed=false` leaves nothing out);
//! `active`, `silenced`, `inhibited` (default true) leave out alerts of
//! that kind when false; every `filter` matcher must match; `receiver` is
//! an anchored regex one of the alert's receivers (in `/alerts`) or the
//! group's receiver (in `/alerts/groups`) must match. `/alerts` is sorted
//! by fingerprint; each alert lists the receivers of the routes it
//! matches, in tree order.
//!
//! Writing: the body is decoded as Go decodes Alertmanager's
//! `PostableAlerts` (errors with Go's messages, 400), checked against the
//! schema (`0.labels in body is required`, 422), then each alert as
//! Alertmanager checks it (times defaulted first: a missing `startsAt` is
//! now or `endsAt`, a missing `endsAt` now + `resolve_timeout`). The valid
//! alerts are taken even when others are refused; the refusals answer 400,
//! joined with `; `. Labels with an empty value are dropped.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use pharos_alerting::dispatch::{AlertStatus, DEFAULT_RESOLVE_TIMEOUT_MS, StoredAlert};
use pharos_alerting::fingerprint::fingerprint;
use pharos_alerting::matchers::AmMatcher;
use pharos_alerting::service::{State as AmState, now_ms};
use pharos_model::alert::Alert;
use pharos_model::{Labels, MatchOp, is_valid_legacy_label_name};
use serde::Serialize;

use super::gojson::{self, Json};
use super::strfmt::{self, format_ms, go_quote};
use super::{AmError, Query, ReceiverName, empty, json, label_map};
use crate::api::AppState;

/// One alert as the API shows it (go-swagger's `GettableAlert`: its own
/// fields, then the embedded `Alert`'s).
#[derive(Serialize)]
pub(super) struct GettableAlert {
    #[serde(serialize_with = "label_map")]
    annotations: Labels,
    #[serde(rename = "endsAt")]
    ends_at: String,
    fingerprint: String,
    receivers: Vec<ReceiverName>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    status: StatusJson,
    #[serde(rename = "updatedAt")]
    updated_at: String,
    #[serde(rename = "generatorURL", skip_serializing_if = "String::is_empty")]
    generator_url: String,
    #[serde(serialize_with = "label_map")]
    labels: Labels,
}

#[derive(Serialize)]
struct StatusJson {
    #[serde(rename = "inhibitedBy")]
    inhibited_by: Vec<String>,
    #[serde(rename = "silencedBy")]
    silenced_by: Vec<String>,
    state: &'static str,
}

#[derive(Serialize)]
struct AlertGroupJson {
    alerts: Vec<GettableAlert>,
    #[serde(serialize_with = "label_map")]
    labels: Labels,
    receiver: ReceiverName,
}

/// The filter parameters of both reading endpoints.
struct AlertFilter {
    matchers: Vec<AmMatcher>,
    receiver: Option<AmMatcher>,
    active: bool,
    silenced: bool,
    inhibited: bool,
}

impl AlertFilter {
    fn from_query(q: &Query) -> Result<Self, AmError> {
        let matchers = q.filter()?;
        let receiver = match q.last("receiver") {
            None => None,
            Some(re) => Some(AmMatcher::new(MatchOp::Regex, "receiver", re).map_err(|e| {
                tracing::debug!(receiver = re, error = %e, "bad receiver regex");
                AmError::bad_request(format!("failed to parse receiver param: {e}"))
            })?),
        };
        // Read as Alertmanager reads it; no alert is ever unprocessed when
        // the API looks at it.
        let _unprocessed = q.flag("unprocessed", true);
        Ok(AlertFilter {
            matchers,
            receiver,
            active: q.flag("active", true),
            silenced: q.flag("silenced", true),
            inhibited: q.flag("inhibited", true),
        })
    }

    /// The alert's status if it passes (receivers aside).
    fn pass(&self, st: &AmState, a: &StoredAlert, now: i64) -> Option<AlertStatus> {
        if a.alert.ends_at.is_some_and(|e| e < now) {
            return None;
        }
        let status = st.dispatcher.status(&a.alert.labels, now, &st.silences);
        let silenced = !status.silenced_by.is_empty();
        let inhibited = status.inhibited_by.is_some();
        if !self.active && !silenced && !inhibited {
            return None;
        }
        if (!self.silenced && silenced) || (!self.inhibited && inhibited) {
            return None;
        }
        self.matchers
            .iter()
            .all(|m| m.matches_labels(&a.alert.labels))
            .then_some(status)
    }

    fn receiver_ok(&self, name: &str) -> bool {
        self.receiver.as_ref().is_none_or(|re| re.matches(name))
    }
}

fn gettable(a: &StoredAlert, status: AlertStatus, receivers: Vec<String>) -> GettableAlert {
    let suppressed = !status.silenced_by.is_empty() || status.inhibited_by.is_some();
    let mut silenced_by = status.silenced_by;
    silenced_by.sort();
    GettableAlert {
        annotations: a.alert.annotations.clone(),
        ends_at: a.alert.ends_at.map(format_ms).unwrap_or_default(),
        fingerprint: fingerprint(&a.alert.labels),
        receivers: receivers
            .into_iter()
            .map(|name| ReceiverName { name })
            .collect(),
        starts_at: format_ms(a.alert.starts_at),
        status: StatusJson {
            inhibited_by: status.inhibited_by.iter().map(fingerprint).collect(),
            silenced_by,
            state: if suppressed { "suppressed" } else { "active" },
        },
        updated_at: format_ms(a.updated_at),
        generator_url: a.alert.generator_url.clone(),
        labels: a.alert.labels.clone(),
    }
}

/// `GET /api/v2/alerts`.
pub(super) async fn get_alerts(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AmError> {
    let svc = super::service(&state)?;
    let f = AlertFilter::from_query(&Query::parse(raw.as_deref()))?;
    let now = now_ms();
    let mut out: Vec<GettableAlert> = svc.with_state(|st| {
        st.dispatcher
            .alerts()
            .filter_map(|a| {
                // Without [alerting.route] Pharos routes nothing (Alertmanager
                // always has a route).
                let receivers = if st.dispatcher.is_routed() {
                    st.dispatcher.tree().receivers_for(&a.alert.labels)
                } else {
                    Vec::new()
                };
                if f.receiver.is_some() && !receivers.iter().any(|r| f.receiver_ok(r)) {
                    return None;
                }
                let status = f.pass(st, a, now)?;
                Some(gettable(a, status, receivers))
            })
            .collect()
    });
    out.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    Ok(json(StatusCode::OK, &out))
}

/// `GET /api/v2/alerts/groups`.
pub(super) async fn get_groups(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AmError> {
    let svc = super::service(&state)?;
    let f = AlertFilter::from_query(&Query::parse(raw.as_deref()))?;
    let now = now_ms();
    let out: Vec<AlertGroupJson> = svc.with_state(|st| {
        let (groups, _) = st.dispatcher.alert_groups(|a| f.pass(st, a, now).is_some());
        let groups: Vec<_> = groups
            .into_iter()
            .filter(|g| f.receiver_ok(&g.receiver))
            .collect();
        // Each alert names the receivers of the groups listed.
        let mut receivers: BTreeMap<&Labels, Vec<String>> = BTreeMap::new();
        for g in &groups {
            for a in &g.alerts {
                receivers
                    .entry(&a.alert.labels)
                    .or_default()
                    .push(g.receiver.clone());
            }
        }
        receivers.values_mut().for_each(|r| r.sort());
        groups
            .iter()
            .map(|g| AlertGroupJson {
                alerts: g
                    .alerts
                    .iter()
                    .filter_map(|a| {
                        let status = f.pass(st, a, now)?;
                        let r = receivers.get(&a.alert.labels).cloned().unwrap_or_default();
                        Some(gettable(a, status, r))
                    })
                    .collect(),
                labels: g.labels.clone(),
                receiver: ReceiverName {
                    name: g.receiver.clone(),
                },
            })
            .collect()
    });
    Ok(json(StatusCode::OK, &out))
}

/// An alert as posted, decoded as Go decodes a `PostableAlert`.
#[derive(Debug, Default, PartialEq)]
pub(super) struct PostedAlert {
    /// `None`: absent or null (the schema requires it).
    labels: Option<BTreeMap<String, String>>,
    annotations: BTreeMap<String, String>,
    /// Unix ms; `None`: absent or Go's zero time.
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    generator_url: String,
}

/// Go's `json: cannot unmarshal …` for the first type mismatch, kept
/// while decoding goes on (as Go keeps it).
#[derive(Default)]
pub(super) struct Saved(Option<String>);

impl Saved {
    pub(super) fn mismatch(&mut self, kind: &str, into: &str, typ: &str) {
        if self.0.is_none() {
            self.0 = Some(format!(
                "json: cannot unmarshal {kind} into {into} of type {typ}"
            ));
        }
    }

    pub(super) fn finish(self) -> Result<(), String> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Whether a JSON key selects a Go field (case-insensitively, as Go).
pub(super) fn is_field(key: &str, field: &str) -> bool {
    key.eq_ignore_ascii_case(field)
}

/// Decodes a `map[string]string` field into `into` (merging, as Go does
/// into an existing map); `null` empties it.
pub(super) fn decode_string_map(
    v: &Json,
    into: &mut Option<BTreeMap<String, String>>,
    field: &str,
    saved: &mut Saved,
) {
    match v {
        Json::Null => *into = None,
        Json::Object(pairs) => {
            let m = into.get_or_insert_with(BTreeMap::new);
            for (k, v) in pairs {
                let value = match v {
                    Json::String(s) => s.clone(),
                    Json::Null => String::new(),
                    other => {
                        saved.mismatch(other.kind(), field, "string");
                        String::new()
                    }
                };
                m.insert(k.clone(), value);
            }
        }
        other => saved.mismatch(other.kind(), field, "models.LabelSet"),
    }
}

/// Decodes a `strfmt.DateTime` field: `null` leaves it; a string that is
/// not a time, or any other kind, stops decoding.
pub(super) fn decode_time(v: &Json, field: &str) -> Result<Option<Option<i64>>, String> {
    match v {
        Json::Null => Ok(None),
        Json::String(s) => strfmt::parse_time(s).map(Some),
        other => Err(format!(
            "json: cannot unmarshal {} into Go struct field {field} of type string",
            other.kind()
        )),
    }
}

const ALERT_PASS1: &str = "struct { Annotations models.LabelSet \"json:\\\"annotations,omitempty\\\"\"; EndsAt strfmt.DateTime \"json:\\\"endsAt,omitempty\\\"\"; StartsAt strfmt.DateTime \"json:\\\"startsAt,omitempty\\\"\" }";

/// `PostableAlerts` from a decoded body; `Ok(None)` for an alert that is
/// `null` (Alertmanager fails on it).
fn decode_alerts(v: &Json) -> Result<Vec<Option<PostedAlert>>, String> {
    let items = match v {
        Json::Null => return Ok(Vec::new()),
        Json::Array(items) => items,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type models.PostableAlerts",
                other.kind()
            ));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let pairs = match item {
            Json::Null => {
                out.push(None);
                continue;
            }
            Json::Object(pairs) => pairs,
            other => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go value of type {ALERT_PASS1}",
                    other.kind()
                ));
            }
        };
        let mut a = PostedAlert::default();
        // Go decodes a PostableAlert in two passes: its own fields, then
        // the embedded Alert's.
        let mut saved = Saved::default();
        let mut annotations = None;
        for (k, v) in pairs {
            if is_field(k, "annotations") {
                decode_string_map(
                    v,
                    &mut annotations,
                    "Go struct field .annotations",
                    &mut saved,
                );
            } else if is_field(k, "endsAt") {
                if let Some(t) = decode_time(v, ".endsAt")? {
                    a.ends_at = t;
                }
            } else if is_field(k, "startsAt")
                && let Some(t) = decode_time(v, ".startsAt")?
            {
                a.starts_at = t;
            }
        }
        saved.finish()?;
        a.annotations = annotations.unwrap_or_default();
        let mut saved = Saved::default();
        for (k, v) in pairs {
            if is_field(k, "generatorURL") {
                match v {
                    Json::String(s) => a.generator_url = s.clone(),
                    Json::Null => {}
                    other => {
                        saved.mismatch(other.kind(), "Go struct field Alert.generatorURL", "string")
                    }
                }
            } else if is_field(k, "labels") {
                decode_string_map(v, &mut a.labels, "Go struct field Alert.labels", &mut saved);
            }
        }
        saved.finish()?;
        out.push(Some(a));
    }
    Ok(out)
}

/// The schema's checks, in go-swagger's order; the first failure.
fn validate_schema(alerts: &[Option<PostedAlert>]) -> Result<(), AmError> {
    for (i, a) in alerts.iter().enumerate() {
        let Some(a) = a else {
            // Alertmanager 0.25 dies on a null alert (the connection
            // closes); refuse it instead.
            return Err(AmError::Swagger(
                StatusCode::UNPROCESSABLE_ENTITY,
                602,
                format!("{i} in body is required"),
            ));
        };
        if !a.generator_url.is_empty() && !strfmt::is_request_uri(&a.generator_url) {
            return Err(AmError::Swagger(
                StatusCode::UNPROCESSABLE_ENTITY,
                601,
                format!(
                    "{i}.generatorURL in body must be of type uri: {}",
                    go_quote(&a.generator_url)
                ),
            ));
        }
        if a.labels.is_none() {
            return Err(AmError::Swagger(
                StatusCode::UNPROCESSABLE_ENTITY,
                602,
                format!("{i}.labels in body is required"),
            ));
        }
    }
    Ok(())
}

/// Alertmanager's checks of one alert (times already defaulted).
fn validate_alert(a: &PostedAlert, now: i64, resolve_timeout_ms: i64) -> Result<Alert, String> {
    let end = a.ends_at.unwrap_or(now.saturating_add(resolve_timeout_ms));
    let start = a.starts_at.unwrap_or(a.ends_at.unwrap_or(now));
    if end < start {
        return Err("start time must be before end time".to_owned());
    }
    let labels = a.labels.clone().unwrap_or_default();
    if let Some(bad) = labels.keys().find(|n| !is_valid_legacy_label_name(n)) {
        return Err(format!("invalid label set: invalid name {}", go_quote(bad)));
    }
    let labels = Labels::from_pairs(labels);
    if labels.is_empty() {
        return Err("at least one label pair required".to_owned());
    }
    if let Some(bad) = a
        .annotations
        .keys()
        .find(|n| !is_valid_legacy_label_name(n))
    {
        return Err(format!(
            "invalid annotations: invalid name {}",
            go_quote(bad)
        ));
    }
    Ok(Alert {
        labels,
        annotations: Labels::from_pairs(a.annotations.clone()),
        starts_at: a.starts_at.unwrap_or(0),
        ends_at: a.ends_at,
        generator_url: a.generator_url.clone(),
    })
}

/// go-swagger's content negotiation: JSON only (415 otherwise).
pub(super) fn require_json(headers: &HeaderMap) -> Result<(), AmError> {
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let media = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media == "application/json" {
        return Ok(());
    }
    Err(AmError::Swagger(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        415,
        format!(
            "unsupported media type {}, only [application/json] are allowed",
            go_quote(&media)
        ),
    ))
}

/// The decoded body, or go-swagger's refusal (`what`: `alerts`,
/// `silence`).
pub(super) fn read_body(body: &[u8], what: &str) -> Result<Json, AmError> {
    match gojson::decode(body) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(AmError::Swagger(
            StatusCode::UNPROCESSABLE_ENTITY,
            602,
            format!("{what} in body is required"),
        )),
        Err(e) => Err(parse_failed(what, &e)),
    }
}

/// go-swagger's 400 for a body that does not decode.
pub(super) fn parse_failed(what: &str, reason: &str) -> AmError {
    AmError::Swagger(
        StatusCode::BAD_REQUEST,
        400,
        format!("parsing {what} body from \"\" failed, because {reason}"),
    )
}

/// `POST /api/v2/alerts`.
pub(super) async fn post_alerts(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AmError> {
    let svc = super::service(&state)?;
    require_json(&headers)?;
    let v = read_body(&body, "alerts")?;
    let posted = decode_alerts(&v).map_err(|e| {
        tracing::debug!(error = %e, "alerts body refused");
        parse_failed("alerts", &e)
    })?;
    validate_schema(&posted)?;
    let resolve_timeout = svc.with_state(|st| {
        st.config
            .resolve_timeout
            .as_ref()
            .map_or(DEFAULT_RESOLVE_TIMEOUT_MS, |d| {
                i64::try_from(d.get().as_millis()).unwrap_or(i64::MAX)
            })
    });
    let now = now_ms();
    let mut valid = Vec::with_capacity(posted.len());
    let mut errors = Vec::new();
    for a in posted.iter().flatten() {
        match validate_alert(a, now, resolve_timeout) {
            Ok(alert) => valid.push(alert),
            Err(e) => errors.push(e),
        }
    }
    let (taken, refused) = (valid.len(), errors.len());
    svc.post_alerts(valid);
    if !errors.is_empty() {
        tracing::debug!(taken, refused, errors = %errors.join("; "), "alerts refused");
        return Err(AmError::bad_request(errors.join("; ")));
    }
    tracing::debug!(taken, "alerts received");
    Ok(empty(StatusCode::OK))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn decode(body: &str) -> Result<Vec<Option<PostedAlert>>, String> {
        let v = gojson::decode(body.as_bytes())?.unwrap_or(Json::Null);
        decode_alerts(&v)
    }

    #[test]
    fn type_errors_read_as_gos() {
        // Recorded from Alertmanager 0.25.
        for (body, msg) in [
            (
                r#"{}"#,
                "json: cannot unmarshal object into Go value of type models.PostableAlerts",
            ),
            (
                r#""x""#,
                "json: cannot unmarshal string into Go value of type models.PostableAlerts",
            ),
            (
                r#"[{"labels":{"a":"b"},"annotations":{"x":1}}]"#,
                "json: cannot unmarshal number into Go struct field .annotations of type string",
            ),
            (
                r#"[{"labels":{"a":"b"},"startsAt":1}]"#,
                "json: cannot unmarshal number into Go struct field .startsAt of type string",
            ),
            (
                r#"[{"labels":{"a":"b"},"endsAt":true}]"#,
                "json: cannot unmarshal bool into Go struct field .endsAt of type string",
            ),
            (
                r#"[{"labels":{"a":"b"},"generatorURL":1}]"#,
                "json: cannot unmarshal number into Go struct field Alert.generatorURL of type string",
            ),
            (
                r#"[{"labels":[]}]"#,
                "json: cannot unmarshal array into Go struct field Alert.labels of type models.LabelSet",
            ),
            (
                r#"[{"labels":{"a":"b"},"annotations":[]}]"#,
                "json: cannot unmarshal array into Go struct field .annotations of type models.LabelSet",
            ),
            (
                r#"[{"labels":{"a":1,"b":2}}, {"labels":{"x":{}}}]"#,
                "json: cannot unmarshal number into Go struct field Alert.labels of type string",
            ),
            (
                "[1]",
                "json: cannot unmarshal number into Go value of type struct { Annotations models.LabelSet \"json:\\\"annotations,omitempty\\\"\"; EndsAt strfmt.DateTime \"json:\\\"endsAt,omitempty\\\"\"; StartsAt strfmt.DateTime \"json:\\\"startsAt,omitempty\\\"\" }",
            ),
        ] {
            assert_eq!(decode(body), Err(msg.to_owned()), "{body}");
        }
    }

    #[test]
    fn fields_match_case_insensitively_and_later_keys_win() {
        let got = decode(
            r#"[{"LABELS":{"a":"b"},"labels":{"c":"d","e":null},"Annotations":{"x":""},"startsAt":"2024-03-01T10:00:00Z","startsAt":null,"status":1}]"#,
        );
        let want = PostedAlert {
            labels: Some(BTreeMap::from([
                ("a".into(), "b".into()),
                ("c".into(), "d".into()),
                ("e".into(), String::new()),
            ])),
            annotations: BTreeMap::from([("x".into(), String::new())]),
            starts_at: Some(1_709_287_200_000),
            ends_at: None,
            generator_url: String::new(),
        };
        assert_eq!(got, Ok(vec![Some(want)]));
    }

    #[test]
    fn alertmanagers_checks_in_its_order() {
        let now = 1_000_000_000_000;
        let rt = DEFAULT_RESOLVE_TIMEOUT_MS;
        let a = |labels: &[(&str, &str)], ann: &[(&str, &str)], s, e| PostedAlert {
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            annotations: ann
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            starts_at: s,
            ends_at: e,
            generator_url: String::new(),
        };
        let check = |p: PostedAlert| validate_alert(&p, now, rt).map(|_| ());
        let bad_times = Err("start time must be before end time".to_owned());
        assert_eq!(
            check(a(&[("0a", "b")], &[("0x", "y")], Some(now), Some(now - 1))),
            bad_times
        );
        // A start in the future without an end ends before it starts.
        assert_eq!(
            check(a(&[("a", "b")], &[], Some(now + rt + 1), None)),
            bad_times
        );
        assert_eq!(check(a(&[("a", "b")], &[], Some(now), Some(now))), Ok(()));
        assert_eq!(
            check(a(&[("0a", "b")], &[("0x", "y")], None, None)),
            Err(r#"invalid label set: invalid name "0a""#.to_owned())
        );
        assert_eq!(
            check(a(&[("a", "")], &[("0x", "y")], None, None)),
            Err("at least one label pair required".to_owned())
        );
        assert_eq!(
            check(a(&[("a", "b")], &[("0x", "y")], None, None)),
            Err(r#"invalid annotations: invalid name "0x""#.to_owned())
        );
        let ok = validate_alert(&a(&[("a", "b"), ("e", "")], &[], None, None), now, rt);
        assert_eq!(
            ok.map(|x| (x.labels, x.starts_at, x.ends_at)),
            Ok((Labels::from_pairs([("a", "b")]), 0, None))
        );
    }
}
