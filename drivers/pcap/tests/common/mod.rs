//! Helpers shared by the integration tests: corpus paths, reading a whole
//! source, temporary files and builders for hand-made pcap and pcapng bytes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use naudit_engine::{BatchStatus, PacketSource, PacketView, SourceError};

/// Returns the path of a capture in the shared test corpus.
pub fn corpus(file_name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/pcap")
        .join(file_name)
}

/// Returns the path of a file in the corpus folder above the captures.
pub fn corpus_root(file_name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus")
        .join(file_name)
}

/// An owned copy of one delivered packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub timestamp_ns: u64,
    pub wire_len: u32,
    pub data: Vec<u8>,
    pub link_type: u16,
    pub port: u16,
}

impl Packet {
    /// Copies a delivered view.
    pub fn from_view(view: &PacketView<'_>) -> Packet {
        Packet {
            timestamp_ns: view.timestamp_ns,
            wire_len: view.wire_len_bytes,
            data: view.data.to_vec(),
            link_type: view.link_type.0,
            port: view.port,
        }
    }
}

/// Everything a source delivered until its end or its first error.
pub struct ReadResult {
    pub packets: Vec<Packet>,
    pub error: Option<SourceError>,
    pub batches: usize,
}

/// Reads `source` until `End` or an error, checking the batch contract on the way.
pub fn read_all<S: PacketSource>(source: &mut S) -> ReadResult {
    let mut packets = Vec::new();
    let mut batches = 0;
    loop {
        let mut delivered = 0;
        let status = source.next_batch(|batch| {
            delivered = batch.len();
            packets.extend(batch.iter().map(Packet::from_view));
        });
        match status {
            Ok(BatchStatus::Packets(count)) => {
                assert!(
                    count > 0,
                    "{}: a Packets batch must hold at least one packet",
                    source.name()
                );
                assert_eq!(
                    count,
                    delivered,
                    "{}: Packets({count}) but the closure saw {delivered}",
                    source.name()
                );
                batches += 1;
            }
            Ok(BatchStatus::Idle) => panic!("{}: a capture file never returns Idle", source.name()),
            Ok(BatchStatus::End) => {
                assert_eq!(
                    delivered,
                    0,
                    "{}: End must not call the closure",
                    source.name()
                );
                return ReadResult {
                    packets,
                    error: None,
                    batches,
                };
            }
            Err(error) => {
                assert_eq!(
                    delivered,
                    0,
                    "{}: an error must not call the closure",
                    source.name()
                );
                return ReadResult {
                    packets,
                    error: Some(error),
                    batches,
                };
            }
        }
    }
}

/// Writes `bytes` to a new file in the test's temporary folder.
pub fn temp_file(stem: &str, bytes: &[u8]) -> PathBuf {
    static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let path = temp_path(&format!("{}-{id}-{stem}", std::process::id()));
    std::fs::write(&path, bytes).expect("write a temporary capture file");
    path
}

/// Returns a path in the test's temporary folder.
pub fn temp_path(file_name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(file_name)
}

/// Returns the offset, packet number and reason of a `SourceError::Corrupt`,
/// and panics on any other error.
pub fn corrupt_fields(error: &SourceError) -> (u64, u64, &str) {
    match error {
        SourceError::Corrupt {
            offset_bytes,
            packet_number,
            reason,
            ..
        } => (*offset_bytes, *packet_number, reason.as_str()),
        other => panic!("expected a Corrupt error, got: {other}"),
    }
}

/// Writes integers in one byte order.
#[derive(Clone, Copy)]
pub struct Writer {
    pub big_endian: bool,
}

impl Writer {
    pub const LITTLE: Writer = Writer { big_endian: false };
    pub const BIG: Writer = Writer { big_endian: true };

    pub fn u16(self, out: &mut Vec<u8>, value: u16) {
        out.extend_from_slice(&if self.big_endian {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        });
    }

    pub fn u32(self, out: &mut Vec<u8>, value: u32) {
        out.extend_from_slice(&if self.big_endian {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        });
    }

    pub fn i64(self, out: &mut Vec<u8>, value: i64) {
        out.extend_from_slice(&if self.big_endian {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        });
    }

    /// Builds a pcap file header.
    pub fn pcap_header(
        self,
        magic: u32,
        version: (u16, u16),
        snaplen: u32,
        link_type_field: u32,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        self.u32(&mut out, magic);
        self.u16(&mut out, version.0);
        self.u16(&mut out, version.1);
        self.u32(&mut out, 0);
        self.u32(&mut out, 0);
        self.u32(&mut out, snaplen);
        self.u32(&mut out, link_type_field);
        out
    }

    /// Builds a standard pcap record with the two length fields as given.
    pub fn pcap_record(
        self,
        seconds: u32,
        fraction: u32,
        first_len: u32,
        second_len: u32,
        data: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        self.u32(&mut out, seconds);
        self.u32(&mut out, fraction);
        self.u32(&mut out, first_len);
        self.u32(&mut out, second_len);
        out.extend_from_slice(data);
        out
    }

    /// Builds a pcapng block with the body padded to 4 bytes and both lengths set.
    pub fn block(self, block_type: u32, body: &[u8]) -> Vec<u8> {
        let padded_len = body.len().next_multiple_of(4);
        let total = (12 + padded_len) as u32;
        let mut out = Vec::new();
        self.u32(&mut out, block_type);
        self.u32(&mut out, total);
        out.extend_from_slice(body);
        out.resize(8 + padded_len, 0);
        self.u32(&mut out, total);
        out
    }

    /// Builds a section header block of version 1.0 with an unknown section length.
    pub fn section_header(self) -> Vec<u8> {
        let mut body = Vec::new();
        self.u32(&mut body, 0x1a2b_3c4d);
        self.u16(&mut body, 1);
        self.u16(&mut body, 0);
        self.i64(&mut body, -1);
        self.block(0x0a0d_0d0a, &body)
    }

    /// Builds an interface description block with options given as (code, value).
    pub fn interface(self, link_type: u16, snaplen: u32, options: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        self.u16(&mut body, link_type);
        self.u16(&mut body, 0);
        self.u32(&mut body, snaplen);
        if !options.is_empty() {
            for (code, value) in options {
                self.u16(&mut body, *code);
                self.u16(&mut body, value.len() as u16);
                body.extend_from_slice(value);
                body.resize(body.len().next_multiple_of(4), 0);
            }
            self.u32(&mut body, 0);
        }
        self.block(1, &body)
    }

    /// Builds an enhanced packet block with a timestamp in interface units.
    pub fn enhanced_packet(
        self,
        interface_id: u32,
        units: u64,
        wire_len: u32,
        data: &[u8],
    ) -> Vec<u8> {
        let mut body = Vec::new();
        self.u32(&mut body, interface_id);
        self.u32(&mut body, (units >> 32) as u32);
        self.u32(&mut body, units as u32);
        self.u32(&mut body, data.len() as u32);
        self.u32(&mut body, wire_len);
        body.extend_from_slice(data);
        self.block(6, &body)
    }

    /// Builds an obsolete packet block (type 2).
    pub fn obsolete_packet(
        self,
        interface_id: u16,
        units: u64,
        wire_len: u32,
        data: &[u8],
    ) -> Vec<u8> {
        let mut body = Vec::new();
        self.u16(&mut body, interface_id);
        self.u16(&mut body, 0);
        self.u32(&mut body, (units >> 32) as u32);
        self.u32(&mut body, units as u32);
        self.u32(&mut body, data.len() as u32);
        self.u32(&mut body, wire_len);
        body.extend_from_slice(data);
        self.block(2, &body)
    }

    /// Builds a simple packet block.
    pub fn simple_packet(self, wire_len: u32, data: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        self.u32(&mut body, wire_len);
        body.extend_from_slice(data);
        self.block(3, &body)
    }
}

/// Builds a frame of `len` bytes that count up from `seed`, so frames differ.
pub fn frame(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| seed.wrapping_add(i as u8)).collect()
}

/// Concatenates byte parts.
pub fn concat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}
