//! The flow shard: every flow one worker owns, in a table of bounded size.
//!
//! Flow state lives in a slot array reserved at start, with TCP trackers
//! and rare fields in the pools of [`FlowTables`]. A hash index
//! ([`FlowIndex`]) maps canonical keys to slots. Each timeout class keeps
//! its flows in a doubly linked list in order of last activity, to within
//! the class's relink granularity ([`crate::flow::relink`]), with the
//! links in an array of their own. Idle flows are thus found at the list
//! heads, and the least recently active flow is the one evicted when the
//! shard is full. A FIFO of interval start times finds the flows whose
//! status report is due. Time is packet time: the shard's clock is
//! the latest packet time it has seen, or what the worker passes to
//! [`FlowShard::advance_time`].

use std::collections::VecDeque;

use crate::decode::{Decoded, Fragment, IpInfo, Network, QuotedPacket, Transport};
use crate::flow::extras::FlowTables;
use crate::flow::fragments::{DatagramKey, FragmentOutcome, FragmentTable, PendingFragment};
use crate::flow::gre_keys::GreKeyPairing;
use crate::flow::ib::IbFlows;
use crate::flow::index::FlowIndex;
use crate::flow::key::{FlowKey, KeyDirection, TunnelContext};
use crate::prefetch::prefetch_value;
use crate::resident::ResidentAhead;
use crate::flow::prepared::PreparedKey;
use crate::flow::record::{FlowRecord, IcmpError, RecordCause};
use crate::flow::relink::{crosses_epoch, relink_shift};
use crate::flow::state::{FlowState, PacketFacts};
use crate::flow::timeouts::{TimeoutClass, Timeouts};

/// Destination of the records a shard emits.
pub trait RecordSink {
    /// Takes one record.
    fn emit(&mut self, record: &FlowRecord);

    /// Tells the sink that its source has nothing at the moment, as on a
    /// quiet link, so that a sink that buffers can write out what is due.
    fn idle(&mut self) {}
}

impl RecordSink for Vec<FlowRecord> {
    fn emit(&mut self, record: &FlowRecord) {
        self.push(*record);
    }
}

/// Sizes and timers of a shard.
#[derive(Clone, Copy, Debug)]
pub struct ShardConfig {
    /// Most flows held at once; a new flow beyond this evicts the least
    /// recently active one, to within the relink granularity
    /// ([`crate::flow::relink`]).
    pub capacity_flows: usize,
    /// Most fragmented datagrams tracked at once.
    pub capacity_datagrams: usize,
    /// Idle timeouts and the status interval.
    pub timeouts: Timeouts,
    /// How long a closed TCP flow stays to collect stray segments (the last
    /// ACK, retransmitted FINs) before its record is emitted.
    pub closed_linger_ns: u64,
    /// Identifier put in every record.
    pub worker_id: u16,
    /// Makes the flow arrays resident a huge page ahead of their use
    /// ([`crate::resident::ResidentAhead`]). It saves CPU time, but each
    /// step stalls one batch, for milliseconds at worst, so it suits reading
    /// files and not live capture.
    pub resident_ahead: bool,
}

impl Default for ShardConfig {
    fn default() -> Self {
        ShardConfig {
            capacity_flows: 1 << 18,
            capacity_datagrams: 4096,
            timeouts: Timeouts::default(),
            closed_linger_ns: 2 * crate::flow::timeouts::NS_PER_SEC,
            worker_id: 0,
            resident_ahead: false,
        }
    }
}

/// Event counts of one shard since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShardCounters {
    /// Flows created.
    pub flows_created: u64,
    /// Records emitted.
    pub records_emitted: u64,
    /// Flows ended by their idle timeout.
    pub flows_idle_expired: u64,
    /// TCP flows ended by a close or a reset.
    pub flows_closed: u64,
    /// Flows evicted because the shard was full.
    pub flows_evicted: u64,
    /// Non-first fragments whose first fragment never arrived.
    pub orphan_fragments: u64,
    /// Packets with no flow identity (nothing decoded past a link layer
    /// without addresses).
    pub unkeyed_pkts: u64,
}

impl ShardCounters {
    /// Adds another shard's counts to these.
    pub fn add(&mut self, other: &ShardCounters) {
        self.flows_created += other.flows_created;
        self.records_emitted += other.records_emitted;
        self.flows_idle_expired += other.flows_idle_expired;
        self.flows_closed += other.flows_closed;
        self.flows_evicted += other.flows_evicted;
        self.orphan_fragments += other.orphan_fragments;
        self.unkeyed_pkts += other.unkeyed_pkts;
    }
}

const NO_SLOT: u32 = u32::MAX;

/// How many flows ahead [`FlowShard::flush`] and the status reports
/// prefetch a slot, and then the slot's TCP tracker, which they find through
/// the slot.
///
/// Chosen on the same 2-core virtual machine as the run loop's distances
/// (see the note in `worker.rs`).
const BURST_SLOT_PREFETCH_DISTANCE: usize = 8;
const BURST_TABLES_PREFETCH_DISTANCE: usize = 4;

/// One flow's place in the slot array: 160 bytes, aligned to 32. A slot
/// then starts at byte 0 or 32 of a cache line and ends within the third
/// line from there. So loading a flow touches three lines, as a 192-byte
/// slot aligned to whole lines does, in 32 bytes less.
#[derive(Clone, Copy, Debug)]
#[repr(align(32))]
struct Slot {
    state: FlowState,
}

// Growing the slot past 160 bytes, or aligning it to less than 32, would
// let some slots span four lines, in each packet's cache misses.
const _: () = assert!(std::mem::size_of::<Slot>() == 160 && std::mem::align_of::<Slot>() == 32);

/// A slot's neighbours in its class list. The links sit in their own dense
/// array, so moving a flow to its list's tail touches two 8-byte entries
/// rather than two whole slots.
#[derive(Clone, Copy, Debug)]
struct Links {
    prev: u32,
    next: u32,
}

const UNLINKED: Links = Links { prev: NO_SLOT, next: NO_SLOT };

#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
}

/// A report interval that started in `slot`, for the status FIFO, in 8
/// bytes. The entry keeps the start time only as a [`start_mark`]. So it is
/// read together with its slot, whose interval contains the full time.
///
/// An entry is stale when its slot has started another interval since, of
/// the same flow or of a flow that reused the slot. The marks then differ,
/// so the entry is dropped. Two marks are equal only for intervals that
/// started less than 2^16 ns apart or about 3.3 days apart (2^48 ns). Then
/// the stale entry stands for the new interval, which is due at most
/// 2^16 ns later (or is due already), and holds back the reports queued
/// behind it by that much.
#[derive(Clone, Copy, Debug)]
struct IntervalStart {
    slot: u32,
    start_mark: u32,
}

/// Bits of an interval's start time that its [`start_mark`] drops.
const START_MARK_SHIFT: u32 = 16;

/// Returns the mark of an interval that started at `first_ns`: its start
/// time in units of 2^16 ns, wrapped to 32 bits.
fn start_mark(first_ns: u64) -> u32 {
    (first_ns >> START_MARK_SHIFT) as u32
}

/// All flows of one worker.
pub struct FlowShard {
    config: ShardConfig,
    slots: Vec<Slot>,
    slots_resident: ResidentAhead,
    links: Vec<Links>,
    links_resident: ResidentAhead,
    free_slots: Vec<u32>,
    index: FlowIndex,
    tables: FlowTables,
    lists: [List; TimeoutClass::COUNT],
    /// Per class, the shift that gives a packet time's relink epoch.
    relink_shifts: [u32; TimeoutClass::COUNT],
    interval_starts: VecDeque<IntervalStart>,
    fragments: FragmentTable,
    expired_fragments: Vec<PendingFragment>,
    clock_ns: u64,
    counters: ShardCounters,
    ib: IbFlows,
    gre_keys: GreKeyPairing,
}

impl FlowShard {
    /// Creates a shard and allocates all of its flow memory. Pages become
    /// resident only as flows arrive.
    pub fn new(config: ShardConfig) -> FlowShard {
        let capacity = config.capacity_flows.clamp(1, NO_SLOT as usize - 1);
        let mut slots = Vec::with_capacity(capacity);
        let mut links = Vec::with_capacity(capacity);
        FlowShard {
            config: ShardConfig { capacity_flows: capacity, ..config },
            slots_resident: ResidentAhead::new(&mut slots, config.resident_ahead),
            slots,
            links_resident: ResidentAhead::new(&mut links, config.resident_ahead),
            links,
            free_slots: Vec::with_capacity(capacity),
            index: FlowIndex::new(capacity),
            tables: FlowTables::with_capacity(capacity, config.resident_ahead),
            lists: [List { head: NO_SLOT, tail: NO_SLOT }; TimeoutClass::COUNT],
            relink_shifts: TimeoutClass::ALL.map(|class| relink_shift(class_timeout_ns(&config, class))),
            interval_starts: VecDeque::with_capacity(capacity),
            fragments: FragmentTable::new(config.capacity_datagrams, config.timeouts.fragment_idle_ns),
            expired_fragments: Vec::with_capacity(crate::flow::fragments::MAX_PENDING_FRAGMENTS),
            clock_ns: 0,
            counters: ShardCounters::default(),
            ib: IbFlows::default(),
            gre_keys: GreKeyPairing::default(),
        }
    }

    /// Event counts since the shard was created.
    pub fn counters(&self) -> ShardCounters {
        self.counters
    }

    /// Flows currently held.
    pub fn active_flows(&self) -> usize {
        self.index.len()
    }

    /// The latest packet time seen, in nanoseconds since the epoch.
    pub fn clock_ns(&self) -> u64 {
        self.clock_ns
    }

    /// Accounts one decoded packet to its flow.
    pub fn process(&mut self, packet: &PacketFacts<'_>, sink: &mut impl RecordSink) {
        self.process_prepared(packet, PreparedKey::of(packet.decoded).as_ref(), sink);
    }

    /// Accounts one decoded packet to its flow. `prepared` must be
    /// `PreparedKey::of(packet.decoded)`, computed ahead so that the caller
    /// could prefetch the flow (see [`FlowShard::prefetch_index`]).
    #[inline]
    pub fn process_prepared(
        &mut self,
        packet: &PacketFacts<'_>,
        prepared: Option<&PreparedKey>,
        sink: &mut impl RecordSink,
    ) {
        debug_assert_eq!(prepared.copied(), PreparedKey::of(packet.decoded), "key prepared from another packet");
        self.clock_ns = self.clock_ns.max(packet.time_ns);
        let decoded = packet.decoded;

        let ip = match &decoded.network {
            Network::Ipv4(ip) | Network::Ipv6(ip) => Some(ip),
            _ => None,
        };
        if let Some((ip, fragment)) = ip.and_then(|ip| Some((ip, ip.fragment?))) {
            self.process_fragment(ip, fragment, packet, sink);
            return;
        }

        match prepared {
            Some(prepared) => self.update_prepared(prepared, packet, sink),
            None => match FlowKey::from_decoded(decoded) {
                Some(key) => {
                    let key = match key {
                        FlowKey::Infiniband { .. } => self.ib.resolve_key(key, decoded),
                        key => key,
                    };
                    self.update_prepared(&PreparedKey::from_packet_key(key), packet, sink);
                }
                None => self.counters.unkeyed_pkts += 1,
            },
        }
        if let (Some(quoted), Some(ip)) = (&decoded.icmp_quoted, ip) {
            self.note_icmp_error(quoted, ip, packet);
        }
    }

    /// Accounts an IP fragment. A first fragment goes to the flow of its
    /// ports, with the later fragments held for it. A later fragment goes to
    /// the flow of its first fragment, or is held until that arrives.
    fn process_fragment(
        &mut self,
        ip: &IpInfo,
        fragment: Fragment,
        packet: &PacketFacts<'_>,
        sink: &mut impl RecordSink,
    ) {
        let decoded = packet.decoded;
        let datagram = DatagramKey { src: ip.src, dst: ip.dst, protocol: ip.protocol, id: fragment.id };
        if fragment.offset_bytes == 0 {
            let key = FlowKey::from_ip(ip.src, ip.dst, ip.protocol, &decoded.transport, decoded.icmp_quoted.as_ref());
            let (canonical, direction) = key.canonical();
            let hash = canonical.index_hash();
            self.update_flow(canonical, direction, hash, packet, sink);
            let held =
                self.fragments.first_fragment(datagram, (canonical, direction), packet.time_ns, &mut self.expired_fragments);
            for pending in held {
                let facts = PacketFacts { time_ns: pending.time_ns, bytes: pending.bytes, decoded: &pending.decoded };
                self.update_flow(canonical, direction, hash, &facts, sink);
            }
            self.count_expired_fragments(sink);
            return;
        }

        let pending = PendingFragment { time_ns: packet.time_ns, bytes: packet.bytes, decoded: *decoded };
        match self.fragments.later_fragment(datagram, pending, &mut self.expired_fragments) {
            FragmentOutcome::Flow(canonical, direction) => {
                self.update_flow(canonical, direction, canonical.index_hash(), packet, sink)
            }
            FragmentOutcome::Held => {}
            FragmentOutcome::Orphan => self.count_orphan(&pending, sink),
        }
        self.count_expired_fragments(sink);
    }

    /// Moves the shard's clock to `now_ns` (if later) and emits what is due:
    /// status reports, idle flows, closed flows and orphan fragments.
    pub fn advance_time(&mut self, now_ns: u64, sink: &mut impl RecordSink) {
        self.clock_ns = self.clock_ns.max(now_ns);
        let now_ns = self.clock_ns;

        self.fragments.expire(now_ns, &mut self.expired_fragments);
        self.count_expired_fragments(sink);
        self.emit_due_status_reports(now_ns, sink);

        for class in TimeoutClass::ALL {
            let timeout_ns = self.class_timeout_ns(class);
            loop {
                let head = self.lists[class as usize].head;
                if head == NO_SLOT {
                    break;
                }
                if self.slots[head as usize].state.last_ns.saturating_add(timeout_ns) >= now_ns {
                    break;
                }
                let cause = if class == TimeoutClass::Closed { RecordCause::Closed } else { RecordCause::IdleTimeout };
                self.finish(head, cause, sink);
            }
        }
    }

    /// Emits the status reports due by `now_ns`. A flow whose idle timeout
    /// falls before its status report is left to the idle pass, so each
    /// interval ends with whichever event comes first in packet time, however
    /// often the clock is advanced.
    fn emit_due_status_reports(&mut self, now_ns: u64, sink: &mut impl RecordSink) {
        let interval_ns = self.config.timeouts.status_interval_ns;
        while let Some(start) = self.interval_starts.front().copied() {
            let state = &self.slots[start.slot as usize].state;
            let current = !state.interval_is_empty() && start_mark(state.interval_first_ns()) == start.start_mark;
            if current && state.interval_first_ns().saturating_add(interval_ns) > now_ns {
                break;
            }
            self.interval_starts.pop_front();
            // Reports fall due in bursts, as when every flow's first interval
            // ends together, so load the flows a few reports ahead.
            if let Some(ahead) = self.interval_starts.get(BURST_SLOT_PREFETCH_DISTANCE - 1) {
                prefetch_value(&self.slots[ahead.slot as usize]);
            }
            if let Some(ahead) = self.interval_starts.get(BURST_TABLES_PREFETCH_DISTANCE - 1) {
                self.tables.prefetch_tcp(self.slots[ahead.slot as usize].state.tcp_handle());
            }
            if current && self.status_due_before_idle(start.slot) {
                self.emit_status(start.slot, sink);
            }
        }
    }

    /// True when the flow in `slot` reaches the end of its status interval
    /// no later than its idle timeout.
    fn status_due_before_idle(&self, slot: u32) -> bool {
        let entry = &self.slots[slot as usize];
        let status_due_ns = entry.state.interval_first_ns().saturating_add(self.config.timeouts.status_interval_ns);
        let idle_due_ns = entry.state.last_ns.saturating_add(self.class_timeout_ns(entry.state.class()));
        status_due_ns <= idle_due_ns
    }

    /// Emits a record for every flow with unreported packets and empties
    /// the shard, as at the end of input or on a signal.
    ///
    /// The flows go out in the order of the expiry lists, as they would
    /// expire. A flow that went idle but waits behind a busier one in its
    /// list ends as idle. Unlike expiring one at a time, this removes no
    /// index entry and relinks no list, and empties both at the end instead.
    /// It also prefetches the slots and TCP trackers a few flows ahead,
    /// because a shard with many flows has most of them out of the cache.
    pub fn flush(&mut self, sink: &mut impl RecordSink) {
        self.fragments.drain(&mut self.expired_fragments);
        self.count_expired_fragments(sink);
        // The free list takes the flows in list order: it reserved room for
        // every slot, and they are all free once the flush is done.
        let first_held = self.free_slots.len();
        for list in &mut self.lists {
            let mut slot = list.head;
            while slot != NO_SLOT {
                self.free_slots.push(slot);
                slot = self.links[slot as usize].next;
            }
            *list = List { head: NO_SLOT, tail: NO_SLOT };
        }
        for position in first_held..self.free_slots.len() {
            let order = &self.free_slots;
            let slot = order[position];
            if let Some(&ahead) = order.get(position + BURST_SLOT_PREFETCH_DISTANCE) {
                prefetch_value(&self.slots[ahead as usize]);
            }
            if let Some(&ahead) = order.get(position + BURST_TABLES_PREFETCH_DISTANCE) {
                self.tables.prefetch_tcp(self.slots[ahead as usize].state.tcp_handle());
            }
            let cause = if self.slots[slot as usize].state.is_closed() {
                RecordCause::Closed
            } else if self.is_idle(slot) {
                RecordCause::IdleTimeout
            } else {
                RecordCause::Shutdown
            };
            self.retire(slot, cause, sink);
            self.links[slot as usize] = UNLINKED;
        }
        self.index.clear();
        self.interval_starts.clear();
    }

    fn class_timeout_ns(&self, class: TimeoutClass) -> u64 {
        class_timeout_ns(&self.config, class)
    }

    /// Returns true when the flow in `slot` went idle before the shard's
    /// clock. Such a flow is still held when the relink granularity left it
    /// behind a flow that is not idle.
    fn is_idle(&self, slot: u32) -> bool {
        let state = &self.slots[slot as usize].state;
        state.last_ns.saturating_add(self.class_timeout_ns(state.class())) < self.clock_ns
    }

    /// Accounts a packet to the flow of its prepared key, or to the flow
    /// that GRE key pairing joined the packet's direction to.
    #[inline]
    fn update_prepared(&mut self, prepared: &PreparedKey, packet: &PacketFacts<'_>, sink: &mut impl RecordSink) {
        if GreKeyPairing::handles(&prepared.key) {
            let (key, hash) = self.resolve_gre_key(prepared);
            self.update_flow(key, prepared.direction, hash, packet, sink);
        } else {
            self.update_flow(prepared.key, prepared.direction, prepared.hash, packet, sink);
        }
    }

    /// Returns the key under which the flow of a prepared GRE key is held,
    /// and its index hash: the prepared key itself unless GRE key pairing
    /// joined its direction to a flow under another key.
    fn resolve_gre_key(&mut self, prepared: &PreparedKey) -> (FlowKey, u64) {
        let (index, slots) = (&self.index, &self.slots);
        let key = self.gre_keys.resolve(prepared.key, prepared.direction, |held| {
            index.find(held.index_hash(), |slot| slots[slot as usize].state.stored_key().matches(held)).is_some()
        });
        let hash = if key == prepared.key { prepared.hash } else { key.index_hash() };
        (key, hash)
    }

    /// Returns the slot that contains the flow of `key`, whose index hash
    /// is `hash`.
    #[inline]
    fn find_slot(&self, key: &FlowKey, hash: u64) -> Option<u32> {
        let slots = &self.slots;
        self.index.find(hash, |slot| slots[slot as usize].state.stored_key().matches(key))
    }

    /// Starts loading into the cache the index entry of a prepared key's
    /// flow, for a packet that is a few packets away from its accounting.
    #[inline]
    pub fn prefetch_index(&self, prepared: &PreparedKey) {
        self.index.prefetch(prepared.hash);
    }

    /// Starts loading into the cache the slot that the index entry of a
    /// prepared key names, and the slot's list links, and returns that slot
    /// number. The entry is read without confirming the key, so it should be
    /// in the cache already (see [`FlowShard::prefetch_index`]).
    #[inline]
    pub fn prefetch_flow(&self, prepared: &PreparedKey) -> Option<u32> {
        let slot = self.index.first_candidate(prepared.hash)?;
        if let (Some(entry), Some(links)) = (self.slots.get(slot as usize), self.links.get(slot as usize)) {
            prefetch_value(entry);
            prefetch_value(links);
        }
        Some(slot)
    }

    /// Starts loading into the cache what accounting the packet of
    /// `time_ns` and `decoded` to the flow in `slot` touches outside the
    /// slot. That is the flow's TCP tracker, and the links of its two list
    /// neighbours when the packet will likely move it to its list's tail,
    /// which rewrites them.
    ///
    /// A packet moves its flow when it starts a new relink epoch or closes
    /// the flow, and a FIN, a reset or any packet after a FIN counts as
    /// likely to close it. `slot` is as [`FlowShard::prefetch_flow`]
    /// returned it. The slot and its links are read, so they should be in
    /// the cache already. A slot reused or a list changed since costs only a
    /// wasted prefetch.
    #[inline]
    pub fn prefetch_flow_tables(&self, slot: u32, time_ns: u64, decoded: &Decoded) {
        let Some(entry) = self.slots.get(slot as usize) else {
            return;
        };
        let state = &entry.state;
        self.tables.prefetch_tcp(state.tcp_handle());
        let shift = self.relink_shifts[state.class() as usize];
        let tcp_flags = match &decoded.transport {
            Transport::Tcp(tcp) => tcp.flags,
            _ => 0,
        };
        let moves = crosses_epoch(state.last_ns, state.last_ns.max(time_ns), shift)
            || state.may_close_with(tcp_flags);
        if let (true, Some(links)) = (moves, self.links.get(slot as usize)) {
            for neighbour in [links.prev, links.next] {
                if let Some(neighbour_links) = self.links.get(neighbour as usize) {
                    prefetch_value(neighbour_links);
                }
            }
        }
    }

    fn update_flow(
        &mut self,
        key: FlowKey,
        direction: KeyDirection,
        hash: u64,
        packet: &PacketFacts<'_>,
        sink: &mut impl RecordSink,
    ) {
        if let Some(slot) = self.find_slot(&key, hash) {
            let state = &self.slots[slot as usize].state;
            let status_due = !state.interval_is_empty()
                && packet.time_ns >= state.interval_first_ns().saturating_add(self.config.timeouts.status_interval_ns);
            if status_due && self.status_due_before_idle(slot) {
                self.emit_status(slot, sink);
            }
            if self.continues_flow(slot, packet, sink) {
                if self.slots[slot as usize].state.interval_is_full() {
                    self.emit_status(slot, sink);
                }
                self.add_to_flow(slot, direction, packet);
                return;
            }
        }

        if self.index.len() >= self.config.capacity_flows {
            self.evict_least_recent(sink);
        }
        let state = FlowState::new(key, direction, packet.decoded, &mut self.tables);
        let class = state.class();
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot as usize].state = state;
                slot
            }
            None => {
                self.slots_resident.before_push(&mut self.slots);
                self.slots.push(Slot { state });
                self.links_resident.before_push(&mut self.links);
                self.links.push(UNLINKED);
                (self.slots.len() - 1) as u32
            }
        };
        self.link_tail(slot, class);
        self.index.insert(hash, slot);
        self.counters.flows_created += 1;
        self.add_to_flow(slot, direction, packet);
    }

    /// Decides whether a packet belongs to the flow in `slot`, ending that
    /// flow first when it does not: the flow went idle before the packet,
    /// or a closed TCP connection sees a new SYN.
    fn continues_flow(&mut self, slot: u32, packet: &PacketFacts<'_>, sink: &mut impl RecordSink) -> bool {
        let entry = &self.slots[slot as usize];
        let class = entry.state.class();
        let idle_ns = self.class_timeout_ns(class);
        let cause = if packet.time_ns > entry.state.last_ns.saturating_add(idle_ns) {
            if class == TimeoutClass::Closed {
                RecordCause::Closed
            } else {
                RecordCause::IdleTimeout
            }
        } else if entry.state.is_superseded_by(packet.decoded, &self.tables) {
            RecordCause::Closed
        } else {
            return true;
        };
        self.finish(slot, cause, sink);
        false
    }

    fn add_to_flow(&mut self, slot: u32, direction: KeyDirection, packet: &PacketFacts<'_>) {
        let entry = &mut self.slots[slot as usize];
        let was_empty = entry.state.interval_is_empty();
        let was_closed = entry.state.is_closed();
        let last_before_ns = entry.state.last_ns;
        entry.state.add_packet(packet, direction, &mut self.tables);
        if entry.state.stored_key().is_infiniband() {
            self.ib.add_packet(slot, direction == entry.state.source_direction(), packet.decoded);
        }
        if was_empty {
            self.interval_starts.push_back(IntervalStart { slot, start_mark: start_mark(entry.state.interval_first_ns()) });
        }

        let class_before = entry.state.class();
        let class = if entry.state.is_closed() { TimeoutClass::Closed } else { class_before };
        if !was_closed && class == TimeoutClass::Closed {
            self.counters.flows_closed += 1;
        }
        let moves = class != class_before
            || crosses_epoch(last_before_ns, entry.state.last_ns, self.relink_shifts[class as usize]);
        if moves && self.lists[class as usize].tail != slot {
            self.unlink(slot);
            self.link_tail(slot, class);
        }
    }

    fn emit_status(&mut self, slot: u32, sink: &mut impl RecordSink) {
        let state = &self.slots[slot as usize].state;
        let cause = if state.report_index == 0 { RecordCause::Start } else { RecordCause::Status };
        self.emit_record(slot, cause, sink);
    }

    /// Emits the record of the current interval of the flow in `slot`, when
    /// the interval has a packet, and starts a new interval. The record is
    /// emitted where `take_record` built it, without a copy of its 648
    /// bytes.
    fn emit_record(&mut self, slot: u32, cause: RecordCause, sink: &mut impl RecordSink) {
        let worker_id = self.config.worker_id;
        let state = &mut self.slots[slot as usize].state;
        if let Some(record) = state.take_record(cause, worker_id, &mut self.tables).as_mut() {
            if state.stored_key().is_infiniband() {
                record.ib = self.ib.take_summary(slot);
            }
            self.counters.records_emitted += 1;
            sink.emit(record);
        }
    }

    /// Emits the flow's last record and frees its slot.
    fn finish(&mut self, slot: u32, cause: RecordCause, sink: &mut impl RecordSink) {
        let key = self.retire(slot, cause, sink);
        let removed = self.index.remove(key.index_hash(), slot);
        debug_assert!(removed, "flow in slot {slot} missing from the index");
        self.unlink(slot);
        self.free_slots.push(slot);
    }

    /// Emits the flow's last record and returns its entries in the flow
    /// tables, leaving the slot's index entry, list links and free-list
    /// place to the caller. Returns the flow's key.
    fn retire(&mut self, slot: u32, cause: RecordCause, sink: &mut impl RecordSink) -> FlowKey {
        self.emit_record(slot, cause, sink);
        let entry = &mut self.slots[slot as usize];
        if entry.state.stored_key().is_infiniband() {
            self.ib.remove(slot);
        }
        match cause {
            RecordCause::IdleTimeout => self.counters.flows_idle_expired += 1,
            RecordCause::Evicted => self.counters.flows_evicted += 1,
            _ => {}
        }
        let key = entry.state.key();
        entry.state.release(&mut self.tables);
        self.gre_keys.forget(&key);
        key
    }

    fn evict_least_recent(&mut self, sink: &mut impl RecordSink) {
        let oldest = self
            .lists
            .iter()
            .map(|list| list.head)
            .filter(|&head| head != NO_SLOT)
            .min_by_key(|&head| self.slots[head as usize].state.last_ns);
        if let Some(slot) = oldest {
            self.finish(slot, RecordCause::Evicted, sink);
        }
    }

    /// Ties an ICMP error to the flow of the packet it quotes, if that flow
    /// is held.
    fn note_icmp_error(&mut self, quoted: &QuotedPacket, ip: &IpInfo, packet: &PacketFacts<'_>) {
        let (icmp_type, code, is_icmpv6) = match packet.decoded.transport {
            Transport::Icmp(icmp) => (icmp.icmp_type, icmp.code, false),
            Transport::Icmpv6(icmp) => (icmp.icmp_type, icmp.code, true),
            _ => return,
        };
        let key = FlowKey::Ip {
            src: quoted.src,
            dst: quoted.dst,
            protocol: quoted.protocol,
            src_port: quoted.src_port,
            dst_port: quoted.dst_port,
            tunnel: TunnelContext::from_summary(packet.decoded.tunnel.as_ref()),
        };
        let (canonical, _) = key.canonical();
        if let Some(slot) = self.find_slot(&canonical, canonical.index_hash()) {
            let error = IcmpError {
                icmp_type,
                code,
                is_icmpv6,
                reporter: ip.src,
                receiver: ip.dst,
                quoted_src: quoted.src,
                quoted_dst: quoted.dst,
                time_ns: packet.time_ns,
            };
            self.slots[slot as usize].state.note_icmp_error(error, &mut self.tables);
        }
    }

    fn count_orphan(&mut self, fragment: &PendingFragment, sink: &mut impl RecordSink) {
        self.counters.orphan_fragments += 1;
        let (src, dst, protocol) = match fragment.decoded.network {
            Network::Ipv4(ip) | Network::Ipv6(ip) => (ip.src, ip.dst, ip.protocol),
            _ => return,
        };
        let key = FlowKey::Ip { src, dst, protocol, src_port: 0, dst_port: 0, tunnel: Default::default() };
        let prepared = PreparedKey::from_packet_key(key);
        let facts = PacketFacts { time_ns: fragment.time_ns, bytes: fragment.bytes, decoded: &fragment.decoded };
        self.update_flow(prepared.key, prepared.direction, prepared.hash, &facts, sink);
    }

    fn count_expired_fragments(&mut self, sink: &mut impl RecordSink) {
        while let Some(fragment) = self.expired_fragments.pop() {
            self.count_orphan(&fragment, sink);
        }
    }

    fn unlink(&mut self, slot: u32) {
        let class = self.slots[slot as usize].state.class();
        let Links { prev, next } = std::mem::replace(&mut self.links[slot as usize], UNLINKED);
        let list = &mut self.lists[class as usize];
        if prev == NO_SLOT {
            if list.head == slot {
                list.head = next;
            }
        } else {
            self.links[prev as usize].next = next;
        }
        if next == NO_SLOT {
            if list.tail == slot {
                list.tail = prev;
            }
        } else {
            self.links[next as usize].prev = prev;
        }
    }

    fn link_tail(&mut self, slot: u32, class: TimeoutClass) {
        let list = &mut self.lists[class as usize];
        let old_tail = list.tail;
        list.tail = slot;
        if old_tail == NO_SLOT {
            list.head = slot;
        } else {
            self.links[old_tail as usize].next = slot;
        }
        self.slots[slot as usize].state.set_class(class);
        self.links[slot as usize] = Links { prev: old_tail, next: NO_SLOT };
    }
}

/// Returns the idle timeout of `class` under `config`.
fn class_timeout_ns(config: &ShardConfig, class: TimeoutClass) -> u64 {
    let timeouts = &config.timeouts;
    match class {
        TimeoutClass::Tcp => timeouts.tcp_idle_ns,
        TimeoutClass::OtherIp => timeouts.ip_idle_ns,
        TimeoutClass::Icmp => timeouts.icmp_idle_ns,
        TimeoutClass::Arp => timeouts.arp_idle_ns,
        TimeoutClass::Layer2 => timeouts.other_idle_ns,
        TimeoutClass::Closed => config.closed_linger_ns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_packet;
    use crate::packet::LinkType;

    /// An Ethernet frame of a UDP datagram from 10.0.0.1:1000 to
    /// 10.0.0.2:2000, with no payload.
    const UDP_FRAME: [u8; 42] = [
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, // Ethernet
        0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
        0x03, 0xe8, 0x07, 0xd0, 0, 8, 0, 0, // UDP
    ];

    fn send(shard: &mut FlowShard, time_ns: u64, records: &mut Vec<FlowRecord>) {
        let decoded = decode_packet(LinkType::ETHERNET, &UDP_FRAME);
        shard.process(&PacketFacts { time_ns, bytes: UDP_FRAME.len() as u32, decoded: &decoded }, records);
    }

    #[test]
    fn full_packet_count_ends_interval() {
        let mut shard = FlowShard::new(ShardConfig { capacity_flows: 4, ..ShardConfig::default() });
        let mut records = Vec::new();
        send(&mut shard, 1_000, &mut records);
        shard.slots[0].state.set_source_packets(u32::MAX - 1);
        send(&mut shard, 2_000, &mut records);
        assert!(records.is_empty(), "the count is full only after this packet");

        send(&mut shard, 3_000, &mut records);
        assert_eq!(records.len(), 1, "a full count ends the interval before the next packet");
        assert_eq!(records[0].cause, RecordCause::Start);
        assert_eq!(records[0].src.pkts, u64::from(u32::MAX));
        assert_eq!((records[0].start_ns, records[0].last_ns), (1_000, 2_000));

        shard.flush(&mut records);
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].src.pkts, 1, "the next interval starts with the packet that found the count full");
        assert_eq!(records[1].start_ns, 3_000);
    }
}
