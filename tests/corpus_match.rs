//! End-to-end comparison of nauditd's CSV records with the Argus 3.0.8
//! reference output of each plain-IP capture of the corpus, using the
//! `compare-flows` tool that comes with the reference set.
//!
//! A reference record matches when nauditd has a record with the same
//! protocol, endpoints and start time, and the same last time, packets and
//! bytes in both directions. Before comparing, the reference is corrected
//! for argus's byte-swapped ICMP identifiers. A few reference records are
//! wrong in ways that cannot be corrected from the reference alone; each is
//! listed in [`KNOWN_ARGUS_DEFECTS`] with the defect, and each defect has a
//! test below that checks nauditd's value against tshark's view of the same
//! packets. Every capture must match at least [`MIN_MATCH_PERCENT`] of its
//! other records, and every listed record must really differ, so the list
//! cannot hide a regression.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{corpus_capture, csv_rows, nauditd_csv, read_csv, repo_root, write_csv};

/// Lowest share of reference records (those not listed as argus defects)
/// that must match, in percent.
const MIN_MATCH_PERCENT: f64 = 95.0;

/// The plain-IP captures: link types nauditd decodes (Ethernet with 802.1Q
/// tags and LLC/SNAP, raw IP, Linux cooked, BSD loopback), no tunnel, and an
/// argus reference that argus produced without failing.
const PLAIN_IP_CAPTURES: &[&str] = &[
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
enum ArgusDefect {
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
const KNOWN_ARGUS_DEFECTS: &[(&str, &str, ArgusDefect)] = &[
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
fn compare_flows_tool() -> PathBuf {
    if let Some(path) = std::env::var_os("NAUDIT_COMPARE_FLOWS") {
        return PathBuf::from(path);
    }
    let path = repo_root().join("../shared/tools/compare-flows");
    assert!(path.exists(), "compare-flows not found at {}; set NAUDIT_COMPARE_FLOWS to its path", path.display());
    path
}

/// Swaps the two bytes of a `0xNNNN` hex port.
fn swap_hex_port(port: &str) -> String {
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
fn correct_reference(header: &[String], rows: &mut [Vec<String>]) {
    let column = |name: &str| header.iter().position(|field| field == name).expect("reference column");
    let (proto, dport) = (column("Proto"), column("Dport"));
    for row in rows.iter_mut() {
        if row.get(proto).map(String::as_str) == Some("icmp") {
            row[dport] = swap_hex_port(&row[dport]);
        }
    }
}

/// What compare-flows reported for one capture.
struct Comparison {
    report: String,
    reference_records: usize,
    matched: usize,
    /// Start times of the reference records that were not matched.
    unmatched_starts: BTreeSet<String>,
}

fn compare(reference: &Path, candidate: &Path) -> Comparison {
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

#[test]
fn corpus_match_rate() {
    let scratch = std::env::temp_dir().join(format!("nauditd-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("create scratch folder");
    let mut failures = Vec::new();
    println!("match against argus 3.0.8 (minimum {MIN_MATCH_PERCENT}% of the records argus got right):");
    for capture in PLAIN_IP_CAPTURES {
        let reference_path = repo_root().join("tests/corpus/argus-3.0.8").join(format!("{capture}.txt"));
        let (header, mut rows) = read_csv(&reference_path);
        correct_reference(&header, &mut rows);
        let corrected = scratch.join(format!("{capture}.reference.csv"));
        write_csv(&corrected, &header, &rows);

        let candidate = scratch.join(format!("{capture}.nauditd.csv"));
        std::fs::write(&candidate, nauditd_csv(&corpus_capture(capture), &[])).expect("write candidate");
        let comparison = compare(&corrected, &candidate);

        let listed: BTreeSet<String> = KNOWN_ARGUS_DEFECTS
            .iter()
            .filter(|(name, _, _)| name == capture)
            .map(|(_, start, _)| start.to_string())
            .collect();
        let unexplained: Vec<&String> = comparison.unmatched_starts.difference(&listed).collect();
        let stale: Vec<&String> = listed.difference(&comparison.unmatched_starts).collect();
        let judged = comparison.reference_records - listed.len();
        let percent = if judged == 0 { 100.0 } else { 100.0 * comparison.matched as f64 / judged as f64 };
        let raw_percent = if comparison.reference_records == 0 {
            100.0
        } else {
            100.0 * comparison.matched as f64 / comparison.reference_records as f64
        };
        println!(
            "  {percent:6.2}%  {capture} ({} of {} records; {} argus defects; {raw_percent:.2}% of all)",
            comparison.matched,
            comparison.reference_records,
            listed.len()
        );
        if percent < MIN_MATCH_PERCENT || !stale.is_empty() {
            failures.push(format!(
                "{capture}: {percent:.2}%; unmatched not listed as defects: {unexplained:?}; \
                 listed but matched: {stale:?}\n{}",
                comparison.report
            ));
        }
    }
    assert!(failures.is_empty(), "corpus comparison failed:\n{}", failures.join("\n"));
}

/// Returns the CSV rows of nauditd's records for a corpus capture, header
/// first, and a function finding a column by name.
fn records_of(capture: &str) -> (Vec<Vec<String>>, impl Fn(&str) -> usize) {
    let rows = csv_rows(&nauditd_csv(&corpus_capture(capture), &[]));
    let header = rows[0].clone();
    let column = move |name: &str| header.iter().position(|field| field == name).expect("CSV column");
    (rows, column)
}

#[test]
fn icmp_identifier_true_value() {
    // tshark -r icmp-echo-5pings.pcap -T fields -e icmp.ident shows 1226.
    let (rows, column) = records_of("icmp-echo-5pings.pcap");
    assert_eq!(rows[1][column("proto")], "icmp");
    assert_eq!(rows[1][column("sport")], "0x0008", "type 8, code 0");
    assert_eq!(rows[1][column("dport")], "0x04ca", "identifier 1226");
}

#[test]
fn defect_start_time_from_source_side() {
    // tshark: 10.24.82.188:37821 -> 210.103.240.15:443 goes quiet after
    // 1430069031.100135; the server's FIN,ACK at 1430069041.381385 comes
    // first in the next interval, the client's ACK at 1430069041.457495.
    let (rows, column) = records_of("lt-sll-kakaotalk-tcp-udp.pcap");
    let record = rows
        .iter()
        .find(|row| row[column("sport")] == "37821" && row[column("ltime")] == "1430069041.457495")
        .expect("second record of port 37821");
    assert_eq!(record[column("stime")], "1430069041.381385");
    assert_eq!(record[column("saddr")], "10.24.82.188");
    assert_eq!((record[column("spkts")].as_str(), record[column("dpkts")].as_str()), ("1", "1"));
}

#[test]
fn defect_icmp_fragment_direction() {
    // tshark: both fragments of the echo request (1010 and 466 bytes) come
    // from 2.1.1.2; the reply (1442 bytes) from 2.1.1.1.
    let (rows, column) = records_of("frag-ipv4-icmp-echo.pcap");
    assert_eq!(rows.len(), 2, "one record: {rows:?}");
    let record = &rows[1];
    assert_eq!(record[column("saddr")], "2.1.1.2");
    assert_eq!((record[column("spkts")].as_str(), record[column("sbytes")].as_str()), ("2", "1476"));
    assert_eq!((record[column("dpkts")].as_str(), record[column("dbytes")].as_str()), ("1", "1442"));
}

#[test]
fn defect_same_address_connection() {
    // tshark: ::1 port 65388 sends a SYN to ::1 port 6666, which answers
    // with RST,ACK: one refused connection.
    let (rows, column) = records_of("lt-null-af2-af30-tcp.pcap");
    let record = rows.iter().find(|row| row[column("saddr")] == "::1").expect("IPv6 record");
    assert_eq!((record[column("sport")].as_str(), record[column("dport")].as_str()), ("65388", "6666"));
    assert_eq!((record[column("spkts")].as_str(), record[column("dpkts")].as_str()), ("1", "1"));
    assert_eq!(record[column("state")], "RST");
    assert_eq!(rows.iter().filter(|row| row[column("saddr")] == "::1").count(), 1);
}

#[test]
fn defect_layer2_direction() {
    // tshark: the spanning-tree BPDUs are sent by e8:de:27:ff:c0:77 to
    // 01:80:c2:00:00:00.
    let (rows, column) = records_of("multicast-ssdp-dns-stp.pcap");
    let record = rows.iter().find(|row| row[column("proto")] == "llc").expect("llc record");
    assert_eq!(record[column("saddr")], "e8:de:27:ff:c0:77");
    assert_eq!(record[column("daddr")], "01:80:c2:00:00:00");
    assert_eq!((record[column("spkts")].as_str(), record[column("dpkts")].as_str()), ("3", "0"));
}

#[test]
fn defect_reordered_handshake() {
    // tshark: frame 4, the SYN from 2001:db8:1::2 port 36951, is stamped
    // 1333039452.497486, before the SYN-ACK of frame 3 (.497516).
    let (rows, column) = records_of("ipv6-atomic-frag-http.pcap");
    let record = rows
        .iter()
        .find(|row| row[column("sport")] == "36951" || row[column("dport")] == "36951")
        .expect("record of port 36951");
    assert_eq!(record[column("saddr")], "2001:db8:1::2");
    assert_eq!(record[column("sport")], "36951");
    assert_eq!(record[column("stime")], "1333039452.497486");
    assert_eq!((record[column("spkts")].as_str(), record[column("dpkts")].as_str()), ("5", "5"));
}
