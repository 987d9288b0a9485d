//! Errors of opening the DPDK driver.

/// Failures of opening the DPDK driver.
#[derive(Debug, thiserror::Error)]
pub enum DpdkError {
    /// `--dpdk-args` cannot be split into words.
    #[error("invalid --dpdk-args {args:?}: {reason}")]
    InvalidArguments {
        /// The text given.
        args: String,
        /// The problem, in a few words.
        reason: String,
    },
    /// EAL was started before in this process.
    #[error("DPDK EAL was already started in this process; DPDK 22.11 can start it only once per process")]
    AlreadyStarted,
    /// `rte_eal_init` failed.
    #[error("DPDK EAL initialization failed with arguments `{args}`: {reason}; check --dpdk-args (DPDK logs the cause above), hugepages, and that the process runs as root")]
    EalInit {
        /// The EAL arguments, without the program name.
        args: String,
        /// DPDK's error text.
        reason: String,
    },
    /// EAL found no port.
    #[error("DPDK found no Ethernet port; a device that failed to probe (such as a --vdev whose file is missing) is logged above by EAL; bind a NIC to vfio-pci with dpdk-devbind.py, or add a virtual device such as --vdev=net_pcap0,rx_pcap=FILE to --dpdk-args")]
    NoPorts,
    /// A port asked for by name or id does not exist.
    #[error("DPDK port {requested:?} not found; available ports: {available}")]
    PortNotFound {
        /// The name or id given.
        requested: String,
        /// The ports EAL found, as `id=name` pairs.
        available: String,
    },
    /// A DPDK call on a port failed.
    #[error("DPDK port {port}: {call} failed: {reason}")]
    Port {
        /// Port id and name.
        port: String,
        /// The DPDK function that failed.
        call: String,
        /// DPDK's error text.
        reason: String,
    },
    /// A packet mempool could not be created.
    #[error("cannot create the DPDK packet mempool {name} ({mbufs} mbufs on NUMA socket {socket}): {reason}; give EAL more memory (-m MB, or more hugepages)")]
    Mempool {
        /// The pool name.
        name: String,
        /// mbufs requested.
        mbufs: u32,
        /// NUMA socket, -1 for any.
        socket: i32,
        /// DPDK's error text.
        reason: String,
    },
}
