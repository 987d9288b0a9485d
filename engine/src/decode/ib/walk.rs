//! The steps of the walk through InfiniBand headers.

use super::super::bytes::{check_len, tail, u16_at, u32_at, u8_at};
use super::super::walk::{at, Step};
use super::super::{encapsulation, DecodeError, Decoded, Layer, Network, Transport};
use super::bth::{self, BthHeader};
use super::grh::{self, GrhHeader};
use super::lrh::{self, LrhHeader};
use super::opcode::{self, ext, OpClass, Service};
use super::{ib_flag, mad, IbEndpoint, IbLink, IbNetwork, IbTransport, ICRC_LEN};

/// EtherTypes an IPoIB encapsulation header announces: IPv4, ARP, IPv6.
const IPOIB_ETHERTYPES: [u16; 3] = [0x0800, 0x0806, 0x86dd];

/// Decodes a native InfiniBand packet from its LRH.
pub(in crate::decode) fn walk_native(data: &[u8], decoded: &mut Decoded) -> Step {
    let lrh = LrhHeader::new(data).map_err(at(Layer::Infiniband))?;
    decoded.encapsulation |= encapsulation::INFINIBAND_LRH;
    let mut network = IbNetwork {
        src: IbEndpoint::Lid(lrh.src_lid()),
        dst: IbEndpoint::Lid(lrh.dst_lid()),
        src_lid: lrh.src_lid(),
        dst_lid: lrh.dst_lid(),
        service_level: lrh.service_level(),
        traffic_class: 0,
        has_grh: false,
    };
    let after_lrh_bytes = lrh.packet_len_bytes().checked_sub(lrh::HEADER_LEN as u32);
    match lrh.next_header() {
        lrh::next_header::LOCAL => {
            decoded.network = Network::Infiniband(network);
            let transport_len = after_lrh_bytes.ok_or(at(Layer::Infiniband)(invalid_packet_len(&lrh)))?;
            walk_bth(lrh.payload(), transport_len, IbLink::Native, 0, decoded)
        }
        lrh::next_header::GLOBAL => {
            let grh = GrhHeader::new(lrh.payload()).map_err(at(Layer::Infiniband))?;
            decoded.encapsulation |= encapsulation::INFINIBAND_GRH;
            network.src = IbEndpoint::Gid(grh.src_gid());
            network.dst = IbEndpoint::Gid(grh.dst_gid());
            network.traffic_class = grh.traffic_class();
            network.has_grh = true;
            decoded.network = Network::Infiniband(network);
            walk_after_grh(&grh, IbLink::Native, decoded)
        }
        _ => {
            // Raw packets of other transports: the addresses are kept, and
            // the packet counts on a flow without queue pairs.
            decoded.network = Network::Infiniband(network);
            Ok(())
        }
    }
}

/// Decodes a RoCE version 1 packet from its GRH.
pub(in crate::decode) fn walk_roce_v1(data: &[u8], decoded: &mut Decoded) -> Step {
    let grh = GrhHeader::new(data).map_err(at(Layer::Infiniband))?;
    decoded.encapsulation |= encapsulation::INFINIBAND_GRH;
    decoded.network = Network::Infiniband(IbNetwork {
        src: IbEndpoint::Gid(grh.src_gid()),
        dst: IbEndpoint::Gid(grh.dst_gid()),
        src_lid: 0,
        dst_lid: 0,
        service_level: 0,
        traffic_class: grh.traffic_class(),
        has_grh: true,
    });
    walk_after_grh(&grh, IbLink::RoceV1, decoded)
}

/// Decodes the BTH of a RoCE version 2 datagram; `payload_len_bytes` is the
/// UDP length less the UDP header.
pub(in crate::decode) fn walk_roce_v2(
    udp_src_port: u16,
    payload: &[u8],
    payload_len_bytes: u32,
    decoded: &mut Decoded,
) -> Step {
    walk_bth(payload, payload_len_bytes, IbLink::RoceV2, udp_src_port, decoded)
}

fn walk_after_grh(grh: &GrhHeader<'_>, link: IbLink, decoded: &mut Decoded) -> Step {
    if grh.next_header() != grh::NEXT_HEADER_IBA {
        return Ok(());
    }
    walk_bth(grh.payload(), u32::from(grh.payload_len_bytes()), link, 0, decoded)
}

fn invalid_packet_len(lrh: &LrhHeader<'_>) -> DecodeError {
    DecodeError::InvalidLength(lrh.packet_len_bytes())
}

/// Decodes a BTH and its extension headers; `transport_len_bytes` counts
/// from the BTH's first byte to the end of the invariant CRC, as the length
/// fields before it give it.
fn walk_bth(data: &[u8], transport_len_bytes: u32, link: IbLink, udp_src_port: u16, decoded: &mut Decoded) -> Step {
    let bth = BthHeader::new(data).map_err(at(Layer::Infiniband))?;
    let opcode = bth.opcode();
    let (class, headers) = opcode::describe(opcode);
    let mut info = IbTransport {
        link,
        opcode,
        flags: bth_flags(&bth),
        pkey: bth.pkey(),
        dest_qp: bth.dest_qp(),
        psn: bth.psn(),
        src_qp: None,
        syndrome: None,
        dma_len_bytes: 0,
        udp_src_port,
        mad_class: None,
        cm: None,
    };

    let mut offset = bth::HEADER_LEN;
    for (header, len_bytes) in opcode::EXT_ORDER {
        if headers & header == 0 {
            continue;
        }
        if let Err(error) = check_len(data, offset + len_bytes) {
            decoded.transport = Transport::Infiniband(info);
            return Err(at(Layer::Infiniband)(error));
        }
        match header {
            ext::DETH => info.src_qp = Some(u32_at(data, offset + 4..offset + 8) & 0x00ff_ffff),
            ext::AETH => info.syndrome = Some(u8_at(data, offset)),
            ext::RETH => info.dma_len_bytes = u32_at(data, offset + 12..offset + 16),
            _ => {}
        }
        offset += len_bytes;
    }
    if class == OpClass::Cnp {
        // A congestion notification packet has 16 reserved bytes and no
        // payload.
        offset += 16;
    }

    let payload = tail(data, offset);
    if Service::of(opcode) == Service::UnreliableDatagram {
        note_datagram_payload(&mut info, payload);
    }
    decoded.transport = Transport::Infiniband(info);

    let trailer_bytes = usize::from(bth.pad_bytes()) + ICRC_LEN;
    let needed_bytes = (offset + trailer_bytes) as u32;
    if transport_len_bytes < needed_bytes {
        return Err(at(Layer::Infiniband)(DecodeError::InvalidLength(transport_len_bytes)));
    }
    decoded.app_bytes = transport_len_bytes - needed_bytes;
    Ok(())
}

fn bth_flags(bth: &BthHeader<'_>) -> u8 {
    let mut flags = 0;
    for (is_set, flag) in [
        (bth.fecn(), ib_flag::FECN),
        (bth.becn(), ib_flag::BECN),
        (bth.solicited_event(), ib_flag::SOLICITED),
        (bth.ack_request(), ib_flag::ACK_REQUEST),
    ] {
        if is_set {
            flags |= flag;
        }
    }
    flags
}

/// Recognises management datagrams (queue pairs 0 and 1) and IPoIB in an
/// unreliable-datagram payload.
fn note_datagram_payload(info: &mut IbTransport, payload: &[u8]) {
    if info.dest_qp <= 1 {
        info.flags |= ib_flag::MAD;
        info.mad_class = mad::management_class(payload);
        info.cm = mad::cm_message(payload);
        return;
    }
    // NOTE: an IPoIB datagram is counted on its InfiniBand flow. The IP
    // packet inside is not decoded into an IP flow.
    let looks_like_ipoib =
        payload.len() >= 4 && IPOIB_ETHERTYPES.contains(&u16_at(payload, 0..2)) && u16_at(payload, 2..4) == 0;
    if looks_like_ipoib {
        info.flags |= ib_flag::IPOIB;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ib::aeth::{Nak, Syndrome};
    use crate::decode::ib::mad::attribute;
    use crate::decode::{decode_packet, DecodeStop};
    use crate::packet::LinkType;

    /// Builds an RDMA WRITE Only from LID 1 to LID 2, QP 0x11, PSN 5, 8 payload
    /// bytes, with its ICRC and VCRC.
    fn write_only_lrh() -> Vec<u8> {
        let mut packet = vec![0x00, 0x02, 0x00, 0x02, 0x00, 0x0c, 0x00, 0x01];
        packet.extend_from_slice(&[0x0a, 0x00, 0xff, 0xff, 0x80, 0x00, 0x00, 0x11, 0x80, 0x00, 0x00, 0x05]);
        packet.extend_from_slice(&[0; 8]);
        packet.extend_from_slice(&[0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x08]);
        packet.extend_from_slice(&[0xaa; 8]);
        packet.extend_from_slice(&[0; ICRC_LEN + super::super::VCRC_LEN]);
        packet
    }

    fn transport(decoded: &Decoded) -> IbTransport {
        match decoded.transport {
            Transport::Infiniband(info) => info,
            other => panic!("expected an InfiniBand transport, got {other:?}"),
        }
    }

    #[test]
    fn native_write_only() {
        let packet = write_only_lrh();
        let decoded = decode_packet(LinkType::INFINIBAND, &packet);
        assert_eq!(decoded.stop, None);
        let Network::Infiniband(network) = decoded.network else { panic!("no InfiniBand network: {decoded:?}") };
        assert_eq!(network.src, IbEndpoint::Lid(1));
        assert_eq!(network.dst, IbEndpoint::Lid(2));
        let info = transport(&decoded);
        assert_eq!(info.opcode, 0x0a);
        assert_eq!(info.dest_qp, 0x11);
        assert_eq!(info.psn, 5);
        assert_eq!(info.flags, ib_flag::FECN | ib_flag::ACK_REQUEST);
        assert_eq!(info.dma_len_bytes, 8);
        assert_eq!(decoded.app_bytes, 8);
        assert_eq!(decoded.encapsulation, encapsulation::INFINIBAND_LRH);
    }

    #[test]
    fn native_cut_headers_stop() {
        let packet = write_only_lrh();
        for len in [4, 12, 24] {
            let decoded = decode_packet(LinkType::INFINIBAND, &packet[..len]);
            assert!(
                matches!(
                    decoded.stop,
                    Some(DecodeStop { layer: Layer::Infiniband, error: DecodeError::Truncated { .. } })
                ),
                "cut at {len}: {decoded:?}"
            );
        }
    }

    #[test]
    fn native_short_packet_len_is_invalid() {
        let mut packet = write_only_lrh();
        packet[5] = 0x01;
        let decoded = decode_packet(LinkType::INFINIBAND, &packet);
        assert_eq!(decoded.stop, Some(DecodeStop { layer: Layer::Infiniband, error: DecodeError::InvalidLength(4) }));
    }

    #[test]
    fn native_with_grh_keys_gids() {
        let local = write_only_lrh();
        let mut packet = local[..8].to_vec();
        packet[1] = 0x03;
        let words = u16::from_be_bytes([packet[4], packet[5]]) + 10;
        packet[4..6].copy_from_slice(&words.to_be_bytes());
        let transport_len = (local.len() - 8 - super::super::VCRC_LEN) as u16;
        packet.extend_from_slice(&[0x60, 0, 0, 0]);
        packet.extend_from_slice(&transport_len.to_be_bytes());
        packet.extend_from_slice(&[0x1b, 0x40]);
        packet.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]);
        packet.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02]);
        packet.extend_from_slice(&local[8..]);
        let decoded = decode_packet(LinkType::INFINIBAND, &packet);
        assert_eq!(decoded.stop, None);
        let Network::Infiniband(network) = decoded.network else { panic!("no InfiniBand network") };
        assert_eq!(network.src.to_string(), "fe80::1");
        assert_eq!((network.src_lid, network.dst_lid), (1, 2));
        assert!(network.has_grh);
        assert_eq!(decoded.app_bytes, 8);
        assert_eq!(decoded.encapsulation, encapsulation::INFINIBAND_LRH | encapsulation::INFINIBAND_GRH);
        assert_eq!(transport(&decoded).dest_qp, 0x11);
    }

    #[test]
    fn roce_v1_nak() {
        let mut frame = vec![0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x89, 0x15];
        frame.extend_from_slice(&[0x60, 0, 0, 0, 0x00, 0x14, 0x1b, 0x40]);
        frame.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02]);
        frame.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]);
        frame.extend_from_slice(&[0x11, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00, 0x07]);
        frame.extend_from_slice(&[0x60, 0x00, 0x00, 0x03]);
        frame.extend_from_slice(&[0; ICRC_LEN]);
        let decoded = decode_packet(LinkType::ETHERNET, &frame);
        assert_eq!(decoded.stop, None);
        let info = transport(&decoded);
        assert_eq!(info.link, IbLink::RoceV1);
        assert_eq!(info.syndrome.map(Syndrome::from_byte).and_then(Syndrome::nak), Some(Nak::PsnSequenceError));
        assert_eq!(decoded.app_bytes, 0);
        let Network::Infiniband(network) = decoded.network else { panic!("no InfiniBand network") };
        assert_eq!(network.src.to_string(), "fe80::2");
    }

    #[test]
    fn roce_v2_ud_cm_request() {
        let mut mad_bytes = vec![0u8; 256];
        mad_bytes[..4].copy_from_slice(&[1, mad::CLASS_CM, 2, 3]);
        mad_bytes[16..18].copy_from_slice(&attribute::REQ.to_be_bytes());
        mad_bytes[24..28].copy_from_slice(&[0, 0, 0, 9]);
        mad_bytes[56..60].copy_from_slice(&[0, 0, 0x33, 0]);
        let mut datagram = vec![0x64, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00];
        datagram.extend_from_slice(&[0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]);
        datagram.extend_from_slice(&mad_bytes);
        datagram.extend_from_slice(&[0; ICRC_LEN]);
        let udp_len = (8 + datagram.len()) as u16;
        let mut packet = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        let total = (20 + udp_len) as u16;
        packet[2..4].copy_from_slice(&total.to_be_bytes());
        packet.extend_from_slice(&[0xc0, 0x00, 0x12, 0xb7]);
        packet.extend_from_slice(&udp_len.to_be_bytes());
        packet.extend_from_slice(&[0, 0]);
        packet.extend_from_slice(&datagram);
        let decoded = decode_packet(LinkType::RAW, &packet);
        assert_eq!(decoded.stop, None);
        assert!(matches!(decoded.network, Network::Ipv4(_)));
        let info = transport(&decoded);
        assert_eq!(info.link, IbLink::RoceV2);
        assert_eq!(info.udp_src_port, 0xc000);
        assert_eq!(info.src_qp, Some(1));
        assert_eq!(info.flags & ib_flag::MAD, ib_flag::MAD);
        assert_eq!(info.mad_class, Some(mad::CLASS_CM));
        assert_eq!(info.cm.map(|cm| (cm.attribute, cm.local_comm_id, cm.local_qpn)), Some((attribute::REQ, 9, 0x33)));
        assert_eq!(decoded.app_bytes, 256);
    }

    #[test]
    fn datagram_payload_kinds() {
        let mut info = IbTransport {
            link: IbLink::Native,
            opcode: 0x64,
            flags: 0,
            pkey: 0xffff,
            dest_qp: 0x48,
            psn: 0,
            src_qp: Some(0x48),
            syndrome: None,
            dma_len_bytes: 0,
            udp_src_port: 0,
            mad_class: None,
            cm: None,
        };
        note_datagram_payload(&mut info, &[0x08, 0x00, 0x00, 0x00, 0x45]);
        assert_eq!(info.flags, ib_flag::IPOIB, "IPv4 in IPoIB");

        info.flags = 0;
        note_datagram_payload(&mut info, &[0x08, 0x00, 0x00, 0x01, 0x45]);
        assert_eq!(info.flags, 0, "reserved bytes must be zero");

        info.dest_qp = 0;
        let mut smp = [0u8; mad::HEADER_LEN];
        smp[1] = 0x81;
        note_datagram_payload(&mut info, &smp);
        assert_eq!(info.flags, ib_flag::MAD, "subnet management packet to QP0");
        assert_eq!(info.mad_class, Some(0x81));
        assert_eq!(info.cm, None);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut state = 0x1234_5678_u32;
        for len in 0..200 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (state >> 24) as u8
                })
                .collect();
            let _ = decode_packet(LinkType::INFINIBAND, &bytes);
            let _ = walk_roce_v1(&bytes, &mut Decoded::EMPTY.clone());
        }
    }
}
