//! Information elements: the IANA registry entries nauditd exports, the
//! RFC 5103 reverse elements, and the project's own enterprise elements.

/// Private enterprise number of the RFC 5103 reverse information elements.
/// A reverse element has the number and type of its forward element.
pub const REVERSE_PEN: u32 = 29305;

/// Private enterprise number of nauditd's own elements.
///
/// NOTE: a placeholder until the project registers its own number. 32473 is
/// the number RFC 5612 reserves for documentation, so it names no real
/// organization and a collector treats it as unknown.
pub const NAUDIT_PEN: u32 = 32473;

/// One field of a template: an element id, its encoded length in bytes and
/// its enterprise number (`None` for IANA elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// Information element id, without the enterprise bit.
    pub id: u16,
    /// Encoded length in bytes.
    pub length: u16,
    /// Enterprise number, `None` for the IANA registry.
    pub enterprise: Option<u32>,
}

impl FieldSpec {
    /// Creates the specifier of an IANA element.
    pub const fn iana(id: u16, length: u16) -> FieldSpec {
        FieldSpec { id, length, enterprise: None }
    }

    /// Creates the RFC 5103 reverse of an IANA element.
    pub const fn reverse(forward: FieldSpec) -> FieldSpec {
        FieldSpec { id: forward.id, length: forward.length, enterprise: Some(REVERSE_PEN) }
    }

    /// Creates the specifier of one of nauditd's own elements.
    pub const fn naudit(id: u16, length: u16) -> FieldSpec {
        FieldSpec { id, length, enterprise: Some(NAUDIT_PEN) }
    }

    /// Appends the field specifier (RFC 7011 section 3.2): the id with the
    /// enterprise bit when there is an enterprise number, the length, then
    /// the number.
    pub fn write(self, out: &mut Vec<u8>) {
        match self.enterprise {
            None => {
                out.extend_from_slice(&self.id.to_be_bytes());
                out.extend_from_slice(&self.length.to_be_bytes());
            }
            Some(number) => {
                out.extend_from_slice(&(self.id | 0x8000).to_be_bytes());
                out.extend_from_slice(&self.length.to_be_bytes());
                out.extend_from_slice(&number.to_be_bytes());
            }
        }
    }
}

/// octetDeltaCount (unsigned64): link-layer bytes in the record's interval.
pub const OCTET_DELTA_COUNT: FieldSpec = FieldSpec::iana(1, 8);
/// packetDeltaCount (unsigned64).
pub const PACKET_DELTA_COUNT: FieldSpec = FieldSpec::iana(2, 8);
/// protocolIdentifier (unsigned8).
pub const PROTOCOL_IDENTIFIER: FieldSpec = FieldSpec::iana(4, 1);
/// ipClassOfService (unsigned8): the TOS or traffic class byte.
pub const IP_CLASS_OF_SERVICE: FieldSpec = FieldSpec::iana(5, 1);
/// tcpControlBits (unsigned16, RFC 7125): OR of the TCP flags sent.
pub const TCP_CONTROL_BITS: FieldSpec = FieldSpec::iana(6, 2);
/// sourceTransportPort (unsigned16).
pub const SOURCE_TRANSPORT_PORT: FieldSpec = FieldSpec::iana(7, 2);
/// sourceIPv4Address.
pub const SOURCE_IPV4_ADDRESS: FieldSpec = FieldSpec::iana(8, 4);
/// destinationTransportPort (unsigned16).
pub const DESTINATION_TRANSPORT_PORT: FieldSpec = FieldSpec::iana(11, 2);
/// destinationIPv4Address.
pub const DESTINATION_IPV4_ADDRESS: FieldSpec = FieldSpec::iana(12, 4);
/// sourceIPv6Address.
pub const SOURCE_IPV6_ADDRESS: FieldSpec = FieldSpec::iana(27, 16);
/// destinationIPv6Address.
pub const DESTINATION_IPV6_ADDRESS: FieldSpec = FieldSpec::iana(28, 16);
/// icmpTypeCodeIPv4 (unsigned16): type times 256 plus code.
pub const ICMP_TYPE_CODE_IPV4: FieldSpec = FieldSpec::iana(32, 2);
/// sourceMacAddress: the source side's MAC address.
pub const SOURCE_MAC_ADDRESS: FieldSpec = FieldSpec::iana(56, 6);
/// vlanId (unsigned16): the outermost VLAN id of the source side's frames.
pub const VLAN_ID: FieldSpec = FieldSpec::iana(58, 2);
/// destinationMacAddress: the MAC address the destination side sent from.
pub const DESTINATION_MAC_ADDRESS: FieldSpec = FieldSpec::iana(80, 6);
/// flowEndReason (unsigned8), see [`crate::ipfix::encoder::flow_end_reason`].
pub const FLOW_END_REASON: FieldSpec = FieldSpec::iana(136, 1);
/// icmpTypeCodeIPv6 (unsigned16): type times 256 plus code.
pub const ICMP_TYPE_CODE_IPV6: FieldSpec = FieldSpec::iana(139, 2);
/// flowStartMilliseconds (dateTimeMilliseconds).
pub const FLOW_START_MILLISECONDS: FieldSpec = FieldSpec::iana(152, 8);
/// flowEndMilliseconds (dateTimeMilliseconds).
pub const FLOW_END_MILLISECONDS: FieldSpec = FieldSpec::iana(153, 8);
/// flowStartNanoseconds (dateTimeNanoseconds, NTP format).
pub const FLOW_START_NANOSECONDS: FieldSpec = FieldSpec::iana(156, 8);
/// flowEndNanoseconds (dateTimeNanoseconds, NTP format).
pub const FLOW_END_NANOSECONDS: FieldSpec = FieldSpec::iana(157, 8);
/// ipTTL (unsigned8): TTL or hop limit of the last packet of the side.
/// minimumTTL (52) would misstate it, because the record keeps the last
/// value, not the smallest.
pub const IP_TTL: FieldSpec = FieldSpec::iana(192, 1);
/// ethernetType (unsigned16).
pub const ETHERNET_TYPE: FieldSpec = FieldSpec::iana(256, 2);
/// transportOctetDeltaCount (unsigned64): transport payload bytes, the
/// record's application bytes.
pub const TRANSPORT_OCTET_DELTA_COUNT: FieldSpec = FieldSpec::iana(401, 8);
/// layer2SegmentId (unsigned64): the overlay segment of a VXLAN flow, the
/// encapsulation type (1 for VXLAN) in the most significant byte and the
/// 24-bit VNI in the three least significant bytes. 0 for other tunnels.
pub const LAYER2_SEGMENT_ID: FieldSpec = FieldSpec::iana(351, 8);

/// nauditd's TCP connection status bits (unsigned32), the engine's
/// `tcp_status` values, 0 for other protocols.
pub const NAUDIT_TCP_STATUS: FieldSpec = FieldSpec::naudit(1, 4);
/// nauditd's report index (unsigned32): the number of this record among its
/// flow's reports, starting at 0.
pub const NAUDIT_REPORT_INDEX: FieldSpec = FieldSpec::naudit(2, 4);
/// The 802.2 LLC source and destination service access points of an
/// 802.3 frame (two unsigned8 values, source first), 0 without LLC.
pub const NAUDIT_LLC_SAPS: FieldSpec = FieldSpec::naudit(3, 2);
/// nauditd's tunnel type (unsigned8): the protocol of the innermost
/// tunnel, numbered as [`crate::ipfix::encoder::tunnel_type_code`] lists.
pub const NAUDIT_TUNNEL_TYPE: FieldSpec = FieldSpec::naudit(4, 1);
/// Source address of the IPv4 header that carries the tunnel, on the
/// flow's source side.
pub const NAUDIT_TUNNEL_SOURCE_IPV4_ADDRESS: FieldSpec = FieldSpec::naudit(5, 4);
/// Destination address of that IPv4 header.
pub const NAUDIT_TUNNEL_DESTINATION_IPV4_ADDRESS: FieldSpec = FieldSpec::naudit(6, 4);
/// Source address of the IPv6 header that carries the tunnel.
pub const NAUDIT_TUNNEL_SOURCE_IPV6_ADDRESS: FieldSpec = FieldSpec::naudit(7, 16);
/// Destination address of that IPv6 header.
pub const NAUDIT_TUNNEL_DESTINATION_IPV6_ADDRESS: FieldSpec = FieldSpec::naudit(8, 16);
/// The tunnel's id (unsigned32): VXLAN or Geneve VNI, GRE key, PPTP call
/// id, ERSPAN session id, GTP-U TEID, L2TP tunnel and session ids, L2TPv3
/// session id; 0 when the header has none.
pub const NAUDIT_TUNNEL_ID: FieldSpec = FieldSpec::naudit(9, 4);
/// Nesting depth of the innermost tunnel (unsigned8), 1 for a single
/// encapsulation.
pub const NAUDIT_TUNNEL_DEPTH: FieldSpec = FieldSpec::naudit(10, 1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_field_is_four_bytes() {
        let mut out = Vec::new();
        PACKET_DELTA_COUNT.write(&mut out);
        assert_eq!(out, [0, 2, 0, 8]);
    }

    #[test]
    fn reverse_field_sets_enterprise_bit() {
        let mut out = Vec::new();
        FieldSpec::reverse(OCTET_DELTA_COUNT).write(&mut out);
        assert_eq!(out, [0x80, 1, 0, 8, 0, 0, 0x72, 0x79]);
    }
}
