//! Calendar functions (`year`, `month`, `day_of_month`, `hour`, …) on
//! Unix seconds in UTC; with no argument they use `vector(time())`.

use crate::Call;
use crate::engine::EvalError;
use crate::engine::eval::Evaluator;
use crate::engine::value::{Point, Series, Value};
use pharos_model::Labels;
use pharos_model::civil::{civil_from_days, days_from_civil};

/// The calendar field `name` computes from Unix seconds.
pub(crate) fn part(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "year" => |s| civil(s).0 as f64,
        "month" => |s| civil(s).1 as f64,
        "day_of_month" => |s| civil(s).2 as f64,
        "day_of_year" => |s| {
            let (y, m, d) = civil(s);
            (days_from_civil(y, m, d) - days_from_civil(y, 1, 1) + 1) as f64
        },
        "day_of_week" => |s| (days(s) + 4).rem_euclid(7) as f64,
        "days_in_month" => |s| {
            let (y, m, _) = civil(s);
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            (days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1)) as f64
        },
        "hour" => |s| (secs_of_day(s) / 3600) as f64,
        "minute" => |s| (secs_of_day(s) % 3600 / 60) as f64,
        _ => return None,
    })
}

pub(crate) fn eval(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let Some(f) = part(c.func.name) else {
        return Err(EvalError::exec("unknown calendar function"));
    };
    let steps = ev.steps;
    let mut v = match c.args.first() {
        Some(a) => ev.eval_vector(a)?,
        None => vec![Series::new(
            Labels::empty(),
            steps
                .times()
                .map(|t| Point {
                    t,
                    f: t as f64 / 1000.0,
                })
                .collect(),
        )],
    };
    for s in &mut v {
        s.drop_name = true;
        for p in &mut s.points {
            p.f = if p.f.is_finite() { f(p.f) } else { p.f };
        }
    }
    Ok(Value::Vector(v))
}

fn days(secs: f64) -> i64 {
    (secs.floor() as i64).div_euclid(86_400)
}

fn secs_of_day(secs: f64) -> i64 {
    (secs.floor() as i64).rem_euclid(86_400)
}

/// (year, month, day) of a Unix time.
fn civil(secs: f64) -> (i64, i64, i64) {
    civil_from_days(days(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0.0), (1970, 1, 1));
        assert_eq!(civil(951_782_400.0), (2000, 2, 29));
        assert_eq!(civil(-1.0), (1969, 12, 31));
        let dim = part("days_in_month").map(|f| f(951_782_400.0));
        assert_eq!(dim, Some(29.0));
        assert_eq!(part("day_of_week").map(|f| f(0.0)), Some(4.0));
    }
}
