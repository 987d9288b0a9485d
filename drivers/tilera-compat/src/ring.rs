//! The memory-mapped TPACKET_V3 receive ring of one socket and the hand-over
//! of its blocks between the kernel and the worker.
//!
//! Ownership of a block is the `block_status` word in its descriptor. The
//! kernel fills a block while the word is `TP_STATUS_KERNEL`, then stores
//! `TP_STATUS_USER` (plus flags) and leaves the block alone until user space
//! stores `TP_STATUS_KERNEL` again. So this module reads the word with an
//! acquire load and lends the block's bytes only while the word is
//! `TP_STATUS_USER`. It hands the block back with a release store after the
//! loan has ended, which the borrow checker proves because both calls take
//! `&mut self`.

use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::socket::PacketSocket;
use crate::sys::block_desc;

/// One socket's receive ring, mapped into this process.
pub(crate) struct MappedRing {
    base: NonNull<u8>,
    block_size: usize,
    block_count: usize,
}

// SAFETY: the mapping belongs to this value alone (no other handle to it
// exists in this process) and contains no thread-bound state, so moving it
// to a worker thread is sound. It is not Sync, because two threads must not
// walk one ring.
unsafe impl Send for MappedRing {}

impl MappedRing {
    /// Maps the `PACKET_RX_RING` that was set up on `socket` with
    /// `block_count` blocks of `block_size` bytes.
    pub(crate) fn map(
        socket: &PacketSocket,
        block_size: usize,
        block_count: usize,
    ) -> io::Result<MappedRing> {
        let len = block_size.checked_mul(block_count).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "ring size overflows usize")
        })?;
        if len == 0 || block_size < block_desc::SIZE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "ring has no room for a block",
            ));
        }

        // SAFETY: mmap with a null hint creates a new mapping and touches no
        // existing memory. The kernel checks that `len` matches the ring set
        // up on this descriptor and fails otherwise.
        let address = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                socket.raw_fd(),
                0,
            )
        };
        if address == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(address.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null address"))?;
        Ok(MappedRing {
            base,
            block_size,
            block_count,
        })
    }

    /// Number of blocks in the ring.
    pub(crate) fn block_count(&self) -> usize {
        self.block_count
    }

    /// Reads the status word of block `index` with acquire ordering, so the
    /// kernel's writes to a block it marked `TP_STATUS_USER` are visible.
    ///
    /// # Panics
    ///
    /// Panics if `index` is not below [`MappedRing::block_count`].
    pub(crate) fn block_status(&self, index: usize) -> u32 {
        self.status_word(index).load(Ordering::Acquire)
    }

    /// Lends the bytes of block `index`, together with its status word, if
    /// the kernel has handed the block to user space.
    ///
    /// # Panics
    ///
    /// Panics if `index` is not below [`MappedRing::block_count`].
    pub(crate) fn user_block(&mut self, index: usize) -> Option<(u32, &mut [u8])> {
        let status = self.block_status(index);
        if status & libc::TP_STATUS_USER == 0 {
            return None;
        }
        let start = self.block_start(index);
        // SAFETY: `block_start` checked that the block lies inside the
        // mapping. The acquire load above saw TP_STATUS_USER, so the kernel
        // has finished writing this block and will not write to it until
        // `release_block` stores TP_STATUS_KERNEL. That call needs `&mut
        // self`, so this slice is dead by then. The kernel may still read
        // the status word while the slice lives, and callers never write it
        // through the slice.
        let bytes = unsafe { std::slice::from_raw_parts_mut(start.as_ptr(), self.block_size) };
        Some((status, bytes))
    }

    /// Returns block `index` to the kernel. The release store makes every
    /// write to the block (such as a reinserted VLAN tag) happen before the
    /// kernel reuses it.
    ///
    /// # Panics
    ///
    /// Panics if `index` is not below [`MappedRing::block_count`].
    pub(crate) fn release_block(&mut self, index: usize) {
        self.status_word(index)
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
    }

    /// Returns the address of block `index`.
    fn block_start(&self, index: usize) -> NonNull<u8> {
        assert!(
            index < self.block_count,
            "block index {index} is out of range for a ring of {} blocks",
            self.block_count
        );
        // SAFETY: index < block_count, so the offset is at most
        // (block_count - 1) * block_size, inside the mapping of
        // block_count * block_size bytes that `map` checked for overflow.
        unsafe { NonNull::new_unchecked(self.base.as_ptr().add(index * self.block_size)) }
    }

    /// Returns the status word of block `index` as an atomic.
    fn status_word(&self, index: usize) -> &AtomicU32 {
        let start = self.block_start(index);
        // SAFETY: `map` checked that a block holds at least a block
        // descriptor, so the word at BLOCK_STATUS (offset 8) is inside the
        // block. The mapping starts on a page and PACKET_RX_RING accepts
        // only page-multiple block sizes, so every block starts on a page
        // and the word is 4-byte aligned. The kernel writes it concurrently, which is why it is
        // only ever accessed as an atomic.
        unsafe {
            &*start
                .as_ptr()
                .add(block_desc::BLOCK_STATUS)
                .cast::<AtomicU32>()
        }
    }
}

impl Drop for MappedRing {
    fn drop(&mut self) {
        let len = self.block_size * self.block_count;
        // SAFETY: `base` and `len` describe the mapping `map` created, no
        // slice of it outlives `&mut self`, and it is unmapped only here.
        let result = unsafe { libc::munmap(self.base.as_ptr().cast(), len) };
        if result != 0 {
            tracing::error!(
                error = %io::Error::last_os_error(),
                ring_bytes = len,
                "munmap of the AF_PACKET ring failed"
            );
        }
    }
}

/// Returns the system's page size in bytes.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf reads a system constant and has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    // Linux always reports a page size; 4096 is the fallback for a failure
    // that POSIX allows but Linux never returns.
    usize::try_from(size)
        .ok()
        .filter(|size| *size > 0)
        .unwrap_or(4096)
}
