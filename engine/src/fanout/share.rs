//! Sharing a replayable input by flow: every worker reads the whole input
//! and keeps the packets whose flow hashes to it. No classifier thread, no
//! copy, and every worker reads every timestamp, so flow time advances
//! exactly as with one worker.
//!
//! The price is that each worker also passes over every packet it does not
//! keep. A memory-mapped file reads those through
//! [`PacketSource::next_batch_kept`], which costs the record header, the
//! header hash and no batch slot: about 200 instructions a packet on the
//! IMIX benchmark capture, against about 1,400 to account for one
//! (callgrind, one worker against two).

use super::{packet_worker_hash, worker_index};
use crate::packet::PacketView;
use crate::source::{BatchStatus, PacketSource, SourceCounters, SourceError};

/// One worker's share of an input that each worker reads on its own.
///
/// [`packet_worker_hash`] hashes most packets from their headers. It
/// decodes the rest here, and the worker decodes them again.
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
            let watermark_ns = &mut self.watermark_ns;
            let counters = &mut self.counters;
            let status = self.inner.next_batch_kept(
                |packet| {
                    *watermark_ns = (*watermark_ns).max(packet.timestamp_ns);
                    worker_index(packet_worker_hash(packet.link_type, packet.data), workers) == index
                },
                |batch| {
                    // Counted here, after any filter inside `inner` has run.
                    counters.received_pkts += batch.len() as u64;
                    counters.truncated_pkts += batch.iter().filter(|packet| packet.is_truncated()).count() as u64;
                    if let Some(process) = process.take() {
                        process(batch);
                    }
                },
            )?;
            match status {
                BatchStatus::Packets(0) => continue,
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
