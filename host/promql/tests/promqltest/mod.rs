//! A runner for PromQL test scripts: loads series into an in-memory
//! storage, evaluates each `eval` with the engine and compares the result
//! with the expectation as Prometheus' `promqltest` does (floats within a
//! relative 1e-6, NaN equal to NaN, instant results unordered unless
//! `expect ordered`).

pub mod script;

use std::collections::BTreeMap;

use pharos_model::{Labels, Matcher, Sample};
use pharos_promql::{Engine, EngineOptions, QueryRequest, QueryValue, parse};
use pharos_tsdb::{Queryable, Series};
use regex::Regex;

use script::{Command, Eval, Expected, When};

/// What one script gave.
#[derive(Debug, Default)]
pub struct Report {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// `line: reason` for each failed eval.
    pub failures: Vec<String>,
}

/// Runs a whole script.
pub fn run(text: &str) -> Result<Report, String> {
    let commands = script::parse(text)?;
    let engine = Engine::new(EngineOptions::default());
    let mut storage = TestStorage::default();
    let mut histograms: Vec<Labels> = Vec::new();
    let mut report = Report::default();
    for c in commands {
        match c {
            Command::Clear => {
                storage = TestStorage::default();
                histograms.clear();
            }
            Command::Load(l) => {
                histograms.extend(l.histograms);
                for (labels, vals) in l.series {
                    let series = storage.0.entry(labels).or_default();
                    for (i, v) in vals.into_iter().enumerate() {
                        if let Some(v) = v {
                            // A later value for the same time wins, as in
                            // Prometheus' test loader.
                            series.insert(i as i64 * l.interval, v);
                        }
                    }
                }
            }
            Command::Eval(e) => {
                if e.histograms || selects_any(&e.query, &histograms) {
                    report.skipped += 1;
                    continue;
                }
                match check(&engine, &storage, &e) {
                    Ok(()) => report.passed += 1,
                    Err(why) => {
                        report.failed += 1;
                        report
                            .failures
                            .push(format!("line {}: {}: {why}", e.line, e.query));
                    }
                }
            }
        }
    }
    Ok(report)
}

fn almost_equal(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || diff < f64::MIN_POSITIVE {
        return diff < 1e-6 * f64::MIN_POSITIVE;
    }
    diff / (a.abs() + b.abs()).min(f64::MAX) < 1e-6
}

fn check(engine: &Engine, storage: &TestStorage, e: &Eval) -> Result<(), String> {
    let mut expr = match parse(&e.query) {
        Ok(x) => x,
        Err(err) => {
            return match &e.fail {
                Some(f) => check_fail_msg(f, &err.to_string()),
                None => Err(format!("parse error: {err}")),
            };
        }
    };
    check_expr(engine, storage, e, &expr, &e.when)?;
    // As Prometheus' runner does: an instant query with `@ <its time>` on
    // every selector must give the same answer evaluated at another time.
    if let When::Instant(t) = e.when
        && e.fail.is_none()
        && !depends_on_eval_time(&e.query)
        && pin_at(&mut expr, t)
    {
        check_expr(engine, storage, e, &expr, &When::Instant(t + 60_000))
            .map_err(|why| format!("with @ {t}ms added to every selector: {why}"))?;
    }
    Ok(())
}

/// Queries whose answer depends on the evaluation time itself, not only
/// on the data: the `@` re-run does not apply.
fn depends_on_eval_time(q: &str) -> bool {
    [
        "time(",
        "timestamp(",
        "day_of_",
        "days_in_month",
        "hour(",
        "minute(",
        "month(",
        "year(",
        "predict_linear",
        "start()",
        "end()",
        "step()",
        "range()",
        "@",
    ]
    .iter()
    .any(|f| q.contains(f))
}

/// Adds `@ t` to every selector and subquery that has none. Returns
/// whether anything was pinned.
fn pin_at(e: &mut pharos_promql::Expr, t: i64) -> bool {
    use pharos_promql::{AtModifier, Expr};
    match e {
        Expr::VectorSelector(vs) => {
            vs.at = Some(AtModifier::Timestamp(t));
            true
        }
        Expr::MatrixSelector(ms) => {
            ms.vs.at = Some(AtModifier::Timestamp(t));
            true
        }
        Expr::Subquery(sq) => {
            sq.at = Some(AtModifier::Timestamp(t));
            true
        }
        Expr::Unary(u) => pin_at(&mut u.expr, t),
        Expr::Paren(p) => pin_at(&mut p.expr, t),
        Expr::Binary(b) => pin_at(&mut b.lhs, t) | pin_at(&mut b.rhs, t),
        Expr::Aggregate(a) => {
            let x = a.param.as_mut().is_some_and(|p| pin_at(p, t));
            pin_at(&mut a.expr, t) | x
        }
        Expr::Call(c) => c.args.iter_mut().fold(false, |acc, a| pin_at(a, t) | acc),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => false,
    }
}

fn check_expr(
    engine: &Engine,
    storage: &TestStorage,
    e: &Eval,
    expr: &pharos_promql::Expr,
    when: &When,
) -> Result<(), String> {
    let req = match *when {
        When::Instant(t) => QueryRequest::instant(expr, &e.query, t),
        When::Range { start, end, step } => QueryRequest::range(expr, &e.query, start, end, step),
    };
    let res = match engine.exec(storage, req) {
        Ok(r) => r,
        Err(err) => {
            return match &e.fail {
                Some(f) => check_fail_msg(f, &err.to_string()),
                None => Err(format!("unexpected error: {err}")),
            };
        }
    };
    if e.fail.is_some() {
        return Err("expected an error, got a result".into());
    }
    check_annotations("warning", &e.warn, &res.annotations.warnings)?;
    check_annotations("info", &e.info, &res.annotations.infos)?;
    if let Some(s) = &e.string {
        return match &res.value {
            QueryValue::String { s: got, .. } if got == s => Ok(()),
            other => Err(format!("expected string {s:?}, got {other:?}")),
        };
    }
    match (when, &res.value) {
        (When::Instant(_), QueryValue::Scalar { f, .. }) => match e.expected.as_slice() {
            [Expected::Scalar(x)] if almost_equal(*x, *f) => Ok(()),
            other => Err(format!("expected {other:?}, got scalar {f}")),
        },
        (When::Instant(_), QueryValue::Vector { samples, .. }) => compare_instant(e, samples),
        (When::Instant(_), QueryValue::Matrix(series)) => {
            let Some((start, _, step)) = e.range_vector else {
                return Err("got a range vector without `expect range vector`".into());
            };
            compare_matrix(
                e,
                series.iter().map(|s| (&s.labels, &s.points)),
                start,
                step,
            )
        }
        (When::Range { start, step, .. }, QueryValue::Matrix(series)) => compare_matrix(
            e,
            series.iter().map(|s| (&s.labels, &s.points)),
            *start,
            *step,
        ),
        (_, other) => Err(format!("unexpected result {other:?}")),
    }
}

fn check_fail_msg(f: &(Option<String>, Option<String>), got: &str) -> Result<(), String> {
    match f {
        (Some(m), _) if m != got => Err(format!("expected error {m:?}, got {got:?}")),
        (_, Some(r)) => {
            let re = Regex::new(r).map_err(|e| e.to_string())?;
            if re.is_match(got) {
                Ok(())
            } else {
                Err(format!("error {got:?} does not match {r:?}"))
            }
        }
        _ => Ok(()),
    }
}

fn check_annotations(kind: &str, a: &script::Annotation, got: &[String]) -> Result<(), String> {
    if a.none && !got.is_empty() {
        return Err(format!("expected no {kind}, got {got:?}"));
    }
    if a.expected && got.is_empty() {
        return Err(format!("expected a {kind}, got none"));
    }
    for m in &a.msgs {
        if !got.contains(m) {
            return Err(format!("expected {kind} {m:?}, got {got:?}"));
        }
    }
    for r in &a.regexes {
        let re = Regex::new(r).map_err(|e| e.to_string())?;
        if !got.iter().any(|g| re.is_match(g)) {
            return Err(format!("expected {kind} matching {r:?}, got {got:?}"));
        }
    }
    Ok(())
}

fn compare_instant(e: &Eval, got: &[(Labels, f64)]) -> Result<(), String> {
    let mut want: Vec<(&Labels, f64)> = Vec::new();
    for x in &e.expected {
        match x {
            Expected::Series(l, v) if v.len() == 1 => {
                want.push((l, v[0].unwrap_or(f64::NAN)));
            }
            Expected::Series(l, v) => {
                return Err(format!(
                    "expected {} values for {l} in an instant eval",
                    v.len()
                ));
            }
            Expected::Scalar(f) => return Err(format!("expected scalar {f}, got a vector")),
        }
    }
    if want.len() != got.len() {
        return Err(format!(
            "expected {} samples, got {}: {}",
            want.len(),
            got.len(),
            show(got)
        ));
    }
    if e.ordered {
        for (i, ((wl, wv), (gl, gv))) in want.iter().zip(got).enumerate() {
            if *wl != gl || !almost_equal(*wv, *gv) {
                return Err(format!(
                    "at position {i}: expected {wl} {wv}, got {gl} {gv}"
                ));
            }
        }
        return Ok(());
    }
    for (wl, wv) in &want {
        match got.iter().find(|(gl, _)| gl == *wl) {
            Some((_, gv)) if almost_equal(*wv, *gv) => {}
            Some((_, gv)) => return Err(format!("{wl}: expected {wv}, got {gv}")),
            None => return Err(format!("missing {wl}; got {}", show(got))),
        }
    }
    Ok(())
}

fn show(got: &[(Labels, f64)]) -> String {
    got.iter()
        .map(|(l, v)| format!("{l} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn compare_matrix<'a>(
    e: &Eval,
    got: impl Iterator<Item = (&'a Labels, &'a Vec<pharos_promql::engine::Point>)>,
    start: i64,
    step: i64,
) -> Result<(), String> {
    let got: Vec<_> = got.collect();
    let mut want = Vec::new();
    for x in &e.expected {
        match x {
            Expected::Series(l, v) => {
                let pts: Vec<(i64, f64)> = v
                    .iter()
                    .enumerate()
                    .filter_map(|(i, f)| f.map(|f| (start + i as i64 * step, f)))
                    .collect();
                want.push((l.clone(), pts));
            }
            Expected::Scalar(f) => want.push((Labels::empty(), vec![(start, *f)])),
        }
    }
    if want.len() != got.len() {
        let names: Vec<String> = got.iter().map(|(l, p)| format!("{l} {:?}", p)).collect();
        return Err(format!(
            "expected {} series, got {}: {}",
            want.len(),
            got.len(),
            names.join("; ")
        ));
    }
    for (wl, wp) in &want {
        let Some((_, gp)) = got.iter().find(|(gl, _)| *gl == wl) else {
            return Err(format!("missing series {wl}"));
        };
        let same = gp.len() == wp.len()
            && gp
                .iter()
                .zip(wp)
                .all(|(g, w)| g.t == w.0 && almost_equal(g.f, w.1));
        if !same {
            return Err(format!(
                "{wl}: expected {wp:?}, got {:?}",
                gp.iter().map(|p| (p.t, p.f)).collect::<Vec<_>>()
            ));
        }
    }
    Ok(())
}

/// The series a script loaded: a later sample at the same time replaces
/// an earlier one.
#[derive(Default)]
struct TestStorage(BTreeMap<Labels, BTreeMap<i64, f64>>);

fn matches(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers
        .iter()
        .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
}

impl TestStorage {
    fn selected<'a>(
        &'a self,
        matchers: &'a [Matcher],
        mint: i64,
        maxt: i64,
    ) -> impl Iterator<Item = (&'a Labels, Vec<Sample>)> + 'a {
        self.0.iter().filter_map(move |(l, s)| {
            if !matches(l, matchers) {
                return None;
            }
            let samples: Vec<Sample> = s
                .range(mint..=maxt)
                .map(|(&t, &v)| Sample::new(t, v))
                .collect();
            (!samples.is_empty()).then_some((l, samples))
        })
    }
}

impl Queryable for TestStorage {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Series>, pharos_tsdb::Error> {
        Ok(self
            .selected(matchers, mint, maxt)
            .map(|(l, s)| Series::from_samples(l.clone(), s))
            .collect())
    }

    fn label_names(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, pharos_tsdb::Error> {
        let mut names: Vec<String> = self
            .selected(matchers, mint, maxt)
            .flat_map(|(l, _)| l.iter().map(|x| x.name.clone()).collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<String>, pharos_tsdb::Error> {
        let mut values: Vec<String> = self
            .selected(matchers, mint, maxt)
            .filter_map(|(l, _)| l.get(name).map(str::to_string))
            .collect();
        values.sort();
        values.dedup();
        Ok(values)
    }
}

/// Whether a selector of `query` selects one of `series`.
fn selects_any(query: &str, series: &[Labels]) -> bool {
    fn walk(e: &pharos_promql::Expr, f: &mut dyn FnMut(&[Matcher])) {
        use pharos_promql::Expr;
        match e {
            Expr::VectorSelector(vs) => f(&vs.matchers),
            Expr::MatrixSelector(ms) => f(&ms.vs.matchers),
            Expr::Subquery(s) => walk(&s.expr, f),
            Expr::Unary(u) => walk(&u.expr, f),
            Expr::Paren(p) => walk(&p.expr, f),
            Expr::Binary(b) => {
                walk(&b.lhs, f);
                walk(&b.rhs, f);
            }
            Expr::Aggregate(a) => {
                walk(&a.expr, f);
                if let Some(p) = &a.param {
                    walk(p, f);
                }
            }
            Expr::Call(c) => c.args.iter().for_each(|a| walk(a, f)),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => {}
        }
    }
    if series.is_empty() {
        return false;
    }
    let Ok(expr) = parse(query) else {
        return false;
    };
    let mut hit = false;
    walk(&expr, &mut |m| hit |= series.iter().any(|s| matches(s, m)));
    hit
}
