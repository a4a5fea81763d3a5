//! Cross-checks the routing cases with the reference: when Alertmanager's
//! `amtool` (0.25, Debian's `prometheus-alertmanager`) is installed, every
//! `testdata/routing/*.toml` config is rendered as Alertmanager YAML and
//! `amtool config routes test` must print the receivers the case expects.
//! A missing amtool is installed by `tests/scripts/install-references.sh`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;

#[derive(Deserialize)]
struct RoutingFile {
    config: toml::Table,
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    labels: BTreeMap<String, String>,
    receivers: Vec<String>,
}

/// The `[alerting]` table as Alertmanager YAML: the same keys, receivers
/// without Pharos' `notifiers`, `resolve_timeout` under `global`.
fn to_alertmanager_yaml(mut config: toml::Table) -> String {
    if let Some(toml::Value::Array(receivers)) = config.get_mut("receivers") {
        for r in receivers {
            if let Some(t) = r.as_table_mut() {
                t.remove("notifiers");
            }
        }
    }
    if let Some(rt) = config.remove("resolve_timeout") {
        let mut global = toml::Table::new();
        global.insert("resolve_timeout".into(), rt);
        config.insert("global".into(), toml::Value::Table(global));
    }
    serde_yaml_ng::to_string(&config).expect("yaml")
}

#[test]
fn routing_cases_agree_with_amtool() {
    if Command::new("amtool").arg("--version").output().is_err() {
        // Installed by the project's script (Debian's package, as root).
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/scripts/install-references.sh"
        );
        let status = Command::new("bash").arg(script).arg("amtool").status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "amtool is missing and {script} could not install it"
        );
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/routing");
    let tmp = std::env::temp_dir().join(format!("pharos-alerting-amtool-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("routing testdata")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let file: RoutingFile =
            toml::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("toml");
        let yml = tmp.join("am.yml");
        std::fs::write(&yml, to_alertmanager_yaml(file.config)).expect("write");
        for c in &file.case {
            let out = Command::new("amtool")
                .arg("config")
                .arg("routes")
                .arg("test")
                .arg(format!("--config.file={}", yml.display()))
                .args(c.labels.iter().map(|(k, v)| format!("{k}={v}")))
                .output()
                .expect("amtool runs");
            let got = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            assert_eq!(
                got,
                c.receivers.join(","),
                "{}: {:?} (stderr: {})",
                path.display(),
                c.labels,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
