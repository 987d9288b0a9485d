//! nauditd's DPDK capture driver: poll-mode receive from NICs bound to
//! DPDK, or from DPDK's virtual devices.
//!
//! [`open`] starts EAL with the arguments of `--dpdk-args`, configures the
//! chosen ports with one RX queue per worker and returns one [`DpdkQueue`]
//! per worker; each worker reads its queue through
//! [`naudit_engine::PacketSource`]. [`list_ports`] lists the ports for
//! `nauditd -D`.
//!
//! # Behaviour
//!
//! - **Symmetric RSS.** Ports that offer RSS get the key 0x6d5a repeated,
//!   for which the Toeplitz hash of both directions of a flow is the same,
//!   so both reach the same queue and worker. net_pcap and other virtual
//!   devices without RSS ignore it: each of their queues reads its own
//!   file or interface.
//! - **Zero copy.** Packets are handed to the engine as borrowed views of
//!   the mbufs' first segment, and the mbufs go back to their pool in one
//!   `rte_pktmbuf_free_bulk` call after the batch.
//! - **Timestamps.** A port that offers `RTE_ETH_RX_OFFLOAD_TIMESTAMP` stamps
//!   packets with its clock, converted to Unix nanoseconds against the wall
//!   clock at start; net_pcap writes the capture file's times there.
//!   Otherwise each burst gets the TSC time, anchored to the wall clock at
//!   start with `rte_get_tsc_hz`.
//! - **Loss.** The port statistics `imissed` and `ierrors` count as NIC
//!   drops and `rx_nombuf` as driver drops, reported by queue 0 of each
//!   port.
//! - **Memory.** One mbuf pool per NUMA socket of the chosen ports.
//! - **Shutdown.** When the last queue is dropped, every port is stopped
//!   and closed and EAL is cleaned up. EAL starts once per process.
//! - **Replay.** When every port is a net_pcap device reading an `rx_pcap`
//!   file (and `--no-pci` is given), a queue reports the end of input after
//!   [`REPLAY_END_IDLE`] without packets, because net_pcap signals no end
//!   of file.
//!
//! The DPDK calls are declared in `sys` for DPDK 22.11, with a C shim for
//! DPDK's inline functions; every `unsafe` block is in `ffi`.

#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod clock;
mod driver;
mod eal;
mod error;
#[allow(unsafe_code)]
mod ffi;
mod queue;
#[allow(unsafe_code)]
mod sys;

pub use driver::{list_ports, open, DpdkConfig, DpdkInput, DEFAULT_RX_DESCRIPTORS, REPLAY_END_IDLE};
pub use eal::{replays_capture_files, split_eal_args};
pub use error::DpdkError;
pub use ffi::PortDetails;
pub use queue::DpdkQueue;

impl std::fmt::Display for PortDetails {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c, d, e, f] = self.mac;
        let link = if self.link_up {
            let duplex = if self.full_duplex { "full duplex" } else { "half duplex" };
            format!("link up, {} Mbit/s, {duplex}", self.link_speed_mbps)
        } else {
            "link down".to_string()
        };
        write!(
            formatter,
            "{} {} (driver {}, MAC {a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}, {link}, NUMA socket {}, {} RX queues max)",
            self.id, self.name, self.driver, self.socket_id, self.max_rx_queues
        )
    }
}
