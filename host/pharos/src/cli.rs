//! The command line: `pharos run [--config FILE] [--listen ADDR] [--data DIR]`,
//! `pharos query EXPR`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Where the API listens when neither the config nor `--listen` says.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9090";
/// Where data lives when neither the config nor `--data` says.
pub const DEFAULT_DATA_DIR: &str = "data";

/// Pharos: a monitoring and alerting system in the spirit of Prometheus.
///
/// It stores time series, accepts Prometheus remote-write and answers the
/// Prometheus HTTP API, so Grafana, promtool and client libraries work
/// against it unchanged.
#[derive(Debug, Parser)]
#[command(name = "pharos", version, long_version = crate::build_info::LONG_VERSION, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: storage, remote-write receiver and HTTP API.
    ///
    /// With no configuration it starts on the embedded default: data in
    /// ./data, listening on 127.0.0.1:9090.
    Run(RunArgs),
    /// Evaluate a PromQL expression on a running server and print the
    /// result as a table.
    Query(QueryArgs),
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

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Configuration file (TOML). Not supported yet: omit it to run on the
    /// embedded default.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address (host:port) the HTTP API listens on.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: String,

    /// Directory for the time-series data; created if missing.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA_DIR)]
    pub data: PathBuf,
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
        assert_eq!(args.listen, "127.0.0.1:9090");
        assert_eq!(args.data, PathBuf::from("data"));
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
        assert_eq!(args.listen, "0.0.0.0:1");
        assert_eq!(args.data, PathBuf::from("/x"));
        assert_eq!(args.config, Some(PathBuf::from("p.toml")));
    }

    #[test]
    fn a_subcommand_is_required() {
        assert!(Cli::try_parse_from(["pharos"]).is_err());
    }
}
