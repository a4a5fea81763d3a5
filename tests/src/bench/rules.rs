//! Pieces of the rule-evaluation benchmark (`pharos-rules-bench`): the rule
//! files promtool accepts from the committed corpus ([`corpus_files`]), the
//! selectors of their expressions read from `/api/v1/parse_query` trees
//! ([`Selectors`]), a data set whose metric names and labels match those
//! selectors ([`DataSet`]), and the `prometheus_rule_*` figures of a
//! `/metrics` page ([`RuleMetrics`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use pharos_prompb::{Label, Sample, TimeSeries, WriteRequest, encode_write_request};
use serde_json::Value;

use super::send::Corpus;
use crate::rng::Rng;

/// The rule files of `corpus` (`kube-prometheus/` and
/// `awesome-prometheus-alerts/`, not `broken/`) whose recorded
/// `promtool check rules` verdict (`FILE.promtool`) ends in exit status 0,
/// sorted.
pub fn corpus_files(corpus: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for sub in ["kube-prometheus", "awesome-prometheus-alerts"] {
        let dir = corpus.join(sub);
        for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {dir:?}"))? {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "yml") {
                continue;
            }
            let mut verdict = path.clone().into_os_string();
            verdict.push(".promtool");
            let verdict = std::fs::read_to_string(&verdict).unwrap_or_default();
            if verdict.trim_end().ends_with("exit status: 0") {
                files.push(path.canonicalize()?);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// One label matcher of a selector.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Matcher {
    pub op: String,
    pub label: String,
    pub value: String,
}

/// A vector or matrix selector: metric name (empty when only `__name__`
/// matchers name it) and matchers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Selector {
    pub name: String,
    pub matchers: Vec<Matcher>,
}

impl Selector {
    /// The selector as PromQL text (without a range).
    pub fn text(&self) -> String {
        let ms: Vec<String> = self
            .matchers
            .iter()
            .filter(|m| !(m.label == "__name__" && m.op == "=" && m.value == self.name))
            .map(|m| {
                let v = serde_json::to_string(&m.value).unwrap_or_default();
                format!("{}{}{v}", m.label, m.op)
            })
            .collect();
        format!("{}{{{}}}", self.name, ms.join(", "))
    }
}

/// What one rule expression reads: its selectors, and the label names of
/// its `by`/`without` groupings and `on`/`ignoring`/`group_*` matchings.
#[derive(Clone, Debug, Default)]
pub struct Selectors {
    pub selectors: Vec<Selector>,
    pub labels: BTreeSet<String>,
}

impl Selectors {
    /// Walks a `/api/v1/parse_query` tree.
    pub fn from_tree(tree: &Value) -> Self {
        let mut s = Selectors::default();
        s.walk(tree);
        s
    }

    fn walk(&mut self, v: &Value) {
        match v {
            Value::Object(o) => {
                let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
                if kind == "vectorSelector" || kind == "matrixSelector" {
                    let matchers = o
                        .get("matchers")
                        .and_then(Value::as_array)
                        .map(|ms| {
                            ms.iter()
                                .map(|m| Matcher {
                                    op: m["type"].as_str().unwrap_or("=").to_string(),
                                    label: m["name"].as_str().unwrap_or("").to_string(),
                                    value: m["value"].as_str().unwrap_or("").to_string(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    self.selectors.push(Selector {
                        name: o
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        matchers,
                    });
                    return;
                }
                for key in ["grouping", "include"] {
                    self.add_labels(o.get(key));
                }
                if let Some(m) = o.get("matching") {
                    self.add_labels(m.get("labels"));
                    self.add_labels(m.get("include"));
                }
                for (k, child) in o {
                    if k != "matching" {
                        self.walk(child);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|c| self.walk(c)),
            _ => {}
        }
    }

    fn add_labels(&mut self, v: Option<&Value>) {
        for l in v.and_then(Value::as_array).into_iter().flatten() {
            if let Some(l) = l.as_str() {
                self.labels.insert(l.to_string());
            }
        }
    }
}

/// Strings that a matcher regex matches, for the simple regexes rules use
/// (`a|b|c`, `5..`, `kube-.*`, `(?i)x`, `[0-9]+`), or `None` when the regex
/// has no literal part (`.+`, `.*`) or a construct this does not handle.
pub fn regex_examples(re: &str) -> Option<Vec<String>> {
    let re = re.strip_prefix("(?i)").unwrap_or(re);
    let re = re.strip_prefix('^').unwrap_or(re);
    let re = re.strip_suffix('$').unwrap_or(re);
    let out: Vec<String> = split_top(re)
        .into_iter()
        .filter_map(example)
        .filter(|s| !s.is_empty())
        .collect();
    (!out.is_empty()).then_some(out)
}

/// Splits at the `|` outside parentheses and brackets.
fn split_top(re: &str) -> Vec<&str> {
    let (mut depth, mut class, mut esc, mut start) = (0i32, false, false, 0);
    let mut out = Vec::new();
    for (i, c) in re.char_indices() {
        match c {
            _ if esc => esc = false,
            '\\' => esc = true,
            '[' if !class => class = true,
            ']' if class => class = false,
            '(' if !class => depth += 1,
            ')' if !class => depth -= 1,
            '|' if !class && depth == 0 => {
                out.push(&re[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&re[start..]);
    out
}

/// One string matched by a regex without top-level `|`; `None` if it has no
/// literal character or an unhandled construct.
fn example(re: &str) -> Option<String> {
    let chars: Vec<char> = re.chars().collect();
    let (mut out, mut literal, mut i) = (String::new(), false, 0);
    while i < chars.len() {
        let c = chars[i];
        // What one atom produces, and where the next atom starts.
        let (atom, next, lit): (String, usize, bool) = match c {
            '\\' => {
                let e = *chars.get(i + 1)?;
                let s = match e {
                    'd' => "0".to_string(),
                    'w' => "a".to_string(),
                    's' => " ".to_string(),
                    c if c.is_ascii_alphanumeric() => return None,
                    c => c.to_string(),
                };
                (s, i + 2, true)
            }
            '.' => ("0".to_string(), i + 1, false),
            '[' => {
                let end = i + chars[i..].iter().position(|&c| c == ']')?;
                let first = *chars.get(i + 1)?;
                if first == '^' || first == '\\' {
                    return None;
                }
                (first.to_string(), end + 1, false)
            }
            '(' => {
                let mut depth = 0;
                let mut end = None;
                for (j, &c) in chars.iter().enumerate().skip(i) {
                    if c == '(' {
                        depth += 1;
                    } else if c == ')' {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(j);
                            break;
                        }
                    }
                }
                let end = end?;
                let inner: String = chars[i + 1..end].iter().collect();
                let inner = inner.strip_prefix("?:").unwrap_or(&inner).to_string();
                let first = regex_examples(&inner)?.into_iter().next()?;
                (first, end + 1, true)
            }
            '{' | ')' | ']' | '*' | '+' | '?' => return None,
            c => (c.to_string(), i + 1, true),
        };
        match chars.get(next) {
            Some('*' | '?') => i = next + 1,
            Some('+') => {
                out.push_str(&atom);
                literal |= lit;
                i = next + 1;
            }
            Some('{') => return None,
            _ => {
                out.push_str(&atom);
                literal |= lit;
                i = next;
            }
        }
    }
    literal.then_some(out)
}

/// The buckets of generated classic histograms (seconds).
const BUCKETS: &[&str] = &[
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];

/// At most this many values of one label from matchers.
const MAX_VALUES: usize = 16;

/// One generated metric name and the shape of its series.
#[derive(Clone, Debug)]
pub struct MetricSpec {
    pub name: String,
    /// Labels whose values come from the rules' matchers; every series
    /// takes one value of each (mixed radix over the series index, `le`
    /// first so a histogram's buckets are neighbours).
    pub valued: Vec<(String, Vec<String>)>,
    /// Labels that only need to exist (grouping, `!=` matchers): their value
    /// derives from the series' entity, the same way in every metric, so
    /// joins `on(instance)`, `on(namespace, pod)` find partners.
    pub generic: Vec<String>,
    pub counter: bool,
}

/// The generated data: `series_per_metric` series for every metric name the
/// rules select.
#[derive(Clone, Debug)]
pub struct DataSet {
    pub metrics: Vec<MetricSpec>,
    pub series_per_metric: usize,
}

/// A seeded hash of two numbers.
fn hash(a: u64, b: u64) -> u64 {
    Rng::new(a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.rotate_left(29)).next_u64()
}

/// The value of an entity label: consistent across metrics, so that series
/// `e` of two metrics share instance, pod, node, namespace.
fn entity_value(label: &str, e: usize) -> String {
    match label {
        "instance" => format!("10.0.{}.{}:9100", e / 250, e % 250 + 1),
        "job" => format!("job-{}", e % 4),
        "pod" => format!("pod-{e}"),
        "node" => format!("node-{}", e % 16),
        "namespace" => format!("ns-{}", e % 8),
        "container" => format!("container-{}", e % 4),
        "cluster" => "bench".to_string(),
        // Unique per entity, as the objects such labels name usually are
        // (a statefulset, a topic partition): joins on them stay one-to-one.
        _ => format!("{label}-{e}"),
    }
}

impl DataSet {
    /// Plans the data for the given expressions' selectors. Names with a
    /// colon (recording rule outputs) and `ALERTS*` are left to the rules.
    pub fn plan(exprs: &[Selectors], series_per_metric: usize) -> DataSet {
        #[derive(Default)]
        struct Acc {
            values: BTreeMap<String, BTreeSet<String>>,
            generic: BTreeSet<String>,
        }
        let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
        for e in exprs {
            for s in &e.selectors {
                let names: Vec<String> = if !s.name.is_empty() {
                    vec![s.name.clone()]
                } else {
                    s.matchers
                        .iter()
                        .filter(|m| m.label == "__name__")
                        .flat_map(|m| match m.op.as_str() {
                            "=" => vec![m.value.clone()],
                            "=~" => regex_examples(&m.value).unwrap_or_default(),
                            _ => vec![],
                        })
                        .collect()
                };
                for name in names {
                    if name.contains(':') || name.starts_with("ALERTS") || name.is_empty() {
                        continue;
                    }
                    let a = acc.entry(name).or_default();
                    for m in s.matchers.iter().filter(|m| m.label != "__name__") {
                        let examples = match m.op.as_str() {
                            "=" if !m.value.is_empty() => Some(vec![m.value.clone()]),
                            "=~" => regex_examples(&m.value),
                            _ => None,
                        };
                        match examples {
                            Some(ex) => a.values.entry(m.label.clone()).or_default().extend(ex),
                            None if m.op == "=" => {} // `l=""`: the label may be absent.
                            None => {
                                a.generic.insert(m.label.clone());
                            }
                        }
                    }
                    a.generic.extend(
                        e.labels
                            .iter()
                            .filter(|l| *l != "le" && *l != "__name__")
                            .cloned(),
                    );
                }
            }
        }
        let metrics = acc
            .into_iter()
            .map(|(name, a)| {
                let mut valued: Vec<(String, Vec<String>)> = a
                    .values
                    .into_iter()
                    .map(|(l, vs)| (l, vs.into_iter().take(MAX_VALUES).collect()))
                    .collect();
                if name.ends_with("_bucket") {
                    let mut les: Vec<String> = BUCKETS.iter().map(|s| s.to_string()).collect();
                    if let Some(i) = valued.iter().position(|(l, _)| l == "le") {
                        les.extend(valued.remove(i).1);
                    }
                    les.sort_by(|a, b| le_num(a).total_cmp(&le_num(b)));
                    les.dedup();
                    valued.insert(0, ("le".to_string(), les));
                }
                let mut generic: Vec<String> = a
                    .generic
                    .into_iter()
                    .chain(["job".to_string(), "instance".to_string()])
                    .filter(|l| !valued.iter().any(|(v, _)| v == l))
                    .collect();
                generic.sort();
                generic.dedup();
                let counter = ["_total", "_count", "_sum", "_bucket"]
                    .iter()
                    .any(|s| name.ends_with(s));
                MetricSpec {
                    name,
                    valued,
                    generic,
                    counter,
                }
            })
            .collect();
        DataSet {
            metrics,
            series_per_metric,
        }
    }

    pub fn series(&self) -> usize {
        self.metrics.len() * self.series_per_metric
    }

    /// The label sets of every series, in order: `(metric index, group, labels)`,
    /// `group` being the histogram a bucket series belongs to (else the series).
    fn label_sets(&self) -> Vec<(usize, usize, f64, Vec<Label>)> {
        let n = self.series_per_metric;
        let mut out = Vec::with_capacity(self.series());
        for (m, spec) in self.metrics.iter().enumerate() {
            let combos: usize = spec
                .valued
                .iter()
                .map(|(_, vs)| vs.len().max(1))
                .fold(1usize, |a, b| a.saturating_mul(b));
            let variants = combos.clamp(1, n.max(1));
            let n_le = if spec.name.ends_with("_bucket") {
                spec.valued[0].1.len()
            } else {
                1
            };
            for i in 0..n {
                let (mut v, e) = (i % variants, i / variants);
                let mut labels = vec![Label {
                    name: "__name__".to_string(),
                    value: spec.name.clone(),
                }];
                let mut cdf = 1.0;
                for (k, (l, vs)) in spec.valued.iter().enumerate() {
                    let d = v % vs.len();
                    v /= vs.len();
                    if k == 0 && n_le > 1 {
                        cdf = (d + 1) as f64 / n_le as f64;
                    }
                    labels.push(Label {
                        name: l.clone(),
                        value: vs[d].clone(),
                    });
                }
                for l in &spec.generic {
                    labels.push(Label {
                        name: l.clone(),
                        value: entity_value(l, e),
                    });
                }
                labels.sort_by(|a, b| a.name.cmp(&b.name));
                out.push((m, i / n_le, cdf, labels));
            }
        }
        out
    }

    /// Renders `samples` scrapes every `interval_ms` starting at `start_ms`
    /// as remote-write bodies of `batch` series each.
    pub fn encode(&self, start_ms: i64, samples: usize, interval_ms: i64, batch: usize) -> Corpus {
        let sets = self.label_sets();
        let batch = batch.max(1);
        // Per series: scrape offset inside the interval (per entity, as a
        // target would), counter rate, gauge level.
        let params: Vec<(i64, u64, f64)> = sets
            .iter()
            .map(|(m, g, _, labels)| {
                let inst = labels.iter().find(|l| l.name == "instance").map_or(0, |l| {
                    l.value.len() as u64 * 131 + l.value.bytes().map(u64::from).sum::<u64>()
                });
                let off = (hash(inst, 7) % interval_ms.max(1) as u64) as i64;
                let h = hash(*m as u64, *g as u64);
                (off, 1 + h % 50, (h >> 16) as f64 % 100.0)
            })
            .collect();
        let mut scrapes = Vec::with_capacity(samples);
        for s in 0..samples {
            let base = start_ms + s as i64 * interval_ms;
            let mut bodies = Vec::new();
            for (chunk_i, chunk) in sets.chunks(batch).enumerate() {
                let mut req = WriteRequest {
                    timeseries: Vec::with_capacity(chunk.len()),
                    metadata: vec![],
                };
                for (j, (m, g, cdf, labels)) in chunk.iter().enumerate() {
                    let (off, rate, level) = params[chunk_i * batch + j];
                    let spec = &self.metrics[*m];
                    let value = if spec.counter {
                        // One running count per histogram (or series), the
                        // same for its buckets, which take their share.
                        let h = hash(*m as u64, *g as u64);
                        let count = level.floor()
                            + (rate * s as u64) as f64
                            + ((h >> 40) % 7 * (s as u64 / 4)) as f64;
                        (count * cdf).floor()
                    } else if spec.name == "up" || spec.name.ends_with("_info") {
                        1.0
                    } else {
                        let phase = (hash(*m as u64, *g as u64 + 1) % 628) as f64 / 100.0;
                        (level + 10.0 * (s as f64 / 20.0 + phase).sin()).max(0.0)
                    };
                    req.timeseries.push(TimeSeries {
                        labels: labels.clone(),
                        samples: vec![Sample {
                            value,
                            timestamp: base + off,
                        }],
                        exemplars: vec![],
                    });
                }
                bodies.push(encode_write_request(&req));
            }
            scrapes.push(bodies);
        }
        let batch_series = sets.chunks(batch).map(|c| c.len() as u64).collect();
        let bytes = scrapes.iter().flatten().map(|b| b.len() as u64).sum();
        Corpus {
            scrapes,
            batch_series,
            bytes,
            end_ms: start_ms + samples as i64 * interval_ms,
            span_ms: samples as i64 * interval_ms,
        }
    }
}

fn le_num(s: &str) -> f64 {
    if s == "+Inf" {
        f64::INFINITY
    } else {
        s.parse().unwrap_or(f64::MAX)
    }
}

/// The `prometheus_rule_*` figures of a `/metrics` page, per `rule_group`.
#[derive(Clone, Debug, Default)]
pub struct RuleMetrics {
    /// metric name (as exposed, e.g. `..._total`) → rule group → value
    pub values: BTreeMap<String, BTreeMap<String, f64>>,
}

impl RuleMetrics {
    pub fn parse(text: &str) -> Self {
        let mut values: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        for line in text.lines() {
            if !line.starts_with("prometheus_rule_") {
                continue;
            }
            let Some(brace) = line.find('{') else {
                continue;
            };
            let name = &line[..brace];
            let Some(g) = line.find("rule_group=\"") else {
                continue;
            };
            let rest = &line[g + 12..];
            let Some(end) = rest.find('"') else { continue };
            let Some(v) = line
                .rsplit(' ')
                .next()
                .and_then(|v| v.trim().parse::<f64>().ok())
            else {
                continue;
            };
            values
                .entry(name.to_string())
                .or_default()
                .insert(rest[..end].to_string(), v);
        }
        RuleMetrics { values }
    }

    /// Per-group values of `name` (empty if absent).
    pub fn get(&self, name: &str) -> BTreeMap<String, f64> {
        self.values.get(name).cloned().unwrap_or_default()
    }

    /// Sum over groups.
    pub fn sum(&self, name: &str) -> f64 {
        self.values.get(name).map_or(0.0, |m| m.values().sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn regex_examples_of_rule_regexes() {
        let ex = |re: &str| regex_examples(re).unwrap_or_default();
        assert_eq!(ex("Pending|Unknown"), vec!["Pending", "Unknown"]);
        assert_eq!(ex("5.."), vec!["500"]);
        assert_eq!(ex("kube-.*"), vec!["kube-"]);
        assert_eq!(ex("(?i)abc|d"), vec!["abc", "d"]);
        assert_eq!(ex("tmpfs|(ext|xfs)4?"), vec!["tmpfs", "ext"]);
        assert_eq!(ex("/dev/sd[a-z]+"), vec!["/dev/sda"]);
        assert_eq!(regex_examples(".+"), None);
        assert_eq!(regex_examples(".*"), None);
        assert_eq!(regex_examples("a{2}"), None);
    }

    #[test]
    fn walks_a_tree() {
        let tree = json!({"type": "binaryExpr", "matching": {"labels": ["instance"], "include": ["node"]},
            "lhs": {"type": "aggregation", "grouping": ["job"], "expr": {"type": "matrixSelector", "name": "a_total",
                "matchers": [{"type": "=", "name": "mode", "value": "idle"}, {"type": "=", "name": "__name__", "value": "a_total"}]}},
            "rhs": {"type": "vectorSelector", "name": "b", "matchers": [{"type": "!=", "name": "device", "value": ""}]}});
        let s = Selectors::from_tree(&tree);
        assert_eq!(s.selectors.len(), 2);
        assert_eq!(s.selectors[0].text(), "a_total{mode=\"idle\"}");
        assert_eq!(
            s.labels.iter().cloned().collect::<Vec<_>>(),
            ["instance", "job", "node"]
        );
        let d = DataSet::plan(&[s], 10);
        assert_eq!(d.metrics.len(), 2);
        assert_eq!(
            d.metrics[0].valued,
            vec![("mode".to_string(), vec!["idle".to_string()])]
        );
        assert!(d.metrics[1].generic.contains(&"device".to_string()));
        let c = d.encode(0, 3, 15_000, 7);
        assert_eq!(c.scrapes.len(), 3);
        assert_eq!(c.batch_series, vec![7, 7, 6]);
    }

    #[test]
    fn buckets_are_cumulative() {
        let s = Selectors {
            selectors: vec![Selector {
                name: "h_bucket".into(),
                matchers: vec![],
            }],
            labels: BTreeSet::new(),
        };
        let d = DataSet::plan(&[s], 24);
        let sets = d.label_sets();
        assert_eq!(
            sets[11]
                .3
                .iter()
                .find(|l| l.name == "le")
                .map(|l| l.value.as_str()),
            Some("+Inf")
        );
        assert_eq!(sets[0].1, sets[11].1);
        assert_ne!(sets[0].1, sets[12].1);
        assert_eq!(sets[11].2, 1.0);
    }

    #[test]
    fn parses_rule_metrics() {
        let m = RuleMetrics::parse(
            "# HELP x\nprometheus_rule_group_iterations_total{rule_group=\"/a.yml;g\"} 7\nprometheus_rule_group_last_duration_seconds{rule_group=\"/a.yml;h\"} 0.5\n",
        );
        assert_eq!(
            m.get("prometheus_rule_group_iterations_total")["/a.yml;g"],
            7.0
        );
        assert_eq!(m.sum("prometheus_rule_group_last_duration_seconds"), 0.5);
    }
}
