//! The InfiniBand Base Transport Header (IBTA volume 1, section 9.2), 12
//! bytes that every IBA transport packet carries.

use super::super::bytes::{check_len, tail, u16_at, u32_at, u8_at};
use super::super::DecodeError;

/// Length of the header.
pub const HEADER_LEN: usize = 12;

/// A borrowed Base Transport Header.
#[derive(Clone, Copy, Debug)]
pub struct BthHeader<'a> {
    data: &'a [u8],
}

impl<'a> BthHeader<'a> {
    /// Checks that `data` contains a whole header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(BthHeader { data })
    }

    /// Operation code: transport service in the high 3 bits, operation in
    /// the low 5.
    pub fn opcode(&self) -> u8 {
        u8_at(self.data, 0)
    }

    /// Solicited event bit.
    pub fn solicited_event(&self) -> bool {
        u8_at(self.data, 1) & 0x80 != 0
    }

    /// Migration request bit.
    pub fn migration_request(&self) -> bool {
        u8_at(self.data, 1) & 0x40 != 0
    }

    /// Pad bytes (0 to 3) between the payload and the invariant CRC.
    pub fn pad_bytes(&self) -> u8 {
        (u8_at(self.data, 1) >> 4) & 0x03
    }

    /// Partition key.
    pub fn pkey(&self) -> u16 {
        u16_at(self.data, 2..4)
    }

    /// Forward explicit congestion notification bit.
    pub fn fecn(&self) -> bool {
        u8_at(self.data, 4) & 0x80 != 0
    }

    /// Backward explicit congestion notification bit.
    pub fn becn(&self) -> bool {
        u8_at(self.data, 4) & 0x40 != 0
    }

    /// Destination queue pair number (24 bits).
    pub fn dest_qp(&self) -> u32 {
        u32_at(self.data, 4..8) & 0x00ff_ffff
    }

    /// Acknowledge request bit.
    pub fn ack_request(&self) -> bool {
        u8_at(self.data, 8) & 0x80 != 0
    }

    /// Packet sequence number (24 bits).
    pub fn psn(&self) -> u32 {
        u32_at(self.data, 8..12) & 0x00ff_ffff
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
    fn bth_fields() {
        let header = [0x0a, 0xa0, 0xff, 0xff, 0xc0, 0x00, 0x01, 0x02, 0x80, 0x00, 0x00, 0x64];
        let bth = BthHeader::new(&header).unwrap();
        assert_eq!(bth.opcode(), 0x0a);
        assert!(bth.solicited_event());
        assert!(!bth.migration_request());
        assert_eq!(bth.pad_bytes(), 2);
        assert_eq!(bth.pkey(), 0xffff);
        assert!(bth.fecn());
        assert!(bth.becn());
        assert_eq!(bth.dest_qp(), 0x102);
        assert!(bth.ack_request());
        assert_eq!(bth.psn(), 100);
        assert_every_cut_truncated(&header, |data| BthHeader::new(data).map(|_| ()));
    }
}
