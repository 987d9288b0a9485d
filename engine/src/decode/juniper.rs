//! The Juniper pseudo-header of `LINKTYPE_JUNIPER_ETHER` (178): the magic
//! "MGC", a flags byte, and with flag 0x80 a 2-byte length of extension
//! TLVs that follow.

use super::bytes::{check_len, tail, u16_at, u8_at};
use super::DecodeError;

const MAGIC: [u8; 3] = *b"MGC";
const FIXED_LEN: usize = 4;
const FLAG_EXTENSIONS: u8 = 0x80;
/// Set when the frame has no layer-2 header.
const FLAG_NO_L2: u8 = 0x02;

/// Returns the Ethernet frame after the pseudo-header, or `None` when the
/// flags say the layer-2 header is missing.
pub fn ethernet_payload(data: &[u8]) -> Result<Option<&[u8]>, DecodeError> {
    check_len(data, FIXED_LEN)?;
    if data[..3] != MAGIC {
        return Err(DecodeError::InvalidVersion(u8_at(data, 0)));
    }
    let flags = u8_at(data, 3);
    let mut header_len = FIXED_LEN;
    if flags & FLAG_EXTENSIONS != 0 {
        check_len(data, FIXED_LEN + 2)?;
        header_len += 2 + usize::from(u16_at(data, 4..6));
        check_len(data, header_len)?;
    }
    Ok((flags & FLAG_NO_L2 == 0).then(|| tail(data, header_len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn pseudo_header_with_extensions() {
        let frame = [b'M', b'G', b'C', 0x80, 0x00, 0x02, 0x03, 0x01, 0xee];
        assert_eq!(ethernet_payload(&frame), Ok(Some(&frame[8..])));
        assert_every_cut_truncated(&frame[..8], |data| ethernet_payload(data).map(|_| ()));
    }

    #[test]
    fn wrong_magic() {
        assert_eq!(ethernet_payload(b"XGC\0"), Err(DecodeError::InvalidVersion(b'X')));
    }
}
