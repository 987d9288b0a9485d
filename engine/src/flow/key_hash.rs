//! The hash under which a shard's flow index files a flow key.
//!
//! Each key is reduced to four words: its two endpoints (address and port,
//! or the equivalent for non-IP keys) as an unordered pair, the remaining
//! fields, and the tunnel context. Two folded multiplications mix them.
//! Because the endpoints enter as a pair ordered by value, a key, its
//! reverse and its canonical form all have the same hash.
//!
//! The index takes its home entry from the hash's top bits, and the worker
//! hash ([`crate::fanout::worker_hash`]) picks a flow's worker from its own
//! top bits. The two hashes mix different words with different functions,
//! so the flows of one worker still spread over the whole index of its
//! shard (a test checks this).

use std::net::IpAddr;

use crate::decode::ib::{IbEndpoint, IbLink};
use crate::flow::hash_keys::IndexHashKeys;
use crate::flow::key::{FlowKey, KeyDirection, TunnelContext};

/// Key kinds, in the top byte of the word of remaining fields.
const KIND_IP: u64 = 1 << 56;
const KIND_ICMP: u64 = 2 << 56;
const KIND_ARP: u64 = 3 << 56;
const KIND_LAYER2: u64 = 4 << 56;
const KIND_INFINIBAND: u64 = 5 << 56;
/// Marks an IPv6 key among the remaining fields.
const FAMILY_IPV6: u64 = 1 << 55;

/// Multiplies two words into 128 bits and returns the two halves XORed:
/// one multiplication whose every output bit depends on many input bits.
#[inline(always)]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Reduces a 128-bit address to one word.
#[inline(always)]
fn wide_word(keys: &IndexHashKeys, bits: u128) -> u64 {
    folded_multiply((bits as u64) ^ keys.wide_low, ((bits >> 64) as u64) ^ keys.wide_high)
}

/// Reduces an IP endpoint to one word: an IPv4 address and port exactly,
/// an IPv6 address through a multiplication.
#[inline(always)]
fn ip_endpoint(keys: &IndexHashKeys, address: IpAddr, port: u16) -> u64 {
    match address {
        IpAddr::V4(address) => u64::from(u32::from(address)) << 16 | u64::from(port),
        IpAddr::V6(address) => wide_word(keys, u128::from(address)) ^ u64::from(port),
    }
}

/// Reduces an InfiniBand endpoint and its queue pair to one word.
#[inline(always)]
fn ib_endpoint(keys: &IndexHashKeys, endpoint: IbEndpoint, queue_pair: Option<u32>) -> u64 {
    let address = match endpoint {
        IbEndpoint::Lid(lid) => u64::from(lid),
        IbEndpoint::Gid(gid) => wide_word(keys, u128::from_be_bytes(gid)),
        IbEndpoint::Ip(address) => ip_endpoint(keys, address, 0),
    };
    address ^ queue_pair.map_or(0, |queue_pair| (u64::from(queue_pair) + 1) << 16)
}

/// Returns the tunnel context as one word: kind above, id below.
#[inline(always)]
fn tunnel_word(tunnel: TunnelContext) -> u64 {
    let kind = tunnel.kind.map_or(0, |kind| kind as u64 + 1);
    kind << 32 | u64::from(tunnel.id)
}

/// Returns the mark of an IPv6 address among the remaining fields.
#[inline(always)]
fn family(address: IpAddr) -> u64 {
    if address.is_ipv6() {
        FAMILY_IPV6
    } else {
        0
    }
}

/// Mixes the words of a key into its hash. `first` and `second` are its
/// endpoints, in either order.
#[inline(always)]
fn mix(keys: &IndexHashKeys, first: u64, second: u64, fields: u64, tunnel: TunnelContext) -> u64 {
    let (low, high) = if first <= second { (first, second) } else { (second, first) };
    let endpoints = folded_multiply(low ^ keys.low, high ^ keys.high);
    folded_multiply(endpoints ^ fields, tunnel_word(tunnel) ^ keys.tunnel)
}

/// Builds the canonical key of an IP packet with ports, the packet's
/// direction in it, and the key's index hash, in one pass: for IPv4 the
/// word that orders two endpoints is also the word the hash takes. The
/// result equals `FlowKey::Ip { .. }.canonical()` with
/// [`FlowKey::index_hash`] of its key.
#[inline]
pub(super) fn canonical_ip_key(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    src_port: u16,
    dst_port: u16,
    tunnel: TunnelContext,
) -> (FlowKey, KeyDirection, u64) {
    let keys = IndexHashKeys::current();
    let (src_word, dst_word) = (ip_endpoint(&keys, src, src_port), ip_endpoint(&keys, dst, dst_port));
    let forward = match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => src_word <= dst_word,
        _ => (src, src_port) <= (dst, dst_port),
    };
    let hash = mix(&keys, src_word, dst_word, KIND_IP | family(src) | u64::from(protocol), tunnel);
    if forward {
        (FlowKey::Ip { src, dst, protocol, src_port, dst_port, tunnel }, KeyDirection::Forward, hash)
    } else {
        let key = FlowKey::Ip { src: dst, dst: src, protocol, src_port: dst_port, dst_port: src_port, tunnel };
        (key, KeyDirection::Reverse, hash)
    }
}

impl FlowKey {
    /// Returns the hash a shard's flow index files this key under. It is the
    /// same for the key, its reverse and its canonical form, and is built
    /// to be independent of the worker hash.
    ///
    /// The hash is keyed once nauditd has drawn its keys (see
    /// `hash_keys`), so colliding flows cannot be crafted from outside.
    #[inline]
    pub fn index_hash(&self) -> u64 {
        self.index_hash_with(&IndexHashKeys::current())
    }

    /// Returns [`FlowKey::index_hash`] under `keys`.
    #[inline]
    fn index_hash_with(&self, keys: &IndexHashKeys) -> u64 {
        match *self {
            FlowKey::Ip { src, dst, protocol, src_port, dst_port, tunnel } => mix(
                keys,
                ip_endpoint(keys, src, src_port),
                ip_endpoint(keys, dst, dst_port),
                KIND_IP | family(src) | u64::from(protocol),
                tunnel,
            ),
            _ => self.other_index_hash(keys),
        }
    }

    /// Returns [`FlowKey::index_hash`] of a key that is not an IP key.
    #[inline(never)]
    fn other_index_hash(&self, keys: &IndexHashKeys) -> u64 {
        match *self {
            FlowKey::Ip { .. } => self.index_hash_with(keys),
            FlowKey::Icmp { src, dst, icmp_type, code, id, seq, tunnel } => mix(
                keys,
                ip_endpoint(keys, src, 0),
                ip_endpoint(keys, dst, 0),
                KIND_ICMP
                    | family(src)
                    | u64::from(icmp_type) << 40
                    | u64::from(code) << 32
                    | u64::from(id) << 16
                    | u64::from(seq),
                tunnel,
            ),
            FlowKey::Arp { sender_ip, target_ip } => mix(
                keys,
                u64::from(u32::from_be_bytes(sender_ip)),
                u64::from(u32::from_be_bytes(target_ip)),
                KIND_ARP,
                TunnelContext::NONE,
            ),
            FlowKey::Layer2 { src_mac, dst_mac, ethertype, ssap, dsap } => mix(
                keys,
                mac_word(src_mac) << 8 | u64::from(ssap),
                mac_word(dst_mac) << 8 | u64::from(dsap),
                KIND_LAYER2 | u64::from(ethertype),
                TunnelContext::NONE,
            ),
            FlowKey::Infiniband { src, dst, link, pkey, src_qp, dst_qp } => mix(
                keys,
                ib_endpoint(keys, src, src_qp),
                ib_endpoint(keys, dst, dst_qp),
                KIND_INFINIBAND | link_word(link) << 16 | u64::from(pkey),
                TunnelContext::NONE,
            ),
        }
    }
}

/// Returns a MAC address as a 48-bit number.
#[inline(always)]
fn mac_word(mac: [u8; 6]) -> u64 {
    let [a, b, c, d, e, f] = mac;
    u64::from_be_bytes([0, 0, a, b, c, d, e, f])
}

fn link_word(link: IbLink) -> u64 {
    match link {
        IbLink::Native => 0,
        IbLink::RoceV1 => 1,
        IbLink::RoceV2 => 2,
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::decode::{Decoded, IpInfo, Network, Transport, TunnelKind, UdpInfo};
    use crate::fanout::{worker_hash, worker_index};

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    fn sample_keys() -> Vec<FlowKey> {
        let vxlan = TunnelContext { kind: Some(TunnelKind::Vxlan), id: 5001 };
        let v6_a = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10));
        let v6_b = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x20));
        vec![
            FlowKey::Ip {
                src: v4(10, 0, 0, 9),
                dst: v4(10, 0, 0, 1),
                protocol: 6,
                src_port: 40000,
                dst_port: 80,
                tunnel: TunnelContext::NONE,
            },
            FlowKey::Ip {
                src: v4(10, 0, 0, 9),
                dst: v4(10, 0, 0, 1),
                protocol: 17,
                src_port: 53,
                dst_port: 53,
                tunnel: vxlan,
            },
            FlowKey::Ip {
                src: v6_b,
                dst: v6_a,
                protocol: 6,
                src_port: 443,
                dst_port: 50000,
                tunnel: TunnelContext::NONE,
            },
            FlowKey::Icmp {
                src: v4(10, 0, 0, 9),
                dst: v4(10, 0, 0, 1),
                icmp_type: 8,
                code: 0,
                id: 77,
                seq: 3,
                tunnel: vxlan,
            },
            FlowKey::Arp { sender_ip: [10, 0, 0, 9], target_ip: [10, 0, 0, 1] },
            FlowKey::Layer2 {
                src_mac: [2, 0, 0, 0, 0, 9],
                dst_mac: [2, 0, 0, 0, 0, 1],
                ethertype: 0,
                ssap: 0x42,
                dsap: 0x43,
            },
            FlowKey::Infiniband {
                src: IbEndpoint::Lid(9),
                dst: IbEndpoint::Lid(1),
                link: IbLink::Native,
                pkey: 0x7fff,
                src_qp: Some(0x11),
                dst_qp: None,
            },
            FlowKey::Infiniband {
                src: IbEndpoint::Gid([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]),
                dst: IbEndpoint::Gid([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
                link: IbLink::RoceV1,
                pkey: 0x7fff,
                src_qp: Some(0x11),
                dst_qp: Some(0x22),
            },
        ]
    }

    #[test]
    fn hash_same_for_reverse_and_canonical() {
        for key in sample_keys() {
            let hash = key.index_hash();
            assert_eq!(hash, key.reversed().index_hash(), "reverse of {key:?}");
            assert_eq!(hash, key.canonical().0.index_hash(), "canonical form of {key:?}");
        }
    }

    #[test]
    fn hash_differs_between_sample_keys() {
        let keys = sample_keys();
        for (i, first) in keys.iter().enumerate() {
            for second in &keys[i + 1..] {
                assert_ne!(first.index_hash(), second.index_hash(), "{first:?} and {second:?}");
            }
        }
    }

    #[test]
    fn hash_separates_fields_beyond_endpoints() {
        let ip_key = |protocol, src_port, dst_port| FlowKey::Ip {
            src: v4(10, 0, 0, 9),
            dst: v4(10, 0, 0, 1),
            protocol,
            src_port,
            dst_port,
            tunnel: TunnelContext::NONE,
        };
        let base = ip_key(6, 1, 2);
        let keys = [
            base,
            ip_key(17, 1, 2),
            ip_key(6, 2, 1),
            base.with_tunnel(TunnelContext { kind: Some(TunnelKind::Vxlan), id: 2 }),
            base.with_tunnel(TunnelContext { kind: Some(TunnelKind::Geneve), id: 2 }),
            base.with_tunnel(TunnelContext { kind: Some(TunnelKind::Geneve), id: 3 }),
        ];
        for (i, first) in keys.iter().enumerate() {
            for second in &keys[i + 1..] {
                assert_ne!(first.index_hash(), second.index_hash(), "{first:?} and {second:?}");
            }
        }
    }

    /// Returns the number of distinct home entries that `hashes` use in an
    /// index of `1 << entry_bits` entries that takes homes from the top bits
    /// of the hash (as [`crate::flow::index::FlowIndex`] does), or from the
    /// low bits.
    fn homes_used(hashes: &[u64], entry_bits: u32, from_top_bits: bool) -> usize {
        let mut used = vec![false; 1 << entry_bits];
        for &hash in hashes {
            let home = if from_top_bits { hash >> (64 - entry_bits) } else { hash & ((1 << entry_bits) - 1) };
            used[home as usize] = true;
        }
        used.iter().filter(|&&used| used).count()
    }

    #[test]
    fn other_keys_break_crafted_collisions() {
        // Under the fixed keys every IPv6 address whose low half equals the
        // wide low key reduces to one word, so flows from such addresses to
        // one endpoint all share one hash. Keys drawn at start differ.
        let fixed = IndexHashKeys::current();
        let drawn = IndexHashKeys {
            low: 0x9e37_79b9_7f4a_7c15,
            high: 0xbf58_476d_1ce4_e5b9,
            tunnel: 0x94d0_49bb_1331_11eb,
            wide_low: 0x2545_f491_4f6c_dd1d,
            wide_high: 0xd6e8_feb8_6659_fd93,
        };
        let crafted = |high_half: u64| FlowKey::Ip {
            src: IpAddr::V6(Ipv6Addr::from(u128::from(high_half) << 64 | u128::from(fixed.wide_low))),
            dst: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            protocol: 6,
            src_port: 40000,
            dst_port: 443,
            tunnel: TunnelContext::NONE,
        };
        let hashes = |keys: &IndexHashKeys| -> std::collections::BTreeSet<u64> {
            (1..=64u64).map(|high_half| crafted(high_half).index_hash_with(keys)).collect()
        };
        assert_eq!(hashes(&fixed).len(), 1, "the fixed keys let the flows collide");
        assert_eq!(hashes(&drawn).len(), 64, "other keys spread them");
    }

    #[test]
    fn shard_flows_spread_over_whole_index() {
        // Flows that differ only in their addresses, split over workers by
        // the worker hash. Each worker's flows fill an index of twice their
        // number: random homes use 1 - e^(-1/2), 39 % of the entries. Had
        // the index hash the worker hash's top bits, each worker's flows
        // would use only its share of the entries: 32 % with 2 workers, 22 %
        // with 4.
        const FLOWS_PER_WORKER: usize = 8192;
        const ENTRY_BITS: u32 = 14;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for workers in [2usize, 4] {
            let mut index_hashes = vec![Vec::new(); workers];
            let mut worker_hashes = vec![Vec::new(); workers];
            while index_hashes.iter().any(|hashes| hashes.len() < FLOWS_PER_WORKER) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let (src, dst) = ((state >> 32) as u32, state as u32);
                let decoded = Decoded {
                    network: Network::Ipv4(IpInfo {
                        src: IpAddr::from(src.to_be_bytes()),
                        dst: IpAddr::from(dst.to_be_bytes()),
                        protocol: 17,
                        ttl: 64,
                        tos: 0,
                        ip_id: 0,
                        flow_label: 0,
                        fragment: None,
                        payload_len_bytes: 100,
                        options: 0,
                    }),
                    transport: Transport::Udp(UdpInfo { src_port: 40000, dst_port: 443 }),
                    ..Decoded::EMPTY
                };
                let worker_hash = worker_hash(&decoded);
                let worker = worker_index(worker_hash, workers);
                if index_hashes[worker].len() == FLOWS_PER_WORKER {
                    continue;
                }
                let key = FlowKey::from_decoded(&decoded).expect("an IPv4 UDP packet has a key");
                index_hashes[worker].push(key.canonical().0.index_hash());
                worker_hashes[worker].push(worker_hash);
            }

            let expected = (1usize << ENTRY_BITS) as f64 * (1.0 - (-0.5f64).exp());
            let threshold = (expected * 0.97) as usize;
            for worker in 0..workers {
                let used = homes_used(&index_hashes[worker], ENTRY_BITS, true);
                assert!(
                    used >= threshold,
                    "{workers} workers, worker {worker}: {used} homes used, expected about {expected:.0}"
                );
                let used_by_low_bits = homes_used(&index_hashes[worker], ENTRY_BITS, false);
                assert!(
                    used_by_low_bits >= threshold,
                    "{workers} workers, worker {worker}: {used_by_low_bits} homes used by the low bits"
                );
                // The same count over the worker hash shows that the check
                // catches a hash that shares the worker hash's top bits.
                let used_by_worker_hash = homes_used(&worker_hashes[worker], ENTRY_BITS, true);
                assert!(
                    used_by_worker_hash < threshold,
                    "{workers} workers, worker {worker}: control used {used_by_worker_hash}"
                );
            }
        }
    }
}
