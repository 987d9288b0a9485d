//! The per-core run loop: take a batch, decode and account every packet to
//! its flow, emit what is due, repeat.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::decode::{decode_packet_into, Decoded};
use crate::flow::{FlowShard, PacketFacts, RecordSink, ShardConfig};
use crate::latency::BatchLatency;
use crate::packet::PacketView;
use crate::source::{BatchStatus, PacketSource, SourceCounters, SourceError};
use crate::stats::WorkerStats;

/// One worker: a flow shard and its packet statistics.
pub struct Worker {
    shard: FlowShard,
    stats: WorkerStats,
    /// Processing time of every batch, when enabled.
    batch_latency: Option<BatchLatency>,
    /// The packet being accounted, decoded in place.
    decoded: Decoded,
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
            decoded: Decoded::EMPTY,
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
    pub fn process_batch(&mut self, batch: &[PacketView<'_>], sink: &mut impl RecordSink) {
        let started = self.batch_latency.is_some().then(Instant::now);
        for packet in batch {
            decode_packet_into(packet.link_type, packet.data, &mut self.decoded);
            let decoded = &self.decoded;
            self.stats.count(packet.wire_len_bytes, decoded);
            let facts = PacketFacts {
                time_ns: packet.timestamp_ns,
                bytes: packet.wire_len_bytes.saturating_sub(packet.link_type.pseudo_header_bytes(packet.data)),
                decoded,
            };
            self.shard.process(&facts, sink);
        }
        let now_ns = self.shard.clock_ns();
        self.shard.advance_time(now_ns, sink);
        if let (Some(latency), Some(started)) = (&mut self.batch_latency, started) {
            latency.record_ns(started.elapsed().as_nanos() as u64);
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
                Ok(BatchStatus::Idle) => match idle_now_ns() {
                    Some(now_ns) => self.shard.advance_time(now_ns, sink),
                    None => std::thread::yield_now(),
                },
                Ok(BatchStatus::End) => break Ok(RunEnd::EndOfInput),
                Err(error) => break Err(error),
            }
        };
        self.shard.flush(sink);
        after_batch(self, &source.counters());
        result
    }
}
