//! Binary operators: arithmetic, comparisons (filtering or `bool`), set
//! operators, and vector matching with `on`/`ignoring` and
//! `group_left`/`group_right`, with Prometheus' error texts.

use std::collections::HashMap;

use pharos_model::{Labels, LabelsBuilder, METRIC_NAME};

use super::error::EvalError;
use super::eval::Evaluator;
use super::value::{ByStep, Point, Series, Steps, Value};
use crate::{BinaryExpr, BinaryOp, Cardinality, VectorMatching};

/// `lhs op rhs` on two floats: the value and whether a comparison holds
/// (always true for arithmetic).
pub(crate) fn apply(op: BinaryOp, l: f64, r: f64) -> (f64, bool) {
    match op {
        BinaryOp::Add => (l + r, true),
        BinaryOp::Sub => (l - r, true),
        BinaryOp::Mul => (l * r, true),
        BinaryOp::Div => (l / r, true),
        BinaryOp::Mod => (l % r, true),
        BinaryOp::Pow => (l.powf(r), true),
        BinaryOp::Atan2 => (l.atan2(r), true),
        BinaryOp::Eql => (l, l == r),
        BinaryOp::Neq => (l, l != r),
        BinaryOp::Gtr => (l, l > r),
        BinaryOp::Lss => (l, l < r),
        BinaryOp::Gte => (l, l >= r),
        BinaryOp::Lte => (l, l <= r),
        // Set operators and histogram trims never reach float arithmetic.
        _ => (f64::NAN, false),
    }
}

/// Whether the result of `op` loses the metric name.
fn drops_name(op: BinaryOp, return_bool: bool) -> bool {
    !op.is_comparison() || return_bool
}

impl Evaluator<'_> {
    pub fn binary(&mut self, b: &BinaryExpr) -> Result<Value, EvalError> {
        let lhs = self.eval(&b.lhs)?;
        let rhs = self.eval(&b.rhs)?;
        match (lhs, rhs) {
            (Value::Scalar(l), Value::Scalar(r)) => Ok(Value::Scalar(
                l.iter()
                    .zip(&r)
                    .map(|(&l, &r)| {
                        let (v, keep) = apply(b.op, l, r);
                        if b.op.is_comparison() {
                            if keep { 1.0 } else { 0.0 }
                        } else {
                            v
                        }
                    })
                    .collect(),
            )),
            (Value::Vector(v), Value::Scalar(s)) => {
                Ok(Value::Vector(vector_scalar(b, v, &s, false, &self.steps)))
            }
            (Value::Scalar(s), Value::Vector(v)) => {
                Ok(Value::Vector(vector_scalar(b, v, &s, true, &self.steps)))
            }
            (Value::Vector(l), Value::Vector(r)) => {
                let default = VectorMatching {
                    card: if b.op.is_set() {
                        Cardinality::ManyToMany
                    } else {
                        Cardinality::OneToOne
                    },
                    ..Default::default()
                };
                let matching = b.matching.as_ref().unwrap_or(&default);
                let steps = self.steps;
                let out = match b.op {
                    BinaryOp::And => and_unless(l, &r, matching, &steps, true),
                    BinaryOp::Unless => and_unless(l, &r, matching, &steps, false),
                    BinaryOp::Or => or(l, r, matching, &steps),
                    _ => vector_vector(b, &l, &r, matching, &steps)?,
                };
                Ok(Value::Vector(out))
            }
            _ => Err(EvalError::exec(format!(
                "operator {} not defined on these operand types",
                b.op
            ))),
        }
    }
}

fn vector_scalar(
    b: &BinaryExpr,
    mut v: Vec<Series>,
    s: &[f64],
    scalar_left: bool,
    steps: &Steps,
) -> Vec<Series> {
    let drop = drops_name(b.op, b.return_bool);
    for series in &mut v {
        series.points.retain_mut(|p| {
            let sv = s[steps.index(p.t)];
            let (l, r) = if scalar_left { (sv, p.f) } else { (p.f, sv) };
            let (value, keep) = apply(b.op, l, r);
            if b.return_bool {
                p.f = if keep { 1.0 } else { 0.0 };
                true
            } else if b.op.is_comparison() {
                // The vector's value is kept, whichever side it is on.
                keep
            } else {
                p.f = value;
                true
            }
        });
        if drop {
            series.drop_name = true;
        }
    }
    v.retain(|s| !s.points.is_empty());
    v
}

/// The label values a series is matched on, as one key.
fn signature(s: &Series, m: &VectorMatching) -> Vec<u8> {
    let mut key = Vec::new();
    for l in &s.labels {
        let named = m.labels.contains(&l.name);
        let include = if m.on {
            named && !(l.name == METRIC_NAME && s.drop_name)
        } else {
            !named && l.name != METRIC_NAME
        };
        if include {
            key.extend_from_slice(l.name.as_bytes());
            key.push(0xff);
            key.extend_from_slice(l.value.as_bytes());
            key.push(0xff);
        }
    }
    key
}

/// The labels of a match group, for error messages.
fn signature_labels(s: &Series, m: &VectorMatching) -> Labels {
    let mut b = LabelsBuilder::default();
    for l in &s.labels {
        let named = m.labels.contains(&l.name);
        if (m.on && named) || (!m.on && !named && l.name != METRIC_NAME) {
            b.set(l.name.clone(), l.value.clone());
        }
    }
    b.build()
}

/// Labels as Go's `labels.String()` prints them: `{__name__="x", a="b"}`.
fn full(l: &Labels) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|x| format!("{}={:?}", x.name, x.value))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn intern(keys: &mut HashMap<Vec<u8>, u32>, k: Vec<u8>) -> u32 {
    let n = keys.len() as u32;
    *keys.entry(k).or_insert(n)
}

fn and_unless(
    l: Vec<Series>,
    r: &[Series],
    m: &VectorMatching,
    steps: &Steps,
    and: bool,
) -> Vec<Series> {
    let mut keys = HashMap::new();
    let lsig: Vec<u32> = l
        .iter()
        .map(|s| intern(&mut keys, signature(s, m)))
        .collect();
    let rsig: Vec<u32> = r
        .iter()
        .map(|s| intern(&mut keys, signature(s, m)))
        .collect();
    // For each step, which signatures the right side has.
    let mut present: HashMap<(usize, u32), ()> = HashMap::new();
    for (s, sig) in r.iter().zip(&rsig) {
        for p in &s.points {
            present.insert((steps.index(p.t), *sig), ());
        }
    }
    let mut out = l;
    for (s, sig) in out.iter_mut().zip(&lsig) {
        s.points
            .retain(|p| present.contains_key(&(steps.index(p.t), *sig)) == and);
    }
    out.retain(|s| !s.points.is_empty());
    out
}

fn or(l: Vec<Series>, r: Vec<Series>, m: &VectorMatching, steps: &Steps) -> Vec<Series> {
    let mut keys = HashMap::new();
    let mut present: HashMap<(usize, u32), ()> = HashMap::new();
    for s in &l {
        let sig = intern(&mut keys, signature(s, m));
        for p in &s.points {
            present.insert((steps.index(p.t), sig), ());
        }
    }
    let mut out = l;
    for mut s in r {
        let sig = intern(&mut keys, signature(&s, m));
        s.points
            .retain(|p| !present.contains_key(&(steps.index(p.t), sig)));
        if !s.points.is_empty() {
            out.push(s);
        }
    }
    out
}

/// Arithmetic and comparisons between two instant vectors.
fn vector_vector(
    b: &BinaryExpr,
    l: &[Series],
    r: &[Series],
    m: &VectorMatching,
    steps: &Steps,
) -> Result<Vec<Series>, EvalError> {
    // The "many" side is iterated, the "one" side looked up.
    let swap = m.card == Cardinality::OneToMany;
    let (many, one) = if swap { (r, l) } else { (l, r) };
    let mut keys = HashMap::new();
    let many_sig: Vec<u32> = many
        .iter()
        .map(|s| intern(&mut keys, signature(s, m)))
        .collect();
    let one_sig: Vec<u32> = one
        .iter()
        .map(|s| intern(&mut keys, signature(s, m)))
        .collect();
    let many_steps = ByStep::new(many, steps);
    let one_steps = ByStep::new(one, steps);
    let drop = drops_name(b.op, b.return_bool);

    let mut out: Vec<Series> = Vec::new();
    let mut out_index: HashMap<(u32, u32), usize> = HashMap::new();
    let mut by_labels: HashMap<Labels, usize> = HashMap::new();
    let mut one_at: HashMap<u32, (u32, f64)> = HashMap::new();
    let mut matched: HashMap<u32, ()> = HashMap::new();
    let mut produced: HashMap<usize, ()> = HashMap::new();
    for (i, (many_here, one_here)) in many_steps.iter().zip(one_steps.iter()).enumerate() {
        one_at.clear();
        matched.clear();
        produced.clear();
        // Nothing can match at this step: Prometheus returns nothing here
        // before it looks for duplicates on the "one" side.
        if many_here.is_empty() && m.fill.lhs.is_none() {
            continue;
        }
        for &(j, f) in one_here {
            let sig = one_sig[j as usize];
            if let Some(&(prev, _)) = one_at.get(&sig) {
                let side = if swap { "left" } else { "right" };
                let (a, b2) = (&one[prev as usize], &one[j as usize]);
                return Err(EvalError::exec(format!(
                    "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                    full(&signature_labels(a, m)),
                    full(&a.labels),
                    full(&b2.labels)
                )));
            }
            one_at.insert(sig, (j, f));
        }
        // Experimental fill(): the "many" side takes `fill.lhs` where it is
        // missing, the "one" side `fill.rhs`.
        let (fill_many, fill_one) = (m.fill.lhs, m.fill.rhs);
        let mut seen_one: HashMap<u32, ()> = HashMap::new();
        let mut emit = |out: &mut Vec<Series>,
                        key: (u32, u32),
                        make: &dyn Fn() -> (Labels, bool),
                        lv: f64,
                        rv: f64|
         -> Result<(), EvalError> {
            let (value, keep) = apply(b.op, lv, rv);
            let value = if b.return_bool {
                if keep { 1.0 } else { 0.0 }
            } else if !keep {
                return Ok(());
            } else {
                value
            };
            let idx = match out_index.get(&key) {
                Some(&idx) => idx,
                None => {
                    let (labels, drop_name) = make();
                    let idx = *by_labels.entry(labels.clone()).or_insert_with(|| {
                        out.push(Series {
                            labels,
                            points: Vec::new(),
                            drop_name,
                        });
                        out.len() - 1
                    });
                    out_index.insert(key, idx);
                    idx
                }
            };
            if produced.insert(idx, ()).is_some() {
                return Err(EvalError::exec(if m.card == Cardinality::OneToOne {
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                } else {
                    "multiple matches for labels: grouping labels must ensure unique matches"
                }));
            }
            out[idx].points.push(Point {
                t: steps.t(i),
                f: value,
            });
            Ok(())
        };
        const NONE: u32 = u32::MAX;
        for &(k, f) in many_here {
            let sig = many_sig[k as usize];
            let Some(&(j, g)) = one_at.get(&sig) else {
                if let Some(g) = fill_one {
                    let (lv, rv) = if swap { (g, f) } else { (f, g) };
                    let many_s = &many[k as usize];
                    emit(
                        &mut out,
                        (k, NONE),
                        &|| result_labels(many_s, None, m, drop),
                        lv,
                        rv,
                    )?;
                }
                continue;
            };
            seen_one.insert(sig, ());
            if m.card == Cardinality::OneToOne && matched.insert(sig, ()).is_some() {
                return Err(EvalError::exec(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
                ));
            }
            let (lv, rv) = if swap { (g, f) } else { (f, g) };
            let (many_s, one_s) = (&many[k as usize], &one[j as usize]);
            emit(
                &mut out,
                (k, j),
                &|| result_labels(many_s, Some(one_s), m, drop),
                lv,
                rv,
            )?;
        }
        if let Some(f) = fill_many {
            for &(j, g) in one_here {
                let sig = one_sig[j as usize];
                if seen_one.contains_key(&sig) {
                    continue;
                }
                let (lv, rv) = if swap { (g, f) } else { (f, g) };
                let one_s = &one[j as usize];
                // Only the match group is known of the missing side.
                let make = || (signature_labels(one_s, m), false);
                emit(&mut out, (NONE, j), &make, lv, rv)?;
            }
        }
    }
    Ok(out)
}

/// The labels of a result element: the "many" side's labels, reduced to
/// the matching labels for one-to-one `on`, without the ignored ones for
/// one-to-one `ignoring`, plus the `group_x` labels of the "one" side.
/// Returns the labels and whether the name is to be dropped.
fn result_labels(
    many: &Series,
    one: Option<&Series>,
    m: &VectorMatching,
    drop: bool,
) -> (Labels, bool) {
    let mut b = many.labels.to_builder();
    let mut drop_name = many.drop_name || drop;
    if m.card == Cardinality::OneToOne {
        if m.on {
            b.retain(|l| m.labels.contains(&l.name));
        } else {
            b.retain(|l| !m.labels.contains(&l.name));
        }
    }
    // A filled-in "one" side has no labels to join.
    let Some(one) = one else {
        return (b.build(), drop_name);
    };
    for name in &m.include {
        match one.labels.get(name) {
            Some(v) => {
                b.set(name.clone(), v.to_string());
                if name == METRIC_NAME {
                    drop_name = one.drop_name;
                }
            }
            None => {
                b.del(name);
            }
        }
    }
    (b.build(), drop_name)
}
