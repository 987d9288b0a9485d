//! InfiniBand transport packets: native InfiniBand (link type 247 and ERF
//! InfiniBand records), RoCE version 1 (EtherType 0x8915) and RoCE version
//! 2 (UDP port 4791).
//!
//! The walk reads the Local Route Header, the Global Route Header, the
//! Base Transport Header and its extension headers, and the management
//! datagram header of packets to queue pairs 0 and 1. It leaves the
//! invariant and variant CRCs unchecked. A native packet's addresses are in
//! [`Network::Infiniband`](super::Network::Infiniband), and a RoCEv2
//! packet keeps its IP network layer. Both carry the transport facts in
//! [`Transport::Infiniband`](super::Transport::Infiniband).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

pub mod aeth;
pub mod bth;
pub mod grh;
pub mod lrh;
pub mod mad;
pub mod opcode;
mod walk;

pub use mad::CmMessage;
pub(super) use walk::{walk_native, walk_roce_v1, walk_roce_v2};

/// The EtherType of RoCE version 1.
pub const ETHERTYPE_ROCE: u16 = 0x8915;

/// The UDP destination port of RoCE version 2.
pub const ROCE_V2_PORT: u16 = 4791;

/// Length of the invariant CRC that ends every IBA transport packet.
pub const ICRC_LEN: usize = 4;

/// Length of the variant CRC after the invariant CRC of a native packet.
pub const VCRC_LEN: usize = 2;

/// An InfiniBand endpoint address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IbEndpoint {
    /// A local identifier, from the LRH of a packet without a GRH.
    Lid(u16),
    /// A global identifier, from the GRH.
    Gid([u8; 16]),
    /// The IP address of a RoCEv2 packet.
    Ip(IpAddr),
}

impl fmt::Display for IbEndpoint {
    /// Writes a LID in decimal, a GID in IPv6 notation and an IP address in
    /// its usual form.
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IbEndpoint::Lid(lid) => write!(out, "{lid}"),
            IbEndpoint::Gid(gid) => write!(out, "{}", Ipv6Addr::from(*gid)),
            IbEndpoint::Ip(address) => write!(out, "{address}"),
        }
    }
}

/// The link an InfiniBand packet travelled on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IbLink {
    /// Native InfiniBand, starting with an LRH.
    Native,
    /// RoCE version 1: a GRH in an Ethernet frame.
    RoceV1,
    /// RoCE version 2: a BTH in a UDP datagram.
    RoceV2,
}

impl IbLink {
    /// Lower-case name for records.
    pub fn name(self) -> &'static str {
        match self {
            IbLink::Native => "ib",
            IbLink::RoceV1 => "rocev1",
            IbLink::RoceV2 => "rocev2",
        }
    }
}

/// Network-layer facts of a native InfiniBand or RoCEv1 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IbNetwork {
    /// Source: the GID when a GRH is present, else the LID.
    pub src: IbEndpoint,
    /// Destination, chosen like `src`.
    pub dst: IbEndpoint,
    /// Source LID from the LRH, 0 for RoCEv1.
    pub src_lid: u16,
    /// Destination LID from the LRH, 0 for RoCEv1.
    pub dst_lid: u16,
    /// Service level from the LRH, 0 for RoCEv1.
    pub service_level: u8,
    /// Traffic class of the GRH, 0 without one.
    pub traffic_class: u8,
    /// True when the packet has a GRH.
    pub has_grh: bool,
}

/// Bit flags for [`IbTransport::flags`].
pub mod ib_flag {
    /// Forward explicit congestion notification (BTH).
    pub const FECN: u8 = 0x01;
    /// Backward explicit congestion notification (BTH).
    pub const BECN: u8 = 0x02;
    /// Solicited event (BTH).
    pub const SOLICITED: u8 = 0x04;
    /// Acknowledge request (BTH).
    pub const ACK_REQUEST: u8 = 0x08;
    /// A management datagram to queue pair 0 or 1.
    pub const MAD: u8 = 0x10;
    /// An IP over InfiniBand datagram (RFC 4391): an unreliable-datagram
    /// SEND whose payload starts with an IPv4, IPv6 or ARP EtherType and two
    /// reserved zero bytes.
    pub const IPOIB: u8 = 0x20;
}

/// Transport facts of an InfiniBand packet: the BTH and its extension
/// headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IbTransport {
    /// The link the packet travelled on.
    pub link: IbLink,
    /// BTH operation code.
    pub opcode: u8,
    /// [`ib_flag`] bits.
    pub flags: u8,
    /// Partition key.
    pub pkey: u16,
    /// Destination queue pair.
    pub dest_qp: u32,
    /// Packet sequence number (24 bits).
    pub psn: u32,
    /// Source queue pair from the DETH of a datagram.
    pub src_qp: Option<u32>,
    /// The AETH syndrome byte of an acknowledgment or read response.
    pub syndrome: Option<u8>,
    /// DMA length of the RETH of an RDMA request, 0 without one.
    pub dma_len_bytes: u32,
    /// UDP source port of a RoCEv2 packet, 0 for the other links.
    pub udp_src_port: u16,
    /// Management class of a MAD.
    pub mad_class: Option<u8>,
    /// The connection manager message a MAD carries.
    pub cm: Option<CmMessage>,
}
