//! The exporting thread shared by the UDP and TCP exporters: a bounded
//! queue from the capture side, message packing, and the counters.
//!
//! The capture side only enqueues records. When the queue is full the
//! record is dropped and counted, so a slow or absent collector never
//! stalls capture.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use naudit_engine::flow::FlowRecord;

use super::session::{export_time_now, ExportSession};
use crate::stream::rate_limit::LogRateLimiter;

/// How long a record may wait in an unfinished message before it is sent.
const FLUSH_INTERVAL: Duration = Duration::from_millis(500);
/// How often a disconnected exporter checks for shutdown while it waits to
/// reconnect.
const RECONNECT_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// One log line per this interval for repeated drops and send errors.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Settings of a UDP or TCP exporter.
#[derive(Clone, Copy, Debug)]
pub struct ExporterConfig {
    /// Observation domain id of every message.
    pub observation_domain_id: u32,
    /// Path MTU toward the collector, in bytes. UDP messages are at most
    /// this size minus the IP and UDP headers.
    pub path_mtu: usize,
    /// UDP only: resend the templates when this much time has passed since
    /// they were last sent. Zero turns the time-based refresh off.
    pub template_refresh: Duration,
    /// UDP only: resend the templates before every this many messages.
    /// Zero turns the count-based refresh off.
    pub template_refresh_messages: u32,
    /// Records the queue from the capture side holds.
    pub queue_records: usize,
}

/// Counts of an exporter, shared between the capture side and its thread.
#[derive(Debug, Default)]
pub struct ExportCounters {
    records_queued: AtomicU64,
    records_dropped: AtomicU64,
    records_discarded: AtomicU64,
    messages_sent: AtomicU64,
    data_records_sent: AtomicU64,
    template_records_sent: AtomicU64,
    withdrawals_sent: AtomicU64,
    records_without_template: AtomicU64,
    send_errors: AtomicU64,
    connections: AtomicU64,
}

/// A snapshot of [`ExportCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Records accepted into the queue.
    pub records_queued: u64,
    /// Records dropped because the queue was full.
    pub records_dropped: u64,
    /// Records taken from the queue but never sent: in a message whose
    /// send failed, or left when a disconnected TCP exporter shut down.
    pub records_discarded: u64,
    /// Messages sent, templates included.
    pub messages_sent: u64,
    /// Data records in the messages sent.
    pub data_records_sent: u64,
    /// Template records in the messages sent, refreshes and the templates
    /// of each new TCP connection included.
    pub template_records_sent: u64,
    /// Template withdrawal messages sent (TCP only, one per clean close).
    pub withdrawals_sent: u64,
    /// Records of a kind that no template carries, not exported.
    pub records_without_template: u64,
    /// Failed sends and, for TCP, failed connection attempts.
    pub send_errors: u64,
    /// TCP connections established.
    pub connections: u64,
}

impl ExportCounters {
    pub(crate) fn note_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn note_send_error(&self) {
        self.send_errors.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> ExportStats {
        ExportStats {
            records_queued: self.records_queued.load(Ordering::Relaxed),
            records_dropped: self.records_dropped.load(Ordering::Relaxed),
            records_discarded: self.records_discarded.load(Ordering::Relaxed),
            messages_sent: self.messages_sent.load(Ordering::Relaxed),
            data_records_sent: self.data_records_sent.load(Ordering::Relaxed),
            template_records_sent: self.template_records_sent.load(Ordering::Relaxed),
            withdrawals_sent: self.withdrawals_sent.load(Ordering::Relaxed),
            records_without_template: self.records_without_template.load(Ordering::Relaxed),
            send_errors: self.send_errors.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
        }
    }
}

/// The operations the exporting thread needs from a transport.
pub(crate) trait Transport: Send + 'static {
    /// Returns true when the transport can send now. A TCP transport
    /// tries to connect here when its backoff has passed.
    fn ensure_connected(&mut self, counters: &ExportCounters) -> bool;
    /// Returns true when the last [`Transport::ensure_connected`] opened a
    /// new connection, which needs a new session with its own templates
    /// and sequence numbers.
    fn take_new_connection(&mut self) -> bool;
    /// Sends one message. A TCP transport closes its connection on error.
    fn send(&mut self, message: &[u8]) -> io::Result<()>;
    /// Returns true while the transport has a connection (always for UDP).
    fn is_connected(&self) -> bool;
    /// Largest message, in bytes.
    fn max_message_length(&self) -> usize;
    /// Returns true when the templates must be sent again before the next
    /// message (UDP refresh).
    fn templates_due(&mut self, now: Instant) -> bool;
    /// Records that the templates were sent at `now`.
    fn templates_sent(&mut self, now: Instant);
    /// True for transports where RFC 7011 allows template withdrawal.
    fn withdraws_templates(&self) -> bool;
    /// Names the collector in messages.
    fn describe(&self) -> String;
}

/// A UDP or TCP exporter: the capture side's handle to the exporting
/// thread.
pub struct IpfixExporter {
    sender: Option<SyncSender<FlowRecord>>,
    closing: Arc<AtomicBool>,
    counters: Arc<ExportCounters>,
    thread: Option<JoinHandle<()>>,
    drop_log: LogRateLimiter,
    destination: String,
}

impl IpfixExporter {
    /// Starts the exporting thread for `transport`.
    pub(crate) fn start(transport: impl Transport, config: &ExporterConfig) -> io::Result<IpfixExporter> {
        let (sender, receiver) = mpsc::sync_channel(config.queue_records.max(1));
        let closing = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(ExportCounters::default());
        let destination = transport.describe();
        let thread = {
            let (closing, counters, config) = (Arc::clone(&closing), Arc::clone(&counters), *config);
            std::thread::Builder::new()
                .name("ipfix-export".to_string())
                .spawn(move || export_loop(transport, &config, &receiver, &closing, &counters))?
        };
        Ok(IpfixExporter {
            sender: Some(sender),
            closing,
            counters,
            thread: Some(thread),
            drop_log: LogRateLimiter::new(LOG_INTERVAL),
            destination,
        })
    }

    /// Queues one record, or drops and counts it when the queue is full.
    pub fn export(&mut self, record: &FlowRecord) {
        let Some(sender) = &self.sender else { return };
        match sender.try_send(*record) {
            Ok(()) => {
                self.counters.records_queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                let dropped = self.counters.records_dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if let Some(suppressed) = self.drop_log.allow(Instant::now()) {
                    tracing::warn!(
                        collector = %self.destination,
                        dropped,
                        suppressed,
                        "IPFIX export queue full; dropping records"
                    );
                }
            }
        }
    }

    /// Returns the collector's URL, as `udp://ADDRESS:PORT` or
    /// `tcp://ADDRESS:PORT`.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// Returns the counts so far.
    pub fn stats(&self) -> ExportStats {
        self.counters.snapshot()
    }

    /// Sends what is queued, withdraws the templates over TCP, closes the
    /// transport and returns the counts. A TCP exporter without a
    /// connection makes one more connection attempt, then discards the
    /// queue.
    pub fn finish(mut self) -> ExportStats {
        self.closing.store(true, Ordering::Relaxed);
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!(collector = %self.destination, "the IPFIX export thread panicked");
            }
        }
        self.counters.snapshot()
    }
}

/// State of the exporting thread.
struct Exporter<T: Transport> {
    transport: T,
    config: ExporterConfig,
    session: Option<ExportSession>,
    messages: Vec<Vec<u8>>,
    error_log: LogRateLimiter,
}

impl<T: Transport> Exporter<T> {
    /// Connects when needed, and starts a session with its templates on a
    /// new connection. Returns false when the transport cannot send yet.
    fn prepare(&mut self, counters: &ExportCounters) -> bool {
        if !self.transport.ensure_connected(counters) {
            return false;
        }
        if self.transport.take_new_connection() || self.session.is_none() {
            match ExportSession::new(self.config.observation_domain_id, self.transport.max_message_length()) {
                Ok(session) => self.session = Some(session),
                Err(message) => {
                    tracing::error!(collector = %self.transport.describe(), %message, "IPFIX export stopped");
                    return false;
                }
            }
            self.add_templates();
        }
        true
    }

    fn add_templates(&mut self) {
        if let Some(session) = &mut self.session {
            let now = export_time_now();
            session.flush(now, &mut self.messages);
            session.add_templates(now, &mut self.messages);
            self.transport.templates_sent(Instant::now());
        }
    }

    fn add_flow(&mut self, record: &FlowRecord, counters: &ExportCounters) {
        if self.transport.templates_due(Instant::now()) {
            self.add_templates();
        }
        if let Some(session) = &mut self.session {
            if !session.add_flow(record, export_time_now(), &mut self.messages) {
                counters.records_without_template.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn flush(&mut self) {
        if let Some(session) = &mut self.session {
            session.flush(export_time_now(), &mut self.messages);
        }
    }

    /// Sends the finished messages in order. When a send fails and the
    /// connection closed, the remaining messages and the session are
    /// discarded, because a new connection starts with new templates.
    fn send_messages(&mut self, counters: &ExportCounters) {
        let mut index = 0;
        while index < self.messages.len() {
            let result = self.transport.send(&self.messages[index]);
            index += 1;
            match result {
                Ok(()) => {
                    let sent = record_counts(&self.messages[index - 1]);
                    counters.messages_sent.fetch_add(1, Ordering::Relaxed);
                    counters.data_records_sent.fetch_add(sent.data_records, Ordering::Relaxed);
                    counters.template_records_sent.fetch_add(sent.template_records, Ordering::Relaxed);
                    counters.withdrawals_sent.fetch_add(sent.withdrawals, Ordering::Relaxed);
                }
                Err(error) => {
                    counters.send_errors.fetch_add(1, Ordering::Relaxed);
                    let lost = record_counts(&self.messages[index - 1]).data_records;
                    counters.records_discarded.fetch_add(lost, Ordering::Relaxed);
                    if let Some(suppressed) = self.error_log.allow(Instant::now()) {
                        tracing::warn!(
                            collector = %self.transport.describe(),
                            %error,
                            suppressed,
                            "sending an IPFIX message failed"
                        );
                    }
                    if !self.transport.is_connected() {
                        self.messages.drain(..index);
                        self.discard_session(counters);
                        return;
                    }
                }
            }
        }
        self.messages.clear();
    }

    /// Drops the session and its unsent records after a lost connection.
    fn discard_session(&mut self, counters: &ExportCounters) {
        self.flush();
        for message in self.messages.drain(..) {
            counters.records_discarded.fetch_add(record_counts(&message).data_records, Ordering::Relaxed);
        }
        self.session = None;
    }
}

/// The records of one message, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MessageRecordCounts {
    pub data_records: u64,
    pub template_records: u64,
    pub withdrawals: u64,
}

/// Counts the records of a message that nauditd built. A data set holds
/// records of the fixed length of its template. In a template set, a
/// template record with field count 0 is a withdrawal.
pub(crate) fn record_counts(message: &[u8]) -> MessageRecordCounts {
    use super::message::{MESSAGE_HEADER_LENGTH, SET_HEADER_LENGTH};
    use super::template::{all_templates, TEMPLATE_SET_ID};

    let templates = all_templates();
    let mut counts = MessageRecordCounts::default();
    let mut offset = MESSAGE_HEADER_LENGTH;
    while offset + SET_HEADER_LENGTH <= message.len() {
        let set_id = u16::from_be_bytes([message[offset], message[offset + 1]]);
        let set_length = usize::from(u16::from_be_bytes([message[offset + 2], message[offset + 3]]));
        if set_length < SET_HEADER_LENGTH || offset + set_length > message.len() {
            break;
        }
        let body = &message[offset + SET_HEADER_LENGTH..offset + set_length];
        if set_id == TEMPLATE_SET_ID {
            count_template_records(body, &mut counts);
        } else if let Some(template) = templates.iter().find(|template| template.id == set_id) {
            counts.data_records += (body.len() / template.record_length()) as u64;
        }
        offset += set_length;
    }
    counts
}

/// Walks the template records of a template set body: template id, field
/// count, then 4 bytes per field specifier and 4 more for an enterprise
/// number.
fn count_template_records(body: &[u8], counts: &mut MessageRecordCounts) {
    let mut offset = 0;
    while offset + 4 <= body.len() {
        let field_count = usize::from(u16::from_be_bytes([body[offset + 2], body[offset + 3]]));
        offset += 4;
        if field_count == 0 {
            counts.withdrawals += 1;
            continue;
        }
        for _ in 0..field_count {
            let Some(id_bytes) = body.get(offset..offset + 2) else { return };
            let enterprise = id_bytes[0] & 0x80 != 0;
            offset += if enterprise { 8 } else { 4 };
        }
        counts.template_records += 1;
    }
}

/// Runs the exporting thread: takes records from the queue, packs them,
/// sends the messages, and on shutdown sends the rest and withdraws the
/// templates where the transport allows it.
fn export_loop<T: Transport>(
    transport: T,
    config: &ExporterConfig,
    receiver: &Receiver<FlowRecord>,
    closing: &AtomicBool,
    counters: &ExportCounters,
) {
    let mut exporter = Exporter {
        transport,
        config: *config,
        session: None,
        messages: Vec::new(),
        error_log: LogRateLimiter::new(LOG_INTERVAL),
    };
    tracing::info!(collector = %exporter.transport.describe(), "IPFIX export started");
    let mut oldest_pending: Option<Instant> = None;
    loop {
        if !exporter.prepare(counters) {
            if closing.load(Ordering::Relaxed) {
                break;
            }
            std::thread::sleep(RECONNECT_POLL_INTERVAL);
            continue;
        }
        exporter.send_messages(counters);

        let wait = oldest_pending.map_or(FLUSH_INTERVAL, |since| FLUSH_INTERVAL.saturating_sub(since.elapsed()));
        match receiver.recv_timeout(wait) {
            Ok(record) => {
                exporter.add_flow(&record, counters);
                oldest_pending.get_or_insert_with(Instant::now);
                while let Ok(record) = receiver.try_recv() {
                    exporter.add_flow(&record, counters);
                    if exporter.messages.len() >= 8 {
                        break;
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                exporter.flush();
                oldest_pending = None;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if oldest_pending.is_some_and(|since| since.elapsed() >= FLUSH_INTERVAL) {
            exporter.flush();
            oldest_pending = None;
        }
        exporter.send_messages(counters);
    }

    // Shutdown: send what is left over the current connection, or over one
    // last connection attempt.
    if exporter.prepare(counters) {
        while let Ok(record) = receiver.try_recv() {
            exporter.add_flow(&record, counters);
        }
        if exporter.transport.withdraws_templates() {
            if let Some(session) = &mut exporter.session {
                session.withdraw_templates(export_time_now(), &mut exporter.messages);
            }
        } else {
            exporter.flush();
        }
        exporter.send_messages(counters);
    }
    let left = receiver.try_iter().count() as u64;
    counters.records_discarded.fetch_add(left, Ordering::Relaxed);
    exporter.discard_session(counters);
    let stats = counters.snapshot();
    tracing::info!(
        collector = %exporter.transport.describe(),
        messages = stats.messages_sent,
        dropped = stats.records_dropped,
        discarded = stats.records_discarded,
        send_errors = stats.send_errors,
        "IPFIX export stopped"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfix::session::ExportSession;

    #[test]
    fn record_counts_of_templates_and_withdrawal() {
        let mut session = ExportSession::new(1, crate::ipfix::message::MAX_MESSAGE_LENGTH).unwrap();
        let mut messages = Vec::new();
        session.add_templates(0, &mut messages);
        session.withdraw_templates(0, &mut messages);
        assert_eq!(messages.len(), 2);
        let templates = record_counts(&messages[0]);
        assert_eq!(templates, MessageRecordCounts { data_records: 0, template_records: 12, withdrawals: 0 });
        let withdrawal = record_counts(&messages[1]);
        assert_eq!(withdrawal, MessageRecordCounts { data_records: 0, template_records: 0, withdrawals: 1 });
    }
}
