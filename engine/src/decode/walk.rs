//! The walk from the link-layer header to the transport header.
//!
//! Each step decodes one header with its view, copies what the flow layer
//! needs into the [`Decoded`] and hands the rest of the packet to the next
//! step. A step that fails returns the [`DecodeStop`], and what the steps
//! before it wrote stays in the summary.

use super::arp::ArpHeader;
use super::bytes::check_len;
use super::ethernet::{self, ethertype, EthernetHeader};
use super::icmp::IcmpHeader;
use super::ipv4::Ipv4Header;
use super::ipv6::Ipv6Header;
use super::ipv6_ext::{self, next_header};
use super::linux_sll::{self, LinuxSllHeader};
use super::linux_sll2::LinuxSll2Header;
use super::llc::{self, LlcHeader, SnapHeader};
use super::loopback::{self, LoopbackHeader};
use super::tcp::TcpHeader;
use super::udp::{self, UdpHeader};
use super::vlan::{self, VlanHeader};
use super::{encapsulation, quoted, walk_encap, DecodeError, DecodeStop, Decoded, Layer, Network, Transport};
use crate::packet::LinkType;

/// Outcome of one step: `Err` ends the walk.
pub(super) type Step = Result<(), DecodeStop>;

/// IP protocol number of ICMP.
const PROTOCOL_ICMP: u8 = 1;

/// Decodes a packet of `link_type` from its first byte to the transport
/// header.
///
/// Never panics: every read is bounds-checked, and the tests feed random
/// bytes to every link type from 0 to 300. A truncated or malformed header
/// ends the walk. The summary keeps every layer decoded before it, and
/// [`Decoded::stop`] names the layer and the error. Unknown EtherTypes and
/// IP protocols end the walk without a stop.
pub fn decode_packet(link_type: LinkType, data: &[u8]) -> Decoded {
    let mut decoded = Decoded::EMPTY;
    decode_packet_into(link_type, data, &mut decoded);
    decoded
}

/// Decodes like [`decode_packet`] into `decoded`, which is overwritten. A
/// worker reuses one `Decoded` for every packet, which saves copying the
/// result out of a return value.
pub fn decode_packet_into(link_type: LinkType, data: &[u8], decoded: &mut Decoded) {
    decoded.reset();
    if let Err(stop) = walk_link(link_type.normalized(), data, decoded) {
        decoded.stop = Some(stop);
    }
}

/// Returns a function that attaches `layer` to a decoder error.
pub(super) fn at(layer: Layer) -> impl Fn(DecodeError) -> DecodeStop {
    move |error| DecodeStop { layer, error }
}

pub(super) fn walk_link(link_type: LinkType, data: &[u8], decoded: &mut Decoded) -> Step {
    match link_type {
        LinkType::ETHERNET => walk_ethernet(data, decoded),
        LinkType::RAW => walk_raw_ip(data, decoded),
        LinkType::IPV4 => walk_ethertype(ethertype::IPV4, data, decoded),
        LinkType::IPV6 => walk_ethertype(ethertype::IPV6, data, decoded),
        LinkType::LINUX_SLL => walk_linux_sll(data, decoded),
        LinkType::LINUX_SLL2 => walk_linux_sll2(data, decoded),
        LinkType::NULL => walk_loopback(data, false, decoded),
        LinkType::LOOP => walk_loopback(data, true, decoded),
        other => walk_encap::walk_other_link(other, data, decoded)
            .unwrap_or(Err(at(Layer::Link)(DecodeError::UnsupportedLinkType(other.0)))),
    }
}

pub(super) fn walk_ethernet(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = EthernetHeader::new(data).map_err(at(Layer::Link))?;
    decoded.link.src_mac = Some(header.src_mac());
    decoded.link.dst_mac = Some(header.dst_mac());
    decoded.encapsulation |= encapsulation::ETHERNET;
    walk_type_or_length(header.type_or_length(), header.payload(), decoded)
}

/// Reads the version nibble of a raw IP packet and decodes it as IPv4 or IPv6.
fn walk_raw_ip(data: &[u8], decoded: &mut Decoded) -> Step {
    let Some(&first) = data.first() else {
        return Err(at(Layer::Link)(DecodeError::Truncated {
            needed_bytes: 1,
            available_bytes: 0,
        }));
    };
    match first >> 4 {
        4 => walk_ethertype(ethertype::IPV4, data, decoded),
        6 => walk_ethertype(ethertype::IPV6, data, decoded),
        version => Err(at(Layer::Link)(DecodeError::InvalidVersion(version))),
    }
}

fn walk_linux_sll(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = LinuxSllHeader::new(data).map_err(at(Layer::Link))?;
    decoded.link.src_mac = header.src_mac();
    decoded.link.arphrd_type = Some(header.arphrd_type());
    walk_cooked_protocol(
        header.protocol(),
        header.arphrd_type(),
        header.payload(),
        decoded,
    )
}

fn walk_linux_sll2(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = LinuxSll2Header::new(data).map_err(at(Layer::Link))?;
    decoded.link.src_mac = header.src_mac();
    decoded.link.arphrd_type = Some(header.arphrd_type());
    walk_cooked_protocol(
        header.protocol(),
        header.arphrd_type(),
        header.payload(),
        decoded,
    )
}

/// Follows the protocol field of a Linux cooked header.
fn walk_cooked_protocol(
    protocol: u16,
    arphrd_type: u16,
    payload: &[u8],
    decoded: &mut Decoded,
) -> Step {
    if arphrd_type == linux_sll::ARPHRD_NETLINK {
        // The protocol is a netlink family: kept, but not decoded.
        decoded.link.ethertype = protocol;
        return Ok(());
    }
    match protocol {
        linux_sll::protocol::NOVELL_802_3 => Ok(()),
        linux_sll::protocol::LLC => walk_llc(payload, decoded),
        _ if protocol < ethernet::MIN_ETHERTYPE => {
            // A Linux frame type such as `ETH_P_CAN`, not an EtherType: kept,
            // but not decoded.
            decoded.link.ethertype = protocol;
            Ok(())
        }
        _ => walk_type_or_length(protocol, payload, decoded),
    }
}

/// Reads a BSD loopback header; `network_order` is true for
/// `LINKTYPE_LOOP`, false for `LINKTYPE_NULL`.
fn walk_loopback(data: &[u8], network_order: bool, decoded: &mut Decoded) -> Step {
    let header = LoopbackHeader::new(data).map_err(at(Layer::Link))?;
    let family = if network_order {
        header.family_network_order()
    } else {
        header.family_either_order()
    };

    if family == loopback::family::INET {
        walk_ethertype(ethertype::IPV4, header.payload(), decoded)
    } else if loopback::is_inet6(family) {
        walk_ethertype(ethertype::IPV6, header.payload(), decoded)
    } else {
        Ok(())
    }
}

/// Skips VLAN tags, then follows an EtherType or an 802.3 length.
fn walk_type_or_length(mut type_or_length: u16, mut payload: &[u8], decoded: &mut Decoded) -> Step {
    while vlan::is_tag_ethertype(type_or_length) {
        let count = usize::from(decoded.link.vlan_count);
        if count == vlan::MAX_TAGS {
            return Err(at(Layer::Vlan)(DecodeError::TooDeep(vlan::MAX_TAGS)));
        }
        let tag = VlanHeader::new(payload).map_err(at(Layer::Vlan))?;
        if let Some(slot) = decoded.link.vlan_ids.get_mut(count) {
            *slot = tag.vlan_id();
        }
        decoded.link.vlan_count += 1;
        decoded.encapsulation |= encapsulation::VLAN;
        type_or_length = tag.type_or_length();
        payload = tag.payload();
    }

    if !ethernet::is_length_field(type_or_length) {
        return walk_ethertype(type_or_length, payload, decoded);
    }
    if llc::is_novell_raw_ipx(payload) {
        return Ok(());
    }
    walk_llc(payload, decoded)
}

/// Reads an LLC header and, for SNAP with an EtherType, follows it.
pub(super) fn walk_llc(payload: &[u8], decoded: &mut Decoded) -> Step {
    let header = LlcHeader::new(payload).map_err(at(Layer::Link))?;
    decoded.link.llc_saps = Some((header.dsap(), header.ssap()));
    decoded.encapsulation |= encapsulation::LLC;
    if !header.is_snap() {
        return Ok(());
    }

    let snap = SnapHeader::new(header.payload()).map_err(at(Layer::Link))?;
    match snap.ethertype() {
        // VLAN tags and LLC are not followed after SNAP, which bounds the
        // walk without recursion.
        Some(value) => walk_ethertype(value, snap.payload(), decoded),
        None => Ok(()),
    }
}

/// Records the network layer's EtherType and decodes the layer.
pub(super) fn walk_ethertype(value: u16, payload: &[u8], decoded: &mut Decoded) -> Step {
    decoded.link.ethertype = value;
    match value {
        ethertype::IPV4 => walk_ipv4(payload, decoded),
        ethertype::IPV6 => walk_ipv6(payload, decoded),
        ethertype::ARP | ethertype::RARP => walk_arp(payload, decoded),
        other => walk_encap::walk_other_ethertype(other, payload, decoded).unwrap_or(Ok(())),
    }
}

fn walk_arp(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = ArpHeader::new(data).map_err(at(Layer::Arp))?;
    decoded.network = Network::Arp(header.info().map_err(at(Layer::Arp))?);
    Ok(())
}

pub(super) fn walk_ipv4(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = Ipv4Header::new(data).map_err(at(Layer::Ipv4))?;
    let info = header.info();
    decoded.network = Network::Ipv4(info);

    check_len(data, header.header_len()).map_err(at(Layer::Ipv4))?;
    if info
        .fragment
        .is_some_and(|fragment| fragment.offset_bytes != 0)
    {
        return Ok(());
    }
    let payload = IpPayload {
        protocol: info.protocol,
        bytes: header.payload(),
        len_bytes: info.payload_len_bytes,
        is_ipv6: false,
        is_jumbogram: false,
    };
    walk_transport(&payload, decoded)
}

pub(super) fn walk_ipv6(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = Ipv6Header::new(data).map_err(at(Layer::Ipv6))?;
    let chain = ipv6_ext::walk_chain(
        header.next_header(),
        header.payload_len(),
        header.captured_payload(),
    );
    decoded.network = Network::Ipv6(header.info(&chain));

    if let Some(error) = chain.stop {
        return Err(at(Layer::Ipv6Extension)(error));
    }
    if chain.is_later_fragment {
        return Ok(());
    }
    let payload = IpPayload {
        protocol: chain.protocol,
        bytes: chain.payload,
        len_bytes: chain.payload_len_bytes,
        is_ipv6: true,
        is_jumbogram: chain.is_jumbogram,
    };
    walk_transport(&payload, decoded)
}

/// The upper-layer payload of an IP packet.
struct IpPayload<'a> {
    /// IP protocol number (IPv6: the last next-header value).
    protocol: u8,
    /// Captured bytes, cut to the IP length fields.
    bytes: &'a [u8],
    /// Length in bytes as the IP length fields give it.
    len_bytes: u32,
    /// True for IPv6, whose ICMP is ICMPv6.
    is_ipv6: bool,
    /// True for an IPv6 jumbogram, where UDP may have a length of 0.
    is_jumbogram: bool,
}

fn walk_transport(payload: &IpPayload<'_>, decoded: &mut Decoded) -> Step {
    match payload.protocol {
        next_header::TCP => walk_tcp(payload, decoded),
        next_header::UDP => walk_udp(payload, decoded),
        PROTOCOL_ICMP if !payload.is_ipv6 => walk_icmp(payload, Layer::Icmp, decoded),
        next_header::ICMPV6 if payload.is_ipv6 => walk_icmp(payload, Layer::Icmpv6, decoded),
        next_header::ESP => {
            decoded.ipsec_spi = quoted::ipsec_spi(payload.bytes, quoted::ESP_SPI_OFFSET);
            Ok(())
        }
        next_header::AH => {
            decoded.ipsec_spi = quoted::ipsec_spi(payload.bytes, quoted::AH_SPI_OFFSET);
            Ok(())
        }
        other => walk_encap::walk_ip_tunnel(other, payload.is_ipv6, payload.bytes, decoded).unwrap_or(Ok(())),
    }
}

/// Decodes a TCP header; one whose options the capture cut still fills the
/// transport, then stops with `Truncated`.
fn walk_tcp(payload: &IpPayload<'_>, decoded: &mut Decoded) -> Step {
    let header = TcpHeader::new(payload.bytes).map_err(at(Layer::Tcp))?;
    let info = header.info();
    decoded.transport = Transport::Tcp(info);
    decoded.app_bytes = payload
        .len_bytes
        .saturating_sub(u32::from(info.header_len_bytes));
    check_len(payload.bytes, header.header_len()).map_err(at(Layer::Tcp))
}

fn walk_udp(payload: &IpPayload<'_>, decoded: &mut Decoded) -> Step {
    let header = if payload.is_jumbogram {
        UdpHeader::new_in_jumbogram(payload.bytes)
    } else {
        UdpHeader::new(payload.bytes)
    }
    .map_err(at(Layer::Udp))?;

    let datagram_len = match header.length() {
        0 => payload.len_bytes,
        length => u32::from(length),
    };
    let info = header.info();
    decoded.transport = Transport::Udp(info);
    decoded.app_bytes = datagram_len.saturating_sub(udp::HEADER_LEN as u32);
    if info.src_port == quoted::DNS_PORT || info.dst_port == quoted::DNS_PORT {
        decoded.dns = quoted::dns_header(header.payload());
    }
    if info.dst_port == super::ib::ROCE_V2_PORT {
        return super::ib::walk_roce_v2(info.src_port, header.payload(), decoded.app_bytes, decoded);
    }
    walk_encap::walk_udp_tunnel(info.src_port, info.dst_port, header.payload(), decoded).unwrap_or(Ok(()))
}

fn walk_icmp(payload: &IpPayload<'_>, layer: Layer, decoded: &mut Decoded) -> Step {
    let header = IcmpHeader::new(payload.bytes).map_err(at(layer))?;
    let icmp_type = header.icmp_type();
    if layer == Layer::Icmpv6 {
        decoded.transport = Transport::Icmpv6(header.icmpv6_info());
        if quoted::icmpv6_quotes_packet(icmp_type) {
            decoded.icmp_quoted = quoted::quoted_ipv6(header.payload());
        }
    } else {
        decoded.transport = Transport::Icmp(header.icmpv4_info());
        if quoted::icmpv4_quotes_packet(icmp_type) {
            decoded.icmp_quoted = quoted::quoted_ipv4(header.payload());
        }
    }
    decoded.app_bytes = payload
        .len_bytes
        .saturating_sub(super::icmp::HEADER_LEN as u32);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use std::ops::Range;

    use super::*;
    use crate::decode::test_frames::*;
    use crate::decode::{
        tcp_flag, tcp_option, ArpInfo, DnsInfo, Fragment, IcmpInfo, IpInfo, LinkInfo, TcpInfo, UdpInfo,
    };

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    fn v6(text: &str) -> IpAddr {
        IpAddr::V6(text.parse::<Ipv6Addr>().unwrap())
    }

    fn ethernet(frame: &[u8]) -> Decoded {
        decode_packet(LinkType::ETHERNET, frame)
    }

    fn ip_info(decoded: &Decoded) -> IpInfo {
        match decoded.network {
            Network::Ipv4(info) | Network::Ipv6(info) => info,
            other => panic!("expected an IP network layer, got {other:?}"),
        }
    }

    fn tcp_info(decoded: &Decoded) -> TcpInfo {
        match decoded.transport {
            Transport::Tcp(info) => info,
            other => panic!("expected TCP, got {other:?}"),
        }
    }

    fn stop(layer: Layer, error: DecodeError) -> Option<DecodeStop> {
        Some(DecodeStop { layer, error })
    }

    // ---- Ethernet, ARP and IPv4 ----

    #[test]
    fn ethernet_arp_request() {
        let decoded = ethernet(&ARP_WHO_HAS_1);

        assert_eq!(
            decoded,
            Decoded {
                link: LinkInfo {
                    src_mac: Some([0x78, 0x31, 0xc1, 0xc6, 0x3f, 0xc2]),
                    dst_mac: Some([0xff; 6]),
                    ethertype: 0x0806,
                    ..LinkInfo::default()
                },
                network: Network::Arp(ArpInfo {
                    opcode: 1,
                    hardware_type: 1,
                    protocol_type: 0x0800,
                    sender_mac: [0x78, 0x31, 0xc1, 0xc6, 0x3f, 0xc2],
                    sender_ip: [10, 0, 0, 2],
                    target_mac: [0; 6],
                    target_ip: [10, 0, 0, 1],
                }),
                transport: Transport::None,
                app_bytes: 0,
                stop: None,
                icmp_quoted: None,
                dns: None,
                ipsec_spi: None,
                encapsulation: crate::decode::encapsulation::ETHERNET,
                ..Decoded::EMPTY
            }
        );
    }

    #[test]
    fn arp_with_other_address_lengths() {
        let mut frame = ARP_WHO_HAS_2;
        frame[ethernet::HEADER_LEN + 4] = 8;
        let decoded = ethernet(&frame);

        assert_eq!(decoded.link.ethertype, 0x0806);
        assert_eq!(decoded.network, Network::None);
        assert_eq!(
            decoded.stop,
            stop(Layer::Arp, DecodeError::InvalidLength(8))
        );
    }

    #[test]
    fn ipv4_icmp_echo_request() {
        let decoded = ethernet(&ICMP_ECHO_REQUEST_1);

        assert_eq!(
            decoded,
            Decoded {
                link: LinkInfo {
                    src_mac: Some([0x00, 0x0c, 0x29, 0xcf, 0x30, 0x15]),
                    dst_mac: Some([0xa6, 0x83, 0xe7, 0x0c, 0x90, 0x64]),
                    ethertype: 0x0800,
                    ..LinkInfo::default()
                },
                network: Network::Ipv4(IpInfo {
                    src: v4(172, 16, 133, 2),
                    dst: v4(172, 217, 11, 78),
                    protocol: 1,
                    ttl: 64,
                    tos: 0,
                    ip_id: 0x946a,
                    flow_label: 0,
                    fragment: None,
                    payload_len_bytes: 64,
                    options: 0,
                }),
                transport: Transport::Icmp(IcmpInfo {
                    icmp_type: 8,
                    code: 0,
                    id: 1226,
                    seq: 1
                }),
                app_bytes: 56,
                stop: None,
                icmp_quoted: None,
                dns: None,
                ipsec_spi: None,
                encapsulation: crate::decode::encapsulation::ETHERNET,
                ..Decoded::EMPTY
            }
        );
    }

    #[test]
    fn ipv4_icmp_echo_reply_tos() {
        let decoded = ethernet(&ICMP_ECHO_REPLY_2);
        let ip = ip_info(&decoded);

        assert_eq!(ip.tos, 0x20);
        assert_eq!(ip.ttl, 113);
        assert_eq!(
            decoded.transport,
            Transport::Icmp(IcmpInfo {
                icmp_type: 0,
                code: 0,
                id: 1226,
                seq: 1
            })
        );
    }

    #[test]
    fn ipv4_icmp_unreachable() {
        let decoded = ethernet(&ICMP_UNREACHABLE_1);

        assert_eq!(ip_info(&decoded).payload_len_bytes, 156);
        assert_eq!(
            decoded.transport,
            Transport::Icmp(IcmpInfo {
                icmp_type: 3,
                code: 3,
                id: 0,
                seq: 0
            })
        );
        assert_eq!(decoded.app_bytes, 148);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv4_udp_dns_query() {
        let decoded = ethernet(&UDP_DNS_4);

        assert_eq!(
            decoded.transport,
            Transport::Udp(UdpInfo {
                src_port: 65170,
                dst_port: 53
            })
        );
        assert_eq!(decoded.app_bytes, 36);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv4_tcp_syn_ack_with_options() {
        let decoded = ethernet(&TCP_SYN_OPTIONS_1);

        assert_eq!(ip_info(&decoded).src, v4(192, 150, 187, 43));
        assert_eq!(ip_info(&decoded).ttl, 47);
        assert_eq!(
            decoded.transport,
            Transport::Tcp(TcpInfo {
                src_port: 80,
                dst_port: 59856,
                seq: 2_779_762_238,
                ack: 4_263_588_411,
                flags: tcp_flag::SYN | tcp_flag::ACK,
                window: 14480,
                header_len_bytes: 40,
                options: tcp_option::MSS
                    | tcp_option::SACK_PERMITTED
                    | tcp_option::TIMESTAMP
                    | tcp_option::WINDOW_SCALE,
                window_scale: Some(7),
            })
        );
        assert_eq!(decoded.app_bytes, 0);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv4_router_alert_igmp() {
        let decoded = ethernet(&IGMP_ROUTER_ALERT_2);
        let ip = ip_info(&decoded);

        assert_eq!(ip.protocol, 2);
        assert_eq!(ip.options, crate::decode::ipv4_option::ROUTER_ALERT);
        assert_eq!(ip.payload_len_bytes, 8);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(decoded.app_bytes, 0);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv4_first_fragment_has_transport() {
        let decoded = ethernet(&FRAG_IPV4_ICMP_1);
        let ip = ip_info(&decoded);

        assert_eq!(
            ip.fragment,
            Some(Fragment {
                offset_bytes: 0,
                more_fragments: true,
                id: 0xb5d0
            })
        );
        assert_eq!(ip.payload_len_bytes, 976);
        assert_eq!(
            decoded.transport,
            Transport::Icmp(IcmpInfo {
                icmp_type: 8,
                code: 0,
                id: 0x13c2,
                seq: 1
            })
        );
        assert_eq!(decoded.app_bytes, 968);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv4_later_fragment_has_no_transport() {
        let decoded = ethernet(&FRAG_IPV4_ICMP_2);
        let ip = ip_info(&decoded);

        assert_eq!(
            ip.fragment,
            Some(Fragment {
                offset_bytes: 976,
                more_fragments: false,
                id: 0xb5d0
            })
        );
        assert_eq!(ip.payload_len_bytes, 432);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(decoded.app_bytes, 0);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv4_ihl_below_five() {
        let decoded = ethernet(&BAD_IPV4_IHL_1);

        assert_eq!(decoded.link.ethertype, 0x0800);
        assert_eq!(
            decoded.link.src_mac,
            Some([0xf0, 0x4d, 0xa2, 0x3d, 0x5d, 0xa3])
        );
        assert_eq!(decoded.network, Network::None);
        assert_eq!(
            decoded.stop,
            stop(Layer::Ipv4, DecodeError::InvalidHeaderLength(16))
        );
    }

    #[test]
    fn ipv4_total_length_zero() {
        let decoded = ethernet(&BAD_IPV4_TOTAL_LEN_1);

        assert_eq!(decoded.network, Network::None);
        assert_eq!(
            decoded.stop,
            stop(Layer::Ipv4, DecodeError::InvalidLength(0))
        );
    }

    #[test]
    fn ipv4_options_cut_keep_the_fixed_header() {
        let decoded = ethernet(&IGMP_ROUTER_ALERT_2[..36]);
        let ip = ip_info(&decoded);

        assert_eq!(ip.src, v4(192, 168, 1, 64));
        assert_eq!(ip.protocol, 2);
        assert_eq!(ip.options, 0);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(
            decoded.stop,
            stop(
                Layer::Ipv4,
                DecodeError::Truncated {
                    needed_bytes: 24,
                    available_bytes: 22
                }
            )
        );
    }

    #[test]
    fn tcp_header_cut_after_12_bytes() {
        let decoded = ethernet(&BAD_TCP_HEADER_1);

        assert_eq!(ip_info(&decoded).src, v4(48, 48, 48, 48));
        assert_eq!(ip_info(&decoded).payload_len_bytes, 12316);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(
            decoded.stop,
            stop(
                Layer::Tcp,
                DecodeError::Truncated {
                    needed_bytes: 20,
                    available_bytes: 12
                }
            )
        );
    }

    #[test]
    fn udp_header_cut_after_4_bytes() {
        let decoded = ethernet(&BAD_UDP_LEN_1);

        assert_eq!(ip_info(&decoded).protocol, 17);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(
            decoded.stop,
            stop(
                Layer::Udp,
                DecodeError::Truncated {
                    needed_bytes: 8,
                    available_bytes: 4
                }
            )
        );
    }

    #[test]
    fn udp_length_below_eight() {
        let mut frame = UDP_DNS_4;
        frame[34 + 5] = 4;
        let decoded = ethernet(&frame);

        assert_eq!(ip_info(&decoded).protocol, 17);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(decoded.app_bytes, 0);
        assert_eq!(
            decoded.stop,
            stop(Layer::Udp, DecodeError::InvalidLength(4))
        );
    }

    #[test]
    fn tcp_options_cut_by_snapshot_length() {
        let decoded = ethernet(&SNAPLEN68_SYN_1);
        let tcp = tcp_info(&decoded);

        assert_eq!(ip_info(&decoded).src, v4(201, 186, 157, 67));
        assert_eq!((tcp.src_port, tcp.dst_port), (60827, 25));
        assert_eq!(tcp.flags, tcp_flag::SYN | tcp_flag::ECE | tcp_flag::CWR);
        assert_eq!(tcp.header_len_bytes, 40);
        assert_eq!(tcp.options, tcp_option::MSS | tcp_option::SACK_PERMITTED);
        assert_eq!(decoded.app_bytes, 0);
        assert_eq!(
            decoded.stop,
            stop(
                Layer::Tcp,
                DecodeError::Truncated {
                    needed_bytes: 40,
                    available_bytes: 34
                }
            )
        );
    }

    #[test]
    fn tcp_data_offset_below_five() {
        let mut frame = TCP_SYN_1;
        frame[34 + 12] = 0x30;
        let decoded = ethernet(&frame);

        assert_eq!(ip_info(&decoded).protocol, 6);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(
            decoded.stop,
            stop(Layer::Tcp, DecodeError::InvalidHeaderLength(12))
        );
    }

    // ---- VLAN tags and 802.3 ----

    #[test]
    fn vlan_tagged_icmp() {
        let decoded = ethernet(&VLAN_8021Q_ICMP_5);

        assert_eq!(decoded.link.vlan_count, 1);
        assert_eq!(decoded.link.vlan_ids, [123, 0]);
        assert_eq!(decoded.link.ethertype, 0x0800);
        assert_eq!(ip_info(&decoded).src, v4(192, 168, 123, 2));
        assert_eq!(
            decoded.transport,
            Transport::Icmp(IcmpInfo {
                icmp_type: 8,
                code: 0,
                id: 1,
                seq: 0
            })
        );
        assert_eq!(decoded.app_bytes, 72);
    }

    #[test]
    fn vlan_tagged_arp() {
        let decoded = ethernet(&VLAN_8021Q_ARP_1);

        assert_eq!(decoded.link.vlan_count, 1);
        assert_eq!(decoded.link.vlan_ids, [123, 0]);
        assert_eq!(decoded.link.ethertype, 0x0806);
        assert!(matches!(decoded.network, Network::Arp(_)));
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn service_and_customer_tags() {
        let decoded = ethernet(&QINQ_88A8_ARP_1);

        assert_eq!(decoded.link.vlan_count, 2);
        assert_eq!(decoded.link.vlan_ids, [200, 2001]);
        assert_eq!(decoded.link.ethertype, 0x0806);
        let Network::Arp(arp) = decoded.network else {
            panic!("expected ARP, got {:?}", decoded.network)
        };
        assert_eq!(arp.sender_ip, [172, 21, 79, 97]);
        assert_eq!(arp.target_ip, [172, 21, 79, 100]);
        assert_eq!(arp.sender_mac, [0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f]);
    }

    #[test]
    fn two_customer_tags_http() {
        let decoded = ethernet(&QINQ_8100_HTTP_4);
        let tcp = tcp_info(&decoded);

        assert_eq!(decoded.link.vlan_count, 2);
        assert_eq!(decoded.link.vlan_ids, [0, 0]);
        assert_eq!(
            decoded.link.src_mac,
            Some([0xc8, 0xbc, 0xc8, 0x96, 0xd2, 0xa0])
        );
        assert_eq!(ip_info(&decoded).ip_id, 0x4a9a);
        assert_eq!((tcp.src_port, tcp.dst_port), (59856, 80));
        assert_eq!((tcp.seq, tcp.ack), (4_263_588_411, 2_779_762_239));
        assert_eq!(tcp.flags, tcp_flag::PSH | tcp_flag::ACK);
        assert_eq!(tcp.window, 8235);
        assert_eq!(tcp.options, tcp_option::TIMESTAMP);
        assert_eq!(decoded.app_bytes, 136);
    }

    #[test]
    fn three_tags_keep_the_outer_two() {
        let decoded = ethernet(&QINQINQ_TCP_1);
        let tcp = tcp_info(&decoded);

        assert_eq!(decoded.link.vlan_count, 3);
        assert_eq!(decoded.link.vlan_ids, [30, 20]);
        assert_eq!(decoded.link.ethertype, 0x0800);
        assert_eq!(tcp.window_scale, Some(4));
        assert_eq!(tcp.header_len_bytes, 44);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn tags_beyond_the_limit() {
        let mut frame = QINQ_88A8_ARP_1[..ethernet::HEADER_LEN].to_vec();
        for _ in 0..=vlan::MAX_TAGS {
            frame.extend_from_slice(&[0x00, 0x07, 0x81, 0x00]);
        }
        frame.extend_from_slice(&[0u8; 28]);
        let decoded = ethernet(&frame);

        assert_eq!(usize::from(decoded.link.vlan_count), vlan::MAX_TAGS);
        assert_eq!(decoded.link.vlan_ids, [7, 7]);
        assert_eq!(decoded.network, Network::None);
        assert_eq!(
            decoded.stop,
            stop(Layer::Vlan, DecodeError::TooDeep(vlan::MAX_TAGS))
        );
    }

    #[test]
    fn ieee_802_3_stp() {
        let decoded = ethernet(&STP_8021D_1);

        assert_eq!(
            decoded,
            Decoded {
                link: LinkInfo {
                    src_mac: Some([0x00, 0x19, 0x06, 0xea, 0xb8, 0x85]),
                    dst_mac: Some([0x01, 0x80, 0xc2, 0x00, 0x00, 0x00]),
                    llc_saps: Some((0x42, 0x42)),
                    ..LinkInfo::default()
                },
                encapsulation: crate::decode::encapsulation::ETHERNET | crate::decode::encapsulation::LLC,
                ..Decoded::EMPTY
            }
        );
    }

    #[test]
    fn ieee_802_3_ipx_over_llc() {
        let decoded = ethernet(&IPX_LLC_1);

        assert_eq!(decoded.link.llc_saps, Some((0xe0, 0xe0)));
        assert_eq!(decoded.link.ethertype, 0);
        assert_eq!(decoded.network, Network::None);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ieee_802_3_novell_raw() {
        // IPX_LLC_1 without its 3-byte LLC header: a Novell raw 802.3 frame.
        let mut frame = IPX_LLC_1[..ethernet::HEADER_LEN].to_vec();
        frame[13] = 0x51;
        frame.extend_from_slice(&IPX_LLC_1[ethernet::HEADER_LEN + 3..]);
        let decoded = ethernet(&frame);

        assert_eq!(decoded.link.llc_saps, None);
        assert_eq!(decoded.link.ethertype, 0);
        assert_eq!(
            decoded.link.src_mac,
            Some([0x00, 0x03, 0x47, 0x1b, 0xc1, 0xa8])
        );
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ieee_802_3_snap_ipv4_tcp() {
        let decoded = ethernet(&LLC_SNAP_TCP_1);
        let tcp = tcp_info(&decoded);

        assert_eq!(decoded.link.llc_saps, Some((0xaa, 0xaa)));
        assert_eq!(decoded.link.ethertype, 0x0800);
        assert_eq!(
            decoded.link.dst_mac,
            Some([0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb])
        );
        assert_eq!(ip_info(&decoded).src, v4(192, 168, 1, 1));
        assert_eq!(ip_info(&decoded).dst, v4(192, 168, 1, 2));
        assert_eq!((tcp.src_port, tcp.dst_port, tcp.seq), (12345, 80, 100));
        assert_eq!(decoded.stop, None);
    }

    // ---- Linux cooked captures ----

    #[test]
    fn linux_sll_ipv4_tcp() {
        let decoded = decode_packet(LinkType::LINUX_SLL, &SLL_HALEN6_MPTCP_2);
        let tcp = tcp_info(&decoded);

        assert_eq!(
            decoded.link,
            LinkInfo {
                src_mac: Some([0xee, 0x13, 0xfb, 0x9f, 0x58, 0x9e]),
                ethertype: 0x0800,
                arphrd_type: Some(1),
                ..LinkInfo::default()
            }
        );
        assert_eq!(ip_info(&decoded).src, v4(10, 0, 2, 1));
        assert_eq!(ip_info(&decoded).dst, v4(10, 0, 1, 1));
        assert_eq!((tcp.src_port, tcp.dst_port), (10004, 33306));
        assert_eq!((tcp.seq, tcp.ack), (791_415_661, 2_180_756_990));
        assert_eq!(tcp.header_len_bytes, 52);
        assert_eq!(tcp.window_scale, Some(8));
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn linux_sll_without_address() {
        let decoded = decode_packet(LinkType::LINUX_SLL, &SLL_NSEC_HANDSHAKE_1);

        assert_eq!(decoded.link.src_mac, None);
        assert_eq!(decoded.link.arphrd_type, Some(512));
        assert_eq!(ip_info(&decoded).src, v4(131, 155, 215, 69));
        assert_eq!(tcp_info(&decoded).src_port, 46656);
    }

    /// `SLL_HALEN6_MPTCP_2`'s header with `protocol`, followed by `payload`.
    fn sll_frame(arphrd_type: u16, protocol: u16, payload: &[u8]) -> Vec<u8> {
        let mut frame = SLL_HALEN6_MPTCP_2[..linux_sll::HEADER_LEN].to_vec();
        frame[2..4].copy_from_slice(&arphrd_type.to_be_bytes());
        frame[14..16].copy_from_slice(&protocol.to_be_bytes());
        frame.extend_from_slice(payload);
        frame
    }

    #[test]
    fn linux_sll_llc_frame() {
        let frame = sll_frame(
            1,
            linux_sll::protocol::LLC,
            &STP_8021D_1[ethernet::HEADER_LEN..],
        );
        let decoded = decode_packet(LinkType::LINUX_SLL, &frame);

        assert_eq!(decoded.link.llc_saps, Some((0x42, 0x42)));
        assert_eq!(decoded.link.ethertype, 0);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn linux_sll_novell_frame() {
        let frame = sll_frame(
            1,
            linux_sll::protocol::NOVELL_802_3,
            &IPX_LLC_1[ethernet::HEADER_LEN + 3..],
        );
        let decoded = decode_packet(LinkType::LINUX_SLL, &frame);

        assert_eq!(decoded.link.llc_saps, None);
        assert_eq!(decoded.link.ethertype, 0);
        assert_eq!(decoded.network, Network::None);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn linux_sll_netlink_is_not_decoded() {
        let frame = sll_frame(
            linux_sll::ARPHRD_NETLINK,
            0x0800,
            &SLL_HALEN6_MPTCP_2[linux_sll::HEADER_LEN..],
        );
        let decoded = decode_packet(LinkType::LINUX_SLL, &frame);

        assert_eq!(decoded.link.arphrd_type, Some(linux_sll::ARPHRD_NETLINK));
        assert_eq!(decoded.link.ethertype, 0x0800);
        assert_eq!(decoded.network, Network::None);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn linux_sll_netlink_family_4_is_not_llc() {
        let frame = sll_frame(
            linux_sll::ARPHRD_NETLINK,
            linux_sll::protocol::LLC,
            &STP_8021D_1[14..],
        );
        let decoded = decode_packet(LinkType::LINUX_SLL, &frame);

        assert_eq!(decoded.link.ethertype, 4);
        assert_eq!(decoded.link.llc_saps, None);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn linux_sll_can_frame_is_not_decoded() {
        let frame = sll_frame(280, 0x000c, &[0; 16]);
        let decoded = decode_packet(LinkType::LINUX_SLL, &frame);

        assert_eq!(decoded.link.ethertype, 0x000c);
        assert_eq!(decoded.link.arphrd_type, Some(280));
        assert_eq!(decoded.network, Network::None);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn linux_sll_vlan_tag() {
        let frame = sll_frame(1, 0x8100, &VLAN_8021Q_ICMP_5[ethernet::HEADER_LEN..]);
        let decoded = decode_packet(LinkType::LINUX_SLL, &frame);

        assert_eq!(decoded.link.vlan_ids, [123, 0]);
        assert_eq!(
            decoded.transport,
            Transport::Icmp(IcmpInfo {
                icmp_type: 8,
                code: 0,
                id: 1,
                seq: 0
            })
        );
    }

    #[test]
    fn linux_sll2_ipv4_tcp() {
        let decoded = decode_packet(LinkType::LINUX_SLL2, &SLL2_HTTP_1);

        assert_eq!(
            decoded.link,
            LinkInfo {
                src_mac: Some([0xaa, 0x76, 0x30, 0x71, 0xb0, 0xe7]),
                ethertype: 0x0800,
                arphrd_type: Some(1),
                ..LinkInfo::default()
            }
        );
        assert_eq!(ip_info(&decoded).src, v4(192, 168, 1, 253));
        assert_eq!(tcp_info(&decoded).src_port, 56478);
        assert_eq!(tcp_info(&decoded).seq, 2_332_771_219);
    }

    #[test]
    fn linux_sll2_arp_and_rarp() {
        let request = decode_packet(LinkType::LINUX_SLL2, &SLL2_ARP_5);
        let rarp = decode_packet(LinkType::LINUX_SLL2, &SLL2_RARP_6);

        assert_eq!(request.link.ethertype, 0x0806);
        assert!(matches!(
            request.network,
            Network::Arp(ArpInfo { opcode: 1, .. })
        ));
        assert_eq!(rarp.link.ethertype, 0x8035);
        assert!(matches!(
            rarp.network,
            Network::Arp(ArpInfo { opcode: 3, .. })
        ));
    }

    #[test]
    fn linux_sll2_icmpv6_echo() {
        let decoded = decode_packet(LinkType::LINUX_SLL2, &SLL2_ICMPV6_ECHO_3);
        let ip = ip_info(&decoded);

        assert_eq!(decoded.link.arphrd_type, Some(772));
        assert_eq!(decoded.link.ethertype, 0x86dd);
        assert_eq!(ip.src, v6("fe80::8c36:6ff:fe44:acaf"));
        assert_eq!(ip.flow_label, 0x05c2e4);
        assert_eq!(ip.protocol, 58);
        assert_eq!(
            decoded.transport,
            Transport::Icmpv6(IcmpInfo {
                icmp_type: 128,
                code: 0,
                id: 9,
                seq: 1
            })
        );
        assert_eq!(decoded.app_bytes, 56);
    }

    // ---- Loopback and raw IP ----

    #[test]
    fn null_ipv4_little_endian() {
        let decoded = decode_packet(LinkType::NULL, &NULL_AF2_TCP_3);

        assert_eq!(
            decoded.link,
            LinkInfo {
                ethertype: 0x0800,
                ..LinkInfo::default()
            }
        );
        assert_eq!(ip_info(&decoded).src, v4(127, 0, 0, 1));
        assert_eq!(tcp_info(&decoded).src_port, 65389);
        assert_eq!(tcp_info(&decoded).seq, 550_882_107);
    }

    #[test]
    fn null_ipv4_big_endian() {
        let mut frame = NULL_AF2_TCP_3;
        frame[..4].copy_from_slice(&[0, 0, 0, 2]);

        assert_eq!(
            decode_packet(LinkType::NULL, &frame),
            decode_packet(LinkType::NULL, &NULL_AF2_TCP_3)
        );
    }

    #[test]
    fn null_ipv6_darwin_and_freebsd() {
        let darwin = decode_packet(LinkType::NULL, &NULL_AF30_TCP_1);
        let freebsd = decode_packet(LinkType::NULL, &NULL_AF28_ICMPV6_1);

        assert_eq!(darwin.link.ethertype, 0x86dd);
        assert_eq!(ip_info(&darwin).src, v6("::1"));
        assert_eq!(ip_info(&darwin).flow_label, 0x0709f1);
        assert_eq!(tcp_info(&darwin).src_port, 65388);
        assert_eq!(
            freebsd.transport,
            Transport::Icmpv6(IcmpInfo {
                icmp_type: 138,
                code: 0,
                id: 0,
                seq: 0
            })
        );
        assert_eq!(freebsd.app_bytes, 64);
    }

    #[test]
    fn null_unknown_family() {
        let mut frame = NULL_AF2_TCP_3;
        frame[0] = 7;
        let decoded = decode_packet(LinkType::NULL, &frame);

        assert_eq!(decoded, Decoded::EMPTY);
    }

    #[test]
    fn loop_is_network_order_only() {
        let mut frame = NULL_AF30_TCP_1;
        frame[..4].copy_from_slice(&[0, 0, 0, 30]);

        let decoded = decode_packet(LinkType::LOOP, &frame);
        assert_eq!(tcp_info(&decoded).src_port, 65388);

        let little_endian = decode_packet(LinkType::LOOP, &NULL_AF30_TCP_1);
        assert_eq!(little_endian, Decoded::EMPTY);
    }

    #[test]
    fn raw_ipv4_tcp_and_udp() {
        let tcp = decode_packet(LinkType::RAW, &RAW_IPV4_TCP_1);
        let udp = decode_packet(LinkType::RAW, &RAW_IPV4_UDP_14);

        assert_eq!(
            tcp.link,
            LinkInfo {
                ethertype: 0x0800,
                ..LinkInfo::default()
            }
        );
        assert_eq!(ip_info(&tcp).src, v4(10, 215, 173, 1));
        assert_eq!(ip_info(&tcp).dst, v4(54, 75, 230, 133));
        assert_eq!(tcp_info(&tcp).window_scale, Some(9));
        assert_eq!(
            udp.transport,
            Transport::Udp(UdpInfo {
                src_port: 42424,
                dst_port: 20011
            })
        );
        assert_eq!(udp.app_bytes, 135);
    }

    #[test]
    fn raw_ipv6_udp() {
        let decoded = decode_packet(LinkType::RAW, &RAW_IPV6_UDP_1);

        assert_eq!(
            decoded,
            Decoded {
                link: LinkInfo {
                    ethertype: 0x86dd,
                    ..LinkInfo::default()
                },
                network: Network::Ipv6(IpInfo {
                    src: v6("2a02:6bf:8080:165::1:12"),
                    dst: v6("2620:fe::fe"),
                    protocol: 17,
                    ttl: 64,
                    tos: 0,
                    ip_id: 0,
                    flow_label: 0x0fe5e6,
                    fragment: None,
                    payload_len_bytes: 56,
                    options: 0,
                }),
                transport: Transport::Udp(UdpInfo {
                    src_port: 55941,
                    dst_port: 53
                }),
                app_bytes: 48,
                stop: None,
                icmp_quoted: None,
                dns: Some(DnsInfo { id: 63307, is_response: false }),
                ipsec_spi: None,
                ..Decoded::EMPTY
            }
        );
    }

    #[test]
    fn raw_bad_version_and_empty() {
        let mut frame = RAW_IPV4_TCP_1;
        frame[0] = 0x55;

        assert_eq!(
            decode_packet(LinkType::RAW, &frame).stop,
            stop(Layer::Link, DecodeError::InvalidVersion(5))
        );
        assert_eq!(
            decode_packet(LinkType::RAW, &[]).stop,
            stop(
                Layer::Link,
                DecodeError::Truncated {
                    needed_bytes: 1,
                    available_bytes: 0
                }
            )
        );
    }

    #[test]
    fn old_raw_link_type_numbers() {
        let expected = decode_packet(LinkType::RAW, &RAW_IPV4_TCP_1);

        assert_eq!(decode_packet(LinkType(12), &RAW_IPV4_TCP_1), expected);
        assert_eq!(decode_packet(LinkType(14), &RAW_IPV4_TCP_1), expected);
    }

    #[test]
    fn link_type_228_ipv4_only() {
        let decoded = decode_packet(LinkType::IPV4, &IPV4_228_TCP_1);

        assert_eq!(decoded.link.ethertype, 0x0800);
        assert_eq!(ip_info(&decoded).src, v4(172, 24, 133, 205));
        assert_eq!(tcp_info(&decoded).src_port, 43090);
        assert_eq!(tcp_info(&decoded).dst_port, 8000);

        let ipv6 = decode_packet(LinkType::IPV4, &RAW_IPV6_UDP_1);
        assert_eq!(ipv6.stop, stop(Layer::Ipv4, DecodeError::InvalidVersion(6)));
    }

    #[test]
    fn link_type_229_fragments() {
        let first = decode_packet(LinkType::IPV6, &IPV6_229_FRAG_TCP_1);
        let last = decode_packet(LinkType::IPV6, &IPV6_229_FRAG_TCP_3);

        assert_eq!(ip_info(&first).protocol, 6);
        assert_eq!(
            ip_info(&first).fragment,
            Some(Fragment {
                offset_bytes: 0,
                more_fragments: true,
                id: 0xa1bc_6572
            })
        );
        assert_eq!(ip_info(&first).payload_len_bytes, 464);
        let tcp = tcp_info(&first);
        assert_eq!(
            (tcp.src_port, tcp.dst_port, tcp.seq, tcp.ack),
            (12345, 8080, 1, 0)
        );
        assert_eq!((tcp.flags, tcp.window), (tcp_flag::ACK, 8192));
        assert_eq!(first.app_bytes, 444);

        assert_eq!(ip_info(&last).protocol, 6);
        assert_eq!(
            ip_info(&last)
                .fragment
                .map(|fragment| fragment.offset_bytes),
            Some(928)
        );
        assert_eq!(last.transport, Transport::None);
        assert_eq!(last.app_bytes, 0);
        assert_eq!(last.stop, None);

        let ipv4 = decode_packet(LinkType::IPV6, &RAW_IPV4_TCP_1);
        assert_eq!(ipv4.stop, stop(Layer::Ipv6, DecodeError::InvalidVersion(4)));
    }

    #[test]
    fn unsupported_link_type() {
        // LINKTYPE_USER0, which no decoder claims.
        let decoded = decode_packet(LinkType(147), &ARP_WHO_HAS_1);

        assert_eq!(
            decoded,
            Decoded {
                stop: stop(Layer::Link, DecodeError::UnsupportedLinkType(147)),
                ..Decoded::EMPTY
            }
        );
    }

    // ---- IPv6 extension chains ----

    #[test]
    fn ipv6_hop_by_hop_destination_routing_udp() {
        let decoded = ethernet(&IPV6_HBH_DST_RH_VLAN_UDP_1);
        let ip = ip_info(&decoded);

        assert_eq!(decoded.link.vlan_ids, [6, 0]);
        assert_eq!(decoded.link.ethertype, 0x86dd);
        assert_eq!((ip.src, ip.dst), (v6("::1"), v6("::1")));
        assert_eq!(ip.protocol, 17);
        assert_eq!(ip.payload_len_bytes, 8);
        assert_eq!(
            decoded.transport,
            Transport::Udp(UdpInfo {
                src_port: 53,
                dst_port: 80
            })
        );
        assert_eq!(decoded.app_bytes, 0);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv6_hop_by_hop_routing_type_0() {
        let decoded = ethernet(&IPV6_HBH_ROUTING0_DNS_1);

        assert_eq!(ip_info(&decoded).protocol, 17);
        assert_eq!(ip_info(&decoded).payload_len_bytes, 11);
        assert_eq!(
            decoded.transport,
            Transport::Udp(UdpInfo {
                src_port: 53,
                dst_port: 53
            })
        );
        assert_eq!(decoded.app_bytes, 3);
    }

    #[test]
    fn ipv6_destination_options_tcp() {
        let decoded = ethernet(&IPV6_DSTOPT_TCP_1);
        let tcp = tcp_info(&decoded);

        assert_eq!(ip_info(&decoded).src, v6("2001:4f8:4:7:2e0:81ff:fe52:ffff"));
        assert_eq!(ip_info(&decoded).payload_len_bytes, 20);
        assert_eq!(
            (tcp.src_port, tcp.dst_port, tcp.flags, tcp.window),
            (30000, 80, tcp_flag::SYN, 8192)
        );
        assert_eq!(decoded.app_bytes, 0);
    }

    #[test]
    fn ipv6_esp_has_no_transport() {
        let decoded = ethernet(&IPV6_ESP_2);

        assert_eq!(ip_info(&decoded).protocol, 50);
        assert_eq!(ip_info(&decoded).src, v6("3ffe::1"));
        assert_eq!(ip_info(&decoded).payload_len_bytes, 116);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv6_ah_carries_ospf() {
        let decoded = ethernet(&IPV6_AH_OSPF_1);
        let ip = ip_info(&decoded);

        assert_eq!(ip.protocol, 89);
        assert_eq!(ip.tos, 0xe0);
        assert_eq!(ip.ttl, 1);
        assert_eq!(ip.payload_len_bytes, 36);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv6_no_next_header() {
        let decoded = ethernet(&IPV6_NO_NEXT_HEADER_1);

        assert_eq!(ip_info(&decoded).protocol, 59);
        assert_eq!(ip_info(&decoded).payload_len_bytes, 20);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv6_mobility_header() {
        let mut frame = IPV6_NO_NEXT_HEADER_1;
        frame[14 + 6] = 135;
        let decoded = ethernet(&frame);

        assert_eq!(ip_info(&decoded).protocol, 135);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv6_jumbogram_icmpv6_echo() {
        let decoded = ethernet(&IPV6_JUMBO_ICMPV6_1);
        let ip = ip_info(&decoded);

        assert_eq!(ip.src, v6("2200::244:212:3fff:feae:22f7"));
        assert_eq!(ip.ttl, 227);
        assert_eq!(ip.protocol, 58);
        assert_eq!(ip.payload_len_bytes, 65_528);
        assert_eq!(
            decoded.transport,
            Transport::Icmpv6(IcmpInfo {
                icmp_type: 128,
                code: 0,
                id: 0x11e0,
                seq: 51486
            })
        );
        assert_eq!(decoded.app_bytes, 65_520);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv6_nested_fragment_headers() {
        let decoded = ethernet(&IPV6_NESTED_FRAG_6);
        let ip = ip_info(&decoded);

        assert_eq!(ip.protocol, 58);
        assert_eq!(ip.flow_label, 0x24);
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                offset_bytes: 0,
                more_fragments: true,
                id: 0x0002_aaaa
            })
        );
        assert_eq!(
            decoded.transport,
            Transport::Icmpv6(IcmpInfo {
                icmp_type: 128,
                code: 0,
                id: 0xface,
                seq: 47806
            })
        );
        assert_eq!(decoded.app_bytes, 192);
    }

    #[test]
    fn ipv6_later_fragment() {
        let decoded = ethernet(&IPV6_FRAG_ICMPV6_7);

        assert_eq!(ip_info(&decoded).protocol, 58);
        assert_eq!(
            ip_info(&decoded).fragment,
            Some(Fragment {
                offset_bytes: 216,
                more_fragments: false,
                id: 0x0002_aaaa
            })
        );
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(decoded.stop, None);
    }

    #[test]
    fn ipv6_chain_past_zero_payload_length() {
        let decoded = ethernet(&BAD_IPV6_FRAG_LEN_1);

        assert_eq!(ip_info(&decoded).protocol, 44);
        assert_eq!(ip_info(&decoded).payload_len_bytes, 0);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(
            decoded.stop,
            stop(Layer::Ipv6Extension, DecodeError::InvalidLength(0))
        );
    }

    #[test]
    fn ipv6_malformed_extension_length() {
        let mut frame = IPV6_HBH_DST_RH_VLAN_UDP_1;
        // The routing header's length byte: 18 link bytes, 40 fixed, 16 extension.
        frame[18 + 40 + 16 + 1] = 2;
        let decoded = ethernet(&frame);
        let ip = ip_info(&decoded);

        assert_eq!(ip.src, v6("::1"));
        assert_eq!(ip.protocol, 43);
        assert_eq!(ip.payload_len_bytes, 16);
        assert_eq!(decoded.transport, Transport::None);
        assert_eq!(decoded.app_bytes, 0);
        assert_eq!(
            decoded.stop,
            stop(Layer::Ipv6Extension, DecodeError::InvalidLength(32))
        );
    }

    #[test]
    fn ipv6_header_cut_at_39_bytes() {
        let decoded = ethernet(&BAD_IPV6_LEN_1);

        assert_eq!(decoded.link.ethertype, 0x86dd);
        assert_eq!(decoded.network, Network::None);
        assert_eq!(
            decoded.stop,
            stop(
                Layer::Ipv6,
                DecodeError::Truncated {
                    needed_bytes: 40,
                    available_bytes: 39
                }
            )
        );
    }

    #[test]
    fn ipv6_ethertype_with_version_0() {
        let decoded = ethernet(&BAD_IPV6_VERSION_2);

        assert_eq!(
            decoded.link.src_mac,
            Some([0x24, 0x84, 0x3f, 0xeb, 0x3c, 0xee])
        );
        assert_eq!(decoded.network, Network::None);
        assert_eq!(
            decoded.stop,
            stop(Layer::Ipv6, DecodeError::InvalidVersion(0))
        );
    }

    // ---- Every truncation of real packets ----

    /// Source and destination of an IP layer, sender and target of ARP.
    fn endpoints(network: &Network) -> Option<(IpAddr, IpAddr)> {
        match network {
            Network::Ipv4(ip) | Network::Ipv6(ip) => Some((ip.src, ip.dst)),
            Network::Arp(arp) => Some((IpAddr::from(arp.sender_ip), IpAddr::from(arp.target_ip))),
            Network::None | Network::Infiniband(_) => None,
        }
    }

    fn is_network_layer(layer: Layer) -> bool {
        matches!(layer, Layer::Arp | Layer::Ipv4 | Layer::Ipv6)
    }

    /// Decodes `frame` cut to every length in `lens` and checks the stop and
    /// the layers kept. `headers` lists the frame's headers in order with
    /// their lengths in bytes, from the first byte of the frame.
    fn assert_every_cut(
        link_type: LinkType,
        frame: &[u8],
        headers: &[(Layer, usize)],
        lens: Range<usize>,
    ) {
        let full = decode_packet(link_type, frame);
        assert_eq!(full.stop, None, "the whole frame decodes");

        for len in lens {
            let decoded = decode_packet(link_type, &frame[..len]);

            let mut start = 0;
            let mut cut = None;
            for (index, &(layer, header_len)) in headers.iter().enumerate() {
                if len < start + header_len {
                    cut = Some((index, layer, start));
                    break;
                }
                start += header_len;
            }
            let Some((index, layer, start)) = cut else {
                // The DNS header is payload, not a header of the walk: a cut
                // inside it only drops `dns`.
                assert_eq!(Decoded { dns: full.dns, ..decoded }, full, "cut at {len}, after every header");
                continue;
            };

            let Some(DecodeStop {
                layer: stop_layer,
                error,
            }) = decoded.stop
            else {
                panic!("cut at {len}: no stop, expected one at {layer:?}");
            };
            assert_eq!(stop_layer, layer, "cut at {len}");
            let DecodeError::Truncated {
                needed_bytes,
                available_bytes,
            } = error
            else {
                panic!("cut at {len}: expected Truncated, got {error:?}");
            };
            assert_eq!(available_bytes, len - start, "cut at {len}");
            assert!(needed_bytes > available_bytes, "cut at {len}");

            let before = &headers[..index];
            if !before.is_empty() {
                assert_eq!(decoded.link.src_mac, full.link.src_mac, "cut at {len}");
                assert_eq!(decoded.link.dst_mac, full.link.dst_mac, "cut at {len}");
                assert_eq!(
                    decoded.link.arphrd_type, full.link.arphrd_type,
                    "cut at {len}"
                );
            }
            let tags_before = before
                .iter()
                .filter(|(layer, _)| *layer == Layer::Vlan)
                .count();
            assert_eq!(
                usize::from(decoded.link.vlan_count),
                tags_before,
                "cut at {len}"
            );
            if before.iter().any(|(layer, _)| is_network_layer(*layer)) {
                assert_eq!(decoded.link, full.link, "cut at {len}");
                assert_eq!(
                    endpoints(&decoded.network),
                    endpoints(&full.network),
                    "cut at {len}"
                );
            } else if !is_network_layer(layer) {
                assert_eq!(decoded.network, Network::None, "cut at {len}");
            }
            if layer == Layer::Tcp && available_bytes >= 20 {
                let (cut_tcp, full_tcp) = (tcp_info(&decoded), tcp_info(&full));
                assert_eq!(
                    (cut_tcp.src_port, cut_tcp.dst_port),
                    (full_tcp.src_port, full_tcp.dst_port)
                );
                assert_eq!(decoded.app_bytes, full.app_bytes, "cut at {len}");
            } else {
                assert_eq!(decoded.transport, Transport::None, "cut at {len}");
                assert_eq!(decoded.app_bytes, 0, "cut at {len}");
            }
        }
    }

    #[test]
    fn every_cut_of_ethernet_arp() {
        let headers = [(Layer::Link, 14), (Layer::Arp, 28)];
        assert_every_cut(
            LinkType::ETHERNET,
            &ARP_WHO_HAS_2,
            &headers,
            0..ARP_WHO_HAS_2.len(),
        );
    }

    #[test]
    fn every_cut_of_qinq_arp() {
        let headers = [
            (Layer::Link, 14),
            (Layer::Vlan, 4),
            (Layer::Vlan, 4),
            (Layer::Arp, 28),
        ];
        assert_every_cut(
            LinkType::ETHERNET,
            &QINQ_88A8_ARP_1,
            &headers,
            0..QINQ_88A8_ARP_1.len(),
        );
    }

    #[test]
    fn every_cut_of_ipv4_tcp_with_options() {
        let headers = [(Layer::Link, 14), (Layer::Ipv4, 20), (Layer::Tcp, 40)];
        assert_every_cut(
            LinkType::ETHERNET,
            &TCP_SYN_OPTIONS_1,
            &headers,
            0..TCP_SYN_OPTIONS_1.len(),
        );
    }

    #[test]
    fn every_cut_of_ipv4_options() {
        let headers = [(Layer::Link, 14), (Layer::Ipv4, 24)];
        assert_every_cut(
            LinkType::ETHERNET,
            &IGMP_ROUTER_ALERT_2,
            &headers,
            0..IGMP_ROUTER_ALERT_2.len(),
        );
    }

    #[test]
    fn every_cut_of_ipv4_udp() {
        let headers = [(Layer::Link, 14), (Layer::Ipv4, 20), (Layer::Udp, 8)];
        assert_every_cut(LinkType::ETHERNET, &UDP_DNS_4, &headers, 0..UDP_DNS_4.len());
    }

    #[test]
    fn every_cut_of_ipv4_icmp() {
        let headers = [
            (Layer::Link, 14),
            (Layer::Vlan, 4),
            (Layer::Ipv4, 20),
            (Layer::Icmp, 8),
        ];
        assert_every_cut(
            LinkType::ETHERNET,
            &VLAN_8021Q_ICMP_5,
            &headers,
            0..VLAN_8021Q_ICMP_5.len(),
        );
    }

    #[test]
    fn every_cut_of_llc_snap_tcp() {
        let headers = [
            (Layer::Link, 14),
            (Layer::Link, 3),
            (Layer::Link, 5),
            (Layer::Ipv4, 20),
            (Layer::Tcp, 20),
        ];
        assert_every_cut(
            LinkType::ETHERNET,
            &LLC_SNAP_TCP_1,
            &headers,
            0..LLC_SNAP_TCP_1.len(),
        );
    }

    #[test]
    fn every_cut_of_three_tags() {
        let headers = [
            (Layer::Link, 14),
            (Layer::Vlan, 4),
            (Layer::Vlan, 4),
            (Layer::Vlan, 4),
            (Layer::Ipv4, 20),
            (Layer::Tcp, 44),
        ];
        assert_every_cut(
            LinkType::ETHERNET,
            &QINQINQ_TCP_1,
            &headers,
            0..QINQINQ_TCP_1.len(),
        );
    }

    #[test]
    fn every_cut_of_linux_sll_tcp() {
        let headers = [(Layer::Link, 16), (Layer::Ipv4, 20), (Layer::Tcp, 52)];
        assert_every_cut(
            LinkType::LINUX_SLL,
            &SLL_HALEN6_MPTCP_2,
            &headers,
            0..SLL_HALEN6_MPTCP_2.len(),
        );
    }

    #[test]
    fn every_cut_of_linux_sll2_icmpv6() {
        let headers = [(Layer::Link, 20), (Layer::Ipv6, 40), (Layer::Icmpv6, 8)];
        assert_every_cut(
            LinkType::LINUX_SLL2,
            &SLL2_ICMPV6_ECHO_3,
            &headers,
            0..SLL2_ICMPV6_ECHO_3.len(),
        );
    }

    #[test]
    fn every_cut_of_linux_sll2_arp() {
        let headers = [(Layer::Link, 20), (Layer::Arp, 28)];
        assert_every_cut(
            LinkType::LINUX_SLL2,
            &SLL2_ARP_5,
            &headers,
            0..SLL2_ARP_5.len(),
        );
    }

    #[test]
    fn every_cut_of_null_ipv6_tcp() {
        let headers = [(Layer::Link, 4), (Layer::Ipv6, 40), (Layer::Tcp, 44)];
        assert_every_cut(
            LinkType::NULL,
            &NULL_AF30_TCP_1,
            &headers,
            0..NULL_AF30_TCP_1.len(),
        );
    }

    #[test]
    fn every_cut_of_raw_ipv4_udp() {
        let headers = [(Layer::Ipv4, 20), (Layer::Udp, 8)];
        assert_every_cut(
            LinkType::RAW,
            &RAW_IPV4_UDP_14,
            &headers,
            1..RAW_IPV4_UDP_14.len(),
        );
    }

    #[test]
    fn every_cut_of_ipv6_extension_chain() {
        let headers = [
            (Layer::Link, 14),
            (Layer::Vlan, 4),
            (Layer::Ipv6, 40),
            (Layer::Ipv6Extension, 8),
            (Layer::Ipv6Extension, 8),
            (Layer::Ipv6Extension, 8),
            (Layer::Udp, 8),
        ];
        let frame = &IPV6_HBH_DST_RH_VLAN_UDP_1;
        assert_every_cut(LinkType::ETHERNET, frame, &headers, 0..frame.len());
    }

    #[test]
    fn every_cut_of_ipv6_routing_type_0() {
        let headers = [
            (Layer::Link, 14),
            (Layer::Ipv6, 40),
            (Layer::Ipv6Extension, 8),
            (Layer::Ipv6Extension, 40),
            (Layer::Udp, 8),
        ];
        let frame = &IPV6_HBH_ROUTING0_DNS_1;
        assert_every_cut(LinkType::ETHERNET, frame, &headers, 0..frame.len());
    }

    #[test]
    fn every_cut_of_ipv6_first_fragment() {
        let headers = [
            (Layer::Ipv6, 40),
            (Layer::Ipv6Extension, 8),
            (Layer::Tcp, 20),
        ];
        let frame = &IPV6_229_FRAG_TCP_1;
        assert_every_cut(LinkType::IPV6, frame, &headers, 0..frame.len());
    }

    #[test]
    fn every_cut_of_ipv6_ah() {
        let headers = [
            (Layer::Link, 14),
            (Layer::Ipv6, 40),
            (Layer::Ipv6Extension, 24),
        ];
        assert_every_cut(
            LinkType::ETHERNET,
            &IPV6_AH_OSPF_1,
            &headers,
            0..IPV6_AH_OSPF_1.len(),
        );
    }

    #[test]
    fn every_cut_of_ipv6_jumbogram() {
        let headers = [
            (Layer::Link, 14),
            (Layer::Ipv6, 40),
            (Layer::Ipv6Extension, 8),
            (Layer::Icmpv6, 8),
        ];
        let frame = &IPV6_JUMBO_ICMPV6_1;
        assert_every_cut(LinkType::ETHERNET, frame, &headers, 0..frame.len());
    }

    // ---- Garbage input ----

    /// A xorshift64 generator: a fixed, dependency-free stream of bytes.
    struct XorShift(u64);

    impl XorShift {
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next_u64() % bound as u64) as usize
        }

        fn fill(&mut self, buffer: &mut [u8]) {
            for byte in buffer {
                *byte = self.next_u64() as u8;
            }
        }
    }

    /// Checks facts that hold for any summary, however malformed the input.
    fn assert_consistent(decoded: &Decoded) {
        assert!(usize::from(decoded.link.vlan_count) <= vlan::MAX_TAGS);
        if decoded.transport != Transport::None {
            assert!(matches!(
                decoded.network,
                Network::Ipv4(_) | Network::Ipv6(_) | Network::Infiniband(_)
            ));
        } else {
            assert_eq!(decoded.app_bytes, 0);
        }
    }

    #[test]
    fn random_bytes_on_every_link_type() {
        let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut buffer = [0u8; 256];

        for link_type in 0..=300u16 {
            for _ in 0..64 {
                let len = random.below(buffer.len() + 1);
                random.fill(&mut buffer[..len]);
                assert_consistent(&decode_packet(LinkType(link_type), &buffer[..len]));
            }
        }
    }

    #[test]
    fn mutated_real_packets() {
        let frames: [(LinkType, &[u8]); 16] = [
            (LinkType::ETHERNET, &TCP_SYN_OPTIONS_1),
            (LinkType::ETHERNET, &QINQ_88A8_ARP_1),
            (LinkType::ETHERNET, &QINQINQ_TCP_1),
            (LinkType::ETHERNET, &LLC_SNAP_TCP_1),
            (LinkType::ETHERNET, &IGMP_ROUTER_ALERT_2),
            (LinkType::ETHERNET, &VLAN_8021Q_ICMP_5),
            (LinkType::ETHERNET, &UDP_DNS_4),
            (LinkType::ETHERNET, &IPV6_HBH_DST_RH_VLAN_UDP_1),
            (LinkType::ETHERNET, &IPV6_HBH_ROUTING0_DNS_1),
            (LinkType::ETHERNET, &IPV6_NESTED_FRAG_6),
            (LinkType::ETHERNET, &IPV6_JUMBO_ICMPV6_1),
            (LinkType::ETHERNET, &IPV6_AH_OSPF_1),
            (LinkType::LINUX_SLL, &SLL_HALEN6_MPTCP_2),
            (LinkType::LINUX_SLL2, &SLL2_ARP_5),
            (LinkType::NULL, &NULL_AF30_TCP_1),
            (LinkType::IPV6, &IPV6_229_FRAG_TCP_1),
        ];
        let mut random = XorShift(0x2545_f491_4f6c_dd1d);

        for (link_type, frame) in frames {
            for _ in 0..2000 {
                let mut mutated = frame.to_vec();
                for _ in 0..1 + random.below(4) {
                    let index = random.below(mutated.len());
                    mutated[index] = random.next_u64() as u8;
                }
                let len = random.below(mutated.len() + 1);
                assert_consistent(&decode_packet(link_type, &mutated));
                assert_consistent(&decode_packet(link_type, &mutated[..len]));
            }
        }
    }

    #[test]
    fn every_fixture_prefix_on_every_link_type() {
        let frames: [&[u8]; 6] = [
            &ARP_WHO_HAS_2,
            &STP_8021D_1,
            &SLL2_HTTP_1,
            &NULL_AF28_ICMPV6_1,
            &RAW_IPV6_UDP_1,
            &IPV6_FRAG_ICMPV6_7,
        ];
        for link_type in [0, 1, 12, 14, 101, 108, 113, 228, 229, 276] {
            for frame in frames {
                for len in 0..=frame.len() {
                    assert_consistent(&decode_packet(LinkType(link_type), &frame[..len]));
                }
            }
        }
    }
}
