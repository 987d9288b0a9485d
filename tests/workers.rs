//! Several workers give the same records as one, and filter expressions
//! keep exactly the matching flows.

mod common;

use common::builder::{self, TestPacket, ACK, SYN};
use common::{corpus_capture, nauditd_csv, repo_root, scratch_file, ScratchFile};
use naudit_engine::decode::{decode_packet, decode_packet_into, Decoded, TunnelKind};
use naudit_engine::fanout::{quick_worker_hash, worker_hash};
use naudit_engine::{BatchStatus, PacketSource, PacketView};

/// Returns nauditd's CSV records of `capture` with `workers` workers,
/// sorted (workers write records in no fixed order).
fn sorted_records(capture: &std::path::Path, workers: usize, extra: &[&str]) -> Vec<String> {
    let count = workers.to_string();
    let mut args = vec!["--workers", count.as_str()];
    args.extend_from_slice(extra);
    let csv = nauditd_csv(capture, &args);
    let mut lines: Vec<String> = csv.lines().skip(1).map(str::to_string).collect();
    lines.sort();
    lines
}

/// A capture of 400 flows over 200 hosts, some long enough for status
/// records and idle timeouts, with timestamps in order.
fn many_flows_capture() -> ScratchFile {
    const SECOND_NS: u64 = 1_000_000_000;
    let mut packets = Vec::new();
    for step in 0..4000u64 {
        let flow = (step * 7919) % 400;
        let host = (flow % 200) as u8;
        let client = [10, 1, 0, host];
        let server = [192, 0, 2, (flow % 7) as u8 + 1];
        let port = 40_000 + flow as u16;
        let from_client = step % 3 != 0;
        let segment = if from_client {
            builder::tcp(port, 443, step as u32, 1, if step < 400 { SYN } else { ACK }, 20)
        } else {
            builder::tcp(443, port, step as u32, 1, SYN | ACK, 100)
        };
        let (src, dst) = if from_client { (client, server) } else { (server, client) };
        packets.push(TestPacket {
            time_ns: 1_600_000_000 * SECOND_NS + step * 25_000_000,
            data: builder::ipv4_frame(src, dst, 6, &segment, !from_client),
        });
    }
    scratch_file("many-flows.pcap", &builder::pcap_file(1, &packets))
}

#[test]
fn worker_count_does_not_change_records() {
    let captures = vec![
        corpus_capture("http-dns-wikipedia-multiflow.pcap"),
        corpus_capture("lt-sll-kakaotalk-tcp-udp.pcap"),
        corpus_capture("vrrp.pcap"),
        corpus_capture("fmt-pcapng-nrb-isb-dns.pcapng"),
        corpus_capture("frag-ipv4-out-of-order-tcp.pcap"),
    ];
    let many_flows = many_flows_capture();
    for capture in captures.iter().chain([&many_flows.0]) {
        let one = sorted_records(capture, 1, &[]);
        assert!(!one.is_empty(), "{}: records", capture.display());
        for workers in [2, 4] {
            assert_eq!(sorted_records(capture, workers, &[]), one, "{} with {workers} workers", capture.display());
        }
    }
}

#[test]
fn filter_keeps_matching_flows() {
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let all = sorted_records(&capture, 1, &[]);
    for (expression, proto) in [(&["tcp"][..], ",tcp,"), (&["udp", "port", "53"][..], ",udp,")] {
        for workers in [1, 2] {
            let filtered = sorted_records(&capture, workers, expression);
            assert!(!filtered.is_empty(), "{expression:?}");
            assert!(filtered.iter().all(|line| line.contains(proto)), "{expression:?}: {filtered:?}");
            let expected: Vec<&String> = all
                .iter()
                .filter(|line| line.contains(proto))
                .filter(|line| expression.len() == 1 || line.contains(",53,"))
                .collect();
            assert_eq!(filtered.iter().collect::<Vec<_>>(), expected, "{expression:?} with {workers} workers");
        }
    }
}

#[test]
fn invalid_filter_rejected() {
    let capture = corpus_capture("icmp-echo-5pings.pcap");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .arg("-r")
        .arg(&capture)
        .args(["tcp", "port", "banana"])
        .output()
        .expect("run nauditd");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid filter"), "{stderr}");
    assert!(stderr.contains("banana"), "{stderr}");
}

/// Packets the header hash took, in all and inside VXLAN.
#[derive(Default)]
struct QuickCounts {
    packets: usize,
    vxlan_packets: usize,
}

/// Calls `check` with the number (from 1) and view of every packet of
/// `capture`. A capture that the reader rejects is skipped.
fn for_each_packet(capture: &std::path::Path, mut check: impl FnMut(usize, &PacketView<'_>)) {
    let Ok(mut source) = naudit_pcap::open_inputs(&[capture.to_path_buf()]) else {
        return;
    };
    let mut packet_number = 0;
    loop {
        let status = source.next_batch(|batch| {
            for packet in batch {
                packet_number += 1;
                check(packet_number, packet);
            }
        });
        match status {
            Ok(BatchStatus::Packets(_)) | Ok(BatchStatus::Idle) => {}
            Ok(BatchStatus::End) | Err(_) => return,
        }
    }
}

/// Hashes every packet of `capture` both ways and counts the packets the
/// header hash took, asserting that it agrees with the full decode.
fn check_quick_hash(capture: &std::path::Path, counts: &mut QuickCounts) {
    for_each_packet(capture, |packet_number, packet| {
        let Some(hash) = quick_worker_hash(packet.link_type, packet.data) else {
            return;
        };
        let decoded = decode_packet(packet.link_type, packet.data);
        assert_eq!(hash, worker_hash(&decoded), "{} packet {packet_number}", capture.display());
        counts.packets += 1;
        let in_vxlan = decoded.tunnel.is_some_and(|tunnel| tunnel.kind == TunnelKind::Vxlan);
        counts.vxlan_packets += usize::from(in_vxlan);
    });
}

/// Returns the corpus captures and a capture of many flows, which is
/// removed when the returned file is dropped.
fn corpus_and_many_flows() -> (Vec<std::path::PathBuf>, ScratchFile) {
    let folder = repo_root().join("tests/corpus/pcap");
    let mut captures: Vec<_> = std::fs::read_dir(&folder).expect("corpus folder").map(|entry| entry.unwrap().path()).collect();
    captures.sort();
    let many_flows = many_flows_capture();
    captures.push(many_flows.0.clone());
    (captures, many_flows)
}

#[test]
fn quick_hash_matches_full_decode() {
    let mut counts = QuickCounts::default();
    let (captures, _many_flows) = corpus_and_many_flows();
    for capture in &captures {
        check_quick_hash(capture, &mut counts);
    }
    assert!(counts.packets > 1000, "the header hash took only {} packets", counts.packets);
    assert!(counts.vxlan_packets > 10, "the header hash took only {} VXLAN packets", counts.vxlan_packets);
}

#[test]
fn reused_decode_matches_fresh_decode() {
    // A worker decodes every packet into the summary of an earlier one, so
    // the reset must leave nothing of the earlier packet behind.
    let mut reused = Decoded::EMPTY;
    let mut packets = 0;
    let (captures, _many_flows) = corpus_and_many_flows();
    for capture in &captures {
        for_each_packet(capture, |packet_number, packet| {
            decode_packet_into(packet.link_type, packet.data, &mut reused);
            let fresh = decode_packet(packet.link_type, packet.data);
            assert_eq!(reused, fresh, "{} packet {packet_number}", capture.display());
            packets += 1;
        });
    }
    assert!(packets > 1000, "only {packets} packets decoded");
    reused.reset();
    assert_eq!(reused, Decoded::EMPTY);
}
