//! Each misbehaving fixture fails its own call with its own error, and the
//! same plugin serves a good call right after: the host contains it.

#![allow(clippy::unwrap_used)]

mod common;

use pharos_plugin_host::{Budget, CallError, ErrorKind, PluginKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_chaos_mode_fails_with_its_own_error_and_the_next_call_succeeds() {
    let rt = common::runtime();
    let chaos = common::load(
        &rt,
        "fixture-chaos",
        PluginKind::Discovery,
        &common::settings(),
    )
    .await;
    let ok = r#"{"mode":"ok"}"#;

    let cases: [(&str, ErrorKind); 4] = [
        ("loop", ErrorKind::Timeout),
        ("alloc", ErrorKind::Memory),
        ("recurse", ErrorKind::StackOverflow),
        ("panic", ErrorKind::Panic),
    ];
    for (mode, kind) in cases {
        let err = chaos
            .discover(&format!(r#"{{"mode":"{mode}"}}"#))
            .await
            .expect_err(mode);
        assert_eq!(err.kind(), kind, "mode {mode}: {err}");
        match (&err, mode) {
            (
                CallError::TimedOut {
                    budget: Budget::Cpu(_),
                    ..
                },
                "loop",
            ) => {}
            (
                CallError::MemoryLimit {
                    limit, requested, ..
                },
                "alloc",
            ) => {
                assert_eq!(*limit, 32 << 20);
                assert!(requested > limit);
            }
            (CallError::StackOverflow { .. }, "recurse") => {}
            (CallError::Panicked { message, .. }, "panic") => {
                assert!(message.contains("chaos plugin asked to panic"), "{message}");
            }
            _ => panic!("mode {mode}: unexpected {err:?}"),
        }
        assert!(
            err.to_string().contains("fixture-chaos"),
            "the error names the plugin: {err}"
        );
        let groups = chaos
            .discover(ok)
            .await
            .unwrap_or_else(|e| panic!("good call after {mode}: {e}"));
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].targets[0][0].value, "chaos:1");
    }

    let m = chaos.metrics();
    // describe at load, then 4 failures and 4 successes.
    assert_eq!(m.calls, 9);
    for (_, kind) in cases {
        assert_eq!(m.errors_of(kind), 1, "{kind:?}");
    }
    assert!(
        m.memory_high_water_bytes >= 16 << 20,
        "high water {}",
        m.memory_high_water_bytes
    );
    assert!(m.memory_high_water_bytes <= 32 << 20);
    assert_eq!(m.backoff.consecutive_failures, 0, "the last call succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_waiting_on_a_silent_server_hits_the_wall_clock_timeout() {
    let rt = common::runtime();
    let server = common::serve(None).await;
    let mut settings = common::settings();
    settings.limits.timeout = std::time::Duration::from_millis(500);
    settings.grants.allow_http = vec![format!("http://{}", server.addr)];
    settings.grants.allow_private_ips = vec!["127.0.0.1".into()];
    let chaos = common::load(&rt, "fixture-chaos", PluginKind::Discovery, &settings).await;
    let config = format!(r#"{{"mode":"http","url":"{}"}}"#, server.url("/"));
    let err = chaos.discover(&config).await.unwrap_err();
    assert!(
        matches!(
            err,
            CallError::TimedOut {
                budget: Budget::WallClock(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    let b = chaos.backoff();
    assert_eq!(b.consecutive_failures, 1);
    assert!(b.retry_after.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_errors_and_log_flooding_are_contained() {
    let rt = common::runtime();
    let chaos = common::load(
        &rt,
        "fixture-chaos",
        PluginKind::Discovery,
        &common::settings(),
    )
    .await;

    let err = chaos
        .validate_config(r#"{"mode":"dance"}"#)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert!(err.to_string().contains("unknown mode"), "{err}");
    let err = chaos.discover("not json").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");

    chaos
        .discover(r#"{"mode":"log","count":500}"#)
        .await
        .unwrap();
    assert_eq!(
        chaos.metrics().log_lines_dropped,
        300,
        "200 lines a call are kept"
    );

    let err = chaos.collect("{}").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongKind);
}
