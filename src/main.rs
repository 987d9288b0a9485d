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
    end_on_closed_pipe(&cli);
    naudit_engine::flow::draw_index_hash_keys();
    match run::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("nauditd: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Lets a write to a closed pipe end the process, as it ends tcpdump or ra
/// (`nauditd -r FILE | head`). The Rust runtime ignores SIGPIPE, so such a
/// write would fail instead: nauditd would log the error and read the rest
/// of its input for nothing. Not with -P or --ipfix, whose sockets must not
/// end the sensor when a client leaves.
fn end_on_closed_pipe(cli: &cli::Cli) {
    if cli.stream_port.is_some() || !cli.ipfix.is_empty() {
        return;
    }
    #[cfg(unix)]
    #[allow(unsafe_code)]
    // SAFETY: no other thread runs yet, and restoring the default action of
    // one signal touches no memory of this program.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
