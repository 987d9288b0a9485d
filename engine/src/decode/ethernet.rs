//! Ethernet II and IEEE 802.3 MAC headers.
//!
//! The 2 bytes after the MAC addresses are an EtherType when they are 1536
//! (0x0600) or more, and the 802.3 length of an LLC payload when they are 1500
//! or less. Values in between are undefined, so they are read as EtherTypes
//! that no decoder handles.

use super::bytes::{array_at, check_len, ranges_fit, tail, u16_at};
use super::DecodeError;

mod field {
    use std::ops::Range;

    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const TYPE_OR_LENGTH: Range<usize> = 12..14;
}

/// Length of the Ethernet header in bytes (no 802.1Q tag, no FCS).
pub const HEADER_LEN: usize = field::TYPE_OR_LENGTH.end;

/// The largest value of the type field that is an 802.3 length.
pub const MAX_LENGTH_FIELD: u16 = 1500;

/// The smallest EtherType.
pub const MIN_ETHERTYPE: u16 = 0x0600;

const _: () = assert!(ranges_fit(
    &[field::DESTINATION, field::SOURCE, field::TYPE_OR_LENGTH],
    HEADER_LEN
));

/// EtherType values the decoders act on.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// Reverse ARP, which has the ARP header layout.
    pub const RARP: u16 = 0x8035;
    /// IEEE 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// IEEE 802.1ad service VLAN tag (QinQ).
    pub const SERVICE_VLAN: u16 = 0x88a8;
    /// Pre-standard QinQ service tag used by some switches.
    pub const QINQ_9100: u16 = 0x9100;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// MPLS unicast label stack.
    pub const MPLS_UNICAST: u16 = 0x8847;
    /// MPLS multicast label stack.
    pub const MPLS_MULTICAST: u16 = 0x8848;
    /// PPPoE discovery stage (RFC 2516).
    pub const PPPOE_DISCOVERY: u16 = 0x8863;
    /// PPPoE session stage, PPP inside (RFC 2516).
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// IEEE 802.1ah provider backbone bridging I-TAG.
    pub const PBB: u16 = 0x88e7;
    /// Transparent Ethernet bridging: an Ethernet frame inside GRE or Geneve.
    pub const TRANSPARENT_ETHERNET: u16 = 0x6558;
    /// PPP inside GRE (PPTP, RFC 2637).
    pub const PPP: u16 = 0x880b;
    /// ERSPAN types I and II inside GRE.
    pub const ERSPAN: u16 = 0x88be;
    /// ERSPAN type III inside GRE.
    pub const ERSPAN_III: u16 = 0x22eb;
}

/// Returns true when a type-or-length value is an 802.3 length.
pub fn is_length_field(type_or_length: u16) -> bool {
    type_or_length <= MAX_LENGTH_FIELD
}

/// A borrowed Ethernet header.
#[derive(Clone, Copy, Debug)]
pub struct EthernetHeader<'a> {
    /// The frame from its first byte, at least [`HEADER_LEN`] bytes long.
    data: &'a [u8],
}

impl<'a> EthernetHeader<'a> {
    /// Checks that `data` contains a whole Ethernet header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(EthernetHeader { data })
    }

    /// Destination MAC address.
    pub fn dst_mac(&self) -> [u8; 6] {
        array_at(self.data, field::DESTINATION)
    }

    /// Source MAC address.
    pub fn src_mac(&self) -> [u8; 6] {
        array_at(self.data, field::SOURCE)
    }

    /// Returns the raw type field: an EtherType, or an 802.3 payload length
    /// in bytes (see [`is_length_field`]).
    pub fn type_or_length(&self) -> u16 {
        u16_at(self.data, field::TYPE_OR_LENGTH)
    }

    /// Returns the bytes after the header as captured, trailer and padding
    /// included.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_frames::{ARP_WHO_HAS_1, STP_8021D_1};

    #[test]
    fn ethernet_ii_fields() {
        let header = EthernetHeader::new(&ARP_WHO_HAS_1).unwrap();

        assert_eq!(header.dst_mac(), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(header.src_mac(), [0x78, 0x31, 0xc1, 0xc6, 0x3f, 0xc2]);
        assert_eq!(header.type_or_length(), ethertype::ARP);
        assert!(!is_length_field(header.type_or_length()));
        assert_eq!(header.payload().len(), ARP_WHO_HAS_1.len() - HEADER_LEN);
    }

    #[test]
    fn ieee_802_3_length_field() {
        let header = EthernetHeader::new(&STP_8021D_1).unwrap();

        assert_eq!(header.dst_mac(), [0x01, 0x80, 0xc2, 0x00, 0x00, 0x00]);
        assert_eq!(header.type_or_length(), 38);
        assert!(is_length_field(header.type_or_length()));
    }

    #[test]
    fn every_truncation_is_reported() {
        for len in 0..HEADER_LEN {
            let result = EthernetHeader::new(&ARP_WHO_HAS_1[..len]);

            assert_eq!(
                result.unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: HEADER_LEN,
                    available_bytes: len
                }
            );
        }
        assert!(EthernetHeader::new(&ARP_WHO_HAS_1[..HEADER_LEN]).is_ok());
    }
}
