//! Declarations of the DPDK 22.11 functions nauditd calls and of the C
//! shim's functions and structs (`shim/naudit_dpdk_shim.c`), which wrap
//! DPDK's inline functions and its large configuration structs. The shim
//! refuses to compile against any other DPDK release, so these declarations
//! only ever meet 22.11.

use std::os::raw::{c_char, c_int, c_uint};

/// `struct rte_mempool`, only ever used through a pointer.
#[repr(C)]
pub(crate) struct RteMempool {
    _private: [u8; 0],
}

/// `struct rte_mbuf`, only ever used through a pointer.
#[repr(C)]
pub(crate) struct RteMbuf {
    _private: [u8; 0],
}

/// `RTE_ETH_NAME_MAX_LEN` of `rte_ethdev.h`.
pub(crate) const ETH_NAME_MAX_LEN: usize = 64;
/// `RTE_ETH_RX_OFFLOAD_TIMESTAMP` of `rte_ethdev.h`.
pub(crate) const RX_OFFLOAD_TIMESTAMP: u64 = 1 << 14;
/// `RTE_MBUF_DEFAULT_BUF_SIZE` of `rte_mbuf_core.h`: 2048 bytes of data
/// room plus the 128-byte `RTE_PKTMBUF_HEADROOM`.
pub(crate) const MBUF_DEFAULT_BUF_SIZE: u16 = 2048 + 128;
/// `SOCKET_ID_ANY` of `rte_memory.h`.
pub(crate) const SOCKET_ID_ANY: c_int = -1;

/// `struct naudit_port_info` of the shim.
#[repr(C)]
pub(crate) struct PortInfo {
    pub name: [c_char; ETH_NAME_MAX_LEN],
    pub driver: [c_char; 64],
    pub mac: [u8; 6],
    pub link_up: u8,
    pub full_duplex: u8,
    pub link_speed_mbps: u32,
    pub socket_id: i32,
    pub max_rx_queues: u16,
    pub padding: u16,
    pub rx_offload_capa: u64,
    pub flow_type_rss_offloads: u64,
}

/// `struct naudit_port_stats` of the shim.
#[repr(C)]
#[derive(Default)]
pub(crate) struct PortStats {
    pub ipackets: u64,
    pub imissed: u64,
    pub ierrors: u64,
    pub rx_nombuf: u64,
}

/// No timestamps: `NAUDIT_TIMESTAMP_NONE` of the shim.
pub(crate) const TIMESTAMP_SOURCE_NONE: u8 = 0;
/// The RX timestamp offload, in ticks of the NIC's clock.
pub(crate) const TIMESTAMP_SOURCE_OFFLOAD: u8 = 1;
/// A field the driver fills without offering the offload.
pub(crate) const TIMESTAMP_SOURCE_DRIVER: u8 = 2;

/// `struct naudit_port_setup` of the shim.
#[repr(C)]
pub(crate) struct PortSetup {
    pub rx_queues: u16,
    pub rx_descriptors: u16,
    pub want_timestamp: u8,
    pub promiscuous: u8,
    /// One of the `TIMESTAMP_SOURCE_*` values.
    pub timestamp_source: u8,
    pub rss_enabled: u8,
    pub timestamp_offset: i32,
    pub timestamp_flag: u64,
    pub failed_call: *const c_char,
}

/// `struct naudit_mbuf_view` of the shim.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct MbufView {
    pub data: *const u8,
    pub timestamp: u64,
    pub pkt_len: u32,
    pub data_len: u16,
    pub has_timestamp: u8,
    /// Segments in the mbuf chain, at most 255.
    pub segments: u8,
}

impl MbufView {
    /// A view of no packet, to fill arrays before a burst.
    pub const EMPTY: MbufView =
        MbufView { data: std::ptr::null(), timestamp: 0, pkt_len: 0, data_len: 0, has_timestamp: 0, segments: 0 };
}

extern "C" {
    // DPDK 22.11, exported by librte_eal, librte_ethdev, librte_mbuf and
    // librte_mempool.
    pub(crate) fn rte_eal_init(argc: c_int, argv: *mut *mut c_char) -> c_int;
    pub(crate) fn rte_eal_cleanup() -> c_int;
    pub(crate) fn rte_strerror(errnum: c_int) -> *const c_char;
    pub(crate) fn rte_version() -> *const c_char;
    pub(crate) fn rte_get_tsc_hz() -> u64;
    pub(crate) fn rte_eth_dev_stop(port_id: u16) -> c_int;
    pub(crate) fn rte_eth_dev_close(port_id: u16) -> c_int;
    pub(crate) fn rte_eth_dev_socket_id(port_id: u16) -> c_int;
    pub(crate) fn rte_eth_read_clock(port_id: u16, clock: *mut u64) -> c_int;
    pub(crate) fn rte_pktmbuf_pool_create(
        name: *const c_char,
        n: c_uint,
        cache_size: c_uint,
        priv_size: u16,
        data_room_size: u16,
        socket_id: c_int,
    ) -> *mut RteMempool;
    pub(crate) fn rte_mempool_free(pool: *mut RteMempool);
    pub(crate) fn rte_pktmbuf_free_bulk(mbufs: *mut *mut RteMbuf, count: c_uint);

    // The shim.
    pub(crate) fn naudit_errno() -> c_int;
    pub(crate) fn naudit_tsc_cycles() -> u64;
    pub(crate) fn naudit_next_port(port: u16) -> u16;
    pub(crate) fn naudit_max_ports() -> u16;
    pub(crate) fn naudit_port_info(port: u16, info: *mut PortInfo) -> c_int;
    pub(crate) fn naudit_port_stats(port: u16, stats: *mut PortStats) -> c_int;
    pub(crate) fn naudit_port_start(port: u16, setup: *mut PortSetup, pools: *const *mut RteMempool) -> c_int;
    pub(crate) fn naudit_rx_burst(
        port: u16,
        queue: u16,
        mbufs: *mut *mut RteMbuf,
        views: *mut MbufView,
        count: u16,
        timestamp_offset: i32,
        timestamp_flag: u64,
    ) -> u16;
    pub(crate) fn naudit_mbuf_copy(mbuf: *const RteMbuf, destination: *mut u8, length: u32) -> u32;
    pub(crate) fn naudit_lcore_id() -> c_uint;
    pub(crate) fn rte_thread_register() -> c_int;
    pub(crate) fn rte_thread_unregister();
}
