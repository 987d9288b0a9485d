//! Tunnels that no corpus capture carries, on captures composed here: GUE
//! (variants 0 and 1), AYIYA, L2TPv2 data, L2TPv3 over IP and over UDP, and
//! a Geneve header whose options are damaged.
//!
//! The expected values come from tshark 4.0.17's dissection of the same
//! captures (`tshark -r FILE -q -z conv,ipv6 -z conv,tcp -z conv,udp`),
//! written in each test. tshark 4.0 has no GUE dissector, so for GUE they
//! come from its dissection of the inner packets alone, written as a raw IP
//! capture.

mod common;

use common::builder::{self, TestPacket, ACK, SYN};
use common::{csv_rows, nauditd_csv, scratch_file};

const UDP: u8 = 17;
const TCP: u8 = 6;
const L2TP: u8 = 115;
const BASE_NS: u64 = 1_700_000_000_000_000_000;

/// Outer endpoints: documentation addresses of RFC 5737 (TEST-NET-2).
fn outer(last: u8) -> [u8; 4] {
    [198, 51, 100, last]
}

fn ipv6_address(last: u8) -> [u8; 16] {
    let mut address = [0; 16];
    address[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    address[15] = last;
    address
}

/// A UDP datagram whose length field counts `payload`.
fn udp_with(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut datagram = builder::udp(src_port, dst_port, 0);
    datagram.extend_from_slice(payload);
    let length = datagram.len() as u16;
    datagram[4..6].copy_from_slice(&length.to_be_bytes());
    datagram
}

/// An IPv4 packet without a link layer.
fn ipv4_packet(src: [u8; 4], dst: [u8; 4], protocol: u8, transport: &[u8]) -> Vec<u8> {
    let mut packet = builder::ipv4(src, dst, protocol, transport.len());
    packet.extend_from_slice(transport);
    packet
}

/// An IPv6 packet without a link layer.
fn ipv6_packet(src: [u8; 16], dst: [u8; 16], next_header: u8, transport: &[u8]) -> Vec<u8> {
    let mut packet = builder::ipv6(src, dst, next_header, transport.len());
    packet.extend_from_slice(transport);
    packet
}

/// An Ethernet frame with an outer IPv4 header from `src` to `dst`, whose
/// MAC addresses follow the direction.
fn outer_frame(src: u8, dst: u8, protocol: u8, payload: &[u8]) -> Vec<u8> {
    builder::ipv4_frame(outer(src), outer(dst), protocol, payload, src > dst)
}

fn packet(index: u64, data: Vec<u8>) -> TestPacket {
    TestPacket { time_ns: BASE_NS + index * 1_000_000, data }
}

/// Runs nauditd on `packets` written as an Ethernet pcap named `name`.
fn records(name: &str, packets: &[TestPacket]) -> Vec<Vec<String>> {
    let capture = scratch_file(name, &builder::pcap_file(1, packets));
    csv_rows(&nauditd_csv(&capture, &[]))
}

/// One record, by column name.
struct Row<'a> {
    header: &'a [String],
    fields: &'a [String],
}

impl Row<'_> {
    fn get(&self, name: &str) -> &str {
        let index = self.header.iter().position(|field| field == name).unwrap_or_else(|| panic!("no column {name}"));
        &self.fields[index]
    }
}

/// Returns the only record of `rows` whose protocol is `proto`.
fn only<'a>(rows: &'a [Vec<String>], proto: &str) -> Row<'a> {
    let header = &rows[0];
    let matching: Vec<Row<'a>> =
        rows[1..].iter().map(|fields| Row { header, fields }).filter(|row| row.get("proto") == proto).collect();
    assert_eq!(matching.len(), 1, "one {proto} record expected in {rows:?}");
    matching.into_iter().next().unwrap()
}

/// The inner conversation tshark lists: source and destination as
/// address and port, and frames and bytes in each direction.
struct Expected {
    src: (&'static str, &'static str),
    dst: (&'static str, &'static str),
    pkts: (&'static str, &'static str),
    bytes: (&'static str, &'static str),
}

fn assert_flow(row: &Row<'_>, expected: &Expected) {
    assert_eq!((row.get("saddr"), row.get("sport")), expected.src);
    assert_eq!((row.get("daddr"), row.get("dport")), expected.dst);
    assert_eq!((row.get("spkts"), row.get("dpkts")), expected.pkts);
    assert_eq!((row.get("sbytes"), row.get("dbytes")), expected.bytes);
}

fn assert_tunnel(row: &Row<'_>, kind: &str, src: &str, dst: &str, id: &str) {
    assert_eq!(row.get("tunnel"), kind);
    assert_eq!((row.get("tunnel_src"), row.get("tunnel_dst")), (src, dst));
    assert_eq!(row.get("tunnel_id"), id);
}

// ---- GUE ----

/// GUE variant 0 carrying IPv4 (protocol 4) with UDP 1111 to 2222, then the
/// answer with one 4-byte optional field (Hlen 1).
fn gue_variant_0_packets() -> (Vec<TestPacket>, Vec<Vec<u8>>) {
    let request = ipv4_packet([10, 1, 0, 1], [10, 1, 0, 2], UDP, &udp_with(1111, 2222, &[0x61; 10]));
    let answer = ipv4_packet([10, 1, 0, 2], [10, 1, 0, 1], UDP, &udp_with(2222, 1111, &[0x62; 30]));
    let mut gue_request = vec![0x00, 4, 0, 0];
    gue_request.extend_from_slice(&request);
    let mut gue_answer = vec![0x01, 4, 0x80, 0x00, 0xaa, 0xbb, 0xcc, 0xdd];
    gue_answer.extend_from_slice(&answer);
    let packets = vec![
        packet(0, outer_frame(1, 2, UDP, &udp_with(40000, 6080, &gue_request))),
        packet(1, outer_frame(2, 1, UDP, &udp_with(40001, 6080, &gue_answer))),
    ];
    (packets, vec![request, answer])
}

#[test]
fn gue_variant_0_inner_udp() {
    let (packets, inner) = gue_variant_0_packets();
    let inner: Vec<TestPacket> =
        inner.into_iter().enumerate().map(|(index, data)| packet(index as u64, data)).collect();
    scratch_file("gue-variant-0-inner.pcap", &builder::pcap_file(101, &inner));
    let rows = records("gue-variant-0.pcap", &packets);
    assert_eq!(rows.len(), 2, "header and the inner flow: {rows:?}");
    // tshark on the inner packets (raw IP): 10.1.0.1:1111 <-> 10.1.0.2:2222,
    // 1 frame of 38 bytes and 1 frame of 58 bytes. The records count the
    // outer frames: 14 + 20 + 8 + 4 bytes more one way, 14 + 20 + 8 + 8 the
    // other.
    let row = only(&rows, "udp");
    assert_flow(
        &row,
        &Expected { src: ("10.1.0.1", "1111"), dst: ("10.1.0.2", "2222"), pkts: ("1", "1"), bytes: ("84", "108") },
    );
    assert_tunnel(&row, "gue", "198.51.100.1", "198.51.100.2", "0");
}

#[test]
fn gue_variant_1_inner_ipv6() {
    let request = ipv6_packet(ipv6_address(1), ipv6_address(2), UDP, &udp_with(3333, 4444, &[0x63; 12]));
    let answer = ipv6_packet(ipv6_address(2), ipv6_address(1), UDP, &udp_with(4444, 3333, &[0x64; 4]));
    let packets = vec![
        packet(0, outer_frame(3, 4, UDP, &udp_with(40002, 6080, &request))),
        packet(1, outer_frame(4, 3, UDP, &udp_with(6080, 40002, &answer))),
    ];
    let inner = vec![packet(0, request), packet(1, answer)];
    scratch_file("gue-variant-1-inner.pcap", &builder::pcap_file(101, &inner));
    let rows = records("gue-variant-1.pcap", &packets);
    assert_eq!(rows.len(), 2, "header and the inner flow: {rows:?}");
    // tshark on the inner packets: [2001:db8::1]:3333 <-> [2001:db8::2]:4444,
    // 1 frame of 60 bytes and 1 frame of 52; the outer frames add 42 each.
    let row = only(&rows, "udp");
    assert_flow(
        &row,
        &Expected {
            src: ("2001:db8::1", "3333"),
            dst: ("2001:db8::2", "4444"),
            pkts: ("1", "1"),
            bytes: ("102", "94"),
        },
    );
    assert_tunnel(&row, "gue", "198.51.100.3", "198.51.100.4", "0");
}

#[test]
fn gue_control_message_stays_outer() {
    let control = [0x20, 0, 0, 0, 1, 2, 3, 4];
    let packets = vec![packet(0, outer_frame(1, 2, UDP, &udp_with(40000, 6080, &control)))];
    let rows = records("gue-control.pcap", &packets);
    let row = only(&rows, "udp");
    assert_eq!((row.get("saddr"), row.get("dport")), ("198.51.100.1", "6080"));
    assert_eq!(row.get("tunnel"), "");
}

// ---- AYIYA ----

/// An AYIYA forward message with a 16-byte identity and a 20-byte SHA-1
/// signature around an IPv6 packet.
fn ayiya(payload: &[u8]) -> Vec<u8> {
    let mut message = vec![0x41, 0x52, 0x11, 41, 0x65, 0x5c, 0x6e, 0x00];
    message.extend_from_slice(&ipv6_address(0x10));
    message.extend_from_slice(&[0x5a; 20]);
    message.extend_from_slice(payload);
    message
}

#[test]
fn ayiya_inner_tcp() {
    let syn = ipv6_packet(ipv6_address(0x10), ipv6_address(0x20), TCP, &builder::tcp(5555, 80, 1, 0, SYN, 0));
    let syn_ack = ipv6_packet(ipv6_address(0x20), ipv6_address(0x10), TCP, &builder::tcp(80, 5555, 9, 2, SYN | ACK, 0));
    let packets = vec![
        packet(0, outer_frame(5, 6, UDP, &udp_with(5072, 5072, &ayiya(&syn)))),
        packet(1, outer_frame(6, 5, UDP, &udp_with(5072, 5072, &ayiya(&syn_ack)))),
    ];
    let rows = records("ayiya.pcap", &packets);
    assert_eq!(rows.len(), 2, "header and the inner flow: {rows:?}");
    // tshark: [2001:db8::10]:5555 <-> [2001:db8::20]:80, 1 frame of 146
    // bytes each way.
    let row = only(&rows, "tcp");
    assert_flow(
        &row,
        &Expected {
            src: ("2001:db8::10", "5555"),
            dst: ("2001:db8::20", "80"),
            pkts: ("1", "1"),
            bytes: ("146", "146"),
        },
    );
    assert_tunnel(&row, "ayiya", "198.51.100.5", "198.51.100.6", "0");
}

// ---- L2TP ----

/// An L2TPv2 data message without optional fields around a PPP frame in
/// HDLC-like framing.
fn l2tpv2_data(tunnel_id: u16, session_id: u16, ip_packet: &[u8]) -> Vec<u8> {
    let mut message = vec![0x00, 0x02];
    message.extend_from_slice(&tunnel_id.to_be_bytes());
    message.extend_from_slice(&session_id.to_be_bytes());
    message.extend_from_slice(&[0xff, 0x03, 0x00, 0x21]);
    message.extend_from_slice(ip_packet);
    message
}

#[test]
fn l2tpv2_data_inner_udp() {
    let request = ipv4_packet([10, 2, 0, 1], [10, 2, 0, 2], UDP, &udp_with(7777, 5000, &[0x71; 20]));
    let answer = ipv4_packet([10, 2, 0, 2], [10, 2, 0, 1], UDP, &udp_with(5000, 7777, &[0x72; 40]));
    let packets = vec![
        packet(0, outer_frame(7, 8, UDP, &udp_with(1701, 1701, &l2tpv2_data(7, 9, &request)))),
        packet(1, outer_frame(8, 7, UDP, &udp_with(1701, 1701, &l2tpv2_data(8, 10, &answer)))),
    ];
    let rows = records("l2tpv2-data.pcap", &packets);
    // tshark: 10.2.0.1:7777 <-> 10.2.0.2:5000, 1 frame of 100 bytes and 1 of
    // 120. The ids are chosen by each receiver, so the two directions carry
    // different ones and the record shows the first packet's.
    let row = only(&rows, "udp");
    assert_flow(
        &row,
        &Expected { src: ("10.2.0.1", "7777"), dst: ("10.2.0.2", "5000"), pkts: ("1", "1"), bytes: ("100", "120") },
    );
    assert_tunnel(&row, "l2tp", "198.51.100.7", "198.51.100.8", &((7u32 << 16) | 9).to_string());
}

/// An Ethernet frame with IPv4 and TCP, as an L2TPv3 Ethernet pseudowire
/// carries it.
fn inner_ethernet_tcp(client_to_server: bool, flags: u8) -> Vec<u8> {
    let (src, dst, src_port, dst_port) = if client_to_server {
        ([10, 3, 0, 1], [10, 3, 0, 2], 6000, 443)
    } else {
        ([10, 3, 0, 2], [10, 3, 0, 1], 443, 6000)
    };
    builder::ipv4_frame(src, dst, TCP, &builder::tcp(src_port, dst_port, 1, 1, flags, 0), !client_to_server)
}

#[test]
fn l2tpv3_over_ip_ethernet_pseudowire() {
    let mut request = 0x0000_1234u32.to_be_bytes().to_vec();
    request.extend(inner_ethernet_tcp(true, SYN));
    let mut answer = 0x0000_5678u32.to_be_bytes().to_vec();
    answer.extend(inner_ethernet_tcp(false, SYN | ACK));
    let packets = vec![packet(0, outer_frame(9, 10, L2TP, &request)), packet(1, outer_frame(10, 9, L2TP, &answer))];
    let rows = records("l2tpv3-ip.pcap", &packets);
    assert_eq!(rows.len(), 2, "header and the inner flow: {rows:?}");
    // The data message does not state what the pseudowire carries, so
    // tshark needs these settings: tshark -o l2tp.cookie_size:None -o
    // l2tp.l2_specific:None -d l2tp.pw_type==0,eth gives 10.3.0.1:6000 <->
    // 10.3.0.2:443, 1 frame of 92 bytes each way.
    let row = only(&rows, "tcp");
    assert_flow(
        &row,
        &Expected { src: ("10.3.0.1", "6000"), dst: ("10.3.0.2", "443"), pkts: ("1", "1"), bytes: ("92", "92") },
    );
    assert_tunnel(&row, "l2tpv3", "198.51.100.9", "198.51.100.10", &0x1234.to_string());
}

#[test]
fn l2tpv3_over_udp_with_cookie() {
    let message = |session_id: u32, frame: Vec<u8>| {
        let mut message = vec![0x00, 0x03, 0x00, 0x00];
        message.extend_from_slice(&session_id.to_be_bytes());
        message.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        message.extend(frame);
        message
    };
    let packets = vec![
        packet(0, outer_frame(11, 12, UDP, &udp_with(1701, 1701, &message(0xabcd, inner_ethernet_tcp(true, SYN))))),
        packet(
            1,
            outer_frame(12, 11, UDP, &udp_with(1701, 1701, &message(0xdcba, inner_ethernet_tcp(false, SYN | ACK)))),
        ),
    ];
    let rows = records("l2tpv3-udp.pcap", &packets);
    assert_eq!(rows.len(), 2, "header and the inner flow: {rows:?}");
    // tshark -o l2tp.cookie_size:"4 Byte Cookie" -o l2tp.l2_specific:None
    // -d l2tp.pw_type==0,eth: 10.3.0.1:6000 <-> 10.3.0.2:443, 1 frame of 108
    // bytes each way.
    let row = only(&rows, "tcp");
    assert_flow(
        &row,
        &Expected { src: ("10.3.0.1", "6000"), dst: ("10.3.0.2", "443"), pkts: ("1", "1"), bytes: ("108", "108") },
    );
    assert_tunnel(&row, "l2tpv3", "198.51.100.11", "198.51.100.12", &0xabcd.to_string());
}

#[test]
fn l2tpv3_control_message_stays_outer() {
    // Session id 0 marks a control message over IP.
    let control = [0, 0, 0, 0, 0xc8, 0x03, 0x00, 0x0c, 0, 0, 0, 0];
    let rows = records("l2tpv3-control.pcap", &[packet(0, outer_frame(9, 10, L2TP, &control))]);
    let row = only(&rows, "l2tp");
    assert_eq!((row.get("saddr"), row.get("daddr")), ("198.51.100.9", "198.51.100.10"));
    assert_eq!(row.get("tunnel"), "");
}

// ---- Geneve ----

#[test]
fn geneve_option_past_header_stays_outer() {
    // The options length field counts 2 words, but the one option claims 2 words of
    // data after its 4-byte header. tshark 4.0.17 warns "length of 12 is
    // past end of options" and still dissects the frame after the options.
    // nauditd rejects the header as malformed and counts the packet in its
    // outer UDP flow.
    let inner = inner_ethernet_tcp(true, SYN);
    let mut geneve = vec![0x02, 0x00, 0x65, 0x58, 0x00, 0x00, 0x2a, 0x00, 0x01, 0x02, 0x03, 0x02, 1, 2, 3, 4];
    geneve.extend(inner);
    let rows =
        records("geneve-bad-option.pcap", &[packet(0, outer_frame(13, 14, UDP, &udp_with(50000, 6081, &geneve)))]);
    let row = only(&rows, "udp");
    assert_eq!((row.get("saddr"), row.get("dport")), ("198.51.100.13", "6081"));
    assert_eq!(row.get("tunnel"), "");
}

#[test]
fn geneve_options_walked_to_inner_flow() {
    // Two options: 4 bytes of header only, then 4 bytes of header and 8 of
    // data; options length 4 words. tshark: 10.3.0.1:6000 <-> 10.3.0.2:443,
    // 1 frame of 120 bytes, VNI 0x00002a.
    let inner = inner_ethernet_tcp(true, SYN);
    let mut geneve = vec![0x04, 0x00, 0x65, 0x58, 0x00, 0x00, 0x2a, 0x00];
    geneve.extend([0x01, 0x02, 0x80, 0x00]);
    geneve.extend([0xff, 0xff, 0x01, 0x02, 1, 2, 3, 4, 5, 6, 7, 8]);
    geneve.extend(inner);
    let rows =
        records("geneve-two-options.pcap", &[packet(0, outer_frame(13, 14, UDP, &udp_with(50000, 6081, &geneve)))]);
    let row = only(&rows, "tcp");
    assert_flow(
        &row,
        &Expected { src: ("10.3.0.1", "6000"), dst: ("10.3.0.2", "443"), pkts: ("1", "0"), bytes: ("120", "0") },
    );
    assert_tunnel(&row, "geneve", "198.51.100.13", "198.51.100.14", "42");
}
