//! Evaluates a parsed filter on a flow record or a management record.
//!
//! The semantics follow what ra 3.0.8 selects from the same records (checked
//! with `ra -r FILE - EXPRESSION` on nauditd's Argus output):
//!
//! - `host`, `net`: the two IP addresses of IP and ICMP flows, and the
//!   sender and target protocol addresses of ARP flows. Layer-2 flows have
//!   none.
//! - `port`: the ports of TCP and UDP flows only, so ICMP, ARP and other
//!   protocols never match.
//! - `src` and `dst` are the ends of the flow key: the source is the side
//!   that sent first.
//! - A management record matches `man` and no other primitive.

use std::net::{IpAddr, Ipv4Addr};

use naudit_engine::decode::ib::IbEndpoint;
use naudit_engine::flow::{FlowKey, FlowRecord};

use super::ast::{Direction, Expr, ProtocolClass};

const IPPROTO_ICMP: u8 = 1;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;

/// The record a filter is applied to.
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    /// A flow record.
    Flow(&'a FlowRecord),
    /// A management record (MAR).
    Management,
}

impl Expr {
    /// Returns true when `subject` satisfies the expression.
    pub fn matches(&self, subject: Subject<'_>) -> bool {
        match self {
            Expr::Management => matches!(subject, Subject::Management),
            Expr::Not(expr) => !expr.matches(subject),
            Expr::And(left, right) => left.matches(subject) && right.matches(subject),
            Expr::Or(left, right) => left.matches(subject) || right.matches(subject),
            primitive => match subject {
                // The key as the Argus record carries it, so that a RoCEv2
                // flow matches as the UDP flow ra shows.
                Subject::Flow(record) => primitive_matches_key(primitive, &crate::argus::argus_key(record)),
                Subject::Management => false,
            },
        }
    }
}

/// Evaluates a primitive other than `man` on a flow key.
fn primitive_matches_key(primitive: &Expr, key: &FlowKey) -> bool {
    match *primitive {
        Expr::Protocol(class) => protocol_matches(class, key),
        Expr::IpProtocol(number) => key.ip_protocol() == Some(number),
        Expr::Host(direction, host) => {
            endpoints(addresses(key), direction, |address| address == host)
        }
        Expr::Net(direction, network) => {
            endpoints(addresses(key), direction, |address| network.contains(address))
        }
        Expr::Port(direction, range) => endpoints(ports(key), direction, |port| range.contains(port)),
        Expr::Management | Expr::Not(_) | Expr::And(..) | Expr::Or(..) => {
            unreachable!("Expr::matches handles management records and operators")
        }
    }
}

fn protocol_matches(class: ProtocolClass, key: &FlowKey) -> bool {
    match class {
        ProtocolClass::Tcp => key.ip_protocol() == Some(IPPROTO_TCP),
        ProtocolClass::Udp => key.ip_protocol() == Some(IPPROTO_UDP),
        ProtocolClass::Icmp => key.ip_protocol() == Some(IPPROTO_ICMP) && addresses(key).is_some_and(|(src, _)| src.is_ipv4()),
        ProtocolClass::Arp => matches!(key, FlowKey::Arp { .. }),
        ProtocolClass::Ip => key.ip_protocol().is_some(),
        ProtocolClass::Ipv4 => ip_address_family(key) == Some(AddressFamily::V4),
        ProtocolClass::Ipv6 => ip_address_family(key) == Some(AddressFamily::V6),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AddressFamily {
    V4,
    V6,
}

/// Returns the address family of an IP or ICMP flow; ARP and layer-2 flows
/// have none.
fn ip_address_family(key: &FlowKey) -> Option<AddressFamily> {
    match key {
        FlowKey::Ip { src, .. } | FlowKey::Icmp { src, .. } => {
            Some(if src.is_ipv4() { AddressFamily::V4 } else { AddressFamily::V6 })
        }
        FlowKey::Infiniband { src: IbEndpoint::Ip(src), .. } => {
            Some(if src.is_ipv4() { AddressFamily::V4 } else { AddressFamily::V6 })
        }
        FlowKey::Arp { .. } | FlowKey::Layer2 { .. } | FlowKey::Infiniband { .. } => None,
    }
}

/// Returns the source and destination addresses that `host` and `net` test.
fn addresses(key: &FlowKey) -> Option<(IpAddr, IpAddr)> {
    match *key {
        FlowKey::Ip { src, dst, .. } | FlowKey::Icmp { src, dst, .. } => Some((src, dst)),
        FlowKey::Arp { sender_ip, target_ip } => {
            Some((IpAddr::V4(Ipv4Addr::from(sender_ip)), IpAddr::V4(Ipv4Addr::from(target_ip))))
        }
        FlowKey::Infiniband { src: IbEndpoint::Ip(src), dst: IbEndpoint::Ip(dst), .. } => Some((src, dst)),
        FlowKey::Layer2 { .. } | FlowKey::Infiniband { .. } => None,
    }
}

/// Returns the source and destination ports of a TCP or UDP flow.
fn ports(key: &FlowKey) -> Option<(u16, u16)> {
    match *key {
        FlowKey::Ip { protocol: IPPROTO_TCP | IPPROTO_UDP, src_port, dst_port, .. } => Some((src_port, dst_port)),
        _ => None,
    }
}

/// Applies `test` to the ends of a flow that `direction` names; false when
/// the flow has no such values.
fn endpoints<T: Copy>(values: Option<(T, T)>, direction: Direction, test: impl Fn(T) -> bool) -> bool {
    let Some((src, dst)) = values else {
        return false;
    };
    match direction {
        Direction::Src => test(src),
        Direction::Dst => test(dst),
        Direction::SrcOrDst => test(src) || test(dst),
        Direction::SrcAndDst => test(src) && test(dst),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse;
    use super::*;
    use naudit_engine::flow::{DirectionStats, RecordCause};
    use std::net::Ipv6Addr;

    fn record(key: FlowKey) -> FlowRecord {
        FlowRecord {
            key,
            cause: RecordCause::Closed,
            start_ns: 1_000_000_000,
            last_ns: 2_000_000_000,
            src: DirectionStats { pkts: 1, bytes: 60, ..DirectionStats::default() },
            dst: DirectionStats::default(),
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

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    fn ip_flow(protocol: u8, src_port: u16, dst_port: u16) -> FlowRecord {
        record(FlowKey::Ip { src: v4(1), dst: v4(2), protocol, src_port, dst_port, tunnel: Default::default() })
    }

    fn tcp_flow() -> FlowRecord {
        ip_flow(6, 40000, 80)
    }

    fn udp_dns_flow() -> FlowRecord {
        ip_flow(17, 5353, 53)
    }

    fn sctp_flow() -> FlowRecord {
        ip_flow(132, 9, 9)
    }

    fn icmp_flow() -> FlowRecord {
        record(FlowKey::Icmp { src: v4(1), dst: v4(2), icmp_type: 8, code: 0, id: 80, seq: 1, tunnel: Default::default() })
    }

    fn icmpv6_flow() -> FlowRecord {
        let (src, dst) = (IpAddr::V6(Ipv6Addr::LOCALHOST), "ff02::1".parse().unwrap());
        record(FlowKey::Icmp { src, dst, icmp_type: 128, code: 0, id: 1, seq: 1, tunnel: Default::default() })
    }

    fn udp_v6_flow() -> FlowRecord {
        let (src, dst) = ("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap());
        record(FlowKey::Ip { src, dst, protocol: 17, src_port: 5353, dst_port: 53, tunnel: Default::default() })
    }

    fn arp_flow() -> FlowRecord {
        record(FlowKey::Arp { sender_ip: [192, 0, 2, 1], target_ip: [192, 0, 2, 2] })
    }

    fn layer2_flow() -> FlowRecord {
        record(FlowKey::Layer2 { src_mac: [2, 0, 0, 0, 0, 1], dst_mac: [1, 0x80, 0xc2, 0, 0, 0], ethertype: 0, ssap: 0x42, dsap: 0x42 })
    }

    /// Returns which of the named records `expression` selects.
    fn selected(expression: &str) -> Vec<&'static str> {
        let filter = parse(expression).unwrap_or_else(|error| panic!("{expression}: {error}"));
        let records: [(&str, FlowRecord); 9] = [
            ("tcp", tcp_flow()),
            ("udp", udp_dns_flow()),
            ("sctp", sctp_flow()),
            ("icmp", icmp_flow()),
            ("icmpv6", icmpv6_flow()),
            ("udp6", udp_v6_flow()),
            ("arp", arp_flow()),
            ("l2", layer2_flow()),
            ("man", record(FlowKey::Arp { sender_ip: [0; 4], target_ip: [0; 4] })),
        ];
        records
            .iter()
            .filter(|(name, record)| {
                let subject = if *name == "man" { Subject::Management } else { Subject::Flow(record) };
                filter.matches(subject)
            })
            .map(|(name, _)| *name)
            .collect()
    }

    #[test]
    fn protocol_names_select_their_flows() {
        assert_eq!(selected("tcp"), ["tcp"]);
        assert_eq!(selected("udp"), ["udp", "udp6"]);
        assert_eq!(selected("icmp"), ["icmp"]);
        assert_eq!(selected("arp"), ["arp"]);
        assert_eq!(selected("rarp"), ["arp"]);
        assert_eq!(selected("ip"), ["tcp", "udp", "sctp", "icmp", "icmpv6", "udp6"]);
        assert_eq!(selected("ipv4"), ["tcp", "udp", "sctp", "icmp"]);
        assert_eq!(selected("ipv6"), ["icmpv6", "udp6"]);
        assert_eq!(selected("man"), ["man"]);
    }

    #[test]
    fn roce_v2_flow_matches_as_udp() {
        use naudit_engine::decode::ib::{IbEndpoint, IbLink};
        use naudit_engine::flow::ib::IbSummary;

        let key = FlowKey::Infiniband {
            src: IbEndpoint::Ip(v4(1)),
            dst: IbEndpoint::Ip(v4(2)),
            link: IbLink::RoceV2,
            pkey: 0x7fff,
            src_qp: Some(0x11),
            dst_qp: Some(0x22),
        };
        let mut summary = IbSummary::default();
        summary.src.udp_src_port = 49153;
        let flow = FlowRecord { ib: Some(summary), ..record(key) };
        for expression in ["udp", "udp and dst port 4791", "src port 49153", "dst host 192.0.2.2"] {
            let filter = parse(expression).unwrap();
            assert!(filter.matches(Subject::Flow(&flow)), "{expression}");
        }
        assert!(!parse("tcp").unwrap().matches(Subject::Flow(&flow)));
    }

    #[test]
    fn proto_numbers_select_ip_protocols() {
        assert_eq!(selected("proto 132"), ["sctp"]);
        assert_eq!(selected("proto 58"), ["icmpv6"]);
        assert_eq!(selected("ip proto 1"), ["icmp"]);
    }

    #[test]
    fn operators_combine_selections() {
        assert_eq!(selected("not ip"), ["arp", "l2", "man"]);
        assert_eq!(selected("!ip && !man"), ["arp", "l2"]);
        assert_eq!(selected("tcp or arp"), ["tcp", "arp"]);
        assert_eq!(selected("tcp || arp"), ["tcp", "arp"]);
        assert_eq!(selected("udp and ipv6"), ["udp6"]);
        assert_eq!(selected("man or (tcp)"), ["tcp", "man"]);
        assert_eq!(selected("not (tcp or udp)"), ["sctp", "icmp", "icmpv6", "arp", "l2", "man"]);
    }

    #[test]
    fn precedence_is_left_to_right() {
        // (udp or tcp) and port 53: the TCP flow uses port 80.
        assert_eq!(selected("udp or tcp and port 53"), ["udp", "udp6"]);
        // (tcp and port 53) or udp.
        assert_eq!(selected("tcp and port 53 or udp"), ["udp", "udp6"]);
        assert_eq!(selected("tcp or udp and not port 53"), ["tcp"]);
    }

    #[test]
    fn ports_apply_to_tcp_and_udp_only() {
        assert_eq!(selected("port 80"), ["tcp"]);
        assert_eq!(selected("dst port 80"), ["tcp"]);
        assert_eq!(selected("src port 80"), Vec::<&str>::new());
        assert_eq!(selected("port 9"), Vec::<&str>::new(), "SCTP ports do not count");
        assert_eq!(selected("port 0"), Vec::<&str>::new(), "ICMP, ARP and layer-2 flows have no ports");
        assert_eq!(selected("port 53-80"), ["tcp", "udp", "udp6"]);
        assert_eq!(selected("src and dst port 5353-40000"), Vec::<&str>::new());
        assert_eq!(selected("src and dst port 53-40000"), ["tcp", "udp", "udp6"]);
    }

    #[test]
    fn hosts_and_nets_cover_ip_icmp_and_arp() {
        assert_eq!(selected("host 192.0.2.1"), ["tcp", "udp", "sctp", "icmp", "arp"]);
        assert_eq!(selected("src host 192.0.2.2"), Vec::<&str>::new());
        assert_eq!(selected("dst host 192.0.2.2"), ["tcp", "udp", "sctp", "icmp", "arp"]);
        assert_eq!(selected("arp and dst 192.0.2.2"), ["arp"]);
        assert_eq!(selected("src and dst net 192.0.2.0/24"), ["tcp", "udp", "sctp", "icmp", "arp"]);
        assert_eq!(selected("net 2001:db8::/32"), ["udp6"]);
        assert_eq!(selected("dst net ff02::/16"), ["icmpv6"]);
        assert_eq!(selected("net 0.0.0.0/0"), ["tcp", "udp", "sctp", "icmp", "arp"]);
    }
}
