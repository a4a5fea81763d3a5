//! `testdata/amyaml/`: every `NAME.toml` is an `[alerting]` body;
//! `NAME.yml` is its Alertmanager rendering ([`to_alertmanager_yaml`]),
//! which must read back as an Alertmanager config with the same routing
//! (converted by [`convert_alertmanager`]). The system test
//! `tests/tests/alertmanager_convert.rs` has amtool itself read every
//! `NAME.yml`.
//!
//! `PHAROS_BLESS=1 cargo test -p pharos-alerting --test amyaml` rewrites
//! the `.yml` files (review the diff).

use std::path::{Path, PathBuf};

use pharos_alerting::amtool::routes_show;
use pharos_alerting::amyaml::to_alertmanager_yaml;
use pharos_alerting::config::AlertingConfig;
use pharos_alerting::convert::convert_alertmanager;
use pharos_alerting::route::RouteTree;

fn inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/amyaml");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no cases in {}", dir.display());
    out
}

#[test]
fn renderings_are_alertmanager_configs_with_the_same_routing() {
    let mut failures = Vec::new();
    for path in inputs() {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).expect("readable");
        let cfg: AlertingConfig = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        if cfg.route.is_some() {
            cfg.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let yaml = to_alertmanager_yaml(&cfg);
        let want_path = path.with_extension("yml");
        if std::env::var_os("PHAROS_BLESS").is_some() {
            std::fs::write(&want_path, &yaml).expect("write");
        }
        match std::fs::read_to_string(&want_path) {
            Ok(want) if want == yaml => {}
            Ok(want) => failures.push(format!(
                "{name}: rendering differs\n--- want\n{want}--- got\n{yaml}"
            )),
            Err(_) => failures.push(format!("{name}: no .yml; got\n{yaml}")),
        }
        // No secret survives.
        for secret in [
            "hunter2",
            "0123456789abcdef",
            "XYZ",
            "xoxb-1-2-3",
            "token=abc",
            "pw\n",
            "outlook.office.com",
        ] {
            if yaml.contains(secret) {
                failures.push(format!("{name}: {secret:?} is not masked\n{yaml}"));
            }
        }
        let again = match convert_alertmanager(&yaml) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{name}: does not read back: {e}\n{yaml}"));
                continue;
            }
        };
        let again = AlertingConfig::from_toml_str(&again.alerting_toml())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(route) = &cfg.route {
            let before = routes_show(&RouteTree::new(route));
            let after = RouteTree::from_config(&again).map(|t| routes_show(&t));
            if after.as_ref() != Ok(&before) {
                failures.push(format!("{name}: routing changed\n{before}\n{after:?}"));
            }
            let names = |c: &AlertingConfig| {
                c.receivers
                    .iter()
                    .map(|r| r.name.value.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(names(&cfg), names(&again), "{name}");
            assert_eq!(
                format!(
                    "{:?}",
                    cfg.time_intervals
                        .iter()
                        .map(|t| &t.time_intervals)
                        .collect::<Vec<_>>()
                ),
                format!(
                    "{:?}",
                    again
                        .time_intervals
                        .iter()
                        .map(|t| &t.time_intervals)
                        .collect::<Vec<_>>()
                ),
                "{name}"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
