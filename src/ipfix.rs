//! Opens the IPFIX exporters that --ipfix requests.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use naudit_records::argus::SourceId;
use naudit_records::ipfix::{start_tcp_exporter, start_udp_exporter, ExportStats, ExporterConfig, IpfixExporter};

use crate::cli::Cli;

/// Smallest accepted --ipfix-mtu: the IPv4 minimum datagram size every
/// host must accept (RFC 791).
const MIN_PATH_MTU: usize = 576;

/// Transports of an IPFIX collector URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpfixTransport {
    Udp,
    Tcp,
}

/// Parses `udp://HOST:PORT` or `tcp://HOST:PORT`, resolving HOST to its
/// first address. IPv6 addresses are written in brackets.
pub fn parse_collector_url(url: &str) -> Result<(IpfixTransport, SocketAddr), String> {
    let (transport, address) = if let Some(rest) = url.strip_prefix("udp://") {
        (IpfixTransport::Udp, rest)
    } else if let Some(rest) = url.strip_prefix("tcp://") {
        (IpfixTransport::Tcp, rest)
    } else {
        return Err(format!("invalid --ipfix value {url:?}: give udp://HOST:PORT or tcp://HOST:PORT"));
    };
    let address = address.trim_end_matches('/');
    let resolved = address
        .to_socket_addrs()
        .map_err(|error| format!("invalid --ipfix value {url:?}: cannot resolve {address:?}: {error}"))?
        .next()
        .ok_or_else(|| format!("invalid --ipfix value {url:?}: {address:?} resolves to no address"))?;
    Ok((transport, resolved))
}

/// Returns the observation domain id: the --source-id value's 4 bytes read
/// as a big-endian number, so an integer id keeps its value.
pub fn observation_domain_id(cli: &Cli) -> Result<u32, String> {
    let source_id: SourceId = cli.source_id.parse().map_err(|error| format!("{error}"))?;
    Ok(u32::from_be_bytes(source_id.to_bytes()))
}

/// Starts the exporter for one --ipfix URL.
pub fn open_exporter(cli: &Cli, url: &str) -> Result<IpfixExporter, String> {
    if cli.ipfix_mtu < MIN_PATH_MTU {
        return Err(format!("invalid value {} for --ipfix-mtu: give {MIN_PATH_MTU} bytes or more", cli.ipfix_mtu));
    }
    if cli.ipfix_queue_records == 0 {
        return Err("invalid value 0 for --ipfix-queue: give a positive number of records".to_string());
    }
    let (transport, collector) = parse_collector_url(url)?;
    let config = ExporterConfig {
        observation_domain_id: observation_domain_id(cli)?,
        path_mtu: cli.ipfix_mtu,
        template_refresh: Duration::from_secs(cli.ipfix_template_refresh_secs),
        template_refresh_messages: cli.ipfix_template_refresh_messages,
        queue_records: cli.ipfix_queue_records,
    };
    let started = match transport {
        IpfixTransport::Udp => start_udp_exporter(collector, &config),
        IpfixTransport::Tcp => start_tcp_exporter(collector, &config),
    };
    started.map_err(|error| format!("cannot start IPFIX export to {url}: {error}"))
}

/// Logs an exporter's final counts, as a warning when records were lost.
pub fn log_export_stats(collector: &str, stats: ExportStats) {
    let lost = stats.records_dropped + stats.records_discarded;
    if lost > 0 || stats.send_errors > 0 {
        tracing::warn!(collector, ?stats, "IPFIX export ended with lost records or send errors");
    } else {
        tracing::info!(collector, ?stats, "IPFIX export ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collector_url_udp_and_tcp() {
        assert_eq!(parse_collector_url("udp://127.0.0.1:4739").unwrap(), (IpfixTransport::Udp, "127.0.0.1:4739".parse().unwrap()));
        assert_eq!(parse_collector_url("tcp://[::1]:4739").unwrap(), (IpfixTransport::Tcp, "[::1]:4739".parse().unwrap()));
    }

    #[test]
    fn collector_url_rejects_other_schemes() {
        assert!(parse_collector_url("sctp://127.0.0.1:4739").unwrap_err().contains("udp://HOST:PORT"));
        assert!(parse_collector_url("udp://127.0.0.1").is_err());
    }
}
