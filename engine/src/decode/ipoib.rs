//! IP over InfiniBand captures (`LINKTYPE_IPOIB`, 242).
//!
//! NOTE: the layout is taken from a Linux capture and Wireshark 4's reading
//! of it: 40 bytes of hardware addresses (the last 20 are the destination
//! queue pair number and GID), then the 2-byte EtherType and 2 reserved
//! bytes of RFC 4391 section 6.

use super::bytes::{check_len, tail, u16_at};
use super::DecodeError;

/// Length of the header, addresses included.
pub const HEADER_LEN: usize = 44;

/// A borrowed IPoIB header.
#[derive(Clone, Copy, Debug)]
pub struct IpoibHeader<'a> {
    data: &'a [u8],
}

impl<'a> IpoibHeader<'a> {
    /// Checks that `data` contains a whole header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(IpoibHeader { data })
    }

    /// The EtherType of the payload.
    pub fn ethertype(&self) -> u16 {
        u16_at(self.data, 40..42)
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
    fn ipoib_ethertype() {
        let mut header = [0u8; HEADER_LEN];
        header[40] = 0x08;
        assert_eq!(IpoibHeader::new(&header).unwrap().ethertype(), 0x0800);
        assert_every_cut_truncated(&header, |data| IpoibHeader::new(data).map(|_| ()));
    }
}
