//! The metric DSR (`0x10`): packets, bytes and application bytes per
//! direction.

use naudit_engine::flow::DirectionStats;

use super::header::put_dsr_header;

const METRIC_DSR: u8 = 0x10;
/// Subtype for packets and bytes.
const SUBTYPE_PKTS_BYTES: u8 = 0x01;
/// Subtype for packets, bytes and application (transport payload) bytes.
const SUBTYPE_PKTS_BYTES_APP: u8 = 0x04;
/// Qualifier for both directions in 32-bit fields.
const QUALIFIER_BOTH_32: u8 = 0x03;
/// Qualifier for both directions in 64-bit fields.
const QUALIFIER_BOTH_64: u8 = 0x04;

/// Appends the metric DSR in the both-directions form.
///
/// The fields are 32-bit when every count fits in 32 bits, else 64-bit.
/// Application bytes are written (subtype `0x04`) only when a direction has
/// some, because the shorter subtype `0x01` prints the same zero.
///
/// Argus itself picks the narrowest of several widths (8, 16, 32 or 64
/// bits, one or both directions). The reader accepts every form, and the
/// both-directions form keeps this encoder simple.
pub fn put_metric_dsr(out: &mut Vec<u8>, src: &DirectionStats, dst: &DirectionStats) {
    let with_app_bytes = src.app_bytes != 0 || dst.app_bytes != 0;
    let values = [src.pkts, src.bytes, src.app_bytes, dst.pkts, dst.bytes, dst.app_bytes];
    let wide = values.iter().any(|&value| value > u64::from(u32::MAX));

    let (subtype, fields_per_direction) =
        if with_app_bytes { (SUBTYPE_PKTS_BYTES_APP, 3) } else { (SUBTYPE_PKTS_BYTES, 2) };
    let (qualifier, words_per_field) = if wide { (QUALIFIER_BOTH_64, 2) } else { (QUALIFIER_BOTH_32, 1) };
    let length_words = 1 + 2 * fields_per_direction * words_per_field;
    put_dsr_header(out, METRIC_DSR, subtype, qualifier, length_words);

    for stats in [src, dst] {
        let fields = [stats.pkts, stats.bytes, stats.app_bytes];
        for &value in &fields[..usize::from(fields_per_direction)] {
            if wide {
                out.extend_from_slice(&value.to_be_bytes());
            } else {
                // `wide` is false, so every value fits in 32 bits.
                out.extend_from_slice(&(value as u32).to_be_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::test_hex::parse as hex;

    fn stats(pkts: u64, bytes: u64, app_bytes: u64) -> DirectionStats {
        DirectionStats { pkts, bytes, app_bytes, ..DirectionStats::default() }
    }

    #[test]
    fn udp_example_in_32_bit_form() {
        // Argus 3.0.8.2 writes `10010203 000202ac 000202ac` (16-bit) for the
        // first UDP flow of tcpdump's tests/dhcp-rfc4388.pcap; this encoder
        // writes the same counts in the 32-bit form.
        let mut out = Vec::new();
        put_metric_dsr(&mut out, &stats(2, 684, 0), &stats(2, 684, 0));
        assert_eq!(out, hex("10010305 00000002 000002ac 00000002 000002ac"));
    }

    #[test]
    fn one_direction_keeps_zero_destination() {
        let mut out = Vec::new();
        put_metric_dsr(&mut out, &stats(1, 86, 0), &DirectionStats::default());
        assert_eq!(out, hex("10010305 00000001 00000056 00000000 00000000"));
    }

    #[test]
    fn application_bytes_use_subtype_4() {
        let mut out = Vec::new();
        put_metric_dsr(&mut out, &stats(6, 606, 202), &stats(4, 5831, 5559));
        assert_eq!(out, hex("10040307 00000006 0000025e 000000ca 00000004 000016c7 000015b7"));
    }

    #[test]
    fn any_value_over_32_bits_widens_all() {
        let mut out = Vec::new();
        put_metric_dsr(&mut out, &stats(4_000_000, 6_000_000_000, 0), &stats(2_000_000, 120_000_000, 0));
        let expected = "10010409 \
            00000000 003d0900 00000001 65a0bc00 \
            00000000 001e8480 00000000 07270e00";
        assert_eq!(out, hex(expected));
    }

    #[test]
    fn wide_application_bytes() {
        let mut out = Vec::new();
        put_metric_dsr(&mut out, &stats(1, 2, 1 << 32), &stats(0, 0, 0));
        assert_eq!(out.len(), 13 * 4);
        assert_eq!(&out[..4], [0x10, 0x04, 0x04, 13]);
        assert_eq!(&out[20..28], (1u64 << 32).to_be_bytes());
    }
}
