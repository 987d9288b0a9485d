//! The flow record: what a worker emits for a flow at each report.

use crate::decode::TunnelSummary;
use crate::flow::key::FlowKey;

/// Reason a record was emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordCause {
    /// First report of a flow that is still open at the end of its first
    /// status interval.
    Start,
    /// Periodic report of a flow that is still open; the record carries the
    /// counts of its interval only.
    Status,
    /// The flow ended: a TCP connection closed with FINs or a reset.
    Closed,
    /// The flow saw no packet for its idle timeout.
    IdleTimeout,
    /// The shard was full and this flow was the least recently active.
    Evicted,
    /// The sensor stopped (end of input or a signal) with the flow open.
    Shutdown,
}

impl RecordCause {
    /// Lower-case name for text, CSV and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            RecordCause::Start => "start",
            RecordCause::Status => "status",
            RecordCause::Closed => "closed",
            RecordCause::IdleTimeout => "idle",
            RecordCause::Evicted => "evicted",
            RecordCause::Shutdown => "shutdown",
        }
    }
}

/// Counts and attributes of one side of a flow in the record's interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirectionStats {
    /// Packets sent.
    pub pkts: u64,
    /// Link-layer bytes on the wire (the captured packets' wire lengths).
    pub bytes: u64,
    /// Transport payload bytes, as the headers' length fields say.
    pub app_bytes: u64,
    /// TTL or hop limit of the last packet sent (0 when no IP packet was).
    pub ttl: u8,
    /// TOS or traffic class byte of the last packet sent.
    pub tos: u8,
    /// IPv4 identification of the last packet sent.
    pub ip_id: u16,
    /// IPv4 option types seen, as [`crate::decode::ipv4_option`] bits.
    pub ip_options: u16,
    /// True when this side sent IP fragments.
    pub fragments: bool,
    /// Source MAC address of this side's last frame, when the link has one.
    /// For a side that sent no frame, the destination MAC address of the
    /// other side's frames, as `argus -m` writes it.
    pub mac: Option<[u8; 6]>,
    /// True when this side's frames came from more than one MAC address.
    pub several_macs: bool,
    /// Outermost VLAN tag control information of this side's last frame.
    pub vlan_tci: Option<u16>,
    /// Smallest packet sent, in wire bytes (0 when none was).
    pub min_packet_bytes: u32,
    /// Largest packet sent, in wire bytes.
    pub max_packet_bytes: u32,
}

/// TCP connection state bits of [`TcpSummary::status`].
pub mod tcp_status {
    /// A SYN without ACK was seen from the source.
    pub const SAW_SYN: u32 = 0x0000_0001;
    /// A SYN with ACK was seen from the destination.
    pub const SAW_SYN_ACK: u32 = 0x0000_0002;
    /// The three-way handshake completed, or data flowed both ways.
    pub const ESTABLISHED: u32 = 0x0000_0004;
    /// A FIN was seen.
    pub const FIN: u32 = 0x0000_0008;
    /// A FIN was acknowledged.
    pub const FIN_ACKED: u32 = 0x0000_0010;
    /// Both FINs were acknowledged: the connection closed normally.
    pub const NORMAL_CLOSE: u32 = 0x0000_0020;
    /// One side closed and the other has not yet.
    pub const CLOSE_WAITING: u32 = 0x0000_0040;
    /// The source retransmitted.
    pub const SRC_RETRANSMITTED: u32 = 0x0000_0100;
    /// The destination retransmitted.
    pub const DST_RETRANSMITTED: u32 = 0x0000_0200;
    /// The source advertised a zero window.
    pub const SRC_WINDOW_SHUT: u32 = 0x0000_0400;
    /// The destination advertised a zero window.
    pub const DST_WINDOW_SHUT: u32 = 0x0000_0800;
    /// The source sent a reset.
    pub const SRC_RESET: u32 = 0x0000_1000;
    /// The destination sent a reset.
    pub const DST_RESET: u32 = 0x0000_2000;
    /// The source's packets carried ECN congestion experienced.
    pub const SRC_CONGESTED: u32 = 0x0000_4000;
    /// The destination's packets carried ECN congestion experienced.
    pub const DST_CONGESTED: u32 = 0x0000_8000;
    /// The source sent segments out of order.
    pub const SRC_OUT_OF_ORDER: u32 = 0x0001_0000;
    /// The destination sent segments out of order.
    pub const DST_OUT_OF_ORDER: u32 = 0x0002_0000;
}

/// TCP facts of one side of a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpDirection {
    /// OR of the TCP flags this side sent.
    pub flags: u8,
    /// TCP options this side sent, as [`crate::decode::tcp_option`] bits.
    pub options: u16,
    /// Initial sequence number (from the SYN, else the first segment).
    pub base_seq: u32,
    /// Next sequence number expected from this side.
    pub next_seq: u32,
    /// Last acknowledgment number this side sent.
    pub last_ack: u32,
    /// Last window this side advertised, unscaled.
    pub window: u16,
    /// Window scale shift this side announced, if it did.
    pub window_scale: Option<u8>,
    /// Segments this side sent again (sequence range already seen).
    pub retransmitted_pkts: u32,
    /// Segments this side sent beyond a gap in its sequence space.
    pub out_of_order_pkts: u32,
    /// Time of this side's last packet, in nanoseconds since the epoch.
    pub last_ns: u64,
}

/// TCP state of a flow at the time of a record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpSummary {
    /// Connection state bits, as [`tcp_status`] values, accumulated over the
    /// flow's life.
    pub status: u32,
    /// Time from the SYN to the SYN-ACK, in nanoseconds, if both were seen.
    pub syn_to_syn_ack_ns: Option<u64>,
    /// Time from the SYN-ACK to the source's ACK, in nanoseconds.
    pub syn_ack_to_ack_ns: Option<u64>,
    /// The source's side.
    pub src: TcpDirection,
    /// The destination's side.
    pub dst: TcpDirection,
}

/// An ICMP or ICMPv6 error message that quoted a packet of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpError {
    /// ICMP type (3 unreachable, 5 redirect, 11 time exceeded, ...).
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
    /// True for ICMPv6.
    pub is_icmpv6: bool,
    /// The router or host that sent the error.
    pub reporter: std::net::IpAddr,
    /// The destination of the error message.
    pub receiver: std::net::IpAddr,
    /// Source address of the quoted packet.
    pub quoted_src: std::net::IpAddr,
    /// Destination address of the quoted packet.
    pub quoted_dst: std::net::IpAddr,
    /// Time of the error message, in nanoseconds since the epoch.
    pub time_ns: u64,
}

/// One report of one flow.
///
/// Source and destination follow the Argus convention: the source is the
/// side that sent the first packet seen, except that a SYN-ACK seen first
/// makes its receiver the source. Every `src` and `dst` field is relative to
/// that orientation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowRecord {
    /// The flow key, source side first.
    pub key: FlowKey,
    /// Why this record was emitted.
    pub cause: RecordCause,
    /// Time of the first packet in this record's interval, in nanoseconds
    /// since the Unix epoch.
    pub start_ns: u64,
    /// Time of the last packet in this record's interval.
    pub last_ns: u64,
    /// What the source sent in this record's interval.
    pub src: DirectionStats,
    /// What the destination sent in this record's interval.
    pub dst: DirectionStats,
    /// TCP state, for TCP flows.
    pub tcp: Option<TcpSummary>,
    /// For ARP flows: the hardware address of the side that answered.
    pub arp_reply_mac: Option<[u8; 6]>,
    /// The last ICMP error that quoted a packet of this flow in the
    /// record's interval.
    pub icmp_error: Option<IcmpError>,
    /// Encapsulations the source's and the destination's packets arrived
    /// in, as [`crate::decode::encapsulation`] bits.
    pub encapsulation: [u32; 2],
    /// The outermost MPLS label (20 bits) of the source's and the
    /// destination's last labelled packet.
    pub mpls_label: [Option<u32>; 2],
    /// Number of this record among its flow's reports, starting at 0.
    pub report_index: u32,
    /// Identifier of the worker that tracked the flow.
    pub worker_id: u16,
    /// The innermost tunnel the flow's first tunnelled packet came through,
    /// with `outer_src` on the flow's source side.
    pub tunnel: Option<TunnelSummary>,
    /// InfiniBand metrics, for InfiniBand and RoCE flows.
    pub ib: Option<crate::flow::ib::IbSummary>,
}
