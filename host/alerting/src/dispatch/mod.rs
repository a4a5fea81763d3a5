//! The dispatcher (Alertmanager 0.25 `dispatch/dispatch.go` plus the
//! muting and dedup stages of `notify/notify.go`) as a deterministic state
//! machine: no threads, no timers, every call takes the time (Unix ms).
//!
//! - [`Dispatcher::insert`]: an alert (merged with the known version of the
//!   same label set) goes to every route the tree gives it, into the
//!   aggregation group of that route and its group labels; a new group
//!   flushes `group_wait` later (at once if the alert started more than
//!   `group_wait` ago).
//! - [`Dispatcher::flush_due`]: every group whose time has come flushes and
//!   is next due `group_interval` later. A flush drops silenced and
//!   inhibited alerts, does nothing inside a `mute_time_intervals` interval
//!   or outside the `active_time_intervals`, then asks the notification log
//!   per integration whether to notify (new firing alerts, resolved ones
//!   with `send_resolved`, all resolved, or `repeat_interval` passed) and
//!   returns a [`Notification`] for each that must. Resolved alerts leave
//!   the group after the flush; an empty group is removed.
//! - [`Dispatcher::next_flush`]: when to call `flush_due` again.
//!
//! A returned notification counts as sent: the caller hands it to the
//! persisted delivery queue, which retries until it is delivered.

mod alerts;
mod group;
mod nflog;
mod sink;

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use jiff::Timestamp;
use pharos_model::Labels;
use pharos_model::alert::Alert;

pub use alerts::{StoredAlert, alert_order, label_set_before};
pub use group::AggrGroup;
pub use nflog::{Nflog, NflogEntry, NflogKey, needs_update};
pub use sink::{AlertInbox, AlertQueue, alert_queue};

use crate::config::{AlertingConfig, ConfigError};
use crate::inhibit::Inhibitor;
use crate::route::{RouteId, RouteTree, group_key};
use crate::silence::Silences;
use crate::timeinterval::{TimeInterval, any_contains};

/// Alertmanager's default `resolve_timeout`.
pub const DEFAULT_RESOLVE_TIMEOUT_MS: i64 = 5 * 60 * 1000;
/// How long notification log entries are kept (Alertmanager's
/// `--data.retention` default, 120h).
pub const NFLOG_RETENTION_MS: i64 = 120 * 3600 * 1000;

/// One notifier of a receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    /// Notifier plugin name.
    pub plugin: String,
    /// Whether resolved alerts are sent.
    pub send_resolved: bool,
    /// The plugin's config.
    pub config: toml::Table,
}

/// "Notify this receiver's integration about this group with these alerts."
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Receiver name.
    pub receiver: String,
    /// Index of the integration in the receiver's `notifiers`.
    pub integration: usize,
    /// Its plugin.
    pub plugin: String,
    /// The group key.
    pub group_key: String,
    /// The route's id.
    pub route_id: String,
    /// The group labels.
    pub group_labels: Labels,
    /// Firing alerts (no `ends_at`) and, with `send_resolved`, resolved
    /// ones; sorted as Alertmanager sorts them.
    pub alerts: Vec<Alert>,
    /// The flush time, Unix ms.
    pub at: i64,
}

impl Notification {
    /// Whether any alert is still firing at the flush time.
    pub fn is_firing(&self) -> bool {
        self.alerts.iter().any(|a| !a.resolved_at(self.at))
    }
}

/// What [`Dispatcher::gc`] forgot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Forgotten {
    /// Alerts resolved and sent.
    pub alerts: Vec<Labels>,
    /// Notification log entries past their retention.
    pub nflog: Vec<NflogKey>,
}

/// Why an alert is not notified at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertStatus {
    /// Ids of the active silences that match it.
    pub silenced_by: Vec<String>,
    /// Label set of the alert that inhibits it, if any.
    pub inhibited_by: Option<Labels>,
}

/// An aggregation group as the API lists it (`/api/v2/alerts/groups`).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertGroup {
    /// The group labels.
    pub labels: Labels,
    /// The route's receiver.
    pub receiver: String,
    /// The group key.
    pub group_key: String,
    /// The route's id.
    pub route_id: String,
    /// The alerts that passed the filter, in Alertmanager's order.
    pub alerts: Vec<StoredAlert>,
}

/// Routing, grouping, muting and dedup of alerts.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    /// False without a route: alerts are kept, not routed.
    routed: bool,
    tree: RouteTree,
    receivers: BTreeMap<String, Vec<Integration>>,
    intervals: BTreeMap<String, Vec<TimeInterval>>,
    inhibitor: Inhibitor,
    resolve_timeout_ms: i64,
    alerts: BTreeMap<Labels, StoredAlert>,
    groups: BTreeMap<(RouteId, Labels), AggrGroup>,
    nflog: Nflog,
}

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Dispatcher {
    /// A dispatcher for a configuration (validated here), where
    /// `send_resolved` defaults to true.
    pub fn new(cfg: &AlertingConfig) -> Result<Self, ConfigError> {
        Self::with_send_resolved_defaults(cfg, &|_| true)
    }

    /// A dispatcher for a configuration (validated here); `send_resolved`
    /// of a notifier that leaves it out is `default_for(plugin)`.
    ///
    /// A configuration without a route and receivers (`[alerting]` unset,
    /// or only external Alertmanagers) gives a dispatcher that keeps the
    /// alerts it receives (for the API) and routes none of them.
    pub fn with_send_resolved_defaults(
        cfg: &AlertingConfig,
        default_for: &dyn Fn(&str) -> bool,
    ) -> Result<Self, ConfigError> {
        let routed = cfg.route.is_some() || !cfg.receivers.is_empty();
        let tree = if routed {
            cfg.validate()?;
            RouteTree::from_config(cfg)?
        } else {
            RouteTree::new(&crate::config::RouteConfig::default())
        };
        let receivers = cfg
            .receivers
            .iter()
            .map(|r| {
                let integrations = r
                    .notifiers
                    .iter()
                    .map(|n| Integration {
                        plugin: n.plugin.value.clone(),
                        send_resolved: n
                            .send_resolved
                            .unwrap_or_else(|| default_for(&n.plugin.value)),
                        config: n.config.clone(),
                    })
                    .collect();
                (r.name.value.clone(), integrations)
            })
            .collect();
        let intervals = cfg
            .time_intervals
            .iter()
            .map(|t| (t.name.value.clone(), t.time_intervals.clone()))
            .collect();
        Ok(Dispatcher {
            routed,
            tree,
            receivers,
            intervals,
            inhibitor: Inhibitor::new(&cfg.inhibit_rules),
            resolve_timeout_ms: cfg
                .resolve_timeout
                .as_ref()
                .map_or(DEFAULT_RESOLVE_TIMEOUT_MS, |d| ms(d.get())),
            alerts: BTreeMap::new(),
            groups: BTreeMap::new(),
            nflog: Nflog::default(),
        })
    }

    /// Applies a new configuration at `now`, keeping the alerts and the
    /// notification log: groups are rebuilt from the known alerts (as
    /// Alertmanager restarts its dispatcher), and the log keeps a reload
    /// from notifying again about what was already sent.
    pub fn reload(&mut self, cfg: &AlertingConfig, now: i64) -> Result<(), ConfigError> {
        let next = Dispatcher::new(cfg)?;
        self.replace(next, now);
        Ok(())
    }

    /// Moves this dispatcher's alerts and notification log into `next`
    /// (built from a new configuration) and becomes it, as
    /// [`reload`](Self::reload) does.
    pub fn replace(&mut self, mut next: Dispatcher, now: i64) {
        next.nflog = std::mem::take(&mut self.nflog);
        let alerts = std::mem::take(&mut self.alerts);
        for stored in alerts.into_values() {
            next.inhibitor.observe(&stored.alert);
            next.route(&stored, now);
            next.alerts.insert(stored.alert.labels.clone(), stored);
        }
        *self = next;
        tracing::info!(
            groups = self.groups.len(),
            "alerting configuration reloaded"
        );
    }

    /// Whether alerts are routed (a route is configured).
    pub fn is_routed(&self) -> bool {
        self.routed
    }

    /// The receivers, by name.
    pub fn receivers(&self) -> &BTreeMap<String, Vec<Integration>> {
        &self.receivers
    }

    /// Takes back an alert stored before a restart, as it was.
    pub fn restore(&mut self, stored: StoredAlert, now: i64) {
        self.inhibitor.observe(&stored.alert);
        self.route(&stored, now);
        self.alerts.insert(stored.alert.labels.clone(), stored);
    }

    /// Takes back a notification log entry stored before a restart.
    pub fn restore_nflog(&mut self, key: NflogKey, entry: NflogEntry) {
        self.nflog.log(key, entry);
    }

    /// The alert with this label set, if known.
    pub fn alert(&self, labels: &Labels) -> Option<&StoredAlert> {
        self.alerts.get(labels)
    }

    /// The route tree.
    pub fn tree(&self) -> &RouteTree {
        &self.tree
    }

    /// The integrations of a receiver.
    pub fn receiver(&self, name: &str) -> Option<&[Integration]> {
        self.receivers.get(name).map(Vec::as_slice)
    }

    /// All known alerts (latest versions).
    pub fn alerts(&self) -> impl Iterator<Item = &StoredAlert> {
        self.alerts.values()
    }

    /// The aggregation groups, by route and group labels.
    pub fn groups(&self) -> impl Iterator<Item = &AggrGroup> {
        self.groups.values()
    }

    /// The groups with the alerts that pass `filter`, as Alertmanager's
    /// `Dispatcher.Groups` lists them: groups without such alerts left out,
    /// sorted by group labels (`LabelSet.Before`) then receiver; and for
    /// each alert the receivers of its groups, sorted.
    pub fn alert_groups(
        &self,
        filter: impl Fn(&StoredAlert) -> bool,
    ) -> (Vec<AlertGroup>, BTreeMap<Labels, Vec<String>>) {
        let mut groups = Vec::new();
        let mut receivers: BTreeMap<Labels, Vec<String>> = BTreeMap::new();
        for g in self.groups.values() {
            let Some(route) = self.tree.get(g.route) else {
                continue;
            };
            let mut alerts: Vec<StoredAlert> =
                g.alerts.values().filter(|a| filter(a)).cloned().collect();
            if alerts.is_empty() {
                continue;
            }
            for a in &alerts {
                receivers
                    .entry(a.alert.labels.clone())
                    .or_default()
                    .push(route.opts.receiver.clone());
            }
            alerts.sort_by(|a, b| alert_order(&a.alert, &b.alert));
            groups.push(AlertGroup {
                labels: g.labels.clone(),
                receiver: route.opts.receiver.clone(),
                group_key: g.key.clone(),
                route_id: route.id.clone(),
                alerts,
            });
        }
        groups.sort_by(|a, b| {
            if a.labels == b.labels {
                a.receiver.cmp(&b.receiver)
            } else {
                label_set_before(&a.labels, &b.labels)
            }
        });
        for r in receivers.values_mut() {
            r.sort();
        }
        (groups, receivers)
    }

    /// The notification log.
    pub fn nflog(&self) -> &Nflog {
        &self.nflog
    }

    /// Receives a batch of alerts at `now`.
    pub fn insert_batch(&mut self, alerts: Vec<Alert>, now: i64) {
        for a in alerts {
            self.insert(a, now);
        }
    }

    /// The notification log entries written at `now` (by a flush at
    /// `now`), to persist them.
    pub fn nflog_written_at(&self, now: i64) -> Vec<(NflogKey, NflogEntry)> {
        self.nflog
            .iter()
            .filter(|(_, e)| e.at == now)
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect()
    }

    /// Receives one alert at `now`; returns the version stored.
    pub fn insert(&mut self, alert: Alert, now: i64) -> &StoredAlert {
        let incoming = StoredAlert::received(alert, now, self.resolve_timeout_ms);
        let stored = match self.alerts.get(&incoming.alert.labels) {
            Some(known) if known.overlaps(&incoming) => known.merge(incoming, now),
            _ => incoming,
        };
        self.inhibitor.observe(&stored.alert);
        self.route(&stored, now);
        let key = stored.alert.labels.clone();
        self.alerts.entry(key).insert_entry(stored).into_mut()
    }

    fn route(&mut self, stored: &StoredAlert, now: i64) {
        if !self.routed {
            return;
        }
        for id in self.tree.match_labels(&stored.alert.labels) {
            let Some(route) = self.tree.get(id) else {
                continue;
            };
            let wait = ms(route.opts.group_wait);
            let labels = self.tree.group_labels(id, &stored.alert.labels);
            let group = self
                .groups
                .entry((id, labels.clone()))
                .or_insert_with(|| {
                    let key = group_key(&route.key, &labels);
                    tracing::debug!(group = %key, receiver = %route.opts.receiver, "aggregation group created");
                    AggrGroup::new(id, labels, key, now, wait)
                });
            group.insert(stored.clone(), now, wait);
        }
    }

    /// When the earliest group is due, if there is any group.
    pub fn next_flush(&self) -> Option<i64> {
        self.groups.values().map(|g| g.next_flush).min()
    }

    /// Whether an alert is silenced or inhibited at `now`.
    pub fn status(&self, labels: &Labels, now: i64, silences: &Silences) -> AlertStatus {
        AlertStatus {
            silenced_by: silences
                .mutes(labels, now)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            inhibited_by: self.inhibitor.inhibited_by(labels, now).cloned(),
        }
    }

    fn muted(&self, labels: &Labels, now: i64, silences: &Silences) -> bool {
        self.inhibitor.mutes(labels, now) || !silences.mutes(labels, now).is_empty()
    }

    /// Whether a route's time intervals mute its notifications at `now`.
    pub fn time_muted(&self, route: RouteId, now: i64) -> bool {
        let Some(route) = self.tree.get(route) else {
            return false;
        };
        let Ok(t) = Timestamp::from_millisecond(now) else {
            return false;
        };
        let in_any = |names: &[String]| {
            names.iter().any(|n| {
                self.intervals
                    .get(n)
                    .is_some_and(|list| any_contains(list, t))
            })
        };
        let mute = &route.opts.mute_time_intervals;
        let active = &route.opts.active_time_intervals;
        (!mute.is_empty() && in_any(mute)) || (!active.is_empty() && !in_any(active))
    }

    /// Flushes every group due at `now` and returns the notifications to
    /// send.
    pub fn flush_due(&mut self, now: i64, silences: &Silences) -> Vec<Notification> {
        let due: Vec<(RouteId, Labels)> = self
            .groups
            .iter()
            .filter(|(_, g)| g.next_flush <= now)
            .map(|(k, _)| k.clone())
            .collect();
        let mut out = Vec::new();
        for k in due {
            self.flush_group(&k, now, silences, &mut out);
        }
        out
    }

    fn flush_group(
        &mut self,
        k: &(RouteId, Labels),
        now: i64,
        silences: &Silences,
        out: &mut Vec<Notification>,
    ) {
        let Some(route) = self.tree.get(k.0) else {
            self.groups.remove(k);
            return;
        };
        let (interval, repeat) = (
            ms(route.opts.group_interval),
            ms(route.opts.repeat_interval),
        );
        let receiver = route.opts.receiver.clone();
        let route_id = route.id.clone();
        let Some(group) = self.groups.get_mut(k) else {
            return;
        };
        group.next_flush = now.saturating_add(interval);
        group.has_flushed = true;
        let snapshot = group.snapshot(now);
        let (key, labels) = (group.key.clone(), group.labels.clone());
        let time_muted = self.time_muted(k.0, now);
        if time_muted {
            tracing::debug!(group = %key, "notifications muted by time interval");
        } else {
            let visible: Vec<&Alert> = snapshot
                .iter()
                .filter(|a| !self.muted(&a.labels, now, silences))
                .collect();
            let firing: BTreeSet<Labels> = visible
                .iter()
                .filter(|a| !a.resolved_at(now))
                .map(|a| a.labels.clone())
                .collect();
            let resolved: BTreeSet<Labels> = visible
                .iter()
                .filter(|a| a.resolved_at(now))
                .map(|a| a.labels.clone())
                .collect();
            let integrations = self.receivers.get(&receiver).cloned().unwrap_or_default();
            for (i, integ) in integrations.iter().enumerate() {
                let nkey: NflogKey = (key.clone(), receiver.clone(), i);
                let entry = self.nflog.get(&nkey);
                if !needs_update(entry, &firing, &resolved, integ.send_resolved, now, repeat) {
                    continue;
                }
                self.nflog.log(
                    nkey,
                    NflogEntry {
                        firing: firing.clone(),
                        resolved: resolved.clone(),
                        at: now,
                    },
                );
                let alerts: Vec<Alert> = visible
                    .iter()
                    .filter(|a| integ.send_resolved || !a.resolved_at(now))
                    .map(|a| (*a).clone())
                    .collect();
                if alerts.is_empty() {
                    continue;
                }
                tracing::debug!(group = %key, receiver = %receiver, integration = i, alerts = alerts.len(), "notify");
                out.push(Notification {
                    receiver: receiver.clone(),
                    integration: i,
                    plugin: integ.plugin.clone(),
                    group_key: key.clone(),
                    route_id: route_id.clone(),
                    group_labels: labels.clone(),
                    alerts,
                    at: now,
                });
            }
        }
        if let Some(group) = self.groups.get_mut(k) {
            group.remove_resolved(&snapshot, now);
            if group.alerts.is_empty() {
                tracing::debug!(group = %key, "aggregation group removed");
                self.groups.remove(k);
            }
        }
    }

    /// Forgets alerts resolved at `now`, inhibition sources that resolved,
    /// and notification log entries past their retention.
    /// Returns what was forgotten, so a store can drop it too.
    ///
    /// An alert still in an aggregation group stays until the group's
    /// flush has sent its resolution.
    pub fn gc(&mut self, now: i64) -> Forgotten {
        let in_groups: BTreeSet<&Labels> =
            self.groups.values().flat_map(|g| g.alerts.keys()).collect();
        let alerts: Vec<Labels> = self
            .alerts
            .iter()
            .filter(|(l, a)| a.resolved_at(now) && !in_groups.contains(l))
            .map(|(l, _)| l.clone())
            .collect();
        for l in &alerts {
            self.alerts.remove(l);
        }
        self.inhibitor.gc(now);
        let nflog = self.nflog.gc(now, NFLOG_RETENTION_MS);
        Forgotten { alerts, nflog }
    }
}
