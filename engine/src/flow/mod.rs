//! Flows: canonical bidirectional keys, the per-worker flow shard, TCP state
//! tracking, timers, and the record model the encoders consume.

pub mod extras;
pub mod fragments;
pub mod gre_keys;
mod hash_keys;
pub mod ib;
pub mod index;
pub mod key;
mod key_hash;
pub mod pool;
pub mod prepared;
pub mod record;
pub mod relink;
pub mod shard;
pub mod side;
pub mod state;
pub mod stored_key;
pub mod tcp;
pub mod timeouts;

pub use hash_keys::draw_index_hash_keys;
pub use key::{FlowKey, KeyDirection, TunnelContext};
pub use prepared::PreparedKey;
pub use record::{DirectionStats, FlowRecord, IcmpError, RecordCause, TcpSummary};
pub use shard::{FlowShard, RecordSink, ShardConfig, ShardCounters};
pub use state::PacketFacts;

pub use timeouts::Timeouts;
