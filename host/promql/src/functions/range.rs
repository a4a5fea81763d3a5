//! Functions over range vectors: the `rate` family and the `*_over_time`
//! functions. Each sees one window `(te - range, te]` of one series.

use super::stats::{KahanSum, linear_regression, quantile};
use crate::Call;
use crate::engine::eval::Evaluator;
use crate::engine::value::Value;
use crate::engine::{EvalError, Point, Series};

/// What a window function gets besides the samples.
pub(crate) struct Window<'a> {
    pub points: &'a [Point],
    /// The end of the window (evaluation time after offset/@).
    pub te: i64,
    pub range: i64,
    /// The step's own time (before offset/@), what `predict_linear`
    /// predicts from.
    pub t: i64,
    /// Scalar arguments at this step.
    pub args: &'a [f64],
}

type WindowFn = fn(&Window<'_>) -> Result<Option<f64>, EvalError>;

/// The implementation of a range function, and whether it keeps the
/// metric name.
fn lookup(name: &str) -> Option<(WindowFn, bool)> {
    Some(match name {
        "rate" => (|w| Ok(extrapolated(w, true, true)), false),
        "increase" => (|w| Ok(extrapolated(w, true, false)), false),
        "delta" => (|w| Ok(extrapolated(w, false, false)), false),
        "irate" => (|w| Ok(instant_delta(w.points, true)), false),
        "idelta" => (|w| Ok(instant_delta(w.points, false)), false),
        "avg_over_time" => (|w| Ok(Some(mean(w.points))), false),
        "sum_over_time" => (
            |w| {
                let mut s = KahanSum::default();
                w.points.iter().for_each(|p| s.add(p.f));
                Ok(Some(s.value()))
            },
            false,
        ),
        "count_over_time" => (|w| Ok(Some(w.points.len() as f64)), false),
        "min_over_time" => (|w| Ok(Some(extreme(w.points, |a, b| a < b))), false),
        "max_over_time" => (|w| Ok(Some(extreme(w.points, |a, b| a > b))), false),
        "last_over_time" => (|w| Ok(w.points.last().map(|p| p.f)), true),
        "first_over_time" => (|w| Ok(w.points.first().map(|p| p.f)), true),
        "ts_of_last_over_time" => (|w| Ok(w.points.last().map(|p| secs(p.t))), false),
        "ts_of_first_over_time" => (|w| Ok(w.points.first().map(|p| secs(p.t))), false),
        "ts_of_min_over_time" => (|w| Ok(Some(ts_of_extreme(w.points, |a, b| a < b))), false),
        "ts_of_max_over_time" => (|w| Ok(Some(ts_of_extreme(w.points, |a, b| a > b))), false),
        "present_over_time" => (|_| Ok(Some(1.0)), false),
        "stddev_over_time" => (|w| Ok(Some(variance(w.points).sqrt())), false),
        "stdvar_over_time" => (|w| Ok(Some(variance(w.points))), false),
        "quantile_over_time" => (
            |w| {
                let mut v: Vec<f64> = w.points.iter().map(|p| p.f).collect();
                Ok(Some(quantile(w.args[0], &mut v)))
            },
            false,
        ),
        "mad_over_time" => (
            |w| {
                let mut v: Vec<f64> = w.points.iter().map(|p| p.f).collect();
                if v.iter().any(|f| f.is_nan()) {
                    return Ok(Some(f64::NAN));
                }
                let median = quantile(0.5, &mut v);
                let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
                Ok(Some(quantile(0.5, &mut dev)))
            },
            false,
        ),
        "changes" => (
            |w| {
                let n = w
                    .points
                    .windows(2)
                    .filter(|p| p[0].f != p[1].f && !(p[0].f.is_nan() && p[1].f.is_nan()))
                    .count();
                Ok(Some(n as f64))
            },
            false,
        ),
        "resets" => (
            |w| {
                Ok(Some(
                    w.points.windows(2).filter(|p| p[1].f < p[0].f).count() as f64,
                ))
            },
            false,
        ),
        "deriv" => (
            |w| {
                if w.points.len() < 2 {
                    return Ok(None);
                }
                Ok(Some(linear_regression(w.points, w.points[0].t).0))
            },
            false,
        ),
        "predict_linear" => (
            |w| {
                if w.points.len() < 2 {
                    return Ok(None);
                }
                let (slope, intercept) = linear_regression(w.points, w.t);
                Ok(Some(intercept + slope * w.args[0]))
            },
            false,
        ),
        "double_exponential_smoothing" => (smoothing, false),
        _ => return None,
    })
}

/// Whether `name` is a function over a range vector handled here.
pub(crate) fn is_range_function(name: &str) -> bool {
    lookup(name).is_some()
}

fn secs(t: i64) -> f64 {
    t as f64 / 1000.0
}

pub(crate) fn eval(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let name = c.func.name;
    let Some((f, keeps_name)) = lookup(name) else {
        return Err(EvalError::exec(format!("unknown function {name}")));
    };
    // The range argument, and the scalar ones evaluated per step.
    let matrix_at = usize::from(name == "quantile_over_time");
    let mut scalars: Vec<Vec<f64>> = Vec::new();
    for (i, a) in c.args.iter().enumerate() {
        if i != matrix_at {
            scalars.push(ev.eval_scalar(a)?);
        }
    }
    if name == "quantile_over_time"
        && let Some(q) = scalars[0].iter().find(|q| !(0.0..=1.0).contains(*q))
    {
        ev.annotations.warn(
            ev.text,
            c.args[0].span(),
            format!(
                "quantile value should be between 0 and 1, got {}",
                super::format_value(*q)
            ),
        );
    }
    let input = ev.range_input(&c.args[matrix_at])?;
    if matches!(name, "rate" | "increase") {
        for s in &input.series {
            if let Some(n) = s.labels.metric_name()
                && !["_total", "_sum", "_count", "_bucket"]
                    .iter()
                    .any(|x| n.ends_with(x))
            {
                ev.annotations.info(
                    ev.text,
                    c.args[matrix_at].span(),
                    format!("metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {n:?}"),
                );
            }
        }
    }
    let steps = ev.steps;
    let mut out = Vec::with_capacity(input.series.len());
    let mut args = vec![0.0; scalars.len()];
    let mut err = None;
    for (n, s) in input.series.iter().enumerate() {
        if n % 1024 == 1023 {
            ev.check_deadline()?;
        }
        let mut points = Vec::with_capacity(input.ends.len());
        input.for_each_window(s, |i, te, w| {
            if err.is_some() {
                return;
            }
            for (a, vals) in args.iter_mut().zip(&scalars) {
                *a = vals[i];
            }
            let window = Window {
                points: w,
                te,
                t: steps.t(i),
                range: input.range,
                args: &args,
            };
            match f(&window) {
                Ok(Some(v)) => points.push(Point {
                    t: steps.t(i),
                    f: v,
                }),
                Ok(None) => {}
                Err(e) => err = Some(e),
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        if !points.is_empty() {
            out.push(Series {
                labels: s.labels.clone(),
                points,
                drop_name: s.drop_name || !keeps_name,
            });
        }
    }
    Ok(Value::Vector(out))
}

/// `rate`, `increase` and `delta`: the change over the window,
/// extrapolated towards the window's edges as Prometheus does (by at most
/// half a sample interval past the first and last sample, and for counters
/// never below zero).
fn extrapolated(w: &Window<'_>, counter: bool, per_second: bool) -> Option<f64> {
    let pts = w.points;
    if pts.len() < 2 {
        return None;
    }
    let (first, last) = (pts[0], pts[pts.len() - 1]);
    let mut result = last.f - first.f;
    if counter {
        for p in pts.windows(2) {
            if p[1].f < p[0].f {
                result += p[0].f;
            }
        }
    }
    let range_start = w.te.saturating_sub(w.range);
    let mut to_start = secs(first.t - range_start);
    let mut to_end = secs(w.te - last.t);
    let sampled = secs(last.t - first.t);
    let avg = sampled / (pts.len() - 1) as f64;
    let threshold = avg * 1.1;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if counter && result > 0.0 && first.f >= 0.0 {
        let to_zero = sampled * (first.f / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if per_second {
        factor /= secs(w.range);
    }
    Some(result * factor)
}

/// `irate` and `idelta`: from the last two samples.
fn instant_delta(pts: &[Point], rate: bool) -> Option<f64> {
    if pts.len() < 2 {
        return None;
    }
    let (prev, last) = (pts[pts.len() - 2], pts[pts.len() - 1]);
    let mut d = if rate && last.f < prev.f {
        last.f
    } else {
        last.f - prev.f
    };
    if rate {
        let dt = secs(last.t - prev.t);
        if dt == 0.0 {
            return None;
        }
        d /= dt;
    }
    Some(d)
}

/// The mean, compensated; falls back to an incremental mean when the sum
/// overflows.
fn mean(pts: &[Point]) -> f64 {
    let mut s = KahanSum::default();
    let mut all_finite = true;
    for p in pts {
        s.add(p.f);
        all_finite &= p.f.is_finite();
    }
    let sum = s.value();
    if sum.is_infinite() && all_finite {
        let mut m = 0.0;
        for (i, p) in pts.iter().enumerate() {
            let n = (i + 1) as f64;
            m += p.f / n - m / n;
        }
        return m;
    }
    sum / pts.len() as f64
}

/// The population variance (Welford).
fn variance(pts: &[Point]) -> f64 {
    let (mut n, mut mean, mut m2) = (0.0, 0.0, 0.0);
    for p in pts {
        n += 1.0;
        let delta = p.f - mean;
        mean += delta / n;
        m2 += delta * (p.f - mean);
    }
    m2 / n
}

/// Min or max where a NaN is replaced by any number.
fn extreme(pts: &[Point], better: fn(f64, f64) -> bool) -> f64 {
    let mut v = pts[0].f;
    for p in &pts[1..] {
        if better(p.f, v) || v.is_nan() {
            v = p.f;
        }
    }
    v
}

/// The timestamp (seconds) of the last min or max.
fn ts_of_extreme(pts: &[Point], better: fn(f64, f64) -> bool) -> f64 {
    let mut best = pts[0];
    for p in &pts[1..] {
        if better(p.f, best.f) || best.f.is_nan() || p.f == best.f {
            best = *p;
        }
    }
    secs(best.t)
}

/// `double_exponential_smoothing(v, sf, tf)` (Holt's linear method).
fn smoothing(w: &Window<'_>) -> Result<Option<f64>, EvalError> {
    let (sf, tf) = (w.args[0], w.args[1]);
    if !(sf > 0.0 && sf < 1.0) {
        return Err(EvalError::BadData(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf}"
        )));
    }
    if !(tf > 0.0 && tf < 1.0) {
        return Err(EvalError::BadData(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {tf}"
        )));
    }
    let pts = w.points;
    if pts.len() < 2 {
        return Ok(None);
    }
    let mut s0 = 0.0;
    let mut s1 = pts[0].f;
    let mut b = pts[1].f - pts[0].f;
    for (i, p) in pts.iter().enumerate().skip(1) {
        let x = sf * p.f;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    Ok(Some(s1))
}
