//! Walks the frames of one TPACKET_V3 block that the kernel has handed to
//! user space.
//!
//! The walker works on a plain byte slice, so it is tested on blocks built
//! in memory. It reads every header field at a checked offset and never
//! panics, whatever the bytes contain: a block that contradicts itself
//! yields a [`BlockError`] and the caller drops the rest of the block.
//!
//! A block may take several batches to hand over, so the position is kept in
//! a [`BlockCursor`] that outlives the borrow of the block's bytes.

use crate::sys::{block_desc, frame_header};

/// Length of an 802.1Q or 802.1ad tag.
const VLAN_TAG_LEN: usize = 4;
/// Bytes of the destination and source MAC addresses that precede the tag.
const MAC_ADDRESSES_LEN: usize = 12;
/// Tag protocol identifier assumed when the kernel does not report one.
const ETH_P_8021Q: u16 = 0x8100;

/// A block descriptor or frame header that contradicts the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BlockError {
    /// `blk_len` is smaller than the descriptor or larger than the block.
    #[error("block length of {blk_len} bytes is outside 48 to {block_size} bytes")]
    BlockLength {
        /// The `blk_len` field.
        blk_len: u32,
        /// The block size of the ring.
        block_size: usize,
    },
    /// The first frame lies before the end of the descriptor or past `blk_len`.
    #[error("first frame offset {offset} is outside the block's {blk_len} bytes")]
    FirstFrameOffset {
        /// The `offset_to_first_pkt` field.
        offset: u32,
        /// The `blk_len` field.
        blk_len: usize,
    },
    /// A frame header runs past the used part of the block.
    #[error("frame header at offset {offset} runs past the block's {blk_len} bytes")]
    FrameHeaderPastEnd {
        /// Offset of the frame from the start of the block.
        offset: usize,
        /// The `blk_len` field.
        blk_len: usize,
    },
    /// A frame's `tp_next_offset` does not lead to a following frame.
    #[error("frame at offset {offset} has next offset {next_offset}, but {frames_left} frames follow it")]
    NextOffset {
        /// Offset of the frame from the start of the block.
        offset: usize,
        /// The `tp_next_offset` field.
        next_offset: u32,
        /// Frames after this one according to `num_pkts`.
        frames_left: u32,
    },
    /// A frame's captured bytes run past the frame.
    #[error("frame at offset {offset} has {snaplen} captured bytes at offset {mac}, past its {frame_len} bytes")]
    FrameDataPastEnd {
        /// Offset of the frame from the start of the block.
        offset: usize,
        /// The `tp_mac` field.
        mac: u16,
        /// The `tp_snaplen` field.
        snaplen: u32,
        /// Bytes from this frame's header to the next frame or the block end.
        frame_len: usize,
    },
}

/// The position of the walk through one block, kept between batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockCursor {
    /// Index of the block in the ring.
    pub(crate) block_index: usize,
    /// Frames not yet handed over.
    frames_left: u32,
    /// Offset of the next frame header from the start of the block.
    pub(crate) next_frame_offset: usize,
    /// Bytes of the block in use (`blk_len`).
    blk_len: usize,
}

impl BlockCursor {
    /// Reads the descriptor of a block that the kernel handed over. On error,
    /// also returns the block's frame count so the caller can count them as
    /// dropped.
    pub(crate) fn open(block_index: usize, block: &[u8]) -> Result<BlockCursor, (BlockError, u32)> {
        let frames = read_u32(block, block_desc::NUM_PKTS).unwrap_or(0);
        let blk_len_field = read_u32(block, block_desc::BLK_LEN).unwrap_or(0);
        let first_offset = read_u32(block, block_desc::OFFSET_TO_FIRST_PKT).unwrap_or(0);

        let blk_len = blk_len_field as usize;
        if blk_len < block_desc::SIZE || blk_len > block.len() {
            return Err((
                BlockError::BlockLength {
                    blk_len: blk_len_field,
                    block_size: block.len(),
                },
                frames,
            ));
        }
        let next_frame_offset = first_offset as usize;
        if frames > 0 && (next_frame_offset < block_desc::SIZE || next_frame_offset >= blk_len) {
            return Err((
                BlockError::FirstFrameOffset {
                    offset: first_offset,
                    blk_len,
                },
                frames,
            ));
        }
        Ok(BlockCursor {
            block_index,
            frames_left: frames,
            next_frame_offset,
            blk_len,
        })
    }

    /// Returns true when every frame of the block has been handed over.
    pub(crate) fn is_finished(&self) -> bool {
        self.frames_left == 0
    }

    /// Frames of the block not yet handed over.
    pub(crate) fn frames_left(&self) -> u32 {
        self.frames_left
    }
}

/// One captured frame, borrowed from its block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    /// Capture time in nanoseconds since the Unix epoch.
    pub(crate) timestamp_ns: u64,
    /// Length of the packet on the wire, with any reinserted VLAN tag.
    pub(crate) wire_len_bytes: u32,
    /// The captured bytes from the link-layer header on.
    pub(crate) data: &'a [u8],
    /// True for a packet this host sent (`PACKET_OUTGOING`).
    pub(crate) outgoing: bool,
}

/// Reads frames from one block for one batch, advancing a [`BlockCursor`].
pub(crate) struct FrameReader<'a, 'c> {
    /// The unread part of the block, from `cursor.next_frame_offset` to
    /// `blk_len`. Each frame is split off the front, so the frames handed out
    /// are disjoint and may be modified before they are shared.
    rest: &'a mut [u8],
    cursor: &'c mut BlockCursor,
    restore_vlan_tags: bool,
}

impl<'a, 'c> FrameReader<'a, 'c> {
    /// Starts reading `block` where `cursor` stopped. With
    /// `restore_vlan_tags`, a VLAN tag that the kernel moved from an
    /// Ethernet frame into the frame header is put back into the frame.
    pub(crate) fn new(
        block: &'a mut [u8],
        cursor: &'c mut BlockCursor,
        restore_vlan_tags: bool,
    ) -> Self {
        let end = cursor.blk_len.min(block.len());
        let start = cursor.next_frame_offset.min(end);
        let rest = &mut block[start..end];
        FrameReader {
            rest,
            cursor,
            restore_vlan_tags,
        }
    }

    /// Returns the next frame, `None` when the block is finished, or the
    /// reason the block cannot be read further.
    pub(crate) fn next_frame(&mut self) -> Result<Option<Frame<'a>>, BlockError> {
        if self.cursor.frames_left == 0 {
            return Ok(None);
        }
        let offset = self.cursor.next_frame_offset;
        let blk_len = self.cursor.blk_len;
        let header = FrameHeader::read(self.rest)
            .ok_or(BlockError::FrameHeaderPastEnd { offset, blk_len })?;

        let frames_after = self.cursor.frames_left - 1;
        let frame_len = match (header.next_offset, frames_after) {
            (0, 0) => self.rest.len(),
            (0, _) => {
                return Err(BlockError::NextOffset {
                    offset,
                    next_offset: 0,
                    frames_left: frames_after,
                });
            }
            (next, _)
                if (next as usize) < frame_header::SIZE || next as usize > self.rest.len() =>
            {
                return Err(BlockError::NextOffset {
                    offset,
                    next_offset: next,
                    frames_left: frames_after,
                });
            }
            (next, _) => next as usize,
        };
        let data_start = usize::from(header.mac);
        let data_end = data_start.saturating_add(header.snaplen as usize);
        if data_start < frame_header::SIZE || data_end > frame_len {
            return Err(BlockError::FrameDataPastEnd {
                offset,
                mac: header.mac,
                snaplen: header.snaplen,
                frame_len,
            });
        }

        let rest = std::mem::take(&mut self.rest);
        let (frame, tail) = rest.split_at_mut(frame_len);
        self.rest = tail;
        self.cursor.next_frame_offset = offset + frame_len;
        self.cursor.frames_left = frames_after;

        let timestamp_ns = u64::from(header.sec) * 1_000_000_000 + u64::from(header.nsec);
        let vlan_tag = header.vlan_tag().filter(|_| self.restore_vlan_tags);
        let (data, wire_len_bytes) = match vlan_tag {
            Some(tag)
                if data_start >= frame_header::SIZE + VLAN_TAG_LEN
                    && header.snaplen as usize >= MAC_ADDRESSES_LEN =>
            {
                let data = reinsert_vlan_tag(frame, data_start, data_end, tag);
                (data, header.len.saturating_add(VLAN_TAG_LEN as u32))
            }
            // Frames without a removed tag, and snapshots shorter than the
            // MAC addresses, are handed over as captured. The headroom check
            // never fails on a block the kernel wrote, because tpacket_rcv
            // (net/packet/af_packet.c) puts the link header at least
            // TPACKET3_HDRLEN (68) bytes into the frame.
            _ => (&frame[data_start..data_end], header.len),
        };
        Ok(Some(Frame {
            timestamp_ns,
            wire_len_bytes,
            data,
            outgoing: header.packet_type == libc::PACKET_OUTGOING,
        }))
    }
}

/// The fields of one `tpacket3_hdr` that the walker uses.
struct FrameHeader {
    next_offset: u32,
    sec: u32,
    nsec: u32,
    snaplen: u32,
    len: u32,
    status: u32,
    mac: u16,
    vlan_tci: u32,
    vlan_tpid: u16,
    packet_type: u8,
}

impl FrameHeader {
    /// Reads the header at the start of `frame`, or `None` if it is too short.
    fn read(frame: &[u8]) -> Option<FrameHeader> {
        if frame.len() < frame_header::SIZE {
            return None;
        }
        Some(FrameHeader {
            next_offset: read_u32(frame, frame_header::NEXT_OFFSET)?,
            sec: read_u32(frame, frame_header::SEC)?,
            nsec: read_u32(frame, frame_header::NSEC)?,
            snaplen: read_u32(frame, frame_header::SNAPLEN)?,
            len: read_u32(frame, frame_header::LEN)?,
            status: read_u32(frame, frame_header::STATUS)?,
            mac: read_u16(frame, frame_header::MAC)?,
            vlan_tci: read_u32(frame, frame_header::VLAN_TCI)?,
            vlan_tpid: read_u16(frame, frame_header::VLAN_TPID)?,
            // A frame too short to hold the address is treated as incoming.
            packet_type: frame.get(frame_header::SLL_PKTTYPE).copied().unwrap_or(0),
        })
    }

    /// Returns the tag protocol identifier and tag control information the
    /// kernel removed from the frame, if it removed one.
    fn vlan_tag(&self) -> Option<(u16, u16)> {
        if self.status & libc::TP_STATUS_VLAN_VALID == 0 {
            return None;
        }
        let tpid = if self.status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
            self.vlan_tpid
        } else {
            ETH_P_8021Q
        };
        // The TCI is 16 bits wide; the field is a u32 for layout reasons.
        Some((tpid, self.vlan_tci as u16))
    }
}

/// Moves the MAC addresses of the Ethernet frame at `frame[start..end]` four
/// bytes forward into the frame's headroom and writes the tag between them
/// and the EtherType, restoring the frame as it was on the wire. Returns the
/// restored frame, four bytes longer.
fn reinsert_vlan_tag(frame: &mut [u8], start: usize, end: usize, (tpid, tci): (u16, u16)) -> &[u8] {
    let new_start = start - VLAN_TAG_LEN;
    frame.copy_within(start..start + MAC_ADDRESSES_LEN, new_start);
    let tag_start = new_start + MAC_ADDRESSES_LEN;
    frame[tag_start..tag_start + 2].copy_from_slice(&tpid.to_be_bytes());
    frame[tag_start + 2..tag_start + 4].copy_from_slice(&tci.to_be_bytes());
    &frame[new_start..end]
}

/// Reads a native-endian u32 at `offset`, as the kernel wrote it.
fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let field = bytes.get(offset..offset + 4)?;
    Some(u32::from_ne_bytes(field.try_into().ok()?))
}

/// Reads a native-endian u16 at `offset`, as the kernel wrote it.
fn read_u16(bytes: &[u8], offset: usize) -> Option<u16> {
    let field = bytes.get(offset..offset + 2)?;
    Some(u16::from_ne_bytes(field.try_into().ok()?))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Offset of the link header in frames the builder writes, as the kernel
    /// places an Ethernet header (TPACKET_ALIGN(68 + 16) - 14 = 82).
    const MAC_OFFSET: usize = 82;

    /// One frame for [`build_block`].
    pub(crate) struct TestFrame {
        pub(crate) sec: u32,
        pub(crate) nsec: u32,
        pub(crate) wire_len: u32,
        pub(crate) data: Vec<u8>,
        /// `(tpid, tci)` as the kernel reports a removed VLAN tag; a tpid of
        /// 0 leaves TP_STATUS_VLAN_TPID_VALID clear.
        pub(crate) vlan: Option<(u16, u16)>,
    }

    impl TestFrame {
        pub(crate) fn new(sec: u32, nsec: u32, data: &[u8]) -> TestFrame {
            TestFrame {
                sec,
                nsec,
                wire_len: data.len() as u32,
                data: data.to_vec(),
                vlan: None,
            }
        }
    }

    fn write_u32(bytes: &mut [u8], offset: usize, value: u32) {
        bytes[offset..offset + 4].copy_from_slice(&value.to_ne_bytes());
    }

    fn write_u16(bytes: &mut [u8], offset: usize, value: u16) {
        bytes[offset..offset + 2].copy_from_slice(&value.to_ne_bytes());
    }

    /// Builds a block of `block_size` bytes holding `frames` the way the
    /// kernel lays them out: a 48-byte descriptor, then each frame header
    /// 16-byte aligned, the last with a next offset of 0.
    pub(crate) fn build_block(block_size: usize, frames: &[TestFrame]) -> Vec<u8> {
        let mut block = vec![0u8; block_size];
        let mut offset = block_desc::SIZE;
        let mut previous: Option<usize> = None;
        for frame in frames {
            if let Some(previous) = previous {
                write_u32(
                    &mut block,
                    previous + frame_header::NEXT_OFFSET,
                    (offset - previous) as u32,
                );
            }
            let mut status = libc::TP_STATUS_USER;
            if let Some((tpid, tci)) = frame.vlan {
                status |= libc::TP_STATUS_VLAN_VALID;
                if tpid != 0 {
                    status |= libc::TP_STATUS_VLAN_TPID_VALID;
                }
                write_u32(&mut block, offset + frame_header::VLAN_TCI, u32::from(tci));
                write_u16(&mut block, offset + frame_header::VLAN_TPID, tpid);
            }
            write_u32(&mut block, offset + frame_header::SEC, frame.sec);
            write_u32(&mut block, offset + frame_header::NSEC, frame.nsec);
            write_u32(
                &mut block,
                offset + frame_header::SNAPLEN,
                frame.data.len() as u32,
            );
            write_u32(&mut block, offset + frame_header::LEN, frame.wire_len);
            write_u32(&mut block, offset + frame_header::STATUS, status);
            write_u16(&mut block, offset + frame_header::MAC, MAC_OFFSET as u16);
            block[offset + MAC_OFFSET..offset + MAC_OFFSET + frame.data.len()]
                .copy_from_slice(&frame.data);
            previous = Some(offset);
            offset = (offset + MAC_OFFSET + frame.data.len()).next_multiple_of(16);
        }
        write_u32(&mut block, block_desc::BLOCK_STATUS, libc::TP_STATUS_USER);
        write_u32(&mut block, block_desc::NUM_PKTS, frames.len() as u32);
        write_u32(
            &mut block,
            block_desc::OFFSET_TO_FIRST_PKT,
            block_desc::SIZE as u32,
        );
        write_u32(&mut block, block_desc::BLK_LEN, offset as u32);
        block
    }

    /// Reads every frame of `block` in batches of at most `batch` frames,
    /// returning owned copies and the number of batches.
    fn read_all(
        block: &mut [u8],
        batch: usize,
        restore_vlan_tags: bool,
    ) -> (Vec<(u64, u32, Vec<u8>)>, usize) {
        let mut cursor = BlockCursor::open(0, block).expect("valid block");
        let mut frames = Vec::new();
        let mut batches = 0;
        while !cursor.is_finished() {
            batches += 1;
            let mut reader = FrameReader::new(block, &mut cursor, restore_vlan_tags);
            for _ in 0..batch {
                match reader.next_frame().expect("valid frame") {
                    Some(frame) => frames.push((
                        frame.timestamp_ns,
                        frame.wire_len_bytes,
                        frame.data.to_vec(),
                    )),
                    None => break,
                }
            }
        }
        (frames, batches)
    }

    fn ethernet_frame(fill: u8, len: usize) -> Vec<u8> {
        let mut frame = vec![fill; len];
        frame[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
        frame[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02]);
        frame[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        frame
    }

    #[test]
    fn walker_reads_every_frame() {
        let frames = [
            TestFrame::new(1_700_000_000, 5, &ethernet_frame(0xa1, 60)),
            TestFrame::new(1_700_000_001, 999_999_999, &ethernet_frame(0xb2, 1514)),
            TestFrame::new(1_700_000_002, 0, &ethernet_frame(0xc3, 61)),
        ];
        let mut block = build_block(8192, &frames);

        let (read, batches) = read_all(&mut block, 64, true);

        assert_eq!(batches, 1);
        assert_eq!(read.len(), 3);
        for (got, want) in read.iter().zip(&frames) {
            assert_eq!(
                got.0,
                u64::from(want.sec) * 1_000_000_000 + u64::from(want.nsec)
            );
            assert_eq!(got.1, want.wire_len);
            assert_eq!(got.2, want.data);
        }
    }

    #[test]
    fn walker_resumes_across_batches() {
        let frames: Vec<TestFrame> = (0..7)
            .map(|i| TestFrame::new(10, i, &ethernet_frame(i as u8, 64 + i as usize)))
            .collect();
        let mut block = build_block(8192, &frames);

        let (read, batches) = read_all(&mut block, 3, true);

        assert_eq!(batches, 3);
        let nanos: Vec<u64> = read.iter().map(|frame| frame.0 - 10_000_000_000).collect();
        assert_eq!(nanos, vec![0, 1, 2, 3, 4, 5, 6]);
        for (got, want) in read.iter().zip(&frames) {
            assert_eq!(got.2, want.data);
        }
    }

    #[test]
    fn walker_reports_truncated_frame_lengths() {
        let mut frame = TestFrame::new(1, 0, &ethernet_frame(0x55, 96));
        frame.wire_len = 1514;
        let mut block = build_block(4096, &[frame]);

        let (read, _) = read_all(&mut block, 64, true);

        assert_eq!(read[0].1, 1514);
        assert_eq!(read[0].2.len(), 96);
    }

    #[test]
    fn walker_reinserts_8021q_tag() {
        let untagged = ethernet_frame(0x77, 100);
        let mut frame = TestFrame::new(1, 0, &untagged);
        frame.vlan = Some((0x8100, 0x2064));
        let mut block = build_block(4096, &[frame]);

        let (read, _) = read_all(&mut block, 64, true);

        let mut expected = untagged[..12].to_vec();
        expected.extend_from_slice(&[0x81, 0x00, 0x20, 0x64]);
        expected.extend_from_slice(&untagged[12..]);
        assert_eq!(read[0].2, expected);
        assert_eq!(read[0].1, 104);
    }

    #[test]
    fn walker_reinserts_8021ad_tag() {
        let untagged = ethernet_frame(0x77, 64);
        let mut frame = TestFrame::new(1, 0, &untagged);
        frame.vlan = Some((0x88a8, 0x0005));
        let mut block = build_block(4096, &[frame]);

        let (read, _) = read_all(&mut block, 64, true);

        assert_eq!(&read[0].2[12..16], &[0x88, 0xa8, 0x00, 0x05]);
        assert_eq!(&read[0].2[16..18], &[0x08, 0x00]);
    }

    #[test]
    fn walker_assumes_8021q_without_tpid() {
        let mut frame = TestFrame::new(1, 0, &ethernet_frame(0x77, 64));
        frame.vlan = Some((0, 0x0000));
        let mut block = build_block(4096, &[frame]);

        let (read, _) = read_all(&mut block, 64, true);

        assert_eq!(&read[0].2[12..16], &[0x81, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn walker_leaves_tag_out_when_told() {
        let untagged = ethernet_frame(0x77, 64);
        let mut frame = TestFrame::new(1, 0, &untagged);
        frame.vlan = Some((0x8100, 7));
        let mut block = build_block(4096, &[frame]);

        let (read, _) = read_all(&mut block, 64, false);

        assert_eq!(read[0].2, untagged);
        assert_eq!(read[0].1, 64);
    }

    #[test]
    fn walker_finishes_empty_block() {
        let block = build_block(4096, &[]);
        let cursor = BlockCursor::open(3, &block).expect("valid block");
        assert!(cursor.is_finished());
        assert_eq!(cursor.block_index, 3);
    }

    #[test]
    fn block_length_past_block_is_rejected() {
        let mut block = build_block(4096, &[TestFrame::new(1, 0, &ethernet_frame(1, 60))]);
        write_u32(&mut block, block_desc::BLK_LEN, 4097);
        assert_eq!(
            BlockCursor::open(0, &block),
            Err((
                BlockError::BlockLength {
                    blk_len: 4097,
                    block_size: 4096
                },
                1
            ))
        );
    }

    #[test]
    fn first_frame_inside_descriptor_is_rejected() {
        let mut block = build_block(4096, &[TestFrame::new(1, 0, &ethernet_frame(1, 60))]);
        write_u32(&mut block, block_desc::OFFSET_TO_FIRST_PKT, 16);
        let blk_len = read_u32(&block, block_desc::BLK_LEN).unwrap() as usize;
        assert_eq!(
            BlockCursor::open(0, &block),
            Err((
                BlockError::FirstFrameOffset {
                    offset: 16,
                    blk_len
                },
                1
            ))
        );
    }

    #[test]
    fn zero_next_offset_before_last_frame_is_rejected() {
        let frames = [
            TestFrame::new(1, 0, &ethernet_frame(1, 60)),
            TestFrame::new(1, 1, &ethernet_frame(2, 60)),
        ];
        let mut block = build_block(4096, &frames);
        write_u32(&mut block, block_desc::SIZE + frame_header::NEXT_OFFSET, 0);
        let mut cursor = BlockCursor::open(0, &block).unwrap();
        let mut reader = FrameReader::new(&mut block, &mut cursor, true);

        assert_eq!(
            reader.next_frame(),
            Err(BlockError::NextOffset {
                offset: 48,
                next_offset: 0,
                frames_left: 1
            })
        );
    }

    #[test]
    fn next_offset_past_block_is_rejected() {
        let frames = [
            TestFrame::new(1, 0, &ethernet_frame(1, 60)),
            TestFrame::new(1, 1, &ethernet_frame(2, 60)),
        ];
        let mut block = build_block(4096, &frames);
        write_u32(
            &mut block,
            block_desc::SIZE + frame_header::NEXT_OFFSET,
            4000,
        );
        let mut cursor = BlockCursor::open(0, &block).unwrap();
        let mut reader = FrameReader::new(&mut block, &mut cursor, true);

        assert!(matches!(
            reader.next_frame(),
            Err(BlockError::NextOffset {
                next_offset: 4000,
                ..
            })
        ));
    }

    #[test]
    fn captured_bytes_past_frame_are_rejected() {
        let frames = [
            TestFrame::new(1, 0, &ethernet_frame(1, 60)),
            TestFrame::new(1, 1, &ethernet_frame(2, 60)),
        ];
        let mut block = build_block(4096, &frames);
        write_u32(&mut block, block_desc::SIZE + frame_header::SNAPLEN, 2000);
        let mut cursor = BlockCursor::open(0, &block).unwrap();
        let mut reader = FrameReader::new(&mut block, &mut cursor, true);

        assert_eq!(
            reader.next_frame(),
            Err(BlockError::FrameDataPastEnd {
                offset: 48,
                mac: 82,
                snaplen: 2000,
                frame_len: 144
            })
        );
    }

    #[test]
    fn more_frames_than_bytes_are_rejected() {
        let mut block = build_block(4096, &[TestFrame::new(1, 0, &ethernet_frame(1, 60))]);
        write_u32(&mut block, block_desc::NUM_PKTS, 2);
        let mut cursor = BlockCursor::open(0, &block).unwrap();
        let mut reader = FrameReader::new(&mut block, &mut cursor, true);

        assert!(matches!(
            reader.next_frame(),
            Err(BlockError::NextOffset {
                next_offset: 0,
                frames_left: 1,
                ..
            })
        ));
    }

    #[test]
    fn walker_survives_every_corrupted_byte() {
        // Flip each header byte of a two-frame block in turn: the walker must
        // return frames or an error, never panic or read past the block.
        let frames = [
            TestFrame::new(1, 0, &ethernet_frame(1, 60)),
            TestFrame::new(1, 1, &ethernet_frame(2, 60)),
        ];
        let pristine = build_block(4096, &frames);
        let blk_len = read_u32(&pristine, block_desc::BLK_LEN).unwrap() as usize;
        for position in 0..blk_len {
            for value in [0x00, 0xff, 0x80] {
                let mut block = pristine.clone();
                block[position] = value;
                let Ok(mut cursor) = BlockCursor::open(0, &block) else {
                    continue;
                };
                let mut reader = FrameReader::new(&mut block, &mut cursor, true);
                for _ in 0..4 {
                    match reader.next_frame() {
                        Ok(Some(frame)) => assert!(frame.data.len() <= 4096),
                        Ok(None) | Err(_) => break,
                    }
                }
            }
        }
    }
}
