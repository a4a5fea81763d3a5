use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// The label that holds a series' metric name.
pub const METRIC_NAME: &str = "__name__";

/// Whether `name` is a legacy label name, `[a-zA-Z_][a-zA-Z0-9_]*`: one
/// that Prometheus 2 accepts and PromQL writes without quotes. Prometheus'
/// `model.LabelName.IsValidLegacy` (prometheus/common).
pub fn is_valid_legacy_label_name(name: &str) -> bool {
    is_legacy_name(name, false)
}

/// Whether `name` is a legacy metric name, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
/// Prometheus' `model.IsValidLegacyMetricName` (prometheus/common).
pub fn is_valid_legacy_metric_name(name: &str) -> bool {
    is_legacy_name(name, true)
}

fn is_legacy_name(name: &str, colons: bool) -> bool {
    let word = |c: char| c == '_' || c.is_ascii_alphabetic() || (colons && c == ':');
    let mut chars = name.chars();
    chars.next().is_some_and(word) && chars.all(|c| word(c) || c.is_ascii_digit())
}

/// One label: a name and a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    pub name: String,
    pub value: String,
}

/// A label set: sorted by name, names unique, no empty values (an empty value
/// means the label is absent, as in Prometheus). This is a series' identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Labels(Vec::new())
    }

    /// Builds a label set from pairs in any order. Later pairs win over
    /// earlier ones with the same name; empty values are dropped.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut b = LabelsBuilder::default();
        for (n, v) in pairs {
            b.set(n, v);
        }
        b.build()
    }

    /// Wraps labels that are already sorted by name with unique names and
    /// non-empty values. Returns `None` if they are not.
    pub fn from_sorted(labels: Vec<Label>) -> Option<Self> {
        let ok = labels.windows(2).all(|w| w[0].name < w[1].name)
            && labels.iter().all(|l| !l.value.is_empty());
        ok.then_some(Labels(labels))
    }

    /// The value of `name`, or `None` when absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_str())
    }

    /// The metric name, if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<Label> {
        self.0
    }

    /// A builder starting from this label set.
    pub fn to_builder(&self) -> LabelsBuilder {
        LabelsBuilder {
            labels: self.0.clone(),
        }
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Prints `{a="1", b="2"}` with `__name__` in front as a bare metric name,
/// as Prometheus prints series.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.metric_name() {
            f.write_str(name)?;
        }
        let rest: Vec<&Label> = self.0.iter().filter(|l| l.name != METRIC_NAME).collect();
        if rest.is_empty() && self.metric_name().is_some() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, l) in rest.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={:?}", l.name, l.value)?;
        }
        f.write_str("}")
    }
}

/// Serializes as a JSON object, the shape of `metric` in Prometheus' API.
impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for l in &self.0 {
            m.serialize_entry(&l.name, &l.value)?;
        }
        m.end()
    }
}

/// Edits a label set: set, delete, keep only some names.
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    labels: Vec<Label>,
}

impl LabelsBuilder {
    /// Sets `name` to `value`; an empty value deletes the label.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let name = name.into();
        let value = value.into();
        match self.labels.binary_search_by(|l| l.name.cmp(&name)) {
            Ok(i) if value.is_empty() => {
                self.labels.remove(i);
            }
            Ok(i) => self.labels[i].value = value,
            Err(_) if value.is_empty() => {}
            Err(i) => self.labels.insert(i, Label { name, value }),
        }
        self
    }

    /// Removes `name` if present.
    pub fn del(&mut self, name: &str) -> &mut Self {
        self.labels.retain(|l| l.name != name);
        self
    }

    /// Keeps only the labels whose names satisfy `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(&Label) -> bool) -> &mut Self {
        self.labels.retain(|l| keep(l));
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.value.as_str())
    }

    pub fn build(self) -> Labels {
        Labels(self.labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_label_names() {
        for ok in ["a", "_", "__name__", "job", "A_1", "_9"] {
            assert!(is_valid_legacy_label_name(ok), "{ok:?}");
        }
        for bad in ["", "1a", "a:b", ":a", "a-b", "a.b", "é", "a b", "a\n"] {
            assert!(!is_valid_legacy_label_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn legacy_metric_names() {
        for ok in ["up", "a:b_c1", ":a", "a:", "__name__", "_"] {
            assert!(is_valid_legacy_metric_name(ok), "{ok:?}");
        }
        for bad in ["", "1a", "a-b", "a.b", "é", "a b"] {
            assert!(!is_valid_legacy_metric_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn from_pairs_sorts_dedups_and_drops_empty() {
        let l = Labels::from_pairs([("b", "2"), ("a", "1"), ("c", ""), ("a", "3")]);
        let names: Vec<_> = l
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(names, [("a", "3"), ("b", "2")]);
        assert_eq!(l.get("a"), Some("3"));
        assert_eq!(l.get("c"), None);
    }

    #[test]
    fn display_and_json_match_prometheus() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "a\"b")]);
        assert_eq!(l.to_string(), r#"up{job="a\"b"}"#);
        assert_eq!(
            serde_json::to_string(&l).ok().as_deref(),
            Some(r#"{"__name__":"up","job":"a\"b"}"#)
        );
        assert_eq!(Labels::from_pairs([("__name__", "up")]).to_string(), "up");
        assert_eq!(Labels::empty().to_string(), "{}");
    }

    #[test]
    fn from_sorted_rejects_unsorted() {
        let l = |n: &str| Label {
            name: n.into(),
            value: "x".into(),
        };
        assert!(Labels::from_sorted(vec![l("a"), l("b")]).is_some());
        assert!(Labels::from_sorted(vec![l("b"), l("a")]).is_none());
        assert!(Labels::from_sorted(vec![l("a"), l("a")]).is_none());
    }
}
