//! Export over TCP (RFC 7011 section 10.4): templates once per connection,
//! withdrawn before a clean close. A lost or refused connection is retried
//! with exponential backoff while records wait in the bounded queue.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::exporter::{ExportCounters, ExporterConfig, IpfixExporter, Transport};
use super::message::MAX_MESSAGE_LENGTH;
use crate::stream::rate_limit::LogRateLimiter;

/// First wait after a failed connection; it doubles up to
/// [`MAX_BACKOFF`].
const INITIAL_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Limit of one connection attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Limit of one write, so a collector that stops reading cannot hold the
/// exporting thread (and shutdown) for long.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

struct TcpTransport {
    collector: SocketAddr,
    stream: Option<TcpStream>,
    new_connection: bool,
    backoff: Duration,
    next_attempt: Instant,
    connect_log: LogRateLimiter,
}

/// Starts a TCP exporter to `collector`. The first connection attempt is
/// made by the exporting thread, so a collector that is down does not
/// delay the start.
pub fn start_tcp_exporter(collector: SocketAddr, config: &ExporterConfig) -> io::Result<IpfixExporter> {
    let transport = TcpTransport {
        collector,
        stream: None,
        new_connection: false,
        backoff: INITIAL_BACKOFF,
        next_attempt: Instant::now(),
        connect_log: LogRateLimiter::new(Duration::from_secs(30)),
    };
    IpfixExporter::start(transport, config)
}

impl TcpTransport {
    fn connect(&mut self, counters: &ExportCounters) {
        match TcpStream::connect_timeout(&self.collector, CONNECT_TIMEOUT) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
                tracing::info!(collector = %self.collector, "IPFIX collector connected");
                counters.note_connection();
                self.stream = Some(stream);
                self.new_connection = true;
                self.backoff = INITIAL_BACKOFF;
            }
            Err(error) => {
                counters.note_send_error();
                if let Some(suppressed) = self.connect_log.allow(Instant::now()) {
                    tracing::warn!(
                        collector = %self.collector,
                        %error,
                        retry_secs = self.backoff.as_secs_f64(),
                        suppressed,
                        "connecting to the IPFIX collector failed; retrying"
                    );
                }
                self.next_attempt = Instant::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

impl Transport for TcpTransport {
    fn ensure_connected(&mut self, counters: &ExportCounters) -> bool {
        if self.stream.is_none() && Instant::now() >= self.next_attempt {
            self.connect(counters);
        }
        self.stream.is_some()
    }

    fn take_new_connection(&mut self) -> bool {
        std::mem::take(&mut self.new_connection)
    }

    fn send(&mut self, message: &[u8]) -> io::Result<()> {
        let Some(stream) = &mut self.stream else {
            return Err(io::Error::new(io::ErrorKind::NotConnected, "no connection to the collector"));
        };
        let result = stream.write_all(message);
        if result.is_err() {
            tracing::warn!(collector = %self.collector, "IPFIX collector connection lost; reconnecting");
            self.stream = None;
            self.next_attempt = Instant::now() + self.backoff;
        }
        result
    }

    fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    fn max_message_length(&self) -> usize {
        MAX_MESSAGE_LENGTH
    }

    fn templates_due(&mut self, _now: Instant) -> bool {
        false
    }

    fn templates_sent(&mut self, _now: Instant) {}

    fn withdraws_templates(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("tcp://{}", self.collector)
    }
}

impl Drop for TcpTransport {
    fn drop(&mut self) {
        if let Some(stream) = &self.stream {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}
