//! End-to-end comparison of nauditd's CSV records with the Argus 3.0.8
//! reference output of each plain-IP capture of the corpus, using the
//! `compare-flows` tool of the reference set.
//!
//! A capture passes when at least [`MIN_MATCH_PERCENT`] of the reference
//! records are matched: same protocol, endpoints and start time, and the same
//! last time, packets and bytes in both directions. Before the comparison the
//! reference is corrected for the argus defects listed in
//! [`correct_reference`], each of which has its own test below showing the
//! right value.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{corpus_capture, nauditd_csv, read_csv, repo_root, write_csv};

/// Lowest share of reference records that must match, in percent.
const MIN_MATCH_PERCENT: f64 = 95.0;

/// The plain-IP captures: link types nauditd decodes today (Ethernet,
/// 802.1Q, raw IP, Linux cooked v1 and v2, BSD loopback), no tunnel, and an
/// argus reference that argus produced without failing.
const PLAIN_IP_CAPTURES: &[&str] = &[
    "http-dns-wikipedia-multiflow.pcap",
    "icmp-echo-5pings.pcap",
];

/// Finds the `compare-flows` tool: `NAUDIT_COMPARE_FLOWS`, else the copy in
/// the `shared/tools` folder next to the repository.
fn compare_flows_tool() -> PathBuf {
    if let Some(path) = std::env::var_os("NAUDIT_COMPARE_FLOWS") {
        return PathBuf::from(path);
    }
    let path = repo_root().join("../shared/tools/compare-flows");
    assert!(
        path.exists(),
        "compare-flows not found at {}; set NAUDIT_COMPARE_FLOWS to its path",
        path.display()
    );
    path
}

/// Swaps the two bytes of a `0xNNNN` hex port.
fn swap_hex_port(port: &str) -> String {
    match u16::from_str_radix(port.trim_start_matches("0x"), 16) {
        Ok(value) => format!("0x{:04x}", value.swap_bytes()),
        Err(_) => port.to_string(),
    }
}

/// Corrects argus 3.0.8 defects in reference records, in place.
///
/// - ICMP identifier byte order: argus on little-endian hosts stores the
///   ICMP echo identifier (and the quoted port of an unreachable) without
///   converting it to network order, so ra prints it byte-swapped (0xca04
///   for identifier 1226 = 0x04ca). Tested by `icmp_identifier_true_value`.
fn correct_reference(header: &[String], rows: &mut [Vec<String>]) {
    let column = |name: &str| header.iter().position(|field| field == name).expect("reference column");
    let (proto, dport) = (column("Proto"), column("Dport"));
    for row in rows.iter_mut() {
        if row.get(proto).map(String::as_str) == Some("icmp") {
            row[dport] = swap_hex_port(&row[dport]);
        }
    }
}

/// Runs compare-flows and returns its summary lines and the match percent.
fn compare(reference: &Path, candidate: &Path) -> (String, f64) {
    let output = Command::new(compare_flows_tool())
        .arg(reference)
        .arg(candidate)
        .arg("--show")
        .arg("5")
        .output()
        .expect("run compare-flows (needs python3)");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "compare-flows failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    let percent = text
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("match: "))
        .and_then(|value| value.trim_end_matches('%').parse().ok())
        .unwrap_or_else(|| panic!("no match line in compare-flows output: {text}"));
    (text, percent)
}

#[test]
fn corpus_match_rate() {
    let scratch = tempdir("corpus-match");
    let mut failures = Vec::new();
    println!("capture match rates against argus 3.0.8 (minimum {MIN_MATCH_PERCENT}%):");
    for capture in PLAIN_IP_CAPTURES {
        let reference_path = repo_root().join("tests/corpus/argus-3.0.8").join(format!("{capture}.txt"));
        let (header, mut rows) = read_csv(&reference_path);
        correct_reference(&header, &mut rows);
        let corrected = scratch.join(format!("{capture}.reference.csv"));
        write_csv(&corrected, &header, &rows);

        let candidate = scratch.join(format!("{capture}.nauditd.csv"));
        std::fs::write(&candidate, nauditd_csv(&corpus_capture(capture), &[])).expect("write candidate");

        let (report, percent) = compare(&corrected, &candidate);
        println!("  {percent:6.2}%  {capture}");
        if percent < MIN_MATCH_PERCENT {
            failures.push(format!("{capture}: {percent:.2}%\n{report}"));
        }
    }
    assert!(failures.is_empty(), "captures below {MIN_MATCH_PERCENT}%:\n{}", failures.join("\n"));
}

#[test]
fn icmp_identifier_true_value() {
    // tshark -r icmp-echo-5pings.pcap -T fields -e icmp.ident shows 1226.
    let csv = nauditd_csv(&corpus_capture("icmp-echo-5pings.pcap"), &[]);
    let first = csv.lines().nth(1).expect("a record");
    let fields: Vec<&str> = first.split(',').collect();
    assert_eq!(fields[2], "icmp");
    assert_eq!(fields[4], "0x0008", "type 8 code 0");
    assert_eq!(fields[7], "0x04ca", "identifier 1226");
}

fn tempdir(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("nauditd-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&path).expect("create scratch folder");
    path
}
