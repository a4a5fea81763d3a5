//! Embeds the web interface's built bundle (`web/ui/dist/`, committed; see
//! `web/ui/README.md`): writes `$OUT_DIR/bundle.rs`, a table of every file
//! under `dist/` (sorted by path) with its bytes `include_bytes!`d, and
//! reruns when anything under `dist/` changes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn main() {
    let manifest = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
    );
    let dist = manifest.join("../../web/ui/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    if let Err(e) = walk(&dist, &mut files) {
        panic!(
            "cannot read the web interface's bundle in {}: {e} (it is committed; rebuild it with `npm ci && npm run build` in web/ui)",
            dist.display()
        );
    }
    files.sort();
    let mut code = String::from("pub(crate) static FILES: &[(&str, &[u8])] = &[\n");
    for f in &files {
        let rel = f
            .strip_prefix(&dist)
            .expect("walked from dist")
            .to_str()
            .expect("bundle file names are UTF-8")
            .replace('\\', "/");
        let abs = f.canonicalize().expect("bundle file exists");
        writeln!(
            code,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("bundle.rs"), code).expect("writing bundle.rs");
}
