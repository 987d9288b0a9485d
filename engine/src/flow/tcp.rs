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
/// Optional times and sequence numbers are presence bits in `marks`
/// rather than `Option`s, which keeps the tracker to two cache lines. It is
/// aligned to them, so a tracker never straddles a third.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(align(64))]
pub struct TcpTracker {
    src: TcpDirection,
    dst: TcpDirection,
    syn_ns: u64,
    syn_ack_ns: u64,
    syn_to_syn_ack_ns: u64,
    syn_ack_to_ack_ns: u64,
    status: u32,
    src_fin_seq: u32,
    dst_fin_seq: u32,
    marks: u8,
}

/// Bits of [`TcpTracker::marks`].
mod mark {
    pub const SYN_TIME: u8 = 1 << 0;
    pub const SYN_ACK_TIME: u8 = 1 << 1;
    pub const SYN_TO_SYN_ACK: u8 = 1 << 2;
    pub const SYN_ACK_TO_ACK: u8 = 1 << 3;
    pub const SRC_FIN_PENDING: u8 = 1 << 4;
    pub const DST_FIN_PENDING: u8 = 1 << 5;
    pub const SRC_SEEN: u8 = 1 << 6;
    pub const DST_SEEN: u8 = 1 << 7;
}

/// Returns true when sequence number `a` is after `b`, modulo 2^32 (RFC 1982
/// serial number arithmetic, as TCP uses it).
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl TcpTracker {
    /// The state to put in a record.
    pub fn summary(&self) -> TcpSummary {
        TcpSummary {
            status: self.status,
            syn_to_syn_ack_ns: self
                .has(mark::SYN_TO_SYN_ACK)
                .then_some(self.syn_to_syn_ack_ns),
            syn_ack_to_ack_ns: self
                .has(mark::SYN_ACK_TO_ACK)
                .then_some(self.syn_ack_to_ack_ns),
            src: self.src,
            dst: self.dst,
        }
    }

    fn has(&self, bit: u8) -> bool {
        self.marks & bit != 0
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
        for direction in [&mut self.src, &mut self.dst] {
            direction.retransmitted_pkts = 0;
            direction.out_of_order_pkts = 0;
        }
    }

    /// Updates the state with one segment sent by `side` at `time_ns`.
    pub fn update(&mut self, side: Side, tcp: &TcpInfo, tos: u8, payload_bytes: u32, time_ns: u64) {
        let flags = tcp.flags;
        let is_syn = flags & tcp_flag::SYN != 0;
        let is_ack = flags & tcp_flag::ACK != 0;
        let seen_bit = match side {
            Side::Source => mark::SRC_SEEN,
            Side::Destination => mark::DST_SEEN,
        };
        let first_segment = self.marks & seen_bit == 0;
        let first_of_flow = self.marks & (mark::SRC_SEEN | mark::DST_SEEN) == 0;
        self.marks |= seen_bit;
        let status = &mut self.status;
        let direction = match side {
            Side::Source => &mut self.src,
            Side::Destination => &mut self.dst,
        };
        direction.flags |= flags;
        direction.options |= tcp.options;
        direction.window = tcp.window;
        direction.last_ns = time_ns;
        if tcp.window_scale.is_some() {
            direction.window_scale = tcp.window_scale;
        }
        if is_ack {
            direction.last_ack = tcp.ack;
        }

        // Sequence space: a SYN or FIN occupies one sequence number.
        let seq_len = payload_bytes
            .wrapping_add(u32::from(is_syn))
            .wrapping_add(u32::from(flags & tcp_flag::FIN != 0));
        let end_seq = tcp.seq.wrapping_add(seq_len);
        if first_segment || is_syn {
            direction.base_seq = tcp.seq;
            direction.next_seq = end_seq;
        } else if seq_len > 0 {
            if seq_after(end_seq, direction.next_seq) {
                if seq_after(tcp.seq, direction.next_seq) {
                    direction.out_of_order_pkts += 1;
                    *status |= match side {
                        Side::Source => tcp_status::SRC_OUT_OF_ORDER,
                        Side::Destination => tcp_status::DST_OUT_OF_ORDER,
                    };
                }
                direction.next_seq = end_seq;
            } else {
                direction.retransmitted_pkts += 1;
                *status |= match side {
                    Side::Source => tcp_status::SRC_RETRANSMITTED,
                    Side::Destination => tcp_status::DST_RETRANSMITTED,
                };
            }
        }

        if tcp.window == 0 && flags & tcp_flag::RST == 0 && !is_syn {
            *status |= match side {
                Side::Source => tcp_status::SRC_WINDOW_SHUT,
                Side::Destination => tcp_status::DST_WINDOW_SHUT,
            };
        }
        if tos & ECN_CONGESTION_EXPERIENCED == ECN_CONGESTION_EXPERIENCED {
            *status |= match side {
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
                if !self.has(mark::SYN_TIME) {
                    self.syn_ns = time_ns;
                    self.marks |= mark::SYN_TIME;
                }
            }
            (Side::Destination, true, true) => {
                self.status |= tcp_status::SAW_SYN_ACK;
                if !self.has(mark::SYN_ACK_TIME) {
                    self.syn_ack_ns = time_ns;
                    self.marks |= mark::SYN_ACK_TIME;
                    if self.has(mark::SYN_TIME) {
                        self.syn_to_syn_ack_ns = time_ns.saturating_sub(self.syn_ns);
                        self.marks |= mark::SYN_TO_SYN_ACK;
                    }
                }
            }
            (Side::Source, false, true) if self.status & tcp_status::ESTABLISHED == 0 => {
                if self.has(mark::SYN_ACK_TIME) {
                    self.status |= tcp_status::ESTABLISHED;
                    self.syn_ack_to_ack_ns = time_ns.saturating_sub(self.syn_ack_ns);
                    self.marks |= mark::SYN_ACK_TO_ACK;
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
            match side {
                Side::Source => {
                    self.src_fin_seq = end_seq;
                    self.marks |= mark::SRC_FIN_PENDING;
                }
                Side::Destination => {
                    self.dst_fin_seq = end_seq;
                    self.marks |= mark::DST_FIN_PENDING;
                }
            }
        }
        if is_ack {
            // The peer's FIN is acknowledged once this side's ACK reaches
            // the sequence number after it.
            let (peer_pending, peer_fin_end) = match side {
                Side::Source => (mark::DST_FIN_PENDING, self.dst_fin_seq),
                Side::Destination => (mark::SRC_FIN_PENDING, self.src_fin_seq),
            };
            if self.has(peer_pending) && !seq_after(peer_fin_end, tcp.ack) {
                self.status |= tcp_status::FIN_ACKED;
                self.marks &= !peer_pending;
                let src_done =
                    self.src.flags & tcp_flag::FIN != 0 && !self.has(mark::SRC_FIN_PENDING);
                let dst_done =
                    self.dst.flags & tcp_flag::FIN != 0 && !self.has(mark::DST_FIN_PENDING);
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
        tracker.update(Side::Source, &segment(SYN, 100, 0), 0, 0, 1);
        tracker.update(Side::Destination, &segment(SYN | ACK, 500, 101), 0, 0, 2);
        tracker.update(Side::Source, &segment(ACK, 101, 501), 0, 0, 3);
        assert_eq!(tracker.summary().status & tcp_status::ESTABLISHED, tcp_status::ESTABLISHED);
        assert_eq!(tracker.summary().syn_to_syn_ack_ns, Some(1));

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
    fn tracker_fills_two_aligned_cache_lines() {
        assert_eq!(std::mem::size_of::<TcpTracker>(), 2 * crate::prefetch::CACHE_LINE_BYTES);
        assert_eq!(std::mem::align_of::<TcpTracker>(), crate::prefetch::CACHE_LINE_BYTES);
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
