//! Numeric helpers shared by aggregations and `*_over_time` functions:
//! compensated summation, quantiles, linear regression.

use crate::engine::Point;

/// Kahan–Babuška (Neumaier) compensated sum, as Prometheus sums floats.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KahanSum {
    sum: f64,
    c: f64,
}

impl KahanSum {
    pub fn add(&mut self, f: f64) {
        let t = self.sum + f;
        if t.is_infinite() {
            self.c = 0.0;
        } else if self.sum.abs() >= f.abs() {
            self.c += (self.sum - t) + f;
        } else {
            self.c += (f - t) + self.sum;
        }
        self.sum = t;
    }

    pub fn value(&self) -> f64 {
        if self.sum.is_infinite() || self.sum.is_nan() {
            self.sum
        } else {
            self.sum + self.c
        }
    }
}

/// The `q` quantile of `values` with linear interpolation between the
/// closest ranks; `-Inf` below 0, `+Inf` above 1, NaN for NaN or no values.
/// Sorts `values`.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaN sorts first, as Go's sort.Float64s does.
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Least-squares slope and intercept of `points` with time measured in
/// seconds from `intercept_t` (milliseconds). A constant series has slope
/// 0 exactly.
pub(crate) fn linear_regression(points: &[Point], intercept_t: i64) -> (f64, f64) {
    let first = points[0].f;
    if points.iter().all(|p| p.f == first) {
        if first.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, first);
    }
    let (mut sx, mut sy, mut sxy, mut sx2) = (
        KahanSum::default(),
        KahanSum::default(),
        KahanSum::default(),
        KahanSum::default(),
    );
    let n = points.len() as f64;
    for p in points {
        let x = (p.t - intercept_t) as f64 / 1000.0;
        sx.add(x);
        sy.add(p.f);
        sxy.add(x * p.f);
        sx2.add(x * x);
    }
    let (sx, sy, sxy, sx2) = (sx.value(), sy.value(), sxy.value(), sx2.value());
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

/// Orders floats ascending or descending with NaN last either way (the
/// order of `topk`, `bottomk`, `sort` and `sort_desc`).
pub(crate) fn cmp_nan_last(a: f64, b: f64, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if descending => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// A float as Go's `strconv.FormatFloat(f, 'f', -1, 64)` writes it (what
/// `count_values` uses for label values), with Prometheus' `+Inf`/`-Inf`.
pub fn format_value(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f == f64::INFINITY {
        "+Inf".to_string()
    } else if f == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kahan_sum_keeps_small_terms() {
        let mut s = KahanSum::default();
        for f in [1e16, 1.0, -1e16] {
            s.add(f);
        }
        assert_eq!(s.value(), 1.0);
    }

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile(0.5, &mut [1.0, 2.0, 3.0, 4.0]), 2.5);
        assert_eq!(quantile(1.5, &mut [1.0]), f64::INFINITY);
        assert!(quantile(0.5, &mut []).is_nan());
    }

    #[test]
    fn values_print_like_go() {
        assert_eq!(format_value(1e21), "1000000000000000000000");
        assert_eq!(format_value(0.1), "0.1");
        assert_eq!(format_value(-2.0), "-2");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
    }
}
