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
/// The tracker packs both directions side by side, indexed by [`Side`], in
/// one cache line, so that a segment's update loads one line. To fit, it
/// keeps times in whole microseconds, the unit of Argus records: the
/// latest segment's time, and how long before it the other side's last
/// segment came. The handshake intervals are taken from those times, as
/// argus takes them. Presence bits sit in the top bits of the status word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(align(64))]
pub struct TcpTracker {
    /// Sequence state of each side.
    seq: [SequenceState; 2],
    /// Time of the latest segment of either side, and the options of each
    /// side.
    latest: LatestSegment,
    /// How many microseconds before the latest segment the other side's
    /// last segment came, saturated. The [`mark::LATEST_FROM_DST`] bit
    /// marks which side sent the latest segment.
    earlier_side_gap_us: u32,
    /// Handshake intervals in microseconds, saturated.
    syn_to_syn_ack_us: u32,
    syn_ack_to_ack_us: u32,
    /// [`tcp_status`] bits in the low bits, [`mark`] bits above them.
    status: u32,
    /// Last window each side advertised, unscaled.
    window: [u16; 2],
    /// OR of the TCP flags each side sent.
    flags: [u8; 2],
    /// Window scale shift each side announced, as sent, when its
    /// [`mark::SRC_WINDOW_SCALE`] or [`mark::DST_WINDOW_SCALE`] bit is set.
    window_scale: [u8; 2],
}

// One segment's update must load one cache line, and no more.
const _: () = assert!(std::mem::size_of::<TcpTracker>() == crate::prefetch::CACHE_LINE_BYTES);

/// Sequence numbers and counters of one side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SequenceState {
    /// Initial sequence number (from the SYN, else the first segment).
    base_seq: u32,
    /// Next sequence number expected from this side. After this side's
    /// FIN, its acknowledgment closes this side.
    next_seq: u32,
    /// Last acknowledgment number this side sent.
    last_ack: u32,
    /// Segments sent again in this interval, saturated.
    // NOTE: 16-bit counters saturate at 65,535 segments a report interval
    // (5 s by default), which keeps the tracker in one cache line.
    retransmitted_pkts: u16,
    /// Segments sent beyond a gap in this interval, saturated.
    out_of_order_pkts: u16,
}

/// The time of a flow's latest segment in whole microseconds since the
/// epoch, in the low [`LatestSegment::TIME_BITS`] bits, with the
/// [`crate::decode::tcp_option`] bits that each side sent above them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct LatestSegment(u64);

impl LatestSegment {
    /// 52 bits of microseconds reach the year 2112, past the last second
    /// that an Argus record can carry (2106).
    const TIME_BITS: u32 = 52;
    const TIME_MASK: u64 = (1 << Self::TIME_BITS) - 1;
    /// Option bits kept per side: room for [`crate::decode::tcp_option::ALL`].
    const OPTION_BITS: u32 = 5;
    const OPTION_MASK: u64 = (1 << Self::OPTION_BITS) - 1;

    fn time_us(self) -> u64 {
        self.0 & Self::TIME_MASK
    }

    /// Sets the time, which the caller has already cut to [`Self::TIME_MASK`].
    fn set_time_us(&mut self, time_us: u64) {
        debug_assert!(time_us <= Self::TIME_MASK);
        self.0 = (self.0 & !Self::TIME_MASK) | time_us;
    }

    fn option_shift(side: Side) -> u32 {
        Self::TIME_BITS + Self::OPTION_BITS * side.index() as u32
    }

    fn options(self, side: Side) -> u16 {
        ((self.0 >> Self::option_shift(side)) & Self::OPTION_MASK) as u16
    }

    fn add_options(&mut self, side: Side, options: u16) {
        self.0 |= (u64::from(options) & Self::OPTION_MASK) << Self::option_shift(side);
    }
}

// Every option bit the decoder sets must fit in a side's share.
const _: () = assert!(crate::decode::tcp_option::ALL as u64 <= LatestSegment::OPTION_MASK);
const _: () = assert!(LatestSegment::TIME_BITS + 2 * LatestSegment::OPTION_BITS <= u64::BITS);

/// Bits of the status word above those that [`tcp_status`] uses.
mod mark {
    pub const SRC_WINDOW_SCALE: u32 = 1 << 22;
    pub const DST_WINDOW_SCALE: u32 = 1 << 23;
    pub const LATEST_FROM_DST: u32 = 1 << 24;
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

/// Returns a count of microseconds saturated to 32 bits.
fn saturate_us(duration_us: u64) -> u32 {
    u32::try_from(duration_us).unwrap_or(u32::MAX)
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::Source => 0,
            Side::Destination => 1,
        }
    }

    fn other(self) -> Side {
        match self {
            Side::Source => Side::Destination,
            Side::Destination => Side::Source,
        }
    }

    fn window_scale_mark(self) -> u32 {
        match self {
            Side::Source => mark::SRC_WINDOW_SCALE,
            Side::Destination => mark::DST_WINDOW_SCALE,
        }
    }

    fn seen_mark(self) -> u32 {
        match self {
            Side::Source => mark::SRC_SEEN,
            Side::Destination => mark::DST_SEEN,
        }
    }
}

impl TcpTracker {
    /// Returns the state to put in a record. Times have microsecond
    /// precision, which is what Argus records carry.
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
            options: self.latest.options(side),
            base_seq: seq.base_seq,
            next_seq: seq.next_seq,
            last_ack: seq.last_ack,
            window: self.window[index],
            window_scale: self.has(side.window_scale_mark()).then_some(self.window_scale[index]),
            retransmitted_pkts: u32::from(seq.retransmitted_pkts),
            out_of_order_pkts: u32::from(seq.out_of_order_pkts),
            last_ns: self.last_us(side).map_or(0, |time_us| time_us * 1_000),
        }
    }

    fn has(&self, bit: u32) -> bool {
        self.status & bit != 0
    }

    /// Returns the side that sent the latest segment, or the source before
    /// the first segment.
    fn latest_side(&self) -> Side {
        if self.has(mark::LATEST_FROM_DST) {
            Side::Destination
        } else {
            Side::Source
        }
    }

    /// Time of `side`'s last segment in microseconds, if it sent one.
    fn last_us(&self, side: Side) -> Option<u64> {
        if !self.has(side.seen_mark()) {
            return None;
        }
        let latest_us = self.latest.time_us();
        Some(if side == self.latest_side() {
            latest_us
        } else {
            latest_us.saturating_sub(u64::from(self.earlier_side_gap_us))
        })
    }

    /// Notes a segment of `side` at `time_us` as that side's last one.
    ///
    /// A segment earlier than the other side's last one (a capture whose
    /// timestamps go back) leaves the other side latest.
    // NOTE: the gap saturates at about 71.6 minutes. So a side silent for
    // longer while the other sends is reported that long before the latest
    // segment.
    #[inline]
    fn note_time(&mut self, side: Side, time_us: u64) {
        let time_us = time_us.min(LatestSegment::TIME_MASK);
        let latest_us = self.latest.time_us();
        if time_us >= latest_us {
            // The common case. Before the first segment the latest time is
            // 0 and the gap means nothing until the other side is seen,
            // when it is set.
            let advance_us = time_us - latest_us;
            if side == self.latest_side() {
                self.earlier_side_gap_us = self.earlier_side_gap_us.saturating_add(saturate_us(advance_us));
            } else {
                self.earlier_side_gap_us = saturate_us(advance_us);
                self.set_latest_side(side);
            }
            self.latest.set_time_us(time_us);
            return;
        }
        match self.last_us(side.other()) {
            Some(other_us) if side == self.latest_side() && time_us < other_us => {
                self.latest.set_time_us(other_us);
                self.earlier_side_gap_us = saturate_us(other_us - time_us);
                self.set_latest_side(side.other());
            }
            Some(other_us) if side == self.latest_side() => {
                self.latest.set_time_us(time_us);
                self.earlier_side_gap_us = saturate_us(time_us - other_us);
            }
            Some(_) => self.earlier_side_gap_us = saturate_us(latest_us - time_us),
            None => self.latest.set_time_us(time_us),
        }
    }

    fn set_latest_side(&mut self, side: Side) {
        match side {
            Side::Source => self.status &= !mark::LATEST_FROM_DST,
            Side::Destination => self.status |= mark::LATEST_FROM_DST,
        }
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
        let time_us = time_ns / 1_000;
        let first_segment = !self.has(side.seen_mark());
        let first_of_flow = !self.has(mark::SRC_SEEN | mark::DST_SEEN);
        // The handshake intervals end at this segment and start at the
        // other side's last one, so they are taken before it is noted.
        self.update_connection_state(side, tcp, time_us, first_of_flow);
        self.note_time(side, time_us);
        self.status |= side.seen_mark();
        self.flags[index] |= flags;
        self.latest.add_options(side, tcp.options);
        self.window[index] = tcp.window;
        if let Some(shift) = tcp.window_scale {
            self.window_scale[index] = shift;
            self.status |= side.window_scale_mark();
        }
        let seq = &mut self.seq[index];
        if is_ack {
            seq.last_ack = tcp.ack;
        }

        // Sequence space: a SYN or FIN occupies one sequence number.
        let is_fin = flags & tcp_flag::FIN != 0;
        let seq_len = payload_bytes
            .wrapping_add(u32::from(is_syn))
            .wrapping_add(u32::from(is_fin));
        let end_seq = tcp.seq.wrapping_add(seq_len);
        if first_segment || is_syn {
            seq.base_seq = tcp.seq;
            seq.next_seq = end_seq;
        } else if seq_len > 0 {
            if seq_after(end_seq, seq.next_seq) {
                if seq_after(tcp.seq, seq.next_seq) {
                    seq.out_of_order_pkts = seq.out_of_order_pkts.saturating_add(1);
                    self.status |= match side {
                        Side::Source => tcp_status::SRC_OUT_OF_ORDER,
                        Side::Destination => tcp_status::DST_OUT_OF_ORDER,
                    };
                }
                seq.next_seq = end_seq;
            } else {
                seq.retransmitted_pkts = seq.retransmitted_pkts.saturating_add(1);
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
        if flags & tcp_flag::RST == 0 {
            self.update_close(side, tcp);
        }
    }

    /// Updates the handshake and the reset bits with a segment of `side`
    /// at `time_us`, before the segment's time is noted.
    fn update_connection_state(&mut self, side: Side, tcp: &TcpInfo, time_us: u64, first_of_flow: bool) {
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

        // As in argus, each handshake interval runs from the other side's
        // last segment: the SYN's (or its last retransmission's) to the
        // first SYN-ACK, then the SYN-ACK's to the source's ACK.
        let since_other_side_us =
            |tracker: &TcpTracker| tracker.last_us(side.other()).map(|other_us| saturate_us(time_us.saturating_sub(other_us)));
        match (side, is_syn, is_ack) {
            (Side::Source, true, false) => self.status |= tcp_status::SAW_SYN,
            (Side::Destination, true, true) if !self.has(tcp_status::SAW_SYN_ACK) => {
                if self.has(tcp_status::SAW_SYN) {
                    if let Some(interval_us) = since_other_side_us(self) {
                        self.syn_to_syn_ack_us = interval_us;
                        self.status |= mark::SYN_TO_SYN_ACK;
                    }
                }
                self.status |= tcp_status::SAW_SYN_ACK;
            }
            (Side::Source, false, true)
                if self.status & tcp_status::ESTABLISHED == 0 && self.has(tcp_status::SAW_SYN_ACK) =>
            {
                self.status |= tcp_status::ESTABLISHED;
                if let Some(interval_us) = since_other_side_us(self) {
                    self.syn_ack_to_ack_us = interval_us;
                    self.status |= mark::SYN_ACK_TO_ACK;
                }
            }
            _ => {}
        }
        // This segment makes its side seen, so both are once the other is.
        let both_seen = self.has(side.other().seen_mark());
        if self.status & tcp_status::ESTABLISHED == 0 && both_seen && !is_syn {
            // Traffic both ways after a handshake that was missed in part
            // is as good as a complete one.
            self.status |= tcp_status::ESTABLISHED;
        }
    }

    /// Updates the close: a FIN of `side`, and its acknowledgment of the
    /// other side's FIN. A side's FIN is acknowledged once the other side's
    /// ACK reaches the side's next sequence number, which counts the FIN.
    fn update_close(&mut self, side: Side, tcp: &TcpInfo) {
        if tcp.flags & tcp_flag::FIN != 0 {
            self.status |= tcp_status::FIN | tcp_status::CLOSE_WAITING;
            self.status |= match side {
                Side::Source => mark::SRC_FIN_PENDING,
                Side::Destination => mark::DST_FIN_PENDING,
            };
        }
        if tcp.flags & tcp_flag::ACK != 0 {
            let peer = side.other();
            let peer_pending = match peer {
                Side::Source => mark::SRC_FIN_PENDING,
                Side::Destination => mark::DST_FIN_PENDING,
            };
            let peer_fin_end = self.seq[peer.index()].next_seq;
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
        // Between times cut to whole microseconds, as argus reads them:
        // 57 - 1 and 103 - 57.
        assert_eq!(tracker.summary().syn_to_syn_ack_ns, Some(56_000));
        assert_eq!(tracker.summary().syn_ack_to_ack_ns, Some(46_000));

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
    fn tracker_fills_one_cache_line() {
        assert_eq!(std::mem::size_of::<TcpTracker>(), crate::prefetch::CACHE_LINE_BYTES);
        assert_eq!(std::mem::align_of::<TcpTracker>(), crate::prefetch::CACHE_LINE_BYTES);
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
    fn handshake_starts_at_last_syn() {
        use tcp_flag::*;
        let mut tracker = TcpTracker::default();
        tracker.update(Side::Source, &segment(SYN, 100, 0), 0, 0, 1_000_000);
        tracker.update(Side::Source, &segment(SYN, 100, 0), 0, 0, 3_000_000);
        tracker.update(Side::Destination, &segment(SYN | ACK, 500, 101), 0, 0, 3_250_000);
        assert_eq!(tracker.summary().syn_to_syn_ack_ns, Some(250_000));
    }

    #[test]
    fn last_time_kept_per_side() {
        use tcp_flag::*;
        // Each step: the sending side, its flags and time, then the last
        // time the record reports for the source and the destination (0 for
        // a side that sent nothing).
        let steps = [
            (Side::Source, SYN, 10_000_999, 10_000_000, 0),
            (Side::Destination, SYN | ACK, 12_000_000, 10_000_000, 12_000_000),
            (Side::Destination, ACK, 15_000_000, 10_000_000, 15_000_000),
            // A capture whose time goes back: the destination stays latest.
            (Side::Source, ACK, 11_000_000, 11_000_000, 15_000_000),
            (Side::Source, ACK, 20_000_000, 20_000_000, 15_000_000),
            // The latest side goes back, past the other side's time.
            (Side::Source, ACK, 14_000_000, 14_000_000, 15_000_000),
            // The latest side goes back, but not past the other side's time.
            (Side::Destination, ACK, 14_500_000, 14_000_000, 14_500_000),
        ];
        let mut tracker = TcpTracker::default();
        for (step, (side, flags, time_ns, src_last_ns, dst_last_ns)) in steps.into_iter().enumerate() {
            tracker.update(side, &segment(flags, 100, 500), 0, 0, time_ns);
            assert_eq!(tracker.summary().src.last_ns, src_last_ns, "source after step {step}");
            assert_eq!(tracker.summary().dst.last_ns, dst_last_ns, "destination after step {step}");
        }
    }

    #[test]
    fn side_gap_saturates_after_long_silence() {
        use tcp_flag::*;
        let start_ns = 1_700_000_000_000_000_000;
        let hour_ns = 3_600_000_000_000;
        let mut tracker = TcpTracker::default();
        tracker.update(Side::Source, &segment(ACK, 100, 0), 0, 0, start_ns);
        tracker.update(Side::Destination, &segment(ACK, 500, 101), 0, 0, start_ns + 2 * hour_ns);
        let summary = tracker.summary();
        assert_eq!(summary.dst.last_ns, start_ns + 2 * hour_ns);
        assert_eq!(summary.src.last_ns, start_ns + 2 * hour_ns - u64::from(u32::MAX) * 1_000);
    }

    #[test]
    fn options_kept_per_side() {
        use crate::decode::tcp_option;
        let mut tracker = TcpTracker::default();
        let mut syn = segment(tcp_flag::SYN, 100, 0);
        syn.options = tcp_option::MSS | tcp_option::SACK_PERMITTED;
        tracker.update(Side::Source, &syn, 0, 0, 1_000);
        let mut data = segment(tcp_flag::ACK, 500, 101);
        data.options = tcp_option::TIMESTAMP;
        tracker.update(Side::Destination, &data, 0, 0, u64::MAX);
        let summary = tracker.summary();
        assert_eq!(summary.src.options, tcp_option::MSS | tcp_option::SACK_PERMITTED);
        assert_eq!(summary.dst.options, tcp_option::TIMESTAMP);
        // A time past the range leaves the options alone.
        assert_eq!(summary.dst.last_ns, LatestSegment::TIME_MASK * 1_000);
    }

    #[test]
    fn fin_acknowledged_past_next_sequence() {
        use tcp_flag::*;
        let mut tracker = TcpTracker::default();
        tracker.update(Side::Source, &segment(ACK, 100, 500), 0, 10, 1);
        tracker.update(Side::Source, &segment(ACK | FIN, 110, 500), 0, 0, 2);
        // 110 acknowledges the data but not the FIN.
        tracker.update(Side::Destination, &segment(ACK, 500, 110), 0, 0, 3);
        assert_eq!(tracker.summary().status & tcp_status::FIN_ACKED, 0);
        tracker.update(Side::Destination, &segment(ACK, 500, 111), 0, 0, 4);
        assert_ne!(tracker.summary().status & tcp_status::FIN_ACKED, 0);
    }

    #[test]
    fn interval_counters_saturate() {
        let mut tracker = TcpTracker::default();
        tracker.update(Side::Source, &segment(tcp_flag::ACK, 100, 0), 0, 10, 1);
        for time_ns in 0..70_000 {
            tracker.update(Side::Source, &segment(tcp_flag::ACK, 100, 0), 0, 10, time_ns);
        }
        assert_eq!(tracker.summary().src.retransmitted_pkts, u32::from(u16::MAX));
        tracker.start_interval();
        assert_eq!(tracker.summary().src.retransmitted_pkts, 0);
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
