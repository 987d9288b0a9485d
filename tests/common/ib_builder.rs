//! Builds InfiniBand test captures from packet descriptions, laid out per
//! the IBTA specification (volume 1, chapters 7 to 9, and annex A17 for
//! RoCEv2). The forms are native packets (LRH, BTH, extension headers, payload, pad,
//! invariant and variant CRC), the same packets in ERF InfiniBand records
//! (ERF type 21, pcap link type 197, as ibdump writes them), as RoCEv1
//! (Ethernet, EtherType 0x8915, GRH, BTH onwards, invariant CRC) and as
//! RoCEv2 (Ethernet, IPv4 or IPv6, UDP port 4791, BTH onwards, invariant
//! CRC).
//!
//! The CRCs are left 0 because nauditd and tshark leave them unchecked.

#![allow(dead_code)]

use super::builder::{pcap_file, TestPacket};

/// Pcap link type of native InfiniBand.
pub const LINKTYPE_INFINIBAND: u32 = 247;
/// Pcap link type of ERF records.
pub const LINKTYPE_ERF: u32 = 197;
/// Pcap link type of Ethernet.
pub const LINKTYPE_ETHERNET: u32 = 1;

/// ERF record type of an InfiniBand packet.
const ERF_TYPE_INFINIBAND: u8 = 21;
/// UDP destination port of RoCEv2.
const ROCE_V2_PORT: u16 = 4791;

/// BTH opcodes used by the scenarios (IBTA volume 1, table 35).
pub mod opcode {
    pub const RC_SEND_ONLY: u8 = 0x04;
    pub const RC_WRITE_FIRST: u8 = 0x06;
    pub const RC_WRITE_LAST: u8 = 0x08;
    pub const RC_WRITE_ONLY: u8 = 0x0a;
    pub const RC_READ_REQUEST: u8 = 0x0c;
    pub const RC_READ_RESPONSE_ONLY: u8 = 0x10;
    pub const RC_ACK: u8 = 0x11;
    pub const RC_ATOMIC_ACK: u8 = 0x12;
    pub const RC_FETCH_ADD: u8 = 0x14;
    pub const UD_SEND_ONLY: u8 = 0x64;
    pub const UD_SEND_ONLY_IMM: u8 = 0x65;
    pub const CNP: u8 = 0x81;
}

/// An InfiniBand port with its addresses in each form.
#[derive(Clone, Copy, Debug)]
pub struct Port {
    pub lid: u16,
    /// The GID of RoCEv1 packets.
    pub gid: [u8; 16],
    pub ipv4: [u8; 4],
    pub ipv6: [u8; 16],
    pub mac: [u8; 6],
}

/// One packet of a scenario.
#[derive(Clone, Debug)]
pub struct IbPacket {
    pub time_ns: u64,
    pub src: Port,
    pub dst: Port,
    pub opcode: u8,
    /// The sending queue pair: in the DETH of datagrams, and the source of
    /// the RoCEv2 UDP port.
    pub src_qp: u32,
    pub dest_qp: u32,
    pub psn: u32,
    pub pkey: u16,
    pub fecn: bool,
    pub becn: bool,
    pub ack_request: bool,
    /// Extension headers after the BTH, in wire order.
    pub extension: Vec<u8>,
    pub payload: Vec<u8>,
    /// RoCEv2 only: the IP header's ECN field is congestion experienced
    /// (else ECN-capable transport 0).
    pub ecn_ce: bool,
}

impl IbPacket {
    /// Creates a packet without extension headers or payload in the
    /// default partition.
    pub fn new(time_ns: u64, src: Port, dst: Port, opcode: u8, src_qp: u32, dest_qp: u32, psn: u32) -> IbPacket {
        IbPacket {
            time_ns,
            src,
            dst,
            opcode,
            src_qp,
            dest_qp,
            psn,
            pkey: 0xffff,
            fecn: false,
            becn: false,
            ack_request: false,
            extension: Vec::new(),
            payload: Vec::new(),
            ecn_ce: false,
        }
    }

    /// Pad bytes that bring the payload to a multiple of 4.
    fn pad_len(&self) -> usize {
        (4 - self.payload.len() % 4) % 4
    }

    /// Lays out the BTH, the extension headers, the payload, the pad and
    /// the ICRC.
    fn transport_bytes(&self) -> Vec<u8> {
        let pad = self.pad_len();
        let mut bytes = vec![self.opcode, (pad as u8) << 4];
        bytes.extend_from_slice(&self.pkey.to_be_bytes());
        let congestion = u8::from(self.fecn) << 7 | u8::from(self.becn) << 6;
        bytes.push(congestion);
        bytes.extend_from_slice(&self.dest_qp.to_be_bytes()[1..]);
        bytes.push(u8::from(self.ack_request) << 7);
        bytes.extend_from_slice(&self.psn.to_be_bytes()[1..]);
        bytes.extend_from_slice(&self.extension);
        bytes.extend_from_slice(&self.payload);
        bytes.resize(bytes.len() + pad + 4, 0);
        bytes
    }

    /// Lays out the native packet: LRH (local, no GRH), transport bytes,
    /// VCRC.
    pub fn native(&self) -> Vec<u8> {
        let transport = self.transport_bytes();
        let packet_words = ((8 + transport.len()) / 4) as u16;
        let mut packet = vec![0x00, 0x02];
        packet.extend_from_slice(&self.dst.lid.to_be_bytes());
        packet.extend_from_slice(&packet_words.to_be_bytes());
        packet.extend_from_slice(&self.src.lid.to_be_bytes());
        packet.extend_from_slice(&transport);
        packet.extend_from_slice(&[0, 0]);
        packet
    }

    /// Wraps the native packet in an ERF InfiniBand record.
    pub fn erf(&self) -> Vec<u8> {
        let packet = self.native();
        let seconds = self.time_ns / 1_000_000_000;
        let fraction = ((self.time_ns % 1_000_000_000) << 32) / 1_000_000_000;
        let mut record = ((seconds << 32) | fraction).to_le_bytes().to_vec();
        record.extend_from_slice(&[ERF_TYPE_INFINIBAND, 0x04]);
        record.extend_from_slice(&((16 + packet.len()) as u16).to_be_bytes());
        record.extend_from_slice(&[0, 0]);
        record.extend_from_slice(&(packet.len() as u16).to_be_bytes());
        record.extend_from_slice(&packet);
        record
    }

    fn ethernet(&self, ethertype: u16) -> Vec<u8> {
        let mut frame = self.dst.mac.to_vec();
        frame.extend_from_slice(&self.src.mac);
        frame.extend_from_slice(&ethertype.to_be_bytes());
        frame
    }

    /// Returns the ECN field of a RoCEv2 IP header: congestion experienced,
    /// else ECN-capable transport 0.
    fn ecn(&self) -> u8 {
        if self.ecn_ce {
            0x03
        } else {
            0x02
        }
    }

    /// Lays out the RoCEv1 frame: Ethernet, GRH, transport bytes.
    pub fn roce_v1(&self) -> Vec<u8> {
        let transport = self.transport_bytes();
        let mut frame = self.ethernet(0x8915);
        frame.extend_from_slice(&[0x60, 0, 0, 0]);
        frame.extend_from_slice(&(transport.len() as u16).to_be_bytes());
        frame.extend_from_slice(&[0x1b, 1]);
        frame.extend_from_slice(&self.src.gid);
        frame.extend_from_slice(&self.dst.gid);
        frame.extend_from_slice(&transport);
        frame
    }

    fn udp(&self, transport: &[u8]) -> Vec<u8> {
        let udp_len = (8 + transport.len()) as u16;
        let mut datagram = roce_source_port(self.src_qp).to_be_bytes().to_vec();
        datagram.extend_from_slice(&ROCE_V2_PORT.to_be_bytes());
        datagram.extend_from_slice(&udp_len.to_be_bytes());
        datagram.extend_from_slice(&[0, 0]);
        datagram.extend_from_slice(transport);
        datagram
    }

    /// Lays out the RoCEv2 frame over IPv4: Ethernet, IPv4, UDP, transport
    /// bytes.
    pub fn roce_v2(&self) -> Vec<u8> {
        let datagram = self.udp(&self.transport_bytes());
        let mut frame = self.ethernet(0x0800);
        frame.extend_from_slice(&[0x45, self.ecn()]);
        frame.extend_from_slice(&(20 + datagram.len() as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
        frame.extend_from_slice(&self.src.ipv4);
        frame.extend_from_slice(&self.dst.ipv4);
        frame.extend_from_slice(&datagram);
        frame
    }

    /// Lays out the RoCEv2 frame over IPv6: Ethernet, IPv6, UDP, transport
    /// bytes.
    pub fn roce_v2_ipv6(&self) -> Vec<u8> {
        let datagram = self.udp(&self.transport_bytes());
        let mut frame = self.ethernet(0x86dd);
        // Version 6, then the traffic class, whose low two bits are ECN.
        frame.extend_from_slice(&[0x60, self.ecn() << 4, 0, 0]);
        frame.extend_from_slice(&(datagram.len() as u16).to_be_bytes());
        frame.extend_from_slice(&[17, 64]);
        frame.extend_from_slice(&self.src.ipv6);
        frame.extend_from_slice(&self.dst.ipv6);
        frame.extend_from_slice(&datagram);
        frame
    }
}

/// Returns the UDP source port a RoCEv2 sender uses for queue pair `qp`.
pub fn roce_source_port(qp: u32) -> u16 {
    0xc000 | (qp & 0x3fff) as u16
}

/// Lays out a DETH: queue key and source queue pair.
pub fn deth(q_key: u32, src_qp: u32) -> Vec<u8> {
    let mut header = q_key.to_be_bytes().to_vec();
    header.push(0);
    header.extend_from_slice(&src_qp.to_be_bytes()[1..]);
    header
}

/// Lays out a RETH: virtual address, remote key and DMA length.
pub fn reth(dma_len: u32) -> Vec<u8> {
    let mut header = 0x7f00_0000_1000u64.to_be_bytes().to_vec();
    header.extend_from_slice(&0x1234u32.to_be_bytes());
    header.extend_from_slice(&dma_len.to_be_bytes());
    header
}

/// Lays out an AETH: syndrome and message sequence number.
pub fn aeth(syndrome: u8, msn: u32) -> Vec<u8> {
    let mut header = vec![syndrome];
    header.extend_from_slice(&msn.to_be_bytes()[1..]);
    header
}

/// Lays out an AtomicETH for fetch-and-add of `add`.
pub fn atomic_eth(add: u64) -> Vec<u8> {
    let mut header = 0x7f00_0000_2000u64.to_be_bytes().to_vec();
    header.extend_from_slice(&0x1234u32.to_be_bytes());
    header.extend_from_slice(&add.to_be_bytes());
    header.extend_from_slice(&0u64.to_be_bytes());
    header
}

/// Lays out a 256-byte communication manager MAD (IBTA volume 1, 12.6): class 7,
/// `attribute` (0x10 REQ, 0x13 REP, 0x14 RTU), with the communication ids
/// and the sender's queue pair at the offsets of that message.
pub fn cm_mad(attribute: u16, local_comm_id: u32, remote_comm_id: u32, local_qpn: u32) -> Vec<u8> {
    let mut mad = vec![0u8; 256];
    mad[..4].copy_from_slice(&[1, 0x07, 2, 0x03]);
    mad[8..16].copy_from_slice(&u64::from(local_comm_id).to_be_bytes());
    mad[16..18].copy_from_slice(&attribute.to_be_bytes());
    let data = &mut mad[24..];
    data[..4].copy_from_slice(&local_comm_id.to_be_bytes());
    data[4..8].copy_from_slice(&remote_comm_id.to_be_bytes());
    let qpn_offset = match attribute {
        0x10 => Some(32),
        0x13 => Some(12),
        _ => None,
    };
    if let Some(offset) = qpn_offset {
        data[offset..offset + 3].copy_from_slice(&local_qpn.to_be_bytes()[1..]);
    }
    mad
}

/// The capture forms of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Pcap link type 247.
    Native,
    /// Pcap link type 197 with ERF InfiniBand records.
    ErfInPcap,
    /// An ERF file: the ERF InfiniBand records one after the other.
    ErfFile,
    /// RoCEv1 in Ethernet frames.
    RoceV1,
    /// RoCEv2 over IPv4 in Ethernet frames.
    RoceV2,
    /// RoCEv2 over IPv6 in Ethernet frames.
    RoceV2Ipv6,
}

impl Form {
    pub fn name(self) -> &'static str {
        match self {
            Form::Native => "native",
            Form::ErfInPcap => "erf",
            Form::ErfFile => "erf-file",
            Form::RoceV1 => "rocev1",
            Form::RoceV2 => "rocev2",
            Form::RoceV2Ipv6 => "rocev2-ipv6",
        }
    }

    /// True for the RoCEv2 forms, whose IP headers carry ECN.
    pub fn is_roce_v2(self) -> bool {
        matches!(self, Form::RoceV2 | Form::RoceV2Ipv6)
    }
}

/// Writes `packets` as a capture file of `form`: a pcap file, or for
/// [`Form::ErfFile`] the ERF records.
pub fn capture(form: Form, packets: &[IbPacket]) -> Vec<u8> {
    let (link_type, encode): (u32, fn(&IbPacket) -> Vec<u8>) = match form {
        Form::Native => (LINKTYPE_INFINIBAND, IbPacket::native),
        Form::ErfInPcap => (LINKTYPE_ERF, IbPacket::erf),
        Form::ErfFile => return packets.iter().flat_map(IbPacket::erf).collect(),
        Form::RoceV1 => (LINKTYPE_ETHERNET, IbPacket::roce_v1),
        Form::RoceV2 => (LINKTYPE_ETHERNET, IbPacket::roce_v2),
        Form::RoceV2Ipv6 => (LINKTYPE_ETHERNET, IbPacket::roce_v2_ipv6),
    };
    let packets: Vec<TestPacket> =
        packets.iter().map(|packet| TestPacket { time_ns: packet.time_ns, data: encode(packet) }).collect();
    pcap_file(link_type, &packets)
}
