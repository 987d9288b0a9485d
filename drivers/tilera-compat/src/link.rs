//! Maps a Linux interface's hardware type (`ARPHRD_*`) to the pcap link type
//! of the frames an AF_PACKET raw socket reads from it.

use naudit_engine::LinkType;

use crate::sys::ARPHRD_RAWIP;

/// `LINKTYPE_IEEE802_11_RADIOTAP`: 802.11 frames behind a radiotap header.
pub const LINKTYPE_IEEE802_11_RADIOTAP: LinkType = LinkType(127);

/// Returns the link type of frames captured on an interface of hardware type
/// `arphrd`, or `None` for types whose raw frames this driver does not hand
/// over (capture those with the pcap driver, which uses cooked mode).
///
/// - Ethernet and loopback devices deliver Ethernet frames (loopback frames
///   carry zeroed MAC addresses).
/// - Devices without a link header (`ARPHRD_NONE`: tun, WireGuard;
///   `ARPHRD_RAWIP`: cellular modems) deliver the IP packet itself.
/// - Wi-Fi interfaces in monitor mode deliver radiotap frames.
pub fn link_type_for_arphrd(arphrd: u16) -> Option<LinkType> {
    match arphrd {
        libc::ARPHRD_ETHER | libc::ARPHRD_LOOPBACK => Some(LinkType::ETHERNET),
        libc::ARPHRD_NONE | ARPHRD_RAWIP => Some(LinkType::RAW),
        libc::ARPHRD_IEEE80211_RADIOTAP => Some(LINKTYPE_IEEE802_11_RADIOTAP),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_hardware_types() {
        assert_eq!(link_type_for_arphrd(1), Some(LinkType::ETHERNET));
        assert_eq!(link_type_for_arphrd(772), Some(LinkType::ETHERNET));
        assert_eq!(link_type_for_arphrd(0xfffe), Some(LinkType::RAW));
        assert_eq!(link_type_for_arphrd(519), Some(LinkType::RAW));
        assert_eq!(link_type_for_arphrd(803), Some(LinkType(127)));
    }

    #[test]
    fn other_hardware_types_are_unsupported() {
        // ARPHRD_PPP, ARPHRD_INFINIBAND, ARPHRD_IPGRE, ARPHRD_CAN.
        for arphrd in [512, 32, 778, 280] {
            assert_eq!(link_type_for_arphrd(arphrd), None, "ARPHRD {arphrd}");
        }
    }
}
