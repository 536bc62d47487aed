//! `convo`: fetch, normalize and export conversations from the shell.

mod args;
mod error;
mod fetch;
mod output;
mod sandbox;
mod sync;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::error::CliError;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // Usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(2);
        }
        Err(e) => {
            // Help and version go to stdout with 0, unless stdout cannot
            // take them (a closed pipe is fine).
            return match e.print().and_then(|()| std::io::Write::flush(&mut std::io::stdout())) {
                Err(io) if io.kind() != std::io::ErrorKind::BrokenPipe => CliError::from(io).report(),
                _ => ExitCode::SUCCESS,
            };
        }
    };
    init_logging();
    let runtime = match runtime_for(&cli.command).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return CliError::Other(format!("cannot start the async runtime: {e}")).report(),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}

/// One thread for what reads one page after another (a fetch at
/// `--concurrency 1`, the default): its requests, decoding and writing
/// follow one another anyway, and a second thread would only add the cost
/// of handing each response across. Worker threads where several reads
/// decode at once (`convo sync`, Infobip's windows) or a server answers
/// many clients (`convo sandbox`).
fn runtime_for(command: &Command) -> tokio::runtime::Builder {
    match command {
        Command::Fetch(args) if args.concurrency > 1 => tokio::runtime::Builder::new_multi_thread(),
        Command::Sync(_) | Command::Sandbox(_) => tokio::runtime::Builder::new_multi_thread(),
        Command::Fetch(_) | Command::Normalize(_) | Command::Schema => tokio::runtime::Builder::new_current_thread(),
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (nothing by default).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(true)
        .try_init();
}

async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Fetch(args) => fetch::run(*args).await,
        Command::Sync(args) => sync::run(*args).await,
        Command::Normalize(args) => fetch::normalize(args),
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Schema => error::print_out(&convo_normalize::message_schema_json()),
    }
}
