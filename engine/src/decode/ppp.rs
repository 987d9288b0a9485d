//! PPP (RFC 1661), PPP in HDLC-like framing (RFC 1662) and Cisco HDLC.
//!
//! A PPP frame may start with the HDLC address and control bytes `FF 03`,
//! which links may leave out (RFC 1661 section 6.6), and its protocol field
//! may be compressed to 1 byte: a protocol whose first byte is odd is 1
//! byte long (RFC 1661 section 6.5).

use super::bytes::{check_len, tail, u16_at, u8_at};
use super::ethernet::ethertype;
use super::DecodeError;

/// PPP protocol numbers the walk follows.
pub mod protocol {
    /// IPv4.
    pub const IPV4: u16 = 0x0021;
    /// IPv6.
    pub const IPV6: u16 = 0x0057;
    /// MPLS unicast.
    pub const MPLS_UNICAST: u16 = 0x0281;
    /// MPLS multicast.
    pub const MPLS_MULTICAST: u16 = 0x0283;
}

/// The HDLC all-stations address and unnumbered-information control bytes.
const HDLC_ADDRESS_CONTROL: [u8; 2] = [0xff, 0x03];

/// Length of a Cisco HDLC header: address, control and EtherType.
pub const CISCO_HDLC_HEADER_LEN: usize = 4;

/// Returns the EtherType of a PPP protocol number the walk follows.
pub fn ethertype_of(ppp_protocol: u16) -> Option<u16> {
    match ppp_protocol {
        protocol::IPV4 => Some(ethertype::IPV4),
        protocol::IPV6 => Some(ethertype::IPV6),
        protocol::MPLS_UNICAST => Some(ethertype::MPLS_UNICAST),
        protocol::MPLS_MULTICAST => Some(ethertype::MPLS_MULTICAST),
        _ => None,
    }
}

/// A borrowed PPP header, with or without `FF 03` in front.
#[derive(Clone, Copy, Debug)]
pub struct PppHeader<'a> {
    data: &'a [u8],
    /// Bytes of address, control and protocol fields.
    header_len: usize,
    protocol: u16,
}

impl<'a> PppHeader<'a> {
    /// Checks that `data` contains the optional `FF 03` and a whole protocol
    /// field.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        // 0xFF is never a protocol byte, so it starts the address field.
        let start = if data.first() == Some(&HDLC_ADDRESS_CONTROL[0]) { 2 } else { 0 };
        check_len(data, start)?;
        check_len(data, start + 1)?;
        let first = u8_at(data, start);
        let (protocol, header_len) = if first & 1 == 1 {
            (u16::from(first), start + 1)
        } else {
            check_len(data, start + 2)?;
            (u16_at(data, start..start + 2), start + 2)
        };
        Ok(PppHeader { data, header_len, protocol })
    }

    /// The protocol field, uncompressed.
    pub fn protocol(&self) -> u16 {
        self.protocol
    }

    /// Returns true when the frame starts with `FF 03`.
    pub fn has_address_control(&self) -> bool {
        self.data.starts_with(&HDLC_ADDRESS_CONTROL)
    }

    /// Bytes after the protocol field.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, self.header_len)
    }
}

/// A borrowed Cisco HDLC header: address `0x0F` (unicast) or `0x8F`
/// (broadcast), control `0x00`, and an EtherType.
#[derive(Clone, Copy, Debug)]
pub struct CiscoHdlcHeader<'a> {
    data: &'a [u8],
}

impl<'a> CiscoHdlcHeader<'a> {
    /// Checks that `data` contains a whole Cisco HDLC header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, CISCO_HDLC_HEADER_LEN)?;
        Ok(CiscoHdlcHeader { data })
    }

    /// The address byte.
    pub fn address(&self) -> u8 {
        u8_at(self.data, 0)
    }

    /// The protocol, an EtherType.
    pub fn ethertype(&self) -> u16 {
        u16_at(self.data, 2..4)
    }

    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, CISCO_HDLC_HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn ppp_with_address_control() {
        let frame = [0xff, 0x03, 0x00, 0x21, 0x45];
        let header = PppHeader::new(&frame).unwrap();
        assert_eq!(header.protocol(), protocol::IPV4);
        assert!(header.has_address_control());
        assert_eq!(header.payload(), &[0x45]);
        assert_every_cut_truncated(&frame[..4], |data| PppHeader::new(data).map(|_| ()));
    }

    #[test]
    fn ppp_without_address_control() {
        let frame = [0x00, 0x57, 0x60];
        let header = PppHeader::new(&frame).unwrap();
        assert_eq!(header.protocol(), protocol::IPV6);
        assert!(!header.has_address_control());
        assert_eq!(header.payload(), &[0x60]);
        assert_every_cut_truncated(&frame[..2], |data| PppHeader::new(data).map(|_| ()));
    }

    #[test]
    fn ppp_compressed_protocol() {
        let frame = [0x21, 0x45];
        let header = PppHeader::new(&frame).unwrap();
        assert_eq!(header.protocol(), 0x21);
        assert_eq!(header.payload(), &[0x45]);
    }

    #[test]
    fn ppp_protocol_to_ethertype() {
        assert_eq!(ethertype_of(protocol::IPV4), Some(0x0800));
        assert_eq!(ethertype_of(protocol::IPV6), Some(0x86dd));
        assert_eq!(ethertype_of(protocol::MPLS_UNICAST), Some(0x8847));
        assert_eq!(ethertype_of(0xc021), None);
    }

    #[test]
    fn cisco_hdlc_header() {
        let frame = [0x0f, 0x00, 0x08, 0x00, 0x45];
        let header = CiscoHdlcHeader::new(&frame).unwrap();
        assert_eq!(header.address(), 0x0f);
        assert_eq!(header.ethertype(), 0x0800);
        assert_eq!(header.payload(), &[0x45]);
        assert_every_cut_truncated(&frame[..4], |data| CiscoHdlcHeader::new(data).map(|_| ()));
    }
}
