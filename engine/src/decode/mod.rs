//! Header decoding: from a captured packet to the summary the flow layer
//! needs.
//!
//! Each protocol has its own module with a borrowed view type (`…Header<'a>`)
//! whose checked constructor proves that every accessor is in bounds. The
//! views are zero-copy; [`decode_packet`] walks them from the link layer to
//! the transport layer and copies the few fields a flow needs into a
//! [`Decoded`], which is small and `Copy`.
//!
//! No function in this module panics or reads out of bounds on any input. A
//! truncated or malformed header ends the walk: everything decoded before it
//! is kept, and [`Decoded::stop`] names the layer and the reason.
//!
//! The protocol modules are public so that tools and later decoders (tunnels,
//! say) can read headers the summary leaves out.

use std::net::IpAddr;

use crate::packet::PacketView;

pub mod arp;
mod bytes;
pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod ipv6_ext;
pub mod linux_sll;
pub mod linux_sll2;
pub mod llc;
pub mod loopback;
pub mod tcp;
#[cfg(test)]
mod test_frames;
pub mod udp;
pub mod vlan;
mod quoted;
mod walk;

pub use walk::decode_packet;

/// The protocol layer a decoder was reading when it stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// The link-layer header (Ethernet, Linux cooked, loopback, raw IP).
    Link,
    /// An 802.1Q or 802.1ad tag.
    Vlan,
    /// The ARP header.
    Arp,
    /// The IPv4 header, options included.
    Ipv4,
    /// The fixed IPv6 header.
    Ipv6,
    /// An IPv6 extension header.
    Ipv6Extension,
    /// The TCP header, options included.
    Tcp,
    /// The UDP header.
    Udp,
    /// The ICMP header.
    Icmp,
    /// The ICMPv6 header.
    Icmpv6,
}

impl Layer {
    /// Every layer, in the order the summary prints them.
    pub const ALL: [Layer; 10] = [
        Layer::Link,
        Layer::Vlan,
        Layer::Arp,
        Layer::Ipv4,
        Layer::Ipv6,
        Layer::Ipv6Extension,
        Layer::Tcp,
        Layer::Udp,
        Layer::Icmp,
        Layer::Icmpv6,
    ];

    /// Lower-case name for messages and counters.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Vlan => "vlan",
            Layer::Arp => "arp",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Ipv6Extension => "ipv6-extension",
            Layer::Tcp => "tcp",
            Layer::Udp => "udp",
            Layer::Icmp => "icmp",
            Layer::Icmpv6 => "icmpv6",
        }
    }

    /// Position in [`Layer::ALL`], for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Why decoding stopped at a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The captured bytes end before the header does.
    #[error("truncated: {needed_bytes} bytes needed, {available_bytes} captured")]
    Truncated {
        /// Bytes the header needs, counted from its first byte.
        needed_bytes: usize,
        /// Bytes captured from the header's first byte on.
        available_bytes: usize,
    },
    /// The IP version field does not match the header type.
    #[error("invalid IP version {0}")]
    InvalidVersion(u8),
    /// A header-length field is below the minimum the protocol allows.
    #[error("invalid header length {0} bytes")]
    InvalidHeaderLength(usize),
    /// A total or payload length field is inconsistent with the header.
    #[error("invalid length field {0}")]
    InvalidLength(u32),
    /// The link type of the capture is not one nauditd decodes.
    #[error("unsupported link type {0}")]
    UnsupportedLinkType(u16),
    /// More VLAN tags or IPv6 extension headers than the decoder follows.
    #[error("more than {0} nested headers")]
    TooDeep(usize),
}

/// The layer where decoding stopped and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeStop {
    /// The layer whose header could not be decoded.
    pub layer: Layer,
    /// What was wrong with it.
    pub error: DecodeError,
}

/// Most VLAN tags kept in a [`LinkInfo`]; deeper tags are still skipped.
pub const MAX_VLAN_TAGS: usize = 2;

/// Link-layer facts of a packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfo {
    /// Source MAC address, when the link layer has one (Ethernet, and Linux
    /// cooked captures with a 6-byte address).
    pub src_mac: Option<[u8; 6]>,
    /// Destination MAC address (Ethernet only).
    pub dst_mac: Option<[u8; 6]>,
    /// VLAN IDs of the outermost tags, outermost first; `vlan_count` are set.
    pub vlan_ids: [u16; MAX_VLAN_TAGS],
    /// Number of VLAN tags seen (may exceed [`MAX_VLAN_TAGS`]).
    pub vlan_count: u8,
    /// The EtherType (or Linux cooked protocol) of the network layer, 0 for
    /// 802.3 frames with a length field. Raw IP and loopback captures get the
    /// EtherType of their IP version.
    pub ethertype: u16,
    /// The 802.2 LLC destination and source service access points of an
    /// 802.3 frame.
    pub llc_saps: Option<(u8, u8)>,
    /// The link-layer address type (`ARPHRD_*`) of a Linux cooked capture
    /// (SLL and SLL2): 1 for Ethernet, 772 for loopback.
    pub arphrd_type: Option<u16>,
}

/// A fragment of an IP datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Offset of this fragment's payload in the datagram, in bytes.
    pub offset_bytes: u32,
    /// True unless this is the last fragment.
    pub more_fragments: bool,
    /// The datagram's identification (16 bits in IPv4, 32 in IPv6).
    pub id: u32,
}

/// Network-layer facts of an IPv4 or IPv6 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpInfo {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The transport protocol number (IPv6: the last next-header value).
    pub protocol: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 type of service or IPv6 traffic class (DSCP and ECN bits).
    pub tos: u8,
    /// IPv4 identification; 0 for IPv6.
    pub ip_id: u16,
    /// IPv6 flow label; 0 for IPv4.
    pub flow_label: u32,
    /// Set when the packet is a fragment (IPv4 with MF or an offset, IPv6
    /// with a fragment header).
    pub fragment: Option<Fragment>,
    /// Bytes after the IP header and its options or extension headers, as
    /// the length fields say (not as captured).
    pub payload_len_bytes: u32,
    /// IPv4 option types seen, as a bit set of [`ipv4_option`] flags.
    pub options: u16,
}

/// Bit flags for [`IpInfo::options`].
pub mod ipv4_option {
    /// Router alert (type 148).
    pub const ROUTER_ALERT: u16 = 1 << 0;
    /// Timestamp (type 68).
    pub const TIMESTAMP: u16 = 1 << 1;
    /// Record route (type 7).
    pub const RECORD_ROUTE: u16 = 1 << 2;
    /// Security (types 130 and 133).
    pub const SECURITY: u16 = 1 << 3;
    /// Loose source route (type 131).
    pub const LOOSE_SOURCE_ROUTE: u16 = 1 << 4;
    /// Strict source route (type 137).
    pub const STRICT_SOURCE_ROUTE: u16 = 1 << 5;
    /// SATNET stream id (type 136).
    pub const SATNET_ID: u16 = 1 << 6;
    /// Any other option type.
    pub const OTHER: u16 = 1 << 7;
}

/// ARP facts (Ethernet hardware, IPv4 protocol addresses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpInfo {
    /// 1 request, 2 reply, 3 and 4 RARP.
    pub opcode: u16,
    /// Hardware type (1 for Ethernet).
    pub hardware_type: u16,
    /// Protocol type (0x0800 for IPv4).
    pub protocol_type: u16,
    /// Sender hardware address.
    pub sender_mac: [u8; 6],
    /// Sender protocol address.
    pub sender_ip: [u8; 4],
    /// Target hardware address.
    pub target_mac: [u8; 6],
    /// Target protocol address.
    pub target_ip: [u8; 4],
}

/// The network layer of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// No network layer was decoded (the link layer was malformed, or the
    /// EtherType is not one nauditd reads as IP or ARP).
    None,
    /// IPv4.
    Ipv4(IpInfo),
    /// IPv6.
    Ipv6(IpInfo),
    /// ARP or RARP over Ethernet with IPv4 addresses.
    Arp(ArpInfo),
}

/// TCP header flags.
pub mod tcp_flag {
    /// No more data from the sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push.
    pub const PSH: u8 = 0x08;
    /// The acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// The urgent pointer is significant.
    pub const URG: u8 = 0x20;
    /// ECN echo.
    pub const ECE: u8 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u8 = 0x80;
}

/// Bit flags for [`TcpInfo::options`].
pub mod tcp_option {
    /// Maximum segment size (kind 2).
    pub const MSS: u16 = 1 << 0;
    /// Window scale (kind 3).
    pub const WINDOW_SCALE: u16 = 1 << 1;
    /// SACK permitted (kind 4).
    pub const SACK_PERMITTED: u16 = 1 << 2;
    /// SACK blocks (kind 5).
    pub const SACK: u16 = 1 << 3;
    /// Timestamps (kind 8).
    pub const TIMESTAMP: u16 = 1 << 4;
}

/// TCP facts of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpInfo {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags, as [`tcp_flag`] bits.
    pub flags: u8,
    /// Advertised window, unscaled.
    pub window: u16,
    /// Header length in bytes, options included.
    pub header_len_bytes: u8,
    /// Options seen, as [`tcp_option`] bits.
    pub options: u16,
    /// Window scale shift from the window-scale option, if present.
    pub window_scale: Option<u8>,
}

/// UDP facts of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpInfo {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

/// ICMP or ICMPv6 facts of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpInfo {
    /// Message type.
    pub icmp_type: u8,
    /// Message code.
    pub code: u8,
    /// Identifier of echo and the other query messages, else 0.
    pub id: u16,
    /// Sequence number of echo and the other query messages, else 0.
    pub seq: u16,
}

/// The transport layer of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// No transport header: a non-first fragment, a protocol without one the
    /// decoder reads, or a malformed header (see [`Decoded::stop`]).
    None,
    /// TCP.
    Tcp(TcpInfo),
    /// UDP.
    Udp(UdpInfo),
    /// ICMP over IPv4.
    Icmp(IcmpInfo),
    /// ICMPv6.
    Icmpv6(IcmpInfo),
}

/// What [`decode_packet`] found in one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// Link-layer facts.
    pub link: LinkInfo,
    /// Network-layer facts.
    pub network: Network,
    /// Transport-layer facts.
    pub transport: Transport,
    /// Transport payload bytes as the length fields say: for TCP the IP
    /// payload less the TCP header, for UDP the UDP length less 8, for ICMP
    /// the bytes after the 8-byte header; 0 when there is no transport layer.
    pub app_bytes: u32,
    /// Where and why decoding stopped early, if it did.
    ///
    /// A stop at a header's fixed part leaves that layer empty. A stop inside
    /// IPv4 or TCP options, or in the IPv6 extension chain, keeps the layer's
    /// fixed fields: `network` (or `transport` for TCP) is filled, and `stop`
    /// records that the header was cut.
    pub stop: Option<DecodeStop>,
    /// The packet an ICMP or ICMPv6 error message quotes, when the message
    /// is an error and the quote is long enough to show the addresses.
    pub icmp_quoted: Option<QuotedPacket>,
    /// The DNS header of a UDP datagram to or from port 53.
    pub dns: Option<DnsInfo>,
    /// The security parameters index of an ESP packet, or of an AH header
    /// over IPv4 (over IPv6 the walk looks through AH instead).
    pub ipsec_spi: Option<u32>,
}

/// The start of the packet an ICMP error quotes (RFC 792 requires the IP
/// header and 8 bytes after it, RFC 4443 section 2.4 as much as fits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotedPacket {
    /// Source address of the quoted packet.
    pub src: IpAddr,
    /// Destination address of the quoted packet.
    pub dst: IpAddr,
    /// Its transport protocol.
    pub protocol: u8,
    /// Its source port (TCP, UDP, SCTP, DCCP), else 0.
    pub src_port: u16,
    /// Its destination port, else 0.
    pub dst_port: u16,
}

/// The two DNS header fields that tell transactions apart (RFC 1035
/// section 4.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsInfo {
    /// Transaction identifier.
    pub id: u16,
    /// True for a response (the QR bit), false for a query.
    pub is_response: bool,
}

impl Decoded {
    /// A summary with nothing decoded yet.
    pub const EMPTY: Decoded = Decoded {
        link: LinkInfo {
            src_mac: None,
            dst_mac: None,
            vlan_ids: [0; MAX_VLAN_TAGS],
            vlan_count: 0,
            ethertype: 0,
            llc_saps: None,
            arphrd_type: None,
        },
        network: Network::None,
        transport: Transport::None,
        app_bytes: 0,
        stop: None,
        icmp_quoted: None,
        dns: None,
        ipsec_spi: None,
    };
}

/// Decodes `packet` from its link-layer header down to the transport header.
///
/// This is a convenience wrapper over [`decode_packet`] for tests and tools.
pub fn decode(packet: &PacketView<'_>) -> Decoded {
    decode_packet(packet.link_type, packet.data)
}
