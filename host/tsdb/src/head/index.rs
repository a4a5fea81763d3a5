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

    /// The postings lists of the values of `m.name` that satisfy `keep`.
    fn matching<'a>(&'a self, m: &Matcher, keep: impl Fn(&str) -> bool) -> Vec<&'a Vec<u64>> {
        let Some(values) = self.postings.get(&m.name) else {
            return Vec::new();
        };
        if m.op == MatchOp::Equal && keep(&m.value) {
            return values.get(&m.value).into_iter().collect();
        }
        if let Some(set) = m.set_matches().filter(|_| m.op == MatchOp::Regex) {
            return set.iter().filter_map(|v| values.get(v)).collect();
        }
        values
            .iter()
            .filter(|(v, _)| keep(v))
            .map(|(_, ids)| ids)
            .collect()
    }

    /// Sorted ids of the series matching all matchers, with Prometheus'
    /// semantics: a matcher that matches `""` also selects series without
    /// the label. No matchers select every series.
    ///
    /// Several postings lists are combined in a bitmap over the id space
    /// (ids are dense: one bit per series ever created), so a regex that
    /// matches many values costs one pass over their postings, not a sort.
    pub(crate) fn select(&self, matchers: &[Matcher]) -> Vec<u64> {
        let mut positive: Vec<Vec<&Vec<u64>>> = Vec::new();
        let mut negatives = Vec::new();
        for m in matchers {
            if m.matches_empty() {
                negatives.push(m);
                continue;
            }
            let lists = self.matching(m, |v| m.matches(v));
            if lists.iter().all(|l| l.is_empty()) {
                return Vec::new();
            }
            positive.push(lists);
        }
        // The common case: one value of one label, nothing to exclude.
        if negatives.is_empty() && positive.len() == 1 && positive[0].len() == 1 {
            return positive[0][0].clone();
        }
        let Some(&max) = self.all.last() else {
            return Vec::new();
        };
        let words = (max / 64 + 1) as usize;
        // Smallest first: the result only shrinks.
        positive.sort_by_key(|lists| lists.iter().map(|l| l.len()).sum::<usize>());
        let mut result: Option<Vec<u64>> = None;
        let mut scratch = vec![0u64; words];
        for lists in &positive {
            scratch.iter_mut().for_each(|w| *w = 0);
            for l in lists {
                for &id in *l {
                    scratch[(id / 64) as usize] |= 1 << (id % 64);
                }
            }
            match &mut result {
                None => result = Some(scratch.clone()),
                Some(r) => {
                    let mut any = 0;
                    for (a, b) in r.iter_mut().zip(&scratch) {
                        *a &= b;
                        any |= *a;
                    }
                    if any == 0 {
                        return Vec::new();
                    }
                }
            }
        }
        let mut bits = match result {
            Some(r) => r,
            None => {
                let mut b = vec![0u64; words];
                for &id in &self.all {
                    b[(id / 64) as usize] |= 1 << (id % 64);
                }
                b
            }
        };
        for m in negatives {
            // Series that have the label with a value the matcher rejects.
            for l in self.matching(m, |v| !m.matches(v)) {
                for &id in l {
                    bits[(id / 64) as usize] &= !(1 << (id % 64));
                }
            }
        }
        let mut out = Vec::new();
        for (w, &word) in bits.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                let b = word.trailing_zeros() as u64;
                out.push(w as u64 * 64 + b);
                word &= word - 1;
            }
        }
        out
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
