//! The recursive evaluator: one method per kind of node, each producing the
//! node's value at every step.

use std::time::Instant;

use pharos_tsdb::Queryable;

use super::EngineOptions;
use super::annotations::Annotations;
use super::error::EvalError;
use super::value::{Series, Steps, Value};
use crate::{AtModifier, DurationContext, DurationExpr, Expr, UnaryOp};

/// State of one query's evaluation.
pub(crate) struct Evaluator<'a> {
    pub q: &'a dyn Queryable,
    /// The query text, for positions in annotations.
    pub text: &'a str,
    /// The steps the current node is evaluated at (a subquery's own steps
    /// while evaluating inside it).
    pub steps: Steps,
    /// The outer query's start and end, what `start()` and `end()` mean.
    pub query_start: i64,
    pub query_end: i64,
    pub lookback: i64,
    pub default_subquery_step: i64,
    pub max_samples: usize,
    /// Samples held by the query so far.
    pub samples: usize,
    pub deadline: Instant,
    pub annotations: Annotations,
    pub dctx: DurationContext,
}

impl<'a> Evaluator<'a> {
    pub fn new(
        q: &'a dyn Queryable,
        text: &'a str,
        steps: Steps,
        opts: &EngineOptions,
        deadline: Instant,
    ) -> Self {
        Evaluator {
            q,
            text,
            steps,
            query_start: steps.start,
            query_end: steps.end,
            lookback: opts.lookback_delta.as_millis() as i64,
            default_subquery_step: (opts.default_subquery_step.as_millis() as i64).max(1),
            max_samples: opts.max_samples,
            samples: 0,
            deadline,
            annotations: Annotations::default(),
            dctx: DurationContext {
                // An instant query has no step.
                step_ms: if steps.start == steps.end {
                    0
                } else {
                    steps.interval
                },
                range_ms: steps.end.saturating_sub(steps.start),
            },
        }
    }

    /// Fails when the query has run out of time, with Prometheus' text for
    /// a timeout during evaluation (`query timed out in expression
    /// evaluation`); see [`Evaluator::check_start`] for the one before.
    pub fn check_deadline(&self) -> Result<(), EvalError> {
        if Instant::now() > self.deadline {
            return Err(EvalError::Timeout("expression evaluation"));
        }
        Ok(())
    }

    /// Fails when the query ran out of time before its evaluation starts
    /// (in the queue, or as soon as it got its slot): `query timed out in
    /// query execution`, as Prometheus checks right after its gate.
    pub fn check_start(&self) -> Result<(), EvalError> {
        if Instant::now() > self.deadline {
            return Err(EvalError::Timeout("query execution"));
        }
        Ok(())
    }

    /// Accounts for `n` more samples held in memory.
    pub fn add_samples(&mut self, n: usize) -> Result<(), EvalError> {
        self.samples = self.samples.saturating_add(n);
        if self.samples > self.max_samples {
            return Err(EvalError::TooManySamples("query execution"));
        }
        Ok(())
    }

    /// Fails when evaluating at every one of `steps` could hold more
    /// samples than the limit allows: checked before any per-step buffer is
    /// allocated, so `vector(1)[1000y:1ms]` is an error, not an abort.
    pub fn check_steps(&self, steps: &Steps) -> Result<(), EvalError> {
        if steps.len() > self.max_samples.saturating_sub(self.samples) {
            return Err(EvalError::TooManySamples("query execution"));
        }
        Ok(())
    }

    /// A duration in milliseconds.
    pub fn duration(&self, d: &DurationExpr) -> Result<i64, EvalError> {
        d.eval(self.dctx)
            .ok_or_else(|| EvalError::BadData("duration expression is not a finite number".into()))
    }

    /// The time a selector with `at` and `offset` reads at, for each step.
    pub fn eval_times(
        &self,
        at: Option<AtModifier>,
        offset: Option<&DurationExpr>,
    ) -> Result<Vec<i64>, EvalError> {
        let offset = match offset {
            Some(d) => self.duration(d)?,
            None => 0,
        };
        let fixed = at.map(|a| match a {
            AtModifier::Timestamp(t) => t,
            AtModifier::Start => self.query_start,
            AtModifier::End => self.query_end,
        });
        Ok(self
            .steps
            .times()
            .map(|t| fixed.unwrap_or(t).saturating_sub(offset))
            .collect())
    }

    pub fn eval(&mut self, e: &Expr) -> Result<Value, EvalError> {
        self.check_deadline()?;
        match e {
            Expr::NumberLiteral(n) => Ok(Value::Scalar(vec![n.value; self.steps.len()])),
            Expr::StringLiteral(s) => Ok(Value::String(s.value.clone())),
            Expr::Paren(p) => self.eval(&p.expr),
            Expr::Unary(u) => {
                let v = self.eval(&u.expr)?;
                Ok(match (u.op, v) {
                    (UnaryOp::Plus, v) => v,
                    (UnaryOp::Neg, Value::Scalar(vals)) => {
                        Value::Scalar(vals.into_iter().map(|v| -v).collect())
                    }
                    (UnaryOp::Neg, Value::Vector(mut series)) => {
                        for s in &mut series {
                            s.drop_name = true;
                            for p in &mut s.points {
                                p.f = -p.f;
                            }
                        }
                        Value::Vector(series)
                    }
                    (UnaryOp::Neg, v) => v,
                })
            }
            Expr::VectorSelector(vs) => {
                let series = self.instant_selector(vs, false)?;
                Ok(Value::Vector(series))
            }
            Expr::MatrixSelector(_) | Expr::Subquery(_) => {
                // Only reached at the top of an instant query: the raw
                // points in the range at the (single) step.
                let input = self.range_input(e)?;
                let mut out = Vec::new();
                for s in &input.series {
                    let mut points = Vec::new();
                    input.for_each_window(s, |_, _, w| points.extend_from_slice(w));
                    if !points.is_empty() {
                        out.push(Series {
                            labels: s.labels.clone(),
                            points,
                            drop_name: s.drop_name,
                        });
                    }
                }
                Ok(Value::Matrix(out))
            }
            Expr::Binary(b) => self.binary(b),
            Expr::Aggregate(a) => self.aggregate(a),
            Expr::Call(c) => crate::functions::call(self, c),
        }
    }

    /// Evaluates an expression that must be an instant vector.
    pub fn eval_vector(&mut self, e: &Expr) -> Result<Vec<Series>, EvalError> {
        match self.eval(e)? {
            Value::Vector(v) => Ok(v),
            _ => Err(EvalError::exec(format!(
                "expected instant vector, got {}",
                e.value_type()
            ))),
        }
    }

    /// Evaluates an expression that must be a scalar: one value per step.
    pub fn eval_scalar(&mut self, e: &Expr) -> Result<Vec<f64>, EvalError> {
        match self.eval(e)? {
            Value::Scalar(v) => Ok(v),
            _ => Err(EvalError::exec(format!(
                "expected scalar, got {}",
                e.value_type()
            ))),
        }
    }

    /// Evaluates an expression that must be a string.
    pub fn eval_string(&mut self, e: &Expr) -> Result<String, EvalError> {
        match self.eval(e)? {
            Value::String(s) => Ok(s),
            _ => Err(EvalError::exec(format!(
                "expected string, got {}",
                e.value_type()
            ))),
        }
    }

    /// Runs `f` with the steps set to `steps`, as a subquery does.
    pub fn with_steps<T>(
        &mut self,
        steps: Steps,
        f: impl FnOnce(&mut Self) -> Result<T, EvalError>,
    ) -> Result<T, EvalError> {
        self.check_steps(&steps)?;
        // `step()` and `range()` (dctx) keep meaning the outer query's.
        let saved = std::mem::replace(&mut self.steps, steps);
        let r = f(self);
        self.steps = saved;
        r
    }
}
