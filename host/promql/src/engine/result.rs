//! Turning the evaluator's value into a query result: delayed `__name__`
//! removal, the duplicate-labelset check, and Prometheus' result shapes
//! (scalar, string, vector for instant queries; matrix for range queries,
//! sorted by labels).

use std::collections::HashMap;

use pharos_model::Labels;

use super::annotations::Annotations;
use super::error::{EvalError, duplicate_labelset};
use super::value::{Point, Series, Steps, Value};
use crate::Expr;

/// The value of a query, shaped like Prometheus' `data.result`.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    Scalar {
        t: i64,
        f: f64,
    },
    String {
        t: i64,
        s: String,
    },
    /// An instant vector: labels and one value each, at `t`.
    Vector {
        t: i64,
        samples: Vec<(Labels, f64)>,
    },
    /// A range vector, or any range query's result.
    Matrix(Vec<Series>),
}

/// A finished query: its value and annotations.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub value: QueryValue,
    pub annotations: Annotations,
    /// Samples the query held in memory at most (for `stats`).
    pub samples: usize,
}

/// Removes marked names, merges series whose labels became equal (an error
/// when they have a point at the same time) and sorts by labels.
fn cleanup(series: Vec<Series>) -> Result<Vec<Series>, EvalError> {
    let mut out: Vec<Series> = Vec::with_capacity(series.len());
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut needs_sort = Vec::new();
    for s in series {
        let labels = s.final_labels();
        match index.get(&labels) {
            Some(&i) => {
                out[i].points.extend(s.points);
                needs_sort.push(i);
            }
            None => {
                index.insert(labels.clone(), out.len());
                out.push(Series::new(labels, s.points));
            }
        }
    }
    for i in needs_sort {
        let pts = &mut out[i].points;
        pts.sort_by_key(|p| p.t);
        if pts.windows(2).any(|w| w[0].t == w[1].t) {
            return Err(duplicate_labelset());
        }
    }
    Ok(out)
}

/// Whether the top of `e` decides the order of an instant result.
fn ordered(e: &Expr) -> bool {
    match e.unparen() {
        Expr::Call(c) => c.func.name.starts_with("sort"),
        Expr::Aggregate(a) => {
            matches!(a.op, crate::AggregateOp::Topk | crate::AggregateOp::Bottomk)
        }
        _ => false,
    }
}

pub(crate) fn finish(
    expr: &Expr,
    value: Value,
    steps: Steps,
    range: bool,
    annotations: Annotations,
    samples: usize,
) -> Result<QueryResult, EvalError> {
    let value = match value {
        Value::Scalar(vals) if range => QueryValue::Matrix(vec![Series::new(
            Labels::empty(),
            vals.iter()
                .enumerate()
                .map(|(i, &f)| Point { t: steps.t(i), f })
                .collect(),
        )]),
        Value::Scalar(vals) => QueryValue::Scalar {
            t: steps.start,
            f: vals.first().copied().unwrap_or(f64::NAN),
        },
        Value::String(s) => QueryValue::String { t: steps.start, s },
        Value::Vector(series) if range => {
            let mut out = cleanup(series)?;
            out.sort_by(|a, b| a.labels.cmp(&b.labels));
            QueryValue::Matrix(out)
        }
        Value::Vector(series) => {
            let keep_order = ordered(expr);
            let mut out = cleanup(series)?;
            if !keep_order {
                out.sort_by(|a, b| a.labels.cmp(&b.labels));
            }
            QueryValue::Vector {
                t: steps.start,
                samples: out
                    .into_iter()
                    .filter_map(|s| s.points.first().map(|p| (s.labels, p.f)))
                    .collect(),
            }
        }
        Value::Matrix(series) => {
            let mut out = cleanup(series)?;
            out.sort_by(|a, b| a.labels.cmp(&b.labels));
            QueryValue::Matrix(out)
        }
    };
    Ok(QueryResult {
        value,
        annotations,
        samples,
    })
}
