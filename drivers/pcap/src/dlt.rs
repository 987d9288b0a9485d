//! Conversion between the `LINKTYPE_` numbers of capture files, which
//! [`LinkType`] uses, and the `DLT_` numbers of libpcap's programming
//! interface (`pcap_open_dead`, `pcap_datalink`).
//!
//! The two numberings agree except for a few old types whose `DLT_` value
//! differs between operating systems. libpcap 1.10 maps those in
//! `linktype_to_dlt` and `dlt_to_linktype` (pcap-common.c), and this module
//! applies the same map with the values of Linux's pcap/dlt.h.
//!
//! NOTE: on OpenBSD and BSD/OS, `DLT_RAW` and `DLT_LOOP` have other values
//! that this module does not map.

use naudit_engine::LinkType;

/// `(LINKTYPE_, DLT_)` pairs whose numbers differ on Linux.
const LINKTYPE_DLT_PAIRS: [(u16, i32); 5] = [
    // ATM with LLC encapsulation (RFC 1483).
    (100, 11),
    // Raw IPv4 or IPv6.
    (101, 12),
    // BSD/OS serial line IP and PPP.
    (102, 15),
    (103, 16),
    // Linux classical IP over ATM.
    (106, 19),
];

/// Returns the `DLT_` number that libpcap expects for `link_type`.
pub(crate) fn dlt_from_link_type(link_type: LinkType) -> i32 {
    let link_type = link_type.normalized();
    LINKTYPE_DLT_PAIRS
        .iter()
        .find(|(linktype, _)| *linktype == link_type.0)
        .map_or(i32::from(link_type.0), |(_, dlt)| *dlt)
}

/// Returns the link type of packets from a libpcap handle whose
/// `pcap_datalink` is `dlt`.
///
/// A number with no `LINKTYPE_` equivalent (negative or above 65535) comes
/// back as `None`.
pub(crate) fn link_type_from_dlt(dlt: i32) -> Option<LinkType> {
    if let Some((linktype, _)) = LINKTYPE_DLT_PAIRS.iter().find(|(_, value)| *value == dlt) {
        return Some(LinkType(*linktype));
    }
    u16::try_from(dlt)
        .ok()
        .map(|value| LinkType(value).normalized())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_ip_maps_to_dlt_raw() {
        assert_eq!(dlt_from_link_type(LinkType::RAW), 12);
        assert_eq!(link_type_from_dlt(12), Some(LinkType::RAW));
    }

    #[test]
    fn matching_range_is_identity() {
        for link_type in [
            LinkType::ETHERNET,
            LinkType::NULL,
            LinkType::LOOP,
            LinkType::LINUX_SLL,
            LinkType::LINUX_SLL2,
            LinkType::IPV4,
            LinkType::IPV6,
        ] {
            let dlt = dlt_from_link_type(link_type);
            assert_eq!(dlt, i32::from(link_type.0), "{link_type:?}");
            assert_eq!(link_type_from_dlt(dlt), Some(link_type), "{link_type:?}");
        }
    }

    #[test]
    fn every_pair_round_trips() {
        for (linktype, dlt) in LINKTYPE_DLT_PAIRS {
            assert_eq!(dlt_from_link_type(LinkType(linktype)), dlt);
            assert_eq!(link_type_from_dlt(dlt), Some(LinkType(linktype)));
        }
    }

    #[test]
    fn out_of_range_dlt_has_no_link_type() {
        assert_eq!(link_type_from_dlt(-1), None);
        assert_eq!(link_type_from_dlt(70_000), None);
    }
}
