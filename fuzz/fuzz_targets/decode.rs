//! Decodes arbitrary bytes as one packet of an arbitrary link type (see
//! `naudit_fuzz::decode`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| naudit_fuzz::decode(input));
