//! Opening the sniffer: device, protection domain, receive buffers, CQ,
//! raw packet QP and the sniffer steering rule, in that order.

use std::time::Instant;

use naudit_engine::LinkType;

use crate::clock::{system_clock_ns, CycleClock, PacketClock};
use crate::device::{open_device, LinkLayer, PortName};
use crate::error::IbverbsError;
use crate::ffi::{self, CompletionQueue, Context, MemoryRegion, ProtectionDomain, QueuePair, SnifferFlow};
use crate::pool::{BufferMemory, ReceiveRing};
use crate::queue::IbverbsQueue;
use crate::sys;

/// Default receive buffers per sniffer, as far as the device allows.
pub const DEFAULT_RECEIVE_BUFFERS: u32 = 4096;
/// Bytes of a receive buffer on an InfiniBand port: two pages. The largest
/// packet is a 4096-byte payload after at most 8 bytes of LRH, 40 of GRH,
/// 12 of BTH and 28 of extension headers, with 6 bytes of CRCs. Buffers are
/// whole pages because ibdump, Mellanox's capture tool, keeps sniffer
/// receive buffers page aligned.
pub const INFINIBAND_BUFFER_BYTES: u32 = 8192;
/// Bytes of a receive buffer on an Ethernet (RoCE) port: four pages, room
/// for a 9216-byte jumbo frame with VLAN tags.
pub const ETHERNET_BUFFER_BYTES: u32 = 16384;

/// Sniffer settings.
#[derive(Clone, Debug)]
pub struct IbverbsConfig {
    /// The device and port to capture.
    pub port: PortName,
    /// Receive buffers, each posted to the QP; the device's limit on QP and
    /// CQ sizes caps it.
    pub receive_buffers: u32,
    /// Bytes of each receive buffer; `None` sizes them for the port's link
    /// layer. A packet longer than its buffer completes with an error and
    /// is counted as dropped.
    pub buffer_bytes: Option<u32>,
    /// Bytes of each packet handed to the engine; longer packets are cut
    /// and counted as truncated.
    pub snaplen_bytes: u32,
}

impl IbverbsConfig {
    /// Settings for `port` with the defaults.
    pub fn new(port: PortName) -> IbverbsConfig {
        IbverbsConfig { port, receive_buffers: DEFAULT_RECEIVE_BUFFERS, buffer_bytes: None, snaplen_bytes: u32::MAX }
    }
}

/// The verbs objects of one sniffer. Fields drop in declaration order,
/// which is the order verbs requires: the steering rule before its QP, the
/// QP before its CQ and memory region, the region before its memory and
/// protection domain, and the device last.
pub(crate) struct Resources {
    pub flow: Option<SnifferFlow>,
    pub qp: QueuePair,
    pub cq: CompletionQueue,
    pub mr: MemoryRegion,
    pub memory: BufferMemory,
    pub _pd: ProtectionDomain,
    pub context: Context,
}

fn verbs_error(name: &PortName, call: &str, code: i32, hint: &'static str) -> IbverbsError {
    IbverbsError::Verbs {
        device: name.device.clone(),
        port: name.port,
        call: call.to_string(),
        reason: ffi::errno_text(code),
        hint,
    }
}

/// Hint for a device that cannot run a sniffer QP.
const RAW_QP_HINT: &str = "; the verbs sniffer needs root or CAP_NET_RAW and an adapter with raw packet QPs, \
     such as NVIDIA/Mellanox adapters driven by mlx5 (soft devices such as rxe and siw have none)";

/// Opens the sniffer on `config.port`: every packet the port sends or
/// receives is copied to one receive queue, read by the returned queue.
pub fn open(config: &IbverbsConfig) -> Result<IbverbsQueue, IbverbsError> {
    let name = &config.port;
    let context = open_device(name)?;
    let attributes = context.query_device().map_err(|code| verbs_error(name, "ibv_query_device_ex", code, ""))?;
    if name.port > attributes.port_count {
        return Err(IbverbsError::PortNotFound {
            device: name.device.clone(),
            port: name.port,
            port_count: attributes.port_count,
        });
    }
    let port = context.query_port(name.port).map_err(|code| verbs_error(name, "ibv_query_port", code, ""))?;
    let (link_type, default_buffer_bytes) = match LinkLayer::from_verbs(port.link_layer) {
        LinkLayer::InfiniBand => (LinkType::INFINIBAND, INFINIBAND_BUFFER_BYTES),
        LinkLayer::Ethernet => (LinkType::ETHERNET, ETHERNET_BUFFER_BYTES),
        LinkLayer::Unknown(link_layer) => {
            return Err(IbverbsError::UnsupportedLinkLayer { device: name.device.clone(), port: name.port, link_layer })
        }
    };
    if port.state != sys::PORT_ACTIVE {
        let state = ffi::port_state_text(port.state);
        tracing::warn!(port = %name, state = %state, "the RDMA port is not active, so the sniffer sees no packets until it is");
    }

    let buffer_count = config.receive_buffers.min(attributes.max_qp_wr).min(attributes.max_cqe).max(1);
    if buffer_count < config.receive_buffers {
        tracing::info!(port = %name, buffers = buffer_count, "the device limits the receive queue to fewer buffers");
    }
    let buffer_bytes = config.buffer_bytes.unwrap_or(default_buffer_bytes).max(1);

    // Cycle timestamps need the clock frequency, a timestamp mask and a
    // readable device clock to anchor them to the system clock.
    let cycles_usable = attributes.hca_core_clock_khz != 0
        && attributes.completion_timestamp_mask != 0
        && context.read_raw_clock().is_ok();
    let mut want_clocks = 1 << sys::cq_clock::WALLCLOCK;
    if cycles_usable {
        want_clocks |= 1 << sys::cq_clock::CYCLES;
    }

    let pd = context.alloc_pd().map_err(|code| verbs_error(name, "ibv_alloc_pd", code, ""))?;
    let memory = BufferMemory::allocate(buffer_count, buffer_bytes).ok_or_else(|| IbverbsError::BufferAllocation {
        device: name.device.clone(),
        bytes: buffer_count as usize * buffer_bytes as usize,
    })?;
    // SAFETY: the memory is a field of the same Resources as the region and
    // is dropped after it.
    let mr = unsafe { pd.register(memory.base(), memory.len_bytes()) }.map_err(|code| {
        verbs_error(
            name,
            &format!("ibv_reg_mr of {} bytes", memory.len_bytes()),
            code,
            "; raise the locked memory limit (ulimit -l)",
        )
    })?;
    let cq = context
        .create_cq(buffer_count, want_clocks)
        .map_err(|code| verbs_error(name, &format!("ibv_create_cq of {buffer_count} entries"), code, ""))?;
    let qp = pd
        .create_raw_qp(&cq, buffer_count)
        .map_err(|code| verbs_error(name, "ibv_create_qp of a raw packet QP", code, RAW_QP_HINT))?;
    qp.make_ready(name.port, false)
        .map_err(|(state, code)| verbs_error(name, &format!("ibv_modify_qp to {state}"), code, RAW_QP_HINT))?;

    let clock = match cq.clock {
        sys::cq_clock::WALLCLOCK => PacketClock::DeviceWallClock,
        sys::cq_clock::CYCLES => match context.read_raw_clock() {
            Ok(cycles) => PacketClock::DeviceCycles {
                clock: CycleClock::new(
                    cycles,
                    system_clock_ns(),
                    attributes.hca_core_clock_khz,
                    attributes.completion_timestamp_mask,
                ),
                anchored_at: Instant::now(),
            },
            Err(_) => PacketClock::System,
        },
        _ => PacketClock::System,
    };

    let mut resources = Resources { flow: None, qp, cq, mr, memory, _pd: pd, context };
    let mut ring = ReceiveRing::new(buffer_count);
    // The buffers go on the receive queue before the rule, so that the
    // first packets find them.
    let (posted, error) = post_pending(&resources, &mut ring);
    if let Some(code) = error {
        return Err(verbs_error(name, &format!("ibv_post_recv of {buffer_count} buffers ({posted} posted)"), code, ""));
    }
    // NOTE: not tried on an adapter. On InfiniBand ports of ConnectX-4 and
    // later, ibdump attaches its QP with a firmware command instead, so mlx5
    // may accept this rule only on Ethernet ports.
    let flow = resources.qp.create_sniffer_flow(name.port).map_err(|code| IbverbsError::SnifferRejected {
        device: name.device.clone(),
        port: name.port,
        reason: ffi::errno_text(code),
    })?;
    resources.flow = Some(flow);

    tracing::info!(
        port = %name,
        link_type = link_type.0,
        buffers = buffer_count,
        buffer_bytes,
        clock = clock.describe(),
        "RDMA sniffer opened"
    );
    Ok(IbverbsQueue::new(name.clone(), link_type, config.snaplen_bytes, resources, ring, clock))
}

/// Posts every pending buffer of `ring` to the QP. Returns how many were
/// posted and the errno value of a failed post.
pub(crate) fn post_pending(resources: &Resources, ring: &mut ReceiveRing) -> (usize, Option<i32>) {
    if ring.pending().is_empty() {
        return (0, None);
    }
    // SAFETY: pending buffers lie in the registered block and are not lent
    // to the engine: a batch's views end before its buffers are posted.
    let (posted, error) = unsafe {
        resources.qp.post_receives(
            resources.mr.lkey,
            resources.memory.base(),
            resources.memory.buffer_bytes(),
            ring.pending(),
        )
    };
    ring.mark_posted(posted);
    (posted, error)
}

/// Re-anchors a cycle clock to the system clock.
pub(crate) fn anchor_clock(resources: &Resources, clock: &mut PacketClock) {
    let PacketClock::DeviceCycles { clock: cycle_clock, anchored_at } = clock else {
        return;
    };
    match resources.context.read_raw_clock() {
        Ok(cycles) => {
            *cycle_clock = cycle_clock.reanchored(cycles, system_clock_ns());
            *anchored_at = Instant::now();
        }
        Err(code) => {
            // Keeps the old anchor and tries again at the next interval.
            *anchored_at = Instant::now();
            tracing::warn!(error = %ffi::errno_text(code), "ibv_query_rt_values_ex failed; packet times keep the old clock anchor");
        }
    }
}
