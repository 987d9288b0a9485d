//! InfiniBand in Argus records: the flow key qualifiers argus 3.0.8
//! reserves for InfiniBand (`0x0B` local, `0x0C` global) and the
//! InfiniBand DSR (`0x35`), which 3.0.8 defines without a layout or reader
//! code. The layouts are nauditd's and are described in docs/records.md.
//!
//! A RoCEv2 flow is written with the UDP key of its IP packets, so that
//! Argus clients show it as the UDP flow it is, and with the InfiniBand
//! DSR for its queue pairs and metrics.

use naudit_engine::decode::ib::{IbEndpoint, IbLink, ROCE_V2_PORT};
use naudit_engine::flow::ib::IbDirection;
use naudit_engine::flow::{FlowKey, FlowRecord, TunnelContext};

use super::header::put_dsr_header;

const FLOW_DSR: u8 = 0x02;
const SUBTYPE_FIVE_TUPLE: u8 = 0x01;
/// Address kind: InfiniBand local identifiers.
const QUALIFIER_IB_LOCAL: u8 = 0x0b;
/// Address kind: InfiniBand global identifiers.
const QUALIFIER_IB_GLOBAL: u8 = 0x0c;
/// Local key: LIDs (4 bytes), queue pairs (8), partition and link (4).
const LOCAL_KEY_WORDS: u8 = 5;
/// Global key: GIDs (32 bytes), queue pairs (8), partition and link (4).
const GLOBAL_KEY_WORDS: u8 = 12;

const INFINIBAND_DSR: u8 = 0x35;
/// Queue pairs (8 bytes), partition key, flags and a pad byte (4), then 21
/// counters per side.
const INFINIBAND_DSR_WORDS: u8 = 1 + 3 + 2 * 21;
/// Flag bit of the InfiniBand DSR: the source queue pair is not known.
const FLAG_UNPAIRED: u8 = 0x01;

/// Queue pair value written when it is not known (queue pairs are 24-bit).
const UNKNOWN_QP: u32 = 0xffff_ffff;

const IPPROTO_UDP: u8 = 17;

/// Returns the key to write for `record`: the UDP key of a RoCEv2 flow,
/// else the record's own key.
pub fn argus_key(record: &FlowRecord) -> FlowKey {
    match record.key {
        FlowKey::Infiniband { src: IbEndpoint::Ip(src), dst: IbEndpoint::Ip(dst), link: IbLink::RoceV2, .. } => {
            FlowKey::Ip {
                src,
                dst,
                protocol: IPPROTO_UDP,
                src_port: record.ib.map_or(0, |ib| ib.src.udp_src_port),
                dst_port: ROCE_V2_PORT,
                tunnel: TunnelContext::NONE,
            }
        }
        key => key,
    }
}

/// Returns the link code written in keys and in the DSR qualifier.
fn link_code(link: IbLink) -> u8 {
    match link {
        IbLink::Native => 0,
        IbLink::RoceV1 => 1,
        IbLink::RoceV2 => 2,
    }
}

/// Appends the flow key DSR of a native InfiniBand or RoCEv1 key: the
/// local layout for LIDs, the global one for GIDs. Endpoints of another
/// kind are written as zero GIDs.
pub fn put_ib_key(out: &mut Vec<u8>, key: &FlowKey) {
    let FlowKey::Infiniband { src, dst, link, pkey, src_qp, dst_qp } = *key else {
        return;
    };
    let tail = |out: &mut Vec<u8>| {
        out.extend_from_slice(&src_qp.unwrap_or(UNKNOWN_QP).to_be_bytes());
        out.extend_from_slice(&dst_qp.unwrap_or(UNKNOWN_QP).to_be_bytes());
        out.extend_from_slice(&pkey.to_be_bytes());
        out.extend_from_slice(&[link_code(link), 0]);
    };
    if let (IbEndpoint::Lid(src_lid), IbEndpoint::Lid(dst_lid)) = (src, dst) {
        put_dsr_header(out, FLOW_DSR, SUBTYPE_FIVE_TUPLE, QUALIFIER_IB_LOCAL, LOCAL_KEY_WORDS);
        out.extend_from_slice(&src_lid.to_be_bytes());
        out.extend_from_slice(&dst_lid.to_be_bytes());
        tail(out);
        return;
    }
    put_dsr_header(out, FLOW_DSR, SUBTYPE_FIVE_TUPLE, QUALIFIER_IB_GLOBAL, GLOBAL_KEY_WORDS);
    out.extend_from_slice(&gid_octets(src));
    out.extend_from_slice(&gid_octets(dst));
    tail(out);
}

fn gid_octets(endpoint: IbEndpoint) -> [u8; 16] {
    match endpoint {
        IbEndpoint::Gid(gid) => gid,
        IbEndpoint::Ip(address) => match address {
            std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            std::net::IpAddr::V6(v6) => v6.octets(),
        },
        IbEndpoint::Lid(_) => [0; 16],
    }
}

/// Appends the InfiniBand DSR of an InfiniBand or RoCE record.
pub fn put_infiniband_dsr(out: &mut Vec<u8>, record: &FlowRecord) {
    let (FlowKey::Infiniband { link, pkey, src_qp, dst_qp, .. }, Some(ib)) = (record.key, record.ib) else {
        return;
    };
    put_dsr_header(out, INFINIBAND_DSR, 0, link_code(link), INFINIBAND_DSR_WORDS);
    out.extend_from_slice(&src_qp.unwrap_or(UNKNOWN_QP).to_be_bytes());
    out.extend_from_slice(&dst_qp.unwrap_or(UNKNOWN_QP).to_be_bytes());
    out.extend_from_slice(&pkey.to_be_bytes());
    let unpaired = src_qp.is_none() && dst_qp.is_some();
    out.extend_from_slice(&[if unpaired { FLAG_UNPAIRED } else { 0 }, 0]);
    put_direction(out, &ib.src);
    put_direction(out, &ib.dst);
}

fn put_direction(out: &mut Vec<u8>, side: &IbDirection) {
    let counters = side.op_pkts.iter().chain(side.naks.iter()).copied().chain([
        side.psn_gap_pkts,
        side.psn_repeat_pkts,
        side.fecn_pkts,
        side.becn_pkts,
        side.ecn_ce_pkts,
        side.mad_pkts,
        side.ipoib_pkts,
    ]);
    for counter in counters {
        out.extend_from_slice(&counter.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::test_hex::parse as hex;
    use naudit_engine::flow::ib::IbSummary;

    #[test]
    fn local_key_layout() {
        let key = FlowKey::Infiniband {
            src: IbEndpoint::Lid(1),
            dst: IbEndpoint::Lid(2),
            link: IbLink::Native,
            pkey: 0x7fff,
            src_qp: None,
            dst_qp: Some(0x123),
        };
        let mut out = Vec::new();
        put_ib_key(&mut out, &key);
        assert_eq!(out, hex("02 01 0b 05  0001 0002  ffffffff  00000123  7fff 00 00"));
    }

    #[test]
    fn infiniband_dsr_length_matches_header() {
        let key = FlowKey::Infiniband {
            src: IbEndpoint::Gid([0xfe; 16]),
            dst: IbEndpoint::Gid([0xfd; 16]),
            link: IbLink::RoceV1,
            pkey: 1,
            src_qp: Some(2),
            dst_qp: Some(3),
        };
        let mut out = Vec::new();
        put_ib_key(&mut out, &key);
        assert_eq!(out.len(), usize::from(GLOBAL_KEY_WORDS) * 4);
        let mut summary = IbSummary::default();
        summary.dst.naks[1] = 7;
        let record = FlowRecord {
            key,
            cause: naudit_engine::flow::RecordCause::Start,
            start_ns: 0,
            last_ns: 0,
            src: Default::default(),
            dst: Default::default(),
            tcp: None,
            arp_reply_mac: None,
            icmp_error: None,
            encapsulation: [0; 2],
            mpls_label: [None; 2],
            report_index: 0,
            worker_id: 0,
            tunnel: None,
            ib: Some(summary),
        };
        let mut dsr = Vec::new();
        put_infiniband_dsr(&mut dsr, &record);
        assert_eq!(dsr.len(), usize::from(INFINIBAND_DSR_WORDS) * 4);
        assert_eq!(&dsr[..4], &[0x35, 0, 1, INFINIBAND_DSR_WORDS]);
        let dst_seq_err_offset = 4 + 12 + 21 * 4 + 4 * (8 + 1);
        assert_eq!(&dsr[dst_seq_err_offset..dst_seq_err_offset + 4], &[0, 0, 0, 7]);
    }
}
