//! The PromQL evaluator.
//!
//! [`Engine`] evaluates a parsed [`Expr`] against a [`Queryable`] at one
//! time (instant query) or at every step of a range (range query), with
//! Prometheus 3.x semantics: a 5 minute lookback that is left-open, range
//! selectors that exclude their left boundary, staleness markers ending a
//! series, `@` and `offset`, subqueries aligned to absolute multiples of
//! their step, delayed `__name__` removal, and range results sorted by
//! labels.
//!
//! Evaluation is columnar: every node produces its result for all steps at
//! once, as series with points, so labels are computed once per series
//! rather than once per step (see [`value`]).

mod aggregate;
mod annotations;
mod binary;
mod error;
pub(crate) mod eval;
mod result;
mod selector;
pub mod value;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use pharos_tsdb::Queryable;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use annotations::Annotations;
pub use error::EvalError;
pub use result::{QueryResult, QueryValue};
pub use value::{Point, Series, Steps};

use crate::Expr;
use eval::Evaluator;

/// Limits and defaults of an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (Prometheus'
    /// `--query.lookback-delta`, 5m).
    pub lookback_delta: Duration,
    /// Most samples a query may hold at once (`--query.max-samples`, 50M).
    pub max_samples: usize,
    /// Longest a query may run (`--query.timeout`, 2m).
    pub timeout: Duration,
    /// Queries evaluated at the same time; more wait in a queue
    /// (`--query.max-concurrency`, 20).
    pub max_concurrency: usize,
    /// The step of a subquery written without one (`[5m:]`): the global
    /// evaluation interval (1m).
    pub default_subquery_step: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta: Duration::from_secs(300),
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            max_concurrency: 20,
            default_subquery_step: Duration::from_secs(60),
        }
    }
}

/// Queries up to this long are parsed right away by [`Engine::parse`];
/// longer ones on a blocking thread, a few at a time.
const PARSE_INLINE_MAX: usize = 4096;

/// Evaluates PromQL queries. Cheap to clone; clones share the concurrency
/// limits.
#[derive(Debug, Clone)]
pub struct Engine {
    opts: Arc<EngineOptions>,
    gate: Arc<Semaphore>,
    /// Slots for parsing long queries, apart from the evaluations' so that
    /// a syntax error does not wait behind them.
    parsing: Arc<Semaphore>,
}

/// One query: the parsed expression, its text (for positions in
/// annotations) and when to evaluate it.
#[derive(Debug, Clone, Copy)]
pub struct QueryRequest<'a> {
    pub expr: &'a Expr,
    pub text: &'a str,
    pub steps: Steps,
    /// Whether this is a range query (results are matrices).
    pub range: bool,
    /// A timeout shorter than the engine's, from the request.
    pub timeout: Option<Duration>,
}

impl<'a> QueryRequest<'a> {
    /// An instant query at `t` (milliseconds).
    pub fn instant(expr: &'a Expr, text: &'a str, t: i64) -> Self {
        QueryRequest {
            expr,
            text,
            steps: Steps::instant(t),
            range: false,
            timeout: None,
        }
    }

    /// A range query from `start` to `end` every `step` (milliseconds).
    pub fn range(expr: &'a Expr, text: &'a str, start: i64, end: i64, step: i64) -> Self {
        QueryRequest {
            expr,
            text,
            steps: Steps {
                start,
                end,
                interval: step.max(1),
            },
            range: true,
            timeout: None,
        }
    }
}

impl Engine {
    pub fn new(opts: EngineOptions) -> Self {
        let permits = opts.max_concurrency.max(1);
        Engine {
            opts: Arc::new(opts),
            gate: Arc::new(Semaphore::new(permits)),
            parsing: Arc::new(Semaphore::new(permits)),
        }
    }

    /// Parses a query for [`Engine::run`]. Parsing takes time and memory in
    /// proportion to the text (a sum of 100k terms: ~150 ms and ~45 MB
    /// before the depth limit refuses it), so a long query is parsed on a
    /// blocking thread, where it holds up no other request, and at most
    /// `max_concurrency` of them at once, so that many cannot exhaust
    /// memory (tests/bench/load.sh: 50 clients posting such queries took
    /// ingestion to 3 % of its rate on async workers, and RSS to 2.6 GiB
    /// on unbounded blocking threads).
    pub async fn parse(&self, text: Arc<str>) -> Result<Expr, crate::ParseError> {
        if text.len() <= PARSE_INLINE_MAX {
            return crate::parse(&text);
        }
        // The semaphore is never closed.
        let _slot = self.parsing.acquire().await;
        let t = text.clone();
        match tokio::task::spawn_blocking(move || crate::parse(&t)).await {
            Ok(parsed) => parsed,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled: the runtime is shutting down.
            Err(_) => crate::parse(&text),
        }
    }

    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// The timeout of a request: its own, at most the engine's.
    fn timeout(&self, requested: Option<Duration>) -> Duration {
        requested.map_or(self.opts.timeout, |t| t.min(self.opts.timeout))
    }

    /// Evaluates a query on the calling thread, right away (no queue).
    pub fn exec(&self, q: &dyn Queryable, req: QueryRequest<'_>) -> Result<QueryResult, EvalError> {
        let deadline = Instant::now() + self.timeout(req.timeout);
        self.exec_until(q, req, deadline)
    }

    fn exec_until(
        &self,
        q: &dyn Queryable,
        req: QueryRequest<'_>,
        deadline: Instant,
    ) -> Result<QueryResult, EvalError> {
        let mut ev = Evaluator::new(q, req.text, req.steps, &self.opts, deadline);
        if req.range
            && !matches!(
                req.expr.value_type(),
                crate::ValueType::Vector | crate::ValueType::Scalar
            )
        {
            return Err(EvalError::BadData(format!(
                "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                req.expr.value_type().documented()
            )));
        }
        ev.check_start()?;
        ev.check_steps(&req.steps)?;
        let value = ev.eval(req.expr)?;
        let annotations = std::mem::take(&mut ev.annotations);
        result::finish(
            req.expr,
            value,
            req.steps,
            req.range,
            annotations,
            ev.samples,
        )
    }

    /// Waits for one of the `max_concurrency` slots, as [`Engine::run`]
    /// does, for work of a query's weight done outside the evaluator: the
    /// API's series, label names and label values select every series a
    /// matcher names, and 50 clients asking for all of 100k series at once
    /// held 7.6 GiB (tests/bench/load.sh). The wait counts against the
    /// engine's timeout (`query timed out in query queue`).
    pub async fn slot(&self) -> Result<OwnedSemaphorePermit, EvalError> {
        self.slot_until(Instant::now() + self.opts.timeout).await
    }

    async fn slot_until(&self, deadline: Instant) -> Result<OwnedSemaphorePermit, EvalError> {
        let acquire = self.gate.clone().acquire_owned();
        match tokio::time::timeout_at(deadline.into(), acquire).await {
            Ok(permit) => permit.map_err(|_| EvalError::Canceled("query queue")),
            Err(_) => Err(EvalError::Timeout("query queue")),
        }
    }

    /// Waits for a free slot (queries beyond `max_concurrency` queue, they
    /// are not rejected), then evaluates on a blocking thread. The wait
    /// counts against the timeout, as in Prometheus: a query that times out
    /// in the queue fails with `query timed out in query queue`.
    pub async fn run(
        &self,
        q: Arc<dyn Queryable>,
        expr: Arc<Expr>,
        text: Arc<str>,
        steps: Steps,
        range: bool,
        timeout: Option<Duration>,
    ) -> Result<QueryResult, EvalError> {
        let deadline = Instant::now() + self.timeout(timeout);
        let _permit = self.slot_until(deadline).await?;
        let engine = self.clone();
        tokio::task::spawn_blocking(move || {
            let req = QueryRequest {
                expr: &expr,
                text: &text,
                steps,
                range,
                timeout,
            };
            engine.exec_until(&*q, req, deadline)
        })
        .await
        .map_err(|e| EvalError::exec(format!("query evaluation failed: {e}")))?
    }
}
