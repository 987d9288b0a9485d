//! Totals of the kernel's per-socket statistics, and the rate limit on
//! reporting new drops in the log.
//!
//! `getsockopt(PACKET_STATISTICS)` returns the counts since the previous
//! read and resets them, so every read must be added to running totals.

use std::time::{Duration, Instant};

/// Shortest time between two log lines about one queue's kernel drops.
pub const DROP_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Running totals of one socket's `tpacket_stats_v3` reads.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KernelStats {
    /// Packets the kernel dropped because the ring was full (`tp_drops`).
    pub(crate) dropped_pkts: u64,
    /// Times the ring froze with every block owned by the worker
    /// (`tp_freeze_q_cnt`).
    pub(crate) queue_freezes: u64,
    /// Drops and freezes not yet reported in the log.
    unreported: DropReport,
    last_report: Option<Instant>,
}

/// Drops and ring freezes since the last report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DropReport {
    pub(crate) dropped_pkts: u64,
    pub(crate) queue_freezes: u64,
}

impl DropReport {
    fn is_empty(&self) -> bool {
        self.dropped_pkts == 0 && self.queue_freezes == 0
    }
}

impl KernelStats {
    /// Adds one statistics read taken at `now`. Returns the drops to log when
    /// some are unreported and the last report is at least
    /// [`DROP_LOG_INTERVAL`] old.
    pub(crate) fn add(
        &mut self,
        read: &libc::tpacket_stats_v3,
        now: Instant,
    ) -> Option<DropReport> {
        let dropped_pkts = u64::from(read.tp_drops);
        let queue_freezes = u64::from(read.tp_freeze_q_cnt);
        self.dropped_pkts += dropped_pkts;
        self.queue_freezes += queue_freezes;
        self.unreported.dropped_pkts += dropped_pkts;
        self.unreported.queue_freezes += queue_freezes;

        if self.unreported.is_empty() {
            return None;
        }
        let due = match self.last_report {
            None => true,
            Some(last) => now.duration_since(last) >= DROP_LOG_INTERVAL,
        };
        if !due {
            return None;
        }
        self.last_report = Some(now);
        Some(std::mem::take(&mut self.unreported))
    }

    /// Drops and freezes not yet reported, for the log line at close.
    pub(crate) fn unreported(&self) -> DropReport {
        self.unreported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(drops: u32, freezes: u32) -> libc::tpacket_stats_v3 {
        libc::tpacket_stats_v3 {
            tp_packets: drops,
            tp_drops: drops,
            tp_freeze_q_cnt: freezes,
        }
    }

    #[test]
    fn totals_add_every_read() {
        let mut stats = KernelStats::default();
        let now = Instant::now();
        stats.add(&read(3, 1), now);
        stats.add(&read(4, 0), now);
        assert_eq!(stats.dropped_pkts, 7);
        assert_eq!(stats.queue_freezes, 1);
    }

    #[test]
    fn first_drop_is_reported_at_once() {
        let mut stats = KernelStats::default();
        let report = stats.add(&read(5, 2), Instant::now());
        assert_eq!(
            report,
            Some(DropReport {
                dropped_pkts: 5,
                queue_freezes: 2
            })
        );
        assert_eq!(stats.unreported(), DropReport::default());
    }

    #[test]
    fn read_without_drops_reports_nothing() {
        let mut stats = KernelStats::default();
        assert_eq!(stats.add(&read(0, 0), Instant::now()), None);
    }

    #[test]
    fn reports_are_rate_limited() {
        let mut stats = KernelStats::default();
        let start = Instant::now();
        assert!(stats.add(&read(1, 0), start).is_some());

        let soon = start + Duration::from_secs(1);
        assert_eq!(stats.add(&read(2, 0), soon), None);
        assert_eq!(stats.add(&read(3, 1), soon), None);
        assert_eq!(
            stats.unreported(),
            DropReport {
                dropped_pkts: 5,
                queue_freezes: 1
            }
        );

        let later = start + DROP_LOG_INTERVAL;
        assert_eq!(
            stats.add(&read(0, 0), later),
            Some(DropReport {
                dropped_pkts: 5,
                queue_freezes: 1
            })
        );
        assert_eq!(stats.dropped_pkts, 6);
    }
}
