//! Byte counts of link types whose frames start with a header that the
//! capture tool added. Radiotap, NFLOG and PPI headers are left out of the
//! counts. The Juniper header is counted, as argus 3.0.8 counts it.

mod common;

use common::{corpus_capture, csv_rows, nauditd_csv};

/// Returns the packet and byte counts of the record between `source` and
/// `destination` (address and port) in the CSV records of `capture`.
fn counts(capture: &str, source: (&str, &str), destination: (&str, &str)) -> [u64; 4] {
    let rows = csv_rows(&nauditd_csv(&corpus_capture(capture), &[]));
    let header = &rows[0];
    let column = |name: &str| header.iter().position(|field| field == name).unwrap();
    let matching: Vec<&Vec<String>> = rows[1..]
        .iter()
        .filter(|row| {
            (row[column("saddr")].as_str(), row[column("sport")].as_str()) == source
                && (row[column("daddr")].as_str(), row[column("dport")].as_str()) == destination
        })
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "{capture}: one record {source:?} -> {destination:?} in {rows:?}"
    );
    let number = |name: &str| matching[0][column(name)].parse::<u64>().unwrap();
    [number("spkts"), number("dpkts"), number("sbytes"), number("dbytes")]
}

#[test]
fn radiotap_header_left_out() {
    // argus 3.0.8 reports 101 and 194 bytes, and 364 for the mDNS packet.
    // tshark's frame lengths are 149, 242 and 389, with radiotap headers of
    // 48, 48 and 25 bytes.
    let capture = "lt-radiotap-80211-dns.pcap";
    assert_eq!(
        counts(capture, ("172.17.156.76", "61738"), ("208.67.220.220", "53")),
        [1, 1, 101, 194]
    );
    assert_eq!(
        counts(capture, ("fe80::a667:6ff:fef7:ec54", "5353"), ("ff02::fb", "5353")),
        [1, 0, 364, 0]
    );
}

#[test]
fn plain_80211_counts_whole_frame() {
    // The same frames without radiotap: argus 3.0.8 and tshark agree.
    let capture = "lt-80211-plain-dns.pcap";
    assert_eq!(
        counts(capture, ("172.17.156.76", "61738"), ("208.67.220.220", "53")),
        [1, 1, 101, 194]
    );
    assert_eq!(
        counts(capture, ("fe80::a667:6ff:fef7:ec54", "5353"), ("ff02::fb", "5353")),
        [1, 0, 364, 0]
    );
}

#[test]
fn nflog_counts_logged_packets() {
    // argus 3.0.8 does not read NFLOG. The counts are the sums of tshark's
    // ip.len per direction; its frame lengths sum to 828 and 2276.
    let capture = "lt-nflog-http.pcap";
    assert_eq!(
        counts(capture, ("10.0.2.15", "49762"), ("93.184.216.34", "80")),
        [8, 5, 459, 1807]
    );
}

#[test]
fn juniper_header_counted() {
    // argus 3.0.8 reports 218 bytes, tshark's frame length, which includes
    // the 22-byte Juniper pseudo-header.
    let capture = "lt-juniper-ether-bgp.pcap";
    assert_eq!(
        counts(capture, ("172.16.20.5", "59631"), ("172.16.20.3", "179")),
        [1, 0, 218, 0]
    );
}

#[test]
fn ppi_header_left_out() {
    // tshark 4.0.17: six frames of 114 and 102 bytes, each with a 16-byte
    // PPI header before an Ethernet frame (ppi.length 16, ppi.dlt 1).
    // argus 3.0.8 reads no PPI captures.
    let capture = "fmt-pcap-nsec-ppi-eth-dns.pcap";
    assert_eq!(
        counts(capture, ("192.168.88.77", "30490"), ("192.168.88.73", "30490")),
        [2, 2, 196, 172]
    );
    assert_eq!(
        counts(capture, ("192.168.88.73", "30490"), ("235.2.3.5", "30490")),
        [2, 0, 196, 0]
    );
}
