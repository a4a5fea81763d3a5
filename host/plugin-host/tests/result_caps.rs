//! A discovery call returning more targets than one call may
//! (`MAX_TARGETS_PER_CALL`) fails with `TooManyResults`, is counted as
//! such, and the next call within the cap succeeds.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use pharos_plugin_host::{
    CallError, ErrorKind, Limits, MAX_TARGETS_PER_CALL, PluginKind, PluginSettings,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_targets_than_the_cap_fail_the_call() {
    let rt = common::runtime();
    let settings = PluginSettings {
        limits: Limits {
            memory: 256 << 20,
            cpu: Duration::from_secs(20),
            timeout: Duration::from_secs(60),
        },
        ..PluginSettings::default()
    };
    let noop = common::load(&rt, "fixture-noop", PluginKind::Discovery, &settings).await;
    let over = MAX_TARGETS_PER_CALL + 1;
    let err = noop
        .discover(&format!(r#"{{"targets":{over}}}"#))
        .await
        .expect_err("over the cap");
    assert_eq!(err.kind(), ErrorKind::TooManyResults, "{err}");
    match &err {
        CallError::TooManyResults {
            what, count, limit, ..
        } => {
            assert_eq!(
                (*what, *count, *limit),
                ("targets", over, MAX_TARGETS_PER_CALL)
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    let groups = noop.discover(r#"{"targets":10}"#).await.unwrap();
    assert_eq!(groups[0].targets.len(), 10);
    let m = noop.metrics();
    assert_eq!(m.errors_of(ErrorKind::TooManyResults), 1);
}
