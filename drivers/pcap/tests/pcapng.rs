//! pcapng features that the corpus lacks, on hand-made files: sections in
//! both byte orders, timestamp units and offsets, simple and obsolete packet
//! blocks, and blocks that are skipped. Expected values were checked with
//! tshark 4.0.17 on the same bytes.

mod common;

use common::{concat, frame, read_all, temp_file, Writer};
use naudit_engine::PacketSource;
use naudit_pcap::{open_inputs, StreamSource};

const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_FCSLEN: u16 = 13;
const OPT_IF_TSOFFSET: u16 = 14;

/// Builds a little-endian section with nanosecond and 2^-20 s interfaces, then a
/// big-endian section with microsecond and millisecond interfaces, simple
/// packet blocks and an obsolete packet block.
fn two_section_capture() -> Vec<u8> {
    let little = Writer::LITTLE;
    let big = Writer::BIG;
    let offset_seconds: i64 = 1_000;
    let mut name_resolution = Vec::new();
    little.u32(&mut name_resolution, 0); // nrb_record_end
    let mut statistics = Vec::new();
    little.u32(&mut statistics, 0);
    little.u32(&mut statistics, 0);
    little.u32(&mut statistics, 0);
    concat(&[
        little.section_header(),
        little.interface(1, 0, &[(OPT_IF_TSRESOL, vec![9])]),
        little.interface(
            101,
            128,
            &[
                (OPT_IF_TSRESOL, vec![0x80 | 20]),
                (OPT_IF_TSOFFSET, offset_seconds.to_le_bytes().to_vec()),
                (OPT_IF_FCSLEN, vec![4]),
            ],
        ),
        little.block(4, &name_resolution),
        // Packet 1: interface 0, nanoseconds.
        little.enhanced_packet(0, 1_600_000_000_123_456_789, 60, &frame(60, 1)),
        // Packet 2: interface 1, 2^-20 s units plus 1000 s: 1600000000.5 s.
        little.enhanced_packet(
            1,
            ((1_600_000_000 - 1_000) << 20) | (1 << 19),
            45,
            &frame(45, 2),
        ),
        little.block(5, &statistics),
        little.block(0x0000_0bad, &[0, 0, 0x7f, 0xfe, 1, 2, 3]),
        little.block(0x1234_5678, &[9; 9]),
        big.section_header(),
        big.interface(1, 40, &[]),
        big.interface(113, 0, &[(OPT_IF_TSRESOL, vec![3])]),
        // Packet 3: interface 1, milliseconds.
        big.enhanced_packet(1, 1_600_000_002_250, 80, &frame(80, 3)),
        // Packet 4: a simple packet of 100 bytes cut to the snaplen of 40.
        big.simple_packet(100, &frame(40, 4)),
        // Packet 5: a simple packet shorter than the snaplen.
        big.simple_packet(30, &frame(30, 5)),
        // Packet 6: an obsolete packet block on interface 0, microseconds.
        big.obsolete_packet(0, 1_600_000_003_000_001, 1_500, &frame(40, 6)),
    ])
}

/// (timestamp_ns, captured length, wire length, link type, port) of the six
/// packets. tshark shows the same timestamps for packets 1, 2, 3 and 6, the
/// same interface ids for all six and the same lengths for all but packet 2,
/// whose interface states a 4-byte FCS (`if_fcslen` 4) that the reader cuts
/// and tshark keeps in the frame. tshark shows no timestamp for the
/// simple packets 4 and 5, which get the timestamp before them here. tshark
/// also lists the custom block as a 4-byte record without an interface.
const TWO_SECTION_PACKETS: [(u64, usize, u32, u16, u16); 6] = [
    (1_600_000_000_123_456_789, 60, 60, 1, 0),
    (1_600_000_000_500_000_000, 41, 41, 101, 1),
    (1_600_000_002_250_000_000, 80, 80, 113, 1),
    (1_600_000_002_250_000_000, 40, 100, 1, 0),
    (1_600_000_002_250_000_000, 30, 30, 1, 0),
    (1_600_000_003_000_001_000, 40, 1_500, 1, 0),
];

#[test]
fn two_sections_read_in_both_orders() {
    let bytes = two_section_capture();
    let path = temp_file("two-sections.pcapng", &bytes);
    let mut source = open_inputs(&[path]).expect("open");
    let result = read_all(&mut source);
    assert!(
        result.error.is_none(),
        "{:?}",
        result.error.map(|error| error.to_string())
    );
    let seen: Vec<(u64, usize, u32, u16, u16)> = result
        .packets
        .iter()
        .map(|packet| {
            (
                packet.timestamp_ns,
                packet.data.len(),
                packet.wire_len,
                packet.link_type,
                packet.port,
            )
        })
        .collect();
    assert_eq!(seen, TWO_SECTION_PACKETS);
    assert_eq!(result.packets[1].data, frame(45, 2)[..41]);
    assert_eq!(result.packets[3].data, frame(40, 4));
    assert_eq!(result.packets[5].data, frame(40, 6));
    let counters = source.counters();
    assert_eq!(counters.received_pkts, 6);
    assert_eq!(counters.truncated_pkts, 2, "packets 4 and 6 are truncated");
}

#[test]
fn two_sections_stream_like_the_file() {
    let bytes = two_section_capture();
    for buffer_bytes in [1, 13, 100, 4096] {
        let reader = Box::new(std::io::Cursor::new(bytes.clone()));
        let mut source =
            StreamSource::from_reader("two-sections", reader, buffer_bytes).expect("open");
        let result = read_all(&mut source);
        assert!(result.error.is_none(), "buffer {buffer_bytes}");
        let seen: Vec<(u64, usize, u32, u16, u16)> = result
            .packets
            .iter()
            .map(|packet| {
                (
                    packet.timestamp_ns,
                    packet.data.len(),
                    packet.wire_len,
                    packet.link_type,
                    packet.port,
                )
            })
            .collect();
        assert_eq!(seen, TWO_SECTION_PACKETS, "buffer {buffer_bytes}");
    }
}

#[test]
fn simple_packet_without_snaplen_uses_block_room() {
    // Snaplen 0 means no limit, so the captured length is the smaller of the
    // wire length and the data in the block. tshark 4.0.17 and libpcap
    // reject the second block as too short for its wire length.
    let writer = Writer::LITTLE;
    let bytes = concat(&[
        writer.section_header(),
        writer.interface(1, 0, &[]),
        writer.simple_packet(64, &frame(64, 1)),
        // A wire length above the 24 bytes that the writer kept.
        writer.simple_packet(1_000, &frame(24, 2)),
    ]);
    let result = read_all(&mut open_inputs(&[temp_file("simple.pcapng", &bytes)]).expect("open"));
    assert!(result.error.is_none());
    let lengths: Vec<(usize, u32)> = result
        .packets
        .iter()
        .map(|packet| (packet.data.len(), packet.wire_len))
        .collect();
    assert_eq!(lengths, [(64, 64), (24, 1_000)]);
    assert!(
        result.packets.iter().all(|packet| packet.timestamp_ns == 0),
        "no packet before them had a timestamp"
    );
}

#[test]
fn simple_packet_is_cut_to_snaplen() {
    // A block that holds more than the snaplen: libpcap 1.10 also keeps only
    // the first snaplen bytes. tshark 4.0.17 rejects the block.
    let writer = Writer::LITTLE;
    let bytes = concat(&[
        writer.section_header(),
        writer.interface(1, 40, &[]),
        writer.simple_packet(100, &frame(100, 1)),
    ]);
    let result =
        read_all(&mut open_inputs(&[temp_file("simple-snaplen.pcapng", &bytes)]).expect("open"));
    assert!(result.error.is_none());
    assert_eq!(result.packets.len(), 1);
    assert_eq!(result.packets[0].data, frame(40, 1));
    assert_eq!(result.packets[0].wire_len, 100);
}

#[test]
fn picosecond_interface_divides() {
    // 10^-12 s units; 64 bits of picoseconds reach only 1970-07-14.
    let writer = Writer::LITTLE;
    let bytes = concat(&[
        writer.section_header(),
        writer.interface(1, 0, &[(OPT_IF_TSRESOL, vec![12])]),
        writer.enhanced_packet(0, 16_000_000_123_456_789, 60, &frame(60, 1)),
    ]);
    let result =
        read_all(&mut open_inputs(&[temp_file("picoseconds.pcapng", &bytes)]).expect("open"));
    assert!(result.error.is_none());
    assert_eq!(result.packets[0].timestamp_ns, 16_000_000_123_456);
}

#[test]
fn header_only_pcapng_ends_at_once() {
    let writer = Writer::BIG;
    let bytes = concat(&[writer.section_header(), writer.interface(1, 0, &[])]);
    let mut source = open_inputs(&[temp_file("header-only.pcapng", &bytes)]).expect("open");
    let result = read_all(&mut source);
    assert!(result.error.is_none());
    assert_eq!(result.batches, 0);
}

#[test]
fn batches_hold_at_most_64_packets() {
    let writer = Writer::LITTLE;
    let mut parts = vec![writer.section_header(), writer.interface(1, 0, &[])];
    for index in 0..150u64 {
        parts.push(writer.enhanced_packet(0, 1_000_000 + index, 60, &frame(60, index as u8)));
    }
    let mut source =
        open_inputs(&[temp_file("150-packets.pcapng", &concat(&parts))]).expect("open");
    let mut sizes = Vec::new();
    loop {
        match source.next_batch(|batch| sizes.push(batch.len())) {
            Ok(naudit_engine::BatchStatus::Packets(_)) => {}
            Ok(naudit_engine::BatchStatus::End) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(sizes, [64, 64, 22]);
}
