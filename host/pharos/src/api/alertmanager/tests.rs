//! The API v2 through the router, over a real (not started) alerting
//! service: JSON shapes byte for byte, parameters, errors. Expected bodies
//! are Alertmanager 0.25's, recorded with curl; times are written with
//! [`format_ms`] because they follow the local zone.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use pharos_alerting::AlertingConfig;
use pharos_alerting::service::{AlertingService, Deliver, DeliveryFuture, Options, now_ms};
use pharos_alerting::store::Delivery;
use pharos_tsdb::MemStorage;
use tower::ServiceExt;

use super::Query;
use super::strfmt::format_ms;
use crate::api::{AppState, router};

struct Nowhere;

impl Deliver for Nowhere {
    fn deliver<'a>(&'a self, _: &'a Delivery) -> DeliveryFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}

/// The routing of the system test's Alertmanager config (continue, `...`,
/// an inhibition), in TOML.
const CONFIG: &str = r#"
resolve_timeout = "5m"

[route]
receiver = "team"
group_by = ["alertname", "cluster"]
group_wait = "30s"
group_interval = "5m"
repeat_interval = "4h"

[[route.routes]]
matchers = ['severity="page"']
receiver = "oncall"
continue = true

[[route.routes]]
matchers = ['service=~"pay.*"']
receiver = "payments"
group_by = ["..."]

[[receivers]]
name = "team"

[[receivers]]
name = "oncall"

[[receivers]]
name = "payments"

[[inhibit_rules]]
source_matchers = ['severity="critical"']
target_matchers = ['severity="warning"']
equal = ["alertname"]
"#;

struct Am {
    app: Router,
    _dir: tempfile::TempDir,
}

fn am() -> Am {
    am_with(AlertingConfig::from_toml_str(CONFIG).unwrap())
}

fn am_with(cfg: AlertingConfig) -> Am {
    let dir = tempfile::tempdir().unwrap();
    let svc = AlertingService::open(
        &cfg,
        Options {
            dir: dir.path().join("alerting"),
            deliver: Arc::new(Nowhere),
            send_resolved_default: Arc::new(|_| true),
            delivery_timeout: Duration::from_secs(1),
        },
    )
    .unwrap();
    let state = AppState::new(Arc::new(MemStorage::new())).with_alerting(svc);
    Am {
        app: router(state),
        _dir: dir,
    }
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    let (s, _, b) = call(app, Method::GET, uri, &[], "").await;
    (s, b)
}

const JSON: (&str, &str) = ("content-type", "application/json");

async fn post(app: &Router, uri: &str, body: &str) -> (StatusCode, String) {
    let (s, _, b) = call(app, Method::POST, uri, &[JSON], body).await;
    (s, b)
}

/// Replaces the value of every `"key":"…"` with `"key":"…"` (times of
/// now, ids).
fn mask(body: &str, key: &str) -> String {
    let pat = format!("\"{key}\":\"");
    let mut out = String::new();
    let mut rest = body;
    while let Some(i) = rest.find(&pat) {
        out.push_str(&rest[..i + pat.len()]);
        rest = &rest[i + pat.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        out.push('…');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn ms(t: &str) -> i64 {
    super::strfmt::parse_time(t).unwrap().unwrap()
}

const START: &str = "2024-03-01T10:00:00.123Z";
const END: &str = "2099-01-01T00:00:00Z";

async fn seed(app: &Router) {
    let body = format!(
        r#"[{{"labels":{{"alertname":"DiskFull","instance":"db-1:9100","job":"node","severity":"page","cluster":"eu"}},"annotations":{{"summary":"disk <full> & more"}},"generatorURL":"http://prom/graph","startsAt":"{START}","endsAt":"{END}"}},
            {{"labels":{{"alertname":"Pay","service":"payments","severity":"warning"}},"startsAt":"{START}","endsAt":"{END}"}},
            {{"labels":{{"alertname":"Pay","service":"payments","severity":"critical"}},"startsAt":"{START}","endsAt":"{END}"}},
            {{"labels":{{"alertname":"Old"}},"startsAt":"2024-03-01T10:00:00Z","endsAt":"2024-03-01T11:00:00Z"}}]"#
    );
    assert_eq!(
        post(app, "/api/v2/alerts", &body).await,
        (StatusCode::OK, String::new())
    );
}

#[tokio::test]
async fn alerts_are_listed_as_alertmanager_lists_them() {
    let am = am();
    seed(&am.app).await;
    let (status, headers, body) = call(&am.app, Method::GET, "/api/v2/alerts", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(headers[header::VARY], "Origin");
    let (s, e) = (format_ms(ms(START)), format_ms(ms(END)));
    // Sorted by fingerprint; the resolved alert is left out; fingerprints
    // are Alertmanager's (recorded).
    let want = format!(
        concat!(
            r#"[{{"annotations":{{}},"endsAt":"{e}","fingerprint":"182ac5bb5aad7515","receivers":[{{"name":"payments"}}],"startsAt":"{s}","status":{{"inhibitedBy":["ff09f4ac7c8a32ae"],"silencedBy":[],"state":"suppressed"}},"updatedAt":"…","labels":{{"alertname":"Pay","service":"payments","severity":"warning"}}}},"#,
            r#"{{"annotations":{{"summary":"disk \u003cfull\u003e \u0026 more"}},"endsAt":"{e}","fingerprint":"f2b3d07ca5995758","receivers":[{{"name":"oncall"}}],"startsAt":"{s}","status":{{"inhibitedBy":[],"silencedBy":[],"state":"active"}},"updatedAt":"…","generatorURL":"http://prom/graph","labels":{{"alertname":"DiskFull","cluster":"eu","instance":"db-1:9100","job":"node","severity":"page"}}}},"#,
            r#"{{"annotations":{{}},"endsAt":"{e}","fingerprint":"ff09f4ac7c8a32ae","receivers":[{{"name":"payments"}}],"startsAt":"{s}","status":{{"inhibitedBy":[],"silencedBy":[],"state":"active"}},"updatedAt":"…","labels":{{"alertname":"Pay","service":"payments","severity":"critical"}}}}]"#,
            "\n"
        ),
        s = s,
        e = e
    );
    assert_eq!(mask(&body, "updatedAt"), want);
}

fn fingerprints(body: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a["fingerprint"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn alert_filters() {
    let am = am();
    seed(&am.app).await;
    let (warning, disk, critical) = ("182ac5bb5aad7515", "f2b3d07ca5995758", "ff09f4ac7c8a32ae");
    for (query, want) in [
        ("", vec![warning, disk, critical]),
        ("filter=severity%3D%22page%22", vec![disk]),
        (
            "filter=alertname%3DPay&filter=severity%3Dwarning",
            vec![warning],
        ),
        ("filter=a%3Db%2Cc%3Dd", vec![]),
        ("filter=a%21~b", vec![warning, disk, critical]),
        ("receiver=pay.*", vec![warning, critical]),
        ("receiver=pay", vec![]),
        // The last value counts; an empty one is unset.
        ("receiver=xx&receiver=on.*", vec![disk]),
        ("receiver=on.*&receiver=", vec![warning, disk, critical]),
        ("active=false", vec![warning]),
        ("active=maybe", vec![warning]),
        ("active=YES", vec![warning, disk, critical]),
        ("active=", vec![warning, disk, critical]),
        ("active=false&active=true", vec![warning, disk, critical]),
        ("silenced=false&inhibited=false", vec![disk, critical]),
        ("unprocessed=false", vec![warning, disk, critical]),
        // A pair with a bad escape is dropped, as by Go's ParseQuery.
        ("filter=alertname%3DPay%zz", vec![warning, disk, critical]),
    ] {
        let (status, body) = get(&am.app, &format!("/api/v2/alerts?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert_eq!(fingerprints(&body), want, "{query}");
    }
}

#[tokio::test]
async fn filter_errors_are_alertmanagers() {
    let am = am();
    for path in [
        "/api/v2/alerts",
        "/api/v2/alerts/groups",
        "/api/v2/silences",
    ] {
        for (query, want) in [
            ("filter=foo", r#""bad matcher format: foo""#),
            ("filter=", r#""bad matcher format: ""#),
            (
                "filter=%7Ba%3D%22b%22%7D",
                r#""bad matcher format: {a=\"b\"}""#,
            ),
            (
                "filter=a%3D%22b",
                r#""matcher value contains unescaped double quote: \"b""#,
            ),
            (
                "filter=a%3D~%22(%22",
                r#""error parsing regexp: missing closing ): `^(?:()$`""#,
            ),
        ] {
            let (status, body) = get(&am.app, &format!("{path}?{query}")).await;
            assert_eq!(
                (status, body),
                (StatusCode::BAD_REQUEST, format!("{want}\n")),
                "{path}?{query}"
            );
        }
    }
    for path in ["/api/v2/alerts", "/api/v2/alerts/groups"] {
        let (status, body) = get(&am.app, &format!("{path}?receiver=(")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            "\"failed to parse receiver param: error parsing regexp: missing closing ): `^(?:()$`\"\n"
        );
    }
}

#[tokio::test]
async fn groups_are_listed_as_alertmanager_lists_them() {
    let am = am();
    seed(&am.app).await;
    let both = format!(
        r#"[{{"labels":{{"alertname":"Both","severity":"page","service":"payments"}},"startsAt":"{START}","endsAt":"{END}"}}]"#
    );
    assert_eq!(
        post(&am.app, "/api/v2/alerts", &both).await.0,
        StatusCode::OK
    );
    let (status, body) = get(&am.app, "/api/v2/alerts/groups").await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let summary: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            format!(
                "{} {} {}",
                g["receiver"]["name"],
                g["labels"],
                g["alerts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| format!("{}{}", a["fingerprint"], a["receivers"]))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect();
    // As Alertmanager 0.25 listed the same alerts: sorted by group
    // labels, an alert in two groups names both receivers.
    let both_fp = pharos_alerting::fingerprint::fingerprint(&pharos_model::Labels::from_pairs([
        ("alertname", "Both"),
        ("severity", "page"),
        ("service", "payments"),
    ]));
    assert_eq!(
        summary,
        [
            format!(r#""oncall" {{"alertname":"Both"}} "{both_fp}"[{{"name":"oncall"}},{{"name":"payments"}}]"#),
            r#""oncall" {"alertname":"DiskFull","cluster":"eu"} "f2b3d07ca5995758"[{"name":"oncall"}]"#.to_owned(),
            format!(r#""payments" {{"alertname":"Both","service":"payments","severity":"page"}} "{both_fp}"[{{"name":"oncall"}},{{"name":"payments"}}]"#),
            r#""payments" {"alertname":"Pay","service":"payments","severity":"critical"} "ff09f4ac7c8a32ae"[{"name":"payments"}]"#.to_owned(),
            r#""payments" {"alertname":"Pay","service":"payments","severity":"warning"} "182ac5bb5aad7515"[{"name":"payments"}]"#.to_owned(),
        ]
    );
    // Key order of a group.
    assert!(body.starts_with(r#"[{"alerts":[{"annotations":"#), "{body}");
    assert!(
        body.contains(r#"}],"labels":{"alertname":"Both"},"receiver":{"name":"oncall"}},"#),
        "{body}"
    );
    // A receiver filter keeps the groups of that receiver, and each alert
    // names only those.
    let (_, body) = get(
        &am.app,
        "/api/v2/alerts/groups?filter=alertname%3DBoth&receiver=oncall",
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(
        v[0]["alerts"][0]["receivers"],
        serde_json::json!([{"name":"oncall"}])
    );
}

#[tokio::test]
async fn posting_alerts_is_checked_as_alertmanager_checks() {
    let am = am();
    let p = |body: &'static str| post(&am.app, "/api/v2/alerts", body);
    // Recorded from Alertmanager 0.25.
    for (body, status, want) in [
        ("[]", 200, ""),
        ("null", 200, ""),
        (
            "",
            422,
            r#"{"code":602,"message":"alerts in body is required"}"#,
        ),
        (
            " ",
            422,
            r#"{"code":602,"message":"alerts in body is required"}"#,
        ),
        (
            "[{}]",
            422,
            r#"{"code":602,"message":"0.labels in body is required"}"#,
        ),
        (
            r#"[{"labels":null}]"#,
            422,
            r#"{"code":602,"message":"0.labels in body is required"}"#,
        ),
        (
            r#"[{"labels":{"a":"b"},"generatorURL":"foo"}]"#,
            422,
            r#"{"code":601,"message":"0.generatorURL in body must be of type uri: \"foo\""}"#,
        ),
        (
            "{}",
            400,
            r#"{"code":400,"message":"parsing alerts body from \"\" failed, because json: cannot unmarshal object into Go value of type models.PostableAlerts"}"#,
        ),
        (
            "nope",
            400,
            r#"{"code":400,"message":"parsing alerts body from \"\" failed, because invalid character 'o' in literal null (expecting 'u')"}"#,
        ),
        (
            r#"[{"labels":{"a":"b"},"startsAt":"yesterday"}]"#,
            400,
            r#"{"code":400,"message":"parsing alerts body from \"\" failed, because parsing time \"yesterday\" as \"2006-01-02 15:04:05\": cannot parse \"yesterday\" as \"2006\""}"#,
        ),
        (
            r#"[{"labels":{}}]"#,
            400,
            "\"at least one label pair required\"\n",
        ),
        (
            r#"[{"labels":{"a":""}}]"#,
            400,
            "\"at least one label pair required\"\n",
        ),
        (
            r#"[{"labels":{"0a":"b"}}]"#,
            400,
            "\"invalid label set: invalid name \\\"0a\\\"\"\n",
        ),
        (
            r#"[{"labels":{"a":"b"},"annotations":{"0x":"y"}}]"#,
            400,
            "\"invalid annotations: invalid name \\\"0x\\\"\"\n",
        ),
        (
            r#"[{"labels":{"a":"b"},"startsAt":"2024-03-01T10:00:00Z","endsAt":"2024-03-01T09:00:00Z"}]"#,
            400,
            "\"start time must be before end time\"\n",
        ),
        (
            r#"[{"labels":{"a":"b"},"startsAt":"2099-03-01T10:00:00Z"}]"#,
            400,
            "\"start time must be before end time\"\n",
        ),
        (
            r#"[{"labels":{"t1":"x"}},{"labels":{"0a":"b"}},{"labels":{}}]"#,
            400,
            "\"invalid label set: invalid name \\\"0a\\\"; at least one label pair required\"\n",
        ),
        (r#"[{"labels":{"a":"b"}}] trailing"#, 200, ""),
    ] {
        let (s, b) = p(body).await;
        assert_eq!((s.as_u16(), b.as_str()), (status, want), "{body}");
    }
    // The valid alert of a refused batch was taken, without its empty
    // label.
    let (_, body) = get(&am.app, "/api/v2/alerts?filter=t1%3Dx").await;
    assert!(body.contains(r#""labels":{"t1":"x"}"#), "{body}");
    // Content types.
    for (ct, ok) in [
        ("application/json; charset=utf-8", true),
        ("APPLICATION/JSON", true),
        ("text/plain", false),
    ] {
        let (s, _, b) = call(
            &am.app,
            Method::POST,
            "/api/v2/alerts",
            &[("content-type", ct)],
            "[]",
        )
        .await;
        if ok {
            assert_eq!(s, StatusCode::OK, "{ct}");
        } else {
            assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}");
            assert_eq!(
                b,
                r#"{"code":415,"message":"unsupported media type \"text/plain\", only [application/json] are allowed"}"#
            );
        }
    }
    let (s, _, b) = call(&am.app, Method::POST, "/api/v2/alerts", &[], "[]").await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(b.contains(r#"\"application/octet-stream\""#), "{b}");
}

#[tokio::test]
async fn a_posted_alert_gets_alertmanagers_defaults() {
    let am = am();
    let before = now_ms();
    assert_eq!(
        post(&am.app, "/api/v2/alerts", r#"[{"labels":{"a":"b"}}]"#)
            .await
            .0,
        StatusCode::OK
    );
    let (_, body) = get(&am.app, "/api/v2/alerts").await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let t = |k: &str| ms(v[0][k].as_str().unwrap());
    assert!(
        t("startsAt") >= before && t("startsAt") == t("updatedAt"),
        "{body}"
    );
    assert_eq!(t("endsAt") - t("startsAt"), 5 * 60 * 1000, "{body}");
    assert_eq!(v[0]["receivers"], serde_json::json!([{"name":"team"}]));
    assert!(v[0].get("generatorURL").is_none());
}

fn silence(matchers: &str, start: &str, end: &str, comment: &str) -> String {
    format!(
        r#"{{"matchers":{matchers},"startsAt":"{start}","endsAt":"{end}","createdBy":"me","comment":"{comment}"}}"#
    )
}

async fn create(app: &Router, body: &str) -> String {
    let (s, b) = post(app, "/api/v2/silences", body).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert!(
        b.starts_with(r#"{"silenceID":""#) && b.ends_with("\"}\n"),
        "{b}"
    );
    v["silenceID"].as_str().unwrap().to_owned()
}

const M: &str = r#"[{"name":"alertname","value":"Pay","isRegex":false}]"#;

#[tokio::test]
async fn silences_are_created_listed_and_expired() {
    let am = am();
    seed(&am.app).await;
    let id = create(
        &am.app,
        &silence(M, "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "c"),
    )
    .await;
    assert!(super::strfmt::is_uuid(&id), "{id}");
    let (status, headers, body) = call(
        &am.app,
        Method::GET,
        &format!("/api/v2/silence/{id}"),
        &[],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    // A start in the past moved to now; keys in Alertmanager's order.
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["startsAt"], v["updatedAt"], "{body}");
    let masked = mask(&mask(&body, "updatedAt"), "startsAt");
    assert_eq!(
        masked,
        format!(
            r#"{{"id":"{id}","status":{{"state":"active"}},"updatedAt":"…","comment":"c","createdBy":"me","endsAt":"{}","matchers":[{{"isEqual":true,"isRegex":false,"name":"alertname","value":"Pay"}}],"startsAt":"…"}}{}"#,
            format_ms(ms("2099-01-01T00:00:00Z")),
            "\n"
        )
    );
    // The alerts it matches are suppressed.
    let (_, body) = get(&am.app, "/api/v2/alerts?filter=alertname%3DPay").await;
    assert_eq!(
        body.matches(&format!(r#""silencedBy":["{id}"],"state":"suppressed""#))
            .count(),
        2,
        "{body}"
    );
    let (_, body) = get(&am.app, "/api/v2/alerts?silenced=false").await;
    assert_eq!(fingerprints(&body), ["f2b3d07ca5995758"]);
    // Expired: the alerts come back; expiring again changes nothing.
    let del = call(
        &am.app,
        Method::DELETE,
        &format!("/api/v2/silence/{id}"),
        &[],
        "",
    )
    .await;
    assert_eq!((del.0, del.2.as_str()), (StatusCode::OK, ""));
    assert!(del.1.get(header::CONTENT_TYPE).is_none());
    tokio::time::sleep(Duration::from_millis(2)).await;
    let (_, before) = get(&am.app, &format!("/api/v2/silence/{id}")).await;
    assert!(before.contains(r#""state":"expired""#), "{before}");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let del = call(
        &am.app,
        Method::DELETE,
        &format!("/api/v2/silence/{id}"),
        &[],
        "",
    )
    .await;
    assert_eq!(del.0, StatusCode::OK);
    assert_eq!(
        get(&am.app, &format!("/api/v2/silence/{id}")).await.1,
        before
    );
    let (_, body) = get(&am.app, "/api/v2/alerts?silenced=false&inhibited=false").await;
    assert_eq!(
        fingerprints(&body),
        ["f2b3d07ca5995758", "ff09f4ac7c8a32ae"]
    );
}

#[tokio::test]
async fn silences_list_in_alertmanagers_order_and_filter_by_matcher() {
    let am = am();
    let m = |v: &str| format!(r#"[{{"name":"s","value":"{v}","isRegex":false}}]"#);
    let a1 = create(
        &am.app,
        &silence(
            &m("a1"),
            "2020-01-01T00:00:00Z",
            "2099-01-01T00:00:00Z",
            "a1",
        ),
    )
    .await;
    create(
        &am.app,
        &silence(
            &m("a2"),
            "2020-01-01T00:00:00Z",
            "2098-01-01T00:00:00Z",
            "a2",
        ),
    )
    .await;
    create(
        &am.app,
        &silence(
            &m("p1"),
            "2097-01-01T00:00:00Z",
            "2099-01-01T00:00:00Z",
            "p1",
        ),
    )
    .await;
    create(
        &am.app,
        &silence(
            &m("p2"),
            "2096-01-01T00:00:00Z",
            "2099-01-01T00:00:00Z",
            "p2",
        ),
    )
    .await;
    let e1 = create(
        &am.app,
        &silence(
            &m("e1"),
            "2020-01-01T00:00:00Z",
            "2099-01-01T00:00:00Z",
            "e1",
        ),
    )
    .await;
    let e2 = create(
        &am.app,
        &silence(
            &m("e2"),
            "2020-01-01T00:00:00Z",
            "2099-01-01T00:00:00Z",
            "e2",
        ),
    )
    .await;
    create(
        &am.app,
        &silence(
            r#"[{"name":"severity","value":"warn.*","isRegex":true,"isEqual":false}]"#,
            "2020-01-01T00:00:00Z",
            "2097-06-01T00:00:00Z",
            "re",
        ),
    )
    .await;
    for id in [&e1, &e2] {
        call(
            &am.app,
            Method::DELETE,
            &format!("/api/v2/silence/{id}"),
            &[],
            "",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let comments = |body: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["comment"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, body) = get(&am.app, "/api/v2/silences").await;
    // Active by end, pending by start, expired latest end first.
    assert_eq!(comments(&body), ["re", "a2", "a1", "p2", "p1", "e2", "e1"]);
    for (filter, want) in [
        ("s%3Da1", vec!["a1"]),
        ("s%3D%22a1%22", vec!["a1"]),
        ("s%3D~a.%2A", vec![]),
        ("s%21%3Da1", vec![]),
        ("severity%21~warn.%2A", vec!["re"]),
        ("severity%3D~warn.%2A", vec![]),
        ("x%3D", vec![]),
    ] {
        let (s, body) = get(&am.app, &format!("/api/v2/silences?filter={filter}")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(comments(&body), want, "{filter}");
    }
    let (_, body) = get(&am.app, &format!("/api/v2/silence/{a1}")).await;
    assert!(
        body.contains(r#""matchers":[{"isEqual":true,"isRegex":false,"name":"s","value":"a1"}]"#)
    );
}

#[tokio::test]
async fn silence_updates_and_refusals_are_alertmanagers() {
    let am = am();
    let id = create(
        &am.app,
        &silence(M, "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "c"),
    )
    .await;
    // Same matchers, same start: updated in place.
    let (_, got) = get(&am.app, &format!("/api/v2/silence/{id}")).await;
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    let start = v["startsAt"].as_str().unwrap();
    let update = format!(
        r#"{{"id":"{id}","matchers":{M},"startsAt":"{start}","endsAt":"2098-01-01T00:00:00Z","createdBy":"me","comment":"upd"}}"#
    );
    assert_eq!(create(&am.app, &update).await, id);
    // Other matchers: a new silence, the old one expired.
    let other = format!(
        r#"{{"id":"{id}","matchers":[{{"name":"alertname","value":"Other","isRegex":false}}],"startsAt":"{start}","endsAt":"2098-01-01T00:00:00Z","createdBy":"me","comment":"new"}}"#
    );
    let new = create(&am.app, &other).await;
    assert_ne!(new, id);
    // Expired now: past its end from the next millisecond on.
    tokio::time::sleep(Duration::from_millis(2)).await;
    assert!(
        get(&am.app, &format!("/api/v2/silence/{id}"))
            .await
            .1
            .contains(r#""state":"expired""#)
    );

    let msg = |s: &str| format!("{}\n", serde_json::Value::String(s.to_owned()));
    for (body, status, want) in [
        (
            silence(M, "2099-01-01T00:00:00Z", "2098-01-01T00:00:00Z", "c"),
            400,
            msg("Failed to create silence: start time must be before end time"),
        ),
        (
            silence(M, "2098-01-01T00:00:00Z", "2098-01-01T00:00:00Z", "c"),
            400,
            msg("Failed to create silence: start time must be before end time"),
        ),
        (
            silence(r#"[{"name":"a","value":"(","isRegex":true}]"#, "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z", "c"),
            400,
            msg("Failed to create silence: end time can't be in the past"),
        ),
        (
            r#"{"id":"nope","matchers":[{"name":"0a","value":"x","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z","createdBy":"me","comment":"c"}"#.to_owned(),
            404,
            msg("silence not found"),
        ),
        (
            silence(r#"[{"name":"a","value":"","isRegex":false}]"#, "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "c"),
            400,
            msg("silence invalid: at least one matcher must not match the empty string"),
        ),
        (
            silence(r#"[{"name":"0a","value":"x","isRegex":false}]"#, "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "c"),
            400,
            msg(r#"silence invalid: invalid label matcher 0: invalid label name "0a""#),
        ),
        (
            silence(r#"[{"name":"a","value":"(","isRegex":true}]"#, "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "c"),
            400,
            msg(r#"silence invalid: invalid label matcher 0: invalid regular expression "(": error parsing regexp: missing closing ): `(`"#),
        ),
        (
            silence("[]", "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "c"),
            422,
            r#"{"code":612,"message":"matchers in body should have at least 1 items"}"#.to_owned(),
        ),
        ("{}".to_owned(), 422, r#"{"code":602,"message":"comment in body is required"}"#.to_owned()),
        ("".to_owned(), 422, r#"{"code":602,"message":"silence in body is required"}"#.to_owned()),
    ] {
        let (s, b) = post(&am.app, "/api/v2/silences", &body).await;
        assert_eq!((s.as_u16(), b), (status, want), "{body}");
    }
    // A zero start (Go's zero time) is now.
    let zero = create(
        &am.app,
        &silence(
            r#"[{"name":"a","value":"x","isRegex":true,"isEqual":false}]"#,
            "0001-01-01T00:00:00Z",
            "2099-01-01T00:00:00Z",
            "z",
        ),
    )
    .await;
    let (_, body) = get(&am.app, &format!("/api/v2/silence/{zero}")).await;
    assert!(
        body.contains(r#""matchers":[{"isEqual":false,"isRegex":true,"name":"a","value":"x"}]"#),
        "{body}"
    );
}

#[tokio::test]
async fn silence_ids_in_paths() {
    let am = am();
    let unknown = "00000000-0000-0000-0000-000000000000";
    let (s, h, b) = call(
        &am.app,
        Method::GET,
        &format!("/api/v2/silence/{unknown}"),
        &[],
        "",
    )
    .await;
    assert_eq!((s, b.as_str()), (StatusCode::NOT_FOUND, ""));
    assert!(h.get(header::CONTENT_TYPE).is_none());
    let (s, _, b) = call(
        &am.app,
        Method::DELETE,
        &format!("/api/v2/silence/{unknown}"),
        &[],
        "",
    )
    .await;
    assert_eq!(
        (s, b.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "\"silence not found\"\n")
    );
    for (id, shown) in [
        ("abc", "abc"),
        (
            "6c3947fb-a66c-4cdb-af8d-525e41a4f34e%0A",
            "6c3947fb-a66c-4cdb-af8d-525e41a4f34e\\\\n",
        ),
    ] {
        for m in [Method::GET, Method::DELETE] {
            let (s, _, b) = call(&am.app, m, &format!("/api/v2/silence/{id}"), &[], "").await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(
                b,
                format!(
                    r#"{{"code":601,"message":"silenceID in path must be of type uuid: \"{shown}\""}}"#
                )
            );
        }
    }
    // Dashes are optional and the case is kept (no such silence).
    let (s, _) = get(&am.app, "/api/v2/silence/6C3947FBA66C4CDBAF8D525E41A4F34E").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn status_and_receivers() {
    let am = am();
    let (s, body) = get(&am.app, "/api/v2/receivers").await;
    assert_eq!(
        (s, body.as_str()),
        (
            StatusCode::OK,
            "[{\"name\":\"team\"},{\"name\":\"oncall\"},{\"name\":\"payments\"}]\n"
        )
    );
    let (s, body) = get(&am.app, "/api/v2/status").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.starts_with(
            r#"{"cluster":{"peers":[],"status":"disabled"},"config":{"original":"global:"#
        ),
        "{body}"
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let started = ms(v["uptime"].as_str().unwrap());
    assert!((now_ms() - started).abs() < 60_000, "{body}");
    let info = &v["versionInfo"];
    let keys: Vec<&String> = info.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "branch",
            "buildDate",
            "buildUser",
            "goVersion",
            "revision",
            "version"
        ]
    );
    assert_eq!(
        info["version"],
        format!("0.25.0+pharos.{}", crate::build_info::VERSION)
    );
    let original = v["config"]["original"].as_str().unwrap();
    assert!(original.contains("receiver: payments"), "{original}");
    assert!(
        body.contains(r#"},"uptime":""#) && body.contains(r#"","versionInfo":{"branch":"#),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_paths_methods_and_cors() {
    let am = am();
    let (s, h, b) = call(&am.app, Method::GET, "/api/v2/nope", &[], "").await;
    assert_eq!(
        (s, b.as_str()),
        (
            StatusCode::NOT_FOUND,
            r#"{"code":404,"message":"path /api/v2/nope was not found"}"#
        )
    );
    assert_eq!(h[header::CONTENT_TYPE], "application/json");
    let (s, h, b) = call(&am.app, Method::PUT, "/api/v2/alerts", &[], "").await;
    assert_eq!(
        (s, b.as_str()),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            r#"{"code":405,"message":"method PUT is not allowed, but [GET,POST] are"}"#
        )
    );
    assert_eq!(h[header::ALLOW], "GET,POST");
    let (s, h, _) = call(&am.app, Method::PUT, "/api/v2/silence/x", &[], "").await;
    assert_eq!(
        (s, &h[header::ALLOW]),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            &HeaderValue::from_static("DELETE,GET")
        )
    );
    let (s, h, _) = call(&am.app, Method::HEAD, "/api/v2/status", &[], "").await;
    // (A HEAD answer has no body, in Go's server as in hyper.)
    assert_eq!(
        (s, &h[header::ALLOW]),
        (
            StatusCode::METHOD_NOT_ALLOWED,
            &HeaderValue::from_static("GET")
        )
    );
    // Trailing slashes are accepted.
    assert_eq!(get(&am.app, "/api/v2/receivers/").await.0, StatusCode::OK);
    assert_eq!(
        get(
            &am.app,
            "/api/v2/silence/6c3947fb-a66c-4cdb-af8d-525e41a4f34e/"
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // CORS as Alertmanager's.
    let (_, h, _) = call(
        &am.app,
        Method::GET,
        "/api/v2/receivers",
        &[("origin", "http://x")],
        "",
    )
    .await;
    assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let pre = |m: &'static str, hdrs: &'static str| {
        let app = am.app.clone();
        async move {
            let mut h = vec![("origin", "http://x"), ("access-control-request-method", m)];
            if !hdrs.is_empty() {
                h.push(("access-control-request-headers", hdrs));
            }
            let (s, h, b) = call(&app, Method::OPTIONS, "/api/v2/alerts", &h, "").await;
            assert_eq!((s, b.as_str()), (StatusCode::OK, ""));
            let get = |k: header::HeaderName| h.get(k).map(|v| v.to_str().unwrap().to_owned());
            (
                get(header::ACCESS_CONTROL_ALLOW_METHODS),
                get(header::ACCESS_CONTROL_ALLOW_HEADERS),
                h.get_all(header::VARY).iter().count(),
            )
        }
    };
    assert_eq!(pre("POST", "").await, (Some("POST".into()), None, 3));
    assert_eq!(pre("DELETE", "").await, (None, None, 3));
    assert_eq!(
        pre("GET", "content-type,ACCEPT").await,
        (Some("GET".into()), Some("Content-Type, Accept".into()), 3)
    );
    assert_eq!(pre("GET", "authorization").await, (None, None, 3));
    let (s, _, _) = call(&am.app, Method::OPTIONS, "/api/v2/alerts", &[], "").await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn without_a_route_alerts_are_kept_for_no_receiver() {
    // What the server runs without [alerting].
    let am = am_with(AlertingConfig::default());
    assert_eq!(
        post(&am.app, "/api/v2/alerts", r#"[{"labels":{"a":"b"}}]"#)
            .await
            .0,
        StatusCode::OK
    );
    let (_, body) = get(&am.app, "/api/v2/alerts").await;
    assert!(body.contains(r#""receivers":[],"#), "{body}");
    assert_eq!(get(&am.app, "/api/v2/alerts/groups").await.1, "[]\n");
    assert_eq!(get(&am.app, "/api/v2/receivers").await.1, "[]\n");
}

#[tokio::test]
async fn without_the_alerting_service_503() {
    let app = router(AppState::new(Arc::new(MemStorage::new())));
    for path in [
        "/api/v2/alerts",
        "/api/v2/status",
        "/api/v2/silences",
        "/api/v2/receivers",
    ] {
        let (s, b) = get(&app, path).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(b.contains("not running"), "{b}");
    }
}

#[test]
fn queries_read_as_go_reads_them() {
    let q = Query::parse(Some(
        "a=1&a=2&b=&c=x+y%21&bad=%zz&semi=1;2&&filter=a%3Db&filter=c%3Dd",
    ));
    assert_eq!(q.last("a"), Some("2"));
    assert_eq!(q.last("b"), None);
    assert_eq!(q.last("c"), Some("x y!"));
    assert_eq!(q.last("bad"), None);
    assert_eq!(q.last("semi"), None);
    assert_eq!(q.all("filter").collect::<Vec<_>>(), ["a=b", "c=d"]);
    for (v, want) in [
        ("true", true),
        ("1", true),
        ("Yes", true),
        ("ok", true),
        ("y", true),
        ("on", true),
        ("selected", true),
        ("checked", true),
        ("t", true),
        ("ENABLED", true),
        ("0", false),
        ("no", false),
        ("false", false),
        ("maybe", false),
    ] {
        assert_eq!(
            Query::parse(Some(&format!("x={v}"))).flag("x", !want),
            want,
            "{v}"
        );
    }
    assert!(Query::parse(Some("x=")).flag("x", true));
    assert!(!Query::parse(None).flag("x", false));
}
