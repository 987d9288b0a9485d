//! Direction and state of nauditd's records against the Argus 3.0.8
//! reference. `compare-flows` (see `corpus_match.rs`) finds a record
//! whichever way round it is and does not compare states, so this test
//! pairs the records itself. Every pair whose direction or state differs
//! must have one of the reasons below; anything else fails the test.

mod common;

use std::collections::HashMap;

use common::reference::{correct_reference, known_defect_starts, reference_listing, PLAIN_IP_CAPTURES};
use common::{corpus_capture, csv_rows, nauditd_csv, read_csv};

/// Reference records whose state differs from nauditd's for a reason of
/// their own: capture, start time, source address, and the reason.
const KNOWN_STATE_DIFFERENCES: &[(&str, &str, &str, &str)] = &[(
    "frag-ipv4-out-of-order-tcp.pcap",
    "1020580534.846229",
    "128.32.46.142",
    // tshark: frame 6, from 128.32.46.142 port 7790, carries a FIN.
    "argus shows CON, and nauditd FIN for the FIN of frame 6",
)];

/// Why a paired record may differ from the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Reason {
    /// ra's `RA_PORT_DIRECTION` ("services,wellknown" in the reference's
    /// ra.conf) turns a record whose direction is unsure (`?` in `dir`)
    /// round for display. nauditd's CSV keeps the first sender as source.
    RaPortDirection,
    /// A lone TCP SYN-ACK: nauditd makes its receiver, the client, the
    /// source; argus keeps the sender.
    AnswerFirst,
    /// nauditd's last record of a flow gives why it ended (idle, evicted,
    /// shutdown), and ra prints `TIM` for such an unfinished TCP flow.
    /// argus 3.0.8 gives each flow record the cause start or status, so ra
    /// prints its TCP state (`CON`, `ACC`, `REQ`).
    TcpFinalCause,
    /// A one-way flow other than TCP: ra prints `INT` when the record's
    /// cause is start or closed and `REQ` otherwise. Where nauditd's cause
    /// is the flow's end and argus's is start, or where argus continued a
    /// flow across a gap longer than nauditd's idle timeout (a status
    /// record) and nauditd started a new one, the two differ.
    OneWayCause,
    /// A reference record listed as an argus defect in
    /// `tests/common/reference.rs`.
    ListedDefect,
    /// A reference record listed in `KNOWN_STATE_DIFFERENCES`.
    ListedState,
}

/// One record's fields by column name.
type Record = HashMap<String, String>;

/// Pairs each row's fields with the header's column names.
fn records(header: &[String], rows: &[Vec<String>]) -> Vec<Record> {
    rows.iter()
        .filter(|row| row.len() >= header.len())
        .map(|row| header.iter().cloned().zip(row.iter().map(|field| field.trim().to_string())).collect())
        .collect()
}

/// Renames ra's column titles to nauditd's field names.
fn argus_names(header: &[String]) -> Vec<String> {
    header
        .iter()
        .map(|title| {
            match title.as_str() {
                "StartTime" => "stime",
                "LastTime" => "ltime",
                "Proto" => "proto",
                "SrcAddr" => "saddr",
                "Sport" => "sport",
                "Dir" => "dir",
                "DstAddr" => "daddr",
                "Dport" => "dport",
                "SrcPkts" => "spkts",
                "DstPkts" => "dpkts",
                "SrcBytes" => "sbytes",
                "DstBytes" => "dbytes",
                "State" => "state",
                other => other,
            }
            .to_string()
        })
        .collect()
}

/// Returns the pairing key: start time, protocol and both endpoints, the
/// endpoints swapped when `reversed`.
fn key(record: &Record, reversed: bool) -> [String; 6] {
    let field = |name: &str| record[name].clone();
    if reversed {
        [field("stime"), field("proto"), field("daddr"), field("dport"), field("saddr"), field("sport")]
    } else {
        [field("stime"), field("proto"), field("saddr"), field("sport"), field("daddr"), field("dport")]
    }
}

/// Returns the reason a pair may be reversed, if it has one.
fn reversal_reason(reference: &Record, ours: &Record, defect: bool) -> Option<Reason> {
    if defect {
        Some(Reason::ListedDefect)
    } else if reference["dir"].contains('?') {
        Some(Reason::RaPortDirection)
    } else if reference["proto"] == "tcp" && reference["state"] == "ACC" && ours["spkts"] == "0" {
        Some(Reason::AnswerFirst)
    } else {
        None
    }
}

/// Returns the reason the states of a pair may differ, if it has one.
fn state_reason(reference: &Record, ours: &Record, defect: bool, listed: bool) -> Option<Reason> {
    let cause = ours["cause"].as_str();
    let ended = matches!(cause, "idle" | "evicted" | "shutdown");
    let one_way = (ours["spkts"] == "0") != (ours["dpkts"] == "0");
    let (theirs, mine) = (reference["state"].as_str(), ours["state"].as_str());
    if defect {
        Some(Reason::ListedDefect)
    } else if listed {
        Some(Reason::ListedState)
    } else if ours["proto"] == "tcp" && mine == "TIM" && ended && matches!(theirs, "CON" | "ACC" | "REQ" | "INT") {
        Some(Reason::TcpFinalCause)
    } else if ours["proto"] != "tcp"
        && one_way
        && ((theirs, mine) == ("INT", "REQ") && ended || (theirs, mine) == ("REQ", "INT") && cause == "start")
    {
        Some(Reason::OneWayCause)
    } else {
        None
    }
}

#[test]
fn differences_have_known_reasons() {
    let mut counts: HashMap<Reason, usize> = HashMap::new();
    let (mut paired, mut same) = (0, 0);
    let mut failures = Vec::new();
    let mut stale_listed: Vec<String> =
        KNOWN_STATE_DIFFERENCES.iter().map(|(capture, start, source, _)| format!("{capture} {start} {source}")).collect();
    for capture in PLAIN_IP_CAPTURES {
        let (header, mut rows) = read_csv(&reference_listing(capture));
        correct_reference(&header, &mut rows);
        let reference = records(&argus_names(&header), &rows);
        let our_rows = csv_rows(&nauditd_csv(&corpus_capture(capture), &["--workers", "1"]));
        let ours = records(&our_rows[0], &our_rows[1..]);
        let mut by_key: HashMap<[String; 6], Vec<&Record>> = HashMap::new();
        for record in &ours {
            by_key.entry(key(record, false)).or_default().push(record);
        }
        let defects = known_defect_starts(capture);

        for theirs in reference.iter().filter(|record| record["proto"] != "man") {
            let (mine, reversed) = match by_key.get_mut(&key(theirs, false)).and_then(Vec::pop) {
                Some(mine) => (mine, false),
                None => match by_key.get_mut(&key(theirs, true)).and_then(Vec::pop) {
                    Some(mine) => (mine, true),
                    None => continue, // corpus_match.rs counts unmatched records
                },
            };
            paired += 1;
            let start = &theirs["stime"];
            let defect = defects.contains(start);
            let entry = format!("{capture} {start} {}", theirs["saddr"]);
            let listed = KNOWN_STATE_DIFFERENCES
                .iter()
                .any(|(name, listed_start, source, _)| format!("{name} {listed_start} {source}") == entry);
            let line = || {
                format!(
                    "{capture}: {} {}:{} {} {}:{} argus {} {}/{}, nauditd {} {} {}/{} ({})",
                    theirs["proto"],
                    theirs["saddr"],
                    theirs["sport"],
                    theirs["dir"],
                    theirs["daddr"],
                    theirs["dport"],
                    theirs["state"],
                    theirs["spkts"],
                    theirs["dpkts"],
                    if reversed { "reversed" } else { "same way" },
                    mine["state"],
                    mine["spkts"],
                    mine["dpkts"],
                    mine["cause"]
                )
            };
            let mut differs = false;
            if reversed {
                differs = true;
                match reversal_reason(theirs, mine, defect) {
                    Some(reason) => *counts.entry(reason).or_default() += 1,
                    None => failures.push(format!("direction: {}", line())),
                }
            }
            if theirs["state"] != mine["state"] {
                differs = true;
                if listed {
                    stale_listed.retain(|listed_entry| listed_entry != &entry);
                }
                match state_reason(theirs, mine, defect, listed) {
                    Some(reason) => *counts.entry(reason).or_default() += 1,
                    None => failures.push(format!("state: {}", line())),
                }
            }
            if !differs {
                same += 1;
            }
        }
    }
    let mut reasons: Vec<_> = counts.into_iter().collect();
    reasons.sort();
    println!("{paired} records paired with argus 3.0.8's, {same} alike in direction and state; differences: {reasons:?}");
    assert!(stale_listed.is_empty(), "listed in KNOWN_STATE_DIFFERENCES but alike: {stale_listed:?}");
    assert!(failures.is_empty(), "differences from argus 3.0.8 without a known reason:\n{}", failures.join("\n"));
}
