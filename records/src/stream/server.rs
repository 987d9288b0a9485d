//! The record stream server: its listener, acceptor thread, MAR timer and
//! shutdown.

use std::io::{self, ErrorKind};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use naudit_engine::flow::FlowRecord;

use super::client::{spawn_session, Session};
use super::config::StreamConfig;
use super::counters::SensorCounters;
use super::hub::{Hub, StartedClient};
use super::rate_limit::LogRateLimiter;
use super::stats::{StatsCounters, StreamStats};

/// How often the acceptor checks for a connection and for shutdown.
const ACCEPT_POLL_INTERVAL: Duration = Duration::from_millis(20);
/// How often a waiting caller checks its stop flag.
const WAIT_POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How often shutdown checks whether the clients have closed.
const FLUSH_POLL_INTERVAL: Duration = Duration::from_millis(10);
/// Minimum time between two log lines about failed accepts or rejected
/// connections.
const ACCEPT_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// State shared by the server handle and its threads.
#[derive(Debug)]
pub(super) struct Shared {
    pub config: StreamConfig,
    counters: Arc<SensorCounters>,
    hub: Mutex<Hub>,
    /// Signalled when a client starts, for [`RecordStream::wait_for_clients`].
    clients_changed: Condvar,
    pub stats: StatsCounters,
    /// Connections being served, started or not.
    connected: AtomicUsize,
    /// Sessions the acceptor started; shutdown waits for them.
    sessions: Mutex<Vec<Session>>,
    stopping: AtomicBool,
}

impl Shared {
    fn lock_hub(&self) -> MutexGuard<'_, Hub> {
        // Every change to the hub under its lock leaves it consistent, so a
        // panic in another holder does not make it unusable.
        self.hub.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_sessions(&self) -> MutexGuard<'_, Vec<Session>> {
        self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Encodes the initial MAR for a new connection, with current counts.
    pub fn initial_mar(&self) -> Vec<u8> {
        let totals = self.counters.load();
        let connected = self.connected.load(Ordering::Relaxed);
        self.lock_hub().encode_initial_mar(wall_clock_ns(), totals, connected, &self.config)
    }

    /// Adds a client that sent `START: ` to the receivers of records.
    pub fn register(&self, client: StartedClient) {
        self.lock_hub().add(client);
        StatsCounters::increment(&self.stats.clients_started);
        self.clients_changed.notify_all();
    }

    /// Removes a started client. Returns false when it was already removed.
    pub fn unregister(&self, id: u64) -> bool {
        self.lock_hub().remove(id).is_some()
    }

    /// Counts the end of a session.
    pub fn session_ended(&self) {
        self.connected.fetch_sub(1, Ordering::Relaxed);
    }

    fn send_status_mar(&self) {
        let totals = self.counters.load();
        let connected = self.connected.load(Ordering::Relaxed);
        self.lock_hub().broadcast_status_mar(wall_clock_ns(), totals, connected, &self.config, &self.stats);
    }
}

/// A server of the Argus 3 record stream that ra, racluster and radium read
/// with `-S host:port`.
///
/// Every connection gets the initial MAR at once. After `START: ` the client
/// receives every flow record published from then on that its filter
/// selects, a status MAR every MAR interval, and the closing MAR at
/// [`shutdown`](RecordStream::shutdown). [`publish`](RecordStream::publish)
/// never waits for a client: each client has a bounded queue, a client whose
/// queue is full is disconnected and counted, and the lock that `publish`
/// takes is never held across a blocking call.
///
/// Dropping the server without `shutdown` also stops it, with a closing MAR.
#[derive(Debug)]
pub struct RecordStream {
    shared: Arc<Shared>,
    local_address: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
    /// The MAR timer and the sender whose drop stops it.
    ticker: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl RecordStream {
    /// Binds the listener and starts the acceptor and the MAR timer.
    ///
    /// `counters` are the sensor totals that the caller keeps up to date;
    /// every MAR reports them.
    pub fn bind(config: StreamConfig, counters: Arc<SensorCounters>) -> io::Result<RecordStream> {
        let listener = TcpListener::bind(config.address)?;
        // A non-blocking listener lets the acceptor notice shutdown.
        listener.set_nonblocking(true)?;
        let local_address = listener.local_addr()?;

        let shared = Arc::new(Shared {
            hub: Mutex::new(Hub::new(&config)),
            config,
            counters,
            clients_changed: Condvar::new(),
            stats: StatsCounters::default(),
            connected: AtomicUsize::new(0),
            sessions: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
        });

        let acceptor_shared = Arc::clone(&shared);
        let acceptor =
            thread::Builder::new().name("stream-acceptor".to_string()).spawn(move || accept_loop(&acceptor_shared, &listener))?;

        let mut stream = RecordStream { shared, local_address, acceptor: Some(acceptor), ticker: None };
        let mar_interval_secs = stream.shared.config.mar_interval_secs;
        if mar_interval_secs > 0 {
            let (sender, receiver) = mpsc::channel();
            let ticker_shared = Arc::clone(&stream.shared);
            let interval = Duration::from_secs(u64::from(mar_interval_secs));
            let ticker = thread::Builder::new()
                .name("stream-mar-timer".to_string())
                .spawn(move || tick_loop(&ticker_shared, interval, &receiver))?;
            stream.ticker = Some((sender, ticker));
        }

        tracing::info!(address = %local_address, mar_interval_secs, "record stream listening");
        Ok(stream)
    }

    /// Returns the address the server listens on, with the port it got when
    /// the configured port was 0.
    pub fn local_address(&self) -> SocketAddr {
        self.local_address
    }

    /// Encodes a flow record and queues it for every started client whose
    /// filter selects it. Never waits for a client's I/O.
    pub fn publish(&self, record: &FlowRecord) {
        self.shared.lock_hub().publish(record, &self.shared.config, &self.shared.stats);
    }

    /// Waits until at least `count` clients have sent `START: ` and are
    /// receiving records. Returns false, without waiting further, once
    /// `stop` is raised.
    pub fn wait_for_clients(&self, count: usize, stop: &AtomicBool) -> bool {
        let mut hub = self.shared.lock_hub();
        loop {
            if hub.started_clients() >= count {
                return true;
            }
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            hub = match self.shared.clients_changed.wait_timeout(hub, WAIT_POLL_INTERVAL) {
                Ok((hub, _)) => hub,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Returns the client and record counts so far.
    pub fn stats(&self) -> StreamStats {
        self.shared.stats.snapshot()
    }

    /// Stops accepting, sends the closing MAR to every started client, waits
    /// up to the flush timeout for clients to take their last records and
    /// close, then closes every connection. Returns the final counts.
    ///
    /// The closing MAR reports the sensor totals stored in the shared
    /// counters, so store the final totals before calling this.
    pub fn shutdown(mut self) -> StreamStats {
        self.stop();
        self.stats()
    }

    fn stop(&mut self) {
        let Some(acceptor) = self.acceptor.take() else {
            return;
        };
        let shared = &self.shared;
        shared.stopping.store(true, Ordering::Release);
        if acceptor.join().is_err() {
            tracing::error!("stream acceptor thread panicked");
        }
        if let Some((sender, ticker)) = self.ticker.take() {
            drop(sender);
            if ticker.join().is_err() {
                tracing::error!("stream MAR timer thread panicked");
            }
        }

        let clients = {
            let totals = shared.counters.load();
            let connected = shared.connected.load(Ordering::Relaxed);
            let mut hub = shared.lock_hub();
            let closing = hub.encode_closing_mar(wall_clock_ns(), totals, connected, &shared.config);
            let clients = hub.take_all();
            for client in &clients {
                client.queue.finish(Some(Arc::clone(&closing)));
            }
            clients
        };

        let sessions = std::mem::take(&mut *shared.lock_sessions());
        // Connections still in their handshake get no records: close them.
        for session in sessions.iter().filter(|session| !session.started.load(Ordering::Acquire)) {
            let _ = session.connection.shutdown(Shutdown::Both);
        }
        let unfinished = wait_for_sessions(&sessions, shared.config.flush_timeout);
        if unfinished > 0 {
            tracing::warn!(
                clients = unfinished,
                flush_timeout_ms = shared.config.flush_timeout.as_millis() as u64,
                "stream clients did not close within the flush timeout; closed their connections"
            );
        }
        for session in sessions {
            let _ = session.connection.shutdown(Shutdown::Both);
            if session.thread.join().is_err() {
                tracing::error!(peer = %session.peer, "stream client thread panicked");
            }
        }

        let stats = shared.stats.snapshot();
        tracing::info!(
            address = %self.local_address,
            closing_mar_clients = clients.len(),
            clients_accepted = stats.clients_accepted,
            clients_fell_behind = stats.clients_fell_behind,
            "record stream stopped"
        );
    }
}

impl Drop for RecordStream {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until every session thread has ended or `timeout` has passed.
/// Returns the number still running.
fn wait_for_sessions(sessions: &[Session], timeout: Duration) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let running = sessions.iter().filter(|session| !session.thread.is_finished()).count();
        if running == 0 || Instant::now() >= deadline {
            return running;
        }
        thread::sleep(FLUSH_POLL_INTERVAL);
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    let mut next_id: u64 = 1;
    let mut error_log = LogRateLimiter::new(ACCEPT_LOG_INTERVAL);
    let mut rejection_log = LogRateLimiter::new(ACCEPT_LOG_INTERVAL);

    while !shared.stopping.load(Ordering::Acquire) {
        let (connection, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) if error.kind() == ErrorKind::WouldBlock => {
                thread::sleep(ACCEPT_POLL_INTERVAL);
                continue;
            }
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => {
                // Typically too many open files; accepting again at once would
                // fail again.
                if let Some(suppressed) = error_log.allow(Instant::now()) {
                    tracing::warn!(%error, similar_events_not_logged = suppressed, "accepting a stream client failed");
                }
                thread::sleep(ACCEPT_POLL_INTERVAL);
                continue;
            }
        };

        if shared.connected.load(Ordering::Relaxed) >= shared.config.max_clients {
            StatsCounters::increment(&shared.stats.clients_rejected);
            if let Some(suppressed) = rejection_log.allow(Instant::now()) {
                tracing::warn!(
                    %peer,
                    max_clients = shared.config.max_clients,
                    similar_events_not_logged = suppressed,
                    "rejected stream client: too many clients connected; closed the connection"
                );
            }
            continue;
        }

        let id = next_id;
        next_id += 1;
        if let Err(error) = start_session(shared, connection, peer, id) {
            tracing::warn!(%peer, %error, "could not serve stream client; closed the connection");
        }
    }
}

fn start_session(shared: &Arc<Shared>, connection: TcpStream, peer: SocketAddr, id: u64) -> io::Result<()> {
    // Accepted sockets are blocking on Linux, but not on every platform.
    connection.set_nonblocking(false)?;
    connection.set_nodelay(true)?;

    shared.connected.fetch_add(1, Ordering::Relaxed);
    StatsCounters::increment(&shared.stats.clients_accepted);
    tracing::info!(%peer, "stream client connected");
    let session = match spawn_session(Arc::clone(shared), connection, peer, id) {
        Ok(session) => session,
        Err(error) => {
            shared.session_ended();
            return Err(error);
        }
    };

    let mut sessions = shared.lock_sessions();
    sessions.retain(|session| !session.thread.is_finished());
    sessions.push(session);
    Ok(())
}

fn tick_loop(shared: &Shared, interval: Duration, stop: &mpsc::Receiver<()>) {
    let mut next_tick = Instant::now() + interval;
    loop {
        match stop.recv_timeout(next_tick.saturating_duration_since(Instant::now())) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        shared.send_status_mar();
        next_tick += interval;
        let now = Instant::now();
        if next_tick <= now {
            // The machine was suspended or the thread starved: skip the
            // missed ticks rather than send a burst of MARs.
            next_tick = now + interval;
        }
    }
}

/// Returns the wall-clock time in nanoseconds since the Unix epoch. MARs
/// report when the sensor ran, not packet time.
fn wall_clock_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::{SourceId, MAR_BYTES};
    use crate::stream::counters::CounterTotals;
    use naudit_engine::flow::{DirectionStats, FlowKey, RecordCause};
    use std::io::{Read, Write};
    use std::net::{IpAddr, Ipv4Addr};

    const TEST_TIMEOUT: Duration = Duration::from_secs(20);

    fn config() -> StreamConfig {
        let address = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        let mut config = StreamConfig::new(address, SourceId::Integer(7), 1_000_000_000);
        config.mar_interval_secs = 0;
        config.flush_timeout = Duration::from_secs(1);
        config
    }

    fn flow(protocol: u8) -> FlowRecord {
        let address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        FlowRecord {
            key: FlowKey::Ip { src: address, dst: address, protocol, src_port: 1, dst_port: 2, tunnel: Default::default() },
            cause: RecordCause::Closed,
            start_ns: 1_000_000_000,
            last_ns: 2_000_000_000,
            src: DirectionStats { pkts: 1, bytes: 60, ..DirectionStats::default() },
            dst: DirectionStats::default(),
            tcp: None,
            arp_reply_mac: None,
            icmp_error: None,
            encapsulation: [0; 2],
            mpls_label: [None; 2],
            report_index: 0,
            worker_id: 0,
            tunnel: None,
            ib: None,
        }
    }

    fn connect(stream: &RecordStream) -> TcpStream {
        let client = TcpStream::connect(stream.local_address()).expect("connect");
        client.set_read_timeout(Some(TEST_TIMEOUT)).unwrap();
        client
    }

    fn read_bytes(client: &mut TcpStream, length: usize) -> Vec<u8> {
        let mut bytes = vec![0; length];
        client.read_exact(&mut bytes).expect("read");
        bytes
    }

    fn u32_at(bytes: &[u8], offset: usize) -> u32 {
        u32::from_be_bytes(bytes[offset..offset + 4].try_into().unwrap())
    }

    /// Starts a client with `messages` and waits until the server lists it.
    fn started_client(stream: &RecordStream, messages: &[&str]) -> TcpStream {
        let mut client = connect(stream);
        read_bytes(&mut client, MAR_BYTES);
        for message in messages {
            client.write_all(message.as_bytes()).unwrap();
            if message.starts_with("FILTER") {
                assert_eq!(read_bytes(&mut client, 2), b"OK");
            }
        }
        client.write_all(b"START: ").unwrap();
        let never = AtomicBool::new(false);
        assert!(stream.wait_for_clients(1, &never));
        client
    }

    #[test]
    fn initial_mar_reports_totals_and_clients() {
        let counters = Arc::new(SensorCounters::new());
        let totals = CounterTotals { packets: 10, bytes: 1000, dropped_packets: 1, flows: 3, records: 2, active_flows: 1 };
        counters.store(&totals);
        let stream = RecordStream::bind(config(), Arc::clone(&counters)).unwrap();

        let mut client = connect(&stream);
        let mar = read_bytes(&mut client, MAR_BYTES);
        assert_eq!(&mar[..4], [0x83, 0x10, 0x00, 0x20]);
        assert_eq!(&mar[8..12], crate::argus::ARGUS_V3_COOKIE);
        assert_eq!(u32_at(&mar, 24), 1, "start time: the sensor's start");
        assert_eq!(&mar[48..56], 10u64.to_be_bytes(), "packets since the start");
        assert_eq!(u32_at(&mar, 72), 2, "records");
        assert_eq!(u32_at(&mar, 92), 1, "connected clients");
        assert_eq!(u32_at(&mar, 120), 7, "source id");
        drop(client);
        stream.shutdown();
    }

    #[test]
    fn filtered_records_then_closing_mar() {
        let counters = Arc::new(SensorCounters::new());
        let stream = RecordStream::bind(config(), Arc::clone(&counters)).unwrap();
        let mut client = started_client(&stream, &["FILTER: man or (udp)"]);
        // Reading concurrently lets the client close as soon as the stream
        // ends, as ra does, so shutdown need not wait for the flush timeout.
        let reader = thread::spawn(move || {
            let mut received = Vec::new();
            client.read_to_end(&mut received).map(|_| received)
        });

        stream.publish(&flow(6));
        stream.publish(&flow(17));
        counters.store(&CounterTotals { records: 2, ..CounterTotals::default() });
        let stats = stream.shutdown();

        let received = reader.join().unwrap().unwrap();
        let far_bytes = usize::from(u16::from_be_bytes([received[2], received[3]])) * 4;
        assert_eq!(&received[..2], [0x13, 0x30], "the UDP flow record, cause closed");
        assert_eq!(u32_at(&received, 12), 2, "sequence number 2: the TCP record got 1");
        let closing = &received[far_bytes..];
        assert_eq!(closing.len(), MAR_BYTES, "nothing after the closing MAR");
        assert_eq!(&closing[..2], [0x83, 0x30]);
        assert_eq!(u32_at(closing, 72), 2, "records in the closing interval");
        assert_eq!(stats.clients_started, 1);
        assert_eq!(stats.records_published, 2);
    }

    #[test]
    fn status_mar_every_interval() {
        let counters = Arc::new(SensorCounters::new());
        let stream = RecordStream::bind(StreamConfig { mar_interval_secs: 1, ..config() }, Arc::clone(&counters)).unwrap();
        let mut client = started_client(&stream, &[]);
        counters.store(&CounterTotals { packets: 5, ..CounterTotals::default() });

        let first = read_bytes(&mut client, MAR_BYTES);
        assert_eq!(&first[..2], [0x83, 0x20], "status MAR");
        assert_eq!(&first[46..48], 1u16.to_be_bytes(), "MAR interval");
        counters.store(&CounterTotals { packets: 8, ..CounterTotals::default() });
        let second = read_bytes(&mut client, MAR_BYTES);
        let packets = |mar: &[u8]| u64::from_be_bytes(mar[48..56].try_into().unwrap());
        assert_eq!(packets(&first) + packets(&second), 8, "deltas add up to the total");
        assert_eq!(packets(&second), 3);
        drop(client);
        stream.shutdown();
    }

    #[test]
    fn full_queue_disconnects_client_without_blocking() {
        let counters = Arc::new(SensorCounters::new());
        let stream =
            RecordStream::bind(StreamConfig { queue_capacity_records: 4, ..config() }, Arc::clone(&counters)).unwrap();
        let _client = started_client(&stream, &[]);

        // The client reads nothing: once the socket buffers are full, the
        // queue fills and the client is dropped.
        let started = Instant::now();
        while stream.stats().clients_fell_behind == 0 {
            for _ in 0..1000 {
                stream.publish(&flow(17));
            }
            assert!(started.elapsed() < TEST_TIMEOUT, "the stalled client was never disconnected");
        }
        stream.publish(&flow(17));
        assert_eq!(stream.stats().clients_fell_behind, 1);
        stream.shutdown();
    }

    #[test]
    fn silent_client_is_closed_after_start_timeout() {
        let counters = Arc::new(SensorCounters::new());
        let config = StreamConfig { start_timeout: Duration::from_millis(100), ..config() };
        let stream = RecordStream::bind(config, counters).unwrap();
        let mut client = connect(&stream);
        read_bytes(&mut client, MAR_BYTES);
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
        assert_eq!(stream.shutdown().clients_started, 0);
    }

    #[test]
    fn connection_beyond_max_clients_is_rejected() {
        let counters = Arc::new(SensorCounters::new());
        let stream = RecordStream::bind(StreamConfig { max_clients: 1, ..config() }, counters).unwrap();
        let mut first = connect(&stream);
        read_bytes(&mut first, MAR_BYTES);
        let mut second = connect(&stream);
        let mut received = Vec::new();
        second.read_to_end(&mut received).unwrap();
        assert!(received.is_empty(), "the rejected client got {} bytes", received.len());
        assert_eq!(stream.shutdown().clients_rejected, 1);
    }

    #[test]
    fn wait_for_clients_returns_on_stop() {
        let stream = RecordStream::bind(config(), Arc::new(SensorCounters::new())).unwrap();
        let stop = AtomicBool::new(true);
        assert!(!stream.wait_for_clients(1, &stop));
        assert!(stream.wait_for_clients(0, &stop), "zero clients are always there");
    }
}
