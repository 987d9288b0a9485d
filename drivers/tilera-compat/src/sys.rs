//! Kernel definitions that the `libc` crate (0.2.191) does not provide.
//!
//! libc has the TPACKET_V3 structs, but the block walker reads the ring as
//! bytes rather than casting pointers to those structs, so it needs their
//! field offsets. The offsets below follow `struct tpacket_block_desc`,
//! `struct tpacket_hdr_v1` and `struct tpacket3_hdr` in
//! `include/uapi/linux/if_packet.h`, and a unit test checks each one
//! against libc's definition of the same struct.

/// `ARPHRD_RAWIP` from `include/uapi/linux/if_arp.h`: a device whose frames
/// start with the IPv4 or IPv6 header, such as a cellular modem.
pub(crate) const ARPHRD_RAWIP: u16 = 519;

/// Field offsets of `struct tpacket_block_desc`, the header at the start of
/// every ring block. The `tpacket_hdr_v1` member starts at byte 8.
pub(crate) mod block_desc {
    /// `hdr.bh1.block_status`: `TP_STATUS_KERNEL` or `TP_STATUS_USER` plus flags.
    pub(crate) const BLOCK_STATUS: usize = 8;
    /// `hdr.bh1.num_pkts`: frames in the block.
    pub(crate) const NUM_PKTS: usize = 12;
    /// `hdr.bh1.offset_to_first_pkt`, counted from the start of the block.
    pub(crate) const OFFSET_TO_FIRST_PKT: usize = 16;
    /// `hdr.bh1.blk_len`: bytes in use, counted from the start of the block.
    pub(crate) const BLK_LEN: usize = 20;
    /// `sizeof(struct tpacket_block_desc)`.
    pub(crate) const SIZE: usize = 48;
}

/// Field offsets of `struct tpacket3_hdr`, the header in front of every
/// captured frame.
pub(crate) mod frame_header {
    /// `tp_next_offset`: bytes from this header to the next one, 0 for the
    /// last frame of a block.
    pub(crate) const NEXT_OFFSET: usize = 0;
    /// `tp_sec`: capture time, whole seconds since the Unix epoch.
    pub(crate) const SEC: usize = 4;
    /// `tp_nsec`: capture time, nanoseconds within the second.
    pub(crate) const NSEC: usize = 8;
    /// `tp_snaplen`: bytes captured.
    pub(crate) const SNAPLEN: usize = 12;
    /// `tp_len`: length of the packet on the wire.
    pub(crate) const LEN: usize = 16;
    /// `tp_status`: `TP_STATUS_*` flags of this frame.
    pub(crate) const STATUS: usize = 20;
    /// `tp_mac` (u16): bytes from this header to the link-layer header.
    pub(crate) const MAC: usize = 24;
    /// `hv1.tp_vlan_tci` (u32): the VLAN tag control information the kernel
    /// removed from the frame, valid with `TP_STATUS_VLAN_VALID`.
    pub(crate) const VLAN_TCI: usize = 32;
    /// `hv1.tp_vlan_tpid` (u16): the removed tag's protocol identifier,
    /// valid with `TP_STATUS_VLAN_TPID_VALID`.
    pub(crate) const VLAN_TPID: usize = 36;
    /// `sizeof(struct tpacket3_hdr)`.
    pub(crate) const SIZE: usize = 48;
    /// `sll_pkttype` (u8) of the `struct sockaddr_ll` the kernel writes right
    /// after the header, at `TPACKET_ALIGN(sizeof(struct tpacket3_hdr))` (48):
    /// `PACKET_HOST`, `PACKET_OUTGOING`, ... (`linux/if_packet.h`).
    pub(crate) const SLL_PKTTYPE: usize = 48 + 10;
}

/// Packs the `PACKET_FANOUT` option value as packet(7) describes it: the
/// group id in the low 16 bits, the mode and its flags in the high 16 bits.
pub(crate) fn fanout_option(group_id: u16, mode_and_flags: u32) -> u32 {
    u32::from(group_id) | (mode_and_flags << 16)
}

#[cfg(test)]
mod tests {
    use std::ptr::addr_of;

    use super::{block_desc, fanout_option, frame_header};

    /// Returns the byte distance from `base` to `field`.
    fn offset<B, F>(base: *const B, field: *const F) -> usize {
        field as usize - base as usize
    }

    #[test]
    fn block_desc_offsets_match_libc() {
        let desc = libc::tpacket_block_desc {
            version: 0,
            offset_to_priv: 0,
            hdr: libc::tpacket_bd_header_u {
                bh1: libc::tpacket_hdr_v1 {
                    block_status: 0,
                    num_pkts: 0,
                    offset_to_first_pkt: 0,
                    blk_len: 0,
                    seq_num: 0,
                    ts_first_pkt: libc::tpacket_bd_ts {
                        ts_sec: 0,
                        ts_usec: 0,
                    },
                    ts_last_pkt: libc::tpacket_bd_ts {
                        ts_sec: 0,
                        ts_usec: 0,
                    },
                },
            },
        };
        let base = addr_of!(desc);
        // Reading a union field needs unsafe, but taking its address does not.
        let bh1 = addr_of!(desc.hdr).cast::<libc::tpacket_hdr_v1>();
        let bh1_offset = offset(base, bh1);
        let field = |field_offset: usize| bh1_offset + field_offset;

        assert_eq!(field(0), block_desc::BLOCK_STATUS);
        assert_eq!(field(4), block_desc::NUM_PKTS);
        assert_eq!(field(8), block_desc::OFFSET_TO_FIRST_PKT);
        assert_eq!(field(12), block_desc::BLK_LEN);
        assert_eq!(
            std::mem::size_of::<libc::tpacket_block_desc>(),
            block_desc::SIZE
        );
    }

    #[test]
    fn tpacket_hdr_v1_field_order() {
        let header = libc::tpacket_hdr_v1 {
            block_status: 0,
            num_pkts: 0,
            offset_to_first_pkt: 0,
            blk_len: 0,
            seq_num: 0,
            ts_first_pkt: libc::tpacket_bd_ts {
                ts_sec: 0,
                ts_usec: 0,
            },
            ts_last_pkt: libc::tpacket_bd_ts {
                ts_sec: 0,
                ts_usec: 0,
            },
        };
        let base = addr_of!(header);
        assert_eq!(offset(base, addr_of!(header.block_status)), 0);
        assert_eq!(offset(base, addr_of!(header.num_pkts)), 4);
        assert_eq!(offset(base, addr_of!(header.offset_to_first_pkt)), 8);
        assert_eq!(offset(base, addr_of!(header.blk_len)), 12);
    }

    #[test]
    fn frame_header_offsets_match_libc() {
        let header = libc::tpacket3_hdr {
            tp_next_offset: 0,
            tp_sec: 0,
            tp_nsec: 0,
            tp_snaplen: 0,
            tp_len: 0,
            tp_status: 0,
            tp_mac: 0,
            tp_net: 0,
            hv1: libc::tpacket_hdr_variant1 {
                tp_rxhash: 0,
                tp_vlan_tci: 0,
                tp_vlan_tpid: 0,
                tp_padding: 0,
            },
            tp_padding: [0; 8],
        };
        let base = addr_of!(header);

        assert_eq!(
            offset(base, addr_of!(header.tp_next_offset)),
            frame_header::NEXT_OFFSET
        );
        assert_eq!(offset(base, addr_of!(header.tp_sec)), frame_header::SEC);
        assert_eq!(offset(base, addr_of!(header.tp_nsec)), frame_header::NSEC);
        assert_eq!(
            offset(base, addr_of!(header.tp_snaplen)),
            frame_header::SNAPLEN
        );
        assert_eq!(offset(base, addr_of!(header.tp_len)), frame_header::LEN);
        assert_eq!(
            offset(base, addr_of!(header.tp_status)),
            frame_header::STATUS
        );
        assert_eq!(offset(base, addr_of!(header.tp_mac)), frame_header::MAC);
        assert_eq!(
            offset(base, addr_of!(header.hv1.tp_vlan_tci)),
            frame_header::VLAN_TCI
        );
        assert_eq!(
            offset(base, addr_of!(header.hv1.tp_vlan_tpid)),
            frame_header::VLAN_TPID
        );
        assert_eq!(
            std::mem::size_of::<libc::tpacket3_hdr>(),
            frame_header::SIZE
        );
    }

    #[test]
    fn fanout_option_packs_id_low_and_mode_high() {
        let mode = libc::PACKET_FANOUT_HASH | libc::PACKET_FANOUT_FLAG_DEFRAG;
        assert_eq!(fanout_option(0x1234, mode), 0x8000_1234);
        assert_eq!(fanout_option(7, libc::PACKET_FANOUT_LB), 0x0001_0007);
    }
}
