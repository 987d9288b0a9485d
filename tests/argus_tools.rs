//! nauditd's Argus files read by the real Argus 3.0.8 clients: `ra` prints
//! the same flows as nauditd's CSV, and `racluster` and `rasort` rewrite
//! them as they rewrite the files of argus itself.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::reference::{
    compare, correct_reference, known_defect_starts, ra_csv, reference_listing, run_argus_tool, MIN_MATCH_PERCENT,
    PLAIN_IP_CAPTURES, RA_FIELDS,
};
use common::builder::{self, TestPacket};
use common::{corpus_capture, nauditd_csv, read_csv, repo_root, scratch_file, write_csv, ScratchDir};

fn scratch_folder(name: &str) -> ScratchDir {
    ScratchDir::new("argus-tools", name)
}

/// Runs nauditd with one worker to write the Argus file `argus_file` of
/// `capture`.
fn write_argus_file(capture: &Path, argus_file: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .arg("-r")
        .arg(capture)
        .arg("-w")
        .arg(argus_file)
        .args(["-q", "--workers", "1"])
        .output()
        .expect("run nauditd")
}

/// Writes nauditd's Argus file of a corpus capture.
fn nauditd_argus_file(capture: &str, folder: &Path) -> PathBuf {
    let path = folder.join(format!("{capture}.nauditd.argus"));
    let output = write_argus_file(&corpus_capture(capture), &path);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    path
}

/// Writes `csv` to `path` after correcting argus's ICMP identifier byte
/// order, as the corpus comparison does.
fn write_corrected(path: &Path, csv: &str) {
    std::fs::write(path, csv).expect("write listing");
    let (header, mut rows) = read_csv(path);
    correct_reference(&header, &mut rows);
    write_csv(path, &header, &rows);
}

/// Records that ra 3.0.8 prints wrongly from a correct Argus file: capture
/// and start time. At second 4294967295 (the last a u32 holds, in 2106) ra
/// prints the last time as 0; the CSV output shows it right.
const RA_DISPLAY_DEFECTS: &[(&str, &str)] = &[("ts-2106-max.pcap", "4294967295.000000")];

/// The reason ra prints another destination port than the CSV for ESP over IPv6.
const IPV6_ESP_IN_RA: &str =
    "ESP over IPv6: the CSV prints the SPI, and ra prints the last 4 bytes of the source address, byte-swapped, \
     because it reads every ESP key with the IPv4 layout";

/// Captures where ra, reading nauditd's Argus file, prints some record
/// otherwise than nauditd's CSV, and why.
const RA_CSV_DIFFERENCES: &[(&str, &str)] = &[
    (
        "frag-ipv6-out-of-order-icmpv6.pcap",
        "an ICMPv6 flow keyed before its ICMPv6 header arrived: the CSV shows no type and REQ, ra reads type 0 and \
         prints ports 0 and UNK",
    ),
    ("gtpu-qinq-ipv6-esp.pcap", IPV6_ESP_IN_RA),
    ("ipv6-esp.pcap", IPV6_ESP_IN_RA),
    ("lt-ppp-quic-ipv4-ipv6.pcap", "ra prints times before second 1 of 1970 as 0"),
    ("ts-2106-max.pcap", "ra prints a last time of second 4294967295, the last a u32 holds, as 0"),
];

#[test]
fn ra_agrees_with_csv_on_every_capture() {
    // Every field the CSV shares with `ra -s` (RA_FIELDS), for every capture
    // of the corpus that nauditd reads: direction, state and ports included.
    let folder = scratch_folder("ra-csv");
    let mut differing = Vec::new();
    let mut compared = 0;
    for capture in std::fs::read_dir(repo_root().join("tests/corpus/pcap")).expect("corpus folder") {
        let capture = capture.expect("corpus entry").path();
        let name = capture.file_name().expect("file name").to_string_lossy().into_owned();
        let argus_file = folder.join(format!("{name}.argus"));
        if !write_argus_file(&capture, &argus_file).status.success() {
            continue; // a damaged capture: its records are checked elsewhere
        }
        compared += 1;
        let mut ours: Vec<String> = nauditd_csv(&capture, &["--workers", "1"])
            .lines()
            .skip(1)
            .map(|line| line.split(',').take(RA_FIELDS.len()).collect::<Vec<_>>().join(","))
            .collect();
        let mut printed: Vec<String> = ra_csv(&argus_file)
            .lines()
            .skip(1)
            .map(|line| line.split(',').map(str::trim).collect::<Vec<_>>())
            .filter(|fields| fields.get(2) != Some(&"man"))
            .map(|fields| fields.join(","))
            .collect();
        ours.sort();
        printed.sort();
        if ours != printed {
            let only_ours: Vec<_> = ours.iter().filter(|line| !printed.contains(line)).take(3).collect();
            let only_ra: Vec<_> = printed.iter().filter(|line| !ours.contains(line)).take(3).collect();
            differing.push((name, format!("CSV only: {only_ours:?}\n  ra only: {only_ra:?}")));
        }
    }
    assert!(compared > 100, "only {compared} captures compared");
    let unexplained: Vec<_> = differing
        .iter()
        .filter(|(name, _)| !RA_CSV_DIFFERENCES.iter().any(|(listed, _)| listed == name))
        .map(|(name, lines)| format!("{name}:\n  {lines}"))
        .collect();
    let stale: Vec<_> = RA_CSV_DIFFERENCES
        .iter()
        .filter(|(listed, _)| !differing.iter().any(|(name, _)| name == listed))
        .map(|(listed, _)| *listed)
        .collect();
    assert!(unexplained.is_empty(), "ra prints nauditd's records otherwise than the CSV:\n{}", unexplained.join("\n"));
    assert!(stale.is_empty(), "listed in RA_CSV_DIFFERENCES but alike: {stale:?}");
}

#[test]
fn ra_prints_flows_like_csv() {
    let folder = scratch_folder("ra-match");
    let mut failures = Vec::new();
    println!("ra on nauditd's Argus files against argus 3.0.8:");
    for capture in PLAIN_IP_CAPTURES {
        let reference = folder.join(format!("{capture}.reference.csv"));
        let (header, mut rows) = read_csv(&reference_listing(capture));
        correct_reference(&header, &mut rows);
        write_csv(&reference, &header, &rows);

        let printed = folder.join(format!("{capture}.ra.csv"));
        std::fs::write(&printed, ra_csv(&nauditd_argus_file(capture, &folder))).expect("write ra output");
        let comparison = compare(&reference, &printed);

        let mut listed = known_defect_starts(capture);
        listed.extend(
            RA_DISPLAY_DEFECTS.iter().filter(|(name, _)| name == capture).map(|(_, start)| start.to_string()),
        );
        println!(
            "  {capture}: {} of {} records, unmatched exactly the {} argus defects: {}",
            comparison.matched,
            comparison.reference_records,
            listed.len(),
            comparison.unmatched_starts == listed
        );
        if comparison.unmatched_starts != listed {
            failures.push(format!("{capture}: unmatched {:?}, argus defects {listed:?}", comparison.unmatched_starts));
        }
    }
    assert!(failures.is_empty(), "ra output differs from the CSV comparison:\n{}", failures.join("\n"));
}

#[test]
fn racluster_merges_like_argus_files() {
    let folder = scratch_folder("racluster");
    // argus spends about a second on every file, mostly waiting on its
    // timers, so the captures are read all at once.
    let argus_runs: Vec<_> = PLAIN_IP_CAPTURES
        .iter()
        .map(|capture| {
            Command::new("argus")
                .arg("-r")
                .arg(corpus_capture(capture))
                .arg("-w")
                .arg(folder.join(format!("{capture}.argus")))
                .spawn()
                .expect("run argus (install Debian's argus-server package)")
        })
        .collect();
    for mut run in argus_runs {
        assert!(run.wait().expect("wait for argus").success(), "argus failed");
    }

    let mut failures = Vec::new();
    for capture in PLAIN_IP_CAPTURES {
        let argus_file = folder.join(format!("{capture}.argus"));
        let ours = nauditd_argus_file(capture, &folder);

        let mut listings = Vec::new();
        for (input, name) in [(argus_file.clone(), "argus"), (ours, "nauditd")] {
            let merged = folder.join(format!("{capture}.{name}.racluster"));
            run_argus_tool("racluster", &["-X", "-r", input.to_str().unwrap(), "-w", merged.to_str().unwrap()]);
            let listing = folder.join(format!("{capture}.{name}.racluster.csv"));
            if name == "argus" {
                write_corrected(&listing, &ra_csv(&merged));
            } else {
                std::fs::write(&listing, ra_csv(&merged)).expect("write listing");
            }
            listings.push(listing);
        }
        let comparison = compare(&listings[0], &listings[1]);

        // Where argus's own records are wrong, its merged records are too,
        // at most once per wrong record.
        let allowed_unmatched = known_defect_starts(capture).len();
        let unmatched = comparison.reference_records - comparison.matched;
        let percent = if comparison.reference_records == 0 {
            100.0
        } else {
            100.0 * comparison.matched as f64 / comparison.reference_records as f64
        };
        if unmatched > allowed_unmatched && percent < MIN_MATCH_PERCENT {
            failures.push(format!("{capture}: {unmatched} merged records differ\n{}", comparison.report));
        }
    }
    assert!(failures.is_empty(), "racluster output differs:\n{}", failures.join("\n"));
}

/// Sums packets and bytes of `ra` CSV output: (records, packets, bytes).
fn totals(csv: &str) -> (usize, u64, u64) {
    let mut totals = (0, 0, 0);
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.get(2) == Some(&"man") {
            continue;
        }
        let number = |index: usize| fields.get(index).and_then(|field| field.trim().parse::<u64>().ok()).unwrap_or(0);
        totals.0 += 1;
        totals.1 += number(8) + number(9);
        totals.2 += number(10) + number(11);
    }
    totals
}

#[test]
fn rasort_keeps_every_record() {
    let folder = scratch_folder("rasort");
    for capture in ["http-dns-wikipedia-multiflow.pcap", "lt-sll-kakaotalk-tcp-udp.pcap", "vrrp.pcap"] {
        let ours = nauditd_argus_file(capture, &folder);
        let sorted = folder.join(format!("{capture}.sorted"));
        run_argus_tool("rasort", &["-X", "-m", "stime", "-r", ours.to_str().unwrap(), "-w", sorted.to_str().unwrap()]);

        let original = ra_csv(&ours);
        let rewritten = ra_csv(&sorted);
        assert_eq!(totals(&rewritten), totals(&original), "{capture}: records, packets and bytes");
        assert!(totals(&original).0 > 0, "{capture}: records to sort");
        let starts: Vec<&str> =
            rewritten.lines().skip(1).filter(|line| !line.contains(",man,")).map(|line| &line[..17]).collect();
        let mut in_order = starts.clone();
        in_order.sort();
        assert_eq!(starts, in_order, "{capture}: sorted by start time");
    }
}

#[test]
fn ra_shows_mapped_icmp_error() {
    // tshark: 10.188.191.1 answers the DNS query from 10.24.82.188 port 61011
    // at 1430069030.119544; the client's port-unreachable quoting that
    // answer follows at 1430069030.119696.
    let folder = scratch_folder("mapped-icmp");
    let file = nauditd_argus_file("lt-sll-kakaotalk-tcp-udp.pcap", &folder);
    let printed = run_argus_tool(
        "ra",
        &["-X", "-n", "-u", "-c", ",", "-r", file.to_str().unwrap(), "-s", "stime", "ltime", "flgs", "sport", "-", "udp and port 61011"],
    );
    let record = printed.lines().find(|line| line.starts_with("1430069030.083228")).expect("the DNS flow's record");
    let fields: Vec<&str> = record.split(',').collect();
    assert_eq!(fields[1], "1430069030.119696", "last time extended to the ICMP error");
    assert_eq!(fields[2].chars().nth(2), Some('U'), "third Flgs character: {record}");
}

#[test]
fn esp_key_reads_as_argus_writes_it() {
    // tshark: 8 ESP packets from 192.1.2.23 to 192.1.2.45, SPI 0x12345678.
    let folder = scratch_folder("esp");
    let capture = repo_root().join("tests/tcpdump-captures/08-sunrise-sunset-esp2.pcap");
    let argus_file = folder.join("nauditd.argus");
    let written = write_argus_file(&capture, &argus_file);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));
    let dport = |csv: &str| -> Vec<String> {
        csv.lines().skip(1).filter(|line| line.contains(",esp,")).map(|line| line.split(',').nth(7).unwrap().trim().to_string()).collect()
    };
    assert_eq!(dport(&nauditd_csv(&capture, &[])), ["0x12345678"], "the CSV shows the SPI");

    // argus's own record of the same packets, and nauditd's, as ra prints them.
    let argus_file_of_argus = folder.join("argus.argus");
    run_argus_tool("argus", &["-X", "-r", capture.to_str().unwrap(), "-w", argus_file_of_argus.to_str().unwrap()]);
    let from_argus = dport(&ra_csv(&argus_file_of_argus));
    assert_eq!(from_argus.len(), 1, "one ESP record from argus");
    assert_eq!(dport(&ra_csv(&argus_file)), from_argus, "ra prints both keys alike");
}

#[test]
fn mac_addresses_match_argus() {
    // argus -m writes each record's MAC addresses. For a side that sent no
    // frame it writes the destination of the other side's frames: here the
    // multicast MACs of the unanswered mDNS flows.
    let folder = scratch_folder("mac");
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let from_nauditd = nauditd_argus_file("http-dns-wikipedia-multiflow.pcap", &folder);
    let from_argus = folder.join("argus.argus");
    run_argus_tool("argus", &["-X", "-m", "-r", capture.to_str().unwrap(), "-w", from_argus.to_str().unwrap()]);

    // Records are keyed by start time, protocol and both endpoints in address
    // order, because the two sensors may put a flow's sides the other way
    // round. Each maps to the endpoints' MAC addresses and to whether one
    // side sent nothing.
    let macs = |file: &Path| -> BTreeMap<String, (Vec<String>, bool)> {
        let fields = ["stime", "proto", "saddr", "sport", "smac", "spkts", "daddr", "dport", "dmac", "dpkts"];
        let mut args = vec!["-n", "-u", "-c", ",", "-r", file.to_str().unwrap(), "-s"];
        args.extend(fields);
        let printed = run_argus_tool("ra", &args);
        let mut records = BTreeMap::new();
        for line in printed.lines().skip(1).filter(|line| !line.contains(",man,")) {
            let fields: Vec<&str> = line.split(',').collect();
            let mut endpoints = [fields[2..4].join(" "), fields[6..8].join(" ")];
            let mut with_macs = vec![format!("{} {}", endpoints[0], fields[4]), format!("{} {}", endpoints[1], fields[8])];
            endpoints.sort();
            with_macs.sort();
            let one_way = fields[5] == "0" || fields[9] == "0";
            records.insert(format!("{} {} {}", fields[0], fields[1], endpoints.join(" ")), (with_macs, one_way));
        }
        records
    };
    let (ours, theirs) = (macs(&from_nauditd), macs(&from_argus));
    let one_way = theirs.values().filter(|(_, one_way)| *one_way).count();
    assert!(one_way >= 3, "one-way records in the capture: {one_way}");
    for (flow, (argus_macs, _)) in &theirs {
        let nauditd_macs = ours.get(flow).map(|(macs, _)| macs);
        assert_eq!(nauditd_macs, Some(argus_macs), "MAC addresses of {flow}");
    }
}

#[test]
fn icmp_states_match_ra() {
    // One ICMP message of each of several types that ra names from its own
    // table, and of two it does not name. The CSV must print the state that
    // ra prints for the same record.
    let types = [6u8, 19, 25, 30, 33, 40, 42, 45, 46, 200];
    let packets: Vec<TestPacket> = types
        .iter()
        .enumerate()
        .map(|(index, &icmp_type)| {
            let message = [icmp_type, 0, 0, 0, 0, 0, 0, 0];
            let source = [10, 0, 0, index as u8 + 1];
            let data = builder::ipv4_frame(source, [10, 0, 1, 1], 1, &message, false);
            TestPacket { time_ns: 1_700_000_000_000_000_000 + index as u64 * 1_000_000, data }
        })
        .collect();
    let capture = scratch_file("icmp-types.pcap", &builder::pcap_file(1, &packets));
    let folder = scratch_folder("icmp-types");
    let argus_file = folder.join("nauditd.argus");
    let written = write_argus_file(&capture, &argus_file);
    assert!(written.status.success(), "{}", String::from_utf8_lossy(&written.stderr));

    // Each record's source address maps to its state.
    let states = |csv: &str, source_column: usize| -> BTreeMap<String, String> {
        csv.lines()
            .skip(1)
            .filter(|line| !line.contains(",man,"))
            .map(|line| {
                let fields: Vec<&str> = line.split(',').collect();
                (fields[source_column].to_string(), fields[12].trim().to_string())
            })
            .collect()
    };
    let from_csv = states(&nauditd_csv(&capture, &[]), 3);
    let from_ra = states(&ra_csv(&argus_file), 3);
    assert_eq!(from_csv.len(), types.len(), "one record per message");
    assert_eq!(from_csv, from_ra);
}
