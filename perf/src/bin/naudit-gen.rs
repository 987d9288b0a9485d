//! Writes a synthetic capture (classic pcap, Ethernet) for benchmarks.
//!
//! Example: 10 million 64-byte frames over 1 million flows,
//!
//! ```sh
//! naudit-gen --out /tmp/small64.pcap --mix small64 --packets 10000000 --flows 1000000
//! ```
//!
//! or a standard mix of the performance table at a fifth of its size:
//!
//! ```sh
//! naudit-gen --out /tmp/imix.pcap --standard imix --scale 0.2
//! ```

use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use naudit_perf::mixes::{StandardMix, STANDARD_MIXES};
use naudit_perf::traffic::{self, SizeMix, TrafficConfig, TrafficSummary};

/// Write a synthetic capture: concurrent flows or complete sessions, both
/// directions of every flow, deterministic for a seed.
#[derive(Parser, Debug)]
#[command(name = "naudit-gen", version)]
struct Args {
    /// Capture file to write, or `-` for standard output.
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,

    /// Start from a standard mix of the performance table (small64, imix,
    /// sessions, elephant); the options below override its settings.
    #[arg(long, value_name = "NAME")]
    standard: Option<String>,

    /// Factor applied to the standard mix's packet and flow counts.
    #[arg(long, default_value_t = 1.0, requires = "standard")]
    scale: f64,

    /// Packets to write.
    #[arg(short = 'n', long, value_name = "COUNT")]
    packets: Option<u64>,

    /// Flows, all open at once; with `--mix sessions`, sessions in total.
    #[arg(short, long, value_name = "COUNT")]
    flows: Option<u32>,

    /// Sessions open at once (sessions mix only; default: all).
    #[arg(long, value_name = "COUNT")]
    concurrent: Option<u32>,

    /// Frame sizes: small64 (64-byte frames), imix (64/576/1500 bytes,
    /// 7:4:1), or sessions (TCP sessions with handshake, data both ways and
    /// teardown, plus DNS queries and responses).
    #[arg(short, long, value_name = "MIX")]
    mix: Option<String>,

    /// Share of flows over IPv6, 0 to 1.
    #[arg(long, value_name = "SHARE")]
    ipv6_share: Option<f64>,

    /// Share of flows with an 802.1Q VLAN tag, 0 to 1.
    #[arg(long, value_name = "SHARE")]
    vlan_share: Option<f64>,

    /// Share of flows inside a VXLAN tunnel (outer UDP port 4789), 0 to 1.
    #[arg(long, value_name = "SHARE")]
    vxlan_share: Option<f64>,

    /// Share of flows (sessions) over UDP, 0 to 1; the rest is TCP.
    #[arg(long, value_name = "SHARE")]
    udp_share: Option<f64>,

    /// Seed of every random choice; equal seeds give identical files.
    #[arg(long)]
    seed: Option<u64>,

    /// Packets per second of capture time, which spaces the timestamps.
    #[arg(long, value_name = "PPS")]
    rate: Option<u64>,
}

/// Settings of a capture without `--standard`.
const DEFAULT_CONFIG: TrafficConfig = TrafficConfig {
    packets: 1_000_000,
    flows: 10_000,
    concurrent_sessions: None,
    size_mix: SizeMix::Imix,
    ipv6_share: 0.0,
    vlan_share: 0.0,
    vxlan_share: 0.0,
    udp_share: 0.3,
    seed: 1,
    rate_pps: naudit_perf::mixes::STANDARD_RATE_PPS,
};

fn config_of(args: &Args) -> Result<TrafficConfig, String> {
    let mut config = match &args.standard {
        Some(name) => {
            let names: Vec<&str> = STANDARD_MIXES.iter().map(|mix| mix.name).collect();
            let mix = StandardMix::named(name).ok_or_else(|| format!("unknown standard mix {name:?}: expected one of {}", names.join(", ")))?;
            if !(args.scale > 0.0 && args.scale.is_finite()) {
                return Err(format!("invalid scale {}: must be a positive number", args.scale));
            }
            mix.scaled(args.scale)
        }
        None => DEFAULT_CONFIG,
    };
    if let Some(name) = &args.mix {
        config.size_mix = SizeMix::from_name(name).ok_or_else(|| format!("unknown mix {name:?}: expected small64, imix or sessions"))?;
    }
    config.packets = args.packets.unwrap_or(config.packets);
    config.flows = args.flows.unwrap_or(config.flows);
    config.concurrent_sessions = args.concurrent.or(config.concurrent_sessions);
    config.ipv6_share = args.ipv6_share.unwrap_or(config.ipv6_share);
    config.vlan_share = args.vlan_share.unwrap_or(config.vlan_share);
    config.vxlan_share = args.vxlan_share.unwrap_or(config.vxlan_share);
    config.udp_share = args.udp_share.unwrap_or(config.udp_share);
    config.seed = args.seed.unwrap_or(config.seed);
    config.rate_pps = args.rate.unwrap_or(config.rate_pps);
    config.validate()?;
    Ok(config)
}

fn write(config: &TrafficConfig, out: &Path) -> io::Result<TrafficSummary> {
    if out.as_os_str() == "-" {
        traffic::write_capture(config, BufWriter::with_capacity(8 << 20, io::stdout().lock()))
    } else {
        traffic::write_capture_file(config, out)
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match config_of(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("naudit-gen: {message}");
            return ExitCode::from(2);
        }
    };

    let started = Instant::now();
    let summary = match write(&config, &args.out) {
        Ok(summary) => summary,
        Err(error) => {
            eprintln!("naudit-gen: writing {} failed: {error}", args.out.display());
            return ExitCode::FAILURE;
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    let share = |packets: u64| 100.0 * packets as f64 / summary.packets.max(1) as f64;
    eprintln!(
        "naudit-gen: wrote {} packets ({} flows, {} bytes) to {} in {elapsed:.2} s, {:.1} million packets/s",
        summary.packets,
        summary.flows,
        summary.file_bytes,
        args.out.display(),
        summary.packets as f64 / elapsed / 1e6
    );
    eprintln!(
        "naudit-gen: packets: TCP {:.1} %, UDP {:.1} %, IPv6 {:.1} %, VLAN {:.1} %, VXLAN {:.1} %, to server {}, to client {}",
        share(summary.tcp_packets),
        share(summary.udp_packets),
        share(summary.ipv6_packets),
        share(summary.vlan_packets),
        share(summary.vxlan_packets),
        summary.direction_packets[0],
        summary.direction_packets[1]
    );
    if config.size_mix == SizeMix::Sessions {
        eprintln!("naudit-gen: sessions started {}, completed {}", summary.flows, summary.sessions_completed);
    }
    ExitCode::SUCCESS
}
