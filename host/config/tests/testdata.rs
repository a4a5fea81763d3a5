//! File-driven tests:
//! - `testdata/good/*.toml` must load. Where `<name>.effective` exists, the
//!   TOML rendering must equal it; where `<name>.yml` exists, the
//!   Prometheus YAML rendering must equal it. A rendering without masked
//!   secrets must load again and render the same.
//! - `testdata/bad/*.toml` must be refused with exactly the text in
//!   `<name>.err` (the file is loaded under its bare name).

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use pharos_config::{Config, Secret};

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(sub)
}

fn tomls(sub: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn check_good(path: &Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let config = Config::from_toml(&text, &name(path)).map_err(|e| e.to_string())?;
    let rendered = config.to_toml().map_err(|e| format!("to_toml: {e}"))?;
    let mut checks = 1;
    let effective = path.with_extension("effective");
    if effective.exists() {
        checks += 1;
        let want = std::fs::read_to_string(&effective).unwrap();
        if rendered != want {
            return Err(format!(
                "to_toml differs from {}:\n{rendered}",
                name(&effective)
            ));
        }
    }
    let yml = path.with_extension("yml");
    if yml.exists() {
        checks += 1;
        let want = std::fs::read_to_string(&yml).unwrap();
        let got = config.to_prometheus_yaml();
        if got != want {
            return Err(format!(
                "to_prometheus_yaml differs from {}:\n{got}",
                name(&yml)
            ));
        }
    }
    if !rendered.contains(Secret::MASK) {
        checks += 1;
        let again = Config::from_toml(&rendered, "rendered.toml")
            .map_err(|e| format!("the rendering does not load: {e}\n{rendered}"))?;
        let twice = again.to_toml().map_err(|e| e.to_string())?;
        if twice != rendered {
            return Err(format!("rendering twice differs:\n{twice}"));
        }
    }
    Ok(checks)
}

#[test]
fn good_configs_load_and_render() {
    let mut failures = Vec::new();
    let mut checks = 0;
    let files = tomls("good");
    for path in &files {
        match check_good(path) {
            Ok(n) => checks += n,
            Err(e) => failures.push(format!("{}: {e}", name(path))),
        }
    }
    assert!(
        files.len() >= 5 && checks >= 15,
        "{} files, {checks} checks",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn bad_configs_fail_with_their_error() {
    let mut failures = Vec::new();
    let files = tomls("bad");
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let want = match std::fs::read_to_string(path.with_extension("err")) {
            Ok(w) => w.trim_end().to_owned(),
            Err(_) => {
                failures.push(format!("{}: no .err file", name(path)));
                continue;
            }
        };
        match Config::from_toml(&text, &name(path)) {
            Ok(_) => failures.push(format!("{}: loaded, want {want:?}", name(path))),
            Err(e) if e.to_string() == want => {}
            Err(e) => failures.push(format!("{}:\n  got  {e}\n  want {want}", name(path))),
        }
    }
    assert!(files.len() >= 40, "only {} bad configs", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
