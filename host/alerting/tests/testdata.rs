//! Runs the data-driven cases under `testdata/`: one test per folder, every
//! `*.toml` file in it, each failure naming the file and case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pharos_alerting::config::{AlertingConfig, InhibitRuleConfig};
use pharos_alerting::dispatch::{Dispatcher, Notification};
use pharos_alerting::inhibit::Inhibitor;
use pharos_alerting::located::Located;
use pharos_alerting::matchers::{Matchers, parse_matcher, parse_matchers};
use pharos_alerting::route::{RouteTree, label_set_string};
use pharos_alerting::silence::{Silence, Silences, can_update, silence_matcher};
use pharos_alerting::timeinterval::{TimeInterval, any_contains};
use pharos_model::alert::Alert;
use pharos_model::{Labels, MatchOp, PromDuration};
use serde::Deserialize;

fn files(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no cases in {}", root.display());
    out
}

fn load<T: for<'de> Deserialize<'de>>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).expect("readable");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn labels(m: &BTreeMap<String, String>) -> Labels {
    Labels::from_pairs(m.iter().map(|(k, v)| (k.clone(), v.clone())))
}

/// Checks an error against `error` (exact) or `error_prefix`.
fn check_error(
    ctx: &str,
    got: Result<(), String>,
    exact: &Option<String>,
    prefix: &Option<String>,
) {
    match (got, exact.as_deref(), prefix.as_deref()) {
        (Ok(()), Some("") | None, None) => {}
        (Ok(()), want, prefix) => panic!("{ctx}: no error, want {want:?} / prefix {prefix:?}"),
        (Err(e), Some(want), _) => assert_eq!(e, want, "{ctx}"),
        (Err(e), None, Some(p)) => {
            assert!(e.starts_with(p), "{ctx}: {e:?} does not start with {p:?}")
        }
        (Err(e), None, None) => panic!("{ctx}: unexpected error {e:?}"),
    }
}

// ---------------------------------------------------------------- matchers

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatcherFile {
    #[serde(default)]
    case: Vec<MatcherCase>,
    #[serde(default, rename = "match")]
    matches: Vec<MatchCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatcherCase {
    input: String,
    matchers: Option<Vec<String>>,
    error: Option<String>,
    error_prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchCase {
    matcher: String,
    values: Vec<String>,
    non_values: Vec<String>,
}

#[test]
fn matchers() {
    for path in files("matchers") {
        let file: MatcherFile = load(&path);
        for c in &file.case {
            let ctx = format!("{}: {:?}", path.display(), c.input);
            match parse_matchers(&c.input) {
                Ok(ms) => {
                    check_error(&ctx, Ok(()), &c.error, &c.error_prefix);
                    let got: Vec<String> = ms.iter().map(ToString::to_string).collect();
                    assert_eq!(Some(&got), c.matchers.as_ref(), "{ctx}");
                }
                Err(e) => check_error(&ctx, Err(e.to_string()), &c.error, &c.error_prefix),
            }
        }
        for c in &file.matches {
            let m = parse_matcher(&c.matcher).expect("valid matcher");
            for v in &c.values {
                assert!(
                    m.matches(v),
                    "{}: {} should match {v:?}",
                    path.display(),
                    c.matcher
                );
            }
            for v in &c.non_values {
                assert!(
                    !m.matches(v),
                    "{}: {} should not match {v:?}",
                    path.display(),
                    c.matcher
                );
            }
        }
    }
}

// ---------------------------------------------------------------- config

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    case: Vec<ConfigCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigCase {
    config: String,
    error: Option<String>,
    error_prefix: Option<String>,
    key: Option<String>,
    at: Option<String>,
}

#[test]
fn config_errors() {
    for path in files("config") {
        let file: ConfigFile = load(&path);
        for (i, c) in file.case.iter().enumerate() {
            let ctx = format!("{} case {i}", path.display());
            let got = AlertingConfig::from_toml_str(&c.config);
            let err = got.as_ref().err();
            check_error(
                &ctx,
                got.as_ref().map(|_| ()).map_err(|e| e.message.clone()),
                &c.error,
                &c.error_prefix,
            );
            if let (Some(key), Some(e)) = (&c.key, err) {
                assert_eq!(&e.key, key, "{ctx}");
            }
            if let Some(at) = &c.at {
                let span = err.and_then(|e| e.span.clone());
                let text = span.and_then(|s| c.config.get(s));
                assert_eq!(text, Some(at.as_str()), "{ctx}: span");
            }
            // The same config also loads from a toml::Value (no spans).
            if got.is_ok() {
                let value: toml::Value = toml::from_str(&c.config).expect("toml");
                let cfg = AlertingConfig::deserialize(value).expect("from a value");
                cfg.validate().expect("valid from a value too");
            }
        }
    }
}

// ---------------------------------------------------------------- routing

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingFile {
    config: AlertingConfig,
    #[serde(default)]
    walk: Vec<Walk>,
    case: Vec<RoutingCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Walk {
    receivers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingCase {
    labels: BTreeMap<String, String>,
    receivers: Vec<String>,
    keys: Option<Vec<String>>,
    ids: Option<Vec<String>>,
    opts: Option<Vec<Opts>>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Opts {
    group_by: Vec<String>,
    group_by_all: bool,
    group_wait: PromDuration,
    group_interval: PromDuration,
    repeat_interval: PromDuration,
}

#[test]
fn routing() {
    for path in files("routing") {
        let file: RoutingFile = load(&path);
        file.config
            .validate()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let tree = RouteTree::from_config(&file.config).expect("tree");
        for w in &file.walk {
            let got: Vec<String> = tree.walk().map(|(_, r)| r.opts.receiver.clone()).collect();
            assert_eq!(got, w.receivers, "{}: walk", path.display());
        }
        for c in &file.case {
            let ctx = format!("{}: {:?}", path.display(), c.labels);
            let ls = labels(&c.labels);
            assert_eq!(tree.receivers_for(&ls), c.receivers, "{ctx}: receivers");
            let routes: Vec<_> = tree
                .match_labels(&ls)
                .into_iter()
                .filter_map(|id| tree.get(id))
                .collect();
            if let Some(keys) = &c.keys {
                let got: Vec<&str> = routes.iter().map(|r| r.key.as_str()).collect();
                assert_eq!(&got, keys, "{ctx}: keys");
            }
            if let Some(ids) = &c.ids {
                let got: Vec<&str> = routes.iter().map(|r| r.id.as_str()).collect();
                assert_eq!(&got, ids, "{ctx}: ids");
            }
            if let Some(opts) = &c.opts {
                let got: Vec<Opts> = routes
                    .iter()
                    .map(|r| Opts {
                        group_by: r.opts.group_by.iter().cloned().collect(),
                        group_by_all: r.opts.group_by_all,
                        group_wait: r.opts.group_wait.into(),
                        group_interval: r.opts.group_interval.into(),
                        repeat_interval: r.opts.repeat_interval.into(),
                    })
                    .collect();
                assert_eq!(&got, opts, "{ctx}: opts");
            }
        }
    }
}

// ---------------------------------------------------------------- inhibition

const NOW: i64 = 1_700_000_000_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InhibitFile {
    #[serde(default)]
    rules: Vec<Located<InhibitRuleConfig>>,
    #[serde(default)]
    sources: Vec<AlertSpec>,
    #[serde(default)]
    case: Vec<InhibitCase>,
    #[serde(default)]
    scenario: Vec<InhibitScenario>,
    #[serde(default)]
    stream: Vec<InhibitStream>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct AlertSpec {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    resolved: bool,
}

impl AlertSpec {
    fn alert(&self) -> Alert {
        Alert {
            labels: labels(&self.labels),
            annotations: Labels::empty(),
            starts_at: NOW - 60_000,
            ends_at: Some(if self.resolved {
                NOW - 1_000
            } else {
                NOW + 3_600_000
            }),
            generator_url: String::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InhibitCase {
    target: BTreeMap<String, String>,
    inhibited: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InhibitScenario {
    equal: Vec<String>,
    sources: Vec<AlertSpec>,
    target: BTreeMap<String, String>,
    inhibited: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InhibitStream {
    alerts: Vec<AlertSpec>,
    expect: Vec<InhibitCase>,
}

#[test]
fn inhibition() {
    for path in files("inhibit") {
        let file: InhibitFile = load(&path);
        let mut inh = Inhibitor::new(&file.rules);
        for s in &file.sources {
            inh.observe(&s.alert());
        }
        for c in &file.case {
            let got = inh.mutes(&labels(&c.target), NOW);
            assert_eq!(got, c.inhibited, "{}: {:?}", path.display(), c.target);
        }
        for (i, sc) in file.scenario.iter().enumerate() {
            let rule: InhibitRuleConfig =
                toml::from_str(r#"source_matchers = ['src="1"']"#).expect("rule");
            let rule = InhibitRuleConfig {
                equal: sc.equal.iter().cloned().map(Located::new).collect(),
                ..rule
            };
            let mut inh = Inhibitor::new(&[Located::new(rule)]);
            for s in &sc.sources {
                inh.observe(&s.alert());
            }
            let got = inh.mutes(&labels(&sc.target), NOW);
            assert_eq!(got, sc.inhibited, "{}: scenario {i}", path.display());
        }
        for (i, st) in file.stream.iter().enumerate() {
            let mut inh = Inhibitor::new(&file.rules);
            for a in &st.alerts {
                inh.observe(&a.alert());
            }
            for c in &st.expect {
                let got = inh.mutes(&labels(&c.target), NOW);
                assert_eq!(
                    got,
                    c.inhibited,
                    "{}: stream {i} {:?}",
                    path.display(),
                    c.target
                );
            }
        }
    }
}

// ---------------------------------------------------------------- silences

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SilenceFile {
    #[serde(default)]
    matches: Vec<SilenceMatch>,
    #[serde(default)]
    validate: Vec<SilenceValidate>,
    #[serde(default)]
    can_update: Vec<CanUpdate>,
    #[serde(default)]
    state: Vec<SilenceStateCase>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct MatcherSpec {
    name: String,
    op: String,
    value: String,
}

fn op(s: &str) -> MatchOp {
    match s {
        "=" => MatchOp::Equal,
        "!=" => MatchOp::NotEqual,
        "=~" => MatchOp::Regex,
        "!~" => MatchOp::NotRegex,
        other => panic!("unknown op {other}"),
    }
}

fn silence_matchers(specs: &[MatcherSpec]) -> Result<Matchers, String> {
    specs
        .iter()
        .enumerate()
        .map(|(i, m)| silence_matcher(i, op(&m.op), &m.name, &m.value).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map(Matchers)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SilenceMatch {
    labels: BTreeMap<String, String>,
    silence: Vec<MatcherSpec>,
    matches: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SilenceValidate {
    id: Option<String>,
    matchers: Vec<MatcherSpec>,
    #[serde(default)]
    starts_at: i64,
    #[serde(default)]
    ends_at: i64,
    #[serde(default)]
    zero: Vec<String>,
    error: Option<String>,
    error_prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Times {
    starts_at: i64,
    ends_at: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CanUpdate {
    a: Times,
    b: Times,
    ok: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SilenceStateCase {
    starts_at: i64,
    ends_at: i64,
    state: String,
}

fn silence_at(m: Matchers, starts: i64, ends: i64) -> Silence {
    Silence {
        id: "some_id".into(),
        matchers: m,
        starts_at: NOW + starts * 1000,
        ends_at: NOW + ends * 1000,
        updated_at: NOW,
        created_by: String::new(),
        comment: String::new(),
    }
}

#[test]
fn silences() {
    for path in files("silence") {
        let file: SilenceFile = load(&path);
        for (i, c) in file.matches.iter().enumerate() {
            let m = silence_matchers(&c.silence).expect("valid matchers");
            let s = silence_at(m, -60, 60);
            let mut all = Silences::new();
            all.restore(s.clone()).expect("valid silence");
            let ls = labels(&c.labels);
            assert_eq!(
                s.matches(&ls),
                c.matches,
                "{}: matches[{i}]",
                path.display()
            );
            assert_eq!(
                !all.mutes(&ls, NOW).is_empty(),
                c.matches,
                "{}: mutes[{i}]",
                path.display()
            );
        }
        for (i, c) in file.validate.iter().enumerate() {
            let ctx = format!("{}: validate[{i}]", path.display());
            let got = silence_matchers(&c.matchers).and_then(|m| {
                let mut s = silence_at(m, c.starts_at, c.ends_at);
                if let Some(id) = &c.id {
                    s.id = id.clone();
                }
                for z in &c.zero {
                    match z.as_str() {
                        "starts_at" => s.starts_at = 0,
                        "ends_at" => s.ends_at = 0,
                        "updated_at" => s.updated_at = 0,
                        other => panic!("{ctx}: zero {other}"),
                    }
                }
                s.validate().map_err(|e| e.to_string())
            });
            check_error(&ctx, got, &c.error, &c.error_prefix);
        }
        for (i, c) in file.can_update.iter().enumerate() {
            let a = silence_at(Matchers::default(), c.a.starts_at, c.a.ends_at);
            let b = silence_at(Matchers::default(), c.b.starts_at, c.b.ends_at);
            assert_eq!(
                can_update(&a, &b, NOW),
                c.ok,
                "{}: can_update[{i}]",
                path.display()
            );
        }
        for (i, c) in file.state.iter().enumerate() {
            let s = silence_at(Matchers::default(), c.starts_at, c.ends_at);
            assert_eq!(
                s.state(NOW).as_str(),
                c.state,
                "{}: state[{i}]",
                path.display()
            );
        }
    }
}

// ---------------------------------------------------------------- time intervals

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntervalFile {
    case: Vec<IntervalCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntervalCase {
    intervals: Option<toml::Value>,
    interval: Option<toml::Value>,
    #[serde(default)]
    contains: Vec<String>,
    #[serde(default)]
    excludes: Vec<String>,
    error: Option<String>,
    error_prefix: Option<String>,
}

fn instant(s: &str) -> jiff::Timestamp {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn time_intervals() {
    for path in files("timeinterval") {
        let file: IntervalFile = load(&path);
        for (i, c) in file.case.iter().enumerate() {
            let ctx = format!("{} case {i}", path.display());
            let parsed: Result<Vec<TimeInterval>, String> = match (&c.intervals, &c.interval) {
                (Some(list), None) => Vec::<TimeInterval>::deserialize(list.clone()),
                (None, Some(one)) => TimeInterval::deserialize(one.clone()).map(|t| vec![t]),
                _ => panic!("{ctx}: need `intervals` or `interval`"),
            }
            .map_err(|e| e.message().to_owned());
            let list = match parsed {
                Ok(list) => {
                    check_error(&ctx, Ok(()), &c.error, &c.error_prefix);
                    list
                }
                Err(e) => {
                    check_error(&ctx, Err(e), &c.error, &c.error_prefix);
                    continue;
                }
            };
            for t in &c.contains {
                assert!(any_contains(&list, instant(t)), "{ctx}: should contain {t}");
            }
            for t in &c.excludes {
                assert!(
                    !any_contains(&list, instant(t)),
                    "{ctx}: should exclude {t}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------- dispatch

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchFile {
    config: AlertingConfig,
    /// RFC 3339 instant of second 0.
    start: Option<String>,
    step: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    /// Seconds after start.
    at: i64,
    #[serde(default)]
    alerts: Vec<StepAlert>,
    #[serde(default)]
    silences: Vec<StepSilence>,
    #[serde(default)]
    expect: Vec<Expect>,
    /// Seconds after start of the next flush; -1 for none.
    next_flush: Option<i64>,
    /// Number of aggregation groups after the step.
    groups: Option<usize>,
    /// The groups as the API lists them, after the step.
    alert_groups: Option<Vec<GroupExpect>>,
    /// Receivers per alert (label set as Prometheus prints it).
    alert_receivers: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct GroupExpect {
    receiver: String,
    labels: String,
    alerts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepAlert {
    labels: BTreeMap<String, String>,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepSilence {
    matchers: Vec<String>,
    starts_at: i64,
    ends_at: i64,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Expect {
    receiver: String,
    #[serde(default)]
    integration: usize,
    group_key: String,
    #[serde(default)]
    firing: Vec<String>,
    #[serde(default)]
    resolved: Vec<String>,
}

fn expect_of(n: &Notification) -> Expect {
    let (resolved, firing): (Vec<&Alert>, Vec<&Alert>) =
        n.alerts.iter().partition(|a| a.resolved_at(n.at));
    Expect {
        receiver: n.receiver.clone(),
        integration: n.integration,
        group_key: n.group_key.clone(),
        firing: firing.iter().map(|a| label_set_string(&a.labels)).collect(),
        resolved: resolved
            .iter()
            .map(|a| label_set_string(&a.labels))
            .collect(),
    }
}

#[test]
fn dispatch() {
    for path in files("dispatch") {
        let file: DispatchFile = load(&path);
        let t0 = file
            .start
            .as_deref()
            .map_or(NOW, |s| instant(s).as_millisecond());
        let mut d =
            Dispatcher::new(&file.config).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut silences = Silences::new();
        let mut next_id = 0;
        for step in &file.step {
            let ctx = format!("{}: step at {}s", path.display(), step.at);
            let now = t0 + step.at * 1000;
            for s in &step.silences {
                let ms: Vec<_> = s
                    .matchers
                    .iter()
                    .flat_map(|m| parse_matchers(m).expect("matchers"))
                    .collect();
                let sil = Silence {
                    id: String::new(),
                    matchers: Matchers(ms),
                    starts_at: t0 + s.starts_at * 1000,
                    ends_at: t0 + s.ends_at * 1000,
                    updated_at: 0,
                    created_by: "test".into(),
                    comment: String::new(),
                };
                silences
                    .set(sil, now, || {
                        next_id += 1;
                        format!("s{next_id}")
                    })
                    .unwrap_or_else(|e| panic!("{ctx}: {e}"));
            }
            for a in &step.alerts {
                d.insert(
                    Alert {
                        labels: labels(&a.labels),
                        annotations: Labels::empty(),
                        starts_at: t0 + a.starts_at.unwrap_or(step.at) * 1000,
                        ends_at: a.ends_at.map(|e| t0 + e * 1000),
                        generator_url: String::new(),
                    },
                    now,
                );
            }
            let got: Vec<Expect> = d.flush_due(now, &silences).iter().map(expect_of).collect();
            assert_eq!(got, step.expect, "{ctx}");
            if let Some(nf) = step.next_flush {
                let want = (nf >= 0).then_some(t0 + nf * 1000);
                assert_eq!(d.next_flush(), want, "{ctx}: next flush");
            }
            if step.alert_groups.is_some() || step.alert_receivers.is_some() {
                let (groups, receivers) = d.alert_groups(|_| true);
                if let Some(want) = &step.alert_groups {
                    let got: Vec<GroupExpect> = groups
                        .iter()
                        .map(|g| GroupExpect {
                            receiver: g.receiver.clone(),
                            labels: label_set_string(&g.labels),
                            alerts: g
                                .alerts
                                .iter()
                                .map(|a| label_set_string(&a.alert.labels))
                                .collect(),
                        })
                        .collect();
                    assert_eq!(&got, want, "{ctx}: alert groups");
                }
                if let Some(want) = &step.alert_receivers {
                    let got: BTreeMap<String, Vec<String>> = receivers
                        .iter()
                        .map(|(l, r)| (label_set_string(l), r.clone()))
                        .collect();
                    assert_eq!(&got, want, "{ctx}: receivers per alert");
                }
            }
            if let Some(n) = step.groups {
                assert_eq!(d.groups().count(), n, "{ctx}: groups");
            }
        }
    }
}
