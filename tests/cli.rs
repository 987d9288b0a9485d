//! The command line as a user meets it: inputs, damaged files, errors,
//! options and the run summary.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};

mod common;

use common::builder::{self, TestPacket};
use common::{corpus_capture, csv_rows, nauditd_csv, scratch_file, ScratchDir};

fn nauditd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nauditd")).args(args).output().expect("run nauditd")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn damaged_file_keeps_records_before_damage() {
    // Packet 2 of this file claims a captured length of 1,409,179,648 bytes.
    let capture = corpus_capture("bad-pcap-record-len-16MB.pcap");
    let output = nauditd(&["-r", capture.to_str().unwrap(), "--format", "csv", "-q"]);
    assert_eq!(output.status.code(), Some(1), "damage is an error");
    let rows = csv_rows(&text(&output.stdout));
    assert_eq!(rows.len(), 2, "the record of packet 1 is written: {rows:?}");
    assert_eq!(rows[1][8], "1", "one packet");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("bad-pcap-record-len-16MB.pcap"), "{stderr}");
    assert!(stderr.contains("byte offset 228"), "{stderr}");
    assert!(stderr.contains("packet 2"), "{stderr}");
    assert!(stderr.contains("above the maximum of 262144"), "{stderr}");
}

#[test]
fn truncated_file_reports_offset() {
    let capture = corpus_capture("bad-pcap-record-cut-short.pcap");
    let output = nauditd(&["-r", capture.to_str().unwrap(), "--format", "csv"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("byte offset 237"), "{stderr}");
    assert!(stderr.contains("cut short"), "{stderr}");
    assert!(stderr.contains("packets read       1"), "the summary still counts packet 1: {stderr}");
}

#[test]
fn no_input_names_every_source() {
    let output = nauditd(&[]);
    assert_eq!(output.status.code(), Some(2), "a usage error");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("--read"), "{stderr}");
    assert!(stderr.contains("--interface"), "{stderr}");
    assert!(stderr.contains("--list-interfaces"), "{stderr}");
}

#[test]
fn option_after_filter_gets_advice() {
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let output = nauditd(&["-r", capture.to_str().unwrap(), "tcp", "port", "80", "-q"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("invalid filter expression"), "{stderr}");
    assert!(stderr.contains("\"-q\" was read as part of the filter"), "{stderr}");
    assert!(stderr.contains("put options before the filter expression"), "{stderr}");

    // An expression that fails without an option-like word gets no such advice.
    let output = nauditd(&["-r", capture.to_str().unwrap(), "tcp", "port", "-", "80"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("put options before"), "{stderr}");
}

#[test]
fn missing_and_empty_inputs_rejected() {
    let output = nauditd(&["-r", "/nonexistent/capture.pcap"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("/nonexistent/capture.pcap"), "{stderr}");
    assert!(stderr.contains("No such file"), "{stderr}");

    let empty = scratch_file("empty.pcap", b"");
    let output = nauditd(&["-r", empty.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("empty (0 bytes)"), "{stderr}");
    assert!(stderr.contains("no packet was read"), "{stderr}");

    let not_a_capture = scratch_file("text.pcap", b"this is not a capture file\n");
    let output = nauditd(&["-r", not_a_capture.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("text.pcap"));
}

#[test]
fn standard_input_reads_like_file() {
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let from_file = nauditd_csv(&capture, &[]);

    let mut child = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .args(["-r", "-", "--format", "csv", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run nauditd");
    let bytes = std::fs::read(&capture).expect("read capture");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&bytes).expect("write capture to stdin"));
    let output = child.wait_with_output().expect("wait for nauditd");
    writer.join().expect("writer thread");
    assert!(output.status.success());
    assert_eq!(sorted_lines(&text(&output.stdout)), sorted_lines(&from_file));
}

/// The lines of `csv`, sorted: with several workers, records come out in
/// no fixed order.
fn sorted_lines(csv: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = csv.lines().collect();
    lines.sort_unstable();
    lines
}

/// Splits a little-endian microsecond pcap file into two files, packets
/// alternating between them.
fn split_pcap(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    const FILE_HEADER_BYTES: usize = 24;
    const RECORD_HEADER_BYTES: usize = 16;
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let mut halves = (bytes[..FILE_HEADER_BYTES].to_vec(), bytes[..FILE_HEADER_BYTES].to_vec());
    let mut offset = FILE_HEADER_BYTES;
    let mut index = 0;
    while offset + RECORD_HEADER_BYTES <= bytes.len() {
        let captured = u32::from_le_bytes(bytes[offset + 8..offset + 12].try_into().unwrap()) as usize;
        let end = offset + RECORD_HEADER_BYTES + captured;
        let half = if index % 2 == 0 { &mut halves.0 } else { &mut halves.1 };
        half.extend_from_slice(&bytes[offset..end]);
        offset = end;
        index += 1;
    }
    halves
}

#[test]
fn several_files_merge_by_time() {
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let whole = nauditd_csv(&capture, &[]);
    let (first, second) = split_pcap(&std::fs::read(&capture).expect("read capture"));
    let first = scratch_file("merge-first.pcap", &first);
    let second = scratch_file("merge-second.pcap", &second);

    let output = nauditd(&["-r", first.to_str().unwrap(), "-r", second.to_str().unwrap(), "--format", "csv", "-q"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(sorted_lines(&text(&output.stdout)), sorted_lines(&whole));
}

#[test]
fn summary_counts_malformed_headers() {
    // The IPv4 header of this packet has an IHL below 5.
    let capture = corpus_capture("bad-ipv4-invalid-hdr-length.pcap");
    let output = nauditd(&["-r", capture.to_str().unwrap(), "--format", "csv"]);
    assert!(output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("packets read       1"), "{stderr}");
    assert!(stderr.contains("malformed headers  1 (ipv4 1)"), "{stderr}");
    assert!(stderr.contains("packets/s"), "{stderr}");
}

#[test]
fn status_interval_splits_long_flows() {
    // The STP flow of this capture sends every 2 s from 1300475167.13.
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let count_llc = |csv: &str| csv.lines().filter(|line| line.contains(",llc,")).count();
    assert_eq!(count_llc(&nauditd_csv(&capture, &[])), 2, "5 s intervals");
    assert_eq!(count_llc(&nauditd_csv(&capture, &["-S", "1"])), 4, "1 s intervals: one record per frame");
}

#[test]
fn invalid_option_values_rejected() {
    let capture = corpus_capture("icmp-echo-5pings.pcap");
    let output = nauditd(&["-r", capture.to_str().unwrap(), "-S", "0"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("--status-interval"));
    let output = nauditd(&["-r", capture.to_str().unwrap(), "--tcp-timeout=-5"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("invalid value -5 for --tcp-timeout"));
    let output = nauditd(&["-r", capture.to_str().unwrap(), "--max-flows", "0"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("--max-flows"));
}

#[test]
fn help_names_units() {
    let output = nauditd(&["--help"]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for option in ["--status-interval", "--tcp-timeout", "--format", "--write", "--max-flows"] {
        assert!(help.contains(option), "{option} in help");
    }
    assert!(help.matches("seconds").count() >= 7, "timeouts say their unit:\n{help}");
}

#[test]
fn json_lines_match_csv() {
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let csv = csv_rows(&nauditd_csv(&capture, &["--workers", "1"]));
    let output = nauditd(&["-r", capture.to_str().unwrap(), "--format", "json", "-q", "--workers", "1"]);
    assert!(output.status.success());
    let records: Vec<serde_json::Value> =
        text(&output.stdout).lines().map(|line| serde_json::from_str(line).expect("JSON line")).collect();
    assert_eq!(records.len(), csv.len() - 1);
    let header = &csv[0];
    for (row, record) in csv[1..].iter().zip(&records) {
        for (name, value) in header.iter().zip(row) {
            let json = &record[name.as_str()];
            match json {
                serde_json::Value::String(text) => assert_eq!(text, value, "field {name}"),
                serde_json::Value::Null => assert_eq!(value, "", "field {name}"),
                serde_json::Value::Number(number) => {
                    let csv_number: f64 = value.parse().unwrap_or_else(|_| panic!("field {name}: {value}"));
                    assert_eq!(number.as_f64(), Some(csv_number), "field {name}");
                }
                other => panic!("field {name}: unexpected JSON value {other}"),
            }
        }
    }
}

#[test]
fn argus_file_readable_by_ra() {
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let csv_records = nauditd_csv(&capture, &[]).lines().count() - 1;
    let scratch = ScratchDir::new("cli", "argus-file");
    let argus_file = scratch.join("records.argus");
    let output = nauditd(&["-r", capture.to_str().unwrap(), "-w", argus_file.to_str().unwrap(), "-q"]);
    assert!(output.status.success(), "{}", text(&output.stderr));

    let ra = Command::new("ra")
        .args(["-X", "-M", "man", "-n", "-u", "-c", ",", "-r"])
        .arg(&argus_file)
        .args(["-s", "stime", "proto", "saddr", "spkts", "dpkts"])
        .output()
        .expect("run ra (install Debian's argus-client package)");
    assert!(ra.status.success(), "{}", text(&ra.stderr));
    let printed = text(&ra.stdout);
    let flows = printed.lines().filter(|line| !line.contains(",man,") && !line.starts_with("StartTime")).count();
    assert_eq!(flows, csv_records, "{printed}");
    assert_eq!(printed.lines().filter(|line| line.contains(",man,")).count(), 2, "initial and closing MAR");
}

#[test]
fn full_shard_evicts_least_recent() {
    // 42 flows through a shard of 4: the oldest flows are evicted with
    // their records written, and every packet is still in a record.
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let output = nauditd(&["-r", capture.to_str().unwrap(), "--format", "csv", "--workers", "1", "--max-flows", "4"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let csv = text(&output.stdout);
    let evicted = csv.lines().filter(|line| line.split(',').any(|field| field == "evicted")).count();
    assert!(evicted > 0, "records with cause evicted:\n{csv}");
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&format!("evicted {evicted})")), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|line| line.contains("flow table full")).collect();
    assert_eq!(warnings.len(), 2, "the first warning and the total at the end: {stderr}");
    assert!(warnings[1].contains("until the end"), "{stderr}");
    assert!(warnings[1].contains(&format!("total_evicted_flows={evicted}")), "{stderr}");
    assert!(stderr.contains("Raise --max-flows."), "{stderr}");
    let packets: u64 = csv
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            fields[8].parse::<u64>().unwrap() + fields[9].parse::<u64>().unwrap()
        })
        .sum();
    assert_eq!(packets, 136, "every packet of the capture is in a record");

    let roomy = nauditd(&["-r", capture.to_str().unwrap(), "--format", "csv", "--workers", "1"]);
    assert!(!text(&roomy.stderr).contains("flow table full"), "no warning without eviction");
}

/// Returns the number of batches on the summary's `batch latency` line.
fn latency_batches(stderr: &str) -> Option<u64> {
    let line = stderr.lines().find(|line| line.trim_start().starts_with("batch latency"))?;
    let count = line.rsplit_once('(')?.1.split_whitespace().next()?;
    count.parse().ok()
}

#[test]
fn batch_latency_in_summary() {
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let path = capture.to_str().unwrap();
    for workers in ["1", "2"] {
        let output = nauditd(&["-r", path, "--workers", workers, "--batch-latency", "-w", "/dev/null"]);
        let stderr = text(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let batches = latency_batches(&stderr).unwrap_or_else(|| panic!("no batch latency line: {stderr}"));
        assert!(batches >= 1, "{stderr}");
        assert!(stderr.contains("batch latency      p50 "), "{stderr}");
    }

    let output = nauditd(&["-r", path, "-w", "/dev/null"]);
    assert_eq!(latency_batches(&text(&output.stderr)), None, "batches are timed only on request");
}

#[test]
fn text_file_name_without_format_warns() {
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let scratch = common::ScratchDir::new("cli", "text-name");
    for (name, format) in [("flows.csv", "csv"), ("flows.json", "json"), ("flows.argus", "")] {
        let path = scratch.0.join(name);
        let output = nauditd(&["-r", capture.to_str().unwrap(), "-w", path.to_str().unwrap(), "-q"]);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let stderr = text(&output.stderr);
        if format.is_empty() {
            assert!(!stderr.contains("add --format"), "no warning for {name}: {stderr}");
        } else {
            assert!(stderr.contains(&format!("add --format {format}")), "warning for {name}: {stderr}");
        }
        let written = std::fs::read(&path).expect("read the output");
        assert!(written.len() > 100, "records written to {name}");
    }
}

#[test]
fn closed_pipe_ends_quietly() {
    // 20,000 one-packet flows: more CSV than a pipe holds, so nauditd is
    // still writing when the reader goes away, as with `| head -1`.
    let packets: Vec<TestPacket> = (0..20_000u32)
        .map(|index| {
            let host = index.to_be_bytes();
            TestPacket {
                time_ns: 1_600_000_000_000_000_000 + u64::from(index) * 1_000,
                data: builder::ipv4_frame([10, host[1], host[2], host[3]], [192, 0, 2, 1], 17, &builder::udp(5000, 53, 20), false),
            }
        })
        .collect();
    let capture = scratch_file("closed-pipe.pcap", &builder::pcap_file(1, &packets));
    let mut child = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .args(["-r", capture.to_str().unwrap(), "--format", "csv", "--workers", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nauditd");
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first_line).expect("read the header");
    assert!(first_line.starts_with("stime,"), "{first_line}");
    // The reader above is dropped, which closed the pipe.
    let output = child.wait_with_output().expect("wait for nauditd");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.signal(), Some(libc::SIGPIPE), "{:?}: {stderr}", output.status);
    assert!(!stderr.contains("Broken pipe"), "no error for a closed pipe: {stderr}");
}
