//! The few bytes beyond the transport header the flow layer needs: the
//! packet an ICMP or ICMPv6 error message quotes, the DNS header of a UDP
//! datagram, and the SPI of an IPsec header.

use std::net::IpAddr;

use super::ipv4::Ipv4Header;
use super::ipv6::Ipv6Header;
use super::ipv6_ext::{self, next_header};
use super::{DnsInfo, QuotedPacket};

/// IP protocols whose first four bytes are the source and destination
/// ports: TCP, UDP, DCCP and SCTP.
const PROTOCOLS_WITH_PORTS: [u8; 4] = [next_header::TCP, next_header::UDP, 33, 132];

/// Well-known DNS server port (RFC 1035 section 4.2).
pub const DNS_PORT: u16 = 53;
/// Length of the DNS header (RFC 1035 section 4.1.1).
const DNS_HEADER_LEN: usize = 12;

/// Returns true for ICMP types that quote the packet that caused them:
/// destination unreachable, source quench, redirect, time exceeded and
/// parameter problem (RFC 792).
pub fn icmpv4_quotes_packet(icmp_type: u8) -> bool {
    matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
}

/// Returns true for ICMPv6 error types, which all quote the packet that
/// caused them (types below 128, RFC 4443 section 2.1).
pub fn icmpv6_quotes_packet(icmp_type: u8) -> bool {
    icmp_type < 128
}

fn ports(protocol: u8, transport: &[u8]) -> (u16, u16) {
    match (PROTOCOLS_WITH_PORTS.contains(&protocol), transport.get(..4)) {
        (true, Some(bytes)) => (u16::from_be_bytes([bytes[0], bytes[1]]), u16::from_be_bytes([bytes[2], bytes[3]])),
        _ => (0, 0),
    }
}

/// Reads the quoted IPv4 packet of an ICMP error: its addresses, protocol
/// and, when quoted, its ports. Returns `None` when less than an IPv4
/// header is quoted.
pub fn quoted_ipv4(quote: &[u8]) -> Option<QuotedPacket> {
    let header = Ipv4Header::new(quote).ok()?;
    let transport = quote.get(header.header_len()..).unwrap_or(&[]);
    let protocol = header.protocol();
    let first_fragment = header.fragment_offset_bytes() == 0;
    let (src_port, dst_port) = if first_fragment { ports(protocol, transport) } else { (0, 0) };
    Some(QuotedPacket { src: IpAddr::V4(header.src()), dst: IpAddr::V4(header.dst()), protocol, src_port, dst_port })
}

/// Reads the quoted IPv6 packet of an ICMPv6 error, following its extension
/// headers as far as they are quoted.
pub fn quoted_ipv6(quote: &[u8]) -> Option<QuotedPacket> {
    let header = Ipv6Header::new(quote).ok()?;
    let chain = ipv6_ext::walk_chain(header.next_header(), header.payload_len(), header.captured_payload());
    let (src_port, dst_port) =
        if chain.stop.is_none() && !chain.is_later_fragment { ports(chain.protocol, chain.payload) } else { (0, 0) };
    Some(QuotedPacket {
        src: IpAddr::V6(header.src()),
        dst: IpAddr::V6(header.dst()),
        protocol: chain.protocol,
        src_port,
        dst_port,
    })
}

/// Offset of the security parameters index in an ESP header (RFC 4303
/// section 2).
pub const ESP_SPI_OFFSET: usize = 0;
/// Offset of the security parameters index in an AH header (RFC 4302
/// section 2).
pub const AH_SPI_OFFSET: usize = 4;

/// Reads the 32-bit security parameters index at `offset`, if captured.
pub fn ipsec_spi(header: &[u8], offset: usize) -> Option<u32> {
    let bytes = header.get(offset..offset + 4)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Reads the transaction id and the QR bit of a DNS message.
pub fn dns_header(udp_payload: &[u8]) -> Option<DnsInfo> {
    let header = udp_payload.get(..DNS_HEADER_LEN)?;
    Some(DnsInfo { id: u16::from_be_bytes([header[0], header[1]]), is_response: header[2] & 0x80 != 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quoted part of frame 1 of icmp-destunreach-quoting-udp.pcap: an
    /// IPv4 UDP datagram 192.168.1.1:53 -> 192.168.1.102:59207 (as tshark
    /// shows it).
    const QUOTED_UDP: [u8; 28] = [
        0x45, 0x00, 0x00, 0xa4, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb6, 0x5d, 0xc0, 0xa8, 0x01, 0x01, //
        0xc0, 0xa8, 0x01, 0x66, 0x00, 0x35, 0xe7, 0x47, 0x00, 0x90, 0x00, 0x00,
    ];

    #[test]
    fn quoted_udp_ports() {
        let quoted = quoted_ipv4(&QUOTED_UDP).expect("quoted packet");
        assert_eq!(quoted.src, IpAddr::from([192, 168, 1, 1]));
        assert_eq!(quoted.dst, IpAddr::from([192, 168, 1, 102]));
        assert_eq!(quoted.protocol, 17);
        assert_eq!((quoted.src_port, quoted.dst_port), (53, 59207));
    }

    #[test]
    fn quoted_header_only() {
        let quoted = quoted_ipv4(&QUOTED_UDP[..20]).expect("quoted header");
        assert_eq!((quoted.src_port, quoted.dst_port), (0, 0));
        for len in 0..20 {
            assert_eq!(quoted_ipv4(&QUOTED_UDP[..len]), None, "{len} bytes");
        }
    }

    #[test]
    fn dns_query_and_response() {
        assert_eq!(dns_header(&[0xbc, 0x76, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Some(DnsInfo { id: 0xbc76, is_response: false }));
        assert_eq!(dns_header(&[0xbc, 0x76, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]).map(|dns| dns.is_response), Some(true));
        assert_eq!(dns_header(&[0xbc, 0x76, 0x01]), None);
    }
}
