//! Running one test file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pharos_model::{Labels, Sample, format_duration};
use pharos_promql::series_desc::{parse_labels, parse_series_desc};
use pharos_promql::{Engine, EngineOptions};
use pharos_tsdb::{MemStorage, SeriesAppend, Storage};

use super::format::{TestFile, TestGroup};
use crate::alerting::{AlertState, millis};
use crate::group::{Group, GroupEnv};
use crate::rulefmt::{self, RuleFile};

/// Runs every test group of the file at `path`: `Err` holds promtool's
/// failure texts.
pub fn test_file(path: &Path) -> Result<(), Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| vec![e.to_string()])?;
    let file: TestFile =
        serde_yaml_ng::from_str(&text).map_err(|e| vec![super::format::error_text(&e)])?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let rule_paths = resolve(dir, &file.rule_files)?;
    let mut order = BTreeMap::new();
    for (i, g) in file.group_eval_order.iter().enumerate() {
        if order.insert(g.clone(), i).is_some() {
            return Err(vec![format!(
                "group name repeated in evaluation order: {g}"
            )]);
        }
    }
    let interval = file
        .evaluation_interval
        .map(|d| d.get())
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(60));
    let mut errors = Vec::new();
    for tg in &file.tests {
        errors.extend(test_group(tg, interval, &order, &rule_paths));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Rule file paths relative to the test file, globs expanded.
fn resolve(dir: &Path, patterns: &[String]) -> Result<Vec<PathBuf>, Vec<String>> {
    let mut out = Vec::new();
    for p in patterns {
        let found = crate::files::resolve_pattern(p, dir).map_err(|e| vec![e.to_string()])?;
        if found.is_empty() && !p.contains(['*', '?', '[']) {
            // Not a pattern: let loading report the missing file.
            out.push(dir.join(p));
        }
        out.extend(found);
    }
    Ok(out)
}

fn test_group(
    tg: &TestGroup,
    eval_interval: Duration,
    order: &BTreeMap<String, usize>,
    rule_paths: &[PathBuf],
) -> Vec<String> {
    let name_line = if tg.name.is_empty() {
        String::new()
    } else {
        format!("    name: {},\n", tg.name)
    };
    let series_interval = tg
        .interval
        .map(|d| d.get())
        .filter(|d| !d.is_zero())
        .unwrap_or(eval_interval);
    // The input, sorted by time so it can be loaded up to each step.
    let mut input: Vec<(i64, Labels, f64)> = Vec::new();
    for s in &tg.input_series {
        let d = match parse_series_desc(&format!("{} {}", s.series, s.values)) {
            Ok(d) => d,
            Err(e) => return vec![e],
        };
        for (i, v) in d.values.iter().enumerate() {
            if let Some(v) = v {
                input.push((i as i64 * millis(series_interval), d.labels.clone(), *v));
            }
        }
    }
    input.sort_by_key(|(t, _, _)| *t);

    let mut files: Vec<RuleFile> = Vec::new();
    for p in rule_paths {
        match rulefmt::load_file(p) {
            Ok(f) => files.push(f),
            Err(errs) => return errs.iter().map(ToString::to_string).collect(),
        }
    }
    let mut groups: Vec<Group> = files
        .iter()
        .flat_map(|f| {
            f.groups
                .iter()
                .map(|g| Group::new(&f.path, g, series_interval, Duration::ZERO, false))
        })
        .collect();
    groups.sort_by_key(|g| order.get(&g.name).copied().unwrap_or(0));

    for t in &tg.alert_rule_test {
        if t.alertname.is_empty() {
            let in_group = if tg.name.is_empty() {
                String::new()
            } else {
                format!(" (in TestGroup {})", tg.name)
            };
            return vec![format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}{in_group}",
                format_duration(t.eval_time.get())
            )];
        }
    }
    let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
    let engine = Engine::new(EngineOptions::default());
    let external_labels = Labels::from_pairs(tg.external_labels.clone());
    let env = GroupEnv {
        engine: &engine,
        storage: &storage,
        external_labels: &external_labels,
        external_url: &tg.external_url,
        resend_delay: 60_000,
        outage_tolerance: Duration::from_secs(3600),
        grace_period: Duration::from_secs(600),
    };
    let step = millis(eval_interval).max(1);
    let max_t = tg
        .alert_rule_test
        .iter()
        .map(|t| millis(t.eval_time.get()))
        .chain(
            tg.promql_expr_test
                .iter()
                .map(|t| millis(t.eval_time.get())),
        )
        .max()
        .unwrap_or(0);
    let alert_times: BTreeSet<i64> = tg
        .alert_rule_test
        .iter()
        .map(|t| millis(t.eval_time.get()))
        .collect();
    let mut alert_times = alert_times.into_iter().peekable();
    let mut errors = Vec::new();
    let mut loaded = 0;
    let mut ts = 0;
    while ts <= max_t {
        let upto = input.partition_point(|(t, _, _)| *t <= ts);
        if upto > loaded {
            let batch: Vec<SeriesAppend> = input[loaded..upto]
                .iter()
                .map(|(t, l, v)| SeriesAppend {
                    labels: l.clone(),
                    samples: vec![Sample::new(*t, *v)],
                })
                .collect();
            if let Err(e) = storage.append(&batch) {
                return vec![e.to_string()];
            }
            loaded = upto;
        }
        let mut eval_errors = Vec::new();
        for g in &mut groups {
            g.eval(&env, ts);
            for r in &g.rules {
                if let Some(e) = &r.last_error {
                    eval_errors.push(format!(
                        "    rule: {}, time: {}, err: {e}",
                        r.name(),
                        format_duration(Duration::from_millis(ts as u64))
                    ));
                }
            }
        }
        if !eval_errors.is_empty() {
            errors.extend(eval_errors);
            return errors;
        }
        // Alert tests whose time falls in [ts, ts + step) are checked now.
        while let Some(&t) = alert_times.peek() {
            if !(ts <= t && t < ts + step) {
                break;
            }
            alert_times.next();
            for test in tg
                .alert_rule_test
                .iter()
                .filter(|a| millis(a.eval_time.get()) == t)
            {
                let mut got: Vec<(Labels, Labels)> = groups
                    .iter()
                    .flat_map(|g| &g.rules)
                    .filter(|r| r.is_alerting() && r.name() == test.alertname)
                    .flat_map(|r| r.alerts.active.values())
                    .filter(|a| a.state == AlertState::Firing)
                    .map(|a| (a.labels.clone(), a.annotations.clone()))
                    .collect();
                let mut exp: Vec<(Labels, Labels)> = test
                    .exp_alerts
                    .iter()
                    .map(|a| {
                        let mut l = a.exp_labels.clone();
                        l.insert("alertname".into(), test.alertname.clone());
                        (
                            Labels::from_pairs(l),
                            Labels::from_pairs(a.exp_annotations.clone()),
                        )
                    })
                    .collect();
                got.sort();
                exp.sort();
                if got != exp {
                    errors.push(format!(
                        "{name_line}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                        test.alertname,
                        format_duration(test.eval_time.get()),
                        indent(&alerts_string(&exp), "            "),
                        indent(&alerts_string(&got), "            "),
                    ));
                }
            }
        }
        ts += step;
    }
    for test in &tg.promql_expr_test {
        let at = format_duration(test.eval_time.get());
        let got = pharos_promql::parse(&test.expr)
            .map_err(|e| e.to_string())
            .and_then(|e| {
                crate::query::instant(
                    &engine,
                    &*storage,
                    &e,
                    &test.expr,
                    millis(test.eval_time.get()),
                )
                .map_err(|e| e.to_string())
            });
        let mut got = match got {
            Ok(g) => g,
            Err(e) => {
                errors.push(format!("    expr: {:?}, time: {at}, err: {e}", test.expr));
                continue;
            }
        };
        let mut exp = Vec::new();
        let mut bad = None;
        for s in &test.exp_samples {
            if !s.histogram.is_empty() {
                bad = Some(format!(
                    "    expr: {:?}, time: {at}, err: native histograms are not supported yet",
                    test.expr
                ));
                break;
            }
            match parse_labels(&s.labels) {
                Ok(l) => exp.push((l, s.value)),
                Err(e) => {
                    bad = Some(format!(
                        "    expr: {:?}, time: {at}, err: labels {:?}: {e}",
                        test.expr, s.labels
                    ));
                    break;
                }
            }
        }
        if let Some(b) = bad {
            errors.push(b);
            continue;
        }
        exp.sort_by(|a, b| a.0.cmp(&b.0));
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let same = exp.len() == got.len()
            && exp
                .iter()
                .zip(&got)
                .all(|(a, b)| a.0 == b.0 && (a.1 == b.1 || (a.1.is_nan() && b.1.is_nan())));
        if !same {
            errors.push(format!(
                "    expr: {:?}, time: {at},\n        exp: {}\n        got: {}",
                test.expr,
                samples_string(&exp),
                samples_string(&got)
            ));
        }
    }
    errors
}

/// Prometheus' `labels.Labels.String()`: every label in braces.
fn labels_string(l: &Labels) -> String {
    let inner: Vec<String> = l
        .iter()
        .map(|l| format!("{}={:?}", l.name, l.value))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

fn alerts_string(alerts: &[(Labels, Labels)]) -> String {
    if alerts.is_empty() {
        return "[]".to_owned();
    }
    let items: Vec<String> = alerts
        .iter()
        .enumerate()
        .map(|(i, (l, a))| {
            let body = format!(
                "\nLabels:{}\nAnnotations:{}",
                labels_string(l),
                labels_string(a)
            );
            format!("{i}:{}", indent(&body, "  "))
        })
        .collect();
    format!("[\n{}\n]", items.join(",\n"))
}

fn samples_string(samples: &[(Labels, f64)]) -> String {
    if samples.is_empty() {
        return "nil".to_owned();
    }
    samples
        .iter()
        .map(|(l, v)| format!("{} {}", labels_string(l), go_float_upper_e(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Go's `strconv.FormatFloat(v, 'E', -1, 64)`.
fn go_float_upper_e(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let s = format!("{v:E}");
    let (m, e) = s.split_once('E').unwrap_or((&s, "0"));
    let (sign, digits) = e.strip_prefix('-').map_or(('+', e), |d| ('-', d));
    format!("{m}E{sign}{digits:0>2}")
}

/// Indents every line but the first, as promtool's `indentLines`.
fn indent(s: &str, prefix: &str) -> String {
    s.replace('\n', &format!("\n{prefix}"))
}
