//! The classifier thread's side: read the source, hash each packet to its
//! worker, copy it into one of that worker's buffers and post it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::queue::WorkerQueue;
use super::{packet_worker_hash, worker_index, Slot};
use crate::source::{BatchStatus, PacketSource, SourceCounters, SourceError};

/// Sizes of the per-worker rings.
#[derive(Clone, Copy, Debug)]
pub struct FanoutConfig {
    /// Buffers per worker: packets that can be in flight to one worker.
    pub buffers_per_worker: usize,
    /// Capacity a buffer is created with, in bytes; a larger packet grows
    /// its buffer once, and the buffer keeps that capacity.
    pub buffer_bytes: usize,
}

impl Default for FanoutConfig {
    fn default() -> Self {
        // 4096 buffers of 2 KiB hold 8 MiB per worker, enough to ride out
        // scheduling gaps of a few milliseconds at several million packets
        // per second, and a full-size Ethernet frame fits without growing.
        FanoutConfig { buffers_per_worker: 4096, buffer_bytes: 2048 }
    }
}

/// The classifier's end of one worker's rings.
struct Lane {
    notifications: rtrb::Producer<Slot>,
    buffer_stack: rtrb::Consumer<Vec<u8>>,
    buffers_created: usize,
}

/// Reads a packet source and hands every packet to the worker that owns
/// its flow.
pub struct Classifier<S: PacketSource> {
    source: S,
    lanes: Vec<Lane>,
    config: FanoutConfig,
    finished: Arc<AtomicBool>,
    /// The latest packet time classified, published for the workers when
    /// the input ends.
    final_watermark_ns: Arc<AtomicU64>,
    watermark_ns: u64,
}

/// Splits `source` over `workers` queues. Run [`Classifier::run`] on one
/// thread and give each [`WorkerQueue`] to one worker.
pub fn fanout<S: PacketSource>(source: S, workers: usize, config: FanoutConfig) -> (Classifier<S>, Vec<WorkerQueue>) {
    let workers = workers.max(1);
    let capacity = config.buffers_per_worker.max(1);
    let finished = Arc::new(AtomicBool::new(false));
    let final_watermark_ns = Arc::new(AtomicU64::new(0));
    let mut lanes = Vec::with_capacity(workers);
    let mut queues = Vec::with_capacity(workers);
    for index in 0..workers {
        let (notifications, ready) = rtrb::RingBuffer::new(capacity);
        let (returns, buffer_stack) = rtrb::RingBuffer::new(capacity);
        lanes.push(Lane { notifications, buffer_stack, buffers_created: 0 });
        queues.push(WorkerQueue::new(
            format!("{} (queue {index})", source.name()),
            ready,
            returns,
            Arc::clone(&finished),
            Arc::clone(&final_watermark_ns),
        ));
    }
    let config = FanoutConfig { buffers_per_worker: capacity, ..config };
    (Classifier { source, lanes, config, finished, final_watermark_ns, watermark_ns: 0 }, queues)
}

impl<S: PacketSource> Classifier<S> {
    /// Counters of the source read so far.
    pub fn counters(&self) -> SourceCounters {
        self.source.counters()
    }

    /// Reads the source to its end (or until `stop` is raised) and then
    /// tells the workers that no packet will follow. A source error is
    /// returned after that, so the workers still finish what they have.
    pub fn run(&mut self, stop: &AtomicBool) -> Result<(), SourceError> {
        let result = self.classify_all(stop);
        self.final_watermark_ns.store(self.watermark_ns, Ordering::Release);
        self.finished.store(true, Ordering::Release);
        result
    }

    fn classify_all(&mut self, stop: &AtomicBool) -> Result<(), SourceError> {
        let lanes = &mut self.lanes;
        let config = self.config;
        let watermark_ns = &mut self.watermark_ns;
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let status = self.source.next_batch(|batch| {
                for packet in batch {
                    *watermark_ns = (*watermark_ns).max(packet.timestamp_ns);
                    let hash = packet_worker_hash(packet.link_type, packet.data);
                    let index = worker_index(hash, lanes.len());
                    let lane = &mut lanes[index];
                    let mut data = take_buffer(lane, &config, stop);
                    data.clear();
                    data.extend_from_slice(packet.data);
                    let slot = Slot {
                        timestamp_ns: packet.timestamp_ns,
                        wire_len_bytes: packet.wire_len_bytes,
                        link_type: packet.link_type,
                        port: packet.port,
                        watermark_ns: *watermark_ns,
                        data,
                    };
                    // The ring holds as many slots as the lane has buffers,
                    // so it always has room for the buffer just taken.
                    let pushed = lane.notifications.push(slot);
                    debug_assert!(pushed.is_ok(), "notification ring smaller than the buffer count");
                }
            })?;
            match status {
                BatchStatus::Packets(_) => {}
                BatchStatus::Idle => std::thread::yield_now(),
                BatchStatus::End => return Ok(()),
            }
        }
    }
}

/// Takes a free buffer of `lane`, creating one while the lane has fewer
/// than its quota, else waiting for the worker to return one.
fn take_buffer(lane: &mut Lane, config: &FanoutConfig, stop: &AtomicBool) -> Vec<u8> {
    loop {
        if let Ok(buffer) = lane.buffer_stack.pop() {
            return buffer;
        }
        if lane.buffers_created < config.buffers_per_worker {
            lane.buffers_created += 1;
            return Vec::with_capacity(config.buffer_bytes);
        }
        if stop.load(Ordering::Relaxed) {
            // The worker may have stopped; a buffer outside the quota keeps
            // the classifier from hanging until the run loop sees the stop.
            return Vec::new();
        }
        std::thread::yield_now();
    }
}
