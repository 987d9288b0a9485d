//! Reads arbitrary bytes as a capture file with the streaming and the
//! memory-mapped reader, which must agree (see `naudit_fuzz::capture_file`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| naudit_fuzz::capture_file(input));
