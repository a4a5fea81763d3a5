//! What the parsers yield: samples and metadata lines, borrowing from the
//! scraped body.

use std::borrow::Cow;
use std::fmt;

use pharos_model::{Label, Labels, METRIC_NAME};

use crate::error::{ParseError, ParseErrorKind};
use crate::lex::{next_pair, unescape_label_value};

/// One entry of an exposition body.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// A sample line.
    Sample(Sample<'a>),
    /// `# HELP <metric> <text>`, the text unescaped.
    Help { metric: &'a str, text: Cow<'a, str> },
    /// `# TYPE <metric> <type>`.
    Type {
        metric: &'a str,
        metric_type: MetricType,
    },
    /// `# UNIT <metric> <unit>` (OpenMetrics only; the unit may be empty).
    Unit { metric: &'a str, unit: &'a str },
    /// Any other comment line (text format only), without its line break.
    /// Prometheus does not require comments to be UTF-8.
    Comment(&'a [u8]),
}

/// A metric family's type. The text format's `untyped` is `Unknown`, as in
/// Prometheus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    Stateset,
    Unknown,
}

impl MetricType {
    /// The name Prometheus reports in its metadata API (`unknown` for the
    /// text format's `untyped`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::Stateset => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One sample line.
///
/// [`series`](Self::series) is the series text exactly as it appears, so a
/// scraper can look it up in a cache and build labels (with
/// [`labels`](Self::labels)) only for series it has not seen: the same
/// text always yields the same labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// `name` or `name{labels}` as written, blanks inside braces included.
    pub series: &'a str,
    /// The metric name.
    pub name: &'a str,
    /// The value; NaN is always Prometheus' normal NaN, never the staleness
    /// marker.
    pub value: f64,
    /// The explicit timestamp in milliseconds, if the line has one.
    pub timestamp: Option<i64>,
    /// The exemplar (OpenMetrics only).
    pub exemplar: Option<Exemplar<'a>>,
    /// The 1-based line the sample starts on.
    pub line: usize,
    /// The text between the braces, checked by the parser.
    pub(crate) label_text: &'a str,
}

impl<'a> Sample<'a> {
    /// The label pairs in the order written, `__name__` not included,
    /// values unescaped. Allocates only for values with escapes.
    pub fn label_pairs(&self) -> LabelPairs<'a> {
        LabelPairs {
            text: self.label_text,
        }
    }

    /// The series' label set: `__name__` and the written labels, sorted.
    /// As in Prometheus, a name written with an empty value is dropped with
    /// all its other values (`{a="",a="1"}` has no `a`); a name written
    /// twice otherwise (`__name__` in the braces included) is an error, and
    /// so is `{__name__=""}`, which leaves no metric name. Errors name the
    /// sample's line.
    pub fn labels(&self) -> Result<Labels, ParseError> {
        build_labels(self.name, self.label_pairs(), self.line)
    }
}

/// An OpenMetrics exemplar: `# {labels} value [timestamp]` after a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// `{labels}` as written.
    pub text: &'a str,
    pub value: f64,
    /// Milliseconds, if given.
    pub timestamp: Option<i64>,
    pub(crate) label_text: &'a str,
}

impl<'a> Exemplar<'a> {
    /// The exemplar's label pairs, values unescaped.
    pub fn label_pairs(&self) -> LabelPairs<'a> {
        LabelPairs {
            text: self.label_text,
        }
    }

    /// The exemplar's label set, sorted, empty values dropped. Prometheus
    /// 2.42 accepts a name written twice here; the later value wins.
    pub fn labels(&self) -> Labels {
        Labels::from_pairs(self.label_pairs())
    }
}

/// Iterator over `(name, value)` label pairs; see [`Sample::label_pairs`].
#[derive(Debug, Clone)]
pub struct LabelPairs<'a> {
    text: &'a str,
}

impl<'a> Iterator for LabelPairs<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        let (name, raw, escaped) = next_pair(&mut self.text)?;
        let value = if escaped {
            Cow::Owned(unescape_label_value(raw))
        } else {
            Cow::Borrowed(raw)
        };
        Some((name, value))
    }
}

fn build_labels(name: &str, pairs: LabelPairs<'_>, line: usize) -> Result<Labels, ParseError> {
    let error = |kind| ParseError { line, kind };
    let mut labels: Vec<Label> = Vec::with_capacity(8);
    labels.push(Label {
        name: METRIC_NAME.to_string(),
        value: name.to_string(),
    });
    for (n, v) in pairs {
        labels.push(Label {
            name: n.to_string(),
            value: v.into_owned(),
        });
    }
    // Prometheus' label builder takes an empty value as "delete this name":
    // every label of that name goes, so `{a="",a="1"}` has no `a` and
    // `{__name__=""}` no metric name.
    if labels.iter().any(|l| l.value.is_empty()) {
        let deleted: Vec<String> = labels
            .iter()
            .filter(|l| l.value.is_empty())
            .map(|l| l.name.clone())
            .collect();
        labels.retain(|l| !deleted.contains(&l.name));
    }
    labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = labels.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(error(ParseErrorKind::DuplicateLabel(w[0].name.clone())));
    }
    let labels = Labels::from_sorted(labels)
        .ok_or_else(|| error(ParseErrorKind::DuplicateLabel(String::new())))?;
    if labels.metric_name().is_none() {
        return Err(error(ParseErrorKind::MissingMetricName));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, Parser};

    fn first_sample(body: &[u8], format: Format) -> Sample<'_> {
        match Parser::new(body, format).next() {
            Some(Ok(Entry::Sample(s))) => s,
            other => panic!("no sample: {other:?}"),
        }
    }

    #[test]
    fn label_pairs_borrow_unless_escaped() {
        let s = first_sample(b"m{a=\"x\", b = \"y\\\"z\" ,c=\"\"} 1\n", Format::PromText);
        let pairs: Vec<_> = s.label_pairs().collect();
        assert_eq!(pairs.len(), 3);
        assert!(matches!(pairs[0], ("a", Cow::Borrowed("x"))));
        assert!(matches!(&pairs[1], ("b", Cow::Owned(v)) if v == "y\"z"));
        assert!(matches!(pairs[2], ("c", Cow::Borrowed(""))));
        let labels = s.labels().map(|l| l.to_string());
        assert_eq!(labels.as_deref(), Ok(r#"m{a="x", b="y\"z"}"#));
    }

    #[test]
    fn label_errors_name_the_sample_line() {
        // The sample starts on line 3 and, through a raw line break in a
        // value (allowed in the text format), ends on line 4.
        let body = b"a 1\nb 2\nm{x=\"1\nz\", x=\"2\"} 3\n";
        let s = Parser::new(body, Format::PromText)
            .filter_map(Result::ok)
            .find_map(|e| match e {
                Entry::Sample(s) if s.name == "m" => Some(s),
                _ => None,
            });
        let err = s.map(|s| s.labels().map_err(|e| e.to_string()));
        assert_eq!(err, Some(Err(r#"line 3: duplicate label name "x""#.into())));
    }

    #[test]
    fn exemplar_fields() {
        let body = b"c_total{a=\"b\"} 2 1.5 # {t=\"x\",t=\"y\",u=\"\"} 0.5 7.25\n# EOF\n";
        let s = first_sample(body, Format::OpenMetrics);
        assert_eq!((s.value, s.timestamp), (2.0, Some(1500)));
        let ex = s.exemplar.as_ref().map(|e| (e.text, e.value, e.timestamp));
        assert_eq!(ex, Some((r#"{t="x",t="y",u=""}"#, 0.5, Some(7250))));
        let labels = s.exemplar.map(|e| e.labels().to_string());
        assert_eq!(labels.as_deref(), Some(r#"{t="y"}"#));
    }

    #[test]
    fn metric_type_names_are_prometheus_metadata_names() {
        assert_eq!(MetricType::Unknown.to_string(), "unknown");
        assert_eq!(MetricType::GaugeHistogram.as_str(), "gaugehistogram");
    }
}
