//! The steps of the walk for link types other than Ethernet and raw IP, for
//! MPLS and PPPoE, and for tunnels.
//!
//! A tunnel step decodes the tunnel header and walks the packet inside it
//! in the same [`Decoded`]. When the inner packet has a network layer, the
//! summary keeps the inner network and transport layers, the outermost link
//! layer and a [`TunnelSummary`]. An inner packet may have none, because its
//! header is truncated or it is not IP or ARP. Then the summary is put back
//! as it was before the tunnel, so the packet counts as an outer packet, and
//! any stop still names the inner layer.

use super::bytes::check_len;
use super::capwap::{self, CapwapHeader};
use super::ethernet::ethertype;
use super::ayiya::{self, AyiyaHeader};
use super::erf::{ErfPayload, ErfRecord};
use super::geneve::GeneveHeader;
use super::gre::{ErspanIIHeader, ErspanIIIHeader, GreHeader};
use super::gtp::{self, GtpUHeader};
use super::gue::{self, GuePayload};
use super::ieee80211::{self, DataFrameHeader};
use super::ipoib::IpoibHeader;
use super::l2tp::L2tpHeader;
use super::l2tpv3::{self, L2tpv3Data, L2tpv3Payload};
use super::mpls::{self, MplsEntry, MplsPayload};
use super::nsh::NshHeader;
use super::pbb::ServiceInstanceTag;
use super::ppp::{self, CiscoHdlcHeader, PppHeader};
use super::pppoe::PppoeHeader;
use super::vxlan::{next_protocol, VxlanHeader};
use super::walk::{at, walk_ethernet, walk_ethertype, walk_ipv4, walk_ipv6, walk_link, walk_llc, Step};
use super::{
    encapsulation, juniper, nflog, ppi, teredo, DecodeError, Decoded, Layer, Network, TunnelKind, TunnelSummary,
};
use crate::packet::LinkType;

/// Maximum nested encapsulations the walk enters: tunnels, and MPLS
/// pseudowires and 802.1ah frames that carry an Ethernet frame. One more
/// stops the walk with `TooDeep` at [`Layer::Tunnel`], and the summary keeps
/// the innermost packet decoded so far. The limit ends tunnel loops (a
/// packet built to contain itself) on a fixed, small stack.
pub const MAX_ENCAPSULATION_DEPTH: usize = 8;

/// UDP ports of the tunnels the walk looks into.
mod port {
    pub const L2TP: u16 = 1701;
    pub const GTP_U: u16 = 2152;
    pub const TEREDO: u16 = 3544;
    pub const GRE_IN_UDP: u16 = 4754;
    pub const VXLAN: u16 = 4789;
    pub const VXLAN_GPE: u16 = 4790;
    pub const AYIYA: u16 = 5072;
    pub const CAPWAP_DATA: u16 = 5247;
    pub const GUE: u16 = 6080;
    pub const GENEVE: u16 = 6081;
    pub const MPLS_IN_UDP: u16 = 6635;

    pub const ALL: [u16; 11] =
        [L2TP, GTP_U, TEREDO, GRE_IN_UDP, VXLAN, VXLAN_GPE, AYIYA, CAPWAP_DATA, GUE, GENEVE, MPLS_IN_UDP];
}

/// Returns true when the decoder looks into UDP datagrams to or from `port`
/// for another header (a tunnel, or RoCEv2's InfiniBand transport), so that
/// the packet's innermost addresses may differ from its outer ones.
#[inline]
pub fn udp_port_has_decoder(port: u16) -> bool {
    // A match rather than a search of `port::ALL`, because every packet of a
    // shared file is tested twice. A test checks that the two agree.
    matches!(
        port,
        port::L2TP
            | port::GTP_U
            | port::TEREDO
            | port::GRE_IN_UDP
            | port::VXLAN
            | port::VXLAN_GPE
            | port::AYIYA
            | port::CAPWAP_DATA
            | port::GUE
            | port::GENEVE
            | port::MPLS_IN_UDP
            | super::ib::ROCE_V2_PORT
    )
}

/// IP protocol numbers of IPv4 and IPv6 carried directly in IP.
const PROTOCOL_IPV4_IN_IP: u8 = 4;
const PROTOCOL_IPV6_IN_IP: u8 = 41;
const PROTOCOL_GRE: u8 = 47;
const PROTOCOL_L2TP: u8 = 115;

/// The first header inside a tunnel.
#[derive(Clone, Copy, Debug)]
enum Inner {
    /// An Ethernet frame.
    Ethernet,
    /// IPv4 or IPv6, chosen by the version nibble.
    IpByVersion,
    /// The network layer an EtherType names.
    Ethertype(u16),
    /// A PPP frame.
    Ppp,
    /// An 802.11 frame from CAPWAP, frame control bytes maybe swapped.
    CapwapIeee80211,
    /// An MPLS label stack.
    Mpls,
}

/// Decodes the link types this module adds; `None` for the others.
pub(super) fn walk_other_link(link_type: LinkType, data: &[u8], decoded: &mut Decoded) -> Option<Step> {
    let step = match link_type {
        LinkType::PPP => walk_ppp(data, true, decoded),
        LinkType::PPP_HDLC => walk_ppp_hdlc(data, decoded),
        LinkType::C_HDLC => walk_cisco_hdlc(data, decoded),
        LinkType::IEEE802_11 => walk_ieee80211(data, decoded),
        LinkType::IEEE802_11_RADIOTAP => match ieee80211::skip_radiotap(data) {
            Ok(frame) => walk_ieee80211(frame, decoded),
            Err(error) => Err(at(Layer::Link)(error)),
        },
        LinkType::JUNIPER_ETHER => walk_juniper(data, decoded),
        LinkType::NFLOG => walk_nflog(data, decoded),
        LinkType::IPOIB => walk_ipoib(data, decoded),
        LinkType::INFINIBAND => super::ib::walk_native(data, decoded),
        LinkType::ERF => walk_erf(data, decoded),
        LinkType::PPI => match ppi::payload(data) {
            Ok((link_type, packet)) => walk_link(link_type, packet, decoded),
            Err(error) => Err(at(Layer::Link)(error)),
        },
        _ => return None,
    };
    Some(step)
}

/// Follows a PPP header; `is_link_layer` is true when PPP is the capture's
/// link type, whose network EtherType the summary then records.
fn walk_ppp(data: &[u8], is_link_layer: bool, decoded: &mut Decoded) -> Step {
    let header = PppHeader::new(data).map_err(at(Layer::Ppp))?;
    decoded.encapsulation |= encapsulation::PPP;
    let Some(value) = ppp::ethertype_of(header.protocol()) else {
        return Ok(());
    };
    if is_link_layer {
        decoded.link.ethertype = value;
    }
    walk_network(value, header.payload(), decoded)
}

/// Follows an EtherType without recording it in the link facts, for
/// headers inside PPP and MPLS.
fn walk_network(value: u16, payload: &[u8], decoded: &mut Decoded) -> Step {
    match value {
        ethertype::IPV4 => walk_ipv4(payload, decoded),
        ethertype::IPV6 => walk_ipv6(payload, decoded),
        ethertype::MPLS_UNICAST | ethertype::MPLS_MULTICAST => walk_mpls(payload, decoded),
        _ => Ok(()),
    }
}

/// `LINKTYPE_PPP_HDLC` carries PPP after `FF 03`, or Cisco HDLC, whose
/// address byte is 0x0F or 0x8F.
fn walk_ppp_hdlc(data: &[u8], decoded: &mut Decoded) -> Step {
    decoded.encapsulation |= encapsulation::HDLC;
    match data.first() {
        Some(0x0f | 0x8f) => walk_cisco_hdlc(data, decoded),
        _ => walk_ppp(data, true, decoded),
    }
}

fn walk_cisco_hdlc(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = CiscoHdlcHeader::new(data).map_err(at(Layer::Link))?;
    decoded.encapsulation |= encapsulation::CISCO_HDLC;
    walk_ethertype(header.ethertype(), header.payload(), decoded)
}

fn walk_ieee80211(data: &[u8], decoded: &mut Decoded) -> Step {
    let Some(header) = DataFrameHeader::new(data).map_err(at(Layer::Link))? else {
        return Ok(());
    };
    walk_ieee80211_body(header, decoded)
}

/// CAPWAP carries 802.11 frames whose frame control bytes may be swapped:
/// a frame that is no data frame as sent is read again swapped.
fn walk_capwap_ieee80211(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = match DataFrameHeader::new(data).map_err(at(Layer::Link))? {
        Some(header) => header,
        None => match DataFrameHeader::new_swapped(data).map_err(at(Layer::Link))? {
            Some(header) => header,
            None => return Ok(()),
        },
    };
    walk_ieee80211_body(header, decoded)
}

fn walk_ieee80211_body(header: DataFrameHeader<'_>, decoded: &mut Decoded) -> Step {
    decoded.link.src_mac = Some(header.src_mac());
    decoded.link.dst_mac = Some(header.dst_mac());
    decoded.encapsulation |= encapsulation::IEEE80211;
    walk_llc(header.payload(), decoded)
}

fn walk_juniper(data: &[u8], decoded: &mut Decoded) -> Step {
    match juniper::ethernet_payload(data).map_err(at(Layer::Link))? {
        Some(frame) => {
            decoded.encapsulation |= encapsulation::JUNIPER;
            walk_ethernet(frame, decoded)
        }
        None => Ok(()),
    }
}

fn walk_nflog(data: &[u8], decoded: &mut Decoded) -> Step {
    let (family, payload) = nflog::payload(data).map_err(at(Layer::Link))?;
    match (family, payload) {
        (nflog::AF_INET, Some(packet)) => walk_ethertype(ethertype::IPV4, packet, decoded),
        (nflog::AF_INET6, Some(packet)) => walk_ethertype(ethertype::IPV6, packet, decoded),
        _ => Ok(()),
    }
}

/// Reads an ERF record header and walks the frame its record type carries.
/// A record without a packet (padding, metadata) decodes to nothing, and a
/// type nauditd does not decode counts as an unsupported link type.
fn walk_erf(data: &[u8], decoded: &mut Decoded) -> Step {
    let record = ErfRecord::new(data).map_err(at(Layer::Link))?;
    match record.payload().map_err(at(Layer::Link))? {
        ErfPayload::Frame { link_type, frame, .. } => walk_link(link_type, frame, decoded),
        ErfPayload::NoPacket => Ok(()),
        ErfPayload::Unsupported(_) => Err(at(Layer::Link)(DecodeError::UnsupportedLinkType(LinkType::ERF.0))),
    }
}

fn walk_ipoib(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = IpoibHeader::new(data).map_err(at(Layer::Link))?;
    walk_ethertype(header.ethertype(), header.payload(), decoded)
}

/// Decodes the EtherTypes this module adds; `None` for the others.
pub(super) fn walk_other_ethertype(value: u16, payload: &[u8], decoded: &mut Decoded) -> Option<Step> {
    let step = match value {
        ethertype::MPLS_UNICAST | ethertype::MPLS_MULTICAST => walk_mpls(payload, decoded),
        ethertype::PPPOE_SESSION => walk_pppoe(payload, true, decoded),
        ethertype::PPPOE_DISCOVERY => walk_pppoe(payload, false, decoded),
        ethertype::PBB => walk_pbb(payload, decoded),
        super::ib::ETHERTYPE_ROCE => super::ib::walk_roce_v1(payload, decoded),
        _ => return None,
    };
    Some(step)
}

/// Skips an MPLS label stack and follows what its first nibble announces.
fn walk_mpls(data: &[u8], decoded: &mut Decoded) -> Step {
    decoded.encapsulation |= encapsulation::MPLS;
    let mut rest = data;
    loop {
        let count = usize::from(decoded.link.mpls_count);
        if count == mpls::MAX_STACK_ENTRIES {
            return Err(at(Layer::Mpls)(DecodeError::TooDeep(mpls::MAX_STACK_ENTRIES)));
        }
        let entry = MplsEntry::new(rest).map_err(at(Layer::Mpls))?;
        if let Some(slot) = decoded.link.mpls_labels.get_mut(count) {
            *slot = entry.label();
        }
        decoded.link.mpls_count += 1;
        rest = entry.payload();
        if entry.is_bottom_of_stack() {
            break;
        }
    }

    // The payload kind is read from the first byte after the stack, which must be captured.
    check_len(rest, 1).map_err(at(Layer::Mpls))?;
    match mpls::payload_kind(rest) {
        MplsPayload::Ipv4 => walk_ipv4(rest, decoded),
        MplsPayload::Ipv6 => walk_ipv6(rest, decoded),
        MplsPayload::ControlWordEthernet => {
            check_len(rest, mpls::ENTRY_LEN).map_err(at(Layer::Mpls))?;
            walk_nested_ethernet(&rest[mpls::ENTRY_LEN..], decoded)
        }
        MplsPayload::Unknown => Ok(()),
    }
}

/// Reads a PPPoE header; a session frame's PPP payload is followed, a
/// discovery frame stays a layer-2 flow.
fn walk_pppoe(data: &[u8], is_session: bool, decoded: &mut Decoded) -> Step {
    let header = PppoeHeader::new(data).map_err(at(Layer::Ppp))?;
    decoded.link.pppoe_session = Some(header.session_id());
    if !is_session {
        return Ok(());
    }
    walk_ppp(header.payload(), false, decoded)
}

fn walk_pbb(data: &[u8], decoded: &mut Decoded) -> Step {
    let tag = ServiceInstanceTag::new(data).map_err(at(Layer::Link))?;
    walk_nested_ethernet(tag.payload(), decoded)
}

/// Counts one level of nesting, or stops with `TooDeep` past the limit.
fn enter_nested(decoded: &mut Decoded) -> Step {
    if usize::from(decoded.depth) >= MAX_ENCAPSULATION_DEPTH {
        return Err(at(Layer::Tunnel)(DecodeError::TooDeep(MAX_ENCAPSULATION_DEPTH)));
    }
    decoded.depth += 1;
    Ok(())
}

/// Walks an Ethernet frame carried inside a layer-2 encapsulation (an MPLS
/// pseudowire, 802.1ah). The outer link facts are kept when the inner frame
/// has a network layer, as for tunnels.
fn walk_nested_ethernet(frame: &[u8], decoded: &mut Decoded) -> Step {
    enter_nested(decoded)?;
    let outer_link = decoded.link;
    let result = walk_ethernet(frame, decoded);
    if decoded.network != Network::None {
        decoded.link = outer_link;
    }
    result
}

/// Follows the tunnels IP carries directly: IP in IP and GRE. Returns
/// `None` for other protocols.
pub(super) fn walk_ip_tunnel(protocol: u8, is_ipv6: bool, payload: &[u8], decoded: &mut Decoded) -> Option<Step> {
    let outer_bit = if is_ipv6 { encapsulation::IPV6_OUTER } else { encapsulation::IP_IN_IP };
    let step = match protocol {
        PROTOCOL_IPV4_IN_IP => {
            enter_tunnel(TunnelKind::IpInIp, 0, outer_bit, Inner::Ethertype(ethertype::IPV4), payload, decoded)
        }
        PROTOCOL_IPV6_IN_IP => {
            enter_tunnel(TunnelKind::IpInIp, 0, outer_bit, Inner::Ethertype(ethertype::IPV6), payload, decoded)
        }
        PROTOCOL_GRE => walk_gre(payload, TunnelKind::Gre, decoded),
        PROTOCOL_L2TP => match l2tpv3::over_ip(payload) {
            Ok(Some(data)) => walk_l2tpv3(data, decoded),
            Ok(None) => Ok(()),
            Err(error) => Err(at(Layer::Tunnel)(error)),
        },
        _ => return None,
    };
    Some(step)
}

/// Decodes a GRE header and the packet it carries; `kind` is the tunnel
/// kind of plain GRE (GRE or GRE in UDP).
fn walk_gre(data: &[u8], kind: TunnelKind, decoded: &mut Decoded) -> Step {
    let gre = GreHeader::new(data).map_err(at(Layer::Tunnel))?;
    if gre.has_routing() {
        // NOTE: source routes of RFC 1701 are not followed; such packets
        // stay outer packets.
        return Ok(());
    }
    let (kind, id) = match (gre.version(), gre.key()) {
        (1, key) => (TunnelKind::Pptp, key.unwrap_or(0) & 0xffff),
        (_, key) => (kind, key.unwrap_or(0)),
    };
    let bits = encapsulation::GRE;

    match gre.protocol() {
        ethertype::ERSPAN if gre.has_sequence() => {
            let erspan = ErspanIIHeader::new(gre.payload()).map_err(at(Layer::Tunnel))?;
            let session = u32::from(erspan.session_id());
            let bits = bits | encapsulation::ERSPAN_II;
            enter_tunnel(TunnelKind::ErspanII, session, bits, Inner::Ethernet, erspan.payload(), decoded)
        }
        ethertype::ERSPAN => enter_tunnel(TunnelKind::ErspanI, 0, bits, Inner::Ethernet, gre.payload(), decoded),
        ethertype::ERSPAN_III => {
            let erspan = ErspanIIIHeader::new(gre.payload()).map_err(at(Layer::Tunnel))?;
            let inner = if erspan.frame_type() == 0 { Inner::Ethernet } else { Inner::IpByVersion };
            let session = u32::from(erspan.session_id());
            enter_tunnel(TunnelKind::ErspanIII, session, bits, inner, erspan.payload(), decoded)
        }
        ethertype::TRANSPARENT_ETHERNET => enter_tunnel(kind, id, bits, Inner::Ethernet, gre.payload(), decoded),
        ethertype::PPP => enter_tunnel(kind, id, bits, Inner::Ppp, gre.payload(), decoded),
        value @ (ethertype::IPV4 | ethertype::IPV6 | ethertype::MPLS_UNICAST | ethertype::MPLS_MULTICAST) => {
            enter_tunnel(kind, id, bits, Inner::Ethertype(value), gre.payload(), decoded)
        }
        _ => Ok(()),
    }
}

/// Follows a UDP tunnel when either port is a tunnel's port, the
/// destination port first. Returns `None` when neither is.
pub(super) fn walk_udp_tunnel(src_port: u16, dst_port: u16, payload: &[u8], decoded: &mut Decoded) -> Option<Step> {
    let tunnel_port = [dst_port, src_port].into_iter().find(|port| port::ALL.contains(port))?;
    let bits = 0;
    let step = match tunnel_port {
        port::VXLAN => walk_vxlan(payload, false, decoded),
        port::VXLAN_GPE => walk_vxlan(payload, true, decoded),
        port::GENEVE => walk_geneve(payload, decoded),
        port::GTP_U => walk_gtp_u(payload, decoded),
        port::TEREDO => match teredo::ipv6_payload(payload) {
            Ok(Some(packet)) => enter_tunnel(
                TunnelKind::Teredo,
                0,
                encapsulation::TEREDO,
                Inner::Ethertype(ethertype::IPV6),
                packet,
                decoded,
            ),
            Ok(None) => Ok(()),
            Err(error) => Err(at(Layer::Tunnel)(error)),
        },
        port::GRE_IN_UDP => walk_gre(payload, TunnelKind::GreInUdp, decoded),
        port::MPLS_IN_UDP => enter_tunnel(TunnelKind::MplsInUdp, 0, bits, Inner::Mpls, payload, decoded),
        port::L2TP => walk_l2tp(payload, decoded),
        port::CAPWAP_DATA => walk_capwap(payload, decoded),
        port::GUE => walk_gue(payload, decoded),
        port::AYIYA => walk_ayiya(payload, decoded),
        _ => Ok(()),
    };
    Some(step)
}

fn walk_vxlan(data: &[u8], is_gpe: bool, decoded: &mut Decoded) -> Step {
    let header = VxlanHeader::new(data).map_err(at(Layer::Tunnel))?;
    let (kind, vni) = if is_gpe { (TunnelKind::VxlanGpe, header.vni()) } else { (TunnelKind::Vxlan, header.vni()) };
    let next = if is_gpe { header.gpe_next_protocol() } else { None };
    let (inner, payload) = match next {
        None | Some(next_protocol::ETHERNET) => (Inner::Ethernet, header.payload()),
        Some(next_protocol::IPV4) => (Inner::Ethertype(ethertype::IPV4), header.payload()),
        Some(next_protocol::IPV6) => (Inner::Ethertype(ethertype::IPV6), header.payload()),
        Some(next_protocol::MPLS) => (Inner::Mpls, header.payload()),
        Some(next_protocol::NSH) => {
            let nsh = NshHeader::new(header.payload()).map_err(at(Layer::Tunnel))?;
            let inner = match nsh.next_protocol() {
                next_protocol::IPV4 => Inner::Ethertype(ethertype::IPV4),
                next_protocol::IPV6 => Inner::Ethertype(ethertype::IPV6),
                next_protocol::ETHERNET => Inner::Ethernet,
                _ => return Ok(()),
            };
            (inner, nsh.payload())
        }
        Some(_) => return Ok(()),
    };
    enter_tunnel(kind, vni, 0, inner, payload, decoded)
}

fn walk_geneve(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = GeneveHeader::new(data).map_err(at(Layer::Tunnel))?;
    let inner = match header.protocol() {
        ethertype::TRANSPARENT_ETHERNET => Inner::Ethernet,
        value => Inner::Ethertype(value),
    };
    enter_tunnel(TunnelKind::Geneve, header.vni(), 0, inner, header.payload(), decoded)
}

fn walk_gtp_u(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = GtpUHeader::new(data).map_err(at(Layer::Tunnel))?;
    if header.message_type() != gtp::MESSAGE_G_PDU {
        return Ok(());
    }
    enter_tunnel(TunnelKind::GtpU, header.teid(), 0, Inner::IpByVersion, header.payload(), decoded)
}

/// Reads L2TP over UDP: version 3 by the version field, else version 2.
fn walk_l2tp(data: &[u8], decoded: &mut Decoded) -> Step {
    if data.get(1).map(|byte| byte & 0x0f) == Some(3) {
        return match l2tpv3::over_udp(data) {
            Ok(Some(data)) => walk_l2tpv3(data, decoded),
            Ok(None) => Ok(()),
            Err(error) => Err(at(Layer::Tunnel)(error)),
        };
    }
    let header = L2tpHeader::new(data).map_err(at(Layer::Tunnel))?;
    if header.is_control() {
        return Ok(());
    }
    let id = u32::from(header.tunnel_id()) << 16 | u32::from(header.session_id());
    enter_tunnel(TunnelKind::L2tp, id, 0, Inner::Ppp, header.payload(), decoded)
}

fn walk_l2tpv3(data: L2tpv3Data<'_>, decoded: &mut Decoded) -> Step {
    let (inner, payload) = match data.payload() {
        L2tpv3Payload::Ethernet(frame) => (Inner::Ethernet, frame),
        L2tpv3Payload::Ip(packet) => (Inner::IpByVersion, packet),
        L2tpv3Payload::Unknown => return Ok(()),
    };
    enter_tunnel(TunnelKind::L2tpV3, data.session_id(), 0, inner, payload, decoded)
}

fn walk_gue(data: &[u8], decoded: &mut Decoded) -> Step {
    let (inner, payload) = match gue::payload(data).map_err(at(Layer::Tunnel))? {
        GuePayload::Protocol(PROTOCOL_IPV4_IN_IP, packet) => (Inner::Ethertype(ethertype::IPV4), packet),
        GuePayload::Protocol(PROTOCOL_IPV6_IN_IP, packet) => (Inner::Ethertype(ethertype::IPV6), packet),
        GuePayload::Ip(packet) => (Inner::IpByVersion, packet),
        GuePayload::Protocol(..) | GuePayload::Control => return Ok(()),
    };
    enter_tunnel(TunnelKind::Gue, 0, 0, inner, payload, decoded)
}

/// Follows an AYIYA message that forwards an IPv4 or IPv6 packet.
fn walk_ayiya(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = AyiyaHeader::new(data).map_err(at(Layer::Tunnel))?;
    if header.opcode() != ayiya::OPCODE_FORWARD {
        return Ok(());
    }
    let inner = match header.next_header() {
        PROTOCOL_IPV4_IN_IP => Inner::Ethertype(ethertype::IPV4),
        PROTOCOL_IPV6_IN_IP => Inner::Ethertype(ethertype::IPV6),
        _ => return Ok(()),
    };
    enter_tunnel(TunnelKind::Ayiya, 0, 0, inner, header.payload(), decoded)
}

fn walk_capwap(data: &[u8], decoded: &mut Decoded) -> Step {
    let header = CapwapHeader::new(data).map_err(at(Layer::Tunnel))?;
    if header.is_fragment() {
        return Ok(());
    }
    let inner = match (header.is_native_frame(), header.wireless_binding()) {
        (false, _) => Inner::Ethernet,
        (true, capwap::WBID_IEEE80211) => Inner::CapwapIeee80211,
        (true, _) => return Ok(()),
    };
    enter_tunnel(TunnelKind::Capwap, 0, 0, inner, header.payload(), decoded)
}

/// Walks the packet inside a tunnel and records the tunnel, or puts the
/// summary back when the inner packet has no network layer (see the module
/// documentation). `bits` are the [`encapsulation`] bits of the tunnel.
fn enter_tunnel(kind: TunnelKind, id: u32, bits: u32, inner: Inner, data: &[u8], decoded: &mut Decoded) -> Step {
    let (outer_src, outer_dst) = match decoded.network {
        Network::Ipv4(ip) | Network::Ipv6(ip) => (ip.src, ip.dst),
        Network::Arp(_) | Network::None | Network::Infiniband(_) => return Ok(()),
    };
    let outer = *decoded;
    enter_nested(decoded)?;

    let tunnel = TunnelSummary { kind, outer_src, outer_dst, id, depth: decoded.depth };
    decoded.tunnel = Some(tunnel);
    decoded.outer_tunnel.get_or_insert(tunnel);
    decoded.encapsulation |= bits;
    decoded.network = Network::None;
    decoded.transport = super::Transport::None;
    decoded.app_bytes = 0;
    decoded.icmp_quoted = None;
    decoded.dns = None;
    decoded.ipsec_spi = None;

    let result = walk_inner(inner, data, decoded);
    if decoded.network == Network::None {
        *decoded = outer;
        return result;
    }
    decoded.link = outer.link;
    result
}

fn walk_inner(inner: Inner, data: &[u8], decoded: &mut Decoded) -> Step {
    match inner {
        Inner::Ethernet => walk_ethernet(data, decoded),
        Inner::IpByVersion => match data.first().map(|byte| byte >> 4) {
            Some(4) => walk_ethertype(ethertype::IPV4, data, decoded),
            Some(6) => walk_ethertype(ethertype::IPV6, data, decoded),
            Some(_) => Ok(()),
            None => Err(at(Layer::Tunnel)(DecodeError::Truncated { needed_bytes: 1, available_bytes: 0 })),
        },
        Inner::Ethertype(value) => walk_ethertype(value, data, decoded),
        Inner::Ppp => walk_ppp(data, false, decoded),
        Inner::CapwapIeee80211 => walk_capwap_ieee80211(data, decoded),
        Inner::Mpls => walk_mpls(data, decoded),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::decode::{decode_packet, DecodeStop, Transport};

    fn v4(last: u8) -> [u8; 4] {
        [192, 0, 2, last]
    }

    #[test]
    fn port_test_matches_the_tunnel_list() {
        for port in 0..=u16::MAX {
            let listed = port::ALL.contains(&port) || port == super::super::ib::ROCE_V2_PORT;
            assert_eq!(udp_port_has_decoder(port), listed, "port {port}");
        }
    }

    /// An IPv4 header without options for `payload_len` bytes of `protocol`.
    fn ipv4(src: [u8; 4], dst: [u8; 4], protocol: u8, payload_len: usize) -> Vec<u8> {
        let total = (20 + payload_len) as u16;
        let mut header = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, protocol, 0, 0];
        header[2..4].copy_from_slice(&total.to_be_bytes());
        header.extend_from_slice(&src);
        header.extend_from_slice(&dst);
        header
    }

    fn ethernet_ipv4() -> Vec<u8> {
        let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1];
        frame.extend_from_slice(&ethertype::IPV4.to_be_bytes());
        frame
    }

    fn udp(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
        let mut datagram = Vec::new();
        datagram.extend_from_slice(&src_port.to_be_bytes());
        datagram.extend_from_slice(&dst_port.to_be_bytes());
        datagram.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        datagram.extend_from_slice(&[0, 0]);
        datagram.extend_from_slice(payload);
        datagram
    }

    /// An inner Ethernet frame with IPv4 and UDP 1000 to 2000, behind a
    /// VXLAN header for `vni`, in UDP 4789 over IPv4 over Ethernet.
    fn vxlan_frame(vni: u32) -> (Vec<u8>, [(Layer, usize); 8]) {
        let mut inner = ethernet_ipv4();
        let inner_udp = udp(1000, 2000, &[0xaa; 4]);
        inner.extend(ipv4(v4(10), v4(20), 17, inner_udp.len()));
        inner.extend(inner_udp);

        let mut vxlan = vec![0x08, 0, 0, 0];
        vxlan.extend_from_slice(&(vni << 8).to_be_bytes());
        vxlan.extend(inner);
        let outer_udp = udp(49152, port::VXLAN, &vxlan);

        let mut frame = ethernet_ipv4();
        frame.extend(ipv4(v4(1), v4(2), 17, outer_udp.len()));
        frame.extend(outer_udp);
        let headers = [
            (Layer::Link, 14),
            (Layer::Ipv4, 20),
            (Layer::Udp, 8),
            (Layer::Tunnel, 8),
            (Layer::Link, 14),
            (Layer::Ipv4, 20),
            (Layer::Udp, 8),
            (Layer::Udp, 4),
        ];
        (frame, headers)
    }

    #[test]
    fn vxlan_inner_flow_and_tunnel() {
        let (frame, _) = vxlan_frame(0x123456);
        let decoded = decode_packet(LinkType::ETHERNET, &frame);

        assert_eq!(decoded.stop, None);
        let Network::Ipv4(ip) = decoded.network else { panic!("inner IPv4 expected: {decoded:?}") };
        assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::from(v4(10))));
        assert!(matches!(decoded.transport, Transport::Udp(udp) if udp.dst_port == 2000));
        assert_eq!(decoded.app_bytes, 4);
        assert_eq!(decoded.link.src_mac, Some([0x02, 0, 0, 0, 0, 1]));
        let tunnel = decoded.tunnel.expect("tunnel");
        assert_eq!(tunnel.kind, TunnelKind::Vxlan);
        assert_eq!(tunnel.id, 0x123456);
        assert_eq!(tunnel.outer_src, IpAddr::V4(Ipv4Addr::from(v4(1))));
        assert_eq!(tunnel.depth, 1);
        assert_eq!(decoded.outer_tunnel, Some(tunnel));
    }

    #[test]
    fn every_cut_of_vxlan_keeps_outer_flow() {
        let (frame, headers) = vxlan_frame(7);
        let inner_ip_end: usize = headers[..6].iter().map(|(_, len)| len).sum();

        for len in 0..frame.len() {
            let decoded = decode_packet(LinkType::ETHERNET, &frame[..len]);
            let mut start = 0;
            let mut expected_layer = None;
            for &(layer, header_len) in &headers {
                if len < start + header_len {
                    expected_layer = Some(layer);
                    break;
                }
                start += header_len;
            }

            match expected_layer {
                // A cut in the inner UDP payload is no stop at all.
                Some(Layer::Udp) if len >= inner_ip_end + 8 => assert_eq!(decoded.stop, None, "cut at {len}"),
                Some(layer) => {
                    let Some(DecodeStop { layer: stop_layer, error }) = decoded.stop else {
                        panic!("cut at {len}: no stop")
                    };
                    assert_eq!(stop_layer, layer, "cut at {len}");
                    assert!(matches!(error, DecodeError::Truncated { .. }), "cut at {len}: {error:?}");
                }
                None => unreachable!("every length is a cut"),
            }

            if len >= inner_ip_end {
                assert!(decoded.tunnel.is_some(), "cut at {len}");
                assert!(matches!(decoded.network, Network::Ipv4(ip) if ip.src == IpAddr::V4(Ipv4Addr::from(v4(10)))));
            } else if len >= 42 {
                // The inner packet has no network layer yet: the summary is
                // the outer UDP datagram's.
                assert_eq!(decoded.tunnel, None, "cut at {len}");
                assert!(matches!(decoded.transport, Transport::Udp(udp) if udp.dst_port == port::VXLAN), "cut at {len}");
            }
        }
    }

    #[test]
    fn ip_in_ip_loop_stops_at_depth_limit() {
        let levels = MAX_ENCAPSULATION_DEPTH + 3;
        let innermost = udp(1, 2, &[]);
        let mut packet = ipv4(v4(100), v4(200), 17, innermost.len());
        packet.extend(innermost);
        for level in 0..levels {
            let mut outer = ipv4(v4(level as u8), v4(level as u8 + 1), PROTOCOL_IPV4_IN_IP, packet.len());
            outer.extend(packet);
            packet = outer;
        }

        let decoded = decode_packet(LinkType::RAW, &packet);

        assert_eq!(
            decoded.stop,
            Some(DecodeStop { layer: Layer::Tunnel, error: DecodeError::TooDeep(MAX_ENCAPSULATION_DEPTH) })
        );
        let tunnel = decoded.tunnel.expect("tunnel");
        assert_eq!(usize::from(tunnel.depth), MAX_ENCAPSULATION_DEPTH);
        assert_eq!(decoded.outer_tunnel.map(|outer| outer.depth), Some(1));
        assert!(matches!(decoded.network, Network::Ipv4(_)));
        assert_eq!(decoded.transport, Transport::None);
    }

    #[test]
    fn mpls_label_stack_and_control_word() {
        let mut inner = ethernet_ipv4();
        let inner_udp = udp(1000, 2000, &[]);
        inner.extend(ipv4(v4(10), v4(20), 17, inner_udp.len()));
        inner.extend(inner_udp);

        let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0x47];
        frame.extend_from_slice(&[0x00, 0x01, 0x00, 0x40]); // label 16
        frame.extend_from_slice(&[0x00, 0x02, 0x01, 0x40]); // label 32, bottom
        frame.extend_from_slice(&[0, 0, 0, 0]); // control word
        frame.extend(inner);
        let decoded = decode_packet(LinkType::ETHERNET, &frame);

        assert_eq!(decoded.stop, None);
        assert_eq!(decoded.link.mpls_count, 2);
        assert_eq!(decoded.link.mpls_labels[..2], [16, 32]);
        assert_eq!(decoded.link.src_mac, Some([0x02, 0, 0, 0, 0, 1]));
        assert_eq!(decoded.depth, 1);
        assert!(matches!(decoded.transport, Transport::Udp(udp) if udp.dst_port == 2000));
        assert_ne!(decoded.encapsulation & encapsulation::MPLS, 0);

        for len in 14..14 + 12 {
            let cut = decode_packet(LinkType::ETHERNET, &frame[..len]);
            assert_eq!(cut.stop.map(|stop| stop.layer), Some(Layer::Mpls), "cut at {len}");
        }
    }

    #[test]
    fn mpls_stack_without_bottom_stops() {
        let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0x47];
        for _ in 0..mpls::MAX_STACK_ENTRIES + 1 {
            frame.extend_from_slice(&[0x00, 0x01, 0x00, 0x40]);
        }
        let decoded = decode_packet(LinkType::ETHERNET, &frame);
        assert_eq!(
            decoded.stop,
            Some(DecodeStop { layer: Layer::Mpls, error: DecodeError::TooDeep(mpls::MAX_STACK_ENTRIES) })
        );
        assert_eq!(decoded.link.mpls_labels, [16; crate::decode::MAX_MPLS_LABELS]);
    }

    #[test]
    fn pppoe_session_and_discovery() {
        let inner_udp = udp(1000, 2000, &[]);
        let ip = ipv4(v4(10), v4(20), 17, inner_udp.len());
        let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0x64];
        let ppp_len = (2 + ip.len() + inner_udp.len()) as u16;
        frame.extend_from_slice(&[0x11, 0x00, 0x00, 0x2a]);
        frame.extend_from_slice(&ppp_len.to_be_bytes());
        frame.extend_from_slice(&ppp::protocol::IPV4.to_be_bytes());
        frame.extend(ip);
        frame.extend(inner_udp);
        let decoded = decode_packet(LinkType::ETHERNET, &frame);
        assert_eq!(decoded.stop, None);
        assert_eq!(decoded.link.pppoe_session, Some(42));
        assert!(matches!(decoded.transport, Transport::Udp(_)));

        frame[13] = 0x63;
        let discovery = decode_packet(LinkType::ETHERNET, &frame);
        assert_eq!(discovery.network, Network::None);
        assert_eq!(discovery.link.ethertype, ethertype::PPPOE_DISCOVERY);
        assert_eq!(discovery.link.pppoe_session, Some(42));
    }

    /// A xorshift64 generator, for fixed streams of test bytes.
    struct XorShift(u64);

    impl XorShift {
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn mutated_tunnel_frames_never_panic() {
        let (vxlan, _) = vxlan_frame(9);
        let mut random = XorShift(0x1234_5678_9abc_def1);
        for _ in 0..20_000 {
            let mut frame = vxlan.clone();
            for _ in 0..3 {
                let index = (random.next_u64() % frame.len() as u64) as usize;
                frame[index] = random.next_u64() as u8;
            }
            // Any UDP tunnel port in the outer destination port.
            let port = port::ALL[(random.next_u64() % port::ALL.len() as u64) as usize];
            frame[36..38].copy_from_slice(&port.to_be_bytes());
            let decoded = decode_packet(LinkType::ETHERNET, &frame);
            assert!(usize::from(decoded.depth) <= MAX_ENCAPSULATION_DEPTH);
            if decoded.tunnel.is_some() {
                assert_ne!(decoded.network, Network::None);
            }
        }
    }
}
