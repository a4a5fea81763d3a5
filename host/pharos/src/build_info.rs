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

/// The `--version` text, put together at compile time (`concat!` takes
/// literals only, hence `env!` again).
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (revision: ",
    env!("PHAROS_REVISION"),
    ", branch: ",
    env!("PHAROS_BRANCH"),
    ")\n  build user: ",
    env!("PHAROS_BUILD_USER"),
    "\n  build date: ",
    env!("PHAROS_BUILD_DATE"),
    "\n  rustc:      ",
    env!("PHAROS_RUSTC_VERSION"),
);
