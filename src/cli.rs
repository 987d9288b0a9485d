//! Command-line options.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// nauditd: a network activity audit sensor. Reads packets and writes one
/// bidirectional flow record per conversation and status interval, in the
/// Argus tradition.
#[derive(Debug, Parser)]
#[command(name = "nauditd", version, about, long_about = None)]
// Without any input the usage message names every way to give one.
#[command(group(
    clap::ArgGroup::new("input")
        .required(true)
        .multiple(true)
        .args(["read", "interface", "list_interfaces", "dpdk_args"])
))]
pub struct Cli {
    /// Capture file to read (pcap, pcapng or ERF; `-` reads standard input).
    /// Repeat -r to read several files, merged into one input in timestamp
    /// order.
    #[arg(
        short = 'r',
        long = "read",
        value_name = "FILE",
        action = clap::ArgAction::Append,
        conflicts_with_all = ["interface", "dpdk_args"]
    )]
    pub read: Vec<PathBuf>,

    /// Network interface to capture from live (needs root, or the
    /// CAP_NET_RAW and CAP_NET_ADMIN capabilities). `nauditd -D` lists them.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    pub interface: Option<String>,

    /// List the interfaces the chosen driver can capture from, and exit.
    #[arg(short = 'D', long = "list-interfaces")]
    pub list_interfaces: bool,

    /// Live capture driver: libpcap (one queue, any OS libpcap supports),
    /// AF_PACKET (Linux, one memory-mapped ring per worker joined by the
    /// kernel's flow hash), DPDK (needs --dpdk-args) or ibverbs (the
    /// InfiniBand verbs sniffer; -i names an RDMA device as DEVICE or
    /// DEVICE:PORT). Default: afpacket on Linux with more than one worker,
    /// pcap otherwise.
    #[arg(long, value_enum, value_name = "DRIVER")]
    pub driver: Option<DriverKind>,

    /// EAL arguments of the DPDK driver (`--driver dpdk`), split as a shell
    /// would, for example `-l 0 --vdev=net_pcap0,rx_pcap=trace.pcap`. With
    /// it, -i selects DPDK ports by id or name, separated by commas (default:
    /// every port). Needs a build with `--features dpdk`.
    #[arg(long = "dpdk-args", value_name = "ARGS", allow_hyphen_values = true)]
    pub dpdk_args: Option<String>,

    /// Workers, one per core, each owning a share of the flows. Default:
    /// one per available core.
    #[arg(long, value_name = "COUNT")]
    pub workers: Option<usize>,

    /// Do not put the interface into promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous")]
    pub no_promiscuous: bool,

    /// Bytes captured of each packet in live capture.
    #[arg(long, value_name = "BYTES", default_value_t = 262_144)]
    pub snaplen: u32,

    /// Kernel buffer of the libpcap driver, in bytes.
    #[arg(long = "buffer-size", value_name = "BYTES", default_value_t = 16 << 20)]
    pub buffer_size_bytes: u32,

    /// Deliver each packet as soon as it arrives (libpcap immediate mode)
    /// instead of in kernel-buffered batches.
    #[arg(long)]
    pub immediate: bool,

    /// Size of one block of the AF_PACKET ring, in bytes (a multiple of the
    /// page size).
    #[arg(long = "ring-block-size", value_name = "BYTES", default_value_t = 4 << 20)]
    pub ring_block_bytes: u32,

    /// Blocks in each AF_PACKET ring (one ring per worker). Default: the
    /// rings of all workers together take about 1/64 of the machine's
    /// memory, from 8 to 64 blocks per ring.
    #[arg(long = "ring-blocks", value_name = "COUNT")]
    pub ring_blocks: Option<u32>,

    /// Packet filter, as tcpdump takes it (for example `tcp port 80`),
    /// compiled with libpcap. It runs in the kernel for the libpcap driver
    /// and in user space for files and the AF_PACKET driver.
    #[arg(value_name = "FILTER", trailing_var_arg = true)]
    pub filter: Vec<String>,

    /// Where to write records: a file path, or `-` for standard output.
    /// Without it, records go to standard output, unless -P or --ipfix
    /// takes them and --format is not given.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,

    /// Record format. Default: a table when standard output is a terminal,
    /// CSV otherwise.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,

    /// Close the -w file every SECS seconds of wall-clock time, at
    /// multiples of SECS since the epoch, renaming it to
    /// FILE.YYYYMMDDTHHMMSSZ (the UTC start of its interval); a new FILE
    /// takes the next records. The switch happens at the first record
    /// after the boundary.
    #[arg(long = "rotate-seconds", value_name = "SECS")]
    pub rotate_secs: Option<u64>,

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

    /// Serve the Argus record stream on this TCP port, as argus does on port
    /// 561. ra, racluster and radium read it with `-S HOST:PORT`, and their
    /// filter expression selects records on the sensor. Works together with
    /// -w. Filters may use tcp, udp, icmp, arp, rarp, ip, ipv4, ipv6, man,
    /// [src|dst] host, net and port, proto, and, or, not and parentheses;
    /// other ra primitives get a syntax-error reply.
    #[arg(short = 'P', long = "port", value_name = "PORT")]
    pub stream_port: Option<u16>,

    /// Address the record stream listens on. The default accepts local
    /// clients only; give 0.0.0.0 or :: to accept clients from the network.
    #[arg(long = "bind", value_name = "ADDR", default_value = "127.0.0.1", requires = "stream_port")]
    pub bind: IpAddr,

    /// Interval between the status management records (MARs) sent to stream
    /// clients, in seconds; 0 sends none. Clients close a stream that stays
    /// silent for twice this interval, a check that 0 turns off.
    #[arg(short = 'M', long = "mar-interval", value_name = "SECS", default_value_t = 60)]
    pub mar_interval_secs: u16,

    /// Capacity of each stream client's queue, in records. A client that
    /// falls this far behind is disconnected, so a slow reader never stalls
    /// capture.
    #[arg(long = "stream-queue", value_name = "RECORDS", default_value_t = 8192, requires = "stream_port")]
    pub stream_queue_records: usize,

    /// Before reading the input, wait until this many stream clients have
    /// connected and sent START, so that they receive every record of a
    /// capture file. SIGINT or SIGTERM ends the wait. Example: `nauditd -r
    /// trace.pcap -P 5611 --wait-clients 1`, then `ra -S 127.0.0.1:5611`.
    /// ra 3.0.8 keeps reconnecting after the stream ends unless its
    /// configuration sets RA_RELIABLE_CONNECT=no.
    #[arg(long = "wait-clients", value_name = "COUNT", default_value_t = 0, requires = "stream_port")]
    pub wait_clients: usize,

    /// After the end of the input, keep the record stream open for this many
    /// seconds before the closing MAR: status MARs continue and new clients
    /// are accepted. SIGINT or SIGTERM ends it early.
    #[arg(long = "linger", value_name = "SECS", default_value_t = 0.0, requires = "stream_port")]
    pub linger_secs: f64,

    /// Export records over IPFIX (RFC 7011) to a collector:
    /// `udp://HOST:PORT` or `tcp://HOST:PORT`. Repeat for several
    /// collectors. Works together with -w and -P. The observation domain
    /// id is the --source-id value as a 32-bit number.
    #[arg(long = "ipfix", value_name = "URL", action = clap::ArgAction::Append)]
    pub ipfix: Vec<String>,

    /// Path MTU toward IPFIX collectors over UDP, in bytes: each message
    /// fits in one datagram of this size with its IP and UDP headers.
    #[arg(long = "ipfix-mtu", value_name = "BYTES", default_value_t = 1400)]
    pub ipfix_mtu: usize,

    /// Over UDP, resend the IPFIX templates every this many seconds (0:
    /// never by time).
    #[arg(long = "ipfix-template-refresh", value_name = "SECS", default_value_t = 60)]
    pub ipfix_template_refresh_secs: u64,

    /// Over UDP, resend the IPFIX templates before every this many
    /// messages (0: never by count).
    #[arg(long = "ipfix-template-refresh-messages", value_name = "COUNT", default_value_t = 100)]
    pub ipfix_template_refresh_messages: u32,

    /// Capacity of each IPFIX collector's queue, in records. When a
    /// collector falls this far behind, records for it are dropped and
    /// counted, so capture does not wait for the collector.
    #[arg(long = "ipfix-queue", value_name = "RECORDS", default_value_t = 65_536)]
    pub ipfix_queue_records: usize,

    /// Time the processing of every batch and print the per-batch latency
    /// percentiles (p50, p99, p99.9, max, in nanoseconds) in the run summary.
    #[arg(long)]
    pub batch_latency: bool,

    /// Do not print the run summary on standard error.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Live capture drivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DriverKind {
    /// libpcap: one queue.
    Pcap,
    /// Linux AF_PACKET TPACKET_V3 rings in a fanout group: one per worker.
    Afpacket,
    /// DPDK poll-mode ports, one RSS queue per worker (builds with
    /// `--features dpdk` only); EAL arguments come from --dpdk-args.
    Dpdk,
    /// The InfiniBand verbs sniffer on an RDMA device port, one queue
    /// (builds with `--features ibverbs` only).
    Ibverbs,
}

impl Cli {
    /// The filter expression, or `None` when no filter was given.
    pub fn filter_expression(&self) -> Option<String> {
        let expression = self.filter.join(" ");
        (!expression.trim().is_empty()).then_some(expression)
    }

    /// Returns the AF_PACKET ring blocks per worker: `--ring-blocks`, else enough
    /// for all rings to take about 1/64 of `memory_bytes`, clamped to
    /// [`MIN_DEFAULT_RING_BLOCKS`, `MAX_DEFAULT_RING_BLOCKS`].
    pub fn ring_block_count(&self, memory_bytes: u64) -> u32 {
        if let Some(blocks) = self.ring_blocks {
            return blocks;
        }
        let rings_bytes = memory_bytes / 64;
        let per_ring_bytes = rings_bytes / self.worker_count().max(1) as u64;
        let blocks = per_ring_bytes / u64::from(self.ring_block_bytes.max(1));
        blocks.clamp(u64::from(MIN_DEFAULT_RING_BLOCKS), u64::from(MAX_DEFAULT_RING_BLOCKS)) as u32
    }

    /// The number of workers asked for, else one per available core.
    pub fn worker_count(&self) -> usize {
        self.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |count| count.get()))
    }
}

/// Fewest AF_PACKET ring blocks per worker by default (32 MiB of 4 MiB
/// blocks), so a small machine still absorbs bursts.
pub const MIN_DEFAULT_RING_BLOCKS: u32 = 8;
/// Most AF_PACKET ring blocks per worker by default (256 MiB of 4 MiB
/// blocks); larger rings are for `--ring-blocks`.
pub const MAX_DEFAULT_RING_BLOCKS: u32 = 64;

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
    /// IPFIX messages (RFC 7011), as an IPFIX file (RFC 5655).
    Ipfix,
}

/// Converts seconds given on the command line to nanoseconds, rejecting
/// negative, infinite and NaN values.
pub fn seconds_to_ns(option: &str, seconds: f64) -> Result<u64, String> {
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("invalid value {seconds} for {option}: give a number of seconds, 0 or more"));
    }
    Ok((seconds * 1e9).round() as u64)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::parse_from([&["nauditd", "-i", "lo"], args].concat())
    }

    #[test]
    fn ring_blocks_follow_memory_and_workers() {
        const GIB: u64 = 1 << 30;
        // 16 GiB over 8 workers: 32 MiB per ring, 8 blocks of 4 MiB.
        assert_eq!(cli(&["--workers", "8"]).ring_block_count(16 * GIB), 8);
        // 24 GiB over 2 workers: 192 MiB per ring.
        assert_eq!(cli(&["--workers", "2"]).ring_block_count(24 * GIB), 48);
        assert_eq!(cli(&["--workers", "1"]).ring_block_count(512 * GIB), MAX_DEFAULT_RING_BLOCKS);
        assert_eq!(cli(&["--workers", "64"]).ring_block_count(GIB), MIN_DEFAULT_RING_BLOCKS);
        assert_eq!(cli(&["--workers", "8", "--ring-blocks", "200"]).ring_block_count(GIB), 200);
    }
}
