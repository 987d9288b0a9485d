//! PPPoE headers (RFC 2516 section 4).

use super::bytes::{check_len, clamped, u16_at, u8_at};
use super::DecodeError;

/// Length of the PPPoE header: version and type, code, session id, length.
pub const HEADER_LEN: usize = 6;

/// A borrowed PPPoE header.
#[derive(Clone, Copy, Debug)]
pub struct PppoeHeader<'a> {
    data: &'a [u8],
}

impl<'a> PppoeHeader<'a> {
    /// Checks that `data` contains a whole PPPoE header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(PppoeHeader { data })
    }

    /// The code: 0 for session data, discovery codes otherwise.
    pub fn code(&self) -> u8 {
        u8_at(self.data, 1)
    }

    /// The session id (0 before a session is set up).
    pub fn session_id(&self) -> u16 {
        u16_at(self.data, 2..4)
    }

    /// The payload length field in bytes.
    pub fn length(&self) -> u16 {
        u16_at(self.data, 4..6)
    }

    /// The payload as captured, cut to the length field (so Ethernet
    /// padding is left out).
    pub fn payload(&self) -> &'a [u8] {
        clamped(self.data, HEADER_LEN, HEADER_LEN + usize::from(self.length()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn session_header() {
        let frame = [0x11, 0x00, 0x12, 0x34, 0x00, 0x02, 0x00, 0x57, 0xaa];
        let header = PppoeHeader::new(&frame).unwrap();
        assert_eq!(header.code(), 0);
        assert_eq!(header.session_id(), 0x1234);
        assert_eq!(header.length(), 2);
        assert_eq!(header.payload(), &[0x00, 0x57]);
        assert_every_cut_truncated(&frame[..6], |data| PppoeHeader::new(data).map(|_| ()));
    }
}
