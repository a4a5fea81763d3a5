//! `GET /api/v2/silences`, `POST /api/v2/silences`, `GET` and `DELETE
//! /api/v2/silence/{id}`, as Alertmanager 0.25 answers them.
//!
//! - The list is sorted as Alertmanager sorts it: active silences by end,
//!   pending ones by start, then expired ones, latest end first (ties by
//!   id, where Alertmanager's order is random). A `filter` matcher keeps
//!   the silences that have that very matcher (same name, operator and
//!   value), not those whose matchers would match it.
//! - A POST creates a silence (no `id`) or updates one (Alertmanager's
//!   rules, in [`pharos_alerting::silence::Silences::set`]) and answers
//!   `{"silenceID": …}`. Its checks come in Alertmanager's order: the
//!   schema (422), `Failed to create silence: start time must be before end
//!   time` / `end time can't be in the past` (400), an unknown `id` (404
//!   `silence not found`), then the silence itself (400 `silence invalid:
//!   …`).
//! - `{id}` must look like a UUID (422 otherwise); an unknown silence is
//!   an empty 404 for GET and a 500 `silence not found` for DELETE, as in
//!   Alertmanager 0.25. Expiring an expired silence changes nothing.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use pharos_alerting::matchers::{AmMatcher, Matchers};
use pharos_alerting::service::now_ms;
use pharos_alerting::silence::{Silence, SilenceError, SilenceState, silence_matcher};
use pharos_model::{MatchOp, is_valid_legacy_label_name};
use serde::Serialize;

use super::alerts::{Saved, decode_time, is_field, parse_failed, read_body, require_json};
use super::gojson::Json;
use super::strfmt::{format_ms, go_quote, is_uuid};
use super::{AmError, Query, empty, json};
use crate::api::AppState;

#[derive(Serialize)]
struct GettableSilence {
    id: String,
    status: SilenceStatus,
    #[serde(rename = "updatedAt")]
    updated_at: String,
    comment: String,
    #[serde(rename = "createdBy")]
    created_by: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    matchers: Vec<MatcherJson>,
    #[serde(rename = "startsAt")]
    starts_at: String,
}

#[derive(Serialize)]
struct SilenceStatus {
    state: &'static str,
}

#[derive(Serialize)]
struct MatcherJson {
    #[serde(rename = "isEqual")]
    is_equal: bool,
    #[serde(rename = "isRegex")]
    is_regex: bool,
    name: String,
    value: String,
}

fn gettable(s: &Silence, now: i64) -> GettableSilence {
    GettableSilence {
        id: s.id.clone(),
        status: SilenceStatus {
            state: s.state(now).as_str(),
        },
        updated_at: format_ms(s.updated_at),
        comment: s.comment.clone(),
        created_by: s.created_by.clone(),
        ends_at: format_ms(s.ends_at),
        matchers: s
            .matchers
            .iter()
            .map(|m| MatcherJson {
                is_equal: matches!(m.op(), MatchOp::Equal | MatchOp::Regex),
                is_regex: m.is_regex(),
                name: m.name().to_owned(),
                value: m.value().to_owned(),
            })
            .collect(),
        starts_at: format_ms(s.starts_at),
    }
}

/// Alertmanager's order of a silence list.
fn list_order(a: &Silence, b: &Silence, now: i64) -> std::cmp::Ordering {
    let rank = |s: &Silence| match s.state(now) {
        SilenceState::Active => 0,
        SilenceState::Pending => 1,
        SilenceState::Expired => 2,
    };
    rank(a)
        .cmp(&rank(b))
        .then_with(|| match a.state(now) {
            SilenceState::Active => a.ends_at.cmp(&b.ends_at),
            SilenceState::Pending => a.starts_at.cmp(&b.starts_at),
            SilenceState::Expired => b.ends_at.cmp(&a.ends_at),
        })
        .then_with(|| a.id.cmp(&b.id))
}

/// `GET /api/v2/silences`.
pub(super) async fn get_silences(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AmError> {
    let svc = super::service(&state)?;
    let filter = Query::parse(raw.as_deref()).filter()?;
    let now = now_ms();
    let mut list: Vec<Silence> = svc.with_state(|st| {
        st.silences
            .iter()
            .filter(|s| filter.iter().all(|f| s.matchers.iter().any(|m| m == f)))
            .cloned()
            .collect()
    });
    list.sort_by(|a, b| list_order(a, b, now));
    let out: Vec<GettableSilence> = list.iter().map(|s| gettable(s, now)).collect();
    Ok(json(StatusCode::OK, &out))
}

/// The silence id of the path, checked as strfmt's `uuid`.
fn silence_id(path: Result<Path<String>, PathRejection>) -> Result<String, AmError> {
    let id = match path {
        Ok(Path(id)) => id,
        Err(e) => {
            tracing::debug!(error = %e, "silence id not readable");
            return Err(AmError::Swagger(
                StatusCode::UNPROCESSABLE_ENTITY,
                601,
                "silenceID in path must be of type uuid".to_owned(),
            ));
        }
    };
    if !is_uuid(&id) {
        return Err(AmError::Swagger(
            StatusCode::UNPROCESSABLE_ENTITY,
            601,
            format!("silenceID in path must be of type uuid: {}", go_quote(&id)),
        ));
    }
    Ok(id)
}

/// `GET /api/v2/silence/{id}`.
pub(super) async fn get_silence(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AmError> {
    let svc = super::service(&state)?;
    let id = silence_id(path)?;
    let now = now_ms();
    let found = svc.with_state(|st| st.silences.get(&id).map(|s| gettable(s, now)));
    Ok(match found {
        Some(s) => json(StatusCode::OK, &s),
        None => empty(StatusCode::NOT_FOUND),
    })
}

/// `DELETE /api/v2/silence/{id}`.
pub(super) async fn delete_silence(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AmError> {
    let svc = super::service(&state)?;
    let id = silence_id(path)?;
    match svc.expire_silence(&id) {
        Ok(()) => {
            tracing::info!(silence = %id, "silence expired");
            Ok(empty(StatusCode::OK))
        }
        Err(e) => {
            tracing::debug!(silence = %id, error = %e, "silence not expired");
            Err(AmError::Message(
                StatusCode::INTERNAL_SERVER_ERROR,
                e.to_string(),
            ))
        }
    }
}

/// A silence as posted, decoded as Go decodes a `PostableSilence`; `None`
/// stands for a field that is absent or null.
#[derive(Debug, Default, PartialEq)]
struct PostedSilence {
    id: String,
    comment: Option<String>,
    created_by: Option<String>,
    /// Unix ms; `Some(None)` is Go's zero time.
    starts_at: Option<Option<i64>>,
    ends_at: Option<Option<i64>>,
    /// `Some(None)` for a null matcher.
    matchers: Option<Vec<Option<PostedMatcher>>>,
}

#[derive(Debug, Default, PartialEq)]
struct PostedMatcher {
    is_equal: Option<bool>,
    is_regex: Option<bool>,
    name: Option<String>,
    value: Option<String>,
}

const SILENCE_PASS1: &str = "struct { ID string \"json:\\\"id,omitempty\\\"\" }";

fn decode_opt_string(v: &Json, into: &mut Option<String>, field: &str, saved: &mut Saved) {
    match v {
        Json::String(s) => *into = Some(s.clone()),
        Json::Null => *into = None,
        other => saved.mismatch(other.kind(), field, "string"),
    }
}

fn decode_matcher(v: &Json, saved: &mut Saved) -> Option<PostedMatcher> {
    let pairs = match v {
        Json::Null => return None,
        Json::Object(pairs) => pairs,
        other => {
            saved.mismatch(
                other.kind(),
                "Go struct field Silence.matchers",
                "models.Matcher",
            );
            return Some(PostedMatcher::default());
        }
    };
    let mut m = PostedMatcher::default();
    for (k, v) in pairs {
        for (field, flag) in [("isEqual", &mut m.is_equal), ("isRegex", &mut m.is_regex)] {
            if is_field(k, field) {
                match v {
                    Json::Bool(b) => *flag = Some(*b),
                    Json::Null => *flag = None,
                    other => saved.mismatch(
                        other.kind(),
                        &format!("Go struct field Matcher.matchers.{field}"),
                        "bool",
                    ),
                }
            }
        }
        if is_field(k, "name") {
            decode_opt_string(
                v,
                &mut m.name,
                "Go struct field Matcher.matchers.name",
                saved,
            );
        } else if is_field(k, "value") {
            decode_opt_string(
                v,
                &mut m.value,
                "Go struct field Matcher.matchers.value",
                saved,
            );
        }
    }
    Some(m)
}

fn decode_silence(v: &Json) -> Result<PostedSilence, String> {
    let mut s = PostedSilence::default();
    let pairs = match v {
        Json::Null => return Ok(s),
        Json::Object(pairs) => pairs,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type {SILENCE_PASS1}",
                other.kind()
            ));
        }
    };
    // Go decodes a PostableSilence in two passes: its id, then the
    // embedded Silence.
    let mut saved = Saved::default();
    for (k, v) in pairs {
        if is_field(k, "id") {
            match v {
                Json::String(id) => s.id = id.clone(),
                Json::Null => {}
                other => saved.mismatch(other.kind(), "Go struct field .id", "string"),
            }
        }
    }
    saved.finish()?;
    let mut saved = Saved::default();
    for (k, v) in pairs {
        if is_field(k, "comment") {
            decode_opt_string(
                v,
                &mut s.comment,
                "Go struct field Silence.comment",
                &mut saved,
            );
        } else if is_field(k, "createdBy") {
            decode_opt_string(
                v,
                &mut s.created_by,
                "Go struct field Silence.createdBy",
                &mut saved,
            );
        } else if is_field(k, "startsAt") {
            s.starts_at = decode_time(v, "Silence.startsAt")?;
        } else if is_field(k, "endsAt") {
            s.ends_at = decode_time(v, "Silence.endsAt")?;
        } else if is_field(k, "matchers") {
            match v {
                Json::Null => s.matchers = None,
                Json::Array(items) => {
                    s.matchers = Some(
                        items
                            .iter()
                            .map(|m| decode_matcher(m, &mut saved))
                            .collect(),
                    );
                }
                other => saved.mismatch(
                    other.kind(),
                    "Go struct field Silence.matchers",
                    "models.Matchers",
                ),
            }
        }
    }
    saved.finish()?;
    Ok(s)
}

fn required(field: &str) -> AmError {
    AmError::Swagger(
        StatusCode::UNPROCESSABLE_ENTITY,
        602,
        format!("{field} in body is required"),
    )
}

/// A matcher that passed the schema.
struct CheckedMatcher {
    op: MatchOp,
    name: String,
    value: String,
}

/// The schema's checks, in go-swagger's order.
fn validate_schema(s: &PostedSilence) -> Result<Vec<CheckedMatcher>, AmError> {
    if s.comment.is_none() {
        return Err(required("comment"));
    }
    if s.created_by.is_none() {
        return Err(required("createdBy"));
    }
    if s.ends_at.is_none() {
        return Err(required("endsAt"));
    }
    let Some(matchers) = &s.matchers else {
        return Err(required("matchers"));
    };
    if matchers.is_empty() {
        return Err(AmError::Swagger(
            StatusCode::UNPROCESSABLE_ENTITY,
            612,
            "matchers in body should have at least 1 items".to_owned(),
        ));
    }
    let mut out = Vec::with_capacity(matchers.len());
    for (i, m) in matchers.iter().enumerate() {
        // Alertmanager 0.25 dies on a null matcher; refuse it instead.
        let m = m
            .as_ref()
            .ok_or_else(|| required(&format!("matchers.{i}")))?;
        let is_regex = m
            .is_regex
            .ok_or_else(|| required(&format!("matchers.{i}.isRegex")))?;
        let name = m
            .name
            .clone()
            .ok_or_else(|| required(&format!("matchers.{i}.name")))?;
        let value = m
            .value
            .clone()
            .ok_or_else(|| required(&format!("matchers.{i}.value")))?;
        let op = match (is_regex, m.is_equal.unwrap_or(true)) {
            (false, true) => MatchOp::Equal,
            (false, false) => MatchOp::NotEqual,
            (true, true) => MatchOp::Regex,
            (true, false) => MatchOp::NotRegex,
        };
        out.push(CheckedMatcher { op, name, value });
    }
    if s.starts_at.is_none() {
        return Err(required("startsAt"));
    }
    Ok(out)
}

fn invalid(e: SilenceError) -> AmError {
    AmError::bad_request(format!("silence invalid: {e}"))
}

/// The silence's matchers, checked one by one as Alertmanager checks them
/// (the name, then the regex).
fn build_matchers(checked: Vec<CheckedMatcher>) -> Result<Matchers, AmError> {
    let mut out: Vec<AmMatcher> = Vec::with_capacity(checked.len());
    for (index, m) in checked.into_iter().enumerate() {
        if !is_valid_legacy_label_name(&m.name) {
            return Err(invalid(SilenceError::InvalidMatcher {
                index,
                message: format!("invalid label name {}", go_quote(&m.name)),
            }));
        }
        out.push(silence_matcher(index, m.op, &m.name, &m.value).map_err(invalid)?);
    }
    Ok(Matchers(out))
}

/// `POST /api/v2/silences`.
pub(super) async fn post_silences(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AmError> {
    let svc = super::service(&state)?;
    require_json(&headers)?;
    let v = read_body(&body, "silence")?;
    let posted = decode_silence(&v).map_err(|e| {
        tracing::debug!(error = %e, "silence body refused");
        parse_failed("silence", &e)
    })?;
    let checked = validate_schema(&posted)?;
    // Go's zero time is the earliest time there is.
    let time = |t: Option<Option<i64>>| t.flatten().unwrap_or(0);
    let mut sil = Silence {
        id: posted.id,
        matchers: Matchers::default(),
        starts_at: time(posted.starts_at),
        ends_at: time(posted.ends_at),
        updated_at: 0,
        created_by: posted.created_by.unwrap_or_default(),
        comment: posted.comment.unwrap_or_default(),
    };
    let now = now_ms();
    if let Err(e) = sil.validate_for_api(now) {
        let message = match e {
            SilenceError::StartNotBeforeEnd => {
                "Failed to create silence: start time must be before end time"
            }
            _ => "Failed to create silence: end time can't be in the past",
        };
        return Err(AmError::bad_request(message));
    }
    if !sil.id.is_empty() && svc.with_state(|st| st.silences.get(&sil.id).is_none()) {
        return Err(AmError::Message(
            StatusCode::NOT_FOUND,
            SilenceError::NotFound.to_string(),
        ));
    }
    sil.matchers = build_matchers(checked)?;
    let previous = sil.id.clone();
    match svc.set_silence(sil) {
        Ok(id) => {
            tracing::info!(silence = %id, previous = %previous, "silence set");
            #[derive(Serialize)]
            struct Created {
                #[serde(rename = "silenceID")]
                silence_id: String,
            }
            Ok(json(StatusCode::OK, &Created { silence_id: id }))
        }
        Err(SilenceError::NotFound) => Err(AmError::Message(
            StatusCode::NOT_FOUND,
            SilenceError::NotFound.to_string(),
        )),
        Err(e) => {
            tracing::debug!(error = %e, "silence refused");
            Err(invalid(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::alertmanager::gojson;

    fn decode(body: &str) -> Result<PostedSilence, String> {
        let v = gojson::decode(body.as_bytes())?.unwrap_or(Json::Null);
        decode_silence(&v)
    }

    const T: &str = r#""startsAt":"2026-01-01T00:00:00Z","endsAt":"2030-01-01T00:00:00Z""#;

    #[test]
    fn type_errors_read_as_gos() {
        // Recorded from Alertmanager 0.25.
        for (body, msg) in [
            (
                format!(r#"{{"id":1,"matchers":[],{T}}}"#),
                "json: cannot unmarshal number into Go struct field .id of type string",
            ),
            (
                format!(r#"{{"createdBy":1,{T}}}"#),
                "json: cannot unmarshal number into Go struct field Silence.createdBy of type string",
            ),
            (
                format!(r#"{{"matchers":{{}},{T}}}"#),
                "json: cannot unmarshal object into Go struct field Silence.matchers of type models.Matchers",
            ),
            (
                format!(r#"{{"matchers":[1],{T}}}"#),
                "json: cannot unmarshal number into Go struct field Silence.matchers of type models.Matcher",
            ),
            (
                format!(r#"{{"matchers":[{{"name":1}}],{T}}}"#),
                "json: cannot unmarshal number into Go struct field Matcher.matchers.name of type string",
            ),
            (
                format!(r#"{{"matchers":[{{"isRegex":"no"}}],{T}}}"#),
                "json: cannot unmarshal string into Go struct field Matcher.matchers.isRegex of type bool",
            ),
            (
                r#"{"startsAt":5}"#.to_owned(),
                "json: cannot unmarshal number into Go struct field Silence.startsAt of type string",
            ),
            (
                r#"{"startsAt":"bad"}"#.to_owned(),
                r#"parsing time "bad" as "2006-01-02 15:04:05": cannot parse "bad" as "2006""#,
            ),
            (
                "[]".to_owned(),
                "json: cannot unmarshal array into Go value of type struct { ID string \"json:\\\"id,omitempty\\\"\" }",
            ),
        ] {
            assert_eq!(decode(&body).map(|_| ()), Err(msg.to_owned()), "{body}");
        }
    }

    fn schema_error(body: &str) -> String {
        let s = decode(body).unwrap_or_default();
        match validate_schema(&s) {
            Err(AmError::Swagger(_, code, m)) => format!("{code} {m}"),
            Err(other) => format!("{other:?}"),
            Ok(_) => "ok".to_owned(),
        }
    }

    #[test]
    fn schema_checks_in_go_swaggers_order() {
        let m = r#""matchers":[{"name":"a","value":"x","isRegex":false}]"#;
        let c = r#""createdBy":"me","comment":"c""#;
        for (body, want) in [
            ("{}".to_owned(), "602 comment in body is required"),
            ("null".to_owned(), "602 comment in body is required"),
            (
                r#"{"matchers":[{"name":"a","value":"x","isRegex":false}],"comment":"x"}"#
                    .to_owned(),
                "602 createdBy in body is required",
            ),
            (
                format!(r#"{{{m},"startsAt":"2026-01-01T00:00:00Z",{c}}}"#),
                "602 endsAt in body is required",
            ),
            (
                format!(r#"{{"matchers":[],{T},{c}}}"#),
                "612 matchers in body should have at least 1 items",
            ),
            (
                format!(
                    r#"{{"matchers":[{{"name":"a","value":"x","isRegex":false}},{{}}],{T},{c}}}"#
                ),
                "602 matchers.1.isRegex in body is required",
            ),
            (
                format!(r#"{{"matchers":[{{"value":"x","isRegex":false}}],{T},{c}}}"#),
                "602 matchers.0.name in body is required",
            ),
            (
                format!(r#"{{{m},{T},"createdBy":null,"comment":"c"}}"#),
                "602 createdBy in body is required",
            ),
            (
                format!(r#"{{{m},{T},{c},"startsAt":null}}"#),
                "602 startsAt in body is required",
            ),
            (
                format!(r#"{{"matchers":[{{"Name":"a","VALUE":"x","isregex":false}}],{T},{c}}}"#),
                "ok",
            ),
        ] {
            assert_eq!(schema_error(&body), want, "{body}");
        }
    }

    #[test]
    fn matchers_checked_name_then_regex() {
        let m = |name: &str, value: &str, op| CheckedMatcher {
            op,
            name: name.to_owned(),
            value: value.to_owned(),
        };
        let err = |c| match build_matchers(c) {
            Err(AmError::Message(_, m)) => m,
            other => format!("{:?}", other.map(|_| ())),
        };
        assert_eq!(
            err(vec![
                m("0a", "x", MatchOp::Equal),
                m("a", "(", MatchOp::Regex)
            ]),
            r#"silence invalid: invalid label matcher 0: invalid label name "0a""#
        );
        assert_eq!(
            err(vec![m("a", "(", MatchOp::Regex)]),
            r#"silence invalid: invalid label matcher 0: invalid regular expression "(": error parsing regexp: missing closing ): `(`"#
        );
    }
}
