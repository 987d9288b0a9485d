//! The many-core capture driver: Tilera's mPIPE model on Linux, built from
//! AF_PACKET TPACKET_V3 memory-mapped rings joined in a
//! `PACKET_FANOUT_HASH` group.
//!
//! [`AfPacketDriver::open`] opens one [`AfPacketQueue`] per worker on one
//! interface, and each worker reads its queue through
//! [`naudit_engine::PacketSource`]. [`list_interfaces`] lists the
//! interfaces for `nauditd -D`.
//!
//! # How mPIPE maps onto AF_PACKET
//!
//! On a TILE-Gx, the mPIPE engine took every packet off the wire, and four
//! parts of it carried the sensor's design. Each has a Linux counterpart
//! here:
//!
//! - **Classifier.** mPIPE's classifier parsed each packet in hardware and
//!   hashed its flow to pick a core. Here the kernel's fanout does it:
//!   `PACKET_FANOUT_HASH` picks the socket from the packet's flow hash, which
//!   the kernel computes symmetrically (`__skb_get_hash_symmetric`), so both
//!   directions of a flow reach the same queue and the worker's flow shard
//!   needs no lock. With `PACKET_FANOUT_FLAG_DEFRAG` ([`AfPacketConfig::fanout_defrag`])
//!   the kernel reassembles IPv4 fragments before hashing, so fragments
//!   without ports follow their flow.
//! - **Notification rings.** mPIPE wrote a descriptor per packet into a ring
//!   owned by one core. Here each queue has its own TPACKET_V3 ring: the
//!   kernel writes packets into a block and hands the whole block over, and
//!   the worker walks it without a system call.
//! - **Buffer stacks.** mPIPE took packet buffers from hardware stacks that
//!   software refilled as it finished with them. Here the buffers are the
//!   ring's blocks: the worker returns a block to the kernel
//!   (`TP_STATUS_KERNEL`) as soon as it has handed over the block's last
//!   packet. When the worker falls behind, the kernel runs out of blocks and
//!   drops packets, and the queue reports them as
//!   [`SourceCounters::kernel_dropped_pkts`](naudit_engine::SourceCounters::kernel_dropped_pkts).
//! - **Run to completion per core.** Each queue belongs to one worker on
//!   one core, which takes a batch, finishes every packet in it and only then
//!   takes the next. A queue is `Send` but not `Sync`, so it moves to its
//!   worker's thread and stays there.
//!
//! # Behaviour
//!
//! - Packets are handed over in place, from the ring, with their kernel
//!   timestamp (nanoseconds), wire length and captured length. VLAN tags
//!   that the kernel moves out of Ethernet frames are written back in front
//!   of the EtherType, so the engine decodes the frame as it was on the
//!   wire.
//! - The snapshot length is applied by a one-instruction socket filter,
//!   because TPACKET_V3 frames are sized per packet and the ring's frame
//!   size does not limit them.
//! - An idle queue sleeps in poll(2) for at most [`IDLE_POLL_TIMEOUT_MS`]
//!   and then returns [`naudit_engine::BatchStatus::Idle`].
//! - Packets sent by the host are captured as well as packets received.
//!
//! Unsafe code is confined to `socket` (system calls) and `ring` (the
//! mapping and its block hand-over); every block states the check it rests
//! on. The block walker that reads the kernel's headers is safe code over a
//! byte slice and is tested on blocks built in memory.

#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(not(target_os = "linux"))]
compile_error!("naudit-tilera-compat captures through AF_PACKET, which only Linux has");

mod block;
mod config;
mod driver;
mod interfaces;
mod link;
mod queue;
#[allow(unsafe_code)]
mod ring;
#[allow(unsafe_code)]
mod socket;
mod stats;
mod sys;

pub use config::{
    AfPacketConfig, ConfigError, DEFAULT_BLOCK_COUNT, DEFAULT_BLOCK_SIZE_BYTES,
    DEFAULT_BLOCK_TIMEOUT_MS, DEFAULT_SNAPLEN_BYTES, MAX_INTERFACE_NAME_BYTES, MAX_QUEUES,
    MIN_BLOCK_COUNT,
};
pub use driver::{default_fanout_group_id, AfPacketDriver};
pub use interfaces::{list_interfaces, InterfaceInfo, OperState};
pub use link::{link_type_for_arphrd, LINKTYPE_IEEE802_11_RADIOTAP};
pub use queue::{AfPacketQueue, IDLE_POLL_TIMEOUT_MS};
pub use stats::DROP_LOG_INTERVAL;

#[cfg(test)]
mod tests {
    use super::AfPacketQueue;

    #[test]
    fn queue_is_send() {
        // Each queue moves to its worker's thread.
        fn assert_send<T: Send>() {}
        assert_send::<AfPacketQueue>();
    }
}
