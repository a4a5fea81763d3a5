//! PromQL for Pharos.
//!
//! This crate parses the PromQL of Prometheus 3.x (3.14's conformance
//! scripts are the reference, experimental syntax included) into a typed
//! AST with byte positions, type checks it as Prometheus does, and prints it
//! back in the style of Prometheus' `/api/v1/format_query`, and evaluates
//! it ([`engine`], [`functions`]) against any [`pharos_tsdb::Queryable`].
//!
//! ```
//! use pharos_promql::{format_query, parse, Expr};
//!
//! let e = parse("rate(http_requests_total{job=\"api\"}[5m]) > bool 0").unwrap();
//! assert!(matches!(e, Expr::Binary(_)));
//! assert_eq!(
//!     format_query("sum(rate(x[5m]))by(job)").unwrap(),
//!     "sum by (job) (rate(x[5m]))"
//! );
//! ```
//!
//! Layout follows Prometheus' `promql/parser`: [`parser::lexer`] (hand
//! written, context aware), `parser/promql.lalrpop` (the grammar, built by
//! `build.rs`), [`parser::ast`], [`parser::functions`] (the function
//! table), type checking and the printer.

pub mod engine;
pub mod functions;
pub mod parser;
pub mod series_desc;

pub use engine::{Engine, EngineOptions, EvalError, QueryRequest, QueryResult, QueryValue};
pub use parser::ast::{
    AggregateExpr, AggregateOp, AtModifier, BinaryExpr, BinaryOp, Call, Cardinality,
    DurationContext, DurationExpr, DurationOp, Expr, FillValues, MatrixSelector, NumberLiteral,
    ParenExpr, Span, StringLiteral, SubqueryExpr, UnaryExpr, UnaryOp, ValueType, VectorMatching,
    VectorSelector,
};
pub use parser::error::ParseError;
pub use parser::functions::{FUNCTIONS, Function};
pub use parser::metric_selector::parse_metric_selector;
pub use parser::{format_query, parse};
