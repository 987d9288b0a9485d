//! The list of network interfaces for `nauditd -D`, read from
//! `/sys/class/net`.

use std::fs;
use std::io;
use std::path::Path;

use naudit_engine::LinkType;

use crate::link::link_type_for_arphrd;

/// Directory in which Linux lists network interfaces, one subdirectory each.
const SYS_CLASS_NET: &str = "/sys/class/net";

/// One network interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// Interface name, such as `eth0`.
    pub name: String,
    /// Interface index (`ifindex`).
    pub index: u32,
    /// Whether the interface is administratively up (`IFF_UP`).
    pub admin_up: bool,
    /// Operational state as the kernel reports it (RFC 2863).
    pub oper_state: OperState,
    /// Hardware type, an `ARPHRD_*` value.
    pub arphrd: u16,
    /// Link type of captured frames, or `None` if this driver cannot
    /// capture from this kind of interface.
    pub link_type: Option<LinkType>,
}

/// Operational state of an interface, from `/sys/class/net/*/operstate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperState {
    /// Ready to pass packets.
    Up,
    /// Not able to pass packets, such as without a carrier.
    Down,
    /// Down because a lower-layer interface is down.
    LowerLayerDown,
    /// Waiting for an external event, such as 802.1X authentication.
    Dormant,
    /// In a test mode.
    Testing,
    /// A hardware component is missing.
    NotPresent,
    /// The driver does not report a state; common for loopback and tunnels.
    Unknown,
}

impl OperState {
    /// Parses the kernel's `operstate` text; an unfamiliar value is `Unknown`.
    pub fn parse(text: &str) -> OperState {
        match text.trim() {
            "up" => OperState::Up,
            "down" => OperState::Down,
            "lowerlayerdown" => OperState::LowerLayerDown,
            "dormant" => OperState::Dormant,
            "testing" => OperState::Testing,
            "notpresent" => OperState::NotPresent,
            _ => OperState::Unknown,
        }
    }

    /// Returns the state's name as the kernel writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            OperState::Up => "up",
            OperState::Down => "down",
            OperState::LowerLayerDown => "lowerlayerdown",
            OperState::Dormant => "dormant",
            OperState::Testing => "testing",
            OperState::NotPresent => "notpresent",
            OperState::Unknown => "unknown",
        }
    }
}

/// Lists the network interfaces, ordered by index.
///
/// An interface removed while the list is read is left out.
// NOTE: /sys shows the interfaces of the network namespace that mounted it.
// After a bare setns(2) that differs from the caller's namespace, but `ip
// netns exec` remounts /sys and so lists the right interfaces.
pub fn list_interfaces() -> io::Result<Vec<InterfaceInfo>> {
    list_interfaces_in(Path::new(SYS_CLASS_NET))
}

/// Lists the interfaces under `root`, laid out like `/sys/class/net`.
fn list_interfaces_in(root: &Path) -> io::Result<Vec<InterfaceInfo>> {
    let mut interfaces = Vec::new();
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        match read_interface(&entry.path(), name.clone()) {
            Ok(interface) => interfaces.push(interface),
            // Files such as bonding_masters sit beside the interfaces, and an
            // interface can vanish between read_dir and its reads.
            Err(error) => tracing::debug!(name, %error, "skipped an entry of /sys/class/net"),
        }
    }
    interfaces.sort_by_key(|interface| interface.index);
    Ok(interfaces)
}

/// Reads one interface's attributes from its sysfs directory.
fn read_interface(directory: &Path, name: String) -> io::Result<InterfaceInfo> {
    let index = parse_attribute(directory, "ifindex", |text| text.parse::<u32>().ok())?;
    let arphrd = parse_attribute(directory, "type", |text| text.parse::<u16>().ok())?;
    let flags = parse_attribute(directory, "flags", |text| {
        u32::from_str_radix(text.trim_start_matches("0x"), 16).ok()
    })?;
    let oper_state = OperState::parse(&fs::read_to_string(directory.join("operstate"))?);
    Ok(InterfaceInfo {
        name,
        index,
        admin_up: flags & libc::IFF_UP as u32 != 0,
        oper_state,
        arphrd,
        link_type: link_type_for_arphrd(arphrd),
    })
}

/// Reads the attribute file `name` and parses its trimmed text.
fn parse_attribute<T>(
    directory: &Path,
    name: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> io::Result<T> {
    let text = fs::read_to_string(directory.join(name))?;
    parse(text.trim()).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}/{name} contains {:?}, which is not a valid value",
                directory.display(),
                text.trim()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a fake sysfs interface directory.
    fn write_interface(
        root: &Path,
        name: &str,
        index: &str,
        arphrd: &str,
        flags: &str,
        state: &str,
    ) {
        let directory = root.join(name);
        fs::create_dir_all(&directory).unwrap();
        fs::write(directory.join("ifindex"), format!("{index}\n")).unwrap();
        fs::write(directory.join("type"), format!("{arphrd}\n")).unwrap();
        fs::write(directory.join("flags"), format!("{flags}\n")).unwrap();
        fs::write(directory.join("operstate"), format!("{state}\n")).unwrap();
    }

    fn temp_root(test: &str) -> std::path::PathBuf {
        let root =
            std::env::temp_dir().join(format!("naudit-tilera-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        root
    }

    #[test]
    fn reads_fake_sysfs_in_index_order() {
        let root = temp_root("sysfs");
        write_interface(&root, "eth0", "2", "1", "0x1003", "up");
        write_interface(&root, "lo", "1", "772", "0x9", "unknown");
        write_interface(&root, "tun0", "3", "65534", "0x1090", "down");
        fs::write(root.join("bonding_masters"), "\n").unwrap();

        let interfaces = list_interfaces_in(&root).unwrap();
        fs::remove_dir_all(&root).unwrap();

        let names: Vec<&str> = interfaces
            .iter()
            .map(|interface| interface.name.as_str())
            .collect();
        assert_eq!(names, ["lo", "eth0", "tun0"]);
        assert_eq!(
            interfaces[1],
            InterfaceInfo {
                name: "eth0".into(),
                index: 2,
                admin_up: true,
                oper_state: OperState::Up,
                arphrd: 1,
                link_type: Some(LinkType::ETHERNET),
            }
        );
        assert_eq!(interfaces[0].oper_state, OperState::Unknown);
        assert!(!interfaces[2].admin_up);
        assert_eq!(interfaces[2].link_type, Some(LinkType::RAW));
    }

    #[test]
    fn lists_this_hosts_loopback() {
        let interfaces = list_interfaces().unwrap();
        let loopback = interfaces
            .iter()
            .find(|interface| interface.name == "lo")
            .expect("lo is listed");
        assert_eq!(loopback.link_type, Some(LinkType::ETHERNET));
        assert_eq!(loopback.arphrd, libc::ARPHRD_LOOPBACK);
    }

    #[test]
    fn oper_state_round_trips() {
        for state in [
            OperState::Up,
            OperState::Down,
            OperState::LowerLayerDown,
            OperState::Dormant,
            OperState::Testing,
            OperState::NotPresent,
            OperState::Unknown,
        ] {
            assert_eq!(OperState::parse(state.as_str()), state);
        }
        assert_eq!(OperState::parse("sideways"), OperState::Unknown);
    }
}
