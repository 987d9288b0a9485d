//! VXLAN (RFC 7348) and VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe) headers.

use super::bytes::{check_len, tail, u32_at, u8_at};
use super::DecodeError;

/// Length of the VXLAN and VXLAN-GPE headers.
pub const HEADER_LEN: usize = 8;

/// VXLAN-GPE next-protocol values.
pub mod next_protocol {
    /// IPv4.
    pub const IPV4: u8 = 1;
    /// IPv6.
    pub const IPV6: u8 = 2;
    /// Ethernet.
    pub const ETHERNET: u8 = 3;
    /// Network service header.
    pub const NSH: u8 = 4;
    /// MPLS.
    pub const MPLS: u8 = 5;
}

/// A borrowed VXLAN or VXLAN-GPE header.
#[derive(Clone, Copy, Debug)]
pub struct VxlanHeader<'a> {
    data: &'a [u8],
}

impl<'a> VxlanHeader<'a> {
    /// Checks that `data` contains a whole header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(VxlanHeader { data })
    }

    /// The 24-bit VXLAN network identifier.
    pub fn vni(&self) -> u32 {
        u32_at(self.data, 4..8) >> 8
    }

    /// The VXLAN-GPE next protocol, or `None` when the P bit is clear (an
    /// Ethernet frame follows then).
    pub fn gpe_next_protocol(&self) -> Option<u8> {
        (u8_at(self.data, 0) & 0x04 != 0).then(|| u8_at(self.data, 3))
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
    fn vxlan_vni() {
        let header = [0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0x00];
        let vxlan = VxlanHeader::new(&header).unwrap();
        assert_eq!(vxlan.vni(), 0x123456);
        assert_eq!(vxlan.gpe_next_protocol(), None);
        assert_every_cut_truncated(&header, |data| VxlanHeader::new(data).map(|_| ()));
    }

    #[test]
    fn gpe_next_protocol() {
        let header = [0x0c, 0, 0, 0x04, 0, 0, 0x01, 0x00];
        assert_eq!(VxlanHeader::new(&header).unwrap().gpe_next_protocol(), Some(next_protocol::NSH));
    }
}
