//! Flow state that most flows never fill, kept out of the flow's slot.
//!
//! A flow's slot contains what every packet updates: its key, times and
//! per-side counters. TCP trackers and the rare record fields (tunnel,
//! ICMP error, MPLS labels, ARP answer, DNS transaction) live in pools that
//! a shard allocates once, and a flow keeps a 32-bit handle to its entry
//! only while it needs one. A UDP flow without a tunnel thus carries no TCP
//! tracker and none of these fields.

use crate::decode::TunnelSummary;
use crate::flow::pool::Pool;
use crate::flow::record::IcmpError;
use crate::flow::tcp::TcpTracker;

/// Record fields that few flows have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowExtras {
    /// The innermost tunnel of the flow's first tunnelled packet, with
    /// `outer_src` on the flow's source side.
    pub tunnel: Option<TunnelSummary>,
    /// The last ICMP error that quoted a packet of the flow in the current
    /// interval.
    pub icmp_error: Option<IcmpError>,
    /// Top MPLS label of each side's last labelled packet (source, then
    /// destination).
    pub mpls_label: [Option<u32>; 2],
    /// For ARP: the hardware address of the side that sent the reply.
    pub arp_reply_mac: Option<[u8; 6]>,
    /// For DNS over UDP: the transaction identifier of the flow's query.
    pub dns_id: Option<u16>,
}

/// The pools of one shard.
#[derive(Debug)]
pub struct FlowTables {
    /// TCP trackers of TCP flows.
    pub tcp: Pool<TcpTracker>,
    /// Rare record fields.
    pub extras: Pool<FlowExtras>,
}

impl FlowTables {
    /// Starts loading the TCP tracker of `tcp_handle`, when there is one,
    /// into the cache.
    #[inline]
    pub fn prefetch_tcp(&self, tcp_handle: u32) {
        if tcp_handle != crate::flow::pool::NO_ENTRY {
            self.tcp.prefetch(tcp_handle);
        }
    }

    /// Creates pools for a shard of `capacity_flows` flows, made resident
    /// ahead of use when `resident_ahead` is set.
    pub fn with_capacity(capacity_flows: usize, resident_ahead: bool) -> FlowTables {
        FlowTables {
            tcp: Pool::with_capacity(capacity_flows, resident_ahead),
            extras: Pool::with_capacity(capacity_flows, resident_ahead),
        }
    }
}
