//! Helpers for the live capture tests: a network namespace with a veth pair
//! that removes itself, tcpreplay inside the namespace, a reader per queue,
//! and a 5-tuple parser to check the fanout.
//!
//! All test traffic stays on the veth pair the test created: tcpreplay
//! sends on the namespace end and the driver captures on the host end. The
//! veths get IPv6 unique local addresses (fd00::/8) in a /64 of their own,
//! not 192.0.2.0/24, because some hosts use TEST-NET-1 for their real
//! uplink (the machines this project is built and tested on do).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use naudit_engine::{BatchStatus, PacketSource, SourceCounters};
use naudit_tilera_compat::AfPacketQueue;

/// Maximum time one external command (ip, sysctl, tcpreplay) may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Maximum wait for every replayed packet to reach the queues.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// Time to keep reading after the expected count, so a duplicate or a
/// stray packet would show up.
pub const SETTLE_TIME: Duration = Duration::from_millis(300);
/// The capture stops early when no packet arrived for this long after the
/// traffic ended.
pub const QUIET_TIME: Duration = Duration::from_millis(1500);

/// Serializes the live tests of one test binary: they share the CPU, and
/// their per-queue numbers are easier to read one at a time.
static LIVE_TEST_LOCK: Mutex<()> = Mutex::new(());
/// Numbers the networks of one process so their names are unique.
static NETWORK_COUNTER: AtomicUsize = AtomicUsize::new(0);
/// Time for the kernel's MLD reports about a new veth's addresses to pass
/// (they go out within milliseconds with the report interval set to 1 ms),
/// so no capture receives them.
const LINK_SETTLE_TIME: Duration = Duration::from_millis(300);
/// IPv6 settings that keep a new veth quiet: no router solicitations, no
/// duplicate address detection, and MLD reports only right after link-up.
const QUIET_IPV6_SETTINGS: [&str; 5] = [
    "accept_ra=0",
    "router_solicitations=0",
    "accept_dad=0",
    "mldv1_unsolicited_report_interval=1",
    "mldv2_unsolicited_report_interval=1",
];

/// Returns the path of a capture in the shared test corpus.
pub fn corpus(file_name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/pcap")
        .join(file_name)
}

/// Fails the test with instructions unless it runs as root with `ip` and
/// `tcpreplay` installed; returns the lock that serializes live tests.
pub fn require_live_environment() -> MutexGuard<'static, ()> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let effective_uid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .unwrap_or("unknown");
    assert_eq!(
        effective_uid, "0",
        "this live test needs root (CAP_NET_ADMIN and CAP_NET_RAW) to create a network namespace and a veth pair \
         and to open AF_PACKET sockets; run `cargo test -p naudit-tilera-compat` as root"
    );
    assert!(
        Path::new("/proc/sys/net/ipv6").exists(),
        "this live test puts IPv6 addresses on its veth pair, but IPv6 is disabled on this host"
    );
    for tool in ["ip", "tcpreplay", "sysctl"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .map(|status| status.success())
            .unwrap_or(false);
        assert!(found, "this live test needs `{tool}` on PATH; install it (Debian: iproute2, tcpreplay, procps)");
    }
    LIVE_TEST_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `program` with `args`, killing it after [`COMMAND_TIMEOUT`]. Returns
/// its standard output, or panics with its output if it failed.
pub fn run(program: &str, args: &[&str]) -> String {
    match try_run(program, args) {
        Ok(stdout) => stdout,
        Err(message) => panic!("{message}"),
    }
}

/// Runs `program` with `args`, killing it after [`COMMAND_TIMEOUT`]. Returns
/// its standard output, or a message with its exit status and output.
pub fn try_run(program: &str, args: &[&str]) -> Result<String, String> {
    let command_line = format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("failed to start `{command_line}`: {error}"))?;

    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{command_line}` timed out after {COMMAND_TIMEOUT:?}"
                ));
            }
            Err(error) => return Err(format!("failed to wait for `{command_line}`: {error}")),
        }
    };

    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_string(&mut stdout);
    }
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    if status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "`{command_line}` failed with {status}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        ))
    }
}

/// A network namespace holding one end of a veth pair whose other end stays
/// in the test's namespace. Dropping it deletes both.
pub struct TestNetwork {
    /// The namespace, `nauditd-test-<pid>-<n>`.
    pub namespace: String,
    /// The veth end in the test's namespace, where the driver captures.
    pub host_interface: String,
    /// The veth end inside the namespace, where tcpreplay sends.
    pub peer_interface: String,
    /// MAC addresses of both veth ends, the source of any frame the kernel
    /// sends on the pair by itself.
    pub veth_macs: Vec<[u8; 6]>,
}

impl TestNetwork {
    /// Creates the namespace and the veth pair: quiet IPv6 settings, no
    /// link-local addresses, unique local addresses in a /64 derived from
    /// the process id, a 9000-byte MTU so tagged full-size frames fit, and
    /// the peer end up. The host end is brought up when `host_up`.
    pub fn create(host_up: bool) -> TestNetwork {
        let pid = std::process::id();
        let number = NETWORK_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut network = TestNetwork {
            namespace: format!("nauditd-test-{pid}-{number}"),
            host_interface: format!("nt{pid}h{number}"),
            peer_interface: format!("nt{pid}p{number}"),
            veth_macs: Vec::new(),
        };
        // From here on, Drop removes whatever was created.
        let namespace = network.namespace.clone();
        let host = network.host_interface.clone();
        let peer = network.peer_interface.clone();
        let prefix = format!("fd6e:6175:{:x}:{:x}", pid & 0xffff, number);
        let in_use = run(
            "ip",
            &["-6", "addr", "show", "to", &format!("{prefix}::/64")],
        );
        assert!(
            in_use.trim().is_empty(),
            "the test prefix {prefix}::/64 is already in use:\n{in_use}"
        );

        run("ip", &["netns", "add", &namespace]);
        run(
            "ip",
            &[
                "link", "add", &host, "type", "veth", "peer", "name", &peer, "netns", &namespace,
            ],
        );
        for setting in QUIET_IPV6_SETTINGS {
            run(
                "sysctl",
                &["-q", "-w", &format!("net.ipv6.conf.{host}.{setting}")],
            );
            let peer_setting = format!("net.ipv6.conf.{peer}.{setting}");
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    &namespace,
                    "sysctl",
                    "-q",
                    "-w",
                    &peer_setting,
                ],
            );
        }
        run(
            "sysctl",
            &["-q", "-w", &format!("net.ipv4.conf.{host}.forwarding=0")],
        );
        run(
            "ip",
            &["link", "set", &host, "addrgenmode", "none", "mtu", "9000"],
        );
        run(
            "ip",
            &[
                "-n",
                &namespace,
                "link",
                "set",
                &peer,
                "addrgenmode",
                "none",
                "mtu",
                "9000",
            ],
        );
        run(
            "ip",
            &[
                "addr",
                "add",
                &format!("{prefix}::1/64"),
                "dev",
                &host,
                "nodad",
            ],
        );
        run(
            "ip",
            &[
                "-n",
                &namespace,
                "addr",
                "add",
                &format!("{prefix}::2/64"),
                "dev",
                &peer,
                "nodad",
            ],
        );

        let host_mac = std::fs::read_to_string(format!("/sys/class/net/{host}/address"))
            .expect("host veth MAC");
        let peer_mac = run(
            "ip",
            &[
                "netns",
                "exec",
                &namespace,
                "cat",
                &format!("/sys/class/net/{peer}/address"),
            ],
        );
        network.veth_macs = vec![parse_mac(&host_mac), parse_mac(&peer_mac)];

        run("ip", &["-n", &namespace, "link", "set", &peer, "up"]);
        if host_up {
            run("ip", &["link", "set", &host, "up"]);
        }
        thread::sleep(LINK_SETTLE_TIME);
        network
    }

    /// Returns true for a frame that one of the veth ends sent by itself,
    /// such as an MLD report after link-up, rather than a replayed frame.
    pub fn is_local_chatter(&self, frame: &[u8]) -> bool {
        let Some(source) = frame.get(6..12) else {
            return false;
        };
        self.veth_macs.iter().any(|mac| mac.as_slice() == source)
    }

    /// Replays `pcap` out of the namespace end at top speed, so every packet
    /// arrives on the host end.
    pub fn replay(&self, pcap: &Path) -> String {
        let interface = format!("--intf1={}", self.peer_interface);
        let file = pcap.to_str().expect("corpus paths are UTF-8");
        run(
            "ip",
            &[
                "netns",
                "exec",
                &self.namespace,
                "tcpreplay",
                &interface,
                "--topspeed",
                file,
            ],
        )
    }

    /// Replays `pcap` out of the host end at top speed, so the driver captures
    /// every packet as one the host sent. The frames end in the namespace.
    pub fn replay_from_host(&self, pcap: &Path) -> String {
        let interface = format!("--intf1={}", self.host_interface);
        let file = pcap.to_str().expect("corpus paths are UTF-8");
        run("tcpreplay", &[&interface, "--topspeed", file])
    }

    /// Deletes the veth pair, which removes the host end the driver uses.
    pub fn delete_veth(&self) {
        run("ip", &["link", "del", &self.host_interface]);
    }
}

impl Drop for TestNetwork {
    fn drop(&mut self) {
        // The link may be gone already; deleting the namespace removes
        // the peer end and with it the pair.
        let _ = try_run("ip", &["link", "del", &self.host_interface]);
        if let Err(message) = try_run("ip", &["netns", "del", &self.namespace]) {
            eprintln!("cleanup: {message}");
        }
    }
}

/// Parses a MAC address as sysfs writes it, such as `02:00:00:00:00:01`.
fn parse_mac(text: &str) -> [u8; 6] {
    let bytes: Vec<u8> = text
        .trim()
        .split(':')
        .map(|part| {
            u8::from_str_radix(part, 16).unwrap_or_else(|_| panic!("invalid MAC address {text:?}"))
        })
        .collect();
    bytes
        .try_into()
        .unwrap_or_else(|_| panic!("MAC address {text:?} does not have 6 bytes"))
}

/// One packet of a capture file.
#[derive(Clone, Debug)]
pub struct FilePacket {
    pub wire_len: u32,
    pub data: Vec<u8>,
}

/// Reads every packet of a capture file with the project's pcap driver.
pub fn read_capture_file(path: &Path) -> Vec<FilePacket> {
    let mut source = naudit_pcap::MappedSource::open(path).expect("corpus capture opens");
    let mut packets = Vec::new();
    loop {
        let status = source
            .next_batch(|batch| {
                for view in batch {
                    packets.push(FilePacket {
                        wire_len: view.wire_len_bytes,
                        data: view.data.to_vec(),
                    });
                }
            })
            .expect("corpus capture reads");
        if status == BatchStatus::End {
            return packets;
        }
    }
}

/// One packet as a queue delivered it.
#[derive(Clone, Debug)]
pub struct Captured {
    pub queue: usize,
    pub timestamp_ns: u64,
    pub wire_len: u32,
    pub data: Vec<u8>,
    pub link_type: u16,
    pub port: u16,
}

/// What one queue's reader collected.
pub struct QueueResult {
    pub queue: usize,
    pub packets: Vec<Captured>,
    pub counters: SourceCounters,
    pub batches: usize,
    pub idle_calls: usize,
    pub error: Option<String>,
}

/// Reads every queue on its own thread while `traffic` runs, until
/// `expected_packets` have arrived plus [`SETTLE_TIME`], or no packet came
/// for [`QUIET_TIME`] after the traffic, or [`DELIVERY_TIMEOUT`] passed.
pub fn capture_during(
    queues: Vec<AfPacketQueue>,
    expected_packets: u64,
    traffic: impl FnOnce(),
) -> Vec<QueueResult> {
    let stop = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = queues
        .into_iter()
        .enumerate()
        .map(|(queue_number, queue)| {
            let stop = Arc::clone(&stop);
            let delivered = Arc::clone(&delivered);
            thread::spawn(move || read_queue(queue_number, queue, &stop, &delivered))
        })
        .collect();

    traffic();

    let traffic_end = Instant::now();
    let mut last_count = delivered.load(Ordering::SeqCst);
    let mut last_change = traffic_end;
    loop {
        let count = delivered.load(Ordering::SeqCst);
        if count != last_count {
            last_count = count;
            last_change = Instant::now();
        }
        if count >= expected_packets
            || last_change.elapsed() >= QUIET_TIME
            || traffic_end.elapsed() >= DELIVERY_TIMEOUT
        {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    thread::sleep(SETTLE_TIME);
    stop.store(true, Ordering::SeqCst);

    readers
        .into_iter()
        .map(|reader| reader.join().expect("queue reader thread panicked"))
        .collect()
}

/// Reads one queue until `stop` is raised or the queue fails.
fn read_queue(
    queue_number: usize,
    mut queue: AfPacketQueue,
    stop: &AtomicBool,
    delivered: &AtomicU64,
) -> QueueResult {
    let mut result = QueueResult {
        queue: queue_number,
        packets: Vec::new(),
        counters: SourceCounters::default(),
        batches: 0,
        idle_calls: 0,
        error: None,
    };
    while !stop.load(Ordering::SeqCst) {
        let packets = &mut result.packets;
        let status = queue.next_batch(|batch| {
            for view in batch {
                packets.push(Captured {
                    queue: queue_number,
                    timestamp_ns: view.timestamp_ns,
                    wire_len: view.wire_len_bytes,
                    data: view.data.to_vec(),
                    link_type: view.link_type.0,
                    port: view.port,
                });
            }
        });
        match status {
            Ok(BatchStatus::Packets(count)) => {
                result.batches += 1;
                delivered.fetch_add(count as u64, Ordering::SeqCst);
            }
            Ok(BatchStatus::Idle) => result.idle_calls += 1,
            Ok(BatchStatus::End) => {
                result.error = Some("a live queue returned End".to_owned());
                break;
            }
            Err(error) => {
                result.error = Some(error.to_string());
                break;
            }
        }
    }
    result.counters = queue.counters();
    result
}

/// Returns nanoseconds since the Unix epoch.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos() as u64
}

/// Compares two multisets of frames. Returns the frames of `expected` that
/// are missing from `actual` and the frames of `actual` that are extra.
pub fn frame_differences<'a>(
    expected: impl Iterator<Item = &'a [u8]>,
    actual: impl Iterator<Item = &'a [u8]>,
) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut pending: HashMap<&[u8], usize> = HashMap::new();
    for frame in expected {
        *pending.entry(frame).or_default() += 1;
    }
    let mut extra = Vec::new();
    for frame in actual {
        match pending.get_mut(frame) {
            Some(count) if *count > 0 => *count -= 1,
            _ => extra.push(frame.to_vec()),
        }
    }
    let missing = pending
        .into_iter()
        .flat_map(|(frame, count)| std::iter::repeat(frame.to_vec()).take(count))
        .collect();
    (missing, extra)
}

/// Formats the first bytes of a frame for a failure message.
pub fn hex_prefix(frame: &[u8]) -> String {
    let shown: Vec<String> = frame
        .iter()
        .take(40)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{} ({} bytes)", shown.join(""), frame.len())
}

/// A TCP or UDP flow with its endpoints in a fixed order, so both
/// directions give the same key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub protocol: u8,
    pub lower: (Vec<u8>, u16),
    pub upper: (Vec<u8>, u16),
}

/// Parses an Ethernet frame (with any 802.1Q/802.1ad tags) down to a TCP or
/// UDP header over IPv4 or IPv6. Returns the flow key and whether the frame
/// runs from the lower to the upper endpoint, or `None` for anything else
/// (ARP, ICMP, non-first fragments, IPv6 extension headers).
pub fn flow_key(frame: &[u8]) -> Option<(FlowKey, bool)> {
    let mut offset = 12;
    let mut ethertype = u16::from_be_bytes(frame.get(offset..offset + 2)?.try_into().ok()?);
    while ethertype == 0x8100 || ethertype == 0x88a8 {
        offset += 4;
        ethertype = u16::from_be_bytes(frame.get(offset..offset + 2)?.try_into().ok()?);
    }
    let ip = frame.get(offset + 2..)?;
    let (protocol, source, destination, transport) = match ethertype {
        0x0800 => {
            let header_len = usize::from(ip.first()? & 0x0f) * 4;
            let fragment_offset = u16::from_be_bytes(ip.get(6..8)?.try_into().ok()?) & 0x1fff;
            if fragment_offset != 0 {
                return None;
            }
            (
                *ip.get(9)?,
                ip.get(12..16)?.to_vec(),
                ip.get(16..20)?.to_vec(),
                ip.get(header_len..)?,
            )
        }
        0x86dd => (
            *ip.get(6)?,
            ip.get(8..24)?.to_vec(),
            ip.get(24..40)?.to_vec(),
            ip.get(40..)?,
        ),
        _ => return None,
    };
    if protocol != 6 && protocol != 17 {
        return None;
    }
    let source_port = u16::from_be_bytes(transport.get(0..2)?.try_into().ok()?);
    let destination_port = u16::from_be_bytes(transport.get(2..4)?.try_into().ok()?);
    let source = (source, source_port);
    let destination = (destination, destination_port);
    if source <= destination {
        Some((
            FlowKey {
                protocol,
                lower: source,
                upper: destination,
            },
            true,
        ))
    } else {
        Some((
            FlowKey {
                protocol,
                lower: destination,
                upper: source,
            },
            false,
        ))
    }
}

/// Collects the log lines of code run under it, for checking what a queue logged.
#[derive(Clone, Default)]
pub struct LogCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl LogCapture {
    /// Runs `body` with a subscriber that writes every event at DEBUG and
    /// above into this capture.
    pub fn run<T>(&self, body: impl FnOnce() -> T) -> T {
        let buffer = Arc::clone(&self.buffer);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || SharedWriter(Arc::clone(&buffer)))
            .finish();
        tracing::subscriber::with_default(subscriber, body)
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap()).into_owned()
    }
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
