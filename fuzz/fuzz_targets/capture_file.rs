//! Reads arbitrary bytes as a capture file through the streaming reader,
//! which shares its record parsers with the memory-mapped reader.

#![no_main]

use libfuzzer_sys::fuzz_target;
use naudit_engine::{BatchStatus, PacketSource};
use naudit_pcap::StreamSource;

/// A small refill buffer, so records straddle refills often.
const BUFFER_BYTES: usize = 512;

fuzz_target!(|input: &[u8]| {
    let reader = Box::new(std::io::Cursor::new(input.to_vec()));
    let Ok(mut source) = StreamSource::from_reader("fuzz", reader, BUFFER_BYTES) else {
        return;
    };
    let mut packets = 0u64;
    loop {
        match source.next_batch(|batch| packets += batch.len() as u64) {
            Ok(BatchStatus::Packets(_)) => {}
            Ok(BatchStatus::Idle) | Ok(BatchStatus::End) | Err(_) => break,
        }
    }
    assert_eq!(source.counters().received_pkts, packets);
});
