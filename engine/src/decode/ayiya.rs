//! AYIYA, "Anything In Anything" (draft-massar-v6ops-ayiya-02, UDP 5072),
//! the tunnel of SixXS-style IPv6 tunnel brokers.
//!
//! The 8-byte fixed header contains the identity length (as a power of two)
//! and type, the signature length in 32-bit words, the hash and
//! authentication methods, the operation code, the next-header protocol
//! number and an epoch time. The identity and the signature follow it, and
//! then the payload.

use super::bytes::{check_len, tail, u8_at};
use super::DecodeError;

/// Length of the fixed header.
pub const FIXED_LEN: usize = 8;

/// Operation code of a message that forwards a packet.
pub const OPCODE_FORWARD: u8 = 1;

/// A borrowed AYIYA header with its identity and signature.
#[derive(Clone, Copy, Debug)]
pub struct AyiyaHeader<'a> {
    data: &'a [u8],
    header_len: usize,
}

impl<'a> AyiyaHeader<'a> {
    /// Checks that `data` contains the fixed header, the identity and the
    /// signature.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, FIXED_LEN)?;
        let identity_len = 1usize << (u8_at(data, 0) >> 4);
        let signature_len = usize::from(u8_at(data, 1) >> 4) * 4;
        let header_len = FIXED_LEN + identity_len + signature_len;
        check_len(data, header_len)?;
        Ok(AyiyaHeader { data, header_len })
    }

    /// The operation code (1 forwards a packet).
    pub fn opcode(&self) -> u8 {
        u8_at(self.data, 2) & 0x0f
    }

    /// The IP protocol number of the payload (41 for IPv6).
    pub fn next_header(&self) -> u8 {
        u8_at(self.data, 3)
    }

    /// Bytes after the signature.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, self.header_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn forward_with_identity_and_signature() {
        // Identity of 2^4 = 16 bytes, signature of 5 words (SHA-1).
        let mut header = vec![0x41, 0x52, 0x11, 41, 0, 0, 0, 1];
        header.extend([0x20; 16]);
        header.extend([0x33; 20]);
        header.push(0x60);
        let ayiya = AyiyaHeader::new(&header).unwrap();
        assert_eq!(ayiya.opcode(), OPCODE_FORWARD);
        assert_eq!(ayiya.next_header(), 41);
        assert_eq!(ayiya.payload(), &[0x60]);
        assert_every_cut_truncated(&header[..44], |data| AyiyaHeader::new(data).map(|_| ()));
    }
}
