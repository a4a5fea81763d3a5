//! What the conformance tests share: where Prometheus' scripts are.

use std::path::{Path, PathBuf};

/// `$PHAROS_SHARED_DIR/conformance/promql`, or
/// `../../../shared/conformance/promql` from this crate.
pub fn scripts_dir() -> PathBuf {
    match std::env::var_os("PHAROS_SHARED_DIR") {
        Some(d) => Path::new(&d).join("conformance/promql"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/promql"),
    }
}
