//! Loss and retransmission seen in one side's request packet sequence
//! numbers.
//!
//! Requests (sends, RDMA writes, RDMA read requests, atomics) carry
//! consecutive PSNs, except that an RDMA read request reserves one PSN per
//! response packet. Acknowledgments may be coalesced, so responses are not
//! tracked. PSNs are 24-bit and wrap.

/// PSN space size (24 bits).
const PSN_MODULUS: u32 = 1 << 24;

/// Smallest path MTU (IBTA volume 1, section 9.7.7): the most response
/// packets a read of a given length can take.
const MIN_PATH_MTU_BYTES: u32 = 256;

/// The request sequence of one side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PsnTracker {
    /// Next PSN expected, once a request was seen.
    expected: Option<u32>,
    /// How far past `expected` the next PSN may be without a gap: the
    /// response PSNs an RDMA read request reserved beyond its own.
    slack: u32,
}

/// The place of a request's PSN in the sequence before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsnOutcome {
    /// The first request, or the next one.
    InOrder,
    /// Ahead of the next PSN: this many PSNs were skipped.
    Gap(u32),
    /// Not ahead of the highest PSN seen.
    Repeat,
}

impl PsnTracker {
    /// Notes a request with `psn`; `read_len_bytes` is the DMA length of an
    /// RDMA read request, else 0.
    ///
    /// NOTE: the path MTU is not on the wire, so a read reserves as many
    /// PSNs as the smallest MTU would need, and a loss right after a long
    /// read may go uncounted.
    pub fn note_request(&mut self, psn: u32, read_len_bytes: u32) -> PsnOutcome {
        let outcome = match self.expected {
            None => PsnOutcome::InOrder,
            Some(expected) => {
                let ahead = psn.wrapping_sub(expected) % PSN_MODULUS;
                if ahead <= self.slack {
                    PsnOutcome::InOrder
                } else if ahead < PSN_MODULUS / 2 {
                    PsnOutcome::Gap(ahead - self.slack)
                } else {
                    return PsnOutcome::Repeat;
                }
            }
        };
        let reserved = read_len_bytes.div_ceil(MIN_PATH_MTU_BYTES).max(1);
        self.expected = Some((psn + 1) % PSN_MODULUS);
        self.slack = reserved - 1;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_then_retransmissions() {
        let mut tracker = PsnTracker::default();
        assert_eq!(tracker.note_request(100, 0), PsnOutcome::InOrder);
        assert_eq!(tracker.note_request(101, 0), PsnOutcome::InOrder);
        assert_eq!(tracker.note_request(103, 0), PsnOutcome::Gap(1));
        assert_eq!(tracker.note_request(102, 0), PsnOutcome::Repeat);
        assert_eq!(tracker.note_request(103, 0), PsnOutcome::Repeat);
        assert_eq!(tracker.note_request(104, 0), PsnOutcome::InOrder);
    }

    #[test]
    fn read_reserves_response_psns() {
        let mut tracker = PsnTracker::default();
        assert_eq!(tracker.note_request(10, 1024), PsnOutcome::InOrder);
        assert_eq!(tracker.note_request(14, 0), PsnOutcome::InOrder, "4 response PSNs at the smallest MTU");
        assert_eq!(tracker.note_request(17, 0), PsnOutcome::Gap(2));
    }

    #[test]
    fn psn_wraps() {
        let mut tracker = PsnTracker::default();
        tracker.note_request(PSN_MODULUS - 1, 0);
        assert_eq!(tracker.note_request(0, 0), PsnOutcome::InOrder);
        assert_eq!(tracker.note_request(PSN_MODULUS - 1, 0), PsnOutcome::Repeat);
    }
}
