//! Building Ethernet frames: Ethernet with an optional 802.1Q tag, an
//! optional VXLAN tunnel, IPv4 or IPv6, TCP or UDP, and a payload.
//!
//! Every length and checksum field is correct (IPv4 header, TCP and UDP
//! over the pseudo-header), so the frames read as valid packets in any
//! decoder. A VXLAN tunnel's outer UDP checksum is zero, as RFC 7348
//! section 5 recommends for IPv4.

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// EtherType (TPID) of an 802.1Q tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// IANA UDP port of VXLAN (RFC 7348).
pub const VXLAN_PORT: u16 = 4789;
/// IP protocol number of TCP.
pub const PROTOCOL_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTOCOL_UDP: u8 = 17;

const ETHERNET_BYTES: usize = 14;
const VLAN_TAG_BYTES: usize = 4;
const IPV4_BYTES: usize = 20;
const IPV6_BYTES: usize = 40;
const UDP_BYTES: usize = 8;
const VXLAN_BYTES: usize = 8;
const TCP_BYTES: usize = 20;
/// TCP options of a SYN and a SYN-ACK: MSS (4 bytes), SACK permitted (2),
/// one NOP, window scale (3), and two NOPs that pad to a 4-byte multiple.
const SYN_OPTIONS_BYTES: usize = 12;
/// Bytes a VXLAN tunnel adds in front of the inner frame: outer IPv4, UDP
/// and the VXLAN header (the outer Ethernet header replaces the inner one
/// in the count, since the inner one is carried as well).
pub const VXLAN_OVERHEAD_BYTES: usize = IPV4_BYTES + UDP_BYTES + VXLAN_BYTES + ETHERNET_BYTES;
/// Largest frame the builder writes: a jumbo frame.
pub const MAX_FRAME_BYTES: usize = 9216;
/// Largest IP packet of a standard Ethernet link.
pub const ETHERNET_MTU_BYTES: usize = 1500;
/// Window scale shift advertised in SYN options.
const WINDOW_SCALE_SHIFT: u8 = 7;
/// Advertised TCP window, before scaling.
const TCP_WINDOW: u16 = 64_240;

/// TCP flag bits.
pub mod tcp_flags {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Push.
    pub const PSH: u8 = 0x08;
    /// The acknowledgment number is valid.
    pub const ACK: u8 = 0x10;
}

/// Payload bytes copied into every frame: a fixed, non-repeating-looking
/// pattern, so payloads are neither all zero nor random per run.
static PAYLOAD_PATTERN: [u8; MAX_FRAME_BYTES] = payload_pattern();

const fn payload_pattern() -> [u8; MAX_FRAME_BYTES] {
    let mut pattern = [0u8; MAX_FRAME_BYTES];
    let mut index = 0;
    while index < MAX_FRAME_BYTES {
        pattern[index] = ((index * 31 + 7) ^ (index >> 7)) as u8;
        index += 1;
    }
    pattern
}

/// The transport protocol of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// The sending side of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the client (the flow's initiator) to the server.
    ToServer,
    /// From the server to the client.
    ToClient,
}

impl Direction {
    /// Index for per-direction arrays: 0 towards the server, 1 back.
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

/// A VXLAN tunnel between two IPv4 tunnel endpoints (VTEPs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VxlanTunnel {
    /// The 24-bit VXLAN network identifier.
    pub vni: u32,
    /// Address of the VTEP on the client's side.
    pub client_vtep: [u8; 4],
    /// Address of the VTEP on the server's side.
    pub server_vtep: [u8; 4],
    /// Outer UDP source port of each direction (the entropy a VTEP derives
    /// from the inner headers), indexed by [`Direction::index`].
    pub source_ports: [u16; 2],
}

/// The addresses of both ends of a flow and how its frames are framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// IPv6 when true, else IPv4 (whose address is in the first 4 bytes).
    pub ipv6: bool,
    /// Client address.
    pub client_ip: [u8; 16],
    /// Server address.
    pub server_ip: [u8; 16],
    /// Client port.
    pub client_port: u16,
    /// Server port.
    pub server_port: u16,
    /// Client MAC address.
    pub client_mac: [u8; 6],
    /// Server MAC address (the router in front of it, in real traffic).
    pub server_mac: [u8; 6],
    /// TCP or UDP.
    pub transport: Transport,
    /// 802.1Q VLAN identifier of the outermost frame, if tagged.
    pub vlan_id: Option<u16>,
    /// The tunnel the flow travels in, if any.
    pub vxlan: Option<VxlanTunnel>,
}

/// The TCP or UDP facts of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// TCP flags ([`tcp_flags`]); ignored for UDP.
    pub tcp_flags: u8,
    /// TCP sequence number.
    pub seq: u32,
    /// TCP acknowledgment number.
    pub ack: u32,
    /// Adds the SYN options (MSS, SACK permitted, window scale).
    pub syn_options: bool,
    /// Payload bytes after the transport header.
    pub payload_len: usize,
    /// Writes a DNS header at the start of the payload (RFC 1035 section
    /// 4.1.1) with this transaction id; the payload must hold 12 bytes.
    pub dns: Option<DnsHeader>,
    /// IPv4 identification (ignored for IPv6).
    pub ip_id: u16,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
}

/// The DNS header fields the generator sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsHeader {
    /// Transaction identifier.
    pub id: u16,
    /// True for a response, false for a query.
    pub response: bool,
}

/// Bytes of a DNS header.
pub const DNS_HEADER_BYTES: usize = 12;

impl Endpoints {
    /// Bytes in front of the payload: every header of the frame.
    pub fn header_len(&self, syn_options: bool) -> usize {
        let mut length = ETHERNET_BYTES;
        if self.vlan_id.is_some() {
            length += VLAN_TAG_BYTES;
        }
        if self.vxlan.is_some() {
            length += VXLAN_OVERHEAD_BYTES;
        }
        length += if self.ipv6 { IPV6_BYTES } else { IPV4_BYTES };
        length += match self.transport {
            Transport::Tcp if syn_options => TCP_BYTES + SYN_OPTIONS_BYTES,
            Transport::Tcp => TCP_BYTES,
            Transport::Udp => UDP_BYTES,
        };
        length
    }

    /// Returns the TCP maximum segment size of this flow on a 1500-byte
    /// Ethernet MTU, less a tunnel's headers.
    pub fn mss(&self) -> usize {
        let ip = if self.ipv6 { IPV6_BYTES } else { IPV4_BYTES };
        let tunnel = if self.vxlan.is_some() { VXLAN_OVERHEAD_BYTES } else { 0 };
        ETHERNET_MTU_BYTES - tunnel - ip - TCP_BYTES
    }

    /// Writes the frame `direction` sends with `segment` into `buffer` and
    /// returns its length.
    ///
    /// # Panics
    ///
    /// Panics if the frame would be longer than `buffer` or than
    /// [`MAX_FRAME_BYTES`], or if a DNS header does not fit the payload.
    pub fn write_frame(&self, direction: Direction, segment: &Segment, buffer: &mut [u8]) -> usize {
        let total = self.header_len(segment.syn_options) + segment.payload_len;
        assert!(total <= buffer.len().min(MAX_FRAME_BYTES), "frame of {total} bytes exceeds the buffer");
        let frame = &mut buffer[..total];
        let (source_mac, destination_mac) = match direction {
            Direction::ToServer => (self.client_mac, self.server_mac),
            Direction::ToClient => (self.server_mac, self.client_mac),
        };

        let mut offset = match &self.vxlan {
            Some(tunnel) => {
                let (outer_source, outer_destination) = match direction {
                    Direction::ToServer => (tunnel.client_vtep, tunnel.server_vtep),
                    Direction::ToClient => (tunnel.server_vtep, tunnel.client_vtep),
                };
                let offset = write_ethernet(frame, vtep_mac(outer_source), vtep_mac(outer_destination), self.vlan_id, ETHERTYPE_IPV4);
                let offset = write_vxlan(frame, offset, tunnel, direction, outer_source, outer_destination, segment.ttl);
                write_ethernet(&mut frame[offset..], source_mac, destination_mac, None, self.ethertype()) + offset
            }
            None => write_ethernet(frame, source_mac, destination_mac, self.vlan_id, self.ethertype()),
        };

        let (source_ip, destination_ip, source_port, destination_port) = match direction {
            Direction::ToServer => (self.client_ip, self.server_ip, self.client_port, self.server_port),
            Direction::ToClient => (self.server_ip, self.client_ip, self.server_port, self.client_port),
        };
        let transport_len = total - offset - self.ip_header_len();
        let protocol = match self.transport {
            Transport::Tcp => PROTOCOL_TCP,
            Transport::Udp => PROTOCOL_UDP,
        };
        let ip_start = offset;
        offset += if self.ipv6 {
            write_ipv6(&mut frame[offset..], &source_ip, &destination_ip, protocol, transport_len, segment.ttl)
        } else {
            write_ipv4(&mut frame[offset..], &source_ip, &destination_ip, protocol, transport_len, segment)
        };

        let transport = &mut frame[offset..];
        let header_len = match self.transport {
            Transport::Tcp => write_tcp_header(transport, source_port, destination_port, self.mss() as u16, segment),
            Transport::Udp => write_udp_header(transport, source_port, destination_port, transport_len),
        };
        let payload = &mut transport[header_len..];
        payload.copy_from_slice(&PAYLOAD_PATTERN[..payload.len()]);
        if let Some(dns) = segment.dns {
            write_dns_header(payload, dns);
        }

        let pseudo = pseudo_header_sum(&frame[ip_start..], self.ipv6, protocol, transport_len);
        let transport = &mut frame[offset..];
        let checksum = finish_checksum(ones_complement_sum(transport, pseudo));
        match self.transport {
            Transport::Tcp => transport[16..18].copy_from_slice(&checksum.to_be_bytes()),
            // A computed UDP checksum of zero is sent as all ones (RFC 768).
            Transport::Udp => transport[6..8].copy_from_slice(&(if checksum == 0 { 0xffff } else { checksum }).to_be_bytes()),
        }
        total
    }

    fn ethertype(&self) -> u16 {
        if self.ipv6 {
            ETHERTYPE_IPV6
        } else {
            ETHERTYPE_IPV4
        }
    }

    fn ip_header_len(&self) -> usize {
        if self.ipv6 {
            IPV6_BYTES
        } else {
            IPV4_BYTES
        }
    }
}

/// Builds a locally administered MAC address for a VTEP from its address.
fn vtep_mac(address: [u8; 4]) -> [u8; 6] {
    [0x02, 0xee, address[0], address[1], address[2], address[3]]
}

/// Writes an Ethernet header with an optional 802.1Q tag; returns its length.
fn write_ethernet(frame: &mut [u8], source: [u8; 6], destination: [u8; 6], vlan_id: Option<u16>, ethertype: u16) -> usize {
    frame[0..6].copy_from_slice(&destination);
    frame[6..12].copy_from_slice(&source);
    let mut offset = 12;
    if let Some(vlan_id) = vlan_id {
        frame[offset..offset + 2].copy_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
        // Priority 0, drop-eligible 0, then the 12-bit identifier.
        frame[offset + 2..offset + 4].copy_from_slice(&(vlan_id & 0x0fff).to_be_bytes());
        offset += VLAN_TAG_BYTES;
    }
    frame[offset..offset + 2].copy_from_slice(&ethertype.to_be_bytes());
    offset + 2
}

/// Writes the outer IPv4, UDP and VXLAN headers at `offset`; returns the
/// offset of the inner frame.
fn write_vxlan(
    frame: &mut [u8],
    offset: usize,
    tunnel: &VxlanTunnel,
    direction: Direction,
    source: [u8; 4],
    destination: [u8; 4],
    ttl: u8,
) -> usize {
    let udp_len = frame.len() - offset - IPV4_BYTES;
    let mut source_ip = [0u8; 16];
    source_ip[..4].copy_from_slice(&source);
    let mut destination_ip = [0u8; 16];
    destination_ip[..4].copy_from_slice(&destination);
    let outer = Segment { tcp_flags: 0, seq: 0, ack: 0, syn_options: false, payload_len: 0, dns: None, ip_id: 0, ttl };
    let offset = offset + write_ipv4(&mut frame[offset..], &source_ip, &destination_ip, PROTOCOL_UDP, udp_len, &outer);

    let udp = &mut frame[offset..];
    write_udp_header(udp, tunnel.source_ports[direction.index()], VXLAN_PORT, udp_len);
    // Outer checksum zero: not computed (RFC 7348 section 5).
    udp[6..8].copy_from_slice(&[0, 0]);

    let vxlan = &mut udp[UDP_BYTES..UDP_BYTES + VXLAN_BYTES];
    // Flags: only the I bit (a valid VNI); then 24 reserved bits, the VNI
    // and 8 more reserved bits.
    vxlan.copy_from_slice(&[0x08, 0, 0, 0, 0, 0, 0, 0]);
    vxlan[4..7].copy_from_slice(&tunnel.vni.to_be_bytes()[1..4]);
    offset + UDP_BYTES + VXLAN_BYTES
}

/// Writes an IPv4 header without options; returns its length.
fn write_ipv4(header: &mut [u8], source: &[u8; 16], destination: &[u8; 16], protocol: u8, payload_len: usize, segment: &Segment) -> usize {
    let header = &mut header[..IPV4_BYTES];
    header[0] = 0x45; // version 4, 5 words of header
    header[1] = 0; // DSCP and ECN
    header[2..4].copy_from_slice(&((IPV4_BYTES + payload_len) as u16).to_be_bytes());
    header[4..6].copy_from_slice(&segment.ip_id.to_be_bytes());
    header[6..8].copy_from_slice(&0x4000u16.to_be_bytes()); // don't fragment
    header[8] = segment.ttl;
    header[9] = protocol;
    header[10..12].copy_from_slice(&[0, 0]);
    header[12..16].copy_from_slice(&source[..4]);
    header[16..20].copy_from_slice(&destination[..4]);
    let checksum = finish_checksum(ones_complement_sum(header, 0));
    header[10..12].copy_from_slice(&checksum.to_be_bytes());
    IPV4_BYTES
}

/// Writes a fixed IPv6 header (flow label 0); returns its length.
fn write_ipv6(header: &mut [u8], source: &[u8; 16], destination: &[u8; 16], next_header: u8, payload_len: usize, hop_limit: u8) -> usize {
    let header = &mut header[..IPV6_BYTES];
    header[0..4].copy_from_slice(&0x6000_0000u32.to_be_bytes());
    header[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
    header[6] = next_header;
    header[7] = hop_limit;
    header[8..24].copy_from_slice(source);
    header[24..40].copy_from_slice(destination);
    IPV6_BYTES
}

/// Writes a TCP header with a zero checksum; returns its length. `mss` is
/// the value of the MSS option, written only with the SYN options.
fn write_tcp_header(header: &mut [u8], source_port: u16, destination_port: u16, mss: u16, segment: &Segment) -> usize {
    let length = if segment.syn_options { TCP_BYTES + SYN_OPTIONS_BYTES } else { TCP_BYTES };
    let header = &mut header[..length];
    header[0..2].copy_from_slice(&source_port.to_be_bytes());
    header[2..4].copy_from_slice(&destination_port.to_be_bytes());
    header[4..8].copy_from_slice(&segment.seq.to_be_bytes());
    header[8..12].copy_from_slice(&segment.ack.to_be_bytes());
    header[12] = ((length / 4) as u8) << 4;
    header[13] = segment.tcp_flags;
    header[14..16].copy_from_slice(&TCP_WINDOW.to_be_bytes());
    header[16..20].copy_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    if segment.syn_options {
        let mss = mss.to_be_bytes();
        let options = [2, 4, mss[0], mss[1], 4, 2, 1, 3, 3, WINDOW_SCALE_SHIFT, 1, 1];
        header[TCP_BYTES..].copy_from_slice(&options);
    }
    length
}

/// Writes a UDP header with a zero checksum; returns its length.
fn write_udp_header(header: &mut [u8], source_port: u16, destination_port: u16, udp_len: usize) -> usize {
    header[0..2].copy_from_slice(&source_port.to_be_bytes());
    header[2..4].copy_from_slice(&destination_port.to_be_bytes());
    header[4..6].copy_from_slice(&(udp_len as u16).to_be_bytes());
    header[6..8].copy_from_slice(&[0, 0]);
    UDP_BYTES
}

/// Writes a DNS header: one question, and one answer in a response.
fn write_dns_header(payload: &mut [u8], dns: DnsHeader) {
    let flags: u16 = if dns.response { 0x8180 } else { 0x0100 };
    let answers: u16 = u16::from(dns.response);
    payload[0..2].copy_from_slice(&dns.id.to_be_bytes());
    payload[2..4].copy_from_slice(&flags.to_be_bytes());
    payload[4..6].copy_from_slice(&1u16.to_be_bytes());
    payload[6..8].copy_from_slice(&answers.to_be_bytes());
    payload[8..12].copy_from_slice(&[0, 0, 0, 0]);
}

/// Sums the TCP/UDP pseudo-header of the IP header at the start of `ip`.
fn pseudo_header_sum(ip: &[u8], ipv6: bool, protocol: u8, transport_len: usize) -> u64 {
    let addresses = if ipv6 { &ip[8..40] } else { &ip[12..20] };
    ones_complement_sum(addresses, 0) + u64::from(protocol) + transport_len as u64
}

/// Adds `data` as big-endian 16-bit words to `initial`, without folding.
///
/// The sum is taken over 32-bit words, which folds to the same 16-bit
/// one's complement sum (RFC 1071 section 2) with half the additions.
pub fn ones_complement_sum(data: &[u8], initial: u64) -> u64 {
    let mut sum = initial;
    let mut words = data.chunks_exact(4);
    for word in &mut words {
        sum += u64::from(u32::from_be_bytes([word[0], word[1], word[2], word[3]]));
    }
    let rest = words.remainder();
    let mut tail = [0u8; 4];
    tail[..rest.len()].copy_from_slice(rest);
    sum + u64::from(u32::from_be_bytes(tail))
}

/// Folds a sum to 16 bits and complements it.
pub fn finish_checksum(mut sum: u64) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(ipv6: bool, transport: Transport) -> Endpoints {
        let mut client_ip = [0u8; 16];
        let mut server_ip = [0u8; 16];
        client_ip[..4].copy_from_slice(&[10, 0, 0, 1]);
        server_ip[..4].copy_from_slice(&[172, 16, 0, 2]);
        if ipv6 {
            client_ip = [0x20, 0x01, 0x0d, 0xb8, 0, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
            server_ip = [0x20, 0x01, 0x0d, 0xb8, 0, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        }
        Endpoints {
            ipv6,
            client_ip,
            server_ip,
            client_port: 40_000,
            server_port: 443,
            client_mac: [2, 0, 0, 0, 0, 1],
            server_mac: [2, 1, 0, 0, 0, 2],
            transport,
            vlan_id: None,
            vxlan: None,
        }
    }

    fn segment(payload_len: usize) -> Segment {
        Segment { tcp_flags: tcp_flags::ACK, seq: 1, ack: 2, syn_options: false, payload_len, dns: None, ip_id: 7, ttl: 64 }
    }

    #[test]
    fn ipv4_tcp_frame_has_valid_checksums() {
        let flow = endpoints(false, Transport::Tcp);
        let mut buffer = [0u8; MAX_FRAME_BYTES];
        let length = flow.write_frame(Direction::ToServer, &segment(101), &mut buffer);
        assert_eq!(length, 14 + 20 + 20 + 101);

        let ip = &buffer[14..34];
        assert_eq!(finish_checksum(ones_complement_sum(ip, 0)), 0, "IPv4 header checksum");
        let pseudo = pseudo_header_sum(ip, false, PROTOCOL_TCP, length - 34);
        assert_eq!(finish_checksum(ones_complement_sum(&buffer[34..length], pseudo)), 0, "TCP checksum");
    }

    #[test]
    fn ipv6_udp_frame_has_valid_checksum() {
        let flow = endpoints(true, Transport::Udp);
        let mut buffer = [0u8; MAX_FRAME_BYTES];
        let length = flow.write_frame(Direction::ToClient, &segment(33), &mut buffer);
        assert_eq!(length, 14 + 40 + 8 + 33);

        let pseudo = pseudo_header_sum(&buffer[14..54], true, PROTOCOL_UDP, length - 54);
        assert_eq!(finish_checksum(ones_complement_sum(&buffer[54..length], pseudo)), 0, "UDP checksum");
        assert_eq!(&buffer[22..38], &flow.server_ip, "source is the server");
    }

    #[test]
    fn vxlan_frame_layout() {
        let mut flow = endpoints(false, Transport::Tcp);
        flow.vlan_id = Some(100);
        flow.vxlan = Some(VxlanTunnel { vni: 0x12_3456, client_vtep: [192, 0, 2, 1], server_vtep: [198, 51, 100, 1], source_ports: [50_000, 50_001] });
        let mut buffer = [0u8; MAX_FRAME_BYTES];
        let length = flow.write_frame(Direction::ToServer, &segment(0), &mut buffer);
        assert_eq!(length, flow.header_len(false));
        assert_eq!(length, 18 + 50 + 20 + 20);

        assert_eq!(&buffer[12..14], &ETHERTYPE_VLAN.to_be_bytes());
        assert_eq!(&buffer[16..18], &ETHERTYPE_IPV4.to_be_bytes());
        let udp = &buffer[38..46];
        assert_eq!(&udp[0..2], &50_000u16.to_be_bytes());
        assert_eq!(&udp[2..4], &VXLAN_PORT.to_be_bytes());
        assert_eq!(usize::from(u16::from_be_bytes([udp[4], udp[5]])), length - 38);
        assert_eq!(&buffer[46..54], &[0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0]);
        assert_eq!(&buffer[54 + 12..54 + 14], &ETHERTYPE_IPV4.to_be_bytes(), "inner EtherType");
    }

    #[test]
    fn mss_fits_the_mtu() {
        let mut flow = endpoints(true, Transport::Tcp);
        assert_eq!(flow.mss(), 1440);
        flow.vxlan = Some(VxlanTunnel { vni: 1, client_vtep: [0; 4], server_vtep: [0; 4], source_ports: [1, 2] });
        assert_eq!(flow.mss(), 1390);
        assert_eq!(flow.header_len(false) + flow.mss(), 14 + 1500);
    }

    #[test]
    fn syn_options_carry_flow_mss() {
        let flow = endpoints(true, Transport::Tcp);
        let mut buffer = [0u8; MAX_FRAME_BYTES];
        let syn = Segment { tcp_flags: tcp_flags::SYN, syn_options: true, ..segment(0) };
        let length = flow.write_frame(Direction::ToServer, &syn, &mut buffer);
        assert_eq!(length, 14 + 40 + 32);

        let tcp = &buffer[54..length];
        assert_eq!(tcp[12] >> 4, 8, "data offset in 32-bit words");
        assert_eq!(&tcp[20..24], &[2, 4, 0x05, 0xa0], "MSS option of 1440 bytes");
    }

    #[test]
    fn dns_header_written() {
        let flow = endpoints(false, Transport::Udp);
        let mut buffer = [0u8; MAX_FRAME_BYTES];
        let mut dns_query = segment(40);
        dns_query.dns = Some(DnsHeader { id: 0xbeef, response: true });
        flow.write_frame(Direction::ToClient, &dns_query, &mut buffer);
        assert_eq!(&buffer[42..46], &[0xbe, 0xef, 0x81, 0x80]);
    }
}
