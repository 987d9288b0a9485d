//! [`DpdkQueue`]: the RX queues one worker polls, as a [`PacketSource`].

use std::cell::Cell;
use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use naudit_engine::source::MAX_BATCH_PACKETS;
use naudit_engine::{BatchStatus, LinkType, PacketSource, PacketView, SourceCounters, SourceError};

use crate::clock::{AnchoredClock, PacketClock};
use crate::driver::Runtime;
use crate::ffi::{self, RxBurst};

/// Minimum time between two reads of the port statistics, in milliseconds.
const PORT_STATS_INTERVAL_MS: u64 = 100;

/// Loss counters of the ports a queue reports.
#[derive(Clone, Copy, Debug, Default)]
struct PortLossTotals {
    /// `imissed` plus `ierrors`.
    nic_dropped_pkts: u64,
    /// `rx_nombuf`.
    driver_dropped_pkts: u64,
}

/// One RX queue of one port.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RxQueue {
    pub port: u16,
    pub queue: u16,
    /// Offset and flag of the RX timestamp dynamic field, when enabled.
    pub timestamp_field: Option<(i32, u64)>,
    pub clock: PacketClock,
    /// True for the one queue per port that adds the port's loss counters.
    pub reports_port_loss: bool,
}

/// The RX queues of one worker. Packets are handed over in place, from the
/// mbufs, and the mbufs go back to their pool in bulk after each batch.
///
/// A queue is `Send` but not `Sync`: it moves to its worker's thread, and
/// only that thread polls its RX queues, as DPDK requires.
pub struct DpdkQueue {
    name: String,
    rx: Vec<RxQueue>,
    /// Index in `rx` of the queue polled first next time.
    next_rx: usize,
    burst: RxBurst,
    tsc_clock: AnchoredClock,
    /// End the input after this long without packets (replayed files).
    idle_end: Option<Duration>,
    idle_since: Option<Instant>,
    received_pkts: u64,
    truncated_pkts: u64,
    /// The ports' loss counters as last read, and the TSC value then:
    /// `counters` runs after every batch, and reading port statistics can
    /// cost a PCI access, so they are read at most every
    /// [`PORT_STATS_INTERVAL_MS`].
    port_loss: Cell<Option<(u64, PortLossTotals)>>,
    /// The thread that polls this queue, and true when
    /// [`ffi::register_thread`] registered it with EAL for this queue (it
    /// is unregistered when the queue drops on that thread).
    polling_thread: Option<(ThreadId, bool)>,
    /// Keeps the ports and EAL alive while the queue exists.
    _runtime: Arc<Runtime>,
}

impl DpdkQueue {
    pub(crate) fn new(name: String, rx: Vec<RxQueue>, idle_end: Option<Duration>, runtime: Arc<Runtime>) -> DpdkQueue {
        let tsc_clock = match PacketClock::tsc() {
            PacketClock::Tsc(clock) => clock,
            _ => unreachable!("PacketClock::tsc returns the TSC clock"),
        };
        DpdkQueue {
            name,
            rx,
            next_rx: 0,
            burst: RxBurst::new(),
            tsc_clock,
            idle_end,
            idle_since: None,
            received_pkts: 0,
            truncated_pkts: 0,
            port_loss: Cell::new(None),
            polling_thread: None,
            _runtime: runtime,
        }
    }

    /// Polls each RX queue once, starting after the last one that had
    /// packets, and returns the one that has packets now.
    fn poll(&mut self) -> Option<RxQueue> {
        for step in 0..self.rx.len() {
            let index = (self.next_rx + step) % self.rx.len();
            let rx = self.rx[index];
            if self.burst.receive(rx.port, rx.queue, rx.timestamp_field) > 0 {
                self.next_rx = (index + 1) % self.rx.len();
                return Some(rx);
            }
        }
        None
    }
}

impl DpdkQueue {
    /// Returns the loss counters of the ports this queue reports, read again when
    /// the last read is older than [`PORT_STATS_INTERVAL_MS`].
    fn port_loss_totals(&self) -> PortLossTotals {
        let now_tsc = ffi::tsc_cycles();
        let interval_cycles = ffi::tsc_hz() / 1000 * PORT_STATS_INTERVAL_MS;
        if let Some((read_tsc, totals)) = self.port_loss.get() {
            if now_tsc.wrapping_sub(read_tsc) < interval_cycles {
                return totals;
            }
        }
        let mut totals = PortLossTotals::default();
        for rx in self.rx.iter().filter(|rx| rx.reports_port_loss) {
            match ffi::port_loss(rx.port) {
                Ok(loss) => {
                    totals.nic_dropped_pkts += loss.missed_pkts + loss.error_pkts;
                    totals.driver_dropped_pkts += loss.no_mbuf_pkts;
                }
                Err(code) => {
                    tracing::debug!(port = rx.port, error = %ffi::error_text(code), "rte_eth_stats_get failed");
                }
            }
        }
        self.port_loss.set(Some((now_tsc, totals)));
        totals
    }
}

impl DpdkQueue {
    /// Makes the polling thread an EAL thread with an lcore id, so that
    /// mbuf allocation and freeing go through the mempool's per-lcore cache
    /// instead of its shared ring. Runs on the first poll, because the queue
    /// is created on the main thread and moved to its worker.
    fn register_polling_thread(&mut self) {
        let current = thread::current().id();
        if self.polling_thread.is_some_and(|(thread, _)| thread == current) {
            return;
        }
        let registered = match ffi::register_thread() {
            Ok(registered) => registered,
            Err(code) => {
                tracing::warn!(queue = %self.name, error = %ffi::error_text(code), "rte_thread_register failed; polling without an lcore id");
                false
            }
        };
        self.polling_thread = Some((current, registered));
    }
}

impl Drop for DpdkQueue {
    fn drop(&mut self) {
        // A thread can unregister only itself; a queue dropped elsewhere
        // leaves its lcore id taken until EAL cleanup.
        if self.polling_thread == Some((thread::current().id(), true)) {
            ffi::unregister_thread();
        }
    }
}

impl PacketSource for DpdkQueue {
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        self.register_polling_thread();
        let Some(rx) = self.poll() else {
            let idle_since = *self.idle_since.get_or_insert_with(Instant::now);
            if self.idle_end.is_some_and(|limit| idle_since.elapsed() >= limit) {
                return Ok(BatchStatus::End);
            }
            return Ok(BatchStatus::Idle);
        };
        self.idle_since = None;

        // One TSC read per burst: without NIC timestamps, every packet of a
        // burst gets the time the burst was received.
        let burst_tsc = ffi::tsc_cycles();
        let mut views = [PacketView::EMPTY; MAX_BATCH_PACKETS];
        let count = self.burst.len();
        for (index, view) in views.iter_mut().enumerate().take(count) {
            let packet = self.burst.packet(index);
            if packet.data.len() < packet.pkt_len as usize {
                self.truncated_pkts += 1;
            }
            *view = PacketView {
                timestamp_ns: rx.clock.packet_ns(packet.timestamp, burst_tsc, &self.tsc_clock),
                wire_len_bytes: packet.pkt_len,
                data: packet.data,
                link_type: LinkType::ETHERNET,
                port: rx.port,
            };
        }
        process(&views[..count]);
        self.burst.free();
        self.received_pkts += count as u64;
        Ok(BatchStatus::Packets(count))
    }

    fn counters(&self) -> SourceCounters {
        let loss = self.port_loss_totals();
        SourceCounters {
            received_pkts: self.received_pkts,
            truncated_pkts: self.truncated_pkts,
            nic_dropped_pkts: loss.nic_dropped_pkts,
            driver_dropped_pkts: loss.driver_dropped_pkts,
            ..SourceCounters::default()
        }
    }

    fn name(&self) -> &str {
        &self.name
    }
}
