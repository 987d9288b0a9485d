//! The capture devices that libpcap can open, for `nauditd -D`.

use std::fmt;
use std::net::IpAddr;

use naudit_engine::SourceError;

use crate::filter::libpcap_message;

/// One address of a capture device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceAddress {
    /// The address.
    pub address: IpAddr,
    /// Its network mask, when the system reports one.
    pub netmask: Option<IpAddr>,
    /// Its broadcast address, when the system reports one.
    pub broadcast: Option<IpAddr>,
    /// The peer of a point-to-point link, when the system reports one.
    pub destination: Option<IpAddr>,
}

/// A device that live capture can open, as `pcap_findalldevs` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The name to pass as [`LiveConfig::interface`](crate::LiveConfig::interface).
    pub name: String,
    /// libpcap's description, if it has one.
    pub description: Option<String>,
    /// The device's IPv4 and IPv6 addresses.
    pub addresses: Vec<DeviceAddress>,
    /// The device is administratively up.
    pub up: bool,
    /// The device is running: up, with its link ready.
    pub running: bool,
    /// The device is a loopback interface.
    pub loopback: bool,
}

/// Lists the devices that libpcap can capture on, in libpcap's order.
pub fn list_devices() -> Result<Vec<DeviceInfo>, SourceError> {
    let devices = pcap::Device::list().map_err(|error| SourceError::Io {
        input: "(capture devices)".to_owned(),
        context: "failed to list the capture devices",
        source: std::io::Error::other(libpcap_message(&error)),
    })?;
    Ok(devices.into_iter().map(DeviceInfo::from).collect())
}

impl From<pcap::Device> for DeviceInfo {
    fn from(device: pcap::Device) -> DeviceInfo {
        DeviceInfo {
            up: device.flags.is_up(),
            running: device.flags.is_running(),
            loopback: device.flags.is_loopback(),
            addresses: device
                .addresses
                .into_iter()
                .map(|address| DeviceAddress {
                    address: address.addr,
                    netmask: address.netmask,
                    broadcast: address.broadcast_addr,
                    destination: address.dst_addr,
                })
                .collect(),
            name: device.name,
            description: device.desc,
        }
    }
}

/// One line: the name, the description in parentheses, the flags in
/// brackets, then the addresses with their netmasks, for example
/// `eth0 [up, running] 192.0.2.1/255.255.255.0`.
impl fmt::Display for DeviceInfo {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.name)?;
        if let Some(description) = &self.description {
            write!(formatter, " ({description})")?;
        }

        let flags: Vec<&str> = [
            (self.up, "up"),
            (self.running, "running"),
            (self.loopback, "loopback"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect();
        if !flags.is_empty() {
            write!(formatter, " [{}]", flags.join(", "))?;
        }

        for address in &self.addresses {
            write!(formatter, " {}", address.address)?;
            if let Some(netmask) = address.netmask {
                write!(formatter, "/{netmask}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_listed() {
        let devices = list_devices().expect("list devices");
        let loopback = devices
            .iter()
            .find(|device| device.name == "lo")
            .unwrap_or_else(|| panic!("no lo in {devices:#?}"));
        assert!(loopback.loopback);
        assert!(loopback.up);
    }

    #[test]
    fn display_shows_flags_and_addresses() {
        let device = DeviceInfo {
            name: "veth0".to_owned(),
            description: Some("test link".to_owned()),
            addresses: vec![DeviceAddress {
                address: "192.0.2.1".parse().expect("address"),
                netmask: Some("255.255.255.0".parse().expect("netmask")),
                broadcast: None,
                destination: None,
            }],
            up: true,
            running: false,
            loopback: false,
        };
        assert_eq!(
            device.to_string(),
            "veth0 (test link) [up] 192.0.2.1/255.255.255.0"
        );
    }
}
