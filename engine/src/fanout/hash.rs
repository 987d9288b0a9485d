//! The symmetric worker hash: which worker owns a packet's flow.
//!
//! Both directions of a flow, and every fragment of an IP datagram, must
//! reach the same worker, whose shard alone holds that flow. Ports are not
//! in the hash, because a non-first fragment has none; an IP packet is
//! hashed by its two addresses and protocol, so all flows between two hosts
//! share a worker. Native InfiniBand and RoCEv1 packets are hashed by their
//! two LIDs or GIDs, so a connection manager exchange reaches the worker of
//! the queue pairs it connects. An ICMP error is hashed by the packet it quotes, so it
//! reaches the worker that holds the flow it reports on.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use crate::decode::{Decoded, Network};
use crate::flow::key::FxHasher64;

/// Returns a hash that is the same for both directions of a flow and for
/// every fragment of a datagram.
pub fn worker_hash(decoded: &Decoded) -> u64 {
    let mut hasher = FxHasher64::default();
    match (decoded.icmp_quoted, decoded.network) {
        (Some(quoted), _) => hash_pair(&mut hasher, quoted.src, quoted.dst, quoted.protocol),
        (None, Network::Ipv4(ip) | Network::Ipv6(ip)) => hash_pair(&mut hasher, ip.src, ip.dst, ip.protocol),
        (None, Network::Arp(arp)) => {
            let (low, high) = ordered(arp.sender_ip, arp.target_ip);
            (1u8, low, high).hash(&mut hasher);
        }
        (None, Network::Infiniband(ib)) => {
            let (low, high) = ordered(ib.src, ib.dst);
            (3u8, low, high).hash(&mut hasher);
        }
        (None, Network::None) => {
            let link = &decoded.link;
            let (low, high) = ordered(link.src_mac.unwrap_or_default(), link.dst_mac.unwrap_or_default());
            (2u8, low, high, link.ethertype).hash(&mut hasher);
        }
    }
    hasher.finish()
}

fn ordered<T: Ord>(a: T, b: T) -> (T, T) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

fn hash_pair(hasher: &mut FxHasher64, src: IpAddr, dst: IpAddr, protocol: u8) {
    match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => hash_ipv4_words(hasher, u32::from(src), u32::from(dst), protocol),
        _ => hash_ipv6_words(hasher, address_bits(src), address_bits(dst), protocol),
    }
}

/// Returns an address as one number, IPv4 in the low 32 bits.
fn address_bits(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(address) => u128::from(u32::from(address)),
        IpAddr::V6(address) => u128::from(address),
    }
}

/// Feeds two IPv4 addresses, smaller first, and the protocol to `hasher`:
/// two multiplications, which matters because a worker sharing a file
/// hashes every packet of it.
fn hash_ipv4_words(hasher: &mut FxHasher64, src: u32, dst: u32, protocol: u8) {
    let (low, high) = ordered(src, dst);
    hasher.write_u64(u64::from(low) << 32 | u64::from(high));
    hasher.write_u64(u64::from(protocol));
}

/// Feeds two IPv6 addresses, smaller first, and the protocol to `hasher`.
fn hash_ipv6_words(hasher: &mut FxHasher64, src: u128, dst: u128, protocol: u8) {
    let (low, high) = ordered(src, dst);
    for word in [low as u64, (low >> 64) as u64, high as u64, (high >> 64) as u64, u64::from(protocol)] {
        hasher.write_u64(word);
    }
}

/// Returns the worker hash of an IPv4 packet from its two addresses (as
/// read from the header, big-endian numbers) and protocol.
pub(super) fn hash_ipv4_pair(src: u32, dst: u32, protocol: u8) -> u64 {
    let mut hasher = FxHasher64::default();
    hash_ipv4_words(&mut hasher, src, dst, protocol);
    hasher.finish()
}

/// Returns the worker hash of an IPv6 packet from its two addresses and
/// protocol.
pub(super) fn hash_ipv6_pair(src: u128, dst: u128, protocol: u8) -> u64 {
    let mut hasher = FxHasher64::default();
    hash_ipv6_words(&mut hasher, src, dst, protocol);
    hasher.finish()
}

/// Maps a hash to one of `workers` workers (at least 1).
pub fn worker_index(hash: u64, workers: usize) -> usize {
    // Multiply-shift maps the hash onto 0..workers without a division and
    // uses its high bits, which the Fx hash mixes best.
    ((u128::from(hash) * workers.max(1) as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Fragment, IpInfo, Transport, UdpInfo};

    fn ip_packet(src: [u8; 4], dst: [u8; 4], fragment: Option<Fragment>, ports: Option<(u16, u16)>) -> Decoded {
        let info = IpInfo {
            src: IpAddr::from(src),
            dst: IpAddr::from(dst),
            protocol: 17,
            ttl: 64,
            tos: 0,
            ip_id: 7,
            flow_label: 0,
            fragment,
            payload_len_bytes: 100,
            options: 0,
        };
        Decoded {
            network: Network::Ipv4(info),
            transport: ports.map_or(Transport::None, |(src_port, dst_port)| Transport::Udp(UdpInfo { src_port, dst_port })),
            ..Decoded::EMPTY
        }
    }

    #[test]
    fn both_directions_same_hash() {
        let forward = ip_packet([10, 0, 0, 1], [10, 0, 0, 2], None, Some((1000, 53)));
        let reverse = ip_packet([10, 0, 0, 2], [10, 0, 0, 1], None, Some((53, 1000)));
        assert_eq!(worker_hash(&forward), worker_hash(&reverse));
    }

    #[test]
    fn fragments_follow_first_fragment() {
        let first = ip_packet([10, 0, 0, 1], [10, 0, 0, 2], Some(Fragment { offset_bytes: 0, more_fragments: true, id: 7 }), Some((1000, 53)));
        let later = ip_packet([10, 0, 0, 1], [10, 0, 0, 2], Some(Fragment { offset_bytes: 1480, more_fragments: false, id: 7 }), None);
        assert_eq!(worker_hash(&first), worker_hash(&later));
    }

    #[test]
    fn infiniband_directions_same_hash() {
        use crate::decode::ib::{IbEndpoint, IbNetwork};
        let packet = |src, dst| Decoded {
            network: Network::Infiniband(IbNetwork {
                src: IbEndpoint::Lid(src),
                dst: IbEndpoint::Lid(dst),
                src_lid: src,
                dst_lid: dst,
                service_level: 0,
                traffic_class: 0,
                has_grh: false,
            }),
            ..Decoded::EMPTY
        };
        assert_eq!(worker_hash(&packet(1, 2)), worker_hash(&packet(2, 1)));
        assert_ne!(worker_hash(&packet(1, 2)), worker_hash(&packet(1, 3)));
    }

    #[test]
    fn worker_index_in_range_and_spread() {
        let mut counts = [0usize; 4];
        for host in 0..4000u32 {
            let decoded = ip_packet(host.to_be_bytes(), [192, 0, 2, 1], None, Some((1, 2)));
            let index = worker_index(worker_hash(&decoded), 4);
            counts[index] += 1;
        }
        for count in counts {
            assert!((700..1300).contains(&count), "uneven spread: {counts:?}");
        }
        assert_eq!(worker_index(u64::MAX, 3), 2);
        assert_eq!(worker_index(0, 1), 0);
    }
}
