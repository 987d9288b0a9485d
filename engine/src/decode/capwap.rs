//! CAPWAP data channel headers (RFC 5415 section 4.3).

use super::bytes::{check_len, tail, u32_at};
use super::DecodeError;

/// Length of the preamble and the fixed header fields.
const MIN_LEN: usize = 8;
/// Wireless binding id of IEEE 802.11.
pub const WBID_IEEE80211: u8 = 1;

/// A borrowed CAPWAP header.
#[derive(Clone, Copy, Debug)]
pub struct CapwapHeader<'a> {
    data: &'a [u8],
    header_len: usize,
}

impl<'a> CapwapHeader<'a> {
    /// Checks that `data` contains a whole CAPWAP header, as long as its
    /// HLEN field says. A DTLS preamble (type 1) is `InvalidVersion(1)`.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, MIN_LEN)?;
        let word = u32_at(data, 0..4);
        let preamble = (word >> 24) as u8;
        if preamble != 0 {
            return Err(DecodeError::InvalidVersion(preamble));
        }
        let header_len = ((word >> 19) & 0x1f) as usize * 4;
        if header_len < MIN_LEN {
            return Err(DecodeError::InvalidHeaderLength(header_len));
        }
        check_len(data, header_len)?;
        Ok(CapwapHeader { data, header_len })
    }

    fn word(&self) -> u32 {
        u32_at(self.data, 0..4)
    }

    /// The wireless binding id.
    pub fn wireless_binding(&self) -> u8 {
        ((self.word() >> 9) & 0x1f) as u8
    }

    /// Returns true when the payload is in the binding's native format
    /// (802.11 for binding 1), false for an 802.3 frame.
    pub fn is_native_frame(&self) -> bool {
        self.word() & 0x100 != 0
    }

    /// Returns true for a fragment.
    pub fn is_fragment(&self) -> bool {
        self.word() & 0x80 != 0
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
    fn native_80211_frame() {
        // HLEN 4 words, RID 1, WBID 1, T set.
        let header = [0x00, 0x20, 0x43, 0x10, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        let capwap = CapwapHeader::new(&header).unwrap();
        assert_eq!(capwap.wireless_binding(), WBID_IEEE80211);
        assert!(capwap.is_native_frame());
        assert!(!capwap.is_fragment());
        assert!(capwap.payload().is_empty());
        assert_every_cut_truncated(&header, |data| CapwapHeader::new(data).map(|_| ()));
    }

    #[test]
    fn dtls_preamble_is_rejected() {
        assert_eq!(CapwapHeader::new(&[1, 0, 0, 0, 0, 0, 0, 0]).err(), Some(DecodeError::InvalidVersion(1)));
    }
}
