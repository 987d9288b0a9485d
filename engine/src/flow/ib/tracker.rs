//! The InfiniBand state of one flow: counters of the current interval and
//! each side's request sequence.

use crate::decode::ib::aeth::Syndrome;
use crate::decode::ib::opcode::{self, OpClass};
use crate::decode::ib::{ib_flag, IbTransport};
use crate::decode::{Decoded, Network, Transport};

use super::psn::{PsnOutcome, PsnTracker};
use super::summary::{IbDirection, IbSummary};

/// The ECN codepoint "congestion experienced" in the low two bits of the
/// IP TOS or traffic class byte.
const ECN_CE: u8 = 0x03;

/// Opcode operations (low 5 bits) of the atomic requests, compare-and-swap
/// and fetch-and-add; atomic acknowledgments are responses.
const ATOMIC_REQUESTS: [u8; 2] = [0x13, 0x14];

/// The InfiniBand state of one flow.
#[derive(Clone, Copy, Debug, Default)]
pub struct IbTracker {
    /// Request sequence of the source (index 0) and destination (1).
    psn: [PsnTracker; 2],
    /// Counts of the current interval.
    interval: IbSummary,
}

impl IbTracker {
    /// Counts one packet sent by the flow's source (`is_source`) or
    /// destination.
    pub fn add_packet(&mut self, is_source: bool, decoded: &Decoded) {
        let side = if is_source { &mut self.interval.src } else { &mut self.interval.dst };
        let Transport::Infiniband(ib) = decoded.transport else {
            return;
        };
        let (class, _) = opcode::describe(ib.opcode);
        side.op_pkts[class.index()] += 1;
        if let Some(nak) = ib.syndrome.map(Syndrome::from_byte).and_then(Syndrome::nak) {
            side.naks[nak.index()] += 1;
        }
        count_flags(side, &ib);
        if let Network::Ipv4(ip) | Network::Ipv6(ip) = decoded.network {
            if ip.tos & ECN_CE == ECN_CE {
                side.ecn_ce_pkts += 1;
            }
        }
        side.udp_src_port = ib.udp_src_port;

        if is_request(class, ib.opcode) {
            let read_len_bytes = if class == OpClass::RdmaReadRequest { ib.dma_len_bytes } else { 0 };
            let psn = &mut self.psn[usize::from(!is_source)];
            match psn.note_request(ib.psn, read_len_bytes) {
                PsnOutcome::InOrder => {}
                PsnOutcome::Gap(skipped) => side.psn_gap_pkts += skipped,
                PsnOutcome::Repeat => side.psn_repeat_pkts += 1,
            }
        }
    }

    /// Returns the counts of the current interval and starts a new one; the
    /// request sequences carry over.
    pub fn take_summary(&mut self) -> IbSummary {
        std::mem::take(&mut self.interval)
    }
}

fn count_flags(side: &mut IbDirection, ib: &IbTransport) {
    let flag_counters = [
        (ib_flag::FECN, &mut side.fecn_pkts),
        (ib_flag::BECN, &mut side.becn_pkts),
        (ib_flag::MAD, &mut side.mad_pkts),
        (ib_flag::IPOIB, &mut side.ipoib_pkts),
    ];
    for (flag, counter) in flag_counters {
        if ib.flags & flag != 0 {
            *counter += 1;
        }
    }
}

fn is_request(class: OpClass, opcode: u8) -> bool {
    match class {
        OpClass::Send | OpClass::RdmaWrite | OpClass::RdmaReadRequest => true,
        OpClass::Atomic => ATOMIC_REQUESTS.contains(&(opcode & 0x1f)),
        OpClass::RdmaReadResponse | OpClass::Ack | OpClass::Cnp | OpClass::Other => false,
    }
}
