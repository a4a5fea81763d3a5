//! Go's `text/template` for Pharos, with Prometheus' and Alertmanager's
//! template functions.
//!
//! The engine follows Go's `text/template` (the version Prometheus 2.42 is
//! built with): `{{ }}` actions with `{{-`/`-}}` trimming, comments,
//! pipelines, variables, `if`/`else if`/`range`/`with`/`break`/`continue`,
//! `define`/`template`/`block`, Go's truth rules, Go's `fmt` rendering of
//! values and Go's error texts. Expected outputs in the tests are recorded
//! from a real Prometheus 2.42 (`testdata/record.sh`).
//!
//! ```
//! use pharos_template::{Template, Value, funcs};
//!
//! let mut t = Template::new("t").funcs(funcs::prometheus::funcs(Default::default()));
//! t.parse(r#"{{ .Labels.instance }} is at {{ humanize .Value }}"#).unwrap();
//! let data = Value::structure(pharos_template::Struct::new(
//!     "data",
//!     vec![
//!         ("Labels".into(), Value::string_map([("instance", "host:9100")])),
//!         ("Value".into(), Value::Float(1234.5678)),
//!     ],
//! ));
//! assert_eq!(t.execute(&data).unwrap(), "host:9100 is at 1.235k");
//! ```
//!
//! Prometheus' alert templates: [`rules::expand_rule_template`]. Alertmanager
//! notification data: [`funcs::alertmanager::Data`].
//!
//! Limits: nesting is bounded ([`MAX_NESTING`], [`MAX_EXEC_DEPTH`]) so no
//! input overflows the stack; complex-number literals are rejected at
//! execution; `html/template`'s contextual escaping is not implemented.

mod ast;
mod error;
mod exec;
pub mod fmt;
pub mod funcs;
mod gotime;
mod lexer;
mod literal;
mod parser;
pub mod rules;
mod template;
mod value;

pub use error::Error;
pub use exec::{MAX_EXEC_DEPTH, MAX_OUTPUT};
pub use funcs::prometheus::{PrometheusContext, QueryRunner, QuerySample};
pub use funcs::{Context, Func, FuncMap, Param};
pub use gotime::{duration_string as go_duration_string, format as go_time_format};
pub use parser::MAX_NESTING;
pub use template::{MissingKey, Template};
pub use value::{List, ListKind, Map, MapKind, Object, Struct, Value};
