//! Builds small captures for tests: Ethernet, IPv4, IPv6, TCP and UDP
//! headers, and pcap and pcapng files around them. Checksums are left 0:
//! nauditd does not verify them.

#![allow(dead_code)]

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;

/// TCP flag bits.
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const ACK: u8 = 0x10;

/// An Ethernet header between two fixed MAC addresses.
pub fn ethernet(ethertype: u16, reverse: bool) -> Vec<u8> {
    let a = [0x02, 0, 0, 0, 0, 0x0a];
    let b = [0x02, 0, 0, 0, 0, 0x0b];
    let (dst, src) = if reverse { (a, b) } else { (b, a) };
    let mut frame = Vec::new();
    frame.extend_from_slice(&dst);
    frame.extend_from_slice(&src);
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame
}

/// An IPv4 header (no options) for a payload of `payload_len` bytes.
pub fn ipv4(src: [u8; 4], dst: [u8; 4], protocol: u8, payload_len: usize) -> Vec<u8> {
    let total = (20 + payload_len) as u16;
    let mut header = vec![0x45, 0];
    header.extend_from_slice(&total.to_be_bytes());
    header.extend_from_slice(&[0, 1, 0x40, 0, 64, protocol, 0, 0]);
    header.extend_from_slice(&src);
    header.extend_from_slice(&dst);
    header
}

/// An IPv6 header for a payload of `payload_len` bytes.
pub fn ipv6(src: [u8; 16], dst: [u8; 16], next_header: u8, payload_len: usize) -> Vec<u8> {
    let mut header = vec![0x60, 0, 0, 0];
    header.extend_from_slice(&(payload_len as u16).to_be_bytes());
    header.extend_from_slice(&[next_header, 64]);
    header.extend_from_slice(&src);
    header.extend_from_slice(&dst);
    header
}

/// A TCP header without options, followed by `payload_len` zero bytes.
pub fn tcp(src_port: u16, dst_port: u16, seq: u32, ack: u32, flags: u8, payload_len: usize) -> Vec<u8> {
    let mut segment = Vec::new();
    segment.extend_from_slice(&src_port.to_be_bytes());
    segment.extend_from_slice(&dst_port.to_be_bytes());
    segment.extend_from_slice(&seq.to_be_bytes());
    segment.extend_from_slice(&ack.to_be_bytes());
    segment.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    segment.resize(segment.len() + payload_len, 0);
    segment
}

/// A UDP header followed by `payload_len` zero bytes.
pub fn udp(src_port: u16, dst_port: u16, payload_len: usize) -> Vec<u8> {
    let mut datagram = Vec::new();
    datagram.extend_from_slice(&src_port.to_be_bytes());
    datagram.extend_from_slice(&dst_port.to_be_bytes());
    datagram.extend_from_slice(&((8 + payload_len) as u16).to_be_bytes());
    datagram.extend_from_slice(&[0, 0]);
    datagram.resize(datagram.len() + payload_len, 0);
    datagram
}

/// An Ethernet frame carrying IPv4 and a transport segment.
pub fn ipv4_frame(src: [u8; 4], dst: [u8; 4], protocol: u8, transport: &[u8], reverse: bool) -> Vec<u8> {
    let mut frame = ethernet(ETHERTYPE_IPV4, reverse);
    frame.extend(ipv4(src, dst, protocol, transport.len()));
    frame.extend_from_slice(transport);
    frame
}

/// An Ethernet frame carrying IPv6 and a transport segment.
pub fn ipv6_frame(src: [u8; 16], dst: [u8; 16], next_header: u8, transport: &[u8], reverse: bool) -> Vec<u8> {
    let mut frame = ethernet(ETHERTYPE_IPV6, reverse);
    frame.extend(ipv6(src, dst, next_header, transport.len()));
    frame.extend_from_slice(transport);
    frame
}

/// One packet of a capture: time in nanoseconds and the bytes.
pub struct TestPacket {
    pub time_ns: u64,
    pub data: Vec<u8>,
}

/// Writes a little-endian microsecond pcap file with one link type.
pub fn pcap_file(link_type: u32, packets: &[TestPacket]) -> Vec<u8> {
    let mut file = Vec::new();
    file.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    file.extend_from_slice(&2u16.to_le_bytes());
    file.extend_from_slice(&4u16.to_le_bytes());
    file.extend_from_slice(&[0; 8]);
    file.extend_from_slice(&262_144u32.to_le_bytes());
    file.extend_from_slice(&link_type.to_le_bytes());
    for packet in packets {
        let seconds = (packet.time_ns / 1_000_000_000) as u32;
        let micros = (packet.time_ns % 1_000_000_000 / 1_000) as u32;
        let len = packet.data.len() as u32;
        for word in [seconds, micros, len, len] {
            file.extend_from_slice(&word.to_le_bytes());
        }
        file.extend_from_slice(&packet.data);
    }
    file
}

fn pcapng_block(file: &mut Vec<u8>, block_type: u32, body: &[u8]) {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    file.extend_from_slice(&block_type.to_le_bytes());
    file.extend_from_slice(&total.to_le_bytes());
    file.extend_from_slice(body);
    file.resize(file.len() + padded - body.len(), 0);
    file.extend_from_slice(&total.to_le_bytes());
}

/// Writes a little-endian pcapng file with one interface per link type,
/// each with nanosecond resolution (`if_tsresol` = 9). Each packet names
/// its interface.
pub fn pcapng_file(link_types: &[u16], packets: &[(u32, TestPacket)]) -> Vec<u8> {
    let mut file = Vec::new();
    let mut section = Vec::new();
    section.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    section.extend_from_slice(&1u16.to_le_bytes());
    section.extend_from_slice(&0u16.to_le_bytes());
    section.extend_from_slice(&(-1i64).to_le_bytes());
    pcapng_block(&mut file, 0x0a0d_0d0a, &section);
    for &link_type in link_types {
        let mut interface = Vec::new();
        interface.extend_from_slice(&link_type.to_le_bytes());
        interface.extend_from_slice(&0u16.to_le_bytes());
        interface.extend_from_slice(&262_144u32.to_le_bytes());
        // Option if_tsresol (code 9, length 1): 10^-9 seconds; then end of options.
        interface.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        pcapng_block(&mut file, 1, &interface);
    }
    for (interface, packet) in packets {
        let mut body = Vec::new();
        body.extend_from_slice(&interface.to_le_bytes());
        body.extend_from_slice(&((packet.time_ns >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(packet.time_ns as u32).to_le_bytes());
        let len = packet.data.len() as u32;
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(&len.to_le_bytes());
        body.extend_from_slice(&packet.data);
        body.resize(body.len().div_ceil(4) * 4, 0);
        pcapng_block(&mut file, 6, &body);
    }
    file
}
