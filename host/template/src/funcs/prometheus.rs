//! Prometheus 2.42's template functions (documented at
//! <https://prometheus.io/docs/prometheus/2.42/configuration/template_reference/>),
//! implemented from that documentation and checked against recorded
//! outputs of Prometheus 2.42 (`testdata/prometheus.cases`).
//!
//! `query` runs PromQL through a caller-supplied [`QueryRunner`]: this
//! crate does not depend on the PromQL engine.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Func, FuncMap, Param, arg_str};
use crate::fmt::format_float;
use crate::value::{ListKind, MapKind, Struct, Value};

/// One sample of a query result: its labels (including `__name__` if
/// any) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySample {
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// The sample value.
    pub value: f64,
}

/// Runs PromQL for the `query` function. Implementations evaluate `expr`
/// as an instant query at the rule's evaluation time and return a vector
/// (a scalar result as one sample without labels); the error text is what
/// the template error shows after `error calling query: `.
pub trait QueryRunner: Send + Sync {
    /// Evaluates `expr`.
    fn query(&self, expr: &str) -> Result<Vec<QuerySample>, String>;
}

/// What Prometheus' functions need from the server.
#[derive(Clone, Default)]
pub struct PrometheusContext {
    /// Runs `query`; without one, `query` fails with an error.
    pub query: Option<Arc<dyn QueryRunner>>,
    /// The external URL (`--web.external-url`), e.g. `http://host:9090/`.
    pub external_url: String,
}

/// Go type name of a query sample (a pointer to an unexported struct).
pub const SAMPLE_TYPE: &str = "*template.sample";

/// A `*template.sample` value as `first` returns it.
pub fn sample_value(s: &QuerySample) -> Value {
    Value::Struct(Arc::new(Struct {
        type_name: SAMPLE_TYPE.into(),
        fields: vec![
            ("Labels".into(), Value::string_map(s.labels.clone())),
            ("Value".into(), Value::Float(s.value)),
        ],
        pointer: true,
    }))
}

/// A `template.queryResult` as `query` returns it.
pub fn query_result(samples: &[QuerySample]) -> Value {
    Value::list(
        ListKind::QueryResult,
        samples.iter().map(sample_value).collect(),
    )
}

fn sample_labels(v: &Value) -> Option<&BTreeMap<String, Value>> {
    match v {
        Value::Struct(s) => match s.field("Labels") {
            Some(Value::Map(m)) => Some(&m.entries),
            _ => None,
        },
        _ => None,
    }
}

fn sample_label(v: &Value, name: &str) -> Result<String, String> {
    if matches!(v, Value::Nil | Value::Missing) {
        return Err("runtime error: invalid memory address or nil pointer dereference".into());
    }
    Ok(sample_labels(v)
        .and_then(|m| m.get(name))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string())
}

/// Go's `strconv.ParseFloat(s, 64)` with its error texts.
pub(crate) fn parse_float(s: &str) -> Result<f64, String> {
    let syntax = || {
        format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            crate::fmt::quote(s)
        )
    };
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    let special = matches!(lower.as_str(), "inf" | "infinity" | "nan");
    if !special
        && (body.is_empty()
            || !body
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')))
    {
        if let Some(f) = crate::literal::parse_go_float(s).filter(|_| lower.starts_with("0x")) {
            return Ok(f);
        }
        return Err(syntax());
    }
    let v: f64 = s.parse().map_err(|_| syntax())?;
    if v.is_infinite() && !special {
        return Err(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            crate::fmt::quote(s)
        ));
    }
    Ok(v)
}

/// Prometheus' `convertToFloat`: float64, int kinds and numeric strings.
pub(crate) fn to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::String(s) => parse_float(s),
        Value::Missing | Value::Nil => Err("can't convert <nil> to float".into()),
        other => Err(format!("can't convert {} to float", other.type_name())),
    }
}

fn g4(v: f64) -> String {
    format_float(v, 'g', Some(4))
}

/// `humanize`: SI prefixes (k, M, ... and m, u, n, ...), 4 significant digits.
pub fn humanize(v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    let mut v = v;
    if v.abs() >= 1.0 {
        let mut prefix = "";
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
        return format!("{}{prefix}", g4(v));
    }
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}", g4(v))
}

/// `humanize1024`: binary prefixes (ki, Mi, ...).
pub fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", g4(v))
}

/// `humanizeDuration`: seconds as `1d 2h 3m 4s`, or with SI prefixes
/// below one second.
pub fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    if v == 0.0 {
        return format!("{}s", g4(v));
    }
    if v.abs() >= 1.0 {
        let (sign, v) = if v < 0.0 { ("-", -v) } else { ("", v) };
        let d = if v >= 9.223372036854776e18 {
            i64::MIN
        } else {
            v as i64
        };
        let seconds = d % 60;
        let minutes = (d / 60) % 60;
        let hours = (d / 60 / 60) % 24;
        let days = d / 60 / 60 / 24;
        if days != 0 {
            return format!("{sign}{days}d {hours}h {minutes}m {seconds}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {minutes}m {seconds}s");
        }
        if minutes != 0 {
            return format!("{sign}{minutes}m {seconds}s");
        }
        return format!("{sign}{}s", g4(v));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", g4(v))
}

/// Seconds since the epoch to a UTC time truncated to milliseconds (as
/// Prometheus' `model.TimeFromUnixNano`), or the overflow error.
pub(crate) fn epoch_to_time(v: f64) -> Result<jiff::Zoned, String> {
    let ns = v * 1e9;
    if ns > i64::MAX as f64 || ns < i64::MIN as f64 {
        return Err(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            crate::fmt::format_float_v(v)
        ));
    }
    let ms = (ns as i64) / 1_000_000;
    let ts = jiff::Timestamp::from_millisecond(ms).map_err(|e| e.to_string())?;
    Ok(ts.to_zoned(jiff::tz::TimeZone::UTC))
}

/// Go's `strings.Title`.
pub fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            c.is_whitespace()
        };
    }
    out
}

/// Go's `regexp.MustCompile(pattern).ReplaceAllString(text, repl)`; the
/// error is the panic text Go's template reports.
pub(crate) fn re_replace_all(pattern: &str, repl: &str, text: &str) -> Result<String, String> {
    let re =
        compile(pattern).map_err(|e| format!("regexp: Compile({}): {e}", go_backquote(pattern)))?;
    Ok(re.replace_all(text, repl).into_owned())
}

fn go_backquote(s: &str) -> String {
    if s.contains('`') {
        crate::fmt::quote(s)
    } else {
        format!("`{s}`")
    }
}

fn compile(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| match e {
        regex::Error::Syntax(msg) => {
            let last = msg
                .lines()
                .rev()
                .find(|l| l.starts_with("error:"))
                .unwrap_or("error: invalid regexp")
                .trim_start_matches("error: ");
            // Go's RE2 error codes for the common mistakes.
            let code = match last {
                "unclosed group" => "missing closing )",
                "unopened group" => "unexpected )",
                "unclosed character class" => "missing closing ]",
                "repetition operator missing expression" => {
                    "missing argument to repetition operator"
                }
                l if l.contains("escape") => "invalid escape sequence",
                l if l.contains("repetition quantifier") => "invalid repeat count",
                l if l.contains("character class range") => "invalid character class range",
                l => l,
            };
            format!("error parsing regexp: {code}: `{pattern}`")
        }
        other => format!("error parsing regexp: {other}"),
    })
}

/// `regexp.MatchString`.
pub(crate) fn re_match(pattern: &str, s: &str) -> Result<bool, String> {
    Ok(compile(pattern)?.is_match(s))
}

/// Prometheus' duration syntax (`1d2h`, `5m`, `1y`), in seconds.
pub fn parse_prom_duration(s: &str) -> Result<f64, String> {
    let bad = || format!("not a valid duration string: {}", crate::fmt::quote(s));
    if s == "0" {
        return Ok(0.0);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let units: [(&str, u128); 7] = [
        ("y", 365 * 24 * 3600 * 1000),
        ("w", 7 * 24 * 3600 * 1000),
        ("d", 24 * 3600 * 1000),
        ("h", 3600 * 1000),
        ("m", 60 * 1000),
        ("s", 1000),
        ("ms", 1),
    ];
    let mut rest = s;
    let mut next_unit = 0;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(bad());
        }
        let num: u128 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let unit_len = if rest.starts_with("ms") {
            2
        } else {
            rest.chars().next().map_or(0, char::len_utf8)
        };
        let unit = &rest[..unit_len.min(rest.len())];
        let Some(idx) = units.iter().position(|(u, _)| *u == unit) else {
            return Err(bad());
        };
        if idx < next_unit {
            return Err(bad());
        }
        next_unit = idx + 1;
        total = total.saturating_add(num.saturating_mul(units[idx].1));
        rest = &rest[unit_len..];
    }
    if total > (i64::MAX as u128) / 1_000_000 {
        return Err("duration out of range".into());
    }
    Ok(total as f64 / 1000.0)
}

/// Go's `net.SplitHostPort`, `None` on error.
pub(crate) fn split_host_port(s: &str) -> Option<(String, String)> {
    let i = s.rfind(':')?;
    let host;
    if s.starts_with('[') {
        let end = s.find(']')?;
        if end + 1 == s.len() || end + 1 != i {
            return None;
        }
        host = &s[1..end];
        if host.contains('[') || host.contains(']') {
            return None;
        }
    } else {
        host = &s[..i];
        if host.contains(':') || host.contains('[') || host.contains(']') {
            return None;
        }
    }
    let port = &s[i + 1..];
    if port.contains('[') || port.contains(']') {
        return None;
    }
    Some((host.to_string(), port.to_string()))
}

/// `stripPort`: the host of `host:port`, or the input unchanged.
pub fn strip_port(s: &str) -> String {
    split_host_port(s).map_or_else(|| s.to_string(), |(h, _)| h)
}

/// `stripDomain`: the first label of a host name, keeping a port; IPs
/// unchanged.
pub fn strip_domain(s: &str) -> String {
    let (host, port) = split_host_port(s).unwrap_or_else(|| (s.to_string(), String::new()));
    if host.parse::<std::net::IpAddr>().is_ok() {
        return s.to_string();
    }
    let first = host.split('.').next().unwrap_or_default().to_string();
    if port.is_empty() {
        first
    } else if first.contains(':') {
        format!("[{first}]:{port}")
    } else {
        format!("{first}:{port}")
    }
}

fn url_path(u: &str) -> String {
    let after_scheme = u.split_once("://").map_or(u, |(_, r)| r);
    let path_start = after_scheme.find('/');
    match path_start {
        Some(i) => {
            let p = &after_scheme[i..];
            p.split(['?', '#']).next().unwrap_or_default().to_string()
        }
        None => String::new(),
    }
}

/// The Prometheus function family. `tmpl` is not included: Prometheus
/// only defines it for console (HTML) templates; see [`tmpl_func`].
pub fn funcs(ctx: PrometheusContext) -> FuncMap {
    use Param::{Any, Float, String as S};
    let mut m = FuncMap::new();
    let query = ctx.query.clone();
    m.insert(
        "query",
        Func::simple(vec![S], move |a| {
            let expr = arg_str(&a, 0);
            match &query {
                Some(q) => q.query(&expr).map(|r| query_result(&r)),
                None => Err("query is not supported here".into()),
            }
        }),
    );
    let qr = Param::Named("template.queryResult");
    let sample = Param::Named(SAMPLE_TYPE);
    m.insert(
        "first",
        Func::simple(vec![qr.clone()], |a| match &a[0] {
            Value::List(l) if !l.items.is_empty() => Ok(l.items[0].clone()),
            _ => Err("first() called on vector with no elements".into()),
        }),
    );
    m.insert(
        "label",
        Func::simple(vec![S, sample.clone()], |a| {
            sample_label(&a[1], &arg_str(&a, 0)).map(Value::from)
        }),
    );
    m.insert(
        "value",
        Func::simple(vec![sample.clone()], |a| match &a[0] {
            Value::Struct(s) => Ok(s.field("Value").cloned().unwrap_or(Value::Float(0.0))),
            _ => Err("runtime error: invalid memory address or nil pointer dereference".into()),
        }),
    );
    m.insert(
        "strvalue",
        Func::simple(vec![sample], |a| {
            sample_label(&a[0], "__value__").map(Value::from)
        }),
    );
    m.insert(
        "args",
        Func::variadic(vec![Any], |_, a| {
            let entries = a
                .into_iter()
                .enumerate()
                .map(|(i, v)| (format!("arg{i}"), v))
                .collect();
            Ok(Value::map(MapKind::Any, entries))
        }),
    );
    m.insert(
        "reReplaceAll",
        Func::simple(vec![S, S, S], |a| {
            re_replace_all(&arg_str(&a, 0), &arg_str(&a, 1), &arg_str(&a, 2)).map(Value::from)
        }),
    );
    m.insert(
        "safeHtml",
        Func::simple(vec![S], |a| Ok(Value::Html(arg_str(&a, 0).into()))),
    );
    m.insert(
        "match",
        Func::simple(vec![S, S], |a| {
            re_match(&arg_str(&a, 0), &arg_str(&a, 1)).map(Value::Bool)
        }),
    );
    m.insert(
        "title",
        Func::simple(vec![S], |a| Ok(Value::from(title(&arg_str(&a, 0))))),
    );
    m.insert(
        "toUpper",
        Func::simple(vec![S], |a| Ok(Value::from(arg_str(&a, 0).to_uppercase()))),
    );
    m.insert(
        "toLower",
        Func::simple(vec![S], |a| Ok(Value::from(arg_str(&a, 0).to_lowercase()))),
    );
    m.insert(
        "graphLink",
        Func::simple(vec![S], |a| {
            Ok(Value::from(format!(
                "/graph?g0.expr={}&g0.tab=0",
                super::go::query_escape(&arg_str(&a, 0))
            )))
        }),
    );
    m.insert(
        "tableLink",
        Func::simple(vec![S], |a| {
            Ok(Value::from(format!(
                "/graph?g0.expr={}&g0.tab=1",
                super::go::query_escape(&arg_str(&a, 0))
            )))
        }),
    );
    m.insert(
        "sortByLabel",
        Func::simple(vec![S, qr], |a| {
            let label = arg_str(&a, 0);
            match &a[1] {
                Value::List(l) => {
                    let mut items = l.items.clone();
                    items.sort_by(|x, y| {
                        let lx = sample_label(x, &label).unwrap_or_default();
                        let ly = sample_label(y, &label).unwrap_or_default();
                        lx.cmp(&ly)
                    });
                    Ok(Value::list(ListKind::QueryResult, items))
                }
                other => Ok(other.clone()),
            }
        }),
    );
    m.insert(
        "humanize",
        Func::simple(vec![Any], |a| {
            to_float(&a[0]).map(|v| Value::from(humanize(v)))
        }),
    );
    m.insert(
        "humanize1024",
        Func::simple(vec![Any], |a| {
            to_float(&a[0]).map(|v| Value::from(humanize1024(v)))
        }),
    );
    m.insert(
        "humanizeDuration",
        Func::simple(vec![Any], |a| {
            to_float(&a[0]).map(|v| Value::from(humanize_duration(v)))
        }),
    );
    m.insert(
        "humanizePercentage",
        Func::simple(vec![Any], |a| {
            to_float(&a[0]).map(|v| Value::from(format!("{}%", g4(v * 100.0))))
        }),
    );
    m.insert(
        "humanizeTimestamp",
        Func::simple(vec![Any], |a| {
            let v = to_float(&a[0])?;
            if v.is_nan() || v.is_infinite() {
                return Ok(Value::from(g4(v)));
            }
            epoch_to_time(v).map(|t| Value::from(crate::gotime::time_string(&t)))
        }),
    );
    m.insert(
        "toTime",
        Func::simple(vec![Any], |a| {
            let v = to_float(&a[0])?;
            epoch_to_time(v).map(|t| Value::Time(Arc::new(t)))
        }),
    );
    let url = ctx.external_url.clone();
    m.insert(
        "pathPrefix",
        Func::simple(vec![], move |_| Ok(Value::from(url_path(&url)))),
    );
    let url = ctx.external_url;
    m.insert(
        "externalURL",
        Func::simple(vec![], move |_| Ok(Value::from(url.clone()))),
    );
    m.insert(
        "parseDuration",
        Func::simple(vec![S], |a| {
            parse_prom_duration(&arg_str(&a, 0)).map(Value::Float)
        }),
    );
    m.insert(
        "stripPort",
        Func::simple(vec![S], |a| Ok(Value::from(strip_port(&arg_str(&a, 0))))),
    );
    m.insert(
        "stripDomain",
        Func::simple(vec![S], |a| Ok(Value::from(strip_domain(&arg_str(&a, 0))))),
    );
    let _ = Float;
    m
}

/// Prometheus' console-template `tmpl`: runs a named template of the set
/// and returns its output as `template.HTML`.
pub fn tmpl_func() -> Func {
    Func::new(vec![Param::String, Param::Any], |ctx, a| {
        let name = arg_str(&a, 0);
        let data = a.get(1).cloned().unwrap_or_default();
        ctx.execute_template(&name, data)
            .map(|s| Value::Html(s.into()))
    })
}
