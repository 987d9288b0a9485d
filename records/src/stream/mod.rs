//! The Argus 3 record stream ("port 561"): a TCP server that ra, racluster
//! and radium read with `-S host:port`.
//!
//! The conversation, as argus 3.0.8 serves it and as Debian's argus-client
//! 3.0.8.2 expects it:
//!
//! 1. The server sends the 128-byte initial MAR as soon as it accepts.
//! 2. The client may send `FILTER: <expression>`. The server replies `OK`,
//!    or `SY` when the expression does not parse, and ra then prints
//!    "remote filter syntax error." and disconnects.
//! 3. The client sends `START: `. From then on the server sends flow records
//!    and a status MAR every MAR interval, framed only by each record's
//!    length field: exactly the bytes an Argus file contains after its first
//!    128 bytes.
//! 4. On shutdown the server sends the closing MAR and closes.
//!
//! [`RecordStream`] is the server. The caller publishes each flow record
//! with [`RecordStream::publish`] and keeps a [`SensorCounters`] up to date
//! for the MARs.

mod client;
mod config;
mod counters;
pub mod filter;
mod hub;
mod protocol;
mod queue;
pub(crate) mod rate_limit;
mod server;
mod stats;

pub use config::{
    StreamConfig, DEFAULT_FLUSH_TIMEOUT, DEFAULT_MAR_INTERVAL_SECS, DEFAULT_MAX_CLIENTS, DEFAULT_QUEUE_CAPACITY_RECORDS,
    DEFAULT_START_TIMEOUT,
};
pub use counters::{CounterTotals, SensorCounters};
pub use filter::{Filter, FilterError};
pub use server::RecordStream;
pub use stats::StreamStats;
