//! Drop counters of a live capture, read from libpcap's `pcap_stats` at
//! most once per second, and the rate-limited warning when they grow.
//!
//! `pcap_stats` costs system calls (on Linux a `getsockopt` and, in
//! promiscuous mode, reads of the interface's sysfs counters), so it is
//! never called per packet.

use std::time::{Duration, Instant};

use pcap::{Active, Capture, Stat};

use crate::filter::libpcap_message;

/// Shortest time between two reads of `pcap_stats`.
pub(crate) const STATS_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// Shortest time between two warnings about dropped packets.
pub(crate) const DROP_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Totals of libpcap's drop counters, widened to 64 bits.
///
/// libpcap keeps its totals in 32-bit counters that wrap, so the totals
/// here add the difference between two reads, modulo 2^32.
#[derive(Debug, Default)]
pub(crate) struct DropCounters {
    /// Packets the kernel dropped because the capture buffer was full
    /// (`ps_drop`).
    pub kernel_dropped_pkts: u64,
    /// Packets the interface or its driver dropped (`ps_ifdrop`).
    pub nic_dropped_pkts: u64,
    last_stat: Option<Stat>,
    last_refresh: Option<Instant>,
    last_warning: Option<Instant>,
    dropped_at_last_warning: u64,
    stats_failure_logged: bool,
}

/// Drop totals to report in a warning.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DropWarning {
    /// Packets dropped since the last warning, by kernel and NIC together.
    pub new_dropped_pkts: u64,
}

impl DropCounters {
    /// Reads `pcap_stats` if the last read is at least
    /// [`STATS_REFRESH_INTERVAL`] old.
    pub(crate) fn refresh_if_due(
        &mut self,
        capture: &mut Capture<Active>,
        interface: &str,
        now: Instant,
    ) {
        let due = self.last_refresh.map_or(true, |last| {
            now.duration_since(last) >= STATS_REFRESH_INTERVAL
        });
        if due {
            self.refresh(capture, interface, now);
        }
    }

    /// Reads `pcap_stats` now, and warns if packets were dropped and the
    /// last warning is at least [`DROP_WARNING_INTERVAL`] old.
    pub(crate) fn refresh(&mut self, capture: &mut Capture<Active>, interface: &str, now: Instant) {
        self.last_refresh = Some(now);
        let stat = match capture.stats() {
            Ok(stat) => stat,
            Err(error) => {
                if !self.stats_failure_logged {
                    self.stats_failure_logged = true;
                    tracing::warn!(
                        interface,
                        error = libpcap_message(&error),
                        "failed to read the capture statistics, so drop counters stay at their last value; not logged again"
                    );
                }
                return;
            }
        };

        if let Some(warning) = self.record(stat, now) {
            tracing::warn!(
                interface,
                new_dropped_packets = warning.new_dropped_pkts,
                kernel_dropped_packets = self.kernel_dropped_pkts,
                nic_dropped_packets = self.nic_dropped_pkts,
                "packets were dropped before capture; a larger buffer_size_bytes or a narrower filter may help"
            );
        }
    }

    /// Adds the growth since the last read to the totals, and returns a
    /// warning when drops grew and the last warning is old enough.
    pub(crate) fn record(&mut self, stat: Stat, now: Instant) -> Option<DropWarning> {
        let last = self.last_stat.unwrap_or(Stat {
            received: 0,
            dropped: 0,
            if_dropped: 0,
        });
        self.kernel_dropped_pkts += u64::from(stat.dropped.wrapping_sub(last.dropped));
        self.nic_dropped_pkts += u64::from(stat.if_dropped.wrapping_sub(last.if_dropped));
        self.last_stat = Some(stat);

        let dropped_pkts = self.kernel_dropped_pkts + self.nic_dropped_pkts;
        let warning_due = self.last_warning.map_or(true, |last| {
            now.duration_since(last) >= DROP_WARNING_INTERVAL
        });
        if dropped_pkts == self.dropped_at_last_warning || !warning_due {
            return None;
        }
        let warning = DropWarning {
            new_dropped_pkts: dropped_pkts - self.dropped_at_last_warning,
        };
        self.last_warning = Some(now);
        self.dropped_at_last_warning = dropped_pkts;
        Some(warning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(dropped: u32, if_dropped: u32) -> Stat {
        Stat {
            received: 0,
            dropped,
            if_dropped,
        }
    }

    #[test]
    fn totals_follow_libpcap_counters() {
        let mut drops = DropCounters::default();
        let start = Instant::now();
        drops.record(stat(5, 1), start);
        drops.record(stat(7, 4), start);
        assert_eq!(drops.kernel_dropped_pkts, 7);
        assert_eq!(drops.nic_dropped_pkts, 4);
    }

    #[test]
    fn totals_survive_counter_wrap() {
        let mut drops = DropCounters::default();
        let start = Instant::now();
        drops.record(stat(u32::MAX - 1, 0), start);
        drops.record(stat(3, 0), start);
        assert_eq!(drops.kernel_dropped_pkts, u64::from(u32::MAX) + 4);
    }

    #[test]
    fn no_warning_without_drops() {
        let mut drops = DropCounters::default();
        assert_eq!(drops.record(stat(0, 0), Instant::now()), None);
    }

    #[test]
    fn warnings_are_rate_limited() {
        let mut drops = DropCounters::default();
        let start = Instant::now();
        assert_eq!(
            drops.record(stat(10, 0), start),
            Some(DropWarning {
                new_dropped_pkts: 10
            })
        );
        assert_eq!(
            drops.record(stat(20, 0), start + Duration::from_secs(1)),
            None
        );
        assert_eq!(
            drops.record(stat(25, 2), start + DROP_WARNING_INTERVAL),
            Some(DropWarning {
                new_dropped_pkts: 17
            })
        );
        assert_eq!(
            drops.record(stat(25, 2), start + 3 * DROP_WARNING_INTERVAL),
            None,
            "no new drops, no warning"
        );
    }
}
