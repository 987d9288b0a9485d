//! Several files read as one input in timestamp order.

mod common;

use std::path::PathBuf;

use common::{concat, corpus, frame, read_all, temp_file, Packet, Writer};
use naudit_engine::PacketSource;
use naudit_pcap::{open_inputs, CaptureSource};

const NANOSECOND_MAGIC: u32 = 0xa1b2_3c4d;

/// Builds a nanosecond pcap file of `link_type` with one 40-byte packet per
/// timestamp. Each packet's first byte is the low byte of its timestamp.
fn pcap_at(link_type: u32, timestamps_ns: &[u32]) -> Vec<u8> {
    let writer = Writer::LITTLE;
    let mut parts = vec![writer.pcap_header(NANOSECOND_MAGIC, (2, 4), 65_535, link_type)];
    for &timestamp in timestamps_ns {
        parts.push(writer.pcap_record(
            1_600_000_000,
            timestamp,
            40,
            40,
            &frame(40, timestamp as u8),
        ));
    }
    concat(&parts)
}

fn order_of(packets: &[Packet]) -> Vec<(u64, u16)> {
    packets
        .iter()
        .map(|packet| {
            (
                packet.timestamp_ns - 1_600_000_000_000_000_000,
                packet.link_type,
            )
        })
        .collect()
}

#[test]
fn merge_interleaves_by_timestamp() {
    let first = temp_file("merge-a.pcap", &pcap_at(1, &[1, 3, 5, 7]));
    let second = temp_file("merge-b.pcap", &pcap_at(101, &[2, 3, 4, 8]));
    let mut source = open_inputs(&[first.clone(), second.clone()]).expect("open");
    assert!(matches!(source, CaptureSource::Merged(_)));
    let result = read_all(&mut source);
    assert!(result.error.is_none());
    // At timestamp 3 the file given first comes first.
    assert_eq!(
        order_of(&result.packets),
        [
            (1, 1),
            (2, 101),
            (3, 1),
            (3, 101),
            (4, 101),
            (5, 1),
            (7, 1),
            (8, 101)
        ]
    );
    assert_eq!(result.packets[4].data, frame(40, 4));
    assert_eq!(source.counters().received_pkts, 8);
    assert_eq!(
        source.name(),
        format!("{}, {}", first.display(), second.display())
    );

    // Given in the other order, the tie goes the other way.
    let result = read_all(&mut open_inputs(&[second, first]).expect("open"));
    assert_eq!(order_of(&result.packets)[2..4], [(3, 101), (3, 1)]);
}

#[test]
fn merge_of_split_capture_restores_it() {
    // Odd packets go to a pcap file and even ones to a big-endian pcapng
    // file; merging them must give back the original sequence.
    let original =
        read_all(&mut open_inputs(&[corpus("http-dns-wikipedia-multiflow.pcap")]).expect("open"))
            .packets;
    assert_eq!(original.len(), 136);
    assert!(
        original
            .windows(2)
            .all(|pair| pair[0].timestamp_ns < pair[1].timestamp_ns),
        "strictly increasing"
    );

    let little = Writer::LITTLE;
    let big = Writer::BIG;
    let mut odd = vec![little.pcap_header(NANOSECOND_MAGIC, (2, 4), 65_535, 1)];
    let mut even = vec![big.section_header(), big.interface(1, 0, &[(9, vec![9])])];
    for (index, packet) in original.iter().enumerate() {
        if index % 2 == 0 {
            let seconds = (packet.timestamp_ns / 1_000_000_000) as u32;
            let nanoseconds = (packet.timestamp_ns % 1_000_000_000) as u32;
            odd.push(little.pcap_record(
                seconds,
                nanoseconds,
                packet.data.len() as u32,
                packet.wire_len,
                &packet.data,
            ));
        } else {
            even.push(big.enhanced_packet(0, packet.timestamp_ns, packet.wire_len, &packet.data));
        }
    }
    let odd_path = temp_file("odd.pcap", &concat(&odd));
    let even_path = temp_file("even.pcapng", &concat(&even));

    let mut source = open_inputs(&[even_path, odd_path]).expect("open");
    let merged = read_all(&mut source);
    assert!(merged.error.is_none());
    assert_eq!(merged.packets.len(), original.len());
    assert!(
        merged.packets == original,
        "merged packets differ from the original capture"
    );
    assert!(merged.batches >= 3, "136 packets need three batches");
    assert_eq!(source.counters().received_pkts, 136);
}

#[test]
fn merge_stops_at_damage() {
    // The damaged file's one packet (2001) comes before arp-who-has.pcap's
    // packets (2016); its damage is found right after that packet.
    let damaged = corpus("bad-pcap-record-cut-short.pcap");
    let mut source = open_inputs(&[corpus("arp-who-has.pcap"), damaged.clone()]).expect("open");
    let result = read_all(&mut source);
    assert_eq!(result.packets.len(), 1);
    assert_eq!(result.packets[0].data.len(), 197);
    let error = result.error.expect("the damage");
    let message = error.to_string();
    let (offset, packet_number, _) = common::corrupt_fields(&error);
    assert_eq!((offset, packet_number), (237, 2));
    assert!(
        message.starts_with(&*damaged.to_string_lossy()),
        "the error names the damaged file: {message}"
    );
    assert!(
        read_all(&mut source).packets.is_empty(),
        "End after the error"
    );
}

#[test]
fn merge_with_empty_files() {
    let paths: Vec<PathBuf> = [
        "fmt-pcap-empty.pcap",
        "arp-who-has.pcap",
        "fmt-pcapng-empty.pcapng",
    ]
    .iter()
    .map(|name| corpus(name))
    .collect();
    let result = read_all(&mut open_inputs(&paths).expect("open"));
    assert!(result.error.is_none());
    assert_eq!(result.packets.len(), 2);
}

#[test]
fn merge_of_same_file_pairs_packets() {
    let path = corpus("fmt-pcap-bigendian-sctp.pcap");
    let result = read_all(&mut open_inputs(&[path.clone(), path]).expect("open"));
    assert_eq!(result.packets.len(), 8);
    for pair in result.packets.chunks(2) {
        assert_eq!(pair[0], pair[1]);
    }
}

#[test]
fn merge_reads_erf_with_pcap() {
    // 14 packets in the ERF file and 2 in the pcap file.
    let result = read_all(
        &mut open_inputs(&[
            corpus("arp-who-has.pcap"),
            corpus("erf-qinq-8100-8100-http.erf"),
        ])
        .expect("open"),
    );
    assert!(result.error.is_none(), "{:?}", result.error);
    assert_eq!(result.packets.len(), 16);
}

#[test]
fn merge_rejects_unknown_format() {
    let text = temp_file("merge-text", b"neither pcap, pcapng nor ERF\n");
    let Err(error) = open_inputs(&[corpus("arp-who-has.pcap"), text]) else {
        panic!("a text file must be rejected");
    };
    assert!(error.to_string().contains("merge-text"), "{error}");
}
