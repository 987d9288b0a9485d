//! The packet model: one captured packet as a borrowed view.

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

    /// Length of the header a capture tool adds in front of the packet,
    /// which was never on the wire: the Linux cooked headers and the BSD
    /// loopback address family. Byte counts leave it out, as argus does.
    pub fn pseudo_header_bytes(self) -> u32 {
        match self {
            LinkType::LINUX_SLL => 16,
            LinkType::LINUX_SLL2 => 20,
            LinkType::NULL | LinkType::LOOP => 4,
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
