//! Behaviour that is easier to state in code than in data files: the
//! alert queue behind `AlertSink`, reloads, silence updates, label
//! arguments, and inputs that must never panic.

use pharos_alerting::config::AlertingConfig;
use pharos_alerting::dispatch::{Dispatcher, alert_queue};
use pharos_alerting::matchers::{Matchers, parse_matchers};
use pharos_alerting::route::{LabelArgError, RouteTree, parse_label_args};
use pharos_alerting::silence::{Silence, SilenceError, SilenceState, Silences};
use pharos_model::Labels;
use pharos_model::alert::{Alert, AlertSink};

const T0: i64 = 1_700_000_000_000;

const CONFIG: &str = r#"
[route]
receiver = "team"
group_by = ["alertname"]
group_wait = "30s"
group_interval = "5m"

[[route.routes]]
matchers = ['severity="page"']
receiver = "pager"

[[receivers]]
name = "team"
notifiers = [{ plugin = "webhook" }]

[[receivers]]
name = "pager"
notifiers = [{ plugin = "pagerduty" }]
"#;

fn alert(pairs: &[(&str, &str)], starts: i64, ends: Option<i64>) -> Alert {
    Alert {
        labels: Labels::from_pairs(pairs.iter().copied()),
        annotations: Labels::empty(),
        starts_at: starts,
        ends_at: ends,
        generator_url: String::new(),
    }
}

fn dispatcher() -> Dispatcher {
    let cfg = AlertingConfig::from_toml_str(CONFIG).expect("valid config");
    Dispatcher::new(&cfg).expect("dispatcher")
}

#[test]
fn alert_sink_queues_into_the_dispatcher() {
    let mut d = dispatcher();
    let (queue, mut inbox) = alert_queue();
    let sink: Box<dyn AlertSink> = Box::new(queue.clone());
    let rules = std::thread::spawn(move || {
        sink.send(vec![alert(
            &[("alertname", "Down")],
            T0,
            Some(T0 + 600_000),
        )]);
        sink.send(Vec::new());
    });
    rules.join().expect("sender thread");
    queue.send(vec![alert(
        &[("alertname", "Down"), ("severity", "page")],
        T0,
        Some(T0 + 600_000),
    )]);
    let (moved, closed) = inbox.drain_into(&mut d, T0);
    assert_eq!((moved, closed), (2, false));
    assert_eq!(d.groups().count(), 2);
    assert_eq!(d.next_flush(), Some(T0 + 30_000));
    let sent = d.flush_due(T0 + 30_000, &Silences::new());
    let receivers: Vec<&str> = sent.iter().map(|n| n.receiver.as_str()).collect();
    assert_eq!(receivers, ["team", "pager"]);
    drop(queue);
    assert_eq!(inbox.drain_into(&mut d, T0), (0, true));
}

#[test]
fn reload_keeps_alerts_and_does_not_notify_twice() {
    let mut d = dispatcher();
    d.insert(
        alert(&[("alertname", "Down")], T0, Some(T0 + 3_600_000)),
        T0,
    );
    assert_eq!(d.flush_due(T0 + 30_000, &Silences::new()).len(), 1);
    let cfg = AlertingConfig::from_toml_str(CONFIG).expect("valid config");
    d.reload(&cfg, T0 + 40_000).expect("reload");
    assert_eq!(d.alerts().count(), 1);
    assert_eq!(d.groups().count(), 1);
    // The rebuilt group flushes at once (its alert is older than
    // group_wait), but the notification log knows the receiver was told.
    assert_eq!(d.next_flush(), Some(T0 + 40_000));
    assert!(d.flush_due(T0 + 40_000, &Silences::new()).is_empty());
    // A reload to an invalid config is refused and changes nothing.
    let bad = AlertingConfig { route: None, ..cfg };
    assert!(d.reload(&bad, T0 + 50_000).is_err());
    assert_eq!(d.groups().count(), 1);
}

#[test]
fn merge_keeps_the_earliest_start() {
    let mut d = dispatcher();
    d.insert(alert(&[("alertname", "A")], T0, Some(T0 + 600_000)), T0);
    d.insert(
        alert(&[("alertname", "A")], T0 + 60_000, Some(T0 + 900_000)),
        T0 + 60_000,
    );
    let a = d.alerts().next().expect("one alert");
    assert_eq!(a.alert.starts_at, T0);
    assert_eq!(a.alert.ends_at, Some(T0 + 900_000));
    // Without ends_at: resolve_timeout (5m) after receipt.
    d.insert(alert(&[("alertname", "B")], T0, None), T0 + 1_000);
    let b = d
        .alerts()
        .find(|a| a.alert.labels.get("alertname") == Some("B"))
        .expect("B");
    assert!(b.timeout);
    assert_eq!(b.alert.ends_at, Some(T0 + 1_000 + 300_000));
}

fn silence(m: &str, starts: i64, ends: i64) -> Silence {
    Silence {
        id: String::new(),
        matchers: Matchers(parse_matchers(m).expect("matchers")),
        starts_at: starts,
        ends_at: ends,
        updated_at: 0,
        created_by: "me".into(),
        comment: "maintenance".into(),
    }
}

#[test]
fn silence_updates_follow_alertmanager() {
    let mut s = Silences::new();
    let mut n = 0;
    let mut id = || {
        n += 1;
        format!("id{n}")
    };
    let now = T0;
    // A new silence starting in the past starts now.
    let a = s
        .set(
            silence(r#"job="x""#, now - 60_000, now + 3_600_000),
            now,
            &mut id,
        )
        .expect("set");
    assert_eq!(a, "id1");
    assert_eq!(s.get(&a).map(|x| x.starts_at), Some(now));
    // Extending an active silence keeps its id.
    let mut ext = s.get(&a).cloned().expect("stored");
    ext.ends_at = now + 7_200_000;
    assert_eq!(s.set(ext, now + 1_000, &mut id).expect("update"), "id1");
    // Changing the matchers expires the old one and creates a new one.
    let mut changed = s.get(&a).cloned().expect("stored");
    changed.matchers = Matchers(parse_matchers(r#"job="y""#).expect("matchers"));
    let b = s.set(changed, now + 2_000, &mut id).expect("replace");
    assert_eq!(b, "id2");
    assert_eq!(
        s.get(&a).map(|x| x.state(now + 3_000)),
        Some(SilenceState::Expired)
    );
    assert_eq!(s.count(SilenceState::Active, now + 3_000), 1);
    // Unknown id.
    let mut ghost = silence(r#"job="z""#, now, now + 1);
    ghost.id = "nope".into();
    assert_eq!(s.set(ghost, now, &mut id), Err(SilenceError::NotFound));
    // Expiring a pending silence moves both ends to now.
    let p = s
        .set(
            silence(r#"job="p""#, now + 60_000, now + 120_000),
            now,
            &mut id,
        )
        .expect("set");
    s.expire(&p, now + 10_000).expect("expire");
    let exp = s.get(&p).expect("kept until gc");
    assert_eq!((exp.starts_at, exp.ends_at), (now + 10_000, now + 10_000));
    assert_eq!(s.gc(now + 20_000, 5_000), 2);
    // The API's own checks.
    let past = silence(r#"job="q""#, now - 120_000, now - 60_000);
    assert_eq!(past.validate_for_api(now), Err(SilenceError::EndInPast));
    assert_eq!(
        silence(r#"job="q""#, now, now).validate_for_api(now),
        Err(SilenceError::StartNotBeforeEnd)
    );
}

#[test]
fn label_arguments_as_amtool_reads_them() {
    let ls = parse_label_args(&["severity=page", r#"service="pay ments""#]).expect("labels");
    assert_eq!(ls.get("service"), Some("pay ments"));
    assert_eq!(parse_label_args(&["a=~b"]), Err(LabelArgError::NotEqual));
    let e = parse_label_args(&["-x"]).expect_err("bad");
    assert_eq!(e.to_string(), "bad matcher format: -x");
    let cfg = AlertingConfig::from_toml_str(CONFIG).expect("valid config");
    let tree = RouteTree::from_config(&cfg).expect("tree");
    assert_eq!(tree.receivers_for(&ls), ["pager"]);
}

#[test]
fn odd_inputs_never_panic() {
    let odd = [
        "",
        "{",
        "}",
        "{}",
        ",,,",
        "\"",
        "\\",
        "a",
        "a=",
        "a=\\",
        "=b",
        "é=1",
        "a=\"\u{0}\"",
        "a=~\"(\"",
        "a=~\"[\"",
        "a=~\"\\\\\"",
        "a=~\"x{99999999999}\"",
        "a=~\"(?<n>x)\"",
        "{a=\"b\",,c=\"d\"}",
        "a!~",
        "a!",
        "a=~\u{1F600}+",
    ];
    for s in odd {
        let _ = parse_matchers(s);
        let _ = parse_label_args(&[s]);
        let _ = AlertingConfig::from_toml_str(s);
        let _ = AlertingConfig::from_toml_str(&format!(
            "[route]\nreceiver = {s:?}\nmatchers = [{s:?}]"
        ));
    }
    // Extreme times.
    let mut d = dispatcher();
    d.insert(
        alert(&[("alertname", "A")], i64::MIN, Some(i64::MAX)),
        i64::MAX,
    );
    d.insert(alert(&[("alertname", "A")], 0, None), i64::MAX);
    let _ = d.flush_due(i64::MAX, &Silences::new());
    let _ = d.time_muted(0, i64::MIN);
}
