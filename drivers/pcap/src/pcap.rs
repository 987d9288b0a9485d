//! Classic pcap: the 24-byte file header and the packet records after it.
//!
//! The layout follows the pcap-savefile(5) manual page of libpcap and the
//! IETF draft "PCAP Capture File Format" (draft-ietf-opsawg-pcap).

use naudit_engine::LinkType;

use crate::endian::ByteOrder;
use crate::records::{without_fcs, HeaderError, Next, PacketRecord, MAX_CAPTURED_LEN_BYTES};

/// Length of the pcap file header.
pub(crate) const FILE_HEADER_LEN: usize = 24;

/// Magic of the standard format with microsecond timestamps.
const MAGIC_MICROSECONDS: u32 = 0xa1b2_c3d4;
/// Magic of the standard format with nanosecond timestamps.
const MAGIC_NANOSECONDS: u32 = 0xa1b2_3c4d;
/// Magic of Alexey Kuznetzov's modified format, which libpcap also reads: its
/// record headers carry 8 more bytes (interface index, protocol, packet type).
const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

/// Record header length of the standard format.
const RECORD_HEADER_LEN: usize = 16;
/// Record header length of the modified format.
const MODIFIED_RECORD_HEADER_LEN: usize = 24;

/// Bit 26 of the header's link-type field: set when the FCS length is valid.
const FCS_LENGTH_PRESENT: u32 = 0x0400_0000;

/// Returns the byte order of a pcap file from its first four bytes, or `None`
/// when they are not a pcap magic.
pub(crate) fn byte_order_of_magic(first_four: [u8; 4]) -> Option<ByteOrder> {
    let known = [MAGIC_MICROSECONDS, MAGIC_NANOSECONDS, MAGIC_MODIFIED];
    if known.contains(&u32::from_le_bytes(first_four)) {
        Some(ByteOrder::Little)
    } else if known.contains(&u32::from_be_bytes(first_four)) {
        Some(ByteOrder::Big)
    } else {
        None
    }
}

/// Unit of the fraction field of a record timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolution {
    Microseconds,
    Nanoseconds,
}

impl Resolution {
    fn nanoseconds_per_unit(self) -> u64 {
        match self {
            Resolution::Microseconds => 1_000,
            Resolution::Nanoseconds => 1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Resolution::Microseconds => "microseconds",
            Resolution::Nanoseconds => "nanoseconds",
        }
    }
}

/// Order of the captured-length and wire-length fields in record headers.
///
/// Version 2.3 of the format swapped the two fields. libpcap therefore swaps
/// them back for files of versions 2.0 to 2.2 and for DG/UX tcpdump's 543.0.
/// Some 2.3 files were written in the old order, so for 2.3 it swaps them
/// only when the captured length exceeds the wire length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LengthOrder {
    CapturedFirst,
    WireFirst,
    WireFirstIfCapturedExceedsWire,
}

/// Byte order, timestamp unit and link type of a classic pcap file whose
/// records need nothing but their header: the captured length comes first
/// and no FCS is cut. The mapped reader walks such records directly. For
/// every record that [`PcapFastLayout::packet`] rejects it calls the
/// general parser, which reports errors as before.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PcapFastLayout {
    order: ByteOrder,
    nanoseconds_per_unit: u64,
    link_type: LinkType,
}

impl PcapFastLayout {
    /// Length of a classic pcap record header.
    const HEADER_LEN: usize = 16;

    /// Returns the packet record at the start of `bytes` when the record is
    /// whole and its captured length within the limit.
    #[inline(always)]
    pub(crate) fn packet(&self, bytes: &[u8]) -> Option<PacketRecord> {
        let header: &[u8; Self::HEADER_LEN] = bytes.get(..Self::HEADER_LEN)?.try_into().ok()?;
        let word = |at: usize| {
            let raw = [header[at], header[at + 1], header[at + 2], header[at + 3]];
            match self.order {
                ByteOrder::Little => u32::from_le_bytes(raw),
                ByteOrder::Big => u32::from_be_bytes(raw),
            }
        };
        let captured_len = word(8);
        if captured_len > MAX_CAPTURED_LEN_BYTES {
            return None;
        }
        let record_len = Self::HEADER_LEN + captured_len as usize;
        if bytes.len() < record_len {
            return None;
        }
        Some(PacketRecord {
            record_len,
            data_start: Self::HEADER_LEN,
            captured_len: captured_len as usize,
            wire_len: word(12),
            timestamp_ns: u64::from(word(0)) * 1_000_000_000 + u64::from(word(4)) * self.nanoseconds_per_unit,
            link_type: self.link_type,
            port: 0,
        })
    }
}

/// Parser state of one pcap file: the facts of its file header.
#[derive(Clone, Debug)]
pub(crate) struct PcapParser {
    order: ByteOrder,
    resolution: Resolution,
    record_header_len: usize,
    lengths: LengthOrder,
    link_type: LinkType,
    /// FCS bytes at the end of every packet, when the header states it.
    /// Packets are delivered without them, in the data and the wire length.
    fcs_len_bytes: Option<u8>,
    snaplen: u32,
    version: (u16, u16),
}

impl PcapParser {
    /// Returns the layout for walking this file's records directly, when
    /// they need nothing but the record header (no length swap, no FCS).
    pub(crate) fn fast_layout(&self) -> Option<PcapFastLayout> {
        let plain = self.lengths == LengthOrder::CapturedFirst
            && self.fcs_len_bytes.unwrap_or(0) == 0
            && self.record_header_len == PcapFastLayout::HEADER_LEN;
        plain.then_some(PcapFastLayout {
            order: self.order,
            nanoseconds_per_unit: self.resolution.nanoseconds_per_unit(),
            link_type: self.link_type,
        })
    }

    /// Parses the file header at the start of `bytes`.
    pub(crate) fn from_file_header(bytes: &[u8]) -> Result<PcapParser, HeaderError> {
        let cut_short = HeaderError::CutShort {
            needed: FILE_HEADER_LEN,
            record_name: "pcap file header",
        };
        let Some(first_four) = bytes
            .get(..4)
            .and_then(|magic| <[u8; 4]>::try_from(magic).ok())
        else {
            return Err(cut_short);
        };
        let Some(order) = byte_order_of_magic(first_four) else {
            return Err(HeaderError::Unsupported(format!(
                "{first_four:02x?} is not a pcap magic number"
            )));
        };
        let Some(header) = FileHeader::read(order, bytes) else {
            return Err(cut_short);
        };

        let (major, minor) = (header.version_major, header.version_minor);
        let lengths = match (major, minor) {
            (2, 0..=2) | (543, 0) => LengthOrder::WireFirst,
            (2, 3) => LengthOrder::WireFirstIfCapturedExceedsWire,
            (2, 4) => LengthOrder::CapturedFirst,
            _ => {
                return Err(HeaderError::Unsupported(format!(
                    "pcap version {major}.{minor} is not supported (versions 2.0 to 2.4 and 543.0 are read)"
                )))
            }
        };

        let (resolution, record_header_len) = match header.magic {
            MAGIC_NANOSECONDS => (Resolution::Nanoseconds, RECORD_HEADER_LEN),
            MAGIC_MODIFIED => (Resolution::Microseconds, MODIFIED_RECORD_HEADER_LEN),
            _ => (Resolution::Microseconds, RECORD_HEADER_LEN),
        };

        // The low 16 bits are the link type. The upper bits may carry the
        // FCS length, counted in 16-bit words, which is valid only when the
        // P bit (bit 26) is set. Bits 16 to 25 and 27 are reserved.
        let link_type = LinkType(header.link_type_field as u16).normalized();
        let fcs_len_bytes = (header.link_type_field & FCS_LENGTH_PRESENT != 0)
            .then(|| ((header.link_type_field >> 28) as u8) * 2);

        Ok(PcapParser {
            order,
            resolution,
            record_header_len,
            lengths,
            link_type,
            fcs_len_bytes,
            snaplen: header.snaplen,
            version: (major, minor),
        })
    }

    /// Logs the facts of the file header when the input is opened.
    pub(crate) fn log_opened(&self, input: &str) {
        tracing::info!(
            input,
            format = "pcap",
            version = %format_args!("{}.{}", self.version.0, self.version.1),
            byte_order = %self.order,
            link_type = self.link_type.0,
            snaplen = self.snaplen,
            timestamps = self.resolution.name(),
            record_header_bytes = self.record_header_len,
            fcs_bytes = ?self.fcs_len_bytes,
            "opened capture file"
        );
    }

    /// Parses the packet record at the start of `bytes`.
    ///
    /// A fraction field of a million microseconds (or a billion nanoseconds)
    /// or more is not rejected. It is converted and added to the seconds, as
    /// libpcap passes it on unchanged.
    #[inline]
    pub(crate) fn next(&mut self, bytes: &[u8]) -> Next {
        let header_len = self.record_header_len;
        let header = match RecordHeader::read(self.order, bytes) {
            Some(header) if bytes.len() >= header_len => header,
            _ => {
                return Next::NeedMore {
                    needed: header_len,
                    record_name: "pcap record header",
                }
            }
        };

        let swap = match self.lengths {
            LengthOrder::CapturedFirst => false,
            LengthOrder::WireFirst => true,
            LengthOrder::WireFirstIfCapturedExceedsWire => header.first_len > header.second_len,
        };
        let (captured_len, wire_len) = if swap {
            (header.second_len, header.first_len)
        } else {
            (header.first_len, header.second_len)
        };

        if captured_len > MAX_CAPTURED_LEN_BYTES {
            return Next::Corrupt(format!(
                "pcap record has a captured length of {captured_len} bytes, above the maximum of {MAX_CAPTURED_LEN_BYTES}"
            ));
        }
        let record_len = header_len + captured_len as usize;
        if bytes.len() < record_len {
            return Next::NeedMore {
                needed: record_len,
                record_name: "pcap record",
            };
        }

        let timestamp_ns = u64::from(header.seconds) * 1_000_000_000
            + u64::from(header.fraction) * self.resolution.nanoseconds_per_unit();
        let fcs_len_bytes = u32::from(self.fcs_len_bytes.unwrap_or(0));
        let (captured_len, wire_len) = without_fcs(captured_len as usize, wire_len, fcs_len_bytes);
        Next::Packet(PacketRecord {
            record_len,
            data_start: header_len,
            captured_len,
            wire_len,
            timestamp_ns,
            link_type: self.link_type,
            port: 0,
        })
    }
}

/// The fields of the pcap file header after the magic.
struct FileHeader {
    magic: u32,
    version_major: u16,
    version_minor: u16,
    snaplen: u32,
    link_type_field: u32,
}

impl FileHeader {
    /// Reads the header, or returns `None` when `bytes` is shorter than it.
    /// The time zone and accuracy fields (offsets 8 and 12) are ignored, as
    /// libpcap ignores them.
    fn read(order: ByteOrder, bytes: &[u8]) -> Option<FileHeader> {
        Some(FileHeader {
            magic: order.read_u32(bytes, 0)?,
            version_major: order.read_u16(bytes, 4)?,
            version_minor: order.read_u16(bytes, 6)?,
            snaplen: order.read_u32(bytes, 16)?,
            link_type_field: order.read_u32(bytes, 20)?,
        })
    }
}

/// The first 16 bytes of a record header, as written.
struct RecordHeader {
    seconds: u32,
    fraction: u32,
    first_len: u32,
    second_len: u32,
}

impl RecordHeader {
    fn read(order: ByteOrder, bytes: &[u8]) -> Option<RecordHeader> {
        Some(RecordHeader {
            seconds: order.read_u32(bytes, 0)?,
            fraction: order.read_u32(bytes, 4)?,
            first_len: order.read_u32(bytes, 8)?,
            second_len: order.read_u32(bytes, 12)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(big_endian: bool, magic: u32, version: (u16, u16), link_type_field: u32) -> Vec<u8> {
        // Time zone, timestamp accuracy, snaplen and link-type field.
        let fields: [u32; 4] = [0, 0, 65_535, link_type_field];
        let mut out = Vec::new();
        if big_endian {
            out.extend(magic.to_be_bytes());
            out.extend(version.0.to_be_bytes());
            out.extend(version.1.to_be_bytes());
            fields
                .iter()
                .for_each(|field| out.extend(field.to_be_bytes()));
        } else {
            out.extend(magic.to_le_bytes());
            out.extend(version.0.to_le_bytes());
            out.extend(version.1.to_le_bytes());
            fields
                .iter()
                .for_each(|field| out.extend(field.to_le_bytes()));
        }
        out
    }

    fn record(fields: [u32; 4], data_len: usize) -> Vec<u8> {
        let mut out: Vec<u8> = fields
            .iter()
            .flat_map(|field| field.to_le_bytes())
            .collect();
        out.resize(out.len() + data_len, 0xab);
        out
    }

    fn parser(version: (u16, u16)) -> PcapParser {
        PcapParser::from_file_header(&header(false, MAGIC_MICROSECONDS, version, 1))
            .expect("valid header")
    }

    #[test]
    fn header_reads_both_byte_orders() {
        let little =
            PcapParser::from_file_header(&header(false, MAGIC_MICROSECONDS, (2, 4), 1)).unwrap();
        assert_eq!(little.order, ByteOrder::Little);
        assert_eq!(little.resolution, Resolution::Microseconds);
        assert_eq!(little.snaplen, 65_535);
        let big =
            PcapParser::from_file_header(&header(true, MAGIC_NANOSECONDS, (2, 4), 113)).unwrap();
        assert_eq!(big.order, ByteOrder::Big);
        assert_eq!(big.resolution, Resolution::Nanoseconds);
        assert_eq!(big.link_type, LinkType::LINUX_SLL);
        assert_eq!(big.record_header_len, RECORD_HEADER_LEN);
    }

    #[test]
    fn modified_magic_has_longer_record_headers() {
        let mut parser =
            PcapParser::from_file_header(&header(false, MAGIC_MODIFIED, (2, 4), 1)).unwrap();
        assert_eq!(parser.record_header_len, 24);
        let mut bytes = record([10, 5, 4, 60], 8);
        bytes.splice(16..16, [0u8; 8]);
        let Next::Packet(packet) = parser.next(&bytes[..28]) else {
            panic!("expected a packet");
        };
        assert_eq!(
            (packet.record_len, packet.data_start, packet.captured_len),
            (28, 24, 4)
        );
        assert_eq!(packet.timestamp_ns, 10_000_005_000);
    }

    #[test]
    fn link_type_field_keeps_fcs_length() {
        // FCS length of 2 words (4 bytes) with the P bit set.
        let with_fcs =
            PcapParser::from_file_header(&header(false, MAGIC_MICROSECONDS, (2, 4), 0x2400_0001))
                .unwrap();
        assert_eq!(with_fcs.link_type, LinkType::ETHERNET);
        assert_eq!(with_fcs.fcs_len_bytes, Some(4));
        // Without the P bit the same length bits are not valid.
        let without_p =
            PcapParser::from_file_header(&header(false, MAGIC_MICROSECONDS, (2, 4), 0x2000_0001))
                .unwrap();
        assert_eq!(without_p.link_type, LinkType::ETHERNET);
        assert_eq!(without_p.fcs_len_bytes, None);
    }

    #[test]
    fn fcs_is_cut_from_packets() {
        let mut parser =
            PcapParser::from_file_header(&header(false, MAGIC_MICROSECONDS, (2, 4), 0x2400_0001))
                .unwrap();
        let whole = record([1, 0, 64, 64], 64);
        let Next::Packet(packet) = parser.next(&whole) else {
            panic!("expected a packet");
        };
        assert_eq!(
            (packet.record_len, packet.captured_len, packet.wire_len),
            (80, 60, 60)
        );
        // Cut by the snapshot length before the FCS: only the wire length
        // loses it.
        let sliced = record([1, 0, 40, 64], 40);
        let Next::Packet(packet) = parser.next(&sliced) else {
            panic!("expected a packet");
        };
        assert_eq!(
            (packet.record_len, packet.captured_len, packet.wire_len),
            (56, 40, 60)
        );
    }

    #[test]
    fn old_raw_link_types_are_normalized() {
        let parser =
            PcapParser::from_file_header(&header(false, MAGIC_MICROSECONDS, (2, 4), 12)).unwrap();
        assert_eq!(parser.link_type, LinkType::RAW);
    }

    #[test]
    fn unsupported_versions_are_rejected() {
        for version in [(1, 0), (2, 5), (3, 0), (543, 1)] {
            let result =
                PcapParser::from_file_header(&header(false, MAGIC_MICROSECONDS, version, 1));
            let Err(HeaderError::Unsupported(description)) = result else {
                panic!("version {version:?} must be unsupported");
            };
            assert!(
                description.contains(&format!("{}.{}", version.0, version.1)),
                "{description}"
            );
        }
    }

    #[test]
    fn short_header_is_cut_short() {
        let bytes = header(false, MAGIC_MICROSECONDS, (2, 4), 1);
        let result = PcapParser::from_file_header(&bytes[..20]);
        assert_eq!(
            result.err(),
            Some(HeaderError::CutShort {
                needed: FILE_HEADER_LEN,
                record_name: "pcap file header"
            })
        );
    }

    #[test]
    fn length_order_follows_version() {
        // Written as (captured, wire) = (60, 40) in fields 3 and 4.
        let bytes = record([1, 0, 60, 40], 60);
        let lengths = |version| match parser(version).next(&bytes) {
            Next::Packet(packet) => (packet.captured_len, packet.wire_len),
            other => panic!("{version:?}: {other:?}"),
        };
        assert_eq!(lengths((2, 4)), (60, 40), "2.4 keeps the order");
        assert_eq!(lengths((2, 2)), (40, 60), "2.2 swaps");
        assert_eq!(lengths((2, 3)), (40, 60), "2.3 swaps when captured > wire");
        assert_eq!(lengths((543, 0)), (40, 60), "543.0 swaps");
        let in_order = record([1, 0, 40, 60], 40);
        let Next::Packet(packet) = parser((2, 3)).next(&in_order) else {
            panic!("expected a packet");
        };
        assert_eq!(
            (packet.captured_len, packet.wire_len),
            (40, 60),
            "2.3 keeps captured <= wire"
        );
    }

    #[test]
    fn incomplete_record_needs_more() {
        let mut parser = parser((2, 4));
        let bytes = record([1, 0, 100, 100], 100);
        assert_eq!(
            parser.next(&bytes[..15]),
            Next::NeedMore {
                needed: 16,
                record_name: "pcap record header"
            }
        );
        assert_eq!(
            parser.next(&bytes[..115]),
            Next::NeedMore {
                needed: 116,
                record_name: "pcap record"
            }
        );
        assert!(matches!(parser.next(&bytes), Next::Packet(_)));
    }

    #[test]
    fn captured_length_limit() {
        let mut parser = parser((2, 4));
        let at_limit = record([1, 0, MAX_CAPTURED_LEN_BYTES, MAX_CAPTURED_LEN_BYTES], 0);
        assert!(matches!(
            parser.next(&at_limit),
            Next::NeedMore {
                needed: 262_160,
                ..
            }
        ));
        let above = record([1, 0, MAX_CAPTURED_LEN_BYTES + 1, 70_000], 0);
        let Next::Corrupt(reason) = parser.next(&above) else {
            panic!("expected Corrupt");
        };
        assert!(reason.contains("262145"), "{reason}");
    }

    #[test]
    fn captured_length_above_snaplen_is_accepted() {
        // The header's snaplen is 65535; libpcap accepts larger records up
        // to its maximum because some writers set a wrong snaplen.
        let mut parser = parser((2, 4));
        let bytes = record([1, 0, 70_000, 70_000], 70_000);
        assert!(
            matches!(parser.next(&bytes), Next::Packet(packet) if packet.captured_len == 70_000)
        );
    }
}
