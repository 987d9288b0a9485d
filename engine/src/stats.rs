//! Per-worker packet statistics for the run summary and the management
//! records.

use crate::decode::{DecodeError, Decoded, Layer};

/// Packet counts of one worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Packets taken from the driver.
    pub packets: u64,
    /// Wire bytes of those packets.
    pub wire_bytes: u64,
    /// Packets decoded to the end without a stop.
    pub decoded_pkts: u64,
    /// Packets whose captured bytes ended inside a header, by layer.
    pub truncated_by_layer: [u64; Layer::ALL.len()],
    /// Packets with an invalid header, by layer.
    pub malformed_by_layer: [u64; Layer::ALL.len()],
    /// Packets of a link type nauditd does not decode.
    pub unsupported_link_pkts: u64,
}

impl WorkerStats {
    /// Counts one packet and how its decoding ended.
    pub fn count(&mut self, wire_len_bytes: u32, decoded: &Decoded) {
        self.packets += 1;
        self.wire_bytes += u64::from(wire_len_bytes);
        match decoded.stop {
            None => self.decoded_pkts += 1,
            Some(stop) => match stop.error {
                DecodeError::UnsupportedLinkType(_) => self.unsupported_link_pkts += 1,
                DecodeError::Truncated { .. } => self.truncated_by_layer[stop.layer.index()] += 1,
                _ => self.malformed_by_layer[stop.layer.index()] += 1,
            },
        }
    }

    /// Adds another worker's counts to these.
    pub fn add(&mut self, other: &WorkerStats) {
        self.packets += other.packets;
        self.wire_bytes += other.wire_bytes;
        self.decoded_pkts += other.decoded_pkts;
        self.unsupported_link_pkts += other.unsupported_link_pkts;
        for (total, count) in self.truncated_by_layer.iter_mut().zip(other.truncated_by_layer) {
            *total += count;
        }
        for (total, count) in self.malformed_by_layer.iter_mut().zip(other.malformed_by_layer) {
            *total += count;
        }
    }

    /// Packets with an invalid header at any layer.
    pub fn malformed_pkts(&self) -> u64 {
        self.malformed_by_layer.iter().sum()
    }

    /// Packets cut short inside a header at any layer.
    pub fn truncated_pkts(&self) -> u64 {
        self.truncated_by_layer.iter().sum()
    }
}
