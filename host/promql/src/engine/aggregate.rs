//! Aggregation operators: `sum`, `avg`, `count`, `min`, `max`, `group`,
//! `stddev`, `stdvar`, `quantile`, `count_values`, `topk`, `bottomk`,
//! `limitk`, `limit_ratio`, grouped `by` or `without` labels.

use std::collections::HashMap;

use pharos_model::{Labels, LabelsBuilder, METRIC_NAME};

use super::error::EvalError;
use super::eval::Evaluator;
use super::value::{ByStep, Point, Series, Value};
use crate::functions::stats::{KahanSum, cmp_nan_last, quantile};
use crate::{AggregateExpr, AggregateOp};

/// The group a series falls into: its labels reduced by `by`/`without`.
fn group_labels(s: &Series, a: &AggregateExpr) -> Labels {
    let mut b: LabelsBuilder = s.labels.to_builder();
    if a.without {
        b.retain(|l| l.name != METRIC_NAME && !a.grouping.contains(&l.name));
    } else {
        b.retain(|l| a.grouping.contains(&l.name));
    }
    b.build()
}

/// Running state of one group at one step.
#[derive(Clone, Default)]
struct Acc {
    n: f64,
    sum: KahanSum,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    all_finite: bool,
    values: Vec<f64>,
}

impl Evaluator<'_> {
    pub fn aggregate(&mut self, a: &AggregateExpr) -> Result<Value, EvalError> {
        let param = match (&a.param, a.op) {
            (Some(p), AggregateOp::CountValues) => Param::String(self.eval_string(p)?),
            (Some(p), _) => Param::Scalar(self.eval_scalar(p)?),
            (None, _) => Param::None,
        };
        let input = self.eval_vector(&a.expr)?;
        let steps = self.steps;

        // Groups, worked out once per series.
        let mut group_of = Vec::with_capacity(input.len());
        let mut groups: Vec<(Labels, bool)> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::new();
        for s in &input {
            let labels = group_labels(s, a);
            let keeps_name = labels.get(METRIC_NAME).is_some();
            let g = *index.entry(labels.clone()).or_insert_with(|| {
                groups.push((labels, false));
                groups.len() - 1
            });
            if keeps_name && s.drop_name {
                groups[g].1 = true;
            }
            group_of.push(g);
        }
        let per_step = ByStep::new(&input, &steps);

        match a.op {
            AggregateOp::Topk
            | AggregateOp::Bottomk
            | AggregateOp::Limitk
            | AggregateOp::LimitRatio => {
                let Param::Scalar(k) = param else {
                    return Err(EvalError::exec("missing parameter"));
                };
                self.select_k(a.op, &k, input, &group_of, groups.len(), &per_step)
            }
            AggregateOp::CountValues => {
                let Param::String(label) = param else {
                    return Err(EvalError::exec("missing parameter"));
                };
                // Prometheus 3 accepts any UTF-8 label name but the empty one.
                if label.is_empty() {
                    return Err(EvalError::exec(format!("invalid label name {label:?}")));
                }
                let mut out: Vec<Series> = Vec::new();
                let mut by: HashMap<(usize, String), usize> = HashMap::new();
                for (i, here) in per_step.iter().enumerate() {
                    let mut counts: HashMap<(usize, String), f64> = HashMap::new();
                    for &(si, f) in here {
                        *counts
                            .entry((group_of[si as usize], crate::functions::format_value(f)))
                            .or_default() += 1.0;
                    }
                    let mut counts: Vec<_> = counts.into_iter().collect();
                    counts.sort_by(|x, y| x.0.cmp(&y.0));
                    for (key, c) in counts {
                        let idx = *by.entry(key.clone()).or_insert_with(|| {
                            let mut b = groups[key.0].0.to_builder();
                            b.set(label.clone(), key.1.clone());
                            out.push(Series::new(b.build(), Vec::new()));
                            out.len() - 1
                        });
                        out[idx].points.push(Point {
                            t: steps.t(i),
                            f: c,
                        });
                    }
                }
                Ok(Value::Vector(out))
            }
            op => {
                let q = if let Param::Scalar(q) = &param {
                    Some(q)
                } else {
                    None
                };
                if let Some(q) = q
                    && let Some(bad) = q.iter().find(|q| !(0.0..=1.0).contains(*q))
                    && !input.is_empty()
                {
                    self.annotations.warn(
                        self.text,
                        a.param.as_ref().map_or(a.span, |p| p.span()),
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            crate::functions::format_value(*bad)
                        ),
                    );
                }
                let mut out: Vec<Series> = groups
                    .iter()
                    .map(|(l, d)| Series {
                        labels: l.clone(),
                        points: Vec::new(),
                        drop_name: *d,
                    })
                    .collect();
                let mut accs: Vec<Acc> = vec![Acc::default(); groups.len()];
                let mut touched: Vec<usize> = Vec::new();
                for (i, here) in per_step.iter().enumerate() {
                    touched.clear();
                    for &(si, f) in here {
                        let g = group_of[si as usize];
                        let acc = &mut accs[g];
                        if acc.n == 0.0 {
                            *acc = Acc {
                                min: f,
                                max: f,
                                all_finite: true,
                                values: std::mem::take(&mut acc.values),
                                ..Default::default()
                            };
                            acc.values.clear();
                            touched.push(g);
                        }
                        acc.add(op, f);
                    }
                    for &g in &touched {
                        let acc = &mut accs[g];
                        let f = acc.result(op, q.map(|q| q[i]));
                        acc.n = 0.0;
                        out[g].points.push(Point { t: steps.t(i), f });
                    }
                }
                out.retain(|s| !s.points.is_empty());
                Ok(Value::Vector(out))
            }
        }
    }

    fn select_k(
        &mut self,
        op: AggregateOp,
        k: &[f64],
        input: Vec<Series>,
        group_of: &[usize],
        ngroups: usize,
        per_step: &ByStep,
    ) -> Result<Value, EvalError> {
        let steps = self.steps;
        let mut keep: Vec<Vec<Point>> = vec![Vec::new(); input.len()];
        let mut members: Vec<Vec<(u32, f64)>> = vec![Vec::new(); ngroups];
        if k.iter().any(|k| k.is_nan()) {
            return Err(EvalError::BadData(
                if op == AggregateOp::LimitRatio {
                    "Ratio value is NaN"
                } else {
                    "Parameter value is NaN"
                }
                .into(),
            ));
        }
        // For an instant query: each kept series' place in the answer
        // (groups in order, within a group in the operator's order).
        let mut rank: Vec<usize> = vec![usize::MAX; input.len()];
        let mut next_rank = 0;
        for (i, here) in per_step.iter().enumerate() {
            if here.is_empty() {
                continue;
            }
            let param = k[i];
            for m in &mut members {
                m.clear();
            }
            for &(si, f) in here {
                members[group_of[si as usize]].push((si, f));
            }
            for m in &mut members {
                if m.is_empty() {
                    continue;
                }
                let chosen: &[(u32, f64)] = match op {
                    AggregateOp::LimitRatio => {
                        let ratio = param.clamp(-1.0, 1.0);
                        for &(si, f) in m.iter() {
                            if ratio_keeps(&input[si as usize].labels, ratio) {
                                keep[si as usize].push(Point { t: steps.t(i), f });
                            }
                        }
                        continue;
                    }
                    _ => {
                        let k = if param >= m.len() as f64 {
                            m.len()
                        } else if param < 1.0 {
                            0
                        } else {
                            param as usize
                        };
                        match op {
                            AggregateOp::Topk => m.sort_by(|a, b| cmp_nan_last(a.1, b.1, true)),
                            AggregateOp::Bottomk => m.sort_by(|a, b| cmp_nan_last(a.1, b.1, false)),
                            _ => m.sort_by(|a, b| {
                                input[a.0 as usize].labels.cmp(&input[b.0 as usize].labels)
                            }),
                        }
                        &m[..k]
                    }
                };
                for &(si, f) in chosen {
                    keep[si as usize].push(Point { t: steps.t(i), f });
                    rank[si as usize] = next_rank;
                    next_rank += 1;
                }
            }
        }
        let mut out = Vec::new();
        for ((mut s, points), r) in input.into_iter().zip(keep).zip(rank) {
            if !points.is_empty() {
                s.points = points;
                out.push((r, s));
            }
        }
        if steps.len() == 1 {
            out.sort_by_key(|(r, _)| *r);
        }
        Ok(Value::Vector(out.into_iter().map(|(_, s)| s).collect()))
    }
}

enum Param {
    None,
    Scalar(Vec<f64>),
    String(String),
}

/// Whether `limit_ratio(ratio, …)` keeps a series: a stable pseudo-random
/// position in [0, 1) from the labels; a positive ratio keeps positions
/// below it, a negative one the complement.
fn ratio_keeps(labels: &Labels, ratio: f64) -> bool {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    labels.hash(&mut h);
    let pos = (h.finish() >> 11) as f64 / (1u64 << 53) as f64;
    if ratio >= 0.0 {
        pos < ratio
    } else {
        pos >= 1.0 + ratio
    }
}

impl Acc {
    fn add(&mut self, op: AggregateOp, f: f64) {
        self.n += 1.0;
        match op {
            AggregateOp::Sum | AggregateOp::Avg => {
                self.sum.add(f);
                if !f.is_finite() {
                    self.all_finite = false;
                }
                // Incremental mean, used when the sum overflows.
                self.mean += f / self.n - self.mean / self.n;
            }
            AggregateOp::Min if (self.min > f || self.min.is_nan()) => {
                self.min = f;
            }
            AggregateOp::Max if (self.max < f || self.max.is_nan()) => {
                self.max = f;
            }
            AggregateOp::Stddev | AggregateOp::Stdvar => {
                if self.n == 1.0 {
                    self.mean = f;
                    self.m2 = if f.is_finite() { 0.0 } else { f64::NAN };
                } else {
                    let delta = f - self.mean;
                    self.mean += delta / self.n;
                    self.m2 += delta * (f - self.mean);
                }
            }
            AggregateOp::Quantile => self.values.push(f),
            _ => {}
        }
    }

    fn result(&mut self, op: AggregateOp, q: Option<f64>) -> f64 {
        match op {
            AggregateOp::Sum => self.sum.value(),
            AggregateOp::Avg => {
                let s = self.sum.value();
                if s.is_infinite() && self.all_finite {
                    self.mean
                } else {
                    s / self.n
                }
            }
            AggregateOp::Count => self.n,
            AggregateOp::Group => 1.0,
            AggregateOp::Min => self.min,
            AggregateOp::Max => self.max,
            AggregateOp::Stdvar => self.m2 / self.n,
            AggregateOp::Stddev => (self.m2 / self.n).sqrt(),
            AggregateOp::Quantile => quantile(q.unwrap_or(f64::NAN), &mut self.values),
            _ => f64::NAN,
        }
    }
}
