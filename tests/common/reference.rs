//! The Argus 3.0.8 reference side of the corpus tests: which captures are
//! compared, which reference records argus got wrong, how the reference is
//! corrected, and the call of `compare-flows`.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::repo_root;

/// Lowest share of reference records (those not listed as argus defects)
/// that must match, in percent.
pub const MIN_MATCH_PERCENT: f64 = 95.0;

/// The plain-IP captures: link types nauditd decodes (Ethernet with 802.1Q
/// tags and LLC/SNAP, raw IP, Linux cooked, BSD loopback), no tunnel, and an
/// argus reference that argus produced without failing.
pub const PLAIN_IP_CAPTURES: &[&str] = &[
    "ah-ipv4-icmp.pcapng",
    "arp-who-has.pcap",
    "dccp-ipv4.pcap",
    "fmt-pcap-bigendian-nfsv3-udp.pcap",
    "fmt-pcap-bigendian-sctp.pcap",
    "fmt-pcap-nsec-sll-tcp-handshake.pcap",
    "fmt-pcapng-2-interfaces.pcapng",
    "fmt-pcapng-22-interfaces-web.pcapng",
    "fmt-pcapng-custom-block.pcapng",
    "fmt-pcapng-nrb-isb-dns.pcapng",
    "frag-ipv4-icmp-echo.pcap",
    "frag-ipv4-inorder-tcp-5frags.pcap",
    "frag-ipv4-out-of-order-tcp.pcap",
    "http-dns-wikipedia-multiflow.pcap",
    "icmp-destunreach-quoting-udp.pcap",
    "icmp-echo-5pings.pcap",
    "icmp-timeexceeded-quoting-udp.pcap",
    "icmpv6-destunreach-quoting-hbh-udp.pcap",
    "icmpv6-mldv1.pcap",
    "icmpv6-nd-options.pcap",
    "icmpv6-toobig.pcap",
    "igmp-v3-queries.pcap",
    "ipv6-ah-ospfv3.pcap",
    "ipv6-atomic-frag-http.pcap",
    "ipv6-hbh-dst-rh-vlan-udp.pcap",
    "ipv6-hbh-routing0-dns.pcap",
    "ipv6-jumbogram.pcap",
    "ipv6-no-next-header.pcap",
    "l2-ipx.pcap",
    "l2-lldp-cdp.pcap",
    "l2-stp-8021d.pcap",
    "llc-snap-ip-tcp-http.pcap",
    "lt-null-af2-af30-tcp.pcap",
    "lt-null-af28-icmpv6.pcap",
    "lt-raw-ipv4-tcp-udp.pcap",
    "lt-raw-ipv6-udp-dns.pcap",
    "lt-sll-kakaotalk-tcp-udp.pcap",
    "multicast-ssdp-dns-stp.pcap",
    "ospfv2.pcapng",
    "qinq-8100-8100-http.pcap",
    "qinqinq-3-tags-http.pcap",
    "sctp-multi-stream.pcap",
    "snaplen-68-tcp-headers-only.pcap",
    "snaplen-sliced-tcp-timestamps.pcap",
    "tcp-fast-open.pcap",
    "tcp-fin-retransmission.pcap",
    "tcp-handshake-reorder.pcap",
    "tcp-missing-syn-midstream.pcap",
    "tcp-retransmit-fast.pcap",
    "tcp-rst-injection.pcap",
    "tcp-split-handshake-4whs.pcap",
    "tcp-syn-then-rst.pcap",
    "ts-2106-max.pcap",
    "vlan-8021q-icmp-arp.pcap",
    "vlan-id0-priority-tag-http.pcap",
    "vrrp.pcap",
];

/// Ways argus 3.0.8 reports some flows wrongly.
#[derive(Clone, Copy, Debug)]
pub enum ArgusDefect {
    /// A record's start time is the first packet of the source side, so a
    /// destination packet earlier in the interval falls before the start
    /// (test `defect_start_time_from_source_side`). Flows without ports also
    /// take the smaller address as the source, whoever sent first.
    StartFromSourceSide,
    /// The non-first fragment of a fragmented ICMP echo request is counted
    /// for the wrong side (test `defect_icmp_fragment_direction`).
    IcmpFragmentDirection,
    /// A TCP connection between two ports of one address is split into two
    /// one-way records (test `defect_same_address_connection`).
    SameAddressSplit,
    /// Layer-2 flows take the smaller MAC address as the source, so the
    /// sender's frames are counted for the destination (test
    /// `defect_layer2_direction`).
    Layer2AddressOrder,
    /// A capture whose SYN-ACK precedes the SYN in file order (with a later
    /// timestamp) names the server as source and starts at the SYN-ACK (test
    /// `defect_reordered_handshake`).
    ReorderedHandshake,
}

/// Reference records argus got wrong: capture, the record's start time as
/// argus printed it, and the defect.
pub const KNOWN_ARGUS_DEFECTS: &[(&str, &str, ArgusDefect)] = &[
    ("fmt-pcapng-22-interfaces-web.pcapng", "1623222112.086485", ArgusDefect::StartFromSourceSide),
    ("fmt-pcapng-22-interfaces-web.pcapng", "1623226466.507324", ArgusDefect::StartFromSourceSide),
    ("frag-ipv4-icmp-echo.pcap", "1506945812.535132", ArgusDefect::IcmpFragmentDirection),
    ("ipv6-ah-ospfv3.pcap", "1220202785.724441", ArgusDefect::StartFromSourceSide),
    ("ipv6-atomic-frag-http.pcap", "1333039452.497516", ArgusDefect::ReorderedHandshake),
    ("lt-null-af2-af30-tcp.pcap", "1536797872.428410", ArgusDefect::SameAddressSplit),
    ("lt-null-af2-af30-tcp.pcap", "1536797872.428438", ArgusDefect::SameAddressSplit),
    ("lt-sll-kakaotalk-tcp-udp.pcap", "1430069031.594580", ArgusDefect::StartFromSourceSide),
    ("lt-sll-kakaotalk-tcp-udp.pcap", "1430069037.135626", ArgusDefect::StartFromSourceSide),
    ("lt-sll-kakaotalk-tcp-udp.pcap", "1430069041.457495", ArgusDefect::StartFromSourceSide),
    ("lt-sll-kakaotalk-tcp-udp.pcap", "1430069048.642676", ArgusDefect::StartFromSourceSide),
    ("lt-sll-kakaotalk-tcp-udp.pcap", "1430069052.317694", ArgusDefect::StartFromSourceSide),
    ("lt-sll-kakaotalk-tcp-udp.pcap", "1430069057.806708", ArgusDefect::StartFromSourceSide),
    ("multicast-ssdp-dns-stp.pcap", "1432414421.519136", ArgusDefect::Layer2AddressOrder),
    ("multicast-ssdp-dns-stp.pcap", "1432414427.450836", ArgusDefect::Layer2AddressOrder),
];

/// Finds the `compare-flows` tool: `NAUDIT_COMPARE_FLOWS`, else the copy in
/// the `shared/tools` folder beside the repository.
pub fn compare_flows_tool() -> PathBuf {
    if let Some(path) = std::env::var_os("NAUDIT_COMPARE_FLOWS") {
        return PathBuf::from(path);
    }
    let path = repo_root().join("../shared/tools/compare-flows");
    assert!(path.exists(), "compare-flows not found at {}; set NAUDIT_COMPARE_FLOWS to its path", path.display());
    path
}

/// Swaps the two bytes of a `0xNNNN` hex port.
pub fn swap_hex_port(port: &str) -> String {
    match u16::from_str_radix(port.trim_start_matches("0x"), 16) {
        Ok(value) => format!("0x{:04x}", value.swap_bytes()),
        Err(_) => port.to_string(),
    }
}

/// Corrects, in place, argus's ICMP identifier byte order: on little-endian
/// hosts argus stores the echo identifier (and the quoted port of a port
/// unreachable) without converting it to network order, so ra prints it
/// byte-swapped (0xca04 for identifier 1226 = 0x04ca). Test
/// `icmp_identifier_true_value` checks nauditd's value.
pub fn correct_reference(header: &[String], rows: &mut [Vec<String>]) {
    let column = |name: &str| header.iter().position(|field| field == name).expect("reference column");
    let (proto, dport) = (column("Proto"), column("Dport"));
    for row in rows.iter_mut() {
        if row.get(proto).map(String::as_str) == Some("icmp") {
            row[dport] = swap_hex_port(&row[dport]);
        }
    }
}

/// What compare-flows reported for one capture.
pub struct Comparison {
    /// The full output of compare-flows.
    pub report: String,
    /// Records in the reference.
    pub reference_records: usize,
    /// Reference records matched.
    pub matched: usize,
    /// Start times of the reference records that were not matched.
    pub unmatched_starts: BTreeSet<String>,
}

pub fn compare(reference: &Path, candidate: &Path) -> Comparison {
    let output = Command::new(compare_flows_tool())
        .arg(reference)
        .arg(candidate)
        .args(["--show", "100000"])
        .output()
        .expect("run compare-flows (needs python3)");
    let report = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "compare-flows failed: {report}{}", String::from_utf8_lossy(&output.stderr));

    let unmatched_starts = report
        .lines()
        .filter(|line| line.starts_with("missing") || line.starts_with("differs"))
        .filter_map(|line| line.split_whitespace().nth(1))
        .filter_map(|fields| fields.split(',').next())
        .map(str::to_string)
        .collect();
    let summary = report.lines().find(|line| line.starts_with("reference ")).expect("summary line");
    let count = |name: &str| -> usize {
        summary
            .split(", ")
            .find_map(|part| part.trim().strip_prefix(name))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in: {summary}"))
    };
    Comparison { reference_records: count("reference "), matched: count("matched "), unmatched_starts, report }
}

/// Start times of the reference records of `capture` that argus got wrong.
pub fn known_defect_starts(capture: &str) -> BTreeSet<String> {
    KNOWN_ARGUS_DEFECTS.iter().filter(|(name, _, _)| *name == capture).map(|(_, start, _)| start.to_string()).collect()
}

/// Path of the Argus 3.0.8 reference listing of a corpus capture.
pub fn reference_listing(capture: &str) -> PathBuf {
    repo_root().join("tests/corpus/argus-3.0.8").join(format!("{capture}.txt"))
}

/// The fields the references print, in `ra -s` order.
pub const RA_FIELDS: [&str; 13] = [
    "stime", "ltime", "proto", "saddr", "sport", "dir", "daddr", "dport", "spkts", "dpkts", "sbytes", "dbytes", "state",
];

/// Runs `program` (an Argus client) with `args`, asserting it succeeded, and
/// returns its standard output.
pub fn run_argus_tool(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap_or_else(|error| {
        panic!("cannot run {program}: {error}; install Debian's argus-client and argus-server packages")
    });
    assert!(output.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// Prints an Argus file as CSV with the reference's fields.
pub fn ra_csv(argus_file: &Path) -> String {
    let path = argus_file.to_str().expect("UTF-8 path");
    let mut args = vec!["-X", "-n", "-u", "-c", ",", "-r", path, "-s"];
    args.extend(RA_FIELDS);
    run_argus_tool("ra", &args)
}
