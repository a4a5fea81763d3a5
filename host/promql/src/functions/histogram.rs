//! `histogram_quantile` and `histogram_fraction` over classic histograms:
//! series that differ only in their `le` label are the buckets of one
//! histogram. (Native histograms are not stored yet; functions that only
//! read native histograms return nothing for float series.)

use std::collections::HashMap;

use pharos_model::Labels;

use crate::Call;
use crate::engine::EvalError;
use crate::engine::eval::Evaluator;
use crate::engine::value::{ByStep, Point, Series, Value};

const BUCKET_LABEL: &str = "le";

/// One bucket at one step: upper bound and cumulative count.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    upper: f64,
    count: f64,
}

/// Buckets of each histogram at each step, with the histogram's labels.
struct Histograms {
    labels: Vec<Labels>,
    /// The first series' metric name of each histogram (for annotations).
    names: Vec<String>,
    /// Which argument of the call the buckets are.
    arg: usize,
    /// Per step: (histogram index, bucket).
    per_step: Vec<Vec<(usize, Bucket)>>,
}

fn parse_upper(v: &str) -> Option<f64> {
    match v {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => v.parse().ok(),
    }
}

fn group(ev: &mut Evaluator<'_>, c: &Call, arg: usize) -> Result<Histograms, EvalError> {
    let v = ev.eval_vector(&c.args[arg])?;
    let steps = ev.steps;
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut labels = Vec::new();
    let mut names = Vec::new();
    let mut of: Vec<Option<(usize, f64)>> = Vec::with_capacity(v.len());
    for s in &v {
        let Some(upper) = s.labels.get(BUCKET_LABEL).and_then(parse_upper) else {
            let name = s.labels.metric_name().unwrap_or("");
            ev.annotations.warn(
                ev.text,
                c.args[arg].span(),
                format!("bucket label \"le\" is missing or has a malformed value of \"{}\" for metric name {name:?}", s.labels.get(BUCKET_LABEL).unwrap_or("")),
            );
            of.push(None);
            continue;
        };
        // The name stays (marked to be dropped) so that two histograms
        // that differ only by name collide at the end, as in Prometheus.
        let mut b = s.labels.to_builder();
        b.del(BUCKET_LABEL);
        let l = b.build();
        let h = *index.entry(l.clone()).or_insert_with(|| {
            names.push(s.labels.metric_name().unwrap_or("").to_string());
            labels.push(l);
            labels.len() - 1
        });
        of.push(Some((h, upper)));
    }
    let mut per_step = vec![Vec::new(); steps.len()];
    for (i, here) in ByStep::new(&v, &steps).iter().enumerate() {
        for &(si, count) in here {
            if let Some((h, upper)) = of[si as usize] {
                per_step[i].push((h, Bucket { upper, count }));
            }
        }
    }
    Ok(Histograms {
        labels,
        names,
        arg,
        per_step,
    })
}

/// Sorts buckets, merges equal bounds and makes counts monotonic. Returns
/// whether counts had to be fixed.
fn prepare(b: &mut Vec<Bucket>) -> bool {
    b.sort_by(|x, y| {
        x.upper
            .partial_cmp(&y.upper)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    b.dedup_by(|next, prev| {
        if next.upper == prev.upper {
            prev.count += next.count;
            true
        } else {
            false
        }
    });
    let mut fixed = false;
    let mut max = f64::NEG_INFINITY;
    for x in b.iter_mut() {
        if x.count < max {
            // Tolerate tiny float noise without reporting it.
            if (max - x.count) > 1e-12 * max.abs() {
                fixed = true;
            }
            x.count = max;
        } else {
            max = x.count;
        }
    }
    fixed
}

fn bucket_quantile(q: f64, b: &[Bucket]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    if b.len() < 2 || b[b.len() - 1].upper != f64::INFINITY {
        return f64::NAN;
    }
    let total = b[b.len() - 1].count;
    if total == 0.0 || total.is_nan() {
        return f64::NAN;
    }
    let mut rank = q * total;
    let i = b
        .iter()
        .position(|x| x.count >= rank)
        .unwrap_or(b.len() - 1);
    if i == b.len() - 1 {
        return b[b.len() - 2].upper;
    }
    if i == 0 && b[0].upper <= 0.0 {
        return b[0].upper;
    }
    let (start, mut count) = if i == 0 {
        (0.0, b[0].count)
    } else {
        rank -= b[i - 1].count;
        (b[i - 1].upper, b[i].count - b[i - 1].count)
    };
    if count == 0.0 {
        count = 1.0;
        rank = 0.0;
    }
    start + (b[i].upper - start) * (rank / count)
}

fn collect(
    ev: &mut Evaluator<'_>,
    c: &Call,
    h: Histograms,
    mut f: impl FnMut(usize, &[Bucket]) -> f64,
) -> Value {
    let steps = ev.steps;
    let mut out: Vec<Series> = h
        .labels
        .iter()
        .map(|l| Series {
            labels: l.clone(),
            points: Vec::new(),
            drop_name: true,
        })
        .collect();
    let mut buckets: Vec<Vec<Bucket>> = vec![Vec::new(); h.labels.len()];
    for (i, here) in h.per_step.into_iter().enumerate() {
        for b in &mut buckets {
            b.clear();
        }
        for (hi, b) in here {
            buckets[hi].push(b);
        }
        for (hi, b) in buckets.iter_mut().enumerate() {
            if b.is_empty() {
                continue;
            }
            if prepare(b) {
                ev.annotations.info(
                    ev.text,
                    c.args[h.arg].span(),
                    format!("input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name {:?}", h.names[hi]),
                );
            }
            out[hi].points.push(Point {
                t: steps.t(i),
                f: f(i, b),
            });
        }
    }
    out.retain(|s| !s.points.is_empty());
    Value::Vector(out)
}

/// `histogram_quantile(φ, buckets)`.
pub(crate) fn quantile(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let q = ev.eval_scalar(&c.args[0])?;
    if let Some(bad) = q.iter().find(|q| !(0.0..=1.0).contains(*q)) {
        ev.annotations.warn(
            ev.text,
            c.args[0].span(),
            format!(
                "quantile value should be between 0 and 1, got {}",
                super::format_value(*bad)
            ),
        );
    }
    let h = group(ev, c, 1)?;
    Ok(collect(ev, c, h, |i, b| bucket_quantile(q[i], b)))
}

/// `histogram_quantiles(buckets, "label", φ1, φ2, …)`: one result per
/// quantile, told apart by `label="φ"`.
pub(crate) fn quantiles(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let label = ev.eval_string(&c.args[1])?;
    let mut qs = Vec::new();
    for a in &c.args[2..] {
        let q = ev.eval_scalar(a)?;
        if let Some(bad) = q.iter().find(|q| !(0.0..=1.0).contains(*q)) {
            ev.annotations.warn(
                ev.text,
                a.span(),
                format!(
                    "quantile value should be between 0 and 1, got {}",
                    super::format_value(*bad)
                ),
            );
        }
        qs.push(q);
    }
    let h = group(ev, c, 0)?;
    let names = h.names.clone();
    let labels = h.labels.clone();
    let per_step = h.per_step.clone();
    let mut out = Vec::new();
    for q in &qs {
        let one = Histograms {
            labels: labels.clone(),
            names: names.clone(),
            arg: 0,
            per_step: per_step.clone(),
        };
        let Value::Vector(series) = collect(ev, c, one, |i, b| bucket_quantile(q[i], b)) else {
            continue;
        };
        for mut s in series {
            // The label carries the quantile of the first step (a constant
            // in practice).
            let mut v = super::format_value(q.first().copied().unwrap_or(f64::NAN));
            // Whole numbers keep one decimal, as Prometheus labels them.
            if v.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
                v.push_str(".0");
            }
            let mut b = s.labels.to_builder();
            b.set(label.clone(), v);
            s.labels = b.build();
            out.push(s);
        }
    }
    Ok(Value::Vector(out))
}

/// `histogram_fraction(lower, upper, buckets)`: the share of observations
/// between the bounds, interpolating linearly inside a bucket.
pub(crate) fn fraction(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let lo = ev.eval_scalar(&c.args[0])?;
    let hi = ev.eval_scalar(&c.args[1])?;
    let h = group(ev, c, 2)?;
    Ok(collect(ev, c, h, |i, b| {
        let total = b.last().map_or(0.0, |x| x.count);
        if b.last().is_none_or(|x| x.upper != f64::INFINITY) || total == 0.0 {
            return f64::NAN;
        }
        if lo[i].is_nan() || hi[i].is_nan() {
            return f64::NAN;
        }
        if lo[i] >= hi[i] {
            return 0.0;
        }
        (cumulative(b, hi[i]) - cumulative(b, lo[i])) / total
    }))
}

/// Observations at or below `x`, interpolated.
fn cumulative(b: &[Bucket], x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let mut prev_upper = f64::NEG_INFINITY;
    let mut prev_count = 0.0;
    for (i, bk) in b.iter().enumerate() {
        if x < bk.upper {
            if bk.upper == f64::INFINITY {
                return prev_count;
            }
            let lower = if i == 0 {
                if bk.upper > 0.0 {
                    0.0
                } else {
                    // (-Inf, upper]: no interpolation in an infinitely wide
                    // bucket, its observations sit at its lower end.
                    return if x == f64::NEG_INFINITY {
                        0.0
                    } else {
                        bk.count
                    };
                }
            } else {
                prev_upper
            };
            if x <= lower {
                return prev_count;
            }
            return prev_count + (bk.count - prev_count) * (x - lower) / (bk.upper - lower);
        }
        prev_upper = bk.upper;
        prev_count = bk.count;
    }
    prev_count
}
