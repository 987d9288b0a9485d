//! The per-core run loop: take a batch, decode and account every packet to
//! its flow, emit what is due, repeat.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::decode::{decode_packet_into, Decoded};
use crate::flow::{FlowShard, PacketFacts, PreparedKey, RecordSink, ShardConfig};
use crate::latency::BatchLatency;
use crate::packet::PacketView;
use crate::source::{BatchStatus, PacketSource, SourceCounters, SourceError};
use crate::stats::WorkerStats;

/// Packets of a batch decoded ahead of the one being accounted. The index
/// entry of a packet's flow is prefetched when the packet is decoded, so
/// this many packets before its accounting.
const WINDOW_PACKETS: usize = 8;
/// How many packets before its accounting the slot of a packet's flow and
/// its list links are prefetched, once its index entry has had time to
/// arrive.
///
/// NOTE: the window of 8 packets and this distance of 4 were measured
/// against windows and distances of 4 and 2, 8 and 2, and 16 and 8, on one
/// 2-core AMD EPYC virtual machine. There 16 and 8 ran 7 % slower and the
/// others within noise. On a 2-core Intel Xeon virtual machine, a slot
/// distance of 5 and a tracker distance of 3 took 1.01 and 1.07 times the
/// CPU time on the sessions capture. Other CPUs may prefer other distances.
const SLOT_PREFETCH_DISTANCE: usize = 4;
/// How many packets before its accounting the TCP tracker of a packet's flow
/// and, when the packet will likely move the flow in its list, the links of
/// the flow's list neighbours are prefetched, once its slot and its own
/// links have had time to arrive.
const TABLES_PREFETCH_DISTANCE: usize = 2;

/// A packet decoded ahead of its accounting, with its flow key.
#[derive(Clone, Copy, Debug)]
struct DecodedAhead {
    decoded: Decoded,
    /// `PreparedKey::of(&decoded)`.
    prepared: Option<PreparedKey>,
    /// The slot that the index named for `prepared` when the slot was
    /// prefetched, kept so that the later prefetch stage does not probe the
    /// index again.
    candidate_slot: Option<u32>,
}

/// One worker: a flow shard and its packet statistics.
pub struct Worker {
    shard: FlowShard,
    stats: WorkerStats,
    /// Processing time of every batch, when enabled.
    batch_latency: Option<BatchLatency>,
    /// A ring of the packets decoded ahead: packet `i` of a batch is decoded
    /// into entry `i % WINDOW_PACKETS`.
    window: [DecodedAhead; WINDOW_PACKETS],
}

/// How a worker's run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// The source reported the end of its input.
    EndOfInput,
    /// The stop flag was raised.
    Stopped,
}

impl Worker {
    /// Creates a worker with a shard of the given configuration.
    pub fn new(config: ShardConfig) -> Worker {
        Worker {
            shard: FlowShard::new(config),
            stats: WorkerStats::default(),
            batch_latency: None,
            window: [DecodedAhead { decoded: Decoded::EMPTY, prepared: None, candidate_slot: None }; WINDOW_PACKETS],
        }
    }

    /// Times the processing of every batch from now on. It costs two clock
    /// reads per batch.
    pub fn enable_batch_latency(&mut self) {
        self.batch_latency.get_or_insert_with(BatchLatency::new);
    }

    /// Batch processing times, when enabled.
    pub fn batch_latency(&self) -> Option<&BatchLatency> {
        self.batch_latency.as_ref()
    }

    /// The worker's flow shard.
    pub fn shard(&self) -> &FlowShard {
        &self.shard
    }

    /// Packet statistics so far.
    pub fn stats(&self) -> &WorkerStats {
        &self.stats
    }

    /// Decodes one batch and accounts its packets, then emits the records
    /// that packet time has made due.
    ///
    /// Packets are decoded [`WINDOW_PACKETS`] ahead of their accounting, so
    /// the cache misses on the flow index and flow slots of several packets
    /// overlap. The packets are still accounted one by one, in order.
    pub fn process_batch(&mut self, batch: &[PacketView<'_>], sink: &mut impl RecordSink) {
        let started = self.batch_latency.is_some().then(Instant::now);
        for (position, packet) in batch.iter().take(WINDOW_PACKETS).enumerate() {
            self.decode_ahead(packet, position);
        }
        for (position, packet) in batch.iter().enumerate() {
            if position + SLOT_PREFETCH_DISTANCE < batch.len() {
                let ahead = &mut self.window[(position + SLOT_PREFETCH_DISTANCE) % WINDOW_PACKETS];
                if let Some(prepared) = &ahead.prepared {
                    ahead.candidate_slot = self.shard.prefetch_flow(prepared);
                }
            }

            if let Some(later) = batch.get(position + TABLES_PREFETCH_DISTANCE) {
                let ahead = &self.window[(position + TABLES_PREFETCH_DISTANCE) % WINDOW_PACKETS];
                if let Some(slot) = ahead.candidate_slot {
                    self.shard.prefetch_flow_tables(slot, later.timestamp_ns, &ahead.decoded);
                }
            }

            let ahead = &self.window[position % WINDOW_PACKETS];
            self.stats.count(packet.wire_len_bytes, &ahead.decoded);
            let facts = PacketFacts {
                time_ns: packet.timestamp_ns,
                bytes: packet.wire_len_bytes.saturating_sub(packet.link_type.pseudo_header_bytes(packet.data)),
                decoded: &ahead.decoded,
            };
            self.shard.process_prepared(&facts, ahead.prepared.as_ref(), sink);

            if let Some(next) = batch.get(position + WINDOW_PACKETS) {
                self.decode_ahead(next, position % WINDOW_PACKETS);
            }
        }
        let now_ns = self.shard.clock_ns();
        self.shard.advance_time(now_ns, sink);
        if let (Some(latency), Some(started)) = (&mut self.batch_latency, started) {
            latency.record_ns(started.elapsed().as_nanos() as u64);
        }
    }

    /// Decodes `packet` into entry `entry` of the window, prepares its flow
    /// key and prefetches the key's index entry.
    fn decode_ahead(&mut self, packet: &PacketView<'_>, entry: usize) {
        let ahead = &mut self.window[entry];
        decode_packet_into(packet.link_type, packet.data, &mut ahead.decoded);
        ahead.prepared = PreparedKey::of(&ahead.decoded);
        ahead.candidate_slot = None;
        if let Some(prepared) = &ahead.prepared {
            self.shard.prefetch_index(prepared);
        }
    }

    /// Emits a record for every flow with unreported packets and empties
    /// the shard.
    pub fn flush(&mut self, sink: &mut impl RecordSink) {
        self.shard.flush(sink);
    }

    /// Runs until the source ends or `stop` is raised, then flushes every
    /// flow to `sink`. A source error is returned after the flush, so the
    /// records of everything read before it are not lost.
    pub fn run<S: PacketSource, K: RecordSink>(
        &mut self,
        source: &mut S,
        sink: &mut K,
        stop: &AtomicBool,
    ) -> Result<RunEnd, SourceError> {
        self.run_with(source, sink, stop, || None, |_, _| {})
    }

    /// Runs like [`Worker::run`], with two hooks: `idle_now_ns` gives the
    /// wall-clock time when the source has nothing (live capture, so flows
    /// time out and status records go out on a quiet link; `None` keeps
    /// packet time, as for files), and `after_batch` sees the worker and the
    /// source's counters after every batch and after the final flush.
    pub fn run_with<S, K, C, B>(
        &mut self,
        source: &mut S,
        sink: &mut K,
        stop: &AtomicBool,
        mut idle_now_ns: C,
        mut after_batch: B,
    ) -> Result<RunEnd, SourceError>
    where
        S: PacketSource,
        K: RecordSink,
        C: FnMut() -> Option<u64>,
        B: FnMut(&Worker, &SourceCounters),
    {
        let result = loop {
            if stop.load(Ordering::Relaxed) {
                break Ok(RunEnd::Stopped);
            }
            let status = source.next_batch(|batch| self.process_batch(batch, sink));
            if let Some(watermark_ns) = source.time_watermark_ns() {
                self.shard.advance_time(watermark_ns, sink);
            }
            match status {
                Ok(BatchStatus::Packets(_)) => after_batch(self, &source.counters()),
                Ok(BatchStatus::Idle) => {
                    match idle_now_ns() {
                        Some(now_ns) => self.shard.advance_time(now_ns, sink),
                        None => std::thread::yield_now(),
                    }
                    sink.idle();
                }
                Ok(BatchStatus::End) => break Ok(RunEnd::EndOfInput),
                Err(error) => break Err(error),
            }
        };
        self.shard.flush(sink);
        after_batch(self, &source.counters());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::FlowRecord;
    use crate::packet::LinkType;

    const NS_PER_MS: u64 = 1_000_000;

    /// Builds a raw IPv4 packet: TCP (6) or UDP (17) with ports, ICMP echo
    /// (1), or a later fragment when `fragment_offset_bytes` is not 0.
    fn ipv4_packet(src: [u8; 4], dst: [u8; 4], protocol: u8, ports: (u16, u16), fragment_offset_bytes: u16) -> Vec<u8> {
        let mut transport = match protocol {
            6 => {
                let mut tcp = vec![0u8; 20];
                tcp[0..2].copy_from_slice(&ports.0.to_be_bytes());
                tcp[2..4].copy_from_slice(&ports.1.to_be_bytes());
                tcp[12] = 0x50;
                tcp[13] = 0x10;
                tcp
            }
            17 => {
                let mut udp = vec![0u8; 8];
                udp[0..2].copy_from_slice(&ports.0.to_be_bytes());
                udp[2..4].copy_from_slice(&ports.1.to_be_bytes());
                udp[4..6].copy_from_slice(&8u16.to_be_bytes());
                udp
            }
            _ => vec![8, 0, 0, 0, 0, ports.0 as u8, 0, ports.1 as u8],
        };
        if fragment_offset_bytes != 0 {
            transport = vec![0u8; 8];
        }

        let total_len = (20 + transport.len()) as u16;
        let mut packet = vec![0x45, 0];
        packet.extend_from_slice(&total_len.to_be_bytes());
        packet.extend_from_slice(&[0x12, 0x34]);
        packet.extend_from_slice(&(fragment_offset_bytes / 8).to_be_bytes());
        packet.extend_from_slice(&[64, protocol, 0, 0]);
        packet.extend_from_slice(&src);
        packet.extend_from_slice(&dst);
        packet.extend_from_slice(&transport);
        packet
    }

    /// Returns a fixed mix of packets over a few dozen flows, both
    /// directions, with gaps that end some flows and make others report.
    fn packet_mix() -> Vec<(u64, Vec<u8>)> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut time_ns = 1_700_000_000 * 1_000 * NS_PER_MS;
        let mut packets = Vec::new();
        for _ in 0..1500 {
            let choice = next();
            let flow = (choice % 40) as u8;
            let host = [10, 0, 0, flow % 7];
            let server = [10, 0, 1, flow % 3];
            let protocol = [6, 17, 17, 1][(choice >> 8) as usize % 4];
            let ports = (40000 + u16::from(flow), 80 + u16::from(flow % 5));
            let fragment_offset_bytes = if protocol == 17 && (choice >> 12) % 29 == 0 { 1480 } else { 0 };
            let reverse = (choice >> 16) % 2 == 0;
            let packet = if reverse {
                ipv4_packet(server, host, protocol, (ports.1, ports.0), fragment_offset_bytes)
            } else {
                ipv4_packet(host, server, protocol, ports, fragment_offset_bytes)
            };
            time_ns += (choice >> 24) % 900 * NS_PER_MS;
            packets.push((time_ns, packet));
        }
        packets
    }

    fn view(time_ns: u64, data: &[u8]) -> PacketView<'_> {
        PacketView {
            timestamp_ns: time_ns,
            wire_len_bytes: data.len() as u32,
            data,
            link_type: LinkType::IPV4,
            port: 0,
        }
    }

    #[test]
    fn window_matches_packet_at_a_time() {
        let packets = packet_mix();
        for capacity_flows in [1 << 10, 16] {
            let config = ShardConfig { capacity_flows, ..ShardConfig::default() };

            let mut worker = Worker::new(config);
            let mut windowed: Vec<FlowRecord> = Vec::new();
            let mut reference_shard = FlowShard::new(config);
            let mut reference: Vec<FlowRecord> = Vec::new();
            let mut decoded = Decoded::EMPTY;

            let batch_sizes = [1, 3, 7, 8, 9, 64, 13, 4, 5];
            let mut start = 0;
            let mut batch_number = 0;
            while start < packets.len() {
                let end = (start + batch_sizes[batch_number % batch_sizes.len()]).min(packets.len());
                let views: Vec<PacketView<'_>> =
                    packets[start..end].iter().map(|(time_ns, data)| view(*time_ns, data)).collect();
                worker.process_batch(&views, &mut windowed);

                for packet in &views {
                    decode_packet_into(packet.link_type, packet.data, &mut decoded);
                    let facts =
                        PacketFacts { time_ns: packet.timestamp_ns, bytes: packet.wire_len_bytes, decoded: &decoded };
                    reference_shard.process(&facts, &mut reference);
                }
                reference_shard.advance_time(reference_shard.clock_ns(), &mut reference);
                start = end;
                batch_number += 1;
            }
            worker.flush(&mut windowed);
            reference_shard.flush(&mut reference);

            assert!(reference.len() > 100, "too few records to compare: {}", reference.len());
            if capacity_flows == 16 {
                assert!(reference_shard.counters().flows_evicted > 100, "the small shard must evict");
            }
            assert_eq!(worker.shard().counters(), reference_shard.counters(), "capacity {capacity_flows}");
            assert_eq!(windowed, reference, "capacity {capacity_flows}");
        }
    }

    /// Returns the IP protocol of a key, 1 for ICMP.
    fn protocol_of(key: &crate::flow::FlowKey) -> u8 {
        match key {
            crate::flow::FlowKey::Ip { protocol, .. } => *protocol,
            crate::flow::FlowKey::Icmp { .. } => 1,
            _ => 0,
        }
    }

    /// Decodes `packets` and accounts them to `shard`, one at a time.
    fn account(shard: &mut FlowShard, packets: &[(u64, Vec<u8>)], records: &mut Vec<FlowRecord>) {
        let mut decoded = Decoded::EMPTY;
        for (time_ns, data) in packets {
            let packet = view(*time_ns, data);
            decode_packet_into(packet.link_type, packet.data, &mut decoded);
            let facts = PacketFacts { time_ns: packet.timestamp_ns, bytes: packet.wire_len_bytes, decoded: &decoded };
            shard.process(&facts, records);
        }
    }

    #[test]
    fn flushed_shard_behaves_like_new() {
        let packets = packet_mix();
        let (first_half, second_half) = packets.split_at(packets.len() / 2);
        // A small shard also evicts, so the free list and the index are
        // exercised past the flush.
        for capacity_flows in [1 << 10, 16] {
            let config = ShardConfig { capacity_flows, ..ShardConfig::default() };
            let mut reused = FlowShard::new(config);
            let mut before_flush = Vec::new();
            account(&mut reused, first_half, &mut before_flush);
            let active_flows = reused.active_flows();
            assert!(active_flows > 10, "too few active flows at the flush: {active_flows}");
            let mut flushed = Vec::new();
            reused.flush(&mut flushed);
            assert_eq!(reused.active_flows(), 0);
            // Orphan fragments' records come first, then one for each flow.
            assert!(flushed.len() >= active_flows, "one record for each active flow");
            let flushed = &flushed[flushed.len() - active_flows..];
            // Flows leave list by list: TCP, then other IP, then ICMP (if
            // any remains).
            let mut class_order: Vec<u8> = flushed.iter().map(|record| protocol_of(&record.key)).collect();
            class_order.dedup();
            assert!(class_order == [6, 17] || class_order == [6, 17, 1], "one run per class: {class_order:?}");

            let mut after_flush = Vec::new();
            account(&mut reused, second_half, &mut after_flush);
            reused.flush(&mut after_flush);
            let mut fresh = FlowShard::new(config);
            let mut reference = Vec::new();
            account(&mut fresh, second_half, &mut reference);
            fresh.flush(&mut reference);
            assert!(reference.len() > 10, "too few records to compare: {}", reference.len());
            assert_eq!(after_flush, reference, "capacity {capacity_flows}");
        }
    }
}
