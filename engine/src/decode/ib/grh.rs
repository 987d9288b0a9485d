//! The InfiniBand Global Route Header (IBTA volume 1, section 8.3), laid
//! out like an IPv6 header with GIDs for addresses. RoCE version 1 starts
//! with it.

use super::super::bytes::{array_at, check_len, tail, u16_at, u8_at};
use super::super::DecodeError;

/// Length of the header.
pub const HEADER_LEN: usize = 40;

/// Next header value that announces an IBA transport header (BTH).
pub const NEXT_HEADER_IBA: u8 = 0x1b;

/// A borrowed Global Route Header.
#[derive(Clone, Copy, Debug)]
pub struct GrhHeader<'a> {
    data: &'a [u8],
}

impl<'a> GrhHeader<'a> {
    /// Checks that `data` contains a whole header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(GrhHeader { data })
    }

    /// IP version field (6 for IBA packets).
    pub fn version(&self) -> u8 {
        u8_at(self.data, 0) >> 4
    }

    /// Traffic class byte.
    pub fn traffic_class(&self) -> u8 {
        (u16_at(self.data, 0..2) >> 4) as u8
    }

    /// Bytes after the GRH up to and including the invariant CRC.
    pub fn payload_len_bytes(&self) -> u16 {
        u16_at(self.data, 4..6)
    }

    /// Next header: [`NEXT_HEADER_IBA`] for a BTH.
    pub fn next_header(&self) -> u8 {
        u8_at(self.data, 6)
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        u8_at(self.data, 7)
    }

    /// Source GID.
    pub fn src_gid(&self) -> [u8; 16] {
        array_at(self.data, 8..24)
    }

    /// Destination GID.
    pub fn dst_gid(&self) -> [u8; 16] {
        array_at(self.data, 24..40)
    }

    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn grh_fields() {
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(&[0x60, 0x20, 0x00, 0x00, 0x00, 0x24, 0x1b, 0x40]);
        header[8] = 0xfe;
        header[39] = 0x02;
        let grh = GrhHeader::new(&header).unwrap();
        assert_eq!(grh.version(), 6);
        assert_eq!(grh.traffic_class(), 0x02);
        assert_eq!(grh.payload_len_bytes(), 0x24);
        assert_eq!(grh.next_header(), NEXT_HEADER_IBA);
        assert_eq!(grh.hop_limit(), 0x40);
        assert_eq!(grh.src_gid()[0], 0xfe);
        assert_eq!(grh.dst_gid()[15], 0x02);
        assert_every_cut_truncated(&header, |data| GrhHeader::new(data).map(|_| ()));
    }
}
