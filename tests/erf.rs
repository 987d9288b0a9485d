//! Endace ERF captures: ERF files, read memory-mapped and from a pipe, and
//! ERF records inside pcap (link type 197), against the corpus pcaps the
//! ERF files were converted from and against tshark 4.0.17.
//!
//! The ERF wire length counts the 4-byte Ethernet FCS, which the records
//! do not hold. nauditd counts frames without their FCS, so an ERF file
//! gives the same records as its source pcap, while tshark counts 4 bytes
//! more per frame.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{corpus_capture, csv_rows, nauditd_csv, scratch_file};

/// ERF conversions of corpus pcaps and their sources.
const ERF_SOURCES: [(&str, &str); 3] = [
    ("erf-qinq-8100-8100-http.erf", "qinq-8100-8100-http.pcap"),
    ("erf-gtpu-outer-frag-http.erf", "gtpu-outer-frag-http.pcap"),
    ("erf-http-dns-wikipedia-multiflow.erf", "http-dns-wikipedia-multiflow.pcap"),
];

/// The lines of a CSV output in sorted order: workers write their records
/// in no fixed order.
fn sorted_lines(csv: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = csv.lines().collect();
    lines.sort_unstable();
    lines
}

#[test]
fn erf_flows_match_source_pcaps() {
    for (erf, pcap) in ERF_SOURCES {
        let from_erf = nauditd_csv(&corpus_capture(erf), &[]);
        let from_pcap = nauditd_csv(&corpus_capture(pcap), &[]);
        assert!(csv_rows(&from_erf).len() > 1, "{erf}: no records");
        assert_eq!(sorted_lines(&from_erf), sorted_lines(&from_pcap), "{erf} and {pcap}");
    }
}

#[test]
fn erf_bytes_leave_out_the_fcs() {
    // tshark -r erf-qinq-8100-8100-http.erf -q -z conv,tcp:
    // 141.142.228.5:59856 <-> 192.150.187.43:80, 7 frames of 694 bytes from
    // the client and 7 frames of 5561 bytes from the server, FCS included.
    let rows = csv_rows(&nauditd_csv(&corpus_capture("erf-qinq-8100-8100-http.erf"), &[]));
    assert_eq!(rows.len(), 2, "header and one record: {rows:?}");
    let field = |name: &str| {
        let index = rows[0].iter().position(|column| column == name).unwrap();
        rows[1][index].clone()
    };
    assert_eq!(field("saddr"), "141.142.228.5");
    assert_eq!(field("sport"), "59856");
    assert_eq!(field("daddr"), "192.150.187.43");
    assert_eq!(field("dport"), "80");
    assert_eq!(field("spkts"), "7");
    assert_eq!(field("dpkts"), "7");
    assert_eq!(field("sbytes"), (694 - 7 * 4).to_string());
    assert_eq!(field("dbytes"), (5561 - 7 * 4).to_string());
    // tshark: the first frame's relative start is 0 at 1362692526.869344.
    assert_eq!(field("stime"), "1362692526.869344");
}

/// Rewrites an ERF file as a pcap file of link type 197, one ERF record per
/// packet, with the record's timestamp in microseconds and, as a pcap
/// length, the record headers and pad (18 bytes) plus the ERF wire length.
fn erf_in_pcap(erf: &[u8]) -> Vec<u8> {
    let mut file = Vec::new();
    file.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    file.extend_from_slice(&2u16.to_le_bytes());
    file.extend_from_slice(&4u16.to_le_bytes());
    file.extend_from_slice(&[0; 8]);
    file.extend_from_slice(&262_144u32.to_le_bytes());
    file.extend_from_slice(&197u32.to_le_bytes());
    let mut offset = 0;
    while offset < erf.len() {
        let record_len = usize::from(u16::from_be_bytes([erf[offset + 10], erf[offset + 11]]));
        let wire_len = u32::from(u16::from_be_bytes([erf[offset + 14], erf[offset + 15]]));
        let timestamp = u64::from_le_bytes(erf[offset..offset + 8].try_into().unwrap());
        let seconds = (timestamp >> 32) as u32;
        let micros = (((timestamp & 0xffff_ffff) * 1_000_000 + (1 << 31)) >> 32) as u32;
        for word in [seconds, micros, record_len as u32, 18 + wire_len] {
            file.extend_from_slice(&word.to_le_bytes());
        }
        file.extend_from_slice(&erf[offset..offset + record_len]);
        offset += record_len;
    }
    file
}

#[test]
fn erf_inside_pcap_matches_erf_file() {
    for (erf, _) in ERF_SOURCES {
        let bytes = std::fs::read(corpus_capture(erf)).expect("read ERF file");
        let pcap = scratch_file(&format!("{erf}.197.pcap"), &erf_in_pcap(&bytes));
        let from_pcap = nauditd_csv(&pcap, &[]);
        let from_erf = nauditd_csv(&corpus_capture(erf), &[]);
        assert_eq!(sorted_lines(&from_pcap), sorted_lines(&from_erf), "{erf} in pcap link type 197");
    }
}

#[test]
fn erf_from_standard_input() {
    let erf = "erf-http-dns-wikipedia-multiflow.erf";
    let bytes = std::fs::read(corpus_capture(erf)).expect("read ERF file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .args(["-r", "-", "--format", "csv", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nauditd");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let output = child.wait_with_output().expect("wait for nauditd");
    writer.join().expect("writer thread").expect("write the ERF file to nauditd");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let from_pipe = String::from_utf8(output.stdout).expect("CSV is UTF-8");
    let from_file = nauditd_csv(&corpus_capture(erf), &[]);
    assert_eq!(sorted_lines(&from_pipe), sorted_lines(&from_file));
}

#[test]
fn damaged_erf_file_keeps_earlier_records() {
    let mut bytes = std::fs::read(corpus_capture("erf-qinq-8100-8100-http.erf")).expect("read ERF file");
    // Record 8 gets a record length shorter than its 16-byte header.
    let mut offset = 0;
    for _ in 0..7 {
        offset += usize::from(u16::from_be_bytes([bytes[offset + 10], bytes[offset + 11]]));
    }
    bytes[offset + 10..offset + 12].copy_from_slice(&4u16.to_be_bytes());
    let path = scratch_file("erf-damaged-record-8.erf", &bytes);

    let output = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .arg("-r")
        .arg(&path)
        .args(["--format", "csv", "-q"])
        .output()
        .expect("run nauditd");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("erf-damaged-record-8.erf"), "{stderr}");
    assert!(stderr.contains(&offset.to_string()), "{stderr}");
    assert!(stderr.contains("ERF record 8"), "{stderr}");
    let rows = csv_rows(&String::from_utf8(output.stdout).expect("CSV is UTF-8"));
    let header = &rows[0];
    let column = |name: &str| header.iter().position(|field| field == name).unwrap();
    let packets: u64 = rows[1..]
        .iter()
        .map(|row| row[column("spkts")].parse::<u64>().unwrap() + row[column("dpkts")].parse::<u64>().unwrap())
        .sum();
    assert_eq!(packets, 7, "the records before the damage: {rows:?}");
}

#[test]
fn cut_erf_file_keeps_earlier_records() {
    let bytes = std::fs::read(corpus_capture("erf-qinq-8100-8100-http.erf")).expect("read ERF file");
    // Cut the file 20 bytes into record 8.
    let mut offset = 0;
    for _ in 0..7 {
        offset += usize::from(u16::from_be_bytes([bytes[offset + 10], bytes[offset + 11]]));
    }
    let path = scratch_file("erf-cut-in-record-8.erf", &bytes[..offset + 20]);

    let output = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .arg("-r")
        .arg(&path)
        .args(["--format", "csv", "-q"])
        .output()
        .expect("run nauditd");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("erf-cut-in-record-8.erf"), "{stderr}");
    assert!(stderr.contains("cut short"), "{stderr}");
    assert!(stderr.contains(&format!("byte offset {offset}")), "{stderr}");
    let rows = csv_rows(&String::from_utf8(output.stdout).expect("CSV is UTF-8"));
    let header = &rows[0];
    let column = |name: &str| header.iter().position(|field| field == name).unwrap();
    let packets: u64 = rows[1..]
        .iter()
        .map(|row| row[column("spkts")].parse::<u64>().unwrap() + row[column("dpkts")].parse::<u64>().unwrap())
        .sum();
    assert_eq!(packets, 7, "the records before the cut: {rows:?}");
}

#[test]
fn filter_applies_to_frames_inside_erf() {
    // libpcap compiles no filter for link type 197, so the filter runs on
    // the Ethernet frame inside each record. The capture's frames carry two
    // 802.1Q tags; tshark lists all 14 frames in one TCP conversation.
    let erf = "erf-qinq-8100-8100-http.erf";
    let bytes = std::fs::read(corpus_capture(erf)).expect("read ERF file");
    let in_pcap = scratch_file("erf-qinq-filter.197.pcap", &erf_in_pcap(&bytes));
    let filter = ["vlan and vlan and tcp port 80"];
    for capture in [in_pcap.to_path_buf(), corpus_capture(erf), corpus_capture("qinq-8100-8100-http.pcap")] {
        let rows = csv_rows(&nauditd_csv(&capture, &filter));
        assert_eq!(rows.len(), 2, "{}: header and one record: {rows:?}", capture.display());
        let column = |name: &str| rows[0].iter().position(|field| field == name).unwrap();
        assert_eq!(rows[1][column("spkts")], "7", "{}", capture.display());
        assert_eq!(rows[1][column("dpkts")], "7", "{}", capture.display());
        let rejected = csv_rows(&nauditd_csv(&capture, &["udp"]));
        assert_eq!(rejected.len(), 1, "{}: no UDP: {rejected:?}", capture.display());
    }
}
