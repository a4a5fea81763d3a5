//! A recording rule: evaluates its expression and renames the result
//! (Prometheus' `rules/recording.go`).

use std::collections::HashSet;

use pharos_model::{Labels, METRIC_NAME};

use crate::error::RuleError;
use crate::rule::EvalContext;

/// Evaluates a recording rule at `t`: the samples to store, with
/// `__name__` set to `record` and the rule's labels applied.
pub(crate) fn eval(
    ctx: &EvalContext<'_>,
    record: &str,
    labels: &[(String, String)],
    expr: &pharos_promql::Expr,
    text: &str,
    t: i64,
) -> Result<Vec<(Labels, f64)>, RuleError> {
    let vector = crate::query::instant(ctx.engine, &**ctx.storage, expr, text, t)?;
    let mut seen = HashSet::with_capacity(vector.len());
    let mut out = Vec::with_capacity(vector.len());
    for (metric, f) in vector {
        let mut b = metric.to_builder();
        b.set(METRIC_NAME, record);
        for (n, v) in labels {
            b.set(n.as_str(), v.as_str());
        }
        let l = b.build();
        if !seen.insert(l.clone()) {
            return Err(RuleError::DuplicateRecording);
        }
        out.push((l, f));
    }
    if ctx.limit > 0 && out.len() > ctx.limit {
        return Err(RuleError::SeriesLimit {
            limit: ctx.limit,
            got: out.len(),
        });
    }
    Ok(out)
}
