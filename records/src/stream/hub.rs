//! The fan-out state that the publishing thread, the MAR timer and the
//! client sessions share under one lock: the stream's encoder and its
//! started clients.
//!
//! Each flow record is encoded once, so every client sees the same sequence
//! numbers (a filtered client sees gaps, as with argus), and the bytes are
//! shared by all clients whose filter selects the record. Nothing here does
//! I/O except shutting down the connection of a client that fell behind.

use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use naudit_engine::flow::FlowRecord;

use super::config::StreamConfig;
use super::counters::CounterTotals;
use super::filter::Filter;
use super::queue::{PushError, RecordQueue};
use super::rate_limit::LogRateLimiter;
use super::stats::StatsCounters;
use crate::argus::{ArgusEncoder, MarCounters, MAR_BYTES};

/// Initial capacity of the encoding buffer: a MAR (128 bytes) and the
/// longest flow record the encoder builds (312 bytes) fit.
const RECORD_BUFFER_BYTES: usize = 512;

/// Shortest time between two log lines about clients that fell behind.
const SLOW_CLIENT_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// A client that sent `START: ` and receives records.
#[derive(Debug)]
pub(super) struct StartedClient {
    /// The session's number, unique for the server's life.
    pub id: u64,
    /// The client's address, for logs.
    pub peer: SocketAddr,
    /// The client's filter; `None` selects every record.
    pub filter: Option<Filter>,
    /// Encoded records waiting for the client's writer thread.
    pub queue: Arc<RecordQueue>,
    /// A handle on the connection, to shut it down when the client falls
    /// behind.
    pub connection: TcpStream,
}

impl StartedClient {
    fn selects_flow(&self, record: &FlowRecord) -> bool {
        self.filter.as_ref().map_or(true, |filter| filter.matches_flow(record))
    }

    fn selects_management(&self) -> bool {
        self.filter.as_ref().map_or(true, Filter::matches_management)
    }
}

/// The encoder, the started clients, and the counts at the previous MAR.
#[derive(Debug)]
pub(super) struct Hub {
    encoder: ArgusEncoder,
    record_bytes: Vec<u8>,
    clients: Vec<StartedClient>,
    /// Time of the previous status MAR, or the sensor start before the first.
    previous_mar_ns: u64,
    /// Sensor totals at the previous status MAR.
    previous_totals: CounterTotals,
    slow_client_log: LogRateLimiter,
}

impl Hub {
    pub fn new(config: &StreamConfig) -> Hub {
        Hub {
            encoder: ArgusEncoder::new(config.source_id),
            record_bytes: Vec::with_capacity(RECORD_BUFFER_BYTES),
            clients: Vec::new(),
            previous_mar_ns: config.sensor_start_ns,
            previous_totals: CounterTotals::default(),
            slow_client_log: LogRateLimiter::new(SLOW_CLIENT_LOG_INTERVAL),
        }
    }

    /// Returns the number of started clients.
    pub fn started_clients(&self) -> usize {
        self.clients.len()
    }

    pub fn add(&mut self, client: StartedClient) {
        self.clients.push(client);
    }

    /// Removes a started client. Returns it, or `None` when it was already
    /// removed (it fell behind, or the server is shutting down).
    pub fn remove(&mut self, id: u64) -> Option<StartedClient> {
        let index = self.clients.iter().position(|client| client.id == id)?;
        Some(self.clients.swap_remove(index))
    }

    /// Removes and returns every started client.
    pub fn take_all(&mut self) -> Vec<StartedClient> {
        std::mem::take(&mut self.clients)
    }

    /// Encodes a flow record and queues it for every client whose filter
    /// selects it. A client whose queue is full is disconnected.
    pub fn publish(&mut self, record: &FlowRecord, config: &StreamConfig, stats: &StatsCounters) {
        self.record_bytes.clear();
        self.encoder.encode_flow(record, &mut self.record_bytes);
        if self.clients.is_empty() {
            return;
        }
        StatsCounters::increment(&stats.records_published);

        let mut shared_bytes: Option<Arc<[u8]>> = None;
        let mut index = 0;
        while index < self.clients.len() {
            if !self.clients[index].selects_flow(record) {
                index += 1;
                continue;
            }
            let bytes = shared_bytes.get_or_insert_with(|| Arc::from(&self.record_bytes[..]));
            index = self.push_or_disconnect(index, Arc::clone(bytes), config, stats);
        }
    }

    /// Queues a status MAR for every client whose filter selects MARs, with
    /// the counts since the previous status MAR.
    pub fn broadcast_status_mar(
        &mut self,
        now_ns: u64,
        totals: CounterTotals,
        connected_clients: usize,
        config: &StreamConfig,
        stats: &StatsCounters,
    ) {
        let counters = self.interval_counters(now_ns, totals, connected_clients, config);
        let mut bytes = Vec::with_capacity(MAR_BYTES);
        self.encoder.encode_status_mar(&counters, &mut bytes);
        let bytes: Arc<[u8]> = Arc::from(bytes);

        let mut index = 0;
        while index < self.clients.len() {
            if !self.clients[index].selects_management() {
                index += 1;
                continue;
            }
            index = self.push_or_disconnect(index, Arc::clone(&bytes), config, stats);
        }
    }

    /// Encodes the closing MAR with the counts since the previous status
    /// MAR.
    pub fn encode_closing_mar(
        &mut self,
        now_ns: u64,
        totals: CounterTotals,
        connected_clients: usize,
        config: &StreamConfig,
    ) -> Arc<[u8]> {
        let counters = self.interval_counters(now_ns, totals, connected_clients, config);
        let mut bytes = Vec::with_capacity(MAR_BYTES);
        self.encoder.encode_closing_mar(&counters, &mut bytes);
        Arc::from(bytes)
    }

    /// Encodes the initial MAR for a new connection.
    ///
    /// Its interval runs from the sensor's start to now, so its counts are
    /// the totals since the start, where argus writes zeros. Clients do not
    /// check these counts; ra prints them on the MAR's line.
    pub fn encode_initial_mar(
        &self,
        now_ns: u64,
        totals: CounterTotals,
        connected_clients: usize,
        config: &StreamConfig,
    ) -> Vec<u8> {
        let counters = mar_counters(config, config.sensor_start_ns, now_ns, &totals, connected_clients);
        let mut bytes = Vec::with_capacity(MAR_BYTES);
        self.encoder.encode_initial_mar(&counters, &mut bytes);
        bytes
    }

    /// Returns the MAR counters of the interval since the previous status
    /// MAR and starts the next interval at `now_ns`.
    fn interval_counters(
        &mut self,
        now_ns: u64,
        totals: CounterTotals,
        connected_clients: usize,
        config: &StreamConfig,
    ) -> MarCounters {
        let interval = totals.since(&self.previous_totals);
        let counters = mar_counters(config, self.previous_mar_ns, now_ns, &interval, connected_clients);
        self.previous_mar_ns = now_ns;
        self.previous_totals = totals;
        counters
    }

    /// Queues `bytes` for the client at `index`. Returns the index of the
    /// next client to visit: `index + 1`, or `index` when the client was
    /// removed and another took its place.
    fn push_or_disconnect(&mut self, index: usize, bytes: Arc<[u8]>, config: &StreamConfig, stats: &StatsCounters) -> usize {
        match self.clients[index].queue.try_push(bytes) {
            Ok(()) => index + 1,
            Err(PushError::Full) => {
                let client = self.clients.swap_remove(index);
                self.disconnect_slow_client(client, config, stats);
                index
            }
            Err(PushError::Closed) => {
                self.clients.swap_remove(index);
                index
            }
        }
    }

    fn disconnect_slow_client(&mut self, client: StartedClient, config: &StreamConfig, stats: &StatsCounters) {
        client.queue.abandon();
        // Shutting down wakes the writer from a blocked write and the session
        // from its read; an error only means the connection is already gone.
        let _ = client.connection.shutdown(Shutdown::Both);
        StatsCounters::increment(&stats.clients_fell_behind);
        if let Some(suppressed) = self.slow_client_log.allow(Instant::now()) {
            tracing::warn!(
                peer = %client.peer,
                queue_capacity_records = config.queue_capacity_records,
                similar_events_not_logged = suppressed,
                "stream client fell behind: its record queue is full; disconnected it"
            );
        }
    }
}

/// Builds the MAR counters for an interval.
fn mar_counters(
    config: &StreamConfig,
    interval_start_ns: u64,
    now_ns: u64,
    counts: &CounterTotals,
    connected_clients: usize,
) -> MarCounters {
    MarCounters {
        interval_start_ns,
        now_ns,
        packets: counts.packets,
        bytes: counts.bytes,
        dropped_packets: counts.dropped_packets,
        new_flows: counts.flows,
        records: counts.records,
        active_flows: counts.active_flows,
        clients: u32::try_from(connected_clients).unwrap_or(u32::MAX),
        flow_status_interval_secs: config.flow_status_interval_secs,
        mar_interval_secs: config.mar_interval_secs,
        ..MarCounters::default()
    }
}
