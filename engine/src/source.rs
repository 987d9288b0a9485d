//! The one driver trait: every capture driver hands packets to the engine
//! through [`PacketSource`].

use crate::packet::PacketView;

/// Largest number of packets a driver hands over in one batch. Drivers fill
/// a fixed array of this size on the stack, so a batch costs no allocation.
pub const MAX_BATCH_PACKETS: usize = 64;

/// Outcome of one `next_batch` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchStatus {
    /// This many packets were handed to the closure (at least one).
    Packets(usize),
    /// Nothing is available now; a live driver may have more later. The
    /// worker advances flow time from the clock and polls again.
    Idle,
    /// The input is exhausted and no packet will ever follow.
    End,
}

/// Packet counters of one driver queue, since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceCounters {
    /// Packets handed to the engine.
    pub received_pkts: u64,
    /// Packets the driver itself discarded (a full ring, no buffer).
    pub driver_dropped_pkts: u64,
    /// Packets the kernel reports as dropped (socket buffer or ring full).
    pub kernel_dropped_pkts: u64,
    /// Packets the NIC reports as missed or errored.
    pub nic_dropped_pkts: u64,
    /// Packets whose captured length is less than their wire length.
    pub truncated_pkts: u64,
}

impl SourceCounters {
    /// Packets lost before the engine received them, counting every dropper.
    pub fn dropped_pkts(&self) -> u64 {
        self.driver_dropped_pkts + self.kernel_dropped_pkts + self.nic_dropped_pkts
    }

    /// Adds another queue's counters to these.
    pub fn add(&mut self, other: &SourceCounters) {
        self.received_pkts += other.received_pkts;
        self.driver_dropped_pkts += other.driver_dropped_pkts;
        self.kernel_dropped_pkts += other.kernel_dropped_pkts;
        self.nic_dropped_pkts += other.nic_dropped_pkts;
        self.truncated_pkts += other.truncated_pkts;
    }
}

/// Failure of a driver to deliver packets.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The input is damaged; every packet before `offset_bytes` was delivered.
    #[error(
        "{input}: {reason} at byte offset {offset_bytes} (packet {packet_number}); {}, {hint}",
        read_before(*packet_number)
    )]
    Corrupt {
        /// The file, pipe or device name.
        input: String,
        /// Where the damage starts, counted from the start of the input.
        offset_bytes: u64,
        /// The 1-based number of the packet that could not be read.
        packet_number: u64,
        /// What is wrong, in a few words.
        reason: String,
        /// What the user can do about it.
        hint: &'static str,
    },
    /// The input is well formed but uses something nauditd does not read.
    #[error("{input}: {what}")]
    Unsupported {
        /// The file, pipe or device name.
        input: String,
        /// What is not supported and what to do instead.
        what: String,
    },
    /// The operating system failed a read, open or device call.
    #[error("{input}: {context}: {source}")]
    Io {
        /// The file, pipe or device name.
        input: String,
        /// The operation that failed.
        context: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// Says what was read before damage at 1-based `packet_number`.
fn read_before(packet_number: u64) -> String {
    match packet_number {
        0 | 1 => "no packet was read before it".to_string(),
        2 => "the packet before it was read".to_string(),
        _ => format!("the {} packets before it were read", packet_number - 1),
    }
}

/// A driver queue that hands captured packets to one worker in batches.
///
/// The worker loop is generic over the source type, so this call is
/// monomorphised and the per-packet path has no dynamic dispatch.
pub trait PacketSource {
    /// Receives up to [`MAX_BATCH_PACKETS`] packets and passes them to
    /// `process` as one batch.
    ///
    /// The views are valid only inside `process`; the driver may reuse or
    /// release their memory as soon as it returns. `process` is called only
    /// when the status is [`BatchStatus::Packets`].
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]);

    /// Counters of this queue since it was opened.
    fn counters(&self) -> SourceCounters;

    /// The input's name for messages: a file path, `-` for standard input,
    /// an interface or a port.
    fn name(&self) -> &str;

    /// The latest packet time the driver has seen on any of its queues, when
    /// it knows it: a queue fed by a classifier that reads one input for
    /// several workers. A worker moves its flow time to it, so flows of a
    /// quiet queue time out as they would with one worker.
    fn time_watermark_ns(&self) -> Option<u64> {
        None
    }

    /// Reads packets like [`next_batch`](Self::next_batch) but delivers
    /// only those that `keep` accepts. `keep` is called on every packet
    /// read, in order.
    ///
    /// Returns [`BatchStatus::Packets`] with the number delivered. That is 0
    /// when packets were read and none was kept, and then `process` is not
    /// called.
    ///
    /// The default reads one batch and copies out the kept packets. A source
    /// that can pass over a packet for less than it costs to deliver one,
    /// such as a memory-mapped file, overrides it: workers that share a file
    /// each read every packet of it and keep about one in N.
    fn next_batch_kept<K, F>(&mut self, mut keep: K, process: F) -> Result<BatchStatus, SourceError>
    where
        K: FnMut(&PacketView<'_>) -> bool,
        F: FnOnce(&[PacketView<'_>]),
    {
        let mut kept_count = 0;
        let status = self.next_batch(|batch| {
            let mut kept = [PacketView::EMPTY; MAX_BATCH_PACKETS];
            for packet in batch {
                if keep(packet) {
                    kept[kept_count] = *packet;
                    kept_count += 1;
                }
            }
            if kept_count > 0 {
                process(&kept[..kept_count]);
            }
        })?;
        Ok(match status {
            BatchStatus::Packets(_) => BatchStatus::Packets(kept_count),
            other => other,
        })
    }
}
