//! ERF files (Endace Extensible Record Format): a sequence of ERF records
//! with no file header.
//!
//! The record header is read by the engine's ERF decoder
//! ([`naudit_engine::decode::erf`]), the same one that reads ERF records in
//! pcap files of link type 197. A record of a type the engine walks becomes
//! a packet of that type's link type (Ethernet, PPP in HDLC framing, raw
//! IPv4 or IPv6) without the ERF header, so filters and decoders see an
//! ordinary frame. A record of another type becomes a packet of link type
//! 197 holding the whole record, which the engine counts as an unsupported
//! link type. Padding and metadata records are skipped.
//!
//! An ERF file has no magic number, so [`probe`] recognizes one by checking
//! that its first records are consistent.

use naudit_engine::decode::erf::{record_type, ErfPayload, ErfRecord, HEADER_LEN};
use naudit_engine::LinkType;

use crate::records::{Next, PacketRecord};

/// Records that [`probe`] checks before it calls an input an ERF file.
const PROBE_RECORDS: usize = 4;

/// Outcome of [`probe`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    /// The first records are valid ERF records.
    Erf,
    /// The input is not an ERF file, for the reason given.
    NotErf(String),
    /// The check needs this many bytes from the start of the input.
    NeedMore(usize),
}

/// Checks whether `bytes`, the start of an input, are ERF records. The
/// first [`PROBE_RECORDS`] records (or all, when the input has fewer) must
/// have an assigned record type, a record length that covers their headers
/// and timestamps that do not go backwards. One of them must be more than
/// padding. `input_ends` is true when `bytes` is the whole input.
pub(crate) fn probe(bytes: &[u8], input_ends: bool) -> Probe {
    let mut offset = 0;
    let mut last_timestamp_ns = 0;
    let mut has_non_pad = false;
    for index in 0..PROBE_RECORDS {
        let rest = &bytes[offset..];
        if rest.is_empty() && input_ends && index > 0 {
            break;
        }
        if rest.len() < HEADER_LEN {
            if input_ends && index > 0 {
                // The input is cut inside a later record header, which the
                // reader reports as damage.
                break;
            }
            if input_ends {
                return Probe::NotErf(format!(
                    "record {} has no complete 16-byte ERF header",
                    index + 1
                ));
            }
            return Probe::NeedMore(offset + HEADER_LEN);
        }
        if let Some(reason) = check_header(rest) {
            return Probe::NotErf(format!("record {}: {reason}", index + 1));
        }
        let record_len = usize::from(u16::from_be_bytes([rest[10], rest[11]]));
        if rest.len() < record_len {
            if input_ends {
                // The input is cut inside this record, whose valid header
                // still counts. The reader reports the cut as damage.
                has_non_pad |= rest[8] & 0x7f != record_type::PAD;
                break;
            }
            return Probe::NeedMore(offset + record_len);
        }
        let record = match ErfRecord::new(&rest[..record_len]) {
            Ok(record) => record,
            Err(error) => return Probe::NotErf(format!("record {}: {error}", index + 1)),
        };
        if record.timestamp_ns() < last_timestamp_ns {
            return Probe::NotErf(format!(
                "record {} is older than the record before it",
                index + 1
            ));
        }
        last_timestamp_ns = record.timestamp_ns();
        has_non_pad |= record.record_type() != record_type::PAD;
        offset += record_len;
    }
    if has_non_pad {
        Probe::Erf
    } else {
        Probe::NotErf("the first records are all padding".to_owned())
    }
}

/// Returns the reason the record header at the start of `bytes` is invalid,
/// or `None`. `bytes` contains at least [`HEADER_LEN`] bytes.
fn check_header(bytes: &[u8]) -> Option<String> {
    let kind = bytes[8] & 0x7f;
    if !record_type::is_assigned(kind) {
        return Some(format!("record type {kind} is not an ERF record type"));
    }
    let record_len = u16::from_be_bytes([bytes[10], bytes[11]]);
    if usize::from(record_len) < HEADER_LEN {
        return Some(format!(
            "the record length (rlen) is {record_len} bytes, shorter than the 16-byte header"
        ));
    }
    None
}

/// Parser state of one ERF input.
#[derive(Clone, Debug, Default)]
pub(crate) struct ErfParser {
    /// Records read so far, packets or not.
    records_read: u64,
}

impl ErfParser {
    pub(crate) fn new() -> ErfParser {
        ErfParser::default()
    }

    /// Logs the opening of an ERF input.
    pub(crate) fn log_opened(input: &str) {
        tracing::info!(input, format = "erf", "opened capture file");
    }

    /// Parses the ERF record at the start of `bytes`.
    pub(crate) fn next(&mut self, bytes: &[u8]) -> Next {
        let number = self.records_read + 1;
        if bytes.len() < HEADER_LEN {
            return Next::NeedMore {
                needed: HEADER_LEN,
                record_name: "ERF record header",
            };
        }
        if let Some(reason) = check_header(bytes) {
            return Next::Corrupt(format!("ERF record {number} is damaged: {reason}"));
        }
        let record_len = usize::from(u16::from_be_bytes([bytes[10], bytes[11]]));
        let Some(record_bytes) = bytes.get(..record_len) else {
            return Next::NeedMore {
                needed: record_len,
                record_name: "ERF record",
            };
        };
        let record = match ErfRecord::new(record_bytes) {
            Ok(record) => record,
            Err(error) => {
                return Next::Corrupt(format!(
                    "ERF record {number} is damaged: its extension headers do not fit its record length of {record_len} bytes ({error})"
                ))
            }
        };
        let payload = match record.payload() {
            Ok(payload) => payload,
            Err(error) => {
                return Next::Corrupt(format!(
                    "ERF record {number} of type {} is damaged: its record length of {record_len} bytes is too short for its frame ({error})",
                    record.record_type()
                ))
            }
        };
        self.records_read += 1;

        let timestamp_ns = record.timestamp_ns();
        let port = u16::from(record.interface());
        match payload {
            ErfPayload::Frame {
                link_type,
                frame,
                wire_len_bytes,
            } => Next::Packet(PacketRecord {
                record_len,
                data_start: frame_offset(record_bytes, frame),
                captured_len: frame.len(),
                wire_len: wire_len_bytes,
                timestamp_ns,
                link_type,
                port,
            }),
            ErfPayload::NoPacket => Next::Skip(record_len),
            ErfPayload::Unsupported(kind) => {
                tracing::debug!(
                    record = number,
                    record_type = kind,
                    "ERF record of a type that is not decoded"
                );
                Next::Packet(PacketRecord {
                    record_len,
                    data_start: 0,
                    captured_len: record_len,
                    wire_len: (record.headers_len() as u32) + u32::from(record.wire_len()),
                    timestamp_ns,
                    link_type: LinkType::ERF,
                    port,
                })
            }
        }
    }
}

/// Offset of `frame`, a slice of `record`, from the start of `record`.
fn frame_offset(record: &[u8], frame: &[u8]) -> usize {
    frame.as_ptr() as usize - record.as_ptr() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet ERF record with `frame_len` bytes of frame at `seconds`.
    fn eth_record(seconds: u32, frame_len: usize) -> Vec<u8> {
        let record_len = (HEADER_LEN + 2 + frame_len) as u16;
        let mut out = (u64::from(seconds) << 32).to_le_bytes().to_vec();
        out.extend([record_type::ETH, 0x02]);
        out.extend(record_len.to_be_bytes());
        out.extend(0u16.to_be_bytes());
        out.extend(((frame_len + 4) as u16).to_be_bytes());
        out.extend([0, 0]);
        out.extend(std::iter::repeat(0x11).take(frame_len));
        out
    }

    fn pad_record() -> Vec<u8> {
        let mut out = vec![0; 8];
        out.extend([record_type::PAD, 0, 0, 24, 0, 0, 0, 0]);
        out.extend([0; 8]);
        out
    }

    #[test]
    fn probe_accepts_consistent_records() {
        let mut bytes = eth_record(10, 60);
        bytes.extend(eth_record(11, 70));
        assert_eq!(probe(&bytes, true), Probe::Erf);
        assert_eq!(probe(&bytes[..100], false), Probe::NeedMore(78 + 88));
        // A file cut inside a record is still ERF, and the reader reports
        // the cut; fewer than 16 bytes are not.
        assert_eq!(probe(&bytes[..100], true), Probe::Erf);
        assert_eq!(probe(&bytes[..40], true), Probe::Erf);
        assert!(matches!(probe(&bytes[..15], true), Probe::NotErf(_)));
    }

    #[test]
    fn probe_rejects_other_inputs() {
        let text = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n".to_vec();
        assert!(
            matches!(probe(&text, true), Probe::NotErf(reason) if reason.contains("record type"))
        );
        let mut backwards = eth_record(11, 60);
        backwards.extend(eth_record(10, 60));
        assert!(
            matches!(probe(&backwards, true), Probe::NotErf(reason) if reason.contains("older"))
        );
        let mut padding = pad_record();
        padding.extend(pad_record());
        assert!(
            matches!(probe(&padding, true), Probe::NotErf(reason) if reason.contains("padding"))
        );
        assert!(matches!(probe(&[0; 40], true), Probe::NotErf(_)));
    }

    #[test]
    fn ethernet_record_becomes_ethernet_packet() {
        let bytes = eth_record(5, 60);
        let mut parser = ErfParser::new();
        let Next::Packet(packet) = parser.next(&bytes) else {
            panic!("expected a packet");
        };
        assert_eq!(packet.record_len, 78);
        assert_eq!(packet.data_start, 18);
        assert_eq!(packet.captured_len, 60);
        assert_eq!(packet.wire_len, 60);
        assert_eq!(packet.timestamp_ns, 5_000_000_000);
        assert_eq!(packet.link_type, LinkType::ETHERNET);
        assert_eq!(packet.port, 2);
    }

    #[test]
    fn padding_is_skipped_and_other_types_stay_erf() {
        let mut parser = ErfParser::new();
        assert_eq!(parser.next(&pad_record()), Next::Skip(24));
        // An ATM cell record (type 3), which nauditd does not decode.
        let mut atm = vec![0; 8];
        atm.extend([3, 0, 0, 68, 0, 0, 0, 52]);
        atm.extend([0; 52]);
        let Next::Packet(packet) = parser.next(&atm) else {
            panic!("expected a packet");
        };
        assert_eq!(packet.link_type, LinkType::ERF);
        assert_eq!(
            (packet.data_start, packet.captured_len, packet.wire_len),
            (0, 68, 68)
        );
    }

    #[test]
    fn damaged_records_name_the_record() {
        let mut parser = ErfParser::new();
        let good = eth_record(1, 60);
        assert!(matches!(parser.next(&good), Next::Packet(_)));
        let mut short = eth_record(2, 60);
        short[10..12].copy_from_slice(&8u16.to_be_bytes());
        let Next::Corrupt(reason) = parser.next(&short) else {
            panic!("expected Corrupt");
        };
        assert!(reason.contains("ERF record 2"), "{reason}");
        assert!(reason.contains("rlen"), "{reason}");
        let mut unknown = eth_record(2, 60);
        unknown[8] = 99;
        assert!(
            matches!(parser.next(&unknown), Next::Corrupt(reason) if reason.contains("type 99"))
        );
        assert_eq!(
            parser.next(&good[..40]),
            Next::NeedMore {
                needed: 78,
                record_name: "ERF record"
            }
        );
    }
}
