//! Wires the capture driver, the worker and the output together.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use naudit_engine::flow::{ShardConfig, Timeouts};
use naudit_engine::worker::{RunEnd, Worker};
use naudit_engine::PacketSource;

use naudit_records::argus::MarCounters;

use crate::cli::{seconds_to_ns, Cli};
use crate::output::Output;
use crate::summary::RunSummary;

fn timeouts(cli: &Cli) -> Result<Timeouts, String> {
    Ok(Timeouts {
        status_interval_ns: seconds_to_ns("--status-interval", cli.status_interval_secs)?,
        tcp_idle_ns: seconds_to_ns("--tcp-timeout", cli.tcp_timeout_secs)?,
        ip_idle_ns: seconds_to_ns("--ip-timeout", cli.ip_timeout_secs)?,
        icmp_idle_ns: seconds_to_ns("--icmp-timeout", cli.icmp_timeout_secs)?,
        fragment_idle_ns: seconds_to_ns("--fragment-timeout", cli.fragment_timeout_secs)?,
        arp_idle_ns: seconds_to_ns("--arp-timeout", cli.arp_timeout_secs)?,
        other_idle_ns: seconds_to_ns("--other-timeout", cli.other_timeout_secs)?,
    })
}

/// The current wall-clock time in nanoseconds since the Unix epoch, for the
/// management records (which report when the sensor ran, not packet time).
fn wall_clock_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64)
}

/// Raises `stop` on SIGINT and SIGTERM, so the worker ends its loop and
/// flushes every flow.
fn register_stop_signals(stop: &Arc<AtomicBool>) -> Result<(), String> {
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(stop))
            .map_err(|error| format!("cannot install the handler for signal {signal}: {error}"))?;
    }
    Ok(())
}

/// Reads the inputs to the end (or to a stop signal), writes every record,
/// and prints the summary. Returns a message for the user on failure; the
/// records of everything read before a damaged input are still written.
pub fn run(cli: &Cli) -> Result<(), String> {
    let timeouts = timeouts(cli)?;
    if timeouts.status_interval_ns == 0 {
        return Err("invalid value 0 for --status-interval: give a positive number of seconds".to_string());
    }
    if cli.max_flows == 0 {
        return Err("invalid value 0 for --max-flows: give a positive number of flows".to_string());
    }
    let config = ShardConfig { capacity_flows: cli.max_flows, timeouts, ..ShardConfig::default() };

    let mut source = naudit_pcap::open_inputs(&cli.read).map_err(|error| error.to_string())?;
    let started_ns = wall_clock_ns();
    let initial = MarCounters {
        interval_start_ns: started_ns,
        now_ns: started_ns,
        flow_status_interval_secs: cli.status_interval_secs.round().clamp(0.0, f64::from(u16::MAX)) as u16,
        ..MarCounters::default()
    };
    let mut output = Output::open(cli, &initial)?;
    let stop = Arc::new(AtomicBool::new(false));
    register_stop_signals(&stop)?;

    let started = Instant::now();
    tracing::info!(inputs = ?cli.read, "capture started");
    let mut worker = Worker::new(config);
    let result = worker.run(&mut source, &mut output, &stop);
    match &result {
        Ok(RunEnd::EndOfInput) => tracing::info!("capture ended: end of input"),
        Ok(RunEnd::Stopped) => tracing::info!("capture ended: stop signal"),
        Err(_) => tracing::info!("capture ended: input error"),
    }
    let stats = *worker.stats();
    let flows = worker.shard().counters();
    let closing = MarCounters {
        now_ns: wall_clock_ns(),
        packets: stats.packets,
        bytes: stats.wire_bytes,
        dropped_packets: source.counters().dropped_pkts(),
        new_flows: flows.flows_created,
        records: output.records_written(),
        active_flows: 0,
        clients: 1,
        ..initial
    };
    let records_written = output.finish(&closing)?;

    let summary = RunSummary {
        source: source.counters(),
        packets: stats,
        flows,
        records_written,
        elapsed: started.elapsed(),
    };
    if !cli.quiet {
        eprint!("{}", summary.render());
    }
    result.map(|_| ()).map_err(|error| error.to_string())
}
