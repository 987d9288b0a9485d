//! Checks that encoding and writing Argus records allocate nothing once the
//! output buffer has grown, using a global allocator that counts the
//! allocations of the current thread.

mod argus_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io;

use naudit_records::argus::{ArgusEncoder, ArgusFileWriter, MarCounters, SourceId};

struct CountingAllocator;

thread_local! {
    /// Allocations made by this thread while counting is on; `None` when
    /// off. Other test threads never touch it.
    static ALLOCATIONS: Cell<Option<u64>> = const { Cell::new(None) };
}

fn count_allocation() {
    // `try_with` fails only while the thread is being torn down.
    let _ = ALLOCATIONS.try_with(|count| {
        if let Some(value) = count.get() {
            count.set(Some(value + 1));
        }
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a thread-local `Cell` without a destructor, so counting neither
// allocates nor recurses.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `work` and returns how many allocations it made on this thread.
fn allocations_during(work: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|count| count.set(Some(0)));
    work();
    ALLOCATIONS.with(|count| count.replace(None)).expect("counting was on")
}

#[test]
fn counter_sees_allocations() {
    let allocations = allocations_during(|| drop(std::hint::black_box(vec![1u8; 100])));
    assert_eq!(allocations, 1);
}

#[test]
fn encoder_allocates_nothing_after_warm_up() {
    let records: Vec<_> = argus_common::cases().into_iter().map(|case| case.record).collect();
    let counters = argus_common::status_counters();
    let mut encoder = ArgusEncoder::new(SourceId::Integer(7));
    let mut out = Vec::new();

    // Warm-up: grow the buffer to the size of one round.
    for record in &records {
        encoder.encode_flow(record, &mut out);
    }
    encoder.encode_status_mar(&counters, &mut out);
    let round_bytes = out.len();
    out.clear();

    let allocations = allocations_during(|| {
        for _ in 0..100 {
            encoder.encode_initial_mar(&counters, &mut out);
            out.clear();
            for record in &records {
                encoder.encode_flow(record, &mut out);
            }
            encoder.encode_status_mar(&counters, &mut out);
            encoder.encode_closing_mar(&counters, &mut out);
            out.clear();
        }
    });
    assert_eq!(allocations, 0, "allocations while encoding rounds of {round_bytes} bytes");
}

#[test]
fn file_writer_allocates_nothing_per_record() {
    let records: Vec<_> = argus_common::cases().into_iter().map(|case| case.record).collect();
    let counters = MarCounters::default();
    let mut writer = ArgusFileWriter::new(io::sink(), "sink", SourceId::Integer(7), &counters).expect("write to sink");

    let allocations = allocations_during(|| {
        for _ in 0..100 {
            for record in &records {
                writer.write_flow(record).expect("write to sink");
            }
            writer.write_status_mar(&counters).expect("write to sink");
        }
    });
    assert_eq!(allocations, 0);
}
