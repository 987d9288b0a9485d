//! A veth pair for live capture tests: one end in a network namespace of
//! the test's own, where tcpreplay sends a corpus capture, and the other end
//! in the host namespace, where `LiveSource` captures. Also the helpers that
//! read what arrives.
//!
//! Creating the pair needs root. Run as another user, the tests fail with a
//! message that names the cause.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use naudit_engine::{BatchStatus, PacketSource};
use naudit_pcap::{LiveConfig, LiveSource, MappedSource};

use crate::common::{self, corpus, Packet};

/// The capture replayed on the link: 136 Ethernet frames of 60 to 665
/// bytes, none truncated, 25260 bytes in all, 28 of them DNS over UDP.
pub const REPLAYED_FILE: &str = "http-dns-wikipedia-multiflow.pcap";

/// Packet rate of the replay. It is far below what the kernel's receive
/// backlog absorbs, so no packet is lost before the capture receives it.
const REPLAY_RATE_PPS: &str = "5000";

/// Maximum wait in one `next_batch` call.
pub const TIMEOUT_MS: i32 = 100;

/// Maximum time a test waits for the replayed packets to be captured.
const CAPTURE_DEADLINE: Duration = Duration::from_secs(20);

/// Maximum run time of one command that sets up or replays, in seconds.
const COMMAND_TIMEOUT_SECONDS: &str = "60";

/// Fails the test unless it runs as root.
pub fn require_root() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "the live capture tests create network namespaces and veth pairs and open packet sockets, \
         so they must run as root (effective user id is {euid}); run them with sudo, as CI does"
    );
}

/// Runs a command under `timeout` and returns its output. Panics with the
/// command and its standard error when it cannot start or fails.
pub fn run(program: &str, args: &[&str]) -> Output {
    let output = Command::new("timeout")
        .arg(COMMAND_TIMEOUT_SECONDS)
        .arg(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("failed to start `timeout {program}`: {error}"));
    assert!(
        output.status.success(),
        "`{program} {}` failed with {}: {}{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs a command inside network namespace `namespace`.
pub fn run_in_namespace(namespace: &str, program: &str, args: &[&str]) -> Output {
    let mut full_args = vec![
        "netns",
        "exec",
        namespace,
        "timeout",
        COMMAND_TIMEOUT_SECONDS,
        program,
    ];
    full_args.extend_from_slice(args);
    run("ip", &full_args)
}

/// A veth pair with its peer end in a network namespace. Dropping it
/// deletes both.
pub struct TestLink {
    pub namespace: String,
    /// The end in the host namespace, where the capture runs.
    pub host: String,
    /// The end in `namespace`, where tcpreplay sends.
    pub peer: String,
}

impl TestLink {
    /// Creates the namespace and the pair, with both ends quiet: no IPv6
    /// (so no router solicitations or address checks) and no address. The
    /// peer end is up, and the host end is up when `host_up` is true.
    pub fn create(host_up: bool) -> TestLink {
        require_root();
        static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        // Interface names have at most 15 bytes: 3 + 7 digits + 1 + 2.
        let link = TestLink {
            namespace: format!("nauditd-live-{pid}-{id}"),
            host: format!("nlh{pid}x{id}"),
            peer: format!("nlp{pid}x{id}"),
        };

        // From here on, dropping `link` removes whatever was created.
        run("ip", &["netns", "add", &link.namespace]);
        run(
            "ip",
            &[
                "link",
                "add",
                &link.host,
                "type",
                "veth",
                "peer",
                "name",
                &link.peer,
                "netns",
                &link.namespace,
            ],
        );
        run(
            "sysctl",
            &[
                "-q",
                "-w",
                &format!("net.ipv6.conf.{}.disable_ipv6=1", link.host),
            ],
        );
        run_in_namespace(
            &link.namespace,
            "sysctl",
            &[
                "-q",
                "-w",
                &format!("net.ipv6.conf.{}.disable_ipv6=1", link.peer),
            ],
        );

        // The replayed packets are addressed to other hosts, and the host
        // stack must neither reply to nor route them. Strict reverse-path
        // filtering drops every IPv4 packet that arrives on the host end,
        // because no route leads back through it. Forwarding is off there as
        // well, and ARP requests get no reply for any local address.
        for setting in ["rp_filter=1", "forwarding=0", "arp_ignore=8"] {
            run(
                "sysctl",
                &[
                    "-q",
                    "-w",
                    &format!("net.ipv4.conf.{}.{setting}", link.host),
                ],
            );
        }

        run_in_namespace(&link.namespace, "ip", &["link", "set", &link.peer, "up"]);
        if host_up {
            run("ip", &["link", "set", &link.host, "up"]);
            link.wait_until_operational();
        }
        link
    }

    /// Waits, at most 5 s, until the host end reports operational state up.
    pub fn wait_until_operational(&self) {
        let path = format!("/sys/class/net/{}/operstate", self.host);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let state = std::fs::read_to_string(&path).unwrap_or_default();
            if state.trim() == "up" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: operational state is still {state:?} after 5 s",
                self.host
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends every packet of `capture` from the peer end, `loops` times,
    /// and checks that tcpreplay reports them all sent and none failed.
    pub fn replay(&self, capture: &Path, loops: u32, expected_pkts: usize) {
        let interface = format!("--intf1={}", self.peer);
        let rate = format!("--pps={REPLAY_RATE_PPS}");
        let loop_count = format!("--loop={loops}");
        let capture = capture.to_str().expect("corpus path is UTF-8");
        let output = run_in_namespace(
            &self.namespace,
            "tcpreplay",
            &[&interface, &rate, &loop_count, capture],
        );
        let report = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            report_count(&report, "Successful packets:"),
            Some(expected_pkts),
            "{report}"
        );
        assert_eq!(
            report_count(&report, "Failed packets:"),
            Some(0),
            "{report}"
        );
    }

    /// Live capture settings for the host end.
    pub fn config(&self) -> LiveConfig {
        LiveConfig {
            timeout_ms: TIMEOUT_MS,
            ..LiveConfig::new(self.host.clone())
        }
    }
}

impl Drop for TestLink {
    fn drop(&mut self) {
        // Deleting one end deletes the pair; deleting the namespace would
        // too, but the host end may exist when the namespace does not.
        let _ = Command::new("ip")
            .args(["link", "del", &self.host])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.namespace])
            .output();
    }
}

/// Returns the number after `label` in tcpreplay's report.
pub fn report_count(report: &str, label: &str) -> Option<usize> {
    report
        .lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .and_then(|count| count.trim().parse().ok())
}

/// Reads a corpus capture whole.
pub fn read_corpus(file_name: &str) -> Vec<Packet> {
    let mut source =
        MappedSource::open(&corpus(file_name)).unwrap_or_else(|error| panic!("{error}"));
    let result = common::read_all(&mut source);
    assert!(result.error.is_none(), "{file_name}: {:?}", result.error);
    result.packets
}

/// Reads `source` until `expected_pkts` packets have arrived and then two
/// more calls return Idle, or until [`CAPTURE_DEADLINE`].
pub fn capture(source: &mut LiveSource, expected_pkts: usize) -> Vec<Packet> {
    let start = Instant::now();
    let mut packets = Vec::new();
    let mut idle_after_expected = 0;
    while start.elapsed() < CAPTURE_DEADLINE && idle_after_expected < 2 {
        let mut delivered = 0;
        let status = source
            .next_batch(|batch| {
                delivered = batch.len();
                for view in batch {
                    packets.push(Packet {
                        timestamp_ns: view.timestamp_ns,
                        wire_len: view.wire_len_bytes,
                        data: view.data.to_vec(),
                        link_type: view.link_type.0,
                        port: view.port,
                    });
                }
            })
            .unwrap_or_else(|error| panic!("{error}"));
        match status {
            BatchStatus::Packets(count) => assert_eq!(count, delivered),
            BatchStatus::Idle => {
                assert_eq!(delivered, 0, "Idle must not call the closure");
                if packets.len() >= expected_pkts {
                    idle_after_expected += 1;
                }
            }
            BatchStatus::End => panic!("a live capture never ends"),
        }
    }
    packets
}

pub fn now_ns() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    u64::try_from(since_epoch.as_nanos()).expect("nanoseconds fit in u64")
}

pub fn data_of(packets: &[Packet]) -> Vec<&[u8]> {
    packets
        .iter()
        .map(|packet| packet.data.as_slice())
        .collect()
}

pub fn total_bytes(packets: &[Packet]) -> usize {
    packets.iter().map(|packet| packet.data.len()).sum()
}
