//! The state of one flow between two reports: what every packet updates,
//! kept compact in the flow's slot, with handles to the TCP tracker and the
//! rare fields in the shard's [`FlowTables`].

use crate::decode::{Decoded, Network, Transport, TunnelSummary};
use crate::flow::extras::{FlowExtras, FlowTables};
use crate::flow::key::{FlowKey, KeyDirection};
use crate::flow::pool::NO_ENTRY;
use crate::flow::record::{FlowRecord, IcmpError, RecordCause};
use crate::flow::side::SideCounters;
use crate::flow::stored_key::StoredKey;
use crate::flow::tcp::{Side, TcpTracker};
use crate::flow::timeouts::TimeoutClass;

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

/// Counters and attributes of the current report interval. Once the
/// interval has a packet, its last packet is the flow's last packet, so it
/// keeps no last time of its own and uses [`FlowState::last_ns`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
struct Interval {
    first_ns: u64,
    /// The source's side, then the destination's.
    sides: [SideCounters; 2],
}

impl Interval {
    fn is_empty(&self) -> bool {
        self.sides[0].pkts == 0 && self.sides[1].pkts == 0
    }

    fn is_full(&self) -> bool {
        self.sides[0].is_full() || self.sides[1].is_full()
    }
}

/// Bits of [`FlowState::marks`].
mod mark {
    /// The flow's source sends in the canonical key's reverse direction.
    pub const SOURCE_REVERSE: u8 = 1 << 0;
    /// The TCP connection closed: FINs acknowledged or a reset.
    pub const TCP_CLOSED: u8 = 1 << 1;
    /// An ARP request got its reply.
    pub const ARP_ANSWERED: u8 = 1 << 2;
    /// The marks of a conversation that is over.
    pub const CLOSED: u8 = TCP_CLOSED | ARP_ANSWERED;
    /// A TCP FIN passed: the connection is closing, so a later packet may
    /// close it.
    pub const TCP_FIN_SEEN: u8 = 1 << 3;
    /// The flow's [`super::TimeoutClass`] sits in the bits from here up.
    pub const CLASS_SHIFT: u32 = 4;
}

// The classes must fit the bits above the other marks.
const _: () = assert!(TimeoutClass::COUNT <= 1 << (8 - mark::CLASS_SHIFT));

/// One flow in its shard's slot, in 160 bytes: the packed key, then one
/// byte of [`mark`] bits, so that no field needs padding.
///
/// The state owns entries in the shard's [`FlowTables`]:
/// [`FlowState::release`] must free them before the state is dropped.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct FlowState {
    /// The flow's key in canonical order.
    key: StoredKey,
    /// [`mark`] bits: the source's direction, the closing state and the
    /// class whose list the shard keeps the flow in, which every packet
    /// needs.
    marks: u8,
    /// Number of records emitted for this flow so far.
    pub report_index: u32,
    /// Time of the flow's last packet.
    pub last_ns: u64,
    interval: Interval,
    encapsulation: [u32; 2],
    tcp: u32,
    extras: u32,
}

/// Bytes of a [`FlowState`].
pub const FLOW_STATE_BYTES: usize = 160;

const _: () = assert!(std::mem::size_of::<FlowState>() == FLOW_STATE_BYTES);

/// ARP opcodes of answers: reply (2) and RARP reply (4), RFC 826 and 903.
const ARP_REPLY_OPCODES: [u16; 2] = [2, 4];

impl FlowState {
    /// Starts a flow whose first packet travels in `packet_direction` of the
    /// canonical `key`, taking a TCP tracker from `tables` for TCP.
    ///
    /// The sender of the first packet becomes the source, except that an
    /// answer seen first (a TCP SYN-ACK, an ARP reply) makes its receiver
    /// the source, as argus does.
    pub fn new(
        key: FlowKey,
        packet_direction: KeyDirection,
        decoded: &Decoded,
        tables: &mut FlowTables,
    ) -> FlowState {
        let syn_ack_first = matches!(
            decoded.transport,
            Transport::Tcp(tcp) if tcp.flags & crate::decode::tcp_flag::SYN != 0
                && tcp.flags & crate::decode::tcp_flag::ACK != 0
        );
        let arp_reply_first =
            matches!(decoded.network, Network::Arp(arp) if ARP_REPLY_OPCODES.contains(&arp.opcode));
        let answer_first = syn_ack_first || arp_reply_first;
        let source_direction = if answer_first {
            packet_direction.flipped()
        } else {
            packet_direction
        };
        let is_tcp = matches!(key, FlowKey::Ip { protocol: 6, .. });
        let source_mark = if source_direction == KeyDirection::Reverse { mark::SOURCE_REVERSE } else { 0 };
        let mut state = FlowState {
            key: StoredKey::pack(&key),
            marks: source_mark,
            report_index: 0,
            last_ns: 0,
            interval: Interval::default(),
            encapsulation: [0; 2],
            tcp: if is_tcp {
                tables.tcp.insert(TcpTracker::default())
            } else {
                NO_ENTRY
            },
            extras: NO_ENTRY,
        };
        state.set_class(TimeoutClass::of(&key));
        state
    }

    /// Returns the flow's key in canonical order.
    pub fn key(&self) -> FlowKey {
        self.key.unpack()
    }

    /// Returns the flow's key as the slot stores it.
    #[inline]
    pub fn stored_key(&self) -> &StoredKey {
        &self.key
    }

    /// Returns the canonical direction that the flow's source sends in.
    #[inline]
    pub fn source_direction(&self) -> KeyDirection {
        if self.marks & mark::SOURCE_REVERSE != 0 {
            KeyDirection::Reverse
        } else {
            KeyDirection::Forward
        }
    }

    /// Returns the class whose list the shard keeps the flow in.
    #[inline]
    pub fn class(&self) -> TimeoutClass {
        match self.marks >> mark::CLASS_SHIFT {
            0 => TimeoutClass::Tcp,
            1 => TimeoutClass::OtherIp,
            2 => TimeoutClass::Icmp,
            3 => TimeoutClass::Arp,
            4 => TimeoutClass::Layer2,
            _ => TimeoutClass::Closed,
        }
    }

    /// Notes the class whose list the shard keeps the flow in.
    #[inline]
    pub fn set_class(&mut self, class: TimeoutClass) {
        let low_marks = self.marks & ((1 << mark::CLASS_SHIFT) - 1);
        self.marks = low_marks | (class as u8) << mark::CLASS_SHIFT;
    }

    /// Sets the source side's packet count, so that tests can reach a full
    /// interval without four billion packets.
    #[cfg(test)]
    pub(crate) fn set_source_packets(&mut self, pkts: u32) {
        self.interval.sides[0].pkts = pkts;
    }

    /// True when a side's packet count is full, so that the interval must
    /// end before the flow takes another packet.
    #[inline]
    pub fn interval_is_full(&self) -> bool {
        self.interval.is_full()
    }

    /// Returns the flow's entries to `tables`.
    pub fn release(&mut self, tables: &mut FlowTables) {
        if self.tcp != NO_ENTRY {
            tables
                .tcp
                .remove(std::mem::replace(&mut self.tcp, NO_ENTRY));
        }
        if self.extras != NO_ENTRY {
            tables
                .extras
                .remove(std::mem::replace(&mut self.extras, NO_ENTRY));
        }
    }

    /// Returns the handle of the flow's TCP tracker in its shard's
    /// [`FlowTables`], or [`NO_ENTRY`] for a flow that is not TCP.
    pub fn tcp_handle(&self) -> u32 {
        self.tcp
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
        self.marks & mark::CLOSED != 0
    }

    /// Returns true when a packet with TCP `tcp_flags` may close the flow: a
    /// FIN, a reset, or any packet after a FIN. It is a guess for
    /// prefetching only.
    #[inline]
    pub fn may_close_with(&self, tcp_flags: u8) -> bool {
        let closing_flags = crate::decode::tcp_flag::FIN | crate::decode::tcp_flag::RST;
        self.marks & mark::CLOSED == 0 && (self.marks & mark::TCP_FIN_SEEN != 0 || tcp_flags & closing_flags != 0)
    }

    fn extras<'t>(&self, tables: &'t FlowTables) -> Option<&'t FlowExtras> {
        (self.extras != NO_ENTRY).then(|| tables.extras.get(self.extras))
    }

    fn extras_mut<'t>(&mut self, tables: &'t mut FlowTables) -> &'t mut FlowExtras {
        if self.extras == NO_ENTRY {
            self.extras = tables.extras.insert(FlowExtras::default());
        }
        tables.extras.get_mut(self.extras)
    }

    /// Decides whether `decoded` opens a new conversation on this flow's
    /// key, so that the flow must end first. That is a SYN after a TCP close,
    /// an ARP request after the reply, or a DNS query with a new transaction
    /// identifier, because argus reports each DNS transaction on its own.
    pub fn is_superseded_by(&self, decoded: &Decoded, tables: &FlowTables) -> bool {
        if let Some(dns) = decoded.dns {
            let query_id = self.extras(tables).and_then(|extras| extras.dns_id);
            if !dns.is_response && query_id.is_some_and(|id| id != dns.id) {
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
    pub fn note_icmp_error(&mut self, error: IcmpError, tables: &mut FlowTables) {
        self.extras_mut(tables).icmp_error = Some(error);
    }

    /// Adds one packet travelling in `packet_direction` of the canonical key.
    pub fn add_packet(
        &mut self,
        packet: &PacketFacts<'_>,
        packet_direction: KeyDirection,
        tables: &mut FlowTables,
    ) {
        let side = if packet_direction == self.source_direction() {
            Side::Source
        } else {
            Side::Destination
        };
        let side_index = usize::from(side == Side::Destination);
        let decoded = packet.decoded;
        let interval = &mut self.interval;
        if interval.is_empty() {
            interval.first_ns = packet.time_ns;
        } else {
            interval.first_ns = interval.first_ns.min(packet.time_ns);
        }
        self.last_ns = self.last_ns.max(packet.time_ns);

        let link = &decoded.link;
        if let Some(mac) = link.dst_mac {
            interval.sides[1 - side_index].note_peer_mac(mac);
        }
        let counters = &mut interval.sides[side_index];
        counters.add_packet(packet.bytes, decoded.app_bytes);
        if let Some(mac) = link.src_mac {
            counters.note_mac(mac);
        }
        if link.vlan_count > 0 {
            counters.note_vlan(link.vlan_ids[0]);
        }
        let ip = match decoded.network {
            Network::Ipv4(ip) | Network::Ipv6(ip) => Some(ip),
            Network::Arp(_) | Network::None | Network::Infiniband(_) => None,
        };
        if let Some(ip) = &ip {
            counters.note_ip(ip);
        }
        self.encapsulation[side_index] |= decoded.encapsulation;
        if link.mpls_count > 0 {
            self.extras_mut(tables).mpls_label[side_index] = Some(link.mpls_labels[0]);
        }
        if let Network::Arp(arp) = decoded.network {
            if side == Side::Destination && ARP_REPLY_OPCODES.contains(&arp.opcode) {
                self.extras_mut(tables).arp_reply_mac = Some(arp.sender_mac);
                self.marks |= mark::ARP_ANSWERED;
            }
        }
        if let Some(tunnel) = decoded.tunnel {
            let extras = self.extras_mut(tables);
            if extras.tunnel.is_none() {
                extras.tunnel = Some(match side {
                    Side::Source => tunnel,
                    Side::Destination => TunnelSummary {
                        outer_src: tunnel.outer_dst,
                        outer_dst: tunnel.outer_src,
                        ..tunnel
                    },
                });
            }
        }
        if let Some(dns) = decoded.dns {
            if !dns.is_response {
                self.extras_mut(tables).dns_id.get_or_insert(dns.id);
            }
        }

        if let (true, Transport::Tcp(tcp)) = (self.tcp != NO_ENTRY, &decoded.transport) {
            let tos = ip.map_or(0, |ip| ip.tos);
            let tracker = tables.tcp.get_mut(self.tcp);
            tracker.update(side, tcp, tos, decoded.app_bytes, packet.time_ns);
            if tracker.is_closed() {
                self.marks |= mark::TCP_CLOSED;
            }
            if tcp.flags & crate::decode::tcp_flag::FIN != 0 {
                self.marks |= mark::TCP_FIN_SEEN;
            }
        }
    }

    /// Builds the record of the current interval and starts a new one.
    /// Returns `None` when the interval has no packet.
    pub fn take_record(
        &mut self,
        cause: RecordCause,
        worker_id: u16,
        tables: &mut FlowTables,
    ) -> Option<FlowRecord> {
        if self.interval.is_empty() {
            return None;
        }
        let interval = std::mem::take(&mut self.interval);
        let tcp = (self.tcp != NO_ENTRY).then(|| tables.tcp.get_mut(self.tcp));
        let summary = tcp.map(|tracker| {
            let summary = tracker.summary();
            tracker.start_interval();
            summary
        });
        let extras = if self.extras == NO_ENTRY {
            FlowExtras::default()
        } else {
            let stored = tables.extras.get_mut(self.extras);
            let extras = *stored;
            stored.icmp_error = None;
            extras
        };
        let report_index = self.report_index;
        self.report_index += 1;
        Some(FlowRecord {
            key: self.key().oriented(self.source_direction()),
            cause,
            start_ns: interval.first_ns,
            last_ns: extras.icmp_error.map_or(self.last_ns, |error| self.last_ns.max(error.time_ns)),
            src: interval.sides[0].to_stats(),
            dst: interval.sides[1].to_stats(),
            tcp: summary,
            arp_reply_mac: extras.arp_reply_mac,
            icmp_error: extras.icmp_error,
            encapsulation: self.encapsulation,
            mpls_label: extras.mpls_label,
            report_index,
            worker_id,
            tunnel: extras.tunnel,
            ib: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_keep_class_direction_and_closing() {
        let key = FlowKey::Arp { sender_ip: [10, 0, 0, 1], target_ip: [10, 0, 0, 2] };
        let mut tables = FlowTables::with_capacity(4, false);
        let decoded = Decoded::EMPTY;
        let mut state = FlowState::new(key, KeyDirection::Reverse, &decoded, &mut tables);
        assert_eq!(state.class(), TimeoutClass::Arp);
        assert_eq!(state.source_direction(), KeyDirection::Reverse);
        state.marks |= mark::ARP_ANSWERED;
        for class in TimeoutClass::ALL {
            state.set_class(class);
            assert_eq!(state.class(), class);
            assert_eq!(state.source_direction(), KeyDirection::Reverse);
            assert!(state.is_closed());
        }
        assert_eq!(state.key(), key);
    }
}
