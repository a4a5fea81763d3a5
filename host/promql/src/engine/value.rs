//! Values the evaluator passes between nodes and returns.
//!
//! The evaluator is columnar: an instant vector over all steps of a query is
//! a list of [`Series`], each with the points it has at step timestamps.
//! Labels are worked out once per series, not once per step; an instant
//! query is the one-step case.

use pharos_model::{Labels, METRIC_NAME};

/// The metric type label of Prometheus' experimental type-and-unit labels.
pub(crate) const TYPE_LABEL: &str = "__type__";
/// The unit label of Prometheus' experimental type-and-unit labels.
pub(crate) const UNIT_LABEL: &str = "__unit__";

/// One value at one time (milliseconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub t: i64,
    pub f: f64,
}

/// A series in a result: labels and points in time order.
///
/// `drop_name` is Prometheus 3's delayed `__name__` removal: functions and
/// operators that drop the metric name only mark the series; the name is
/// removed at the end of evaluation, so `label_replace` can still read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<Point>,
    pub drop_name: bool,
}

impl Series {
    pub fn new(labels: Labels, points: Vec<Point>) -> Self {
        Series {
            labels,
            points,
            drop_name: false,
        }
    }

    /// The labels as a result shows them: without `__name__` when marked,
    /// and then without the `__type__` and `__unit__` labels that describe
    /// the name (Prometheus' experimental type-and-unit labels).
    pub fn final_labels(&self) -> Labels {
        let named = |n: &str| self.labels.get(n).is_some();
        if self.drop_name && (named(METRIC_NAME) || named(TYPE_LABEL) || named(UNIT_LABEL)) {
            let mut b = self.labels.to_builder();
            b.del(METRIC_NAME);
            b.del(TYPE_LABEL);
            b.del(UNIT_LABEL);
            b.build()
        } else {
            self.labels.clone()
        }
    }
}

/// The timestamps a query (or subquery) is evaluated at:
/// `start, start + interval, …, end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    pub start: i64,
    pub end: i64,
    pub interval: i64,
}

impl Steps {
    /// One evaluation at `t`.
    pub fn instant(t: i64) -> Self {
        Steps {
            start: t,
            end: t,
            interval: 1,
        }
    }

    /// How many steps there are, saturating at `usize::MAX` (extreme start
    /// and end times cannot overflow).
    pub fn len(&self) -> usize {
        if self.end < self.start {
            return 0;
        }
        let n = (i128::from(self.end) - i128::from(self.start)) / i128::from(self.interval.max(1));
        usize::try_from(n + 1).unwrap_or(usize::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.end < self.start
    }

    /// The timestamp of step `i`.
    pub fn t(&self, i: usize) -> i64 {
        // In i128: `i * interval` alone may overflow where the sum does not.
        let t = i128::from(self.start) + i as i128 * i128::from(self.interval);
        i64::try_from(t).unwrap_or(if t < 0 { i64::MIN } else { i64::MAX })
    }

    /// The step of timestamp `t`, which must be one of the steps.
    pub fn index(&self, t: i64) -> usize {
        let i = (i128::from(t) - i128::from(self.start)) / i128::from(self.interval.max(1));
        usize::try_from(i).unwrap_or(0)
    }

    pub fn times(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.t(i))
    }
}

/// The value of an evaluated expression.
#[derive(Debug, Clone)]
pub enum Value {
    /// One number per step.
    Scalar(Vec<f64>),
    /// A string literal (the same at every step).
    String(String),
    /// An instant vector: series with points at step timestamps.
    Vector(Vec<Series>),
    /// A range vector (only at the top of an instant query): series with
    /// their raw samples in the range.
    Matrix(Vec<Series>),
}

/// For each step, the `(series index, value)` pairs present at it, in one
/// flat array (a counting sort by step: no allocation per step).
pub(crate) struct ByStep {
    offsets: Vec<u32>,
    items: Vec<(u32, f64)>,
}

impl ByStep {
    pub fn new(series: &[Series], steps: &Steps) -> Self {
        let n = steps.len();
        // The step of every point, worked out once.
        let mut idx: Vec<u32> = Vec::with_capacity(series.iter().map(|s| s.points.len()).sum());
        let mut offsets = vec![0u32; n + 1];
        for s in series {
            let mut next = 0;
            for p in &s.points {
                // Points are mostly at consecutive steps: avoid a division.
                let i = if next < n && steps.t(next) == p.t {
                    next
                } else {
                    steps.index(p.t)
                };
                next = i + 1;
                idx.push(i as u32);
                offsets[i + 1] += 1;
            }
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut items = vec![(0u32, 0.0); offsets[n] as usize];
        let mut k = 0;
        for (si, s) in series.iter().enumerate() {
            for p in &s.points {
                let slot = &mut fill[idx[k] as usize];
                k += 1;
                items[*slot as usize] = (si as u32, p.f);
                *slot += 1;
            }
        }
        ByStep { offsets, items }
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The pairs at step `i`.
    pub fn at(&self, i: usize) -> &[(u32, f64)] {
        &self.items[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[(u32, f64)]> + '_ {
        (0..self.len()).map(|i| self.at(i))
    }
}
