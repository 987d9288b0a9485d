//! nauditd's InfiniBand capture driver: the verbs sniffer over rdma-core's
//! libibverbs, as ibdump captures on NVIDIA/Mellanox adapters.
//!
//! [`open`] opens one port of an RDMA device (`-i mlx5_0` or `-i mlx5_0:2`)
//! and returns an [`IbverbsQueue`], which hands its packets to a worker
//! through [`naudit_engine::PacketSource`]. [`list_devices`] lists the
//! devices and ports for `nauditd -D --driver ibverbs`.
//!
//! # Behaviour
//!
//! - **Capture.** A raw packet QP in the RTR state gets a steering rule of
//!   type `IBV_FLOW_ATTR_SNIFFER`, so the adapter copies to it every packet
//!   the port sends or receives. Packets of an InfiniBand port start with
//!   the LRH (link type 247, `LINKTYPE_INFINIBAND`); an Ethernet (RoCE)
//!   port's start with the Ethernet header (link type 1).
//! - **Zero copy.** Receive buffers come from one preallocated, registered
//!   block. The CQ is polled for up to 64 completions at a time, and each
//!   maps back to its buffer by work request id. The buffers are lent to
//!   the engine as borrowed views and posted again in one chained
//!   `ibv_post_recv` after the batch.
//! - **Timestamps.** The CQ is created with the first completion timestamp
//!   the device accepts: the real-time clock in nanoseconds, or cycles of
//!   the free-running clock converted with `hca_core_clock` and anchored to
//!   the system clock (again every 10 seconds). Without either, every
//!   packet of a batch gets the system time of the poll.
//! - **Loss.** Completions with an error status (such as a packet longer
//!   than its buffer) count as NIC drops. Packets the adapter dropped for
//!   want of a posted buffer count as driver drops, from the port's
//!   `out_of_buffer` hardware counter where the provider exposes it
//!   (mlx5). A QP that enters the error state is restarted once its
//!   buffers are flushed back.
//!
//! The verbs calls go through a C shim for libibverbs' inline functions.
//! The `unsafe` blocks are in `ffi` and `pool`, except the three that
//! register, post and lend receive buffers (`sniffer`, `queue`).

#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod clock;
mod device;
mod error;
#[allow(unsafe_code)]
mod ffi;
mod hw_counter;
#[allow(unsafe_code)]
mod pool;
#[allow(unsafe_code)]
mod queue;
#[allow(unsafe_code)]
mod sniffer;
#[allow(unsafe_code)]
mod sys;

pub use device::{list_devices, DeviceDetails, LinkLayer, PortDetails, PortName};
pub use error::{IbverbsError, NO_DEVICE_HINT};
pub use queue::IbverbsQueue;
pub use sniffer::{open, IbverbsConfig, DEFAULT_RECEIVE_BUFFERS, ETHERNET_BUFFER_BYTES, INFINIBAND_BUFFER_BYTES};
