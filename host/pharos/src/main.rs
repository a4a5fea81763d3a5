//! `pharos`: parse the command line, set up logging, run.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use pharos::cli::{
    AlertCommand, CheckCommand, Cli, Command, ConvertCommand, Lint, StorageCommand, TestCommand,
    check_config, check_routes, convert_alertmanager,
};
use pharos_rules::rulefmt::{CheckOptions, check_files};
use tracing_subscriber::EnvFilter;

/// mimalloc: the ingestion path allocates per label; with the system
/// allocator a tenth of ingestion CPU went to malloc/free. Built with
/// `no_thp`: with transparent huge pages its arenas fault in 2 MiB at a time
/// and the ingestion benchmark's resident memory was ~50% larger.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Check(CheckCommand::Config { files }) = &cli.command {
        let (out, err, ok) = check_config(files);
        print!("{out}");
        eprint!("{err}");
        return if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    if let Command::Check(CheckCommand::Rules {
        files,
        lint,
        lint_fatal,
    }) = &cli.command
    {
        let opts = CheckOptions {
            lint_duplicates: *lint == Lint::DuplicateRules,
            lint_fatal: *lint_fatal,
        };
        return exit(check_files(
            files,
            opts,
            &mut std::io::stdout(),
            &mut std::io::stderr(),
        ));
    }
    if let Command::Check(CheckCommand::Routes {
        config,
        tree,
        labels,
    }) = &cli.command
    {
        return print_or_fail(check_routes(config, *tree, labels).map(|out| (out, String::new())));
    }
    if let Command::Check(CheckCommand::Template { config, receiver }) = &cli.command {
        // Plugin loading logs only problems.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
            .with_writer(std::io::stderr)
            .try_init();
        return match pharos::template_cli::check_template(config, receiver) {
            Ok((out, ok)) => {
                print!("{out}");
                if ok {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("pharos: error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Storage(StorageCommand::Check { dir }) = &cli.command {
        return match pharos::storage_cli::check(dir) {
            Ok((out, clean)) => {
                print!("{out}");
                ExitCode::from(if clean { 0 } else { 1 })
            }
            Err(e) => {
                eprintln!("pharos: error: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    if let Command::Convert(ConvertCommand::Alertmanager { file }) = &cli.command {
        return print_or_fail(convert_alertmanager(file));
    }
    if let Command::Test(TestCommand::Rules { files }) = &cli.command {
        return exit(pharos_rules::unittest::run_files(
            files,
            &mut std::io::stdout(),
            &mut std::io::stderr(),
        ));
    }
    // The plugin commands print what they did; their log is for problems.
    let level = match cli.command {
        Command::Plugin(_) => "warn",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let result = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| match cli.command {
            Command::Run(args) => runtime.block_on(pharos::server::run(args)),
            Command::Query(args) => runtime
                .block_on(pharos::query_cli::run(args))
                .map(|table| print!("{table}")),
            Command::Plugin(cmd) => runtime
                .block_on(pharos::plugin_cli::run(cmd))
                .map(|out| print!("{out}")),
            Command::Alert(AlertCommand::Test { config, receiver }) => runtime
                .block_on(pharos::alert_cli::alert_test(&config, &receiver))
                .and_then(|(out, ok)| {
                    print!("{out}");
                    if ok {
                        Ok(())
                    } else {
                        Err(anyhow::anyhow!("a notifier failed"))
                    }
                }),
            Command::Check(_) | Command::Test(_) | Command::Convert(_) | Command::Storage(_) => {
                Ok(())
            }
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the cause chain on one line, without a backtrace.
            eprintln!("pharos: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a command's stdout and stderr texts, or its error.
fn print_or_fail(result: anyhow::Result<(String, String)>) -> ExitCode {
    match result {
        Ok((out, err)) => {
            print!("{out}");
            eprint!("{err}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pharos: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The exit status a checking command returned.
fn exit(status: std::io::Result<i32>) -> ExitCode {
    match status {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("pharos: error: {e}");
            ExitCode::FAILURE
        }
    }
}
