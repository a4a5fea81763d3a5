//! Scaffolding a new plugin crate from the SDK's template
//! (`sdk/template/`, embedded at build time): what `pharos plugin new NAME
//! --kind …` writes. The crate builds with `cargo build --release --target
//! wasm32-wasip2` into a component of the chosen kind, as Spin's
//! `templates/http-rust` does for Spin.

use crate::types::PluginKind;
use std::path::{Path, PathBuf};

const CARGO_TOML: &str = include_str!("../../../sdk/template/Cargo.toml.tmpl");
const TOOLCHAIN: &str = include_str!("../../../sdk/template/rust-toolchain.toml");
const GITIGNORE: &str = include_str!("../../../sdk/template/gitignore");
const README: &str = include_str!("../../../sdk/template/README.md.tmpl");
const DISCOVERY: &str = include_str!("../../../sdk/template/discovery.rs.tmpl");
const EXPORTER: &str = include_str!("../../../sdk/template/exporter.rs.tmpl");
const NOTIFIER: &str = include_str!("../../../sdk/template/notifier.rs.tmpl");

/// Where the new crate gets `pharos-sdk` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkSource {
    /// A local checkout of the SDK (the `sdk/` folder of Pharos' sources).
    Path(PathBuf),
    /// A registry version requirement, e.g. `0.1`.
    Version(String),
}

impl SdkSource {
    fn dependency(&self) -> String {
        match self {
            SdkSource::Path(p) => format!("{{ path = {} }}", toml_string(&p.display().to_string())),
            SdkSource::Version(v) => toml_string(v),
        }
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Why a crate could not be scaffolded.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The name is not `[a-z][a-z0-9-]*` (at most 64 characters).
    #[error(
        "plugin name {0:?} is not valid: use lower-case letters, digits and '-', starting with a letter"
    )]
    InvalidName(String),
    /// The directory exists and is not empty.
    #[error("{0} exists and is not empty")]
    NotEmpty(PathBuf),
    /// `cargo build` of the crate failed.
    #[error("cargo build in {dir} failed ({status}):\n{stderr}")]
    Build {
        /// The crate's directory.
        dir: PathBuf,
        /// cargo's exit status.
        status: std::process::ExitStatus,
        /// What cargo printed.
        stderr: String,
    },
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn valid_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

fn type_name(name: &str) -> String {
    name.split('-')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn fill(template: &str, name: &str, sdk: &SdkSource) -> String {
    template
        .replace("{{name}}", name)
        .replace("{{label_name}}", &name.replace('-', "_"))
        .replace("{{type_name}}", &type_name(name))
        .replace("{{sdk}}", &sdk.dependency())
}

/// Writes a new plugin crate named `name` of `kind` into `dir` (created
/// if missing; it must be empty otherwise). Returns the files written.
pub fn scaffold(
    dir: &Path,
    name: &str,
    kind: PluginKind,
    sdk: &SdkSource,
) -> Result<Vec<PathBuf>, TemplateError> {
    if !valid_name(name) {
        return Err(TemplateError::InvalidName(name.to_owned()));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TemplateError::Io { path, source }
    };
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
        if entries.next().is_some() {
            return Err(TemplateError::NotEmpty(dir.to_path_buf()));
        }
    }
    let src = dir.join("src");
    std::fs::create_dir_all(&src).map_err(io(&src))?;
    let lib = match kind {
        PluginKind::Discovery => DISCOVERY,
        PluginKind::Exporter => EXPORTER,
        PluginKind::Notifier => NOTIFIER,
    };
    let files = [
        (dir.join("Cargo.toml"), fill(CARGO_TOML, name, sdk)),
        (dir.join("rust-toolchain.toml"), TOOLCHAIN.to_owned()),
        (dir.join(".gitignore"), GITIGNORE.to_owned()),
        (dir.join("README.md"), fill(README, name, sdk)),
        (src.join("lib.rs"), fill(lib, name, sdk)),
    ];
    let mut written = Vec::with_capacity(files.len());
    for (path, content) in files {
        std::fs::write(&path, content).map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// Builds a scaffolded crate in `dir` the way its README says, `cargo
/// build --target wasm32-wasip2` (debug profile), with its artifacts in
/// `target_dir`, and returns the component's path. `lock_file`, if given,
/// is copied in first to pin the dependencies (Pharos' tests use the
/// plugins workspace's lock, so the build works offline). Flags meant for
/// a host build (`RUSTFLAGS`, clippy's wrapper) are not passed on.
pub fn cargo_build(
    dir: &Path,
    target_dir: &Path,
    lock_file: Option<&Path>,
) -> Result<PathBuf, TemplateError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TemplateError::Io { path, source }
    };
    if let Some(lock) = lock_file {
        let to = dir.join("Cargo.lock");
        std::fs::copy(lock, &to).map_err(io(&to))?;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .current_dir(dir)
        .args(["build", "--target", "wasm32-wasip2"])
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .map_err(io(dir))?;
    if !output.status.success() {
        return Err(TemplateError::Build {
            dir: dir.to_path_buf(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().replace('-', "_"))
        .unwrap_or_default();
    Ok(target_dir.join(format!("wasm32-wasip2/debug/{name}.wasm")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(type_name("my-sd"), "MySd");
        assert_eq!(type_name("probe2"), "Probe2");
        for ok in ["a", "my-sd", "x9"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "My", "9x", "a_b", "a-", "a b"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn placeholders_are_all_filled() {
        let sdk = SdkSource::Path(PathBuf::from("/src/pharos/sdk"));
        for t in [CARGO_TOML, README, DISCOVERY, EXPORTER, NOTIFIER] {
            let out = fill(t, "my-sd", &sdk);
            assert!(!out.contains("{{"), "{out}");
        }
        assert!(
            fill(CARGO_TOML, "my-sd", &sdk)
                .contains(r#"pharos-sdk = { path = "/src/pharos/sdk" }"#)
        );
        assert!(
            fill(CARGO_TOML, "my-sd", &SdkSource::Version("0.1".into()))
                .contains(r#"pharos-sdk = "0.1""#)
        );
    }

    #[test]
    fn refuses_bad_names_and_non_empty_directories() {
        let dir = tempfile::tempdir().unwrap();
        let sdk = SdkSource::Version("0.1".into());
        assert!(matches!(
            scaffold(dir.path(), "Bad", PluginKind::Discovery, &sdk),
            Err(TemplateError::InvalidName(_))
        ));
        std::fs::write(dir.path().join("x"), "").unwrap();
        assert!(matches!(
            scaffold(dir.path(), "ok", PluginKind::Discovery, &sdk),
            Err(TemplateError::NotEmpty(_))
        ));
    }
}
