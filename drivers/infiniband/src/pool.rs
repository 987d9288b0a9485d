//! The receive buffer pool: one preallocated, page-aligned block of
//! equal buffers that the device writes packets into, and the bookkeeping
//! of which buffers are posted to the receive queue.

use std::alloc::Layout;
use std::ptr::NonNull;

/// Alignment of the block, a page, as memory registration pins whole pages.
const BLOCK_ALIGN_BYTES: usize = 4096;

/// The memory of `count` receive buffers of `buffer_bytes` each, buffer i at
/// byte `i * buffer_bytes`. Freed on drop.
pub(crate) struct BufferMemory {
    base: NonNull<u8>,
    layout: Layout,
    buffer_bytes: u32,
    count: u32,
}

// SAFETY: the block is plain memory owned by this value. The queue that owns
// it moves to its worker's thread, and only that thread reads it.
unsafe impl Send for BufferMemory {}

impl BufferMemory {
    /// Allocates and zeroes the block, or returns `None` when the size
    /// overflows or the allocation fails.
    pub(crate) fn allocate(count: u32, buffer_bytes: u32) -> Option<BufferMemory> {
        let size = usize::try_from(count).ok()?.checked_mul(usize::try_from(buffer_bytes).ok()?)?;
        if size == 0 {
            return None;
        }
        let layout = Layout::from_size_align(size, BLOCK_ALIGN_BYTES).ok()?;
        // SAFETY: the layout has a non-zero size.
        let base = NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) })?;
        Some(BufferMemory { base, layout, buffer_bytes, count })
    }

    /// Start of the block, for memory registration and receive requests.
    pub(crate) fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    pub(crate) fn len_bytes(&self) -> usize {
        self.layout.size()
    }

    pub(crate) fn buffer_bytes(&self) -> u32 {
        self.buffer_bytes
    }

    /// Returns the first `len` bytes of buffer `index`, at most the whole buffer.
    ///
    /// # Safety
    ///
    /// The buffer must not be posted to the receive queue while the slice
    /// lives, so that the device does not write it.
    pub(crate) unsafe fn packet(&self, index: u32, len: usize) -> &[u8] {
        assert!(index < self.count, "buffer {index} of {}", self.count);
        let len = len.min(self.buffer_bytes as usize);
        let offset = index as usize * self.buffer_bytes as usize;
        // SAFETY: the range lies inside the block, which stays allocated
        // while self is borrowed. The caller guarantees that the device
        // does not write the buffer meanwhile.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(offset), len) }
    }
}

impl Drop for BufferMemory {
    fn drop(&mut self) {
        // SAFETY: the block came from alloc_zeroed with this layout and is
        // freed once; the memory region over it is deregistered before
        // (see `sniffer::Resources`).
        unsafe { std::alloc::dealloc(self.base.as_ptr(), self.layout) }
    }
}

/// Bookkeeping of the buffers posted to the receive queue and of those
/// waiting to be posted again. Work request ids are buffer indexes.
#[derive(Debug)]
pub(crate) struct ReceiveRing {
    posted: Vec<bool>,
    posted_count: u32,
    /// Buffers to post, in order; its capacity is the buffer count, so it
    /// never reallocates.
    to_post: Vec<u32>,
}

impl ReceiveRing {
    /// Creates a ring of `count` buffers, none posted yet.
    pub(crate) fn new(count: u32) -> ReceiveRing {
        ReceiveRing { posted: vec![false; count as usize], posted_count: 0, to_post: (0..count).collect() }
    }

    /// Records the completion of work request `wr_id`. Returns its buffer
    /// index, or `None` when it names no posted buffer. The buffer is
    /// queued to be posted again.
    pub(crate) fn complete(&mut self, wr_id: u64) -> Option<u32> {
        let index = u32::try_from(wr_id).ok()?;
        let posted = self.posted.get_mut(index as usize)?;
        if !*posted {
            return None;
        }
        *posted = false;
        self.posted_count -= 1;
        self.to_post.push(index);
        Some(index)
    }

    /// Buffers waiting to be posted, in the order to post them.
    pub(crate) fn pending(&self) -> &[u32] {
        &self.to_post
    }

    /// Records that the first `count` buffers of [`ReceiveRing::pending`]
    /// were posted.
    pub(crate) fn mark_posted(&mut self, count: usize) {
        let count = count.min(self.to_post.len());
        for &index in &self.to_post[..count] {
            self.posted[index as usize] = true;
        }
        self.posted_count += count as u32;
        self.to_post.drain(..count);
    }

    /// Buffers on the receive queue, as far as the polled completions tell.
    pub(crate) fn posted_count(&self) -> u32 {
        self.posted_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_starts_with_every_buffer_pending() {
        let ring = ReceiveRing::new(4);
        assert_eq!(ring.pending(), &[0, 1, 2, 3]);
        assert_eq!(ring.posted_count(), 0);
    }

    #[test]
    fn completed_buffers_are_posted_again() {
        let mut ring = ReceiveRing::new(4);
        ring.mark_posted(4);
        assert_eq!(ring.posted_count(), 4);
        assert!(ring.pending().is_empty());

        assert_eq!(ring.complete(2), Some(2));
        assert_eq!(ring.complete(0), Some(0));
        assert_eq!(ring.posted_count(), 2);
        assert_eq!(ring.pending(), &[2, 0]);

        ring.mark_posted(2);
        assert_eq!(ring.posted_count(), 4);
        assert!(ring.pending().is_empty());
    }

    #[test]
    fn unknown_or_repeated_completions_are_rejected() {
        let mut ring = ReceiveRing::new(2);
        assert_eq!(ring.complete(0), None, "not posted yet");
        ring.mark_posted(2);
        assert_eq!(ring.complete(7), None, "beyond the pool");
        assert_eq!(ring.complete(u64::MAX), None, "beyond u32");
        assert_eq!(ring.complete(1), Some(1));
        assert_eq!(ring.complete(1), None, "completed twice");
        assert_eq!(ring.posted_count(), 1);
    }

    #[test]
    fn partial_post_keeps_the_rest_pending() {
        let mut ring = ReceiveRing::new(3);
        ring.mark_posted(1);
        assert_eq!(ring.pending(), &[1, 2]);
        assert_eq!(ring.posted_count(), 1);
    }

    #[test]
    fn memory_buffers_do_not_overlap() {
        let memory = BufferMemory::allocate(3, 256).expect("allocate");
        assert_eq!(memory.len_bytes(), 768);
        assert_eq!(memory.base() as usize % BLOCK_ALIGN_BYTES, 0);
        // SAFETY: nothing is posted; the block is only read here.
        let (first, last) = unsafe { (memory.packet(0, 256), memory.packet(2, 1000)) };
        assert_eq!(first.len(), 256);
        assert_eq!(last.len(), 256, "clipped to the buffer");
        assert_eq!(last.as_ptr() as usize - first.as_ptr() as usize, 512);
        assert!(last.iter().all(|&byte| byte == 0));
    }

    #[test]
    fn memory_rejects_empty_or_overflowing_sizes() {
        assert!(BufferMemory::allocate(0, 256).is_none());
        assert!(BufferMemory::allocate(u32::MAX, u32::MAX).is_none(), "larger than isize::MAX");
    }
}
