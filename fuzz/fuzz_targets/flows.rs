//! Feeds a sequence of arbitrary Ethernet frames through the decoders and
//! one flow shard (see `naudit_fuzz::flows`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| naudit_fuzz::flows(input));
