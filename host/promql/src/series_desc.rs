//! Series descriptions as Prometheus' test formats write them
//! (`parser.ParseSeriesDesc`): a series in PromQL selector syntax followed
//! by values in the expanding notation — `1+2x3` is 1 3 5 7, `1x2` is
//! 1 1 1, `_` a missing sample, `_x2` three, `stale` a staleness marker.
//! Used by promtool's rule unit tests (`input_series`) and the PromQL test
//! scripts (`load`).
//!
//! ```
//! use pharos_promql::series_desc::parse_series_desc;
//!
//! let d = parse_series_desc(r#"up{job="a"} 0+1x2 _ stale"#).unwrap();
//! assert_eq!(d.labels.get("job"), Some("a"));
//! assert_eq!(d.values.len(), 5);
//! assert_eq!(d.values[2], Some(2.0));
//! assert_eq!(d.values[3], None);
//! ```

use pharos_model::{Labels, MatchOp, is_stale_nan, stale_nan};

use crate::parse_metric_selector;

/// A parsed series description.
#[derive(Debug, Clone)]
pub struct SeriesDesc {
    pub labels: Labels,
    /// One entry per step: a value, or `None` for a missing sample (and,
    /// for now, for a native histogram).
    pub values: Vec<Option<f64>>,
    /// Whether native histogram values (`{{…}}`) appeared.
    pub histograms: bool,
}

/// Parses `series values…`.
pub fn parse_series_desc(line: &str) -> Result<SeriesDesc, String> {
    let (series, values) = split_series(line);
    let labels = parse_labels(series)?;
    let (toks, histograms) = tokens(values);
    Ok(SeriesDesc {
        labels,
        values: expand(&toks)?,
        histograms,
    })
}

/// One sample value: a float, `Inf`, `NaN`, `stale` or a `0x` integer.
pub fn parse_sample_value(s: &str) -> Result<f64, String> {
    parse_float(s)
}

fn parse_float(s: &str) -> Result<f64, String> {
    match s {
        "Inf" | "+Inf" | "inf" | "+inf" => Ok(f64::INFINITY),
        "-Inf" | "-inf" => Ok(f64::NEG_INFINITY),
        "NaN" | "nan" => Ok(f64::NAN),
        "stale" => Ok(stale_nan()),
        _ => {
            if let Some(h) = s.strip_prefix("0x") {
                return i64::from_str_radix(h, 16)
                    .map(|v| v as f64)
                    .map_err(|e| format!("{s}: {e}"));
            }
            s.parse::<f64>().map_err(|e| format!("{s:?}: {e}"))
        }
    }
}

/// Splits `series values…` into the series text and the values text.
fn split_series(line: &str) -> (&str, &str) {
    let line = line.trim();
    let mut depth = 0;
    let mut in_str = false;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        if in_str {
            if c == '"' && prev != '\\' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if c == '{' {
            depth += 1;
        } else if c == '}' {
            depth -= 1;
            if depth == 0 {
                return (&line[..=i], &line[i + 1..]);
            }
        } else if c.is_whitespace() && depth == 0 {
            return (&line[..i], &line[i..]);
        }
        prev = if prev == '\\' && c == '\\' { ' ' } else { c };
    }
    (line, "")
}

/// The labels of a series written as a selector of `=` matchers.
pub fn parse_labels(s: &str) -> Result<Labels, String> {
    let matchers = parse_metric_selector(s).map_err(|e| format!("series {s:?}: {e}"))?;
    let mut pairs = Vec::new();
    for m in matchers {
        if m.op != MatchOp::Equal {
            return Err(format!("series {s:?}: only = matchers describe a series"));
        }
        pairs.push((m.name, m.value));
    }
    Ok(Labels::from_pairs(pairs))
}

/// Value tokens, keeping `{{…}}` histograms whole. Returns whether a
/// histogram appeared.
fn tokens(s: &str) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    let mut hist = false;
    for c in s.chars() {
        match c {
            '{' => {
                depth += 1;
                hist = true;
                cur.push(c);
            }
            '}' => {
                depth -= 1;
                cur.push(c);
            }
            c if c.is_whitespace() && depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    (out, hist)
}

/// Expands value tokens: `1+2x3` is 1 3 5 7, `1x2` is 1 1 1, `_x2` is
/// three missing points, `stale` a staleness marker. Histograms become
/// missing points (the caller skips them).
fn expand(tokens: &[String]) -> Result<Vec<Option<f64>>, String> {
    let mut out = Vec::new();
    for t in tokens {
        if t.starts_with("{{") {
            let n = match t.rsplit_once("}}x") {
                Some((_, n)) => n.parse::<usize>().map_err(|e| e.to_string())? + 1,
                None => 1,
            };
            out.extend(std::iter::repeat_n(None, n));
            continue;
        }
        if t == "_" {
            out.push(None);
            continue;
        }
        let Some((base, times)) = t.split_once('x') else {
            out.push(Some(parse_float(t)?));
            continue;
        };
        let n: usize = times.parse().map_err(|_| format!("bad repetition {t:?}"))?;
        if base == "_" {
            out.extend(std::iter::repeat_n(None, n));
            continue;
        }
        // a+d, a-d, or a (d = 0); `a` may itself carry a sign or exponent.
        let split = base
            .char_indices()
            .skip(1)
            .find(|&(i, c)| (c == '+' || c == '-') && !base[..i].ends_with(['e', 'E']))
            .map(|(i, _)| i);
        let (start, delta) = match split {
            Some(i) => (parse_float(&base[..i])?, parse_float(&base[i..])?),
            None => (parse_float(base)?, 0.0),
        };
        if is_stale_nan(start) {
            out.extend(std::iter::repeat_n(Some(start), n + 1));
            continue;
        }
        let mut v = start;
        out.push(Some(v));
        for _ in 0..n {
            v += delta;
            out.push(Some(v));
        }
    }
    Ok(out)
}
