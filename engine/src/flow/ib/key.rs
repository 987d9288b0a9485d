//! The flow key of an InfiniBand packet.

use crate::decode::ib::{opcode, IbEndpoint, IbLink};
use crate::decode::Transport;
use crate::flow::key::FlowKey;

/// The membership bit of a partition key: full (1) or limited (0) member.
/// The two ends of a conversation may differ in it, so keys leave it out.
const PKEY_MEMBERSHIP_BIT: u16 = 0x8000;

/// Builds the key of a packet between `src` and `dst` in the packet's own
/// direction.
///
/// A datagram carries its source queue pair in the DETH and is keyed by
/// both queue pairs, so that its replies pair with it as UDP does. Other
/// packets name only the destination queue pair; the shard fills in the
/// source queue pair when the connection manager's exchange was seen (see
/// [`super::pairing`]). A packet without a BTH has neither.
pub fn infiniband_key(src: IbEndpoint, dst: IbEndpoint, transport: &Transport) -> FlowKey {
    let native_link = if matches!(src, IbEndpoint::Ip(_)) { IbLink::RoceV2 } else { IbLink::Native };
    let Transport::Infiniband(ib) = transport else {
        return FlowKey::Infiniband { src, dst, link: native_link, pkey: 0, src_qp: None, dst_qp: None };
    };
    let is_datagram = opcode::Service::of(ib.opcode).is_datagram();
    FlowKey::Infiniband {
        src,
        dst,
        link: ib.link,
        pkey: ib.pkey & !PKEY_MEMBERSHIP_BIT,
        src_qp: if is_datagram { ib.src_qp } else { None },
        dst_qp: Some(ib.dest_qp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ib::IbTransport;

    fn transport(opcode: u8, dest_qp: u32, src_qp: Option<u32>, pkey: u16) -> Transport {
        Transport::Infiniband(IbTransport {
            link: IbLink::Native,
            opcode,
            flags: 0,
            pkey,
            dest_qp,
            psn: 0,
            src_qp,
            syndrome: None,
            dma_len_bytes: 0,
            udp_src_port: 0,
            mad_class: None,
            cm: None,
        })
    }

    #[test]
    fn datagram_pairs_both_directions() {
        let (a, b) = (IbEndpoint::Lid(1), IbEndpoint::Lid(2));
        let forward = infiniband_key(a, b, &transport(0x64, 0x20, Some(0x10), 0xffff));
        let reverse = infiniband_key(b, a, &transport(0x64, 0x10, Some(0x20), 0x7fff));
        assert_eq!(forward.canonical().0, reverse.canonical().0);
        assert_ne!(forward.canonical().1, reverse.canonical().1);
    }

    #[test]
    fn connected_halves_differ_without_pairing() {
        let (a, b) = (IbEndpoint::Lid(1), IbEndpoint::Lid(2));
        let request = infiniband_key(a, b, &transport(0x0a, 0x20, None, 0xffff));
        let ack = infiniband_key(b, a, &transport(0x11, 0x10, None, 0xffff));
        assert_ne!(request.canonical().0, ack.canonical().0);
        assert!(matches!(request, FlowKey::Infiniband { src_qp: None, dst_qp: Some(0x20), pkey: 0x7fff, .. }));
    }
}
