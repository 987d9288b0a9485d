//! pcapng: sections, interface descriptions and the three packet blocks.
//!
//! The layout follows the IETF draft "PCAP Now Generic (pcapng) Capture File
//! Format" (draft-ietf-opsawg-pcapng). Every block starts with its type and
//! total length and ends with the total length again, so blocks this reader
//! does not use (name resolution, interface statistics, decryption secrets,
//! custom and unknown blocks) are skipped by their length.

use crate::endian::ByteOrder;
use crate::interface::Interface;
use crate::records::{without_fcs, Next, PacketRecord, MAX_CAPTURED_LEN_BYTES};

/// Type of the section header block, the same in both byte orders.
pub(crate) const SECTION_HEADER_TYPE_BYTES: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

const BLOCK_SECTION_HEADER: u32 = 0x0a0d_0d0a;
const BLOCK_INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
const BLOCK_PACKET_OBSOLETE: u32 = 0x0000_0002;
const BLOCK_SIMPLE_PACKET: u32 = 0x0000_0003;
const BLOCK_NAME_RESOLUTION: u32 = 0x0000_0004;
const BLOCK_INTERFACE_STATISTICS: u32 = 0x0000_0005;
const BLOCK_ENHANCED_PACKET: u32 = 0x0000_0006;
const BLOCK_DECRYPTION_SECRETS: u32 = 0x0000_000a;
const BLOCK_CUSTOM_COPYABLE: u32 = 0x0000_0bad;
const BLOCK_CUSTOM_NOT_COPYABLE: u32 = 0x4000_0bad;

/// Byte-order magic of a section header block, written in the section's order.
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// Length of a block with an empty body: type, length, trailing length.
const MIN_BLOCK_LEN: usize = 12;

/// Maximum length of one block, in bytes. It bounds the memory of the pipe
/// reader, which holds a whole block, when a damaged length field claims
/// gigabytes. A packet block needs at most 262,144 bytes of data plus its
/// options, so the limit leaves ample room for large name resolution and
/// custom blocks.
pub const MAX_BLOCK_LEN_BYTES: usize = 16 << 20;

/// Offset of the packet data in enhanced and obsolete packet blocks.
const TIMESTAMPED_PACKET_DATA_START: usize = 28;
/// Offset of the packet data in simple packet blocks.
const SIMPLE_PACKET_DATA_START: usize = 12;

/// Parser state of one pcapng input: the current section's byte order and
/// interfaces.
#[derive(Clone, Debug)]
pub(crate) struct PcapngParser {
    /// The input's name, for log lines.
    input: String,
    /// Byte order of the current section; `None` before the first section header.
    order: Option<ByteOrder>,
    /// Interfaces described so far in the current section, by interface id.
    interfaces: Vec<Interface>,
    /// Number of section headers read.
    sections: u64,
    /// Timestamp of the last packet, given to simple packet blocks.
    last_timestamp_ns: u64,
}

impl PcapngParser {
    pub(crate) fn new(input: &str) -> PcapngParser {
        PcapngParser {
            input: input.to_owned(),
            order: None,
            interfaces: Vec::new(),
            sections: 0,
            last_timestamp_ns: 0,
        }
    }

    /// Parses the block at the start of `bytes`.
    pub(crate) fn next(&mut self, bytes: &[u8]) -> Next {
        let Some(type_bytes) = bytes.get(..4) else {
            return need_block_header();
        };
        let order = if type_bytes == SECTION_HEADER_TYPE_BYTES {
            // A new section may change the byte order, so the order comes
            // from the byte-order magic after the block length.
            let Some(magic) = bytes.get(8..12) else {
                return need_block_header();
            };
            match byte_order_of_section_magic(magic) {
                Some(order) => order,
                None => {
                    return Next::Corrupt(format!(
                        "section header block has the byte-order magic {magic:02x?} instead of 1a2b3c4d in either byte order"
                    ))
                }
            }
        } else {
            match self.order {
                Some(order) => order,
                None => {
                    return Next::Corrupt(
                        "the first block is not a section header block".to_owned(),
                    )
                }
            }
        };

        let (Some(block_type), Some(block_len)) =
            (order.read_u32(bytes, 0), order.read_u32(bytes, 4))
        else {
            return need_block_header();
        };
        let block_len = block_len as usize;
        let name = block_name(block_type);
        if let Some(reason) = check_block_len(name, block_type, block_len) {
            return Next::Corrupt(reason);
        }
        let Some(block) = bytes.get(..block_len) else {
            return Next::NeedMore {
                needed: block_len,
                record_name: "pcapng block",
            };
        };
        let trailing_len = order.read_u32(block, block_len - 4).unwrap_or(0) as usize;
        if trailing_len != block_len {
            return Next::Corrupt(format!(
                "{name} has a trailing block length of {trailing_len} bytes that does not match its leading length of {block_len}"
            ));
        }

        match block_type {
            BLOCK_SECTION_HEADER => self.read_section_header(order, block),
            BLOCK_INTERFACE_DESCRIPTION => self.read_interface_description(order, block),
            BLOCK_ENHANCED_PACKET => {
                let interface_id = order.read_u32(block, 8).unwrap_or(0);
                self.read_timestamped_packet(name, order, block, interface_id)
            }
            BLOCK_PACKET_OBSOLETE => {
                let interface_id = order.read_u16(block, 8).unwrap_or(0);
                self.read_timestamped_packet(name, order, block, u32::from(interface_id))
            }
            BLOCK_SIMPLE_PACKET => self.read_simple_packet(order, block),
            _ => Next::Skip(block_len),
        }
    }

    fn read_section_header(&mut self, order: ByteOrder, block: &[u8]) -> Next {
        let major = order.read_u16(block, 12).unwrap_or(0);
        let minor = order.read_u16(block, 14).unwrap_or(0);
        if major != 1 {
            return Next::Unsupported(format!(
                "pcapng version {major}.{minor} is not supported (version 1 is read)"
            ));
        }
        self.order = Some(order);
        self.interfaces.clear();
        self.sections += 1;
        tracing::debug!(
            input = %self.input,
            section = self.sections,
            byte_order = %order,
            version = %format_args!("{major}.{minor}"),
            "pcapng section header"
        );
        Next::Skip(block.len())
    }

    fn read_interface_description(&mut self, order: ByteOrder, block: &[u8]) -> Next {
        match Interface::parse(order, block) {
            Ok(interface) => {
                interface.log_described(&self.input, self.sections, self.interfaces.len());
                self.interfaces.push(interface);
                Next::Skip(block.len())
            }
            Err(reason) => Next::Corrupt(reason),
        }
    }

    /// Reads an enhanced packet block or an obsolete packet block, which
    /// share the layout after the interface id: a 64-bit timestamp in two
    /// 32-bit halves (upper first), captured length, wire length and data.
    fn read_timestamped_packet(
        &mut self,
        name: &str,
        order: ByteOrder,
        block: &[u8],
        interface_id: u32,
    ) -> Next {
        let Some(interface) = self.interfaces.get(interface_id as usize) else {
            let described = match self.interfaces.len() {
                0 => "no interfaces".to_owned(),
                1 => "only interface 0".to_owned(),
                count => format!("only interfaces 0 to {}", count - 1),
            };
            return Next::Corrupt(format!(
                "{name} is on interface {interface_id}, but its section describes {described}"
            ));
        };
        let Ok(port) = u16::try_from(interface_id) else {
            return Next::Unsupported(format!(
                "{name} is on interface {interface_id}, above the highest port number 65535"
            ));
        };
        let timestamp_high = order.read_u32(block, 12).unwrap_or(0);
        let timestamp_low = order.read_u32(block, 16).unwrap_or(0);
        let captured_len = order.read_u32(block, 20).unwrap_or(0);
        let wire_len = order.read_u32(block, 24).unwrap_or(0);

        if captured_len > MAX_CAPTURED_LEN_BYTES {
            return Next::Corrupt(format!(
                "{name} has a captured length of {captured_len} bytes, above the maximum of {MAX_CAPTURED_LEN_BYTES}"
            ));
        }
        let data_room = block.len() - TIMESTAMPED_PACKET_DATA_START - 4;
        if captured_len as usize > data_room {
            return Next::Corrupt(format!(
                "{name} has a captured length of {captured_len} bytes, but its {} bytes hold at most {data_room}",
                block.len()
            ));
        }

        let units = (u64::from(timestamp_high) << 32) | u64::from(timestamp_low);
        let Some(timestamp_ns) = interface.timestamp_ns(units) else {
            return Next::Corrupt(format!(
                "{name} has a timestamp of {units} units on interface {interface_id}, which is before 1970 or after 2554"
            ));
        };
        self.last_timestamp_ns = timestamp_ns;
        let (captured_len, wire_len) =
            without_fcs(captured_len as usize, wire_len, interface.fcs_len_bytes());
        Next::Packet(PacketRecord {
            record_len: block.len(),
            data_start: TIMESTAMPED_PACKET_DATA_START,
            captured_len,
            wire_len,
            timestamp_ns,
            link_type: interface.link_type,
            port,
        })
    }

    /// Reads a simple packet block. It belongs to interface 0 and carries
    /// only the wire length. The captured length is the smallest of the wire
    /// length, the interface's snapshot length and the room in the block.
    ///
    /// NOTE: libpcap 1.10 and Wireshark 4.0 reject a block with less room
    /// than the smaller of wire length and snapshot length. This reader keeps
    /// what the block holds, which then may end with up to 3 padding bytes.
    ///
    /// The block has no timestamp, so the packet gets the timestamp of the
    /// packet before it in this input (0 when it is the first).
    fn read_simple_packet(&mut self, order: ByteOrder, block: &[u8]) -> Next {
        let Some(interface) = self.interfaces.first() else {
            return Next::Corrupt(
                "simple packet block comes before any interface description block in its section"
                    .to_owned(),
            );
        };
        let wire_len = order.read_u32(block, 8).unwrap_or(0);
        let data_room = block.len() - SIMPLE_PACKET_DATA_START - 4;
        let mut captured_len = (wire_len as usize).min(data_room);
        if interface.snaplen != 0 {
            captured_len = captured_len.min(interface.snaplen as usize);
        }
        if captured_len > MAX_CAPTURED_LEN_BYTES as usize {
            return Next::Corrupt(format!(
                "simple packet block has a captured length of {captured_len} bytes, above the maximum of {MAX_CAPTURED_LEN_BYTES}"
            ));
        }
        let (captured_len, wire_len) =
            without_fcs(captured_len, wire_len, interface.fcs_len_bytes());
        Next::Packet(PacketRecord {
            record_len: block.len(),
            data_start: SIMPLE_PACKET_DATA_START,
            captured_len,
            wire_len,
            timestamp_ns: self.last_timestamp_ns,
            link_type: interface.link_type,
            port: 0,
        })
    }
}

/// Returns the byte order whose reading of `magic` is the byte-order magic.
pub(crate) fn byte_order_of_section_magic(magic: &[u8]) -> Option<ByteOrder> {
    let raw: [u8; 4] = magic.try_into().ok()?;
    if u32::from_le_bytes(raw) == BYTE_ORDER_MAGIC {
        Some(ByteOrder::Little)
    } else if u32::from_be_bytes(raw) == BYTE_ORDER_MAGIC {
        Some(ByteOrder::Big)
    } else {
        None
    }
}

fn need_block_header() -> Next {
    Next::NeedMore {
        needed: MIN_BLOCK_LEN,
        record_name: "pcapng block header",
    }
}

/// Returns the reason a block length is invalid, or `None` when it is valid.
fn check_block_len(name: &str, block_type: u32, block_len: usize) -> Option<String> {
    let min_len = match block_type {
        // Byte-order magic, version and section length.
        BLOCK_SECTION_HEADER => 28,
        // Link type, reserved field and snapshot length.
        BLOCK_INTERFACE_DESCRIPTION => 20,
        // Interface id, timestamp, captured and wire length.
        BLOCK_ENHANCED_PACKET | BLOCK_PACKET_OBSOLETE => 32,
        // Wire length.
        BLOCK_SIMPLE_PACKET => 16,
        _ => MIN_BLOCK_LEN,
    };
    if block_len < min_len {
        Some(format!(
            "{name} has a length of {block_len} bytes, below the minimum of {min_len}"
        ))
    } else if block_len % 4 != 0 {
        Some(format!(
            "{name} has a length of {block_len} bytes, which is not a multiple of 4"
        ))
    } else if block_len > MAX_BLOCK_LEN_BYTES {
        Some(format!(
            "{name} has a length of {block_len} bytes, above the maximum of {MAX_BLOCK_LEN_BYTES}"
        ))
    } else {
        None
    }
}

fn block_name(block_type: u32) -> &'static str {
    match block_type {
        BLOCK_SECTION_HEADER => "section header block",
        BLOCK_INTERFACE_DESCRIPTION => "interface description block",
        BLOCK_PACKET_OBSOLETE => "packet block",
        BLOCK_SIMPLE_PACKET => "simple packet block",
        BLOCK_NAME_RESOLUTION => "name resolution block",
        BLOCK_INTERFACE_STATISTICS => "interface statistics block",
        BLOCK_ENHANCED_PACKET => "enhanced packet block",
        BLOCK_DECRYPTION_SECRETS => "decryption secrets block",
        BLOCK_CUSTOM_COPYABLE | BLOCK_CUSTOM_NOT_COPYABLE => "custom block",
        _ => "pcapng block",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a little-endian block with its body padded to 4 bytes.
    fn block(block_type: u32, body: &[u8]) -> Vec<u8> {
        let padded_len = body.len().next_multiple_of(4);
        let total = (12 + padded_len) as u32;
        let mut out = Vec::new();
        out.extend(block_type.to_le_bytes());
        out.extend(total.to_le_bytes());
        out.extend(body);
        out.resize(8 + padded_len, 0);
        out.extend(total.to_le_bytes());
        out
    }

    fn section_header() -> Vec<u8> {
        let mut body = BYTE_ORDER_MAGIC.to_le_bytes().to_vec();
        body.extend(1u16.to_le_bytes());
        body.extend(0u16.to_le_bytes());
        body.extend((-1i64).to_le_bytes());
        block(BLOCK_SECTION_HEADER, &body)
    }

    fn interface(link_type: u16, snaplen: u32) -> Vec<u8> {
        let mut body = link_type.to_le_bytes().to_vec();
        body.extend(0u16.to_le_bytes());
        body.extend(snaplen.to_le_bytes());
        block(BLOCK_INTERFACE_DESCRIPTION, &body)
    }

    fn enhanced_packet(interface_id: u32, units: u64, data: &[u8]) -> Vec<u8> {
        let mut body = interface_id.to_le_bytes().to_vec();
        body.extend(((units >> 32) as u32).to_le_bytes());
        body.extend((units as u32).to_le_bytes());
        body.extend((data.len() as u32).to_le_bytes());
        body.extend((data.len() as u32).to_le_bytes());
        body.extend(data);
        block(BLOCK_ENHANCED_PACKET, &body)
    }

    /// Returns a parser that has read a section header and one interface.
    fn parser_with_interface(link_type: u16, snaplen: u32) -> PcapngParser {
        let mut parser = PcapngParser::new("test");
        assert_eq!(parser.next(&section_header()), Next::Skip(28));
        assert_eq!(parser.next(&interface(link_type, snaplen)), Next::Skip(20));
        parser
    }

    #[test]
    fn need_more_leaves_state_unchanged() {
        let mut parser = PcapngParser::new("test");
        let header = section_header();
        assert!(matches!(
            parser.next(&header[..11]),
            Next::NeedMore { needed: 12, .. }
        ));
        assert!(matches!(
            parser.next(&header[..27]),
            Next::NeedMore { needed: 28, .. }
        ));
        assert_eq!(parser.order, None);
        assert_eq!(parser.next(&header), Next::Skip(28));
        let idb = interface(1, 0);
        assert!(matches!(
            parser.next(&idb[..19]),
            Next::NeedMore { needed: 20, .. }
        ));
        assert!(parser.interfaces.is_empty());
        assert_eq!(parser.next(&idb), Next::Skip(20));
        assert_eq!(parser.interfaces.len(), 1);
    }

    #[test]
    fn enhanced_packet_locates_data() {
        let mut parser = parser_with_interface(1, 0);
        let data = [7u8; 61];
        let bytes = enhanced_packet(0, 1_000_000, &data);
        let Next::Packet(packet) = parser.next(&bytes) else {
            panic!("expected a packet");
        };
        assert_eq!(packet.record_len, 32 + 64);
        assert_eq!(packet.data_start, 28);
        assert_eq!(packet.captured_len, 61);
        assert_eq!(packet.timestamp_ns, 1_000_000_000);
        assert_eq!(packet.link_type, naudit_engine::LinkType::ETHERNET);
    }

    #[test]
    fn if_fcslen_cuts_fcs_from_packets() {
        for (fcslen, expected_len) in [(32u8, 60usize), (4, 60), (16, 62), (0, 64)] {
            let mut parser = PcapngParser::new("test");
            assert_eq!(parser.next(&section_header()), Next::Skip(28));
            let mut body = 1u16.to_le_bytes().to_vec();
            body.extend(0u16.to_le_bytes());
            body.extend(0u32.to_le_bytes());
            // Option if_fcslen (code 13, length 1), then the end of options.
            body.extend([13, 0, 1, 0, fcslen, 0, 0, 0, 0, 0, 0, 0]);
            assert!(matches!(
                parser.next(&block(BLOCK_INTERFACE_DESCRIPTION, &body)),
                Next::Skip(_)
            ));
            let Next::Packet(packet) = parser.next(&enhanced_packet(0, 1, &[7; 64])) else {
                panic!("expected a packet");
            };
            assert_eq!(packet.captured_len, expected_len, "if_fcslen {fcslen}");
            assert_eq!(packet.wire_len as usize, expected_len, "if_fcslen {fcslen}");
        }
    }

    #[test]
    fn unknown_block_is_skipped_by_length() {
        let mut parser = parser_with_interface(1, 0);
        assert_eq!(
            parser.next(&block(0x8000_0001, &[1, 2, 3, 4, 5])),
            Next::Skip(20)
        );
        assert_eq!(
            parser.next(&block(BLOCK_INTERFACE_STATISTICS, &[0; 20])),
            Next::Skip(32)
        );
    }

    #[test]
    fn block_before_section_header_is_corrupt() {
        let mut parser = PcapngParser::new("test");
        assert!(
            matches!(parser.next(&interface(1, 0)), Next::Corrupt(reason) if reason.contains("first block"))
        );
    }

    #[test]
    fn new_section_forgets_interfaces() {
        let mut parser = parser_with_interface(1, 0);
        assert_eq!(parser.next(&section_header()), Next::Skip(28));
        let Next::Corrupt(reason) = parser.next(&enhanced_packet(0, 1, &[0; 4])) else {
            panic!("expected Corrupt");
        };
        assert!(reason.contains("interface 0"), "{reason}");
        assert!(reason.contains("describes no interfaces"), "{reason}");
    }

    #[test]
    fn block_length_limits() {
        let mut parser = parser_with_interface(1, 0);
        let mut huge = block(0x8000_0001, &[]);
        huge[4..8].copy_from_slice(&((MAX_BLOCK_LEN_BYTES + 4) as u32).to_le_bytes());
        let Next::Corrupt(reason) = parser.next(&huge) else {
            panic!("expected Corrupt");
        };
        assert!(reason.contains("above the maximum"), "{reason}");
        let mut at_limit = block(0x8000_0001, &[]);
        at_limit[4..8].copy_from_slice(&(MAX_BLOCK_LEN_BYTES as u32).to_le_bytes());
        assert!(matches!(
            parser.next(&at_limit),
            Next::NeedMore {
                needed: MAX_BLOCK_LEN_BYTES,
                ..
            }
        ));
    }
}
