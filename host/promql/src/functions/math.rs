//! Element-wise math: `abs`, `ceil`, `exp`, `ln`, trigonometry, `sgn`,
//! `round`, `clamp`, … All drop the metric name.

use crate::Call;
use crate::engine::EvalError;
use crate::engine::eval::Evaluator;
use crate::engine::value::Value;

/// The element-wise function of one argument called `name`.
pub(crate) fn unary(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sqrt" => f64::sqrt,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => f64::to_degrees,
        "rad" => f64::to_radians,
        "sgn" => |f: f64| {
            if f > 0.0 {
                1.0
            } else if f < 0.0 {
                -1.0
            } else {
                f
            }
        },
        _ => return None,
    })
}

/// The functions of [`unary`]: applied to every value; the metric name is
/// dropped.
pub(crate) fn eval_unary(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let Some(f) = unary(c.func.name) else {
        return Err(EvalError::exec("unknown element-wise function"));
    };
    let mut v = ev.eval_vector(&c.args[0])?;
    for s in &mut v {
        s.drop_name = true;
        for p in &mut s.points {
            p.f = f(p.f);
        }
    }
    Ok(Value::Vector(v))
}

/// `round(v, to_nearest)`, `clamp(v, min, max)`, `clamp_min`, `clamp_max`:
/// functions with scalar arguments evaluated per step.
pub(crate) fn with_scalars(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let mut v = ev.eval_vector(&c.args[0])?;
    let mut args = Vec::new();
    for a in &c.args[1..] {
        args.push(ev.eval_scalar(a)?);
    }
    let steps = ev.steps;
    let name = c.func.name;
    for s in &mut v {
        s.drop_name = true;
        s.points.retain_mut(|p| {
            let i = steps.index(p.t);
            match name {
                "round" => {
                    let to = args.first().map_or(1.0, |a| a[i]);
                    let inv = 1.0 / to;
                    p.f = (p.f * inv + 0.5).floor() / inv;
                    true
                }
                "clamp" => {
                    let (min, max) = (args[0][i], args[1][i]);
                    if max < min {
                        return false;
                    }
                    p.f = go_max(min, go_min(max, p.f));
                    true
                }
                "clamp_min" => {
                    p.f = go_max(args[0][i], p.f);
                    true
                }
                _ => {
                    p.f = go_min(args[0][i], p.f);
                    true
                }
            }
        });
    }
    v.retain(|s| !s.points.is_empty());
    Ok(Value::Vector(v))
}

/// Minimum where NaN wins, as Go's `math.Min`.
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// Maximum where NaN wins, as Go's `math.Max`.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}
