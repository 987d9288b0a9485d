//! Linux NFLOG captures (`LINKTYPE_NFLOG`, 239): a 4-byte header, then
//! type-length-value attributes in the writer's byte order, each padded to
//! 4 bytes (<https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html>).

use super::bytes::{check_len, clamped, tail, u8_at};
use super::DecodeError;

/// Length of the header: address family, version, resource id.
const HEADER_LEN: usize = 4;
/// Length of an attribute's length and type fields.
const TLV_HEADER_LEN: usize = 4;
/// Attribute type of the logged packet.
pub const TLV_PAYLOAD: u16 = 9;
/// Address family of IPv4 payloads.
pub const AF_INET: u8 = 2;
/// Address family of IPv6 payloads.
pub const AF_INET6: u8 = 10;

/// Returns the address family and the logged packet of an NFLOG frame, or
/// `None` for the packet when no payload attribute is present.
///
/// NOTE: the lengths and types are read as little-endian, the byte order
/// of the x86 and ARM hosts that write nearly all such captures.
pub fn payload(data: &[u8]) -> Result<(u8, Option<&[u8]>), DecodeError> {
    check_len(data, HEADER_LEN)?;
    let family = u8_at(data, 0);
    let mut rest = tail(data, HEADER_LEN);
    while !rest.is_empty() {
        check_len(rest, TLV_HEADER_LEN)?;
        let len = usize::from(u16::from_le_bytes([u8_at(rest, 0), u8_at(rest, 1)]));
        let tlv_type = u16::from_le_bytes([u8_at(rest, 2), u8_at(rest, 3)]);
        if len < TLV_HEADER_LEN {
            return Err(DecodeError::InvalidLength(len as u32));
        }
        if tlv_type == TLV_PAYLOAD {
            return Ok((family, Some(clamped(rest, TLV_HEADER_LEN, len))));
        }
        check_len(rest, len)?;
        rest = tail(rest, len.next_multiple_of(4));
    }
    Ok((family, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_after_prefix_attribute() {
        let frame = [2, 0, 0, 42, 5, 0, 10, 0, 0xaa, 0, 0, 0, 6, 0, 9, 0, 0x45, 0x00];
        assert_eq!(payload(&frame), Ok((AF_INET, Some(&frame[16..18]))));
        for len in [0, 3, 5, 8] {
            assert!(matches!(payload(&frame[..len]), Err(DecodeError::Truncated { .. })), "cut at {len}");
        }
    }

    #[test]
    fn no_payload_attribute() {
        assert_eq!(payload(&[10, 0, 0, 1]), Ok((AF_INET6, None)));
    }

    #[test]
    fn attribute_shorter_than_its_header() {
        assert_eq!(payload(&[2, 0, 0, 1, 2, 0, 1, 0]), Err(DecodeError::InvalidLength(2)));
    }
}
