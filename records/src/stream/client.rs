//! One client connection: the handshake, then a writer thread that sends
//! the client's queued records while the session thread reads what the
//! client sends.
//!
//! The handshake sends the initial MAR at once and replies to `FILTER: `
//! with `OK`, or with `SY` and a close for an expression that does not
//! parse. It waits for `START: ` for at most the start timeout. From `START: ` on the client
//! is registered with the hub and receives every record published after
//! that. The session ends when the client closes the connection or sends
//! `DONE: `, or when the server shuts the connection down.

use std::io::{self, BufWriter, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use super::filter::Filter;
use super::hub::StartedClient;
use super::protocol::{parse_messages, ClientMessage, REPLY_OK, REPLY_SYNTAX_ERROR};
use super::queue::RecordQueue;
use super::server::Shared;
use super::stats::StatsCounters;

/// Size of the buffer for client messages: a `FILTER: ` message of the
/// longest accepted expression fits.
const READ_BUFFER_BYTES: usize = 8192;
/// Size of the buffer between a client's queue and its socket.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// A connection being served, as the server keeps track of it.
#[derive(Debug)]
pub(super) struct Session {
    /// The client's address, for logs.
    pub peer: SocketAddr,
    /// A handle on the connection, to shut it down on server shutdown.
    pub connection: TcpStream,
    /// Set once the client sent `START: `.
    pub started: Arc<AtomicBool>,
    /// The session thread; it joins the writer thread before it ends.
    pub thread: JoinHandle<()>,
}

/// The reason a session ended.
#[derive(Debug)]
enum SessionEnd {
    /// The client closed the connection, or the server shut it down.
    Closed,
    /// The client sent `DONE: `.
    Done,
    /// The client did not send `START: ` within the start timeout.
    StartTimeout,
    /// The client's filter did not parse, so the server replied `SY`.
    FilterRejected,
    /// The client asked for a server-side file, which is not supported.
    FileRequested,
    /// Reading from or writing to the connection failed.
    Failed(io::Error),
}

impl SessionEnd {
    fn describe(&self) -> String {
        match self {
            SessionEnd::Closed => "connection closed".to_string(),
            SessionEnd::Done => "client sent DONE".to_string(),
            SessionEnd::StartTimeout => "no START message within the start timeout".to_string(),
            SessionEnd::FilterRejected => "filter rejected".to_string(),
            SessionEnd::FileRequested => "client requested a server file, which is not supported".to_string(),
            SessionEnd::Failed(error) => format!("I/O error: {error}"),
        }
    }
}

/// Starts serving an accepted connection on its own thread.
pub(super) fn spawn_session(shared: Arc<Shared>, connection: TcpStream, peer: SocketAddr, id: u64) -> io::Result<Session> {
    let started = Arc::new(AtomicBool::new(false));
    let session_connection = connection.try_clone()?;
    let session_started = Arc::clone(&started);
    let thread = thread::Builder::new()
        .name(format!("stream-client-{id}"))
        .spawn(move || run_session(&shared, session_connection, peer, id, &session_started))?;
    Ok(Session { peer, connection, started, thread })
}

fn run_session(shared: &Shared, connection: TcpStream, peer: SocketAddr, id: u64, started: &AtomicBool) {
    let end = match handshake(shared, &connection, peer) {
        Ok(filter) => {
            started.store(true, Ordering::Release);
            stream_records(shared, connection, peer, id, filter)
        }
        Err(end) => {
            let _ = connection.shutdown(Shutdown::Both);
            end
        }
    };
    shared.session_ended();
    tracing::info!(%peer, reason = end.describe(), "stream client disconnected");
}

/// Sends the initial MAR and reads messages until `START: `. Returns the
/// client's filter.
fn handshake(shared: &Shared, connection: &TcpStream, peer: SocketAddr) -> Result<Option<Filter>, SessionEnd> {
    let config = &shared.config;
    let deadline = Instant::now() + config.start_timeout;
    let mut writer = connection;
    writer.set_write_timeout(Some(config.start_timeout)).map_err(SessionEnd::Failed)?;
    writer.write_all(&shared.initial_mar()).map_err(SessionEnd::Failed)?;

    let mut filter = None;
    let mut buffer = vec![0u8; READ_BUFFER_BYTES];
    // Only the first unknown message of a connection is logged, so a client
    // cannot flood the log.
    let mut unknown_logged = false;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(SessionEnd::StartTimeout);
        }
        connection.set_read_timeout(Some(remaining)).map_err(SessionEnd::Failed)?;
        let length = match (&*connection).read(&mut buffer) {
            Ok(0) => return Err(SessionEnd::Closed),
            Ok(length) => length,
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(SessionEnd::StartTimeout);
            }
            Err(error) => return Err(SessionEnd::Failed(error)),
        };

        for message in parse_messages(&buffer[..length]) {
            match message {
                ClientMessage::Filter(expression) => {
                    filter = Some(accept_filter(shared, &mut writer, peer, expression)?);
                }
                ClientMessage::Start => return Ok(filter),
                ClientMessage::Done => return Err(SessionEnd::Done),
                ClientMessage::File(path) => {
                    tracing::info!(%peer, path, "stream client requested a server file; replay of files is not supported");
                    return Err(SessionEnd::FileRequested);
                }
                ClientMessage::Ignored(name) => tracing::debug!(%peer, message = name, "ignored stream client message"),
                ClientMessage::Unknown(text) if !unknown_logged => {
                    unknown_logged = true;
                    tracing::warn!(%peer, message = text, "unknown message from stream client; ignored it");
                }
                ClientMessage::Unknown(text) => tracing::debug!(%peer, message = text, "ignored unknown message"),
            }
        }
    }
}

/// Parses a client's filter and replies `OK`, or `SY` when it does not
/// parse.
fn accept_filter(
    shared: &Shared,
    writer: &mut &TcpStream,
    peer: SocketAddr,
    expression: &str,
) -> Result<Filter, SessionEnd> {
    match Filter::parse(expression) {
        Ok(filter) => {
            writer.write_all(REPLY_OK).map_err(SessionEnd::Failed)?;
            Ok(filter)
        }
        Err(error) => {
            StatsCounters::increment(&shared.stats.filters_rejected);
            tracing::warn!(%peer, expression, %error, "rejected stream client filter; replied with a syntax error");
            // The client disconnects on this reply, so a failed write changes
            // nothing.
            let _ = writer.write_all(REPLY_SYNTAX_ERROR);
            Err(SessionEnd::FilterRejected)
        }
    }
}

/// Registers the started client, runs its writer thread, and reads until
/// the connection ends.
fn stream_records(
    shared: &Shared,
    connection: TcpStream,
    peer: SocketAddr,
    id: u64,
    filter: Option<Filter>,
) -> SessionEnd {
    let queue = Arc::new(RecordQueue::new(shared.config.queue_capacity_records));
    let clones = connection.try_clone().and_then(|writer| Ok((writer, connection.try_clone()?)));
    let (writer_connection, hub_connection) = match clones {
        Ok(clones) => clones,
        Err(error) => return SessionEnd::Failed(error),
    };
    let writer_queue = Arc::clone(&queue);
    let writer = thread::Builder::new()
        .name(format!("stream-writer-{id}"))
        .spawn(move || write_records(writer_connection, &writer_queue));
    let writer = match writer {
        Ok(writer) => writer,
        Err(error) => return SessionEnd::Failed(error),
    };

    let filter_text = filter.as_ref().map(|filter| filter.expression().to_string());
    shared.register(StartedClient { id, peer, filter, queue: Arc::clone(&queue), connection: hub_connection });
    tracing::info!(%peer, filter = filter_text.as_deref().unwrap_or("none"), "stream client started");

    let mut end = read_until_closed(&connection);
    // A client still registered left on its own: stop its writer. One that
    // is no longer registered fell behind or was sent the closing MAR, and
    // its writer ends by itself.
    if shared.unregister(id) {
        queue.abandon();
    }
    match writer.join() {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            if matches!(end, SessionEnd::Closed) {
                end = SessionEnd::Failed(error);
            }
        }
        Err(_) => tracing::error!(%peer, "stream writer thread panicked"),
    }
    end
}

/// Reads after `START: ` until the client closes or sends `DONE: `.
fn read_until_closed(connection: &TcpStream) -> SessionEnd {
    if let Err(error) = connection.set_read_timeout(None) {
        return SessionEnd::Failed(error);
    }
    let mut buffer = [0u8; 512];
    loop {
        match (&*connection).read(&mut buffer) {
            Ok(0) => return SessionEnd::Closed,
            Ok(length) => {
                if parse_messages(&buffer[..length]).contains(&ClientMessage::Done) {
                    return SessionEnd::Done;
                }
            }
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            // The server shut the connection down, or the peer reset it.
            Err(error) if error.kind() == ErrorKind::ConnectionReset => return SessionEnd::Closed,
            Err(error) => return SessionEnd::Failed(error),
        }
    }
}

/// Writes queued records until the queue is finished or abandoned, then
/// ends the connection's write side so the client sees the end of the
/// stream.
fn write_records(connection: TcpStream, queue: &RecordQueue) -> io::Result<()> {
    let result = drain_queue(&connection, queue);
    match &result {
        // The client gets end-of-stream after the last record. Its own close
        // ends the session's read.
        Ok(()) => {
            let _ = connection.shutdown(Shutdown::Write);
        }
        // Wake the session thread from its read.
        Err(_) => {
            let _ = connection.shutdown(Shutdown::Both);
        }
    }
    result
}

fn drain_queue(connection: &TcpStream, queue: &RecordQueue) -> io::Result<()> {
    connection.set_write_timeout(None)?;
    let mut output = BufWriter::with_capacity(WRITE_BUFFER_BYTES, connection);
    let mut batch = Vec::new();
    while queue.pop_batch(&mut batch) {
        for record in batch.drain(..) {
            output.write_all(&record)?;
        }
        output.flush()?;
    }
    Ok(())
}
