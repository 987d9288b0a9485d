//! ARP and RARP headers (RFC 826, RFC 903).
//!
//! The 8-byte fixed part gives the hardware and protocol types and the
//! lengths of their addresses. Sender and target addresses follow, so the
//! header is `8 + 2 * (hardware length + protocol length)` bytes long: 28 for
//! Ethernet and IPv4, the only pair the summary stores.

use super::bytes::{array_at, check_len, clamped, offsets_fit, ranges_fit, u16_at, u8_at};
use super::{ArpInfo, DecodeError};

mod field {
    use std::ops::Range;

    pub const HARDWARE_TYPE: Range<usize> = 0..2;
    pub const PROTOCOL_TYPE: Range<usize> = 2..4;
    pub const HARDWARE_LEN: usize = 4;
    pub const PROTOCOL_LEN: usize = 5;
    pub const OPCODE: Range<usize> = 6..8;

    /// Addresses when the hardware length is 6 and the protocol length 4.
    pub const ETHERNET_SENDER_MAC: Range<usize> = 8..14;
    pub const IPV4_SENDER_IP: Range<usize> = 14..18;
    pub const ETHERNET_TARGET_MAC: Range<usize> = 18..24;
    pub const IPV4_TARGET_IP: Range<usize> = 24..28;
}

/// Length of the fixed part in bytes, before the addresses.
pub const FIXED_LEN: usize = field::OPCODE.end;

/// Hardware address length of Ethernet, in bytes.
pub const ETHERNET_ADDRESS_LEN: u8 = 6;

/// Protocol address length of IPv4, in bytes.
pub const IPV4_ADDRESS_LEN: u8 = 4;

/// Header length with Ethernet and IPv4 addresses, in bytes.
pub const ETHERNET_IPV4_HEADER_LEN: usize = field::IPV4_TARGET_IP.end;

const _: () = assert!(ranges_fit(
    &[field::HARDWARE_TYPE, field::PROTOCOL_TYPE, field::OPCODE],
    FIXED_LEN
));
const _: () = assert!(offsets_fit(
    &[field::HARDWARE_LEN, field::PROTOCOL_LEN],
    FIXED_LEN
));
const _: () = assert!(ranges_fit(
    &[
        field::ETHERNET_SENDER_MAC,
        field::IPV4_SENDER_IP,
        field::ETHERNET_TARGET_MAC,
        field::IPV4_TARGET_IP
    ],
    ETHERNET_IPV4_HEADER_LEN
));
const _: () = assert!(
    ETHERNET_IPV4_HEADER_LEN
        == FIXED_LEN + 2 * (ETHERNET_ADDRESS_LEN as usize + IPV4_ADDRESS_LEN as usize)
);

/// A borrowed ARP header.
#[derive(Clone, Copy, Debug)]
pub struct ArpHeader<'a> {
    /// The header from its first byte, at least `header_len()` bytes long.
    data: &'a [u8],
}

impl<'a> ArpHeader<'a> {
    /// Checks that `data` contains the fixed part and the four addresses.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, FIXED_LEN)?;
        let header = ArpHeader { data };
        check_len(data, header.header_len())?;
        Ok(header)
    }

    /// Hardware type: 1 for Ethernet.
    pub fn hardware_type(&self) -> u16 {
        u16_at(self.data, field::HARDWARE_TYPE)
    }

    /// Protocol type, an EtherType: 0x0800 for IPv4.
    pub fn protocol_type(&self) -> u16 {
        u16_at(self.data, field::PROTOCOL_TYPE)
    }

    /// Hardware address length in bytes.
    pub fn hardware_len(&self) -> u8 {
        u8_at(self.data, field::HARDWARE_LEN)
    }

    /// Protocol address length in bytes.
    pub fn protocol_len(&self) -> u8 {
        u8_at(self.data, field::PROTOCOL_LEN)
    }

    /// Operation: 1 request, 2 reply, 3 RARP request, 4 RARP reply.
    pub fn opcode(&self) -> u16 {
        u16_at(self.data, field::OPCODE)
    }

    /// Header length in bytes, addresses included.
    pub fn header_len(&self) -> usize {
        FIXED_LEN + 2 * (usize::from(self.hardware_len()) + usize::from(self.protocol_len()))
    }

    /// Sender hardware address.
    pub fn sender_hardware_address(&self) -> &'a [u8] {
        self.address(0, self.hardware_len())
    }

    /// Sender protocol address.
    pub fn sender_protocol_address(&self) -> &'a [u8] {
        self.address(usize::from(self.hardware_len()), self.protocol_len())
    }

    /// Target hardware address.
    pub fn target_hardware_address(&self) -> &'a [u8] {
        let offset = usize::from(self.hardware_len()) + usize::from(self.protocol_len());
        self.address(offset, self.hardware_len())
    }

    /// Target protocol address.
    pub fn target_protocol_address(&self) -> &'a [u8] {
        let offset = 2 * usize::from(self.hardware_len()) + usize::from(self.protocol_len());
        self.address(offset, self.protocol_len())
    }

    /// Returns the address of `len` bytes at `offset` after the fixed part.
    fn address(&self, offset: usize, len: u8) -> &'a [u8] {
        let start = FIXED_LEN + offset;
        clamped(self.data, start, start + usize::from(len))
    }

    /// Builds the summary of an ARP packet with 6-byte hardware and 4-byte
    /// protocol addresses.
    ///
    /// Any other pair of lengths (ARP over FireWire or InfiniBand, say, or a
    /// malformed packet) is reported as `InvalidLength` with the first length
    /// that differs, because [`ArpInfo`] has room for no other sizes.
    pub fn info(&self) -> Result<ArpInfo, DecodeError> {
        if self.hardware_len() != ETHERNET_ADDRESS_LEN {
            return Err(DecodeError::InvalidLength(u32::from(self.hardware_len())));
        }
        if self.protocol_len() != IPV4_ADDRESS_LEN {
            return Err(DecodeError::InvalidLength(u32::from(self.protocol_len())));
        }
        Ok(ArpInfo {
            opcode: self.opcode(),
            hardware_type: self.hardware_type(),
            protocol_type: self.protocol_type(),
            sender_mac: array_at(self.data, field::ETHERNET_SENDER_MAC),
            sender_ip: array_at(self.data, field::IPV4_SENDER_IP),
            target_mac: array_at(self.data, field::ETHERNET_TARGET_MAC),
            target_ip: array_at(self.data, field::IPV4_TARGET_IP),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ethernet;
    use crate::decode::test_frames::{ARP_WHO_HAS_1, ARP_WHO_HAS_2, SLL2_RARP_6};

    #[test]
    fn request_fields() {
        let header = ArpHeader::new(&ARP_WHO_HAS_1[ethernet::HEADER_LEN..]).unwrap();

        assert_eq!(header.hardware_type(), 1);
        assert_eq!(header.protocol_type(), 0x0800);
        assert_eq!(header.hardware_len(), 6);
        assert_eq!(header.protocol_len(), 4);
        assert_eq!(header.opcode(), 1);
        assert_eq!(header.header_len(), 28);
        assert_eq!(
            header.sender_hardware_address(),
            &[0x78, 0x31, 0xc1, 0xc6, 0x3f, 0xc2]
        );
        assert_eq!(header.sender_protocol_address(), &[10, 0, 0, 2]);
        assert_eq!(header.target_hardware_address(), &[0, 0, 0, 0, 0, 0]);
        assert_eq!(header.target_protocol_address(), &[10, 0, 0, 1]);
    }

    #[test]
    fn reply_info() {
        let header = ArpHeader::new(&ARP_WHO_HAS_2[ethernet::HEADER_LEN..]).unwrap();

        assert_eq!(
            header.info(),
            Ok(ArpInfo {
                opcode: 2,
                hardware_type: 1,
                protocol_type: 0x0800,
                sender_mac: [0xf8, 0xed, 0xa5, 0xc0, 0xa4, 0xf1],
                sender_ip: [10, 0, 0, 1],
                target_mac: [0x78, 0x31, 0xc1, 0xc6, 0x3f, 0xc2],
                target_ip: [10, 0, 0, 2],
            })
        );
    }

    #[test]
    fn rarp_request_info() {
        let header = ArpHeader::new(&SLL2_RARP_6[20..]).unwrap();
        let info = header.info().unwrap();

        assert_eq!(info.opcode, 3);
        assert_eq!(info.sender_mac, [0x8e, 0x36, 0x06, 0x44, 0xac, 0xaf]);
        assert_eq!(info.sender_ip, [192, 0, 2, 1]);
        assert_eq!(info.target_ip, [192, 0, 2, 2]);
    }

    #[test]
    fn other_address_lengths_are_rejected() {
        let mut bytes = ARP_WHO_HAS_1[ethernet::HEADER_LEN..].to_vec();
        bytes[field::HARDWARE_LEN] = 8;
        bytes.extend_from_slice(&[0; 4]);
        let header = ArpHeader::new(&bytes).unwrap();

        assert_eq!(header.header_len(), 32);
        assert_eq!(header.sender_protocol_address(), &[0x00, 0x02, 0x00, 0x00]);
        assert_eq!(header.info(), Err(DecodeError::InvalidLength(8)));

        bytes[field::HARDWARE_LEN] = 6;
        bytes[field::PROTOCOL_LEN] = 16;
        let header = ArpHeader::new(&bytes).unwrap_err();
        assert_eq!(
            header,
            DecodeError::Truncated {
                needed_bytes: 52,
                available_bytes: 32
            }
        );
    }

    #[test]
    fn every_truncation_is_reported() {
        let arp = &ARP_WHO_HAS_1[ethernet::HEADER_LEN..];
        for len in 0..arp.len() {
            let needed_bytes = if len < FIXED_LEN {
                FIXED_LEN
            } else {
                ETHERNET_IPV4_HEADER_LEN
            };

            assert_eq!(
                ArpHeader::new(&arp[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes,
                    available_bytes: len
                }
            );
        }
        assert!(ArpHeader::new(arp).is_ok());
    }
}
