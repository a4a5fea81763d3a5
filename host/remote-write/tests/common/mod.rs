//! Shared pieces of the integration tests: a storage in a temporary
//! directory, configs from TOML, a remote-write receiver that records what
//! it gets and answers as a script says, and waiting for a condition.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use parking_lot::Mutex;
use pharos_config::{Config, RemoteWriteConfig};
use pharos_model::{Labels, Sample};
use pharos_prompb::{WriteRequest, decode_write_request};
use pharos_remote_write::{Options, QueueStats, RemoteWrite};
use pharos_tsdb::{Appendable, Db, DbOptions, SeriesAppend};

/// A `[[remote_write]]` section parsed like a real config file.
pub fn config(toml: &str) -> Config {
    Config::from_toml(toml, "test.toml").unwrap_or_else(|e| panic!("bad test config: {e}\n{toml}"))
}

pub fn remote_write(url: &str, extra: &str) -> Vec<RemoteWriteConfig> {
    config(&format!("[[remote_write]]\nurl = \"{url}\"\n{extra}\n")).remote_write
}

/// Opens the storage in `dir` (no background work: tests drive it).
pub fn open_db(dir: &Path) -> Arc<Db> {
    Arc::new(Db::open_without_worker(dir, DbOptions::default()).unwrap())
}

/// Options for queues over `db`'s WAL, polling fast, flushing briefly.
pub fn options(db: &Arc<Db>) -> Options {
    let mut o = Options::new(db.dir().join("wal"), db.dir().join("remote_write"));
    o.series = Some(db.clone());
    o.poll_interval = Duration::from_millis(5);
    o.flush_deadline = Duration::from_secs(2);
    o
}

/// Appends `samples` for one series.
pub fn append(db: &Db, labels: &[(&str, &str)], samples: &[(i64, f64)]) {
    let batch = vec![SeriesAppend {
        labels: Labels::from_pairs(labels.iter().copied()),
        samples: samples.iter().map(|&(t, v)| Sample::new(t, v)).collect(),
    }];
    db.append(&batch).unwrap();
}

/// Waits up to 60 s for `cond`, polling; panics with `what` otherwise.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub fn queue(rw: &RemoteWrite) -> QueueStats {
    rw.stats().into_iter().next().unwrap()
}

/// An answer from the receiver.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
}

impl Answer {
    pub fn status(status: u16) -> Answer {
        Answer {
            status,
            retry_after: None,
        }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub request: WriteRequest,
    pub status: u16,
}

#[derive(Default)]
pub struct ReceiverState {
    /// Answers for the next requests, in order; 204 once it is empty.
    pub script: Mutex<VecDeque<Answer>>,
    /// Every request, whatever the answer.
    pub received: Mutex<Vec<Received>>,
}

/// A remote-write endpoint on a free local port.
pub struct Receiver {
    pub addr: SocketAddr,
    pub state: Arc<ReceiverState>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(ReceiverState::default());
        let app = Router::new()
            .route("/api/v1/write", post(write))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { addr, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.script.lock().extend(answers);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().clone()
    }

    /// Samples of accepted requests as `(series text, t, v)`, in arrival
    /// order.
    pub fn accepted_samples(&self) -> Vec<(String, i64, f64)> {
        let mut out = Vec::new();
        for r in self.received().iter().filter(|r| r.status < 300) {
            for ts in &r.request.timeseries {
                let labels =
                    Labels::from_pairs(ts.labels.iter().map(|l| (l.name.clone(), l.value.clone())));
                for s in &ts.samples {
                    out.push((labels.to_string(), s.timestamp, s.value));
                }
            }
        }
        out
    }

    pub fn accepted_count(&self) -> usize {
        self.accepted_samples().len()
    }
}

async fn write(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match decode_write_request(&body) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let answer = state
        .script
        .lock()
        .pop_front()
        .unwrap_or(Answer::status(204));
    state.received.lock().push(Received {
        headers,
        request,
        status: answer.status,
    });
    let status = StatusCode::from_u16(answer.status).unwrap();
    let mut resp = (status, format!("scripted {}", answer.status)).into_response();
    if let Some(ra) = answer.retry_after {
        resp.headers_mut()
            .insert("retry-after", ra.parse().unwrap());
    }
    resp
}

/// The positions in the progress markers under `state_dir`, by queue
/// name (from the marker's header line).
pub fn markers(state_dir: &Path) -> Vec<(String, pharos_remote_write::WalPosition)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir(state_dir) else {
        return out;
    };
    for e in dir {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "progress") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let num = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().parse().ok())
        };
        let name = text
            .lines()
            .next()
            .and_then(|l| l.split('"').nth(1))
            .unwrap_or_default()
            .to_owned();
        if let (Some(segment), Some(offset)) = (num("segment "), num("offset ")) {
            out.push((name, pharos_remote_write::WalPosition { segment, offset }));
        }
    }
    out
}

/// Whether every queue has everything it read acknowledged and its
/// marker says so on disk.
pub fn settled(rw: &RemoteWrite, state_dir: &Path) -> bool {
    let on_disk = markers(state_dir);
    rw.stats().iter().all(|q| {
        q.samples_pending == 0
            && q.wal_acked_position == q.wal_read_position
            && on_disk.contains(&(q.name.clone(), q.wal_acked_position))
    })
}
