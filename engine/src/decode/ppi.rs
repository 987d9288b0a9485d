//! Per-Packet Information headers (`LINKTYPE_PPI`, 192): an 8-byte header
//! with the header's total length and the link type of the packet after
//! it, then optional fields (radio or capture metadata) that flow
//! accounting does not need (<https://www.tcpdump.org/linktypes/LINKTYPE_PPI.html>).

use super::bytes::{check_len, tail, u8_at};
use super::DecodeError;
use crate::packet::LinkType;

/// Length of the fixed header: version, flags, length, link type.
const HEADER_LEN: usize = 8;
/// The only PPI version defined.
const VERSION: u8 = 0;

/// Returns the link type and the bytes of the packet a PPI header wraps.
/// The length and link type fields are little-endian, as the format fixes.
/// A packet that is itself PPI is rejected, so nesting cannot recurse.
pub fn payload(data: &[u8]) -> Result<(LinkType, &[u8]), DecodeError> {
    check_len(data, HEADER_LEN)?;
    let version = u8_at(data, 0);
    if version != VERSION {
        return Err(DecodeError::InvalidVersion(version));
    }
    let header_len = usize::from(u16::from_le_bytes([u8_at(data, 2), u8_at(data, 3)]));
    if header_len < HEADER_LEN {
        return Err(DecodeError::InvalidHeaderLength(header_len));
    }
    check_len(data, header_len)?;
    let link_type = u32::from_le_bytes([u8_at(data, 4), u8_at(data, 5), u8_at(data, 6), u8_at(data, 7)]);
    let link_type = match u16::try_from(link_type) {
        Ok(value) if LinkType(value) != LinkType::PPI => LinkType(value),
        _ => return Err(DecodeError::UnsupportedLinkType(u16::try_from(link_type).unwrap_or(u16::MAX))),
    };
    Ok((link_type, tail(data, header_len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a PPI header of `header_len` bytes for `link_type`, then `packet`.
    fn ppi(header_len: u16, link_type: u32, packet: &[u8]) -> Vec<u8> {
        let mut frame = vec![VERSION, 0];
        frame.extend_from_slice(&header_len.to_le_bytes());
        frame.extend_from_slice(&link_type.to_le_bytes());
        frame.resize(usize::from(header_len).max(HEADER_LEN), 0);
        frame.extend_from_slice(packet);
        frame
    }

    #[test]
    fn packet_after_fields() {
        let frame = ppi(16, 1, &[0xaa, 0xbb]);
        assert_eq!(payload(&frame), Ok((LinkType::ETHERNET, &[0xaa, 0xbb][..])));
    }

    #[test]
    fn invalid_headers_rejected() {
        assert!(matches!(payload(&ppi(16, 1, &[])[..7]), Err(DecodeError::Truncated { .. })));
        assert!(matches!(payload(&ppi(16, 1, &[])[..12]), Err(DecodeError::Truncated { .. })));
        assert_eq!(payload(&ppi(4, 1, &[])), Err(DecodeError::InvalidHeaderLength(4)));
        let mut version_one = ppi(8, 1, &[]);
        version_one[0] = 1;
        assert_eq!(payload(&version_one), Err(DecodeError::InvalidVersion(1)));
        assert_eq!(payload(&ppi(8, 192, &[])), Err(DecodeError::UnsupportedLinkType(192)));
        assert_eq!(payload(&ppi(8, 70_000, &[])), Err(DecodeError::UnsupportedLinkType(u16::MAX)));
    }
}
