//! The parsed form of a filter expression.

use std::net::IpAddr;

/// A filter expression as a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// `man`: true for management records (MARs) only.
    Management,
    /// A protocol name: `tcp`, `udp`, `icmp`, `arp`, `ip`, ...
    Protocol(ProtocolClass),
    /// `proto N` or `ip proto N`: an IP or ICMP flow of IP protocol N.
    IpProtocol(u8),
    /// `host A`: an address of the flow is A.
    Host(Direction, IpAddr),
    /// `net A/len`: an address of the flow is in the network.
    Net(Direction, IpNetwork),
    /// `port N` or `port N-M`: a TCP or UDP port of the flow is in the range.
    Port(Direction, PortRange),
    /// `not E` or `!E`.
    Not(Box<Expr>),
    /// `E and F` or `E && F`.
    And(Box<Expr>, Box<Expr>),
    /// `E or F` or `E || F`.
    Or(Box<Expr>, Box<Expr>),
}

/// The end of a flow that a host, net or port primitive tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `src`: the flow's source.
    Src,
    /// `dst`: the flow's destination.
    Dst,
    /// `src or dst`, the default: either end.
    SrcOrDst,
    /// `src and dst`: both ends.
    SrcAndDst,
}

/// The protocol names of the filter language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolClass {
    /// `tcp`: IP protocol 6.
    Tcp,
    /// `udp`: IP protocol 17.
    Udp,
    /// `icmp`: IPv4 ICMP (protocol 1). ICMPv6 is `proto 58`, as in ra.
    Icmp,
    /// `arp` and `rarp`: ARP flows. ra 3.0.8 matches ARP flows with both
    /// names.
    Arp,
    /// `ip`: IPv4 or IPv6 flows of any protocol.
    Ip,
    /// `ipv4`: IPv4 flows.
    Ipv4,
    /// `ipv6`: IPv6 flows.
    Ipv6,
}

/// An IP network: an address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNetwork {
    /// The network address, with the bits past the prefix cleared.
    pub address: IpAddr,
    /// Prefix length in bits: at most 32 for IPv4 and 128 for IPv6.
    pub prefix_bits: u8,
}

impl IpNetwork {
    /// Creates a network from any address in it. Returns `None` when the
    /// prefix is longer than the address.
    pub fn new(address: IpAddr, prefix_bits: u8) -> Option<IpNetwork> {
        let address = match address {
            IpAddr::V4(v4) => {
                let mask = prefix_mask_u32(prefix_bits)?;
                IpAddr::V4((u32::from(v4) & mask).into())
            }
            IpAddr::V6(v6) => {
                let mask = prefix_mask_u128(prefix_bits)?;
                IpAddr::V6((u128::from(v6) & mask).into())
            }
        };
        Some(IpNetwork { address, prefix_bits })
    }

    /// Returns true when `address` is in the network. Addresses of the other
    /// family never are.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.address, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = prefix_mask_u32(self.prefix_bits).unwrap_or(u32::MAX);
                u32::from(address) & mask == u32::from(network)
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = prefix_mask_u128(self.prefix_bits).unwrap_or(u128::MAX);
                u128::from(address) & mask == u128::from(network)
            }
            _ => false,
        }
    }
}

fn prefix_mask_u32(prefix_bits: u8) -> Option<u32> {
    match prefix_bits {
        0 => Some(0),
        1..=32 => Some(u32::MAX << (32 - prefix_bits)),
        _ => None,
    }
}

fn prefix_mask_u128(prefix_bits: u8) -> Option<u128> {
    match prefix_bits {
        0 => Some(0),
        1..=128 => Some(u128::MAX << (128 - prefix_bits)),
        _ => None,
    }
}

/// An inclusive range of port numbers; a single port is a range of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    /// Lowest port in the range.
    pub first: u16,
    /// Highest port in the range.
    pub last: u16,
}

impl PortRange {
    /// Returns true when `port` is in the range.
    pub fn contains(&self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn network_clears_host_bits() {
        let network = IpNetwork::new(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)), 8).unwrap();
        assert_eq!(network.address, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)));
        assert!(network.contains(IpAddr::V4(Ipv4Addr::new(10, 255, 0, 1))));
        assert!(!network.contains(IpAddr::V4(Ipv4Addr::new(11, 0, 0, 1))));
    }

    #[test]
    fn network_prefix_limits() {
        assert!(IpNetwork::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 33).is_none());
        assert!(IpNetwork::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 129).is_none());
        let everything = IpNetwork::new(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)), 0).unwrap();
        assert!(everything.contains(IpAddr::V4(Ipv4Addr::BROADCAST)));
        let single = IpNetwork::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 128).unwrap();
        assert!(single.contains(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    }

    #[test]
    fn network_never_contains_other_family() {
        let network = IpNetwork::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0).unwrap();
        assert!(!network.contains(IpAddr::V6(Ipv6Addr::UNSPECIFIED)));
    }

    #[test]
    fn port_range_is_inclusive() {
        let range = PortRange { first: 53, last: 80 };
        assert!(range.contains(53));
        assert!(range.contains(80));
        assert!(!range.contains(81));
    }
}
