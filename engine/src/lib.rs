//! The nauditd engine: the packet model, the one driver trait, header
//! decoding, flow keys and shards, and the per-core run loop.
//!
//! The engine makes no operating-system calls and links no system library.
//! Drivers depend on it; it never depends on a driver.
//!
//! Everything that reads wire bytes is panic-free on any input: a decoder
//! checks the length of a header before it reads a field, and a malformed or
//! truncated header ends decoding at the last good layer with a counted
//! [`decode::DecodeStop`].

#![deny(unsafe_code)]

pub mod decode;
pub mod fanout;
pub mod flow;
pub mod latency;
pub mod packet;
pub mod prefetch;
pub mod read_ahead;
pub mod resident;
pub mod source;
pub mod stats;
pub mod worker;

pub use packet::{LinkType, PacketView};
pub use source::{BatchStatus, PacketSource, SourceCounters, SourceError};
