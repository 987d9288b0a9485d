//! The benchmark's results and their rendering as the Markdown page
//! `RESULTS.md`.

use std::fmt::Write as _;

use crate::floor::LatencySummary;
use crate::machine::Machine;
use crate::measure::{CommandLine, EventCounts};

/// The kind of a measured program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolKind {
    /// The walk floor.
    WalkFloor,
    /// The table floor.
    TableFloor,
    /// nauditd, with `--workers N` when the option exists.
    Nauditd {
        /// The `--workers` value, `None` when the option was not given.
        workers: Option<u32>,
    },
    /// Argus 3.0.8.
    Argus,
    /// One-worker nauditd runs, all at once, each on the packets one worker
    /// of `--workers N` keeps: the ceiling of `--workers N` on this machine.
    SplitCeiling {
        /// N, the number of shares and of runs at once.
        workers: u32,
    },
}

/// One measured run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunSample {
    /// User plus system CPU seconds.
    pub cpu_s: f64,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// Peak resident set size, in bytes.
    pub max_rss_bytes: u64,
}

/// Every run of one program on one capture.
#[derive(Clone, Debug)]
pub struct ToolResult {
    /// Row label, such as `nauditd --workers 2`.
    pub label: String,
    /// The program's kind.
    pub kind: ToolKind,
    /// The exact command of the measured runs.
    pub command: CommandLine,
    /// True when the program maps the capture file, so that its pages count
    /// in its resident set; subtracted before bytes per flow are computed.
    pub maps_capture: bool,
    /// The measured runs, in the order they ran.
    pub runs: Vec<RunSample>,
    /// The reason the program could not be measured, if it could not.
    pub failure: Option<String>,
    /// Instruction and cycle counts of one extra run, or why there are none.
    pub counters: Result<EventCounts, String>,
    /// Per-batch latency of one extra run, or why there is none.
    pub latency: Result<LatencySummary, String>,
    /// Facts checked on the program's own output (packets it read, flows
    /// it evicted), for the notes.
    pub checks: Vec<String>,
    /// Flow records the program wrote, from nauditd's run summary.
    pub records: Option<u64>,
}

/// Everything measured on one capture.
#[derive(Clone, Debug)]
pub struct MixResult {
    /// Mix name.
    pub name: String,
    /// The load the mix puts on a sensor.
    pub purpose: String,
    /// Packets in the capture.
    pub packets: u64,
    /// Flows (sessions) in the capture.
    pub flows: u64,
    /// Capture file size in bytes.
    pub capture_bytes: u64,
    /// Share of packets over IPv6, with a VLAN tag, and inside VXLAN.
    pub shares: (f64, f64, f64),
    /// The generator command that writes this capture.
    pub generator_command: String,
    /// The programs measured, in table order.
    pub tools: Vec<ToolResult>,
}

/// The whole page.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// The machine.
    pub machine: Machine,
    /// When the runs started, in UTC.
    pub date: String,
    /// Load averages before and after the runs.
    pub load_before: String,
    /// Load averages after the runs.
    pub load_after: String,
    /// Versions of the programs involved.
    pub versions: Vec<(String, String)>,
    /// The scale factor of the standard mixes.
    pub scale: f64,
    /// Measured runs per program and capture.
    pub repetitions: usize,
    /// The command that regenerates the page.
    pub command: String,
    /// Whether instructions and cycles were counted, or why not.
    pub event_counting: Result<(), String>,
    /// Whether nauditd has `--workers`.
    pub workers_supported: bool,
    /// One entry per mix.
    pub mixes: Vec<MixResult>,
    /// Name of the 16-flow mix whose memory is the baseline.
    pub baseline_mix: String,
}

/// Returns the median of `values` (the mean of the middle two for an even
/// count), or `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len() % 2 == 0 { (sorted[middle - 1] + sorted[middle]) / 2.0 } else { sorted[middle] })
}

/// Returns the smallest of `values`, or `None` when empty.
pub fn minimum(values: &[f64]) -> Option<f64> {
    values.iter().copied().min_by(f64::total_cmp)
}

impl ToolResult {
    fn cpu_values(&self) -> Vec<f64> {
        self.runs.iter().map(|run| run.cpu_s).collect()
    }

    /// Median CPU seconds.
    pub fn median_cpu_s(&self) -> Option<f64> {
        median(&self.cpu_values())
    }

    /// Median wall seconds.
    pub fn median_wall_s(&self) -> Option<f64> {
        median(&self.runs.iter().map(|run| run.wall_s).collect::<Vec<_>>())
    }

    /// Median peak resident set, in bytes.
    pub fn median_rss_bytes(&self) -> Option<f64> {
        median(&self.runs.iter().map(|run| run.max_rss_bytes as f64).collect::<Vec<_>>())
    }

    /// Packets per CPU second, from the median CPU time.
    pub fn packets_per_cpu_second(&self, packets: u64) -> Option<f64> {
        self.median_cpu_s().filter(|cpu| *cpu > 0.0).map(|cpu| packets as f64 / cpu)
    }

    /// Nanoseconds of CPU per packet: (min, median).
    pub fn ns_per_packet(&self, packets: u64) -> Option<(f64, f64)> {
        let per_packet = |cpu_s: f64| cpu_s * 1e9 / packets as f64;
        Some((per_packet(minimum(&self.cpu_values())?), per_packet(self.median_cpu_s()?)))
    }

    /// True for programs that hold flows, whose memory per flow means
    /// something.
    fn holds_flows(&self) -> bool {
        !matches!(self.kind, ToolKind::WalkFloor | ToolKind::SplitCeiling { .. })
    }

    /// Median peak resident set less the mapped capture, in bytes. `None`
    /// for the split ceiling, whose runs each map a part of the capture.
    pub fn own_memory_bytes(&self, capture_bytes: u64) -> Option<f64> {
        if matches!(self.kind, ToolKind::SplitCeiling { .. }) {
            return None;
        }
        let mapped = if self.maps_capture { capture_bytes as f64 } else { 0.0 };
        Some(self.median_rss_bytes()? - mapped)
    }

    /// Spread of the CPU times, (max - min) / median, as a fraction.
    pub fn cpu_spread(&self) -> Option<f64> {
        let values = self.cpu_values();
        let max = values.iter().copied().max_by(f64::total_cmp)?;
        Some((max - minimum(&values)?) / median(&values)?)
    }
}

impl MixResult {
    fn tool(&self, kind: ToolKind) -> Option<&ToolResult> {
        self.tools.iter().find(|tool| tool.kind == kind && tool.failure.is_none() && !tool.runs.is_empty())
    }

    /// Returns the first nauditd row: the one-worker run.
    fn first_nauditd(&self) -> Option<&ToolResult> {
        self.tools.iter().find(|tool| matches!(tool.kind, ToolKind::Nauditd { .. }) && tool.failure.is_none() && !tool.runs.is_empty())
    }
}

impl BenchReport {
    fn baseline(&self) -> Option<&MixResult> {
        self.mixes.iter().find(|mix| mix.name == self.baseline_mix)
    }

    /// Resident bytes per flow of `tool` on `mix`: its memory above its
    /// memory on the 16-flow baseline capture, over the mix's flows.
    pub fn bytes_per_flow(&self, mix: &MixResult, tool: &ToolResult) -> Option<f64> {
        let baseline_mix = self.baseline()?;
        if mix.name == baseline_mix.name || mix.flows <= baseline_mix.flows || !tool.holds_flows() {
            return None;
        }
        let baseline_tool = baseline_mix.tools.iter().find(|candidate| candidate.kind == tool.kind && !candidate.runs.is_empty())?;
        let above = tool.own_memory_bytes(mix.capture_bytes)? - baseline_tool.own_memory_bytes(baseline_mix.capture_bytes)?;
        Some(above / (mix.flows - baseline_mix.flows) as f64)
    }

    /// Renders the whole page.
    pub fn render(&self) -> String {
        let mut page = String::new();
        self.render_header(&mut page);
        self.render_summary(&mut page);
        for mix in &self.mixes {
            self.render_mix(&mut page, mix);
        }
        self.render_latency(&mut page);
        self.render_machine(&mut page);
        self.render_reproduce(&mut page);
        self.render_notes(&mut page);
        page
    }

    fn render_header(&self, page: &mut String) {
        let _ = writeln!(page, "# nauditd performance\n");
        let _ = writeln!(
            page,
            "Measured on {} by `naudit-bench` (package `naudit-perf`, folder `perf/`) at scale {} of the standard mixes, \
             {} measured runs per program and capture, programs alternating. This page is generated: regenerate it with\n",
            self.date, self.scale, self.repetitions
        );
        let _ = writeln!(page, "```sh\n{}\n```\n", self.command);
        let _ = writeln!(
            page,
            "Every number is CPU time (user + system, from `wait4`) of one run over the whole capture file, so it \
             includes start-up, reading the file and writing records to `/dev/null`. \"pps/core\" is packets per CPU \
             second from the median run; \"ns/pkt\" is CPU nanoseconds per packet as min / median. Ratios to Argus \
             compare nauditd's first row with Argus on the same capture; above 1 means nauditd does better. \
             \"nauditd ÷ table floor ns/pkt\" divides nauditd's cost by the floor's, so above 1 means nauditd is \
             slower.\n"
        );
    }

    fn render_summary(&self, page: &mut String) {
        let _ = writeln!(page, "## Summary\n");
        let _ = writeln!(
            page,
            "| mix | packets | flows | nauditd pps/core | nauditd ns/pkt | nauditd RSS MiB (less capture) | nauditd bytes/flow | Argus pps/core | \
             Argus bytes/flow | nauditd ÷ Argus pps/core | walk floor ns/pkt | table floor ns/pkt | nauditd ÷ table floor ns/pkt | 1 → 2 workers |"
        );
        let _ = writeln!(page, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        for mix in &self.mixes {
            let nauditd = mix.first_nauditd();
            let argus = mix.tool(ToolKind::Argus);
            let walk = mix.tool(ToolKind::WalkFloor);
            let table = mix.tool(ToolKind::TableFloor);
            let median_ns = |tool: Option<&ToolResult>| tool.and_then(|tool| tool.ns_per_packet(mix.packets)).map(|(_, median)| median);
            let pps = |tool: Option<&ToolResult>| tool.and_then(|tool| tool.packets_per_cpu_second(mix.packets));
            let bytes_per_flow = |tool: Option<&ToolResult>| tool.and_then(|tool| self.bytes_per_flow(mix, tool));
            let _ = writeln!(
                page,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                mix.name,
                count(mix.packets as f64),
                count(mix.flows as f64),
                or_dash(pps(nauditd).map(count)),
                or_dash(median_ns(nauditd).map(|ns| format!("{ns:.0}"))),
                or_dash(nauditd.and_then(|tool| self.memory_text(mix, tool))),
                or_dash(bytes_per_flow(nauditd).map(bytes_text)),
                or_dash(pps(argus).map(count)),
                or_dash(bytes_per_flow(argus).map(bytes_text)),
                or_dash(ratio(pps(nauditd), pps(argus))),
                or_dash(median_ns(walk).map(|ns| format!("{ns:.1}"))),
                or_dash(median_ns(table).map(|ns| format!("{ns:.1}"))),
                or_dash(ratio(median_ns(nauditd), median_ns(table))),
                self.scaling(mix),
            );
        }
        let _ = writeln!(
            page,
            "\n\"1 → 2 workers\" is the wall-time speedup of `--workers 2` over `--workers 1`, then the change in \
             packets per CPU second (below 1: the second worker and the classifier cost CPU). The split ceiling is \
             the same speedup for two one-worker runs at once, each on a file that contains only the packets one of the \
             two workers keeps: what two workers could reach on this machine if passing over each other's packets \
             cost nothing. Bytes per flow are resident bytes above the {}-flow `{}` capture's, divided by the extra \
             flows; a dash means not measured or not applicable.\n",
            self.baseline().map_or(16, |mix| mix.flows),
            self.baseline_mix
        );
    }

    /// Formats the median peak RSS with the RSS less the mapped capture in
    /// brackets.
    fn memory_text(&self, mix: &MixResult, tool: &ToolResult) -> Option<String> {
        let own = tool.own_memory_bytes(mix.capture_bytes)?;
        Some(format!("{} ({})", mebibytes(tool.median_rss_bytes()?), mebibytes(own)))
    }

    fn scaling(&self, mix: &MixResult) -> String {
        if !self.workers_supported {
            return "not measured: nauditd has no `--workers`".to_string();
        }
        let one = mix.tool(ToolKind::Nauditd { workers: Some(1) });
        let two = mix.tool(ToolKind::Nauditd { workers: Some(2) });
        let (Some(one), Some(two)) = (one, two) else {
            return "—".to_string();
        };
        let speedup = ratio(one.median_wall_s(), two.median_wall_s());
        let efficiency = ratio(two.packets_per_cpu_second(mix.packets), one.packets_per_cpu_second(mix.packets));
        let ceiling = mix.tool(ToolKind::SplitCeiling { workers: 2 }).and_then(|ceiling| ratio(one.median_wall_s(), ceiling.median_wall_s()));
        format!("{} wall (split ceiling {}), {} pps/core", or_dash(speedup), or_dash(ceiling), or_dash(efficiency))
    }

    fn render_mix(&self, page: &mut String, mix: &MixResult) {
        let (ipv6, vlan, vxlan) = mix.shares;
        let _ = writeln!(page, "## {}\n", mix.name);
        let _ = writeln!(
            page,
            "{}. {} packets, {} flows, capture {} MiB; packets over IPv6 {:.0} %, with a VLAN tag {:.0} %, in VXLAN {:.0} %.\n",
            mix.purpose,
            mix.packets,
            mix.flows,
            mebibytes(mix.capture_bytes as f64),
            ipv6 * 100.0,
            vlan * 100.0,
            vxlan * 100.0
        );
        let _ = writeln!(
            page,
            "| program | CPU s min / median | wall s median | pps/core | ns/pkt min / median | instructions/pkt | cycles/pkt | \
             peak RSS MiB | RSS less capture MiB | bytes/flow | pps/core ÷ Argus | Argus memory ÷ memory |"
        );
        let _ = writeln!(page, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for tool in &mix.tools {
            self.render_tool_row(page, mix, tool);
        }

        let _ = writeln!(page, "\nCommands:\n");
        let _ = writeln!(page, "```sh\n{}", mix.generator_command);
        for tool in &mix.tools {
            let _ = writeln!(page, "{}", tool.command);
        }
        let _ = writeln!(page, "```\n");
        self.render_record_rates(page, mix);
        let checks: Vec<&String> = mix.tools.iter().flat_map(|tool| tool.checks.iter()).collect();
        if !checks.is_empty() {
            for check in checks {
                let _ = writeln!(page, "- {check}");
            }
            let _ = writeln!(page);
        }
    }

    /// Lists nauditd's records per second, and packets and records per
    /// second per worker, from the median wall time.
    fn render_record_rates(&self, page: &mut String, mix: &MixResult) {
        for tool in &mix.tools {
            let (ToolKind::Nauditd { workers }, Some(records), Some(wall_s)) = (tool.kind, tool.records, tool.median_wall_s()) else {
                continue;
            };
            let workers = f64::from(workers.unwrap_or(1));
            let _ = writeln!(
                page,
                "- {}: {records} records, {:.0} records/s, {:.2} M packets/s and {:.0} records/s per worker (median wall time)",
                tool.label,
                records as f64 / wall_s,
                mix.packets as f64 / wall_s / workers / 1e6,
                records as f64 / wall_s / workers,
            );
        }
    }

    fn render_tool_row(&self, page: &mut String, mix: &MixResult, tool: &ToolResult) {
        if let Some(failure) = &tool.failure {
            let _ = writeln!(page, "| {} | failed: {} | | | | | | | | | | |", tool.label, failure.replace('|', "\\|"));
            return;
        }
        let argus = mix.tool(ToolKind::Argus);
        let cpu = tool.cpu_values();
        let (instructions, cycles) = match &tool.counters {
            Ok(counts) => (
                format!("{:.0}", counts.instructions as f64 / mix.packets as f64),
                format!("{:.0}", counts.cycles as f64 / mix.packets as f64),
            ),
            Err(_) => ("not counted".to_string(), "not counted".to_string()),
        };
        let argus_ratio = |value: Option<f64>, argus_value: Option<f64>| {
            if tool.kind == ToolKind::Argus {
                "1".to_string()
            } else {
                or_dash(ratio(value, argus_value))
            }
        };

        let _ = writeln!(
            page,
            "| {} | {} / {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            tool.label,
            or_dash(minimum(&cpu).map(|s| format!("{s:.3}"))),
            or_dash(median(&cpu).map(|s| format!("{s:.3}"))),
            or_dash(tool.median_wall_s().map(|s| format!("{s:.3}"))),
            or_dash(tool.packets_per_cpu_second(mix.packets).map(count)),
            or_dash(tool.ns_per_packet(mix.packets).map(|(min, median)| format!("{min:.1} / {median:.1}"))),
            instructions,
            cycles,
            or_dash(tool.median_rss_bytes().map(mebibytes)),
            or_dash(tool.own_memory_bytes(mix.capture_bytes).map(mebibytes)),
            or_dash(self.bytes_per_flow(mix, tool).map(bytes_text)),
            argus_ratio(tool.packets_per_cpu_second(mix.packets), argus.and_then(|argus| argus.packets_per_cpu_second(mix.packets))),
            // Less memory is better, so this ratio is Argus over the program.
            argus_ratio(
                argus.and_then(|argus| argus.own_memory_bytes(mix.capture_bytes)),
                tool.own_memory_bytes(mix.capture_bytes),
            ),
        );
    }

    fn render_latency(&self, page: &mut String) {
        let _ = writeln!(page, "## Per-batch latency\n");
        let _ = writeln!(
            page,
            "Time to process one batch, from one extra run with a clock read around every batch, in microseconds. \
             The floors time batches of 64 packets, the batch size of nauditd's drivers. nauditd runs with \
             `--batch-latency` and times each batch a worker processes, from decoding its first packet to emitting \
             the records then due; with several workers sharing a file, a worker's batch holds only the packets of \
             its own flows, so its batches are smaller.\n"
        );
        let _ = writeln!(page, "| mix | program | batches | p50 µs | p99 µs | p99.9 µs | max µs |");
        let _ = writeln!(page, "|---|---|---:|---:|---:|---:|---:|");
        for mix in &self.mixes {
            for tool in &mix.tools {
                match &tool.latency {
                    Ok(latency) => {
                        let _ = writeln!(
                            page,
                            "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                            mix.name,
                            tool.label,
                            latency.batches,
                            latency.p50_ns as f64 / 1000.0,
                            latency.p99_ns as f64 / 1000.0,
                            latency.p999_ns as f64 / 1000.0,
                            latency.max_ns as f64 / 1000.0
                        );
                    }
                    Err(reason) if matches!(tool.kind, ToolKind::Nauditd { .. }) => {
                        let _ = writeln!(page, "| {} | {} | {reason} | | | | |", mix.name, tool.label);
                    }
                    Err(_) => {}
                }
            }
        }
        let _ = writeln!(page);
    }

    fn render_machine(&self, page: &mut String) {
        let machine = &self.machine;
        let _ = writeln!(page, "## Machine\n");
        let _ = writeln!(page, "- CPU: {} ({} logical CPUs)", machine.cpu_model, machine.logical_cpus);
        let _ = writeln!(page, "- Memory: {:.1} GiB", machine.memory_bytes as f64 / (1u64 << 30) as f64);
        let _ = writeln!(page, "- Kernel: Linux {}", machine.kernel);
        for (name, version) in &self.versions {
            let _ = writeln!(page, "- {name}: {version}");
        }
        let _ = writeln!(page, "- Load average (1, 5, 15 min) before the runs: {}; after: {}", self.load_before, self.load_after);
        match &self.event_counting {
            Ok(()) => {
                let _ = writeln!(page, "- Instructions and cycles: counted with `perf stat -e instructions,cycles` in one extra run per program");
            }
            Err(reason) => {
                let _ = writeln!(page, "- Instructions and cycles: not counted ({reason})");
            }
        }
        let _ = writeln!(page);
    }

    fn render_reproduce(&self, page: &mut String) {
        let _ = writeln!(page, "## Reproduce\n");
        let _ = writeln!(
            page,
            "From the workspace root, with Debian's `argus-server` package installed (it provides `argus` 3.0.8):\n\n\
             ```sh\n{}\n```\n\n\
             Started through `cargo run`, the runner first builds nauditd in release mode from the work tree. With \
             `--nauditd-commit REV` it exports that commit with `git archive` into the data folder and builds it \
             there instead, and with `--nauditd FILE` it measures the given binary. It writes the captures to \
             `perf/data/` (ignored by git) and reuses a capture whose file name matches its settings. The per-mix \
             command lists above run one program by hand.\n",
            self.command
        );
    }

    fn render_notes(&self, page: &mut String) {
        let _ = writeln!(page, "## Notes on noise and method\n");
        let _ = writeln!(
            page,
            "- The machine is shared with compilers and test runs of other work, so any run can lose CPU to them. \
             CPU time is less exposed to that than wall time, and the minimum of the runs is the least disturbed \
             value. The spread of each program's CPU times, (max - min) / median, is listed below."
        );
        let _ = writeln!(
            page,
            "- Both programs write binary Argus records to /dev/null, so both pay for encoding the same kind of \
             record. nauditd's CSV and JSON output cost more per record than its Argus encoder."
        );
        let _ = writeln!(
            page,
            "- Argus spends about a second of wall time on every file waiting on its timers; its CPU time does \
             not include that wait."
        );
        let _ = writeln!(
            page,
            "- Peak RSS is `ru_maxrss`. nauditd and the floors map the capture file, so every page of it that they \
             read counts in their RSS, although those pages are the kernel's page cache and shared. Argus reads \
             through libpcap's buffer instead. \"RSS less capture\" subtracts the capture's size from the RSS of \
             programs that map it, and the memory ratio to Argus uses that figure. Bytes per flow also subtract the \
             same program's memory on the `{}` capture.",
            self.baseline_mix
        );
        let _ = writeln!(
            page,
            "- In the sessions mix flows end during the capture, so fewer than all sessions are held at the peak: its \
             bytes per flow divide by every session and are a lower bound."
        );
        let _ = writeln!(page, "\nCPU time spread per program:\n");
        for mix in &self.mixes {
            let spreads: Vec<String> = mix
                .tools
                .iter()
                .filter_map(|tool| tool.cpu_spread().map(|spread| format!("{} {:.0} %", tool.label, spread * 100.0)))
                .collect();
            let _ = writeln!(page, "- {}: {}", mix.name, spreads.join(", "));
        }
    }
}

/// Formats a count with a metric suffix: 1234567 as "1.23 M".
pub fn count(value: f64) -> String {
    if value >= 1e9 {
        format!("{:.2} G", value / 1e9)
    } else if value >= 1e6 {
        format!("{:.2} M", value / 1e6)
    } else if value >= 1e4 {
        format!("{:.0} k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

/// Formats bytes per flow; a negative estimate means the flows' memory is
/// smaller than the run-to-run noise of the resident set.
fn bytes_text(bytes: f64) -> String {
    if bytes < 0.0 {
        "below noise".to_string()
    } else {
        format!("{bytes:.0}")
    }
}

fn mebibytes(bytes: f64) -> String {
    format!("{:.1}", bytes / (1u64 << 20) as f64)
}

fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> Option<String> {
    let (numerator, denominator) = (numerator?, denominator?);
    (denominator > 0.0).then(|| format!("{:.2}", numerator / denominator))
}

fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "—".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(kind: ToolKind, cpu: &[f64], rss_mib: u64, maps_capture: bool) -> ToolResult {
        ToolResult {
            label: format!("{kind:?}"),
            kind,
            command: CommandLine::new("tool", ["-r", "file"]),
            maps_capture,
            runs: cpu.iter().map(|&cpu_s| RunSample { cpu_s, wall_s: cpu_s, max_rss_bytes: rss_mib << 20 }).collect(),
            failure: None,
            counters: Err("not supported".to_string()),
            latency: Err("no instrumentation".to_string()),
            checks: Vec::new(),
            records: None,
        }
    }

    fn mix(name: &str, flows: u64, capture_mib: u64, tools: Vec<ToolResult>) -> MixResult {
        MixResult {
            name: name.to_string(),
            purpose: "test".to_string(),
            packets: 1_000_000,
            flows,
            capture_bytes: capture_mib << 20,
            shares: (0.1, 0.2, 0.0),
            generator_command: "naudit-gen".to_string(),
            tools,
        }
    }

    fn report() -> BenchReport {
        let nauditd = ToolKind::Nauditd { workers: None };
        BenchReport {
            machine: Machine { cpu_model: "CPU".to_string(), logical_cpus: 2, memory_bytes: 1 << 30, kernel: "6.1".to_string() },
            date: "2024-01-01 00:00 UTC".to_string(),
            load_before: "0.1 0.1 0.1".to_string(),
            load_after: "0.2 0.2 0.2".to_string(),
            versions: vec![("argus".to_string(), "3.0.8".to_string())],
            scale: 0.2,
            repetitions: 3,
            command: "naudit-bench".to_string(),
            event_counting: Err("not supported".to_string()),
            workers_supported: false,
            mixes: vec![
                mix("small", 1_000_016, 100, vec![tool(nauditd, &[1.0, 2.0, 0.5], 300, true), tool(ToolKind::Argus, &[4.0, 4.0, 5.0], 400, false)]),
                mix("elephant", 16, 50, vec![tool(nauditd, &[0.4], 60, true), tool(ToolKind::Argus, &[2.0], 10, false)]),
            ],
            baseline_mix: "elephant".to_string(),
        }
    }

    #[test]
    fn record_rates_per_worker() {
        let report = report();
        let mut two_workers = tool(ToolKind::Nauditd { workers: Some(2) }, &[2.0, 1.0, 3.0], 300, true);
        two_workers.label = "nauditd --workers 2".to_string();
        two_workers.records = Some(500_000);
        let small = MixResult { tools: vec![two_workers], ..report.mixes[0].clone() };
        let mut page = String::new();
        report.render_record_rates(&mut page, &small);
        // Median wall 2 s: 250000 records/s, 0.25 M packets/s per worker.
        assert_eq!(
            page,
            "- nauditd --workers 2: 500000 records, 250000 records/s, 0.25 M packets/s and 125000 records/s per worker (median wall time)\n"
        );
    }

    #[test]
    fn median_and_minimum() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(minimum(&[3.0, 1.0, 2.0]), Some(1.0));
    }

    #[test]
    fn bytes_per_flow_subtracts_mapping_and_baseline() {
        let report = report();
        let small = &report.mixes[0];
        // nauditd: (300 - 100) - (60 - 50) = 190 MiB over 1M flows.
        let nauditd = report.bytes_per_flow(small, &small.tools[0]).unwrap();
        assert!((nauditd - 190.0 * 1_048_576.0 / 1e6).abs() < 1e-6, "{nauditd}");
        // Argus maps nothing: 400 - 10 = 390 MiB.
        let argus = report.bytes_per_flow(small, &small.tools[1]).unwrap();
        assert!((argus - 390.0 * 1_048_576.0 / 1e6).abs() < 1e-6, "{argus}");
        assert_eq!(report.bytes_per_flow(&report.mixes[1], &report.mixes[1].tools[0]), None);
    }

    #[test]
    fn rates_from_median_cpu() {
        let report = report();
        let nauditd = &report.mixes[0].tools[0];
        assert_eq!(nauditd.packets_per_cpu_second(1_000_000), Some(1_000_000.0));
        assert_eq!(nauditd.ns_per_packet(1_000_000), Some((500.0, 1000.0)));
    }

    #[test]
    fn page_has_every_section() {
        let page = report().render();
        for heading in ["# nauditd performance", "## Summary", "## small", "## elephant", "## Per-batch latency", "## Machine", "## Reproduce"] {
            assert!(page.contains(heading), "missing {heading}");
        }
        assert!(page.contains("| small | 1.00 M | 1.00 M | 1.00 M |"), "summary row:\n{page}");
        assert!(page.contains("not counted"));
    }

    #[test]
    fn counts_formatted() {
        assert_eq!(count(1_234_567.0), "1.23 M");
        assert_eq!(count(45_600.0), "46 k");
        assert_eq!(count(999.0), "999");
    }
}
