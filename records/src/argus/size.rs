//! The packet size DSR (`0x12`): smallest and largest packet per direction.

use naudit_engine::flow::DirectionStats;

use super::header::put_dsr_header;

const PACKET_SIZE_DSR: u8 = 0x12;
/// Qualifier: source minimum and maximum, then destination minimum and
/// maximum, 16 bits each.
const QUALIFIER_BOTH: u8 = 0x02;
/// Qualifier: source minimum and maximum only.
const QUALIFIER_SRC_ONLY: u8 = 0x06;
/// Qualifier: destination minimum and maximum only.
const QUALIFIER_DST_ONLY: u8 = 0x0a;

/// Appends the packet size DSR for the directions with known sizes, or
/// nothing when neither has them. A direction's sizes are known when it sent
/// packets and its largest size is not 0 (a frame is never empty, so 0
/// means the sizes were not measured).
///
/// Sizes are wire bytes of whole frames, as in the byte counts. The
/// format's fields are 16 bits, so larger sizes are written as 65535.
pub fn put_packet_size_dsr(out: &mut Vec<u8>, src: &DirectionStats, dst: &DirectionStats) {
    let known = |stats: &DirectionStats| stats.pkts > 0 && stats.max_packet_bytes > 0;
    match (known(src), known(dst)) {
        (true, true) => {
            put_dsr_header(out, PACKET_SIZE_DSR, 0, QUALIFIER_BOTH, 3);
            put_min_max(out, src);
            put_min_max(out, dst);
        }
        (true, false) => {
            put_dsr_header(out, PACKET_SIZE_DSR, 0, QUALIFIER_SRC_ONLY, 2);
            put_min_max(out, src);
        }
        (false, true) => {
            put_dsr_header(out, PACKET_SIZE_DSR, 0, QUALIFIER_DST_ONLY, 2);
            put_min_max(out, dst);
        }
        (false, false) => {}
    }
}

fn put_min_max(out: &mut Vec<u8>, stats: &DirectionStats) {
    for size in [stats.min_packet_bytes, stats.max_packet_bytes] {
        let size = u16::try_from(size).unwrap_or(u16::MAX);
        out.extend_from_slice(&size.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::test_hex::parse as hex;

    fn sizes(pkts: u64, min: u32, max: u32) -> DirectionStats {
        DirectionStats { pkts, min_packet_bytes: min, max_packet_bytes: max, ..DirectionStats::default() }
    }

    fn encode(src: &DirectionStats, dst: &DirectionStats) -> Vec<u8> {
        let mut out = Vec::new();
        put_packet_size_dsr(&mut out, src, dst);
        out
    }

    #[test]
    fn both_directions() {
        assert_eq!(encode(&sizes(5, 60, 400), &sizes(4, 60, 1500)), hex("12000203 003c0190 003c05dc"));
    }

    #[test]
    fn one_direction_each() {
        assert_eq!(encode(&sizes(1, 98, 98), &DirectionStats::default()), hex("12000602 00620062"));
        assert_eq!(encode(&DirectionStats::default(), &sizes(1, 90, 90)), hex("12000a02 005a005a"));
    }

    #[test]
    fn sizes_over_16_bits_saturate() {
        assert_eq!(encode(&sizes(2, 70_000, 80_000), &DirectionStats::default()), hex("12000602 ffffffff"));
    }

    #[test]
    fn unmeasured_sizes_write_nothing() {
        assert!(encode(&sizes(3, 0, 0), &sizes(2, 0, 0)).is_empty());
        assert_eq!(encode(&sizes(3, 0, 0), &sizes(2, 60, 70)), hex("12000a02 003c0046"));
    }

    #[test]
    fn no_packets_writes_nothing() {
        assert!(encode(&DirectionStats::default(), &DirectionStats::default()).is_empty());
    }
}
