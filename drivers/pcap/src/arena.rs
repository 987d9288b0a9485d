//! The batch arena of live capture: packet bytes copied back to back into
//! one buffer that is allocated when the source opens and reused for every
//! batch.
//!
//! libpcap hands packets one at a time to a callback, and the bytes stay
//! valid only until the callback returns. On Linux the ring block that
//! holds them goes back to the kernel as soon as its last packet has been
//! handed over, which can happen before the batch is complete. So the
//! packets of a batch are copied here, and the views of the batch borrow
//! this buffer instead of libpcap's.

use naudit_engine::source::MAX_BATCH_PACKETS;
use naudit_engine::{LinkType, PacketView};

/// Where one copied packet sits in the arena, and what libpcap said of it.
#[derive(Clone, Copy, Debug, Default)]
struct ArenaEntry {
    start: usize,
    len: usize,
    timestamp_ns: u64,
    wire_len_bytes: u32,
}

/// Up to [`MAX_BATCH_PACKETS`] packets copied from libpcap.
pub(crate) struct BatchArena {
    /// Packet bytes. The capacity is fixed at creation and never grows, so
    /// copying a packet never allocates.
    bytes: Vec<u8>,
    entries: [ArenaEntry; MAX_BATCH_PACKETS],
    count: usize,
}

impl BatchArena {
    /// Creates an arena that holds a full batch of packets of up to
    /// `max_packet_bytes` each.
    ///
    /// The buffer is allocated but not written. glibc maps an allocation of
    /// this size on demand, so memory backs only the pages that packets
    /// reach, and packets are packed from the start, so a batch of small
    /// packets touches a few pages.
    pub(crate) fn new(max_packet_bytes: usize) -> BatchArena {
        BatchArena {
            bytes: Vec::with_capacity(MAX_BATCH_PACKETS * max_packet_bytes),
            entries: [ArenaEntry::default(); MAX_BATCH_PACKETS],
            count: 0,
        }
    }

    /// Forgets the packets of the last batch.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.count = 0;
    }

    /// Number of packets in the arena.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Number of packets that can still be added.
    pub(crate) fn free_slots(&self) -> usize {
        MAX_BATCH_PACKETS - self.count
    }

    /// Copies one packet into the arena. Returns false, and copies nothing,
    /// when the arena has no free slot or too few free bytes.
    pub(crate) fn push(&mut self, data: &[u8], timestamp_ns: u64, wire_len_bytes: u32) -> bool {
        let start = self.bytes.len();
        if self.count == MAX_BATCH_PACKETS || data.len() > self.bytes.capacity() - start {
            return false;
        }
        self.bytes.extend_from_slice(data);
        self.entries[self.count] = ArenaEntry {
            start,
            len: data.len(),
            timestamp_ns,
            wire_len_bytes,
        };
        self.count += 1;
        true
    }

    /// Calls `process` with views of the packets in the arena, all of link
    /// type `link_type` and ingress port 0.
    pub(crate) fn with_views<R>(
        &self,
        link_type: LinkType,
        process: impl FnOnce(&[PacketView<'_>]) -> R,
    ) -> R {
        let mut views = [PacketView::EMPTY; MAX_BATCH_PACKETS];
        for (view, entry) in views.iter_mut().zip(&self.entries[..self.count]) {
            *view = PacketView {
                timestamp_ns: entry.timestamp_ns,
                wire_len_bytes: entry.wire_len_bytes,
                data: &self.bytes[entry.start..entry.start + entry.len],
                link_type,
                port: 0,
            };
        }
        process(&views[..self.count])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_come_back_in_order() {
        let mut arena = BatchArena::new(16);
        assert!(arena.push(b"first", 10, 60));
        assert!(arena.push(b"second", 20, 6));
        let seen = arena.with_views(LinkType::ETHERNET, |views| {
            views
                .iter()
                .map(|view| (view.data.to_vec(), view.timestamp_ns, view.wire_len_bytes))
                .collect::<Vec<_>>()
        });
        assert_eq!(
            seen,
            vec![(b"first".to_vec(), 10, 60), (b"second".to_vec(), 20, 6)]
        );
    }

    #[test]
    fn full_arena_rejects_and_keeps_capacity() {
        let mut arena = BatchArena::new(4);
        let capacity = arena.bytes.capacity();
        for _ in 0..MAX_BATCH_PACKETS {
            assert!(arena.push(b"abcd", 0, 4));
        }
        assert_eq!(arena.free_slots(), 0);
        assert!(!arena.push(b"", 0, 0), "no slot is left");
        assert_eq!(arena.bytes.capacity(), capacity, "the buffer must not grow");
    }

    #[test]
    fn oversized_packet_is_rejected() {
        let mut arena = BatchArena::new(4);
        let too_long = vec![0u8; MAX_BATCH_PACKETS * 4 + 1];
        assert!(!arena.push(&too_long, 0, 0));
        assert_eq!(arena.len(), 0);
    }

    #[test]
    fn clear_empties_the_batch() {
        let mut arena = BatchArena::new(8);
        assert!(arena.push(b"packet", 1, 6));
        arena.clear();
        assert_eq!(arena.len(), 0);
        assert_eq!(arena.with_views(LinkType::ETHERNET, |views| views.len()), 0);
    }
}
