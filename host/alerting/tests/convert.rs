//! `testdata/convert/`: every `NAME.yml` is an Alertmanager 0.25 config;
//! `NAME.toml` is what `pharos convert alertmanager` must print for it
//! (and `NAME.warnings` the warnings, one a line, when there are any), or
//! `NAME.err` the error it must give. A converted config must load: its
//! `[alerting]` through [`AlertingConfig::from_toml_str`] (which
//! validates), and rendered back as Alertmanager YAML
//! ([`to_alertmanager_yaml`]) it must convert again to the same route
//! tree, inhibition rules and time intervals.
//!
//! `PHAROS_BLESS=1 cargo test -p pharos-alerting --test convert` rewrites
//! the expected files from what the code prints (review the diff).

use std::path::{Path, PathBuf};

use pharos_alerting::amtool::routes_show;
use pharos_alerting::amyaml::to_alertmanager_yaml;
use pharos_alerting::config::AlertingConfig;
use pharos_alerting::convert::{Conversion, convert_alertmanager};
use pharos_alerting::route::RouteTree;

fn inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/convert");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no cases in {}", dir.display());
    out
}

fn bless() -> bool {
    std::env::var_os("PHAROS_BLESS").is_some()
}

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

/// The `[alerting]` table of a whole `pharos.toml` fragment, loaded.
fn load_fragment(name: &str, text: &str) -> AlertingConfig {
    let doc: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let alerting = doc
        .get("alerting")
        .and_then(toml::Value::as_table)
        .unwrap_or_else(|| panic!("{name}: no [alerting]"));
    let body = toml::to_string(alerting).unwrap_or_else(|e| panic!("{name}: {e}"));
    let cfg = AlertingConfig::from_toml_str(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
    cfg.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
    cfg
}

/// What must survive a round trip through Alertmanager YAML.
fn shape(cfg: &AlertingConfig) -> (String, Vec<String>, String, String) {
    let tree = RouteTree::from_config(cfg).expect("tree");
    let keys = tree.walk().map(|(_, r)| r.key.clone()).collect();
    let inhibit = format!(
        "{:?}",
        cfg.inhibit_rules
            .iter()
            .map(|r| {
                let m = |l: &[pharos_alerting::Located<pharos_alerting::config::MatcherList>]| {
                    l.iter()
                        .flat_map(|l| l.matchers.iter().map(|m| m.to_string()))
                        .collect::<Vec<_>>()
                };
                (
                    m(&r.source_matchers),
                    m(&r.target_matchers),
                    r.equal.iter().map(|e| e.value.clone()).collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>()
    );
    let intervals = format!(
        "{:?}",
        cfg.time_intervals
            .iter()
            .map(|t| (t.name.value.clone(), t.time_intervals.clone()))
            .collect::<Vec<_>>()
    );
    (routes_show(&tree), keys, inhibit, intervals)
}

fn check_success(path: &Path, c: &Conversion, failures: &mut Vec<String>) {
    let name = path.display().to_string();
    let text = c.to_toml();
    let toml_path = path.with_extension("toml");
    let warn_path = path.with_extension("warnings");
    let warnings = c
        .warnings
        .iter()
        .map(|w| format!("{w}\n"))
        .collect::<String>();
    if bless() {
        std::fs::write(&toml_path, &text).expect("write");
        if warnings.is_empty() {
            let _ = std::fs::remove_file(&warn_path);
        } else {
            std::fs::write(&warn_path, &warnings).expect("write");
        }
        let _ = std::fs::remove_file(path.with_extension("err"));
    }
    match read(&toml_path) {
        Some(want) if want == text => {}
        Some(want) => failures.push(format!(
            "{name}: output differs\n--- want\n{want}\n--- got\n{text}"
        )),
        None => failures.push(format!("{name}: converted, but there is no .toml:\n{text}")),
    }
    let want_warnings = read(&warn_path).unwrap_or_default();
    if want_warnings != warnings {
        failures.push(format!(
            "{name}: warnings differ\n--- want\n{want_warnings}--- got\n{warnings}"
        ));
    }
    // The output loads, as a pharos.toml fragment and as the bare table.
    let cfg = load_fragment(&name, &text);
    let body = AlertingConfig::from_toml_str(&c.alerting_toml())
        .unwrap_or_else(|e| panic!("{name}: alerting_toml: {e}"));
    assert_eq!(shape(&cfg), shape(&body), "{name}");
    // Back to Alertmanager and converted again: the same routing.
    let yaml = to_alertmanager_yaml(&cfg);
    match convert_alertmanager(&yaml) {
        Ok(again) => {
            let again = load_fragment(&format!("{name} (round trip)"), &again.to_toml());
            if shape(&again) != shape(&cfg) {
                failures.push(format!(
                    "{name}: round trip changed the routing\n{yaml}\n{:#?}\n{:#?}",
                    shape(&cfg),
                    shape(&again)
                ));
            }
        }
        Err(e) => failures.push(format!(
            "{name}: the Alertmanager rendering does not convert: {e}\n{yaml}"
        )),
    }
}

#[test]
fn alertmanager_configs_convert_as_expected() {
    let mut failures = Vec::new();
    let (mut ok, mut refused) = (0, 0);
    for path in inputs() {
        let name = path.display().to_string();
        let yaml = std::fs::read_to_string(&path).expect("readable");
        let err_path = path.with_extension("err");
        match convert_alertmanager(&yaml) {
            Ok(c) => {
                ok += 1;
                if err_path.exists() && !bless() {
                    failures.push(format!("{name}: converted, want an error"));
                    continue;
                }
                check_success(&path, &c, &mut failures);
            }
            Err(e) => {
                refused += 1;
                let got = format!("{e}\n");
                if bless() {
                    std::fs::write(&err_path, &got).expect("write");
                    let _ = std::fs::remove_file(path.with_extension("toml"));
                    let _ = std::fs::remove_file(path.with_extension("warnings"));
                }
                match read(&err_path) {
                    Some(want) if want == got => {}
                    Some(want) => failures.push(format!(
                        "{name}: error differs\n--- want\n{want}--- got\n{got}"
                    )),
                    None => failures.push(format!("{name}: unexpected error: {got}")),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        ok >= 10 && refused >= 10,
        "{ok} converted, {refused} refused"
    );
}
