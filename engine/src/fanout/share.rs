//! Sharing a replayable input by flow: every worker reads the whole input
//! (a memory-mapped file costs a few nanoseconds a packet to walk) and keeps
//! the packets whose flow hashes to it. No classifier thread, no copy, and
//! every worker sees every timestamp, so flow time advances exactly as with
//! one worker.

use super::{quick_worker_hash, worker_hash, worker_index};
use crate::decode::decode_packet;
use crate::packet::PacketView;
use crate::source::{BatchStatus, PacketSource, SourceCounters, SourceError, MAX_BATCH_PACKETS};

/// One worker's share of an input that each worker reads on its own.
///
/// Most packets are hashed from their headers by [`quick_worker_hash`];
/// the rest are decoded here and again by the worker.
pub struct FlowShare<S: PacketSource> {
    inner: S,
    index: usize,
    workers: usize,
    watermark_ns: u64,
    counters: SourceCounters,
}

impl<S: PacketSource> FlowShare<S> {
    /// Keeps the packets of `inner` whose flows belong to worker `index` of
    /// `workers`.
    pub fn new(inner: S, index: usize, workers: usize) -> FlowShare<S> {
        FlowShare { inner, index, workers: workers.max(1), watermark_ns: 0, counters: SourceCounters::default() }
    }
}

impl<S: PacketSource> PacketSource for FlowShare<S> {
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        let mut process = Some(process);
        loop {
            let (index, workers) = (self.index, self.workers);
            let mut watermark_ns = self.watermark_ns;
            let mut kept_count = 0;
            let mut truncated = 0;
            let status = self.inner.next_batch(|batch| {
                let mut kept = [PacketView::EMPTY; MAX_BATCH_PACKETS];
                for packet in batch {
                    watermark_ns = watermark_ns.max(packet.timestamp_ns);
                    let hash = quick_worker_hash(packet.link_type, packet.data)
                        .unwrap_or_else(|| worker_hash(&decode_packet(packet.link_type, packet.data)));
                    if worker_index(hash, workers) == index {
                        kept[kept_count] = *packet;
                        kept_count += 1;
                        truncated += u64::from(packet.is_truncated());
                    }
                }
                if kept_count > 0 {
                    if let Some(process) = process.take() {
                        process(&kept[..kept_count]);
                    }
                }
            })?;
            self.watermark_ns = watermark_ns;
            self.counters.received_pkts += kept_count as u64;
            self.counters.truncated_pkts += truncated;
            match status {
                BatchStatus::Packets(_) if kept_count > 0 => return Ok(BatchStatus::Packets(kept_count)),
                BatchStatus::Packets(_) => continue,
                other => return Ok(other),
            }
        }
    }

    fn counters(&self) -> SourceCounters {
        self.counters
    }

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn time_watermark_ns(&self) -> Option<u64> {
        Some(self.watermark_ns)
    }
}
