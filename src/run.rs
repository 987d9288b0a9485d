//! Wires the capture driver, the worker and the output together.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use naudit_engine::flow::{ShardConfig, Timeouts};
use naudit_engine::latency::BatchLatency;
use naudit_engine::worker::RunEnd;

use naudit_records::argus::{MarCounters, SourceId};
use naudit_records::stream::{RecordStream, SensorCounters, StreamConfig};

use crate::cli::{seconds_to_ns, Cli};
use crate::input::Input;
use crate::workers::{run_classified, run_queues, run_single, wall_clock_ns, RunContext};
use crate::output::Output;
use crate::summary::RunSummary;

/// How often lingering checks the stop flag.
const LINGER_POLL_INTERVAL: Duration = Duration::from_millis(50);

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

/// Raises `stop` on SIGINT and SIGTERM, so the worker ends its loop and
/// flushes every flow.
fn register_stop_signals(stop: &Arc<AtomicBool>) -> Result<(), String> {
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(stop))
            .map_err(|error| format!("cannot install the handler for signal {signal}: {error}"))?;
    }
    Ok(())
}

/// Starts the record stream server that -P requests.
fn open_stream(cli: &Cli, port: u16, initial: &MarCounters, counters: &Arc<SensorCounters>) -> Result<RecordStream, String> {
    if cli.stream_queue_records == 0 {
        return Err("invalid value 0 for --stream-queue: give a positive number of records".to_string());
    }
    let source_id: SourceId = cli.source_id.parse().map_err(|error| format!("{error}"))?;
    let address = SocketAddr::new(cli.bind, port);
    let config = StreamConfig {
        mar_interval_secs: cli.mar_interval_secs,
        flow_status_interval_secs: initial.flow_status_interval_secs,
        queue_capacity_records: cli.stream_queue_records,
        ..StreamConfig::new(address, source_id, initial.interval_start_ns)
    };
    RecordStream::bind(config, Arc::clone(counters)).map_err(|error| {
        format!("cannot serve the record stream on {address}: {error}; choose another port with -P or address with --bind")
    })
}

/// Keeps the stream open for `linger` after the end of the input, or until
/// `stop` is raised.
fn linger(linger: Duration, stop: &AtomicBool) {
    tracing::info!(linger_secs = linger.as_secs_f64(), "input ended; the record stream stays open");
    let deadline = Instant::now() + linger;
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(LINGER_POLL_INTERVAL.min(deadline.saturating_duration_since(Instant::now())));
    }
}

/// Reads the inputs to the end (or to a stop signal), writes every record,
/// and prints the summary. Returns a message for the user on failure; the
/// records of everything read before a damaged input are still written.
pub fn run(cli: &Cli) -> Result<(), String> {
    if cli.list_interfaces {
        return crate::input::list_interfaces(cli);
    }
    if cli.workers == Some(0) {
        return Err("invalid value 0 for --workers: give a positive number of workers".to_string());
    }
    let timeouts = timeouts(cli)?;
    if timeouts.status_interval_ns == 0 {
        return Err("invalid value 0 for --status-interval: give a positive number of seconds".to_string());
    }
    if cli.max_flows == 0 {
        return Err("invalid value 0 for --max-flows: give a positive number of flows".to_string());
    }
    let linger_ns = seconds_to_ns("--linger", cli.linger_secs)?;
    let input = crate::input::open(cli)?;
    let live = input.is_live(cli);
    // Live capture keeps page faults, which stall no batch for long.
    let config = ShardConfig { capacity_flows: cli.max_flows, timeouts, resident_ahead: !live, ..ShardConfig::default() };
    let started_ns = wall_clock_ns();
    let initial = MarCounters {
        interval_start_ns: started_ns,
        now_ns: started_ns,
        flow_status_interval_secs: cli.status_interval_secs.round().clamp(0.0, f64::from(u16::MAX)) as u16,
        mar_interval_secs: cli.mar_interval_secs,
        ..MarCounters::default()
    };
    let counters = Arc::new(SensorCounters::new());
    let mut output = Output::open(cli, &initial)?;
    if let Some(port) = cli.stream_port {
        output.add_stream(open_stream(cli, port, &initial, &counters)?);
    }
    let stop = Arc::new(AtomicBool::new(false));
    register_stop_signals(&stop)?;

    if let (Some(stream), true) = (output.stream(), cli.wait_clients > 0) {
        tracing::info!(clients = cli.wait_clients, address = %stream.local_address(), "waiting for stream clients to start");
        if !stream.wait_for_clients(cli.wait_clients, &stop) {
            tracing::info!("stop signal while waiting for stream clients");
        }
    }

    let started = Instant::now();
    let workers = cli.worker_count().max(1);
    let context = RunContext {
        config,
        stop: &stop,
        totals: &counters,
        live,
        batch_latency: cli.batch_latency,
    };
    let (summary, result) = match input {
        Input::Files(mut files) if workers == 1 => {
            tracing::info!(inputs = ?cli.read, "capture started: one worker");
            run_single(&mut files, &context, &mut output)
        }
        Input::Files(files) => match crate::input::open_file_shares(cli, workers)? {
            // Regular files: every worker reads them and keeps its own flows.
            Some(shares) => {
                drop(files);
                tracing::info!(inputs = ?cli.read, workers, "capture started: each worker reads the files for its flows");
                run_queues(shares, &context, &mut output, None)
            }
            // A pipe can be read once: a classifier thread spreads it.
            None => {
                tracing::info!(inputs = ?cli.read, workers, "capture started: a classifier spreads the input over workers");
                run_classified(files, workers, &context, &mut output)
            }
        },
        Input::Pcap(mut live) if workers == 1 => {
            tracing::info!(interface = ?cli.interface, "capture started: libpcap, one worker");
            run_single(&mut live, &context, &mut output)
        }
        Input::Pcap(live) => {
            tracing::info!(interface = ?cli.interface, workers, "capture started: libpcap, spread over workers by flow");
            run_classified(live, workers, &context, &mut output)
        }
        Input::AfPacket(queues) => {
            tracing::info!(interface = ?cli.interface, queues = queues.len(), "capture started: AF_PACKET fanout");
            run_queues(queues, &context, &mut output, None)
        }
        #[cfg(feature = "dpdk")]
        Input::Dpdk { queues, live } => {
            tracing::info!(queues = queues.len(), live, "capture started: DPDK, one worker per queue");
            run_queues(queues, &context, &mut output, None)
        }
        #[cfg(feature = "ibverbs")]
        Input::Ibverbs(mut queue) if workers == 1 => {
            tracing::info!(interface = ?cli.interface, "capture started: InfiniBand verbs sniffer, one worker");
            run_single(&mut queue, &context, &mut output)
        }
        #[cfg(feature = "ibverbs")]
        Input::Ibverbs(queue) => {
            tracing::info!(interface = ?cli.interface, workers, "capture started: InfiniBand verbs sniffer, spread over workers by flow");
            run_classified(queue, workers, &context, &mut output)
        }
    };
    match &result {
        Ok(RunEnd::EndOfInput) => tracing::info!("capture ended: end of input"),
        Ok(RunEnd::Stopped) => tracing::info!("capture ended: stop signal"),
        Err(_) => tracing::info!("capture ended: input error"),
    }
    if output.stream().is_some() && linger_ns > 0 && matches!(result, Ok(RunEnd::EndOfInput)) {
        linger(Duration::from_nanos(linger_ns), &stop);
    }

    let (stats, flows) = (summary.packets, summary.flows);
    let closing = MarCounters {
        now_ns: wall_clock_ns(),
        packets: stats.packets,
        bytes: stats.wire_bytes,
        dropped_packets: summary.source.dropped_pkts(),
        new_flows: flows.flows_created,
        records: output.records_written(),
        active_flows: 0,
        clients: 1,
        ..initial
    };
    let report = output.finish(&closing)?;

    let summary = RunSummary {
        source: summary.source,
        packets: stats,
        flows,
        records_written: report.records_written,
        stream: report.stream,
        file: report.file,
        ipfix_exports: report.ipfix_exports,
        batch_latency: summary.batch_latency.as_ref().and_then(BatchLatency::summary),
        elapsed: started.elapsed(),
    };
    if !cli.quiet {
        eprint!("{}", summary.render());
    }
    result.map(|_| ()).map_err(|error| error.to_string())
}
