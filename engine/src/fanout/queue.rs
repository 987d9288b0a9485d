//! The worker's side of the classifier: a packet source reading one
//! notification ring.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::Slot;
use crate::packet::PacketView;
use crate::source::{BatchStatus, PacketSource, SourceCounters, SourceError, MAX_BATCH_PACKETS};

/// The packets the classifier sends to one worker.
pub struct WorkerQueue {
    name: String,
    ready: rtrb::Consumer<Slot>,
    returns: rtrb::Producer<Vec<u8>>,
    finished: Arc<AtomicBool>,
    final_watermark_ns: Arc<AtomicU64>,
    watermark_ns: u64,
    batch: Vec<Slot>,
    counters: SourceCounters,
}

impl WorkerQueue {
    pub(super) fn new(
        name: String,
        ready: rtrb::Consumer<Slot>,
        returns: rtrb::Producer<Vec<u8>>,
        finished: Arc<AtomicBool>,
        final_watermark_ns: Arc<AtomicU64>,
    ) -> WorkerQueue {
        WorkerQueue {
            name,
            ready,
            returns,
            finished,
            final_watermark_ns,
            watermark_ns: 0,
            batch: Vec::with_capacity(MAX_BATCH_PACKETS),
            counters: SourceCounters::default(),
        }
    }
}

impl PacketSource for WorkerQueue {
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        if self.ready.is_empty() {
            // The classifier posts every packet before it raises the flag,
            // so an empty ring seen after the flag stays empty.
            let finished = self.finished.load(Ordering::Acquire);
            if self.ready.is_empty() {
                if !finished {
                    return Ok(BatchStatus::Idle);
                }
                self.watermark_ns = self.watermark_ns.max(self.final_watermark_ns.load(Ordering::Acquire));
                return Ok(BatchStatus::End);
            }
        }

        while self.batch.len() < MAX_BATCH_PACKETS {
            match self.ready.pop() {
                Ok(slot) => self.batch.push(slot),
                Err(_) => break,
            }
        }
        let count = self.batch.len();
        let mut views = [PacketView::EMPTY; MAX_BATCH_PACKETS];
        for (view, slot) in views.iter_mut().zip(&self.batch) {
            *view = PacketView {
                timestamp_ns: slot.timestamp_ns,
                wire_len_bytes: slot.wire_len_bytes,
                data: &slot.data,
                link_type: slot.link_type,
                port: slot.port,
            };
            if view.is_truncated() {
                self.counters.truncated_pkts += 1;
            }
        }
        process(&views[..count]);

        self.counters.received_pkts += count as u64;
        for slot in self.batch.drain(..) {
            self.watermark_ns = self.watermark_ns.max(slot.watermark_ns);
            // The buffer stack has room for every buffer of this lane.
            let _ = self.returns.push(slot.data);
        }
        Ok(BatchStatus::Packets(count))
    }

    fn counters(&self) -> SourceCounters {
        self.counters
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn time_watermark_ns(&self) -> Option<u64> {
        Some(self.watermark_ns)
    }
}
