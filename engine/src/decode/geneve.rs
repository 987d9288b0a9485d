//! Geneve (RFC 8926 section 3.4).

use super::bytes::{check_len, tail, u16_at, u32_at, u8_at};
use super::DecodeError;

/// Length of the fixed Geneve header.
pub const FIXED_LEN: usize = 8;

/// A borrowed Geneve header with its options.
#[derive(Clone, Copy, Debug)]
pub struct GeneveHeader<'a> {
    data: &'a [u8],
    header_len: usize,
}

impl<'a> GeneveHeader<'a> {
    /// Checks that `data` contains the fixed header and every option the
    /// option length field counts. Only version 0 is accepted.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, FIXED_LEN)?;
        let first = u8_at(data, 0);
        if first >> 6 != 0 {
            return Err(DecodeError::InvalidVersion(first >> 6));
        }
        let header_len = FIXED_LEN + usize::from(first & 0x3f) * 4;
        check_len(data, header_len)?;
        Ok(GeneveHeader { data, header_len })
    }

    /// The protocol type of the payload, an EtherType.
    pub fn protocol(&self) -> u16 {
        u16_at(self.data, 2..4)
    }

    /// The 24-bit virtual network identifier.
    pub fn vni(&self) -> u32 {
        u32_at(self.data, 4..8) >> 8
    }

    /// Bytes of options.
    pub fn options_len(&self) -> usize {
        self.header_len - FIXED_LEN
    }

    /// Bytes after the options.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, self.header_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn geneve_with_one_option() {
        let header = [0x02, 0, 0x65, 0x58, 0, 0x00, 0x2a, 0, 0x01, 0x02, 0x03, 0x01, 1, 2, 3, 4];
        let geneve = GeneveHeader::new(&header).unwrap();
        assert_eq!(geneve.protocol(), 0x6558);
        assert_eq!(geneve.vni(), 42);
        assert_eq!(geneve.options_len(), 8);
        assert_every_cut_truncated(&header, |data| GeneveHeader::new(data).map(|_| ()));
    }

    #[test]
    fn geneve_version_1_is_invalid() {
        assert_eq!(GeneveHeader::new(&[0x40, 0, 8, 0, 0, 0, 0, 0]).err(), Some(DecodeError::InvalidVersion(1)));
    }
}
