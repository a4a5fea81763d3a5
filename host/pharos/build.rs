//! Stamps build information into the binary for `/api/v1/status/buildinfo`
//! and `--version`: git revision and branch, build user and date, rustc
//! version. Every value falls back to "unknown" when it cannot be found.
//!
//! When it reruns: on a change to this crate's own files or to the checked
//! out branch (git's `HEAD`), not on every commit. Watching the branch's ref
//! restamped, and so recompiled, `pharos` on each commit anywhere in the
//! repository. The price: a build after commits that did not touch
//! `host/pharos` keeps the revision of the last build that did (or, after
//! committing a change already built, the revision before it). Fresh
//! builds, as CI and releases make them, always stamp the exact revision.

use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

/// `YYYYMMDD-HH:MM:SS` in UTC, the format Prometheus prints.
fn build_date() -> String {
    jiff::Timestamp::now()
        .strftime("%Y%m%d-%H:%M:%S")
        .to_string()
}

fn main() {
    let unknown = || "unknown".to_owned();
    if let Some(git_dir) = run("git", &["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={git_dir}/HEAD");
    }
    for own in ["build.rs", "Cargo.toml", "src"] {
        println!("cargo:rerun-if-changed={own}");
    }
    let revision = run("git", &["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(unknown);
    let branch = run("git", &["rev-parse", "--abbrev-ref", "HEAD"]).unwrap_or_else(unknown);
    let user = std::env::var("USER")
        .ok()
        .or_else(|| run("id", &["-un"]))
        .unwrap_or_else(unknown);
    let host = run("hostname", &[]).unwrap_or_else(unknown);
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let rustc_version = run(&rustc, &["--version"]).unwrap_or_else(unknown);
    println!("cargo:rustc-env=PHAROS_REVISION={revision}");
    println!("cargo:rustc-env=PHAROS_BRANCH={branch}");
    println!("cargo:rustc-env=PHAROS_BUILD_USER={user}@{host}");
    println!("cargo:rustc-env=PHAROS_BUILD_DATE={}", build_date());
    println!("cargo:rustc-env=PHAROS_RUSTC_VERSION={rustc_version}");
}
