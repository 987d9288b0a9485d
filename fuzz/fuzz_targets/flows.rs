//! Feeds a sequence of arbitrary packets through the decoders and one flow
//! shard: timeouts, fragments, TCP state and eviction on hostile input.
//! Each packet is a 4-byte little-endian time step in microseconds, a
//! 2-byte length, and that many bytes of an Ethernet frame.

#![no_main]

use libfuzzer_sys::fuzz_target;
use naudit_engine::flow::{FlowRecord, ShardConfig};
use naudit_engine::worker::Worker;
use naudit_engine::{LinkType, PacketView};

fuzz_target!(|input: &[u8]| {
    let config = ShardConfig { capacity_flows: 8, capacity_datagrams: 4, ..ShardConfig::default() };
    let mut worker = Worker::new(config);
    let mut records: Vec<FlowRecord> = Vec::new();
    let mut time_ns = 1_600_000_000_000_000_000u64;
    let mut rest = input;
    while rest.len() >= 6 {
        let step_us = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let len = usize::from(u16::from_le_bytes([rest[4], rest[5]])).min(rest.len() - 6);
        let data = &rest[6..6 + len];
        rest = &rest[6 + len..];
        time_ns += u64::from(step_us) * 1_000;
        let packet = PacketView {
            timestamp_ns: time_ns,
            wire_len_bytes: len as u32,
            data,
            link_type: LinkType::ETHERNET,
            port: 0,
        };
        worker.process_batch(&[packet], &mut records);
    }
    worker.flush(&mut records);

    // Every packet is in exactly one record, or counted as having no flow key.
    let in_records: u64 = records.iter().map(|record| record.src.pkts + record.dst.pkts).sum();
    assert_eq!(in_records + worker.shard().counters().unkeyed_pkts, worker.stats().packets);
});
