//! Query results written as Prometheus writes them: times as Unix seconds
//! with millisecond fractions (`1435781451.781`), values as strings
//! (`"1"`, `"NaN"`, `"+Inf"`), written straight into a buffer because
//! results can be large.

use std::fmt::Write;

use pharos_model::Labels;
use pharos_promql::functions::format_value;
use pharos_promql::{QueryValue, engine::Series};

/// `t` milliseconds as Prometheus' JSON timestamp.
pub fn write_time(out: &mut String, t: i64) {
    if t < 0 {
        out.push('-');
    }
    let abs = t.unsigned_abs();
    let _ = write!(out, "{}", abs / 1000);
    let frac = abs % 1000;
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
}

fn write_str(out: &mut String, s: &str) {
    // serde_json escapes exactly as JSON requires.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string()));
}

fn write_labels(out: &mut String, l: &Labels) {
    out.push('{');
    for (i, x) in l.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, &x.name);
        out.push(':');
        write_str(out, &x.value);
    }
    out.push('}');
}

fn write_point(out: &mut String, t: i64, f: f64) {
    out.push('[');
    write_time(out, t);
    out.push_str(",\"");
    out.push_str(&format_value(f));
    out.push_str("\"]");
}

fn write_matrix(out: &mut String, series: &[Series]) {
    out.push('[');
    for (i, s) in series.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"metric\":");
        write_labels(out, &s.labels);
        out.push_str(",\"values\":[");
        for (j, p) in s.points.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            write_point(out, p.t, p.f);
        }
        out.push_str("]}");
    }
    out.push(']');
}

/// `{"resultType":…,"result":…}`, limited to `limit` series.
pub fn write_data(out: &mut String, v: &QueryValue, limit: Option<usize>) {
    let cap = |n: usize| limit.map_or(n, |l| l.min(n));
    match v {
        QueryValue::Scalar { t, f } => {
            out.push_str("{\"resultType\":\"scalar\",\"result\":");
            write_point(out, *t, *f);
        }
        QueryValue::String { t, s } => {
            out.push_str("{\"resultType\":\"string\",\"result\":[");
            write_time(out, *t);
            out.push(',');
            write_str(out, s);
            out.push(']');
        }
        QueryValue::Vector { t, samples } => {
            out.push_str("{\"resultType\":\"vector\",\"result\":[");
            for (i, (l, f)) in samples[..cap(samples.len())].iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"metric\":");
                write_labels(out, l);
                out.push_str(",\"value\":");
                write_point(out, *t, *f);
                out.push('}');
            }
            out.push(']');
        }
        QueryValue::Matrix(series) => {
            out.push_str("{\"resultType\":\"matrix\",\"result\":");
            write_matrix(out, &series[..cap(series.len())]);
        }
    }
}

/// How many series a result has (for `limit`).
pub fn result_len(v: &QueryValue) -> usize {
    match v {
        QueryValue::Vector { samples, .. } => samples.len(),
        QueryValue::Matrix(s) => s.len(),
        _ => 1,
    }
}

/// A JSON array of strings.
pub fn write_strings(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, s);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_prometheus_writes_them() {
        for (t, want) in [
            (1_435_781_451_781, "1435781451.781"),
            (1_500, "1.500"),
            (1_005, "1.005"),
            (2_000, "2"),
            (0, "0"),
            (-1_500, "-1.500"),
        ] {
            let mut s = String::new();
            write_time(&mut s, t);
            assert_eq!(s, want, "{t}");
        }
    }
}
