//! The benchmark runner: generates the standard captures, runs the floor
//! programs, nauditd and Argus on each, alternating, and gathers a
//! [`BenchReport`].

use std::fs;
use std::path::{Path, PathBuf};

use crate::floor::FloorReport;
use crate::machine::{self, Machine};
use crate::measure::{self, last_line, run_child, CommandLine};
use crate::mixes::{StandardMix, BASELINE_MIX};
use crate::report::{BenchReport, MixResult, RunSample, ToolKind, ToolResult};
use crate::traffic::{self, TrafficSummary};

/// nauditd's default `--max-flows`. The runner raises the limit to a
/// capture's flow count when that is larger, so that nauditd keeps every
/// flow in memory as Argus does, instead of evicting.
const NAUDITD_DEFAULT_MAX_FLOWS: u64 = 262_144;

/// The runner's settings: mixes, repetitions and program paths.
#[derive(Clone, Debug)]
pub struct RunnerOptions {
    /// Factor applied to the standard mixes' packet and flow counts.
    pub scale: f64,
    /// Measured runs per program and capture.
    pub repetitions: usize,
    /// Mixes to measure, in order. The baseline mix is added when missing.
    pub mixes: Vec<StandardMix>,
    /// Folder of the captures.
    pub data_dir: PathBuf,
    /// The nauditd binary.
    pub nauditd: PathBuf,
    /// The argus binary, or `None` to leave Argus out.
    pub argus: Option<PathBuf>,
    /// `--workers` values to measure, when nauditd has the option.
    pub workers: Vec<u32>,
    /// This program, which runs the floors as `floor` subcommands.
    pub floor_program: PathBuf,
    /// Rewrites captures that already exist.
    pub regenerate: bool,
    /// The command line that regenerates the page, for the page itself.
    pub command: String,
    /// The origin of the nauditd binary (work tree or commit), for the page.
    pub nauditd_source: String,
}

/// Runs everything and returns the report. Progress goes to stderr.
pub fn run(options: &RunnerOptions) -> Result<BenchReport, String> {
    let date = machine::utc_now();
    let load_before = machine::load_average();
    let event_counting = measure::probe_event_counting();
    let workers_supported = nauditd_has_workers(&options.nauditd)?;
    if let Err(reason) = &event_counting {
        eprintln!("naudit-bench: instructions and cycles not counted: {reason}");
    }
    if !workers_supported {
        eprintln!("naudit-bench: nauditd has no --workers option; measuring one worker");
    }

    let mut mixes = options.mixes.clone();
    if !mixes.iter().any(|mix| mix.name == BASELINE_MIX) {
        mixes.push(StandardMix::named(BASELINE_MIX).expect("the baseline mix is standard"));
    }
    fs::create_dir_all(&options.data_dir).map_err(|error| format!("cannot create {}: {error}", options.data_dir.display()))?;

    let mut results = Vec::new();
    for mix in &mixes {
        results.push(measure_mix(options, mix, workers_supported, event_counting.is_ok())?);
    }

    Ok(BenchReport {
        machine: Machine::read(),
        date,
        load_before,
        load_after: machine::load_average(),
        versions: versions(options),
        scale: options.scale,
        repetitions: options.repetitions,
        command: options.command.clone(),
        event_counting,
        workers_supported,
        mixes: results,
        baseline_mix: BASELINE_MIX.to_string(),
    })
}

/// Returns true when `nauditd --help` lists `--workers`.
fn nauditd_has_workers(nauditd: &Path) -> Result<bool, String> {
    let run = run_child(&CommandLine::new(nauditd, ["--help"])).map_err(|error| format!("cannot run {}: {error}", nauditd.display()))?;
    if !run.status.success() {
        return Err(format!("{} --help failed with {}: {}", nauditd.display(), run.status, last_line(&run.stderr)));
    }
    Ok(run.stdout.contains("--workers"))
}

fn versions(options: &RunnerOptions) -> Vec<(String, String)> {
    let mut versions = vec![("nauditd".to_string(), nauditd_version(options))];
    if let Some(argus) = &options.argus {
        // `argus -h` prints "Argus Version 3.0.8.2" first.
        versions.push(("Argus".to_string(), machine::program_version(&argus.to_string_lossy(), &["-h"])));
    }
    versions.push(("Rust".to_string(), machine::program_version("rustc", &["--version"])));
    versions
}

/// nauditd's version and the source it was built from.
fn nauditd_version(options: &RunnerOptions) -> String {
    let version = machine::program_version(&options.nauditd.to_string_lossy(), &["--version"]);
    format!("{version}, {}", options.nauditd_source)
}

/// Generates (or reuses) the capture of `mix` and measures every program.
fn measure_mix(options: &RunnerOptions, mix: &StandardMix, workers_supported: bool, count_events: bool) -> Result<MixResult, String> {
    let path = mix.capture_path(&options.data_dir, options.scale);
    let summary = ensure_capture(options, mix, &path)?;
    let capture_bytes = summary.file_bytes;
    let mut tools = tool_list(options, &path, &summary, workers_supported);
    let mut shares = Vec::new();
    if let Some(workers) = split_workers(options, workers_supported) {
        shares = write_shares(options, &path, workers, &summary)?;
        tools.push(ceiling_tool(options, &summary, workers, &shares));
    }

    for tool in tools.iter_mut().filter(|tool| matches!(tool.kind, ToolKind::Nauditd { .. })) {
        check_nauditd(tool, &summary);
    }
    for repetition in 0..options.repetitions {
        // Rotating the order spreads any drift in machine load over all programs.
        let count = tools.len();
        for index in 0..count {
            let tool = &mut tools[(index + repetition) % count];
            if tool.failure.is_none() {
                eprintln!("naudit-bench: {} run {}/{}: {}", mix.name, repetition + 1, options.repetitions, tool.label);
                measure_once(tool, &summary);
            }
        }
    }
    for tool in tools.iter_mut().filter(|tool| tool.failure.is_none()) {
        if count_events {
            let scratch = options.data_dir.join("perf-stat.csv");
            tool.counters = measure::count_events(&tool.command, &scratch);
            let _ = fs::remove_file(scratch);
        }
        tool.latency = measure_latency(tool);
    }

    for path in &shares {
        let _ = fs::remove_file(path);
    }

    let share = |packets: u64| packets as f64 / summary.packets.max(1) as f64;
    Ok(MixResult {
        name: mix.name.to_string(),
        purpose: mix.purpose.to_string(),
        packets: summary.packets,
        flows: summary.flows,
        capture_bytes,
        shares: (share(summary.ipv6_packets), share(summary.vlan_packets), share(summary.vxlan_packets)),
        generator_command: format!("naudit-gen --standard {} --scale {} --out {}", mix.name, options.scale, path.display()),
        tools,
    })
}

/// Lists the programs measured on one capture, in table order.
fn tool_list(options: &RunnerOptions, capture: &Path, summary: &TrafficSummary, workers_supported: bool) -> Vec<ToolResult> {
    let capture_arg = capture.as_os_str().to_owned();
    let max_flows = summary.flows.max(NAUDITD_DEFAULT_MAX_FLOWS);
    let mut tools = vec![
        new_tool("walk floor", ToolKind::WalkFloor, true, CommandLine::new(&options.floor_program, floor_args("walk", capture, None))),
        new_tool(
            "table floor",
            ToolKind::TableFloor,
            true,
            CommandLine::new(&options.floor_program, floor_args("table", capture, Some(summary.flows))),
        ),
    ];

    let nauditd_args = |workers: Option<u32>| {
        // Binary Argus records, as `argus -w` writes them, so both programs
        // pay for the same kind of output.
        let mut args: Vec<std::ffi::OsString> = vec!["-r".into(), capture_arg.clone(), "-w".into(), "/dev/null".into(), "-q".into()];
        if max_flows > NAUDITD_DEFAULT_MAX_FLOWS {
            args.extend(["--max-flows".into(), max_flows.to_string().into()]);
        }
        if let Some(workers) = workers {
            args.extend(["--workers".into(), workers.to_string().into()]);
        }
        args
    };
    if workers_supported {
        for &workers in &options.workers {
            let label = format!("nauditd --workers {workers}");
            tools.push(new_tool(&label, ToolKind::Nauditd { workers: Some(workers) }, true, CommandLine::new(&options.nauditd, nauditd_args(Some(workers)))));
        }
    } else {
        tools.push(new_tool("nauditd", ToolKind::Nauditd { workers: None }, true, CommandLine::new(&options.nauditd, nauditd_args(None))));
    }

    if let Some(argus) = &options.argus {
        let args = vec!["-r".into(), capture_arg, "-w".into(), std::ffi::OsString::from("/dev/null")];
        tools.push(new_tool("Argus 3.0.8", ToolKind::Argus, false, CommandLine::new(argus, args)));
    }
    tools
}

/// Returns the worker count of the split ceiling: the largest `--workers` value
/// measured, when it is more than one.
fn split_workers(options: &RunnerOptions, workers_supported: bool) -> Option<u32> {
    let max_workers = options.workers.iter().copied().max()?;
    (workers_supported && max_workers > 1).then_some(max_workers)
}

/// Splits `capture` into the shares of `workers` workers and checks that
/// they contain every packet. Returns their paths.
///
/// The split runs as a child process (`naudit-bench split`), like the
/// floors. When the runner mapped the captures itself, `wait4` reported
/// every later program's peak resident set as at least the runner's own.
fn write_shares(options: &RunnerOptions, capture: &Path, workers: u32, summary: &TrafficSummary) -> Result<Vec<PathBuf>, String> {
    eprintln!("naudit-bench: splitting {} into the shares of {workers} workers", capture.display());
    let command = CommandLine::new(
        &options.floor_program,
        ["split".into(), capture.as_os_str().to_owned(), "--workers".into(), workers.to_string().into()],
    );
    let run = run_child(&command).map_err(|error| format!("cannot run {command}: {error}"))?;
    if !run.status.success() {
        return Err(format!("{command} failed with {}: {}", run.status, last_line(&run.stderr)));
    }
    let mut paths = Vec::new();
    let mut packets = 0;
    for line in run.stdout.lines() {
        let (count, path) = line.split_once('\t').ok_or_else(|| format!("invalid line from {command}: {line}"))?;
        packets += count.parse::<u64>().map_err(|error| format!("invalid packet count from {command}: {line}: {error}"))?;
        paths.push(PathBuf::from(path));
    }
    if packets != summary.packets || paths.len() != workers as usize {
        for path in &paths {
            let _ = fs::remove_file(path);
        }
        return Err(format!(
            "invalid split of {}: {} shares contain {packets} packets, expected {workers} with {}",
            capture.display(),
            paths.len(),
            summary.packets
        ));
    }
    Ok(paths)
}

/// Builds the split ceiling's row: one one-worker nauditd run per share, all
/// started at once, each with the flow capacity of one worker of
/// `--workers N`. The shell fails when any run fails.
fn ceiling_tool(options: &RunnerOptions, summary: &TrafficSummary, workers: u32, shares: &[PathBuf]) -> ToolResult {
    const SCRIPT: &str = "nauditd=$1; flows=$2; shift 2; pids=; \
        for share in \"$@\"; do \"$nauditd\" -r \"$share\" --workers 1 --max-flows \"$flows\" -w /dev/null -q & pids=\"$pids $!\"; done; \
        status=0; for pid in $pids; do wait \"$pid\" || status=1; done; exit $status";
    // nauditd gives each worker its share of --max-flows and an eighth more.
    let per_worker = summary.flows.max(NAUDITD_DEFAULT_MAX_FLOWS) / u64::from(workers);
    let flows = per_worker + per_worker / 8;
    let mut args: Vec<std::ffi::OsString> = vec!["-c".into(), SCRIPT.into(), "naudit-split-ceiling".into()];
    args.push(options.nauditd.as_os_str().to_owned());
    args.push(flows.to_string().into());
    args.extend(shares.iter().map(|path| path.as_os_str().to_owned()));
    let label = format!("split ceiling: {workers} × nauditd --workers 1, one per worker's share, at once");
    new_tool(&label, ToolKind::SplitCeiling { workers }, true, CommandLine::new("sh", args))
}

fn floor_args(mode: &str, capture: &Path, max_flows: Option<u64>) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["floor".into(), mode.into(), capture.as_os_str().to_owned()];
    if let Some(max_flows) = max_flows {
        args.extend(["--max-flows".into(), max_flows.to_string().into()]);
    }
    args
}

fn new_tool(label: &str, kind: ToolKind, maps_capture: bool, command: CommandLine) -> ToolResult {
    ToolResult {
        label: label.to_string(),
        kind,
        command,
        maps_capture,
        runs: Vec::new(),
        failure: None,
        counters: Err("not measured".to_string()),
        latency: Err("not measured".to_string()),
        checks: Vec::new(),
        records: None,
    }
}

/// Reuses the capture at `path` when it and its summary exist, else writes
/// both.
fn ensure_capture(options: &RunnerOptions, mix: &StandardMix, path: &Path) -> Result<TrafficSummary, String> {
    let summary_path = path.with_extension("summary");
    if !options.regenerate && path.exists() {
        if let Some(summary) = fs::read_to_string(&summary_path).ok().and_then(|text| summary_from_text(&text)) {
            eprintln!("naudit-bench: reusing {}", path.display());
            return Ok(summary);
        }
    }
    eprintln!("naudit-bench: writing {}", path.display());
    let summary = traffic::write_capture_file(&mix.scaled(options.scale), path).map_err(|error| format!("writing {} failed: {error}", path.display()))?;
    fs::write(&summary_path, summary_to_text(&summary)).map_err(|error| format!("writing {} failed: {error}", summary_path.display()))?;
    Ok(summary)
}

/// Formats the summary fields the runner needs, one `name=value` per line.
fn summary_to_text(summary: &TrafficSummary) -> String {
    format!(
        "packets={}\nfile_bytes={}\nflows={}\nipv6_packets={}\nvlan_packets={}\nvxlan_packets={}\n",
        summary.packets, summary.file_bytes, summary.flows, summary.ipv6_packets, summary.vlan_packets, summary.vxlan_packets
    )
}

fn summary_from_text(text: &str) -> Option<TrafficSummary> {
    let mut summary = TrafficSummary::default();
    for line in text.lines() {
        let (name, value) = line.split_once('=')?;
        let value: u64 = value.trim().parse().ok()?;
        match name {
            "packets" => summary.packets = value,
            "file_bytes" => summary.file_bytes = value,
            "flows" => summary.flows = value,
            "ipv6_packets" => summary.ipv6_packets = value,
            "vlan_packets" => summary.vlan_packets = value,
            "vxlan_packets" => summary.vxlan_packets = value,
            _ => return None,
        }
    }
    (summary.packets > 0).then_some(summary)
}

/// Runs nauditd once without `-q` and checks from its summary that it read
/// every packet. The run is not measured, but it warms the page cache. Its
/// flow line goes into the page, because evictions would make the
/// comparison with Argus unfair.
fn check_nauditd(tool: &mut ToolResult, summary: &TrafficSummary) {
    let mut command = tool.command.clone();
    command.args.retain(|arg| arg != "-q");
    let run = match run_child(&command) {
        Ok(run) => run,
        Err(error) => {
            tool.failure = Some(format!("cannot run: {error}"));
            return;
        }
    };
    if !run.status.success() {
        tool.failure = Some(format!("{}: {}", run.status, last_line(&run.stderr)));
        return;
    }
    tool.records = summary_number(&run.stderr, "records written");
    let packets = summary_number(&run.stderr, "packets read");
    if packets != Some(summary.packets) {
        tool.failure = Some(format!("read {packets:?} packets of {}", summary.packets));
        return;
    }
    let flows_line = run.stderr.lines().find(|line| line.trim_start().starts_with("flows")).unwrap_or("flows ?").trim();
    let flows_line = flows_line.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut check = format!("{}: read all {} packets; {flows_line}", tool.label, summary.packets);
    if summary_number(&run.stderr, "flows") != Some(summary.flows) {
        check.push_str(&format!(", where the capture has {} flows", summary.flows));
        if summary.vxlan_packets > 0 {
            check.push_str(" (flows in VXLAN count twice when keyed by the outer header, once per direction)");
        }
    }
    tool.checks.push(check);
}

/// Reads the first number after `label` in nauditd's run summary.
fn summary_number(summary: &str, label: &str) -> Option<u64> {
    let line = summary.lines().find(|line| line.trim_start().starts_with(label))?;
    line.trim_start()[label.len()..].split_whitespace().next()?.parse().ok()
}

/// Runs `tool` once and records the sample or the failure.
fn measure_once(tool: &mut ToolResult, summary: &TrafficSummary) {
    let run = match run_child(&tool.command) {
        Ok(run) => run,
        Err(error) => {
            tool.failure = Some(format!("cannot run: {error}"));
            return;
        }
    };
    if !run.status.success() {
        tool.failure = Some(format!("{}: {}", run.status, last_line(&run.stderr)));
        return;
    }
    if matches!(tool.kind, ToolKind::WalkFloor | ToolKind::TableFloor) {
        match FloorReport::from_line(run.stdout.trim()) {
            Ok(report) if report.packets == summary.packets => {
                if tool.checks.is_empty() && tool.kind == ToolKind::TableFloor {
                    tool.checks.push(format!(
                        "table floor: {} flows, {} packets without a 5-tuple, {} packets found the table full",
                        report.flows, report.unkeyed_packets, report.table_full_packets
                    ));
                }
            }
            Ok(report) => {
                tool.failure = Some(format!("read {} packets of {}", report.packets, summary.packets));
                return;
            }
            Err(message) => {
                tool.failure = Some(message);
                return;
            }
        }
    }
    tool.runs.push(RunSample { cpu_s: run.cpu().as_secs_f64(), wall_s: run.wall.as_secs_f64(), max_rss_bytes: run.max_rss_bytes });
}

/// Per-batch latency: one extra run of a floor with `--latency`. Other
/// programs get the reason there is none.
fn measure_latency(tool: &ToolResult) -> Result<crate::floor::LatencySummary, String> {
    match tool.kind {
        ToolKind::WalkFloor | ToolKind::TableFloor => {
            let mut command = tool.command.clone();
            command.args.push("--latency".into());
            let run = run_child(&command).map_err(|error| format!("cannot run: {error}"))?;
            if !run.status.success() {
                return Err(format!("{}: {}", run.status, last_line(&run.stderr)));
            }
            FloorReport::from_line(run.stdout.trim())?.latency.ok_or_else(|| "no latency in the floor's output".to_string())
        }
        ToolKind::Nauditd { .. } => {
            let mut command = tool.command.clone();
            // The percentiles are in the run summary, which -q turns off.
            command.args.retain(|arg| arg != "-q");
            command.args.push("--batch-latency".into());
            let run = run_child(&command).map_err(|error| format!("cannot run: {error}"))?;
            if !run.status.success() {
                return Err(format!("{}: {}", run.status, last_line(&run.stderr)));
            }
            batch_latency_line(&run.stderr).ok_or_else(|| "no batch latency line in nauditd's summary".to_string())
        }
        ToolKind::Argus | ToolKind::SplitCeiling { .. } => Err("not measured".to_string()),
    }
}

/// Reads the `batch latency` line of nauditd's run summary:
/// `batch latency      p50 A ns, p99 B ns, p99.9 C ns, max D ns (N batches)`.
fn batch_latency_line(summary: &str) -> Option<crate::floor::LatencySummary> {
    let line = summary.lines().find_map(|line| line.trim().strip_prefix("batch latency"))?;
    let number_after = |label: &str| -> Option<u64> {
        let start = line.find(label)? + label.len();
        line[start..].split_whitespace().next()?.parse().ok()
    };
    Some(crate::floor::LatencySummary {
        batches: number_after("(")?,
        p50_ns: number_after("p50 ")?,
        p99_ns: number_after("p99 ")?,
        p999_ns: number_after("p99.9 ")?,
        max_ns: number_after("max ")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nauditd_batch_latency_line() {
        let text = "nauditd summary:\n  packets read       136\n  batch latency      p50 1200 ns, p99 5300 ns, p99.9 9100 ns, max 20000 ns (17 batches)\n";
        let latency = batch_latency_line(text).expect("the line parses");
        assert_eq!((latency.batches, latency.p50_ns, latency.p99_ns), (17, 1200, 5300));
        assert_eq!((latency.p999_ns, latency.max_ns), (9100, 20000));
        assert!(batch_latency_line("nauditd summary:\n").is_none());
    }

    #[test]
    fn summary_text_round_trip() {
        let summary = TrafficSummary { packets: 10, file_bytes: 2000, flows: 3, ipv6_packets: 4, vlan_packets: 5, vxlan_packets: 6, ..TrafficSummary::default() };
        assert_eq!(summary_from_text(&summary_to_text(&summary)), Some(summary));
        assert_eq!(summary_from_text("packets=x\n"), None);
    }

    #[test]
    fn nauditd_summary_numbers() {
        let text = "nauditd summary:\n  packets read       136\n  flows              41 (closed 0, idle 1, evicted 0)\n";
        assert_eq!(summary_number(text, "packets read"), Some(136));
        assert_eq!(summary_number(text, "flows"), Some(41));
        assert_eq!(summary_number(text, "records written"), None);
    }
}
