//! Timestamps and the time DSR (`0x03`).

use super::header::put_dsr_header;

const TIME_DSR: u8 = 0x03;
/// Subtype for one timestamp (first seen = last seen).
const SUBTYPE_SINGLE: u8 = 0x01;
/// Subtype for a first-seen, last-seen range.
const SUBTYPE_RANGE: u8 = 0x02;
/// Qualifier for Unix seconds plus microseconds.
const QUALIFIER_MICROSECONDS: u8 = 0x18;

const NANOS_PER_SECOND: u64 = 1_000_000_000;
const NANOS_PER_MICRO: u64 = 1_000;

/// A Unix time as Argus writes it: seconds and microseconds, 32 bits each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ArgusTime {
    /// Seconds since the Unix epoch.
    pub seconds: u32,
    /// Microseconds within the second, 0 to 999,999.
    pub microseconds: u32,
}

impl ArgusTime {
    /// Converts nanoseconds since the Unix epoch, dropping the sub-microsecond
    /// part.
    ///
    /// Argus stores seconds in 32 unsigned bits, so times from February 2106
    /// on are written as the last representable second.
    pub fn from_unix_ns(ns: u64) -> ArgusTime {
        let seconds = u32::try_from(ns / NANOS_PER_SECOND).unwrap_or(u32::MAX);
        let microseconds = ((ns % NANOS_PER_SECOND) / NANOS_PER_MICRO) as u32;
        ArgusTime { seconds, microseconds }
    }

    /// Returns the time one microsecond later, saturating at the maximum.
    pub fn plus_one_microsecond(self) -> ArgusTime {
        if self.microseconds < 999_999 {
            ArgusTime { microseconds: self.microseconds + 1, ..self }
        } else if self.seconds < u32::MAX {
            ArgusTime { seconds: self.seconds + 1, microseconds: 0 }
        } else {
            self
        }
    }

    /// Appends seconds and microseconds, big-endian.
    pub fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.seconds.to_be_bytes());
        out.extend_from_slice(&self.microseconds.to_be_bytes());
    }
}

/// ra (3.0.8) turns a record with more than this many packets and a
/// duration of exactly zero into an error record with all counters zeroed.
const MAX_PACKETS_WITH_ZERO_DURATION: u64 = 1000;

/// Appends the time DSR: the single-timestamp form when first and last
/// times are the same microsecond, else the range form.
///
/// When a record of more than 1000 packets has a zero duration at
/// microsecond resolution, the last time is written one microsecond after
/// the first, so that ra keeps the record's counts.
pub fn put_time_dsr(out: &mut Vec<u8>, start_ns: u64, last_ns: u64, total_pkts: u64) {
    let first = ArgusTime::from_unix_ns(start_ns);
    let mut last = ArgusTime::from_unix_ns(last_ns.max(start_ns));

    if last == first && total_pkts > MAX_PACKETS_WITH_ZERO_DURATION {
        last = first.plus_one_microsecond();
    }

    if last == first {
        put_dsr_header(out, TIME_DSR, SUBTYPE_SINGLE, QUALIFIER_MICROSECONDS, 3);
        first.put(out);
    } else {
        put_dsr_header(out, TIME_DSR, SUBTYPE_RANGE, QUALIFIER_MICROSECONDS, 5);
        first.put(out);
        last.put(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(seconds: u64, microseconds: u64) -> u64 {
        seconds * NANOS_PER_SECOND + microseconds * NANOS_PER_MICRO
    }

    #[test]
    fn range_matches_argus_udp_example() {
        // Argus 3.0.8.2 output for the first UDP flow of tcpdump's
        // tests/dhcp-rfc4388.pcap.
        let mut out = Vec::new();
        put_time_dsr(&mut out, ns(1_553_160_644, 514_026), ns(1_553_160_645, 518_089), 4);
        assert_eq!(out, hex("03021805 5c9359c4 0007d7ea 5c9359c5 0007e7c9"));
    }

    #[test]
    fn single_matches_argus_icmpv6_example() {
        // Argus 3.0.8.2 output for the ICMPv6 echo of tcpdump's
        // tests/ipv6-routing-header.pcap.
        let mut out = Vec::new();
        let time = ns(1_170_175_891, 766_766);
        put_time_dsr(&mut out, time, time, 1);
        assert_eq!(out, hex("03011803 45bf7793 000bb32e"));
    }

    #[test]
    fn sub_microsecond_range_is_single() {
        let mut out = Vec::new();
        put_time_dsr(&mut out, ns(100, 5) + 10, ns(100, 5) + 900, 2);
        assert_eq!(out, hex("03011803 00000064 00000005"));
    }

    #[test]
    fn zero_duration_over_1000_packets_gets_one_microsecond() {
        let mut out = Vec::new();
        put_time_dsr(&mut out, ns(100, 999_999), ns(100, 999_999), 1001);
        assert_eq!(out, hex("03021805 00000064 000f423f 00000065 00000000"));

        out.clear();
        put_time_dsr(&mut out, ns(100, 7), ns(100, 7), 1000);
        assert_eq!(out, hex("03011803 00000064 00000007"));
    }

    #[test]
    fn last_before_start_is_clamped() {
        let mut out = Vec::new();
        put_time_dsr(&mut out, ns(200, 0), ns(100, 0), 1);
        assert_eq!(out, hex("03011803 000000c8 00000000"));
    }

    #[test]
    fn seconds_saturate_after_2106() {
        let time = ArgusTime::from_unix_ns(u64::MAX);
        assert_eq!(time.seconds, u32::MAX);
        assert_eq!(time.microseconds, 709_551);
    }

    fn hex(text: &str) -> Vec<u8> {
        crate::argus::test_hex::parse(text)
    }
}
