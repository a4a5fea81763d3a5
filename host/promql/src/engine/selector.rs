//! Reading from storage: instant selectors (the last sample within the
//! lookback window before each step), range selectors and subqueries (the
//! samples in a left-open window `(t - range, t]` at each step).

use pharos_model::is_stale_nan;

use super::error::EvalError;
use super::eval::Evaluator;
use super::value::{Point, Series, Steps, Value};
use crate::{Expr, SubqueryExpr, VectorSelector};

/// The input of a function over a range vector: series with their points
/// and, per step, the end of the window (`te`); a window is
/// `(te - range, te]`.
pub(crate) struct RangeInput {
    pub series: Vec<Series>,
    pub ends: Vec<i64>,
    pub range: i64,
}

impl RangeInput {
    /// Calls `f(step, te, window)` for every step whose window over `s` is
    /// not empty.
    pub fn for_each_window(&self, s: &Series, mut f: impl FnMut(usize, i64, &[Point])) {
        let pts = &s.points;
        let (mut lo, mut hi) = (0, 0);
        for (i, &te) in self.ends.iter().enumerate() {
            while hi < pts.len() && pts[hi].t <= te {
                hi += 1;
            }
            while lo < hi && pts[lo].t <= te.saturating_sub(self.range) {
                lo += 1;
            }
            if lo < hi {
                f(i, te, &pts[lo..hi]);
            }
        }
    }
}

impl Evaluator<'_> {
    /// Reads the series of `vs` with samples in `[mint, maxt]`, counting the
    /// samples against the limit series by series as they are decoded (as
    /// Prometheus does while it iterates), so a selection far over the
    /// limit fails before it is all in memory. The deadline is checked
    /// series by series too: selecting and decoding every series of a
    /// large store can take longer than the whole timeout.
    fn fetch(
        &mut self,
        vs: &VectorSelector,
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<Series>, EvalError> {
        let selected = self.q.select(&vs.matchers, mint, maxt)?;
        let mut out = Vec::with_capacity(selected.len());
        for s in selected {
            self.check_deadline()?;
            let samples = s.samples();
            self.add_samples(samples.len())?;
            // Same layout: collected in place, no second allocation.
            let points = samples
                .into_iter()
                .map(|x| Point { t: x.t, f: x.v })
                .collect();
            out.push(Series::new(s.labels, points));
        }
        Ok(out)
    }

    /// An instant vector selector: at each step the newest sample in
    /// `(t - lookback, t]` unless it is a staleness marker. With
    /// `timestamps`, the value is the sample's timestamp in seconds (for
    /// `timestamp()`).
    pub fn instant_selector(
        &mut self,
        vs: &VectorSelector,
        timestamps: bool,
    ) -> Result<Vec<Series>, EvalError> {
        let ends = self.eval_times(vs.at, vs.offset.as_ref())?;
        let (Some(&first), Some(&last)) = (ends.first(), ends.last()) else {
            return Ok(Vec::new());
        };
        let mint = first.saturating_sub(self.lookback).saturating_add(1);
        let raw = self.fetch(vs, mint, last)?;
        let steps = self.steps;
        let mut out = Vec::with_capacity(raw.len());
        for (n, s) in raw.into_iter().enumerate() {
            if n % 1024 == 1023 {
                self.check_deadline()?;
            }
            let pts = &s.points;
            let mut j = 0;
            let mut points = Vec::new();
            for (i, &te) in ends.iter().enumerate() {
                while j < pts.len() && pts[j].t <= te {
                    j += 1;
                }
                if j > 0 {
                    let p = pts[j - 1];
                    if p.t > te.saturating_sub(self.lookback) && !is_stale_nan(p.f) {
                        let f = if timestamps { p.t as f64 / 1000.0 } else { p.f };
                        points.push(Point { t: steps.t(i), f });
                    }
                }
            }
            if !points.is_empty() {
                out.push(Series {
                    labels: s.labels,
                    points,
                    drop_name: false,
                });
            }
        }
        Ok(out)
    }

    /// The input of a range-vector argument: a matrix selector or a
    /// subquery.
    pub fn range_input(&mut self, e: &Expr) -> Result<RangeInput, EvalError> {
        match e.unparen() {
            Expr::MatrixSelector(ms) => {
                let range = self.duration(&ms.range)?;
                let ends = self.eval_times(ms.vs.at, ms.vs.offset.as_ref())?;
                let (Some(&first), Some(&last)) = (ends.first(), ends.last()) else {
                    return Ok(RangeInput {
                        series: Vec::new(),
                        ends,
                        range,
                    });
                };
                let mint = first.saturating_sub(range).saturating_add(1);
                let mut series = self.fetch(&ms.vs, mint, last)?;
                for s in &mut series {
                    s.points.retain(|p| !is_stale_nan(p.f));
                }
                series.retain(|s| !s.points.is_empty());
                Ok(RangeInput {
                    series,
                    ends,
                    range,
                })
            }
            Expr::Subquery(sq) => self.subquery(sq),
            other => Err(EvalError::exec(format!(
                "expected range vector, got {}",
                other.value_type()
            ))),
        }
    }

    /// Evaluates a subquery's inner expression at its own steps: multiples
    /// of the subquery step after `first end - range` up to the last end.
    fn subquery(&mut self, sq: &SubqueryExpr) -> Result<RangeInput, EvalError> {
        let range = self.duration(&sq.range)?;
        let interval = match &sq.step {
            Some(d) => self.duration(d)?,
            None => self.default_subquery_step,
        };
        if interval <= 0 {
            return Err(EvalError::BadData(
                "zero or negative subquery step".to_string(),
            ));
        }
        let ends = self.eval_times(sq.at, sq.offset.as_ref())?;
        let (Some(&first), Some(&last)) = (ends.first(), ends.last()) else {
            return Ok(RangeInput {
                series: Vec::new(),
                ends,
                range,
            });
        };
        // The first multiple of `interval` after `first - range`, in i128
        // so that extreme times and ranges cannot overflow.
        let lo = i128::from(first) - i128::from(range);
        let step = i128::from(interval);
        let earliest = (i128::from(i64::MIN).div_euclid(step) + 1) * step;
        let start = ((lo.div_euclid(step) + 1) * step).max(earliest);
        let Ok(start) = i64::try_from(start) else {
            return Ok(RangeInput {
                series: Vec::new(),
                ends,
                range,
            });
        };
        if start > last {
            return Ok(RangeInput {
                series: Vec::new(),
                ends,
                range,
            });
        }
        let inner = Steps {
            start,
            end: last,
            interval,
        };
        let value = self.with_steps(inner, |ev| ev.eval(&sq.expr))?;
        let series = match value {
            Value::Vector(v) => v,
            Value::Scalar(vals) => vec![Series::new(
                Default::default(),
                vals.iter()
                    .enumerate()
                    .map(|(i, &f)| Point { t: inner.t(i), f })
                    .collect(),
            )],
            _ => {
                return Err(EvalError::exec(
                    "subquery is only allowed on instant vector",
                ));
            }
        };
        let n = series.iter().map(|s| s.points.len()).sum();
        self.add_samples(n)?;
        Ok(RangeInput {
            series,
            ends,
            range,
        })
    }
}
