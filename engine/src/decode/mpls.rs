//! MPLS label stack entries (RFC 3032) and the pseudowire control word
//! (RFC 4385).

use super::bytes::{check_len, tail, u32_at};
use super::DecodeError;

/// Length of one label stack entry, and of the control word.
pub const ENTRY_LEN: usize = 4;

/// Maximum label stack entries the walk skips before it stops with `TooDeep`.
pub const MAX_STACK_ENTRIES: usize = 16;

/// A borrowed MPLS label stack entry.
#[derive(Clone, Copy, Debug)]
pub struct MplsEntry<'a> {
    data: &'a [u8],
}

impl<'a> MplsEntry<'a> {
    /// Checks that `data` contains a whole label stack entry.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, ENTRY_LEN)?;
        Ok(MplsEntry { data })
    }

    fn word(&self) -> u32 {
        u32_at(self.data, 0..ENTRY_LEN)
    }

    /// The 20-bit label.
    pub fn label(&self) -> u32 {
        self.word() >> 12
    }

    /// The 3-bit traffic class.
    pub fn traffic_class(&self) -> u8 {
        ((self.word() >> 9) & 0x7) as u8
    }

    /// Returns true for the bottom entry of the stack.
    pub fn is_bottom_of_stack(&self) -> bool {
        self.word() & 0x100 != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.word() as u8
    }

    /// Bytes after the entry.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, ENTRY_LEN)
    }
}

/// What follows the bottom of an MPLS label stack, identified by the first nibble
/// as RFC 4385 section 3 allows: 4 is IPv4, 6 is IPv6, 0 is a pseudowire
/// control word in front of an Ethernet frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MplsPayload {
    /// An IPv4 packet.
    Ipv4,
    /// An IPv6 packet.
    Ipv6,
    /// A pseudowire control word, then an Ethernet frame.
    ControlWordEthernet,
    /// Anything else, or nothing captured.
    Unknown,
}

/// Guesses the payload after the bottom label from its first nibble.
pub fn payload_kind(payload: &[u8]) -> MplsPayload {
    match payload.first().map(|byte| byte >> 4) {
        Some(4) => MplsPayload::Ipv4,
        Some(6) => MplsPayload::Ipv6,
        Some(0) => MplsPayload::ControlWordEthernet,
        _ => MplsPayload::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    #[test]
    fn label_fields() {
        // Label 18, traffic class 5, bottom of stack, TTL 64.
        let entry = [0x00, 0x01, 0x2b, 0x40, 0x45];
        let header = MplsEntry::new(&entry).unwrap();
        assert_eq!(header.label(), 18);
        assert_eq!(header.traffic_class(), 5);
        assert!(header.is_bottom_of_stack());
        assert_eq!(header.ttl(), 64);
        assert_eq!(header.payload(), &[0x45]);
        assert_every_cut_truncated(&entry[..4], |data| MplsEntry::new(data).map(|_| ()));
    }

    #[test]
    fn payload_by_first_nibble() {
        assert_eq!(payload_kind(&[0x45]), MplsPayload::Ipv4);
        assert_eq!(payload_kind(&[0x60]), MplsPayload::Ipv6);
        assert_eq!(payload_kind(&[0x00]), MplsPayload::ControlWordEthernet);
        assert_eq!(payload_kind(&[0x10]), MplsPayload::Unknown);
        assert_eq!(payload_kind(&[]), MplsPayload::Unknown);
    }
}
