//! GRE (RFC 2784 with the key and sequence number of RFC 2890, and the
//! enhanced GRE of PPTP, RFC 2637 section 4.1) and the ERSPAN headers that
//! follow GRE for types II and III.

use super::bytes::{check_len, tail, u16_at, u32_at, u8_at};
use super::DecodeError;

/// Length of the GRE flags, version and protocol fields.
pub const BASE_LEN: usize = 4;
/// Length of the ERSPAN type II header.
pub const ERSPAN_II_LEN: usize = 8;
/// Length of the ERSPAN type III header without its platform sub-header.
pub const ERSPAN_III_LEN: usize = 12;
/// Length of the optional ERSPAN type III platform-specific sub-header.
pub const ERSPAN_III_PLATFORM_LEN: usize = 8;

mod flag {
    pub const CHECKSUM: u8 = 0x80;
    pub const ROUTING: u8 = 0x40;
    pub const KEY: u8 = 0x20;
    pub const SEQUENCE: u8 = 0x10;
    /// In the second byte: the acknowledgment number of enhanced GRE.
    pub const ACKNOWLEDGMENT: u8 = 0x80;
}

/// A borrowed GRE header with its optional fields.
#[derive(Clone, Copy, Debug)]
pub struct GreHeader<'a> {
    data: &'a [u8],
    header_len: usize,
}

impl<'a> GreHeader<'a> {
    /// Checks that `data` contains the GRE header and every optional field
    /// its flags announce. Version 0 and 1 (enhanced GRE) are accepted.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, BASE_LEN)?;
        let (flags, second) = (u8_at(data, 0), u8_at(data, 1));
        let version = second & 0x07;
        if version > 1 {
            return Err(DecodeError::InvalidVersion(version));
        }
        let mut header_len = BASE_LEN;
        if flags & (flag::CHECKSUM | flag::ROUTING) != 0 {
            header_len += 4;
        }
        if flags & flag::KEY != 0 {
            header_len += 4;
        }
        if flags & flag::SEQUENCE != 0 {
            header_len += 4;
        }
        if version == 1 && second & flag::ACKNOWLEDGMENT != 0 {
            header_len += 4;
        }
        check_len(data, header_len)?;
        Ok(GreHeader { data, header_len })
    }

    fn flags(&self) -> u8 {
        u8_at(self.data, 0)
    }

    /// The version: 0 for GRE, 1 for the enhanced GRE of PPTP.
    pub fn version(&self) -> u8 {
        u8_at(self.data, 1) & 0x07
    }

    /// The protocol type, an EtherType.
    pub fn protocol(&self) -> u16 {
        u16_at(self.data, 2..4)
    }

    /// Returns true when the routing bit is set, so that source route
    /// entries (RFC 1701) follow the fixed fields.
    pub fn has_routing(&self) -> bool {
        self.flags() & flag::ROUTING != 0
    }

    /// Returns true when a sequence number is present.
    pub fn has_sequence(&self) -> bool {
        self.flags() & flag::SEQUENCE != 0
    }

    /// The key field; for enhanced GRE, the payload length in the high 16
    /// bits and the call id in the low 16.
    pub fn key(&self) -> Option<u32> {
        if self.flags() & flag::KEY == 0 {
            return None;
        }
        let start = if self.flags() & (flag::CHECKSUM | flag::ROUTING) != 0 { 8 } else { 4 };
        Some(u32_at(self.data, start..start + 4))
    }

    /// Bytes after the header and its optional fields.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, self.header_len)
    }
}

/// A borrowed ERSPAN type II header.
#[derive(Clone, Copy, Debug)]
pub struct ErspanIIHeader<'a> {
    data: &'a [u8],
}

impl<'a> ErspanIIHeader<'a> {
    /// Checks that `data` contains a whole ERSPAN type II header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, ERSPAN_II_LEN)?;
        Ok(ErspanIIHeader { data })
    }

    /// The ERSPAN version field: 1 for type II.
    pub fn version(&self) -> u8 {
        u8_at(self.data, 0) >> 4
    }

    /// The 10-bit session id.
    pub fn session_id(&self) -> u16 {
        u16_at(self.data, 2..4) & 0x03ff
    }

    /// The mirrored Ethernet frame.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, ERSPAN_II_LEN)
    }
}

/// A borrowed ERSPAN type III header, with its platform sub-header when the
/// O bit announces one.
#[derive(Clone, Copy, Debug)]
pub struct ErspanIIIHeader<'a> {
    data: &'a [u8],
    header_len: usize,
}

impl<'a> ErspanIIIHeader<'a> {
    /// Checks that `data` contains a whole ERSPAN type III header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, ERSPAN_III_LEN)?;
        let has_platform = u8_at(data, 11) & 0x01 != 0;
        let header_len = if has_platform { ERSPAN_III_LEN + ERSPAN_III_PLATFORM_LEN } else { ERSPAN_III_LEN };
        check_len(data, header_len)?;
        Ok(ErspanIIIHeader { data, header_len })
    }

    /// The ERSPAN version field: 2 for type III.
    pub fn version(&self) -> u8 {
        u8_at(self.data, 0) >> 4
    }

    /// The 10-bit session id.
    pub fn session_id(&self) -> u16 {
        u16_at(self.data, 2..4) & 0x03ff
    }

    /// The frame type: 0 for Ethernet, 2 for IP.
    pub fn frame_type(&self) -> u8 {
        (u8_at(self.data, 10) >> 2) & 0x1f
    }

    /// The mirrored frame.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, self.header_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn gre_with_checksum_key_and_sequence() {
        let header = [
            0xb0, 0x00, 0x08, 0x00, // C, K and S; IPv4
            0x12, 0x34, 0x00, 0x00, // checksum and reserved
            0x00, 0x00, 0x00, 0x2a, // key
            0x00, 0x00, 0x00, 0x07, // sequence number
        ];
        let gre = GreHeader::new(&header).unwrap();
        assert_eq!(gre.version(), 0);
        assert_eq!(gre.protocol(), 0x0800);
        assert_eq!(gre.key(), Some(42));
        assert!(gre.has_sequence());
        assert!(!gre.has_routing());
        assert!(gre.payload().is_empty());
        assert_every_cut_truncated(&header, |data| GreHeader::new(data).map(|_| ()));
    }

    #[test]
    fn enhanced_gre_with_acknowledgment() {
        let header = [
            0x30, 0x81, 0x88, 0x0b, // K and S; A, version 1; PPP
            0x00, 0x10, 0x40, 0x00, // payload length 16, call id 0x4000
            0x00, 0x00, 0x00, 0x01, // sequence number
            0x00, 0x00, 0x00, 0x00, // acknowledgment number
        ];
        let gre = GreHeader::new(&header).unwrap();
        assert_eq!(gre.version(), 1);
        assert_eq!(gre.key().map(|key| key as u16), Some(0x4000));
        assert_every_cut_truncated(&header, |data| GreHeader::new(data).map(|_| ()));
    }

    #[test]
    fn gre_version_2_is_invalid() {
        assert_eq!(GreHeader::new(&[0, 2, 8, 0]).err(), Some(DecodeError::InvalidVersion(2)));
    }

    #[test]
    fn erspan_ii_session() {
        let header = [0x10, 0x64, 0x03, 0x05, 0, 0, 0, 0];
        let erspan = ErspanIIHeader::new(&header).unwrap();
        assert_eq!(erspan.version(), 1);
        assert_eq!(erspan.session_id(), 0x305);
        assert_every_cut_truncated(&header, |data| ErspanIIHeader::new(data).map(|_| ()));
    }

    #[test]
    fn erspan_iii_with_platform_subheader() {
        let mut header = [0u8; 20];
        header[0] = 0x20;
        header[3] = 0x09;
        header[11] = 0x01;
        let erspan = ErspanIIIHeader::new(&header).unwrap();
        assert_eq!(erspan.version(), 2);
        assert_eq!(erspan.session_id(), 9);
        assert_eq!(erspan.frame_type(), 0);
        assert!(erspan.payload().is_empty());
        assert_every_cut_truncated(&header, |data| ErspanIIIHeader::new(data).map(|_| ()));
    }
}
