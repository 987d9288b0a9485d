//! Linux cooked capture headers, version 1 (`LINKTYPE_LINUX_SLL`, 113).
//!
//! libpcap writes this 16-byte header in place of the link-layer header when
//! it captures on the "any" device or on links without one. The protocol
//! field is an EtherType, except for a few small values that name the frame
//! type, of which the decoder reads [`protocol::NOVELL_802_3`] and
//! [`protocol::LLC`]. The layout is described at
//! <https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html>.

use super::bytes::{array_at, check_len, clamped, ranges_fit, tail, u16_at};
use super::DecodeError;

mod field {
    use std::ops::Range;

    pub const PACKET_TYPE: Range<usize> = 0..2;
    pub const ARPHRD_TYPE: Range<usize> = 2..4;
    pub const ADDRESS_LEN: Range<usize> = 4..6;
    pub const ADDRESS: Range<usize> = 6..14;
    pub const PROTOCOL: Range<usize> = 14..16;
}

/// Length of the header in bytes.
pub const HEADER_LEN: usize = field::PROTOCOL.end;

const _: () = assert!(ranges_fit(
    &[
        field::PACKET_TYPE,
        field::ARPHRD_TYPE,
        field::ADDRESS_LEN,
        field::ADDRESS,
        field::PROTOCOL
    ],
    HEADER_LEN
));

/// Protocol values of Linux cooked headers that are not EtherTypes
/// (`LINUX_SLL_P_*` in libpcap), shared by SLL and SLL2.
pub mod protocol {
    /// Novell "raw 802.3" IPX frames, which have no LLC header.
    pub const NOVELL_802_3: u16 = 0x0001;
    /// IEEE 802.2 LLC frames: an LLC header follows.
    pub const LLC: u16 = 0x0004;
}

/// `ARPHRD_NETLINK`: the protocol field of a netlink capture is a netlink
/// family, not an EtherType.
pub const ARPHRD_NETLINK: u16 = 824;

/// Address length for which the address is read as a MAC address.
const MAC_LEN: u16 = 6;

/// A borrowed Linux cooked capture header, version 1.
#[derive(Clone, Copy, Debug)]
pub struct LinuxSllHeader<'a> {
    /// The packet from its first byte, at least [`HEADER_LEN`] bytes long.
    data: &'a [u8],
}

impl<'a> LinuxSllHeader<'a> {
    /// Checks that `data` contains a whole header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(LinuxSllHeader { data })
    }

    /// Packet type (`PACKET_*`): 0 to us, 1 broadcast, 2 multicast, 3 to
    /// another host, 4 sent by us.
    pub fn packet_type(&self) -> u16 {
        u16_at(self.data, field::PACKET_TYPE)
    }

    /// Link-layer address type (`ARPHRD_*`): 1 Ethernet, 772 loopback.
    pub fn arphrd_type(&self) -> u16 {
        u16_at(self.data, field::ARPHRD_TYPE)
    }

    /// Length of the sender's link-layer address in bytes, as sent (it may
    /// exceed the 8 bytes of the address field).
    pub fn address_len(&self) -> u16 {
        u16_at(self.data, field::ADDRESS_LEN)
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

    /// Protocol of the payload: an EtherType or one of [`protocol`].
    pub fn protocol(&self) -> u16 {
        u16_at(self.data, field::PROTOCOL)
    }

    /// Returns the bytes after the header as captured.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_frames::{SLL_HALEN6_MPTCP_2, SLL_NSEC_HANDSHAKE_1};

    #[test]
    fn outgoing_ethernet_packet() {
        let header = LinuxSllHeader::new(&SLL_HALEN6_MPTCP_2).unwrap();

        assert_eq!(header.packet_type(), 4);
        assert_eq!(header.arphrd_type(), 1);
        assert_eq!(header.address_len(), 6);
        assert_eq!(header.address(), &[0xee, 0x13, 0xfb, 0x9f, 0x58, 0x9e]);
        assert_eq!(header.src_mac(), Some([0xee, 0x13, 0xfb, 0x9f, 0x58, 0x9e]));
        assert_eq!(header.protocol(), 0x0800);
        assert_eq!(header.payload()[0], 0x45);
    }

    #[test]
    fn empty_address_has_no_mac() {
        let header = LinuxSllHeader::new(&SLL_NSEC_HANDSHAKE_1).unwrap();

        assert_eq!(header.packet_type(), 4);
        assert_eq!(header.arphrd_type(), 512);
        assert_eq!(header.address_len(), 0);
        assert_eq!(header.address(), &[] as &[u8]);
        assert_eq!(header.src_mac(), None);
        assert_eq!(header.protocol(), 0x0800);
    }

    #[test]
    fn oversized_address_length_is_cut_to_field() {
        let mut bytes = SLL_HALEN6_MPTCP_2;
        bytes[field::ADDRESS_LEN.end - 1] = 20;
        let header = LinuxSllHeader::new(&bytes).unwrap();

        assert_eq!(header.address_len(), 20);
        assert_eq!(header.address().len(), 8);
        assert_eq!(header.src_mac(), None);
    }

    #[test]
    fn every_truncation_is_reported() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                LinuxSllHeader::new(&SLL_HALEN6_MPTCP_2[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: HEADER_LEN,
                    available_bytes: len
                }
            );
        }
    }
}
