//! The packet model: one captured packet as a borrowed view.

use crate::decode::erf::{ErfPayload, ErfRecord};
use crate::decode::{ieee80211, nflog, ppi};

/// Link-layer header type of a captured packet, numbered as the `LINKTYPE_`
/// values of the pcap and pcapng formats (<https://www.tcpdump.org/linktypes.html>).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the writer's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II and 802.3 frames.
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IPv4 or IPv6, the version read from the first nibble.
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture, version 1 (16-byte header).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4 only.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6 only.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux cooked capture, version 2 (20-byte header).
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// PPP, with or without the HDLC address and control bytes.
    pub const PPP: LinkType = LinkType(9);
    /// PPP in HDLC-like framing, or Cisco HDLC.
    pub const PPP_HDLC: LinkType = LinkType(50);
    /// Cisco HDLC.
    pub const C_HDLC: LinkType = LinkType(104);
    /// IEEE 802.11 frames without a radio header.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// IEEE 802.11 frames after a radiotap header.
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    /// Ethernet after a Juniper pseudo-header.
    pub const JUNIPER_ETHER: LinkType = LinkType(178);
    /// Linux NFLOG: attributes around an IP packet.
    pub const NFLOG: LinkType = LinkType(239);
    /// IP over InfiniBand.
    pub const IPOIB: LinkType = LinkType(242);
    /// InfiniBand packets from the Local Route Header on.
    pub const INFINIBAND: LinkType = LinkType(247);
    /// An Endace ERF record: its header, then the frame of its record type.
    pub const ERF: LinkType = LinkType(197);
    /// Per-Packet Information header, then a packet of the link type it names.
    pub const PPI: LinkType = LinkType(192);

    /// Length of the header a capture tool adds in front of the packet
    /// `data`, which was never on the wire. These are the Linux cooked
    /// headers, the BSD loopback address family, the radiotap header, and
    /// the NFLOG header and attributes around the logged packet. Byte counts
    /// leave it out, as argus 3.0.8 does for cooked, loopback and radiotap
    /// frames.
    /// The Juniper pseudo-header is counted, because argus 3.0.8 counts it.
    /// A radiotap or NFLOG header that cannot be parsed counts as 0 bytes.
    #[inline]
    pub fn pseudo_header_bytes(self, data: &[u8]) -> u32 {
        // This runs for every packet, and most are Ethernet frames, which
        // carry no pseudo-header.
        if self == LinkType::ETHERNET {
            return 0;
        }
        self.capture_header_bytes(data)
    }

    /// Returns [`LinkType::pseudo_header_bytes`] for any link type.
    fn capture_header_bytes(self, data: &[u8]) -> u32 {
        let before = |inner: &[u8]| (data.len() - inner.len()) as u32;
        match self {
            LinkType::LINUX_SLL => 16,
            LinkType::LINUX_SLL2 => 20,
            LinkType::NULL | LinkType::LOOP => 4,
            LinkType::IEEE802_11_RADIOTAP => ieee80211::skip_radiotap(data).map_or(0, before),
            // The attributes after the logged packet, if any, are left out
            // too, so the count is the logged packet's length.
            LinkType::NFLOG => match nflog::payload(data) {
                Ok((_, Some(packet))) => before(packet),
                _ => 0,
            },
            LinkType::ERF => erf_pseudo_header_bytes(data),
            LinkType::PPI => ppi::payload(data).map_or(0, |(_, packet)| before(packet)),
            _ => 0,
        }
    }

    /// Maps the old per-OS raw-IP numbers some writers still use (12 and 14)
    /// to [`LinkType::RAW`], as libpcap does when it opens a file.
    pub fn normalized(self) -> LinkType {
        match self.0 {
            12 | 14 => LinkType::RAW,
            _ => self,
        }
    }
}

/// Bytes of an ERF record that a byte count leaves out: the record and
/// extension headers, the pad, and the FCS that the ERF wire length counts.
/// This assumes the packet's wire length is the headers' length plus the
/// ERF wire length, as in pcap files of link type 197.
fn erf_pseudo_header_bytes(data: &[u8]) -> u32 {
    let Ok(record) = ErfRecord::new(data) else {
        return 0;
    };
    match record.payload() {
        Ok(ErfPayload::Frame { frame, wire_len_bytes, .. }) => {
            let headers_len = (frame.as_ptr() as usize - data.as_ptr() as usize) as u32;
            headers_len + u32::from(record.wire_len()).saturating_sub(wire_len_bytes)
        }
        _ => record.headers_len() as u32,
    }
}

/// One captured packet, borrowed from the driver's buffer.
///
/// A view is valid until the driver's next `next_batch` call, which releases
/// the memory behind it (a file mapping, a ring block, a DPDK mbuf, a verbs
/// receive buffer).
#[derive(Clone, Copy, Debug)]
pub struct PacketView<'a> {
    /// Capture time in nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// Length of the packet on the wire, which is more than `data.len()` when
    /// the capture was cut short by a snapshot length.
    pub wire_len_bytes: u32,
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
    /// How to read the first header of `data`.
    pub link_type: LinkType,
    /// Ingress port: the pcapng interface id, the NIC port or queue.
    pub port: u16,
}

impl<'a> PacketView<'a> {
    /// An empty view, used to fill fixed-size batch arrays.
    pub const EMPTY: PacketView<'static> = PacketView {
        timestamp_ns: 0,
        wire_len_bytes: 0,
        data: &[],
        link_type: LinkType::ETHERNET,
        port: 0,
    };

    /// Returns true when fewer bytes were captured than were on the wire.
    pub fn is_truncated(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.wire_len_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radiotap_header_is_pseudo_header() {
        // Version 0, pad, length 10, an empty present bitmap, 2 field bytes.
        let frame = [0, 0, 10, 0, 0, 0, 0, 0, 0xaa, 0xbb, 0x08, 0x02];
        assert_eq!(LinkType::IEEE802_11_RADIOTAP.pseudo_header_bytes(&frame), 10);
        assert_eq!(LinkType::IEEE802_11_RADIOTAP.pseudo_header_bytes(&frame[..5]), 0, "cut short");
    }

    #[test]
    fn nflog_counts_only_logged_packet() {
        // Header, a 5-byte prefix attribute padded to 8, then a payload
        // attribute of 2 bytes padded to 4, then a 4-byte attribute.
        let frame = [2, 0, 0, 42, 5, 0, 10, 0, 0xaa, 0, 0, 0, 6, 0, 9, 0, 0x45, 0x00, 0, 0, 4, 0, 1, 0];
        assert_eq!(LinkType::NFLOG.pseudo_header_bytes(&frame), frame.len() as u32 - 2);
        assert_eq!(LinkType::NFLOG.pseudo_header_bytes(&frame[..12]), 0, "no payload attribute");
    }

    #[test]
    fn juniper_header_is_counted() {
        assert_eq!(LinkType::JUNIPER_ETHER.pseudo_header_bytes(&[0x4d, 0x47, 0x43, 0x01]), 0);
        assert_eq!(LinkType::LINUX_SLL.pseudo_header_bytes(&[]), 16);
    }
}
