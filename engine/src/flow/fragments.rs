//! The fragment table: attributes non-first IP fragments to the flow of
//! their datagram, whatever order the fragments arrive in.
//!
//! The first fragment (offset 0) carries the transport header, so it alone
//! identifies the flow. A non-first fragment that arrives before it is held here
//! until the first fragment comes or the datagram times out; a fragment
//! whose first fragment never comes is an orphan and is counted in a flow
//! keyed by addresses and protocol only, never with ports read from payload.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use crate::decode::Decoded;
use crate::flow::key::{FlowKey, KeyDirection};

/// Non-first fragments held per datagram while its first fragment is
/// missing; further ones are treated as orphans at once.
pub const MAX_PENDING_FRAGMENTS: usize = 8;

/// Identity of one IP datagram (RFC 791 section 3.2, RFC 8200 section 4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DatagramKey {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Transport protocol.
    pub protocol: u8,
    /// Identification.
    pub id: u32,
}

/// A non-first fragment waiting for its datagram's first fragment.
#[derive(Clone, Copy, Debug)]
pub struct PendingFragment {
    /// Capture time.
    pub time_ns: u64,
    /// Bytes to count.
    pub bytes: u32,
    /// The fragment's decoded headers.
    pub decoded: Decoded,
}

#[derive(Clone, Debug)]
struct Datagram {
    created_ns: u64,
    flow: Option<(FlowKey, KeyDirection)>,
    pending: Vec<PendingFragment>,
}

/// What to do with a fragment.
#[derive(Debug)]
pub enum FragmentOutcome {
    /// Count it in this flow (canonical key, packet direction).
    Flow(FlowKey, KeyDirection),
    /// Held until the first fragment arrives; nothing to do now.
    Held,
    /// No first fragment can be found for it: count it as an orphan.
    Orphan,
}

/// Bounded table of datagrams being fragmented.
///
/// The table hashes with std's keyed SipHash rather than a fast unkeyed
/// hash, because anyone can send fragments with chosen identities. Only
/// fragments reach the table, so the slower hash is off the common path.
pub struct FragmentTable {
    datagrams: HashMap<DatagramKey, Datagram, RandomState>,
    order: VecDeque<(DatagramKey, u64)>,
    capacity: usize,
    timeout_ns: u64,
}

impl FragmentTable {
    /// Creates a table of at most `capacity` datagrams, each kept for
    /// `timeout_ns` after its first fragment of any kind was seen.
    pub fn new(capacity: usize, timeout_ns: u64) -> FragmentTable {
        let capacity = capacity.max(1);
        FragmentTable {
            datagrams: HashMap::with_capacity_and_hasher(capacity, RandomState::new()),
            order: VecDeque::with_capacity(capacity),
            capacity,
            timeout_ns,
        }
    }

    /// Number of datagrams tracked.
    pub fn len(&self) -> usize {
        self.datagrams.len()
    }

    /// True when no datagram is tracked.
    pub fn is_empty(&self) -> bool {
        self.datagrams.is_empty()
    }

    /// Records the flow of a datagram's first fragment and returns the
    /// fragments that arrived before it, to be counted in that flow.
    pub fn first_fragment(
        &mut self,
        datagram: DatagramKey,
        flow: (FlowKey, KeyDirection),
        time_ns: u64,
        expired: &mut Vec<PendingFragment>,
    ) -> Vec<PendingFragment> {
        match self.datagrams.get_mut(&datagram) {
            Some(entry) => {
                entry.flow = Some(flow);
                std::mem::take(&mut entry.pending)
            }
            None => {
                self.insert(datagram, Datagram { created_ns: time_ns, flow: Some(flow), pending: Vec::new() }, expired);
                Vec::new()
            }
        }
    }

    /// Decides where a non-first fragment goes. Datagrams pushed out because
    /// the table is full leave their held fragments in `expired`.
    pub fn later_fragment(
        &mut self,
        datagram: DatagramKey,
        fragment: PendingFragment,
        expired: &mut Vec<PendingFragment>,
    ) -> FragmentOutcome {
        if let Some(entry) = self.datagrams.get_mut(&datagram) {
            if let Some((key, direction)) = entry.flow {
                return FragmentOutcome::Flow(key, direction);
            }
            if entry.pending.len() >= MAX_PENDING_FRAGMENTS {
                return FragmentOutcome::Orphan;
            }
            entry.pending.push(fragment);
            return FragmentOutcome::Held;
        }
        let pending = vec![fragment];
        self.insert(datagram, Datagram { created_ns: fragment.time_ns, flow: None, pending }, expired);
        FragmentOutcome::Held
    }

    /// Forgets datagrams older than the timeout at `now_ns`; fragments still
    /// held for them go to `expired` as orphans.
    pub fn expire(&mut self, now_ns: u64, expired: &mut Vec<PendingFragment>) {
        while let Some(&(datagram, created_ns)) = self.order.front() {
            if created_ns.saturating_add(self.timeout_ns) > now_ns {
                break;
            }
            self.order.pop_front();
            self.remove(&datagram, created_ns, expired);
        }
    }

    /// Forgets every datagram; held fragments go to `expired`, oldest
    /// datagram first, so the order does not depend on the hash's keys.
    pub fn drain(&mut self, expired: &mut Vec<PendingFragment>) {
        while let Some((datagram, created_ns)) = self.order.pop_front() {
            self.remove(&datagram, created_ns, expired);
        }
        debug_assert!(self.datagrams.is_empty(), "every datagram has an entry in the order queue");
        self.datagrams.clear();
    }

    fn insert(&mut self, datagram: DatagramKey, entry: Datagram, expired: &mut Vec<PendingFragment>) {
        while self.datagrams.len() >= self.capacity {
            let Some((oldest, created_ns)) = self.order.pop_front() else { break };
            self.remove(&oldest, created_ns, expired);
        }
        self.order.push_back((datagram, entry.created_ns));
        self.datagrams.insert(datagram, entry);
    }

    fn remove(&mut self, datagram: &DatagramKey, created_ns: u64, expired: &mut Vec<PendingFragment>) {
        // The order queue may name a datagram that was already replaced by a
        // newer one with the same identity; only the matching entry goes.
        if self.datagrams.get(datagram).is_some_and(|entry| entry.created_ns == created_ns) {
            if let Some(entry) = self.datagrams.remove(datagram) {
                expired.extend(entry.pending);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn datagram(id: u32) -> DatagramKey {
        DatagramKey { src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), protocol: 17, id }
    }

    fn fragment(time_ns: u64) -> PendingFragment {
        PendingFragment { time_ns, bytes: 100, decoded: Decoded::EMPTY }
    }

    #[test]
    fn drain_releases_oldest_first() {
        let mut table = FragmentTable::new(16, 1_000_000_000);
        let mut expired = Vec::new();
        for (id, time_ns) in [(5, 10), (1, 20), (9, 30), (3, 40), (7, 50)] {
            let outcome = table.later_fragment(datagram(id), fragment(time_ns), &mut expired);
            assert!(matches!(outcome, FragmentOutcome::Held));
        }
        table.drain(&mut expired);
        let times: Vec<u64> = expired.iter().map(|held| held.time_ns).collect();
        assert_eq!(times, [10, 20, 30, 40, 50]);
        assert!(table.is_empty());
    }
}
