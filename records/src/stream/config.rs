//! Settings of a record stream server.

use std::net::SocketAddr;
use std::time::Duration;

use crate::argus::SourceId;

/// Default MAR interval in seconds, argus's default.
pub const DEFAULT_MAR_INTERVAL_SECS: u16 = 60;
/// Default capacity of each client's queue, in records. Argus records are
/// 100 to 400 bytes, so a full queue is about 1 to 3 MiB.
pub const DEFAULT_QUEUE_CAPACITY_RECORDS: usize = 8192;
/// Default time a client has to send `START: ` after it connects. argus
/// 3.0.8 drops a client that has not started within 5 s.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time shutdown waits for clients to take their last records and
/// the closing MAR before it closes their connections.
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// Default limit of connections at once. radium 3.0.8 accepts up to 128
/// clients.
pub const DEFAULT_MAX_CLIENTS: usize = 128;

/// Settings of a [`RecordStream`](super::RecordStream).
#[derive(Clone, Debug)]
pub struct StreamConfig {
    /// Address and port to listen on; port 0 picks a free port.
    pub address: SocketAddr,
    /// Source id written in every record and MAR.
    pub source_id: SourceId,
    /// Wall-clock start of the sensor, in nanoseconds since the Unix epoch,
    /// reported as the start time of every initial MAR.
    pub sensor_start_ns: u64,
    /// Seconds between status MARs; 0 sends none. Clients read it from the
    /// initial MAR and drop a connection silent for twice as long, a check
    /// that 0 disables.
    pub mar_interval_secs: u16,
    /// Flow status interval in seconds, reported in every MAR.
    pub flow_status_interval_secs: u16,
    /// Records each client's queue holds; a client whose queue is full when a
    /// record arrives is disconnected.
    pub queue_capacity_records: usize,
    /// Time a client has to send `START: ` after it connects.
    pub start_timeout: Duration,
    /// Time [`RecordStream::shutdown`](super::RecordStream::shutdown) waits
    /// for clients to take their last records.
    pub flush_timeout: Duration,
    /// Connections served at once; further ones are closed at once.
    pub max_clients: usize,
}

impl StreamConfig {
    /// Creates settings with the defaults above.
    pub fn new(address: SocketAddr, source_id: SourceId, sensor_start_ns: u64) -> StreamConfig {
        StreamConfig {
            address,
            source_id,
            sensor_start_ns,
            mar_interval_secs: DEFAULT_MAR_INTERVAL_SECS,
            flow_status_interval_secs: 5,
            queue_capacity_records: DEFAULT_QUEUE_CAPACITY_RECORDS,
            start_timeout: DEFAULT_START_TIMEOUT,
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
            max_clients: DEFAULT_MAX_CLIENTS,
        }
    }
}
