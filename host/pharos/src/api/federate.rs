//! `GET /federate?match[]=…`: the latest sample of every series matching
//! any selector, within the 5 minute lookback, in the Prometheus text
//! format as Prometheus' federation writes it: series grouped by metric
//! name under `# TYPE <name> untyped`, the external labels added where a
//! series does not have them, explicit millisecond timestamps, stale
//! series left out.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pharos_model::{Labels, METRIC_NAME, Sample, is_stale_nan};
use pharos_promql::parse_metric_selector;

use super::params::Params;
use super::{ApiError, AppState};

/// Prometheus' default `--query.lookback-delta`.
const LOOKBACK_MS: i64 = 5 * 60 * 1000;

pub async fn federate(State(state): State<AppState>, params: Params) -> Response {
    match run(state, params).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => e.plain().into_response(),
    }
}

async fn run(state: AppState, params: Params) -> Result<String, ApiError> {
    let sets = params
        .all("match[]")
        .into_iter()
        .map(|s| parse_metric_selector(s).map_err(|e| ApiError::bad_data(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let external = state
        .reloader
        .as_ref()
        .map(|r| r.current().global.external_labels.clone())
        .unwrap_or_default();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let latest = state
        .storage(move |s| {
            let mut out: BTreeMap<Labels, Sample> = BTreeMap::new();
            for ms in &sets {
                for series in s.select(ms, now - LOOKBACK_MS, now)? {
                    if let Some(last) = series.samples().last().copied()
                        && !is_stale_nan(last.v)
                    {
                        out.insert(series.labels, last);
                    }
                }
            }
            Ok(out)
        })
        .await?;
    Ok(render(latest, &external))
}

/// The text body: by metric name, then labels.
fn render(latest: BTreeMap<Labels, Sample>, external: &Labels) -> String {
    let mut by_name: BTreeMap<String, Vec<(Labels, Sample)>> = BTreeMap::new();
    for (labels, sample) in latest {
        if let Some(name) = labels.metric_name() {
            by_name
                .entry(name.to_owned())
                .or_default()
                .push((labels, sample));
        }
    }
    let mut out = String::new();
    for (name, series) in by_name {
        out.push_str(&format!("# TYPE {name} untyped\n"));
        for (labels, sample) in series {
            out.push_str(&name);
            let mut pairs: Vec<(&str, &str)> = labels
                .iter()
                .filter(|l| l.name != METRIC_NAME)
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect();
            for l in external {
                if labels.get(&l.name).is_none() {
                    pairs.push((&l.name, &l.value));
                }
            }
            if !pairs.is_empty() {
                out.push('{');
                for (i, (n, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(n);
                    out.push_str("=\"");
                    escape_value(&mut out, v);
                    out.push('"');
                }
                out.push('}');
            }
            out.push(' ');
            out.push_str(&go_float(sample.v));
            out.push(' ');
            out.push_str(&sample.t.to_string());
            out.push('\n');
        }
    }
    out
}

/// Label value escaping of the text format: `\`, `"` and line feed.
fn escape_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A float as Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes it (what
/// the text format uses): shortest digits, exponent form below 1e-4 and
/// from 1e6 on.
pub(crate) fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_go() {
        for (v, want) in [
            (1.0, "1"),
            (0.5, "0.5"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1.5e300, "1.5e+300"),
            (-2.25, "-2.25"),
            (f64::INFINITY, "+Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(go_float(v), want, "{v}");
        }
    }

    #[test]
    fn renders_grouped_with_external_labels() {
        let mut latest = BTreeMap::new();
        latest.insert(
            Labels::from_pairs([("__name__", "up"), ("job", "b"), ("region", "x")]),
            Sample::new(2000, 0.0),
        );
        latest.insert(
            Labels::from_pairs([("__name__", "up"), ("job", "a")]),
            Sample::new(1000, 1.0),
        );
        latest.insert(
            Labels::from_pairs([("__name__", "a_metric"), ("v", "q\"\n")]),
            Sample::new(5, 2.5),
        );
        let external = Labels::from_pairs([("region", "eu")]);
        assert_eq!(
            render(latest, &external),
            "# TYPE a_metric untyped\na_metric{v=\"q\\\"\\n\",region=\"eu\"} 2.5 5\n\
             # TYPE up untyped\nup{job=\"a\",region=\"eu\"} 1 1000\nup{job=\"b\",region=\"x\"} 0 2000\n"
        );
    }
}
