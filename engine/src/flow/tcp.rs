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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpTracker {
    summary: TcpSummary,
    syn_ns: Option<u64>,
    syn_ack_ns: Option<u64>,
    src_fin_seq: Option<u32>,
    dst_fin_seq: Option<u32>,
    src_seen: bool,
    dst_seen: bool,
}

/// Returns true when sequence number `a` is after `b`, modulo 2^32 (RFC 1982
/// serial number arithmetic, as TCP uses it).
fn seq_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

impl TcpTracker {
    /// The state to put in a record.
    pub fn summary(&self) -> TcpSummary {
        self.summary
    }

    /// True once the connection has closed: both FINs acknowledged, or a
    /// reset from either side.
    pub fn is_closed(&self) -> bool {
        self.summary.status & (tcp_status::NORMAL_CLOSE | tcp_status::SRC_RESET | tcp_status::DST_RESET) != 0
    }

    /// True when the source's SYN opened this flow.
    pub fn saw_syn(&self) -> bool {
        self.summary.status & tcp_status::SAW_SYN != 0
    }

    /// Clears the per-interval counters after a status report, keeping the
    /// connection state.
    pub fn start_interval(&mut self) {
        for direction in [&mut self.summary.src, &mut self.summary.dst] {
            direction.retransmitted_pkts = 0;
            direction.out_of_order_pkts = 0;
        }
    }

    /// Updates the state with one segment sent by `side` at `time_ns`.
    pub fn update(&mut self, side: Side, tcp: &TcpInfo, tos: u8, payload_bytes: u32, time_ns: u64) {
        let flags = tcp.flags;
        let is_syn = flags & tcp_flag::SYN != 0;
        let is_ack = flags & tcp_flag::ACK != 0;
        let status = &mut self.summary.status;

        let (direction, first_segment) = match side {
            Side::Source => (&mut self.summary.src, !std::mem::replace(&mut self.src_seen, true)),
            Side::Destination => (&mut self.summary.dst, !std::mem::replace(&mut self.dst_seen, true)),
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

        self.update_connection_state(side, tcp, end_seq, time_ns);
    }

    fn update_connection_state(&mut self, side: Side, tcp: &TcpInfo, end_seq: u32, time_ns: u64) {
        let flags = tcp.flags;
        let is_syn = flags & tcp_flag::SYN != 0;
        let is_ack = flags & tcp_flag::ACK != 0;
        let status = &mut self.summary.status;

        if flags & tcp_flag::RST != 0 {
            *status |= match side {
                Side::Source => tcp_status::SRC_RESET,
                Side::Destination => tcp_status::DST_RESET,
            };
            return;
        }

        match (side, is_syn, is_ack) {
            (Side::Source, true, false) => {
                *status |= tcp_status::SAW_SYN;
                self.syn_ns.get_or_insert(time_ns);
            }
            (Side::Destination, true, true) => {
                *status |= tcp_status::SAW_SYN_ACK;
                if self.syn_ack_ns.is_none() {
                    self.syn_ack_ns = Some(time_ns);
                    if let Some(syn_ns) = self.syn_ns {
                        self.summary.syn_to_syn_ack_ns = Some(time_ns.saturating_sub(syn_ns));
                    }
                }
            }
            (Side::Source, false, true) if *status & tcp_status::ESTABLISHED == 0 => {
                if let Some(syn_ack_ns) = self.syn_ack_ns {
                    *status |= tcp_status::ESTABLISHED;
                    self.summary.syn_ack_to_ack_ns = Some(time_ns.saturating_sub(syn_ack_ns));
                }
            }
            _ => {}
        }
        if *status & tcp_status::ESTABLISHED == 0 && self.src_seen && self.dst_seen && !is_syn {
            // A connection picked up mid-stream: traffic both ways is as
            // good as a handshake.
            *status |= tcp_status::ESTABLISHED;
        }

        if flags & tcp_flag::FIN != 0 {
            *status |= tcp_status::FIN | tcp_status::CLOSE_WAITING;
            match side {
                Side::Source => self.src_fin_seq = Some(end_seq),
                Side::Destination => self.dst_fin_seq = Some(end_seq),
            }
        }
        if is_ack {
            // The peer's FIN is acknowledged once this side's ACK reaches
            // the sequence number after it.
            let peer_fin = match side {
                Side::Source => self.dst_fin_seq,
                Side::Destination => self.src_fin_seq,
            };
            if peer_fin.is_some_and(|fin_end| !seq_after(fin_end, tcp.ack)) {
                *status |= tcp_status::FIN_ACKED;
                match side {
                    Side::Source => self.dst_fin_seq = None,
                    Side::Destination => self.src_fin_seq = None,
                }
                let src_done = self.summary.src.flags & tcp_flag::FIN != 0 && self.src_fin_seq.is_none();
                let dst_done = self.summary.dst.flags & tcp_flag::FIN != 0 && self.dst_fin_seq.is_none();
                if src_done && dst_done {
                    *status = (*status | tcp_status::NORMAL_CLOSE) & !tcp_status::CLOSE_WAITING;
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
    fn reset_closes() {
        let mut tracker = TcpTracker::default();
        tracker.update(Side::Source, &segment(tcp_flag::SYN, 1, 0), 0, 0, 1);
        tracker.update(Side::Destination, &segment(tcp_flag::RST | tcp_flag::ACK, 0, 2), 0, 0, 2);
        assert!(tracker.is_closed());
        assert_ne!(tracker.summary().status & tcp_status::DST_RESET, 0);
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
