//! The worker hash of the common packet shapes, read from the headers
//! without the full decoder.
//!
//! A worker that shares a file with others looks at every packet of the
//! file to find its own, so the cost of hashing a packet it then skips
//! limits how well workers scale. Ethernet, VLAN tags, then IPv4 or IPv6
//! carrying TCP, or UDP on a port that no tunnel decoder watches, make up
//! most traffic, and for them the full decoder ends at the outer IP header
//! whatever else the packet holds. Everything else returns `None`, and the
//! caller falls back to [`super::worker_hash`] over the full decode, so the
//! two always agree (a test checks this on every corpus capture).

use super::hash::{hash_ipv4_pair, hash_ipv6_pair};
use crate::decode::ethernet::{ethertype, EthernetHeader};
use crate::decode::ipv4::Ipv4Header;
use crate::decode::ipv6::Ipv6Header;
use crate::decode::ipv6_ext::next_header;
use crate::decode::udp_port_has_decoder;
use crate::decode::vlan::{self, VlanHeader};
use crate::packet::LinkType;

/// Returns the worker hash of a packet of `link_type` when its headers are
/// of a common shape, or `None` when only the full decoder can tell.
pub fn quick_worker_hash(link_type: LinkType, data: &[u8]) -> Option<u64> {
    if link_type.normalized() != LinkType::ETHERNET {
        return None;
    }
    let ethernet = EthernetHeader::new(data).ok()?;
    let mut type_or_length = ethernet.type_or_length();
    let mut payload = ethernet.payload();
    let mut tags = 0;
    while vlan::is_tag_ethertype(type_or_length) {
        if tags == vlan::MAX_TAGS {
            return None;
        }
        let tag = VlanHeader::new(payload).ok()?;
        type_or_length = tag.type_or_length();
        payload = tag.payload();
        tags += 1;
    }
    match type_or_length {
        ethertype::IPV4 => ipv4_hash(payload),
        ethertype::IPV6 => ipv6_hash(payload),
        _ => None,
    }
}

/// Returns the hash of the addresses and protocol the decoder keeps for an
/// IPv4 packet whose transport layer cannot lead it into another header.
fn ipv4_hash(data: &[u8]) -> Option<u64> {
    let header = Ipv4Header::new(data).ok()?;
    let hash = hash_ipv4_pair(u32::from(header.src()), u32::from(header.dst()), header.protocol());
    // The decoder stops at a header cut by the capture and at a later
    // fragment, keeping the outer addresses.
    if data.len() < header.header_len() || header.fragment_offset_bytes() != 0 {
        return Some(hash);
    }
    transport_ends_walk(header.protocol(), header.payload()).then_some(hash)
}

/// Returns the same for an IPv6 packet without extension headers.
fn ipv6_hash(data: &[u8]) -> Option<u64> {
    let header = Ipv6Header::new(data).ok()?;
    let protocol = header.next_header();
    if !transport_ends_walk(protocol, header.captured_payload()) {
        return None;
    }
    Some(hash_ipv6_pair(u128::from(header.src()), u128::from(header.dst()), protocol))
}

/// Returns true when the decoder's walk ends at this transport header: TCP always,
/// UDP unless a port has a decoder of its own (tunnels, RoCEv2).
fn transport_ends_walk(protocol: u8, payload: &[u8]) -> bool {
    match protocol {
        next_header::TCP => true,
        next_header::UDP => match payload {
            [src_high, src_low, dst_high, dst_low, ..] => {
                let src_port = u16::from_be_bytes([*src_high, *src_low]);
                let dst_port = u16::from_be_bytes([*dst_high, *dst_low]);
                !udp_port_has_decoder(src_port) && !udp_port_has_decoder(dst_port)
            }
            // Without both ports the decoder stops at the UDP header.
            _ => true,
        },
        _ => false,
    }
}
