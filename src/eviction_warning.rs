//! The warning that a worker's flow table is full. An evicted flow's record
//! is written early, and its later packets start a new flow, so one
//! conversation is split over several records.

use std::time::{Duration, Instant};

/// Shortest time between two eviction warnings of one worker.
const EVICTION_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Watches one worker's eviction count and warns when it grows: at most
/// once per [`EVICTION_WARNING_INTERVAL`], and once more when the worker
/// stops.
#[derive(Debug)]
pub struct EvictionWarning {
    worker: usize,
    capacity_flows: usize,
    evicted_at_last_warning: u64,
    last_warning: Option<Instant>,
}

impl EvictionWarning {
    /// Creates the warning for worker `worker`, whose shard has room for
    /// `capacity_flows` flows.
    pub fn new(worker: usize, capacity_flows: usize) -> EvictionWarning {
        EvictionWarning { worker, capacity_flows, evicted_at_last_warning: 0, last_warning: None }
    }

    /// Warns if `evicted_flows`, the worker's eviction count so far, grew
    /// since the last warning and that warning is old enough. Reads the
    /// clock only when the count grew.
    pub fn check(&mut self, evicted_flows: u64) {
        if let Some(new_evictions) = self.due(evicted_flows, Instant::now) {
            tracing::warn!(
                worker = self.worker,
                evicted_flows = new_evictions,
                total_evicted_flows = evicted_flows,
                capacity_flows = self.capacity_flows,
                "flow table full: the least recently active flows were written early, \
                 and their later packets start new records. Raise --max-flows."
            );
        }
    }

    /// Warns of the evictions since the last warning, however recent, so
    /// that the last warning of a run gives its total.
    pub fn finish(&mut self, evicted_flows: u64) {
        if evicted_flows > self.evicted_at_last_warning {
            tracing::warn!(
                worker = self.worker,
                evicted_flows = evicted_flows - self.evicted_at_last_warning,
                total_evicted_flows = evicted_flows,
                capacity_flows = self.capacity_flows,
                "flow table full until the end: this worker's total of evicted flows follows. Raise --max-flows."
            );
            self.evicted_at_last_warning = evicted_flows;
        }
    }

    /// Returns the evictions since the last warning when a warning is due
    /// now, and records that warning as given.
    fn due(&mut self, evicted_flows: u64, now: impl FnOnce() -> Instant) -> Option<u64> {
        if evicted_flows <= self.evicted_at_last_warning {
            return None;
        }
        let now = now();
        if self.last_warning.is_some_and(|last| now.duration_since(last) < EVICTION_WARNING_INTERVAL) {
            return None;
        }
        let new_evictions = evicted_flows - self.evicted_at_last_warning;
        self.evicted_at_last_warning = evicted_flows;
        self.last_warning = Some(now);
        Some(new_evictions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_once_per_interval() {
        let mut warning = EvictionWarning::new(0, 1000);
        let start = Instant::now();
        assert_eq!(warning.due(0, || start), None, "no eviction yet");
        assert_eq!(warning.due(5, || start), Some(5));
        assert_eq!(warning.due(9, || start + Duration::from_secs(1)), None, "too soon");
        assert_eq!(warning.due(12, || start + Duration::from_secs(10)), Some(7));
        assert_eq!(warning.due(12, || start + Duration::from_secs(12)), None, "no new eviction");

        assert_eq!(warning.due(15, || start + Duration::from_secs(15)), None, "too soon");
        warning.finish(15);
        assert_eq!(warning.evicted_at_last_warning, 15, "the last warning gives the total");
    }
}
