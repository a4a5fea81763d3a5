//! Runs the table tests in `testdata/*.toml`. Each file holds `[[case]]`
//! tables of one of two kinds:
//! - `input`, `configs` and `output` (or `dropped = true`): the configs are
//!   applied to the input label set, through both `process` and
//!   `process_builder`;
//! - `config` and optionally `error`: the config must be refused with that
//!   exact text, or, without `error`, accepted.
//!
//! Every accepted config must also validate in its `with_defaults()` form.
//! `differs_from_prometheus` documents a case where Prometheus 2.42 answers
//! otherwise; the test ignores it.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pharos_model::Labels;
use pharos_relabel::{Relabel, RelabelConfig, process, process_builder};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[allow(dead_code)]
    differs_from_prometheus: Option<String>,
    input: Option<BTreeMap<String, String>>,
    configs: Option<Vec<toml::Value>>,
    output: Option<BTreeMap<String, String>>,
    dropped: Option<bool>,
    config: Option<toml::Value>,
    error: Option<String>,
}

fn compile(v: &toml::Value) -> Result<Relabel, String> {
    let c: RelabelConfig = v
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_owned())?;
    let compiled = c.compile().map_err(|e| e.to_string())?;
    // The form a rendered config prints must load again.
    if let Err(e) = c.with_defaults().compile() {
        return Err(format!("with_defaults() does not validate: {e}"));
    }
    Ok(compiled)
}

fn run(case: &Case) -> Result<(), String> {
    if let Some(config) = &case.config {
        return match (compile(config), &case.error) {
            (Err(got), Some(want)) if &got == want => Ok(()),
            (Err(got), Some(want)) => Err(format!("error {got:?}, want {want:?}")),
            (Err(got), None) => Err(format!("refused with {got:?}, want accepted")),
            (Ok(_), Some(want)) => Err(format!("accepted, want error {want:?}")),
            (Ok(_), None) => Ok(()),
        };
    }
    let input = Labels::from_pairs(case.input.clone().ok_or("no input")?);
    let configs = case
        .configs
        .as_ref()
        .ok_or("no configs")?
        .iter()
        .enumerate()
        .map(|(i, c)| compile(c).map_err(|e| format!("configs[{i}]: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let want = match (&case.output, case.dropped) {
        (Some(o), None) => Some(Labels::from_pairs(o.clone())),
        (None, Some(true)) => None,
        _ => return Err("needs exactly one of output or dropped = true".into()),
    };
    let got = process(&input, &configs);
    if got != want {
        return Err(format!("process: got {got:?}, want {want:?}"));
    }
    let mut lb = input.to_builder();
    let kept = process_builder(&mut lb, &configs);
    let got = kept.then(|| lb.build());
    if got != want {
        return Err(format!("process_builder: got {got:?}, want {want:?}"));
    }
    Ok(())
}

fn files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn testdata() {
    let mut failures = Vec::new();
    let mut count = 0;
    for path in files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let file: File =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for case in &file.case {
            count += 1;
            if let Err(e) = run(case) {
                let name = path.file_name().unwrap().to_string_lossy();
                failures.push(format!("{name}: {}: {e}", case.name));
            }
        }
    }
    assert!(count >= 100, "only {count} cases found");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
