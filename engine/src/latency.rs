//! Per-batch processing latency: the time a worker takes from receiving a
//! batch to having accounted every packet of it and emitted what was due.
//! A sensor that keeps a batch longer than its driver's ring can absorb
//! drops packets, so the tail of this distribution is what sizes rings.

use hdrhistogram::errors::AdditionError;
use hdrhistogram::Histogram;

/// Maximum latency the histogram records (one minute, in nanoseconds).
/// Longer batches are recorded as this value.
const MAX_TRACKED_NS: u64 = 60_000_000_000;
/// Significant decimal digits kept for every value.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A histogram of batch processing times in nanoseconds.
#[derive(Clone, Debug)]
pub struct BatchLatency {
    histogram: Histogram<u64>,
}

/// Percentiles of a [`BatchLatency`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencySummary {
    /// Batches recorded.
    pub batches: u64,
    /// Median, in nanoseconds.
    pub p50_ns: u64,
    /// 99th percentile, in nanoseconds.
    pub p99_ns: u64,
    /// 99.9th percentile, in nanoseconds.
    pub p999_ns: u64,
    /// Maximum, in nanoseconds.
    pub max_ns: u64,
}

impl Default for BatchLatency {
    fn default() -> Self {
        BatchLatency::new()
    }
}

impl BatchLatency {
    /// Creates an empty histogram for 1 ns to one minute.
    pub fn new() -> BatchLatency {
        let histogram = Histogram::new_with_bounds(1, MAX_TRACKED_NS, SIGNIFICANT_DIGITS)
            .expect("the bounds and precision are valid constants");
        BatchLatency { histogram }
    }

    /// Records one batch that took `elapsed_ns`.
    pub fn record_ns(&mut self, elapsed_ns: u64) {
        self.histogram.saturating_record(elapsed_ns.max(1));
    }

    /// Adds another worker's batches to these. Fails only when `other`
    /// contains a value beyond this histogram's bounds, which two histograms
    /// from [`BatchLatency::new`] never do.
    pub fn add(&mut self, other: &BatchLatency) -> Result<(), AdditionError> {
        self.histogram.add(&other.histogram)
    }

    /// Returns the percentiles, or `None` when no batch was recorded.
    pub fn summary(&self) -> Option<LatencySummary> {
        let histogram = &self.histogram;
        (!histogram.is_empty()).then(|| LatencySummary {
            batches: histogram.len(),
            p50_ns: histogram.value_at_quantile(0.5),
            p99_ns: histogram.value_at_quantile(0.99),
            p999_ns: histogram.value_at_quantile(0.999),
            max_ns: histogram.max(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_known_batches() {
        let mut latency = BatchLatency::new();
        for elapsed_ns in 1..=1000 {
            latency.record_ns(elapsed_ns * 1000);
        }
        let summary = latency.summary().expect("batches were recorded");
        assert_eq!(summary.batches, 1000);
        assert!((499_000..=501_000).contains(&summary.p50_ns), "{summary:?}");
        assert!((989_000..=991_000).contains(&summary.p99_ns), "{summary:?}");
        assert!((998_000..=1_000_000).contains(&summary.p999_ns), "{summary:?}");
        assert!((999_000..=1_001_000).contains(&summary.max_ns), "{summary:?}");
    }

    #[test]
    fn empty_histogram_has_no_summary() {
        assert_eq!(BatchLatency::new().summary(), None);
    }

    #[test]
    fn merged_workers_count_every_batch() {
        let (mut first, mut second) = (BatchLatency::new(), BatchLatency::new());
        first.record_ns(10);
        second.record_ns(5_000_000);
        second.record_ns(u64::MAX);
        first.add(&second).expect("same bounds");
        let summary = first.summary().expect("batches were recorded");
        assert_eq!(summary.batches, 3);
        assert!(summary.max_ns >= MAX_TRACKED_NS, "a clamped batch still counts at the top: {summary:?}");
    }
}
