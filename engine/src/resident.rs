//! Making fresh memory resident before a hot loop writes to it.
//!
//! A large zeroed allocation comes from the operating system as pages that
//! are not yet backed. On Linux, reading such a page maps the shared zero
//! page, and the first write afterwards copies it. When the process runs
//! more than one thread, that copy also flushes the page's old mapping from
//! every core's TLB with an inter-processor interrupt. The flow index is
//! probed (read) before an insert writes to it, so every one of its pages
//! took that path. With two workers on a 1M-packet capture of 100,000
//! flows, about a tenth of the CPU time went to those interrupts (perf
//! samples on a 2-core virtual machine). Asking the kernel to back the pages for
//! writing up front costs one call and the page zeroing that the writes
//! would have caused anyway.

/// Makes the pages that `values` covers resident and writable, on Linux
/// 5.14 and later. Elsewhere, or when the kernel rejects the request, the
/// pages fill in as they are first touched, which is only slower.
pub fn populate_for_write<T>(values: &mut [T]) {
    #[cfg(target_os = "linux")]
    populate_linux(values);
    #[cfg(not(target_os = "linux"))]
    let _ = values;
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn populate_linux<T>(values: &mut [T]) {
    // SAFETY: sysconf only reads a system constant.
    let page_bytes = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(0);
    if page_bytes == 0 {
        return;
    }
    let start = values.as_mut_ptr() as usize;
    let end = start + std::mem::size_of_val(values);
    // madvise takes whole pages: the pages wholly inside the slice.
    let first_page = start.next_multiple_of(page_bytes);
    let end_page = end - end % page_bytes;
    if end_page <= first_page {
        return;
    }
    // SAFETY: the range lies inside `values`, which this function borrows
    // mutably, and MADV_POPULATE_WRITE only faults the pages in: it changes
    // no byte of them, and anonymous pages read as zero either way.
    let result = unsafe {
        libc::madvise(
            first_page as *mut libc::c_void,
            end_page - first_page,
            libc::MADV_POPULATE_WRITE,
        )
    };
    // Kernels before 5.14 return EINVAL, and the pages then fill in on use.
    let _ = result;
}
