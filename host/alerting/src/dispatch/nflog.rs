//! The notification log: what each integration of a receiver was last told
//! about a group, and Alertmanager's rule (`notify.DedupStage`) for
//! whether a flush needs a new notification.

use std::collections::{BTreeMap, BTreeSet};

use pharos_model::Labels;

/// What was last sent to one integration about one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NflogEntry {
    /// Alerts that were firing in it.
    pub firing: BTreeSet<Labels>,
    /// Alerts that were resolved in it.
    pub resolved: BTreeSet<Labels>,
    /// When, Unix ms.
    pub at: i64,
}

/// Key of an entry: group key, receiver name, integration index.
pub type NflogKey = (String, String, usize);

/// Entries by group and integration.
#[derive(Debug, Clone, Default)]
pub struct Nflog {
    entries: BTreeMap<NflogKey, NflogEntry>,
}

impl Nflog {
    /// The entry of a group and integration.
    pub fn get(&self, key: &NflogKey) -> Option<&NflogEntry> {
        self.entries.get(key)
    }

    /// Records a notification.
    pub fn log(&mut self, key: NflogKey, entry: NflogEntry) {
        self.entries.insert(key, entry);
    }

    /// Drops entries older than `retention_ms`; returns their keys.
    pub fn gc(&mut self, now: i64, retention_ms: i64) -> Vec<NflogKey> {
        let old: Vec<NflogKey> = self
            .entries
            .iter()
            .filter(|(_, e)| e.at.saturating_add(retention_ms) <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &old {
            self.entries.remove(k);
        }
        old
    }

    /// All entries.
    pub fn iter(&self) -> impl Iterator<Item = (&NflogKey, &NflogEntry)> {
        self.entries.iter()
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Whether a flush with these firing and resolved alerts must notify,
/// given the last entry: a first notification only with something firing;
/// again when a new alert fires; once when all resolved (if anything
/// firing was sent); when something resolved and the integration sends
/// resolved notifications; otherwise after `repeat_interval`.
pub fn needs_update(
    entry: Option<&NflogEntry>,
    firing: &BTreeSet<Labels>,
    resolved: &BTreeSet<Labels>,
    send_resolved: bool,
    now: i64,
    repeat_ms: i64,
) -> bool {
    let Some(entry) = entry else {
        return !firing.is_empty();
    };
    if !firing.is_subset(&entry.firing) {
        return true;
    }
    if firing.is_empty() {
        return !entry.firing.is_empty();
    }
    if send_resolved && !resolved.is_subset(&entry.resolved) {
        return true;
    }
    entry.at < now.saturating_sub(repeat_ms)
}
