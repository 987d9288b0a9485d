//! Declarations of the libibverbs functions nauditd calls and of the C
//! shim's functions and structs (`shim/naudit_ibverbs_shim.c`), which wrap
//! rdma-core's inline functions and its large attribute structs. Verbs
//! objects are only ever used through pointers.

use std::os::raw::{c_char, c_int};

/// Declares opaque verbs types, only ever used through a pointer.
macro_rules! opaque {
    ($($name:ident = $c_name:literal),* $(,)?) => {
        $(
            #[doc = concat!("`struct ", $c_name, "`, only ever used through a pointer.")]
            #[repr(C)]
            pub(crate) struct $name {
                _private: [u8; 0],
            }
        )*
    };
}

opaque!(
    IbvDevice = "ibv_device",
    IbvContext = "ibv_context",
    IbvPd = "ibv_pd",
    IbvMr = "ibv_mr",
    IbvCq = "ibv_cq",
    IbvCqEx = "ibv_cq_ex",
    IbvQp = "ibv_qp",
    IbvFlow = "ibv_flow",
);

/// `IBV_WC_SUCCESS` of `enum ibv_wc_status`.
pub(crate) const WC_SUCCESS: u32 = 0;
/// `IBV_WC_WR_FLUSH_ERR`: the QP is in the error state and hands back its
/// posted receive requests without packets.
pub(crate) const WC_WR_FLUSH_ERR: u32 = 5;
/// `IBV_PORT_ACTIVE` of `enum ibv_port_state`.
pub(crate) const PORT_ACTIVE: u32 = 4;
/// `IBV_LINK_LAYER_UNSPECIFIED`, which older providers report for
/// InfiniBand ports.
pub(crate) const LINK_LAYER_UNSPECIFIED: u8 = 0;
/// `IBV_LINK_LAYER_INFINIBAND`.
pub(crate) const LINK_LAYER_INFINIBAND: u8 = 1;
/// `IBV_LINK_LAYER_ETHERNET`.
pub(crate) const LINK_LAYER_ETHERNET: u8 = 2;

/// The packet clocks of the shim's `NAUDIT_CLOCK_*` values.
pub(crate) mod cq_clock {
    /// No completion timestamps.
    pub(crate) const NONE: i32 = 0;
    /// Completion timestamps in device clock cycles.
    pub(crate) const CYCLES: i32 = 1;
    /// Completion timestamps in nanoseconds since the Unix epoch.
    pub(crate) const WALLCLOCK: i32 = 2;
}

/// `struct naudit_ib_device_info` of the shim.
#[repr(C)]
pub(crate) struct DeviceInfo {
    pub completion_timestamp_mask: u64,
    pub hca_core_clock_khz: u64,
    pub max_qp_wr: u32,
    pub max_cqe: u32,
    pub node_type: u32,
    pub phys_port_cnt: u8,
    pub padding: [u8; 7],
    pub fw_ver: [c_char; 64],
}

/// `struct naudit_ib_port_info` of the shim.
#[repr(C)]
#[derive(Default)]
pub(crate) struct PortInfo {
    pub state: u32,
    pub active_mtu: u32,
    pub lid: u16,
    pub link_layer: u8,
    pub padding: u8,
}

/// `struct naudit_ib_completion` of the shim.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Completion {
    pub wr_id: u64,
    pub timestamp: u64,
    pub byte_len: u32,
    pub status: u32,
    pub vendor_err: u32,
    pub padding: u32,
}

// The shim checks the same sizes.
const _: () = assert!(std::mem::size_of::<DeviceInfo>() == 104);
const _: () = assert!(std::mem::size_of::<PortInfo>() == 12);
const _: () = assert!(std::mem::size_of::<Completion>() == 32);

extern "C" {
    // rdma-core's libibverbs, exported functions.
    pub(crate) fn ibv_free_device_list(list: *mut *mut IbvDevice);
    pub(crate) fn ibv_get_device_name(device: *mut IbvDevice) -> *const c_char;
    pub(crate) fn ibv_get_device_guid(device: *mut IbvDevice) -> u64;
    pub(crate) fn ibv_open_device(device: *mut IbvDevice) -> *mut IbvContext;
    pub(crate) fn ibv_close_device(context: *mut IbvContext) -> c_int;
    pub(crate) fn ibv_alloc_pd(context: *mut IbvContext) -> *mut IbvPd;
    pub(crate) fn ibv_dealloc_pd(pd: *mut IbvPd) -> c_int;
    pub(crate) fn ibv_dereg_mr(mr: *mut IbvMr) -> c_int;
    pub(crate) fn ibv_destroy_cq(cq: *mut IbvCq) -> c_int;
    pub(crate) fn ibv_destroy_qp(qp: *mut IbvQp) -> c_int;
    pub(crate) fn ibv_wc_status_str(status: u32) -> *const c_char;
    pub(crate) fn ibv_port_state_str(state: u32) -> *const c_char;
    pub(crate) fn ibv_node_type_str(node_type: c_int) -> *const c_char;

    // The shim.
    pub(crate) fn naudit_ib_device_list(count: *mut c_int) -> *mut *mut IbvDevice;
    pub(crate) fn naudit_ib_query_device(context: *mut IbvContext, info: *mut DeviceInfo) -> c_int;
    pub(crate) fn naudit_ib_query_port(context: *mut IbvContext, port: u8, info: *mut PortInfo) -> c_int;
    pub(crate) fn naudit_ib_read_raw_clock(context: *mut IbvContext, cycles: *mut u64) -> c_int;
    pub(crate) fn naudit_ib_reg_mr(pd: *mut IbvPd, addr: *mut u8, length: usize, lkey: *mut u32) -> *mut IbvMr;
    pub(crate) fn naudit_ib_create_cq(
        context: *mut IbvContext,
        entries: u32,
        want_clock: c_int,
        clock: *mut c_int,
        cq_ex: *mut *mut IbvCqEx,
    ) -> *mut IbvCq;
    pub(crate) fn naudit_ib_create_raw_qp(pd: *mut IbvPd, cq: *mut IbvCq, receive_wrs: u32) -> *mut IbvQp;
    pub(crate) fn naudit_ib_ready_qp(qp: *mut IbvQp, port: u8, reset: c_int, failed_state: *mut *const c_char)
        -> c_int;
    pub(crate) fn naudit_ib_create_sniffer_flow(qp: *mut IbvQp, port: u8) -> *mut IbvFlow;
    pub(crate) fn naudit_ib_destroy_flow(flow: *mut IbvFlow) -> c_int;
    pub(crate) fn naudit_ib_post_receives(
        qp: *mut IbvQp,
        lkey: u32,
        base: *mut u8,
        buffer_bytes: u32,
        indexes: *const u32,
        count: u32,
        posted: *mut u32,
    ) -> c_int;
    pub(crate) fn naudit_ib_poll(
        cq: *mut IbvCq,
        cq_ex: *mut IbvCqEx,
        clock: c_int,
        out: *mut Completion,
        max: c_int,
    ) -> c_int;
}
