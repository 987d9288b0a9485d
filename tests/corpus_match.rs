//! End-to-end comparison of nauditd's CSV records with the Argus 3.0.8
//! reference output of each plain-IP capture of the corpus, using the
//! `compare-flows` tool that comes with the reference set.
//!
//! A reference record matches when nauditd has a record with the same
//! protocol, endpoints and start time, and the same last time, packets and
//! bytes in both directions. Before comparing, the reference is corrected
//! for argus's byte-swapped ICMP identifiers. A few reference records are
//! wrong in ways that cannot be corrected from the reference alone; each is
//! listed in `KNOWN_ARGUS_DEFECTS` (tests/common/reference.rs) with its
//! defect, and each defect has a
//! test below that checks nauditd's value against tshark's view of the same
//! packets. Every capture must match at least `MIN_MATCH_PERCENT` of its
//! other records, and every listed record must really differ, so the list
//! cannot hide a regression.

mod common;

use std::collections::BTreeSet;

use common::reference::{
    compare, correct_reference, known_defect_starts, reference_listing, MIN_MATCH_PERCENT, PLAIN_IP_CAPTURES,
};
use common::{corpus_capture, csv_rows, nauditd_csv, read_csv, write_csv, ScratchDir};

/// Argus reads a capture in file order on one thread; one worker does the
/// same, also for the few captures whose timestamps go backwards.
const ONE_WORKER: [&str; 2] = ["--workers", "1"];

#[test]
fn corpus_match_rate() {
    let scratch = ScratchDir::new("corpus", "match");
    let mut failures = Vec::new();
    println!("match against argus 3.0.8 (minimum {MIN_MATCH_PERCENT}% of the records argus got right):");
    for capture in PLAIN_IP_CAPTURES {
        let (header, mut rows) = read_csv(&reference_listing(capture));
        correct_reference(&header, &mut rows);
        let corrected = scratch.join(format!("{capture}.reference.csv"));
        write_csv(&corrected, &header, &rows);

        let candidate = scratch.join(format!("{capture}.nauditd.csv"));
        std::fs::write(&candidate, nauditd_csv(&corpus_capture(capture), &ONE_WORKER)).expect("write candidate");
        let comparison = compare(&corrected, &candidate);

        let listed: BTreeSet<String> = known_defect_starts(capture);
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
    let rows = csv_rows(&nauditd_csv(&corpus_capture(capture), &ONE_WORKER));
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
