//! The MAC address DSR (`0x42`).

use naudit_engine::flow::DirectionStats;

use super::header::put_dsr_header;

const MAC_DSR: u8 = 0x42;
/// Subtype for Ethernet addresses.
const SUBTYPE_ETHERNET: u8 = 0x00;
/// Qualifier bit: the source's frames came from several MAC addresses.
const QUALIFIER_SRC_MULTIPATH: u8 = 0x01;
/// Qualifier bit: the destination's frames came from several MAC addresses.
const QUALIFIER_DST_MULTIPATH: u8 = 0x02;

/// EtherType and 802.2 service access points of a flow's frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameType {
    /// EtherType, 0 for 802.3 frames with a length field.
    pub ethertype: u16,
    /// 802.2 destination service access point, else 0.
    pub dsap: u8,
    /// 802.2 source service access point, else 0.
    pub ssap: u8,
}

/// Appends the MAC DSR, or nothing when neither MAC is known (a raw IP or
/// loopback capture).
///
/// `dst_mac` is the destination's MAC. The record model stores each side's
/// own source MAC only, so the caller passes the destination side's MAC, or
/// for a layer-2 flow the key's. `None` (neither is known) is written as
/// zeros. `frame` is written as argus writes it, but ra 3.0.8 ignores it.
pub fn put_mac_dsr(
    out: &mut Vec<u8>,
    src: &DirectionStats,
    dst: &DirectionStats,
    dst_mac: Option<[u8; 6]>,
    frame: FrameType,
) {
    if src.mac.is_none() && dst_mac.is_none() {
        return;
    }

    let mut qualifier = 0;
    if src.several_macs {
        qualifier |= QUALIFIER_SRC_MULTIPATH;
    }
    if dst.several_macs {
        qualifier |= QUALIFIER_DST_MULTIPATH;
    }

    put_dsr_header(out, MAC_DSR, SUBTYPE_ETHERNET, qualifier, 5);
    out.extend_from_slice(&dst_mac.unwrap_or([0; 6]));
    out.extend_from_slice(&src.mac.unwrap_or([0; 6]));
    out.extend_from_slice(&frame.ethertype.to_be_bytes());
    out.push(frame.dsap);
    out.push(frame.ssap);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::test_hex::parse as hex;

    const SRC_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
    const DST_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
    const IPV4: FrameType = FrameType { ethertype: 0x0800, dsap: 0, ssap: 0 };

    fn with_mac(mac: Option<[u8; 6]>, several_macs: bool) -> DirectionStats {
        DirectionStats { mac, several_macs, ..DirectionStats::default() }
    }

    #[test]
    fn both_macs_destination_first() {
        let mut out = Vec::new();
        let src = with_mac(Some(SRC_MAC), false);
        let dst = with_mac(Some(DST_MAC), false);
        put_mac_dsr(&mut out, &src, &dst, dst.mac, IPV4);
        assert_eq!(out, hex("42000005 02000000 00020200 00000001 08000000"));
    }

    #[test]
    fn several_macs_set_qualifier_bits() {
        let mut out = Vec::new();
        let src = with_mac(Some(SRC_MAC), true);
        let dst = with_mac(Some(DST_MAC), true);
        put_mac_dsr(&mut out, &src, &dst, dst.mac, IPV4);
        assert_eq!(out[2], 0x03);
    }

    #[test]
    fn unknown_destination_is_zero() {
        let mut out = Vec::new();
        put_mac_dsr(&mut out, &with_mac(Some(SRC_MAC), false), &DirectionStats::default(), None, IPV4);
        assert_eq!(out, hex("42000005 00000000 00000200 00000001 08000000"));
    }

    #[test]
    fn llc_frame_type() {
        let mut out = Vec::new();
        let frame = FrameType { ethertype: 0, dsap: 0x42, ssap: 0x43 };
        put_mac_dsr(&mut out, &with_mac(Some(SRC_MAC), false), &DirectionStats::default(), Some(DST_MAC), frame);
        assert_eq!(&out[16..], [0x00, 0x00, 0x42, 0x43]);
    }

    #[test]
    fn no_macs_writes_nothing() {
        let mut out = Vec::new();
        put_mac_dsr(&mut out, &DirectionStats::default(), &DirectionStats::default(), None, IPV4);
        assert!(out.is_empty());
    }
}
