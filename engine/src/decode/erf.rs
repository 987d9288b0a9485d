//! ERF records (Extensible Record Format) of Endace DAG capture cards: the
//! 16-byte record header, its extension headers, and the frame each record
//! type carries.
//!
//! The same record is read from ERF files (by the capture-file reader) and
//! from pcap packets of link type 197 (`LINKTYPE_ERF`, by the walk). The
//! layout follows the Endace ERF type reference as libpcap 1.10 and
//! Wireshark 4.0 read it. Every field after the timestamp is big-endian:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..8 | timestamp, little-endian: seconds in the high 32 bits, binary fraction of a second in the low 32 |
//! | 8 | type: record type in bits 0-6, bit 7 set when an extension header follows |
//! | 9 | flags: capture interface in bits 0-1, varying length, truncated, RX error, DS error |
//! | 10..12 | rlen: record length, header included |
//! | 12..14 | loss counter, or color of the color types |
//! | 14..16 | wlen: length on the wire, the Ethernet FCS included |
//!
//! Each extension header is 8 bytes, and bit 7 of its first byte is set
//! when another follows.

use super::bytes::{check_len, u16_at, u8_at};
use super::DecodeError;
use crate::packet::LinkType;

/// Length of the record header.
pub const HEADER_LEN: usize = 16;

/// Length of one extension header.
pub const EXTENSION_HEADER_LEN: usize = 8;

/// Bytes before the frame in the Ethernet types: an offset byte and a pad byte.
pub const ETHERNET_PAD_LEN: usize = 2;

/// Length of the Ethernet FCS that `wlen` counts for the Ethernet types.
pub const ETHERNET_FCS_LEN: u32 = 4;

/// Bit of the type byte (and of an extension header's first byte) that
/// announces one more extension header.
const MORE_EXTENSION_HEADERS: u8 = 0x80;

/// ERF record type numbers (the low 7 bits of the type byte).
pub mod record_type {
    /// PPP in HDLC framing or Cisco HDLC on a Packet over SONET link.
    pub const HDLC_POS: u8 = 1;
    /// Ethernet, after a 2-byte pad.
    pub const ETH: u8 = 2;
    /// HDLC_POS with a color in the loss-counter field.
    pub const COLOR_HDLC_POS: u8 = 10;
    /// ETH with a color in the loss-counter field.
    pub const COLOR_ETH: u8 = 11;
    /// HDLC_POS colored by a DSM filter.
    pub const DSM_COLOR_HDLC_POS: u8 = 15;
    /// ETH colored by a DSM filter.
    pub const DSM_COLOR_ETH: u8 = 16;
    /// HDLC_POS with a color and a hash value.
    pub const COLOR_HASH_POS: u8 = 19;
    /// ETH with a color and a hash value.
    pub const COLOR_HASH_ETH: u8 = 20;
    /// InfiniBand link-layer frames.
    pub const INFINIBAND: u8 = 21;
    /// An IPv4 packet without a link-layer header.
    pub const IPV4: u8 = 22;
    /// An IPv6 packet without a link-layer header.
    pub const IPV6: u8 = 23;
    /// Provenance metadata about the capture, no packet.
    pub const META: u8 = 27;
    /// Padding written by the card, no packet.
    pub const PAD: u8 = 48;

    /// Returns true for a number the ERF type reference assigns: 1 to 25,
    /// 27 to 29, and 48. The others (0, the legacy type, among them) mark
    /// a record header as damaged, or a file as no ERF file.
    pub fn is_assigned(value: u8) -> bool {
        matches!(value, 1..=25 | 27..=29 | PAD)
    }
}

/// Contents of an ERF record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErfPayload<'a> {
    /// A frame for the walk of `link_type`.
    Frame {
        /// How to read the first header of `frame`.
        link_type: LinkType,
        /// The captured frame, without the pad and without the FCS.
        frame: &'a [u8],
        /// The frame's length on the wire without its FCS: `wlen`, less the
        /// 4-byte FCS for the Ethernet types.
        wire_len_bytes: u32,
    },
    /// A record without a packet (padding, capture metadata).
    NoPacket,
    /// A packet of a record type nauditd does not decode.
    Unsupported(u8),
}

/// A borrowed ERF record: its header, extension headers and captured body.
#[derive(Clone, Copy, Debug)]
pub struct ErfRecord<'a> {
    /// The record's captured bytes, at most `rlen` of them.
    data: &'a [u8],
    /// Offset of the body, after the extension headers.
    body_start: usize,
}

impl<'a> ErfRecord<'a> {
    /// Checks that `data` contains the record header and every extension
    /// header it announces, and that `rlen` covers them. `data` may end
    /// before `rlen` (a snapshot length cut the record), and bytes after
    /// `rlen` are not part of the record.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        let record_len = usize::from(u16_at(data, 10..12));
        let mut body_start = HEADER_LEN;
        let mut more = u8_at(data, 8) & MORE_EXTENSION_HEADERS != 0;
        while more {
            if record_len < body_start + EXTENSION_HEADER_LEN {
                return Err(DecodeError::InvalidLength(record_len as u32));
            }
            check_len(data, body_start + EXTENSION_HEADER_LEN)?;
            more = u8_at(data, body_start) & MORE_EXTENSION_HEADERS != 0;
            body_start += EXTENSION_HEADER_LEN;
        }
        if record_len < body_start {
            return Err(DecodeError::InvalidLength(record_len as u32));
        }
        let data = &data[..data.len().min(record_len)];
        Ok(ErfRecord { data, body_start })
    }

    /// Capture time in nanoseconds since 1970, the binary fraction rounded
    /// to the nearest nanosecond.
    pub fn timestamp_ns(&self) -> u64 {
        let raw = u64::from_le_bytes([
            self.data[0],
            self.data[1],
            self.data[2],
            self.data[3],
            self.data[4],
            self.data[5],
            self.data[6],
            self.data[7],
        ]);
        let seconds = raw >> 32;
        let fraction = raw & 0xffff_ffff;
        let fraction_ns = (fraction * 1_000_000_000 + (1 << 31)) >> 32;
        seconds * 1_000_000_000 + fraction_ns
    }

    /// The record type, without the extension-header bit.
    pub fn record_type(&self) -> u8 {
        u8_at(self.data, 8) & !MORE_EXTENSION_HEADERS
    }

    /// The capture interface (port) of the card, 0 to 3.
    pub fn interface(&self) -> u8 {
        u8_at(self.data, 9) & 0x03
    }

    /// The record length field (`rlen`), header included.
    pub fn record_len(&self) -> u16 {
        u16_at(self.data, 10..12)
    }

    /// The loss counter, or the color of the color types.
    pub fn loss_counter(&self) -> u16 {
        u16_at(self.data, 12..14)
    }

    /// The wire length field (`wlen`), the Ethernet FCS included.
    pub fn wire_len(&self) -> u16 {
        u16_at(self.data, 14..16)
    }

    /// Bytes before the body: the header and the extension headers.
    pub fn headers_len(&self) -> usize {
        self.body_start
    }

    /// Returns what the record carries.
    ///
    /// This match is the one place that maps ERF record types to the walk.
    pub fn payload(&self) -> Result<ErfPayload<'a>, DecodeError> {
        let wire_len = u32::from(self.wire_len());
        let (link_type, pad_len, fcs_len) = match self.record_type() {
            record_type::ETH | record_type::COLOR_ETH | record_type::DSM_COLOR_ETH | record_type::COLOR_HASH_ETH => {
                (LinkType::ETHERNET, ETHERNET_PAD_LEN, ETHERNET_FCS_LEN)
            }
            // NOTE: on PoS links wlen counts the HDLC FCS, of 2 or 4 bytes as
            // the card was configured. The record does not state which, so the
            // FCS stays in the count.
            record_type::HDLC_POS
            | record_type::COLOR_HDLC_POS
            | record_type::DSM_COLOR_HDLC_POS
            | record_type::COLOR_HASH_POS => (LinkType::PPP_HDLC, 0, 0),
            record_type::IPV4 => (LinkType::IPV4, 0, 0),
            record_type::IPV6 => (LinkType::IPV6, 0, 0),
            record_type::INFINIBAND => (LinkType::INFINIBAND, 0, 0),
            record_type::PAD | record_type::META => return Ok(ErfPayload::NoPacket),
            other => return Ok(ErfPayload::Unsupported(other)),
        };

        let frame_start = self.body_start + pad_len;
        check_len(self.data, frame_start)?;
        let wire_len_bytes = wire_len.saturating_sub(fcs_len);
        let frame = &self.data[frame_start..];
        let frame = &frame[..frame.len().min(wire_len_bytes as usize)];
        Ok(ErfPayload::Frame { link_type, frame, wire_len_bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    /// An ERF record of `kind` around `body`, with `extensions` extension
    /// headers and the given wire length.
    fn record(kind: u8, extensions: usize, wire_len: u16, body: &[u8]) -> Vec<u8> {
        let record_len = (HEADER_LEN + extensions * EXTENSION_HEADER_LEN + body.len()) as u16;
        // 1.5 seconds after 1000 seconds: the fraction is 2^31.
        let mut out = ((1000u64 << 32) | (1 << 31)).to_le_bytes().to_vec();
        out.push(if extensions > 0 { kind | MORE_EXTENSION_HEADERS } else { kind });
        out.push(0x01);
        out.extend(record_len.to_be_bytes());
        out.extend(7u16.to_be_bytes());
        out.extend(wire_len.to_be_bytes());
        for index in 0..extensions {
            let more = if index + 1 < extensions { MORE_EXTENSION_HEADERS } else { 0 };
            out.extend([more | 0x05, 0, 0, 0, 0, 0, 0, 0]);
        }
        out.extend(body);
        out
    }

    #[test]
    fn ethernet_record_skips_pad_and_fcs() {
        let mut body = vec![0, 0];
        body.extend([0xee; 60]);
        let bytes = record(record_type::ETH, 0, 64, &body);
        let erf = ErfRecord::new(&bytes).unwrap();
        assert_eq!(erf.timestamp_ns(), 1_000_500_000_000);
        assert_eq!(erf.interface(), 1);
        assert_eq!(erf.loss_counter(), 7);
        assert_eq!(usize::from(erf.record_len()), bytes.len());
        let Ok(ErfPayload::Frame { link_type, frame, wire_len_bytes }) = erf.payload() else {
            panic!("expected a frame");
        };
        assert_eq!(link_type, LinkType::ETHERNET);
        assert_eq!(frame.len(), 60);
        assert_eq!(wire_len_bytes, 60);
    }

    #[test]
    fn captured_fcs_is_cut_from_the_frame() {
        let mut body = vec![0, 0];
        body.extend([0xee; 64]);
        let bytes = record(record_type::ETH, 0, 64, &body);
        let Ok(ErfPayload::Frame { frame, .. }) = ErfRecord::new(&bytes).unwrap().payload() else {
            panic!("expected a frame");
        };
        assert_eq!(frame.len(), 60);
    }

    #[test]
    fn extension_headers_are_skipped() {
        let bytes = record(record_type::IPV4, 2, 20, &[0x45; 20]);
        let erf = ErfRecord::new(&bytes).unwrap();
        assert_eq!(erf.headers_len(), 32);
        assert_eq!(erf.record_type(), record_type::IPV4);
        let Ok(ErfPayload::Frame { link_type, frame, wire_len_bytes }) = erf.payload() else {
            panic!("expected a frame");
        };
        assert_eq!(link_type, LinkType::IPV4);
        assert_eq!(frame, &[0x45; 20]);
        assert_eq!(wire_len_bytes, 20);
        assert_every_cut_truncated(&bytes[..32], |data| ErfRecord::new(data).map(|_| ()));
    }

    #[test]
    fn extension_headers_past_record_length_are_invalid() {
        let mut bytes = record(record_type::ETH, 1, 0, &[]);
        bytes[10..12].copy_from_slice(&20u16.to_be_bytes());
        assert_eq!(ErfRecord::new(&bytes).err(), Some(DecodeError::InvalidLength(20)));
        bytes[10..12].copy_from_slice(&12u16.to_be_bytes());
        bytes[8] = record_type::ETH;
        assert_eq!(ErfRecord::new(&bytes).err(), Some(DecodeError::InvalidLength(12)));
    }

    #[test]
    fn record_types_map_to_payloads() {
        let cases = [
            (record_type::HDLC_POS, Some(LinkType::PPP_HDLC)),
            (record_type::COLOR_ETH, Some(LinkType::ETHERNET)),
            (record_type::DSM_COLOR_HDLC_POS, Some(LinkType::PPP_HDLC)),
            (record_type::IPV6, Some(LinkType::IPV6)),
        ];
        for (kind, expected) in cases {
            let bytes = record(kind, 0, 8, &[0; 10]);
            let payload = ErfRecord::new(&bytes).unwrap().payload().unwrap();
            let ErfPayload::Frame { link_type, .. } = payload else { panic!("type {kind}: {payload:?}") };
            assert_eq!(Some(link_type), expected, "type {kind}");
        }
        let pad = record(record_type::PAD, 0, 0, &[0; 8]);
        assert_eq!(ErfRecord::new(&pad).unwrap().payload(), Ok(ErfPayload::NoPacket));
        let atm = record(3, 0, 52, &[0; 52]);
        assert_eq!(ErfRecord::new(&atm).unwrap().payload(), Ok(ErfPayload::Unsupported(3)));
    }

    #[test]
    fn ethernet_record_without_room_for_pad_is_truncated() {
        let bytes = record(record_type::ETH, 0, 64, &[0]);
        assert!(matches!(ErfRecord::new(&bytes).unwrap().payload(), Err(DecodeError::Truncated { .. })));
    }
}
