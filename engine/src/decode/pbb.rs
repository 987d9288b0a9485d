//! The IEEE 802.1ah provider backbone bridging I-TAG (EtherType 0x88E7),
//! which an Ethernet frame of the customer follows.

use super::bytes::{check_len, tail, u32_at};
use super::DecodeError;

/// Length of the I-TAG after its EtherType.
pub const TAG_LEN: usize = 4;

/// A borrowed I-TAG.
#[derive(Clone, Copy, Debug)]
pub struct ServiceInstanceTag<'a> {
    data: &'a [u8],
}

impl<'a> ServiceInstanceTag<'a> {
    /// Checks that `data` contains a whole I-TAG.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, TAG_LEN)?;
        Ok(ServiceInstanceTag { data })
    }

    /// The 24-bit backbone service instance identifier.
    pub fn service_id(&self) -> u32 {
        u32_at(self.data, 0..4) & 0x00ff_ffff
    }

    /// The customer's Ethernet frame.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, TAG_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn service_id() {
        let tag = [0x60, 0x01, 0x02, 0x03];
        assert_eq!(ServiceInstanceTag::new(&tag).unwrap().service_id(), 0x010203);
        assert_every_cut_truncated(&tag, |data| ServiceInstanceTag::new(data).map(|_| ()));
    }
}
