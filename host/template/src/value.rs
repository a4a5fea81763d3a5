//! The data model templates run on: a [`Value`] stands for a Go value as
//! seen through `reflect`, with enough type information to reproduce Go's
//! messages (`wrong type for value; expected string; got float64`).
//!
//! Callers build data from the constructors here (`Value::from`,
//! [`Value::string_map`], [`Value::list`], [`Struct`]) and can attach their
//! own fields and methods through the [`Object`] trait. Alertmanager's
//! method-carrying types (`template.KV`, `template.Pairs`,
//! `template.Alerts`) are built in: see [`MapKind`] and [`ListKind`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::funcs::Func;

/// A Go value.
#[derive(Clone, Default)]
pub enum Value {
    /// Go's invalid `reflect.Value`: a missing map key or field of nil
    /// data. Prints as `<no value>`.
    #[default]
    Missing,
    /// An untyped nil (`nil` literal, nil interface). Prints as `<nil>`.
    Nil,
    /// `bool`.
    Bool(bool),
    /// `int`.
    Int(i64),
    /// `float64`.
    Float(f64),
    /// `string`.
    String(Arc<str>),
    /// `html/template.HTML` (what `safeHtml` returns): a string kind that
    /// is not assignable to `string` parameters.
    Html(Arc<str>),
    /// `time.Time`.
    Time(Arc<jiff::Zoned>),
    /// `time.Duration`, in nanoseconds.
    Duration(i64),
    /// A slice.
    List(Arc<List>),
    /// A map with string keys (iterated in sorted key order, as Go's
    /// template `range` and `fmt` do).
    Map(Arc<Map>),
    /// A struct (or pointer to struct).
    Struct(Arc<Struct>),
    /// A caller-defined value with fields and methods.
    Object(Arc<dyn Object>),
    /// A function value (usable with `call`).
    Func(Arc<Func>),
}

/// A slice and its Go type.
#[derive(Debug, Clone, Default)]
pub struct List {
    /// The elements.
    pub items: Vec<Value>,
    /// Which Go slice type this is (decides the type name and methods).
    pub kind: ListKind,
}

/// Go slice types the engine knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ListKind {
    /// `[]interface {}`.
    #[default]
    Any,
    /// `[]string`.
    Strings,
    /// Alertmanager's `template.Alerts` (methods `Firing`, `Resolved`).
    Alerts,
    /// Alertmanager's `template.Pairs` (methods `Names`, `Values`).
    Pairs,
    /// Prometheus' `template.queryResult` (what `query` returns).
    QueryResult,
    /// Any other named slice type.
    Named(String),
}

/// A map with string keys and its Go type.
#[derive(Debug, Clone, Default)]
pub struct Map {
    /// The entries.
    pub entries: BTreeMap<String, Value>,
    /// Which Go map type this is.
    pub kind: MapKind,
}

/// Go map types the engine knows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MapKind {
    /// `map[string]interface {}`.
    #[default]
    Any,
    /// `map[string]string` (Prometheus' `$labels`).
    Strings,
    /// Alertmanager's `template.KV` (methods `SortedPairs`, `Names`,
    /// `Values`, `Remove`).
    Kv,
    /// Any other named map type.
    Named(String),
}

/// A struct value: a Go type name and its fields in declaration order.
#[derive(Debug, Clone)]
pub struct Struct {
    /// Go's type name, e.g. `template.Alert` (used in error messages).
    pub type_name: String,
    /// Fields in declaration order (`%v` prints them in this order).
    pub fields: Vec<(String, Value)>,
    /// Whether this is a pointer to the struct (prints as `&{...}`).
    pub pointer: bool,
}

impl Struct {
    /// A struct value with `fields`.
    pub fn new(type_name: impl Into<String>, fields: Vec<(String, Value)>) -> Self {
        Struct {
            type_name: type_name.into(),
            fields,
            pointer: false,
        }
    }

    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// A caller-defined value: the routing crate can expose its own types with
/// fields and methods without converting them to maps first.
pub trait Object: Send + Sync + fmt::Debug {
    /// Go's type name for messages (`can't evaluate field X in type T`).
    fn type_name(&self) -> String;
    /// A field by name (`.Name`), or `None` if there is no such field.
    fn field(&self, name: &str) -> Option<Value>;
    /// A method by name, bound to this value. Methods are looked up before
    /// fields, as in Go.
    fn method(&self, _name: &str) -> Option<Func> {
        None
    }
    /// The `%v` rendering.
    fn format(&self) -> String {
        format!("{{{}}}", self.type_name())
    }
}

impl Value {
    /// A `map[string]string` value.
    pub fn string_map<K: Into<String>, V: Into<String>>(
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Value {
        Value::Map(Arc::new(Map {
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.into(), Value::String(Arc::from(v.into()))))
                .collect(),
            kind: MapKind::Strings,
        }))
    }

    /// A map of the given kind.
    pub fn map(kind: MapKind, entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Arc::new(Map { entries, kind }))
    }

    /// A slice of the given kind.
    pub fn list(kind: ListKind, items: Vec<Value>) -> Value {
        Value::List(Arc::new(List { items, kind }))
    }

    /// A `[]string`.
    pub fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
        Value::list(
            ListKind::Strings,
            items.into_iter().map(|s| Value::from(s.into())).collect(),
        )
    }

    /// A struct value.
    pub fn structure(s: Struct) -> Value {
        Value::Struct(Arc::new(s))
    }

    /// A `time.Time` at `ts` in `tz`.
    pub fn time(ts: jiff::Timestamp, tz: jiff::tz::TimeZone) -> Value {
        Value::Time(Arc::new(ts.to_zoned(tz)))
    }

    /// Go's type name of this value (`%T`).
    pub fn type_name(&self) -> String {
        match self {
            Value::Missing | Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::Html(_) => "template.HTML".into(),
            Value::Time(_) => "time.Time".into(),
            Value::Duration(_) => "time.Duration".into(),
            Value::List(l) => match &l.kind {
                ListKind::Any => "[]interface {}".into(),
                ListKind::Strings => "[]string".into(),
                ListKind::Alerts => "template.Alerts".into(),
                ListKind::Pairs => "template.Pairs".into(),
                ListKind::QueryResult => "template.queryResult".into(),
                ListKind::Named(n) => n.clone(),
            },
            Value::Map(m) => match &m.kind {
                MapKind::Any => "map[string]interface {}".into(),
                MapKind::Strings => "map[string]string".into(),
                MapKind::Kv => "template.KV".into(),
                MapKind::Named(n) => n.clone(),
            },
            Value::Struct(s) => s.type_name.clone(),
            Value::Object(o) => o.type_name(),
            Value::Func(f) => f.type_name(),
        }
    }

    /// Go's template truth: non-zero numbers, non-empty strings, slices
    /// and maps, non-nil pointers; structs are always true.
    pub fn truth(&self) -> bool {
        match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) | Value::Html(s) => !s.is_empty(),
            Value::Duration(d) => *d != 0,
            Value::List(l) => !l.items.is_empty(),
            Value::Map(m) => !m.entries.is_empty(),
            Value::Time(_) | Value::Struct(_) | Value::Object(_) | Value::Func(_) => true,
        }
    }

    /// The string content if this is a string kind (`string` or `HTML`).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Html(s) => Some(s),
            _ => None,
        }
    }

    /// Whether Go could hold nil in this type (pointer, slice, map,
    /// interface, func).
    pub(crate) fn nillable_type(type_name: &str) -> bool {
        type_name.starts_with('*')
            || type_name.starts_with("[]")
            || type_name.starts_with("map[")
            || type_name.starts_with("func(")
            || type_name == "interface {}"
            || type_name == "error"
            || matches!(
                type_name,
                "template.Alerts" | "template.Pairs" | "template.KV" | "template.queryResult"
            )
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}({})",
            self.type_name(),
            crate::fmt::sprint(std::slice::from_ref(self))
        )
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(Arc::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(Arc::from(s))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Struct> for Value {
    fn from(s: Struct) -> Self {
        Value::structure(s)
    }
}
