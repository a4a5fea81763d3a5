//! The packaged configuration and the systemd unit (`packaging/`): the
//! configuration files the .deb, the Docker image and docker-compose.yml
//! install pass `pharos check config` laid out as they are installed
//! (`/etc/pharos/pharos.toml` beside `rules/pharos.yml`), and the unit
//! passes `systemd-analyze verify` and keeps its hardening
//! (`systemd-analyze security --offline`), where systemd's tools exist.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};
use pharos_tests::pharos::pharos_bin;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `dir/pharos.toml` (a copy of `config`) and `dir/rules/pharos.yml`
/// (Pharos' own alert rules), as the .deb and the image install them.
fn lay_out_etc(dir: &Path, config: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir.join("rules"))?;
    std::fs::copy(
        repo().join("monitoring/alerts.yml"),
        dir.join("rules/pharos.yml"),
    )?;
    let dest = dir.join("pharos.toml");
    std::fs::copy(config, &dest).with_context(|| config.display().to_string())?;
    Ok(dest)
}

#[test]
fn packaged_configs_pass_check_config() -> Result<()> {
    for config in ["packaging/pharos.toml", "packaging/compose/pharos.toml"] {
        let dir = tempfile::tempdir()?;
        let installed = lay_out_etc(dir.path(), &repo().join(config))?;
        // In the temporary directory: the compose file leaves the data
        // directory to --data, so the check's plugin cache would land in
        // ./data of the working directory.
        let out = Command::new(pharos_bin()?)
            .args(["check", "config"])
            .arg(&installed)
            .current_dir(dir.path())
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .output()
            .context("running pharos check config")?;
        ensure!(
            out.status.success(),
            "pharos check config {config}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn systemd_analyze() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("systemd-analyze"))
        .find(|p| p.is_file())
}

/// The unit with `ExecStart` pointing at the binary under test (verify
/// wants the program to exist).
fn unit_under_test(dir: &Path) -> Result<PathBuf> {
    let unit = std::fs::read_to_string(repo().join("packaging/systemd/pharos.service"))?;
    ensure!(unit.contains("ExecStart=/usr/bin/pharos run --config /etc/pharos/pharos.toml"));
    let bin = pharos_bin()?;
    let unit = unit.replace(
        "ExecStart=/usr/bin/pharos",
        &format!("ExecStart={}", bin.display()),
    );
    let path = dir.join("pharos.service");
    std::fs::write(&path, unit)?;
    Ok(path)
}

#[test]
fn systemd_unit_verifies_and_is_hardened() -> Result<()> {
    let Some(analyze) = systemd_analyze() else {
        eprintln!("skipped: no systemd-analyze on this machine");
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let unit = unit_under_test(dir.path())?;

    let out = Command::new(&analyze)
        .args(["verify", "--man=no"])
        .arg(&unit)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Only lines about this unit: verify also loads the units it refers to
    // (network-online.target), which a container may lack.
    let own: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("pharos.service"))
        .collect();
    ensure!(
        own.is_empty(),
        "systemd-analyze verify:\n{}",
        own.join("\n")
    );

    // The exposure score of `systemd-analyze security` (0 safest, 10
    // unprotected; the unit scores 1.2, "OK"): a hardening option lost
    // raises it.
    let out = Command::new(&analyze)
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let score: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for pharos.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .with_context(|| {
            format!(
                "no score in:\n{text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    ensure!(score <= 2.0, "exposure {score}:\n{text}");
    Ok(())
}
