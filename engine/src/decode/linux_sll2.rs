//! Linux cooked capture headers, version 2 (`LINKTYPE_LINUX_SLL2`, 276).
//!
//! The 20-byte header carries the fields of version 1 in another order, the
//! protocol first, plus the interface index. The protocol values are those of
//! version 1 (see [`super::linux_sll::protocol`]). The layout is described at
//! <https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html>.

use super::bytes::{
    array_at, check_len, clamped, offsets_fit, ranges_fit, tail, u16_at, u32_at, u8_at,
};
use super::DecodeError;

mod field {
    use std::ops::Range;

    pub const PROTOCOL: Range<usize> = 0..2;
    pub const RESERVED: Range<usize> = 2..4;
    pub const INTERFACE_INDEX: Range<usize> = 4..8;
    pub const ARPHRD_TYPE: Range<usize> = 8..10;
    pub const PACKET_TYPE: usize = 10;
    pub const ADDRESS_LEN: usize = 11;
    pub const ADDRESS: Range<usize> = 12..20;
}

/// Length of the header in bytes.
pub const HEADER_LEN: usize = field::ADDRESS.end;

const _: () = assert!(ranges_fit(
    &[
        field::PROTOCOL,
        field::RESERVED,
        field::INTERFACE_INDEX,
        field::ARPHRD_TYPE,
        field::ADDRESS
    ],
    HEADER_LEN
));
const _: () = assert!(offsets_fit(
    &[field::PACKET_TYPE, field::ADDRESS_LEN],
    HEADER_LEN
));

/// Address length for which the address is read as a MAC address.
const MAC_LEN: u8 = 6;

/// A borrowed Linux cooked capture header, version 2.
#[derive(Clone, Copy, Debug)]
pub struct LinuxSll2Header<'a> {
    /// The packet from its first byte, at least [`HEADER_LEN`] bytes long.
    data: &'a [u8],
}

impl<'a> LinuxSll2Header<'a> {
    /// Checks that `data` contains a whole header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(LinuxSll2Header { data })
    }

    /// Protocol of the payload: an EtherType or one of
    /// [`super::linux_sll::protocol`].
    pub fn protocol(&self) -> u16 {
        u16_at(self.data, field::PROTOCOL)
    }

    /// Interface index of the capturing device.
    pub fn interface_index(&self) -> u32 {
        u32_at(self.data, field::INTERFACE_INDEX)
    }

    /// Link-layer address type (`ARPHRD_*`): 1 Ethernet, 772 loopback.
    pub fn arphrd_type(&self) -> u16 {
        u16_at(self.data, field::ARPHRD_TYPE)
    }

    /// Packet type (`PACKET_*`): 0 to us, 1 broadcast, 2 multicast, 3 to
    /// another host, 4 sent by us.
    pub fn packet_type(&self) -> u8 {
        u8_at(self.data, field::PACKET_TYPE)
    }

    /// Length of the sender's link-layer address in bytes, as sent (it may
    /// exceed the 8 bytes of the address field).
    pub fn address_len(&self) -> u8 {
        u8_at(self.data, field::ADDRESS_LEN)
    }

    /// Returns the sender's link-layer address, at most 8 bytes.
    pub fn address(&self) -> &'a [u8] {
        let len = usize::from(self.address_len()).min(field::ADDRESS.len());
        clamped(self.data, field::ADDRESS.start, field::ADDRESS.start + len)
    }

    /// Returns the sender's MAC address when the address is 6 bytes long.
    pub fn src_mac(&self) -> Option<[u8; 6]> {
        let start = field::ADDRESS.start;
        (self.address_len() == MAC_LEN).then(|| array_at(self.data, start..start + 6))
    }

    /// Returns the bytes after the header as captured.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_frames::{SLL2_ARP_5, SLL2_HTTP_1};

    #[test]
    fn outgoing_ethernet_packet() {
        let header = LinuxSll2Header::new(&SLL2_HTTP_1).unwrap();

        assert_eq!(header.protocol(), 0x0800);
        assert_eq!(header.interface_index(), 2);
        assert_eq!(header.arphrd_type(), 1);
        assert_eq!(header.packet_type(), 4);
        assert_eq!(header.address_len(), 6);
        assert_eq!(header.src_mac(), Some([0xaa, 0x76, 0x30, 0x71, 0xb0, 0xe7]));
        assert_eq!(header.payload()[0], 0x45);
    }

    #[test]
    fn sent_arp_request() {
        let header = LinuxSll2Header::new(&SLL2_ARP_5).unwrap();

        assert_eq!(header.protocol(), 0x0806);
        assert_eq!(header.interface_index(), 26);
        assert_eq!(header.arphrd_type(), 1);
        assert_eq!(header.packet_type(), 4);
        assert_eq!(header.address(), &[0x8e, 0x36, 0x06, 0x44, 0xac, 0xaf]);
    }

    #[test]
    fn every_truncation_is_reported() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                LinuxSll2Header::new(&SLL2_HTTP_1[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: HEADER_LEN,
                    available_bytes: len
                }
            );
        }
    }
}
