//! How rules query: an instant query at one time, on the calling thread,
//! whose result must be a vector or a scalar (a scalar becomes one sample
//! without labels), as Prometheus' `EngineQueryFunc`.

use pharos_model::Labels;
use pharos_promql::{Engine, Expr, QueryRequest, QueryValue};
use pharos_tsdb::Queryable;

use crate::error::RuleError;

/// Evaluates `expr` at `t` (milliseconds).
pub(crate) fn instant(
    engine: &Engine,
    storage: &dyn Queryable,
    expr: &Expr,
    text: &str,
    t: i64,
) -> Result<Vec<(Labels, f64)>, RuleError> {
    let result = engine
        .exec(storage, QueryRequest::instant(expr, text, t))
        .map_err(|e| RuleError::Query(e.to_string()))?;
    match result.value {
        QueryValue::Vector { samples, .. } => Ok(samples),
        QueryValue::Scalar { f, .. } => Ok(vec![(Labels::empty(), f)]),
        QueryValue::String { .. } | QueryValue::Matrix(_) => Err(RuleError::NotAVector),
    }
}
