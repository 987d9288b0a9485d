//! L2TP version 2 headers (RFC 2661 section 3.1).

use super::bytes::{check_len, tail, u16_at, u8_at};
use super::DecodeError;

/// Length of the flags, tunnel id and session id, the fields every header
/// has.
const MIN_LEN: usize = 6;

mod flag {
    pub const CONTROL: u16 = 0x8000;
    pub const LENGTH: u16 = 0x4000;
    pub const SEQUENCE: u16 = 0x0800;
    pub const OFFSET: u16 = 0x0200;
}

/// A borrowed L2TPv2 header.
#[derive(Clone, Copy, Debug)]
pub struct L2tpHeader<'a> {
    data: &'a [u8],
    /// Offset of the tunnel id.
    ids_at: usize,
    header_len: usize,
}

impl<'a> L2tpHeader<'a> {
    /// Checks that `data` contains an L2TP version 2 header with every
    /// field its flags announce, the offset padding included.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, MIN_LEN)?;
        let flags = u16_at(data, 0..2);
        let version = (flags & 0x000f) as u8;
        if version != 2 {
            return Err(DecodeError::InvalidVersion(version));
        }
        let ids_at = if flags & flag::LENGTH != 0 { 4 } else { 2 };
        let mut header_len = ids_at + 4;
        if flags & flag::SEQUENCE != 0 {
            header_len += 4;
        }
        if flags & flag::OFFSET != 0 {
            check_len(data, header_len + 2)?;
            header_len += 2 + usize::from(u16_at(data, header_len..header_len + 2));
        }
        check_len(data, header_len)?;
        Ok(L2tpHeader { data, ids_at, header_len })
    }

    /// Returns true for a control message, false for a data message.
    pub fn is_control(&self) -> bool {
        u8_at(self.data, 0) & (flag::CONTROL >> 8) as u8 != 0
    }

    /// The tunnel id.
    pub fn tunnel_id(&self) -> u16 {
        u16_at(self.data, self.ids_at..self.ids_at + 2)
    }

    /// The session id.
    pub fn session_id(&self) -> u16 {
        u16_at(self.data, self.ids_at + 2..self.ids_at + 4)
    }

    /// The PPP frame of a data message.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, self.header_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn data_with_length_and_offset() {
        let header = [0x42, 0x02, 0x00, 0x10, 0x00, 0x05, 0x00, 0x09, 0x00, 0x01, 0xee];
        let l2tp = L2tpHeader::new(&header).unwrap();
        assert!(!l2tp.is_control());
        assert_eq!(l2tp.tunnel_id(), 5);
        assert_eq!(l2tp.session_id(), 9);
        assert!(l2tp.payload().is_empty());
        assert_every_cut_truncated(&header, |data| L2tpHeader::new(data).map(|_| ()));
    }

    #[test]
    fn control_message() {
        let header = [0xc8, 0x02, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0, 0, 0, 0];
        let l2tp = L2tpHeader::new(&header).unwrap();
        assert!(l2tp.is_control());
        assert_every_cut_truncated(&header, |data| L2tpHeader::new(data).map(|_| ()));
    }

    #[test]
    fn l2tpv3_is_rejected() {
        assert_eq!(L2tpHeader::new(&[0, 3, 0, 0, 0, 0]).err(), Some(DecodeError::InvalidVersion(3)));
    }
}
