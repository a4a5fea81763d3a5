//! Template functions: how a function is declared ([`Func`], with Go
//! parameter types so argument errors read as in Go), the [`FuncMap`]
//! name → function table, and the three families:
//!
//! - [`go`]: text/template's built-ins (`and`, `len`, `printf`, `eq`, ...),
//! - [`prometheus`]: Prometheus 2.42's functions (`humanize`, `query`, ...),
//! - [`alertmanager`]: Alertmanager's (`join`, `date`, `.SortedPairs`, ...).

pub mod alertmanager;
pub mod go;
pub mod prometheus;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::value::Value;

/// A Go parameter type, checked the way `text/template` checks arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// `interface {}`: anything (a missing value becomes nil).
    Any,
    /// `reflect.Value` (the built-ins): anything, but a missing value is
    /// an error.
    Reflect,
    /// `string`.
    String,
    /// `float64`.
    Float,
    /// `int`.
    Int,
    /// `bool`.
    Bool,
    /// `time.Time`.
    Time,
    /// Any other type, by Go name (`[]string`, `*template.sample`, ...):
    /// a value matches when its [`Value::type_name`] is this.
    Named(&'static str),
}

impl Param {
    /// Go's name of the type.
    pub fn go_name(&self) -> &str {
        match self {
            Param::Any => "interface {}",
            Param::Reflect => "reflect.Value",
            Param::String => "string",
            Param::Float => "float64",
            Param::Int => "int",
            Param::Bool => "bool",
            Param::Time => "time.Time",
            Param::Named(n) => n,
        }
    }

    pub(crate) fn nillable(&self) -> bool {
        match self {
            Param::Any => true,
            Param::Named(n) => Value::nillable_type(n),
            _ => false,
        }
    }
}

/// What a function can ask of the running template.
pub trait Context {
    /// Runs the template `name` of the executing set on `data` (for
    /// Prometheus' `tmpl`).
    fn execute_template(&mut self, name: &str, data: Value) -> Result<String, String>;
}

type Imp = dyn Fn(&mut dyn Context, Vec<Value>) -> Result<Value, String> + Send + Sync;

/// A template function: Go parameter types plus the implementation.
/// An `Err(text)` from the implementation becomes Go's
/// `error calling NAME: text`.
#[derive(Clone)]
pub struct Func {
    params: Vec<Param>,
    variadic: bool,
    imp: Arc<Imp>,
}

impl fmt::Debug for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Func({})", self.type_name())
    }
}

impl Func {
    /// A function with fixed parameters.
    pub fn new(
        params: Vec<Param>,
        imp: impl Fn(&mut dyn Context, Vec<Value>) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        Func {
            params,
            variadic: false,
            imp: Arc::new(imp),
        }
    }

    /// A variadic function: the last parameter type is the element type of
    /// the `...` parameter.
    pub fn variadic(
        params: Vec<Param>,
        imp: impl Fn(&mut dyn Context, Vec<Value>) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        Func {
            params,
            variadic: true,
            imp: Arc::new(imp),
        }
    }

    /// A function without context access.
    pub fn simple(
        params: Vec<Param>,
        imp: impl Fn(Vec<Value>) -> Result<Value, String> + Send + Sync + 'static,
    ) -> Self {
        Func::new(params, move |_, a| imp(a))
    }

    /// Parameter types (the last one is the element type if variadic).
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// Whether the last parameter is `...`.
    pub fn is_variadic(&self) -> bool {
        self.variadic
    }

    /// Calls the function on already type-checked arguments.
    pub fn call(&self, ctx: &mut dyn Context, args: Vec<Value>) -> Result<Value, String> {
        (self.imp)(ctx, args)
    }

    /// Go's `func(...)` type name.
    pub fn type_name(&self) -> String {
        let mut ps: Vec<String> = self
            .params
            .iter()
            .map(|p| p.go_name().to_string())
            .collect();
        if self.variadic
            && let Some(last) = ps.last_mut()
        {
            *last = format!("...{last}");
        }
        format!("func({})", ps.join(", "))
    }
}

/// A table of functions by name (Go's `template.FuncMap`).
#[derive(Clone, Default, Debug)]
pub struct FuncMap {
    map: BTreeMap<String, Func>,
}

impl FuncMap {
    /// An empty table.
    pub fn new() -> Self {
        FuncMap::default()
    }

    /// Adds or replaces `name`.
    pub fn insert(&mut self, name: impl Into<String>, f: Func) -> &mut Self {
        self.map.insert(name.into(), f);
        self
    }

    /// Adds every function of `other`, replacing same-named ones.
    pub fn extend(&mut self, other: FuncMap) -> &mut Self {
        self.map.extend(other.map);
        self
    }

    /// The function called `name`.
    pub fn get(&self, name: &str) -> Option<&Func> {
        self.map.get(name)
    }

    /// Whether `name` is defined.
    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The defined names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }
}

/// Shorthand: an argument as a string (type already checked).
pub(crate) fn arg_str(args: &[Value], i: usize) -> String {
    args.get(i)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
