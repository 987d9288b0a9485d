//! The flow key as a slot stores it: 43 bytes without padding, where the
//! [`FlowKey`] enum takes 56.
//!
//! Every key kind shares one layout. The first byte contains the kind and
//! the tunnel kind. Addresses take 16 bytes each, with a shorter address
//! (IPv4, MAC, LID) in the first bytes and the rest zero. The ports, the
//! ICMP fields, the tunnel id and the InfiniBand fields fill the rest.
//! Unused bytes are zero, so two keys are equal exactly when their bytes
//! are.
//! [`StoredKey::unpack`] returns the [`FlowKey`] that [`StoredKey::pack`]
//! took, so records and the index hash still come from the full key.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::decode::ib::{IbEndpoint, IbLink};
use crate::decode::TunnelKind;
use crate::flow::key::{FlowKey, TunnelContext};

/// Kind codes in the low bits of [`StoredKey::head`]. Zero is no kind, so
/// an all-zero key matches no packet. Both addresses of an IP or ICMP key
/// come from one IP header, so the source's family is the key's.
mod kind {
    pub const IPV4: u8 = 1;
    pub const IPV6: u8 = 2;
    pub const ICMPV4: u8 = 3;
    pub const ICMPV6: u8 = 4;
    pub const ARP: u8 = 5;
    pub const LAYER2: u8 = 6;
    pub const INFINIBAND: u8 = 7;
    /// Bits of the head byte that contain the kind.
    pub const MASK: u8 = 0b111;
}

/// The tunnel kind sits above the key kind in the head byte.
const TUNNEL_SHIFT: u32 = 3;

/// Tunnel kinds in the order of their codes: code `i + 1` is `TUNNELS[i]`,
/// and code 0 is no tunnel.
const TUNNELS: [TunnelKind; 18] = [
    TunnelKind::Gre,
    TunnelKind::Pptp,
    TunnelKind::ErspanI,
    TunnelKind::ErspanII,
    TunnelKind::ErspanIII,
    TunnelKind::IpInIp,
    TunnelKind::Vxlan,
    TunnelKind::VxlanGpe,
    TunnelKind::Geneve,
    TunnelKind::GtpU,
    TunnelKind::Teredo,
    TunnelKind::GreInUdp,
    TunnelKind::MplsInUdp,
    TunnelKind::L2tp,
    TunnelKind::Capwap,
    TunnelKind::Gue,
    TunnelKind::Ayiya,
    TunnelKind::L2tpV3,
];

// The codes, with 0 for no tunnel, must fit the bits above the kind.
const _: () = assert!(TUNNELS.len() < 1 << (8 - TUNNEL_SHIFT));

/// Returns the code of a tunnel kind. The match is exhaustive, so a new
/// tunnel kind fails to compile here until it has a code.
fn tunnel_code(tunnel: Option<TunnelKind>) -> u8 {
    let Some(tunnel) = tunnel else {
        return 0;
    };
    let index = match tunnel {
        TunnelKind::Gre => 0,
        TunnelKind::Pptp => 1,
        TunnelKind::ErspanI => 2,
        TunnelKind::ErspanII => 3,
        TunnelKind::ErspanIII => 4,
        TunnelKind::IpInIp => 5,
        TunnelKind::Vxlan => 6,
        TunnelKind::VxlanGpe => 7,
        TunnelKind::Geneve => 8,
        TunnelKind::GtpU => 9,
        TunnelKind::Teredo => 10,
        TunnelKind::GreInUdp => 11,
        TunnelKind::MplsInUdp => 12,
        TunnelKind::L2tp => 13,
        TunnelKind::Capwap => 14,
        TunnelKind::Gue => 15,
        TunnelKind::Ayiya => 16,
        TunnelKind::L2tpV3 => 17,
    };
    debug_assert_eq!(TUNNELS[index], tunnel);
    index as u8 + 1
}

/// Endpoint kinds of an InfiniBand key, two bits each in [`StoredKey::protocol`].
mod endpoint {
    pub const LID: u8 = 0;
    pub const GID: u8 = 1;
    pub const IPV4: u8 = 2;
    pub const IPV6: u8 = 3;
}

/// Bits of [`StoredKey::protocol`] in an InfiniBand key, above the two endpoint
/// kinds in bits 0 to 3.
const IB_LINK_SHIFT: u32 = 4;
const IB_SRC_QP: u8 = 1 << 6;
const IB_DST_QP: u8 = 1 << 7;

/// Queue pair numbers are 24-bit fields in every InfiniBand header that
/// carries one (BTH, DETH, and the connection manager's messages).
const QP_MASK: u32 = 0x00ff_ffff;

/// A flow key packed for the slot; see the module documentation.
///
/// | field | IP | ICMP | ARP | layer 2 | InfiniBand |
/// |---|---|---|---|---|---|
/// | `protocol` | protocol | type | | SSAP | endpoint kinds, link, QP presence |
/// | `code` | | code | | DSAP | destination QP, bits 16 to 23 |
/// | `src`, `dst` | addresses | addresses | addresses | MAC addresses | endpoints |
/// | `port_a` | source port | identifier | | EtherType | partition key |
/// | `port_b` | destination port | sequence | | | destination QP, bits 0 to 15 |
/// | `id` | tunnel id | tunnel id | | | source QP |
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct StoredKey {
    /// Key kind in the low three bits, tunnel kind code above.
    head: u8,
    protocol: u8,
    code: u8,
    src: [u8; 16],
    dst: [u8; 16],
    port_a: [u8; 2],
    port_b: [u8; 2],
    id: [u8; 4],
}

/// Bytes of a [`StoredKey`].
pub const STORED_KEY_BYTES: usize = 43;

const _: () = assert!(std::mem::size_of::<StoredKey>() == STORED_KEY_BYTES);
const _: () = assert!(std::mem::align_of::<StoredKey>() == 1);

/// Returns `bytes` in the first bytes of a 16-byte field, the rest zero.
fn padded<const N: usize>(bytes: [u8; N]) -> [u8; 16] {
    let mut field = [0; 16];
    field[..N].copy_from_slice(&bytes);
    field
}

/// Returns the first `N` bytes of a field that [`padded`] filled.
fn prefix<const N: usize>(field: &[u8; 16]) -> [u8; N] {
    std::array::from_fn(|index| field[index])
}

fn address_bytes(address: IpAddr) -> [u8; 16] {
    match address {
        IpAddr::V4(v4) => padded(v4.octets()),
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn ipv4_from(field: &[u8; 16]) -> Ipv4Addr {
    Ipv4Addr::from(prefix::<4>(field))
}

fn address_from(field: &[u8; 16], is_ipv6: bool) -> IpAddr {
    if is_ipv6 {
        IpAddr::V6(Ipv6Addr::from(*field))
    } else {
        IpAddr::V4(ipv4_from(field))
    }
}

/// Returns an InfiniBand endpoint's kind and its 16 bytes.
fn endpoint_bytes(endpoint: IbEndpoint) -> (u8, [u8; 16]) {
    match endpoint {
        IbEndpoint::Lid(lid) => (endpoint::LID, padded(lid.to_ne_bytes())),
        IbEndpoint::Gid(gid) => (endpoint::GID, gid),
        IbEndpoint::Ip(IpAddr::V4(v4)) => (endpoint::IPV4, padded(v4.octets())),
        IbEndpoint::Ip(IpAddr::V6(v6)) => (endpoint::IPV6, v6.octets()),
    }
}

fn endpoint_from(kind: u8, bytes: &[u8; 16]) -> IbEndpoint {
    match kind {
        endpoint::LID => IbEndpoint::Lid(u16::from_ne_bytes(prefix(bytes))),
        endpoint::GID => IbEndpoint::Gid(*bytes),
        endpoint::IPV4 => IbEndpoint::Ip(IpAddr::V4(ipv4_from(bytes))),
        _ => IbEndpoint::Ip(IpAddr::V6(Ipv6Addr::from(*bytes))),
    }
}

fn link_code(link: IbLink) -> u8 {
    match link {
        IbLink::Native => 0,
        IbLink::RoceV1 => 1,
        IbLink::RoceV2 => 2,
    }
}

fn link_from(code: u8) -> IbLink {
    match code {
        0 => IbLink::Native,
        1 => IbLink::RoceV1,
        _ => IbLink::RoceV2,
    }
}

impl StoredKey {
    /// Packs `key`.
    #[inline]
    pub fn pack(key: &FlowKey) -> StoredKey {
        match *key {
            FlowKey::Ip { src, dst, protocol, src_port, dst_port, tunnel } => {
                let kind = if src.is_ipv6() { kind::IPV6 } else { kind::IPV4 };
                StoredKey {
                    head: kind | tunnel_code(tunnel.kind) << TUNNEL_SHIFT,
                    protocol,
                    code: 0,
                    src: address_bytes(src),
                    dst: address_bytes(dst),
                    port_a: src_port.to_ne_bytes(),
                    port_b: dst_port.to_ne_bytes(),
                    id: tunnel.id.to_ne_bytes(),
                }
            }
            FlowKey::Icmp { src, dst, icmp_type, code, id, seq, tunnel } => {
                let kind = if src.is_ipv6() { kind::ICMPV6 } else { kind::ICMPV4 };
                StoredKey {
                    head: kind | tunnel_code(tunnel.kind) << TUNNEL_SHIFT,
                    protocol: icmp_type,
                    code,
                    src: address_bytes(src),
                    dst: address_bytes(dst),
                    port_a: id.to_ne_bytes(),
                    port_b: seq.to_ne_bytes(),
                    id: tunnel.id.to_ne_bytes(),
                }
            }
            FlowKey::Arp { sender_ip, target_ip } => StoredKey {
                head: kind::ARP,
                src: padded(sender_ip),
                dst: padded(target_ip),
                ..StoredKey::default()
            },
            FlowKey::Layer2 { src_mac, dst_mac, ethertype, ssap, dsap } => StoredKey {
                head: kind::LAYER2,
                protocol: ssap,
                code: dsap,
                src: padded(src_mac),
                dst: padded(dst_mac),
                port_a: ethertype.to_ne_bytes(),
                ..StoredKey::default()
            },
            FlowKey::Infiniband { src, dst, link, pkey, src_qp, dst_qp } => {
                let (src_kind, src) = endpoint_bytes(src);
                let (dst_kind, dst) = endpoint_bytes(dst);
                debug_assert!(dst_qp.unwrap_or(0) <= QP_MASK, "queue pair {dst_qp:?} wider than 24 bits");
                let dst_qp_bits = dst_qp.unwrap_or(0) & QP_MASK;
                let mut endpoint_marks = src_kind | dst_kind << 2 | link_code(link) << IB_LINK_SHIFT;
                if src_qp.is_some() {
                    endpoint_marks |= IB_SRC_QP;
                }
                if dst_qp.is_some() {
                    endpoint_marks |= IB_DST_QP;
                }
                StoredKey {
                    head: kind::INFINIBAND,
                    protocol: endpoint_marks,
                    code: (dst_qp_bits >> 16) as u8,
                    src,
                    dst,
                    port_a: pkey.to_ne_bytes(),
                    port_b: (dst_qp_bits as u16).to_ne_bytes(),
                    id: src_qp.unwrap_or(0).to_ne_bytes(),
                }
            }
        }
    }

    /// Returns the key that [`StoredKey::pack`] packed.
    pub fn unpack(&self) -> FlowKey {
        let tunnel_code = self.head >> TUNNEL_SHIFT;
        let tunnel = TunnelContext {
            kind: (tunnel_code > 0).then(|| TUNNELS[usize::from(tunnel_code) - 1]),
            id: u32::from_ne_bytes(self.id),
        };
        match self.head & kind::MASK {
            kind @ (kind::IPV4 | kind::IPV6) => FlowKey::Ip {
                src: address_from(&self.src, kind == kind::IPV6),
                dst: address_from(&self.dst, kind == kind::IPV6),
                protocol: self.protocol,
                src_port: u16::from_ne_bytes(self.port_a),
                dst_port: u16::from_ne_bytes(self.port_b),
                tunnel,
            },
            kind @ (kind::ICMPV4 | kind::ICMPV6) => FlowKey::Icmp {
                src: address_from(&self.src, kind == kind::ICMPV6),
                dst: address_from(&self.dst, kind == kind::ICMPV6),
                icmp_type: self.protocol,
                code: self.code,
                id: u16::from_ne_bytes(self.port_a),
                seq: u16::from_ne_bytes(self.port_b),
                tunnel,
            },
            kind::ARP => FlowKey::Arp { sender_ip: prefix(&self.src), target_ip: prefix(&self.dst) },
            kind::LAYER2 => FlowKey::Layer2 {
                src_mac: prefix(&self.src),
                dst_mac: prefix(&self.dst),
                ethertype: u16::from_ne_bytes(self.port_a),
                ssap: self.protocol,
                dsap: self.code,
            },
            _ => {
                debug_assert_eq!(self.head, kind::INFINIBAND, "no key packed here");
                let dst_qp_bits = u32::from(self.code) << 16 | u32::from(u16::from_ne_bytes(self.port_b));
                FlowKey::Infiniband {
                    src: endpoint_from(self.protocol & 0b11, &self.src),
                    dst: endpoint_from(self.protocol >> 2 & 0b11, &self.dst),
                    link: link_from(self.protocol >> IB_LINK_SHIFT & 0b11),
                    pkey: u16::from_ne_bytes(self.port_a),
                    src_qp: (self.protocol & IB_SRC_QP != 0).then(|| u32::from_ne_bytes(self.id)),
                    dst_qp: (self.protocol & IB_DST_QP != 0).then_some(dst_qp_bits),
                }
            }
        }
    }

    /// True for the key of an InfiniBand or RoCE flow.
    #[inline]
    pub fn is_infiniband(&self) -> bool {
        self.head & kind::MASK == kind::INFINIBAND
    }

    /// Compares this key with `probe`, as `*self == StoredKey::pack(probe)`
    /// would. IP keys, most packets, are compared field by field with the
    /// ports first, which differ most often, without packing the probe.
    /// Kept out of line because, inlined into the index's probe loop, the
    /// comparison loads every field of the probe key before the loop
    /// starts.
    #[inline(never)]
    pub fn matches(&self, probe: &FlowKey) -> bool {
        let FlowKey::Ip { src, dst, protocol, src_port, dst_port, tunnel } = probe else {
            return *self == StoredKey::pack(probe);
        };
        if self.port_a != src_port.to_ne_bytes() || self.port_b != dst_port.to_ne_bytes() {
            return false;
        }
        let tunnel_head = tunnel_code(tunnel.kind) << TUNNEL_SHIFT;
        let addresses_match = match (src, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                self.head == kind::IPV4 | tunnel_head && ipv4_from(&self.src) == *src && ipv4_from(&self.dst) == *dst
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                self.head == kind::IPV6 | tunnel_head
                    && u128::from_ne_bytes(self.src) == u128::from_ne_bytes(src.octets())
                    && u128::from_ne_bytes(self.dst) == u128::from_ne_bytes(dst.octets())
            }
            _ => return *self == StoredKey::pack(probe),
        };
        addresses_match && self.protocol == *protocol && self.id == tunnel.id.to_ne_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    fn v6(last: u16) -> IpAddr {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
    }

    /// Keys of every kind, with the fields at their widest.
    fn sample_keys() -> Vec<FlowKey> {
        let mut keys = Vec::new();
        let tunnels = std::iter::once(TunnelContext::NONE)
            .chain(TUNNELS.iter().map(|&kind| TunnelContext { kind: Some(kind), id: 0xfeed_beef }));
        for tunnel in tunnels {
            for (src, dst) in [(v4(1), v4(2)), (v6(1), v6(0xffff))] {
                keys.push(FlowKey::Ip { src, dst, protocol: 6, src_port: 0xfffe, dst_port: 80, tunnel });
                keys.push(FlowKey::Icmp { src, dst, icmp_type: 8, code: 255, id: 0x1234, seq: 0xffff, tunnel });
            }
        }
        keys.push(FlowKey::Arp { sender_ip: [10, 0, 0, 1], target_ip: [255, 255, 255, 255] });
        keys.push(FlowKey::Layer2 {
            src_mac: [2, 0, 0, 0, 0, 1],
            dst_mac: [0xff; 6],
            ethertype: 0x88cc,
            ssap: 0x42,
            dsap: 0xaa,
        });
        let endpoints =
            [IbEndpoint::Lid(0xbeef), IbEndpoint::Gid([0xfe; 16]), IbEndpoint::Ip(v4(9)), IbEndpoint::Ip(v6(9))];
        for src in endpoints {
            for dst in endpoints {
                for link in [IbLink::Native, IbLink::RoceV1, IbLink::RoceV2] {
                    for (src_qp, dst_qp) in [(None, None), (Some(QP_MASK), Some(QP_MASK)), (Some(1), None), (None, Some(0x10_0001))] {
                        keys.push(FlowKey::Infiniband { src, dst, link, pkey: 0x7fff, src_qp, dst_qp });
                    }
                }
            }
        }
        keys
    }

    #[test]
    fn unpack_returns_packed_key() {
        for key in sample_keys() {
            assert_eq!(StoredKey::pack(&key).unpack(), key);
        }
    }

    #[test]
    fn distinct_keys_pack_distinct() {
        let keys = sample_keys();
        for (i, first) in keys.iter().enumerate() {
            for (j, second) in keys.iter().enumerate() {
                let first_packed = StoredKey::pack(first);
                assert_eq!(first_packed.matches(second), i == j, "{first:?} against {second:?}");
                assert_eq!(first_packed == StoredKey::pack(second), i == j);
            }
        }
    }

    #[test]
    fn ipv4_never_matches_mapped_ipv6() {
        let mapped = |address: IpAddr| match address {
            IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
            IpAddr::V6(_) => address,
        };
        let ipv4 = FlowKey::Ip { src: v4(1), dst: v4(2), protocol: 17, src_port: 53, dst_port: 53, tunnel: TunnelContext::NONE };
        let FlowKey::Ip { src, dst, .. } = ipv4 else { unreachable!() };
        let ipv6 = FlowKey::Ip { src: mapped(src), dst: mapped(dst), protocol: 17, src_port: 53, dst_port: 53, tunnel: TunnelContext::NONE };
        assert!(!StoredKey::pack(&ipv4).matches(&ipv6));
        assert!(!StoredKey::pack(&ipv6).matches(&ipv4));
    }

    #[test]
    fn infiniband_kind_only_for_infiniband() {
        for key in sample_keys() {
            assert_eq!(StoredKey::pack(&key).is_infiniband(), matches!(key, FlowKey::Infiniband { .. }));
        }
    }
}
