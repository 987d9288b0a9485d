//! nauditd's measuring instrument: a traffic generator that writes pcap
//! captures, the floor programs that bound what any sensor can reach on a
//! capture, and the benchmark runner that measures nauditd and Argus side
//! by side and writes the performance table.
//!
//! Binaries: `naudit-gen` writes one capture; `naudit-bench` generates the
//! standard captures, runs every tool on them and renders `RESULTS.md`.

pub mod dpdk_bench;
pub mod floor;
pub mod frame;
pub mod machine;
pub mod measure;
pub mod mixes;
pub mod pcap;
pub mod report;
pub mod rng;
pub mod runner;
pub mod split;
pub mod traffic;
