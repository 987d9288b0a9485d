//! Encodes flow records as data records of the templates in
//! [`super::template`].

use std::net::IpAddr;

use naudit_engine::decode::TunnelKind;
use naudit_engine::flow::{DirectionStats, FlowKey, FlowRecord, RecordCause};

use super::template::{
    Counter, Direction, Field, Template, ARP_TEMPLATE_ID, IPV4_TEMPLATE_ID, IPV6_TEMPLATE_ID, LAYER2_TEMPLATE_ID,
    TUNNEL_IPV4_TEMPLATE_OFFSET, TUNNEL_IPV6_TEMPLATE_OFFSET,
};

/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch, for
/// dateTimeNanoseconds values (RFC 7011 section 6.1.10).
const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;
/// EtherType of ARP.
const ETHERTYPE_ARP: u16 = 0x0806;
/// Encapsulation type of a VXLAN segment in the most significant byte of
/// layer2SegmentId (IANA IPFIX registry, element 351).
const LAYER2_SEGMENT_TYPE_VXLAN: u64 = 0x01;

/// Returns the flowEndReason value (IANA registry) for a record cause:
/// 1 idle timeout, 2 active timeout (start and status reports of an open
/// flow), 3 end of flow detected, 4 forced end, 5 lack of resources.
pub fn flow_end_reason(cause: RecordCause) -> u8 {
    match cause {
        RecordCause::IdleTimeout => 1,
        RecordCause::Start | RecordCause::Status => 2,
        RecordCause::Closed => 3,
        RecordCause::Shutdown => 4,
        RecordCause::Evicted => 5,
    }
}

/// Returns the nauditd tunnel type code (enterprise element 32473/4) of a
/// tunnel protocol. The codes are part of the export format: a new tunnel
/// kind gets the next free number and existing numbers never change.
pub fn tunnel_type_code(kind: TunnelKind) -> u8 {
    match kind {
        TunnelKind::Gre => 1,
        TunnelKind::Pptp => 2,
        TunnelKind::ErspanI => 3,
        TunnelKind::ErspanII => 4,
        TunnelKind::ErspanIII => 5,
        TunnelKind::IpInIp => 6,
        TunnelKind::Vxlan => 7,
        TunnelKind::VxlanGpe => 8,
        TunnelKind::Geneve => 9,
        TunnelKind::GtpU => 10,
        TunnelKind::Teredo => 11,
        TunnelKind::GreInUdp => 12,
        TunnelKind::MplsInUdp => 13,
        TunnelKind::L2tp => 14,
        TunnelKind::Capwap => 15,
        TunnelKind::Gue => 16,
        TunnelKind::Ayiya => 17,
        TunnelKind::L2tpV3 => 18,
    }
}

/// Returns the id of the template that carries `record`: the template of
/// its key kind, or for a flow that came through a tunnel the tunnel
/// template of that kind and of the outer header's IP version. Returns
/// `None` for keys that no template carries.
pub fn template_id(record: &FlowRecord) -> Option<u16> {
    let plain = plain_template_id(&record.key)?;
    Some(match record.tunnel {
        None => plain,
        Some(tunnel) if tunnel.outer_src.is_ipv4() => plain + TUNNEL_IPV4_TEMPLATE_OFFSET,
        Some(_) => plain + TUNNEL_IPV6_TEMPLATE_OFFSET,
    })
}

/// Returns the id of the template of flows keyed like `key`, without a
/// tunnel.
pub fn plain_template_id(key: &FlowKey) -> Option<u16> {
    match key {
        FlowKey::Ip { src: IpAddr::V4(_), .. } | FlowKey::Icmp { src: IpAddr::V4(_), .. } => Some(IPV4_TEMPLATE_ID),
        FlowKey::Ip { src: IpAddr::V6(_), .. } | FlowKey::Icmp { src: IpAddr::V6(_), .. } => Some(IPV6_TEMPLATE_ID),
        FlowKey::Layer2 { .. } => Some(LAYER2_TEMPLATE_ID),
        FlowKey::Arp { .. } => Some(ARP_TEMPLATE_ID),
        // NOTE: InfiniBand flows have no template yet, so IPFIX export
        // skips them and counts them as records without a template.
        FlowKey::Infiniband { .. } => None,
    }
}

/// Converts nanoseconds since the Unix epoch to the NTP timestamp format:
/// seconds since 1900 in the high 32 bits, the binary fraction below.
pub fn ntp_timestamp(time_ns: u64) -> u64 {
    let seconds = time_ns / 1_000_000_000 + NTP_UNIX_OFFSET_SECS;
    let fraction = ((time_ns % 1_000_000_000) << 32) / 1_000_000_000;
    (seconds << 32) | fraction
}

/// Appends the data record of `record` in the field order of `template`,
/// which must be the template [`template_id`] chooses for its key.
pub fn write_data_record(out: &mut Vec<u8>, template: &Template, record: &FlowRecord) {
    debug_assert_eq!(Some(template.id), template_id(record));
    for field in &template.fields {
        write_field(out, *field, record);
    }
}

fn write_field(out: &mut Vec<u8>, field: Field, record: &FlowRecord) {
    match field {
        Field::FlowStartMilliseconds => out.extend_from_slice(&(record.start_ns / 1_000_000).to_be_bytes()),
        Field::FlowEndMilliseconds => out.extend_from_slice(&(record.last_ns / 1_000_000).to_be_bytes()),
        Field::FlowStartNanoseconds => out.extend_from_slice(&ntp_timestamp(record.start_ns).to_be_bytes()),
        Field::FlowEndNanoseconds => out.extend_from_slice(&ntp_timestamp(record.last_ns).to_be_bytes()),
        Field::SourceIpv4Address | Field::SourceIpv6Address => write_address(out, field, record, true),
        Field::DestinationIpv4Address | Field::DestinationIpv6Address => write_address(out, field, record, false),
        Field::ProtocolIdentifier => out.push(record.key.ip_protocol().unwrap_or(0)),
        Field::SourceTransportPort => out.extend_from_slice(&transport_ports(&record.key).0.to_be_bytes()),
        Field::DestinationTransportPort => out.extend_from_slice(&transport_ports(&record.key).1.to_be_bytes()),
        Field::IcmpTypeCodeIpv4 | Field::IcmpTypeCodeIpv6 => {
            let value = match record.key {
                FlowKey::Icmp { icmp_type, code, .. } => u16::from(icmp_type) << 8 | u16::from(code),
                _ => 0,
            };
            out.extend_from_slice(&value.to_be_bytes());
        }
        Field::SourceMacAddress => out.extend_from_slice(&source_mac(record)),
        Field::DestinationMacAddress => out.extend_from_slice(&destination_mac(record)),
        Field::EthernetType => {
            let ethertype = match record.key {
                FlowKey::Layer2 { ethertype, .. } => ethertype,
                FlowKey::Arp { .. } => ETHERTYPE_ARP,
                _ => 0,
            };
            out.extend_from_slice(&ethertype.to_be_bytes());
        }
        Field::FlowEndReason => out.push(flow_end_reason(record.cause)),
        Field::Directional(direction, counter) => {
            let (side, tcp_flags) = match direction {
                Direction::Forward => (&record.src, record.tcp.map(|tcp| tcp.src.flags)),
                Direction::Reverse => (&record.dst, record.tcp.map(|tcp| tcp.dst.flags)),
            };
            write_counter(out, counter, side, tcp_flags.unwrap_or(0));
        }
        Field::NauditTcpStatus => out.extend_from_slice(&record.tcp.map_or(0, |tcp| tcp.status).to_be_bytes()),
        Field::NauditReportIndex => out.extend_from_slice(&record.report_index.to_be_bytes()),
        Field::NauditLlcSaps => match record.key {
            FlowKey::Layer2 { ssap, dsap, .. } => out.extend_from_slice(&[ssap, dsap]),
            _ => out.extend_from_slice(&[0, 0]),
        },
        Field::NauditTunnelType => out.push(record.tunnel.map_or(0, |tunnel| tunnel_type_code(tunnel.kind))),
        Field::NauditTunnelSourceIpv4Address | Field::NauditTunnelSourceIpv6Address => {
            write_tunnel_address(out, field, record.tunnel.map(|tunnel| tunnel.outer_src));
        }
        Field::NauditTunnelDestinationIpv4Address | Field::NauditTunnelDestinationIpv6Address => {
            write_tunnel_address(out, field, record.tunnel.map(|tunnel| tunnel.outer_dst));
        }
        Field::NauditTunnelId => out.extend_from_slice(&record.tunnel.map_or(0, |tunnel| tunnel.id).to_be_bytes()),
        Field::NauditTunnelDepth => out.push(record.tunnel.map_or(0, |tunnel| tunnel.depth)),
        Field::Layer2SegmentId => {
            let segment = match record.tunnel {
                Some(tunnel) if tunnel.kind == TunnelKind::Vxlan => {
                    LAYER2_SEGMENT_TYPE_VXLAN << 56 | u64::from(tunnel.id & 0x00ff_ffff)
                }
                _ => 0,
            };
            out.extend_from_slice(&segment.to_be_bytes());
        }
    }
}

/// Writes an outer tunnel address in the width the field has, zeros when
/// the address is missing or of the other IP version.
fn write_tunnel_address(out: &mut Vec<u8>, field: Field, address: Option<IpAddr>) {
    let width = usize::from(field.spec().length);
    match address {
        Some(IpAddr::V4(address)) if width == 4 => out.extend_from_slice(&address.octets()),
        Some(IpAddr::V6(address)) if width == 16 => out.extend_from_slice(&address.octets()),
        _ => out.resize(out.len() + width, 0),
    }
}

fn write_counter(out: &mut Vec<u8>, counter: Counter, side: &DirectionStats, tcp_flags: u8) {
    match counter {
        Counter::Packets => out.extend_from_slice(&side.pkts.to_be_bytes()),
        Counter::Octets => out.extend_from_slice(&side.bytes.to_be_bytes()),
        Counter::TransportOctets => out.extend_from_slice(&side.app_bytes.to_be_bytes()),
        Counter::TcpControlBits => out.extend_from_slice(&u16::from(tcp_flags).to_be_bytes()),
        Counter::ClassOfService => out.push(side.tos),
        Counter::Ttl => out.push(side.ttl),
        Counter::VlanId => out.extend_from_slice(&side.vlan_tci.map_or(0, |tci| tci & 0x0fff).to_be_bytes()),
    }
}

/// Writes the source (`source` true) or destination address in the
/// width the field has.
fn write_address(out: &mut Vec<u8>, field: Field, record: &FlowRecord, source: bool) {
    let address = match record.key {
        FlowKey::Ip { src, dst, .. } | FlowKey::Icmp { src, dst, .. } => Some(if source { src } else { dst }),
        FlowKey::Arp { sender_ip, target_ip } => Some(IpAddr::from(if source { sender_ip } else { target_ip })),
        FlowKey::Layer2 { .. } | FlowKey::Infiniband { .. } => None,
    };
    let width = usize::from(field.spec().length);
    match address {
        Some(IpAddr::V4(address)) if width == 4 => out.extend_from_slice(&address.octets()),
        Some(IpAddr::V6(address)) if width == 16 => out.extend_from_slice(&address.octets()),
        _ => out.resize(out.len() + width, 0),
    }
}

/// Returns the transport ports of TCP, UDP, SCTP, DCCP and UDP-Lite flows,
/// else zeros: other IP protocols have no ports, although the flow key may
/// store an SPI or other identifier in their place.
fn transport_ports(key: &FlowKey) -> (u16, u16) {
    match *key {
        FlowKey::Ip { protocol: 6 | 17 | 33 | 132 | 136, src_port, dst_port, .. } => (src_port, dst_port),
        _ => (0, 0),
    }
}

fn source_mac(record: &FlowRecord) -> [u8; 6] {
    match record.key {
        FlowKey::Layer2 { src_mac, .. } => src_mac,
        _ => record.src.mac.unwrap_or_default(),
    }
}

fn destination_mac(record: &FlowRecord) -> [u8; 6] {
    match record.key {
        FlowKey::Layer2 { dst_mac, .. } => dst_mac,
        FlowKey::Arp { .. } => record.arp_reply_mac.or(record.dst.mac).unwrap_or_default(),
        _ => record.dst.mac.unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfix::template::all_templates;
    use naudit_engine::decode::TunnelSummary;
    use naudit_engine::flow::DirectionStats;

    fn udp_record() -> FlowRecord {
        FlowRecord {
            key: FlowKey::Ip {
                src: "10.0.0.1".parse().unwrap(),
                dst: "10.0.0.2".parse().unwrap(),
                protocol: 17,
                src_port: 5353,
                dst_port: 53,
                tunnel: Default::default(),
            },
            cause: RecordCause::IdleTimeout,
            start_ns: 1_700_000_000_500_000_000,
            last_ns: 1_700_000_001_000_000_000,
            src: DirectionStats { pkts: 3, bytes: 300, app_bytes: 150, ttl: 64, ..DirectionStats::default() },
            dst: DirectionStats { pkts: 2, bytes: 200, app_bytes: 100, ttl: 60, ..DirectionStats::default() },
            tcp: None,
            arp_reply_mac: None,
            icmp_error: None,
            encapsulation: [0; 2],
            mpls_label: [None; 2],
            report_index: 0,
            worker_id: 0,
            tunnel: None,
            ib: None,
        }
    }

    #[test]
    fn ntp_timestamp_of_half_second() {
        let value = ntp_timestamp(1_500_000_000);
        assert_eq!(value >> 32, 1 + NTP_UNIX_OFFSET_SECS);
        assert_eq!(value & 0xffff_ffff, 1 << 31);
    }

    #[test]
    fn end_reasons_follow_iana_registry() {
        assert_eq!(flow_end_reason(RecordCause::IdleTimeout), 1);
        assert_eq!(flow_end_reason(RecordCause::Status), 2);
        assert_eq!(flow_end_reason(RecordCause::Start), 2);
        assert_eq!(flow_end_reason(RecordCause::Closed), 3);
        assert_eq!(flow_end_reason(RecordCause::Shutdown), 4);
        assert_eq!(flow_end_reason(RecordCause::Evicted), 5);
    }

    #[test]
    fn data_record_matches_template_length() {
        let record = udp_record();
        let templates = all_templates();
        let template = templates.iter().find(|template| Some(template.id) == template_id(&record)).unwrap();
        let mut out = Vec::new();
        write_data_record(&mut out, template, &record);
        assert_eq!(out.len(), template.record_length());
        assert_eq!(&out[0..4], &[10, 0, 0, 1]);
        assert_eq!(&out[4..8], &[10, 0, 0, 2]);
    }

    #[test]
    fn reverse_counts_carry_destination_side() {
        let record = udp_record();
        let template = &all_templates()[0];
        let mut out = Vec::new();
        write_data_record(&mut out, template, &record);
        let mut offset = 0;
        let mut values = Vec::new();
        for field in &template.fields {
            let length = usize::from(field.spec().length);
            if let Field::Directional(direction, Counter::Packets) = field {
                values.push((*direction, u64::from_be_bytes(out[offset..offset + 8].try_into().unwrap())));
            }
            offset += length;
        }
        assert_eq!(values, [(Direction::Forward, 3), (Direction::Reverse, 2)]);
    }

    #[test]
    fn vxlan_record_uses_tunnel_template() {
        let mut record = udp_record();
        record.tunnel = Some(TunnelSummary {
            kind: TunnelKind::Vxlan,
            outer_src: "172.16.0.1".parse().unwrap(),
            outer_dst: "172.16.0.2".parse().unwrap(),
            id: 4242,
            depth: 1,
        });
        assert_eq!(template_id(&record), Some(IPV4_TEMPLATE_ID + TUNNEL_IPV4_TEMPLATE_OFFSET));
        let templates = all_templates();
        let template = templates.iter().find(|template| Some(template.id) == template_id(&record)).unwrap();
        let mut out = Vec::new();
        write_data_record(&mut out, template, &record);
        assert_eq!(out.len(), template.record_length());
        // The tunnel fields close the record: type, outer addresses, id,
        // layer2SegmentId, depth.
        let tail = &out[out.len() - 22..];
        assert_eq!(tail[0], 7, "VXLAN tunnel type code");
        assert_eq!(&tail[1..5], &[172, 16, 0, 1]);
        assert_eq!(&tail[5..9], &[172, 16, 0, 2]);
        assert_eq!(u32::from_be_bytes(tail[9..13].try_into().unwrap()), 4242);
        assert_eq!(u64::from_be_bytes(tail[13..21].try_into().unwrap()), 0x0100_0000_0000_1092);
        assert_eq!(tail[21], 1, "tunnel depth");
    }

    #[test]
    fn ipv6_outer_header_picks_ipv6_tunnel_template() {
        let mut record = udp_record();
        record.tunnel = Some(TunnelSummary {
            kind: TunnelKind::IpInIp,
            outer_src: "2001:db8::1".parse().unwrap(),
            outer_dst: "2001:db8::2".parse().unwrap(),
            id: 0,
            depth: 1,
        });
        assert_eq!(template_id(&record), Some(IPV4_TEMPLATE_ID + TUNNEL_IPV6_TEMPLATE_OFFSET));
    }
}
