//! Generic UDP Encapsulation (GUE, draft-ietf-intarea-gue-09, UDP 6080).
//!
//! The first two bits are the variant. Variant 0 has a 4-byte header: the
//! C bit (control message), the length of the optional fields in 32-bit
//! words, the IP protocol number of the payload and 16 flag bits. Variant 1
//! has no header: the payload is an IPv4 or IPv6 packet, whose version
//! nibble (0100 or 0110) starts with the bits 01.

use super::bytes::{check_len, tail, u8_at};
use super::DecodeError;

/// Length of the variant 0 header without optional fields.
pub const FIXED_LEN: usize = 4;

/// Contents of a GUE datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuePayload<'a> {
    /// Variant 0 data: a packet of this IP protocol number.
    Protocol(u8, &'a [u8]),
    /// Variant 0 control message, which carries no packet.
    Control,
    /// Variant 1: an IPv4 or IPv6 packet.
    Ip(&'a [u8]),
}

/// Reads a GUE datagram payload. Variants 2 and 3 are reserved and invalid.
pub fn payload(data: &[u8]) -> Result<GuePayload<'_>, DecodeError> {
    check_len(data, 1)?;
    let first = u8_at(data, 0);
    match first >> 6 {
        0 => {
            check_len(data, FIXED_LEN)?;
            if first & 0x20 != 0 {
                return Ok(GuePayload::Control);
            }
            let header_len = FIXED_LEN + usize::from(first & 0x1f) * 4;
            check_len(data, header_len)?;
            Ok(GuePayload::Protocol(u8_at(data, 1), tail(data, header_len)))
        }
        1 => Ok(GuePayload::Ip(data)),
        variant => Err(DecodeError::InvalidVersion(variant)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn variant_0_with_optional_fields() {
        let header = [0x01, 4, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 0x45];
        assert_eq!(payload(&header), Ok(GuePayload::Protocol(4, &[0x45][..])));
        assert_every_cut_truncated(&header[..8], |data| payload(data).map(|_| ()));
    }

    #[test]
    fn variant_0_control_and_variant_1() {
        assert_eq!(payload(&[0x20, 0, 0, 0]), Ok(GuePayload::Control));
        assert_eq!(payload(&[0x60, 0]), Ok(GuePayload::Ip(&[0x60, 0][..])));
        assert_eq!(payload(&[0x80, 0, 0, 0]), Err(DecodeError::InvalidVersion(2)));
    }
}
