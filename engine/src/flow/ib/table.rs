//! The InfiniBand side table of a shard: trackers of the InfiniBand flows
//! by slot, and the queue-pair pairing. IP flows never touch it.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::decode::{Decoded, Transport};
use crate::flow::key::{FlowKey, FxHasher64};

use super::pairing::QpPairing;
use super::summary::IbSummary;
use super::tracker::IbTracker;

/// InfiniBand state of one shard.
#[derive(Debug, Default)]
pub struct IbFlows {
    trackers: HashMap<u32, IbTracker, BuildHasherDefault<FxHasher64>>,
    pairing: QpPairing,
}

impl IbFlows {
    /// Learns from a connection manager message in `decoded` and returns
    /// `key` (in the packet's direction) with its source queue pair filled
    /// in when the pairing has learned it.
    pub fn resolve_key(&mut self, key: FlowKey, decoded: &Decoded) -> FlowKey {
        let FlowKey::Infiniband { src, dst, .. } = key else {
            return key;
        };
        if let Transport::Infiniband(ib) = &decoded.transport {
            if let Some(cm) = &ib.cm {
                self.pairing.note_cm(src, dst, cm);
            }
        }
        self.pairing.resolve(key)
    }

    /// Counts a packet of the InfiniBand flow in `slot`.
    pub fn add_packet(&mut self, slot: u32, is_source: bool, decoded: &Decoded) {
        self.trackers.entry(slot).or_default().add_packet(is_source, decoded);
    }

    /// Returns the interval counts of the flow in `slot` and starts a new
    /// interval; `None` when the slot has no InfiniBand flow.
    pub fn take_summary(&mut self, slot: u32) -> Option<IbSummary> {
        self.trackers.get_mut(&slot).map(IbTracker::take_summary)
    }

    /// Forgets the flow in `slot`.
    pub fn remove(&mut self, slot: u32) {
        self.trackers.remove(&slot);
    }
}
