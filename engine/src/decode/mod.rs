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
pub mod ayiya;
mod bytes;
pub mod capwap;
pub mod erf;
pub mod geneve;
pub mod gre;
pub mod gtp;
pub mod gue;
pub mod ib;
pub mod ieee80211;
pub mod ipoib;
pub mod juniper;
pub mod l2tp;
pub mod l2tpv3;
pub mod mpls;
pub mod nflog;
pub mod nsh;
pub mod pbb;
pub mod ppp;
pub mod ppi;
pub mod pppoe;
pub mod teredo;
pub mod vxlan;
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
mod walk_encap;

pub use walk::{decode_packet, decode_packet_into};
pub use walk_encap::{udp_port_has_decoder, MAX_ENCAPSULATION_DEPTH};

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
    /// An MPLS label stack entry or pseudowire control word.
    Mpls,
    /// A PPP, HDLC or PPPoE header.
    Ppp,
    /// A tunnel header (GRE, ERSPAN, VXLAN, Geneve, GTP-U, L2TP, CAPWAP,
    /// Teredo, NSH), or one tunnel more than the walk follows.
    Tunnel,
    /// An InfiniBand header (LRH, GRH, BTH or an extension header).
    Infiniband,
}

impl Layer {
    /// Every layer, in the order the summary prints them.
    pub const ALL: [Layer; 14] = [
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
        Layer::Mpls,
        Layer::Ppp,
        Layer::Tunnel,
        Layer::Infiniband,
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
            Layer::Mpls => "mpls",
            Layer::Ppp => "ppp",
            Layer::Tunnel => "tunnel",
            Layer::Infiniband => "infiniband",
        }
    }

    /// Position in [`Layer::ALL`], for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Reason decoding stopped at a layer.
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
    /// More VLAN tags, IPv6 extension headers, MPLS labels or nested
    /// encapsulations than the decoder follows.
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

/// Most MPLS labels kept in a [`LinkInfo`]; deeper labels are still skipped.
pub const MAX_MPLS_LABELS: usize = 3;

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
    /// MPLS labels (20-bit values) of the outermost label stack entries,
    /// top of the stack first; `mpls_count` are set.
    pub mpls_labels: [u32; MAX_MPLS_LABELS],
    /// Number of MPLS label stack entries seen (may exceed
    /// [`MAX_MPLS_LABELS`]).
    pub mpls_count: u8,
    /// The session id of a PPPoE session or discovery frame.
    pub pppoe_session: Option<u16>,
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
    /// Native InfiniBand or RoCE version 1 (RoCE version 2 is IP).
    Infiniband(ib::IbNetwork),
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
    /// Every bit above. Add a new option's bit here too, because the TCP
    /// tracker checks at compile time that it has room for these bits.
    pub const ALL: u16 = MSS | WINDOW_SCALE | SACK_PERMITTED | SACK | TIMESTAMP;
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
    /// An InfiniBand BTH, natively, in RoCEv1 or in a RoCEv2 UDP datagram.
    Infiniband(ib::IbTransport),
}

/// Summary of the headers [`decode_packet`] found in one packet.
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
    /// The innermost tunnel whose inner packet has a network layer. When it
    /// is set, `network` and `transport` are the inner packet's, while
    /// `link` stays the outermost link layer.
    pub tunnel: Option<TunnelSummary>,
    /// The outermost such tunnel (equal to `tunnel` for a single tunnel).
    pub outer_tunnel: Option<TunnelSummary>,
    /// Encapsulations seen on the way to `network`, as [`encapsulation`]
    /// bits.
    pub encapsulation: u32,
    /// Number of nested encapsulations entered: tunnels, and MPLS
    /// pseudowires and 802.1ah frames that carry an Ethernet frame.
    pub depth: u8,
}

/// Kinds of tunnel the walk looks through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TunnelKind {
    /// GRE (RFC 2784, 2890).
    Gre,
    /// The enhanced GRE of PPTP (RFC 2637, GRE version 1).
    Pptp,
    /// ERSPAN type I: GRE 0x88BE without a sequence number or ERSPAN header.
    ErspanI,
    /// ERSPAN type II: GRE 0x88BE with an 8-byte ERSPAN header.
    ErspanII,
    /// ERSPAN type III: GRE 0x22EB with a 12-byte ERSPAN header.
    ErspanIII,
    /// IPv4 or IPv6 directly in IPv4 or IPv6 (IP protocols 4 and 41).
    IpInIp,
    /// VXLAN (RFC 7348, UDP 4789).
    Vxlan,
    /// VXLAN generic protocol extension (UDP 4790).
    VxlanGpe,
    /// Geneve (RFC 8926, UDP 6081).
    Geneve,
    /// GTP-U version 1 (UDP 2152).
    GtpU,
    /// Teredo (RFC 4380, UDP 3544).
    Teredo,
    /// GRE in UDP (RFC 8086, UDP 4754).
    GreInUdp,
    /// MPLS in UDP (RFC 7510, UDP 6635).
    MplsInUdp,
    /// L2TP version 2 data messages (RFC 2661, UDP 1701).
    L2tp,
    /// CAPWAP data channel (RFC 5415, UDP 5247).
    Capwap,
    /// Generic UDP Encapsulation (UDP 6080), variants 0 and 1.
    Gue,
    /// AYIYA, "Anything In Anything" (UDP 5072).
    Ayiya,
    /// L2TP version 3 data messages (RFC 3931), over IP protocol 115 or
    /// UDP 1701.
    L2tpV3,
}

impl TunnelKind {
    /// Lower-case name for records and messages.
    pub fn name(self) -> &'static str {
        match self {
            TunnelKind::Gre => "gre",
            TunnelKind::Pptp => "pptp",
            TunnelKind::ErspanI => "erspan1",
            TunnelKind::ErspanII => "erspan2",
            TunnelKind::ErspanIII => "erspan3",
            TunnelKind::IpInIp => "ipip",
            TunnelKind::Vxlan => "vxlan",
            TunnelKind::VxlanGpe => "vxlan-gpe",
            TunnelKind::Geneve => "geneve",
            TunnelKind::GtpU => "gtpu",
            TunnelKind::Teredo => "teredo",
            TunnelKind::GreInUdp => "gre-udp",
            TunnelKind::MplsInUdp => "mpls-udp",
            TunnelKind::L2tp => "l2tp",
            TunnelKind::Capwap => "capwap",
            TunnelKind::Gue => "gue",
            TunnelKind::Ayiya => "ayiya",
            TunnelKind::L2tpV3 => "l2tpv3",
        }
    }

    /// Returns true when the tunnel id tells tenants apart in a flow key:
    /// the VXLAN and Geneve VNI, the ERSPAN session and the GRE key. GTP-U
    /// TEIDs, L2TP and L2TPv3 ids and PPTP call ids are chosen by the
    /// receiver and differ per direction, so they are left out. GRE keys may
    /// differ per direction too; the flow shard pairs such directions (see
    /// `flow::gre_keys`).
    pub fn has_shared_id(self) -> bool {
        matches!(
            self,
            TunnelKind::Vxlan
                | TunnelKind::VxlanGpe
                | TunnelKind::Geneve
                | TunnelKind::ErspanII
                | TunnelKind::ErspanIII
                | TunnelKind::Gre
                | TunnelKind::GreInUdp
        )
    }
}

/// One tunnel a packet came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TunnelSummary {
    /// The tunnel protocol.
    pub kind: TunnelKind,
    /// Source address of the IP header that carries the tunnel.
    pub outer_src: IpAddr,
    /// Destination address of that IP header.
    pub outer_dst: IpAddr,
    /// The tunnel's id: VXLAN or Geneve VNI, GRE key, PPTP call id,
    /// ERSPAN session id, GTP-U TEID, L2TP tunnel id in the high 16 bits and
    /// session id in the low 16, L2TPv3 session id; 0 when the header has
    /// none.
    pub id: u32,
    /// Nesting depth of this tunnel, 1 for the outermost encapsulation.
    pub depth: u8,
}

/// Bit flags for [`Decoded::encapsulation`], numbered as the argus
/// encapsulation DSR numbers them (argus 3.0.8 `ARGUS_ENCAPS_*`).
pub mod encapsulation {
    /// MPLS label stack.
    pub const MPLS: u32 = 0x0000_0001;
    /// Ethernet header.
    pub const ETHERNET: u32 = 0x0000_0002;
    /// 802.1Q or 802.1ad tag.
    pub const VLAN: u32 = 0x0000_0004;
    /// 802.2 LLC header.
    pub const LLC: u32 = 0x0000_0008;
    /// PPP header, PPPoE included.
    pub const PPP: u32 = 0x0000_0010;
    /// GRE header.
    pub const GRE: u32 = 0x0000_0040;
    /// IP in IP with an IPv4 outer header.
    pub const IP_IN_IP: u32 = 0x0000_0100;
    /// IP in IP with an IPv6 outer header (4in6, 6in6).
    pub const IPV6_OUTER: u32 = 0x0000_0200;
    /// PPP in HDLC framing.
    pub const HDLC: u32 = 0x0000_0400;
    /// Cisco HDLC.
    pub const CISCO_HDLC: u32 = 0x0000_0800;
    /// 802.11 header.
    pub const IEEE80211: u32 = 0x0002_0000;
    /// Teredo.
    pub const TEREDO: u32 = 0x0040_0000;
    /// InfiniBand Local Route Header.
    pub const INFINIBAND_LRH: u32 = 0x0010_0000;
    /// InfiniBand Global Route Header (native or RoCEv1).
    pub const INFINIBAND_GRH: u32 = 0x0020_0000;
    /// Juniper pseudo-header.
    pub const JUNIPER: u32 = 0x0200_0000;
    /// ERSPAN type II.
    pub const ERSPAN_II: u32 = 0x0400_0000;
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
            mpls_labels: [0; MAX_MPLS_LABELS],
            mpls_count: 0,
            pppoe_session: None,
        },
        network: Network::None,
        transport: Transport::None,
        app_bytes: 0,
        stop: None,
        icmp_quoted: None,
        dns: None,
        ipsec_spi: None,
        tunnel: None,
        outer_tunnel: None,
        encapsulation: 0,
        depth: 0,
    };

    /// Makes this summary equal to [`Decoded::EMPTY`]. Each field is reset
    /// on its own, so an empty `Option` or enum costs a store of its tag
    /// rather than a copy of the whole 344-byte value, which a worker would
    /// pay for every packet.
    #[inline]
    pub fn reset(&mut self) {
        // Naming every field makes a new one a compile error here.
        let Decoded {
            link,
            network,
            transport,
            app_bytes,
            stop,
            icmp_quoted,
            dns,
            ipsec_spi,
            tunnel,
            outer_tunnel,
            encapsulation,
            depth,
        } = self;
        *link = Decoded::EMPTY.link;
        *network = Network::None;
        *transport = Transport::None;
        *app_bytes = 0;
        *stop = None;
        *icmp_quoted = None;
        *dns = None;
        *ipsec_spi = None;
        *tunnel = None;
        *outer_tunnel = None;
        *encapsulation = 0;
        *depth = 0;
    }
}

/// Decodes `packet` from its link-layer header down to the transport header.
///
/// This is a convenience wrapper over [`decode_packet`] for tests and tools.
pub fn decode(packet: &PacketView<'_>) -> Decoded {
    decode_packet(packet.link_type, packet.data)
}
