//! `label_replace` and `label_join`. Writing `__name__` keeps the name
//! even where an earlier function would have dropped it.

use pharos_model::METRIC_NAME;
use regex::Regex;

use crate::Call;
use crate::engine::EvalError;
use crate::engine::eval::Evaluator;
use crate::engine::value::Value;

fn check_dst(func: &str, dst: &str) -> Result<(), EvalError> {
    // Prometheus 3 accepts any UTF-8 label name but the empty one.
    if dst.is_empty() {
        return Err(EvalError::BadData(format!(
            "invalid destination label name in {func}(): {dst}"
        )));
    }
    Ok(())
}

/// `label_replace(v, dst, replacement, src, regex)`.
pub(crate) fn replace(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let dst = ev.eval_string(&c.args[1])?;
    let repl = ev.eval_string(&c.args[2])?;
    let src = ev.eval_string(&c.args[3])?;
    let re = ev.eval_string(&c.args[4])?;
    let regex = Regex::new(&format!("^(?s:{re})$")).map_err(|e| {
        EvalError::BadData(format!(
            "invalid regular expression in label_replace(): {re}: {e}"
        ))
    })?;
    check_dst("label_replace", &dst)?;
    let mut v = ev.eval_vector(&c.args[0])?;
    for s in &mut v {
        let value = s.labels.get(&src).unwrap_or("");
        if let Some(caps) = regex.captures(value) {
            let mut out = String::new();
            caps.expand(&repl, &mut out);
            let mut b = s.labels.to_builder();
            b.set(dst.clone(), out);
            s.labels = b.build();
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
    }
    Ok(Value::Vector(v))
}

/// `label_join(v, dst, separator, src...)`.
pub(crate) fn join(ev: &mut Evaluator<'_>, c: &Call) -> Result<Value, EvalError> {
    let dst = ev.eval_string(&c.args[1])?;
    let sep = ev.eval_string(&c.args[2])?;
    let mut srcs = Vec::new();
    for a in &c.args[3..] {
        let name = ev.eval_string(a)?;
        if name.is_empty() {
            return Err(EvalError::BadData(format!(
                "invalid source label name in label_join(): {name}"
            )));
        }
        srcs.push(name);
    }
    check_dst("label_join", &dst)?;
    let mut v = ev.eval_vector(&c.args[0])?;
    for s in &mut v {
        let joined = srcs
            .iter()
            .map(|n| s.labels.get(n).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(&sep);
        let mut b = s.labels.to_builder();
        b.set(dst.clone(), joined);
        s.labels = b.build();
        if dst == METRIC_NAME {
            s.drop_name = false;
        }
    }
    Ok(Value::Vector(v))
}
