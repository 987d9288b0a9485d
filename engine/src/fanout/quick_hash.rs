//! The worker hash of the common packet shapes, read from the headers
//! without the full decoder.
//!
//! A worker that shares a file with others looks at every packet of the
//! file to find its own, so the cost of hashing a packet it then skips
//! limits how well workers scale. Ethernet, VLAN tags, then IPv4 or IPv6
//! carrying TCP, or UDP on a port that no tunnel decoder watches, make up
//! most traffic, and for them the full decoder ends at the outer IP header
//! whatever else the packet holds. VXLAN around such a frame is read here
//! too, because the decoder keeps the inner addresses of a VXLAN packet.
//! Everything else returns `None`, and the caller falls back to
//! [`super::worker_hash`] over the full decode, so the two always agree (a
//! test checks this on every corpus capture).

use super::hash::{hash_ipv4_pair, hash_ipv6_pair, worker_hash};
use crate::decode::decode_packet;
use crate::decode::ethernet::{ethertype, EthernetHeader};
use crate::decode::ipv4::Ipv4Header;
use crate::decode::ipv6::Ipv6Header;
use crate::decode::ipv6_ext::next_header;
use crate::decode::udp::UdpHeader;
use crate::decode::udp_port_has_decoder;
use crate::decode::vlan::{self, VlanHeader};
use crate::decode::vxlan::VxlanHeader;
use crate::packet::LinkType;

/// The UDP port of VXLAN (RFC 7348).
const VXLAN_PORT: u16 = 4789;

/// Whether a frame may be a VXLAN tunnel's outer frame, or is its inner one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tunnels {
    /// The outer frame, with this many VLAN tags: VXLAN is read.
    Enter { vlan_tags: usize },
    /// Inside VXLAN: any tunnel port returns `None`.
    Inside,
}

/// Returns the worker hash of a packet of `link_type` when its headers are
/// of a common shape, or `None` when only the full decoder can tell.
#[inline]
pub fn quick_worker_hash(link_type: LinkType, data: &[u8]) -> Option<u64> {
    if link_type.normalized() != LinkType::ETHERNET {
        return None;
    }
    ethernet_hash(data, None)
}

/// Returns the worker hash of any packet: from its headers when they are of
/// a common shape, and from the full decode otherwise.
#[inline]
pub fn packet_worker_hash(link_type: LinkType, data: &[u8]) -> u64 {
    quick_worker_hash(link_type, data).unwrap_or_else(|| worker_hash(&decode_packet(link_type, data)))
}

/// Returns the hash of an Ethernet frame, after any VLAN tags. An inner
/// frame gets the tag count of its outer frame, because the decoder counts
/// the tags of both against one limit.
#[inline]
fn ethernet_hash(data: &[u8], outer_vlan_tags: Option<usize>) -> Option<u64> {
    let ethernet = EthernetHeader::new(data).ok()?;
    let mut type_or_length = ethernet.type_or_length();
    let mut payload = ethernet.payload();
    let mut tags = outer_vlan_tags.unwrap_or(0);
    while vlan::is_tag_ethertype(type_or_length) {
        if tags == vlan::MAX_TAGS {
            return None;
        }
        let tag = VlanHeader::new(payload).ok()?;
        type_or_length = tag.type_or_length();
        payload = tag.payload();
        tags += 1;
    }
    let tunnels = match outer_vlan_tags {
        None => Tunnels::Enter { vlan_tags: tags },
        Some(_) => Tunnels::Inside,
    };
    match type_or_length {
        ethertype::IPV4 => ipv4_hash(payload, tunnels),
        ethertype::IPV6 => ipv6_hash(payload, tunnels),
        _ => None,
    }
}

/// Returns the hash of the addresses and protocol the decoder keeps for an
/// IPv4 packet.
#[inline]
fn ipv4_hash(data: &[u8], tunnels: Tunnels) -> Option<u64> {
    let header = Ipv4Header::new(data).ok()?;
    let hash = || hash_ipv4_pair(u32::from(header.src()), u32::from(header.dst()), header.protocol());
    // The decoder stops at a header cut by the capture and at a later
    // fragment, keeping the outer addresses.
    if data.len() < header.header_len() || header.fragment_offset_bytes() != 0 {
        return Some(hash());
    }
    // A VXLAN packet is read only when it is not a fragment at all, so that
    // its inner frame is whole.
    let tunnels = if header.more_fragments() { Tunnels::Inside } else { tunnels };
    match transport_hash(header.protocol(), header.payload(), tunnels)? {
        Transport::EndsWalk => Some(hash()),
        Transport::Inner(inner) => Some(inner),
    }
}

/// Returns the same for an IPv6 packet without extension headers.
#[inline]
fn ipv6_hash(data: &[u8], tunnels: Tunnels) -> Option<u64> {
    let header = Ipv6Header::new(data).ok()?;
    let protocol = header.next_header();
    // The decoder reads the payload only as far as the payload length. Only
    // a hop-by-hop header can make a jumbogram, and this path reads none.
    let captured = header.captured_payload();
    let payload = &captured[..captured.len().min(usize::from(header.payload_len()))];
    match transport_hash(protocol, payload, tunnels)? {
        Transport::EndsWalk => Some(hash_ipv6_pair(u128::from(header.src()), u128::from(header.dst()), protocol)),
        Transport::Inner(inner) => Some(inner),
    }
}

/// The decoder's next step after a transport header.
enum Transport {
    /// Its walk ends there: the packet is hashed by its IP header.
    EndsWalk,
    /// It enters a VXLAN tunnel whose frame has this hash.
    Inner(u64),
}

/// Returns the decoder's next step after this transport header, or `None`
/// when only the full decoder can tell. TCP always ends the walk, and UDP
/// does unless a port has a decoder of its own (tunnels, RoCEv2).
#[inline]
fn transport_hash(protocol: u8, payload: &[u8], tunnels: Tunnels) -> Option<Transport> {
    match protocol {
        next_header::TCP => Some(Transport::EndsWalk),
        next_header::UDP => match payload {
            [src_high, src_low, dst_high, dst_low, ..] => {
                let src_port = u16::from_be_bytes([*src_high, *src_low]);
                let dst_port = u16::from_be_bytes([*dst_high, *dst_low]);
                // The decoder takes the destination port first.
                let tunnel_port = if udp_port_has_decoder(dst_port) {
                    dst_port
                } else if udp_port_has_decoder(src_port) {
                    src_port
                } else {
                    return Some(Transport::EndsWalk);
                };
                match tunnels {
                    Tunnels::Enter { vlan_tags } if tunnel_port == VXLAN_PORT => {
                        vxlan_hash(payload, vlan_tags).map(Transport::Inner)
                    }
                    _ => None,
                }
            }
            // Without both ports the decoder stops at the UDP header.
            _ => Some(Transport::EndsWalk),
        },
        _ => None,
    }
}

/// Returns the hash of the frame in a VXLAN datagram when that frame is of
/// a common shape itself. The decoder keeps the inner addresses only when
/// the inner frame reaches a network layer. Every shape read here does, and
/// anything else is left to the full decoder.
fn vxlan_hash(udp: &[u8], outer_vlan_tags: usize) -> Option<u64> {
    let datagram = UdpHeader::new(udp).ok()?;
    let vxlan = VxlanHeader::new(datagram.payload()).ok()?;
    ethernet_hash(vxlan.payload(), Some(outer_vlan_tags))
}
