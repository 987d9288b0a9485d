//! Safe wrappers over the calls declared in [`crate::sys`]: one owning type
//! per verbs object, each destroyed on drop. Every `unsafe` block of the
//! crate except the receive buffer memory (`pool`) is in this file.

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};
use std::ptr::NonNull;

use crate::sys;

/// Formats an errno value as text, such as "Operation not supported (os error 95)".
pub(crate) fn errno_text(code: i32) -> String {
    std::io::Error::from_raw_os_error(code.abs()).to_string()
}

/// Describes a failed `ibv_get_device_list`.
pub(crate) fn device_list_error_text(code: i32) -> String {
    let error = std::io::Error::from_raw_os_error(code.abs());
    if error.kind() == std::io::ErrorKind::Unsupported {
        return format!("ibv_get_device_list failed: {error}, so the kernel offers no RDMA verbs interface");
    }
    format!("ibv_get_device_list failed: {error}")
}

/// Returns the errno value of the last failed call on this thread.
fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn static_text(text: *const c_char) -> String {
    if text.is_null() {
        return String::new();
    }
    // SAFETY: the verbs *_str functions and ibv_get_device_name return
    // pointers to NUL-terminated strings that live as long as the library
    // or the device list. The text is copied before returning.
    unsafe { CStr::from_ptr(text) }.to_string_lossy().into_owned()
}

/// Returns the text of a work completion status, such as "local length error".
pub(crate) fn completion_status_text(status: u32) -> String {
    // SAFETY: ibv_wc_status_str accepts any value and returns a static string.
    static_text(unsafe { sys::ibv_wc_status_str(status) })
}

/// Returns the verbs name of a port state, such as "PORT_ACTIVE".
pub(crate) fn port_state_text(state: u32) -> String {
    // SAFETY: ibv_port_state_str accepts any value and returns a static string.
    static_text(unsafe { sys::ibv_port_state_str(state) })
}

/// Returns the verbs description of a node type, such as "InfiniBand channel adapter".
pub(crate) fn node_type_text(node_type: u32) -> String {
    // SAFETY: ibv_node_type_str accepts any value and returns a static string.
    static_text(unsafe { sys::ibv_node_type_str(node_type as c_int) })
}

/// The RDMA devices of the machine, from `ibv_get_device_list`.
pub(crate) struct DeviceList {
    list: NonNull<*mut sys::IbvDevice>,
    count: usize,
}

impl DeviceList {
    /// Lists the devices. Returns the errno value when libibverbs cannot,
    /// as when the kernel has no RDMA support (ENOSYS).
    pub(crate) fn new() -> Result<DeviceList, i32> {
        let mut count: c_int = 0;
        // SAFETY: count is a valid, writable int.
        let list = unsafe { sys::naudit_ib_device_list(&mut count) };
        let list = NonNull::new(list).ok_or_else(last_errno)?;
        Ok(DeviceList { list, count: usize::try_from(count).unwrap_or(0) })
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    fn device(&self, index: usize) -> *mut sys::IbvDevice {
        assert!(index < self.count, "device {index} of {}", self.count);
        // SAFETY: the list contains count device pointers, and index is below it.
        unsafe { *self.list.as_ptr().add(index) }
    }

    /// Returns the kernel name of the `index`-th device, such as `mlx5_0`.
    pub(crate) fn name(&self, index: usize) -> String {
        // SAFETY: the device pointer comes from the live list.
        static_text(unsafe { sys::ibv_get_device_name(self.device(index)) })
    }

    /// Returns the node GUID of the `index`-th device.
    pub(crate) fn node_guid(&self, index: usize) -> u64 {
        // SAFETY: the device pointer comes from the live list; the GUID is
        // returned in network byte order.
        u64::from_be(unsafe { sys::ibv_get_device_guid(self.device(index)) })
    }

    /// Opens the `index`-th device. Returns the errno value on failure.
    pub(crate) fn open(&self, index: usize) -> Result<Context, i32> {
        // SAFETY: the device pointer comes from the live list; the context
        // stays valid after the list is freed.
        let context = unsafe { sys::ibv_open_device(self.device(index)) };
        NonNull::new(context).map(|context| Context { context }).ok_or_else(last_errno)
    }
}

impl Drop for DeviceList {
    fn drop(&mut self) {
        // SAFETY: the list came from ibv_get_device_list and is freed once.
        unsafe { sys::ibv_free_device_list(self.list.as_ptr()) }
    }
}

/// Device attributes from `ibv_query_device_ex` that the driver uses.
#[derive(Clone, Debug)]
pub(crate) struct DeviceAttributes {
    pub firmware: String,
    pub node_type: u32,
    pub port_count: u8,
    pub max_qp_wr: u32,
    pub max_cqe: u32,
    /// Frequency of the clock of completion timestamps, 0 when unknown.
    pub hca_core_clock_khz: u64,
    /// Valid bits of completion timestamps, 0 when the device has none.
    pub completion_timestamp_mask: u64,
}

/// Port attributes from `ibv_query_port` that the driver uses.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PortAttributes {
    pub state: u32,
    /// `enum ibv_mtu`: 1 for 256 bytes up to 5 for 4096 bytes.
    pub active_mtu: u32,
    pub lid: u16,
    pub link_layer: u8,
}

/// An open device, `struct ibv_context`, closed on drop.
pub(crate) struct Context {
    context: NonNull<sys::IbvContext>,
}

impl Context {
    pub(crate) fn query_device(&self) -> Result<DeviceAttributes, i32> {
        // SAFETY: DeviceInfo is plain data, so all zeroes is a valid value.
        let mut info: sys::DeviceInfo = unsafe { std::mem::zeroed() };
        // SAFETY: the context is open and info is a valid, writable struct.
        let result = unsafe { sys::naudit_ib_query_device(self.context.as_ptr(), &mut info) };
        if result != 0 {
            return Err(result);
        }
        let firmware: Vec<u8> = info.fw_ver.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        Ok(DeviceAttributes {
            firmware: String::from_utf8_lossy(&firmware).into_owned(),
            node_type: info.node_type,
            port_count: info.phys_port_cnt,
            max_qp_wr: info.max_qp_wr,
            max_cqe: info.max_cqe,
            hca_core_clock_khz: info.hca_core_clock_khz,
            completion_timestamp_mask: info.completion_timestamp_mask,
        })
    }

    pub(crate) fn query_port(&self, port: u8) -> Result<PortAttributes, i32> {
        let mut info = sys::PortInfo::default();
        // SAFETY: the context is open and info is a valid, writable struct.
        let result = unsafe { sys::naudit_ib_query_port(self.context.as_ptr(), port, &mut info) };
        if result != 0 {
            return Err(result);
        }
        Ok(PortAttributes {
            state: info.state,
            active_mtu: info.active_mtu,
            lid: info.lid,
            link_layer: info.link_layer,
        })
    }

    /// Reads the device's free-running clock in cycles.
    pub(crate) fn read_raw_clock(&self) -> Result<u64, i32> {
        let mut cycles = 0;
        // SAFETY: the context is open and cycles is a valid, writable u64.
        let result = unsafe { sys::naudit_ib_read_raw_clock(self.context.as_ptr(), &mut cycles) };
        if result != 0 {
            return Err(result);
        }
        Ok(cycles)
    }

    pub(crate) fn alloc_pd(&self) -> Result<ProtectionDomain, i32> {
        // SAFETY: the context is open.
        let pd = unsafe { sys::ibv_alloc_pd(self.context.as_ptr()) };
        NonNull::new(pd).map(|pd| ProtectionDomain { pd }).ok_or_else(last_errno)
    }

    /// Creates a CQ of `entries` completions, with completion timestamps of
    /// the first clock in `want_clocks` (a bit per `sys::cq_clock` value)
    /// the device accepts.
    pub(crate) fn create_cq(&self, entries: u32, want_clocks: i32) -> Result<CompletionQueue, i32> {
        let mut clock = sys::cq_clock::NONE;
        let mut cq_ex = std::ptr::null_mut();
        // SAFETY: the context is open; clock and cq_ex are valid, writable.
        let cq =
            unsafe { sys::naudit_ib_create_cq(self.context.as_ptr(), entries, want_clocks, &mut clock, &mut cq_ex) };
        let cq = NonNull::new(cq).ok_or_else(last_errno)?;
        Ok(CompletionQueue { cq, cq_ex, clock })
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: the context came from ibv_open_device and is closed once,
        // after every object created from it (see `sniffer::Resources`).
        let result = unsafe { sys::ibv_close_device(self.context.as_ptr()) };
        if result != 0 {
            tracing::warn!(error = %errno_text(last_errno()), "ibv_close_device failed");
        }
    }
}

/// A protection domain, deallocated on drop.
pub(crate) struct ProtectionDomain {
    pd: NonNull<sys::IbvPd>,
}

impl ProtectionDomain {
    /// Registers `length` bytes at `address` for the device to write.
    ///
    /// # Safety
    ///
    /// The memory must stay allocated until the region is dropped.
    pub(crate) unsafe fn register(&self, address: *mut u8, length: usize) -> Result<MemoryRegion, i32> {
        let mut lkey = 0;
        // SAFETY: the PD is live, the caller keeps the memory allocated for
        // the region's life, and lkey is a valid, writable u32.
        let mr = unsafe { sys::naudit_ib_reg_mr(self.pd.as_ptr(), address, length, &mut lkey) };
        NonNull::new(mr).map(|mr| MemoryRegion { mr, lkey }).ok_or_else(last_errno)
    }

    /// Creates a raw packet QP with `receive_wrs` receive requests, its
    /// completions going to `cq`.
    pub(crate) fn create_raw_qp(&self, cq: &CompletionQueue, receive_wrs: u32) -> Result<QueuePair, i32> {
        // SAFETY: the PD and CQ are live; the QP is destroyed before either
        // (see `sniffer::Resources`).
        let qp = unsafe { sys::naudit_ib_create_raw_qp(self.pd.as_ptr(), cq.cq.as_ptr(), receive_wrs) };
        NonNull::new(qp).map(|qp| QueuePair { qp }).ok_or_else(last_errno)
    }
}

impl Drop for ProtectionDomain {
    fn drop(&mut self) {
        // SAFETY: the PD came from ibv_alloc_pd and is freed once, after
        // the QP and memory region that use it.
        let result = unsafe { sys::ibv_dealloc_pd(self.pd.as_ptr()) };
        if result != 0 {
            tracing::warn!(error = %errno_text(result), "ibv_dealloc_pd failed");
        }
    }
}

/// A registered memory region, deregistered on drop.
pub(crate) struct MemoryRegion {
    mr: NonNull<sys::IbvMr>,
    pub lkey: u32,
}

impl Drop for MemoryRegion {
    fn drop(&mut self) {
        // SAFETY: the region came from ibv_reg_mr and is deregistered once,
        // after the QP that received into it is destroyed.
        let result = unsafe { sys::ibv_dereg_mr(self.mr.as_ptr()) };
        if result != 0 {
            tracing::warn!(error = %errno_text(result), "ibv_dereg_mr failed");
        }
    }
}

/// A completion queue, destroyed on drop.
pub(crate) struct CompletionQueue {
    cq: NonNull<sys::IbvCq>,
    /// The same CQ as an extended CQ, or null for a plain one.
    cq_ex: *mut sys::IbvCqEx,
    /// The `sys::cq_clock` of its completion timestamps.
    pub clock: i32,
}

impl CompletionQueue {
    /// Polls up to `out.len()` completions into `out`. Returns how many, or
    /// the errno value of a failed poll.
    pub(crate) fn poll(&mut self, out: &mut [sys::Completion]) -> Result<usize, i32> {
        let max = c_int::try_from(out.len()).unwrap_or(c_int::MAX);
        // SAFETY: the CQ is live and polled only from the thread that owns
        // this value (&mut self); out has room for max completions.
        let polled = unsafe { sys::naudit_ib_poll(self.cq.as_ptr(), self.cq_ex, self.clock, out.as_mut_ptr(), max) };
        if polled < 0 {
            return Err(-polled);
        }
        Ok(polled as usize)
    }
}

impl Drop for CompletionQueue {
    fn drop(&mut self) {
        // SAFETY: the CQ came from naudit_ib_create_cq and is destroyed
        // once, after the QP that completes into it.
        let result = unsafe { sys::ibv_destroy_cq(self.cq.as_ptr()) };
        if result != 0 {
            tracing::warn!(error = %errno_text(result), "ibv_destroy_cq failed");
        }
    }
}

/// A raw packet queue pair, destroyed on drop.
pub(crate) struct QueuePair {
    qp: NonNull<sys::IbvQp>,
}

impl QueuePair {
    /// Moves the QP to INIT on `port` and then to RTR, through RESET first
    /// when `reset`. Returns the rejected state and the errno value.
    pub(crate) fn make_ready(&self, port: u8, reset: bool) -> Result<(), (String, i32)> {
        let mut failed_state: *const c_char = std::ptr::null();
        // SAFETY: the QP is live and failed_state is a valid, writable pointer.
        let result = unsafe { sys::naudit_ib_ready_qp(self.qp.as_ptr(), port, c_int::from(reset), &mut failed_state) };
        if result != 0 {
            return Err((static_text(failed_state), result));
        }
        Ok(())
    }

    /// Attaches the sniffer steering rule of `port` to the QP.
    pub(crate) fn create_sniffer_flow(&self, port: u8) -> Result<SnifferFlow, i32> {
        // SAFETY: the QP is live; the rule is destroyed before it.
        let flow = unsafe { sys::naudit_ib_create_sniffer_flow(self.qp.as_ptr(), port) };
        NonNull::new(flow).map(|flow| SnifferFlow { flow }).ok_or_else(last_errno)
    }

    /// Posts a receive request for each buffer of `indexes`, buffer i being
    /// `buffer_bytes` at `base + i * buffer_bytes` in the region of `lkey`.
    /// Returns how many were posted (the first ones of `indexes`), and the
    /// errno value when not all were.
    ///
    /// # Safety
    ///
    /// Every listed buffer must lie in the registered region, and none may
    /// be read until its completion is polled.
    pub(crate) unsafe fn post_receives(
        &self,
        lkey: u32,
        base: *mut u8,
        buffer_bytes: u32,
        indexes: &[u32],
    ) -> (usize, Option<i32>) {
        let mut posted = 0;
        let count = u32::try_from(indexes.len()).expect("fewer than 2^32 receive buffers");
        // SAFETY: the QP is live, the caller guarantees the buffers, and
        // indexes contains count entries.
        let result = unsafe {
            sys::naudit_ib_post_receives(
                self.qp.as_ptr(),
                lkey,
                base,
                buffer_bytes,
                indexes.as_ptr(),
                count,
                &mut posted,
            )
        };
        (posted as usize, (result != 0).then_some(result))
    }
}

impl Drop for QueuePair {
    fn drop(&mut self) {
        // SAFETY: the QP came from naudit_ib_create_raw_qp and is destroyed
        // once, after its steering rule.
        let result = unsafe { sys::ibv_destroy_qp(self.qp.as_ptr()) };
        if result != 0 {
            tracing::warn!(error = %errno_text(result), "ibv_destroy_qp failed");
        }
    }
}

/// A sniffer steering rule, destroyed on drop.
pub(crate) struct SnifferFlow {
    flow: NonNull<sys::IbvFlow>,
}

impl Drop for SnifferFlow {
    fn drop(&mut self) {
        // SAFETY: the rule came from naudit_ib_create_sniffer_flow and is
        // destroyed once, before its QP.
        let result = unsafe { sys::naudit_ib_destroy_flow(self.flow.as_ptr()) };
        if result != 0 {
            tracing::warn!(error = %errno_text(result), "ibv_destroy_flow failed");
        }
    }
}

// SAFETY: libibverbs objects may be used from any thread. The queue that
// owns them moves to its worker's thread, and only that thread polls the CQ
// and posts to the QP, because the owning types are Send but not Sync.
unsafe impl Send for Context {}
// SAFETY: as for Context.
unsafe impl Send for ProtectionDomain {}
// SAFETY: as for Context.
unsafe impl Send for MemoryRegion {}
// SAFETY: as for Context; the extended CQ pointer is the same object.
unsafe impl Send for CompletionQueue {}
// SAFETY: as for Context.
unsafe impl Send for QueuePair {}
// SAFETY: as for Context.
unsafe impl Send for SnifferFlow {}
