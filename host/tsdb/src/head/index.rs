//! The inverted index of the head: label name → value → sorted series ids.
//! It covers every series the storage knows (in memory or persisted), and is
//! rebuilt from sled's series records at start.

use rustc_hash::FxHashMap as HashMap;

use pharos_model::{Labels, MatchOp, Matcher};

#[derive(Debug, Default)]
pub(crate) struct Index {
    postings: HashMap<String, HashMap<String, Vec<u64>>>,
    all: Vec<u64>,
}

fn insert_sorted(v: &mut Vec<u64>, id: u64) {
    match v.last() {
        Some(&last) if last < id => v.push(id),
        None => v.push(id),
        _ => {
            if let Err(i) = v.binary_search(&id) {
                v.insert(i, id);
            }
        }
    }
}

fn remove_sorted(v: &mut Vec<u64>, id: u64) {
    if let Ok(i) = v.binary_search(&id) {
        v.remove(i);
    }
}

/// Sorted, deduplicated union of sorted lists.
fn union(lists: Vec<&Vec<u64>>) -> Vec<u64> {
    match lists.len() {
        0 => Vec::new(),
        1 => lists[0].clone(),
        _ => {
            let mut out: Vec<u64> = lists.into_iter().flatten().copied().collect();
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn subtract(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut j = 0;
    a.iter()
        .copied()
        .filter(|x| {
            while j < b.len() && b[j] < *x {
                j += 1;
            }
            !(j < b.len() && b[j] == *x)
        })
        .collect()
}

impl Index {
    pub(crate) fn add(&mut self, id: u64, labels: &Labels) {
        for l in labels {
            let values = self.postings.entry(l.name.clone()).or_default();
            insert_sorted(values.entry(l.value.clone()).or_default(), id);
        }
        insert_sorted(&mut self.all, id);
    }

    pub(crate) fn remove(&mut self, id: u64, labels: &Labels) {
        for l in labels {
            if let Some(values) = self.postings.get_mut(&l.name) {
                if let Some(ids) = values.get_mut(&l.value) {
                    remove_sorted(ids, id);
                    if ids.is_empty() {
                        values.remove(&l.value);
                    }
                }
                if values.is_empty() {
                    self.postings.remove(&l.name);
                }
            }
        }
        remove_sorted(&mut self.all, id);
    }

    pub(crate) fn num_series(&self) -> usize {
        self.all.len()
    }

    /// Union of the postings of the values of `name` that satisfy `keep`.
    fn matching(&self, m: &Matcher, keep: impl Fn(&str) -> bool) -> Vec<u64> {
        let Some(values) = self.postings.get(&m.name) else {
            return Vec::new();
        };
        if m.op == MatchOp::Equal && keep(&m.value) {
            return values.get(&m.value).cloned().unwrap_or_default();
        }
        if let Some(set) = m.set_matches().filter(|_| m.op == MatchOp::Regex) {
            return union(set.iter().filter_map(|v| values.get(v)).collect());
        }
        union(
            values
                .iter()
                .filter(|(v, _)| keep(v))
                .map(|(_, ids)| ids)
                .collect(),
        )
    }

    /// Sorted ids of the series matching all matchers, with Prometheus'
    /// semantics: a matcher that matches `""` also selects series without
    /// the label. No matchers select every series.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Vec<u64> {
        let mut result: Option<Vec<u64>> = None;
        let mut negatives = Vec::new();
        for m in matchers {
            if m.matches_empty() {
                negatives.push(m);
                continue;
            }
            let ids = self.matching(m, |v| m.matches(v));
            result = Some(match result {
                None => ids,
                Some(r) => intersect(&r, &ids),
            });
            if result.as_ref().is_some_and(Vec::is_empty) {
                return Vec::new();
            }
        }
        let mut ids = result.unwrap_or_else(|| self.all.clone());
        for m in negatives {
            // Series that have the label with a value the matcher rejects.
            let excluded = self.matching(m, |v| !m.matches(v));
            if !excluded.is_empty() {
                ids = subtract(&ids, &excluded);
            }
        }
        ids
    }

    /// Every label name with its values and their series ids.
    pub(crate) fn postings(&self) -> &HashMap<String, HashMap<String, Vec<u64>>> {
        &self.postings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx() -> Index {
        let mut i = Index::default();
        i.add(1, &Labels::from_pairs([("__name__", "a"), ("job", "x")]));
        i.add(2, &Labels::from_pairs([("__name__", "a"), ("job", "y")]));
        i.add(3, &Labels::from_pairs([("__name__", "b")]));
        i
    }

    fn m(op: MatchOp, n: &str, v: &str) -> Matcher {
        Matcher::new(op, n, v).expect("matcher")
    }

    #[test]
    fn select_with_prometheus_semantics() {
        let i = idx();
        assert_eq!(i.select(&[m(MatchOp::Equal, "__name__", "a")]), [1, 2]);
        assert_eq!(i.select(&[m(MatchOp::NotEqual, "job", "x")]), [2, 3]);
        assert_eq!(i.select(&[m(MatchOp::Equal, "job", "")]), [3]);
        assert_eq!(i.select(&[m(MatchOp::Regex, "job", "x|y")]), [1, 2]);
        assert_eq!(i.select(&[m(MatchOp::Regex, "job", ".*")]), [1, 2, 3]);
        assert_eq!(i.select(&[m(MatchOp::NotRegex, "job", "x.*")]), [2, 3]);
        assert_eq!(
            i.select(&[
                m(MatchOp::Equal, "__name__", "a"),
                m(MatchOp::Regex, "job", "y")
            ]),
            [2]
        );
        assert!(i.select(&[m(MatchOp::Equal, "nope", "x")]).is_empty());
    }

    #[test]
    fn remove_cleans_postings() {
        let mut i = idx();
        i.remove(3, &Labels::from_pairs([("__name__", "b")]));
        assert!(i.select(&[m(MatchOp::Equal, "__name__", "b")]).is_empty());
        assert_eq!(i.num_series(), 2);
        assert!(!i.postings()["__name__"].contains_key("b"));
    }
}
