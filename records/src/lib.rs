//! Flow record encoders and sinks: Argus v3 binary, IPFIX, CSV, JSON lines, a
//! readable text table, and the Argus record stream server.
//!
//! Encoders append to caller-owned buffers and never fail; sinks own the
//! I/O and keep the first error, so a worker emitting records is never
//! interrupted by a slow or broken output.

pub mod argus;
pub mod columns;
pub mod csv;
pub mod fast_text;
pub mod ib_columns;
pub mod ipfix;
pub mod ipv6_text;
pub mod json;
pub mod names;
pub mod rfc3339;
pub mod stream;
pub mod text;
pub mod writer;

pub use writer::{Format, RecordWriter};
