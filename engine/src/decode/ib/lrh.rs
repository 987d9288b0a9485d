//! The InfiniBand Local Route Header (IBTA volume 1, section 7.7), the
//! first 8 bytes of every native InfiniBand packet.

use super::super::bytes::{check_len, tail, u16_at, u8_at};
use super::super::DecodeError;

/// Length of the header.
pub const HEADER_LEN: usize = 8;

/// Values of the link next header field (LNH).
pub mod next_header {
    /// Raw packet of a non-IBA transport (LNH 0).
    pub const RAW: u8 = 0;
    /// Raw IPv6 packet (LNH 1).
    pub const IPV6: u8 = 1;
    /// IBA transport: a BTH follows (LNH 2).
    pub const LOCAL: u8 = 2;
    /// IBA transport after a Global Route Header (LNH 3).
    pub const GLOBAL: u8 = 3;
}

/// A borrowed Local Route Header.
#[derive(Clone, Copy, Debug)]
pub struct LrhHeader<'a> {
    data: &'a [u8],
}

impl<'a> LrhHeader<'a> {
    /// Checks that `data` contains a whole header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(LrhHeader { data })
    }

    /// Virtual lane (4 bits).
    pub fn virtual_lane(&self) -> u8 {
        u8_at(self.data, 0) >> 4
    }

    /// Service level (4 bits).
    pub fn service_level(&self) -> u8 {
        u8_at(self.data, 1) >> 4
    }

    /// Link next header (2 bits), one of [`next_header`].
    pub fn next_header(&self) -> u8 {
        u8_at(self.data, 1) & 0x03
    }

    /// Destination local identifier.
    pub fn dst_lid(&self) -> u16 {
        u16_at(self.data, 2..4)
    }

    /// Packet length in bytes: from the first byte of the LRH to the last
    /// byte before the variant CRC, so the invariant CRC is included.
    pub fn packet_len_bytes(&self) -> u32 {
        u32::from(u16_at(self.data, 4..6) & 0x07ff) * 4
    }

    /// Source local identifier.
    pub fn src_lid(&self) -> u16 {
        u16_at(self.data, 6..8)
    }

    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn lrh_fields() {
        let header = [0x30, 0x52, 0x00, 0x07, 0x00, 0x11, 0x00, 0x03];
        let lrh = LrhHeader::new(&header).unwrap();
        assert_eq!(lrh.virtual_lane(), 3);
        assert_eq!(lrh.service_level(), 5);
        assert_eq!(lrh.next_header(), next_header::LOCAL);
        assert_eq!(lrh.dst_lid(), 7);
        assert_eq!(lrh.packet_len_bytes(), 0x11 * 4);
        assert_eq!(lrh.src_lid(), 3);
        assert_every_cut_truncated(&header, |data| LrhHeader::new(data).map(|_| ()));
    }
}
