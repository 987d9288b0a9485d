//! UDP headers (RFC 768).

use super::bytes::{check_len, clamped, ranges_fit, u16_at};
use super::{DecodeError, UdpInfo};

mod field {
    use std::ops::Range;

    pub const SOURCE_PORT: Range<usize> = 0..2;
    pub const DESTINATION_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
}

/// Length of the header in bytes.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

const _: () = assert!(ranges_fit(
    &[
        field::SOURCE_PORT,
        field::DESTINATION_PORT,
        field::LENGTH,
        field::CHECKSUM
    ],
    HEADER_LEN
));

/// A borrowed UDP header.
#[derive(Clone, Copy, Debug)]
pub struct UdpHeader<'a> {
    /// The datagram from its first byte, at least [`HEADER_LEN`] bytes long.
    data: &'a [u8],
}

impl<'a> UdpHeader<'a> {
    /// Checks the header of the datagram in `data`.
    ///
    /// Returns `Truncated` when fewer than 8 bytes are captured and
    /// `InvalidLength` when the length field is below 8.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        let header = UdpHeader { data };
        if usize::from(header.length()) < HEADER_LEN {
            return Err(DecodeError::InvalidLength(u32::from(header.length())));
        }
        Ok(header)
    }

    /// Checks the header of a datagram in an IPv6 jumbogram, whose length
    /// field may be 0 (RFC 2675 section 4): the IP payload length then gives
    /// the datagram's length.
    pub fn new_in_jumbogram(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        let header = UdpHeader { data };
        if header.length() == 0 {
            return Ok(header);
        }
        Self::new(data)
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        u16_at(self.data, field::SOURCE_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        u16_at(self.data, field::DESTINATION_PORT)
    }

    /// Length of the datagram in bytes, header included; 0 in a jumbogram.
    pub fn length(&self) -> u16 {
        u16_at(self.data, field::LENGTH)
    }

    /// Checksum, as sent (not verified); 0 when the sender computed none.
    pub fn checksum(&self) -> u16 {
        u16_at(self.data, field::CHECKSUM)
    }

    /// Returns the payload as captured, cut to the length field unless it is
    /// 0.
    pub fn payload(&self) -> &'a [u8] {
        let end = match self.length() {
            0 => self.data.len(),
            length => usize::from(length),
        };
        clamped(self.data, HEADER_LEN, end)
    }

    /// Builds the summary of the header.
    pub fn info(&self) -> UdpInfo {
        UdpInfo {
            src_port: self.src_port(),
            dst_port: self.dst_port(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_frames::{BAD_UDP_LEN_1, RAW_IPV4_UDP_14, RAW_IPV6_UDP_1, UDP_DNS_4};

    #[test]
    fn dns_query_fields() {
        let header = UdpHeader::new(&UDP_DNS_4[34..]).unwrap();

        assert_eq!(header.src_port(), 65170);
        assert_eq!(header.dst_port(), 53);
        assert_eq!(header.length(), 44);
        assert_eq!(header.checksum(), 0xf2af);
        assert_eq!(header.payload().len(), 36);
        assert_eq!(
            header.info(),
            UdpInfo {
                src_port: 65170,
                dst_port: 53
            }
        );
    }

    #[test]
    fn raw_ipv4_datagram() {
        let header = UdpHeader::new(&RAW_IPV4_UDP_14[20..]).unwrap();

        assert_eq!(header.src_port(), 42424);
        assert_eq!(header.dst_port(), 20011);
        assert_eq!(header.length(), 143);
        assert_eq!(header.checksum(), 0x24b8);
    }

    #[test]
    fn ipv6_datagram() {
        let header = UdpHeader::new(&RAW_IPV6_UDP_1[40..]).unwrap();

        assert_eq!(header.src_port(), 55941);
        assert_eq!(header.dst_port(), 53);
        assert_eq!(header.length(), 56);
        assert_eq!(header.checksum(), 0x3ec3);
    }

    #[test]
    fn length_below_eight_is_rejected() {
        let mut datagram = UDP_DNS_4[34..].to_vec();
        for length in 0..8 {
            datagram[5] = length;
            assert_eq!(
                UdpHeader::new(&datagram).unwrap_err(),
                DecodeError::InvalidLength(u32::from(length))
            );
        }
    }

    #[test]
    fn jumbogram_allows_length_zero() {
        let mut datagram = UDP_DNS_4[34..].to_vec();
        datagram[4] = 0;
        datagram[5] = 0;
        let header = UdpHeader::new_in_jumbogram(&datagram).unwrap();

        assert_eq!(header.length(), 0);
        assert_eq!(header.payload().len(), 36);

        datagram[5] = 7;
        assert_eq!(
            UdpHeader::new_in_jumbogram(&datagram).unwrap_err(),
            DecodeError::InvalidLength(7)
        );
    }

    #[test]
    fn header_cut_at_4_bytes() {
        assert_eq!(
            UdpHeader::new(&BAD_UDP_LEN_1[34..]).unwrap_err(),
            DecodeError::Truncated {
                needed_bytes: HEADER_LEN,
                available_bytes: 4
            }
        );
    }

    #[test]
    fn every_truncation_is_reported() {
        let datagram = &UDP_DNS_4[34..];
        for len in 0..HEADER_LEN {
            assert_eq!(
                UdpHeader::new(&datagram[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: HEADER_LEN,
                    available_bytes: len
                }
            );
        }
        for len in HEADER_LEN..=datagram.len() {
            assert_eq!(
                UdpHeader::new(&datagram[..len]).unwrap().payload().len(),
                len - HEADER_LEN
            );
        }
    }
}
