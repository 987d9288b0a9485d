//! The flow key DSR (`0x02`).
//!
//! The record's key is already in initiator order (the source sent first),
//! so the reverse bit (`0x40` of the subtype) stays clear. The qualifier bit
//! `0x20` ("direction settled") stays clear too, as argus 3.0.8 writes it,
//! except on a TCP flow whose SYN-ACK was seen and SYN was not. argus makes
//! the SYN-ACK's sender the source of such a flow, and ra turns the record
//! round for display unless the bit is set. nauditd makes the SYN-ACK's
//! receiver the source, so the bit keeps ra from turning it the wrong way.

use std::net::IpAddr;

use naudit_engine::flow::FlowKey;

use super::header::put_dsr_header;

const FLOW_DSR: u8 = 0x02;
/// Key layout: the classic 5-tuple, used for IPv4, IPv6 and Ethernet keys.
const SUBTYPE_FIVE_TUPLE: u8 = 0x01;
/// Key layout: ARP and RARP.
const SUBTYPE_ARP: u8 = 0x06;

/// Address kind: IPv4.
const QUALIFIER_IPV4: u8 = 0x01;
/// Address kind: IPv6.
const QUALIFIER_IPV6: u8 = 0x02;
/// Address kind: Ethernet.
const QUALIFIER_ETHERNET: u8 = 0x03;
/// Address kind: ARP.
const QUALIFIER_ARP: u8 = 0x04;
/// Qualifier bit: the flow's direction is settled, so ra does not turn a
/// TCP record round for display.
const QUALIFIER_DIRECTION_SETTLED: u8 = 0x20;

const IPV4_KEY_WORDS: u8 = 5;
const IPV6_KEY_WORDS: u8 = 11;
const ETHERNET_KEY_WORDS: u8 = 5;
/// Argus 3.0.8 writes 6 words, cutting the sender hardware address short;
/// 7 words hold all of it.
const ARP_KEY_WORDS: u8 = 7;

const IPPROTO_ICMP: u8 = 1;
const IPPROTO_ESP: u8 = 50;
const IPPROTO_ICMPV6: u8 = 58;

const ARP_HARDWARE_ETHERNET: u16 = 1;
const ARP_PROTOCOL_IPV4: u16 = 0x0800;
const ARP_OPCODE_REQUEST: u16 = 1;

/// Appends the flow key DSR for `key`.
///
/// `arp_sender_mac` is the asker's hardware address for an ARP key; other
/// keys ignore it. `direction_settled` sets qualifier bit `0x20` on an IP
/// key.
pub fn put_flow_key_dsr(out: &mut Vec<u8>, key: &FlowKey, arp_sender_mac: Option<[u8; 6]>, direction_settled: bool) {
    match *key {
        FlowKey::Ip { src: IpAddr::V4(src), dst: IpAddr::V4(dst), protocol: IPPROTO_ESP, src_port, dst_port, .. } => {
            // The engine keeps the SPI's halves in the two port fields.
            put_esp_v4_key(out, src.octets(), dst.octets(), u32::from(src_port) << 16 | u32::from(dst_port));
        }
        FlowKey::Ip { src, dst, protocol, src_port, dst_port, .. } => {
            let flags = if direction_settled { QUALIFIER_DIRECTION_SETTLED } else { 0 };
            put_ip_key(out, src, dst, protocol, src_port.to_be_bytes(), dst_port.to_be_bytes(), flags);
        }
        FlowKey::Icmp { src, dst, icmp_type, code, id, seq, .. } => put_icmp_key(out, src, dst, icmp_type, code, id, seq),
        FlowKey::Arp { sender_ip, target_ip } => put_arp_key(out, sender_ip, target_ip, arp_sender_mac),
        FlowKey::Layer2 { src_mac, dst_mac, ethertype, ssap, dsap } => {
            put_dsr_header(out, FLOW_DSR, SUBTYPE_FIVE_TUPLE, QUALIFIER_ETHERNET, ETHERNET_KEY_WORDS);
            out.extend_from_slice(&dst_mac);
            out.extend_from_slice(&src_mac);
            out.extend_from_slice(&ethertype.to_be_bytes());
            out.push(dsap);
            out.push(ssap);
        }
        FlowKey::Infiniband { .. } => super::infiniband::put_ib_key(out, key),
    }
}

/// Appends an IPv4 or IPv6 5-tuple key. The two port fields hold whatever
/// the protocol keys there (ports, or ICMPv6 type, code and identifier).
///
/// Both addresses are normally of one family. If they are not, the IPv4 one
/// is written as an IPv4-mapped IPv6 address, so the key stays complete.
fn put_ip_key(
    out: &mut Vec<u8>,
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    src_port: [u8; 2],
    dst_port: [u8; 2],
    qualifier_flags: u8,
) {
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            put_dsr_header(out, FLOW_DSR, SUBTYPE_FIVE_TUPLE, QUALIFIER_IPV4 | qualifier_flags, IPV4_KEY_WORDS);
            out.extend_from_slice(&src.octets());
            out.extend_from_slice(&dst.octets());
            // Protocol, then the transport sub-protocol byte, which is 0.
            out.extend_from_slice(&[protocol, 0]);
            out.extend_from_slice(&src_port);
            out.extend_from_slice(&dst_port);
            // Mask lengths, present only with qualifier bit 0x40.
            out.extend_from_slice(&[0, 0]);
        }
        (src, dst) => {
            put_dsr_header(out, FLOW_DSR, SUBTYPE_FIVE_TUPLE, QUALIFIER_IPV6 | qualifier_flags, IPV6_KEY_WORDS);
            out.extend_from_slice(&ipv6_octets(src));
            out.extend_from_slice(&ipv6_octets(dst));
            // Next header in the top byte, then 4 zero bits and the 20-bit
            // flow label. NOTE: the record model has no flow label, so it is 0.
            out.extend_from_slice(&[protocol, 0, 0, 0]);
            out.extend_from_slice(&src_port);
            out.extend_from_slice(&dst_port);
        }
    }
}

/// Appends an IPv4 ESP key: two zero bytes where the ports would start,
/// then the SPI over the destination port and mask fields, as argus lays
/// it out.
fn put_esp_v4_key(out: &mut Vec<u8>, src: [u8; 4], dst: [u8; 4], spi: u32) {
    put_dsr_header(out, FLOW_DSR, SUBTYPE_FIVE_TUPLE, QUALIFIER_IPV4, IPV4_KEY_WORDS);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
    out.extend_from_slice(&[IPPROTO_ESP, 0, 0, 0]);
    out.extend_from_slice(&spi.to_be_bytes());
}

fn ipv6_octets(address: IpAddr) -> [u8; 16] {
    match address {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Appends an ICMP or ICMPv6 key.
///
/// IPv4: type and code take the source port field, and identifier and
/// sequence number the destination port and mask fields. Argus 3.0.8 on
/// little-endian hosts writes identifier and sequence in host order; this
/// encoder writes them big-endian, so ra shows the true identifier.
/// IPv6: type and code take the source port field and the identifier the
/// destination port field, and the key has no room for the sequence number.
fn put_icmp_key(out: &mut Vec<u8>, src: IpAddr, dst: IpAddr, icmp_type: u8, code: u8, id: u16, seq: u16) {
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            put_dsr_header(out, FLOW_DSR, SUBTYPE_FIVE_TUPLE, QUALIFIER_IPV4, IPV4_KEY_WORDS);
            out.extend_from_slice(&src.octets());
            out.extend_from_slice(&dst.octets());
            // NOTE: argus puts the quoted packet's protocol in the second
            // byte for port unreachables. The record model keys errors by
            // type and code only, so this byte is 0.
            out.extend_from_slice(&[IPPROTO_ICMP, 0, icmp_type, code]);
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&seq.to_be_bytes());
        }
        (src, dst) => put_ip_key(out, src, dst, IPPROTO_ICMPV6, [icmp_type, code], id.to_be_bytes(), 0),
    }
}

/// Appends an ARP key for Ethernet hardware and IPv4 protocol addresses.
fn put_arp_key(out: &mut Vec<u8>, sender_ip: [u8; 4], target_ip: [u8; 4], sender_mac: Option<[u8; 6]>) {
    put_dsr_header(out, FLOW_DSR, SUBTYPE_ARP, QUALIFIER_ARP, ARP_KEY_WORDS);
    out.extend_from_slice(&ARP_HARDWARE_ETHERNET.to_be_bytes());
    out.extend_from_slice(&ARP_PROTOCOL_IPV4.to_be_bytes());
    // Hardware and protocol address lengths.
    out.extend_from_slice(&[6, 4]);
    // NOTE: the record model has no ARP opcode. Its key's sender is the side
    // that asked, so the first packet is written as a request.
    out.extend_from_slice(&ARP_OPCODE_REQUEST.to_be_bytes());
    out.extend_from_slice(&sender_ip);
    out.extend_from_slice(&target_ip);
    out.extend_from_slice(&sender_mac.unwrap_or([0; 6]));
    out.extend_from_slice(&[0, 0]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::test_hex::parse as hex;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn encode(key: FlowKey) -> Vec<u8> {
        let mut out = Vec::new();
        put_flow_key_dsr(&mut out, &key, None, false);
        out
    }

    #[test]
    fn esp_spi_follows_argus_layout() {
        // SPI 0x12345678, as the engine keys it (tcpdump's
        // tests/08-sunrise-sunset-esp2.pcap); argus writes the SPI in bytes
        // 16 to 19 of the key.
        let key = FlowKey::Ip { src: v4(192, 1, 2, 23), dst: v4(192, 1, 2, 45), protocol: 50, src_port: 0x1234, dst_port: 0x5678, tunnel: Default::default() };
        assert_eq!(encode(key), hex("02010105 c0010217 c001022d 32000000 12345678"));
    }

    #[test]
    fn settled_direction_sets_qualifier_bit() {
        let key = FlowKey::Ip { src: v4(10, 0, 0, 1), dst: v4(10, 0, 0, 2), protocol: 6, src_port: 40000, dst_port: 80, tunnel: Default::default() };
        let mut out = Vec::new();
        put_flow_key_dsr(&mut out, &key, None, true);
        assert_eq!(out, hex("02012105 0a000001 0a000002 06009c40 00500000"));
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    fn unspecified_v6() -> IpAddr {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    }

    #[test]
    fn udp_matches_argus_example() {
        // Argus 3.0.8.2, tcpdump tests/dhcp-rfc4388.pcap, record 1.
        let key =
            FlowKey::Ip { src: v4(10, 30, 1, 1), dst: v4(10, 40, 2, 3), protocol: 17, src_port: 67, dst_port: 67, tunnel: Default::default() };
        assert_eq!(encode(key), hex("02010105 0a1e0101 0a280203 11000043 00430000"));
    }

    #[test]
    fn tcp_in_initiator_order_has_no_reverse_bit() {
        // Argus 3.0.8.2 writes this flow (tcpdump tests/print-flags.pcap,
        // record 1) as `02410105 7f000001 7f000001 06000050 da700000`: the
        // responder first, with the reverse bit. This encoder receives the
        // key in initiator order and writes it as it is.
        let localhost = v4(127, 0, 0, 1);
        let key = FlowKey::Ip { src: localhost, dst: localhost, protocol: 6, src_port: 55920, dst_port: 80, tunnel: Default::default() };
        assert_eq!(encode(key), hex("02010105 7f000001 7f000001 0600da70 00500000"));
    }

    #[test]
    fn icmp_echo_matches_argus_example() {
        // Argus 3.0.8.2, tcpdump tests/HDLC.pcap, record 1: id and seq 0.
        let key = FlowKey::Icmp { src: v4(10, 0, 0, 1), dst: v4(10, 0, 0, 2), icmp_type: 8, code: 0, id: 0, seq: 0, tunnel: Default::default() };
        assert_eq!(encode(key), hex("02010105 0a000001 0a000002 01000800 00000000"));
    }

    #[test]
    fn icmp_id_is_big_endian() {
        // Argus 3.0.8.2 writes the wire id 0x4024 of tcpdump
        // tests/dhcp-rfc4388.pcap, record 2, as `2440`. This encoder writes
        // `4024`, in the format's big-endian order.
        let key =
            FlowKey::Icmp { src: v4(10, 40, 2, 3), dst: v4(10, 30, 4, 4), icmp_type: 8, code: 0, id: 0x4024, seq: 0, tunnel: Default::default() };
        assert_eq!(encode(key), hex("02010105 0a280203 0a1e0404 01000800 40240000"));

        let key =
            FlowKey::Icmp { src: v4(1, 2, 3, 4), dst: v4(5, 6, 7, 8), icmp_type: 8, code: 0, id: 0x1234, seq: 0x0102, tunnel: Default::default() };
        assert_eq!(&encode(key)[16..20], [0x12, 0x34, 0x01, 0x02]);
    }

    #[test]
    fn icmp_unreachable_keeps_type_and_code() {
        let key = FlowKey::Icmp { src: v4(10, 0, 0, 2), dst: v4(10, 0, 0, 1), icmp_type: 3, code: 3, id: 0, seq: 0, tunnel: Default::default() };
        assert_eq!(encode(key), hex("02010105 0a000002 0a000001 01000303 00000000"));
    }

    #[test]
    fn icmpv6_echo_matches_argus_example() {
        // Argus 3.0.8.2, tcpdump tests/ipv6-routing-header.pcap, record 1.
        let src: Ipv6Addr = "2200::244:212:3fff:feae:22f7".parse().unwrap();
        let dst: Ipv6Addr = "2200::240:2:0:0:4".parse().unwrap();
        let key = FlowKey::Icmp { src: IpAddr::V6(src), dst: IpAddr::V6(dst), icmp_type: 128, code: 0, id: 0, seq: 0, tunnel: Default::default() };
        let expected = "0201020b 22000000 00000244 02123fff feae22f7 \
                        22000000 00000240 00020000 00000004 3a000000 80000000";
        assert_eq!(encode(key), hex(expected));
    }

    #[test]
    fn icmpv6_identifier_in_destination_port() {
        let key =
            FlowKey::Icmp { src: unspecified_v6(), dst: unspecified_v6(), icmp_type: 128, code: 0, id: 0xbeef, seq: 9, tunnel: Default::default() };
        assert_eq!(&encode(key)[36..], hex("3a000000 8000beef"));
    }

    #[test]
    fn ipv6_udp_matches_argus_example() {
        // Argus 3.0.8.2, tcpdump tests/ipv6-routing-header.pcap, record 3.
        let src: Ipv6Addr = "2200::244:212:3fff:feae:22f7".parse().unwrap();
        let dst: Ipv6Addr = "2200::240:2:0:0:4".parse().unwrap();
        let key =
            FlowKey::Ip { src: IpAddr::V6(src), dst: IpAddr::V6(dst), protocol: 17, src_port: 5645, dst_port: 5642, tunnel: Default::default() };
        let out = encode(key);
        assert_eq!(&out[..4], [0x02, 0x01, 0x02, 0x0b]);
        assert_eq!(&out[36..], hex("11000000 160d160a"));
    }

    #[test]
    fn mixed_families_use_mapped_ipv6() {
        let key = FlowKey::Ip { src: v4(192, 0, 2, 1), dst: unspecified_v6(), protocol: 6, src_port: 1, dst_port: 2, tunnel: Default::default() };
        let out = encode(key);
        assert_eq!(&out[..4], [0x02, 0x01, 0x02, 0x0b]);
        assert_eq!(&out[4..20], hex("00000000 00000000 0000ffff c0000201"));
    }

    #[test]
    fn arp_has_length_7_and_whole_sender_mac() {
        // Argus 3.0.8.2, tcpdump tests/dhcp-rfc4388.pcap, record 4, writes
        // `02060406 00010800 06040001 0a280203 0a280101 a6824bc9`: length 6,
        // which cuts the sender MAC after 4 bytes. The last two MAC bytes
        // here are made up for the test.
        let mut out = Vec::new();
        let key = FlowKey::Arp { sender_ip: [10, 40, 2, 3], target_ip: [10, 40, 1, 1] };
        put_flow_key_dsr(&mut out, &key, Some([0xa6, 0x82, 0x4b, 0xc9, 0x11, 0x22]), false);
        assert_eq!(out, hex("02060407 00010800 06040001 0a280203 0a280101 a6824bc9 11220000"));
    }

    #[test]
    fn layer2_matches_argus_example() {
        // Argus 3.0.8.2, tcpdump tests/MSTP_Intra-Region_BPDUs.pcap, record 1.
        let key = FlowKey::Layer2 {
            src_mac: [0x00, 0x1e, 0xf7, 0x05, 0xa8, 0x92],
            dst_mac: [0x01, 0x80, 0xc2, 0x00, 0x00, 0x00],
            ethertype: 0,
            ssap: 0x42,
            dsap: 0x42,
        };
        assert_eq!(encode(key), hex("02010305 0180c200 0000001e f705a892 00004242"));
    }
}
