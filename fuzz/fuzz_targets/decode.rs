//! Decodes arbitrary bytes as a packet of an arbitrary link type: the first
//! two input bytes choose the link type, the rest is the packet.

#![no_main]

use libfuzzer_sys::fuzz_target;
use naudit_engine::decode::decode_packet;
use naudit_engine::LinkType;

fuzz_target!(|input: &[u8]| {
    if input.len() < 2 {
        return;
    }
    let link_type = LinkType(u16::from_le_bytes([input[0], input[1]]) % 300);
    let decoded = decode_packet(link_type, &input[2..]);
    // Reading every field makes the optimizer keep the whole walk.
    std::hint::black_box(decoded);
});
