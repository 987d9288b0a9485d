//! The DPDK driver's cost per packet: nauditd reading a capture through
//! DPDK's net_pcap virtual device, against nauditd reading the same file
//! with its memory-mapped reader, one worker each.
//!
//! Both runs carry fixed costs that are not per packet: process start, EAL
//! initialisation and, for net_pcap, the second of polling an empty port
//! that ends a replay. Each program therefore also runs on a small capture
//! of the same mix, and the cost per packet is the difference in CPU time
//! divided by the difference in packets.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::machine::{self, Machine};
use crate::measure::{last_line, run_child, ChildRun, CommandLine};
use crate::report::{median, minimum};

/// Settings of the DPDK comparison.
#[derive(Clone, Debug)]
pub struct DpdkBenchOptions {
    /// A nauditd built with `--features dpdk`.
    pub nauditd: PathBuf,
    /// The measured capture and its packet count.
    pub capture: (PathBuf, u64),
    /// A small capture of the same mix and its packet count, for the fixed
    /// costs.
    pub small_capture: (PathBuf, u64),
    /// `--max-flows` for nauditd: at least the capture's flow count.
    pub max_flows: u64,
    /// Measured rounds; each runs the four commands once.
    pub repetitions: usize,
    /// The command line that regenerates the page.
    pub command: String,
}

/// CPU nanoseconds per packet of one input path, one value per round.
#[derive(Clone, Debug, Default)]
pub struct PathCost {
    /// Per-packet CPU time of each round, in nanoseconds.
    pub ns_per_packet: Vec<f64>,
    /// Wall time of each run on the measured capture, in seconds.
    pub wall_s: Vec<f64>,
}

/// The comparison's result.
#[derive(Clone, Debug)]
pub struct DpdkBenchReport {
    pub options: DpdkBenchOptions,
    pub machine: Machine,
    pub date: String,
    pub load_before: String,
    pub load_after: String,
    pub file: PathCost,
    pub dpdk: PathCost,
    /// The two command lines on the measured capture, for the page.
    pub commands: [String; 2],
}

/// EAL arguments that replay `capture` on one net_pcap port without
/// hugepages or PCI devices.
fn eal_args(capture: &Path) -> String {
    format!(
        "--no-huge --no-pci -m 512 --no-telemetry -l 0 --file-prefix naudit-bench-{} --vdev=net_pcap0,rx_pcap={}",
        std::process::id(),
        capture.display()
    )
}

fn file_command(options: &DpdkBenchOptions, capture: &Path) -> CommandLine {
    let max_flows = options.max_flows.to_string();
    CommandLine::new(
        &options.nauditd,
        ["-r".into(), capture.as_os_str().to_owned(), "--workers".into(), "1".into(), "--max-flows".into(), max_flows.into(), "-w".into(), "/dev/null".into(), "-q".into()],
    )
}

fn dpdk_command(options: &DpdkBenchOptions, capture: &Path) -> CommandLine {
    let max_flows = options.max_flows.to_string();
    CommandLine::new(
        &options.nauditd,
        [
            "--driver".to_string(),
            "dpdk".to_string(),
            "--dpdk-args".to_string(),
            eal_args(capture),
            "--workers".to_string(),
            "1".to_string(),
            "--max-flows".to_string(),
            max_flows,
            "-w".to_string(),
            "/dev/null".to_string(),
            "-q".to_string(),
        ],
    )
}

/// Runs `command` and checks that it succeeded.
fn measured_run(command: &CommandLine) -> Result<ChildRun, String> {
    let run = run_child(command).map_err(|error| format!("cannot run {command}: {error}"))?;
    if !run.status.success() {
        return Err(format!("{command} failed with {}: {}", run.status, last_line(&run.stderr)));
    }
    Ok(run)
}

/// CPU nanoseconds per packet between a run on the small capture and one
/// on the measured capture.
fn cost_per_packet(large: &ChildRun, small: &ChildRun, extra_packets: u64) -> f64 {
    let extra_cpu_s = large.cpu().as_secs_f64() - small.cpu().as_secs_f64();
    extra_cpu_s * 1e9 / extra_packets.max(1) as f64
}

/// Runs the comparison: every round runs the file driver and the DPDK
/// driver on both captures, in an order that rotates from round to round.
pub fn run(options: &DpdkBenchOptions) -> Result<DpdkBenchReport, String> {
    let (capture, packets) = (&options.capture.0, options.capture.1);
    let (small, small_packets) = (&options.small_capture.0, options.small_capture.1);
    if packets <= small_packets {
        return Err(format!("{} has no more packets than the small capture {}", capture.display(), small.display()));
    }
    let date = machine::utc_now();
    let load_before = machine::load_average();
    let commands = [
        (0, file_command(options, capture)),
        (1, dpdk_command(options, capture)),
        (2, file_command(options, small)),
        (3, dpdk_command(options, small)),
    ];

    let (mut file, mut dpdk) = (PathCost::default(), PathCost::default());
    for round in 0..options.repetitions {
        let mut runs: [Option<ChildRun>; 4] = Default::default();
        for step in 0..commands.len() {
            let (slot, command) = &commands[(round + step) % commands.len()];
            eprintln!("naudit-bench: round {} of {}: {command}", round + 1, options.repetitions);
            runs[*slot] = Some(measured_run(command)?);
        }
        let [Some(file_large), Some(dpdk_large), Some(file_small), Some(dpdk_small)] = runs else {
            unreachable!("every slot ran once");
        };
        file.ns_per_packet.push(cost_per_packet(&file_large, &file_small, packets - small_packets));
        dpdk.ns_per_packet.push(cost_per_packet(&dpdk_large, &dpdk_small, packets - small_packets));
        file.wall_s.push(file_large.wall.as_secs_f64());
        dpdk.wall_s.push(dpdk_large.wall.as_secs_f64());
    }

    Ok(DpdkBenchReport {
        options: options.clone(),
        machine: Machine::read(),
        date,
        load_before,
        load_after: machine::load_average(),
        file,
        dpdk,
        commands: [commands[0].1.to_string(), commands[1].1.to_string()],
    })
}

impl DpdkBenchReport {
    /// Renders the Markdown page.
    pub fn render(&self) -> String {
        let mut page = String::new();
        let options = &self.options;
        let row = |page: &mut String, name: &str, cost: &PathCost| {
            let median_ns = median(&cost.ns_per_packet).unwrap_or(f64::NAN);
            let minimum_ns = minimum(&cost.ns_per_packet).unwrap_or(f64::NAN);
            let wall = median(&cost.wall_s).unwrap_or(f64::NAN);
            let _ = writeln!(
                page,
                "| {name} | {median_ns:.1} / {minimum_ns:.1} | {:.2} M | {wall:.2} |",
                1e3 / median_ns,
            );
        };
        let _ = writeln!(page, "# DPDK driver cost per packet\n");
        let _ = writeln!(
            page,
            "nauditd with one worker on `{}` ({} packets): its memory-mapped file reader against the DPDK driver \
             reading the same file through DPDK's net_pcap virtual device. Measured {} with `{}`.\n",
            options.capture.0.file_name().map_or_else(|| options.capture.0.display().to_string(), |name| name.to_string_lossy().into_owned()),
            options.capture.1,
            self.date,
            options.command,
        );
        let _ = writeln!(page, "| input path | CPU ns/packet (median / min) | packets/s per lcore | wall s (median) |");
        let _ = writeln!(page, "|---|---:|---:|---:|");
        row(&mut page, "file driver (`-r`)", &self.file);
        row(&mut page, "DPDK driver on net_pcap", &self.dpdk);
        let overhead: Vec<f64> =
            self.dpdk.ns_per_packet.iter().zip(&self.file.ns_per_packet).map(|(dpdk, file)| dpdk - file).collect();
        let _ = writeln!(
            page,
            "\nDPDK path overhead: {:.1} ns per packet (median over rounds of the DPDK cost minus the file cost in the same round).\n",
            median(&overhead).unwrap_or(f64::NAN)
        );
        let _ = writeln!(page, "## How it is measured\n");
        let _ = writeln!(
            page,
            "- CPU time is user plus system time of the whole process, from `wait4`. Each round runs both programs on the \
             measured capture and on a {}-packet capture of the same mix; the cost per packet is the difference in CPU \
             time over the difference in packets. This removes process start, EAL initialisation and the second of \
             polling that ends a net_pcap replay.",
            options.small_capture.1
        );
        let _ = writeln!(
            page,
            "- The DPDK path includes what net_pcap does for every packet: libpcap reads it from the file and copies it \
             into an mbuf from the mempool. A NIC writes packets into mbufs by DMA instead, so on hardware the driver's \
             own overhead is the mbuf handling and the burst loop, and this figure bounds it from above."
        );
        let _ = writeln!(page, "- {} rounds; the order of the four runs rotates from one round to the next.\n", options.repetitions);
        let _ = writeln!(page, "Commands on the measured capture:\n\n```sh\n{}\n{}\n```\n", self.commands[0], self.commands[1]);
        let _ = writeln!(page, "## Machine\n");
        let machine = &self.machine;
        let _ = writeln!(
            page,
            "- CPU: {}, {} logical CPUs; memory {:.1} GiB; kernel {}",
            machine.cpu_model,
            machine.logical_cpus,
            machine.memory_bytes as f64 / (1u64 << 30) as f64,
            machine.kernel
        );
        let _ = writeln!(page, "- Load average before and after: {} / {}", self.load_before, self.load_after);
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eal_args_replay_one_file() {
        let args = eal_args(Path::new("/data/imix.pcap"));
        assert!(args.starts_with("--no-huge --no-pci "), "{args}");
        assert!(args.ends_with(" --vdev=net_pcap0,rx_pcap=/data/imix.pcap"), "{args}");
    }
}
