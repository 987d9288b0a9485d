//! Flows: canonical bidirectional keys, the per-worker flow shard, TCP state
//! tracking, timers, and the record model the encoders consume.

pub mod key;
pub mod record;
pub mod shard;
pub mod state;
pub mod tcp;
pub mod timeouts;

pub use key::{FlowKey, KeyDirection};
pub use record::{DirectionStats, FlowRecord, RecordCause, TcpSummary};

pub use timeouts::Timeouts;
