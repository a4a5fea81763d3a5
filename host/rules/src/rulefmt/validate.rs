//! The checks of Prometheus' `RuleGroups.Validate` and `RuleNode.Validate`
//! (2.42), in their order, turning raw groups into [`RuleFile`] groups.
//!
//! Go iterates a rule's `labels` and `annotations` maps in random order;
//! here they are checked in file order, so a rule with several bad labels
//! lists them in a stable order.

use std::collections::HashSet;
use std::sync::Arc;

use super::decode::{RawGroup, RawRule};
use super::error::{GroupProblem, RuleError, RuleProblem};
use super::types::{AlertingRule, RecordingRule, RuleDef, RuleGroupDef, RuleKind};

/// Checks every group; returns the groups or all problems found.
pub fn validate(
    path: &str,
    groups: Vec<RawGroup>,
    positions: &[(usize, usize)],
) -> Result<Vec<RuleGroupDef>, Vec<RuleError>> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(groups.len());
    for (j, g) in groups.into_iter().enumerate() {
        let (line, column) = positions.get(j).copied().unwrap_or((0, 0));
        if g.name.is_empty() {
            errors.push(RuleError::Group {
                path: path.to_owned(),
                line,
                column,
                problem: GroupProblem::EmptyName,
            });
        }
        if !seen.insert(g.name.clone()) {
            errors.push(RuleError::Group {
                path: path.to_owned(),
                line,
                column,
                problem: GroupProblem::Repeated(g.name.clone()),
            });
        }
        let mut rules = Vec::with_capacity(g.rules.len());
        for (i, r) in g.rules.into_iter().enumerate() {
            match validate_rule(r) {
                Ok(rule) => rules.push(rule),
                Err((name, problems)) => errors.extend(problems.into_iter().map(
                    |(pos, alt, problem)| RuleError::Rule {
                        path: path.to_owned(),
                        group: g.name.clone(),
                        index: i + 1,
                        name: name.clone(),
                        pos,
                        alt,
                        problem,
                    },
                )),
            }
        }
        out.push(RuleGroupDef {
            name: g.name,
            interval: g.interval,
            query_offset: g.query_offset,
            limit: usize::try_from(g.limit).unwrap_or(0),
            labels: g.labels,
            rules,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

type Pos = Option<(usize, usize)>;
type Problems = Vec<(Pos, Pos, RuleProblem)>;

fn validate_rule(r: RawRule) -> Result<RuleDef, (String, Problems)> {
    let mut p: Problems = Vec::new();
    let record_pos = Some((r.record.line, r.record.column));
    let alert_pos = Some((r.alert.line, r.alert.column));
    let record = r.record.value.as_str();
    let alert = r.alert.value.as_str();
    if !record.is_empty() && !alert.is_empty() {
        p.push((record_pos, alert_pos, RuleProblem::BothRecordAndAlert));
    }
    if record.is_empty() && alert.is_empty() {
        p.push((record_pos, None, RuleProblem::NeitherRecordNorAlert));
    }
    let expr_pos = Some((r.expr.line, r.expr.column));
    let mut expr = None;
    if r.expr.value.is_empty() {
        p.push((expr_pos, None, RuleProblem::MissingExpr));
    } else {
        match pharos_promql::parse(&r.expr.value) {
            Ok(e) => expr = Some(e),
            Err(e) => p.push((expr_pos, None, RuleProblem::Expr(e.to_string()))),
        }
    }
    if !record.is_empty() {
        if !r.annotations.is_empty() {
            p.push((record_pos, None, RuleProblem::AnnotationsInRecording));
        }
        if !r.hold.is_zero() {
            p.push((record_pos, None, RuleProblem::ForInRecording));
        }
        if !r.keep_firing_for.is_zero() {
            p.push((record_pos, None, RuleProblem::KeepFiringForInRecording));
        }
        if !is_valid_metric_name(record) {
            p.push((record_pos, None, RuleProblem::RecordName(record.to_owned())));
        }
    }
    for (k, _) in &r.labels {
        if !is_valid_label_name(k) || k == "__name__" {
            p.push((None, None, RuleProblem::LabelName(k.clone())));
        }
    }
    for (k, _) in &r.annotations {
        if !is_valid_label_name(k) {
            p.push((None, None, RuleProblem::AnnotationName(k.clone())));
        }
    }
    if !alert.is_empty() {
        for (k, v) in &r.labels {
            if let Err(message) = check_template(alert, v) {
                p.push((
                    None,
                    None,
                    RuleProblem::LabelTemplate {
                        key: k.clone(),
                        message,
                    },
                ));
            }
        }
        for (k, v) in &r.annotations {
            if let Err(message) = check_template(alert, v) {
                p.push((
                    None,
                    None,
                    RuleProblem::AnnotationTemplate {
                        key: k.clone(),
                        message,
                    },
                ));
            }
        }
    }

    let name = if alert.is_empty() { record } else { alert }.to_owned();
    let Some(expr) = expr.filter(|_| p.is_empty()) else {
        return Err((name, p));
    };
    let kind = if record.is_empty() {
        RuleKind::Alerting(AlertingRule {
            alert: r.alert.value,
            hold: r.hold,
            keep_firing_for: r.keep_firing_for,
            annotations: r.annotations,
        })
    } else {
        RuleKind::Recording(RecordingRule {
            record: r.record.value,
        })
    };
    Ok(RuleDef {
        expr_text: r.expr.value,
        expr: Arc::new(expr),
        labels: r.labels,
        kind,
        line: r.line,
    })
}

/// The load-time template check of alerting rules' labels and annotations
/// (Prometheus' `testTemplateParsing`): Go's parse error text.
fn check_template(alert: &str, text: &str) -> Result<(), String> {
    pharos_template::rules::check_rule_template(alert, text).map_err(|e| e.to_string())
}

/// `model.IsValidMetricName` (legacy names, as 2.42).
pub fn is_valid_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `model.LabelName.IsValid` (legacy names, as 2.42).
pub fn is_valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
