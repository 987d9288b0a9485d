//! GTP-U version 1 headers (3GPP TS 29.281 section 5).

use super::bytes::{check_len, tail, u32_at, u8_at};
use super::DecodeError;

/// Length of the mandatory part of the header.
pub const FIXED_LEN: usize = 8;
/// Length of the sequence number, N-PDU number and next extension type
/// fields, present when any of the E, S or PN flags is set.
const OPTIONAL_LEN: usize = 4;
/// The message type of a G-PDU, which carries a user packet.
pub const MESSAGE_G_PDU: u8 = 0xff;
/// Most extension headers the view follows before it reports `TooDeep`.
pub const MAX_EXTENSION_HEADERS: usize = 8;

/// A borrowed GTP-U header with its extension headers.
#[derive(Clone, Copy, Debug)]
pub struct GtpUHeader<'a> {
    data: &'a [u8],
    header_len: usize,
}

impl<'a> GtpUHeader<'a> {
    /// Checks that `data` contains a GTP version 1 header with protocol type
    /// GTP, its optional fields and its chain of extension headers.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, FIXED_LEN)?;
        let flags = u8_at(data, 0);
        let version = flags >> 5;
        if version != 1 || flags & 0x10 == 0 {
            return Err(DecodeError::InvalidVersion(version));
        }
        if flags & 0x07 == 0 {
            return Ok(GtpUHeader { data, header_len: FIXED_LEN });
        }

        let mut header_len = FIXED_LEN + OPTIONAL_LEN;
        check_len(data, header_len)?;
        let mut next_type = if flags & 0x04 != 0 { u8_at(data, header_len - 1) } else { 0 };
        let mut count = 0;
        while next_type != 0 {
            if count == MAX_EXTENSION_HEADERS {
                return Err(DecodeError::TooDeep(MAX_EXTENSION_HEADERS));
            }
            check_len(data, header_len + 1)?;
            let extension_len = usize::from(u8_at(data, header_len)) * 4;
            if extension_len == 0 {
                return Err(DecodeError::InvalidHeaderLength(0));
            }
            header_len += extension_len;
            check_len(data, header_len)?;
            next_type = u8_at(data, header_len - 1);
            count += 1;
        }
        Ok(GtpUHeader { data, header_len })
    }

    /// The message type; [`MESSAGE_G_PDU`] carries a user packet.
    pub fn message_type(&self) -> u8 {
        u8_at(self.data, 1)
    }

    /// The tunnel endpoint identifier.
    pub fn teid(&self) -> u32 {
        u32_at(self.data, 4..8)
    }

    /// Bytes after the header and its extension headers.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, self.header_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn gtpu_plain() {
        let header = [0x30, 0xff, 0x00, 0x04, 0x00, 0x00, 0x00, 0x2a];
        let gtp = GtpUHeader::new(&header).unwrap();
        assert_eq!(gtp.message_type(), MESSAGE_G_PDU);
        assert_eq!(gtp.teid(), 42);
        assert_every_cut_truncated(&header, |data| GtpUHeader::new(data).map(|_| ()));
    }

    #[test]
    fn gtpu_with_extension_header() {
        let header = [
            0x34, 0xff, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x01, // E flag
            0x00, 0x00, 0x00, 0x85, // PDU session container follows
            0x01, 0x10, 0x05, 0x00, // one 4-byte extension, then no more
        ];
        let gtp = GtpUHeader::new(&header).unwrap();
        assert_eq!(gtp.teid(), 1);
        assert!(gtp.payload().is_empty());
        assert_every_cut_truncated(&header, |data| GtpUHeader::new(data).map(|_| ()));
    }

    #[test]
    fn gtp_prime_is_rejected() {
        assert_eq!(GtpUHeader::new(&[0x20, 0xff, 0, 0, 0, 0, 0, 0]).err(), Some(DecodeError::InvalidVersion(1)));
    }
}
