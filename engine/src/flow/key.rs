//! Flow keys: which packets belong to one bidirectional conversation.
//!
//! A key is built from a packet in the packet's own direction
//! ([`FlowKey::from_decoded`]) and then put in canonical order
//! ([`FlowKey::canonical`]), so that both directions of a conversation give
//! the same key. The address family and the key kind are part of equality:
//! an IPv6 flow never equals an IPv4 flow, whatever the address bytes.

use std::cmp::Ordering;
use std::net::IpAddr;

use crate::decode::ib::{IbEndpoint, IbLink};
use crate::decode::{Decoded, IcmpInfo, Network, QuotedPacket, Transport, TunnelKind, TunnelSummary};

/// ICMP types that argus pairs with their request type: echo reply (0),
/// timestamp reply (14), information reply (16) and mask reply (18).
const ICMP_REPLY_TO_REQUEST: [(u8, u8); 4] = [(0, 8), (14, 13), (16, 15), (18, 17)];
/// ICMPv6 types argus keys with the type they answer, so that both halves
/// of an exchange form one flow: echo reply (129) with echo request (128),
/// router advertisement (134) with solicitation (133), neighbor
/// advertisement (136) with solicitation (135), and multicast listener
/// report (131) and done (132) with query (130).
const ICMPV6_ANSWER_TO_QUESTION: [(u8, u8); 5] = [(129, 128), (134, 133), (136, 135), (131, 130), (132, 130)];
const ICMPV6_ECHO_REQUEST: u8 = 128;
/// ICMP destination unreachable, and its codes that name what was quoted.
const ICMP_UNREACHABLE: u8 = 3;
const ICMP_UNREACHABLE_NET: u8 = 0;
const ICMP_UNREACHABLE_HOST: u8 = 1;
const ICMP_UNREACHABLE_PROTOCOL: u8 = 2;
const ICMP_UNREACHABLE_PORT: u8 = 3;
const ICMP_REDIRECT: u8 = 5;

/// The tunnel an IP flow's packets came through, reduced to the fields that
/// separate tenants: the same inner addresses and ports in two VXLAN
/// segments are two flows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TunnelContext {
    /// The innermost tunnel's kind, `None` outside any tunnel.
    pub kind: Option<TunnelKind>,
    /// The tunnel id when it tells tenants apart (VNI, ERSPAN session, GRE
    /// key), else 0 (see [`TunnelKind::has_shared_id`]).
    pub id: u32,
}

impl TunnelContext {
    /// No tunnel.
    pub const NONE: TunnelContext = TunnelContext { kind: None, id: 0 };

    /// Builds the context of a packet's innermost tunnel.
    pub fn from_summary(tunnel: Option<&TunnelSummary>) -> TunnelContext {
        match tunnel {
            Some(tunnel) => TunnelContext {
                kind: Some(tunnel.kind),
                id: if tunnel.kind.has_shared_id() { tunnel.id } else { 0 },
            },
            None => TunnelContext::NONE,
        }
    }
}

/// The identity of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowKey {
    /// An IP flow keyed by protocol and ports (0 for protocols without
    /// ports). Covers TCP, UDP and every IP protocol other than ICMP.
    Ip {
        /// Source address.
        src: IpAddr,
        /// Destination address.
        dst: IpAddr,
        /// IP protocol number (IPv6: the transport next-header value).
        protocol: u8,
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// The tunnel the packets came through.
        tunnel: TunnelContext,
    },
    /// An ICMP or ICMPv6 flow. ICMP query messages (echo and the like) are
    /// keyed by identifier and sequence number, so each ping is its own flow
    /// as in argus. ICMPv6 echo is keyed by identifier only, also as in
    /// argus. Replies are keyed with their request's type.
    Icmp {
        /// Source address.
        src: IpAddr,
        /// Destination address.
        dst: IpAddr,
        /// Message type (the request type for replies).
        icmp_type: u8,
        /// Message code.
        code: u8,
        /// Query identifier, else 0.
        id: u16,
        /// Query sequence number, else 0.
        seq: u16,
        /// The tunnel the packets came through.
        tunnel: TunnelContext,
    },
    /// An ARP conversation between two IPv4 addresses.
    Arp {
        /// Protocol address of the side that asked.
        sender_ip: [u8; 4],
        /// Protocol address asked for.
        target_ip: [u8; 4],
    },
    /// A non-IP layer-2 flow keyed by MAC addresses and EtherType.
    Layer2 {
        /// Source MAC address.
        src_mac: [u8; 6],
        /// Destination MAC address.
        dst_mac: [u8; 6],
        /// EtherType, 0 for 802.3 frames with a length field.
        ethertype: u16,
        /// 802.2 source service access point, else 0.
        ssap: u8,
        /// 802.2 destination service access point, else 0.
        dsap: u8,
    },
    /// An InfiniBand queue-pair conversation, native or over RoCE (see
    /// [`crate::flow::ib`]).
    Infiniband {
        /// Source GID, LID, or IP address for RoCEv2.
        src: IbEndpoint,
        /// Destination, of the same kind as `src`.
        dst: IbEndpoint,
        /// The link the packets travelled on.
        link: IbLink,
        /// Partition key without its membership bit (the low 15 bits).
        pkey: u16,
        /// Source queue pair: from the DETH of a datagram or the connection
        /// manager's exchange; `None` when neither was seen.
        src_qp: Option<u32>,
        /// Destination queue pair from the BTH; `None` for packets without
        /// a BTH.
        dst_qp: Option<u32>,
    },
}

/// Whether a packet travels in the canonical key's direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyDirection {
    /// The packet's source is the canonical key's source.
    Forward,
    /// The packet's source is the canonical key's destination.
    Reverse,
}

impl KeyDirection {
    /// Returns the other direction.
    pub fn flipped(self) -> KeyDirection {
        match self {
            KeyDirection::Forward => KeyDirection::Reverse,
            KeyDirection::Reverse => KeyDirection::Forward,
        }
    }
}

impl FlowKey {
    /// Builds the key of a decoded packet in the packet's own direction, or
    /// `None` when the packet has no flow identity (nothing decoded, or a
    /// non-first fragment, which the fragment table attributes instead).
    pub fn from_decoded(decoded: &Decoded) -> Option<FlowKey> {
        match decoded.network {
            Network::Ipv4(ip) | Network::Ipv6(ip) => {
                if ip.fragment.is_some_and(|fragment| fragment.offset_bytes != 0) {
                    return None;
                }
                let key = Self::from_ip(ip.src, ip.dst, ip.protocol, &decoded.transport, decoded.icmp_quoted.as_ref());
                let key = match (key, decoded.ipsec_spi) {
                    // IPsec has no ports; each direction has its own security
                    // association, so argus keys ESP and AH by SPI, split over
                    // the two port fields.
                    (FlowKey::Ip { src, dst, protocol, .. }, Some(spi)) => FlowKey::Ip {
                        src,
                        dst,
                        protocol,
                        src_port: (spi >> 16) as u16,
                        dst_port: spi as u16,
                        tunnel: TunnelContext::NONE,
                    },
                    (key, _) => key,
                };
                Some(key.with_tunnel(TunnelContext::from_summary(decoded.tunnel.as_ref())))
            }
            Network::Arp(arp) => Some(FlowKey::Arp {
                sender_ip: arp.sender_ip,
                target_ip: arp.target_ip,
            }),
            Network::Infiniband(ib) => Some(crate::flow::ib::key::infiniband_key(ib.src, ib.dst, &decoded.transport)),
            Network::None => {
                let link = &decoded.link;
                let (src_mac, dst_mac) = (link.src_mac?, link.dst_mac?);
                let (dsap, ssap) = link.llc_saps.unwrap_or((0, 0));
                Some(FlowKey::Layer2 { src_mac, dst_mac, ethertype: link.ethertype, ssap, dsap })
            }
        }
    }

    /// Builds an IP key from addresses, protocol and transport facts, and
    /// for ICMP errors the packet they quote.
    pub fn from_ip(
        src: IpAddr,
        dst: IpAddr,
        protocol: u8,
        transport: &Transport,
        quoted: Option<&QuotedPacket>,
    ) -> FlowKey {
        match *transport {
            Transport::Tcp(tcp) => FlowKey::Ip {
                src,
                dst,
                protocol,
                src_port: tcp.src_port,
                dst_port: tcp.dst_port,
                tunnel: TunnelContext::NONE,
            },
            Transport::Udp(udp) => FlowKey::Ip {
                src,
                dst,
                protocol,
                src_port: udp.src_port,
                dst_port: udp.dst_port,
                tunnel: TunnelContext::NONE,
            },
            Transport::Icmp(icmp) => Self::icmpv4_key(src, dst, icmp, quoted),
            Transport::Icmpv6(icmp) => {
                let question = ICMPV6_ANSWER_TO_QUESTION
                    .iter()
                    .find(|(answer, _)| *answer == icmp.icmp_type)
                    .map_or(icmp.icmp_type, |(_, question)| *question);
                // Echo is keyed by identifier only: argus 3.0.8's ICMPv6 key
                // has no room for the sequence number, so every ping of one
                // identifier is one flow there.
                let id = if question == ICMPV6_ECHO_REQUEST { icmp.id } else { 0 };
                FlowKey::Icmp { src, dst, icmp_type: question, code: icmp.code, id, seq: 0, tunnel: TunnelContext::NONE }
            }
            Transport::None => {
                FlowKey::Ip { src, dst, protocol, src_port: 0, dst_port: 0, tunnel: TunnelContext::NONE }
            }
            Transport::Infiniband(_) => {
                crate::flow::ib::key::infiniband_key(IbEndpoint::Ip(src), IbEndpoint::Ip(dst), transport)
            }
        }
    }

    /// Keys an IPv4 ICMP message as argus does: query messages by type
    /// (replies as their request), identifier and sequence number; a port
    /// unreachable by the quoted destination port, a protocol unreachable by
    /// the quoted protocol, and a net or host unreachable or a redirect by
    /// the quoted destination address (its two halves in `id` and `seq`).
    fn icmpv4_key(src: IpAddr, dst: IpAddr, icmp: IcmpInfo, quoted: Option<&QuotedPacket>) -> FlowKey {
        let request = ICMP_REPLY_TO_REQUEST.iter().find(|(reply, _)| *reply == icmp.icmp_type).map(|(_, request)| *request);
        let is_query = request.is_some() || ICMP_REPLY_TO_REQUEST.iter().any(|(_, request)| *request == icmp.icmp_type);
        if is_query {
            let icmp_type = request.unwrap_or(icmp.icmp_type);
            return FlowKey::Icmp {
                src,
                dst,
                icmp_type,
                code: 0,
                id: icmp.id,
                seq: icmp.seq,
                tunnel: TunnelContext::NONE,
            };
        }
        let (id, seq) = match (icmp.icmp_type, icmp.code, quoted) {
            (ICMP_UNREACHABLE, ICMP_UNREACHABLE_PORT, Some(quoted)) => (quoted.dst_port, 0),
            (ICMP_UNREACHABLE, ICMP_UNREACHABLE_PROTOCOL, Some(quoted)) => (u16::from(quoted.protocol), 0),
            (ICMP_UNREACHABLE, ICMP_UNREACHABLE_NET | ICMP_UNREACHABLE_HOST, Some(quoted))
            | (ICMP_REDIRECT, _, Some(quoted)) => match quoted.dst {
                IpAddr::V4(address) => {
                    let octets = address.octets();
                    (u16::from_be_bytes([octets[0], octets[1]]), u16::from_be_bytes([octets[2], octets[3]]))
                }
                IpAddr::V6(_) => (0, 0),
            },
            _ => (0, 0),
        };
        FlowKey::Icmp { src, dst, icmp_type: icmp.icmp_type, code: icmp.code, id, seq, tunnel: TunnelContext::NONE }
    }

    /// Returns the key with `tunnel` set; ARP and layer-2 keys have no
    /// tunnel context and come back unchanged.
    pub fn with_tunnel(self, tunnel: TunnelContext) -> FlowKey {
        match self {
            FlowKey::Ip { src, dst, protocol, src_port, dst_port, .. } => {
                FlowKey::Ip { src, dst, protocol, src_port, dst_port, tunnel }
            }
            FlowKey::Icmp { src, dst, icmp_type, code, id, seq, .. } => {
                FlowKey::Icmp { src, dst, icmp_type, code, id, seq, tunnel }
            }
            other => other,
        }
    }

    /// Returns the key with source and destination swapped.
    pub fn reversed(&self) -> FlowKey {
        match *self {
            FlowKey::Ip { src, dst, protocol, src_port, dst_port, tunnel } => FlowKey::Ip {
                src: dst,
                dst: src,
                protocol,
                src_port: dst_port,
                dst_port: src_port,
                tunnel,
            },
            FlowKey::Icmp { src, dst, icmp_type, code, id, seq, tunnel } => {
                FlowKey::Icmp { src: dst, dst: src, icmp_type, code, id, seq, tunnel }
            }
            FlowKey::Arp { sender_ip, target_ip } => {
                FlowKey::Arp { sender_ip: target_ip, target_ip: sender_ip }
            }
            FlowKey::Layer2 { src_mac, dst_mac, ethertype, ssap, dsap } => FlowKey::Layer2 {
                src_mac: dst_mac,
                dst_mac: src_mac,
                ethertype,
                ssap: dsap,
                dsap: ssap,
            },
            FlowKey::Infiniband { src, dst, link, pkey, src_qp, dst_qp } => {
                FlowKey::Infiniband { src: dst, dst: src, link, pkey, src_qp: dst_qp, dst_qp: src_qp }
            }
        }
    }

    /// Puts the key in canonical order (the smaller endpoint first) and
    /// returns whether the packet it came from travels in that order.
    pub fn canonical(&self) -> (FlowKey, KeyDirection) {
        let order = match self {
            FlowKey::Ip { src, dst, src_port, dst_port, .. } => (src, src_port).cmp(&(dst, dst_port)),
            FlowKey::Icmp { src, dst, .. } => src.cmp(dst),
            FlowKey::Arp { sender_ip, target_ip } => sender_ip.cmp(target_ip),
            FlowKey::Layer2 { src_mac, dst_mac, ssap, dsap, .. } => (src_mac, ssap).cmp(&(dst_mac, dsap)),
            FlowKey::Infiniband { src, dst, src_qp, dst_qp, .. } => (src, src_qp).cmp(&(dst, dst_qp)),
        };
        if order == Ordering::Greater {
            (self.reversed(), KeyDirection::Reverse)
        } else {
            (*self, KeyDirection::Forward)
        }
    }

    /// Returns the key seen from `direction`: itself for forward, swapped
    /// for reverse.
    pub fn oriented(&self, direction: KeyDirection) -> FlowKey {
        match direction {
            KeyDirection::Forward => *self,
            KeyDirection::Reverse => self.reversed(),
        }
    }

    /// Returns the IP protocol number of an IP or ICMP key.
    pub fn ip_protocol(&self) -> Option<u8> {
        match *self {
            FlowKey::Ip { protocol, .. } => Some(protocol),
            FlowKey::Icmp { src: IpAddr::V4(_), .. } => Some(1),
            FlowKey::Icmp { src: IpAddr::V6(_), .. } => Some(58),
            FlowKey::Infiniband { link: IbLink::RoceV2, .. } => Some(17),
            FlowKey::Arp { .. } | FlowKey::Layer2 { .. } | FlowKey::Infiniband { .. } => None,
        }
    }
}

/// A small multiplicative hasher for flow keys, which are short and of fixed
/// size; SipHash costs several times more per lookup.
///
/// NOTE: this hash is not keyed, so crafted traffic can make queue pairs
/// collide in the InfiniBand table that uses it, and put many flows on one
/// worker through the worker hash (memory stays bounded). The flow index
/// and the fragment table use keyed hashes instead.
#[derive(Default)]
pub struct FxHasher64 {
    hash: u64,
}

/// The multiplier of the Fx hash used by rustc (a large odd constant).
const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl std::hash::Hasher for FxHasher64 {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.write_u64(u64::from(value));
    }

    fn write_u16(&mut self, value: u16) {
        self.write_u64(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.hash = (self.hash.rotate_left(5) ^ value).wrapping_mul(FX_SEED);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn finish(&self) -> u64 {
        // Fold the high bits down so that bucket indices taken from the low
        // bits see the whole hash.
        self.hash ^ (self.hash >> 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn tcp_key(src: IpAddr, dst: IpAddr, src_port: u16, dst_port: u16) -> FlowKey {
        FlowKey::Ip { src, dst, protocol: 6, src_port, dst_port, tunnel: Default::default() }
    }

    #[test]
    fn canonical_same_for_both_directions() {
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let (forward, forward_dir) = tcp_key(a, b, 40000, 80).canonical();
        let (reverse, reverse_dir) = tcp_key(b, a, 80, 40000).canonical();
        assert_eq!(forward, reverse);
        assert_ne!(forward_dir, reverse_dir);
        assert_eq!(tcp_key(a, b, 40000, 80).index_hash(), tcp_key(b, a, 80, 40000).index_hash());
    }

    #[test]
    fn ipv6_never_equals_padded_ipv4() {
        let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let v6 = IpAddr::V6(Ipv6Addr::from([192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        let v4_peer = IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0));
        let v6_peer = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        assert_ne!(tcp_key(v4, v4_peer, 1, 2).canonical().0, tcp_key(v6, v6_peer, 1, 2).canonical().0);
    }
}
