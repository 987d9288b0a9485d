//! The templates nauditd exports: one per kind of flow key, and one per
//! kind of flow key and outer IP version for flows that came through a
//! tunnel, so that records without a tunnel carry no tunnel fields. Each
//! template is a list of fields that the encoder fills in order.

use super::elements::{self as ie, FieldSpec};

/// Template id of IPv4 flows (TCP, UDP, ICMP and other IP protocols).
pub const IPV4_TEMPLATE_ID: u16 = 256;
/// Template id of IPv6 flows.
pub const IPV6_TEMPLATE_ID: u16 = 257;
/// Template id of non-IP layer-2 flows, keyed by MAC addresses and
/// EtherType.
pub const LAYER2_TEMPLATE_ID: u16 = 258;
/// Template id of ARP flows, keyed by the IPv4 addresses asked about.
pub const ARP_TEMPLATE_ID: u16 = 259;
/// Added to the template id of a flow's key kind for a flow that came
/// through a tunnel carried in IPv4 (templates 260 to 263).
pub const TUNNEL_IPV4_TEMPLATE_OFFSET: u16 = 4;
/// Added to the template id of a flow's key kind for a flow that came
/// through a tunnel carried in IPv6 (templates 264 to 267).
pub const TUNNEL_IPV6_TEMPLATE_OFFSET: u16 = 8;

/// Template set id (RFC 7011 section 3.3.2).
pub const TEMPLATE_SET_ID: u16 = 2;

/// One field of a template: what the encoder writes there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    FlowStartMilliseconds,
    FlowEndMilliseconds,
    FlowStartNanoseconds,
    FlowEndNanoseconds,
    SourceIpv4Address,
    DestinationIpv4Address,
    SourceIpv6Address,
    DestinationIpv6Address,
    ProtocolIdentifier,
    SourceTransportPort,
    DestinationTransportPort,
    IcmpTypeCodeIpv4,
    IcmpTypeCodeIpv6,
    SourceMacAddress,
    DestinationMacAddress,
    EthernetType,
    FlowEndReason,
    /// A per-direction element: the forward element carries the source
    /// side's value, the reverse element the destination side's.
    Directional(Direction, Counter),
    NauditTcpStatus,
    NauditReportIndex,
    NauditLlcSaps,
    NauditTunnelType,
    NauditTunnelSourceIpv4Address,
    NauditTunnelDestinationIpv4Address,
    NauditTunnelSourceIpv6Address,
    NauditTunnelDestinationIpv6Address,
    NauditTunnelId,
    NauditTunnelDepth,
    Layer2SegmentId,
}

/// The side of the flow that a directional field describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The source side, as an IANA element.
    Forward,
    /// The destination side, as an RFC 5103 reverse element.
    Reverse,
}

/// The per-direction values of a flow record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    Packets,
    Octets,
    TransportOctets,
    TcpControlBits,
    ClassOfService,
    Ttl,
    VlanId,
}

impl Counter {
    fn forward_spec(self) -> FieldSpec {
        match self {
            Counter::Packets => ie::PACKET_DELTA_COUNT,
            Counter::Octets => ie::OCTET_DELTA_COUNT,
            Counter::TransportOctets => ie::TRANSPORT_OCTET_DELTA_COUNT,
            Counter::TcpControlBits => ie::TCP_CONTROL_BITS,
            Counter::ClassOfService => ie::IP_CLASS_OF_SERVICE,
            Counter::Ttl => ie::IP_TTL,
            Counter::VlanId => ie::VLAN_ID,
        }
    }
}

impl Field {
    /// Returns the element and length this field is encoded as.
    pub fn spec(self) -> FieldSpec {
        match self {
            Field::FlowStartMilliseconds => ie::FLOW_START_MILLISECONDS,
            Field::FlowEndMilliseconds => ie::FLOW_END_MILLISECONDS,
            Field::FlowStartNanoseconds => ie::FLOW_START_NANOSECONDS,
            Field::FlowEndNanoseconds => ie::FLOW_END_NANOSECONDS,
            Field::SourceIpv4Address => ie::SOURCE_IPV4_ADDRESS,
            Field::DestinationIpv4Address => ie::DESTINATION_IPV4_ADDRESS,
            Field::SourceIpv6Address => ie::SOURCE_IPV6_ADDRESS,
            Field::DestinationIpv6Address => ie::DESTINATION_IPV6_ADDRESS,
            Field::ProtocolIdentifier => ie::PROTOCOL_IDENTIFIER,
            Field::SourceTransportPort => ie::SOURCE_TRANSPORT_PORT,
            Field::DestinationTransportPort => ie::DESTINATION_TRANSPORT_PORT,
            Field::IcmpTypeCodeIpv4 => ie::ICMP_TYPE_CODE_IPV4,
            Field::IcmpTypeCodeIpv6 => ie::ICMP_TYPE_CODE_IPV6,
            Field::SourceMacAddress => ie::SOURCE_MAC_ADDRESS,
            Field::DestinationMacAddress => ie::DESTINATION_MAC_ADDRESS,
            Field::EthernetType => ie::ETHERNET_TYPE,
            Field::FlowEndReason => ie::FLOW_END_REASON,
            Field::Directional(Direction::Forward, counter) => counter.forward_spec(),
            Field::Directional(Direction::Reverse, counter) => FieldSpec::reverse(counter.forward_spec()),
            Field::NauditTcpStatus => ie::NAUDIT_TCP_STATUS,
            Field::NauditReportIndex => ie::NAUDIT_REPORT_INDEX,
            Field::NauditLlcSaps => ie::NAUDIT_LLC_SAPS,
            Field::NauditTunnelType => ie::NAUDIT_TUNNEL_TYPE,
            Field::NauditTunnelSourceIpv4Address => ie::NAUDIT_TUNNEL_SOURCE_IPV4_ADDRESS,
            Field::NauditTunnelDestinationIpv4Address => ie::NAUDIT_TUNNEL_DESTINATION_IPV4_ADDRESS,
            Field::NauditTunnelSourceIpv6Address => ie::NAUDIT_TUNNEL_SOURCE_IPV6_ADDRESS,
            Field::NauditTunnelDestinationIpv6Address => ie::NAUDIT_TUNNEL_DESTINATION_IPV6_ADDRESS,
            Field::NauditTunnelId => ie::NAUDIT_TUNNEL_ID,
            Field::NauditTunnelDepth => ie::NAUDIT_TUNNEL_DEPTH,
            Field::Layer2SegmentId => ie::LAYER2_SEGMENT_ID,
        }
    }
}

use Counter::*;
use Direction::*;
use Field::*;

/// Times, counts and the end reason, shared by every template.
const COMMON_FIELDS: [Field; 11] = [
    FlowStartMilliseconds,
    FlowEndMilliseconds,
    FlowStartNanoseconds,
    FlowEndNanoseconds,
    Directional(Forward, Packets),
    Directional(Forward, Octets),
    Directional(Reverse, Packets),
    Directional(Reverse, Octets),
    FlowEndReason,
    NauditReportIndex,
    SourceMacAddress,
];

/// IP header and transport fields of both directions, shared by the IPv4
/// and IPv6 templates.
const IP_FIELDS: [Field; 15] = [
    ProtocolIdentifier,
    SourceTransportPort,
    DestinationTransportPort,
    Directional(Forward, TransportOctets),
    Directional(Reverse, TransportOctets),
    Directional(Forward, TcpControlBits),
    Directional(Reverse, TcpControlBits),
    Directional(Forward, ClassOfService),
    Directional(Reverse, ClassOfService),
    Directional(Forward, Ttl),
    Directional(Reverse, Ttl),
    DestinationMacAddress,
    Directional(Forward, VlanId),
    Directional(Reverse, VlanId),
    NauditTcpStatus,
];

/// Tunnel fields of the templates for flows in a tunnel carried in IPv4.
const TUNNEL_IPV4_FIELDS: [Field; 6] = [
    NauditTunnelType,
    NauditTunnelSourceIpv4Address,
    NauditTunnelDestinationIpv4Address,
    NauditTunnelId,
    Layer2SegmentId,
    NauditTunnelDepth,
];

/// Tunnel fields of the templates for flows in a tunnel carried in IPv6.
const TUNNEL_IPV6_FIELDS: [Field; 6] = [
    NauditTunnelType,
    NauditTunnelSourceIpv6Address,
    NauditTunnelDestinationIpv6Address,
    NauditTunnelId,
    Layer2SegmentId,
    NauditTunnelDepth,
];

/// A template: its id and its fields in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// Template id, 256 or more.
    pub id: u16,
    /// The fields in the order the data records carry them.
    pub fields: Vec<Field>,
}

impl Template {
    fn new(id: u16, key_fields: &[Field], other_fields: &[Field]) -> Template {
        let mut fields = key_fields.to_vec();
        fields.extend_from_slice(&COMMON_FIELDS);
        fields.extend_from_slice(other_fields);
        Template { id, fields }
    }

    /// Returns the length of one data record of this template, in bytes.
    /// Every field has a fixed length.
    pub fn record_length(&self) -> usize {
        self.fields.iter().map(|field| usize::from(field.spec().length)).sum()
    }

    /// Appends the template record (RFC 7011 section 3.4.1): id, field
    /// count, then the field specifiers.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&(self.fields.len() as u16).to_be_bytes());
        for field in &self.fields {
            field.spec().write(out);
        }
    }
}

/// Returns every template nauditd exports, in id order: the four key
/// kinds, then the same with the tunnel fields of an IPv4 and of an IPv6
/// outer header.
pub fn all_templates() -> Vec<Template> {
    let plain = plain_templates();
    let mut templates = plain.clone();
    for (offset, tunnel_fields) in
        [(TUNNEL_IPV4_TEMPLATE_OFFSET, &TUNNEL_IPV4_FIELDS), (TUNNEL_IPV6_TEMPLATE_OFFSET, &TUNNEL_IPV6_FIELDS)]
    {
        for template in &plain {
            let mut fields = template.fields.clone();
            fields.extend_from_slice(tunnel_fields);
            templates.push(Template { id: template.id + offset, fields });
        }
    }
    templates
}

/// Returns the templates of flows without a tunnel, one per key kind.
fn plain_templates() -> Vec<Template> {
    vec![
        Template::new(
            IPV4_TEMPLATE_ID,
            &[SourceIpv4Address, DestinationIpv4Address],
            &[&IP_FIELDS[..], &[IcmpTypeCodeIpv4]].concat(),
        ),
        Template::new(
            IPV6_TEMPLATE_ID,
            &[SourceIpv6Address, DestinationIpv6Address],
            &[&IP_FIELDS[..], &[IcmpTypeCodeIpv6]].concat(),
        ),
        Template::new(
            LAYER2_TEMPLATE_ID,
            &[DestinationMacAddress, EthernetType],
            &[Directional(Forward, VlanId), Directional(Reverse, VlanId), NauditLlcSaps],
        ),
        Template::new(
            ARP_TEMPLATE_ID,
            &[SourceIpv4Address, DestinationIpv4Address, EthernetType],
            &[DestinationMacAddress],
        ),
    ]
}

/// Appends a template withdrawal record for all data templates (RFC 7011
/// section 8.1: template id 2 with field count 0).
pub fn write_withdraw_all(out: &mut Vec<u8>) {
    out.extend_from_slice(&TEMPLATE_SET_ID.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_have_no_duplicate_elements() {
        for template in all_templates() {
            let specs: Vec<FieldSpec> = template.fields.iter().map(|field| field.spec()).collect();
            for (index, spec) in specs.iter().enumerate() {
                assert!(!specs[index + 1..].contains(spec), "template {} repeats {spec:?}", template.id);
            }
        }
    }

    #[test]
    fn tunnel_templates_extend_plain_ones() {
        let templates = all_templates();
        let ids: Vec<u16> = templates.iter().map(|template| template.id).collect();
        assert_eq!(ids, (256..268).collect::<Vec<u16>>());
        for plain in &templates[..4] {
            let over_ipv4 = &templates[usize::from(plain.id + TUNNEL_IPV4_TEMPLATE_OFFSET - 256)];
            let over_ipv6 = &templates[usize::from(plain.id + TUNNEL_IPV6_TEMPLATE_OFFSET - 256)];
            assert_eq!(over_ipv4.fields[..plain.fields.len()], plain.fields[..]);
            assert_eq!(over_ipv4.fields[plain.fields.len()..], TUNNEL_IPV4_FIELDS);
            assert_eq!(over_ipv6.fields[plain.fields.len()..], TUNNEL_IPV6_FIELDS);
        }
    }

    #[test]
    fn template_record_header_counts_fields() {
        let template = &all_templates()[0];
        let mut out = Vec::new();
        template.write(&mut out);
        assert_eq!(u16::from_be_bytes([out[0], out[1]]), IPV4_TEMPLATE_ID);
        assert_eq!(usize::from(u16::from_be_bytes([out[2], out[3]])), template.fields.len());
    }
}
