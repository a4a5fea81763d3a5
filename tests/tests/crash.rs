//! Crash safety: the real binary takes remote writes and is killed with
//! SIGKILL at random moments, many times, then restarted on the same data.
//! Every acknowledged sample must be stored, and nothing that was never sent.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pharos_model::{MatchOp, Matcher};
use pharos_prompb::encode_write_request;
use pharos_tests::pharos::Pharos;
use pharos_tests::remote_write::{post_write, write_request};
use pharos_tests::rng::Rng;
use pharos_tsdb::{Db, DbOptions, Queryable};

const SERIES: usize = 40;
const KILLS: usize = 12;
const STEP: i64 = 1000;

fn value(series: usize, t: i64) -> f64 {
    (t / STEP) as f64 * (series as f64 + 1.0) + 0.5
}

#[test]
fn acknowledged_samples_survive_sigkill() {
    // The kill times are random, seeded from the clock; the seed is printed
    // so a failure can be replayed with `CRASH_SEED`.
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("crash test seed: CRASH_SEED={seed}");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let acked: Arc<Mutex<Vec<i64>>> = Arc::default();
    let mut next_t: i64 = 1_700_000_000_000;

    for round in 0..KILLS {
        let server = Pharos::start(&data).unwrap();
        let url = server.url.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (acked, stop) = (acked.clone(), stop.clone());
            let start_t = next_t;
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap();
                let mut t = start_t;
                while !stop.load(Ordering::SeqCst) {
                    let series: Vec<_> = (0..SERIES)
                        .map(|i| {
                            (
                                vec![
                                    ("__name__", "crash_test".to_string()),
                                    ("series", i.to_string()),
                                ],
                                vec![(t, value(i, t))],
                            )
                        })
                        .collect();
                    let body = encode_write_request(&write_request(&series));
                    match post_write(&client, &url, body) {
                        Ok((204, _)) => acked.lock().unwrap().push(t),
                        Ok((status, text)) => panic!("write refused: {status} {text}"),
                        Err(_) => return t, // the server is gone
                    }
                    t += STEP;
                }
                t
            })
        };
        std::thread::sleep(Duration::from_millis(50 + rng.below(400)));
        server.kill().unwrap();
        stop.store(true, Ordering::SeqCst);
        // Everything up to the writer's last attempt may be stored.
        next_t = writer.join().unwrap() + STEP;
        eprintln!(
            "round {round}: {} writes acknowledged so far",
            acked.lock().unwrap().len()
        );
    }

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > KILLS, "too few writes to test anything");
    let db = Db::open_without_worker(&data, DbOptions::default()).unwrap();
    let all = [Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
    let mut stored: BTreeMap<usize, Vec<(i64, f64)>> = BTreeMap::new();
    for s in db.select(&all, i64::MIN, i64::MAX).unwrap() {
        let i: usize = s.labels.get("series").unwrap().parse().unwrap();
        stored.insert(i, s.samples().iter().map(|x| (x.t, x.v)).collect());
    }
    assert_eq!(stored.len(), SERIES);
    for (i, samples) in &stored {
        // Nothing that was never sent: every value is the one sent for its time.
        for (t, v) in samples {
            assert_eq!(
                *v,
                value(*i, *t),
                "series {i} at {t} holds a value never sent"
            );
            assert!(*t < next_t);
        }
        // Every acknowledged sample is there.
        let times: std::collections::HashSet<i64> = samples.iter().map(|x| x.0).collect();
        for t in &acked {
            assert!(
                times.contains(t),
                "series {i}: acknowledged sample at {t} is lost"
            );
        }
    }
}
