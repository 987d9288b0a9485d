//! The VLAN DSR (`0x40`).

use naudit_engine::flow::DirectionStats;

use super::header::put_dsr_header;

const VLAN_DSR: u8 = 0x40;
/// Qualifier bit: the source tag is valid.
const QUALIFIER_SRC: u8 = 0x01;
/// Qualifier bit: the destination tag is valid.
const QUALIFIER_DST: u8 = 0x02;

/// Appends the VLAN DSR with each side's outermost 802.1Q tag control
/// information (priority, DEI and VLAN id), or nothing when neither side's
/// frames were tagged. ra prints the TCI as `svlan`/`dvlan` and its low 12
/// bits as `svid`/`dvid`.
pub fn put_vlan_dsr(out: &mut Vec<u8>, src: &DirectionStats, dst: &DirectionStats) {
    if src.vlan_tci.is_none() && dst.vlan_tci.is_none() {
        return;
    }

    let mut qualifier = 0;
    if src.vlan_tci.is_some() {
        qualifier |= QUALIFIER_SRC;
    }
    if dst.vlan_tci.is_some() {
        qualifier |= QUALIFIER_DST;
    }
    put_dsr_header(out, VLAN_DSR, 0, qualifier, 2);
    out.extend_from_slice(&src.vlan_tci.unwrap_or(0).to_be_bytes());
    out.extend_from_slice(&dst.vlan_tci.unwrap_or(0).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::test_hex::parse as hex;

    fn tagged(tci: Option<u16>) -> DirectionStats {
        DirectionStats { vlan_tci: tci, ..DirectionStats::default() }
    }

    fn encode(src: Option<u16>, dst: Option<u16>) -> Vec<u8> {
        let mut out = Vec::new();
        put_vlan_dsr(&mut out, &tagged(src), &tagged(dst));
        out
    }

    #[test]
    fn source_tag_matches_argus_example() {
        // Argus 3.0.8.2, tcpdump tests/MSTP_Intra-Region_BPDUs.pcap, record 1.
        assert_eq!(encode(Some(0xe000), None), hex("40000102 e0000000"));
    }

    #[test]
    fn both_and_destination_tags() {
        assert_eq!(encode(Some(0x0064), Some(0x2065)), hex("40000302 00642065"));
        assert_eq!(encode(None, Some(0x0fff)), hex("40000202 00000fff"));
    }

    #[test]
    fn untagged_writes_nothing() {
        assert!(encode(None, None).is_empty());
    }
}
