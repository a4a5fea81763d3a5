//! The PromQL test script format (Prometheus' `promqltest`): `load`,
//! `clear` and `eval` commands with their expectations. See
//! `shared/conformance/promql/NOTICE.md` for the format in short.

use pharos_model::Labels;
use pharos_promql::series_desc::{parse_sample_value, parse_series_desc};

/// One command of a script.
#[derive(Debug)]
pub enum Command {
    Load(Load),
    Clear,
    Eval(Box<Eval>),
}

#[derive(Debug)]
pub struct Load {
    pub interval: i64,
    pub series: Vec<(Labels, Vec<Option<f64>>)>,
    /// Series loaded as native histograms (or converted to them by
    /// `load_with_nhcb`): the runner skips evals that select them.
    pub histograms: Vec<Labels>,
}

#[derive(Debug, Clone)]
pub enum When {
    Instant(i64),
    Range { start: i64, end: i64, step: i64 },
}

#[derive(Debug, Clone, Default)]
pub struct Annotation {
    pub expected: bool,
    pub none: bool,
    pub msgs: Vec<String>,
    pub regexes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Eval {
    pub line: usize,
    pub query: String,
    pub when: When,
    pub fail: Option<(Option<String>, Option<String>)>,
    pub warn: Annotation,
    pub info: Annotation,
    pub ordered: bool,
    pub string: Option<String>,
    /// `expect range vector from a to b step s`.
    pub range_vector: Option<(i64, i64, i64)>,
    /// Expected series (labels and points), or a scalar.
    pub expected: Vec<Expected>,
    /// The expectation mentions native histograms.
    pub histograms: bool,
}

#[derive(Debug, Clone)]
pub enum Expected {
    Series(Labels, Vec<Option<f64>>),
    Scalar(f64),
}

/// A duration or time as the scripts write it: `10m`, `1m30s`, `0`,
/// `100s`, `20s500ms`, optionally negative; a plain number is seconds.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if let Ok(secs) = s.parse::<f64>() {
        let ms = (secs * 1000.0).round() as i64;
        return Ok(if neg { -ms } else { ms });
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(format!("bad duration {s:?}"));
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| format!("bad duration {s:?}"))?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let ms = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return Err(format!("bad duration unit in {s:?}")),
        };
        total += n * ms;
    }
    Ok(if neg { -total } else { total })
}

/// The native histogram `load_with_nhcb` makes of a classic bucket series:
/// the name without `_bucket`, no `le`.
fn nhcb_series(l: &Labels) -> Option<Labels> {
    let name = l.metric_name()?.strip_suffix("_bucket")?;
    l.get("le")?;
    let mut b = l.to_builder();
    b.del("le");
    b.set(pharos_model::METRIC_NAME, name.to_string());
    Some(b.build())
}

fn indented(line: &str) -> bool {
    line.starts_with([' ', '\t'])
}

/// Parses a whole script.
pub fn parse(text: &str) -> Result<Vec<Command>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        i += 1;
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let err = |m: String| format!("line {i}: {m}");
        let body_end = {
            let mut j = i;
            while j < lines.len() && indented(lines[j]) && !lines[j].trim().is_empty() {
                j += 1;
            }
            j
        };
        let body: Vec<&str> = lines[i..body_end]
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.starts_with('#'))
            .collect();
        if t == "clear" {
            out.push(Command::Clear);
        } else if let Some(rest) = t.strip_prefix("load") {
            let (kind, interval) = rest.trim().rsplit_once(' ').unwrap_or(("", rest.trim()));
            let kind = kind.trim();
            let interval = parse_time(interval.trim()).map_err(err)?;
            let nhcb = kind.ends_with("_with_nhcb");
            let mut load = Load {
                interval,
                series: Vec::new(),
                histograms: Vec::new(),
            };
            for l in &body {
                let d = parse_series_desc(l).map_err(err)?;
                if d.histograms {
                    load.histograms.push(d.labels.clone());
                }
                if nhcb && let Some(h) = nhcb_series(&d.labels) {
                    load.histograms.push(h);
                }
                load.series.push((d.labels, d.values));
            }
            out.push(Command::Load(load));
            i = body_end;
        } else if let Some(rest) = t.strip_prefix("eval") {
            let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            let words: Vec<&str> = rest.split_whitespace().collect();
            let (when, skip) = match words.first() {
                Some(&"instant") if words.get(1) == Some(&"at") => (
                    When::Instant(parse_time(words.get(2).copied().unwrap_or("")).map_err(err)?),
                    3,
                ),
                Some(&"range") => {
                    let get = |k: usize| parse_time(words.get(k).copied().unwrap_or(""));
                    (
                        When::Range {
                            start: get(2).map_err(err)?,
                            end: get(4).map_err(err)?,
                            step: get(6).map_err(err)?,
                        },
                        7,
                    )
                }
                _ => return Err(err(format!("bad eval: {t}"))),
            };
            let query = nth_rest(rest, skip).trim().to_string();
            let mut e = Eval {
                line: i,
                query,
                when,
                fail: None,
                warn: Annotation::default(),
                info: Annotation::default(),
                ordered: kind == "_ordered",
                string: None,
                range_vector: None,
                expected: Vec::new(),
                histograms: false,
            };
            match kind {
                "_fail" => e.fail = Some((None, None)),
                "_warn" => e.warn.expected = true,
                "_info" => e.info.expected = true,
                _ => {}
            }
            for l in &body {
                if let Some(x) = l.strip_prefix("expect ") {
                    expectation(&mut e, x.trim()).map_err(err)?;
                } else if let Ok(f) = parse_sample_value(l) {
                    e.expected.push(Expected::Scalar(f));
                } else {
                    let d = parse_series_desc(l).map_err(err)?;
                    e.histograms |= d.histograms;
                    e.expected.push(Expected::Series(d.labels, d.values));
                }
            }
            out.push(Command::Eval(Box::new(e)));
            i = body_end;
        } else {
            return Err(err(format!("unknown command: {t}")));
        }
    }
    Ok(out)
}

fn expectation(e: &mut Eval, x: &str) -> Result<(), String> {
    let (word, rest) = x.split_once(' ').unwrap_or((x, ""));
    let (word, rest) = match word.split_once(':') {
        // `fail msg:text` written without a space
        Some((w, r)) if !r.is_empty() => (w, x[w.len()..].trim_start()),
        _ => (word, rest.trim()),
    };
    let word = word.trim_end_matches(':');
    let detail = |rest: &str| -> (Option<String>, Option<String>) {
        if let Some(m) = rest.strip_prefix("msg:") {
            (Some(m.trim().to_string()), None)
        } else if let Some(r) = rest.strip_prefix("regex:") {
            (None, Some(r.trim().to_string()))
        } else {
            (None, None)
        }
    };
    match word {
        "fail" => e.fail = Some(detail(rest)),
        "warn" | "info" => {
            let (m, r) = detail(rest);
            let a = if word == "warn" {
                &mut e.warn
            } else {
                &mut e.info
            };
            a.expected = true;
            a.msgs.extend(m);
            a.regexes.extend(r);
        }
        "no_warn" => e.warn.none = true,
        "no_info" => e.info.none = true,
        "ordered" => e.ordered = true,
        "string" => {
            let s = rest.trim();
            e.string = Some(s.trim_matches(['"', '`', '\'']).to_string());
        }
        "range" => {
            // range vector from <a> to <b> step <s>
            let w: Vec<&str> = rest.split_whitespace().collect();
            let get = |k: usize| parse_time(w.get(k).copied().unwrap_or(""));
            e.range_vector = Some((get(2)?, get(4)?, get(6)?));
        }
        _ => return Err(format!("unknown expectation {x:?}")),
    }
    Ok(())
}

/// `s` after its first `n` whitespace-separated words.
fn nth_rest(s: &str, n: usize) -> &str {
    let mut rest = s.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest
}
