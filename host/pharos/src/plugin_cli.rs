//! `pharos plugin install|list|remove|new`: the installed-plugin store of
//! a data directory (`pharos_plugins::PluginStore`) and the SDK's crate
//! template, from the command line; and the plugin part of `pharos check
//! config`. The data directory is found as `pharos run` finds it:
//! `--data`, else `[storage] path` of `--config`, else `./data`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use pharos_config::Config;
use pharos_plugin_host::template::{SdkSource, scaffold};
use pharos_plugin_host::{PluginKind, RuntimeOptions};
use pharos_plugins::{PluginSet, PluginStatus, SourceKind};

use crate::cli::DEFAULT_DATA_DIR;

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Install a plugin from a component file or an http(s) URL.
    ///
    /// The file must be a WebAssembly component implementing one of the
    /// worlds of pharos:plugin@0.1.0 (discovery, exporter, notifier): it is
    /// loaded and asked describe(), whose name is the plugin's name in
    /// pharos.toml. A built-in plugin's name is refused; installing a name
    /// that is installed already replaces it. A running server uses it
    /// after a reload (SIGHUP or POST /-/reload).
    Install {
        /// The component: a path, or an http:// or https:// URL.
        #[arg(value_name = "PATH|URL")]
        source: String,
        /// Refuse the file unless its SHA-256 is this (64 hex digits).
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List the plugins: built in, and installed in the data directory.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Remove an installed plugin (a running server drops it at its next
    /// reload, which fails while the config still uses it).
    Remove {
        /// The plugin's name, as `pharos plugin list` shows it.
        #[arg(value_name = "NAME")]
        name: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Write a new plugin crate from the SDK's template.
    ///
    /// The crate builds with `cargo build --release --target
    /// wasm32-wasip2` into a component `pharos plugin install` takes.
    New {
        /// The plugin's name: lower-case letters, digits and '-'.
        #[arg(value_name = "NAME")]
        name: String,
        /// Which world the plugin implements.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Where to write the crate [default: ./NAME].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// A plugin kind on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Finds scrape targets (`discovery = [...]` of a scrape job).
    Discovery,
    /// Produces metrics (`[[exporter]]` jobs).
    Exporter,
    /// Delivers alert notifications.
    Notifier,
}

impl From<KindArg> for PluginKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Discovery => PluginKind::Discovery,
            KindArg::Exporter => PluginKind::Exporter,
            KindArg::Notifier => PluginKind::Notifier,
        }
    }
}

/// Which data directory to use.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// The data directory, as for `pharos run`; overrides `[storage] path`
    /// [default: data].
    #[arg(long, value_name = "DIR", visible_alias = "data-dir")]
    pub data: Option<PathBuf>,
    /// Read `[storage] path` from this configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl DataArgs {
    fn dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(d) = &self.data {
            return Ok(d.clone());
        }
        match &self.config {
            Some(f) => Ok(Config::load(f)?.storage.path),
            None => Ok(PathBuf::from(DEFAULT_DATA_DIR)),
        }
    }
}

/// Runs a `pharos plugin` command; returns what to print.
pub async fn run(cmd: PluginCommand) -> anyhow::Result<String> {
    match cmd {
        PluginCommand::Install {
            source,
            sha256,
            data,
        } => install(&data.dir()?, &source, sha256.as_deref()).await,
        PluginCommand::List { data } => list(&data.dir()?).await,
        PluginCommand::Remove { name, data } => {
            let set = PluginSet::new(&data.dir()?)?;
            let m = set.store().remove(&name)?;
            Ok(format!(
                "removed plugin {} {} ({})\n",
                m.name, m.version, m.kind
            ))
        }
        PluginCommand::New { name, kind, dir } => new(&name, kind.into(), dir),
    }
}

async fn install(data: &Path, source: &str, sha256: Option<&str>) -> anyhow::Result<String> {
    let set = PluginSet::new(data)?;
    let done = set.store().install(set.runtime(), source, sha256).await?;
    let m = &done.manifest;
    let mut out = String::new();
    match &done.replaced {
        Some(old) => writeln!(
            out,
            "replaced plugin {} {} with {} ({}, sha256 {})",
            m.name, old.version, m.version, m.kind, m.sha256
        )?,
        None => writeln!(
            out,
            "installed plugin {} {} ({}, sha256 {})",
            m.name, m.version, m.kind, m.sha256
        )?,
    }
    writeln!(out, "  {}", set.store().component_path(m).display())?;
    if !m.capabilities.is_empty() {
        writeln!(
            out,
            "  it may need grants in [plugins.{}]: {}",
            m.name,
            m.capabilities.join(", ")
        )?;
    }
    writeln!(
        out,
        "  a running server uses it after a reload (SIGHUP or POST /-/reload)"
    )?;
    Ok(out)
}

async fn list(data: &Path) -> anyhow::Result<String> {
    let set = PluginSet::new(data)?;
    // Load every plugin (no grants) to learn built-in plugins' kinds and
    // versions; the artifact cache makes this cheap after the first time.
    let mut text = String::new();
    for (name, _) in pharos_plugin_host::components::embedded() {
        let _ = writeln!(text, "[plugins.{name}]");
    }
    let config = Config::from_toml(&text, "<plugin list>")?;
    let prepared = set.prepare(&config).await?;
    set.commit(prepared);
    let rows: Vec<[String; 5]> = set.statuses().iter().map(row).collect();
    Ok(table(
        &["NAME", "KIND", "VERSION", "SOURCE", "CAPABILITIES"],
        &rows,
    ))
}

fn row(s: &PluginStatus) -> [String; 5] {
    let source = match &s.source {
        SourceKind::Embedded => "built-in".to_owned(),
        SourceKind::Installed(path) => path.display().to_string(),
    };
    [
        s.name.clone(),
        s.kind.map(|k| k.to_string()).unwrap_or_default(),
        s.version.clone().unwrap_or_default(),
        source,
        if s.capabilities.is_empty() {
            "-".to_owned()
        } else {
            s.capabilities.join(",")
        },
    ]
}

fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == N {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

/// The SDK to scaffold against: this checkout's `sdk/` when it is there
/// (a binary built from source), else the registry version.
fn sdk_source() -> SdkSource {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk");
    match local.canonicalize() {
        Ok(p) if p.join("Cargo.toml").exists() => SdkSource::Path(p),
        _ => {
            let v = env!("CARGO_PKG_VERSION");
            let minor = v.rsplit_once('.').map_or(v, |(mm, _)| mm);
            SdkSource::Version(minor.to_owned())
        }
    }
}

fn new(name: &str, kind: PluginKind, dir: Option<PathBuf>) -> anyhow::Result<String> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    let files = scaffold(&dir, name, kind, &sdk_source())?;
    let mut out = format!("created {kind} plugin {name} in {}:\n", dir.display());
    for f in files {
        writeln!(out, "  {}", f.display())?;
    }
    let wasm = name.replace('-', "_");
    writeln!(
        out,
        "next:\n  cd {}\n  cargo build --release --target wasm32-wasip2\n  pharos plugin install target/wasm32-wasip2/release/{wasm}.wasm",
        dir.display()
    )?;
    Ok(out)
}

/// The plugin part of `pharos check config`: every plugin the config
/// uses exists, has the right kind and accepts its config; every grant
/// parses. Installed plugins are read from the config's data directory.
pub fn check_plugins(config: &Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let data = &config.storage.path;
        // Compiled artifacts are cached only in an existing data directory:
        // checking a file creates nothing.
        let options = RuntimeOptions {
            cache_dir: data
                .is_dir()
                .then(|| pharos_plugins::PluginStore::new(data).cache_dir()),
            pooling: Some(8),
            ..RuntimeOptions::default()
        };
        let set = PluginSet::with_options(data, options)?;
        set.prepare(config).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command, check_config};
    use clap::Parser;

    #[test]
    fn check_config_runs_the_plugin_checks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("p.toml");
        std::fs::write(
            &file,
            format!(
                "[storage]\npath = {:?}\n\n[[exporter]]\njob = \"e\"\nplugin = \"json\"\nconfig = {{ url = \"ftp://x\", metrics = [] }}\n",
                dir.path().join("data").display().to_string()
            ),
        )
        .expect("write");
        let (_, err, ok) = check_config(std::slice::from_ref(&file));
        assert!(!ok);
        let want = format!(
            "  FAILED: {}:4:1: exporter[0].config (job \"e\"): the plugin refused its config: plugin json: config error: `url` must be an http:// or https:// URL\n",
            file.display()
        );
        assert!(err.starts_with(&want), "{err}");
        assert!(
            err.contains("`url` must be an http:// or https:// URL"),
            "{err}"
        );
        // Checking created nothing in the (missing) data directory.
        assert!(!dir.path().join("data").exists());
    }

    #[test]
    fn plugin_commands_parse() {
        let cli = Cli::try_parse_from([
            "pharos",
            "plugin",
            "install",
            "x.wasm",
            "--sha256",
            "ab",
            "--data-dir",
            "/d",
        ])
        .expect("parses");
        let Command::Plugin(PluginCommand::Install {
            source,
            sha256,
            data,
        }) = cli.command
        else {
            panic!("not install");
        };
        assert_eq!(
            (source.as_str(), sha256.as_deref(), data.data),
            ("x.wasm", Some("ab"), Some(PathBuf::from("/d")))
        );
        let cli = Cli::try_parse_from(["pharos", "plugin", "new", "my-sd", "--kind", "exporter"])
            .expect("parses");
        assert!(matches!(
            cli.command,
            Command::Plugin(PluginCommand::New {
                kind: KindArg::Exporter,
                dir: None,
                ..
            })
        ));
        assert!(
            Cli::try_parse_from(["pharos", "plugin", "new", "x", "--kind", "scraper"]).is_err()
        );
    }

    #[test]
    fn new_writes_a_crate_and_says_what_next() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out =
            new("my-sd", PluginKind::Discovery, Some(dir.path().join("c"))).expect("scaffold");
        assert!(
            out.contains("pharos plugin install target/wasm32-wasip2/release/my_sd.wasm"),
            "{out}"
        );
        let toml = std::fs::read_to_string(dir.path().join("c/Cargo.toml")).expect("Cargo.toml");
        assert!(toml.contains("pharos-sdk = { path = "), "{toml}");
    }
}
