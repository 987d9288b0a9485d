//! Geneve (RFC 8926 section 3.4).

use super::bytes::{check_len, tail, u16_at, u32_at, u8_at};
use super::DecodeError;

/// Length of the fixed Geneve header.
pub const FIXED_LEN: usize = 8;

/// Length of an option's header: class, type, and the length in 4-byte
/// words of its data.
pub const OPTION_HEADER_LEN: usize = 4;

/// A borrowed Geneve header with its options.
#[derive(Clone, Copy, Debug)]
pub struct GeneveHeader<'a> {
    data: &'a [u8],
    header_len: usize,
}

impl<'a> GeneveHeader<'a> {
    /// Checks that `data` contains the fixed header and every option the
    /// option length field counts, and that the options, walked by their
    /// own lengths, end exactly where that field puts the payload. Only
    /// version 0 is accepted.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, FIXED_LEN)?;
        let first = u8_at(data, 0);
        if first >> 6 != 0 {
            return Err(DecodeError::InvalidVersion(first >> 6));
        }
        let header_len = FIXED_LEN + usize::from(first & 0x3f) * 4;
        check_len(data, header_len)?;
        let header = GeneveHeader { data, header_len };
        header.walk_options()?;
        Ok(header)
    }

    /// Walks the options and returns how many there are, or
    /// `InvalidLength` with the option's length in bytes when one runs past
    /// the options.
    fn walk_options(&self) -> Result<usize, DecodeError> {
        let mut at = FIXED_LEN;
        let mut count = 0;
        while at < self.header_len {
            if at + OPTION_HEADER_LEN > self.header_len {
                return Err(DecodeError::InvalidLength((self.header_len - at) as u32));
            }
            let option_len = OPTION_HEADER_LEN + usize::from(u8_at(self.data, at + 3) & 0x1f) * 4;
            if at + option_len > self.header_len {
                return Err(DecodeError::InvalidLength(option_len as u32));
            }
            at += option_len;
            count += 1;
        }
        Ok(count)
    }

    /// Number of options.
    pub fn option_count(&self) -> usize {
        self.walk_options().unwrap_or(0)
    }

    /// Returns true for a control message (the O bit).
    pub fn is_control(&self) -> bool {
        u8_at(self.data, 1) & 0x80 != 0
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
        assert_eq!(geneve.option_count(), 1);
        assert!(!geneve.is_control());
        assert_every_cut_truncated(&header, |data| GeneveHeader::new(data).map(|_| ()));
    }

    #[test]
    fn geneve_option_past_options_is_invalid() {
        // Options length 2 words, but the option claims 2 words of data.
        let header = [0x02, 0, 0x65, 0x58, 0, 0, 0x2a, 0, 0x01, 0x02, 0x03, 0x02, 1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(GeneveHeader::new(&header).err(), Some(DecodeError::InvalidLength(12)));
    }

    #[test]
    fn geneve_walks_several_options() {
        let mut header = vec![0x05, 0, 0x08, 0x00, 0, 0, 0x07, 0];
        header.extend([0x01, 0x02, 0x80, 0x00]);
        header.extend([0xff, 0xff, 0x01, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let geneve = GeneveHeader::new(&header).unwrap();
        assert_eq!(geneve.option_count(), 2);
        assert_eq!(geneve.vni(), 7);
    }

    #[test]
    fn geneve_version_1_is_invalid() {
        assert_eq!(GeneveHeader::new(&[0x40, 0, 8, 0, 0, 0, 0, 0]).err(), Some(DecodeError::InvalidVersion(1)));
    }
}
