//! The state of one flow between two reports: counters per direction, the
//! TCP tracker, and the bookkeeping that turns them into a record.

use crate::decode::{Decoded, Network, Transport, TunnelSummary};
use crate::flow::key::{FlowKey, KeyDirection};
use crate::flow::record::{DirectionStats, FlowRecord, IcmpError, RecordCause};
use crate::flow::tcp::{Side, TcpTracker};

/// Facts of one packet that the flow layer uses.
#[derive(Clone, Copy, Debug)]
pub struct PacketFacts<'d> {
    /// Capture time in nanoseconds since the epoch.
    pub time_ns: u64,
    /// Bytes to count: the wire length less any capture pseudo-header.
    pub bytes: u32,
    /// The decoded headers.
    pub decoded: &'d Decoded,
}

/// Counters and attributes of the current report interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Interval {
    first_ns: u64,
    last_ns: u64,
    src: DirectionStats,
    dst: DirectionStats,
}

impl Interval {
    fn is_empty(&self) -> bool {
        self.src.pkts == 0 && self.dst.pkts == 0
    }
}

/// One flow as a shard holds it.
#[derive(Clone, Copy, Debug)]
pub struct FlowState {
    /// The flow's key in canonical order.
    pub key: FlowKey,
    /// Which canonical direction the flow's source sends in.
    pub source_direction: KeyDirection,
    /// Time of the flow's last packet.
    pub last_ns: u64,
    /// TCP tracker, for TCP flows.
    pub tcp: Option<TcpTracker>,
    /// Number of records emitted for this flow so far.
    pub report_index: u32,
    /// For ARP: the hardware address of the side that answered.
    pub arp_reply_mac: Option<[u8; 6]>,
    /// For DNS over UDP: the transaction identifier of the flow's query.
    pub dns_id: Option<u16>,
    /// The innermost tunnel of the flow's first tunnelled packet, with
    /// `outer_src` on the flow's source side.
    pub tunnel: Option<TunnelSummary>,
    interval: Interval,
    icmp_error: Option<IcmpError>,
    encapsulation: [u32; 2],
    mpls_label: [Option<u32>; 2],
}

/// ARP opcodes of answers: reply (2) and RARP reply (4), RFC 826 and 903.
const ARP_REPLY_OPCODES: [u16; 2] = [2, 4];

impl FlowState {
    /// Starts a flow whose first packet travels in `packet_direction` of the
    /// canonical `key`.
    ///
    /// The sender of the first packet becomes the source, except that an
    /// answer seen first (a TCP SYN-ACK, an ARP reply) makes its receiver
    /// the source, as argus does.
    pub fn new(key: FlowKey, packet_direction: KeyDirection, decoded: &Decoded) -> FlowState {
        let syn_ack_first = matches!(
            decoded.transport,
            Transport::Tcp(tcp) if tcp.flags & crate::decode::tcp_flag::SYN != 0
                && tcp.flags & crate::decode::tcp_flag::ACK != 0
        );
        let arp_reply_first = matches!(decoded.network, Network::Arp(arp) if ARP_REPLY_OPCODES.contains(&arp.opcode));
        let answer_first = syn_ack_first || arp_reply_first;
        let source_direction = if answer_first { packet_direction.flipped() } else { packet_direction };
        let is_tcp = matches!(key, FlowKey::Ip { protocol: 6, .. });
        FlowState {
            key,
            source_direction,
            last_ns: 0,
            tcp: is_tcp.then(TcpTracker::default),
            report_index: 0,
            arp_reply_mac: None,
            dns_id: None,
            tunnel: None,
            interval: Interval::default(),
            icmp_error: None,
            encapsulation: [0; 2],
            mpls_label: [None; 2],
        }
    }

    /// True when the current interval has no packet yet.
    pub fn interval_is_empty(&self) -> bool {
        self.interval.is_empty()
    }

    /// Time of the first packet of the current interval.
    pub fn interval_first_ns(&self) -> u64 {
        self.interval.first_ns
    }

    /// True once the conversation is over: a TCP connection closed (FINs
    /// acknowledged or a reset), or an ARP request was answered.
    pub fn is_closed(&self) -> bool {
        self.tcp.is_some_and(|tcp| tcp.is_closed()) || self.arp_reply_mac.is_some()
    }

    /// Decides whether `decoded` opens a new conversation on this flow's
    /// key, so that the flow must end first. That is a SYN after a TCP close,
    /// an ARP request after the reply, or a DNS query with a new transaction
    /// identifier, because argus reports each DNS transaction on its own.
    pub fn is_superseded_by(&self, decoded: &Decoded) -> bool {
        if let Some(dns) = decoded.dns {
            if !dns.is_response && self.dns_id.is_some_and(|id| id != dns.id) {
                return true;
            }
        }
        if !self.is_closed() {
            return false;
        }
        match (&decoded.transport, &decoded.network) {
            (Transport::Tcp(tcp), _) => {
                tcp.flags & (crate::decode::tcp_flag::SYN | crate::decode::tcp_flag::ACK)
                    == crate::decode::tcp_flag::SYN
            }
            (_, Network::Arp(arp)) => !ARP_REPLY_OPCODES.contains(&arp.opcode),
            _ => false,
        }
    }

    /// Notes an ICMP error that quoted one of this flow's packets: the
    /// record shows the error, and its last time covers it.
    pub fn note_icmp_error(&mut self, error: IcmpError) {
        if !self.interval.is_empty() {
            self.interval.last_ns = self.interval.last_ns.max(error.time_ns);
        }
        self.icmp_error = Some(error);
    }

    /// Adds one packet travelling in `packet_direction` of the canonical key.
    pub fn add_packet(&mut self, packet: &PacketFacts<'_>, packet_direction: KeyDirection) {
        let side = if packet_direction == self.source_direction { Side::Source } else { Side::Destination };
        let decoded = packet.decoded;
        let interval = &mut self.interval;
        if interval.is_empty() {
            interval.first_ns = packet.time_ns;
            interval.last_ns = packet.time_ns;
        } else {
            interval.first_ns = interval.first_ns.min(packet.time_ns);
            interval.last_ns = interval.last_ns.max(packet.time_ns);
        }
        self.last_ns = self.last_ns.max(packet.time_ns);

        let stats = match side {
            Side::Source => &mut interval.src,
            Side::Destination => &mut interval.dst,
        };
        if stats.pkts == 0 {
            stats.min_packet_bytes = packet.bytes;
        }
        stats.pkts += 1;
        stats.bytes += u64::from(packet.bytes);
        stats.app_bytes += u64::from(decoded.app_bytes);
        stats.min_packet_bytes = stats.min_packet_bytes.min(packet.bytes);
        stats.max_packet_bytes = stats.max_packet_bytes.max(packet.bytes);

        let link = &decoded.link;
        let side_index = usize::from(side == Side::Destination);
        self.encapsulation[side_index] |= decoded.encapsulation;
        if link.mpls_count > 0 {
            self.mpls_label[side_index] = Some(link.mpls_labels[0]);
        }
        if let Some(mac) = link.src_mac {
            if stats.mac.is_some_and(|seen| seen != mac) {
                stats.several_macs = true;
            }
            stats.mac = Some(mac);
        }
        if link.vlan_count > 0 {
            stats.vlan_tci = Some(link.vlan_ids[0]);
        }

        let ip = match decoded.network {
            Network::Ipv4(ip) | Network::Ipv6(ip) => Some(ip),
            Network::Arp(arp) => {
                if side == Side::Destination && ARP_REPLY_OPCODES.contains(&arp.opcode) {
                    self.arp_reply_mac = Some(arp.sender_mac);
                }
                None
            }
            Network::None | Network::Infiniband(_) => None,
        };
        if let Some(ip) = ip {
            stats.ttl = ip.ttl;
            stats.tos = ip.tos;
            stats.ip_id = ip.ip_id;
            stats.ip_options |= ip.options;
            stats.fragments |= ip.fragment.is_some();
        }

        if let (None, Some(tunnel)) = (self.tunnel, decoded.tunnel) {
            self.tunnel = Some(match side {
                Side::Source => tunnel,
                Side::Destination => TunnelSummary { outer_src: tunnel.outer_dst, outer_dst: tunnel.outer_src, ..tunnel },
            });
        }

        if let Some(dns) = decoded.dns {
            if !dns.is_response {
                self.dns_id.get_or_insert(dns.id);
            }
        }

        if let (Some(tracker), Transport::Tcp(tcp)) = (self.tcp.as_mut(), &decoded.transport) {
            let tos = ip.map_or(0, |ip| ip.tos);
            tracker.update(side, tcp, tos, decoded.app_bytes, packet.time_ns);
        }
    }

    /// Builds the record of the current interval and starts a new one.
    /// Returns `None` when the interval has no packet.
    pub fn take_record(&mut self, cause: RecordCause, worker_id: u16) -> Option<FlowRecord> {
        if self.interval.is_empty() {
            return None;
        }
        let interval = std::mem::take(&mut self.interval);
        let record = FlowRecord {
            key: self.key.oriented(self.source_direction),
            cause,
            start_ns: interval.first_ns,
            last_ns: interval.last_ns,
            src: interval.src,
            dst: interval.dst,
            tcp: self.tcp.map(|tcp| tcp.summary()),
            arp_reply_mac: self.arp_reply_mac,
            icmp_error: self.icmp_error.take(),
            encapsulation: self.encapsulation,
            mpls_label: self.mpls_label,
            report_index: self.report_index,
            worker_id,
            tunnel: self.tunnel,
            ib: None,
        };
        self.report_index += 1;
        if let Some(tcp) = self.tcp.as_mut() {
            tcp.start_interval();
        }
        Some(record)
    }
}
