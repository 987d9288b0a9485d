//! Errors of listing RDMA devices and opening the verbs sniffer.

/// How to find out why a machine has no RDMA device, for the messages below.
pub const NO_DEVICE_HINT: &str = "check with `ibv_devices` (Debian package ibverbs-utils) or `rdma link show`; \
     load the adapter's kernel driver (mlx5_ib for NVIDIA/Mellanox adapters) and install ibverbs-providers; \
     a soft device (`rdma link add rxe0 type rxe netdev IFACE` with the rdma_rxe module, or siw) is listed \
     but has no sniffer flow steering";

/// Failures of listing RDMA devices or opening the sniffer.
#[derive(Debug, thiserror::Error)]
pub enum IbverbsError {
    /// libibverbs found no RDMA device.
    #[error("no RDMA device found{}; {NO_DEVICE_HINT}", reason.as_ref().map(|reason| format!(" ({reason})")).unwrap_or_default())]
    NoDevices {
        /// libibverbs' error, when it failed to list devices at all.
        reason: Option<String>,
    },
    /// The device named with -i does not exist.
    #[error("RDMA device {requested:?} not found; available devices: {available}")]
    DeviceNotFound {
        /// The name given.
        requested: String,
        /// The devices found, separated by commas.
        available: String,
    },
    /// The -i value is not `DEVICE` or `DEVICE:PORT`.
    #[error("invalid RDMA device {value:?}: {reason}; give DEVICE or DEVICE:PORT, such as mlx5_0 or mlx5_0:2 (`nauditd -D --driver ibverbs` lists them)")]
    InvalidDeviceName {
        /// The value given.
        value: String,
        /// The problem, in a few words.
        reason: String,
    },
    /// The device has no port of that number.
    #[error("RDMA device {device} has no port {port}; its ports are 1 to {port_count}")]
    PortNotFound {
        /// The device name.
        device: String,
        /// The port asked for.
        port: u8,
        /// Ports of the device.
        port_count: u8,
    },
    /// A verbs call failed while opening the sniffer.
    #[error("RDMA device {device} port {port}: {call} failed: {reason}{hint}")]
    Verbs {
        /// The device name.
        device: String,
        /// The port number.
        port: u8,
        /// The verbs function that failed, with what it was asked for.
        call: String,
        /// The operating system's error text.
        reason: String,
        /// Advice for the user, starting with "; ", or empty.
        hint: &'static str,
    },
    /// The device rejected the sniffer steering rule.
    #[error(
        "RDMA device {device} port {port} rejected the sniffer flow steering rule \
         (ibv_create_flow with IBV_FLOW_ATTR_SNIFFER): {reason}; capture needs an adapter with sniffer \
         steering, such as NVIDIA/Mellanox ConnectX-4 or later (mlx5), and root or CAP_NET_RAW"
    )]
    SnifferRejected {
        /// The device name.
        device: String,
        /// The port number.
        port: u8,
        /// The operating system's error text.
        reason: String,
    },
    /// The port's link layer is neither InfiniBand nor Ethernet.
    #[error("RDMA device {device} port {port} has link layer {link_layer}, which the verbs sniffer does not read; it reads InfiniBand and Ethernet ports")]
    UnsupportedLinkLayer {
        /// The device name.
        device: String,
        /// The port number.
        port: u8,
        /// The verbs `link_layer` value.
        link_layer: u8,
    },
    /// The receive buffers could not be allocated.
    #[error("cannot allocate {bytes} bytes of receive buffers for RDMA device {device}")]
    BufferAllocation {
        /// The device name.
        device: String,
        /// Bytes requested.
        bytes: usize,
    },
}
