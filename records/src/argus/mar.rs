//! Management records (MARs): the initial, status and closing reports of the
//! sensor itself. Every MAR is 128 bytes.

use std::net::Ipv4Addr;

use naudit_engine::LinkType;

use super::header::{put_record_header, ArgusCause, MAR_TYPE_VERSION, WORD_BYTES};
use super::source_id::SourceId;
use super::time::ArgusTime;

/// Length of every MAR in bytes. A reader takes the initial MAR as exactly
/// this long whatever its length field contains.
pub const MAR_BYTES: usize = 128;

/// Bytes 8..12 of the initial MAR, which readers check before anything else.
/// Argus 5.x uses `E5 71 50 CB`, which 3.0.8 clients reject.
pub const ARGUS_V3_COOKIE: [u8; 4] = [0xe5, 0x71, 0x2d, 0xcb];

const MAJOR_VERSION: u8 = 3;
const MINOR_VERSION: u8 = 0;

/// Sensor counters and times reported in a MAR.
///
/// Counts cover the interval from `interval_start_ns` to `now_ns` (deltas
/// since the previous MAR), except `active_flows`, which is a current
/// value. The format's 32-bit fields saturate at `u32::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarCounters {
    /// Start of the interval, in nanoseconds since the Unix epoch: the
    /// sensor's start for the initial MAR, the previous MAR's `now_ns` for
    /// the others.
    pub interval_start_ns: u64,
    /// Time the MAR is generated, in nanoseconds since the Unix epoch.
    pub now_ns: u64,
    /// Packets captured in the interval.
    pub packets: u64,
    /// Bytes captured in the interval.
    pub bytes: u64,
    /// Packets the capture dropped in the interval (driver, kernel and NIC).
    pub dropped_packets: u64,
    /// Flows that started in the interval.
    pub new_flows: u64,
    /// Flow records written in the interval.
    pub records: u64,
    /// Flows tracked at `now_ns`.
    pub active_flows: u64,
    /// Connected stream clients. Argus counts its output file as one.
    pub clients: u32,
    /// Interval between status reports of an open flow, in seconds.
    pub flow_status_interval_secs: u16,
    /// Interval between status MARs, in seconds. Stream clients drop a
    /// connection that is silent for twice this long; 0 disables that check.
    pub mar_interval_secs: u16,
    /// Link type of the capture interface, if known. The format has 8 bits
    /// for it, so link types above 255 are written as 0 (unknown).
    pub link_type: Option<LinkType>,
    /// True when the capture interface is up.
    pub interface_up: bool,
    /// IPv4 network of the capture interface (0.0.0.0 if unknown). ra uses
    /// it with `netmask` to label local addresses.
    pub local_network: Ipv4Addr,
    /// Mask of `local_network` (0.0.0.0 if unknown).
    pub netmask: Ipv4Addr,
}

impl Default for MarCounters {
    /// Zero counts and times, argus's default intervals (5 s flow status,
    /// 60 s MAR), unknown link and network.
    fn default() -> Self {
        MarCounters {
            interval_start_ns: 0,
            now_ns: 0,
            packets: 0,
            bytes: 0,
            dropped_packets: 0,
            new_flows: 0,
            records: 0,
            active_flows: 0,
            clients: 0,
            flow_status_interval_secs: 5,
            mar_interval_secs: 60,
            link_type: None,
            interface_up: false,
            local_network: Ipv4Addr::UNSPECIFIED,
            netmask: Ipv4Addr::UNSPECIFIED,
        }
    }
}

/// Role of a MAR in a file or stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarKind {
    /// First record of a file or stream: carries the cookie.
    Initial,
    /// Periodic report.
    Status,
    /// Last record of a file or stream.
    Closing,
}

fn saturating_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Appends a 128-byte MAR.
///
/// `last_sequence` is the sequence number of the last flow record sent (0
/// before the first).
pub fn put_mar(out: &mut Vec<u8>, kind: MarKind, source_id: SourceId, last_sequence: u32, counters: &MarCounters) {
    let start = out.len();
    let id = source_id.to_bytes();
    let (cause, argus_id, this_id) = match kind {
        MarKind::Initial => (ArgusCause::Start, ARGUS_V3_COOKIE, id),
        MarKind::Status => (ArgusCause::Status, id, [0; 4]),
        MarKind::Closing => (ArgusCause::Stop, id, [0; 4]),
    };

    put_record_header(out, MAR_TYPE_VERSION, cause, MAR_BYTES / WORD_BYTES);
    out.extend_from_slice(&source_id.mar_status_bit().to_be_bytes());
    out.extend_from_slice(&argus_id);
    out.extend_from_slice(&counters.local_network.octets());
    out.extend_from_slice(&counters.netmask.octets());
    out.extend_from_slice(&last_sequence.to_be_bytes());
    ArgusTime::from_unix_ns(counters.interval_start_ns).put(out);
    ArgusTime::from_unix_ns(counters.now_ns).put(out);

    let link_type = counters.link_type.and_then(|link| u8::try_from(link.0).ok()).unwrap_or(0);
    out.extend_from_slice(&[MAJOR_VERSION, MINOR_VERSION, link_type, u8::from(counters.interface_up)]);
    out.extend_from_slice(&counters.flow_status_interval_secs.to_be_bytes());
    out.extend_from_slice(&counters.mar_interval_secs.to_be_bytes());

    out.extend_from_slice(&counters.packets.to_be_bytes());
    out.extend_from_slice(&counters.bytes.to_be_bytes());
    // Clock drift, which argus also writes as 0.
    out.extend_from_slice(&0i64.to_be_bytes());
    out.extend_from_slice(&saturating_u32(counters.records).to_be_bytes());
    out.extend_from_slice(&saturating_u32(counters.new_flows).to_be_bytes());
    out.extend_from_slice(&saturating_u32(counters.dropped_packets).to_be_bytes());
    out.extend_from_slice(&saturating_u32(counters.active_flows).to_be_bytes());
    // Records waiting in an output queue: this encoder has none.
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&counters.clients.to_be_bytes());
    // Allocated buffers and bytes (informational), then the user-data
    // capture lengths and 12 pad bytes: all 0, as no user data is captured.
    out.extend_from_slice(&[0; 4 + 4 + 2 + 2 + 12]);
    out.extend_from_slice(&this_id);
    // record_len, always -1.
    out.extend_from_slice(&[0xff; 4]);

    debug_assert_eq!(out.len() - start, MAR_BYTES);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::test_hex::parse as hex;

    fn ns(seconds: u64, microseconds: u64) -> u64 {
        seconds * 1_000_000_000 + microseconds * 1_000
    }

    fn encode(kind: MarKind, source_id: SourceId, last_sequence: u32, counters: &MarCounters) -> Vec<u8> {
        let mut out = Vec::new();
        put_mar(&mut out, kind, source_id, last_sequence, counters);
        out
    }

    #[test]
    fn initial_mar_matches_argus_example() {
        // Argus 3.0.8.2 (argus -X -r tcpdump tests/print-flags.pcap) wrote
        // this initial MAR without a configured source id. This encoder always
        // has one, so it sets the status bit of the id's kind (0x00800000
        // for an IPv4 address); everything else is equal.
        let counters = MarCounters {
            interval_start_ns: ns(1_796_413_795, 855_370),
            now_ns: ns(1_796_413_795, 855_999),
            ..MarCounters::default()
        };
        let out = encode(MarKind::Initial, SourceId::Ipv4(Ipv4Addr::UNSPECIFIED), 0, &counters);
        let expected = "83100020 00800000 e5712dcb 00000000
                        00000000 00000000 6b131963 000d0d4a
                        6b131963 000d0fbf 03000000 0005003c
                        00000000 00000000 00000000 00000000
                        00000000 00000000 00000000 00000000
                        00000000 00000000 00000000 00000000
                        00000000 00000000 00000000 00000000
                        00000000 00000000 00000000 ffffffff";
        assert_eq!(out, hex(expected));
    }

    #[test]
    fn closing_mar_matches_argus_example() {
        // Argus 3.0.8.2, closing MAR of the same run. Differences: the source
        // id status bit as above, and the allocated buffers and bytes (32 and
        // 10931224 in argus), which this encoder does not track and writes
        // as 0.
        let counters = MarCounters {
            interval_start_ns: ns(1_796_413_795, 855_370),
            now_ns: ns(1_796_413_796, 859_308),
            records: 2,
            clients: 1,
            ..MarCounters::default()
        };
        let out = encode(MarKind::Closing, SourceId::Ipv4(Ipv4Addr::UNSPECIFIED), 0, &counters);
        let expected = "83300020 00800000 00000000 00000000
                        00000000 00000000 6b131963 000d0d4a
                        6b131964 000d1cac 03000000 0005003c
                        00000000 00000000 00000000 00000000
                        00000000 00000000 00000002 00000000
                        00000000 00000000 00000000 00000001
                        00000000 00000000 00000000 00000000
                        00000000 00000000 00000000 ffffffff";
        assert_eq!(out, hex(expected));
    }

    #[test]
    fn status_mar_carries_counts_and_source_id() {
        let counters = MarCounters {
            interval_start_ns: ns(1000, 0),
            now_ns: ns(1060, 250_000),
            packets: 0x1_0000_0002,
            bytes: 0x2_0000_0003,
            dropped_packets: 7,
            new_flows: 11,
            records: 13,
            active_flows: 17,
            clients: 1,
            flow_status_interval_secs: 10,
            mar_interval_secs: 30,
            link_type: Some(LinkType::ETHERNET),
            interface_up: true,
            local_network: Ipv4Addr::new(192, 0, 2, 0),
            netmask: Ipv4Addr::new(255, 255, 255, 0),
        };
        let out = encode(MarKind::Status, SourceId::Text(*b"nd01"), 99, &counters);
        let expected = "83200020 00200000 6e643031 c0000200
                        ffffff00 00000063 000003e8 00000000
                        00000424 0003d090 03000101 000a001e
                        00000001 00000002 00000002 00000003
                        00000000 00000000 0000000d 0000000b
                        00000007 00000011 00000000 00000001
                        00000000 00000000 00000000 00000000
                        00000000 00000000 00000000 ffffffff";
        assert_eq!(out, hex(expected));
    }

    #[test]
    fn initial_mar_puts_source_id_in_this_id() {
        let out = encode(MarKind::Initial, SourceId::Integer(0x0a0b_0c0d), 0, &MarCounters::default());
        assert_eq!(out.len(), MAR_BYTES);
        assert_eq!(&out[4..8], 0x0040_0000u32.to_be_bytes());
        assert_eq!(&out[8..12], ARGUS_V3_COOKIE);
        assert_eq!(&out[120..124], [0x0a, 0x0b, 0x0c, 0x0d]);
    }

    #[test]
    fn wide_counts_saturate_and_unknown_link_is_zero() {
        let counters = MarCounters {
            records: u64::MAX,
            active_flows: 1 << 40,
            link_type: Some(LinkType::LINUX_SLL2),
            ..MarCounters::default()
        };
        let out = encode(MarKind::Status, SourceId::default(), 0, &counters);
        assert_eq!(&out[72..76], [0xff; 4]);
        assert_eq!(&out[84..88], [0xff; 4]);
        assert_eq!(out[42], 0);
    }
}
