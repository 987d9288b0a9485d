//! Making fresh memory resident, on huge pages, before a hot loop writes to
//! it at random.
//!
//! With 4 KiB pages nearly every lookup in a large table misses the TLB,
//! and in a virtual machine a TLB miss walks two levels of page tables.
//! Huge pages (2 MiB on x86-64) cover the table with a few TLB entries.
//! This is used for the flow index only. Huge pages behind the slot arrays,
//! which fill as flows arrive, were measured too: with one worker on the
//! small64 benchmark capture, system time rose from 0.26 to 0.59 s (median
//! of 5 runs), more than the TLB saved.
//!
//! A large zeroed allocation comes from the operating system as pages that
//! are not yet backed. On Linux, reading such a page maps the shared zero
//! page, and the first write afterwards copies it. When the process runs
//! more than one thread, that copy also flushes the page's old mapping from
//! every core's TLB with an inter-processor interrupt. The flow index is
//! probed (read) before an insert writes to it, so every one of its pages
//! took that path. With two workers on a 1M-packet capture of 100,000
//! flows, about a tenth of the CPU time went to those interrupts (perf
//! samples on a 2-core virtual machine). Making the pages resident for
//! writing up front costs one call and the page zeroing that the writes
//! would have caused anyway.
//!
//! Both are only advice: where the operating system does not offer them
//! (another OS, a Linux kernel before 5.14, transparent huge pages set to
//! `never`), the pages fill in as they are first touched, which is only
//! slower.

/// Makes the pages that `values` covers resident and writable, on huge
/// pages where the operating system offers them.
pub fn populate_for_write<T>(values: &mut [T]) {
    #[cfg(target_os = "linux")]
    advise_linux(
        values.as_mut_ptr() as usize,
        std::mem::size_of_val(values),
        &[libc::MADV_HUGEPAGE, libc::MADV_POPULATE_WRITE],
    );
    #[cfg(not(target_os = "linux"))]
    let _ = values;
}

/// Gives each piece of `advice` in turn for the whole pages inside the
/// `len_bytes` bytes at `start`, which the caller borrows mutably. Errors
/// are ignored, because every piece of advice used here is optional.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise_linux(start: usize, len_bytes: usize, advice: &[libc::c_int]) {
    // SAFETY: sysconf only reads a system constant.
    let page_bytes = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(0);
    if page_bytes == 0 {
        return;
    }
    // madvise takes whole pages, so only those wholly inside the range get
    // the advice.
    let first_page = start.next_multiple_of(page_bytes);
    let end = start + len_bytes;
    let end_page = end - end % page_bytes;
    if end_page <= first_page {
        return;
    }
    for &advice in advice {
        // SAFETY: the range lies inside memory that the caller borrows
        // mutably. MADV_HUGEPAGE changes only the size of the pages that
        // back the range, and MADV_POPULATE_WRITE only faults them in:
        // neither changes a byte, and anonymous pages read as zero either
        // way.
        let _ = unsafe { libc::madvise(first_page as *mut libc::c_void, end_page - first_page, advice) };
    }
}
