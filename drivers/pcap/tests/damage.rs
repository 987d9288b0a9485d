//! Damaged and invalid inputs, hand-made. Each case is read both from a
//! memory-mapped file and from a stream, and both must deliver the packets
//! before the damage and then the same error.

mod common;

use common::{concat, corpus, frame, read_all, temp_file, Packet, Writer};
use naudit_engine::{BatchStatus, PacketSource, SourceError};
use naudit_pcap::{open_inputs, MappedSource, StreamSource};

const PCAP_MAGIC: u32 = 0xa1b2_c3d4;

/// Expected outcome of reading a damaged input.
struct Damage {
    packets: usize,
    offset: u64,
    packet_number: u64,
    reason: &'static str,
}

/// Reads `bytes` as a file and as streams with several buffer sizes, and
/// checks that each delivers `expected.packets` packets and then the error.
fn check_damage(stem: &str, bytes: &[u8], expected: Damage) {
    let path = temp_file(stem, bytes);
    let mut mapped =
        MappedSource::open(&path).unwrap_or_else(|error| panic!("{stem}: open failed: {error}"));
    let file_result = read_all(&mut mapped);
    check_result(
        &format!("{stem} (mapped)"),
        &file_result.packets,
        file_result.error.as_ref(),
        &expected,
    );
    assert_eq!(
        mapped.counters().received_pkts,
        expected.packets as u64,
        "{stem}: received_pkts"
    );
    // The error is returned once; the source is finished afterwards.
    assert!(
        matches!(mapped.next_batch(|_| {}), Ok(BatchStatus::End)),
        "{stem}: End after the error"
    );

    for buffer_bytes in [1, 7, 64, 1 << 20] {
        let reader = Box::new(std::io::Cursor::new(bytes.to_vec()));
        let mut stream =
            StreamSource::from_reader(stem, reader, buffer_bytes).expect("open stream");
        let stream_result = read_all(&mut stream);
        let label = format!("{stem} (stream, buffer {buffer_bytes})");
        check_result(
            &label,
            &stream_result.packets,
            stream_result.error.as_ref(),
            &expected,
        );
        assert_eq!(
            stream_result.packets, file_result.packets,
            "{label}: same packets as the file"
        );
        assert!(
            matches!(stream.next_batch(|_| {}), Ok(BatchStatus::End)),
            "{label}: End after the error"
        );
    }
}

fn check_result(label: &str, packets: &[Packet], error: Option<&SourceError>, expected: &Damage) {
    assert_eq!(
        packets.len(),
        expected.packets,
        "{label}: packets before the damage"
    );
    let error = error.unwrap_or_else(|| panic!("{label}: no error"));
    let (offset, packet_number, reason) = common::corrupt_fields(error);
    assert_eq!(
        offset, expected.offset,
        "{label}: offset of the damage ({reason})"
    );
    assert_eq!(
        packet_number, expected.packet_number,
        "{label}: packet number ({reason})"
    );
    assert!(
        reason.contains(expected.reason),
        "{label}: reason {reason:?} lacks {:?}",
        expected.reason
    );
}

/// Expects `bytes` to fail at open, from a file and from a stream.
fn open_error(stem: &str, bytes: &[u8]) -> (SourceError, SourceError) {
    let path = temp_file(stem, bytes);
    let Err(file_error) = open_inputs(std::slice::from_ref(&path)) else {
        panic!("{stem}: the file opened");
    };
    assert!(
        file_error.to_string().contains(&*path.to_string_lossy()),
        "{stem}: {file_error}"
    );
    let reader = Box::new(std::io::Cursor::new(bytes.to_vec()));
    let Err(stream_error) = StreamSource::from_reader(stem, reader, 5) else {
        panic!("{stem}: the stream opened");
    };
    (file_error, stream_error)
}

/// Builds a little-endian pcap header and one 60-byte record, 100 bytes in all.
fn pcap_with_one_packet() -> Vec<u8> {
    let writer = Writer::LITTLE;
    concat(&[
        writer.pcap_header(PCAP_MAGIC, (2, 4), 65_535, 1),
        writer.pcap_record(1_600_000_000, 1, 60, 60, &frame(60, 1)),
    ])
}

/// Builds a section header (28 bytes), an interface (20 bytes) and one
/// enhanced packet block of 92 bytes, so the next block starts at offset 140.
fn pcapng_with_one_packet() -> Vec<u8> {
    let writer = Writer::LITTLE;
    concat(&[
        writer.section_header(),
        writer.interface(1, 0, &[]),
        writer.enhanced_packet(0, 1_600_000_000_000_000, 60, &frame(60, 1)),
    ])
}

#[test]
fn pcap_captured_length_above_maximum() {
    let mut bytes = pcap_with_one_packet();
    bytes.extend(Writer::LITTLE.pcap_record(1_600_000_000, 2, 262_145, 262_145, &frame(100, 2)));
    let expected = Damage {
        packets: 1,
        offset: 100,
        packet_number: 2,
        reason: "captured length of 262145 bytes, above the maximum of 262144",
    };
    check_damage("pcap-caplen-max", &bytes, expected);
}

#[test]
fn pcap_captured_length_beyond_file_end() {
    let mut bytes = pcap_with_one_packet();
    bytes.extend(Writer::LITTLE.pcap_record(1_600_000_000, 2, 1_000, 1_000, &frame(10, 2)));
    let expected = Damage {
        packets: 1,
        offset: 100,
        packet_number: 2,
        reason: "pcap record is cut short: it needs 1016 bytes, but the input ends 26 bytes after its start",
    };
    check_damage("pcap-caplen-beyond-end", &bytes, expected);
}

#[test]
fn pcap_record_header_cut_short() {
    let mut bytes = pcap_with_one_packet();
    bytes.extend([0u8; 5]);
    let expected = Damage {
        packets: 1,
        offset: 100,
        packet_number: 2,
        reason: "pcap record header is cut short: it needs 16 bytes",
    };
    check_damage("pcap-header-cut", &bytes, expected);
}

#[test]
fn damage_after_many_batches() {
    // 150 packets fill two full batches and part of a third before the damage.
    let writer = Writer::BIG;
    let mut parts = vec![writer.pcap_header(PCAP_MAGIC, (2, 4), 65_535, 1)];
    for index in 0..150u32 {
        parts.push(writer.pcap_record(1_600_000_000, index, 60, 60, &frame(60, index as u8)));
    }
    parts.push(writer.pcap_record(1_600_000_001, 0, 400_000, 400_000, &[]));
    let expected = Damage {
        packets: 150,
        offset: 24 + 150 * 76,
        packet_number: 151,
        reason: "captured length of 400000 bytes",
    };
    check_damage("pcap-many-then-damage", &concat(&parts), expected);
}

#[test]
fn pcap_file_header_cut_short() {
    let bytes = pcap_with_one_packet();
    let (file_error, stream_error) = open_error("pcap-file-header-cut", &bytes[..10]);
    for error in [file_error, stream_error] {
        let (offset, packet_number, reason) = common::corrupt_fields(&error);
        assert_eq!((offset, packet_number), (0, 1));
        assert!(
            reason.contains("pcap file header is cut short: it needs 24 bytes"),
            "{reason}"
        );
    }
}

#[test]
fn empty_file_is_an_error() {
    let (file_error, stream_error) = open_error("empty.pcap", &[]);
    for error in [file_error, stream_error] {
        let (offset, _, reason) = common::corrupt_fields(&error);
        assert_eq!(offset, 0);
        assert!(reason.contains("empty (0 bytes)"), "{reason}");
    }
}

#[test]
fn three_byte_file_is_cut_short() {
    let (file_error, _) = open_error("three-bytes", &[0xd4, 0xc3, 0xb2]);
    let (_, _, reason) = common::corrupt_fields(&file_error);
    assert!(
        reason.contains("capture file header is cut short: it needs 4 bytes"),
        "{reason}"
    );
}

#[test]
fn unknown_magic_is_unsupported() {
    let (file_error, stream_error) = open_error(
        "picture.pcap",
        b"GIF89a and more bytes to pass the header length",
    );
    for error in [file_error, stream_error] {
        let message = error.to_string();
        assert!(
            matches!(error, SourceError::Unsupported { .. }),
            "{message}"
        );
        assert!(message.contains("47 49 46 38"), "{message}");
        assert!(message.contains("pcapng"), "{message}");
    }
}

#[test]
fn unsupported_pcap_version() {
    let bytes = Writer::LITTLE.pcap_header(PCAP_MAGIC, (3, 0), 65_535, 1);
    let (file_error, _) = open_error("pcap-version-3", &bytes);
    let message = file_error.to_string();
    assert!(
        matches!(file_error, SourceError::Unsupported { .. }),
        "{message}"
    );
    assert!(
        message.contains("pcap version 3.0 is not supported"),
        "{message}"
    );
}

#[test]
fn pcapng_block_length_not_multiple_of_4() {
    let mut bytes = pcapng_with_one_packet();
    let mut odd = Writer::LITTLE.block(5, &[0; 20]);
    odd[4..8].copy_from_slice(&30u32.to_le_bytes());
    bytes.extend(odd);
    let expected = Damage {
        packets: 1,
        offset: 140,
        packet_number: 2,
        reason: "interface statistics block has a length of 30 bytes, which is not a multiple of 4",
    };
    check_damage("pcapng-len-not-4", &bytes, expected);
}

#[test]
fn pcapng_block_length_below_minimum() {
    let mut generic = pcapng_with_one_packet();
    let mut short = Writer::LITTLE.block(0x4000_0bad, &[]);
    short[4..8].copy_from_slice(&8u32.to_le_bytes());
    generic.extend(short);
    let expected = Damage {
        packets: 1,
        offset: 140,
        packet_number: 2,
        reason: "custom block has a length of 8 bytes, below the minimum of 12",
    };
    check_damage("pcapng-len-below-12", &generic, expected);

    // An enhanced packet block needs 32 bytes for its fixed fields.
    let mut enhanced = pcapng_with_one_packet();
    enhanced.extend(Writer::LITTLE.block(6, &[0; 16]));
    let expected = Damage {
        packets: 1,
        offset: 140,
        packet_number: 2,
        reason: "enhanced packet block has a length of 28 bytes, below the minimum of 32",
    };
    check_damage("pcapng-epb-below-32", &enhanced, expected);
}

#[test]
fn pcapng_trailing_length_mismatch() {
    let mut bytes = pcapng_with_one_packet();
    let mut second = Writer::LITTLE.enhanced_packet(0, 1_600_000_000_000_001, 60, &frame(60, 2));
    let trailer_at = second.len() - 4;
    second[trailer_at..].copy_from_slice(&96u32.to_le_bytes());
    bytes.extend(second);
    let expected = Damage {
        packets: 1,
        offset: 140,
        packet_number: 2,
        reason: "trailing block length of 96 bytes that does not match its leading length of 92",
    };
    check_damage("pcapng-trailer", &bytes, expected);
}

#[test]
fn pcapng_packet_on_undescribed_interface() {
    let mut bytes = pcapng_with_one_packet();
    bytes.extend(Writer::LITTLE.enhanced_packet(3, 1_600_000_000_000_001, 60, &frame(60, 2)));
    let expected = Damage {
        packets: 1,
        offset: 140,
        packet_number: 2,
        reason:
            "enhanced packet block is on interface 3, but its section describes only interface 0",
    };
    check_damage("pcapng-undescribed-interface", &bytes, expected);
}

#[test]
fn pcapng_interface_ids_reset_per_section() {
    // Interface 1 exists in the first section but not in the second.
    let writer = Writer::LITTLE;
    let bytes = concat(&[
        writer.section_header(),
        writer.interface(1, 0, &[]),
        writer.interface(1, 0, &[]),
        writer.enhanced_packet(1, 1_600_000_000_000_000, 60, &frame(60, 1)),
        writer.section_header(),
        writer.interface(1, 0, &[]),
        writer.enhanced_packet(1, 1_600_000_000_000_001, 60, &frame(60, 2)),
    ]);
    let expected = Damage {
        packets: 1,
        offset: 28 + 20 + 20 + 92 + 28 + 20,
        packet_number: 2,
        reason: "on interface 1, but its section describes only interface 0",
    };
    check_damage("pcapng-section-reset", &bytes, expected);
}

#[test]
fn pcapng_bad_byte_order_magic() {
    let mut bytes = pcapng_with_one_packet();
    let mut section = Writer::LITTLE.section_header();
    section[8..12].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    bytes.extend(section);
    let expected = Damage {
        packets: 1,
        offset: 140,
        packet_number: 2,
        reason:
            "section header block has the byte-order magic [de, ad, be, ef] instead of 1a2b3c4d",
    };
    check_damage("pcapng-bad-magic", &bytes, expected);
}

#[test]
fn pcapng_captured_length_beyond_block() {
    let mut bytes = pcapng_with_one_packet();
    let mut second = Writer::LITTLE.enhanced_packet(0, 1_600_000_000_000_001, 60, &frame(60, 2));
    second[20..24].copy_from_slice(&200u32.to_le_bytes());
    bytes.extend(second);
    let expected = Damage {
        packets: 1,
        offset: 140,
        packet_number: 2,
        reason: "enhanced packet block has a captured length of 200 bytes, but its 92 bytes hold at most 60",
    };
    check_damage("pcapng-caplen-beyond-block", &bytes, expected);
}

#[test]
fn pcapng_captured_length_above_maximum() {
    let mut bytes = pcapng_with_one_packet();
    let mut second = Writer::LITTLE.enhanced_packet(0, 1_600_000_000_000_001, 60, &frame(60, 2));
    second[20..24].copy_from_slice(&300_000u32.to_le_bytes());
    bytes.extend(second);
    let expected = Damage {
        packets: 1,
        offset: 140,
        packet_number: 2,
        reason: "captured length of 300000 bytes, above the maximum of 262144",
    };
    check_damage("pcapng-caplen-max", &bytes, expected);
}

#[test]
fn pcapng_block_cut_short() {
    let mut bytes = pcapng_with_one_packet();
    let second = Writer::LITTLE.enhanced_packet(0, 1_600_000_000_000_001, 60, &frame(60, 2));
    bytes.extend(&second[..second.len() - 10]);
    let expected = Damage {
        packets: 1,
        offset: 140,
        packet_number: 2,
        reason: "pcapng block is cut short: it needs 92 bytes, but the input ends 82 bytes after its start",
    };
    check_damage("pcapng-block-cut", &bytes, expected);
}

#[test]
fn pcapng_simple_packet_before_interface() {
    let writer = Writer::BIG;
    let bytes = concat(&[
        writer.section_header(),
        writer.simple_packet(60, &frame(60, 1)),
    ]);
    let expected = Damage {
        packets: 0,
        offset: 28,
        packet_number: 1,
        reason: "simple packet block comes before any interface description block",
    };
    check_damage("pcapng-spb-first", &bytes, expected);
}

#[test]
fn pcapng_option_runs_past_block() {
    let writer = Writer::LITTLE;
    let mut interface = writer.interface(1, 0, &[(9, vec![6])]);
    // Claim 40 bytes for the if_tsresol value.
    interface[18..20].copy_from_slice(&40u16.to_le_bytes());
    let bytes = concat(&[writer.section_header(), interface]);
    let expected = Damage {
        packets: 0,
        offset: 28,
        packet_number: 1,
        reason: "option 9 of the interface description block has a length of 40 bytes, which runs past the end",
    };
    check_damage("pcapng-option-overrun", &bytes, expected);
}

#[test]
fn pcapng_resolution_option_of_wrong_length() {
    let writer = Writer::LITTLE;
    let bytes = concat(&[
        writer.section_header(),
        writer.interface(1, 0, &[(9, vec![6, 0])]),
    ]);
    let expected = Damage {
        packets: 0,
        offset: 28,
        packet_number: 1,
        reason: "if_tsresol option has a length of 2 bytes instead of 1",
    };
    check_damage("pcapng-tsresol-length", &bytes, expected);
}

#[test]
fn pcapng_timestamp_before_1970() {
    let writer = Writer::LITTLE;
    let offset = (-2_000_000_000i64).to_le_bytes().to_vec();
    let bytes = concat(&[
        writer.section_header(),
        writer.interface(1, 0, &[(14, offset)]),
        writer.enhanced_packet(0, 1_000_000_000_000_000, 60, &frame(60, 1)),
    ]);
    let expected = Damage {
        packets: 0,
        offset: 28 + 36,
        packet_number: 1,
        reason: "which is before 1970 or after 2554",
    };
    check_damage("pcapng-before-1970", &bytes, expected);
}

#[test]
fn pcapng_version_2_is_unsupported() {
    let writer = Writer::LITTLE;
    let mut second_section = writer.section_header();
    second_section[12..14].copy_from_slice(&2u16.to_le_bytes());
    let bytes = concat(&[pcapng_with_one_packet(), second_section]);
    let path = temp_file("pcapng-version-2", &bytes);
    let result = read_all(&mut open_inputs(&[path]).expect("open"));
    assert_eq!(result.packets.len(), 1);
    let message = result.error.expect("error").to_string();
    assert!(
        message.contains("pcapng version 2.0 is not supported"),
        "{message}"
    );
    assert!(message.contains("at byte offset 140"), "{message}");
}

#[test]
fn captured_length_above_snaplen_is_read() {
    // Snaplen 64 in the header, but a 100-byte record: accepted.
    let writer = Writer::LITTLE;
    let bytes = concat(&[
        writer.pcap_header(PCAP_MAGIC, (2, 4), 64, 1),
        writer.pcap_record(1_600_000_000, 1, 100, 100, &frame(100, 1)),
    ]);
    let result = read_all(&mut open_inputs(&[temp_file("above-snaplen", &bytes)]).expect("open"));
    assert!(result.error.is_none());
    assert_eq!(result.packets[0].data.len(), 100);
}

#[test]
fn every_cut_reads_a_prefix() {
    // A file cut at any byte yields a prefix of its packets, then either the
    // end (at a record boundary) or a Corrupt error inside the cut, and the
    // file and stream readers agree.
    for file_name in [
        "fmt-pcapng-2-interfaces.pcapng",
        "fmt-pcap-bigendian-sctp.pcap",
        "fmt-pcap-nsec-vntag-vlan.pcap",
    ] {
        let whole = std::fs::read(corpus(file_name)).expect("read corpus file");
        let all_packets = read_all(&mut open_inputs(&[corpus(file_name)]).expect("open")).packets;
        let path = temp_file(file_name, &whole);
        for cut_len in 0..whole.len() {
            std::fs::write(&path, &whole[..cut_len]).expect("write the cut file");
            let label = format!("{file_name} cut to {cut_len} bytes");
            let file_result = match MappedSource::open(&path) {
                Ok(mut source) => read_all(&mut source),
                Err(error) => {
                    assert!(cut_len < 24, "{label}: open failed: {error}");
                    continue;
                }
            };
            let packets = &file_result.packets;
            assert_eq!(
                packets[..],
                all_packets[..packets.len()],
                "{label}: a prefix"
            );
            if let Some(error) = &file_result.error {
                let (offset, packet_number, _) = common::corrupt_fields(error);
                assert!(offset < cut_len as u64, "{label}: error offset {offset}");
                assert_eq!(
                    packet_number,
                    packets.len() as u64 + 1,
                    "{label}: packet number"
                );
            }

            let reader = Box::new(std::io::Cursor::new(whole[..cut_len].to_vec()));
            let mut stream = StreamSource::from_reader(file_name, reader, 17).expect("open stream");
            let stream_result = read_all(&mut stream);
            assert_eq!(
                stream_result.packets, file_result.packets,
                "{label}: stream packets"
            );
            assert_eq!(
                stream_result
                    .error
                    .map(|error| error.to_string().replace(file_name, "")),
                file_result
                    .error
                    .map(|error| error.to_string().replace(&*path.to_string_lossy(), "")),
                "{label}: stream error"
            );
        }
    }
}
