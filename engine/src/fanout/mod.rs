//! The software classifier: spreads one packet source over several workers
//! through per-worker rings, as Tilera's mPIPE did in hardware.
//!
//! mPIPE parsed each packet, hashed its flow, took a buffer from a buffer
//! stack, wrote the packet into it and posted a descriptor to the
//! notification ring of the core that owns the flow; the core processed the
//! packet to completion and pushed the buffer back on the stack. Here the
//! [`Classifier`] runs on its own thread and does the same with
//! single-producer, single-consumer rings: per worker, a notification ring
//! of filled buffers and a buffer stack (a return ring) of empty ones. Each
//! [`WorkerQueue`] is an ordinary [`PacketSource`](crate::PacketSource) for
//! its worker, so the worker loop is the same as with any driver.
//!
//! The classifier copies each packet once, into a buffer that is reused
//! for the whole run. When a worker falls behind, its buffers run out and
//! the classifier waits, so reading a file loses nothing.

mod classifier;
mod hash;
mod queue;
mod quick_hash;
mod share;

pub use classifier::{fanout, Classifier, FanoutConfig};
pub use hash::{worker_hash, worker_index};
pub use queue::WorkerQueue;
pub use quick_hash::{packet_worker_hash, quick_worker_hash};
pub use share::FlowShare;

use crate::packet::LinkType;

/// One packet in flight from the classifier to a worker.
#[derive(Debug)]
struct Slot {
    timestamp_ns: u64,
    wire_len_bytes: u32,
    link_type: LinkType,
    port: u16,
    /// The latest packet time the classifier had seen, on any worker's
    /// queue, when it posted this packet.
    watermark_ns: u64,
    /// The captured bytes; its capacity is kept when it returns to the
    /// buffer stack.
    data: Vec<u8>,
}
