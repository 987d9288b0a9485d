//! Export over UDP (RFC 7011 section 10.3). The templates go at the start
//! and again at each refresh, and are never withdrawn. Failed sends are
//! counted, and export goes on.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use super::exporter::{ExportCounters, ExporterConfig, IpfixExporter, Transport};
use super::message::MESSAGE_HEADER_LENGTH;
use super::template::TEMPLATE_SET_ID;

/// Length of a UDP header, in bytes.
const UDP_HEADER_LENGTH: usize = 8;

struct UdpTransport {
    socket: UdpSocket,
    collector: SocketAddr,
    max_message_length: usize,
    config: ExporterConfig,
    templates_sent_at: Option<Instant>,
    messages_since_templates: u32,
}

/// Returns the largest message that fits in one datagram of `path_mtu`
/// bytes toward `collector`, after the IP and UDP headers (without IP
/// options or IPv6 extension headers).
pub fn max_udp_message_length(path_mtu: usize, collector: &SocketAddr) -> usize {
    let ip_header_length = if collector.is_ipv4() { 20 } else { 40 };
    path_mtu.saturating_sub(ip_header_length + UDP_HEADER_LENGTH)
}

/// Starts a UDP exporter to `collector`. The socket binds to an ephemeral
/// port of the same address family and is connected, so that ICMP port
/// unreachable errors show up as failed sends.
pub fn start_udp_exporter(collector: SocketAddr, config: &ExporterConfig) -> io::Result<IpfixExporter> {
    let local: SocketAddr = if collector.is_ipv4() { "0.0.0.0:0".parse() } else { "[::]:0".parse() }
        .expect("a valid wildcard address");
    let socket = UdpSocket::bind(local)?;
    socket.connect(collector)?;
    let transport = UdpTransport {
        socket,
        collector,
        max_message_length: max_udp_message_length(config.path_mtu, &collector),
        config: *config,
        templates_sent_at: None,
        messages_since_templates: 0,
    };
    IpfixExporter::start(transport, config)
}

impl Transport for UdpTransport {
    fn ensure_connected(&mut self, _counters: &ExportCounters) -> bool {
        true
    }

    fn take_new_connection(&mut self) -> bool {
        false
    }

    /// Sends one datagram. The count toward the message-based template
    /// refresh starts again after each message that opens with templates,
    /// so the templates themselves, which can span several messages at a
    /// small MTU, do not make the next refresh due.
    fn send(&mut self, message: &[u8]) -> io::Result<()> {
        if opens_with_templates(message) {
            self.messages_since_templates = 0;
        } else {
            self.messages_since_templates = self.messages_since_templates.saturating_add(1);
        }
        self.socket.send(message).map(|_| ())
    }

    fn is_connected(&self) -> bool {
        true
    }

    fn max_message_length(&self) -> usize {
        self.max_message_length
    }

    fn templates_due(&mut self, now: Instant) -> bool {
        let by_time = !self.config.template_refresh.is_zero()
            && self.templates_sent_at.map_or(true, |sent| now.duration_since(sent) >= self.config.template_refresh);
        let by_count = self.config.template_refresh_messages > 0
            && self.messages_since_templates >= self.config.template_refresh_messages;
        by_time || by_count
    }

    fn templates_sent(&mut self, now: Instant) {
        self.templates_sent_at = Some(now);
        self.messages_since_templates = 0;
    }

    fn withdraws_templates(&self) -> bool {
        false
    }

    fn describe(&self) -> String {
        format!("udp://{}", self.collector)
    }
}

/// Returns true when the first set of `message` is a template set.
fn opens_with_templates(message: &[u8]) -> bool {
    message.get(MESSAGE_HEADER_LENGTH..MESSAGE_HEADER_LENGTH + 2) == Some(&TEMPLATE_SET_ID.to_be_bytes()[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_message_fits_path_mtu() {
        assert_eq!(max_udp_message_length(1400, &"127.0.0.1:4739".parse().unwrap()), 1372);
        assert_eq!(max_udp_message_length(1400, &"[::1]:4739".parse().unwrap()), 1352);
    }
}
