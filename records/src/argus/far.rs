//! Flow records (FARs): a record header followed by DSRs, assembled from a
//! [`FlowRecord`].

use std::net::IpAddr;

use naudit_engine::flow::record::tcp_status;
use naudit_engine::flow::{FlowKey, FlowRecord};

use naudit_engine::decode::ib::{IbLink, ETHERTYPE_ROCE};

use super::attributes::put_ip_attributes_dsr;
use super::infiniband;
use super::header::{record_header, ArgusCause, FAR_TYPE_VERSION, WORD_BYTES};
use super::key::put_flow_key_dsr;
use super::mac::{put_mac_dsr, FrameType};
use super::encapsulation::{put_encapsulation_dsr, put_mpls_dsr};
use super::mapped_icmp::put_mapped_icmp_dsr;
use super::metric::put_metric_dsr;
use super::size::put_packet_size_dsr;
use super::source_id::SourceId;
use super::tcp::put_tcp_dsr;
use super::time::put_time_dsr;
use super::transport::put_transport_dsr;
use super::vlan::put_vlan_dsr;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_ARP: u16 = 0x0806;
const IPPROTO_TCP: u8 = 6;

/// True for a TCP flow whose SYN-ACK was seen and SYN was not: the flow
/// key marks its direction as settled (see `key.rs`).
fn answer_first(record: &FlowRecord) -> bool {
    match (&record.tcp, record.key.ip_protocol()) {
        (Some(tcp), Some(IPPROTO_TCP)) => {
            tcp.status & tcp_status::SAW_SYN_ACK != 0 && tcp.status & tcp_status::SAW_SYN == 0
        }
        _ => false,
    }
}

/// Appends one flow record.
///
/// The DSRs follow argus's order, which the reader partly relies on (the
/// metric DSR must precede the network DSR): transport, flow key, time,
/// metric, TCP network state, VLAN, IP attributes, packet size, mapped
/// ICMP, encapsulation, MPLS, InfiniBand, MAC. A DSR
/// whose data the record lacks is left out (no TCP state for other
/// protocols, no VLAN DSR for untagged frames, no MAC DSR without MACs).
pub fn put_far(out: &mut Vec<u8>, record: &FlowRecord, source_id: SourceId, sequence: u32) {
    let start = out.len();
    // The header needs the record length, so it is written last, here.
    out.extend_from_slice(&[0; WORD_BYTES]);

    put_transport_dsr(out, source_id, sequence);
    let key = infiniband::argus_key(record);
    put_flow_key_dsr(out, &key, record.src.mac, answer_first(record));
    let total_pkts = record.src.pkts.saturating_add(record.dst.pkts);
    put_time_dsr(out, record.start_ns, record.last_ns, total_pkts);
    put_metric_dsr(out, &record.src, &record.dst);

    if let (Some(tcp), Some(IPPROTO_TCP)) = (&record.tcp, record.key.ip_protocol()) {
        put_tcp_dsr(out, tcp, &record.src, &record.dst);
    }
    put_vlan_dsr(out, &record.src, &record.dst);
    if matches!(key, FlowKey::Ip { .. } | FlowKey::Icmp { .. }) {
        put_ip_attributes_dsr(out, &record.src, &record.dst);
    }
    put_packet_size_dsr(out, &record.src, &record.dst);
    if let Some(error) = &record.icmp_error {
        put_mapped_icmp_dsr(out, error);
    }
    put_encapsulation_dsr(out, record.encapsulation);
    put_mpls_dsr(out, record.mpls_label);
    infiniband::put_infiniband_dsr(out, record);

    let (frame, key_dst_mac) = frame_type(&key);
    put_mac_dsr(out, &record.src, &record.dst, record.dst.mac.or(key_dst_mac), frame);

    let length_words = (out.len() - start) / WORD_BYTES;
    let header = record_header(FAR_TYPE_VERSION, ArgusCause::from(record.cause), length_words);
    out[start..start + WORD_BYTES].copy_from_slice(&header);
}

/// Returns the EtherType and SAPs of the flow's frames, and the destination
/// MAC when the key contains it (layer-2 flows).
fn frame_type(key: &FlowKey) -> (FrameType, Option<[u8; 6]>) {
    let ip_frame = |address: &IpAddr| {
        let ethertype = if address.is_ipv4() { ETHERTYPE_IPV4 } else { ETHERTYPE_IPV6 };
        FrameType { ethertype, dsap: 0, ssap: 0 }
    };
    match key {
        FlowKey::Ip { src, .. } | FlowKey::Icmp { src, .. } => (ip_frame(src), None),
        FlowKey::Arp { .. } => (FrameType { ethertype: ETHERTYPE_ARP, dsap: 0, ssap: 0 }, None),
        FlowKey::Layer2 { dst_mac, ethertype, ssap, dsap, .. } => {
            (FrameType { ethertype: *ethertype, dsap: *dsap, ssap: *ssap }, Some(*dst_mac))
        }
        FlowKey::Infiniband { link: IbLink::RoceV1, .. } => {
            (FrameType { ethertype: ETHERTYPE_ROCE, dsap: 0, ssap: 0 }, None)
        }
        FlowKey::Infiniband { .. } => (FrameType { ethertype: 0, dsap: 0, ssap: 0 }, None),
    }
}

#[cfg(test)]
mod tests {
    //! Whole records compared with argus 3.0.8.2 output for pcaps from
    //! tcpdump's tests/ directory (`argus -X -r <pcap> -w out.argus`). Each
    //! test lists where this encoder deliberately differs from argus.

    use super::*;
    use crate::argus::test_hex::parse as hex;
    use naudit_engine::decode::tcp_option;
    use naudit_engine::flow::record::TcpDirection;
    use naudit_engine::flow::{DirectionStats, RecordCause, TcpSummary};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ns(seconds: u64, microseconds: u64) -> u64 {
        seconds * 1_000_000_000 + microseconds * 1_000
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    fn ip_side(pkts: u64, bytes: u64, ttl: u8, ip_id: u16) -> DirectionStats {
        DirectionStats { pkts, bytes, ttl, ip_id, ..DirectionStats::default() }
    }

    fn record(key: FlowKey, start_ns: u64, last_ns: u64, src: DirectionStats, dst: DirectionStats) -> FlowRecord {
        FlowRecord {
            key,
            cause: RecordCause::Start,
            start_ns,
            last_ns,
            src,
            dst,
            tcp: None,
            arp_reply_mac: None,
            icmp_error: None,
            encapsulation: [0; 2],
            mpls_label: [None; 2],
            report_index: 0,
            worker_id: 0,
            tunnel: None,
            ib: None,
        }
    }

    fn encode(record: &FlowRecord, sequence: u32) -> Vec<u8> {
        let mut out = Vec::new();
        put_far(&mut out, record, SourceId::Ipv4(Ipv4Addr::UNSPECIFIED), sequence);
        out
    }

    #[test]
    fn udp_record() {
        // tests/dhcp-rfc4388.pcap, record 1. Argus writes:
        //   13100018 01030003 00000000 00000001
        //   02010105 0a1e0101 0a280203 11000043 00430000
        //   03021805 5c9359c4 0007d7ea 5c9359c5 0007e7c9
        //   10010203 000202ac 000202ac  30000001
        //   48000303 4000f0b7 4000f130  20000003 00000002 00000002
        // Differences: IPv4 source id kind (0x01), 32-bit metric, no empty
        // network DSR, big-endian IP ids, no encapsulation DSR.
        let key =
            FlowKey::Ip { src: v4(10, 30, 1, 1), dst: v4(10, 40, 2, 3), protocol: 17, src_port: 67, dst_port: 67, tunnel: Default::default() };
        let udp = record(
            key,
            ns(1_553_160_644, 514_026),
            ns(1_553_160_645, 518_089),
            ip_side(2, 684, 64, 0xb7f0),
            ip_side(2, 684, 64, 0x30f1),
        );
        let expected = "13100016 01030103 00000000 00000001
            02010105 0a1e0101 0a280203 11000043 00430000
            03021805 5c9359c4 0007d7ea 5c9359c5 0007e7c9
            10010305 00000002 000002ac 00000002 000002ac
            48000303 4000b7f0 400030f1";
        assert_eq!(encode(&udp, 1), hex(expected));
    }

    #[test]
    fn tcp_record() {
        // tests/print-flags.pcap, record 1 (the TCP DSR itself is compared
        // in the tcp module). Argus writes the key responder first with the
        // reverse bit (`02410105 ... 06000050 da700000`), a 16-bit metric
        // without application bytes, the IP ids byte-swapped (`4000721b
        // 4000e81f`) and an Ethernet encapsulation DSR.
        let localhost = v4(127, 0, 0, 1);
        let key = FlowKey::Ip { src: localhost, dst: localhost, protocol: 6, src_port: 55920, dst_port: 80, tunnel: Default::default() };
        let mut src = ip_side(6, 606, 64, 0x1b72);
        src.app_bytes = 202;
        let mut dst = ip_side(4, 5831, 64, 0x1fe8);
        dst.app_bytes = 5559;

        let mut tcp_flow = record(key, ns(1_120_622_255, 938_066), ns(1_120_622_257, 230_900), src, dst);
        let options = tcp_option::MSS | tcp_option::WINDOW_SCALE | tcp_option::SACK_PERMITTED | tcp_option::TIMESTAMP;
        let direction = |base_seq, next_seq, last_ack, window, last_ns| TcpDirection {
            flags: 0x1b,
            options,
            base_seq,
            next_seq,
            last_ack,
            window,
            window_scale: Some(2),
            retransmitted_pkts: 0,
            out_of_order_pkts: 0,
            last_ns,
        };

        tcp_flow.tcp = Some(TcpSummary {
            status: tcp_status::SAW_SYN
                | tcp_status::SAW_SYN_ACK
                | tcp_status::ESTABLISHED
                | tcp_status::FIN
                | tcp_status::FIN_ACKED,
            syn_to_syn_ack_ns: Some(56_000),
            syn_ack_to_ack_ns: Some(45_000),
            src: direction(0x3758_897e, 0x3758_8a49, 0x377a_a3a9, 0x305f, ns(1_120_622_257, 230_900)),
            dst: direction(0x377a_8df1, 0x377a_a3a9, 0x3758_8a49, 0x2000, ns(1_120_622_257, 230_839)),
        });

        let expected = "13100036 01030103 00000000 00000001
            02010105 7f000001 7f000001 0600da70 00500000
            03021805 42cb56af 000e5052 42cb56b1 000385f4
            10040307 00000006 0000025e 000000ca 00000004 000016c7 000015b7
            3005001e 0000001f 00000000 04700000 00000038 0000002d
            42cb56b1 000385f4 00000000 3758897e 37588a49 377aa3a9
            00000000 000000ca 00000000 00000000 00000000 305f1b02
            42cb56b1 000385b7 00000000 377a8df1 377aa3a9 37588a49
            00000000 000015b7 00000000 00000000 00000000 20001b02
            48000303 40001b72 40001fe8";
        assert_eq!(encode(&tcp_flow, 1), hex(expected));
    }

    #[test]
    fn icmp_echo_record() {
        // tests/HDLC.pcap, record 1. Argus adds an 8-bit metric, an ICMP
        // network object with host-order addresses, and a Cisco HDLC
        // encapsulation DSR.
        let key = FlowKey::Icmp { src: v4(10, 0, 0, 1), dst: v4(10, 0, 0, 2), icmp_type: 8, code: 0, id: 0, seq: 0, tunnel: Default::default() };
        let echo = record(
            key,
            ns(1_213_595_384, 645_486),
            ns(1_213_595_384, 653_532),
            ip_side(1, 100, 255, 0),
            ip_side(1, 100, 255, 0),
        );
        let expected = "13100016 01030103 00000000 00000001
            02010105 0a000001 0a000002 01000800 00000000
            03021805 4855fef8 0009d96e 4855fef8 0009f8dc
            10010305 00000001 00000064 00000001 00000064
            48000303 ff000000 ff000000";
        assert_eq!(encode(&echo, 1), hex(expected));
    }

    #[test]
    fn icmpv6_echo_record() {
        // tests/ipv6-routing-header.pcap, record 1. Argus writes a 16-bit
        // source-only metric (`10010602 00010056`), an ICMP network object
        // and an encapsulation DSR.
        let src: Ipv6Addr = "2200::244:212:3fff:feae:22f7".parse().unwrap();
        let dst: Ipv6Addr = "2200::240:2:0:0:4".parse().unwrap();
        let key = FlowKey::Icmp { src: IpAddr::V6(src), dst: IpAddr::V6(dst), icmp_type: 128, code: 0, id: 0, seq: 0, tunnel: Default::default() };
        let time = ns(1_170_175_891, 766_766);
        let echo = record(key, time, time, ip_side(1, 86, 4, 0), DirectionStats::default());
        let expected = "13100019 01030103 00000000 00000001
            0201020b 22000000 00000244 02123fff feae22f7
            22000000 00000240 00020000 00000004 3a000000 80000000
            03011803 45bf7793 000bb32e
            10010305 00000001 00000056 00000000 00000000
            48000102 04000000";
        assert_eq!(encode(&echo, 1), hex(expected));
    }

    #[test]
    fn arp_record() {
        // tests/dhcp-rfc4388.pcap, record 4 (sequence 4). Argus writes the
        // key with length 6 (sender MAC cut after `a6824bc9`), an 8-bit
        // metric, a 44-word ARP response object and an encapsulation DSR,
        // and no MAC DSR (argus was run without -m). The last two bytes of
        // the sender MAC are made up here, and the replier MAC is taken from
        // argus's ARP response object.
        let sender_mac = [0xa6, 0x82, 0x4b, 0xc9, 0x11, 0x22];
        let replier_mac = [0x74, 0x83, 0xef, 0x07, 0xd0, 0xa9];
        let key = FlowKey::Arp { sender_ip: [10, 40, 2, 3], target_ip: [10, 40, 1, 1] };
        let src = DirectionStats { pkts: 1, bytes: 60, mac: Some(sender_mac), ..DirectionStats::default() };
        let dst = DirectionStats { pkts: 1, bytes: 42, mac: Some(replier_mac), ..DirectionStats::default() };
        let mut arp = record(key, ns(1_553_160_649, 545_424), ns(1_553_160_649, 545_438), src, dst);
        arp.arp_reply_mac = Some(replier_mac);
        let expected = "1310001a 01030103 00000000 00000004
            02060407 00010800 06040001 0a280203 0a280101 a6824bc9 11220000
            03021805 5c9359c9 00085290 5c9359c9 0008529e
            10010305 00000001 0000003c 00000001 0000002a
            42000005 7483ef07 d0a9a682 4bc91122 08060000";
        assert_eq!(encode(&arp, 4), hex(expected));
    }

    #[test]
    fn layer2_record_with_vlan() {
        // tests/MSTP_Intra-Region_BPDUs.pcap, record 1. Argus writes a
        // 16-bit source-only metric, an empty network DSR, and an
        // encapsulation DSR, and no MAC DSR (run without -m).
        let src_mac = [0x00, 0x1e, 0xf7, 0x05, 0xa8, 0x92];
        let key =
            FlowKey::Layer2 { src_mac, dst_mac: [0x01, 0x80, 0xc2, 0, 0, 0], ethertype: 0, ssap: 0x42, dsap: 0x42 };
        let src = DirectionStats {
            pkts: 3,
            bytes: 465,
            mac: Some(src_mac),
            vlan_tci: Some(0xe000),
            ..DirectionStats::default()
        };
        let bpdu = record(key, ns(1_335_882_518, 18_637), ns(1_335_882_522, 47_598), src, DirectionStats::default());
        let expected = "1310001a 01030103 00000000 00000001
            02010305 0180c200 0000001e f705a892 00004242
            03021805 4f9ff316 000048cd 4f9ff31a 0000b9ee
            10010305 00000003 000001d1 00000000 00000000
            40000102 e0000000
            42000005 0180c200 0000001e f705a892 00004242";
        assert_eq!(encode(&bpdu, 1), hex(expected));
    }

    #[test]
    fn cause_sets_header_byte() {
        let key = FlowKey::Ip { src: v4(1, 1, 1, 1), dst: v4(2, 2, 2, 2), protocol: 17, src_port: 1, dst_port: 2, tunnel: Default::default() };
        let mut flow = record(key, ns(1, 0), ns(2, 0), ip_side(1, 60, 64, 0), DirectionStats::default());
        flow.cause = RecordCause::Shutdown;
        assert_eq!(&encode(&flow, 1)[..2], [0x13, 0x60]);
    }

    #[test]
    fn tcp_state_only_for_tcp_keys() {
        let key = FlowKey::Ip { src: v4(1, 1, 1, 1), dst: v4(2, 2, 2, 2), protocol: 17, src_port: 1, dst_port: 2, tunnel: Default::default() };
        let mut flow = record(key, ns(1, 0), ns(2, 0), ip_side(1, 60, 64, 0), DirectionStats::default());
        flow.tcp = Some(TcpSummary::default());
        let out = encode(&flow, 1);
        assert!(!out.chunks(4).any(|word| word[..2] == [0x30, 0x05]), "record {out:02x?}");
    }

    #[test]
    fn longest_record_is_312_bytes() {
        let src = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let key = FlowKey::Ip { src, dst: src, protocol: 6, src_port: 1, dst_port: 2, tunnel: Default::default() };
        let side = DirectionStats {
            pkts: 1 << 33,
            bytes: 1 << 40,
            app_bytes: 1 << 39,
            ttl: 64,
            ip_options: naudit_engine::decode::ipv4_option::ROUTER_ALERT,
            mac: Some([2; 6]),
            vlan_tci: Some(5),
            min_packet_bytes: 60,
            max_packet_bytes: 1514,
            ..DirectionStats::default()
        };
        let mut flow = record(key, ns(1, 0), ns(2, 0), side, side);
        flow.tcp = Some(TcpSummary::default());
        assert_eq!(encode(&flow, 1).len(), 312);
    }
}
