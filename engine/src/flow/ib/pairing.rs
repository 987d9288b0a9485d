//! Pairs the two queue pairs of a reliable connection from the connection
//! manager's REQ and REP (IBTA volume 1, section 12.6).
//!
//! A REQ names the requester's queue pair and communication id, the REP
//! that replies to it names the responder's queue pair and echoes that id.
//! From then on a packet from the requester to the responder's queue pair
//! is known to come from the requester's queue pair, and the other way
//! round, so both halves share one flow key.

use std::collections::HashMap;

use crate::decode::ib::mad::attribute;
use crate::decode::ib::{CmMessage, IbEndpoint};
use crate::flow::key::FlowKey;

/// Most pending REQs and most learned pairs held at once. A REQ beyond it
/// is not remembered, so its connection's halves stay unpaired.
///
/// NOTE: pairs are never forgotten (a DREQ does not remove them), so a
/// shard that observes more than this many connections pairs no new ones.
pub const MAX_ENTRIES: usize = 65_536;

/// A sender, a receiver and a queue pair number.
type Endpoints = (IbEndpoint, IbEndpoint, u32);

/// The connection manager's exchanges seen by one shard.
#[derive(Debug, Default)]
pub struct QpPairing {
    /// REQs waiting for their REP, by requester, responder and the
    /// requester's communication id: the requester's queue pair.
    requests: HashMap<Endpoints, u32>,
    /// Learned pairs, by sender, receiver and destination queue pair: the
    /// sender's queue pair.
    source_qps: HashMap<Endpoints, u32>,
}

impl QpPairing {
    /// Notes a CM message sent from `src` to `dst`.
    pub fn note_cm(&mut self, src: IbEndpoint, dst: IbEndpoint, cm: &CmMessage) {
        match cm.attribute {
            attribute::REQ if self.requests.len() < MAX_ENTRIES => {
                self.requests.insert((src, dst, cm.local_comm_id), cm.local_qpn);
            }
            attribute::REP => {
                let Some(requester_qp) = self.requests.remove(&(dst, src, cm.remote_comm_id)) else {
                    return;
                };
                if self.source_qps.len() + 2 > MAX_ENTRIES {
                    return;
                }
                let responder_qp = cm.local_qpn;
                self.source_qps.insert((dst, src, responder_qp), requester_qp);
                self.source_qps.insert((src, dst, requester_qp), responder_qp);
            }
            _ => {}
        }
    }

    /// Fills in the source queue pair of an InfiniBand key in the packet's
    /// direction when the pair is known; returns other keys unchanged.
    pub fn resolve(&self, key: FlowKey) -> FlowKey {
        match key {
            FlowKey::Infiniband { src, dst, link, pkey, src_qp: None, dst_qp: Some(dst_qp) } => {
                let src_qp = self.source_qps.get(&(src, dst, dst_qp)).copied();
                FlowKey::Infiniband { src, dst, link, pkey, src_qp, dst_qp: Some(dst_qp) }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ib::IbLink;

    fn key(src: u16, dst: u16, dst_qp: u32) -> FlowKey {
        FlowKey::Infiniband {
            src: IbEndpoint::Lid(src),
            dst: IbEndpoint::Lid(dst),
            link: IbLink::Native,
            pkey: 0x7fff,
            src_qp: None,
            dst_qp: Some(dst_qp),
        }
    }

    #[test]
    fn rep_pairs_both_halves() {
        let (a, b) = (IbEndpoint::Lid(1), IbEndpoint::Lid(2));
        let mut pairing = QpPairing::default();
        assert_eq!(pairing.resolve(key(1, 2, 0x200)), key(1, 2, 0x200), "unknown before the REQ");
        pairing.note_cm(
            a,
            b,
            &CmMessage { attribute: attribute::REQ, local_comm_id: 7, remote_comm_id: 0, local_qpn: 0x100 },
        );
        pairing.note_cm(
            b,
            a,
            &CmMessage { attribute: attribute::REP, local_comm_id: 9, remote_comm_id: 7, local_qpn: 0x200 },
        );
        let request = pairing.resolve(key(1, 2, 0x200));
        let answer = pairing.resolve(key(2, 1, 0x100));
        assert!(matches!(request, FlowKey::Infiniband { src_qp: Some(0x100), .. }));
        assert_eq!(request.canonical().0, answer.canonical().0);
    }

    #[test]
    fn rep_without_req_pairs_nothing() {
        let (a, b) = (IbEndpoint::Lid(1), IbEndpoint::Lid(2));
        let mut pairing = QpPairing::default();
        pairing.note_cm(
            b,
            a,
            &CmMessage { attribute: attribute::REP, local_comm_id: 9, remote_comm_id: 7, local_qpn: 0x200 },
        );
        assert_eq!(pairing.resolve(key(2, 1, 0x100)), key(2, 1, 0x100));
    }
}
