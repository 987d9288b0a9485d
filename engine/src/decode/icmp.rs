//! ICMP (RFC 792) and ICMPv6 (RFC 4443) headers.
//!
//! Both start with type, code and checksum, followed by 4 bytes whose meaning
//! depends on the type. For query messages those 4 bytes are an identifier
//! and a sequence number.

use super::bytes::{check_len, offsets_fit, ranges_fit, tail, u16_at, u32_at, u8_at};
use super::{DecodeError, IcmpInfo};

mod field {
    use std::ops::Range;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const REST_OF_HEADER: Range<usize> = 4..8;
    pub const IDENTIFIER: Range<usize> = 4..6;
    pub const SEQUENCE: Range<usize> = 6..8;
}

/// Length of the header in bytes, the type-specific 4 bytes included.
pub const HEADER_LEN: usize = field::REST_OF_HEADER.end;

const _: () = assert!(ranges_fit(
    &[
        field::CHECKSUM,
        field::REST_OF_HEADER,
        field::IDENTIFIER,
        field::SEQUENCE
    ],
    HEADER_LEN
));
const _: () = assert!(offsets_fit(&[field::TYPE, field::CODE], HEADER_LEN));

/// Returns true for the ICMP query types that carry an identifier and a
/// sequence number: echo reply (0) and request (8), timestamp (13, 14),
/// information (15, 16) and address mask (17, 18).
pub fn is_icmpv4_query(icmp_type: u8) -> bool {
    matches!(icmp_type, 0 | 8 | 13..=18)
}

/// Returns true for the ICMPv6 types that carry an identifier and a sequence
/// number: echo request (128) and reply (129).
pub fn is_icmpv6_query(icmp_type: u8) -> bool {
    matches!(icmp_type, 128 | 129)
}

/// A borrowed ICMP or ICMPv6 header.
#[derive(Clone, Copy, Debug)]
pub struct IcmpHeader<'a> {
    /// The message from its first byte, at least [`HEADER_LEN`] bytes long.
    data: &'a [u8],
}

impl<'a> IcmpHeader<'a> {
    /// Checks that `data` contains a whole 8-byte header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(IcmpHeader { data })
    }

    /// Message type.
    pub fn icmp_type(&self) -> u8 {
        u8_at(self.data, field::TYPE)
    }

    /// Message code.
    pub fn code(&self) -> u8 {
        u8_at(self.data, field::CODE)
    }

    /// Checksum, as sent (not verified).
    pub fn checksum(&self) -> u16 {
        u16_at(self.data, field::CHECKSUM)
    }

    /// Returns the 4 type-specific bytes after the checksum.
    pub fn rest_of_header(&self) -> u32 {
        u32_at(self.data, field::REST_OF_HEADER)
    }

    /// Identifier of a query message.
    pub fn identifier(&self) -> u16 {
        u16_at(self.data, field::IDENTIFIER)
    }

    /// Sequence number of a query message.
    pub fn sequence(&self) -> u16 {
        u16_at(self.data, field::SEQUENCE)
    }

    /// Returns the bytes after the 8-byte header as captured.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, HEADER_LEN)
    }

    /// Builds the summary of an ICMP message.
    pub fn icmpv4_info(&self) -> IcmpInfo {
        self.info(is_icmpv4_query(self.icmp_type()))
    }

    /// Builds the summary of an ICMPv6 message.
    pub fn icmpv6_info(&self) -> IcmpInfo {
        self.info(is_icmpv6_query(self.icmp_type()))
    }

    /// Builds the summary, with identifier and sequence when `is_query`.
    fn info(&self, is_query: bool) -> IcmpInfo {
        let (id, seq) = if is_query {
            (self.identifier(), self.sequence())
        } else {
            (0, 0)
        };
        IcmpInfo {
            icmp_type: self.icmp_type(),
            code: self.code(),
            id,
            seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_frames::{
        ICMP_ECHO_REPLY_2, ICMP_ECHO_REQUEST_1, ICMP_UNREACHABLE_1, NULL_AF28_ICMPV6_1,
        SLL2_ICMPV6_ECHO_3,
    };

    #[test]
    fn echo_request() {
        let header = IcmpHeader::new(&ICMP_ECHO_REQUEST_1[34..]).unwrap();

        assert_eq!(header.icmp_type(), 8);
        assert_eq!(header.code(), 0);
        assert_eq!(header.checksum(), 0xef24);
        assert_eq!(header.identifier(), 1226);
        assert_eq!(header.sequence(), 1);
        assert_eq!(header.rest_of_header(), 0x04ca_0001);
        assert_eq!(header.payload().len(), 56);
        assert_eq!(
            header.icmpv4_info(),
            IcmpInfo {
                icmp_type: 8,
                code: 0,
                id: 1226,
                seq: 1
            }
        );
    }

    #[test]
    fn echo_reply() {
        let header = IcmpHeader::new(&ICMP_ECHO_REPLY_2[34..]).unwrap();

        assert_eq!(header.checksum(), 0xf724);
        assert_eq!(
            header.icmpv4_info(),
            IcmpInfo {
                icmp_type: 0,
                code: 0,
                id: 1226,
                seq: 1
            }
        );
    }

    #[test]
    fn unreachable_has_no_identifier() {
        let header = IcmpHeader::new(&ICMP_UNREACHABLE_1[34..]).unwrap();

        assert_eq!(header.checksum(), 0x03bb);
        assert_eq!(
            header.icmpv4_info(),
            IcmpInfo {
                icmp_type: 3,
                code: 3,
                id: 0,
                seq: 0
            }
        );
    }

    #[test]
    fn icmpv6_echo_request() {
        let header = IcmpHeader::new(&SLL2_ICMPV6_ECHO_3[60..]).unwrap();

        assert_eq!(header.checksum(), 0xa8d7);
        assert_eq!(
            header.icmpv6_info(),
            IcmpInfo {
                icmp_type: 128,
                code: 0,
                id: 9,
                seq: 1
            }
        );
    }

    #[test]
    fn icmpv6_router_renumbering_has_no_identifier() {
        let header = IcmpHeader::new(&NULL_AF28_ICMPV6_1[44..]).unwrap();

        assert_eq!(header.checksum(), 0xdf3a);
        assert_eq!(
            header.icmpv6_info(),
            IcmpInfo {
                icmp_type: 138,
                code: 0,
                id: 0,
                seq: 0
            }
        );
    }

    #[test]
    fn query_types() {
        let v4: Vec<u8> = (0..=255).filter(|&t| is_icmpv4_query(t)).collect();
        let v6: Vec<u8> = (0..=255).filter(|&t| is_icmpv6_query(t)).collect();

        assert_eq!(v4, [0, 8, 13, 14, 15, 16, 17, 18]);
        assert_eq!(v6, [128, 129]);
    }

    #[test]
    fn every_truncation_is_reported() {
        let message = &ICMP_ECHO_REQUEST_1[34..];
        for len in 0..HEADER_LEN {
            assert_eq!(
                IcmpHeader::new(&message[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: HEADER_LEN,
                    available_bytes: len
                }
            );
        }
    }
}
