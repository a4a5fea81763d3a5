//! What was built: stamped by `build.rs`.

/// The crate version (`CARGO_PKG_VERSION`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Short git commit hash, or "unknown".
pub const REVISION: &str = env!("PHAROS_REVISION");
/// Git branch, or "unknown".
pub const BRANCH: &str = env!("PHAROS_BRANCH");
/// `user@host` that built the binary.
pub const BUILD_USER: &str = env!("PHAROS_BUILD_USER");
/// `YYYYMMDD-HH:MM:SS` (UTC), as Prometheus prints it.
pub const BUILD_DATE: &str = env!("PHAROS_BUILD_DATE");
/// `rustc --version` of the compiler (reported where Prometheus has `goVersion`).
pub const RUSTC_VERSION: &str = env!("PHAROS_RUSTC_VERSION");

/// The `--version` text.
pub fn long_version() -> String {
    format!(
        "{VERSION} (revision: {REVISION}, branch: {BRANCH})\n  build user: {BUILD_USER}\n  build date: {BUILD_DATE}\n  rustc:      {RUSTC_VERSION}"
    )
}
