//! The DPDK driver, run on DPDK's net_pcap virtual device, finds the same
//! flows as the file driver on the same capture.
//!
//! Each scenario is a separate nauditd process, because EAL starts once per
//! process. Runs as root without hugepages or NICs (`--no-huge --no-pci`).
//!
//! DPDK 22.11's net_pcap stamps each packet with its capture time in
//! microseconds, which the driver reads, so one port and one worker give
//! exactly the file driver's records. When a capture is split over two
//! ports, each worker's clock follows only its own port, so flows may time
//! out or report status at other packets than with the file driver. Those
//! runs are compared per flow on the sums of packets and bytes, the first
//! start time and the last end time.

#![cfg(feature = "dpdk")]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use common::builder::{ipv4_frame, pcap_file, tcp, udp, TestPacket};
use common::{corpus_capture, csv_rows, nauditd_csv, scratch_file, ScratchFile};
use naudit_engine::{LinkType, PacketSource};

/// Ethernet captures of the corpus whose packets fit in one mbuf and were
/// captured whole (net_pcap hands over the captured length as the wire
/// length).
const CAPTURES: &[&str] = &[
    "http-dns-wikipedia-multiflow.pcap",
    "vlan-8021q-icmp-arp.pcap",
    "vxlan-http.pcap",
    "frag-ipv4-out-of-order-tcp.pcap",
    "qinq-8100-8100-http.pcap",
];

/// EAL arguments shared by every scenario; the file prefix keeps parallel
/// tests apart.
fn eal_base(scenario: &str) -> String {
    format!("--no-huge --no-pci -m 256 --no-telemetry -l 0 --file-prefix nauditd-{}-{scenario}", std::process::id())
}

fn run_nauditd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nauditd")).args(args).output().expect("run nauditd")
}

/// Runs nauditd on the DPDK driver and returns its CSV records.
fn dpdk_csv(eal_args: &str, workers: usize) -> String {
    let workers = workers.to_string();
    let output =
        run_nauditd(&["--driver", "dpdk", "--dpdk-args", eal_args, "--workers", &workers, "--format", "csv", "-q"]);
    assert!(output.status.success(), "nauditd --dpdk-args {eal_args}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("CSV is UTF-8")
}

/// Flow key (proto, saddr, sport, daddr, dport) to the sums of spkts,
/// dpkts, sbytes and dbytes over its records, the earliest stime and the
/// latest ltime.
type FlowTotals = BTreeMap<[String; 5], ([u64; 4], String, String)>;

fn flow_totals(csv: &str) -> FlowTotals {
    let rows = csv_rows(csv);
    let header = &rows[0];
    let column = |name: &str| header.iter().position(|field| field == name).unwrap_or_else(|| panic!("column {name}"));
    let keys = ["proto", "saddr", "sport", "daddr", "dport"].map(column);
    let counts = ["spkts", "dpkts", "sbytes", "dbytes"].map(column);
    let (stime, ltime) = (column("stime"), column("ltime"));
    let mut totals = FlowTotals::new();
    for row in &rows[1..] {
        let key = keys.map(|index| row[index].clone());
        let (sums, first, last) =
            totals.entry(key).or_insert_with(|| ([0; 4], row[stime].clone(), row[ltime].clone()));
        for (sum, &index) in sums.iter_mut().zip(&counts) {
            *sum += row[index].parse::<u64>().unwrap_or_else(|_| panic!("number in {row:?}"));
        }
        // Times are fixed-point seconds with the same number of digits, so
        // they order as numbers.
        let as_number = |time: &str| time.parse::<f64>().unwrap_or_else(|_| panic!("time in {row:?}"));
        if as_number(&row[stime]) < as_number(first) {
            *first = row[stime].clone();
        }
        if as_number(&row[ltime]) > as_number(last) {
            *last = row[ltime].clone();
        }
    }
    totals
}

/// Returns the records of a CSV output as sorted rows, header first.
fn sorted_records(csv: &str) -> Vec<Vec<String>> {
    let mut rows = csv_rows(csv);
    rows[1..].sort();
    rows
}

/// Reads every packet of an Ethernet capture with the file driver.
fn read_packets(capture: &Path) -> Vec<TestPacket> {
    let mut source = naudit_pcap::open_inputs(&[capture.to_path_buf()]).expect("open capture");
    let mut packets = Vec::new();
    loop {
        let mut batch = Vec::new();
        let status = source
            .next_batch(|views| {
                for view in views {
                    assert_eq!(view.link_type, LinkType::ETHERNET, "{}: not Ethernet", capture.display());
                    batch.push(TestPacket { time_ns: view.timestamp_ns, data: view.data.to_vec() });
                }
            })
            .expect("read capture");
        packets.extend(batch);
        if status == naudit_engine::BatchStatus::End {
            return packets;
        }
    }
}

/// The IP addresses of an Ethernet frame after any VLAN tags (for ARP, the
/// sender and target addresses), sorted; the MAC addresses for other
/// frames. Both directions of a flow give the
/// same pair.
fn endpoint_pair(frame: &[u8]) -> Vec<u8> {
    let mut offset = 12;
    while frame.len() >= offset + 2 && matches!(u16::from_be_bytes([frame[offset], frame[offset + 1]]), 0x8100 | 0x88a8) {
        offset += 4;
    }
    let ethertype = frame.get(offset..offset + 2).map(|bytes| u16::from_be_bytes([bytes[0], bytes[1]]));
    let ip = offset + 2;
    let (a, b) = match ethertype {
        Some(0x0800) if frame.len() >= ip + 20 => (&frame[ip + 12..ip + 16], &frame[ip + 16..ip + 20]),
        Some(0x86dd) if frame.len() >= ip + 40 => (&frame[ip + 8..ip + 24], &frame[ip + 24..ip + 40]),
        Some(0x0806) if frame.len() >= ip + 28 => (&frame[ip + 14..ip + 18], &frame[ip + 24..ip + 28]),
        _ => (&frame[0..6], &frame[6..12]),
    };
    if a <= b {
        [a, b].concat()
    } else {
        [b, a].concat()
    }
}

/// Splits a capture in two by endpoint pair, so that each flow lies in one
/// half, and returns the two files.
fn split_by_flow(capture: &Path) -> (ScratchFile, ScratchFile) {
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for packet in read_packets(capture) {
        let pair = endpoint_pair(&packet.data);
        let hash = pair.iter().fold(0u32, |hash, &byte| hash.wrapping_mul(31).wrapping_add(u32::from(byte)));
        if hash % 2 == 0 {
            first.push(packet);
        } else {
            second.push(packet);
        }
    }
    let name = capture.file_stem().unwrap().to_string_lossy().into_owned();
    (
        scratch_file(&format!("{name}-half0.pcap"), &pcap_file(1, &first)),
        scratch_file(&format!("{name}-half1.pcap"), &pcap_file(1, &second)),
    )
}

#[test]
fn dpdk_replay_matches_file_driver() {
    for name in CAPTURES {
        let capture = corpus_capture(name);
        let path = capture.display();
        let file_csv = nauditd_csv(&capture, &["--workers", "1"]);
        let expected = flow_totals(&file_csv);
        assert!(!expected.is_empty(), "{name}: the file driver found no flow");

        let one_port = format!("{} --vdev=net_pcap0,rx_pcap={path}", eal_base("one"));
        assert_eq!(sorted_records(&dpdk_csv(&one_port, 1)), sorted_records(&file_csv), "{name}: one port, one worker");

        let (half0, half1) = split_by_flow(&capture);
        let two_ports = format!(
            "{} --vdev=net_pcap0,rx_pcap={} --vdev=net_pcap1,rx_pcap={}",
            eal_base("ports"),
            half0.display(),
            half1.display()
        );
        assert_eq!(flow_totals(&dpdk_csv(&two_ports, 2)), expected, "{name}: two ports, two workers");
        assert_eq!(flow_totals(&dpdk_csv(&two_ports, 1)), expected, "{name}: two ports, one worker");

        let two_queues = format!(
            "{} --vdev=net_pcap0,rx_pcap={},rx_pcap={}",
            eal_base("queues"),
            half0.display(),
            half1.display()
        );
        assert_eq!(flow_totals(&dpdk_csv(&two_queues, 2)), expected, "{name}: one port with two queues, two workers");
    }
}

/// Frames longer than one mbuf's 2048 data bytes, which net_pcap hands
/// over as mbuf chains: UDP datagrams of 3000 and 9000 bytes and a TCP
/// conversation with 8000-byte segments, in both directions.
fn jumbo_capture() -> ScratchFile {
    let client = [10, 1, 0, 1];
    let server = [10, 1, 0, 2];
    let mut packets = Vec::new();
    let mut time_ns = 1_700_000_000_000_000_000u64;
    let mut push = |data: Vec<u8>| {
        time_ns += 1_000_000;
        packets.push(TestPacket { time_ns, data });
    };
    push(ipv4_frame(client, server, 17, &udp(40000, 5000, 3000), false));
    push(ipv4_frame(server, client, 17, &udp(5000, 40000, 9000), true));
    push(ipv4_frame(client, server, 6, &tcp(40001, 80, 1, 0, 0x02, 0), false));
    push(ipv4_frame(server, client, 6, &tcp(80, 40001, 1, 2, 0x12, 0), true));
    push(ipv4_frame(client, server, 6, &tcp(40001, 80, 2, 2, 0x18, 8000), false));
    push(ipv4_frame(server, client, 6, &tcp(80, 40001, 2, 8002, 0x18, 8000), true));
    push(ipv4_frame(client, server, 6, &tcp(40001, 80, 8002, 8002, 0x11, 0), false));
    push(ipv4_frame(server, client, 6, &tcp(80, 40001, 8002, 8003, 0x11, 0), true));
    scratch_file("dpdk-jumbo.pcap", &pcap_file(1, &packets))
}

#[test]
fn dpdk_chained_mbufs_match_file_driver() {
    let capture = jumbo_capture();
    let file_csv = nauditd_csv(&capture, &["--workers", "1"]);
    let eal_args = format!("{} --vdev=net_pcap0,rx_pcap={}", eal_base("jumbo"), capture.display());
    let dpdk = sorted_records(&dpdk_csv(&eal_args, 1));
    assert_eq!(dpdk, sorted_records(&file_csv), "records of jumbo frames");

    let header = &dpdk[0];
    let sbytes = header.iter().position(|field| field == "sbytes").expect("sbytes column");
    let udp_row = dpdk[1..].iter().find(|row| row.contains(&"udp".to_string())).expect("the UDP flow");
    // 14 Ethernet + 20 IPv4 + 8 UDP + 3000 payload bytes.
    assert_eq!(udp_row[sbytes], "3042", "{udp_row:?}");

    let output = run_nauditd(&["--driver", "dpdk", "--dpdk-args", &eal_args, "--workers", "1", "-w", "/dev/null"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("captured short     0 "), "every chained packet is handed over whole: {stderr}");
}

#[test]
fn dpdk_lists_ports() {
    let capture = corpus_capture(CAPTURES[0]);
    let eal_args = format!("{} --vdev=net_pcap0,rx_pcap={}", eal_base("list"), capture.display());
    let output = run_nauditd(&["-D", "--driver", "dpdk", "--dpdk-args", &eal_args]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let listing = String::from_utf8_lossy(&output.stdout);
    assert!(listing.starts_with("0 net_pcap0 (driver net_pcap, MAC "), "{listing}");
}

#[test]
fn dpdk_missing_vdev_file_is_an_error() {
    let eal_args = format!("{} --vdev=net_pcap0,rx_pcap=/nonexistent/trace.pcap", eal_base("missing"));
    let output = run_nauditd(&["--driver", "dpdk", "--dpdk-args", &eal_args, "-q"]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nauditd: DPDK found no Ethernet port"), "{stderr}");
}

#[test]
fn dpdk_bad_eal_argument_is_an_error() {
    let output = run_nauditd(&["--driver", "dpdk", "--dpdk-args", "--no-such-eal-option", "-q"]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nauditd: DPDK EAL initialization failed with arguments `--no-such-eal-option`"), "{stderr}");
}

#[test]
fn dpdk_unbalanced_quote_is_an_error() {
    let output = run_nauditd(&["--driver", "dpdk", "--dpdk-args", "--vdev='net_pcap0", "-q"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid --dpdk-args"), "{stderr}");
}

#[test]
fn dpdk_unknown_port_is_an_error() {
    let capture = corpus_capture(CAPTURES[0]);
    let eal_args = format!("{} --vdev=net_pcap0,rx_pcap={}", eal_base("port"), capture.display());
    let output = run_nauditd(&["--driver", "dpdk", "--dpdk-args", &eal_args, "-i", "net_pcap7", "-q"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DPDK port \"net_pcap7\" not found; available ports: 0=net_pcap0"), "{stderr}");
}
