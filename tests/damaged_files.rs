//! Damaged corpus captures read from the command line. A capture cut inside
//! a record header or inside a packet, or given a garbage length, must give
//! the same records as the capture cut cleanly before the damaged packet.
//! nauditd must then exit with status 1 and print an error naming the input,
//! the byte offset and the packet number.

mod common;

use std::fs::File;
use std::process::{Command, Output, Stdio};

use common::{corpus_capture, scratch_file};

/// Where each packet's record or block starts in a capture.
struct Layout {
    record_offsets: Vec<usize>,
}

/// Offsets of the records of a little-endian classic pcap file.
fn pcap_layout(bytes: &[u8]) -> Layout {
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let mut record_offsets = Vec::new();
    let mut offset = 24;
    while offset < bytes.len() {
        record_offsets.push(offset);
        let captured_len = u32_le(bytes, offset + 8) as usize;
        offset += 16 + captured_len;
    }
    assert_eq!(offset, bytes.len(), "the capture ends after its last record");
    Layout { record_offsets }
}

/// Offsets of the packet blocks (enhanced and simple) of a little-endian
/// pcapng file.
fn pcapng_layout(bytes: &[u8]) -> Layout {
    assert_eq!(&bytes[8..12], &[0x4d, 0x3c, 0x2b, 0x1a], "little-endian pcapng");
    let mut record_offsets = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let block_type = u32_le(bytes, offset);
        if block_type == 6 || block_type == 3 {
            record_offsets.push(offset);
        }
        offset += u32_le(bytes, offset + 4) as usize;
    }
    assert_eq!(offset, bytes.len(), "the capture ends after its last block");
    Layout { record_offsets }
}

fn u32_le(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
}

fn nauditd(args: &[&str], stdin: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .args(args)
        .args(["--format", "csv", "-q"])
        .stdin(stdin)
        .output()
        .expect("run nauditd")
}

/// Returns the CSV lines of `output`, sorted, because workers write in any order.
fn sorted_records(output: &Output) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// Reads `damaged` as a file and from standard input and checks it against
/// the same capture cut cleanly at `clean_len` bytes: the same records, exit
/// status 1, and an error naming the input, `offset` and `packet_number`.
fn check_damage(label: &str, damaged: &[u8], clean_len: usize, offset: usize, packet_number: usize, reason: &str) {
    let clean_path = scratch_file(&format!("{label}-clean"), &damaged[..clean_len]);
    let clean = nauditd(&["-r", clean_path.to_str().unwrap()], Stdio::null());
    assert!(
        clean.status.success(),
        "{label}: the clean cut is read: {}",
        String::from_utf8_lossy(&clean.stderr)
    );
    let expected = sorted_records(&clean);
    assert!(expected.len() > 1, "{label}: the clean cut has records");

    let damaged_path = scratch_file(label, damaged);
    let damaged_name = damaged_path.to_str().unwrap();
    let from_file = nauditd(&["-r", damaged_name], Stdio::null());
    let from_stdin = nauditd(&["-r", "-"], Stdio::from(File::open(&damaged_path).unwrap()));
    for (input_name, output) in [(damaged_name, &from_file), ("-", &from_stdin)] {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{label} ({input_name}): exit status\n{stderr}"
        );
        assert_eq!(
            sorted_records(output),
            expected,
            "{label} ({input_name}): records before the damage"
        );
        assert!(
            stderr.contains(&format!("nauditd: {input_name}: ")),
            "{label}: names the input\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("byte offset {offset} ")),
            "{label}: names the offset\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("(packet {packet_number})")),
            "{label}: names the packet\n{stderr}"
        );
        assert!(stderr.contains(reason), "{label}: says what is wrong\n{stderr}");
    }
}

#[test]
fn pcap_cut_inside_record_header() {
    let whole = std::fs::read(corpus_capture("http-dns-wikipedia-multiflow.pcap")).unwrap();
    let layout = pcap_layout(&whole);
    assert_eq!(layout.record_offsets.len(), 136, "packets in the capture");
    for index in [1, 40, 135] {
        let record = layout.record_offsets[index];
        let label = format!("pcap-header-cut-{index}");
        check_damage(&label, &whole[..record + 7], record, record, index + 1, "cut short");
    }
}

#[test]
fn pcap_cut_inside_packet() {
    let whole = std::fs::read(corpus_capture("http-dns-wikipedia-multiflow.pcap")).unwrap();
    let layout = pcap_layout(&whole);
    for index in [2, 77, 135] {
        let record = layout.record_offsets[index];
        let captured_len = u32_le(&whole, record + 8) as usize;
        let cut_len = record + 16 + captured_len / 2;
        let label = format!("pcap-packet-cut-{index}");
        check_damage(&label, &whole[..cut_len], record, record, index + 1, "cut short");
    }
}

#[test]
fn pcap_garbage_captured_length() {
    let whole = std::fs::read(corpus_capture("http-dns-wikipedia-multiflow.pcap")).unwrap();
    let layout = pcap_layout(&whole);
    for (index, garbage) in [(3, 0xffff_ff00u32), (60, 0x0100_0000)] {
        let record = layout.record_offsets[index];
        let mut damaged = whole.clone();
        damaged[record + 8..record + 12].copy_from_slice(&garbage.to_le_bytes());
        let label = format!("pcap-garbage-length-{index}");
        check_damage(&label, &damaged, record, record, index + 1, "above the maximum");
    }
}

#[test]
fn pcapng_damaged_blocks() {
    let whole = std::fs::read(corpus_capture("fmt-pcapng-nrb-isb-dns.pcapng")).unwrap();
    let layout = pcapng_layout(&whole);
    assert_eq!(layout.record_offsets.len(), 77, "packets in the capture");
    let index = 30;
    let block = layout.record_offsets[index];
    let block_len = u32_le(&whole, block + 4) as usize;

    check_damage(
        "pcapng-header-cut",
        &whole[..block + 5],
        block,
        block,
        index + 1,
        "cut short",
    );
    check_damage(
        "pcapng-block-cut",
        &whole[..block + block_len / 2],
        block,
        block,
        index + 1,
        "cut short",
    );

    let mut damaged = whole.clone();
    damaged[block + 4..block + 8].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    check_damage(
        "pcapng-garbage-length",
        &damaged,
        block,
        block,
        index + 1,
        "length of 2147483632 bytes, above the maximum",
    );
}
