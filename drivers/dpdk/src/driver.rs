//! Opening the driver: EAL, ports, mempools, and the queues handed to
//! workers. [`Runtime`] stops the ports and EAL when the last queue is gone.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::PacketClock;
use crate::eal;
use crate::error::DpdkError;
use crate::ffi::{self, Mempool, PortDetails};
use crate::queue::{DpdkQueue, RxQueue};
use crate::sys;

/// Default RX descriptors per queue.
pub const DEFAULT_RX_DESCRIPTORS: u16 = 1024;
/// mbufs per pool beyond what the RX rings hold, so a worker that keeps one
/// burst while the NIC refills its ring never starves it.
const SPARE_MBUFS_PER_QUEUE: u32 = 4 * naudit_engine::source::MAX_BATCH_PACKETS as u32;
/// mbufs each lcore keeps in its mempool cache. Workers register as lcores,
/// so allocation and freeing mostly stay in the cache.
const MBUF_CACHE_PER_LCORE: u32 = 256;
/// How long ports that replay capture files may deliver nothing before
/// their queues report the end of input. net_pcap signals no end of file,
/// and it reads a file far faster than this gap.
pub const REPLAY_END_IDLE: Duration = Duration::from_secs(1);

/// Driver settings.
#[derive(Clone, Debug)]
pub struct DpdkConfig {
    /// EAL arguments, split as a shell would (see [`eal::split_eal_args`]).
    pub eal_args: String,
    /// Ports to read, by id or device name; empty reads every port.
    pub ports: Vec<String>,
    /// Workers: queues per port, as far as every port offers that many.
    pub workers: usize,
    /// RX descriptors per queue.
    pub rx_descriptors: u16,
    /// Put the ports into promiscuous mode.
    pub promiscuous: bool,
}

impl DpdkConfig {
    /// Settings for `eal_args` with every port, one worker and defaults.
    pub fn new(eal_args: impl Into<String>) -> DpdkConfig {
        DpdkConfig {
            eal_args: eal_args.into(),
            ports: Vec::new(),
            workers: 1,
            rx_descriptors: DEFAULT_RX_DESCRIPTORS,
            promiscuous: true,
        }
    }
}

/// The opened driver.
pub struct DpdkInput {
    /// One queue per worker.
    pub queues: Vec<DpdkQueue>,
    /// True when every port replays a capture file, so packet times are the
    /// file's and the queues end when the files do.
    pub replays_capture_files: bool,
}

/// Ports, mempools and EAL, released in that order when the last queue
/// drops its reference.
pub(crate) struct Runtime {
    ports: Vec<u16>,
    pools: Vec<Mempool>,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        for &port in &self.ports {
            ffi::stop_and_close_port(port);
        }
        self.pools.clear();
        ffi::eal_cleanup();
        tracing::info!(ports = ?self.ports, "DPDK ports closed and EAL cleaned up");
    }
}

/// Starts EAL with `eal_args` and lists every port it found, then releases
/// EAL. For `nauditd -D`.
pub fn list_ports(eal_args: &str) -> Result<Vec<PortDetails>, DpdkError> {
    let args = eal::split_eal_args(eal_args)?;
    eal::start(&args)?;
    let ports = ffi::port_ids()
        .into_iter()
        .map(|port| ffi::port_details(port).map_err(|code| port_error(port, "rte_eth_dev_info_get", code)))
        .collect();
    ffi::eal_cleanup();
    ports
}

fn port_error(port: u16, call: &str, code: i32) -> DpdkError {
    DpdkError::Port { port: port.to_string(), call: call.to_string(), reason: ffi::error_text(code) }
}

/// Picks the ports `requested` names (ids or device names), or all.
fn select_ports(available: &[PortDetails], requested: &[String]) -> Result<Vec<PortDetails>, DpdkError> {
    if available.is_empty() {
        return Err(DpdkError::NoPorts);
    }
    if requested.is_empty() {
        return Ok(available.to_vec());
    }
    requested
        .iter()
        .map(|wanted| {
            available
                .iter()
                .find(|port| port.name == *wanted || port.id.to_string() == *wanted)
                .cloned()
                .ok_or_else(|| DpdkError::PortNotFound {
                    requested: wanted.clone(),
                    available: available.iter().map(|port| format!("{}={}", port.id, port.name)).collect::<Vec<_>>().join(", "),
                })
        })
        .collect()
}

/// Assigns each (port, queue) to a worker: `assignment[worker]` lists them.
///
/// When every port offers `workers` queues, queue q of every port goes to
/// worker q. A flow that symmetric RSS puts in queue q then reaches the
/// same worker on every port, as with a tap whose two directions arrive on
/// two ports.
/// Otherwise the queues are dealt out in turn, and a flow seen on two ports
/// may reach two workers.
pub(crate) fn assign_queues(queue_counts: &[(u16, u16)], workers: usize) -> Vec<Vec<(u16, u16)>> {
    let workers = workers.max(1);
    let mut assignment = vec![Vec::new(); workers];
    if queue_counts.iter().all(|&(_, count)| usize::from(count) == workers) {
        for &(port, count) in queue_counts {
            for queue in 0..count {
                assignment[usize::from(queue)].push((port, queue));
            }
        }
    } else {
        let pairs = queue_counts.iter().flat_map(|&(port, count)| (0..count).map(move |queue| (port, queue)));
        for (index, pair) in pairs.enumerate() {
            assignment[index % workers].push(pair);
        }
    }
    assignment.retain(|queues| !queues.is_empty());
    assignment
}

/// Starts EAL, configures and starts the ports, and returns one queue per
/// worker. EAL can start only once per process.
pub fn open(config: &DpdkConfig) -> Result<DpdkInput, DpdkError> {
    let args = eal::split_eal_args(&config.eal_args)?;
    let replays = eal::replays_capture_files(&args);
    eal::start(&args)?;

    let available = ffi::port_ids()
        .into_iter()
        .map(|port| ffi::port_details(port).map_err(|code| port_error(port, "rte_eth_dev_info_get", code)))
        .collect::<Result<Vec<_>, _>>();
    let ports = match available.and_then(|available| select_ports(&available, &config.ports)) {
        Ok(ports) => ports,
        Err(error) => {
            ffi::eal_cleanup();
            return Err(error);
        }
    };

    let workers = config.workers.max(1);
    let queue_counts: Vec<(u16, u16)> = ports
        .iter()
        .map(|port| (port.id, port.max_rx_queues.clamp(1, u16::try_from(workers).unwrap_or(u16::MAX))))
        .collect();
    for (port, &(_, count)) in ports.iter().zip(&queue_counts) {
        if usize::from(count) < workers {
            tracing::warn!(port = %port.name, queues = count, workers, "the port offers fewer RX queues than workers");
        }
    }

    // The runtime is built first, so that every error below closes what
    // was started and cleans up EAL when it drops.
    let mut runtime = Runtime { ports: Vec::new(), pools: Vec::new() };
    let pools = create_pools(&ports, &queue_counts, config.rx_descriptors, workers, &mut runtime)?;
    let mut rx_queues = BTreeMap::new();
    for (port, &(_, count)) in ports.iter().zip(&queue_counts) {
        let socket = ffi::port_socket(port.id);
        let pool = &runtime.pools[pools[&socket]];
        let port_pools = vec![pool; usize::from(count)];
        let started = ffi::start_port(port.id, &port_pools, config.rx_descriptors, true, config.promiscuous)
            .map_err(|(call, code)| DpdkError::Port {
                port: format!("{} ({})", port.id, port.name),
                call,
                reason: ffi::error_text(code),
            })?;
        runtime.ports.push(port.id);
        let clock = PacketClock::for_port(port.id, &port.driver, started.timestamp.map(|(source, _)| source));
        if !started.rss_enabled && count > 1 {
            tracing::warn!(port = %port.name, "the port offers no RSS; its queues may split flows");
        }
        tracing::info!(
            port = %port.name,
            driver = %port.driver,
            queues = count,
            rss = started.rss_enabled,
            clock = ?clock,
            "DPDK port started"
        );
        for queue in 0..count {
            // Port statistics are per port, so only queue 0 reports them.
            let timestamp_field = started.timestamp.map(|(_, field)| field);
            let rx = RxQueue { port: port.id, queue, timestamp_field, clock, reports_port_loss: queue == 0 };
            rx_queues.insert((port.id, queue), rx);
        }
    }

    let runtime = Arc::new(runtime);
    let idle_end = replays.then_some(REPLAY_END_IDLE);
    let queues = assign_queues(&queue_counts, workers)
        .into_iter()
        .map(|pairs| {
            let name = pairs.iter().map(|(port, queue)| format!("dpdk:{port}/{queue}")).collect::<Vec<_>>().join("+");
            let rx = pairs.iter().map(|pair| rx_queues[pair]).collect();
            DpdkQueue::new(name, rx, idle_end, Arc::clone(&runtime))
        })
        .collect();
    Ok(DpdkInput { queues, replays_capture_files: replays })
}

/// Creates one mempool per NUMA socket of `ports`, sized for their queues
/// and for the caches of `workers` worker lcores and the main lcore, into
/// `runtime`. Returns the pool index of each socket.
fn create_pools(
    ports: &[PortDetails],
    queue_counts: &[(u16, u16)],
    rx_descriptors: u16,
    workers: usize,
    runtime: &mut Runtime,
) -> Result<BTreeMap<i32, usize>, DpdkError> {
    let mut mbufs_per_socket: BTreeMap<i32, u32> = BTreeMap::new();
    for (port, &(_, count)) in ports.iter().zip(queue_counts) {
        let per_queue = u32::from(rx_descriptors) + SPARE_MBUFS_PER_QUEUE;
        *mbufs_per_socket.entry(ffi::port_socket(port.id)).or_default() += per_queue * u32::from(count);
    }
    let cached_mbufs = MBUF_CACHE_PER_LCORE * u32::try_from(workers + 1).unwrap_or(u32::MAX);
    let mut indexes = BTreeMap::new();
    for (socket, queue_mbufs) in mbufs_per_socket {
        let mbufs = queue_mbufs.saturating_add(cached_mbufs);
        let name = format!("naudit_rx_{}", if socket < 0 { "any".to_string() } else { socket.to_string() });
        let pool = Mempool::create(&name, mbufs, MBUF_CACHE_PER_LCORE, sys::MBUF_DEFAULT_BUF_SIZE, socket)
            .map_err(|reason| DpdkError::Mempool { name: name.clone(), mbufs, socket, reason })?;
        indexes.insert(socket, runtime.pools.len());
        runtime.pools.push(pool);
    }
    Ok(indexes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_follow_queue_index_across_ports() {
        let assignment = assign_queues(&[(0, 2), (1, 2)], 2);
        assert_eq!(assignment, vec![vec![(0, 0), (1, 0)], vec![(0, 1), (1, 1)]]);
    }

    #[test]
    fn single_queue_ports_spread_over_workers() {
        assert_eq!(assign_queues(&[(0, 1), (1, 1)], 2), vec![vec![(0, 0)], vec![(1, 0)]]);
        assert_eq!(assign_queues(&[(0, 1), (1, 1)], 1), vec![vec![(0, 0), (1, 0)]]);
        assert_eq!(assign_queues(&[(0, 1)], 4), vec![vec![(0, 0)]]);
    }
}
