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

/// How the engine evaluates one function call.
pub(crate) type FunctionCall = fn(&mut Evaluator<'_>, &Call) -> Result<Value, EvalError>;

/// Functions the parser knows (they are in [`crate::FUNCTIONS`]) that the
/// engine does not implement yet, sorted: a call fails with `bad_data`.
#[cfg(test)]
const NOT_IMPLEMENTED: &[&str] = &["info", "integral", "start_timestamp"];

/// The implementation of the function called `name`, as Prometheus'
/// `FunctionCalls`; a test keeps it equal to the parser's table.
pub(crate) fn implementation(name: &str) -> Option<FunctionCall> {
    if range::is_range_function(name) {
        return Some(range::eval);
    }
    if math::unary(name).is_some() {
        return Some(math::eval_unary);
    }
    if calendar::part(name).is_some() {
        return Some(calendar::eval);
    }
    let f: FunctionCall = match name {
        "time" => |ev, _| Ok(per_step(ev, |t| t as f64 / 1000.0)),
        "pi" => |ev, _| Ok(per_step(ev, |_| std::f64::consts::PI)),
        "start" => |ev, _| {
            let start = ev.query_start as f64 / 1000.0;
            Ok(per_step(ev, |_| start))
        },
        "end" => |ev, _| {
            let end = ev.query_end as f64 / 1000.0;
            Ok(per_step(ev, |_| end))
        },
        "step" => |ev, _| {
            let step = ev.dctx.step_ms as f64 / 1000.0;
            Ok(per_step(ev, |_| step))
        },
        "range" => |ev, _| {
            let range = ev.dctx.range_ms as f64 / 1000.0;
            Ok(per_step(ev, |_| range))
        },
        "min_of" | "max_of" => min_max_of,
        "vector" => vector,
        "scalar" => scalar,
        "absent" => absent,
        "absent_over_time" => absent_over_time,
        "timestamp" => timestamp,
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => sort_call,
        "label_replace" => labels::replace,
        "label_join" => labels::join,
        "round" | "clamp" | "clamp_min" | "clamp_max" => math::with_scalars,
        "histogram_quantile" => histogram::quantile,
        "histogram_fraction" => histogram::fraction,
        "histogram_quantiles" => histogram::quantiles,
        // Native histograms only: float series give no result.
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
        | "histogram_stdvar" => |ev, c| {
            ev.eval_vector(&c.args[0])?;
            Ok(Value::Vector(Vec::new()))
        },
        _ => return None,
    };
    Some(f)
}

pub(crate) fn call(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let name = c.func.name;
    match implementation(name) {
        Some(f) => f(ev, c),
        None => Err(EvalError::BadData(format!(
            "function {name}() is not supported by Pharos yet"
        ))),
    }
}

/// A scalar computed from each step's time.
fn per_step(ev: &Evaluator<'_>, f: impl Fn(i64) -> f64) -> Value {
    Value::Scalar(ev.steps.times().map(f).collect())
}

/// `min_of(a, b)`, `max_of(a, b)`: per step, NaN if either is.
fn min_max_of(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let a = ev.eval_scalar(&c.args[0])?;
    let b = ev.eval_scalar(&c.args[1])?;
    let min = c.func.name == "min_of";
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

/// `vector(s)`: the scalar as one series without labels.
fn vector(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let s = ev.eval_scalar(&c.args[0])?;
    let steps = ev.steps;
    Ok(Value::Vector(vec![Series::new(
        Labels::empty(),
        s.iter()
            .enumerate()
            .map(|(i, &f)| Point { t: steps.t(i), f })
            .collect(),
    )]))
}

/// `scalar(v)`: the value of a one-element vector, else NaN.
fn scalar(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let v = ev.eval_vector(&c.args[0])?;
    let steps = ev.steps;
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

/// `absent(v)`: 1 at the steps where `v` has no element.
fn absent(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let v = ev.eval_vector(&c.args[0])?;
    let mut present = vec![false; ev.steps.len()];
    for s in &v {
        for pt in &s.points {
            present[ev.steps.index(pt.t)] = true;
        }
    }
    Ok(absent_result(ev, c, &present))
}

/// `absent_over_time(m)`: 1 at the steps whose window has no sample.
fn absent_over_time(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let input = ev.range_input(&c.args[0])?;
    let mut present = vec![false; ev.steps.len()];
    for s in &input.series {
        input.for_each_window(s, |i, _, _| present[i] = true);
    }
    Ok(absent_result(ev, c, &present))
}

/// One series of 1s at the steps not `present`, or nothing.
fn absent_result(ev: &Evaluator<'_>, c: &Call, present: &[bool]) -> Value {
    let points: Vec<Point> = present
        .iter()
        .enumerate()
        .filter(|(_, p)| !**p)
        .map(|(i, _)| Point {
            t: ev.steps.t(i),
            f: 1.0,
        })
        .collect();
    if points.is_empty() {
        return Value::Vector(Vec::new());
    }
    Value::Vector(vec![Series::new(absent_labels(&c.args[0]), points)])
}

/// `timestamp(v)`: each sample's time; of a selector, the stored sample's.
fn timestamp(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
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

/// `sort`, `sort_desc`, `sort_by_label`, `sort_by_label_desc`: instant
/// queries only; a range query is ordered by labels anyway.
fn sort_call(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let mut v = ev.eval_vector(&c.args[0])?;
    if ev.steps.len() > 1 {
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
    sort(c.func.name, &mut v, &by);
    Ok(Value::Vector(v))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Prometheus' `TestFunctionList`: every function the parser accepts
    /// has an implementation, unless listed as not implemented yet.
    #[test]
    fn parser_table_and_implementations_agree() {
        let missing: Vec<&str> = crate::FUNCTIONS
            .iter()
            .map(|f| f.name)
            .filter(|name| implementation(name).is_none())
            .collect();
        assert_eq!(
            missing, NOT_IMPLEMENTED,
            "the parser's table and the engine's implementations disagree"
        );
        for name in NOT_IMPLEMENTED {
            assert!(
                crate::parser::functions::lookup(name).is_some(),
                "{name} is not a function"
            );
        }
        assert!(implementation("nope").is_none());
    }
}
