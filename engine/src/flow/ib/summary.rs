//! The InfiniBand part of a flow record.

use crate::decode::ib::aeth::Nak;
use crate::decode::ib::opcode::OpClass;

/// InfiniBand counts of one side of a flow in a record's interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IbDirection {
    /// Packets per operation class, indexed by [`OpClass::index`].
    pub op_pkts: [u32; OpClass::ALL.len()],
    /// NAKs sent per kind, indexed by [`Nak::index`].
    pub naks: [u32; Nak::ALL.len()],
    /// Request PSNs skipped: the sum of the forward jumps in this side's
    /// request sequence (packets lost before the capture point).
    pub psn_gap_pkts: u32,
    /// Requests whose PSN was not ahead of the highest seen
    /// (retransmissions and duplicates).
    pub psn_repeat_pkts: u32,
    /// Packets with the FECN bit set.
    pub fecn_pkts: u32,
    /// Packets with the BECN bit set.
    pub becn_pkts: u32,
    /// RoCEv2 packets whose IP header carried ECN congestion experienced.
    pub ecn_ce_pkts: u32,
    /// Management datagrams (to queue pairs 0 and 1).
    pub mad_pkts: u32,
    /// IP over InfiniBand datagrams.
    pub ipoib_pkts: u32,
    /// UDP source port of this side's last RoCEv2 packet, 0 for the other
    /// links.
    pub udp_src_port: u16,
}

impl IbDirection {
    /// Packets of operation class `class`.
    pub fn ops(&self, class: OpClass) -> u32 {
        self.op_pkts[class.index()]
    }

    /// NAKs of kind `nak`.
    pub fn nak_count(&self, nak: Nak) -> u32 {
        self.naks[nak.index()]
    }

    /// Congestion notification packets sent.
    pub fn cnp_pkts(&self) -> u32 {
        self.ops(OpClass::Cnp)
    }
}

/// InfiniBand facts of a flow record; `src` and `dst` follow the record's
/// orientation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IbSummary {
    /// Counts of the source's packets.
    pub src: IbDirection,
    /// Counts of the destination's packets.
    pub dst: IbDirection,
}
