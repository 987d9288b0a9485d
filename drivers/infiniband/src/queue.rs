//! [`IbverbsQueue`]: the sniffer's receive queue as a [`PacketSource`].

use naudit_engine::source::MAX_BATCH_PACKETS;
use naudit_engine::{BatchStatus, LinkType, PacketSource, PacketView, SourceCounters, SourceError};

use crate::clock::{system_clock_ns, PacketClock};
use crate::device::PortName;
use crate::ffi;
use crate::hw_counter::OutOfBufferCounter;
use crate::pool::ReceiveRing;
use crate::sniffer::{anchor_clock, post_pending, Resources};
use crate::sys;

/// Returns true for the 1st, 2nd, 4th, 8th ... occurrence, so that a
/// repeating problem is logged with decreasing frequency.
fn log_occurrence(count: u64) -> bool {
    count.is_power_of_two()
}

/// The sniffer's receive queue. Each batch is up to [`MAX_BATCH_PACKETS`]
/// completions; their buffers are lent to the engine in place and posted
/// again when the batch is processed.
///
/// A queue is `Send` but not `Sync`: it moves to the thread that reads it,
/// and only that thread polls the CQ and posts to the QP.
pub struct IbverbsQueue {
    port: PortName,
    name: String,
    link_type: LinkType,
    snaplen_bytes: u32,
    ring: ReceiveRing,
    clock: PacketClock,
    completions: [sys::Completion; MAX_BATCH_PACKETS],
    /// Set by a flushed completion: the QP is in the error state and is
    /// restarted once every posted buffer has come back.
    qp_in_error: bool,
    received_pkts: u64,
    truncated_pkts: u64,
    /// Completions with an error status other than a flush.
    error_completions: u64,
    /// Completions whose work request id names no posted buffer.
    unknown_completions: u64,
    post_failures: u64,
    qp_restarts: u64,
    out_of_buffer: Option<OutOfBufferCounter>,
    resources: Resources,
}

impl IbverbsQueue {
    pub(crate) fn new(
        port: PortName,
        link_type: LinkType,
        snaplen_bytes: u32,
        resources: Resources,
        ring: ReceiveRing,
        clock: PacketClock,
    ) -> IbverbsQueue {
        let out_of_buffer = OutOfBufferCounter::open("/sys", &port);
        if out_of_buffer.is_none() {
            tracing::info!(
                port = %port,
                "the RDMA device exposes no out_of_buffer counter; packets dropped for want of a receive buffer are not counted"
            );
        }
        IbverbsQueue {
            name: port.to_string(),
            port,
            link_type,
            snaplen_bytes,
            ring,
            clock,
            completions: [sys::Completion::default(); MAX_BATCH_PACKETS],
            qp_in_error: false,
            received_pkts: 0,
            truncated_pkts: 0,
            error_completions: 0,
            unknown_completions: 0,
            post_failures: 0,
            qp_restarts: 0,
            out_of_buffer,
            resources,
        }
    }

    /// Link type of the packets: InfiniBand (247) or Ethernet (1).
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// Posts the buffers that wait to go back on the receive queue, unless
    /// the QP is in the error state.
    fn repost(&mut self) {
        if self.qp_in_error {
            return;
        }
        let (_, error) = post_pending(&self.resources, &mut self.ring);
        if let Some(code) = error {
            self.post_failures += 1;
            if log_occurrence(self.post_failures) {
                tracing::warn!(
                    port = %self.port,
                    error = %ffi::errno_text(code),
                    waiting = self.ring.pending().len(),
                    failures = self.post_failures,
                    "ibv_post_recv failed; the buffers are posted again after the next batch"
                );
            }
        }
    }

    /// Restarts a QP in the error state once every posted buffer has been
    /// flushed back, and posts all buffers again.
    ///
    /// NOTE: this path has not run against a device. It assumes that the
    /// device completes every posted receive request with a flush error
    /// when the QP enters the error state.
    fn restart_if_flushed(&mut self) -> Result<(), SourceError> {
        if !self.qp_in_error || self.ring.posted_count() > 0 {
            return Ok(());
        }
        self.resources.qp.make_ready(self.port.port, true).map_err(|(state, code)| SourceError::Io {
            input: self.name.clone(),
            context: "cannot restart the receive QP after it entered the error state (ibv_modify_qp)",
            source: std::io::Error::other(format!("moving the QP to {state} failed: {}", ffi::errno_text(code))),
        })?;
        self.qp_in_error = false;
        self.qp_restarts += 1;
        tracing::warn!(port = %self.port, restarts = self.qp_restarts, "the receive QP entered the error state and was restarted");
        self.repost();
        Ok(())
    }
}

impl PacketSource for IbverbsQueue {
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        if self.clock.needs_anchor() {
            anchor_clock(&self.resources, &mut self.clock);
        }
        let polled = self.resources.cq.poll(&mut self.completions).map_err(|code| SourceError::Io {
            input: self.name.clone(),
            context: "ibv_poll_cq failed",
            source: std::io::Error::from_raw_os_error(code),
        })?;
        if polled == 0 {
            self.repost();
            self.restart_if_flushed()?;
            return Ok(BatchStatus::Idle);
        }

        // Without device timestamps, every packet of a batch gets the time
        // it was polled.
        let batch_ns = if self.clock == PacketClock::System { system_clock_ns() } else { 0 };
        let buffer_bytes = self.resources.memory.buffer_bytes() as usize;
        let captured_max = buffer_bytes.min(self.snaplen_bytes as usize);
        let mut views = [PacketView::EMPTY; MAX_BATCH_PACKETS];
        let mut count = 0;
        for completion in &self.completions[..polled] {
            let Some(index) = self.ring.complete(completion.wr_id) else {
                self.unknown_completions += 1;
                if log_occurrence(self.unknown_completions) {
                    tracing::error!(port = %self.port, wr_id = completion.wr_id, "completion for no posted receive buffer");
                }
                continue;
            };
            match completion.status {
                sys::WC_SUCCESS => {
                    let wire_len = completion.byte_len as usize;
                    let captured = wire_len.min(captured_max);
                    if captured < wire_len {
                        self.truncated_pkts += 1;
                    }
                    // SAFETY: the buffer's completion was just polled, so the
                    // device has finished writing it, and it is posted again
                    // only after `process` returns (see `repost` below).
                    let data = unsafe { self.resources.memory.packet(index, captured) };
                    views[count] = PacketView {
                        timestamp_ns: self.clock.packet_ns(completion.timestamp, batch_ns),
                        wire_len_bytes: completion.byte_len,
                        data,
                        link_type: self.link_type,
                        port: u16::from(self.port.port),
                    };
                    count += 1;
                }
                sys::WC_WR_FLUSH_ERR => self.qp_in_error = true,
                status => {
                    self.error_completions += 1;
                    if log_occurrence(self.error_completions) {
                        tracing::warn!(
                            port = %self.port,
                            status = %ffi::completion_status_text(status),
                            vendor_error = completion.vendor_err,
                            errors = self.error_completions,
                            "receive completion with an error; the packet is counted as dropped"
                        );
                    }
                }
            }
        }
        if count > 0 {
            process(&views[..count]);
        }
        self.received_pkts += count as u64;

        self.repost();
        self.restart_if_flushed()?;
        Ok(if count > 0 { BatchStatus::Packets(count) } else { BatchStatus::Idle })
    }

    fn counters(&self) -> SourceCounters {
        SourceCounters {
            received_pkts: self.received_pkts,
            truncated_pkts: self.truncated_pkts,
            nic_dropped_pkts: self.error_completions,
            driver_dropped_pkts: self.out_of_buffer.as_ref().map_or(0, OutOfBufferCounter::dropped_pkts),
            ..SourceCounters::default()
        }
    }

    fn name(&self) -> &str {
        &self.name
    }
}
