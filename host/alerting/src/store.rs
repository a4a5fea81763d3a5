//! The router's state on disk: alerts, silences, the notification log and
//! the deliveries not yet made, in a sled database of their own
//! (`<data>/alerting`), so all of it survives a restart and a kill -9.
//!
//! One tree per kind. Values are JSON (small, rare writes; readable with
//! any sled dump when something goes wrong). Keys:
//!
//! - `alerts`: the alert's fingerprint (8 bytes) + its label set's JSON
//!   (so equal fingerprints of different label sets cannot collide);
//! - `silences`: the silence id;
//! - `nflog`: group key, `0xff`, receiver, `0xff`, integration index;
//! - `deliveries`: a big-endian sequence number, so iteration is the order
//!   notifications were made in.
//!
//! A flush's notification log entries and its deliveries are written in
//! one transaction and flushed to disk before the deliveries start: a
//! crash either loses the flush (it is made again after the restart) or
//! keeps both, so a notification is never lost and is sent twice only
//! across a crash.

use std::path::Path;

use pharos_model::alert::Alert;
use pharos_model::{Labels, MatchOp};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::dispatch::{NflogEntry, NflogKey, Notification, StoredAlert};
use crate::fingerprint::fingerprint_u64;
use crate::matchers::{AmMatcher, Matchers};
use crate::silence::Silence;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed (I/O, corruption).
    #[error("alerting store: {0}")]
    Sled(#[from] sled::Error),
    /// A stored value does not decode.
    #[error("alerting store: corrupt {tree} entry: {message}")]
    Corrupt {
        /// Which tree.
        tree: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        }
    }
}

/// A notification waiting to be delivered, with the integration's
/// configuration as it was when the notification was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Its place in the queue (also its key).
    pub seq: u64,
    /// What to send.
    pub notification: Notification,
    /// The notifier's configuration (the receiver's TOML entry as JSON).
    pub config: serde_json::Value,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// What a restart finds.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every stored alert.
    pub alerts: Vec<StoredAlert>,
    /// Every stored silence.
    pub silences: Vec<Silence>,
    /// The notification log.
    pub nflog: Vec<(NflogKey, NflogEntry)>,
    /// Deliveries not yet made, oldest first.
    pub deliveries: Vec<Delivery>,
}

/// The persisted state.
#[derive(Debug, Clone)]
pub struct Store {
    db: sled::Db,
    alerts: sled::Tree,
    silences: sled::Tree,
    nflog: sled::Tree,
    deliveries: sled::Tree,
}

type Pairs = Vec<(String, String)>;

fn pairs(l: &Labels) -> Pairs {
    l.iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

fn labels(p: Pairs) -> Labels {
    Labels::from_pairs(p)
}

#[derive(Serialize, Deserialize)]
struct AlertRecord {
    labels: Pairs,
    annotations: Pairs,
    starts_at: i64,
    ends_at: Option<i64>,
    generator_url: String,
    #[serde(default)]
    timeout: bool,
    #[serde(default)]
    updated_at: i64,
}

impl AlertRecord {
    fn from_alert(a: &Alert) -> Self {
        AlertRecord {
            labels: pairs(&a.labels),
            annotations: pairs(&a.annotations),
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            generator_url: a.generator_url.clone(),
            timeout: false,
            updated_at: 0,
        }
    }

    fn into_alert(self) -> Alert {
        Alert {
            labels: labels(self.labels),
            annotations: labels(self.annotations),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            generator_url: self.generator_url,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SilenceRecord {
    id: String,
    /// `(op, name, value)`.
    matchers: Vec<(String, String, String)>,
    starts_at: i64,
    ends_at: i64,
    updated_at: i64,
    created_by: String,
    comment: String,
}

#[derive(Serialize, Deserialize)]
struct NflogRecord {
    group_key: String,
    receiver: String,
    integration: usize,
    firing: Vec<Pairs>,
    resolved: Vec<Pairs>,
    at: i64,
}

#[derive(Serialize, Deserialize)]
struct DeliveryRecord {
    receiver: String,
    integration: usize,
    plugin: String,
    group_key: String,
    route_id: String,
    group_labels: Pairs,
    alerts: Vec<AlertRecord>,
    at: i64,
    config: serde_json::Value,
    attempts: u32,
}

fn op_from_str(s: &str) -> Option<MatchOp> {
    Some(match s {
        "=" => MatchOp::Equal,
        "!=" => MatchOp::NotEqual,
        "=~" => MatchOp::Regex,
        "!~" => MatchOp::NotRegex,
        _ => return None,
    })
}

fn alert_key(l: &Labels) -> Vec<u8> {
    let mut k = fingerprint_u64(l).to_be_bytes().to_vec();
    // Serialising a list of string pairs cannot fail.
    k.extend(serde_json::to_vec(&pairs(l)).unwrap_or_default());
    k
}

fn nflog_key(k: &NflogKey) -> Vec<u8> {
    let mut out = k.0.as_bytes().to_vec();
    out.push(0xff);
    out.extend(k.1.as_bytes());
    out.push(0xff);
    out.extend(k.2.to_string().as_bytes());
    out
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    // The records hold strings, numbers and JSON values only.
    serde_json::to_vec(v).unwrap_or_default()
}

fn decode<T: for<'de> Deserialize<'de>>(tree: &'static str, v: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt {
        tree,
        message: e.to_string(),
    })
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(8 << 20)
            .flush_every_ms(Some(1000))
            .open()?;
        Ok(Store {
            alerts: db.open_tree("alerts")?,
            silences: db.open_tree("silences")?,
            nflog: db.open_tree("nflog")?,
            deliveries: db.open_tree("deliveries")?,
            db,
        })
    }

    /// Reads everything back.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let mut out = Loaded::default();
        for kv in self.alerts.iter() {
            let (_, v) = kv?;
            let r: AlertRecord = decode("alerts", &v)?;
            let (timeout, updated_at) = (r.timeout, r.updated_at);
            out.alerts.push(StoredAlert {
                alert: r.into_alert(),
                timeout,
                updated_at,
            });
        }
        for kv in self.silences.iter() {
            let (_, v) = kv?;
            let r: SilenceRecord = decode("silences", &v)?;
            let mut ms = Vec::with_capacity(r.matchers.len());
            for (op, name, value) in &r.matchers {
                let op = op_from_str(op).ok_or_else(|| StoreError::Corrupt {
                    tree: "silences",
                    message: format!("unknown matcher operator {op:?}"),
                })?;
                ms.push(
                    AmMatcher::new(op, name, value).map_err(|e| StoreError::Corrupt {
                        tree: "silences",
                        message: e.to_string(),
                    })?,
                );
            }
            out.silences.push(Silence {
                id: r.id,
                matchers: Matchers(ms),
                starts_at: r.starts_at,
                ends_at: r.ends_at,
                updated_at: r.updated_at,
                created_by: r.created_by,
                comment: r.comment,
            });
        }
        for kv in self.nflog.iter() {
            let (_, v) = kv?;
            let r: NflogRecord = decode("nflog", &v)?;
            out.nflog.push((
                (r.group_key, r.receiver, r.integration),
                NflogEntry {
                    firing: r.firing.into_iter().map(labels).collect(),
                    resolved: r.resolved.into_iter().map(labels).collect(),
                    at: r.at,
                },
            ));
        }
        for kv in self.deliveries.iter() {
            let (k, v) = kv?;
            let seq = <[u8; 8]>::try_from(k.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Corrupt {
                    tree: "deliveries",
                    message: "key is not a sequence number".to_owned(),
                })?;
            let r: DeliveryRecord = decode("deliveries", &v)?;
            out.deliveries.push(Delivery {
                seq,
                notification: Notification {
                    receiver: r.receiver,
                    integration: r.integration,
                    plugin: r.plugin,
                    group_key: r.group_key,
                    route_id: r.route_id,
                    group_labels: labels(r.group_labels),
                    alerts: r.alerts.into_iter().map(AlertRecord::into_alert).collect(),
                    at: r.at,
                },
                config: r.config,
                attempts: r.attempts,
            });
        }
        Ok(out)
    }

    /// Writes (replaces) alerts.
    pub fn put_alerts<'a>(
        &self,
        alerts: impl IntoIterator<Item = &'a StoredAlert>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for s in alerts {
            let mut r = AlertRecord::from_alert(&s.alert);
            r.timeout = s.timeout;
            r.updated_at = s.updated_at;
            batch.insert(alert_key(&s.alert.labels), encode(&r));
        }
        Ok(self.alerts.apply_batch(batch)?)
    }

    /// Removes alerts by label set.
    pub fn remove_alerts<'a>(
        &self,
        gone: impl IntoIterator<Item = &'a Labels>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for l in gone {
            batch.remove(alert_key(l));
        }
        Ok(self.alerts.apply_batch(batch)?)
    }

    /// Writes (replaces) a silence and flushes: an acknowledged silence
    /// is on disk.
    pub fn put_silences<'a>(
        &self,
        silences: impl IntoIterator<Item = &'a Silence>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for s in silences {
            let r = SilenceRecord {
                id: s.id.clone(),
                matchers: s
                    .matchers
                    .iter()
                    .map(|m| {
                        (
                            m.op().as_str().to_owned(),
                            m.name().to_owned(),
                            m.value().to_owned(),
                        )
                    })
                    .collect(),
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                updated_at: s.updated_at,
                created_by: s.created_by.clone(),
                comment: s.comment.clone(),
            };
            batch.insert(s.id.as_bytes(), encode(&r));
        }
        self.silences.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// Removes silences by id.
    pub fn remove_silences<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for id in ids {
            batch.remove(id.as_bytes());
        }
        Ok(self.silences.apply_batch(batch)?)
    }

    /// Removes notification log entries.
    pub fn remove_nflog<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a NflogKey>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for k in keys {
            batch.remove(nflog_key(k));
        }
        Ok(self.nflog.apply_batch(batch)?)
    }

    /// Writes a flush's notification log entries and its notifications
    /// (numbered here) in one transaction and flushes them to disk.
    pub fn commit_flush(
        &self,
        nflog: &[(NflogKey, NflogEntry)],
        made: Vec<(Notification, serde_json::Value)>,
    ) -> Result<Vec<Delivery>, StoreError> {
        let mut deliveries = Vec::with_capacity(made.len());
        for (notification, config) in made {
            deliveries.push(Delivery {
                seq: self.db.generate_id()?,
                notification,
                config,
                attempts: 0,
            });
        }
        let nflog_rows: Vec<(Vec<u8>, Vec<u8>)> = nflog
            .iter()
            .map(|(k, e)| {
                let r = NflogRecord {
                    group_key: k.0.clone(),
                    receiver: k.1.clone(),
                    integration: k.2,
                    firing: e.firing.iter().map(pairs).collect(),
                    resolved: e.resolved.iter().map(pairs).collect(),
                    at: e.at,
                };
                (nflog_key(k), encode(&r))
            })
            .collect();
        let delivery_rows: Vec<(Vec<u8>, Vec<u8>)> = deliveries
            .iter()
            .map(|d| (d.seq.to_be_bytes().to_vec(), encode(&delivery_record(d))))
            .collect();
        (&self.nflog, &self.deliveries).transaction(|(nflog, deliveries)| {
            for (k, v) in &nflog_rows {
                nflog.insert(k.as_slice(), v.as_slice())?;
            }
            for (k, v) in &delivery_rows {
                deliveries.insert(k.as_slice(), v.as_slice())?;
            }
            Ok::<(), ConflictableTransactionError<StoreError>>(())
        })?;
        self.db.flush()?;
        Ok(deliveries)
    }

    /// Records a failed attempt.
    pub fn update_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        self.deliveries
            .insert(d.seq.to_be_bytes(), encode(&delivery_record(d)))?;
        Ok(())
    }

    /// Removes a delivery once made (or given up).
    pub fn remove_delivery(&self, seq: u64) -> Result<(), StoreError> {
        self.deliveries.remove(seq.to_be_bytes())?;
        Ok(())
    }

    /// How many deliveries are waiting.
    pub fn pending_deliveries(&self) -> usize {
        self.deliveries.len()
    }

    /// Writes everything buffered to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

fn delivery_record(d: &Delivery) -> DeliveryRecord {
    let n = &d.notification;
    DeliveryRecord {
        receiver: n.receiver.clone(),
        integration: n.integration,
        plugin: n.plugin.clone(),
        group_key: n.group_key.clone(),
        route_id: n.route_id.clone(),
        group_labels: pairs(&n.group_labels),
        alerts: n.alerts.iter().map(AlertRecord::from_alert).collect(),
        at: n.at,
        config: d.config.clone(),
        attempts: d.attempts,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn label_sets(v: &[Labels]) -> BTreeSet<Labels> {
        v.iter().cloned().collect()
    }

    fn alert(name: &str, ends: Option<i64>) -> Alert {
        Alert {
            labels: Labels::from_pairs([("alertname", name), ("job", "node")]),
            annotations: Labels::from_pairs([("summary", "ünïcödé \"quoted\"")]),
            starts_at: 1_000,
            ends_at: ends,
            generator_url: "http://x/graph".to_owned(),
        }
    }

    fn notification() -> Notification {
        Notification {
            receiver: "team".to_owned(),
            integration: 1,
            plugin: "webhook".to_owned(),
            group_key: "{}:{alertname=\"A\"}".to_owned(),
            route_id: "{}".to_owned(),
            group_labels: Labels::from_pairs([("alertname", "A")]),
            alerts: vec![alert("A", None), alert("B", Some(5_000))],
            at: 9_000,
        }
    }

    #[test]
    fn everything_comes_back_after_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("alerting");
        let stored = StoredAlert {
            alert: alert("A", Some(7_000)),
            timeout: true,
            updated_at: 3_000,
        };
        let sil = Silence {
            id: "4f1c".to_owned(),
            matchers: Matchers(vec![
                AmMatcher::new(MatchOp::Regex, "job", "no.*").expect("matcher"),
                AmMatcher::new(MatchOp::NotEqual, "x", "a\"b").expect("matcher"),
            ]),
            starts_at: 1,
            ends_at: 2,
            updated_at: 1,
            created_by: "me".to_owned(),
            comment: "why".to_owned(),
        };
        let key: NflogKey = ("g".to_owned(), "team".to_owned(), 1);
        let entry = NflogEntry {
            firing: label_sets(&[Labels::from_pairs([("alertname", "A")])]),
            resolved: BTreeSet::new(),
            at: 9_000,
        };
        let seqs;
        {
            let store = Store::open(&path).expect("open");
            store.put_alerts([&stored]).expect("alerts");
            store.put_silences([&sil]).expect("silences");
            let made = store
                .commit_flush(
                    &[(key.clone(), entry.clone())],
                    vec![
                        (notification(), serde_json::json!({"url": "http://x"})),
                        (notification(), serde_json::json!({})),
                    ],
                )
                .expect("flush");
            seqs = made.iter().map(|d| d.seq).collect::<Vec<_>>();
            assert!(seqs[0] < seqs[1]);
            let mut failed = made[1].clone();
            failed.attempts = 3;
            store.update_delivery(&failed).expect("update");
            store.remove_delivery(seqs[0]).expect("remove");
            store.flush().expect("flush");
        }
        let store = Store::open(&path).expect("reopen");
        let loaded = store.load().expect("load");
        assert_eq!(loaded.alerts, vec![stored.clone()]);
        assert_eq!(loaded.silences, vec![sil]);
        assert_eq!(loaded.nflog, vec![(key.clone(), entry)]);
        assert_eq!(loaded.deliveries.len(), 1);
        assert_eq!(loaded.deliveries[0].seq, seqs[1]);
        assert_eq!(loaded.deliveries[0].attempts, 3);
        assert_eq!(loaded.deliveries[0].notification, notification());
        store.remove_alerts([&stored.alert.labels]).expect("remove");
        store.remove_silences(["4f1c"]).expect("remove");
        store.remove_nflog([&key]).expect("remove");
        let loaded = store.load().expect("load");
        assert!(loaded.alerts.is_empty() && loaded.silences.is_empty() && loaded.nflog.is_empty());
    }

    #[test]
    fn a_corrupt_value_is_an_error_naming_the_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        store
            .silences
            .insert("x", &b"{not json"[..])
            .expect("insert");
        let err = store.load().expect_err("corrupt");
        assert!(err.to_string().contains("corrupt silences entry"), "{err}");
    }
}
