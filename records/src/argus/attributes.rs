//! The IP attributes DSR (`0x48`): TTL, TOS and IP id per direction, IPv4
//! option bitmaps and fragment flags.

use naudit_engine::decode::ipv4_option;
use naudit_engine::flow::DirectionStats;

use super::header::put_dsr_header;

const IP_ATTRIBUTES_DSR: u8 = 0x48;

/// Qualifier bit: the source's TTL, TOS and IP id follow.
const QUALIFIER_SRC: u8 = 0x01;
/// Qualifier bit: the destination's TTL, TOS and IP id follow.
const QUALIFIER_DST: u8 = 0x02;
/// Qualifier bit: the source's IP option bitmap follows.
const QUALIFIER_SRC_OPTIONS: u8 = 0x04;
/// Qualifier bit: the destination's IP option bitmap follows.
const QUALIFIER_DST_OPTIONS: u8 = 0x08;
/// Qualifier bit, no data: the source sent fragments.
const QUALIFIER_SRC_FRAGMENTS: u8 = 0x10;
/// Qualifier bit, no data: the destination sent fragments.
const QUALIFIER_DST_FRAGMENTS: u8 = 0x20;

/// Engine IPv4 option bits and the Argus 3 option bits they set.
///
/// `ipv4_option::OTHER` (an option type outside this list) has no Argus 3
/// bit, so it is not written.
const OPTION_MAP: [(u16, u32); 7] = [
    (ipv4_option::RECORD_ROUTE, 0x01),
    (ipv4_option::TIMESTAMP, 0x02),
    (ipv4_option::SECURITY, 0x04),
    (ipv4_option::LOOSE_SOURCE_ROUTE, 0x08),
    (ipv4_option::SATNET_ID, 0x10),
    (ipv4_option::STRICT_SOURCE_ROUTE, 0x20),
    (ipv4_option::ROUTER_ALERT, 0x40),
];

/// Returns the Argus IP option bitmap for the engine's option bits.
pub fn argus_ip_options(options: u16) -> u32 {
    OPTION_MAP.iter().filter(|(engine, _)| options & engine != 0).fold(0, |argus, (_, bit)| argus | bit)
}

/// Appends the IP attributes DSR, or nothing when neither direction has an
/// object or flag to report.
///
/// A direction's TTL, TOS and IP id are written only if it sent packets in
/// the record's interval, and its option bitmap only if it is not empty.
/// For IPv6 flows TTL and TOS are the hop limit and the traffic class. The
/// IP id is written big-endian, unlike argus 3.0.8 on little-endian hosts,
/// so ra shows the true value.
pub fn put_ip_attributes_dsr(out: &mut Vec<u8>, src: &DirectionStats, dst: &DirectionStats) {
    let src_options = argus_ip_options(src.ip_options);
    let dst_options = argus_ip_options(dst.ip_options);

    let mut qualifier = 0;
    let mut objects = 0;
    for (present, bit) in [
        (src.pkts > 0, QUALIFIER_SRC),
        (src.pkts > 0 && src_options != 0, QUALIFIER_SRC_OPTIONS),
        (dst.pkts > 0, QUALIFIER_DST),
        (dst.pkts > 0 && dst_options != 0, QUALIFIER_DST_OPTIONS),
    ] {
        if present {
            qualifier |= bit;
            objects += 1;
        }
    }
    if src.fragments {
        qualifier |= QUALIFIER_SRC_FRAGMENTS;
    }
    if dst.fragments {
        qualifier |= QUALIFIER_DST_FRAGMENTS;
    }
    if qualifier == 0 {
        return;
    }

    put_dsr_header(out, IP_ATTRIBUTES_DSR, 0, qualifier, 1 + objects);
    // The objects follow in the order source, source options, destination,
    // destination options.
    if qualifier & QUALIFIER_SRC != 0 {
        put_ttl_tos_id(out, src);
    }
    if qualifier & QUALIFIER_SRC_OPTIONS != 0 {
        out.extend_from_slice(&src_options.to_be_bytes());
    }
    if qualifier & QUALIFIER_DST != 0 {
        put_ttl_tos_id(out, dst);
    }
    if qualifier & QUALIFIER_DST_OPTIONS != 0 {
        out.extend_from_slice(&dst_options.to_be_bytes());
    }
}

fn put_ttl_tos_id(out: &mut Vec<u8>, stats: &DirectionStats) {
    out.push(stats.ttl);
    out.push(stats.tos);
    out.extend_from_slice(&stats.ip_id.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::test_hex::parse as hex;

    fn side(pkts: u64, ttl: u8, tos: u8, ip_id: u16) -> DirectionStats {
        DirectionStats { pkts, ttl, tos, ip_id, ..DirectionStats::default() }
    }

    fn encode(src: &DirectionStats, dst: &DirectionStats) -> Vec<u8> {
        let mut out = Vec::new();
        put_ip_attributes_dsr(&mut out, src, dst);
        out
    }

    #[test]
    fn both_directions_with_big_endian_ip_ids() {
        // Argus 3.0.8.2 writes `48000303 4000f0b7 4000f130` for the first UDP
        // flow of tcpdump's tests/dhcp-rfc4388.pcap: the ids 0xb7f0 and
        // 0x30f1 byte-swapped. This encoder writes them big-endian.
        let out = encode(&side(2, 64, 0, 0xb7f0), &side(2, 64, 0, 0x30f1));
        assert_eq!(out, hex("48000303 4000b7f0 400030f1"));
    }

    #[test]
    fn icmp_echo_matches_argus_example() {
        // Argus 3.0.8.2, tcpdump tests/HDLC.pcap, record 1 (ids 0).
        assert_eq!(encode(&side(1, 255, 0, 0), &side(1, 255, 0, 0)), hex("48000303 ff000000 ff000000"));
    }

    #[test]
    fn source_only_matches_argus_ipv6_example() {
        // Argus 3.0.8.2, tcpdump tests/ipv6-routing-header.pcap, record 1:
        // hop limit 4, traffic class 0.
        assert_eq!(encode(&side(1, 4, 0, 0), &DirectionStats::default()), hex("48000102 04000000"));
    }

    #[test]
    fn destination_only() {
        assert_eq!(encode(&DirectionStats::default(), &side(3, 52, 0x28, 0x4321)), hex("48000202 34284321"));
    }

    #[test]
    fn option_bitmaps_follow_their_direction() {
        let mut src = side(1, 64, 0, 1);
        src.ip_options = ipv4_option::ROUTER_ALERT;
        let mut dst = side(1, 63, 0, 2);
        dst.ip_options = ipv4_option::RECORD_ROUTE | ipv4_option::TIMESTAMP;
        let out = encode(&src, &dst);
        assert_eq!(out, hex("48000f05 40000001 00000040 3f000002 00000003"));
    }

    #[test]
    fn every_option_maps_to_its_argus_bit() {
        let cases = [
            (ipv4_option::RECORD_ROUTE, 0x01),
            (ipv4_option::TIMESTAMP, 0x02),
            (ipv4_option::SECURITY, 0x04),
            (ipv4_option::LOOSE_SOURCE_ROUTE, 0x08),
            (ipv4_option::SATNET_ID, 0x10),
            (ipv4_option::STRICT_SOURCE_ROUTE, 0x20),
            (ipv4_option::ROUTER_ALERT, 0x40),
            (ipv4_option::OTHER, 0x00),
        ];
        for (engine, argus) in cases {
            assert_eq!(argus_ip_options(engine), argus, "engine option bit {engine:#x}");
        }
    }

    #[test]
    fn unmapped_option_writes_no_bitmap() {
        let mut src = side(1, 64, 0, 0);
        src.ip_options = ipv4_option::OTHER;
        assert_eq!(encode(&src, &DirectionStats::default()), hex("48000102 40000000"));
    }

    #[test]
    fn fragment_flags() {
        let mut src = side(2, 64, 0, 7);
        src.fragments = true;
        let mut dst = side(1, 64, 0, 8);
        dst.fragments = true;
        assert_eq!(encode(&src, &dst), hex("48003303 40000007 40000008"));
    }

    #[test]
    fn nothing_to_report_writes_nothing() {
        assert!(encode(&DirectionStats::default(), &DirectionStats::default()).is_empty());
    }
}
