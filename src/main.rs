//! nauditd: reads packets and writes bidirectional flow records.

mod cli;
mod eviction_warning;
mod file_sink;
mod input;
mod ipfix;
mod output;
mod run;
mod summary;
mod workers;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NAUDITD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    let cli = cli::Cli::parse();
    match run::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("nauditd: {message}");
            ExitCode::FAILURE
        }
    }
}
