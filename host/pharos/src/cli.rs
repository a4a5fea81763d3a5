//! The command line: `pharos run [--config FILE] [--listen ADDR] [--data DIR]`,
//! `pharos check config|rules FILE…`, `pharos check routes --config FILE
//! LABEL…`, `pharos check template --config FILE --receiver NAME` (see
//! [`crate::template_cli`]), `pharos test rules FILE…`, `pharos convert alertmanager FILE`,
//! `pharos alert test --config FILE --receiver NAME` (see
//! [`crate::alert_cli`]), `pharos query EXPR`, `pharos plugin …`
//! (see [`crate::plugin_cli`]), `pharos storage check DIR` (see
//! [`crate::storage_cli`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use clap::{Args, Parser, Subcommand};

/// Where data lives when neither the config nor `--data` says.
pub const DEFAULT_DATA_DIR: &str = "data";

/// Pharos: a monitoring and alerting system in the spirit of Prometheus.
///
/// It scrapes targets, stores time series, accepts Prometheus remote-write
/// and answers the Prometheus HTTP API, so Grafana, promtool and client
/// libraries work against it unchanged.
#[derive(Debug, Parser)]
#[command(name = "pharos", version, long_version = crate::build_info::LONG_VERSION, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: scraping, storage, remote-write receiver and HTTP API.
    ///
    /// With no configuration it starts on the embedded default: data in
    /// ./data, listening on 127.0.0.1:9090, scraping itself every 15s.
    /// SIGHUP or `POST /-/reload` reloads the configuration file.
    Run(RunArgs),
    /// Check files without starting anything; exit status 1 if any is
    /// invalid.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Evaluate a PromQL expression on a running server and print the
    /// result as a table.
    Query(QueryArgs),
    /// Run unit tests, as promtool test.
    #[command(subcommand)]
    Test(TestCommand),
    /// Install, list, remove and write plugins (WebAssembly components
    /// for discovery, exporters and notifiers).
    #[command(subcommand)]
    Plugin(crate::plugin_cli::PluginCommand),
    /// Convert another system's configuration into Pharos' and print it.
    #[command(subcommand)]
    Convert(ConvertCommand),
    /// Work with alert notifications.
    #[command(subcommand)]
    Alert(AlertCommand),
    /// Inspect a storage directory.
    #[command(subcommand)]
    Storage(StorageCommand),
}

#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Report what is damaged in a storage directory (WAL segments,
    /// checkpoint, sled trees and values) and what a start would do about
    /// it, without changing it. Stop Pharos first. Exit status 0 when
    /// nothing is damaged, 1 with the list of damage, 2 when the directory
    /// cannot be checked.
    Check {
        /// The data directory (`[storage] path`, `--data`).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Send one synthetic notification (the sample group `pharos check
    /// template` renders) through each notifier of a receiver, with the
    /// plugins, grants and templates the server would use, and report
    /// what each answered. Exit status 1 if any failed.
    Test {
        /// The configuration (pharos.toml).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The receiver to notify.
        #[arg(long, value_name = "NAME")]
        receiver: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConvertCommand {
    /// Print the `[alerting]` section (and the `[plugins.*]` grants of its
    /// notifiers) equivalent to an Alertmanager 0.25 configuration file.
    ///
    /// Receivers become notifier plugins (email, pagerduty, slack,
    /// webhook); a setting Pharos has no equivalent for is named in the
    /// error. Warnings about what needs a hand go to stderr.
    Alertmanager {
        /// The Alertmanager configuration (alertmanager.yml); `-` reads
        /// standard input.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
pub struct QueryArgs {
    /// The PromQL expression, e.g. 'sum by (job) (up)'.
    #[arg(value_name = "EXPR")]
    pub expr: String,

    /// The server to ask.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9090")]
    pub server: String,

    /// Evaluation time (Unix seconds or RFC 3339); now when omitted.
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Validate configuration files (pharos.toml), as promtool check config.
    Config {
        /// The files to check.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
    /// Validate Prometheus rule files, as promtool check rules.
    Rules {
        /// The rule files to check.
        #[arg(value_name = "RULE_FILE", required = true)]
        files: Vec<PathBuf>,
        /// Linting checks to apply.
        #[arg(long, value_enum, default_value = "duplicate-rules")]
        lint: Lint,
        /// Make lint errors exit with status 3.
        #[arg(long)]
        lint_fatal: bool,
    },
    /// Print the receivers a label set reaches, as `amtool config routes
    /// test`; with `--tree`, the matching routes too (and without labels
    /// the whole tree, as `amtool config routes show`).
    Routes {
        /// The configuration file whose `[alerting]` route tree is used.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Print the routes as a tree.
        #[arg(long)]
        tree: bool,
        /// The alert's labels, as name=value (`severity=page`).
        #[arg(value_name = "LABEL")]
        labels: Vec<String>,
    },
    /// Render a receiver's notifications for a sample alert group (two
    /// firing alerts, one resolved) and print each notifier's
    /// configuration as its plugin would get it: schema defaults filled
    /// in, every string rendered with the default templates and
    /// `[alerting] templates`. Exit status 1 if any does not render or a
    /// plugin refuses its configuration.
    Template {
        /// The configuration file.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The receiver (`[[alerting.receivers]] name`).
        #[arg(long, value_name = "NAME")]
        receiver: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TestCommand {
    /// Run promtool's rule unit tests (rule_files, input_series,
    /// alert_rule_test, promql_expr_test), as promtool test rules.
    Rules {
        /// The test files.
        #[arg(value_name = "TEST_FILE", required = true)]
        files: Vec<PathBuf>,
    },
}

/// `--lint` of `pharos check rules`, as promtool's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lint {
    /// No lint.
    None,
    /// Rules with the same name and labels in a group.
    #[value(name = "duplicate-rules")]
    DuplicateRules,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Configuration file (TOML). Without it Pharos runs on the embedded
    /// default, which scrapes Pharos itself.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address (host:port) the HTTP API listens on; overrides `[server]
    /// listen` [default: 127.0.0.1:9090].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,

    /// Directory for the time-series data, created if missing; overrides
    /// `[storage] path` [default: data].
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Enable `POST /-/reload` and `POST /-/quit`, as `[server]
    /// enable_lifecycle = true` (Prometheus' --web.enable-lifecycle).
    #[arg(long)]
    pub enable_lifecycle: bool,
}

/// `pharos check config FILE…`: promtool's output, one block per file.
/// Returns the text for stdout, the text for stderr, and whether all files
/// are valid.
pub fn check_config(files: &[PathBuf]) -> (String, String, bool) {
    let (mut out, mut err, mut ok) = (String::new(), String::new(), true);
    for f in files {
        let name = f.display();
        let _ = writeln!(out, "Checking {name}");
        let checked = pharos_config::Config::load(f)
            .map_err(anyhow::Error::from)
            .and_then(|c| {
                pharos_scrape::ScrapeManager::check(&c.scrape)?;
                crate::plugin_cli::check_plugins(&c)?;
                crate::template_cli::check_templates(f, &c)?;
                let base_dir = crate::reload::ConfigSource {
                    file: Some(f.clone()),
                    ..Default::default()
                }
                .base_dir();
                crate::listener::check(&c.server.web, &base_dir)?;
                Ok(c)
            });
        match checked {
            Ok(c) => {
                let _ = writeln!(
                    out,
                    " SUCCESS: {name} is valid pharos config file syntax ({} scrape jobs, {} exporter jobs, {} remote_write endpoints)\n",
                    c.scrape.len(),
                    c.exporters.len(),
                    c.remote_write.len()
                );
            }
            Err(e) => {
                ok = false;
                let _ = writeln!(err, "  FAILED: {e:#}\n");
            }
        }
    }
    (out, err, ok)
}

/// `pharos convert alertmanager FILE`: the TOML for stdout and the
/// warnings for stderr.
pub fn convert_alertmanager(file: &Path) -> anyhow::Result<(String, String)> {
    let text = if file == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    let c = pharos_alerting::convert::convert_alertmanager(&text)
        .with_context(|| format!("{}: cannot convert", file.display()))?;
    let mut err = String::new();
    for w in &c.warnings {
        let _ = writeln!(err, "warning: {w}");
    }
    Ok((c.to_toml(), err))
}

/// `pharos check routes --config FILE [--tree] LABEL…`: what amtool
/// prints for the same tree and labels.
pub fn check_routes(config: &Path, tree: bool, labels: &[String]) -> anyhow::Result<String> {
    let c = pharos_config::Config::load(config)?;
    let routing = &c.alerting.routing;
    if routing.route.is_none() {
        anyhow::bail!("{}: no [alerting.route]", config.display());
    }
    let routes = pharos_alerting::RouteTree::from_config(routing)?;
    if tree && labels.is_empty() {
        return Ok(pharos_alerting::amtool::routes_show(&routes));
    }
    let labels =
        pharos_alerting::route::parse_label_args(labels).context("Failed to parse labels")?;
    Ok(pharos_alerting::amtool::routes_test(&routes, &labels, tree))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_defaults() {
        let cli = Cli::try_parse_from(["pharos", "run"]).expect("parses");
        let Command::Run(args) = cli.command else {
            panic!("not run");
        };
        assert_eq!(args.listen, None);
        assert_eq!(args.data, None);
        assert!(args.config.is_none());
    }

    #[test]
    fn run_flags() {
        let cli = Cli::try_parse_from([
            "pharos",
            "run",
            "--listen",
            "0.0.0.0:1",
            "--data",
            "/x",
            "--config",
            "p.toml",
        ])
        .expect("parses");
        let Command::Run(args) = cli.command else {
            panic!("not run");
        };
        assert_eq!(args.listen.as_deref(), Some("0.0.0.0:1"));
        assert_eq!(args.data, Some(PathBuf::from("/x")));
        assert_eq!(args.config, Some(PathBuf::from("p.toml")));
    }

    #[test]
    fn check_config_reports_each_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("good.toml");
        let bad = dir.path().join("bad.toml");
        std::fs::write(&good, "[[scrape]]\njob = \"a\"\ntargets = [\"h:1\"]\n").expect("write");
        std::fs::write(
            &bad,
            "[[scrape]]\njob = \"a\"\nscrape_interval = \"1s\"\nscrape_timeout = \"2s\"\n",
        )
        .expect("write");
        let (out, err, ok) = check_config(&[good.clone(), bad.clone()]);
        assert!(!ok);
        assert!(out.contains(&format!(" SUCCESS: {} is valid pharos config file syntax (1 scrape jobs, 0 exporter jobs, 0 remote_write endpoints)", good.display())), "{out}");
        assert!(
            out.contains(&format!("Checking {}", bad.display())),
            "{out}"
        );
        assert!(
            err.starts_with(&format!("  FAILED: {}:4:", bad.display())),
            "{err}"
        );
        assert!(err.contains("scrape[0].scrape_timeout"), "{err}");
        let cli = Cli::try_parse_from(["pharos", "check", "config", "a.toml"]).expect("parses");
        assert!(
            matches!(cli.command, Command::Check(CheckCommand::Config { files }) if files.len() == 1)
        );
        assert!(Cli::try_parse_from(["pharos", "check", "config"]).is_err());
    }

    #[test]
    fn storage_check_takes_a_directory() {
        let cli = Cli::try_parse_from(["pharos", "storage", "check", "data"]).expect("parses");
        assert!(
            matches!(cli.command, Command::Storage(StorageCommand::Check { dir }) if dir == Path::new("data"))
        );
        assert!(Cli::try_parse_from(["pharos", "storage", "check"]).is_err());
    }

    #[test]
    fn a_subcommand_is_required() {
        assert!(Cli::try_parse_from(["pharos"]).is_err());
    }

    #[test]
    fn convert_then_check_routes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let yml = dir.path().join("alertmanager.yml");
        std::fs::write(
            &yml,
            "route:\n  receiver: team\n  routes:\n    - match: {severity: page}\n      receiver: oncall\nreceivers:\n  - name: team\n  - name: oncall\n",
        )
        .expect("write");
        let (toml, warnings) = convert_alertmanager(&yml).expect("converts");
        assert_eq!(warnings, "");
        let file = dir.path().join("pharos.toml");
        std::fs::write(&file, &toml).expect("write");
        let labels = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            check_routes(&file, false, &labels(&["severity=page"])).expect("routes"),
            "oncall\n"
        );
        assert_eq!(
            check_routes(&file, false, &labels(&[])).expect("routes"),
            "team\n"
        );
        assert!(
            check_routes(&file, true, &labels(&[]))
                .expect("tree")
                .starts_with("Routing tree:\n")
        );
        let err = check_routes(&file, false, &labels(&["severity!=page"])).expect_err("refused");
        assert_eq!(
            format!("{err:#}"),
            "Failed to parse labels: labels must be specified as key=value pairs"
        );
        let cli = Cli::try_parse_from([
            "pharos", "check", "routes", "--config", "p.toml", "--tree", "a=b", "c=d",
        ])
        .expect("parses");
        assert!(matches!(
            cli.command,
            Command::Check(CheckCommand::Routes { tree: true, labels, .. }) if labels.len() == 2
        ));
        let cli =
            Cli::try_parse_from(["pharos", "convert", "alertmanager", "am.yml"]).expect("parses");
        assert!(matches!(
            cli.command,
            Command::Convert(ConvertCommand::Alertmanager { .. })
        ));
    }
}
