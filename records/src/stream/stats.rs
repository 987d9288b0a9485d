//! Counts of what the stream server did, for logs and the run summary.

use std::sync::atomic::{AtomicU64, Ordering};

/// Client and record counts of a [`RecordStream`](super::RecordStream)
/// since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Connections accepted.
    pub clients_accepted: u64,
    /// Connections closed at once because `max_clients` were connected.
    pub clients_rejected: u64,
    /// Clients that sent `START: ` and were sent records.
    pub clients_started: u64,
    /// Clients disconnected because their queue was full: they fell behind.
    pub clients_fell_behind: u64,
    /// Filters rejected with the syntax-error reply.
    pub filters_rejected: u64,
    /// Flow records published while at least one client was started.
    pub records_published: u64,
}

/// The atomic counters behind [`StreamStats`].
#[derive(Debug, Default)]
pub(super) struct StatsCounters {
    pub clients_accepted: AtomicU64,
    pub clients_rejected: AtomicU64,
    pub clients_started: AtomicU64,
    pub clients_fell_behind: AtomicU64,
    pub filters_rejected: AtomicU64,
    pub records_published: AtomicU64,
}

impl StatsCounters {
    pub fn increment(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StreamStats {
        StreamStats {
            clients_accepted: self.clients_accepted.load(Ordering::Relaxed),
            clients_rejected: self.clients_rejected.load(Ordering::Relaxed),
            clients_started: self.clients_started.load(Ordering::Relaxed),
            clients_fell_behind: self.clients_fell_behind.load(Ordering::Relaxed),
            filters_rejected: self.filters_rejected.load(Ordering::Relaxed),
            records_published: self.records_published.load(Ordering::Relaxed),
        }
    }
}
