//! Flow keys prepared ahead of accounting, so that the run loop can
//! prefetch the index entry and the slot of a packet's flow while earlier
//! packets are accounted.

use crate::decode::{Decoded, Network, TcpInfo, Transport, UdpInfo};
use crate::flow::key::{FlowKey, KeyDirection, TunnelContext};
use crate::flow::key_hash::canonical_ip_key;

/// A packet's flow key in canonical order, the packet's direction in it,
/// and the key's index hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreparedKey {
    /// The key in canonical order.
    pub key: FlowKey,
    /// The packet's direction relative to `key`.
    pub direction: KeyDirection,
    /// [`FlowKey::index_hash`] of `key`.
    pub hash: u64,
}

impl PreparedKey {
    /// Puts `key`, in the packet's own direction, in canonical order and
    /// hashes it.
    #[inline]
    pub fn from_packet_key(key: FlowKey) -> PreparedKey {
        let (key, direction) = key.canonical();
        PreparedKey { key, direction, hash: key.index_hash() }
    }

    /// Returns the prepared key of a decoded packet whose key depends on
    /// nothing but its own headers. Returns `None` for the packets the shard
    /// keys when it accounts them: IP fragments (keyed through the fragment
    /// table), InfiniBand and RoCE packets (whose queue pairs the shard
    /// learns from connection management), and packets without flow
    /// identity.
    #[inline]
    pub fn of(decoded: &Decoded) -> Option<PreparedKey> {
        let ip = match &decoded.network {
            Network::Ipv4(ip) | Network::Ipv6(ip) => ip,
            _ => return Self::of_any(decoded),
        };
        if ip.fragment.is_some() {
            return None;
        }
        // TCP and UDP outside IPsec, most packets, are keyed here directly.
        // The rest are keyed by `FlowKey::from_decoded`.
        let (src_port, dst_port) = match decoded.transport {
            Transport::Tcp(TcpInfo { src_port, dst_port, .. }) | Transport::Udp(UdpInfo { src_port, dst_port })
                if decoded.ipsec_spi.is_none() =>
            {
                (src_port, dst_port)
            }
            _ => return Self::of_any(decoded),
        };
        let tunnel = TunnelContext::from_summary(decoded.tunnel.as_ref());
        let (key, direction, hash) = canonical_ip_key(ip.src, ip.dst, ip.protocol, src_port, dst_port, tunnel);
        Some(PreparedKey { key, direction, hash })
    }

    /// Returns [`PreparedKey::of`] through [`FlowKey::from_decoded`], for
    /// every packet that is not an IP fragment.
    fn of_any(decoded: &Decoded) -> Option<PreparedKey> {
        match FlowKey::from_decoded(decoded)? {
            FlowKey::Infiniband { .. } => None,
            key => Some(PreparedKey::from_packet_key(key)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::decode::ib::{IbEndpoint, IbNetwork};
    use crate::decode::{ArpInfo, Fragment, IcmpInfo, IpInfo, TunnelKind, TunnelSummary};

    /// Returns what [`PreparedKey::of`] must return for a packet that is not
    /// a fragment, built the general way.
    fn general(decoded: &Decoded) -> Option<PreparedKey> {
        match FlowKey::from_decoded(decoded)? {
            FlowKey::Infiniband { .. } => None,
            key => {
                let (canonical, direction) = key.canonical();
                Some(PreparedKey { key: canonical, direction, hash: canonical.index_hash() })
            }
        }
    }

    fn ip_info(src: IpAddr, dst: IpAddr, protocol: u8, fragment: Option<Fragment>) -> IpInfo {
        IpInfo {
            src,
            dst,
            protocol,
            ttl: 64,
            tos: 0,
            ip_id: 1,
            flow_label: 0,
            fragment,
            payload_len_bytes: 40,
            options: 0,
        }
    }

    fn tcp(src_port: u16, dst_port: u16) -> Transport {
        Transport::Tcp(TcpInfo {
            src_port,
            dst_port,
            seq: 1,
            ack: 0,
            flags: 0x02,
            window: 1024,
            header_len_bytes: 20,
            options: 0,
            window_scale: None,
        })
    }

    fn packet(src: IpAddr, dst: IpAddr, transport: Transport) -> Decoded {
        let protocol = match transport {
            Transport::Tcp(_) => 6,
            Transport::Udp(_) => 17,
            Transport::Icmp(_) => 1,
            _ => 50,
        };
        let info = ip_info(src, dst, protocol, None);
        let network = if src.is_ipv4() { Network::Ipv4(info) } else { Network::Ipv6(info) };
        Decoded { network, transport, ..Decoded::EMPTY }
    }

    fn tunnelled(mut decoded: Decoded, kind: TunnelKind, id: u32) -> Decoded {
        let outer = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
        decoded.tunnel = Some(TunnelSummary { kind, outer_src: outer, outer_dst: outer, id, depth: 1 });
        decoded
    }

    #[test]
    fn direct_keys_match_general_path() {
        let v4 = |last: u8| IpAddr::V4(Ipv4Addr::new(10, 0, 0, last));
        let v6 = |last: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last));
        let udp = |src_port, dst_port| Transport::Udp(UdpInfo { src_port, dst_port });
        let mut cases = Vec::new();
        for (a, b) in [(v4(1), v4(2)), (v4(2), v4(1)), (v4(1), v4(1)), (v6(1), v6(2)), (v6(2), v6(1)), (v6(3), v6(3))] {
            for ports in [(1000, 80), (80, 1000), (443, 443)] {
                cases.push(packet(a, b, tcp(ports.0, ports.1)));
                cases.push(packet(a, b, udp(ports.0, ports.1)));
                cases.push(tunnelled(packet(a, b, udp(ports.0, ports.1)), TunnelKind::Vxlan, 77));
                cases.push(tunnelled(packet(a, b, tcp(ports.0, ports.1)), TunnelKind::Gre, 9));
                cases.push(tunnelled(packet(a, b, tcp(ports.0, ports.1)), TunnelKind::GtpU, 12));
            }
        }
        // Addresses ordered by a high first octet or by a later octet.
        cases.push(packet(IpAddr::V4(Ipv4Addr::new(200, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(1, 0, 0, 200)), tcp(1, 2)));
        cases.push(packet(IpAddr::V4(Ipv4Addr::new(1, 0, 0, 200)), IpAddr::V4(Ipv4Addr::new(1, 0, 1, 0)), tcp(2, 1)));
        cases.push(packet(
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0xffff)),
            udp(53, 53),
        ));
        // Packets that take the general path.
        let mut esp = packet(v4(1), v4(2), Transport::None);
        esp.ipsec_spi = Some(0x1234_5678);
        cases.push(esp);
        let mut esp_with_ports = packet(v4(2), v4(1), udp(4500, 4500));
        esp_with_ports.ipsec_spi = Some(0x0bad_cafe);
        cases.push(esp_with_ports);
        cases.push(packet(v4(1), v4(2), Transport::Icmp(IcmpInfo { icmp_type: 8, code: 0, id: 5, seq: 6 })));
        cases.push(packet(v4(1), v4(2), Transport::None));
        cases.push(Decoded {
            network: Network::Arp(ArpInfo {
                opcode: 1,
                hardware_type: 1,
                protocol_type: 0x0800,
                sender_mac: [2, 0, 0, 0, 0, 1],
                sender_ip: [10, 0, 0, 9],
                target_mac: [0; 6],
                target_ip: [10, 0, 0, 1],
            }),
            ..Decoded::EMPTY
        });

        for decoded in &cases {
            let expected = general(decoded);
            assert!(expected.is_some(), "{decoded:?} has a key");
            assert_eq!(PreparedKey::of(decoded), expected, "{decoded:?}");
        }
    }

    #[test]
    fn fragments_and_unkeyed_not_prepared() {
        let v4 = |last: u8| IpAddr::V4(Ipv4Addr::new(10, 0, 0, last));
        for offset_bytes in [0, 1480] {
            let fragment = Some(Fragment { offset_bytes, more_fragments: offset_bytes == 0, id: 7 });
            let decoded = Decoded {
                network: Network::Ipv4(ip_info(v4(1), v4(2), 17, fragment)),
                transport: Transport::Udp(UdpInfo { src_port: 1, dst_port: 2 }),
                ..Decoded::EMPTY
            };
            assert_eq!(PreparedKey::of(&decoded), None, "fragment at offset {offset_bytes}");
        }
        assert_eq!(PreparedKey::of(&Decoded::EMPTY), None);

        let infiniband = Decoded {
            network: Network::Infiniband(IbNetwork {
                src: IbEndpoint::Lid(1),
                dst: IbEndpoint::Lid(2),
                src_lid: 1,
                dst_lid: 2,
                service_level: 0,
                traffic_class: 0,
                has_grh: false,
            }),
            ..Decoded::EMPTY
        };
        assert!(FlowKey::from_decoded(&infiniband).is_some());
        assert_eq!(PreparedKey::of(&infiniband), None, "InfiniBand keys are resolved by the shard");
    }
}
