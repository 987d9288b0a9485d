//! The bodies of the fuzz targets, one function per target. The fuzz
//! targets call them, and `tests/fuzz_regressions.rs` includes this file to
//! replay the inputs kept under `fuzz/regressions/` in a normal `cargo test`.
//! Each function panics when its input breaks an invariant.

use std::path::PathBuf;

use naudit_engine::decode::decode_packet;
use naudit_engine::fanout::{quick_worker_hash, worker_hash};
use naudit_engine::flow::{FlowRecord, ShardConfig};
use naudit_engine::worker::Worker;
use naudit_engine::{BatchStatus, LinkType, PacketSource, PacketView, SourceError};
use naudit_pcap::{MappedSource, StreamSource};

/// Decodes `input` as one packet: the first two bytes, little-endian, choose
/// the link type (modulo 300, which covers every link type nauditd decodes),
/// the rest is the packet. When the header hash of the worker fanout
/// returns a hash, it must equal the hash of the full decode, or workers
/// sharing a file would split a flow.
pub fn decode(input: &[u8]) {
    if input.len() < 2 {
        return;
    }
    let link_type = LinkType(u16::from_le_bytes([input[0], input[1]]) % 300);
    let packet = &input[2..];
    let decoded = decode_packet(link_type, packet);
    if let Some(hash) = quick_worker_hash(link_type, packet) {
        assert_eq!(hash, worker_hash(&decoded), "the header hash disagrees with the full decode");
    }
    // Using the result keeps the optimizer from dropping the walk.
    std::hint::black_box(decoded);
}

/// Feeds a sequence of Ethernet frames through the decoders and one small
/// flow shard: timeouts, fragments, TCP state and eviction. Each frame is a
/// 4-byte little-endian time step in microseconds, a 2-byte little-endian
/// length, and that many bytes.
pub fn flows(input: &[u8]) {
    let config = ShardConfig {
        capacity_flows: 8,
        capacity_datagrams: 4,
        ..ShardConfig::default()
    };
    let mut worker = Worker::new(config);
    let mut records: Vec<FlowRecord> = Vec::new();
    let mut time_ns = 1_600_000_000_000_000_000u64;
    let mut rest = input;
    while rest.len() >= 6 {
        let step_us = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let len = usize::from(u16::from_le_bytes([rest[4], rest[5]])).min(rest.len() - 6);
        let data = &rest[6..6 + len];
        rest = &rest[6 + len..];
        time_ns += u64::from(step_us) * 1_000;
        let packet = PacketView {
            timestamp_ns: time_ns,
            wire_len_bytes: len as u32,
            data,
            link_type: LinkType::ETHERNET,
            port: 0,
        };
        worker.process_batch(&[packet], &mut records);
    }
    worker.flush(&mut records);

    // Every packet is in exactly one record, or counted as having no flow key.
    let in_records: u64 = records.iter().map(|record| record.src.pkts + record.dst.pkts).sum();
    assert_eq!(
        in_records + worker.shard().counters().unkeyed_pkts,
        worker.stats().packets
    );
}

/// One delivered packet, copied out of its batch.
#[derive(Debug, PartialEq)]
struct Packet {
    timestamp_ns: u64,
    wire_len_bytes: u32,
    data: Vec<u8>,
    link_type: LinkType,
    port: u16,
}

/// Size of the streaming reader's refill buffer: small, so records straddle
/// refills often.
const STREAM_BUFFER_BYTES: usize = 512;

/// Reads `input` as a capture file with both file readers, the streaming
/// reader and the memory-mapped one, and checks that they deliver the same
/// packets and then the same error, with the input's name left out.
pub fn capture_file(input: &[u8]) {
    let reader = Box::new(std::io::Cursor::new(input.to_vec()));
    let streamed = StreamSource::from_reader("input", reader, STREAM_BUFFER_BYTES).map(read_all);

    let path = scratch_path();
    std::fs::write(&path, input).expect("write the input to a scratch file");
    let mapped = MappedSource::open(&path).map(read_all);
    std::fs::remove_file(&path).expect("remove the scratch file");
    let path_name = path.to_string_lossy().into_owned();

    match (streamed, mapped) {
        (Ok((stream_packets, stream_error)), Ok((mapped_packets, mapped_error))) => {
            assert_eq!(stream_packets, mapped_packets, "both readers deliver the same packets");
            assert_eq!(
                stream_error.map(|error| error.to_string().replacen("input", "", 1)),
                mapped_error.map(|error| error.to_string().replacen(&path_name, "", 1)),
                "both readers stop with the same error"
            );
        }
        (Err(stream_error), Err(mapped_error)) => {
            assert_eq!(
                stream_error.to_string().replacen("input", "", 1),
                mapped_error.to_string().replacen(&path_name, "", 1),
                "both readers reject the file header alike"
            );
        }
        (streamed, mapped) => panic!(
            "one reader opened the input and the other did not: stream {:?}, mapped {:?}",
            streamed.err(),
            mapped.err()
        ),
    }
}

/// Returns this process's scratch file for the memory-mapped reader.
fn scratch_path() -> PathBuf {
    std::env::temp_dir().join(format!("naudit-fuzz-capture-{}", std::process::id()))
}

/// Reads `source` to its end or its first error. Also checks the batch
/// contract: a `Packets(n)` batch shows the closure `n > 0` packets, the
/// packet counter matches, and the source ends after an error.
fn read_all<S: PacketSource>(mut source: S) -> (Vec<Packet>, Option<SourceError>) {
    let mut packets = Vec::new();
    let error = loop {
        let mut delivered = 0;
        let status = source.next_batch(|batch| {
            delivered = batch.len();
            packets.extend(batch.iter().map(|view| Packet {
                timestamp_ns: view.timestamp_ns,
                wire_len_bytes: view.wire_len_bytes,
                data: view.data.to_vec(),
                link_type: view.link_type,
                port: view.port,
            }));
        });
        match status {
            Ok(BatchStatus::Packets(count)) => {
                assert!(count > 0, "a Packets batch holds at least one packet");
                assert_eq!(count, delivered, "Packets(n) matches the batch");
            }
            // StreamSource documents that it never returns Idle, and a
            // mapped file has all its bytes at once.
            Ok(BatchStatus::Idle) => panic!("a file reader returned Idle"),
            Ok(BatchStatus::End) => break None,
            Err(error) => {
                assert!(
                    matches!(source.next_batch(|_| {}), Ok(BatchStatus::End)),
                    "the source ends after its error"
                );
                break Some(error);
            }
        }
    };
    assert_eq!(source.counters().received_pkts, packets.len() as u64, "received_pkts");
    (packets, error)
}
