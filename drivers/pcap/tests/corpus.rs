//! The reader on the shared capture corpus, checked against the corpus
//! manifest and against values that tshark 4.0.17 reports for each file.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{corpus, corpus_root, read_all, temp_file, Writer};
use naudit_engine::{PacketSource, SourceError};
use naudit_pcap::{open_inputs, CaptureSource};

/// Opens one corpus capture with the public entry point.
fn open(file_name: &str) -> CaptureSource {
    open_inputs(&[corpus(file_name)]).unwrap_or_else(|error| panic!("{file_name}: {error}"))
}

/// Damaged corpus captures: packets delivered before the damage, and the
/// byte offset and 1-based packet number of the damaged record.
const DAMAGED: [(&str, usize, u64, u64); 2] = [
    // Version 2.0 stores the wire length before the captured length, so the
    // one record contains 197 bytes and the file ends 2 bytes into the next
    // 16-byte record header.
    ("bad-pcap-record-cut-short.pcap", 1, 237, 2),
    // The second record claims 1,409,179,648 captured bytes. The manifest
    // counts 2 packets because Wireshark guesses that the file uses the
    // modified format with 24-byte record headers and fails one record later.
    // libpcap reads the standard magic as the standard format, and so does
    // this reader.
    ("bad-pcap-record-len-16MB.pcap", 1, 228, 2),
];

#[test]
fn manifest_packet_counts_match() {
    let manifest = std::fs::read_to_string(corpus_root("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    let mut header = manifest
        .lines()
        .next()
        .expect("manifest header")
        .split('\t');
    let packets_column = header
        .position(|column| column == "packets")
        .expect("packets column");
    let mut checked = 0;
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let file_name = fields[0];
        let manifest_count: usize = fields[packets_column]
            .split_whitespace()
            .next()
            .and_then(|count| count.parse().ok())
            .unwrap_or_else(|| panic!("{file_name}: no packet count in the manifest"));

        let mut source = open(file_name);
        let result = read_all(&mut source);
        match DAMAGED.iter().find(|damaged| damaged.0 == file_name) {
            Some(&(_, packets, offset, packet_number)) => {
                assert!(
                    fields[packets_column].contains("damaged"),
                    "{file_name}: the manifest calls it intact"
                );
                assert_eq!(
                    result.packets.len(),
                    packets,
                    "{file_name}: packets before the damage"
                );
                let error = result
                    .error
                    .unwrap_or_else(|| panic!("{file_name}: no error at the damage"));
                let (error_offset, error_packet, _) = common::corrupt_fields(&error);
                assert_eq!(error_offset, offset, "{file_name}: damage offset");
                assert_eq!(
                    error_packet, packet_number,
                    "{file_name}: damaged packet number"
                );
            }
            None => {
                if let Some(error) = result.error {
                    panic!("{file_name}: {error}");
                }
                assert_eq!(
                    result.packets.len(),
                    manifest_count,
                    "{file_name}: packet count"
                );
            }
        }
        assert_eq!(
            source.counters().received_pkts,
            result.packets.len() as u64,
            "{file_name}: received_pkts"
        );
        checked += 1;
    }
    assert_eq!(checked, 150, "manifest rows checked");
}

#[test]
fn cut_short_file_keeps_swapped_lengths() {
    let mut source = open("bad-pcap-record-cut-short.pcap");
    let result = read_all(&mut source);
    assert_eq!(result.packets.len(), 1);
    let packet = &result.packets[0];
    assert_eq!(packet.data.len(), 197);
    assert_eq!(packet.wire_len, 524_501);
    assert_eq!(
        packet.link_type, 0,
        "link type 0x40000000 masks to 0 (BSD loopback)"
    );
    // The nanosecond field is 1,882,137,472, more than one second, and is
    // added to the timestamp unchanged.
    assert_eq!(
        packet.timestamp_ns,
        980_658_802 * 1_000_000_000 + 1_882_137_472
    );
    let error = result.error.expect("error after the packet");
    let (offset, packet_number, reason) = common::corrupt_fields(&error);
    assert_eq!((offset, packet_number), (237, 2));
    assert!(
        reason.contains("pcap record header is cut short"),
        "{reason}"
    );
    assert!(reason.contains("needs 16 bytes"), "{reason}");
    assert!(reason.contains("ends 2 bytes after"), "{reason}");
    assert_eq!(source.counters().truncated_pkts, 1);
}

#[test]
fn oversized_record_is_corrupt() {
    let mut source = open("bad-pcap-record-len-16MB.pcap");
    let result = read_all(&mut source);
    assert_eq!(result.packets.len(), 1);
    assert_eq!(result.packets[0].timestamp_ns, 1_508_525_002_992_213_000);
    assert_eq!(result.packets[0].data.len(), 188);
    let error = result.error.expect("error after the first packet");
    let message = error.to_string();
    let (offset, packet_number, reason) = common::corrupt_fields(&error);
    assert_eq!((offset, packet_number), (228, 2));
    assert!(
        reason.contains("captured length of 1409179648 bytes"),
        "{reason}"
    );
    assert!(reason.contains("maximum of 262144"), "{reason}");
    assert!(
        message.starts_with(
            &corpus("bad-pcap-record-len-16MB.pcap")
                .to_string_lossy()
                .into_owned()
        ),
        "{message}"
    );
    // After the error the source is finished.
    assert!(read_all(&mut source).packets.is_empty());
}

/// One row of tshark-summary.tsv.
struct Summary {
    packets: usize,
    captured_bytes: u64,
    wire_bytes: u64,
    truncated: u64,
    first_ns: Option<u64>,
    last_ns: Option<u64>,
    sum_ns: u64,
}

fn tshark_summaries() -> BTreeMap<String, Summary> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tshark-summary.tsv");
    let text = std::fs::read_to_string(path).expect("read tshark-summary.tsv");
    let mut rows = BTreeMap::new();
    for line in text.lines().filter(|line| !line.starts_with('#')).skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let number = |index: usize| fields[index].parse::<u64>().ok();
        rows.insert(
            fields[0].to_owned(),
            Summary {
                packets: number(1).expect("packets") as usize,
                captured_bytes: number(2).expect("captured bytes"),
                wire_bytes: number(3).expect("wire bytes"),
                truncated: number(4).expect("truncated"),
                first_ns: number(5),
                last_ns: number(6),
                sum_ns: number(7).expect("sum of timestamps"),
            },
        );
    }
    rows
}

#[test]
fn corpus_matches_tshark() {
    let summaries = tshark_summaries();
    assert_eq!(summaries.len(), 145, "rows in tshark-summary.tsv");
    for (file_name, expected) in &summaries {
        let mut source = open(file_name);
        let result = read_all(&mut source);
        if let Some(error) = result.error {
            panic!("{file_name}: {error}");
        }
        let packets = &result.packets;
        let captured: u64 = packets.iter().map(|packet| packet.data.len() as u64).sum();
        let wire: u64 = packets
            .iter()
            .map(|packet| u64::from(packet.wire_len))
            .sum();
        let truncated = packets
            .iter()
            .filter(|packet| packet.data.len() < packet.wire_len as usize)
            .count() as u64;
        let sum_ns = packets
            .iter()
            .fold(0u64, |sum, packet| sum.wrapping_add(packet.timestamp_ns));
        assert_eq!(packets.len(), expected.packets, "{file_name}: packets");
        assert_eq!(
            captured, expected.captured_bytes,
            "{file_name}: captured bytes"
        );
        assert_eq!(wire, expected.wire_bytes, "{file_name}: wire bytes");
        assert_eq!(
            truncated, expected.truncated,
            "{file_name}: truncated packets"
        );
        assert_eq!(
            packets.first().map(|packet| packet.timestamp_ns),
            expected.first_ns,
            "{file_name}: first timestamp"
        );
        assert_eq!(
            packets.last().map(|packet| packet.timestamp_ns),
            expected.last_ns,
            "{file_name}: last timestamp"
        );
        assert_eq!(sum_ns, expected.sum_ns, "{file_name}: sum of timestamps");
        let counters = source.counters();
        assert_eq!(
            counters.received_pkts, expected.packets as u64,
            "{file_name}: received_pkts"
        );
        assert_eq!(
            counters.truncated_pkts, expected.truncated,
            "{file_name}: truncated_pkts"
        );
    }
}

#[test]
fn big_endian_pcap_reads() {
    let result = read_all(&mut open("fmt-pcap-bigendian-sctp.pcap"));
    assert!(result.error.is_none());
    let timestamps: Vec<u64> = result
        .packets
        .iter()
        .map(|packet| packet.timestamp_ns)
        .collect();
    assert_eq!(
        timestamps,
        [
            1_088_696_689_784_578_000,
            1_088_696_689_784_927_000,
            1_088_696_689_872_282_000,
            1_088_696_689_872_631_000
        ]
    );
    let lengths: Vec<usize> = result
        .packets
        .iter()
        .map(|packet| packet.data.len())
        .collect();
    assert_eq!(lengths, [138, 62, 70, 70]);
    // The first bytes of packet 1, from `tshark -x`.
    assert_eq!(
        result.packets[0].data[..16],
        [
            0x00, 0xa0, 0x80, 0x00, 0x5e, 0x46, 0x08, 0x00, 0x03, 0x4a, 0x00, 0x35, 0x08, 0x00,
            0x45, 0x00
        ]
    );
    assert!(result
        .packets
        .iter()
        .all(|packet| packet.link_type == 1 && packet.port == 0));
}

#[test]
fn big_endian_version_2_1_reads() {
    // Version 2.1 stores the wire length first; every record is complete, so
    // both lengths are equal and the count matches.
    let result = read_all(&mut open("fmt-pcap-bigendian-nfsv3-udp.pcap"));
    assert!(result.error.is_none());
    assert_eq!(result.packets.len(), 128);
    assert_eq!(result.packets[0].timestamp_ns, 944_207_397_280_000_000);
}

#[test]
fn nanosecond_pcap_keeps_nanoseconds() {
    let result = read_all(&mut open("fmt-pcap-nsec-sll-tcp-handshake.pcap"));
    assert!(result.error.is_none());
    let timestamps: Vec<u64> = result
        .packets
        .iter()
        .map(|packet| packet.timestamp_ns)
        .collect();
    assert_eq!(
        timestamps,
        [
            1_418_145_369_924_505_488,
            1_418_145_370_052_027_262,
            1_418_145_370_052_115_157
        ]
    );
    assert!(
        result.packets.iter().all(|packet| packet.link_type == 113),
        "Linux cooked capture"
    );
    let lengths: Vec<u32> = result
        .packets
        .iter()
        .map(|packet| packet.wire_len)
        .collect();
    assert_eq!(lengths, [76, 76, 68]);
}

#[test]
fn link_type_upper_bits_are_masked() {
    // The header's link-type field is 0x30000001: FCS length bits without
    // the P bit, which the reader must ignore.
    let result = read_all(&mut open("bad-gre-heapoverflow.pcap"));
    assert!(result.error.is_none());
    assert_eq!(result.packets.len(), 2);
    assert!(result.packets.iter().all(|packet| packet.link_type == 1));
}

#[test]
fn year_2106_timestamp_reads() {
    let result = read_all(&mut open("ts-2106-max.pcap"));
    assert_eq!(result.packets.len(), 1);
    assert_eq!(result.packets[0].timestamp_ns, 4_294_967_295_000_000_000);
}

#[test]
fn two_interfaces_keep_their_resolutions() {
    // Interface 0 has nanosecond timestamps, interface 1 microsecond ones.
    let result = read_all(&mut open("fmt-pcapng-2-interfaces.pcapng"));
    assert!(result.error.is_none());
    let seen: Vec<(u16, u64, usize)> = result
        .packets
        .iter()
        .map(|packet| (packet.port, packet.timestamp_ns, packet.data.len()))
        .collect();
    assert_eq!(
        seen,
        [
            (0, 1_767_663_089_500_330_493, 96),
            (0, 1_767_663_089_514_291_940, 214),
            (1, 1_767_663_437_111_897_000, 70),
            (1, 1_767_663_437_126_460_000, 166),
            (1, 1_767_663_437_128_303_000, 70),
            (1, 1_767_663_437_140_942_000, 182),
        ]
    );
}

#[test]
fn twenty_two_interfaces_map_to_ports() {
    let result = read_all(&mut open("fmt-pcapng-22-interfaces-web.pcapng"));
    assert!(result.error.is_none());
    let mut per_port = BTreeMap::new();
    for packet in &result.packets {
        *per_port.entry(packet.port).or_insert(0) += 1;
    }
    // Packets per interface id, from `tshark -e frame.interface_id`.
    let expected: BTreeMap<u16, i32> = [
        (0, 30),
        (1, 1),
        (2, 29),
        (3, 226),
        (4, 118),
        (5, 25),
        (6, 55),
        (7, 8),
        (8, 4),
        (9, 16),
        (10, 50),
        (11, 22),
        (12, 20),
        (13, 6),
        (14, 6),
        (15, 7),
        (16, 6),
        (17, 1),
        (18, 6),
        (19, 20),
        (20, 22),
        (21, 21),
    ]
    .into_iter()
    .collect();
    assert_eq!(per_port, expected);
}

#[test]
fn many_interfaces_with_mixed_link_types() {
    // 126 interfaces of link types 1, 113 and 274; all packets are on the
    // Ethernet interface 48.
    let result = read_all(&mut open("fmt-pcapng-126-idbs-mixed-linktypes.pcapng"));
    assert!(result.error.is_none());
    assert_eq!(result.packets.len(), 17);
    assert!(
        result.packets.iter().all(|packet| packet.port == 48),
        "interface ids"
    );
    assert!(
        result.packets.iter().all(|packet| packet.link_type == 1),
        "link types"
    );
    assert_eq!(result.packets[0].timestamp_ns, 1_725_966_551_231_155_000);
}

#[test]
fn three_link_types_per_packet() {
    let result = read_all(&mut open("fmt-pcapng-derived-3-linktypes.pcapng"));
    assert!(result.error.is_none());
    let seen: Vec<(u16, u16)> = result
        .packets
        .iter()
        .map(|packet| (packet.port, packet.link_type))
        .collect();
    let mut expected = vec![(0, 1); 10];
    expected.extend([(1, 276); 6]);
    expected.push((2, 101));
    assert_eq!(seen, expected);
    assert_eq!(result.packets[10].timestamp_ns, 1_660_534_249_872_259_000);
    assert_eq!(result.packets[16].timestamp_ns, 1_751_997_557_215_270_000);
    assert_eq!(result.packets[16].data.len(), 77);
}

#[test]
fn name_resolution_block_is_skipped() {
    let result = read_all(&mut open("fmt-pcapng-nrb-isb-dns.pcapng"));
    assert!(result.error.is_none());
    assert_eq!(result.packets.len(), 77);
}

#[test]
fn decryption_secrets_block_is_skipped() {
    let result = read_all(&mut open("fmt-pcapng-dsb-2if-qinq-gtp.pcapng"));
    assert!(result.error.is_none());
    assert_eq!(result.packets.len(), 24);
    assert_eq!(
        result
            .packets
            .iter()
            .filter(|packet| packet.port == 0)
            .count(),
        6
    );
    assert_eq!(
        result
            .packets
            .iter()
            .filter(|packet| packet.port == 1)
            .count(),
        18
    );
}

#[test]
fn custom_block_is_skipped() {
    let result = read_all(&mut open("fmt-pcapng-custom-block.pcapng"));
    assert!(result.error.is_none());
    assert_eq!(result.packets.len(), 19);
    assert_eq!(result.packets[0].timestamp_ns, 1_434_379_491_040_018_000);
}

#[test]
fn empty_captures_end_at_once() {
    for file_name in ["fmt-pcap-empty.pcap", "fmt-pcapng-empty.pcapng"] {
        let mut source = open(file_name);
        let result = read_all(&mut source);
        assert!(result.error.is_none(), "{file_name}");
        assert!(result.packets.is_empty(), "{file_name}");
        assert_eq!(result.batches, 0, "{file_name}");
        assert_eq!(source.counters().received_pkts, 0, "{file_name}");
    }
}

#[test]
fn jumbogram_frame_reads_whole() {
    let result = read_all(&mut open("ipv6-jumbogram.pcap"));
    assert_eq!(result.packets.len(), 1);
    assert_eq!(result.packets[0].data.len(), 65_590);
    assert_eq!(result.packets[0].wire_len, 65_590);
}

#[test]
fn nine_kilobyte_cooked_frame_reads() {
    let writer = Writer::LITTLE;
    let jumbo = common::frame(9_000, 3);
    let mut bytes = writer.pcap_header(0xa1b2_c3d4, (2, 4), 65_535, 113);
    bytes.extend(writer.pcap_record(1_700_000_000, 1, 9_000, 9_000, &jumbo));
    bytes.extend(writer.pcap_record(1_700_000_000, 2, 60, 60, &common::frame(60, 9)));
    let path = temp_file("sll-9000", &bytes);
    let result = read_all(&mut open_inputs(&[path]).expect("open"));
    assert!(result.error.is_none());
    assert_eq!(result.packets.len(), 2);
    assert_eq!(result.packets[0].data, jumbo);
    assert_eq!(result.packets[0].link_type, 113);
    assert_eq!(result.packets[1].timestamp_ns, 1_700_000_000_000_002_000);
}

#[test]
fn snaplen_truncated_packets_are_counted() {
    // capinfos: every one of the 24 packets is cut to the 68-byte snaplen.
    let mut source = open("snaplen-68-tcp-headers-only.pcap");
    let result = read_all(&mut source);
    assert_eq!(result.packets.len(), 24);
    assert!(result.packets.iter().all(|packet| packet.data.len() <= 68));
    assert_eq!(source.counters().truncated_pkts, 24);
}

/// ERF conversions of corpus pcaps and their sources.
const ERF_SOURCES: [(&str, &str); 3] = [
    ("erf-qinq-8100-8100-http.erf", "qinq-8100-8100-http.pcap"),
    ("erf-gtpu-outer-frag-http.erf", "gtpu-outer-frag-http.pcap"),
    ("erf-http-dns-wikipedia-multiflow.erf", "http-dns-wikipedia-multiflow.pcap"),
];

#[test]
fn erf_files_read_as_their_source_pcaps() {
    // The ERF records' wire length counts the 4-byte Ethernet FCS, which
    // the reader leaves out, so each packet equals its pcap original.
    for (erf, pcap) in ERF_SOURCES {
        let from_erf = read_all(&mut open(erf));
        let from_pcap = read_all(&mut open(pcap));
        assert!(from_erf.error.is_none(), "{erf}: {:?}", from_erf.error);
        assert_eq!(from_erf.packets.len(), from_pcap.packets.len(), "{erf}: packets");
        for (index, (a, b)) in from_erf.packets.iter().zip(&from_pcap.packets).enumerate() {
            assert_eq!(a.data, b.data, "{erf}: data of packet {}", index + 1);
            assert_eq!(a.wire_len, b.wire_len, "{erf}: wire length of packet {}", index + 1);
            assert_eq!(a.link_type, 1, "{erf}: link type of packet {}", index + 1);
            assert_eq!(a.timestamp_ns, b.timestamp_ns, "{erf}: time of packet {}", index + 1);
        }
    }
}

#[test]
fn erf_reads_through_a_pipe() {
    let bytes = std::fs::read(corpus("erf-qinq-8100-8100-http.erf")).expect("read ERF");
    let source = naudit_pcap::StreamSource::from_reader("erf-pipe", Box::new(std::io::Cursor::new(bytes)), 64);
    let result = read_all(&mut source.expect("open the stream"));
    assert!(result.error.is_none(), "{:?}", result.error);
    assert_eq!(result.packets.len(), 14);
}

#[test]
fn damaged_erf_keeps_records_before_the_damage() {
    let mut bytes = std::fs::read(corpus("erf-qinq-8100-8100-http.erf")).expect("read ERF");
    // The fifth record starts after four records; set its rlen to 10.
    let mut offset = 0;
    for _ in 0..4 {
        offset += usize::from(u16::from_be_bytes([bytes[offset + 10], bytes[offset + 11]]));
    }
    bytes[offset + 10..offset + 12].copy_from_slice(&10u16.to_be_bytes());
    let path = temp_file("erf-damaged", &bytes);
    let result = read_all(&mut open_inputs(&[path]).expect("open"));
    assert_eq!(result.packets.len(), 4);
    let error = result.error.expect("an error at the damage");
    let message = error.to_string();
    let (error_offset, error_packet, _) = common::corrupt_fields(&error);
    assert_eq!(error_offset, offset as u64);
    assert_eq!(error_packet, 5);
    assert!(message.contains("erf-damaged"), "{message}");
    assert!(message.contains("ERF record 5"), "{message}");
}

#[test]
fn unknown_format_is_unsupported() {
    let path = temp_file("not-a-capture", b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
    let Err(error) = open_inputs(std::slice::from_ref(&path)) else {
        panic!("text must be rejected");
    };
    let message = error.to_string();
    assert!(matches!(error, SourceError::Unsupported { .. }), "{message}");
    assert!(message.contains("not-a-capture"), "{message}");
    assert!(message.contains("47 45 54 20"), "{message}");
    assert!(message.contains("pcapng"), "{message}");
    assert!(message.contains("ERF"), "{message}");
}

#[test]
fn name_is_the_path_as_given() {
    let path = corpus("arp-who-has.pcap");
    let source = open_inputs(std::slice::from_ref(&path)).expect("open");
    assert_eq!(source.name(), path.to_string_lossy());
    assert!(matches!(source, CaptureSource::Mapped(_)));
}

#[test]
fn shared_mapping_reads_same_packets() {
    let paths = [corpus("http-dns-wikipedia-multiflow.pcap")];
    let mut original = naudit_pcap::open_inputs(&paths).expect("open the capture");
    let mut shared = original.share().expect("an unread mapped file can be shared");
    let expected = read_all(&mut original);
    let read = read_all(&mut shared);
    assert!(expected.error.is_none(), "the original reads to the end");
    assert!(read.error.is_none(), "the shared source reads to the end");
    assert_eq!(read.packets.len(), expected.packets.len());
    assert_eq!(read.packets, expected.packets);
    assert!(original.share().is_none(), "a source that has started reading is not shared");

    let merged = naudit_pcap::open_inputs(&[paths[0].clone(), corpus("vxlan-http.pcap")]).expect("open both");
    assert!(merged.share().is_none(), "merged files are opened again instead");
}
