//! The scrape manager against real HTTP targets (axum on loopback) and an
//! in-memory storage: samples and report series are stored, a failing
//! target reports `up` 0 with its error and gets staleness markers, a
//! reload keeps the loops of unchanged targets and marks removed ones
//! stale, limits fail scrapes with Prometheus' wording, and the request
//! carries Prometheus' headers. Repeated scrapes reach their series in
//! the on-disk storage through the references the cache keeps.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::routing::get;
use parking_lot::Mutex;
use pharos_config::Config;
use pharos_model::{Labels, Matcher, is_stale_nan};
use pharos_scrape::{ActiveTarget, Health, ManagerOptions, ScrapeManager};
use pharos_tsdb::{
    AppendStats, Appendable, Db, DbOptions, MemStorage, Queryable, SeriesAppend, SeriesRef,
};

/// What a test target answers: status, body, delay.
#[derive(Clone)]
struct Answer {
    status: StatusCode,
    body: String,
    delay: Duration,
}

#[derive(Clone, Default)]
struct TargetServer {
    answer: Arc<Mutex<Option<Answer>>>,
    last_headers: Arc<Mutex<Option<HeaderMap>>>,
    last_uri: Arc<Mutex<Option<Uri>>>,
}

impl TargetServer {
    async fn start(body: &str) -> (TargetServer, String) {
        let s = TargetServer::default();
        s.set(StatusCode::OK, body, Duration::ZERO);
        let st = s.clone();
        let app = Router::new().route(
            "/metrics",
            get(move |uri: Uri, headers: HeaderMap| {
                let st = st.clone();
                async move {
                    *st.last_uri.lock() = Some(uri);
                    *st.last_headers.lock() = Some(headers);
                    let a = st.answer.lock().clone().unwrap();
                    tokio::time::sleep(a.delay).await;
                    (
                        a.status,
                        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        a.body,
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (s, addr)
    }

    fn set(&self, status: StatusCode, body: &str, delay: Duration) {
        *self.answer.lock() = Some(Answer {
            status,
            body: body.to_owned(),
            delay,
        });
    }
}

fn config(jobs: &str) -> Config {
    Config::from_toml(jobs, "test.toml").unwrap()
}

/// Polls `cond` every 20 ms for up to 20 s.
async fn eventually<T>(what: &str, mut cond: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(x) = cond() {
            return x;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn values(storage: &MemStorage, name: &str, instance: &str) -> Vec<f64> {
    let ms = [
        Matcher::equal("__name__", name),
        Matcher::equal("instance", instance),
    ];
    storage
        .select(&ms, i64::MIN, i64::MAX)
        .unwrap()
        .iter()
        .flat_map(|s| s.samples())
        .map(|s| s.v)
        .collect()
}

fn target<'a>(targets: &'a [ActiveTarget], instance: &str) -> Option<&'a ActiveTarget> {
    targets.iter().find(|t| t.target.instance() == instance)
}

fn manager(storage: &Arc<MemStorage>) -> ScrapeManager {
    ScrapeManager::new(storage.clone(), ManagerOptions::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_reports_and_sends_prometheus_headers() {
    let (server, addr) =
        TargetServer::start("# HELP m A metric.\n# TYPE m gauge\nm{a=\"1\"} 7\n").await;
    let storage = Arc::new(MemStorage::new());
    let m = manager(&storage);
    let cfg = config(&format!(
        "[[scrape]]\njob = \"t\"\nscrape_interval = \"100ms\"\nscrape_timeout = \"90ms\"\ntargets = [\"{addr}\"]\nlabels = {{ team = \"x\" }}\n"
    ));
    assert!(m.apply(&cfg.scrape).is_empty());
    eventually("a sample of m", || {
        (!values(&storage, "m", &addr).is_empty()).then_some(())
    })
    .await;
    let t = eventually("target up", || {
        let ts = m.active_targets();
        let t = target(&ts, &addr)?.clone();
        (t.status.health == Health::Up).then_some(t)
    })
    .await;
    assert_eq!(t.scrape_pool, "t");
    assert_eq!(t.status.last_error, "");
    assert_eq!(
        t.target.series_labels.to_string(),
        format!(r#"{{instance="{addr}", job="t", team="x"}}"#)
    );
    assert_eq!(t.status.metadata.len(), 1);
    assert_eq!(t.status.metadata[0].help, "A metric.");
    for name in [
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    ] {
        assert!(!values(&storage, name, &addr).is_empty(), "{name}");
    }
    assert_eq!(values(&storage, "up", &addr)[0], 1.0);
    assert_eq!(values(&storage, "scrape_samples_scraped", &addr)[0], 1.0);
    let h = server.last_headers.lock().clone().unwrap();
    assert_eq!(h["x-prometheus-scrape-timeout-seconds"], "0.09");
    assert!(
        h[header::ACCEPT]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text;version=1.0.0")
    );
    assert!(
        h[header::ACCEPT_ENCODING]
            .to_str()
            .unwrap()
            .contains("gzip")
    );
    assert!(
        h[header::USER_AGENT]
            .to_str()
            .unwrap()
            .starts_with("Pharos/")
    );
    m.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_targets_are_down_with_their_error_and_go_stale() {
    let (server, addr) = TargetServer::start("m 1\n").await;
    let storage = Arc::new(MemStorage::new());
    let m = manager(&storage);
    let cfg = config(&format!(
        "[[scrape]]\njob = \"t\"\nscrape_interval = \"100ms\"\nscrape_timeout = \"50ms\"\ntargets = [\"{addr}\"]\n"
    ));
    m.apply(&cfg.scrape);
    eventually("m", || {
        (!values(&storage, "m", &addr).is_empty()).then_some(())
    })
    .await;

    let cases = [
        (
            StatusCode::OK,
            "m 1\ngarbage{\n",
            Duration::ZERO,
            "line 2: ",
        ),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "",
            Duration::ZERO,
            "server returned HTTP status 500 Internal Server Error",
        ),
        (
            StatusCode::OK,
            "m 1\n",
            Duration::from_millis(200),
            "context deadline exceeded",
        ),
    ];
    for (status, body, delay, error) in cases {
        server.set(StatusCode::OK, "m 1\n", Duration::ZERO);
        eventually("up again", || {
            let ts = m.active_targets();
            (target(&ts, &addr)?.status.health == Health::Up).then_some(())
        })
        .await;
        server.set(status, body, delay);
        let t = eventually("down", || {
            let ts = m.active_targets();
            let t = target(&ts, &addr)?.clone();
            (t.status.health == Health::Down).then_some(t)
        })
        .await;
        assert!(
            t.status.last_error.contains(error),
            "{}",
            t.status.last_error
        );
        // The failure wrote up=0 and a staleness marker for m.
        eventually("stale m and up 0", || {
            let m_vals = values(&storage, "m", &addr);
            let up = values(&storage, "up", &addr);
            (m_vals.last().is_some_and(|v| is_stale_nan(*v)) && up.last() == Some(&0.0))
                .then_some(())
        })
        .await;
    }
    m.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_unchanged_loops_and_marks_removed_targets_stale() {
    let (_a, addr_a) = TargetServer::start("a 1\n").await;
    let (_b, addr_b) = TargetServer::start("b 1\n").await;
    let storage = Arc::new(MemStorage::new());
    let m = manager(&storage);
    let job = |targets: &str, extra: &str| {
        config(&format!(
            "[[scrape]]\njob = \"t\"\nscrape_interval = \"100ms\"\ntargets = [{targets}]\n{extra}"
        ))
    };
    m.apply(&job(&format!("\"{addr_a}\", \"{addr_b}\""), "").scrape);
    eventually("both scraped", || {
        (!values(&storage, "a", &addr_a).is_empty() && !values(&storage, "b", &addr_b).is_empty())
            .then_some(())
    })
    .await;
    let id_a = target(&m.active_targets(), &addr_a).unwrap().loop_id;

    // Remove b: a's loop lives on, b's series go stale.
    m.apply(&job(&format!("\"{addr_a}\""), "").scrape);
    assert_eq!(target(&m.active_targets(), &addr_a).unwrap().loop_id, id_a);
    assert!(target(&m.active_targets(), &addr_b).is_none());
    let removed_at = Instant::now();
    eventually("b stale", || {
        let b = values(&storage, "b", &addr_b);
        let up = values(&storage, "up", &addr_b);
        (b.last().is_some_and(|v| is_stale_nan(*v)) && up.last().is_some_and(|v| is_stale_nan(*v)))
            .then_some(())
    })
    .await;
    // As Prometheus: written once the scrape after the would-be next one
    // is due, stamped with the would-be next scrape's time.
    assert!(removed_at.elapsed() >= Duration::from_millis(100));
    let b_times: Vec<i64> = storage
        .select(&[Matcher::equal("__name__", "b")], i64::MIN, i64::MAX)
        .unwrap()[0]
        .samples()
        .iter()
        .map(|s| s.t)
        .collect();
    let [.., last_scrape, marker] = b_times[..] else {
        panic!("{b_times:?}")
    };
    // (The last scrape may have started late, never early.)
    assert!(
        marker > last_scrape && marker - last_scrape <= 105,
        "{b_times:?}"
    );

    // A changed scrape setting restarts the loop.
    m.apply(&job(&format!("\"{addr_a}\""), "honor_labels = true\n").scrape);
    assert_ne!(target(&m.active_targets(), &addr_a).unwrap().loop_id, id_a);

    // Relabeling that drops a target keeps it for the API.
    m.apply(
        &job(
            &format!("\"{addr_a}\", \"{addr_b}\""),
            &format!(
                "[[scrape.relabel_configs]]\nsource_labels = [\"__address__\"]\nregex = \"{addr_b}\"\naction = \"drop\"\n"
            ),
        )
        .scrape,
    );
    let dropped = m.dropped_targets();
    assert_eq!(dropped.len(), 1);
    assert_eq!(
        dropped[0].discovered_labels.get("__address__"),
        Some(addr_b.as_str())
    );

    // Removing the job stops everything; shutting down before the markers
    // are due writes none.
    let before = values(&storage, "a", &addr_a).len();
    m.apply(&[]);
    assert!(m.active_targets().is_empty());
    m.stop(Duration::from_secs(5)).await;
    let after = values(&storage, "a", &addr_a);
    assert!(after.len() <= before + 1 && !after.iter().any(|v| is_stale_nan(*v)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_body_and_target_limits() {
    let (_s, addr) = TargetServer::start("a 1\nb 2\nc 3\n").await;
    let (_s2, addr2) = TargetServer::start("a 1\n").await;
    let storage = Arc::new(MemStorage::new());
    let m = manager(&storage);
    let cases = [
        ("sample_limit = 2", "sample limit exceeded".to_owned()),
        (
            "body_size_limit = \"5B\"",
            "body size limit exceeded".to_owned(),
        ),
        (
            "target_limit = 1",
            "target_limit exceeded (number of targets: 2, limit: 1)".to_owned(),
        ),
    ];
    for (limit, error) in cases {
        let cfg = config(&format!(
            "[[scrape]]\njob = \"t\"\nscrape_interval = \"100ms\"\ntargets = [\"{addr}\", \"{addr2}\"]\n{limit}\n"
        ));
        m.apply(&cfg.scrape);
        let t = eventually(limit, || {
            let ts = m.active_targets();
            let t = target(&ts, &addr)?.clone();
            (t.status.last_error == error).then_some(t)
        })
        .await;
        assert_eq!(t.status.health, Health::Down);
    }
    m.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_params_and_compression_settings_reach_the_target() {
    let (server, addr) = TargetServer::start("m 1\n").await;
    let storage = Arc::new(MemStorage::new());
    let m = manager(&storage);
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let cases = [
        (
            "basic_auth = { username = \"u\", password = \"p\" }".to_owned(),
            "Basic dTpw",
        ),
        (
            format!("bearer_token_file = {:?}", token.display().to_string()),
            "Bearer s3cret",
        ),
    ];
    for (auth, want) in cases {
        *server.last_headers.lock() = None;
        let cfg = config(&format!(
            "[[scrape]]\njob = \"t\"\nscrape_interval = \"100ms\"\ntargets = [\"{addr}\"]\n\
             params = {{ module = [\"a b\"], x = [\"1\", \"2\"] }}\nenable_compression = false\n{auth}\n"
        ));
        assert!(m.apply(&cfg.scrape).is_empty());
        let h = eventually("a scrape", || server.last_headers.lock().clone()).await;
        assert_eq!(h[header::AUTHORIZATION], want);
        assert!(
            h.get(header::ACCEPT_ENCODING)
                .is_none_or(|v| !v.to_str().unwrap().contains("gzip"))
        );
        let uri = server.last_uri.lock().clone().unwrap();
        assert_eq!(uri.query(), Some("module=a+b&x=1&x=2"));
    }
    m.stop(Duration::from_secs(5)).await;
}

/// The real storage, noting for every append how many of its series came
/// with a reference.
struct RefAudit {
    db: Db,
    /// (series with a reference, series without labels, series) per
    /// append by reference (the batches of successful scrapes).
    appends: Mutex<Vec<(usize, usize, usize)>>,
    /// (series without labels, series) per plain append (staleness
    /// markers and the report of a failed scrape).
    plain: Mutex<Vec<(usize, usize)>>,
    /// Appends by reference refused as `InvalidSeries` (a stale reference).
    invalid: Mutex<usize>,
}

impl RefAudit {
    fn new(db: Db) -> Self {
        RefAudit {
            db,
            appends: Mutex::new(Vec::new()),
            plain: Mutex::new(Vec::new()),
            invalid: Mutex::new(0),
        }
    }
}

impl Appendable for RefAudit {
    fn append(&self, batch: &[SeriesAppend]) -> Result<AppendStats, pharos_tsdb::Error> {
        let unlabelled = batch.iter().filter(|s| s.labels.is_empty()).count();
        self.plain.lock().push((unlabelled, batch.len()));
        self.db.append(batch)
    }

    fn append_with_refs(
        &self,
        batch: &[SeriesAppend],
        refs: &mut [SeriesRef],
    ) -> Result<AppendStats, pharos_tsdb::Error> {
        let known = refs.iter().filter(|r| !r.is_none()).count();
        let unlabelled = batch.iter().filter(|s| s.labels.is_empty()).count();
        self.appends.lock().push((known, unlabelled, batch.len()));
        let r = self.db.append_with_refs(batch, refs);
        if let Err(pharos_tsdb::Error::Append(pharos_tsdb::AppendError::InvalidSeries { .. })) = &r
        {
            *self.invalid.lock() += 1;
        }
        r
    }

    fn labels_of(&self, r: SeriesRef) -> Option<Labels> {
        self.db.labels_of(r)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_scrapes_append_through_series_references() {
    let (server, addr) = TargetServer::start("a 1\nb{x=\"1\"} 2\nb{x=\"2\"} 3\n").await;
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(RefAudit::new(
        Db::open(dir.path(), DbOptions::default()).unwrap(),
    ));
    let m = ScrapeManager::new(audit.clone(), ManagerOptions::default());
    let cfg = config(&format!(
        "[[scrape]]\njob = \"t\"\nscrape_interval = \"50ms\"\nscrape_timeout = \"40ms\"\ntargets = [\"{addr}\"]\n"
    ));
    m.apply(&cfg.scrape);
    eventually("three scrapes", || {
        (audit.appends.lock().len() >= 3).then_some(())
    })
    .await;
    // A failing target gets staleness markers, by labels again.
    server.set(StatusCode::INTERNAL_SERVER_ERROR, "", Duration::ZERO);
    let b = [Matcher::equal("__name__", "b")];
    eventually("stale b", || {
        let stored = audit.db.select(&b, i64::MIN, i64::MAX).unwrap();
        let stale = stored
            .iter()
            .filter(|s| s.samples().last().is_some_and(|x| is_stale_nan(x.v)))
            .count();
        (stale == 2).then_some(())
    })
    .await;
    m.stop(Duration::from_secs(5)).await;
    let appends = audit.appends.lock().clone();
    let plain = audit.plain.lock().clone();
    // 3 samples and 5 report series per scrape; the first finds none by
    // reference, every later one finds all and sends no labels (the cache
    // dropped them); the failed scrape's markers carry labels.
    assert_eq!(appends[0], (0, 0, 8));
    assert!(appends[1..].iter().all(|&a| a == (8, 8, 8)), "{appends:?}");
    assert!(plain.contains(&(0, 8)), "{plain:?}");
    let stored = audit.db.select(&b, i64::MIN, i64::MAX).unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|s| s.samples().len() >= 4));
    audit.db.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_deleted_by_retention_under_the_cache_are_stored_again() {
    // "old" carries an explicit timestamp an hour back: retention (10 min
    // behind the newest sample) deletes it while the target's cache still
    // knows it by reference.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let old_t = now - 3_600_000;
    let (_server, addr) = TargetServer::start(&format!("old 1 {old_t}\nlive 2\n")).await;
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(RefAudit::new(
        Db::open_without_worker(
            dir.path(),
            DbOptions {
                retention: Some(600_000),
                ..DbOptions::default()
            },
        )
        .unwrap(),
    ));
    let m = ScrapeManager::new(storage.clone(), ManagerOptions::default());
    m.apply(
        &config(&format!(
            "[[scrape]]\njob = \"t\"\nscrape_interval = \"50ms\"\nscrape_timeout = \"40ms\"\ntargets = [\"{addr}\"]\n"
        ))
        .scrape,
    );
    let old = [Matcher::equal("__name__", "old")];
    let live = [Matcher::equal("__name__", "live")];
    let live_samples = || {
        storage
            .db
            .select(&live, i64::MIN, i64::MAX)
            .unwrap()
            .first()
            .map_or(0, |s| s.samples().len())
    };
    eventually("two scrapes", || (live_samples() >= 2).then_some(())).await;
    storage.db.apply_retention().unwrap();
    assert!(storage.db.metrics().retention_series_deleted >= 1);
    let stored_live = live_samples();
    eventually("old stored again", || {
        let back = storage.db.select(&old, i64::MIN, i64::MAX).unwrap();
        (back.len() == 1 && live_samples() > stored_live + 1).then_some(())
    })
    .await;
    let t = m.active_targets();
    let t = target(&t, &addr).unwrap();
    assert_eq!(t.status.health, Health::Up, "{}", t.status.last_error);
    assert!(*storage.invalid.lock() >= 1, "the stale reference was used");
    m.stop(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sample_refused_by_reference_is_dropped_and_the_rest_stored() {
    // "a" is known by reference (no labels sent) when its explicit
    // timestamp goes back in time: storage refuses it by its position in
    // the batch, the scrape keeps every other sample and stays up.
    let (server, addr) = TargetServer::start("a 1 5000000\nb 1\n").await;
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(Db::open(dir.path(), DbOptions::default()).unwrap());
    let m = ScrapeManager::new(storage.clone(), ManagerOptions::default());
    m.apply(
        &config(&format!(
            "[[scrape]]\njob = \"t\"\nscrape_interval = \"50ms\"\nscrape_timeout = \"40ms\"\ntargets = [\"{addr}\"]\n"
        ))
        .scrape,
    );
    let samples = |name: &str| {
        storage
            .select(&[Matcher::equal("__name__", name)], i64::MIN, i64::MAX)
            .unwrap()
            .first()
            .map(|s| s.samples())
            .unwrap_or_default()
    };
    eventually("two scrapes", || (samples("b").len() >= 2).then_some(())).await;
    server.set(StatusCode::OK, "a 2 4000000\nb 2\n", Duration::ZERO);
    eventually("b from the new body", || {
        samples("b")
            .last()
            .is_some_and(|s| s.v == 2.0)
            .then_some(())
    })
    .await;
    let a = samples("a");
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!((a[0].t, a[0].v), (5_000_000, 1.0));
    let t = m.active_targets();
    assert_eq!(target(&t, &addr).unwrap().status.health, Health::Up);
    m.stop(Duration::from_secs(5)).await;
    storage.close().unwrap();
}
