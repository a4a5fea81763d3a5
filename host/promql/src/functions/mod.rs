//! PromQL functions, keyed by the names of the parser's function table
//! ([`crate::FUNCTIONS`]): a file per family, as Prometheus'
//! `promql/functions.go` is organised by kind.

mod calendar;
mod histogram;
mod labels;
mod math;
mod range;
pub(crate) mod stats;

use pharos_model::{Labels, METRIC_NAME, MatchOp};

use crate::engine::EvalError;
use crate::engine::eval::Evaluator;
use crate::engine::value::{Point, Series, Value};
use crate::{Call, Expr};

pub use stats::format_value;

/// Whether the engine implements `name`.
pub fn is_implemented(name: &str) -> bool {
    range::is_range_function(name)
        || math::unary(name).is_some()
        || calendar::part(name).is_some()
        || matches!(
            name,
            "time"
                | "pi"
                | "vector"
                | "scalar"
                | "absent"
                | "absent_over_time"
                | "timestamp"
                | "sort"
                | "sort_desc"
                | "sort_by_label"
                | "sort_by_label_desc"
                | "label_replace"
                | "label_join"
                | "round"
                | "clamp"
                | "clamp_min"
                | "clamp_max"
                | "histogram_quantile"
                | "histogram_fraction"
                | "histogram_quantiles"
                | "histogram_count"
                | "histogram_sum"
                | "histogram_avg"
                | "histogram_stddev"
                | "histogram_stdvar"
                | "start"
                | "end"
                | "step"
                | "range"
                | "min_of"
                | "max_of"
        )
}

pub(crate) fn call(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let name = c.func.name;
    if range::is_range_function(name) {
        return range::eval(ev, c);
    }
    if let Some(f) = math::unary(name) {
        let v = ev.eval_vector(&c.args[0])?;
        return Ok(Value::Vector(map_values(v, f)));
    }
    if calendar::part(name).is_some() {
        return calendar::eval(ev, c);
    }
    let steps = ev.steps;
    match name {
        "time" => Ok(Value::Scalar(
            steps.times().map(|t| t as f64 / 1000.0).collect(),
        )),
        "pi" => Ok(Value::Scalar(vec![std::f64::consts::PI; steps.len()])),
        "start" => Ok(Value::Scalar(vec![
            ev.query_start as f64 / 1000.0;
            steps.len()
        ])),
        "end" => Ok(Value::Scalar(vec![
            ev.query_end as f64 / 1000.0;
            steps.len()
        ])),
        "step" => Ok(Value::Scalar(vec![
            ev.dctx.step_ms as f64 / 1000.0;
            steps.len()
        ])),
        "range" => Ok(Value::Scalar(vec![
            ev.dctx.range_ms as f64 / 1000.0;
            steps.len()
        ])),
        "min_of" | "max_of" => {
            let a = ev.eval_scalar(&c.args[0])?;
            let b = ev.eval_scalar(&c.args[1])?;
            let min = name == "min_of";
            Ok(Value::Scalar(
                a.iter()
                    .zip(&b)
                    .map(|(&a, &b)| {
                        if a.is_nan() || b.is_nan() {
                            f64::NAN
                        } else if min {
                            a.min(b)
                        } else {
                            a.max(b)
                        }
                    })
                    .collect(),
            ))
        }
        "vector" => {
            let s = ev.eval_scalar(&c.args[0])?;
            Ok(Value::Vector(vec![Series::new(
                Labels::empty(),
                s.iter()
                    .enumerate()
                    .map(|(i, &f)| Point { t: steps.t(i), f })
                    .collect(),
            )]))
        }
        "scalar" => {
            let v = ev.eval_vector(&c.args[0])?;
            let mut vals = vec![f64::NAN; steps.len()];
            let mut count = vec![0u32; steps.len()];
            for s in &v {
                for p in &s.points {
                    let i = steps.index(p.t);
                    count[i] += 1;
                    vals[i] = p.f;
                }
            }
            for (v, c) in vals.iter_mut().zip(count) {
                if c != 1 {
                    *v = f64::NAN;
                }
            }
            Ok(Value::Scalar(vals))
        }
        "absent" | "absent_over_time" => {
            let present: Vec<bool> = if name == "absent" {
                let v = ev.eval_vector(&c.args[0])?;
                let mut p = vec![false; steps.len()];
                for s in &v {
                    for pt in &s.points {
                        p[steps.index(pt.t)] = true;
                    }
                }
                p
            } else {
                let input = ev.range_input(&c.args[0])?;
                let mut p = vec![false; steps.len()];
                for s in &input.series {
                    input.for_each_window(s, |i, _, _| p[i] = true);
                }
                p
            };
            let points: Vec<Point> = present
                .iter()
                .enumerate()
                .filter(|(_, p)| !**p)
                .map(|(i, _)| Point {
                    t: steps.t(i),
                    f: 1.0,
                })
                .collect();
            if points.is_empty() {
                return Ok(Value::Vector(Vec::new()));
            }
            Ok(Value::Vector(vec![Series::new(
                absent_labels(&c.args[0]),
                points,
            )]))
        }
        "timestamp" => {
            let mut v = match c.args[0].unparen() {
                Expr::VectorSelector(vs) => ev.instant_selector(vs, true)?,
                other => {
                    let mut v = ev.eval_vector(other)?;
                    for s in &mut v {
                        for p in &mut s.points {
                            p.f = p.t as f64 / 1000.0;
                        }
                    }
                    v
                }
            };
            for s in &mut v {
                s.drop_name = true;
            }
            Ok(Value::Vector(v))
        }
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => {
            let mut v = ev.eval_vector(&c.args[0])?;
            if steps.len() > 1 {
                ev.annotations.warn(
                    ev.text,
                    c.span,
                    "sort is ineffective for range queries since results are always ordered by labels",
                );
                return Ok(Value::Vector(v));
            }
            let mut by = Vec::new();
            for a in &c.args[1..] {
                by.push(ev.eval_string(a)?);
            }
            sort(name, &mut v, &by);
            Ok(Value::Vector(v))
        }
        "label_replace" => labels::replace(ev, c),
        "label_join" => labels::join(ev, c),
        "round" | "clamp" | "clamp_min" | "clamp_max" => math::with_scalars(ev, c),
        "histogram_quantile" => histogram::quantile(ev, c),
        "histogram_fraction" => histogram::fraction(ev, c),
        "histogram_quantiles" => histogram::quantiles(ev, c),
        // Native histograms only: float series give no result.
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
        | "histogram_stdvar" => {
            ev.eval_vector(&c.args[0])?;
            Ok(Value::Vector(Vec::new()))
        }
        _ => Err(EvalError::BadData(format!(
            "function {name}() is not supported by Pharos yet"
        ))),
    }
}

/// Applies `f` to every value; the metric name is dropped.
fn map_values(mut v: Vec<Series>, f: fn(f64) -> f64) -> Vec<Series> {
    for s in &mut v {
        s.drop_name = true;
        for p in &mut s.points {
            p.f = f(p.f);
        }
    }
    v
}

/// The labels `absent` gives its result: the selector's equality matchers
/// (other than the name), unless a name is matched twice.
fn absent_labels(e: &Expr) -> Labels {
    let vs = match e.unparen() {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::empty(),
    };
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut twice: Vec<&str> = Vec::new();
    for (i, m) in vs.matchers.iter().enumerate() {
        if vs.matchers[..i].iter().any(|x| x.name == m.name) {
            twice.push(&m.name);
        }
        if m.op == MatchOp::Equal && m.name != METRIC_NAME {
            pairs.push((&m.name, &m.value));
        }
    }
    Labels::from_pairs(pairs.into_iter().filter(|(n, _)| !twice.contains(n)))
}

/// Orders a one-step vector for the sort functions.
fn sort(name: &str, v: &mut [Series], by: &[String]) {
    let value = |s: &Series| s.points.first().map_or(f64::NAN, |p| p.f);
    match name {
        "sort" => v.sort_by(|a, b| stats::cmp_nan_last(value(a), value(b), false)),
        "sort_desc" => v.sort_by(|a, b| stats::cmp_nan_last(value(a), value(b), true)),
        _ => {
            let desc = name == "sort_by_label_desc";
            v.sort_by(|a, b| {
                let mut o = std::cmp::Ordering::Equal;
                for l in by {
                    o = natural_cmp(a.labels.get(l).unwrap_or(""), b.labels.get(l).unwrap_or(""));
                    if o.is_ne() {
                        break;
                    }
                }
                if o.is_eq() {
                    o = a.labels.cmp(&b.labels);
                }
                if desc { o.reverse() } else { o }
            });
        }
    }
}

/// Compares strings with runs of digits compared as numbers ("a2" < "a10").
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    while !a.is_empty() && !b.is_empty() {
        if a[0].is_ascii_digit() && b[0].is_ascii_digit() {
            let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
            let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
            let (na, nb) = (&a[..da], &b[..db]);
            let ta: &[u8] = &na[na.iter().take_while(|c| **c == b'0').count()..];
            let tb: &[u8] = &nb[nb.iter().take_while(|c| **c == b'0').count()..];
            let o = ta.len().cmp(&tb.len()).then(ta.cmp(tb));
            if o.is_ne() {
                return o;
            }
            a = &a[da..];
            b = &b[db..];
        } else {
            if a[0] != b[0] {
                return a[0].cmp(&b[0]);
            }
            a = &a[1..];
            b = &b[1..];
        }
    }
    a.len().cmp(&b.len())
}
