//! Read-ahead for a walk through bytes in memory, such as a memory-mapped
//! capture file.
//!
//! A capture file is walked record by record, and each record header says
//! where the next one starts, so every header read waits for the one before
//! it. When the lines of the file are not in the cache, each of those reads
//! is a miss of its own. On a 2-core AMD EPYC virtual machine, walking the
//! 5-million-packet IMIX benchmark capture took about 90 ns of user time a
//! packet, so the hardware prefetcher hid few of those misses (the stride
//! between headers varies with the packet sizes). [`ReadAhead`] prefetches
//! every cache line up to a fixed distance ahead of the walk instead, so the
//! lines arrive together while earlier packets are processed. With 1 KiB of
//! read-ahead, the same walk took about 20 ns a packet.

use crate::prefetch::{prefetch_read, CACHE_LINE_BYTES};

/// How far ahead of the walk [`ReadAhead`] prefetches. On a 2-core AMD EPYC
/// virtual machine, of distances from 512 bytes to 4 KiB, 512 bytes and
/// 1 KiB walked the standard benchmark captures fastest, within a few
/// nanoseconds a packet of each other. On a 2-core Intel Xeon virtual
/// machine, 2 KiB took 0.97 to 0.99 times the CPU time of 1 KiB on elephant,
/// imix and sessions, and the same on small64, and 4 KiB no less than 2 KiB.
///
/// NOTE: measured on those two virtual machines only.
pub const READ_AHEAD_BYTES: usize = 2048;

/// The offset up to which a sequential walk has prefetched its bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadAhead {
    /// Offset of the first byte not prefetched yet.
    prefetched_to: usize,
}

impl ReadAhead {
    /// Starts with nothing prefetched.
    pub const fn new() -> ReadAhead {
        ReadAhead { prefetched_to: 0 }
    }

    /// Prefetches the cache lines of `bytes` from where the last call stopped
    /// to [`READ_AHEAD_BYTES`] past `position`, the offset the walk reads
    /// next. A prefetch is only a hint, so this changes nothing but timing.
    #[inline]
    pub fn advance(&mut self, bytes: &[u8], position: usize) {
        let end = position.saturating_add(READ_AHEAD_BYTES).min(bytes.len());
        let mut offset = self.prefetched_to.max(position);
        while offset < end {
            prefetch_read(bytes.as_ptr().wrapping_add(offset));
            offset += CACHE_LINE_BYTES;
        }
        self.prefetched_to = self.prefetched_to.max(offset);
    }

    /// Returns the offset of the first byte not prefetched yet.
    pub fn prefetched_to(&self) -> usize {
        self.prefetched_to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetches_each_line_once() {
        let bytes = vec![0_u8; 3 * READ_AHEAD_BYTES];
        let mut ahead = ReadAhead::new();
        ahead.advance(&bytes, 0);
        assert_eq!(ahead.prefetched_to(), READ_AHEAD_BYTES);
        ahead.advance(&bytes, 100);
        assert_eq!(ahead.prefetched_to(), READ_AHEAD_BYTES + 128);
        // A walk that jumps past the prefetched bytes starts again from there.
        ahead.advance(&bytes, 2 * READ_AHEAD_BYTES);
        assert_eq!(ahead.prefetched_to(), bytes.len());
    }

    #[test]
    fn stops_at_the_end_of_the_bytes() {
        let bytes = vec![0_u8; 100];
        let mut ahead = ReadAhead::new();
        ahead.advance(&bytes, 40);
        assert_eq!(ahead.prefetched_to(), 104);
        ahead.advance(&bytes, 100);
        assert_eq!(ahead.prefetched_to(), 104);
        ahead.advance(&[], 0);
        assert_eq!(ahead.prefetched_to(), 104);
    }
}
