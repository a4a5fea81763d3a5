//! Alertmanager's template functions and data model: the functions
//! (`toUpper toLower title join match safeHtml reReplaceAll stringSlice
//! date tz since humanizeDuration trimSpace`), the methods on its types
//! (`KV.SortedPairs/Names/Values/Remove`, `Pairs.Names/Values`,
//! `Alerts.Firing/Resolved`, and `time.Time`/`time.Duration` methods), and
//! builders for its notification data ([`Data`], [`Alert`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Func, FuncMap, Param, arg_str};
use crate::value::{ListKind, MapKind, Struct, Value};

/// Alertmanager's function family.
pub fn funcs() -> FuncMap {
    use Param::{Any, String as S, Time};
    let mut m = FuncMap::new();
    m.insert(
        "toUpper",
        Func::simple(vec![S], |a| Ok(Value::from(arg_str(&a, 0).to_uppercase()))),
    );
    m.insert(
        "toLower",
        Func::simple(vec![S], |a| Ok(Value::from(arg_str(&a, 0).to_lowercase()))),
    );
    m.insert(
        "title",
        Func::simple(vec![S], |a| {
            Ok(Value::from(super::prometheus::title(&arg_str(&a, 0))))
        }),
    );
    m.insert(
        "join",
        Func::simple(vec![S, Param::Named("[]string")], |a| {
            let sep = arg_str(&a, 0);
            let items: Vec<String> = match &a[1] {
                Value::List(l) => l
                    .items
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect(),
                _ => Vec::new(),
            };
            Ok(Value::from(items.join(&sep)))
        }),
    );
    m.insert(
        "match",
        Func::simple(vec![S, S], |a| {
            super::prometheus::re_match(&arg_str(&a, 0), &arg_str(&a, 1)).map(Value::Bool)
        }),
    );
    m.insert(
        "safeHtml",
        Func::simple(vec![S], |a| Ok(Value::Html(arg_str(&a, 0).into()))),
    );
    m.insert(
        "reReplaceAll",
        Func::simple(vec![S, S, S], |a| {
            super::prometheus::re_replace_all(&arg_str(&a, 0), &arg_str(&a, 1), &arg_str(&a, 2))
                .map(Value::from)
        }),
    );
    m.insert(
        "stringSlice",
        Func::variadic(vec![S], |_, a| Ok(Value::list(ListKind::Strings, a))),
    );
    m.insert(
        "date",
        Func::simple(vec![S, Time], |a| match &a[1] {
            Value::Time(t) => Ok(Value::from(crate::gotime::format(t, &arg_str(&a, 0)))),
            _ => Err("invalid time".into()),
        }),
    );
    m.insert(
        "tz",
        Func::simple(vec![S, Time], |a| {
            let name = arg_str(&a, 0);
            let tz = load_location(&name)?;
            match &a[1] {
                Value::Time(t) => Ok(Value::Time(Arc::new(t.with_time_zone(tz)))),
                _ => Err("invalid time".into()),
            }
        }),
    );
    m.insert(
        "since",
        Func::simple(vec![Time], |a| match &a[0] {
            Value::Time(t) => {
                let now = jiff::Timestamp::now();
                let d = now.as_nanosecond() - t.timestamp().as_nanosecond();
                Ok(Value::Duration(
                    d.clamp(i64::MIN as i128, i64::MAX as i128) as i64
                ))
            }
            _ => Err("invalid time".into()),
        }),
    );
    m.insert(
        "humanizeDuration",
        Func::simple(vec![Any], |a| {
            let v = match &a[0] {
                Value::Duration(d) => *d as f64 / 1e9,
                other => super::prometheus::to_float(other)?,
            };
            Ok(Value::from(super::prometheus::humanize_duration(v)))
        }),
    );
    m.insert(
        "trimSpace",
        Func::simple(vec![S], |a| {
            Ok(Value::from(arg_str(&a, 0).trim().to_string()))
        }),
    );
    m
}

/// Go's `time.LoadLocation`.
fn load_location(name: &str) -> Result<jiff::tz::TimeZone, String> {
    match name {
        "" | "UTC" => Ok(jiff::tz::TimeZone::UTC),
        "Local" => Ok(jiff::tz::TimeZone::system()),
        _ => jiff::tz::TimeZone::get(name).map_err(|_| format!("unknown time zone {name}")),
    }
}

fn str_list(items: Vec<String>) -> Value {
    Value::list(
        ListKind::Strings,
        items.into_iter().map(Value::from).collect(),
    )
}

fn pair(name: &str, value: &Value) -> Value {
    Value::Struct(Arc::new(Struct::new(
        "template.Pair",
        vec![
            ("Name".into(), Value::from(name)),
            ("Value".into(), value.clone()),
        ],
    )))
}

/// `KV.SortedPairs`: `alertname` first, then the other keys sorted.
fn sorted_pairs(m: &BTreeMap<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::with_capacity(m.len());
    if let Some(v) = m.get("alertname") {
        out.push(("alertname".to_string(), v.clone()));
    }
    out.extend(
        m.iter()
            .filter(|(k, _)| *k != "alertname")
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    out
}

fn method0(f: impl Fn() -> Result<Value, String> + Send + Sync + 'static) -> Func {
    Func::simple(vec![], move |_| f())
}

/// The method `name` of `recv`, bound to it, if its type has one.
pub(crate) fn method(recv: &Value, name: &str) -> Option<Func> {
    match recv {
        Value::Map(m) if m.kind == MapKind::Kv => {
            let m = m.clone();
            match name {
                "SortedPairs" => Some(method0(move || {
                    let pairs = sorted_pairs(&m.entries)
                        .iter()
                        .map(|(k, v)| pair(k, v))
                        .collect();
                    Ok(Value::list(ListKind::Pairs, pairs))
                })),
                "Names" => Some(method0(move || {
                    Ok(str_list(
                        sorted_pairs(&m.entries)
                            .into_iter()
                            .map(|(k, _)| k)
                            .collect(),
                    ))
                })),
                "Values" => Some(method0(move || {
                    Ok(Value::list(
                        ListKind::Strings,
                        sorted_pairs(&m.entries)
                            .into_iter()
                            .map(|(_, v)| v)
                            .collect(),
                    ))
                })),
                "Remove" => Some(Func::simple(vec![Param::Named("[]string")], move |a| {
                    let mut entries = m.entries.clone();
                    if let Value::List(l) = &a[0] {
                        for k in &l.items {
                            if let Some(k) = k.as_str() {
                                entries.remove(k);
                            }
                        }
                    }
                    Ok(Value::map(MapKind::Kv, entries))
                })),
                _ => None,
            }
        }
        Value::List(l) if l.kind == ListKind::Pairs => {
            let l = l.clone();
            let field = match name {
                "Names" => "Name",
                "Values" => "Value",
                _ => return None,
            };
            Some(method0(move || {
                Ok(Value::list(
                    ListKind::Strings,
                    l.items
                        .iter()
                        .map(|p| match p {
                            Value::Struct(s) => s.field(field).cloned().unwrap_or_default(),
                            _ => Value::Missing,
                        })
                        .collect(),
                ))
            }))
        }
        Value::List(l) if l.kind == ListKind::Alerts => {
            let want = match name {
                "Firing" => "firing",
                "Resolved" => "resolved",
                _ => return None,
            };
            let l = l.clone();
            Some(method0(move || {
                Ok(Value::list(
                    ListKind::Alerts,
                    l.items
                        .iter()
                        .filter(|a| match a {
                            Value::Struct(s) => {
                                s.field("Status").and_then(Value::as_str) == Some(want)
                            }
                            _ => false,
                        })
                        .cloned()
                        .collect(),
                ))
            }))
        }
        Value::Time(t) => time_method(t.clone(), name),
        Value::Duration(d) => {
            let d = *d;
            match name {
                "String" => Some(method0(move || {
                    Ok(Value::from(crate::gotime::duration_string(d)))
                })),
                "Seconds" => Some(method0(move || Ok(Value::Float(d as f64 / 1e9)))),
                "Minutes" => Some(method0(move || Ok(Value::Float(d as f64 / 6e10)))),
                "Hours" => Some(method0(move || Ok(Value::Float(d as f64 / 3.6e12)))),
                "Milliseconds" => Some(method0(move || Ok(Value::Int(d / 1_000_000)))),
                _ => None,
            }
        }
        Value::Object(o) => o.method(name),
        _ => None,
    }
}

fn time_method(t: Arc<jiff::Zoned>, name: &str) -> Option<Func> {
    Some(match name {
        "Format" => Func::simple(vec![Param::String], move |a| {
            Ok(Value::from(crate::gotime::format(&t, &arg_str(&a, 0))))
        }),
        "String" => method0(move || Ok(Value::from(crate::gotime::time_string(&t)))),
        "Unix" => method0(move || Ok(Value::Int(t.timestamp().as_second()))),
        "UnixMilli" => method0(move || Ok(Value::Int(t.timestamp().as_millisecond()))),
        "UnixNano" => method0(move || Ok(Value::Int(t.timestamp().as_nanosecond() as i64))),
        "UTC" => method0(move || {
            Ok(Value::Time(Arc::new(
                t.with_time_zone(jiff::tz::TimeZone::UTC),
            )))
        }),
        "Local" => method0(move || {
            Ok(Value::Time(Arc::new(
                t.with_time_zone(jiff::tz::TimeZone::system()),
            )))
        }),
        "IsZero" => method0(move || Ok(Value::Bool(t.timestamp() == go_zero_time()))),
        "Year" => method0(move || Ok(Value::Int(t.year() as i64))),
        "Day" => method0(move || Ok(Value::Int(t.day() as i64))),
        "Hour" => method0(move || Ok(Value::Int(t.hour() as i64))),
        "Minute" => method0(move || Ok(Value::Int(t.minute() as i64))),
        "Second" => method0(move || Ok(Value::Int(t.second() as i64))),
        _ => return None,
    })
}

/// Go's zero `time.Time` (January 1, year 1, 00:00:00 UTC).
pub fn go_zero_time() -> jiff::Timestamp {
    jiff::Timestamp::from_second(-62_135_596_800).unwrap_or(jiff::Timestamp::MIN)
}

/// A label or annotation set as Alertmanager's `template.KV`.
pub fn kv<K: Into<String>, V: Into<String>>(entries: impl IntoIterator<Item = (K, V)>) -> Value {
    Value::map(
        MapKind::Kv,
        entries
            .into_iter()
            .map(|(k, v)| (k.into(), Value::from(v.into())))
            .collect(),
    )
}

fn time_value(ts: jiff::Timestamp) -> Value {
    Value::time(ts, jiff::tz::TimeZone::UTC)
}

/// One alert of a notification (Alertmanager's `template.Alert`).
#[derive(Debug, Clone, Default)]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: String,
    /// The alert's labels.
    pub labels: BTreeMap<String, String>,
    /// The alert's annotations.
    pub annotations: BTreeMap<String, String>,
    /// When it started.
    pub starts_at: Option<jiff::Timestamp>,
    /// When it ended (None: Go's zero time).
    pub ends_at: Option<jiff::Timestamp>,
    /// Link to the alert's source.
    pub generator_url: String,
    /// The alert's fingerprint (16 hex digits).
    pub fingerprint: String,
}

impl Alert {
    /// The template value (`template.Alert`).
    pub fn to_value(&self) -> Value {
        let zero = go_zero_time();
        Value::Struct(Arc::new(Struct::new(
            "template.Alert",
            vec![
                ("Status".into(), Value::from(self.status.as_str())),
                ("Labels".into(), kv(self.labels.clone())),
                ("Annotations".into(), kv(self.annotations.clone())),
                (
                    "StartsAt".into(),
                    time_value(self.starts_at.unwrap_or(zero)),
                ),
                ("EndsAt".into(), time_value(self.ends_at.unwrap_or(zero))),
                (
                    "GeneratorURL".into(),
                    Value::from(self.generator_url.as_str()),
                ),
                ("Fingerprint".into(), Value::from(self.fingerprint.as_str())),
            ],
        )))
    }
}

/// A notification's data (Alertmanager's `template.Data`): what `.` is in
/// notification templates.
#[derive(Debug, Clone, Default)]
pub struct Data {
    /// The receiver's name.
    pub receiver: String,
    /// `firing` if any alert fires, else `resolved`.
    pub status: String,
    /// The group's alerts.
    pub alerts: Vec<Alert>,
    /// The labels the group is keyed by.
    pub group_labels: BTreeMap<String, String>,
    /// Labels all alerts share.
    pub common_labels: BTreeMap<String, String>,
    /// Annotations all alerts share.
    pub common_annotations: BTreeMap<String, String>,
    /// Alertmanager's external URL.
    pub external_url: String,
}

impl Data {
    /// The template value (`template.Data`).
    pub fn to_value(&self) -> Value {
        Value::Struct(Arc::new(Struct::new(
            "*template.Data",
            vec![
                ("Receiver".into(), Value::from(self.receiver.as_str())),
                ("Status".into(), Value::from(self.status.as_str())),
                (
                    "Alerts".into(),
                    Value::list(
                        ListKind::Alerts,
                        self.alerts.iter().map(Alert::to_value).collect(),
                    ),
                ),
                ("GroupLabels".into(), kv(self.group_labels.clone())),
                ("CommonLabels".into(), kv(self.common_labels.clone())),
                (
                    "CommonAnnotations".into(),
                    kv(self.common_annotations.clone()),
                ),
                (
                    "ExternalURL".into(),
                    Value::from(self.external_url.as_str()),
                ),
            ],
        )))
    }
}
