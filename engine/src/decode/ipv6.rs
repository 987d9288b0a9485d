//! The fixed IPv6 header (RFC 8200).
//!
//! The constructor needs the 40-byte header and a version of 6. It does not
//! check the payload length, because a jumbogram (RFC 2675) has a payload
//! length of 0 and its real length in a hop-by-hop option. The extension
//! chain walk in [`super::ipv6_ext`] checks the lengths.

use std::net::Ipv6Addr;

use super::bytes::{array_at, check_len, offsets_fit, ranges_fit, tail, u16_at, u32_at, u8_at};
use super::ipv6_ext::ExtensionChain;
use super::{DecodeError, IpInfo};

mod field {
    use std::ops::Range;

    pub const VERSION_CLASS_FLOW: Range<usize> = 0..4;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SOURCE: Range<usize> = 8..24;
    pub const DESTINATION: Range<usize> = 24..40;
}

/// Length of the fixed header in bytes.
pub const HEADER_LEN: usize = field::DESTINATION.end;

const _: () = assert!(ranges_fit(
    &[
        field::VERSION_CLASS_FLOW,
        field::PAYLOAD_LEN,
        field::SOURCE,
        field::DESTINATION
    ],
    HEADER_LEN
));
const _: () = assert!(offsets_fit(
    &[field::NEXT_HEADER, field::HOP_LIMIT],
    HEADER_LEN
));

/// A borrowed IPv6 fixed header.
#[derive(Clone, Copy, Debug)]
pub struct Ipv6Header<'a> {
    /// The packet from its first byte, at least [`HEADER_LEN`] bytes long,
    /// with a version of 6.
    data: &'a [u8],
}

impl<'a> Ipv6Header<'a> {
    /// Checks the fixed header of the packet in `data`.
    ///
    /// Returns `InvalidVersion` when the version is not 6 and `Truncated`
    /// when fewer than 40 bytes are captured. A payload cut by the capture is
    /// not an error here.
    #[inline]
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        if data.is_empty() {
            return Err(DecodeError::Truncated {
                needed_bytes: HEADER_LEN,
                available_bytes: 0,
            });
        }
        let header = Ipv6Header { data };

        if header.version() != 6 {
            return Err(DecodeError::InvalidVersion(header.version()));
        }
        check_len(data, HEADER_LEN)?;
        Ok(header)
    }

    /// IP version, 6 for a checked header.
    pub fn version(&self) -> u8 {
        u8_at(self.data, field::VERSION_CLASS_FLOW.start) >> 4
    }

    /// Traffic class: DSCP in the upper 6 bits, ECN in the lower 2.
    pub fn traffic_class(&self) -> u8 {
        (u32_at(self.data, field::VERSION_CLASS_FLOW) >> 20) as u8
    }

    /// Flow label, 20 bits.
    pub fn flow_label(&self) -> u32 {
        u32_at(self.data, field::VERSION_CLASS_FLOW) & 0x000f_ffff
    }

    /// Payload length field in bytes, extension headers included; 0 for a
    /// jumbogram.
    pub fn payload_len(&self) -> u16 {
        u16_at(self.data, field::PAYLOAD_LEN)
    }

    /// Type of the first header after the fixed header.
    pub fn next_header(&self) -> u8 {
        u8_at(self.data, field::NEXT_HEADER)
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        u8_at(self.data, field::HOP_LIMIT)
    }

    /// Source address.
    pub fn src(&self) -> Ipv6Addr {
        Ipv6Addr::from(array_at::<16>(self.data, field::SOURCE))
    }

    /// Destination address.
    pub fn dst(&self) -> Ipv6Addr {
        Ipv6Addr::from(array_at::<16>(self.data, field::DESTINATION))
    }

    /// Returns every captured byte after the fixed header, trailer or padding
    /// included. [`super::ipv6_ext::walk_chain`] cuts it to the payload
    /// length.
    #[inline]
    pub fn captured_payload(&self) -> &'a [u8] {
        tail(self.data, HEADER_LEN)
    }

    /// Builds the summary of the header and of the extension chain that
    /// follows it.
    #[inline]
    pub fn info(&self, chain: &ExtensionChain<'_>) -> IpInfo {
        IpInfo {
            src: self.src().into(),
            dst: self.dst().into(),
            protocol: chain.protocol,
            ttl: self.hop_limit(),
            tos: self.traffic_class(),
            ip_id: 0,
            flow_label: self.flow_label(),
            fragment: chain.fragment,
            payload_len_bytes: chain.payload_len_bytes,
            options: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ethernet;
    use crate::decode::test_frames::{
        BAD_IPV6_LEN_1, BAD_IPV6_VERSION_2, IPV6_AH_OSPF_1, RAW_IPV4_TCP_1, RAW_IPV6_UDP_1,
    };

    #[test]
    fn udp_packet_fields() {
        let header = Ipv6Header::new(&RAW_IPV6_UDP_1).unwrap();

        assert_eq!(header.version(), 6);
        assert_eq!(header.traffic_class(), 0);
        assert_eq!(header.flow_label(), 0x0fe5e6);
        assert_eq!(header.payload_len(), 56);
        assert_eq!(header.next_header(), 17);
        assert_eq!(header.hop_limit(), 64);
        assert_eq!(
            header.src(),
            "2a02:6bf:8080:165::1:12".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(header.dst(), "2620:fe::fe".parse::<Ipv6Addr>().unwrap());
        assert_eq!(header.captured_payload().len(), 56);
    }

    #[test]
    fn traffic_class_spans_two_bytes() {
        let header = Ipv6Header::new(&IPV6_AH_OSPF_1[ethernet::HEADER_LEN..]).unwrap();

        assert_eq!(header.traffic_class(), 0xe0);
        assert_eq!(header.flow_label(), 0);
        assert_eq!(header.next_header(), 51);
        assert_eq!(header.hop_limit(), 1);
        assert_eq!(header.dst(), "ff02::5".parse::<Ipv6Addr>().unwrap());
    }

    #[test]
    fn wrong_version_is_rejected() {
        assert_eq!(
            Ipv6Header::new(&BAD_IPV6_VERSION_2[ethernet::HEADER_LEN..]).unwrap_err(),
            DecodeError::InvalidVersion(0)
        );
        assert_eq!(
            Ipv6Header::new(&RAW_IPV4_TCP_1).unwrap_err(),
            DecodeError::InvalidVersion(4)
        );
    }

    #[test]
    fn header_cut_at_39_bytes() {
        assert_eq!(
            Ipv6Header::new(&BAD_IPV6_LEN_1[ethernet::HEADER_LEN..]).unwrap_err(),
            DecodeError::Truncated {
                needed_bytes: HEADER_LEN,
                available_bytes: 39
            }
        );
    }

    #[test]
    fn every_truncation_is_reported() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                Ipv6Header::new(&RAW_IPV6_UDP_1[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: HEADER_LEN,
                    available_bytes: len
                }
            );
        }
        for len in HEADER_LEN..=RAW_IPV6_UDP_1.len() {
            let header = Ipv6Header::new(&RAW_IPV6_UDP_1[..len]).unwrap();
            assert_eq!(header.captured_payload().len(), len - HEADER_LEN);
        }
    }
}
