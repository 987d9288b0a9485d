//! Command-line options.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// nauditd: a network activity audit sensor. Reads packets and writes one
/// bidirectional flow record per conversation and status interval, in the
/// Argus tradition.
#[derive(Debug, Parser)]
#[command(name = "nauditd", version, about, long_about = None)]
pub struct Cli {
    /// Capture files to read (pcap or pcapng; `-` reads standard input).
    /// Several files are merged into one input in timestamp order.
    #[arg(short = 'r', long = "read", value_name = "FILE", num_args = 1.., required = true)]
    pub read: Vec<PathBuf>,

    /// Where to write records: a file path, or `-` for standard output.
    /// Without it, records go to standard output.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,

    /// Record format. Default: a table when standard output is a terminal,
    /// CSV otherwise.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,

    /// Status interval in seconds: a flow active for longer is reported once
    /// per interval, each record carrying that interval's counts.
    #[arg(short = 'S', long = "status-interval", value_name = "SECS", default_value_t = 5.0)]
    pub status_interval_secs: f64,

    /// Idle timeout of TCP flows, in seconds.
    #[arg(long = "tcp-timeout", value_name = "SECS", default_value_t = 60.0)]
    pub tcp_timeout_secs: f64,

    /// Idle timeout of UDP and other IP flows except ICMP, in seconds.
    #[arg(long = "ip-timeout", value_name = "SECS", default_value_t = 30.0)]
    pub ip_timeout_secs: f64,

    /// Idle timeout of ICMP and ICMPv6 flows, in seconds.
    #[arg(long = "icmp-timeout", value_name = "SECS", default_value_t = 5.0)]
    pub icmp_timeout_secs: f64,

    /// How long the fragments of an incomplete IP datagram are kept, in
    /// seconds.
    #[arg(long = "fragment-timeout", value_name = "SECS", default_value_t = 5.0)]
    pub fragment_timeout_secs: f64,

    /// Idle timeout of ARP flows, in seconds.
    #[arg(long = "arp-timeout", value_name = "SECS", default_value_t = 5.0)]
    pub arp_timeout_secs: f64,

    /// Idle timeout of non-IP layer-2 flows, in seconds.
    #[arg(long = "other-timeout", value_name = "SECS", default_value_t = 30.0)]
    pub other_timeout_secs: f64,

    /// Most flows held at once; beyond it the least recently active flow is
    /// reported with cause "evicted" and dropped.
    #[arg(long = "max-flows", value_name = "COUNT", default_value_t = 1 << 18)]
    pub max_flows: usize,

    /// Sensor identifier written into Argus records: an IPv4 address, an
    /// integer, or up to four characters.
    #[arg(long = "source-id", value_name = "ID", default_value = "0")]
    pub source_id: String,

    /// Do not print the run summary on standard error.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Record formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Argus version 3 binary records, readable by ra, racluster, rasort.
    Argus,
    /// CSV with a header row; the first columns are Argus's.
    Csv,
    /// One JSON object per line.
    Json,
    /// An aligned table.
    Text,
}

/// Converts seconds given on the command line to nanoseconds, rejecting
/// negative, infinite and NaN values.
pub fn seconds_to_ns(option: &str, seconds: f64) -> Result<u64, String> {
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("invalid value {seconds} for {option}: give a number of seconds, 0 or more"));
    }
    Ok((seconds * 1e9).round() as u64)
}
