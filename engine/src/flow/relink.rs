//! How often a flow moves to the tail of its class list.
//!
//! Each timeout class keeps its flows in a list that the idle pass reads
//! from the head. Moving a flow to the tail on every packet keeps the list
//! in exact order of last activity. But each move rewrites the links of the
//! flow and of its two neighbours, three cache lines that are likely misses
//! on a shard with many flows. So a flow moves only when a packet carries
//! its last time into a new epoch of the class's granularity, a power of
//! two of nanoseconds. A flow's last time then stays less than one
//! granularity after the time it moved. The list is thus in order of last
//! activity to within one granularity, and the idle pass, which stops at
//! the first head that is not idle, emits a flow at most one granularity
//! after it went idle. A flow that closes still moves at once, to the list
//! of closed flows.
//!
//! The granularity is the largest power of two no greater than a
//! [`RELINK_FRACTION`]th of the class's timeout: about 1.07 seconds for
//! the default TCP timeout of 60 seconds. Only the moment a flow's record
//! is emitted changes, and with it the order of records that fall due
//! close together. A packet that comes after a flow's timeout still ends
//! the flow on arrival, and a flow found idle at the end of the input still
//! ends as idle.

/// The granularity of a class is at most its timeout divided by this.
pub const RELINK_FRACTION: u64 = 32;

/// Returns the shift that turns a packet time into its relink epoch for a
/// class with `timeout_ns`. It is the log2 of the largest power of two no
/// greater than `timeout_ns / RELINK_FRACTION`. A timeout shorter than
/// `RELINK_FRACTION` nanoseconds gets 0, which moves the flow whenever its
/// last time changes.
pub fn relink_shift(timeout_ns: u64) -> u32 {
    let granularity_ns = timeout_ns / RELINK_FRACTION;
    if granularity_ns == 0 {
        0
    } else {
        granularity_ns.ilog2()
    }
}

/// Returns true when a flow whose last time moved from `before_ns` to
/// `after_ns` must move to its list's tail, for a class of relink shift
/// `shift`.
#[inline]
pub fn crosses_epoch(before_ns: u64, after_ns: u64, shift: u32) -> bool {
    before_ns >> shift != after_ns >> shift
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_packet;
    use crate::flow::record::{FlowRecord, RecordCause};
    use crate::flow::shard::{FlowShard, ShardConfig};
    use crate::flow::state::PacketFacts;
    use crate::flow::timeouts::{Timeouts, NS_PER_SEC};
    use crate::flow::FlowKey;
    use crate::packet::LinkType;

    /// The UDP timeout of the shards below: 32 ms, a relink granularity of
    /// 2^19 ns (about 0.52 ms).
    const UDP_IDLE_NS: u64 = 32_000_000;

    fn shard() -> FlowShard {
        FlowShard::new(ShardConfig {
            capacity_flows: 16,
            timeouts: Timeouts { ip_idle_ns: UDP_IDLE_NS, ..Timeouts::default() },
            ..ShardConfig::default()
        })
    }

    /// Builds an Ethernet frame of a UDP datagram from 10.0.0.1:`src_port`
    /// to 10.0.0.2:23456, with no payload.
    fn udp_frame(src_port: u16) -> Vec<u8> {
        let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        frame.extend_from_slice(&[0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        frame.extend_from_slice(&src_port.to_be_bytes());
        frame.extend_from_slice(&[0x5b, 0xa0, 0, 8, 0, 0]);
        frame
    }

    fn send(shard: &mut FlowShard, src_port: u16, time_ns: u64, records: &mut Vec<FlowRecord>) {
        let frame = udp_frame(src_port);
        let decoded = decode_packet(LinkType::ETHERNET, &frame);
        shard.process(&PacketFacts { time_ns, bytes: frame.len() as u32, decoded: &decoded }, records);
    }

    /// Returns the lower port and the cause of each record, in order.
    fn ports_and_causes(records: &[FlowRecord]) -> Vec<(u16, RecordCause)> {
        records
            .iter()
            .map(|record| match record.key {
                FlowKey::Ip { src_port, dst_port, .. } => (src_port.min(dst_port), record.cause),
                other => panic!("not a UDP key: {other:?}"),
            })
            .collect()
    }

    /// Returns a shard where flow 2000 is idle behind flow 1000, with the
    /// records emitted so far (none). Flow 1000 starts first and gets a
    /// second packet in the same epoch as its first, after flow 2000
    /// started, so it stays ahead in the list. The clock ends just after
    /// flow 2000's idle timeout.
    fn idle_flow_behind_busy_one() -> (FlowShard, Vec<FlowRecord>) {
        let mut shard = shard();
        let mut records = Vec::new();
        send(&mut shard, 1000, 0, &mut records);
        send(&mut shard, 2000, 100_000, &mut records);
        send(&mut shard, 1000, 200_000, &mut records);
        assert!(200_000 < 1 << relink_shift(UDP_IDLE_NS), "one epoch");

        shard.advance_time(100_000 + UDP_IDLE_NS + 1, &mut records);
        assert!(records.is_empty(), "the idle flow waits for the head: {records:?}");
        (shard, records)
    }

    #[test]
    fn idle_flow_waits_for_the_head() {
        let (mut shard, mut records) = idle_flow_behind_busy_one();

        shard.advance_time(200_000 + UDP_IDLE_NS + 1, &mut records);
        assert_eq!(
            ports_and_causes(&records),
            [(1000, RecordCause::IdleTimeout), (2000, RecordCause::IdleTimeout)]
        );
    }

    #[test]
    fn new_epoch_moves_flow_to_tail() {
        let granularity_ns = 1 << relink_shift(UDP_IDLE_NS);
        let mut shard = shard();
        let mut records = Vec::new();
        send(&mut shard, 1000, 0, &mut records);
        send(&mut shard, 2000, 100_000, &mut records);
        send(&mut shard, 1000, granularity_ns, &mut records);

        shard.advance_time(100_000 + UDP_IDLE_NS + 1, &mut records);
        assert_eq!(ports_and_causes(&records), [(2000, RecordCause::IdleTimeout)]);
    }

    #[test]
    fn flush_ends_waiting_idle_flow_as_idle() {
        let (mut shard, mut records) = idle_flow_behind_busy_one();

        shard.flush(&mut records);
        assert_eq!(
            ports_and_causes(&records),
            [(1000, RecordCause::Shutdown), (2000, RecordCause::IdleTimeout)]
        );
    }

    #[test]
    fn granularity_power_of_two_within_fraction() {
        let shift = relink_shift(60 * NS_PER_SEC);
        let granularity_ns = 1_u64 << shift;
        assert_eq!(granularity_ns, 1 << 30, "about 1.07 s for 60 s");
        assert!(granularity_ns <= 60 * NS_PER_SEC / RELINK_FRACTION);
        assert!(2 * granularity_ns > 60 * NS_PER_SEC / RELINK_FRACTION);
        assert_eq!(relink_shift(2 * NS_PER_SEC), 25, "about 34 ms for 2 s");
    }

    #[test]
    fn short_timeout_moves_on_every_time() {
        assert_eq!(relink_shift(0), 0);
        assert_eq!(relink_shift(RELINK_FRACTION - 1), 0);
        assert!(crosses_epoch(10, 11, 0));
        assert!(!crosses_epoch(10, 10, 0));
    }

    #[test]
    fn epochs_split_at_granularity_multiples() {
        let shift = 10;
        assert!(!crosses_epoch(1024, 2047, shift));
        assert!(crosses_epoch(2047, 2048, shift));
        assert!(crosses_epoch(0, 5000, shift));
    }
}
