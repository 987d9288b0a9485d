//! InfiniBand flows: keys by queue pair, the pairing of connection halves
//! from the connection manager's exchange, and per-direction transport
//! metrics (operation classes, NAKs, PSN gaps and repeats, congestion
//! marks).
//!
//! A shard keeps this state in a side table by slot, so IP flows carry
//! none of it.

pub mod key;
pub mod pairing;
pub mod psn;
pub mod summary;
pub mod table;
pub mod tracker;

pub use summary::{IbDirection, IbSummary};
pub use table::IbFlows;
