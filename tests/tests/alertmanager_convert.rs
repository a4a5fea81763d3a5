//! Moving from Alertmanager 0.25 in one step, checked against the real one
//! (amtool from Debian's `prometheus-alertmanager`, installed on first use
//! by `tests/scripts/install-references.sh`). The cases are the files of
//! `host/alerting/testdata/convert/` (see its README):
//!
//! - every file that converts: `pharos convert alertmanager` prints the
//!   expected TOML, and `pharos check config` accepts it (the notifier
//!   plugins check their configs, the grants parse); `pharos check routes
//!   --tree` prints what `amtool config routes show` prints for the
//!   original; for every label set (`routes.toml`, plus sets made from the
//!   config's matchers: the labels leading to each route, and each of those
//!   with one label left out) `pharos check routes [--tree]` on the
//!   converted config prints byte for byte what `amtool config routes test
//!   [--tree]` prints on the original; and the converted config rendered
//!   back as Alertmanager YAML (`to_alertmanager_yaml`, what
//!   `/api/v2/status` serves amtool) passes `amtool check-config` and
//!   routes every label set as the original does;
//! - every file that does not: `pharos convert alertmanager` exits 1 with
//!   the expected error;
//! - every rendering of `host/alerting/testdata/amyaml/`: `amtool
//!   check-config` and `amtool config routes` accept it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use pharos_alerting::amyaml::to_alertmanager_yaml;
use pharos_alerting::config::AlertingConfig;
use pharos_alerting::route::RouteTree;
use pharos_model::MatchOp;
use pharos_tests::pharos::pharos_bin;
use pharos_tests::references::require;

fn testdata(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../host/alerting/testdata")
        .join(dir)
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Runs a command; its stdout, stderr and whether it succeeded.
fn run(cmd: &mut Command) -> Result<(String, String, bool)> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    Ok((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    ))
}

/// A label value as an amtool argument: always quoted, so both sides
/// parse the same text.
fn arg(name: &str, value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("{name}=\"{escaped}\"")
}

/// Literal values a regex matcher accepts: the plain alternatives of the
/// pattern, anchors and groups stripped (`^(?:prod|staging)$`).
fn alternatives(pattern: &str) -> Vec<String> {
    let mut p = pattern;
    loop {
        let before = p;
        p = p
            .strip_prefix("^(?:")
            .and_then(|x| x.strip_suffix(")$"))
            .unwrap_or(p);
        p = p.strip_prefix('^').unwrap_or(p);
        p = p.strip_suffix('$').unwrap_or(p);
        p = p
            .strip_prefix('(')
            .and_then(|x| x.strip_suffix(')'))
            .unwrap_or(p);
        if p == before {
            break;
        }
    }
    p.split('|')
        .filter(|a| {
            !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-:/@ ".contains(c))
        })
        .map(str::to_owned)
        .collect()
}

/// Label sets made from the tree: for each route, the labels that satisfy
/// the matchers on its path, and that set with each label left out.
fn generated(tree: &RouteTree) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (id, _) in tree.walk() {
        let mut labels = BTreeMap::new();
        let mut cur = Some(id);
        while let Some(r) = cur.and_then(|c| tree.get(c)) {
            for m in r.matchers.iter() {
                let value = match m.op() {
                    MatchOp::Equal => Some(m.value().to_owned()),
                    MatchOp::Regex => alternatives(m.value()).into_iter().next(),
                    MatchOp::NotEqual | MatchOp::NotRegex => None,
                };
                if let Some(v) = value {
                    labels.entry(m.name().to_owned()).or_insert(v);
                }
            }
            cur = r.parent;
        }
        let full: Vec<String> = labels.iter().map(|(k, v)| arg(k, v)).collect();
        for skip in 0..full.len() {
            let mut fewer = full.clone();
            fewer.remove(skip);
            out.push(fewer);
        }
        out.push(full);
    }
    out
}

fn explicit_sets() -> Result<BTreeMap<String, Vec<Vec<String>>>> {
    let path = testdata("convert").join("routes.toml");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let doc: toml::Table = toml::from_str(&text)?;
    let mut out: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for case in doc
        .get("case")
        .and_then(toml::Value::as_array)
        .context("routes.toml: no [[case]]")?
    {
        let config = case
            .get("config")
            .and_then(toml::Value::as_str)
            .context("routes.toml: a case without config")?;
        let sets = case
            .get("labels")
            .and_then(toml::Value::as_array)
            .context("routes.toml: a case without labels")?;
        for set in sets {
            let set = set
                .as_array()
                .context("routes.toml: labels is a list of lists")?
                .iter()
                .map(|l| l.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .context("routes.toml: labels are strings")?;
            out.entry(config.to_owned()).or_default().push(set);
        }
    }
    Ok(out)
}

/// Tallies of one comparison.
#[derive(Default)]
struct Tally {
    agree: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, what: &str, want: &str, got: &str) {
        if want == got {
            self.agree += 1;
        } else {
            self.failures
                .push(format!("{what}\n--- amtool\n{want}--- pharos\n{got}"));
        }
    }
}

#[test]
fn converted_configs_route_as_alertmanager_does() -> Result<()> {
    let amtool = require("amtool")?;
    let pharos = pharos_bin()?;
    let dir = testdata("convert");
    let tmp = tempfile::tempdir()?;
    let explicit = explicit_sets()?;
    let mut tally = Tally::default();
    let (mut converted, mut refused, mut label_sets) = (0, 0, 0);
    for yml in files(&dir, "yml") {
        let name = yml
            .file_name()
            .and_then(|n| n.to_str())
            .context("file name")?
            .to_owned();
        let (out, err, ok) = run(Command::new(&pharos)
            .current_dir(tmp.path())
            .args(["convert", "alertmanager"])
            .arg(&yml))?;
        if let Ok(want_err) = std::fs::read_to_string(yml.with_extension("err")) {
            refused += 1;
            if ok || !err.contains(want_err.trim_end()) {
                tally.failures.push(format!(
                    "{name}: want exit 1 with\n{want_err}got ok={ok}\n{err}"
                ));
            }
            continue;
        }
        converted += 1;
        let want = std::fs::read_to_string(yml.with_extension("toml"))
            .with_context(|| format!("{name}: no .toml"))?;
        tally.check(&format!("{name}: convert output"), &want, &out);
        let toml_path = tmp.path().join(format!("{name}.toml"));
        std::fs::write(&toml_path, &out)?;

        // The whole fragment is a pharos.toml that Pharos accepts, plugin
        // configs and grants included.
        let (cout, cerr, cok) = run(Command::new(&pharos)
            .current_dir(tmp.path())
            .args(["check", "config"])
            .arg(&toml_path))?;
        if !cok {
            tally.failures.push(format!(
                "{name}: pharos check config refuses the conversion\n{cout}{cerr}"
            ));
        }

        // Rendered back for /api/v2/status: amtool loads it.
        let doc: toml::Table = toml::from_str(&out)?;
        let body = toml::to_string(doc.get("alerting").context("no [alerting]")?)?;
        let cfg =
            AlertingConfig::from_toml_str(&body).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        let rendered = tmp.path().join(format!("{name}.rendered.yml"));
        std::fs::write(&rendered, to_alertmanager_yaml(&cfg))?;
        let (rout, rerr, rok) = run(Command::new(&amtool).arg("check-config").arg(&rendered))?;
        if !rok {
            tally.failures.push(format!(
                "{name}: amtool check-config refuses the rendering\n{rout}{rerr}"
            ));
        }

        // The whole tree.
        let am_file = format!("--config.file={}", yml.display());
        let re_file = format!("--config.file={}", rendered.display());
        let (am_show, _, _) =
            run(Command::new(&amtool).args(["config", "routes", "show", &am_file]))?;
        let (re_show, _, _) =
            run(Command::new(&amtool).args(["config", "routes", "show", &re_file]))?;
        let (ph_show, ph_err, _) = run(Command::new(&pharos)
            .args(["check", "routes", "--tree", "--config"])
            .arg(&toml_path))?;
        tally.check(
            &format!("{name}: routes show"),
            &am_show,
            &format!("{ph_show}{ph_err}"),
        );
        tally.check(
            &format!("{name}: routes show of the rendering"),
            &am_show,
            &re_show,
        );

        // Label sets.
        let tree = RouteTree::from_config(&cfg).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut sets = explicit.get(&name).cloned().unwrap_or_default();
        sets.extend(generated(&tree));
        sets.sort();
        sets.dedup();
        for labels in &sets {
            label_sets += 1;
            for tree_flag in [false, true] {
                if tree_flag && labels.is_empty() {
                    // `pharos check routes --tree` without labels is
                    // `amtool config routes show`, compared above.
                    continue;
                }
                let mut am = Command::new(&amtool);
                am.args(["config", "routes", "test", &am_file]);
                let mut ph = Command::new(&pharos);
                ph.args(["check", "routes", "--config"]).arg(&toml_path);
                if tree_flag {
                    am.arg("--tree");
                    ph.arg("--tree");
                }
                // `--` so a label is never read as a flag.
                am.arg("--").args(labels);
                ph.arg("--").args(labels);
                let (am_out, am_err, am_ok) = run(&mut am)?;
                let (ph_out, ph_err, ph_ok) = run(&mut ph)?;
                let what = format!(
                    "{name}: routes test{} {labels:?}",
                    if tree_flag { " --tree" } else { "" }
                );
                if !am_ok {
                    tally
                        .failures
                        .push(format!("{what}: amtool fails: {am_err}"));
                    continue;
                }
                if !ph_ok {
                    tally
                        .failures
                        .push(format!("{what}: pharos fails: {ph_err}"));
                    continue;
                }
                tally.check(&what, &am_out, &ph_out);
            }
            let (re_out, _, _) = run(Command::new(&amtool)
                .args(["config", "routes", "test", &re_file, "--"])
                .args(labels))?;
            let (am_out, _, _) = run(Command::new(&amtool)
                .args(["config", "routes", "test", &am_file, "--"])
                .args(labels))?;
            tally.check(
                &format!("{name}: rendering routes {labels:?}"),
                &am_out,
                &re_out,
            );
        }
    }

    // The renderings of Pharos-only configs load in amtool.
    let mut renderings = 0;
    for yml in files(&testdata("amyaml"), "yml") {
        renderings += 1;
        for args in [
            vec!["check-config".to_owned(), yml.display().to_string()],
            vec![
                "config".to_owned(),
                "routes".to_owned(),
                format!("--config.file={}", yml.display()),
            ],
        ] {
            let (out, err, ok) = run(Command::new(&amtool).args(&args))?;
            if !ok {
                tally.failures.push(format!(
                    "{}: amtool {args:?} fails\n{out}{err}",
                    yml.display()
                ));
            }
        }
    }

    eprintln!(
        "{converted} configs converted, {refused} refused, {label_sets} label sets, {renderings} renderings; {} comparisons agree with amtool, {} differ",
        tally.agree,
        tally.failures.len()
    );
    if !tally.failures.is_empty() {
        bail!("{}", tally.failures.join("\n\n"));
    }
    if converted < 8 || refused < 8 || label_sets < 50 {
        bail!("too few cases: {converted} converted, {refused} refused, {label_sets} label sets");
    }
    Ok(())
}
