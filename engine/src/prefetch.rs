//! Software prefetch: a hint that makes the CPU start loading a cache line
//! that a later packet will read, so that the misses of several packets
//! overlap.
//!
//! A prefetch is only a hint. It never faults, even on an address that is
//! not mapped, and changes nothing the program can observe but timing. On
//! targets other than x86_64 and aarch64 the functions do nothing.

/// Bytes in a cache line on the targets that prefetch (x86_64, and the
/// common aarch64 cores).
pub const CACHE_LINE_BYTES: usize = 64;

/// Starts loading the cache line that contains `address` into every cache
/// level, for a read.
#[inline(always)]
#[allow(unsafe_code)]
pub fn prefetch_read<T>(address: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: PREFETCHT0 is a hint that never faults and has no
        // architectural effect, whatever the address; SSE, which provides
        // it, is part of the x86_64 baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast::<i8>()) };
    }
    #[cfg(target_arch = "aarch64")]
    {
        // SAFETY: PRFM is a hint that never faults and writes no register,
        // memory or flag; the operand is only an address.
        unsafe {
            core::arch::asm!(
                "prfm pldl1keep, [{address}]",
                address = in(reg) address,
                options(nostack, readonly, preserves_flags)
            );
        }
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = address;
}

/// Starts loading every cache line that `value` spans, for a read.
#[inline(always)]
pub fn prefetch_value<T>(value: &T) {
    let start = (value as *const T).cast::<u8>();
    let misalignment_bytes = start as usize % CACHE_LINE_BYTES;
    let first_line = start.wrapping_sub(misalignment_bytes);
    let span_bytes = misalignment_bytes + std::mem::size_of::<T>();
    let mut offset = 0;
    while offset < span_bytes {
        prefetch_read(first_line.wrapping_add(offset));
        offset += CACHE_LINE_BYTES;
    }
}
