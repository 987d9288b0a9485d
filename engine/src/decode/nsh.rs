//! Network service header (RFC 8300).

use super::bytes::{check_len, tail, u8_at};
use super::DecodeError;

/// Length of the base header and service path header.
pub const MIN_LEN: usize = 8;

/// A borrowed NSH header with its context headers.
#[derive(Clone, Copy, Debug)]
pub struct NshHeader<'a> {
    data: &'a [u8],
    header_len: usize,
}

impl<'a> NshHeader<'a> {
    /// Checks that `data` contains the whole header its length field gives.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, MIN_LEN)?;
        let header_len = usize::from(u8_at(data, 1) & 0x3f) * 4;
        if header_len < MIN_LEN {
            return Err(DecodeError::InvalidHeaderLength(header_len));
        }
        check_len(data, header_len)?;
        Ok(NshHeader { data, header_len })
    }

    /// The next protocol: 1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS.
    pub fn next_protocol(&self) -> u8 {
        u8_at(self.data, 3)
    }

    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, self.header_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn nsh_with_context() {
        let header = [0x0f, 0x03, 0x01, 0x01, 0, 0, 1, 0xff, 0, 0, 0, 0];
        let nsh = NshHeader::new(&header).unwrap();
        assert_eq!(nsh.next_protocol(), 1);
        assert!(nsh.payload().is_empty());
        assert_every_cut_truncated(&header, |data| NshHeader::new(data).map(|_| ()));
    }

    #[test]
    fn nsh_length_below_minimum() {
        let header = [0x0f, 0x01, 0x01, 0x01, 0, 0, 1, 0xff];
        assert_eq!(NshHeader::new(&header).err(), Some(DecodeError::InvalidHeaderLength(4)));
    }
}
