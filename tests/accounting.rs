//! Every packet of every corpus capture ends up in exactly one record, or
//! is counted as having no flow key: nothing read is lost.

mod common;

use std::process::Command;

use common::corpus_capture;

/// Reads a `name  value` line of the run summary.
fn summary_value(summary: &str, name: &str) -> u64 {
    summary
        .lines()
        .find_map(|line| line.trim().strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no '{name}' in the summary:\n{summary}"))
}

#[test]
fn every_packet_in_one_record() {
    let folder = common::repo_root().join("tests/corpus/pcap");
    let mut captures: Vec<String> = std::fs::read_dir(&folder)
        .expect("list the corpus")
        .map(|entry| entry.expect("corpus entry").file_name().to_string_lossy().to_string())
        .collect();
    captures.sort();
    assert!(captures.len() > 100, "corpus found: {}", captures.len());

    for capture in &captures {
        let output = Command::new(env!("CARGO_BIN_EXE_nauditd"))
            .arg("-r")
            .arg(corpus_capture(capture))
            .args(["--format", "csv"])
            .output()
            .expect("run nauditd");
        let summary = String::from_utf8_lossy(&output.stderr);
        let packets_read = summary_value(&summary, "packets read");
        let unkeyed = summary_value(&summary, "without a flow key");

        let csv = String::from_utf8(output.stdout).expect("UTF-8 CSV");
        let in_records: u64 = csv
            .lines()
            .skip(1)
            .map(|line| {
                let fields: Vec<&str> = line.split(',').collect();
                fields[8].parse::<u64>().expect("spkts") + fields[9].parse::<u64>().expect("dpkts")
            })
            .sum();
        assert_eq!(in_records + unkeyed, packets_read, "{capture}: packets in records + without a key = read");
    }
}
