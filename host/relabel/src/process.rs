//! Applies relabel steps to a label set, as Prometheus' `relabel.Process`
//! does: steps run in order, `keep`/`drop`/`keepequal`/`dropequal` stop
//! processing by dropping the whole label set, every other step edits it.
//!
//! Source labels that are missing count as empty values, joined with the
//! separator. A replacement that expands to the empty string deletes the
//! target label (an empty value is no label, as everywhere in Prometheus).
//! A `replace` whose expanded `target_label` is not a label name, and a
//! `labelmap` whose expanded name is not one, change nothing.
//!
//! The builder variant edits in place and allocates only when a step
//! changes something, or when it must build a value (more than one source
//! label, a `replace` match, `hashmod`, case mapping).

use std::borrow::Cow;

use md5::{Digest, Md5};
use pharos_model::{Labels, LabelsBuilder, is_valid_legacy_label_name};

use crate::action::Action;
use crate::case;
use crate::config::Relabel;

/// Applies `relabels` to `labels`. `None` means a step dropped the set.
pub fn process(labels: &Labels, relabels: &[Relabel]) -> Option<Labels> {
    if relabels.is_empty() {
        return Some(labels.clone());
    }
    let mut lb = labels.to_builder();
    process_builder(&mut lb, relabels).then(|| lb.build())
}

/// Applies `relabels` to the label set in `lb`, in place. Returns `false`
/// when a step dropped the set (the builder is then left half-edited).
pub fn process_builder(lb: &mut LabelsBuilder, relabels: &[Relabel]) -> bool {
    let mut scratch = String::new();
    relabels.iter().all(|r| apply(lb, r, &mut scratch))
}

/// One step; `false` drops the label set.
fn apply(lb: &mut LabelsBuilder, r: &Relabel, scratch: &mut String) -> bool {
    match r.action {
        Action::Keep => r.regex.is_match(source(lb, r, scratch)),
        Action::Drop => !r.regex.is_match(source(lb, r, scratch)),
        Action::KeepEqual => source(lb, r, scratch) == lb.get(&r.target_label).unwrap_or(""),
        Action::DropEqual => source(lb, r, scratch) != lb.get(&r.target_label).unwrap_or(""),
        Action::Replace => {
            if let Some((target, value)) = replacement(lb, r, scratch) {
                set(lb, &target, value);
            }
            true
        }
        Action::HashMod => {
            let value = hashmod(source(lb, r, scratch), r.modulus).to_string();
            set(lb, &r.target_label, value);
            true
        }
        Action::Lowercase | Action::Uppercase => {
            let v = source(lb, r, scratch);
            let value = if r.action == Action::Lowercase {
                case::to_lower(v)
            } else {
                case::to_upper(v)
            };
            // Prometheus does not expand the target of these actions;
            // a template-looking target is not a label name, so skip it.
            if is_valid_legacy_label_name(&r.target_label) {
                set(lb, &r.target_label, value);
            }
            true
        }
        Action::LabelMap => {
            let mut copies: Vec<(String, String)> = Vec::new();
            // The builder has no iterator: `retain` that keeps everything
            // visits the labels in name order.
            lb.retain(|l| {
                if let Some(caps) = r.regex.captures(&l.name) {
                    let name = r.replacement.expand(&caps);
                    if is_valid_legacy_label_name(&name) {
                        copies.push((name, l.value.clone()));
                    }
                }
                true
            });
            for (name, value) in copies {
                set(lb, &name, value);
            }
            true
        }
        Action::LabelDrop => {
            lb.retain(|l| !r.regex.is_match(&l.name));
            true
        }
        Action::LabelKeep => {
            lb.retain(|l| r.regex.is_match(&l.name));
            true
        }
    }
}

/// The source label values joined with the separator; missing labels are
/// empty. Borrows the one value when there is a single source label.
fn source<'a>(lb: &'a LabelsBuilder, r: &Relabel, scratch: &'a mut String) -> &'a str {
    match r.source_labels.as_slice() {
        [] => "",
        [one] => lb.get(one).unwrap_or(""),
        many => {
            scratch.clear();
            for (i, name) in many.iter().enumerate() {
                if i > 0 {
                    scratch.push_str(&r.separator);
                }
                scratch.push_str(lb.get(name).unwrap_or(""));
            }
            scratch
        }
    }
}

/// What a `replace` step writes: the target label and the value, or
/// `None` when the regex does not match, the target expands to something
/// that is not a label name, or the label already has that value.
fn replacement<'r>(
    lb: &LabelsBuilder,
    r: &'r Relabel,
    scratch: &mut String,
) -> Option<(Cow<'r, str>, String)> {
    let v = source(lb, r, scratch);
    let literal_target = r.target.as_literal();
    if let Some(target) = literal_target
        && r.regex_is_default
        && r.replacement.is_group(1)
    {
        // `(.*)` → `$1` copies the value: no regex needed.
        return (lb.get(target).unwrap_or("") != v).then(|| (Cow::Borrowed(target), v.to_owned()));
    }
    let caps = r.regex.captures(v)?;
    let target = match literal_target {
        Some(t) => Cow::Borrowed(t),
        None => {
            let t = r.target.expand(&caps);
            if !is_valid_legacy_label_name(&t) {
                return None;
            }
            Cow::Owned(t)
        }
    };
    let value = r.replacement.expand(&caps);
    (lb.get(&target).unwrap_or("") != value).then_some((target, value))
}

/// Sets `name` to `value`, or deletes it when `value` is empty; touches the
/// builder only when that changes something.
fn set(lb: &mut LabelsBuilder, name: &str, value: String) {
    match lb.get(name) {
        Some(old) if old == value => {}
        None if value.is_empty() => {}
        Some(_) if value.is_empty() => {
            lb.del(name);
        }
        _ => {
            lb.set(name, value);
        }
    }
}

/// Prometheus' `hashmod`: the md5 of the value, its last eight bytes read
/// big-endian, modulo `modulus` (never zero after validation).
pub(crate) fn hashmod(value: &str, modulus: u64) -> u64 {
    let digest = Md5::digest(value.as_bytes());
    let mut low = [0u8; 8];
    low.copy_from_slice(&digest[8..]);
    u64::from_be_bytes(low).checked_rem(modulus).unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Values read from Prometheus 2.42's /api/v1/targets for `hashmod`
    /// steps over `__address__` (modulus 2^64-1, so nearly the raw hash).
    #[test]
    fn hashmod_matches_prometheus() {
        let max = u64::MAX;
        assert_eq!(hashmod("", max), 16825458760271544958);
        assert_eq!(hashmod("a:1", max), 2014116905846636176);
        assert_eq!(hashmod("b:2", max), 911193230757260069);
        assert_eq!(hashmod("a:1", 10), 6);
        assert_eq!(hashmod("a:1", 4294967296), 2501443216);
        assert_eq!(hashmod("anything", 1), 0);
    }
}
