//! IEEE 802.1Q and 802.1ad VLAN tags.
//!
//! A tag is the 4 bytes that follow a VLAN EtherType: the tag control
//! information (priority, drop eligible, VLAN ID) and the type or length of
//! what follows, which may be another tag.

use super::bytes::{check_len, ranges_fit, tail, u16_at};
use super::ethernet::ethertype;
use super::DecodeError;

mod field {
    use std::ops::Range;

    pub const TCI: Range<usize> = 0..2;
    pub const TYPE_OR_LENGTH: Range<usize> = 2..4;
}

/// Length of one tag in bytes, counted after the tag's own EtherType.
pub const HEADER_LEN: usize = field::TYPE_OR_LENGTH.end;

/// Most tags the decoder skips before it gives up with `TooDeep`.
///
/// Deployed stacks have one to three tags: 802.1Q, QinQ, and a third tag in
/// some carrier networks. Eight leaves room for more and bounds the work on a
/// frame built of nothing but tags.
pub const MAX_TAGS: usize = 8;

const _: () = assert!(ranges_fit(&[field::TCI, field::TYPE_OR_LENGTH], HEADER_LEN));

/// Returns true when `value` is an EtherType that starts a VLAN tag: 802.1Q
/// (0x8100), 802.1ad (0x88a8) or the pre-standard QinQ 0x9100.
pub fn is_tag_ethertype(value: u16) -> bool {
    matches!(
        value,
        ethertype::VLAN | ethertype::SERVICE_VLAN | ethertype::QINQ_9100
    )
}

/// A borrowed VLAN tag, starting after the tag's EtherType.
#[derive(Clone, Copy, Debug)]
pub struct VlanHeader<'a> {
    /// The tag from its first byte, at least [`HEADER_LEN`] bytes long.
    data: &'a [u8],
}

impl<'a> VlanHeader<'a> {
    /// Checks that `data` contains a whole tag.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(VlanHeader { data })
    }

    /// Priority code point, 0 to 7.
    pub fn priority(&self) -> u8 {
        (u16_at(self.data, field::TCI) >> 13) as u8
    }

    /// Drop eligible indicator (formerly the canonical format indicator).
    pub fn drop_eligible(&self) -> bool {
        u16_at(self.data, field::TCI) & 0x1000 != 0
    }

    /// VLAN identifier, 0 to 4095; 0 marks a priority-only tag.
    pub fn vlan_id(&self) -> u16 {
        u16_at(self.data, field::TCI) & 0x0fff
    }

    /// EtherType of what follows the tag, or an 802.3 length in bytes.
    pub fn type_or_length(&self) -> u16 {
        u16_at(self.data, field::TYPE_OR_LENGTH)
    }

    /// Returns the bytes after the tag as captured.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ethernet;
    use crate::decode::test_frames::{QINQ_88A8_ARP_1, VLAN_8021Q_ICMP_5};

    #[test]
    fn single_tag_fields() {
        let tag = VlanHeader::new(&VLAN_8021Q_ICMP_5[ethernet::HEADER_LEN..]).unwrap();

        assert_eq!(tag.priority(), 0);
        assert!(!tag.drop_eligible());
        assert_eq!(tag.vlan_id(), 123);
        assert_eq!(tag.type_or_length(), ethertype::IPV4);
        assert_eq!(
            tag.payload().len(),
            VLAN_8021Q_ICMP_5.len() - ethernet::HEADER_LEN - HEADER_LEN
        );
    }

    #[test]
    fn service_tag_then_customer_tag() {
        let outer = VlanHeader::new(&QINQ_88A8_ARP_1[ethernet::HEADER_LEN..]).unwrap();
        let inner = VlanHeader::new(outer.payload()).unwrap();

        assert_eq!(outer.vlan_id(), 200);
        assert_eq!(outer.type_or_length(), ethertype::VLAN);
        assert_eq!(inner.vlan_id(), 2001);
        assert_eq!(inner.type_or_length(), ethertype::ARP);
    }

    #[test]
    fn tag_ethertypes() {
        assert!(is_tag_ethertype(0x8100));
        assert!(is_tag_ethertype(0x88a8));
        assert!(is_tag_ethertype(0x9100));
        assert!(!is_tag_ethertype(0x0800));
    }

    #[test]
    fn every_truncation_is_reported() {
        let tag = &VLAN_8021Q_ICMP_5[ethernet::HEADER_LEN..];
        for len in 0..HEADER_LEN {
            assert_eq!(
                VlanHeader::new(&tag[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: HEADER_LEN,
                    available_bytes: len
                }
            );
        }
    }
}
