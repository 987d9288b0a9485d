//! Sensor totals shared between the run loop, which stores them once per
//! batch, and the stream server, which reads them for its MARs.

use std::sync::atomic::{AtomicU64, Ordering};

/// Sensor totals since the sensor started, as plain values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterTotals {
    /// Packets captured.
    pub packets: u64,
    /// Wire bytes of those packets.
    pub bytes: u64,
    /// Packets the capture dropped (driver, kernel and NIC).
    pub dropped_packets: u64,
    /// Flows created.
    pub flows: u64,
    /// Flow records emitted.
    pub records: u64,
    /// Flows tracked now. Unlike the other fields this is a current value,
    /// not a total.
    pub active_flows: u64,
}

impl CounterTotals {
    /// Returns the counts since `earlier`, keeping the current
    /// `active_flows`. A count lower than `earlier`'s gives 0.
    pub fn since(&self, earlier: &CounterTotals) -> CounterTotals {
        CounterTotals {
            packets: self.packets.saturating_sub(earlier.packets),
            bytes: self.bytes.saturating_sub(earlier.bytes),
            dropped_packets: self.dropped_packets.saturating_sub(earlier.dropped_packets),
            flows: self.flows.saturating_sub(earlier.flows),
            records: self.records.saturating_sub(earlier.records),
            active_flows: self.active_flows,
        }
    }
}

/// The latest [`CounterTotals`], readable from any thread.
///
/// Each field is its own atomic, so a reader may see the fields of two
/// consecutive stores mixed. MARs tolerate that: every field is a count that
/// only grows, and the next MAR carries what one missed.
#[derive(Debug, Default)]
pub struct SensorCounters {
    packets: AtomicU64,
    bytes: AtomicU64,
    dropped_packets: AtomicU64,
    flows: AtomicU64,
    records: AtomicU64,
    active_flows: AtomicU64,
}

impl SensorCounters {
    /// Creates counters that read all zero.
    pub fn new() -> SensorCounters {
        SensorCounters::default()
    }

    /// Replaces the stored totals.
    pub fn store(&self, totals: &CounterTotals) {
        self.packets.store(totals.packets, Ordering::Relaxed);
        self.bytes.store(totals.bytes, Ordering::Relaxed);
        self.dropped_packets.store(totals.dropped_packets, Ordering::Relaxed);
        self.flows.store(totals.flows, Ordering::Relaxed);
        self.records.store(totals.records, Ordering::Relaxed);
        self.active_flows.store(totals.active_flows, Ordering::Relaxed);
    }

    /// Returns the stored totals.
    pub fn load(&self) -> CounterTotals {
        CounterTotals {
            packets: self.packets.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            dropped_packets: self.dropped_packets.load(Ordering::Relaxed),
            flows: self.flows.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
            active_flows: self.active_flows.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_then_load_round_trips() {
        let counters = SensorCounters::new();
        assert_eq!(counters.load(), CounterTotals::default());
        let totals =
            CounterTotals { packets: 10, bytes: 1500, dropped_packets: 2, flows: 3, records: 4, active_flows: 5 };
        counters.store(&totals);
        assert_eq!(counters.load(), totals);
    }

    #[test]
    fn since_subtracts_counts_and_keeps_active_flows() {
        let earlier =
            CounterTotals { packets: 10, bytes: 1000, dropped_packets: 1, flows: 2, records: 3, active_flows: 9 };
        let later =
            CounterTotals { packets: 15, bytes: 1600, dropped_packets: 1, flows: 5, records: 3, active_flows: 4 };
        let expected =
            CounterTotals { packets: 5, bytes: 600, dropped_packets: 0, flows: 3, records: 0, active_flows: 4 };
        assert_eq!(later.since(&earlier), expected);
        assert_eq!(earlier.since(&later).packets, 0, "a lower count saturates at 0");
    }
}
