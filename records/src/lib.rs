//! Flow record encoders and sinks.
