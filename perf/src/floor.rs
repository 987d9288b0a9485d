//! The floor programs: the least work any flow sensor must do on a capture,
//! measured on the same files as nauditd and Argus.
//!
//! * The walk floor visits every record of the memory-mapped capture and
//!   sums the captured lengths: the cost of getting the packets at all.
//! * The table floor parses each packet's 5-tuple, through 802.1Q tags and
//!   one VXLAN tunnel, and puts it in canonical bidirectional order. It
//!   updates per-direction packet and byte counters in a plain
//!   open-addressing hash table and prefetches each batch's buckets before
//!   it touches them. This is the "bare program" a sensor's flow path is
//!   measured against. It keeps no TCP state, emits no records and never
//!   evicts.
//!
//! Both work in batches of [`BATCH_PACKETS`], the batch size of nauditd's
//! drivers, and can time each batch into a latency histogram.

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use naudit_engine::latency::BatchLatency;
use memmap2::Mmap;

use crate::pcap::{Record, Records};
use crate::rng::mix64;

/// Packets per batch: the `MAX_BATCH_PACKETS` of nauditd's engine.
pub const BATCH_PACKETS: usize = 64;
/// Most 802.1Q or 802.1ad tags skipped in front of the network layer.
const MAX_VLAN_TAGS: usize = 4;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const PROTOCOL_TCP: u8 = 6;
const PROTOCOL_UDP: u8 = 17;
const VXLAN_PORT: u16 = 4789;

/// Maps a capture file read-only.
pub fn map_capture(path: &Path) -> std::io::Result<Mmap> {
    let file = File::open(path)?;
    // SAFETY: the mapping is read-only. The generator writes a capture once
    // and renames it into place, and nothing rewrites it afterwards. If
    // another process truncated the file while it is mapped, reads past the
    // new end would fault: that is the documented risk of memmap2::Mmap.
    unsafe { Mmap::map(&file) }
}

pub use naudit_engine::latency::LatencySummary;

/// Counts of one floor program run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FloorReport {
    /// Packets read.
    pub packets: u64,
    /// Captured bytes read.
    pub bytes: u64,
    /// Distinct bidirectional flows (table floor only).
    pub flows: u64,
    /// Packets without a TCP or UDP 5-tuple (table floor only).
    pub unkeyed_packets: u64,
    /// Packets of new flows that found the table full (table floor only).
    pub table_full_packets: u64,
    /// Per-batch times, when they were measured.
    pub latency: Option<LatencySummary>,
}

impl FloorReport {
    /// Formats the report as one line of `name=value` pairs, the form the
    /// benchmark runner reads from a floor program's standard output.
    pub fn to_line(&self) -> String {
        let mut line = format!(
            "packets={} bytes={} flows={} unkeyed_packets={} table_full_packets={}",
            self.packets, self.bytes, self.flows, self.unkeyed_packets, self.table_full_packets
        );
        if let Some(latency) = &self.latency {
            line.push_str(&format!(
                " batches={} p50_ns={} p99_ns={} p999_ns={} max_ns={}",
                latency.batches, latency.p50_ns, latency.p99_ns, latency.p999_ns, latency.max_ns
            ));
        }
        line
    }

    /// Parses a line written by [`FloorReport::to_line`].
    pub fn from_line(line: &str) -> Result<FloorReport, String> {
        let mut report = FloorReport::default();
        let mut latency = LatencySummary::default();
        let mut has_latency = false;
        for pair in line.split_whitespace() {
            let (name, value) = pair.split_once('=').ok_or_else(|| format!("invalid floor report field {pair:?}: expected name=value"))?;
            let value: u64 = value.parse().map_err(|_| format!("invalid floor report value {pair:?}: expected an integer"))?;
            match name {
                "packets" => report.packets = value,
                "bytes" => report.bytes = value,
                "flows" => report.flows = value,
                "unkeyed_packets" => report.unkeyed_packets = value,
                "table_full_packets" => report.table_full_packets = value,
                "batches" => (latency.batches, has_latency) = (value, true),
                "p50_ns" => latency.p50_ns = value,
                "p99_ns" => latency.p99_ns = value,
                "p999_ns" => latency.p999_ns = value,
                "max_ns" => latency.max_ns = value,
                _ => return Err(format!("unknown floor report field {name:?}")),
            }
        }
        report.latency = has_latency.then_some(latency);
        Ok(report)
    }
}

/// Times batches into a histogram when latency is requested.
struct BatchTimer {
    latency: Option<BatchLatency>,
}

impl BatchTimer {
    fn new(measure: bool) -> BatchTimer {
        BatchTimer { latency: measure.then(BatchLatency::new) }
    }

    fn start(&self) -> Option<Instant> {
        self.latency.as_ref().map(|_| Instant::now())
    }

    fn stop(&mut self, started: Option<Instant>) {
        if let (Some(latency), Some(started)) = (&mut self.latency, started) {
            latency.record_ns(started.elapsed().as_nanos() as u64);
        }
    }

    fn summary(&self) -> Option<LatencySummary> {
        self.latency.as_ref().and_then(BatchLatency::summary)
    }
}

/// Walks every record and sums the captured lengths.
pub fn walk(records: Records<'_>, measure_latency: bool) -> FloorReport {
    let mut report = FloorReport::default();
    let mut timer = BatchTimer::new(measure_latency);
    let mut records = records.peekable();
    while records.peek().is_some() {
        let started = timer.start();
        for record in records.by_ref().take(BATCH_PACKETS) {
            report.packets += 1;
            report.bytes += record.data.len() as u64;
        }
        timer.stop(started);
    }
    report.latency = timer.summary();
    report
}

/// Runs the table floor over every record, with room for `max_flows`.
pub fn count_flows(records: Records<'_>, max_flows: usize, measure_latency: bool) -> FloorReport {
    let mut table = FlowTable::with_capacity(max_flows);
    let mut timer = BatchTimer::new(measure_latency);
    let mut batch = [Record { timestamp_ns: 0, wire_len: 0, data: &[] }; BATCH_PACKETS];
    let mut records = records;
    let mut report = FloorReport::default();
    loop {
        let started = timer.start();
        let mut count = 0;
        for record in records.by_ref().take(BATCH_PACKETS) {
            batch[count] = record;
            count += 1;
        }
        if count == 0 {
            break;
        }
        table.process_batch(&batch[..count]);
        timer.stop(started);
        report.packets += count as u64;
        report.bytes += batch[..count].iter().map(|record| record.data.len() as u64).sum::<u64>();
    }
    report.flows = table.len as u64;
    report.unkeyed_packets = table.unkeyed_packets;
    report.table_full_packets = table.full_packets;
    report.latency = timer.summary();
    report
}

/// A bidirectional 5-tuple in canonical order: the lower (address, port)
/// pair first. IPv4 addresses fill the first 4 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(C)]
pub struct FlowKey {
    /// The lower address.
    pub low_address: [u8; 16],
    /// The higher address.
    pub high_address: [u8; 16],
    /// The port that goes with the lower address.
    pub low_port: u16,
    /// The port that goes with the higher address.
    pub high_port: u16,
    /// IP protocol number.
    pub protocol: u8,
    /// IP version: 4 or 6; 0 marks an empty table bucket.
    pub ip_version: u8,
}

impl FlowKey {
    const EMPTY: FlowKey = FlowKey { low_address: [0; 16], high_address: [0; 16], low_port: 0, high_port: 0, protocol: 0, ip_version: 0 };

    fn hash(&self) -> u64 {
        let words = [
            u64::from_ne_bytes(self.low_address[..8].try_into().expect("8 bytes")),
            u64::from_ne_bytes(self.low_address[8..].try_into().expect("8 bytes")),
            u64::from_ne_bytes(self.high_address[..8].try_into().expect("8 bytes")),
            u64::from_ne_bytes(self.high_address[8..].try_into().expect("8 bytes")),
            u64::from(self.low_port) | u64::from(self.high_port) << 16 | u64::from(self.protocol) << 32 | u64::from(self.ip_version) << 40,
        ];
        let mut hash = 0u64;
        for word in words {
            hash = (hash ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            hash ^= hash >> 29;
        }
        mix64(hash)
    }
}

/// One bucket: a key and its counters in one 64-byte cache line.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Bucket {
    key: FlowKey,
    packets: [u32; 2],
    /// Bytes per direction. 32 bits wrap at 4 GiB, which does not matter
    /// for a floor whose point is the memory traffic of the update.
    bytes: [u32; 2],
    last_seen_ns: u64,
}

/// A key parsed from one packet, waiting for its table update.
#[derive(Clone, Copy)]
struct Pending {
    key: FlowKey,
    hash: u64,
    /// 0 when the packet's source is the key's low end, 1 otherwise.
    direction: usize,
    bytes: u32,
    timestamp_ns: u64,
}

/// An open-addressing hash table with linear probing, allocated once.
struct FlowTable {
    buckets: Vec<Bucket>,
    mask: usize,
    len: usize,
    max_flows: usize,
    unkeyed_packets: u64,
    full_packets: u64,
}

impl FlowTable {
    /// Allocates room for `max_flows` at a load factor of at most 3/4.
    fn with_capacity(max_flows: usize) -> FlowTable {
        let bucket_count = (max_flows.max(1) * 4 / 3 + 1).next_power_of_two();
        let empty = Bucket { key: FlowKey::EMPTY, packets: [0; 2], bytes: [0; 2], last_seen_ns: 0 };
        FlowTable { buckets: vec![empty; bucket_count], mask: bucket_count - 1, len: 0, max_flows, unkeyed_packets: 0, full_packets: 0 }
    }

    /// Parses a batch and prefetches its buckets, then updates them, so the
    /// cache misses of one batch overlap instead of queueing.
    fn process_batch(&mut self, records: &[Record<'_>]) {
        let mut pending = [Pending { key: FlowKey::EMPTY, hash: 0, direction: 0, bytes: 0, timestamp_ns: 0 }; BATCH_PACKETS];
        let mut count = 0;
        for record in records {
            let Some((key, direction)) = parse_flow_key(record.data) else {
                self.unkeyed_packets += 1;
                continue;
            };
            let hash = key.hash();
            prefetch(&self.buckets[hash as usize & self.mask]);
            pending[count] = Pending { key, hash, direction, bytes: record.wire_len, timestamp_ns: record.timestamp_ns };
            count += 1;
        }
        for packet in &pending[..count] {
            self.update(packet);
        }
    }

    fn update(&mut self, packet: &Pending) {
        let mut index = packet.hash as usize & self.mask;
        loop {
            let bucket = &mut self.buckets[index];
            if bucket.key == packet.key {
                break;
            }
            if bucket.key.ip_version == 0 {
                if self.len == self.max_flows {
                    self.full_packets += 1;
                    return;
                }
                bucket.key = packet.key;
                self.len += 1;
                break;
            }
            index = (index + 1) & self.mask;
        }
        let bucket = &mut self.buckets[index];
        bucket.packets[packet.direction] += 1;
        bucket.bytes[packet.direction] = bucket.bytes[packet.direction].wrapping_add(packet.bytes);
        bucket.last_seen_ns = packet.timestamp_ns;
    }
}

/// Asks the CPU to start loading `bucket` into the cache.
#[inline(always)]
fn prefetch(bucket: &Bucket) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is a hint that never faults and has no
        // architectural effect; the pointer comes from a live reference.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((bucket as *const Bucket).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bucket;
}

fn read_u16(data: &[u8], offset: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*data.get(offset)?, *data.get(offset + 1)?]))
}

/// Parses the TCP or UDP 5-tuple of an Ethernet frame, looking through
/// 802.1Q/802.1ad tags and one VXLAN tunnel, and returns it in canonical
/// order with the packet's direction. Other packets return `None`.
///
/// IPv6 extension headers are not followed: a packet with one is keyed by
/// its addresses and the first next-header value, with ports 0, as are IPv4
/// non-first fragments.
pub fn parse_flow_key(frame: &[u8]) -> Option<(FlowKey, usize)> {
    parse_ethernet(frame, true)
}

fn parse_ethernet(frame: &[u8], outer: bool) -> Option<(FlowKey, usize)> {
    let mut offset = 12;
    let mut ethertype = read_u16(frame, offset)?;
    let mut tags = 0;
    while matches!(ethertype, ETHERTYPE_VLAN | ETHERTYPE_QINQ) && tags < MAX_VLAN_TAGS {
        offset += 4;
        ethertype = read_u16(frame, offset)?;
        tags += 1;
    }
    let network = frame.get(offset + 2..)?;

    let mut source = [0u8; 16];
    let mut destination = [0u8; 16];
    let (protocol, ip_version, transport, first_fragment) = match ethertype {
        ETHERTYPE_IPV4 => {
            let header_len = usize::from(network.first()? & 0x0f) * 4;
            if header_len < 20 || network.len() < header_len {
                return None;
            }
            source[..4].copy_from_slice(&network[12..16]);
            destination[..4].copy_from_slice(&network[16..20]);
            let fragment_offset = read_u16(network, 6)? & 0x1fff;
            (network[9], 4, &network[header_len..], fragment_offset == 0)
        }
        ETHERTYPE_IPV6 => {
            if network.len() < 40 {
                return None;
            }
            source.copy_from_slice(&network[8..24]);
            destination.copy_from_slice(&network[24..40]);
            (network[6], 6, &network[40..], true)
        }
        _ => return None,
    };

    let has_ports = first_fragment && matches!(protocol, PROTOCOL_TCP | PROTOCOL_UDP);
    let (source_port, destination_port) = if has_ports { (read_u16(transport, 0)?, read_u16(transport, 2)?) } else { (0, 0) };
    if outer && protocol == PROTOCOL_UDP && destination_port == VXLAN_PORT {
        // Skip the UDP and VXLAN headers (8 bytes each) to the inner frame.
        if let Some(inner) = transport.get(16..).and_then(|inner| parse_ethernet(inner, false)) {
            return Some(inner);
        }
    }

    let key_of = |low: ([u8; 16], u16), high: ([u8; 16], u16)| FlowKey {
        low_address: low.0,
        high_address: high.0,
        low_port: low.1,
        high_port: high.1,
        protocol,
        ip_version,
    };
    let source_end = (source, source_port);
    let destination_end = (destination, destination_port);
    if source_end <= destination_end {
        Some((key_of(source_end, destination_end), 0))
    } else {
        Some((key_of(destination_end, source_end), 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::PcapWriter;
    use crate::traffic::{write_capture, SizeMix, TrafficConfig};

    fn capture(size_mix: SizeMix, packets: u64, flows: u32, vxlan_share: f64) -> Vec<u8> {
        let config = TrafficConfig {
            packets,
            flows,
            concurrent_sessions: None,
            size_mix,
            ipv6_share: 0.3,
            vlan_share: 0.3,
            vxlan_share,
            udp_share: 0.3,
            seed: 5,
            rate_pps: 1_000_000,
        };
        let mut file = Vec::new();
        write_capture(&config, &mut file).unwrap();
        file
    }

    #[test]
    fn table_counts_every_flow() {
        let file = capture(SizeMix::Imix, 2000, 100, 0.2);
        let report = count_flows(Records::new(&file).unwrap(), 1000, false);
        assert_eq!(report.packets, 2000);
        assert_eq!(report.flows, 100);
        assert_eq!(report.unkeyed_packets, 0);
        assert_eq!(report.table_full_packets, 0);
    }

    #[test]
    fn full_table_counts_drops() {
        let file = capture(SizeMix::Small64, 100, 100, 0.0);
        let report = count_flows(Records::new(&file).unwrap(), 10, false);
        assert_eq!(report.flows, 10);
        assert_eq!(report.table_full_packets, 90);
    }

    #[test]
    fn walk_sums_lengths() {
        let mut writer = PcapWriter::new(Vec::new()).unwrap();
        for length in 1..=100 {
            writer.write_frame(0, &vec![0; length]).unwrap();
        }
        let file = writer.finish().unwrap();
        let report = walk(Records::new(&file).unwrap(), true);
        assert_eq!(report.packets, 100);
        assert_eq!(report.bytes, 5050);
        assert_eq!(report.latency.unwrap().batches, 2);
    }

    #[test]
    fn report_line_round_trip() {
        let report = FloorReport {
            packets: 1,
            bytes: 2,
            flows: 3,
            unkeyed_packets: 4,
            table_full_packets: 5,
            latency: Some(LatencySummary { batches: 6, p50_ns: 7, p99_ns: 8, p999_ns: 9, max_ns: 10 }),
        };
        assert_eq!(FloorReport::from_line(&report.to_line()), Ok(report));
        let plain = FloorReport { latency: None, ..report };
        assert_eq!(FloorReport::from_line(&plain.to_line()), Ok(plain));
        assert!(FloorReport::from_line("packets=x").is_err());
    }

    #[test]
    fn short_frames_have_no_key() {
        for length in 0..60 {
            let frame: Vec<u8> = (0..length)
                .map(|index| match index {
                    12 => 0x08,
                    13 => 0x00,
                    _ => 0x45,
                })
                .collect();
            let _ = parse_flow_key(&frame);
        }
        assert_eq!(parse_flow_key(&[0; 13]), None);
    }
}
