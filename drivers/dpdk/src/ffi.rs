//! Safe wrappers over the calls declared in [`crate::sys`]. Every `unsafe`
//! block of the crate is in this file.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_uint};
use std::ptr::NonNull;

use naudit_engine::source::MAX_BATCH_PACKETS;

use crate::sys;

/// Formats a DPDK error number (positive or negative) as text.
pub(crate) fn error_text(code: i32) -> String {
    // SAFETY: rte_strerror accepts any number and returns a pointer to a
    // NUL-terminated string that stays valid until the next call on this
    // thread, and it is copied before returning.
    let text = unsafe { CStr::from_ptr(sys::rte_strerror(code.abs())) };
    format!("{} (error {})", text.to_string_lossy(), code.abs())
}

/// `rte_errno` of the calling thread.
pub(crate) fn last_error() -> i32 {
    // SAFETY: reads a thread-local integer.
    unsafe { sys::naudit_errno() }
}

/// The DPDK version string, for example "DPDK 22.11.11".
pub(crate) fn version() -> String {
    // SAFETY: rte_version returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(sys::rte_version()) }.to_string_lossy().into_owned()
}

/// Calls `rte_eal_init` with `args`, the first being the program name.
/// Returns the error text on failure.
pub(crate) fn eal_init(args: &[String]) -> Result<(), String> {
    let owned: Vec<CString> = args
        .iter()
        .map(|arg| CString::new(arg.as_str()).map_err(|_| format!("argument {arg:?} contains a NUL byte")))
        .collect::<Result<_, _>>()?;
    // EAL may permute argv, so it gets its own array of pointers; the
    // strings stay owned here and EAL copies what it keeps.
    let mut argv: Vec<*mut c_char> = owned.iter().map(|arg| arg.as_ptr() as *mut c_char).collect();
    argv.push(std::ptr::null_mut());
    let argc = c_int::try_from(owned.len()).map_err(|_| "too many EAL arguments".to_string())?;
    // SAFETY: argv contains argc pointers to NUL-terminated strings followed by
    // a null pointer, all alive for the call; EAL only reorders the array.
    let result = unsafe { sys::rte_eal_init(argc, argv.as_mut_ptr()) };
    if result < 0 {
        return Err(error_text(last_error()));
    }
    Ok(())
}

/// Calls `rte_eal_cleanup`, releasing EAL's memory and threads.
pub(crate) fn eal_cleanup() {
    // SAFETY: called once, after every port is closed and every mempool freed.
    let result = unsafe { sys::rte_eal_cleanup() };
    if result != 0 {
        tracing::warn!(error = %error_text(result), "rte_eal_cleanup failed");
    }
}

/// TSC frequency in hertz, as EAL measured it.
pub(crate) fn tsc_hz() -> u64 {
    // SAFETY: reads a value EAL set during init.
    unsafe { sys::rte_get_tsc_hz() }
}

/// The current TSC value.
pub(crate) fn tsc_cycles() -> u64 {
    // SAFETY: reads the time-stamp counter.
    unsafe { sys::naudit_tsc_cycles() }
}

/// Ids of every port no application owns, in id order.
pub(crate) fn port_ids() -> Vec<u16> {
    let mut ports = Vec::new();
    // SAFETY: both functions only read ethdev's port table.
    let max = unsafe { sys::naudit_max_ports() };
    let mut next = 0;
    while next < max {
        // SAFETY: as above; any port number is accepted.
        let port = unsafe { sys::naudit_next_port(next) };
        if port >= max {
            break;
        }
        ports.push(port);
        next = port + 1;
    }
    ports
}

/// Details of a port, for `nauditd -D` and the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortDetails {
    /// Port id.
    pub id: u16,
    /// Device name, such as `0000:3b:00.0` or `net_pcap0`.
    pub name: String,
    /// Poll-mode driver name, such as `net_ice` or `net_pcap`.
    pub driver: String,
    /// MAC address.
    pub mac: [u8; 6],
    /// Link state when the port was listed.
    pub link_up: bool,
    /// Link speed in megabits per second, 0 when unknown.
    pub link_speed_mbps: u32,
    /// Full duplex link.
    pub full_duplex: bool,
    /// NUMA socket of the device, -1 when unknown.
    pub socket_id: i32,
    /// Most RX queues the port offers.
    pub max_rx_queues: u16,
    /// True when the port can stamp packets with the NIC clock.
    pub offers_timestamp: bool,
    /// True when the port can spread packets over queues by RSS.
    pub offers_rss: bool,
}

fn c_chars_to_string(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Reads `port`'s name, driver, MAC address and link.
pub(crate) fn port_details(port: u16) -> Result<PortDetails, i32> {
    // SAFETY: PortInfo is plain data, so all zeroes is a valid value.
    let mut info: sys::PortInfo = unsafe { std::mem::zeroed() };
    // SAFETY: info is a valid, writable naudit_port_info.
    let result = unsafe { sys::naudit_port_info(port, &mut info) };
    if result != 0 {
        return Err(result);
    }
    Ok(PortDetails {
        id: port,
        name: c_chars_to_string(&info.name),
        driver: c_chars_to_string(&info.driver),
        mac: info.mac,
        link_up: info.link_up != 0,
        link_speed_mbps: info.link_speed_mbps,
        full_duplex: info.full_duplex != 0,
        socket_id: info.socket_id,
        max_rx_queues: info.max_rx_queues,
        offers_timestamp: info.rx_offload_capa & sys::RX_OFFLOAD_TIMESTAMP != 0,
        offers_rss: info.flow_type_rss_offloads != 0,
    })
}

/// Port statistics that count packets lost before they reached a queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PortLoss {
    /// Packets the NIC dropped because no RX descriptor was free (`imissed`).
    pub missed_pkts: u64,
    /// Erroneous packets, such as bad CRC (`ierrors`).
    pub error_pkts: u64,
    /// Packets dropped because the mempool had no free mbuf (`rx_nombuf`).
    pub no_mbuf_pkts: u64,
}

/// Reads `port`'s loss counters with `rte_eth_stats_get`.
pub(crate) fn port_loss(port: u16) -> Result<PortLoss, i32> {
    let mut stats = sys::PortStats::default();
    // SAFETY: stats is a valid, writable naudit_port_stats.
    let result = unsafe { sys::naudit_port_stats(port, &mut stats) };
    if result != 0 {
        return Err(result);
    }
    Ok(PortLoss { missed_pkts: stats.imissed, error_pkts: stats.ierrors, no_mbuf_pkts: stats.rx_nombuf })
}

/// Reads the device clock of `port` with `rte_eth_read_clock`.
pub(crate) fn read_device_clock(port: u16) -> Result<u64, i32> {
    let mut clock = 0;
    // SAFETY: clock is a valid, writable u64.
    let result = unsafe { sys::rte_eth_read_clock(port, &mut clock) };
    if result != 0 {
        return Err(result);
    }
    Ok(clock)
}

/// NUMA socket of `port`, or `SOCKET_ID_ANY` when unknown.
pub(crate) fn port_socket(port: u16) -> i32 {
    // SAFETY: reads ethdev's port table; an invalid port returns an error value.
    let socket = unsafe { sys::rte_eth_dev_socket_id(port) };
    if socket < 0 {
        sys::SOCKET_ID_ANY
    } else {
        socket
    }
}

/// A packet mempool, freed on drop.
pub(crate) struct Mempool {
    pool: NonNull<sys::RteMempool>,
}

// SAFETY: the pool's default operations ("ring_mp_mc") let any thread take
// and return mbufs, and the pointer itself is only freed by Drop, once.
unsafe impl Send for Mempool {}
// SAFETY: shared references only pass the pointer to rte_eth_rx_queue_setup
// during start-up, on one thread.
unsafe impl Sync for Mempool {}

impl Mempool {
    /// Creates a pool of `mbufs` packet buffers of `data_room_bytes` each on
    /// NUMA `socket`, with a cache of `cache_per_lcore` mbufs for each lcore.
    pub(crate) fn create(
        name: &str,
        mbufs: u32,
        cache_per_lcore: u32,
        data_room_bytes: u16,
        socket: i32,
    ) -> Result<Mempool, String> {
        let c_name = CString::new(name).map_err(|_| format!("mempool name {name:?} contains a NUL byte"))?;
        // SAFETY: c_name is a NUL-terminated string alive for the call; the
        // other arguments are plain numbers that DPDK validates.
        let pool = unsafe {
            sys::rte_pktmbuf_pool_create(
                c_name.as_ptr(),
                mbufs as c_uint,
                cache_per_lcore as c_uint,
                0,
                data_room_bytes,
                socket,
            )
        };
        NonNull::new(pool).map(|pool| Mempool { pool }).ok_or_else(|| error_text(last_error()))
    }

    pub(crate) fn as_ptr(&self) -> *mut sys::RteMempool {
        self.pool.as_ptr()
    }
}

impl Drop for Mempool {
    fn drop(&mut self) {
        // SAFETY: the pool came from rte_pktmbuf_pool_create and is freed
        // once; the runtime drops pools only after closing every port that
        // filled queues from them.
        unsafe { sys::rte_mempool_free(self.pool.as_ptr()) }
    }
}

/// Source of the timestamps of a started port's packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimestampSource {
    /// The RX timestamp offload: ticks of the NIC's clock.
    Offload,
    /// The driver, without offering the offload (net_pcap: each packet's
    /// capture time, in microseconds since the Unix epoch).
    Driver,
}

/// Features that [`start_port`] enabled.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StartedPort {
    /// Offset and flag of the RX timestamp dynamic field, and what fills
    /// it, when packets carry timestamps.
    pub timestamp: Option<(TimestampSource, (i32, u64))>,
    /// True when symmetric RSS was configured.
    pub rss_enabled: bool,
}

/// Configures and starts `port` with one RX queue per entry of `pools`.
/// Returns the failed DPDK call and its error on failure.
pub(crate) fn start_port(
    port: u16,
    pools: &[&Mempool],
    rx_descriptors: u16,
    want_timestamp: bool,
    promiscuous: bool,
) -> Result<StartedPort, (String, i32)> {
    let pointers: Vec<*mut sys::RteMempool> = pools.iter().map(|pool| pool.as_ptr()).collect();
    let mut setup = sys::PortSetup {
        rx_queues: u16::try_from(pointers.len()).unwrap_or(u16::MAX),
        rx_descriptors,
        want_timestamp: u8::from(want_timestamp),
        promiscuous: u8::from(promiscuous),
        timestamp_source: sys::TIMESTAMP_SOURCE_NONE,
        rss_enabled: 0,
        timestamp_offset: -1,
        timestamp_flag: 0,
        failed_call: std::ptr::null(),
    };
    // SAFETY: setup is a valid naudit_port_setup, and pointers contains
    // rx_queues live mempools that outlive the port (see Mempool's Drop).
    let result = unsafe { sys::naudit_port_start(port, &mut setup, pointers.as_ptr()) };
    if result != 0 {
        let call = if setup.failed_call.is_null() {
            "naudit_port_start".to_string()
        } else {
            // SAFETY: the shim sets failed_call to a string literal.
            unsafe { CStr::from_ptr(setup.failed_call) }.to_string_lossy().into_owned()
        };
        return Err((call, result));
    }
    let field = (setup.timestamp_offset, setup.timestamp_flag);
    let timestamp = match setup.timestamp_source {
        sys::TIMESTAMP_SOURCE_OFFLOAD => Some((TimestampSource::Offload, field)),
        sys::TIMESTAMP_SOURCE_DRIVER => Some((TimestampSource::Driver, field)),
        _ => None,
    };
    Ok(StartedPort {
        timestamp,
        rss_enabled: setup.rss_enabled != 0,
    })
}

/// Stops and closes `port`, logging failures.
pub(crate) fn stop_and_close_port(port: u16) {
    // SAFETY: the port was started by start_port and no queue of it is
    // polled any more (the runtime is dropped after every queue).
    let stopped = unsafe { sys::rte_eth_dev_stop(port) };
    if stopped != 0 {
        tracing::warn!(port, error = %error_text(stopped), "rte_eth_dev_stop failed");
    }
    // SAFETY: as above; the port is stopped.
    let closed = unsafe { sys::rte_eth_dev_close(port) };
    if closed != 0 {
        tracing::warn!(port, error = %error_text(closed), "rte_eth_dev_close failed");
    }
}

/// The mbufs of one receive burst, owned until [`RxBurst::free`].
pub(crate) struct RxBurst {
    mbufs: [*mut sys::RteMbuf; MAX_BATCH_PACKETS],
    views: [sys::MbufView; MAX_BATCH_PACKETS],
    count: usize,
    /// Copies of the packets that arrived as mbuf chains, one after another,
    /// so the engine sees every packet as one contiguous slice.
    linear: Vec<u8>,
    /// Start and length in `linear` of each chained packet of the burst.
    linear_spans: [Option<(usize, usize)>; MAX_BATCH_PACKETS],
}

// SAFETY: the mbufs belong to this burst alone until freed, and mbufs may be
// freed from any thread (see Mempool).
unsafe impl Send for RxBurst {}

/// One received packet of a burst.
pub(crate) struct ReceivedPacket<'a> {
    /// The packet's bytes, all segments.
    pub data: &'a [u8],
    /// Length of the whole packet, all segments.
    pub pkt_len: u32,
    /// The timestamp field, when the mbuf carries one, in the unit of the
    /// port's [`crate::clock::PacketClock`].
    pub timestamp: Option<u64>,
}

impl RxBurst {
    pub(crate) fn new() -> RxBurst {
        RxBurst {
            mbufs: [std::ptr::null_mut(); MAX_BATCH_PACKETS],
            views: [sys::MbufView::EMPTY; MAX_BATCH_PACKETS],
            count: 0,
            linear: Vec::new(),
            linear_spans: [None; MAX_BATCH_PACKETS],
        }
    }

    /// Receives up to [`MAX_BATCH_PACKETS`] packets from `queue` of `port`.
    /// The previous burst must have been freed. Returns the packet count.
    pub(crate) fn receive(&mut self, port: u16, queue: u16, timestamp_field: Option<(i32, u64)>) -> usize {
        debug_assert_eq!(self.count, 0, "receive before free leaks mbufs");
        let (offset, flag) = timestamp_field.unwrap_or((-1, 0));
        // SAFETY: both arrays hold MAX_BATCH_PACKETS entries, the count
        // passed; only this thread polls this queue (a DpdkQueue is not Sync
        // and owns its queues).
        let received = unsafe {
            sys::naudit_rx_burst(
                port,
                queue,
                self.mbufs.as_mut_ptr(),
                self.views.as_mut_ptr(),
                MAX_BATCH_PACKETS as u16,
                offset,
                flag,
            )
        };
        self.count = usize::from(received);
        self.linearize_chains();
        self.count
    }

    /// Copies each packet that arrived as an mbuf chain into `linear`.
    /// Drivers chain mbufs for packets longer than one mbuf's data room
    /// (jumbo frames, or net_pcap replaying them).
    fn linearize_chains(&mut self) {
        self.linear.clear();
        for index in 0..self.count {
            let view = &self.views[index];
            if view.segments <= 1 {
                self.linear_spans[index] = None;
                continue;
            }
            let start = self.linear.len();
            let pkt_len = view.pkt_len as usize;
            self.linear.resize(start + pkt_len, 0);
            // SAFETY: mbufs[index] is a received mbuf chain owned by this
            // burst, and linear has pkt_len writable bytes from start.
            let copied = unsafe { sys::naudit_mbuf_copy(self.mbufs[index], self.linear[start..].as_mut_ptr(), view.pkt_len) };
            self.linear.truncate(start + copied as usize);
            self.linear_spans[index] = Some((start, copied as usize));
        }
    }

    /// Packets in the burst, 0 after [`RxBurst::free`].
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The `index`-th packet of the burst.
    pub(crate) fn packet(&self, index: usize) -> ReceivedPacket<'_> {
        assert!(index < self.count, "packet {index} of a burst of {}", self.count);
        let view = &self.views[index];
        let data = match self.linear_spans[index] {
            Some((start, length)) => &self.linear[start..start + length],
            // SAFETY: the shim set data and data_len from a received mbuf,
            // which stays allocated, and unwritten by the NIC, until free()
            // returns it to its pool; free takes &mut self, so it cannot run
            // while this borrow lives.
            None => unsafe { std::slice::from_raw_parts(view.data, usize::from(view.data_len)) },
        };
        ReceivedPacket {
            data,
            pkt_len: view.pkt_len,
            timestamp: (view.has_timestamp != 0).then_some(view.timestamp),
        }
    }

    /// Returns every mbuf of the burst to its pool.
    pub(crate) fn free(&mut self) {
        if self.count == 0 {
            return;
        }
        // SAFETY: the first count entries are mbufs received by this burst
        // and not yet freed; count is reset so they are freed once.
        unsafe { sys::rte_pktmbuf_free_bulk(self.mbufs.as_mut_ptr(), self.count as c_uint) };
        self.count = 0;
    }
}

impl Drop for RxBurst {
    fn drop(&mut self) {
        self.free();
    }
}

/// Registers the calling thread with EAL, so it gets an lcore id and the
/// mempools' per-lcore caches, unless it has one already. Returns true when
/// this call registered it.
pub(crate) fn register_thread() -> Result<bool, i32> {
    // SAFETY: reads the calling thread's lcore id.
    if unsafe { sys::naudit_lcore_id() } != LCORE_ID_ANY {
        return Ok(false);
    }
    // SAFETY: EAL is initialised (a queue exists only after open), and the
    // thread is not registered yet.
    match unsafe { sys::rte_thread_register() } {
        0 => Ok(true),
        _ => Err(last_error()),
    }
}

/// Releases the lcore id that [`register_thread`] gave the calling thread.
pub(crate) fn unregister_thread() {
    // SAFETY: called only on a thread that register_thread registered.
    unsafe { sys::rte_thread_unregister() }
}

/// `LCORE_ID_ANY`: the lcore id of a thread EAL does not know.
const LCORE_ID_ANY: c_uint = c_uint::MAX;
