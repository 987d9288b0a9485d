//! RDMA devices and ports: listing them for `nauditd -D` and naming one
//! with `-i DEVICE[:PORT]`.

use std::fmt;

use crate::error::{IbverbsError, NO_DEVICE_HINT};
use crate::ffi::{self, Context, DeviceList};
use crate::sys;

/// Link layer of an RDMA port, which fixes the first header of its packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkLayer {
    /// InfiniBand: packets start with the local route header (LRH).
    InfiniBand,
    /// Ethernet (RoCE adapters): packets start with the Ethernet header.
    Ethernet,
    /// A value this driver does not know.
    Unknown(u8),
}

impl LinkLayer {
    pub(crate) fn from_verbs(value: u8) -> LinkLayer {
        match value {
            // Older providers leave InfiniBand ports unspecified.
            sys::LINK_LAYER_UNSPECIFIED | sys::LINK_LAYER_INFINIBAND => LinkLayer::InfiniBand,
            sys::LINK_LAYER_ETHERNET => LinkLayer::Ethernet,
            other => LinkLayer::Unknown(other),
        }
    }
}

impl fmt::Display for LinkLayer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkLayer::InfiniBand => formatter.write_str("InfiniBand"),
            LinkLayer::Ethernet => formatter.write_str("Ethernet"),
            LinkLayer::Unknown(value) => write!(formatter, "link layer {value}"),
        }
    }
}

/// One port of an RDMA device, as `nauditd -D --driver ibverbs` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortDetails {
    /// Port number, from 1.
    pub number: u8,
    /// Verbs port state, such as `PORT_ACTIVE`.
    pub state: String,
    /// Link layer.
    pub link_layer: LinkLayer,
    /// Local identifier on an InfiniBand subnet, 0 when none is assigned.
    pub lid: u16,
    /// Active MTU in bytes, 0 when unknown.
    pub active_mtu_bytes: u32,
}

/// An RDMA device, as `nauditd -D --driver ibverbs` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceDetails {
    /// Kernel name, such as `mlx5_0` or `rxe0`.
    pub name: String,
    /// Node GUID.
    pub node_guid: u64,
    /// Node type, such as "InfiniBand channel adapter".
    pub node_type: String,
    /// Firmware version, empty when the device reports none.
    pub firmware: String,
    /// True when completions can carry device timestamps.
    pub completion_timestamps: bool,
    /// The ports, or why the device could not be opened or queried.
    pub ports: Result<Vec<PortDetails>, String>,
}

/// Formats a GUID as verbs tools do: four groups of four hex digits.
pub(crate) fn format_guid(guid: u64) -> String {
    let digits = format!("{guid:016x}");
    format!("{}:{}:{}:{}", &digits[0..4], &digits[4..8], &digits[8..12], &digits[12..16])
}

/// Bytes of an `enum ibv_mtu` value (1 is 256 bytes, 5 is 4096), 0 when unknown.
pub(crate) fn mtu_bytes(mtu: u32) -> u32 {
    match mtu {
        1..=5 => 128 << mtu,
        _ => 0,
    }
}

impl fmt::Display for DeviceDetails {
    /// Writes one line per port, each starting with the `-i` value that captures it.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut device = format!("{}, node GUID {}", self.node_type, format_guid(self.node_guid));
        if !self.firmware.is_empty() {
            device.push_str(&format!(", firmware {}", self.firmware));
        }
        device.push_str(if self.completion_timestamps {
            ", completion timestamps"
        } else {
            ", no completion timestamps"
        });
        match &self.ports {
            Err(reason) => write!(formatter, "{} ({device}; cannot be opened: {reason})", self.name),
            Ok(ports) if ports.is_empty() => write!(formatter, "{} ({device}; no ports)", self.name),
            Ok(ports) => {
                for (index, port) in ports.iter().enumerate() {
                    if index > 0 {
                        writeln!(formatter)?;
                    }
                    write!(formatter, "{}:{} ({}, {}", self.name, port.number, port.link_layer, port.state)?;
                    if port.link_layer == LinkLayer::InfiniBand {
                        write!(formatter, ", LID {}", port.lid)?;
                    }
                    if port.active_mtu_bytes > 0 {
                        write!(formatter, ", MTU {}", port.active_mtu_bytes)?;
                    }
                    write!(formatter, "; {device})")?;
                }
                Ok(())
            }
        }
    }
}

/// Lists the devices libibverbs finds. Fails with [`IbverbsError::NoDevices`]
/// when there is none.
pub fn list_devices() -> Result<Vec<DeviceDetails>, IbverbsError> {
    let list = DeviceList::new()
        .map_err(|code| IbverbsError::NoDevices { reason: Some(ffi::device_list_error_text(code)) })?;
    if list.len() == 0 {
        return Err(IbverbsError::NoDevices { reason: None });
    }
    Ok((0..list.len()).map(|index| describe(&list, index)).collect())
}

fn describe(list: &DeviceList, index: usize) -> DeviceDetails {
    let mut details = DeviceDetails {
        name: list.name(index),
        node_guid: list.node_guid(index),
        node_type: String::new(),
        firmware: String::new(),
        completion_timestamps: false,
        ports: Ok(Vec::new()),
    };
    let context = match list.open(index) {
        Ok(context) => context,
        Err(code) => {
            details.node_type = "RDMA device".to_string();
            details.ports = Err(format!("ibv_open_device failed: {}", ffi::errno_text(code)));
            return details;
        }
    };
    let attributes = match context.query_device() {
        Ok(attributes) => attributes,
        Err(code) => {
            details.node_type = "RDMA device".to_string();
            details.ports = Err(format!("ibv_query_device_ex failed: {}", ffi::errno_text(code)));
            return details;
        }
    };
    details.node_type = ffi::node_type_text(attributes.node_type);
    details.firmware = attributes.firmware.clone();
    details.completion_timestamps = attributes.completion_timestamp_mask != 0;
    details.ports = (1..=attributes.port_count).map(|number| describe_port(&context, number)).collect();
    details
}

fn describe_port(context: &Context, number: u8) -> Result<PortDetails, String> {
    let port = context
        .query_port(number)
        .map_err(|code| format!("ibv_query_port on port {number} failed: {}", ffi::errno_text(code)))?;
    Ok(PortDetails {
        number,
        state: ffi::port_state_text(port.state),
        link_layer: LinkLayer::from_verbs(port.link_layer),
        lid: port.lid,
        active_mtu_bytes: mtu_bytes(port.active_mtu),
    })
}

/// A device and port named on the command line as `DEVICE` or `DEVICE:PORT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortName {
    /// Device name, such as `mlx5_0`.
    pub device: String,
    /// Port number, 1 when not given.
    pub port: u8,
}

impl std::str::FromStr for PortName {
    type Err = IbverbsError;

    fn from_str(value: &str) -> Result<PortName, IbverbsError> {
        let invalid =
            |reason: &str| IbverbsError::InvalidDeviceName { value: value.to_string(), reason: reason.to_string() };
        let (device, port) = match value.rsplit_once(':') {
            Some((device, port)) => {
                let port: u8 = port.parse().map_err(|_| invalid("the port is not a number from 1 to 255"))?;
                if port == 0 {
                    return Err(invalid("ports are numbered from 1"));
                }
                (device, port)
            }
            None => (value, 1),
        };
        if device.is_empty() {
            return Err(invalid("the device name is empty"));
        }
        Ok(PortName { device: device.to_string(), port })
    }
}

impl fmt::Display for PortName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.device, self.port)
    }
}

/// Finds and opens the device `name` names.
pub(crate) fn open_device(name: &PortName) -> Result<Context, IbverbsError> {
    let not_found = |available: String| IbverbsError::DeviceNotFound { requested: name.device.clone(), available };
    let list = DeviceList::new()
        .map_err(|code| not_found(format!("none ({}; {NO_DEVICE_HINT})", ffi::device_list_error_text(code))))?;
    let names: Vec<String> = (0..list.len()).map(|index| list.name(index)).collect();
    let Some(index) = names.iter().position(|device| *device == name.device) else {
        if names.is_empty() {
            return Err(not_found(format!("none ({NO_DEVICE_HINT})")));
        }
        return Err(not_found(names.join(", ")));
    };
    list.open(index).map_err(|code| IbverbsError::Verbs {
        device: name.device.clone(),
        port: name.port,
        call: "ibv_open_device".to_string(),
        reason: ffi::errno_text(code),
        hint: "; check the permissions of /dev/infiniband/uverbs*",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_name_defaults_to_port_one() {
        let name: PortName = "mlx5_0".parse().unwrap();
        assert_eq!(name, PortName { device: "mlx5_0".to_string(), port: 1 });
    }

    #[test]
    fn port_name_takes_port_number() {
        let name: PortName = "mlx5_1:2".parse().unwrap();
        assert_eq!(name, PortName { device: "mlx5_1".to_string(), port: 2 });
        assert_eq!(name.to_string(), "mlx5_1:2");
    }

    #[test]
    fn port_name_rejects_bad_ports() {
        for value in ["mlx5_0:0", "mlx5_0:x", "mlx5_0:256", ":1", ""] {
            let error = value.parse::<PortName>().expect_err(value);
            assert!(error.to_string().starts_with(&format!("invalid RDMA device {value:?}")), "{error}");
        }
    }

    #[test]
    fn guid_in_four_groups() {
        assert_eq!(format_guid(0x0c42_a103_0065_9d5e), "0c42:a103:0065:9d5e");
    }

    #[test]
    fn mtu_enum_to_bytes() {
        assert_eq!(mtu_bytes(1), 256);
        assert_eq!(mtu_bytes(3), 1024);
        assert_eq!(mtu_bytes(5), 4096);
        assert_eq!(mtu_bytes(0), 0);
        assert_eq!(mtu_bytes(6), 0);
    }

    #[test]
    fn listing_has_one_line_per_port() {
        let device = DeviceDetails {
            name: "mlx5_0".to_string(),
            node_guid: 0x0c42_a103_0065_9d5e,
            node_type: "InfiniBand channel adapter".to_string(),
            firmware: "20.31.1014".to_string(),
            completion_timestamps: true,
            ports: Ok(vec![
                PortDetails {
                    number: 1,
                    state: "PORT_ACTIVE".to_string(),
                    link_layer: LinkLayer::InfiniBand,
                    lid: 3,
                    active_mtu_bytes: 4096,
                },
                PortDetails {
                    number: 2,
                    state: "PORT_DOWN".to_string(),
                    link_layer: LinkLayer::Ethernet,
                    lid: 0,
                    active_mtu_bytes: 1024,
                },
            ]),
        };
        let suffix =
            "InfiniBand channel adapter, node GUID 0c42:a103:0065:9d5e, firmware 20.31.1014, completion timestamps";
        assert_eq!(
            device.to_string(),
            format!(
                "mlx5_0:1 (InfiniBand, PORT_ACTIVE, LID 3, MTU 4096; {suffix})\n\
                 mlx5_0:2 (Ethernet, PORT_DOWN, MTU 1024; {suffix})"
            )
        );
    }
}
