//! Making fresh memory resident, on huge pages, before a hot loop writes to
//! it at random.
//!
//! With 4 KiB pages nearly every lookup in a large table misses the TLB,
//! and in a virtual machine a TLB miss walks two levels of page tables.
//! Huge pages (2 MiB on x86-64) cover the table with a few TLB entries.
//! The flow index is made resident whole at start. The slot arrays and the
//! pools fill as flows arrive, so when nauditd reads files,
//! [`ResidentAhead`] makes their memory resident one huge page ahead of use.
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
    let _ = advise_linux(
        values.as_mut_ptr() as usize,
        std::mem::size_of_val(values),
        &[libc::MADV_HUGEPAGE, libc::MADV_POPULATE_WRITE],
    );
    #[cfg(not(target_os = "linux"))]
    let _ = values;
}

/// Bytes that [`ResidentAhead`] makes resident at a time: one huge page on
/// x86-64.
const AHEAD_STEP_BYTES: usize = 2 << 20;

/// Keeps the memory of a growing `Vec` resident ahead of its length, on
/// huge pages, a step at a time.
///
/// Left to page faults on 4 KiB pages, the arrays of a million flows take
/// about 90,000 faults, a fifth of the CPU time of a one-worker small64
/// run on a 2-core virtual machine. Huge pages taken at fault time cost
/// more system time than the TLB saved (0.59 against 0.26 s, medians of 5
/// runs). Made resident a step at a time before the array reaches it, they
/// took 0.92 and 0.96 of the CPU time on small64, in two sets of 12
/// alternating runs. System time fell from 0.28 to 0.18 s, and sessions
/// took 0.89 of the CPU time. The resident
/// memory stays within one step of what is used.
///
/// Each step stalls the batch that takes it. On that machine the largest
/// small64 batch took 9 to 11 ms with steps, against 0.4 to 4 ms with page
/// faults (3 runs each). So it is off unless [`crate::flow::ShardConfig`]
/// sets `resident_ahead`, which nauditd does for file input only.
///
/// NOTE: on that machine single runs varied widely, up to 1.3 times the
/// time of the 4 KiB pages, most likely while the host backed fresh huge
/// pages. This is not confirmed, and a machine with other memory pressure
/// may fare otherwise.
#[derive(Debug)]
pub struct ResidentAhead {
    /// Bytes from the start of the buffer that are resident already.
    resident_bytes: usize,
    /// False where the operating system does not take the advice, and then
    /// pages fill in as they are first written.
    enabled: bool,
}

impl ResidentAhead {
    /// Asks for huge pages behind the whole reserved capacity of `values`,
    /// without making any of it resident yet. With `enabled` false, pages
    /// fill in as they are first written, as without this type.
    pub fn new<T>(values: &mut Vec<T>, enabled: bool) -> ResidentAhead {
        if !enabled {
            return ResidentAhead { resident_bytes: 0, enabled: false };
        }
        let spare = values.spare_capacity_mut();
        #[cfg(target_os = "linux")]
        let enabled = !spare.is_empty()
            && advise_linux(spare.as_mut_ptr() as usize, std::mem::size_of_val(spare), &[libc::MADV_HUGEPAGE]);
        #[cfg(not(target_os = "linux"))]
        let enabled = {
            let _ = spare;
            false
        };
        ResidentAhead { resident_bytes: 0, enabled }
    }

    /// Makes sure the element that the next push writes is resident, and
    /// the rest of its 2 MiB step with it.
    #[inline]
    pub fn before_push<T>(&mut self, values: &mut Vec<T>) {
        let needed_bytes = (values.len() + 1) * std::mem::size_of::<T>();
        if self.enabled && needed_bytes > self.resident_bytes {
            self.step(values, needed_bytes);
        }
    }

    #[cold]
    fn step<T>(&mut self, values: &mut Vec<T>, needed_bytes: usize) {
        let start = values.as_mut_ptr() as usize;
        let capacity_bytes = values.capacity() * std::mem::size_of::<T>();
        // Steps end on huge page boundaries of the address space.
        let end_bytes = ((start + needed_bytes).next_multiple_of(AHEAD_STEP_BYTES) - start).min(capacity_bytes);
        let from_bytes = self.resident_bytes.min(values.len() * std::mem::size_of::<T>());
        #[cfg(target_os = "linux")]
        {
            self.enabled = advise_linux(start + from_bytes, end_bytes - from_bytes, &[libc::MADV_POPULATE_WRITE]);
        }
        if !self.enabled {
            // Without POPULATE_WRITE (Linux before 5.14) the huge pages would
            // come at fault time, whose cost varies widely, so take them back.
            #[cfg(target_os = "linux")]
            advise_linux(start + from_bytes, capacity_bytes - from_bytes, &[libc::MADV_NOHUGEPAGE]);
        }
        self.resident_bytes = end_bytes;
    }
}

/// Gives each piece of `advice` in turn for the whole pages inside the
/// `len_bytes` bytes at `start`, which the caller borrows mutably, and
/// returns whether the system accepted every piece. The advice used here is optional,
/// so callers go on either way.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise_linux(start: usize, len_bytes: usize, advice: &[libc::c_int]) -> bool {
    // SAFETY: sysconf only reads a system constant.
    let page_bytes = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(0);
    if page_bytes == 0 {
        return false;
    }
    // madvise takes whole pages, so only those wholly inside the range get
    // the advice.
    let first_page = start.next_multiple_of(page_bytes);
    let end = start + len_bytes;
    let end_page = end - end % page_bytes;
    if end_page <= first_page {
        return true;
    }
    let mut all_accepted = true;
    for &advice in advice {
        // SAFETY: the range lies inside memory that the caller borrows
        // mutably. MADV_HUGEPAGE changes only the size of the pages that
        // back the range, and MADV_POPULATE_WRITE only faults them in:
        // neither changes a byte, and anonymous pages read as zero either
        // way.
        all_accepted &= unsafe { libc::madvise(first_page as *mut libc::c_void, end_page - first_page, advice) } == 0;
    }
    all_accepted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ahead_covers_each_push_within_one_step() {
        let capacity = 3 * AHEAD_STEP_BYTES / std::mem::size_of::<u64>() + 5;
        let mut values: Vec<u64> = Vec::with_capacity(capacity);
        let mut ahead = ResidentAhead::new(&mut values, true);
        let capacity_bytes = values.capacity() * std::mem::size_of::<u64>();
        for value in 0..capacity as u64 {
            ahead.before_push(&mut values);
            values.push(value);
            if ahead.enabled {
                let used_bytes = values.len() * std::mem::size_of::<u64>();
                assert!(ahead.resident_bytes >= used_bytes, "{} resident for {used_bytes} used", ahead.resident_bytes);
                assert!(ahead.resident_bytes <= capacity_bytes);
                assert!(ahead.resident_bytes - used_bytes < AHEAD_STEP_BYTES);
            }
        }
        assert!(values.iter().copied().eq(0..capacity as u64));
    }

    #[test]
    fn ahead_switched_off_makes_nothing_resident() {
        let mut values: Vec<u64> = Vec::with_capacity(1 << 20);
        let mut ahead = ResidentAhead::new(&mut values, false);
        ahead.before_push(&mut values);
        values.push(7);
        assert!(!ahead.enabled);
        assert_eq!(ahead.resident_bytes, 0);
    }

    #[test]
    fn ahead_of_empty_vector_does_nothing() {
        let mut values: Vec<u64> = Vec::new();
        let mut ahead = ResidentAhead::new(&mut values, true);
        assert!(!ahead.enabled);
        ahead.before_push(&mut values);
        values.push(7);
        assert_eq!(values, [7]);
    }
}
