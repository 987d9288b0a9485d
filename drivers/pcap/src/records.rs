//! The record interface shared by the pcap, pcapng and ERF parsers and by the
//! readers that feed them (memory-mapped files, pipes, merged files).
//!
//! A parser looks at the bytes that start at the current record and returns
//! one [`Next`]: a packet, a record without a packet to skip, a request for
//! more bytes, or the reason the record is damaged. A parser changes its own
//! state only when it returns `Packet` or `Skip`, so a reader that gets
//! `NeedMore` can read more bytes and call it again on the same record.

use naudit_engine::{LinkType, PacketView, SourceCounters, SourceError};

use crate::erf::ErfParser;
use crate::pcap::{PcapFastLayout, PcapParser};
use crate::pcapng::PcapngParser;

/// Maximum captured length of one packet, in bytes. libpcap 1.10 rejects
/// records above this size as damaged, and so does this reader, whatever
/// snapshot length the file header gives.
pub const MAX_CAPTURED_LEN_BYTES: u32 = 262_144;

/// Hint for an input that ends inside a record.
pub(crate) const HINT_CUT_SHORT: &str =
    "so the capture was probably cut short while it was being written or copied";

/// Hint for a record whose fields are impossible or inconsistent.
pub(crate) const HINT_DAMAGED: &str =
    "but reading stopped at this damaged record (a repair tool such as pcapfix may recover more packets)";

/// A packet record found by a parser, located by offsets from the record's
/// first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PacketRecord {
    /// Length of the whole record, headers and padding included.
    pub record_len: usize,
    /// Offset of the first captured byte.
    pub data_start: usize,
    /// Number of captured bytes.
    pub captured_len: usize,
    pub wire_len: u32,
    pub timestamp_ns: u64,
    pub link_type: LinkType,
    pub port: u16,
}

impl PacketRecord {
    /// Builds the packet view over `record_bytes`, which start at the record.
    ///
    /// Panics if `record_bytes` is shorter than the record, which the parser
    /// that returned this record has already checked.
    #[inline]
    pub(crate) fn view<'a>(&self, record_bytes: &'a [u8]) -> PacketView<'a> {
        PacketView {
            timestamp_ns: self.timestamp_ns,
            wire_len_bytes: self.wire_len,
            data: &record_bytes[self.data_start..self.data_start + self.captured_len],
            link_type: self.link_type,
            port: self.port,
        }
    }
}

/// Outcome of parsing the record at the start of a byte slice.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// A packet.
    Packet(PacketRecord),
    /// A record of this many bytes that contains no packet, such as a pcapng
    /// section header or interface statistics. The parser has read it.
    Skip(usize),
    /// The record needs at least `needed` bytes from its start.
    NeedMore {
        needed: usize,
        record_name: &'static str,
    },
    /// The record is damaged, for the reason given.
    Corrupt(String),
    /// The record is well formed but uses something this reader does not read.
    Unsupported(String),
}

/// The parser for one input's format, with the state it keeps between records.
#[derive(Clone, Debug)]
pub(crate) enum RecordParser {
    Pcap(PcapParser),
    Pcapng(PcapngParser),
    Erf(ErfParser),
}

impl RecordParser {
    /// Returns the direct record layout of a classic pcap input, if it has one.
    pub(crate) fn fast_layout(&self) -> Option<PcapFastLayout> {
        match self {
            RecordParser::Pcap(parser) => parser.fast_layout(),
            RecordParser::Pcapng(_) | RecordParser::Erf(_) => None,
        }
    }

    /// Parses the record that starts at `bytes[0]`.
    #[inline]
    pub(crate) fn next(&mut self, bytes: &[u8]) -> Next {
        match self {
            RecordParser::Pcap(parser) => parser.next(bytes),
            RecordParser::Pcapng(parser) => parser.next(bytes),
            RecordParser::Erf(parser) => parser.next(bytes),
        }
    }
}

/// Returns the captured and wire lengths of a packet without the
/// `fcs_len_bytes` of FCS that end its frame, when the capture states that
/// the frames keep their FCS. nauditd counts frames without their FCS,
/// whether or not the capture kept it.
pub(crate) fn without_fcs(captured_len: usize, wire_len: u32, fcs_len_bytes: u32) -> (usize, u32) {
    if fcs_len_bytes == 0 {
        return (captured_len, wire_len);
    }
    let wire_len = wire_len.saturating_sub(fcs_len_bytes);
    (captured_len.min(wire_len as usize), wire_len)
}

/// Adds one delivered packet to `counters`.
pub(crate) fn count_packet(counters: &mut SourceCounters, packet: &PacketView<'_>) {
    counters.received_pkts += 1;
    if packet.is_truncated() {
        counters.truncated_pkts += 1;
    }
}

/// Builds the error for a record that the input ends inside of.
pub(crate) fn cut_short_error(
    input: &str,
    offset_bytes: u64,
    packet_number: u64,
    record_name: &str,
    needed: usize,
    available: usize,
) -> SourceError {
    SourceError::Corrupt {
        input: input.to_owned(),
        offset_bytes,
        packet_number,
        reason: format!(
            "{record_name} is cut short: it needs {needed} bytes, but the input ends {available} bytes after its start"
        ),
        hint: HINT_CUT_SHORT,
    }
}

/// Builds the error for a damaged record.
pub(crate) fn damaged_error(
    input: &str,
    offset_bytes: u64,
    packet_number: u64,
    reason: String,
) -> SourceError {
    SourceError::Corrupt {
        input: input.to_owned(),
        offset_bytes,
        packet_number,
        reason,
        hint: HINT_DAMAGED,
    }
}

/// Builds the error for a record that uses something this reader does not read.
pub(crate) fn unsupported_error(
    input: &str,
    offset_bytes: u64,
    description: String,
) -> SourceError {
    SourceError::Unsupported {
        input: input.to_owned(),
        what: format!(
            "{description}, found at byte offset {offset_bytes} after the packets before it were read"
        ),
    }
}

/// Failure to read a file header.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// The input ends before the header does.
    CutShort {
        needed: usize,
        record_name: &'static str,
    },
    /// The header is valid but names something this reader does not read.
    Unsupported(String),
}
