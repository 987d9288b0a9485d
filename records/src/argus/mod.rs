//! Argus version 3 binary records, as read by argus-clients 3.0.8 (`ra`,
//! `racluster`, `rasort`, `radium`). The tests read them back with the
//! Debian build 3.0.8.2 of `ra`, `racluster` and `rasort`.
//!
//! A file or stream is a 128-byte initial MAR, then flow records and status
//! MARs in any order, then a 128-byte closing MAR. Every integer is
//! big-endian and every length counts 32-bit words.
//!
//! [`ArgusEncoder`] appends records to a caller's buffer and allocates
//! nothing once the buffer has grown to its working size.
//! [`ArgusFileWriter`] writes a complete file.
//!
//! What the encoder writes for each [`FlowRecord`]: transport (source id and
//! sequence number), flow key, time, metric (packets, bytes and application
//! bytes), the TCP state for TCP flows, VLAN tags, IP attributes, packet
//! sizes and MAC addresses. It writes no MPLS, mapped-ICMP, encapsulation,
//! jitter or user-data DSR, because the record model has no data for them.
//! Without an encapsulation DSR, ra derives the encapsulation flag from the
//! MAC and VLAN DSRs.
//!
//! The flow key is written in the record's initiator order with the reverse
//! bit clear. Where argus 3.0.8 on little-endian hosts writes a field in
//! host order (ICMP identifier and sequence number, IP id), this encoder
//! writes it big-endian, so ra shows the true value.

mod attributes;
mod encapsulation;
mod far;
mod header;
mod infiniband;
mod key;
mod mac;
mod mapped_icmp;
mod mar;
mod metric;
mod size;
mod source_id;
mod tcp;
mod time;
mod transport;
mod vlan;
mod writer;

#[cfg(test)]
mod test_hex;

use naudit_engine::flow::FlowRecord;

pub use header::ArgusCause;
pub(crate) use infiniband::argus_key;
pub use mar::{MarCounters, ARGUS_V3_COOKIE, MAR_BYTES};
pub use source_id::{InvalidSourceId, SourceId};
pub use writer::{ArgusFileError, ArgusFileWriter};

use mar::MarKind;

/// Encoder of one sensor's Argus records.
///
/// It stores the source id and the sequence number of the last flow record,
/// which every later MAR reports. Use one encoder per output file or stream
/// so that each sees its own sequence from 1.
#[derive(Clone, Debug)]
pub struct ArgusEncoder {
    source_id: SourceId,
    /// Sequence number of the last flow record encoded, 0 before the first.
    last_sequence: u32,
}

impl ArgusEncoder {
    /// Creates an encoder whose first flow record gets sequence number 1.
    pub fn new(source_id: SourceId) -> ArgusEncoder {
        ArgusEncoder { source_id, last_sequence: 0 }
    }

    /// Returns the source id written in every record.
    pub fn source_id(&self) -> SourceId {
        self.source_id
    }

    /// Returns the sequence number of the last flow record encoded, 0
    /// before the first.
    pub fn last_sequence(&self) -> u32 {
        self.last_sequence
    }

    /// Appends the 128-byte initial MAR that must start every file and
    /// stream. Its counts are normally all zero.
    pub fn encode_initial_mar(&self, counters: &MarCounters, out: &mut Vec<u8>) {
        mar::put_mar(out, MarKind::Initial, self.source_id, self.last_sequence, counters);
    }

    /// Appends a 128-byte status MAR with the counts of the interval since
    /// the previous MAR.
    pub fn encode_status_mar(&self, counters: &MarCounters, out: &mut Vec<u8>) {
        mar::put_mar(out, MarKind::Status, self.source_id, self.last_sequence, counters);
    }

    /// Appends the 128-byte closing MAR that should end every file and
    /// stream, with the counts of the last interval.
    pub fn encode_closing_mar(&self, counters: &MarCounters, out: &mut Vec<u8>) {
        mar::put_mar(out, MarKind::Closing, self.source_id, self.last_sequence, counters);
    }

    /// Appends one flow record with the next sequence number.
    ///
    /// Sequence numbers start at 1 and wrap from `u32::MAX` back to 1.
    pub fn encode_flow(&mut self, record: &FlowRecord, out: &mut Vec<u8>) {
        self.last_sequence = match self.last_sequence.wrapping_add(1) {
            0 => 1,
            next => next,
        };
        far::put_far(out, record, self.source_id, self.last_sequence);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use naudit_engine::flow::{DirectionStats, FlowKey, RecordCause};
    use std::net::{IpAddr, Ipv4Addr};

    fn udp_record() -> FlowRecord {
        let address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        FlowRecord {
            key: FlowKey::Ip { src: address, dst: address, protocol: 17, src_port: 1, dst_port: 2, tunnel: Default::default() },
            cause: RecordCause::Start,
            start_ns: 1_000_000_000,
            last_ns: 1_000_000_000,
            src: DirectionStats { pkts: 1, bytes: 60, ..DirectionStats::default() },
            dst: DirectionStats::default(),
            tcp: None,
            arp_reply_mac: None,
            icmp_error: None,
            encapsulation: [0; 2],
            mpls_label: [None; 2],
            report_index: 0,
            worker_id: 0,
            tunnel: None,
            ib: None,
        }
    }

    /// Sequence number of a flow record: bytes 8..12 of its transport DSR.
    fn sequence_of(record: &[u8]) -> u32 {
        u32::from_be_bytes(record[12..16].try_into().unwrap())
    }

    #[test]
    fn sequence_starts_at_one_and_counts_flows() {
        let mut encoder = ArgusEncoder::new(SourceId::default());
        let mut out = Vec::new();
        encoder.encode_flow(&udp_record(), &mut out);
        assert_eq!(sequence_of(&out), 1);
        out.clear();
        encoder.encode_status_mar(&MarCounters::default(), &mut out);
        assert_eq!(&out[20..24], 1u32.to_be_bytes(), "MAR reports the last flow's sequence");
        out.clear();
        encoder.encode_flow(&udp_record(), &mut out);
        assert_eq!(sequence_of(&out), 2);
        assert_eq!(encoder.last_sequence(), 2);
    }

    #[test]
    fn sequence_wraps_to_one() {
        let mut encoder = ArgusEncoder::new(SourceId::default());
        encoder.last_sequence = u32::MAX;
        let mut out = Vec::new();
        encoder.encode_flow(&udp_record(), &mut out);
        assert_eq!(sequence_of(&out), 1);
    }

    #[test]
    fn encoding_appends_to_the_buffer() {
        let mut encoder = ArgusEncoder::new(SourceId::default());
        let mut out = vec![0xaa];
        encoder.encode_initial_mar(&MarCounters::default(), &mut out);
        encoder.encode_flow(&udp_record(), &mut out);
        assert_eq!(out[0], 0xaa);
        assert_eq!(out[1], 0x83);
        assert_eq!(out[1 + MAR_BYTES], 0x13);
    }
}
