//! Counters of one side of a flow in the current report interval, packed
//! for the flow's slot, and their conversion to the record's
//! [`DirectionStats`].

use crate::decode::IpInfo;
use crate::flow::record::DirectionStats;

const HAS_MAC: u8 = 1 << 0;
const SEVERAL_MACS: u8 = 1 << 1;
const HAS_VLAN: u8 = 1 << 2;
const FRAGMENTS: u8 = 1 << 3;
/// The MAC address is the destination of the other side's frames, because
/// this side has sent none in the interval.
const PEER_MAC: u8 = 1 << 4;

/// Packet counts and header attributes of one side in the interval, in 40
/// bytes. The optional fields of [`DirectionStats`] are presence bits here.
/// The packet count has 32 bits, and the shard ends the interval with a
/// status report before it overflows ([`SideCounters::is_full`]). Packet
/// sizes have 16 bits, the width of the Argus packet-size DSR, the only
/// record that reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideCounters {
    bytes: u64,
    app_bytes: u64,
    pub(crate) pkts: u32,
    // Sizes above 65,535 bytes (jumbograms, offloaded segments in loopback
    // captures) are kept as 65,535, which the Argus packet-size DSR would
    // carry anyway.
    min_packet_bytes: u16,
    max_packet_bytes: u16,
    mac: [u8; 6],
    vlan_tci: u16,
    ip_id: u16,
    ip_options: u16,
    ttl: u8,
    tos: u8,
    flags: u8,
}

impl SideCounters {
    /// Counts one packet of `bytes` wire bytes carrying `app_bytes` of
    /// transport payload.
    pub fn add_packet(&mut self, bytes: u32, app_bytes: u32) {
        let size = u16::try_from(bytes).unwrap_or(u16::MAX);
        if self.pkts == 0 {
            self.min_packet_bytes = size;
        }
        debug_assert!(!self.is_full(), "packet count overflows; the interval should have ended");
        self.pkts = self.pkts.saturating_add(1);
        self.bytes += u64::from(bytes);
        self.app_bytes += u64::from(app_bytes);
        self.min_packet_bytes = self.min_packet_bytes.min(size);
        self.max_packet_bytes = self.max_packet_bytes.max(size);
    }

    /// True when the packet count cannot take another packet.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.pkts == u32::MAX
    }

    /// Notes the source MAC address of a frame this side sent. It replaces
    /// an address noted by [`SideCounters::note_peer_mac`].
    pub fn note_mac(&mut self, mac: [u8; 6]) {
        if self.flags & PEER_MAC != 0 {
            self.flags &= !(HAS_MAC | PEER_MAC);
        }
        if self.flags & HAS_MAC != 0 && self.mac != mac {
            self.flags |= SEVERAL_MACS;
        }
        self.mac = mac;
        self.flags |= HAS_MAC;
    }

    /// Notes the destination MAC address of a frame the other side sent, as
    /// argus does for a side that sends nothing. It is kept only while this
    /// side has sent no frame in the interval.
    #[inline]
    pub fn note_peer_mac(&mut self, mac: [u8; 6]) {
        if self.flags & HAS_MAC == 0 {
            self.mac = mac;
            self.flags |= HAS_MAC | PEER_MAC;
        }
    }

    /// Notes the outermost VLAN tag of a frame this side sent.
    pub fn note_vlan(&mut self, tci: u16) {
        self.vlan_tci = tci;
        self.flags |= HAS_VLAN;
    }

    /// Notes the IP header of a packet this side sent.
    pub fn note_ip(&mut self, ip: &IpInfo) {
        self.ttl = ip.ttl;
        self.tos = ip.tos;
        self.ip_id = ip.ip_id;
        self.ip_options |= ip.options;
        if ip.fragment.is_some() {
            self.flags |= FRAGMENTS;
        }
    }

    /// Converts these counters to the record's form.
    pub fn to_stats(&self) -> DirectionStats {
        DirectionStats {
            pkts: u64::from(self.pkts),
            bytes: self.bytes,
            app_bytes: self.app_bytes,
            ttl: self.ttl,
            tos: self.tos,
            ip_id: self.ip_id,
            ip_options: self.ip_options,
            fragments: self.flags & FRAGMENTS != 0,
            mac: (self.flags & HAS_MAC != 0).then_some(self.mac),
            several_macs: self.flags & SEVERAL_MACS != 0,
            vlan_tci: (self.flags & HAS_VLAN != 0).then_some(self.vlan_tci),
            min_packet_bytes: u32::from(self.min_packet_bytes),
            max_packet_bytes: u32::from(self.max_packet_bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_presence_bits_to_options() {
        let mut side = SideCounters::default();
        assert_eq!(side.to_stats(), DirectionStats::default());
        side.add_packet(100, 40);
        side.add_packet(60, 0);
        side.note_mac([2, 0, 0, 0, 0, 1]);
        side.note_vlan(0x0064);
        let stats = side.to_stats();
        assert_eq!((stats.pkts, stats.bytes, stats.app_bytes), (2, 160, 40));
        assert_eq!((stats.min_packet_bytes, stats.max_packet_bytes), (60, 100));
        assert_eq!(stats.mac, Some([2, 0, 0, 0, 0, 1]));
        assert!(!stats.several_macs);
        assert_eq!(stats.vlan_tci, Some(0x0064));
        side.note_mac([2, 0, 0, 0, 0, 2]);
        assert!(side.to_stats().several_macs);
    }

    #[test]
    fn side_fits_forty_bytes() {
        assert_eq!(std::mem::size_of::<SideCounters>(), 40);
    }

    #[test]
    fn packet_sizes_saturate_at_u16() {
        let mut side = SideCounters::default();
        side.add_packet(70_000, 69_940);
        side.add_packet(64, 0);
        let stats = side.to_stats();
        assert_eq!((stats.min_packet_bytes, stats.max_packet_bytes), (64, 65_535));
        assert_eq!(stats.bytes, 70_064, "bytes keep the full size");
        assert_eq!(stats.app_bytes, 69_940);
    }

    #[test]
    fn full_at_u32_packets() {
        let mut side = SideCounters { pkts: u32::MAX - 1, ..SideCounters::default() };
        assert!(!side.is_full());
        side.add_packet(64, 0);
        assert!(side.is_full());
        assert_eq!(side.to_stats().pkts, u64::from(u32::MAX));
    }

    #[test]
    fn peer_mac_until_own_frame() {
        let mut side = SideCounters::default();
        side.note_peer_mac([1, 0, 0x5e, 0, 0, 0xfb]);
        assert_eq!(side.to_stats().mac, Some([1, 0, 0x5e, 0, 0, 0xfb]));

        side.note_mac([2, 0, 0, 0, 0, 1]);
        let stats = side.to_stats();
        assert_eq!(stats.mac, Some([2, 0, 0, 0, 0, 1]));
        assert!(!stats.several_macs, "the peer's view is no second address");

        side.note_peer_mac([2, 0, 0, 0, 0, 9]);
        assert_eq!(side.to_stats().mac, Some([2, 0, 0, 0, 0, 1]), "own frames win");
    }
}
