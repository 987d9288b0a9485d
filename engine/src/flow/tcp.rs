//! TCP connection tracking for one flow: handshake, close, resets,
//! retransmissions and windows per direction.

use crate::decode::{tcp_flag, TcpInfo};
use crate::flow::record::{tcp_status, TcpDirection, TcpSummary};

/// ECN codepoint "congestion experienced" in the low two bits of the TOS.
const ECN_CONGESTION_EXPERIENCED: u8 = 0b11;

/// Which side of the flow sent a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The flow's source (the initiator).
    Source,
    /// The flow's destination.
    Destination,
}

/// TCP state of one flow, updated segment by segment.
///
/// The tracker packs both directions side by side, indexed by [`Side`],
/// and keeps its presence bits in the top bits of the status word. That
/// fits it in 96 bytes, and aligned to 32 bytes it spans two cache lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(align(32))]
pub struct TcpTracker {
    /// Sequence state of each side.
    seq: [SequenceState; 2],
    /// Time of each side's last segment, in nanoseconds since the epoch.
    last_ns: [u64; 2],
    /// Time of the source's first SYN until the SYN-ACK arrives, then the
    /// time of the first SYN-ACK: the start of the handshake interval that
    /// is still open.
    handshake_ns: u64,
    /// Handshake intervals in microseconds, Argus's unit, saturated.
    syn_to_syn_ack_us: u32,
    syn_ack_to_ack_us: u32,
    /// [`tcp_status`] bits in the low bits, [`mark`] bits above them.
    status: u32,
    /// Sequence number after each side's FIN.
    fin_seq: [u32; 2],
    /// TCP options each side sent, as [`crate::decode::tcp_option`] bits.
    options: [u16; 2],
    /// Last window each side advertised, unscaled.
    window: [u16; 2],
    /// OR of the TCP flags each side sent.
    flags: [u8; 2],
    /// Window scale shift each side announced, as sent, when its
    /// [`mark::SRC_WINDOW_SCALE`] or [`mark::DST_WINDOW_SCALE`] bit is set.
    window_scale: [u8; 2],
}

/// Sequence numbers and counters of one side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SequenceState {
    /// Initial sequence number (from the SYN, else the first segment).
    base_seq: u32,
    /// Next sequence number expected from this side.
    next_seq: u32,
    /// Last acknowledgment number this side sent.
    last_ack: u32,
    /// Segments sent again in this interval.
    retransmitted_pkts: u32,
    /// Segments sent beyond a gap in this interval.
    out_of_order_pkts: u32,
}

/// Bits of the status word above those that [`tcp_status`] uses.
mod mark {
    pub const SRC_WINDOW_SCALE: u32 = 1 << 22;
    pub const DST_WINDOW_SCALE: u32 = 1 << 23;
    pub const SYN_TIME: u32 = 1 << 24;
    pub const SYN_ACK_TIME: u32 = 1 << 25;
    pub const SYN_TO_SYN_ACK: u32 = 1 << 26;
    pub const SYN_ACK_TO_ACK: u32 = 1 << 27;
    pub const SRC_FIN_PENDING: u32 = 1 << 28;
    pub const DST_FIN_PENDING: u32 = 1 << 29;
    pub const SRC_SEEN: u32 = 1 << 30;
    pub const DST_SEEN: u32 = 1 << 31;
    /// Every mark bit.
    pub const ALL: u32 = 0xffc0_0000;
}

// The highest status bit must stay below the marks.
const _: () = assert!(tcp_status::DST_OUT_OF_ORDER < mark::SRC_WINDOW_SCALE);

/// Returns true when sequence number `a` is after `b`, modulo 2^32 (RFC 1982
/// serial number arithmetic, as TCP uses it).
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// Returns a duration in whole microseconds, saturated to 32 bits.
fn whole_microseconds(duration_ns: u64) -> u32 {
    u32::try_from(duration_ns / 1_000).unwrap_or(u32::MAX)
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::Source => 0,
            Side::Destination => 1,
        }
    }

    fn window_scale_mark(self) -> u32 {
        match self {
            Side::Source => mark::SRC_WINDOW_SCALE,
            Side::Destination => mark::DST_WINDOW_SCALE,
        }
    }
}

impl TcpTracker {
    /// Returns the state to put in a record. The handshake intervals keep
    /// microsecond precision, which is what Argus records carry.
    pub fn summary(&self) -> TcpSummary {
        TcpSummary {
            status: self.status & !mark::ALL,
            syn_to_syn_ack_ns: self
                .has(mark::SYN_TO_SYN_ACK)
                .then_some(u64::from(self.syn_to_syn_ack_us) * 1_000),
            syn_ack_to_ack_ns: self
                .has(mark::SYN_ACK_TO_ACK)
                .then_some(u64::from(self.syn_ack_to_ack_us) * 1_000),
            src: self.direction(Side::Source),
            dst: self.direction(Side::Destination),
        }
    }

    fn direction(&self, side: Side) -> TcpDirection {
        let index = side.index();
        let seq = &self.seq[index];
        TcpDirection {
            flags: self.flags[index],
            options: self.options[index],
            base_seq: seq.base_seq,
            next_seq: seq.next_seq,
            last_ack: seq.last_ack,
            window: self.window[index],
            window_scale: self.has(side.window_scale_mark()).then_some(self.window_scale[index]),
            retransmitted_pkts: seq.retransmitted_pkts,
            out_of_order_pkts: seq.out_of_order_pkts,
            last_ns: self.last_ns[index],
        }
    }

    fn has(&self, bit: u32) -> bool {
        self.status & bit != 0
    }

    /// True once the connection has closed: both FINs acknowledged, or a
    /// reset from either side.
    pub fn is_closed(&self) -> bool {
        self.status & (tcp_status::NORMAL_CLOSE | tcp_status::SRC_RESET | tcp_status::DST_RESET)
            != 0
    }

    /// True when the source's SYN opened this flow.
    pub fn saw_syn(&self) -> bool {
        self.status & tcp_status::SAW_SYN != 0
    }

    /// Clears the per-interval counters after a status report, keeping the
    /// connection state.
    pub fn start_interval(&mut self) {
        for seq in &mut self.seq {
            seq.retransmitted_pkts = 0;
            seq.out_of_order_pkts = 0;
        }
    }

    /// Updates the state with one segment sent by `side` at `time_ns`.
    pub fn update(&mut self, side: Side, tcp: &TcpInfo, tos: u8, payload_bytes: u32, time_ns: u64) {
        let flags = tcp.flags;
        let is_syn = flags & tcp_flag::SYN != 0;
        let is_ack = flags & tcp_flag::ACK != 0;
        let index = side.index();
        let seen_bit = match side {
            Side::Source => mark::SRC_SEEN,
            Side::Destination => mark::DST_SEEN,
        };
        let first_segment = self.status & seen_bit == 0;
        let first_of_flow = self.status & (mark::SRC_SEEN | mark::DST_SEEN) == 0;
        self.status |= seen_bit;
        self.flags[index] |= flags;
        self.options[index] |= tcp.options;
        self.window[index] = tcp.window;
        self.last_ns[index] = time_ns;
        if let Some(shift) = tcp.window_scale {
            self.window_scale[index] = shift;
            self.status |= side.window_scale_mark();
        }
        let seq = &mut self.seq[index];
        if is_ack {
            seq.last_ack = tcp.ack;
        }

        // Sequence space: a SYN or FIN occupies one sequence number.
        let seq_len = payload_bytes
            .wrapping_add(u32::from(is_syn))
            .wrapping_add(u32::from(flags & tcp_flag::FIN != 0));
        let end_seq = tcp.seq.wrapping_add(seq_len);
        if first_segment || is_syn {
            seq.base_seq = tcp.seq;
            seq.next_seq = end_seq;
        } else if seq_len > 0 {
            if seq_after(end_seq, seq.next_seq) {
                if seq_after(tcp.seq, seq.next_seq) {
                    seq.out_of_order_pkts += 1;
                    self.status |= match side {
                        Side::Source => tcp_status::SRC_OUT_OF_ORDER,
                        Side::Destination => tcp_status::DST_OUT_OF_ORDER,
                    };
                }
                seq.next_seq = end_seq;
            } else {
                seq.retransmitted_pkts += 1;
                self.status |= match side {
                    Side::Source => tcp_status::SRC_RETRANSMITTED,
                    Side::Destination => tcp_status::DST_RETRANSMITTED,
                };
            }
        }

        if tcp.window == 0 && flags & tcp_flag::RST == 0 && !is_syn {
            self.status |= match side {
                Side::Source => tcp_status::SRC_WINDOW_SHUT,
                Side::Destination => tcp_status::DST_WINDOW_SHUT,
            };
        }
        if tos & ECN_CONGESTION_EXPERIENCED == ECN_CONGESTION_EXPERIENCED {
            self.status |= match side {
                Side::Source => tcp_status::SRC_CONGESTED,
                Side::Destination => tcp_status::DST_CONGESTED,
            };
        }

        self.update_connection_state(side, tcp, end_seq, time_ns, first_of_flow);
    }

    fn update_connection_state(&mut self, side: Side, tcp: &TcpInfo, end_seq: u32, time_ns: u64, first_of_flow: bool) {
        let flags = tcp.flags;
        let is_syn = flags & tcp_flag::SYN != 0;
        let is_ack = flags & tcp_flag::ACK != 0;

        if first_of_flow && flags & (tcp_flag::SYN | tcp_flag::RST | tcp_flag::FIN) == 0 {
            // A connection picked up mid-stream: a segment without SYN, RST
            // or FIN belongs to an open connection. argus 3.0.8 marks such
            // a flow established from its first packet, and so do we.
            self.status |= tcp_status::ESTABLISHED;
        }

        if flags & tcp_flag::RST != 0 {
            self.status |= match side {
                Side::Source => tcp_status::SRC_RESET,
                Side::Destination => tcp_status::DST_RESET,
            };
            return;
        }

        match (side, is_syn, is_ack) {
            (Side::Source, true, false) => {
                self.status |= tcp_status::SAW_SYN;
                // Once the SYN-ACK has come, the SYN's time is no longer
                // needed, and the field contains the SYN-ACK's.
                if !self.has(mark::SYN_TIME | mark::SYN_ACK_TIME) {
                    self.handshake_ns = time_ns;
                    self.status |= mark::SYN_TIME;
                }
            }
            (Side::Destination, true, true) => {
                self.status |= tcp_status::SAW_SYN_ACK;
                if !self.has(mark::SYN_ACK_TIME) {
                    if self.has(mark::SYN_TIME) {
                        self.syn_to_syn_ack_us = whole_microseconds(time_ns.saturating_sub(self.handshake_ns));
                        self.status |= mark::SYN_TO_SYN_ACK;
                    }
                    self.handshake_ns = time_ns;
                    self.status |= mark::SYN_ACK_TIME;
                }
            }
            (Side::Source, false, true) if self.status & tcp_status::ESTABLISHED == 0 => {
                if self.has(mark::SYN_ACK_TIME) {
                    self.status |= tcp_status::ESTABLISHED;
                    self.syn_ack_to_ack_us = whole_microseconds(time_ns.saturating_sub(self.handshake_ns));
                    self.status |= mark::SYN_ACK_TO_ACK;
                }
            }
            _ => {}
        }
        let both_seen = self.has(mark::SRC_SEEN) && self.has(mark::DST_SEEN);
        if self.status & tcp_status::ESTABLISHED == 0 && both_seen && !is_syn {
            // Traffic both ways after a handshake that was missed in part
            // is as good as a complete one.
            self.status |= tcp_status::ESTABLISHED;
        }

        if flags & tcp_flag::FIN != 0 {
            self.status |= tcp_status::FIN | tcp_status::CLOSE_WAITING;
            self.fin_seq[side.index()] = end_seq;
            self.status |= match side {
                Side::Source => mark::SRC_FIN_PENDING,
                Side::Destination => mark::DST_FIN_PENDING,
            };
        }
        if is_ack {
            // The peer's FIN is acknowledged once this side's ACK reaches
            // the sequence number after it.
            let (peer_pending, peer_fin_end) = match side {
                Side::Source => (mark::DST_FIN_PENDING, self.fin_seq[1]),
                Side::Destination => (mark::SRC_FIN_PENDING, self.fin_seq[0]),
            };
            if self.has(peer_pending) && !seq_after(peer_fin_end, tcp.ack) {
                self.status |= tcp_status::FIN_ACKED;
                self.status &= !peer_pending;
                let src_done = self.flags[0] & tcp_flag::FIN != 0 && !self.has(mark::SRC_FIN_PENDING);
                let dst_done = self.flags[1] & tcp_flag::FIN != 0 && !self.has(mark::DST_FIN_PENDING);
                if src_done && dst_done {
                    self.status =
                        (self.status | tcp_status::NORMAL_CLOSE) & !tcp_status::CLOSE_WAITING;
                }
            }
        }
    }
}

impl TcpDirection {
    /// True when this side sent no segment.
    pub fn is_empty(&self) -> bool {
        *self == TcpDirection::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(flags: u8, seq: u32, ack: u32) -> TcpInfo {
        TcpInfo {
            src_port: 1,
            dst_port: 2,
            seq,
            ack,
            flags,
            window: 1000,
            header_len_bytes: 20,
            options: 0,
            window_scale: None,
        }
    }

    #[test]
    fn handshake_data_and_close() {
        use tcp_flag::*;
        let mut tracker = TcpTracker::default();
        tracker.update(Side::Source, &segment(SYN, 100, 0), 0, 0, 1_000);
        tracker.update(Side::Destination, &segment(SYN | ACK, 500, 101), 0, 0, 57_999);
        tracker.update(Side::Source, &segment(ACK, 101, 501), 0, 0, 103_400);
        assert_eq!(tracker.summary().status & tcp_status::ESTABLISHED, tcp_status::ESTABLISHED);
        // Whole microseconds, as Argus records them.
        assert_eq!(tracker.summary().syn_to_syn_ack_ns, Some(56_000));
        assert_eq!(tracker.summary().syn_ack_to_ack_ns, Some(45_000));

        tracker.update(Side::Source, &segment(ACK | PSH, 101, 501), 0, 10, 4);
        tracker.update(Side::Source, &segment(ACK | PSH, 101, 501), 0, 10, 5);
        assert_eq!(tracker.summary().src.retransmitted_pkts, 1);

        tracker.update(Side::Source, &segment(ACK | FIN, 111, 501), 0, 0, 6);
        assert!(!tracker.is_closed());
        tracker.update(Side::Destination, &segment(ACK | FIN, 501, 112), 0, 0, 7);
        assert!(!tracker.is_closed());
        tracker.update(Side::Source, &segment(ACK, 112, 502), 0, 0, 8);
        assert!(tracker.is_closed());
        assert_ne!(tracker.summary().status & tcp_status::NORMAL_CLOSE, 0);
    }

    #[test]
    fn tracker_spans_two_cache_lines_anywhere() {
        let size = std::mem::size_of::<TcpTracker>();
        let align = std::mem::align_of::<TcpTracker>();
        assert_eq!(size, 96);
        assert_eq!(align, 32);
        // Entries of an array start at multiples of 96 bytes from an
        // aligned base: each must lie within two lines.
        for entry in 0..4 {
            let start = entry * size % crate::prefetch::CACHE_LINE_BYTES;
            assert!(start + size <= 2 * crate::prefetch::CACHE_LINE_BYTES, "entry {entry} starts at {start}");
        }
    }

    #[test]
    fn new_tracker_reports_no_window_scale() {
        let summary = TcpTracker::default().summary();
        assert_eq!(summary.src.window_scale, None);
        assert!(summary.src.is_empty());
        assert!(summary.dst.is_empty());
        assert_eq!(summary.status, 0);
    }

    #[test]
    fn marks_stay_out_of_the_reported_status() {
        use tcp_flag::*;
        let mut tracker = TcpTracker::default();
        tracker.update(Side::Source, &segment(SYN, 100, 0), 0, 0, 1_000);
        tracker.update(Side::Destination, &segment(SYN | ACK, 500, 101), 0, 0, 2_000);
        tracker.update(Side::Source, &segment(ACK | FIN, 101, 501), 0, 0, 3_000);
        assert_eq!(tracker.summary().status & mark::ALL, 0);
        assert_ne!(tracker.status & mark::ALL, 0);
    }

    #[test]
    fn late_syn_keeps_syn_ack_time() {
        use tcp_flag::*;
        let mut tracker = TcpTracker::default();
        tracker.update(Side::Destination, &segment(SYN | ACK, 500, 101), 0, 0, 10_000);
        tracker.update(Side::Source, &segment(SYN, 100, 0), 0, 0, 20_000);
        tracker.update(Side::Source, &segment(ACK, 101, 501), 0, 0, 35_000);
        assert_eq!(tracker.summary().syn_to_syn_ack_ns, None);
        assert_eq!(tracker.summary().syn_ack_to_ack_ns, Some(25_000));
    }

    #[test]
    fn window_scale_kept_as_sent() {
        let mut tracker = TcpTracker::default();
        let mut syn = segment(tcp_flag::SYN, 100, 0);
        syn.window_scale = Some(u8::MAX);
        tracker.update(Side::Source, &syn, 0, 0, 1);
        assert_eq!(tracker.summary().src.window_scale, Some(u8::MAX));
        syn.window_scale = Some(0);
        tracker.update(Side::Destination, &syn, 0, 0, 2);
        assert_eq!(tracker.summary().dst.window_scale, Some(0));
    }

    #[test]
    fn window_scale_per_side() {
        let mut tracker = TcpTracker::default();
        let mut syn = segment(tcp_flag::SYN, 100, 0);
        syn.window_scale = Some(7);
        tracker.update(Side::Source, &syn, 0, 0, 1);
        tracker.update(Side::Destination, &segment(tcp_flag::SYN | tcp_flag::ACK, 500, 101), 0, 0, 2);
        assert_eq!(tracker.summary().src.window_scale, Some(7));
        assert_eq!(tracker.summary().dst.window_scale, None);
    }

    #[test]
    fn reset_closes() {
        let mut tracker = TcpTracker::default();
        tracker.update(Side::Source, &segment(tcp_flag::SYN, 1, 0), 0, 0, 1);
        tracker.update(Side::Destination, &segment(tcp_flag::RST | tcp_flag::ACK, 0, 2), 0, 0, 2);
        assert!(tracker.is_closed());
        assert_ne!(tracker.summary().status & tcp_status::DST_RESET, 0);
    }

    #[test]
    fn midstream_first_segment_is_established() {
        use tcp_flag::*;
        let established = |flags: u8| {
            let mut tracker = TcpTracker::default();
            tracker.update(Side::Source, &segment(flags, 7, 9), 0, 10, 1);
            tracker.summary().status & tcp_status::ESTABLISHED != 0
        };
        // As argus 3.0.8 marks a connection picked up mid-stream.
        assert!(established(ACK));
        assert!(established(ACK | PSH));
        assert!(established(PSH));
        assert!(!established(SYN));
        assert!(!established(SYN | ACK));
        assert!(!established(RST | ACK));
        assert!(!established(FIN | ACK));

        // Only the flow's first segment counts: a SYN opened this one.
        let mut tracker = TcpTracker::default();
        tracker.update(Side::Source, &segment(SYN, 100, 0), 0, 0, 1);
        tracker.update(Side::Source, &segment(ACK, 101, 0), 0, 0, 2);
        assert_eq!(tracker.summary().status & tcp_status::ESTABLISHED, 0);
    }

    #[test]
    fn sequence_wraps() {
        let mut tracker = TcpTracker::default();
        tracker.update(Side::Source, &segment(tcp_flag::ACK, u32::MAX - 4, 0), 0, 10, 1);
        tracker.update(Side::Source, &segment(tcp_flag::ACK, 5, 0), 0, 10, 2);
        assert_eq!(tracker.summary().src.retransmitted_pkts, 0);
        assert_eq!(tracker.summary().src.out_of_order_pkts, 0);
    }
}
