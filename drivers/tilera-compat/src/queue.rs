//! One capture queue: a socket of the fanout group with its ring, read by
//! one worker through [`PacketSource`].

use std::cell::Cell;
use std::io;
use std::time::{Duration, Instant};

use naudit_engine::source::MAX_BATCH_PACKETS;
use naudit_engine::{BatchStatus, LinkType, PacketSource, PacketView, SourceCounters, SourceError};

use crate::block::{BlockCursor, BlockError, FrameReader};
use crate::ring::MappedRing;
use crate::socket::{self, PacketSocket, Readiness};
use crate::stats::{KernelStats, DROP_LOG_INTERVAL};

/// How long `next_batch` waits in poll(2) for the kernel to hand over a
/// block before it returns [`BatchStatus::Idle`]. A block that arrives wakes
/// the worker at once, so this only bounds how long an idle worker sleeps
/// instead of spinning. The worker gets control back at least every 10 ms
/// to advance flow time from the clock and to see a stop request.
pub const IDLE_POLL_TIMEOUT_MS: i32 = 10;

/// How often a queue whose interface went down checks whether the
/// interface was removed. The kernel reports the removal of an interface
/// that is already down to no socket, so the queue has to look.
const REMOVED_INTERFACE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// One AF_PACKET queue, opened by [`crate::AfPacketDriver::open`].
///
/// It walks its ring block by block and hands the frames of a block to the
/// worker in batches of at most [`MAX_BATCH_PACKETS`]. A block goes back to
/// the kernel as soon as its last frame has been handed over, so a large
/// block spans several batches and a batch never spans two blocks. Packets
/// are not copied out of the ring, and a VLAN tag is written back in place.
/// Nothing is allocated or locked per packet. The only system calls are one
/// poll(2) when the ring is empty and one getsockopt(2) when the kernel
/// flags new drops on a block.
pub struct AfPacketQueue {
    /// Unmapped before `socket` is closed, because fields drop in order.
    ring: MappedRing,
    socket: PacketSocket,
    name: String,
    interface: String,
    interface_index: u32,
    queue_index: u16,
    fanout_group_id: u16,
    link_type: LinkType,
    /// Puts back the VLAN tags the kernel strips from Ethernet frames.
    restore_vlan_tags: bool,
    skip_outgoing: bool,
    /// Index of the next block to open; the kernel fills blocks in ring
    /// order, so this follows it.
    next_block: usize,
    /// The block being handed over, if one is.
    current: Option<BlockCursor>,
    /// Received, driver-dropped and truncated packets; the kernel's drops
    /// live in `kernel_stats`.
    counters: SourceCounters,
    /// A Cell so that `counters(&self)` can read the kernel's statistics.
    kernel_stats: Cell<KernelStats>,
    /// Set when the socket reported ENETDOWN, cleared by the next block.
    interface_down: bool,
    last_removal_check: Option<Instant>,
    last_block_error_log: Option<Instant>,
}

/// Parts of one queue that `open_queue` has set up.
pub(crate) struct QueueParts {
    pub(crate) ring: MappedRing,
    pub(crate) socket: PacketSocket,
    pub(crate) interface: String,
    pub(crate) interface_index: u32,
    pub(crate) queue_index: u16,
    pub(crate) fanout_group_id: u16,
    pub(crate) link_type: LinkType,
    /// True on a loopback interface, where the kernel shows every packet
    /// twice: once leaving and once arriving. The leaving copy is skipped,
    /// as libpcap does.
    pub(crate) skip_outgoing: bool,
}

impl AfPacketQueue {
    pub(crate) fn new(parts: QueueParts) -> AfPacketQueue {
        AfPacketQueue {
            name: format!("{} queue {}", parts.interface, parts.queue_index),
            restore_vlan_tags: parts.link_type == LinkType::ETHERNET,
            skip_outgoing: parts.skip_outgoing,
            ring: parts.ring,
            socket: parts.socket,
            interface: parts.interface,
            interface_index: parts.interface_index,
            queue_index: parts.queue_index,
            fanout_group_id: parts.fanout_group_id,
            link_type: parts.link_type,
            next_block: 0,
            current: None,
            counters: SourceCounters::default(),
            kernel_stats: Cell::new(KernelStats::default()),
            interface_down: false,
            last_removal_check: None,
            last_block_error_log: None,
        }
    }

    /// Returns the index of this queue in its fanout group, which is also its
    /// packets' `port`.
    pub fn queue_index(&self) -> u16 {
        self.queue_index
    }

    /// Returns the link type of the captured frames.
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// Returns the interface's index in the network namespace it was opened in.
    pub fn interface_index(&self) -> u32 {
        self.interface_index
    }

    /// Returns the `PACKET_FANOUT` group this queue's socket belongs to.
    pub fn fanout_group_id(&self) -> u16 {
        self.fanout_group_id
    }

    /// Returns how often the ring froze because the worker held every block,
    /// since open. Reads the kernel's statistics (one getsockopt).
    pub fn queue_freezes(&self) -> u64 {
        self.refresh_kernel_stats();
        self.kernel_stats.get().queue_freezes
    }

    /// Replaces the drop-all filter that `open` attached with one that keeps
    /// `snaplen_bytes` of every packet, so capture starts.
    pub(crate) fn start_capture(&self, snaplen_bytes: u32) -> io::Result<()> {
        self.socket.set_filter_keep_bytes(snaplen_bytes)
    }

    /// Opens the next block if the kernel has handed it over, waiting up to
    /// [`IDLE_POLL_TIMEOUT_MS`] for it.
    fn take_next_block(&mut self) -> Result<NextBlock, SourceError> {
        let index = self.next_block;
        if self.ring.block_status(index) & libc::TP_STATUS_USER == 0 {
            self.wait_for_block()?;
        }
        let Some((status, block)) = self.ring.user_block(index) else {
            return Ok(NextBlock::NotReady);
        };

        let opened = BlockCursor::open(index, block);
        if status & libc::TP_STATUS_LOSING != 0 {
            // The kernel counted drops since the last statistics read.
            self.refresh_kernel_stats();
        }
        if std::mem::take(&mut self.interface_down) {
            tracing::info!(
                interface = %self.interface,
                queue = self.queue_index,
                "interface is up again; capture resumed"
            );
        }
        match opened {
            Ok(cursor) => Ok(NextBlock::Opened(cursor)),
            Err((error, frames)) => {
                self.drop_block_rest(index, frames, &error);
                Ok(NextBlock::Dropped)
            }
        }
    }

    /// Keeps the block for the next batch, or returns it to the kernel when
    /// it is finished or malformed.
    fn after_batch(&mut self, cursor: BlockCursor, error: Option<BlockError>) {
        if let Some(error) = error {
            self.drop_block_rest(cursor.block_index, cursor.frames_left(), &error);
        } else if cursor.is_finished() {
            self.finish_block(cursor.block_index);
        } else {
            self.current = Some(cursor);
        }
    }

    /// Sleeps in poll(2) until the kernel hands over a block, the timeout
    /// passes or the socket reports an error.
    fn wait_for_block(&mut self) -> Result<(), SourceError> {
        match self.socket.wait_readable(IDLE_POLL_TIMEOUT_MS) {
            Ok(Readiness::Readable) => Ok(()),
            Ok(Readiness::TimedOut) => self.check_interface_removed(),
            Ok(Readiness::Error) => self.handle_socket_error(),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(source) => Err(self.io_error("failed to poll the capture socket", source)),
        }
    }

    /// Reads the socket's pending error. ENETDOWN means the interface went
    /// down, or is being removed; any other error ends the capture.
    fn handle_socket_error(&mut self) -> Result<(), SourceError> {
        let pending = match self.socket.take_error() {
            Ok(pending) => pending,
            Err(source) => {
                return Err(self.io_error("failed to read the capture socket's error", source))
            }
        };
        let Some(error) = pending else { return Ok(()) };
        if error.raw_os_error() != Some(libc::ENETDOWN) {
            return Err(self.io_error("the capture socket reported an error", error));
        }
        if !self.interface_down {
            tracing::warn!(
                interface = %self.interface,
                queue = self.queue_index,
                "interface went down; capture resumes when it is up again"
            );
            self.interface_down = true;
        }
        self.last_removal_check = None;
        self.check_interface_removed()
    }

    /// While the interface is down, checks at most once per
    /// [`REMOVED_INTERFACE_CHECK_INTERVAL`] whether it still exists.
    fn check_interface_removed(&mut self) -> Result<(), SourceError> {
        if !self.interface_down {
            return Ok(());
        }
        let now = Instant::now();
        if let Some(last) = self.last_removal_check {
            if now.duration_since(last) < REMOVED_INTERFACE_CHECK_INTERVAL {
                return Ok(());
            }
        }
        self.last_removal_check = Some(now);
        if socket::interface_exists(self.interface_index) {
            return Ok(());
        }
        Err(self.io_error(
            "the capture interface was removed; restart the capture once it exists again",
            io::Error::from_raw_os_error(libc::ENODEV),
        ))
    }

    /// Counts the frames left in block `index` as dropped by the driver,
    /// logs why (rate-limited) and returns the block to the kernel.
    fn drop_block_rest(&mut self, index: usize, frames_left: u32, error: &BlockError) {
        self.counters.driver_dropped_pkts += u64::from(frames_left);
        let now = Instant::now();
        let due = self
            .last_block_error_log
            .map_or(true, |last| now.duration_since(last) >= DROP_LOG_INTERVAL);
        if due {
            self.last_block_error_log = Some(now);
            tracing::warn!(
                interface = %self.interface,
                queue = self.queue_index,
                block = index,
                dropped_packets = frames_left,
                total_driver_dropped_packets = self.counters.driver_dropped_pkts,
                %error,
                "dropped the rest of a malformed ring block"
            );
        }
        self.finish_block(index);
    }

    /// Returns block `index` to the kernel and moves on to the next one.
    fn finish_block(&mut self, index: usize) {
        self.ring.release_block(index);
        self.current = None;
        self.next_block = (index + 1) % self.ring.block_count();
    }

    /// Adds the kernel's statistics since the last read to the totals and
    /// logs new drops, at most once per [`DROP_LOG_INTERVAL`].
    fn refresh_kernel_stats(&self) {
        let read = match self.socket.take_statistics() {
            Ok(read) => read,
            Err(error) => {
                tracing::warn!(
                    interface = %self.interface,
                    queue = self.queue_index,
                    %error,
                    "failed to read PACKET_STATISTICS; drop counts may be low"
                );
                return;
            }
        };
        let mut stats = self.kernel_stats.get();
        let report = stats.add(&read, Instant::now());
        self.kernel_stats.set(stats);
        if let Some(report) = report {
            tracing::warn!(
                interface = %self.interface,
                queue = self.queue_index,
                dropped_packets = report.dropped_pkts,
                queue_freezes = report.queue_freezes,
                total_dropped_packets = stats.dropped_pkts,
                "kernel dropped packets because the ring was full; the worker is slower than the traffic \
                 (raise the block count or add queues)"
            );
        }
    }

    fn io_error(&self, context: &'static str, source: io::Error) -> SourceError {
        SourceError::Io {
            input: self.name.clone(),
            context,
            source,
        }
    }
}

impl PacketSource for AfPacketQueue {
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        // Each pass either hands over a batch or finishes a block that had
        // nothing to hand over (empty or malformed), so a ring of n blocks
        // needs at most n passes before it is empty.
        for _ in 0..self.ring.block_count() {
            let mut cursor = match self.current {
                Some(cursor) => cursor,
                None => match self.take_next_block()? {
                    NextBlock::Opened(cursor) => cursor,
                    NextBlock::Dropped => continue,
                    NextBlock::NotReady => return Ok(BatchStatus::Idle),
                },
            };

            let mut batch = [PacketView::EMPTY; MAX_BATCH_PACKETS];
            let Some((_, block)) = self.ring.user_block(cursor.block_index) else {
                // The kernel never takes back a block that user space holds.
                // Should it, this block is gone, and the walk moves on.
                self.finish_block(cursor.block_index);
                continue;
            };
            let mut reader = FrameReader::new(block, &mut cursor, self.restore_vlan_tags);
            let fill = fill_batch(
                &mut reader,
                &mut batch,
                &mut self.counters,
                (self.link_type, self.queue_index, self.skip_outgoing),
            );

            if fill.count > 0 {
                process(&batch[..fill.count]);
                self.after_batch(cursor, fill.error);
                return Ok(BatchStatus::Packets(fill.count));
            }
            self.after_batch(cursor, fill.error);
        }
        Ok(BatchStatus::Idle)
    }

    /// Reads the kernel's statistics (one getsockopt) so the kernel drop
    /// count is current.
    fn counters(&self) -> SourceCounters {
        self.refresh_kernel_stats();
        SourceCounters {
            kernel_dropped_pkts: self.kernel_stats.get().dropped_pkts,
            ..self.counters
        }
    }

    fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for AfPacketQueue {
    fn drop(&mut self) {
        self.refresh_kernel_stats();
        let stats = self.kernel_stats.get();
        let unreported = stats.unreported();
        tracing::info!(
            interface = %self.interface,
            queue = self.queue_index,
            received_packets = self.counters.received_pkts,
            kernel_dropped_packets = stats.dropped_pkts,
            kernel_dropped_packets_not_yet_logged = unreported.dropped_pkts,
            queue_freezes = stats.queue_freezes,
            driver_dropped_packets = self.counters.driver_dropped_pkts,
            truncated_packets = self.counters.truncated_pkts,
            "closed AF_PACKET queue"
        );
    }
}

/// Outcome of `take_next_block`.
enum NextBlock {
    /// The kernel handed over the block; its frames are ready.
    Opened(BlockCursor),
    /// The block was malformed and went back to the kernel unread.
    Dropped,
    /// The kernel still owns the block.
    NotReady,
}

/// Result of filling one batch.
struct Fill {
    count: usize,
    /// Set when the block turned out malformed after `count` frames.
    error: Option<BlockError>,
}

/// Fills `batch` from `reader` and counts the packets.
fn fill_batch<'a>(
    reader: &mut FrameReader<'a, '_>,
    batch: &mut [PacketView<'a>; MAX_BATCH_PACKETS],
    counters: &mut SourceCounters,
    (link_type, port, skip_outgoing): (LinkType, u16, bool),
) -> Fill {
    let mut count = 0;
    while count < MAX_BATCH_PACKETS {
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(error) => {
                return Fill {
                    count,
                    error: Some(error),
                }
            }
        };
        if skip_outgoing && frame.outgoing {
            continue;
        }
        let view = PacketView {
            timestamp_ns: frame.timestamp_ns,
            wire_len_bytes: frame.wire_len_bytes,
            data: frame.data,
            link_type,
            port,
        };
        counters.received_pkts += 1;
        if view.is_truncated() {
            counters.truncated_pkts += 1;
        }
        batch[count] = view;
        count += 1;
    }
    Fill { count, error: None }
}

#[cfg(test)]
mod tests {
    use naudit_engine::source::MAX_BATCH_PACKETS;
    use naudit_engine::{LinkType, PacketView, SourceCounters};

    use super::fill_batch;
    use crate::block::tests::{build_block, TestFrame};
    use crate::block::{BlockCursor, FrameReader};

    #[test]
    fn fill_counts_received_and_truncated() {
        let mut short = TestFrame::new(5, 0, &[0xaa; 96]);
        short.wire_len = 1500;
        let frames = [TestFrame::new(5, 1, &[0xbb; 60]), short];
        let mut block = build_block(4096, &frames);
        let mut cursor = BlockCursor::open(0, &block).unwrap();
        let mut reader = FrameReader::new(&mut block, &mut cursor, false);
        let mut batch = [PacketView::EMPTY; MAX_BATCH_PACKETS];
        let mut counters = SourceCounters::default();

        let fill = fill_batch(
            &mut reader,
            &mut batch,
            &mut counters,
            (LinkType::ETHERNET, 3, false),
        );

        assert_eq!(fill.count, 2);
        assert!(fill.error.is_none());
        assert_eq!(counters.received_pkts, 2);
        assert_eq!(counters.truncated_pkts, 1);
        assert_eq!(batch[1].wire_len_bytes, 1500);
        assert_eq!(batch[1].data.len(), 96);
        assert_eq!(batch[0].port, 3);
        assert_eq!(batch[0].timestamp_ns, 5_000_000_001);
    }

    #[test]
    fn fill_skips_outgoing_copies_on_loopback() {
        let frames = [TestFrame::new(5, 0, &[0xaa; 60]), TestFrame::new(5, 1, &[0xbb; 60])];
        let mut block = build_block(4096, &frames);
        let cursor = BlockCursor::open(0, &block).unwrap();
        // Mark the first frame as sent by this host (PACKET_OUTGOING).
        let first_frame = cursor.next_frame_offset;
        block[first_frame + crate::sys::frame_header::SLL_PKTTYPE] = libc::PACKET_OUTGOING;

        for (skip_outgoing, expected) in [(true, 1), (false, 2)] {
            let mut cursor = BlockCursor::open(0, &block).unwrap();
            let mut copy = block.clone();
            let mut reader = FrameReader::new(&mut copy, &mut cursor, false);
            let mut batch = [PacketView::EMPTY; MAX_BATCH_PACKETS];
            let mut counters = SourceCounters::default();
            let fill = fill_batch(&mut reader, &mut batch, &mut counters, (LinkType::ETHERNET, 0, skip_outgoing));
            assert_eq!(fill.count, expected, "skip_outgoing {skip_outgoing}");
            assert_eq!(counters.received_pkts, expected as u64);
            assert_eq!(batch[0].data[0], if skip_outgoing { 0xbb } else { 0xaa });
        }
    }

    #[test]
    fn fill_stops_at_batch_size() {
        let frames: Vec<TestFrame> = (0..MAX_BATCH_PACKETS + 5)
            .map(|i| TestFrame::new(1, i as u32, &[1; 60]))
            .collect();
        let mut block = build_block(64 * 1024, &frames);
        let mut cursor = BlockCursor::open(0, &block).unwrap();
        let mut counters = SourceCounters::default();

        let first = {
            let mut batch = [PacketView::EMPTY; MAX_BATCH_PACKETS];
            let mut reader = FrameReader::new(&mut block, &mut cursor, false);
            fill_batch(
                &mut reader,
                &mut batch,
                &mut counters,
                (LinkType::ETHERNET, 0, false),
        )
            .count
        };
        assert_eq!(first, MAX_BATCH_PACKETS);
        assert_eq!(cursor.frames_left(), 5);

        let mut second_batch = [PacketView::EMPTY; MAX_BATCH_PACKETS];
        let mut reader = FrameReader::new(&mut block, &mut cursor, false);
        let second = fill_batch(
            &mut reader,
            &mut second_batch,
            &mut counters,
            (LinkType::ETHERNET, 0, false),
        )
        .count;
        assert_eq!(second, 5);
        assert!(cursor.is_finished());
        assert_eq!(
            second_batch[4].timestamp_ns,
            1_000_000_000 + MAX_BATCH_PACKETS as u64 + 4
        );
    }
}
