//! IPFIX export (RFC 7011) of bidirectional flows (RFC 5103).
//!
//! Each flow record becomes one data record carrying both directions: the
//! source side in IANA elements and the destination side in the reverse
//! elements of enterprise 29305. Templates are listed in [`template`] and
//! documented in docs/ipfix.md. Messages go to a collector over UDP or TCP
//! ([`udp`], [`tcp`]) or into an IPFIX file (RFC 5655, [`file`]).

pub mod elements;
pub mod encoder;
pub mod exporter;
pub mod file;
pub mod message;
pub mod session;
pub mod tcp;
pub mod template;
pub mod udp;

pub use exporter::{ExportStats, ExporterConfig, IpfixExporter};
pub use file::{IpfixFileCounts, IpfixFileWriter};
pub use tcp::start_tcp_exporter;
pub use udp::start_udp_exporter;
