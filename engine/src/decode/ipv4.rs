//! IPv4 headers (RFC 791).
//!
//! The constructor needs the 20-byte fixed header and checks the version, the
//! header length (IHL) and the total length against each other. It accepts a
//! capture that ends inside the options or the payload: the accessors then
//! return the captured part, and [`Ipv4Header::is_header_cut`] returns true
//! when the options were cut short.

use std::net::Ipv4Addr;

use super::bytes::{array_at, check_len, clamped, offsets_fit, ranges_fit, u16_at, u8_at};
use super::{ipv4_option, DecodeError, Fragment, IpInfo};

mod field {
    use std::ops::Range;

    pub const VERSION_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const TOTAL_LEN: Range<usize> = 2..4;
    pub const IDENTIFICATION: Range<usize> = 4..6;
    pub const FLAGS_FRAGMENT_OFFSET: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SOURCE: Range<usize> = 12..16;
    pub const DESTINATION: Range<usize> = 16..20;
}

/// Length of the header without options, in bytes.
pub const MIN_HEADER_LEN: usize = field::DESTINATION.end;

const _: () = assert!(ranges_fit(
    &[
        field::TOTAL_LEN,
        field::IDENTIFICATION,
        field::FLAGS_FRAGMENT_OFFSET,
        field::CHECKSUM,
        field::SOURCE,
        field::DESTINATION,
    ],
    MIN_HEADER_LEN
));
const _: () = assert!(offsets_fit(
    &[field::VERSION_IHL, field::TOS, field::TTL, field::PROTOCOL],
    MIN_HEADER_LEN
));

/// Don't-fragment flag in the flags and fragment offset field.
const DONT_FRAGMENT: u16 = 0x4000;
/// More-fragments flag in the flags and fragment offset field.
const MORE_FRAGMENTS: u16 = 0x2000;
/// Fragment offset, in 8-byte units, in the flags and fragment offset field.
const FRAGMENT_OFFSET_MASK: u16 = 0x1fff;

/// IPv4 option types (the whole type byte: copied flag, class and number).
pub mod option_type {
    /// End of the option list.
    pub const END: u8 = 0;
    /// No operation, a 1-byte pad.
    pub const NOP: u8 = 1;
    /// Record route.
    pub const RECORD_ROUTE: u8 = 7;
    /// Timestamp.
    pub const TIMESTAMP: u8 = 68;
    /// Basic security (RFC 1108).
    pub const SECURITY: u8 = 130;
    /// Loose source and record route.
    pub const LOOSE_SOURCE_ROUTE: u8 = 131;
    /// Extended security (RFC 1108).
    pub const EXTENDED_SECURITY: u8 = 133;
    /// SATNET stream identifier.
    pub const SATNET_ID: u8 = 136;
    /// Strict source and record route.
    pub const STRICT_SOURCE_ROUTE: u8 = 137;
    /// Router alert (RFC 2113).
    pub const ROUTER_ALERT: u8 = 148;
}

/// A borrowed IPv4 header.
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Header<'a> {
    /// The packet from its first byte, at least [`MIN_HEADER_LEN`] bytes
    /// long, with a version of 4, an IHL of 5 or more and a total length of
    /// at least the header length.
    data: &'a [u8],
}

impl<'a> Ipv4Header<'a> {
    /// Checks the fixed header of the packet in `data`.
    ///
    /// Returns `Truncated` when fewer than 20 bytes are captured,
    /// `InvalidVersion` when the version is not 4, `InvalidHeaderLength` when
    /// the IHL is below 5 and `InvalidLength` when the total length is below
    /// the header length. Options or payload cut by the capture are not an
    /// error here.
    #[inline]
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        if data.is_empty() {
            return Err(DecodeError::Truncated {
                needed_bytes: MIN_HEADER_LEN,
                available_bytes: 0,
            });
        }
        let header = Ipv4Header { data };

        if header.version() != 4 {
            return Err(DecodeError::InvalidVersion(header.version()));
        }
        if header.header_len() < MIN_HEADER_LEN {
            return Err(DecodeError::InvalidHeaderLength(header.header_len()));
        }
        check_len(data, MIN_HEADER_LEN)?;
        // NOTE: a packet captured before TCP segmentation offload has a total
        // length of 0; it is rejected here like any other short length.
        if usize::from(header.total_len()) < header.header_len() {
            return Err(DecodeError::InvalidLength(u32::from(header.total_len())));
        }
        Ok(header)
    }

    /// IP version, 4 for a checked header.
    pub fn version(&self) -> u8 {
        u8_at(self.data, field::VERSION_IHL) >> 4
    }

    /// Header length in bytes, options included (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(u8_at(self.data, field::VERSION_IHL) & 0x0f) * 4
    }

    /// Type of service byte: DSCP in the upper 6 bits, ECN in the lower 2.
    pub fn tos(&self) -> u8 {
        u8_at(self.data, field::TOS)
    }

    /// Total length of the datagram in bytes, header included.
    pub fn total_len(&self) -> u16 {
        u16_at(self.data, field::TOTAL_LEN)
    }

    /// Identification.
    pub fn identification(&self) -> u16 {
        u16_at(self.data, field::IDENTIFICATION)
    }

    /// Don't-fragment flag.
    pub fn dont_fragment(&self) -> bool {
        u16_at(self.data, field::FLAGS_FRAGMENT_OFFSET) & DONT_FRAGMENT != 0
    }

    /// More-fragments flag.
    pub fn more_fragments(&self) -> bool {
        u16_at(self.data, field::FLAGS_FRAGMENT_OFFSET) & MORE_FRAGMENTS != 0
    }

    /// Offset of this fragment's payload in the datagram, in bytes.
    pub fn fragment_offset_bytes(&self) -> u32 {
        u32::from(u16_at(self.data, field::FLAGS_FRAGMENT_OFFSET) & FRAGMENT_OFFSET_MASK) * 8
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        u8_at(self.data, field::TTL)
    }

    /// Protocol number of the payload.
    pub fn protocol(&self) -> u8 {
        u8_at(self.data, field::PROTOCOL)
    }

    /// Header checksum, as sent (not verified).
    pub fn checksum(&self) -> u16 {
        u16_at(self.data, field::CHECKSUM)
    }

    /// Source address.
    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::from(array_at::<4>(self.data, field::SOURCE))
    }

    /// Destination address.
    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::from(array_at::<4>(self.data, field::DESTINATION))
    }

    /// Returns true when the capture ends before the options do.
    pub fn is_header_cut(&self) -> bool {
        self.data.len() < self.header_len()
    }

    /// Returns the option bytes as captured, which are fewer than
    /// `header_len() - 20` when the header is cut.
    pub fn options(&self) -> &'a [u8] {
        clamped(self.data, MIN_HEADER_LEN, self.header_len())
    }

    /// Payload length in bytes as the total length field gives it.
    pub fn payload_len(&self) -> u32 {
        u32::from(self.total_len()).saturating_sub(self.header_len() as u32)
    }

    /// Returns the payload as captured, without the link layer's trailer or
    /// padding after the total length.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        clamped(self.data, self.header_len(), usize::from(self.total_len()))
    }

    /// Returns true when the packet is a fragment: the more-fragments flag is
    /// set or the offset is not 0.
    pub fn is_fragment(&self) -> bool {
        self.more_fragments() || self.fragment_offset_bytes() != 0
    }

    /// Builds the summary of the header.
    #[inline]
    pub fn info(&self) -> IpInfo {
        let fragment = self.is_fragment().then(|| Fragment {
            offset_bytes: self.fragment_offset_bytes(),
            more_fragments: self.more_fragments(),
            id: u32::from(self.identification()),
        });
        IpInfo {
            src: self.src().into(),
            dst: self.dst().into(),
            protocol: self.protocol(),
            ttl: self.ttl(),
            tos: self.tos(),
            ip_id: self.identification(),
            flow_label: 0,
            fragment,
            payload_len_bytes: self.payload_len(),
            options: option_flags(self.options()),
        }
    }
}

/// Collects the types of the options in `options` as [`ipv4_option`] flags.
///
/// The walk stops at an end-of-list option, and at a length byte that is
/// missing, below 2 or past the end, so a malformed list yields the flags of
/// the options before it. Each step consumes at least one byte.
pub fn option_flags(options: &[u8]) -> u16 {
    let mut flags = 0;
    let mut rest = options;

    while let Some(&kind) = rest.first() {
        let option_len = match kind {
            option_type::END => break,
            option_type::NOP => 1,
            _ => match rest.get(1) {
                Some(&len) if len >= 2 && usize::from(len) <= rest.len() => usize::from(len),
                _ => break,
            },
        };
        flags |= option_flag(kind);
        rest = rest.get(option_len..).unwrap_or(&[]);
    }
    flags
}

/// Returns the [`ipv4_option`] flag of an option type, or 0 for no-operation.
fn option_flag(kind: u8) -> u16 {
    match kind {
        option_type::NOP => 0,
        option_type::ROUTER_ALERT => ipv4_option::ROUTER_ALERT,
        option_type::TIMESTAMP => ipv4_option::TIMESTAMP,
        option_type::RECORD_ROUTE => ipv4_option::RECORD_ROUTE,
        option_type::SECURITY | option_type::EXTENDED_SECURITY => ipv4_option::SECURITY,
        option_type::LOOSE_SOURCE_ROUTE => ipv4_option::LOOSE_SOURCE_ROUTE,
        option_type::STRICT_SOURCE_ROUTE => ipv4_option::STRICT_SOURCE_ROUTE,
        option_type::SATNET_ID => ipv4_option::SATNET_ID,
        _ => ipv4_option::OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ethernet;
    use crate::decode::test_frames::{
        BAD_IPV4_IHL_1, BAD_IPV4_TOTAL_LEN_1, FRAG_IPV4_ICMP_1, FRAG_IPV4_ICMP_2,
        ICMP_ECHO_REQUEST_1, IGMP_ROUTER_ALERT_2, RAW_IPV6_UDP_1, TCP_SYN_1,
    };

    fn ip_bytes(frame: &[u8]) -> &[u8] {
        &frame[ethernet::HEADER_LEN..]
    }

    #[test]
    fn echo_request_fields() {
        let header = Ipv4Header::new(ip_bytes(&ICMP_ECHO_REQUEST_1)).unwrap();

        assert_eq!(header.version(), 4);
        assert_eq!(header.header_len(), 20);
        assert_eq!(header.tos(), 0);
        assert_eq!(header.total_len(), 84);
        assert_eq!(header.identification(), 0x946a);
        assert!(header.dont_fragment());
        assert!(!header.more_fragments());
        assert_eq!(header.fragment_offset_bytes(), 0);
        assert_eq!(header.ttl(), 64);
        assert_eq!(header.protocol(), 1);
        assert_eq!(header.checksum(), 0xbd04);
        assert_eq!(header.src(), Ipv4Addr::new(172, 16, 133, 2));
        assert_eq!(header.dst(), Ipv4Addr::new(172, 217, 11, 78));
        assert_eq!(header.options(), &[] as &[u8]);
        assert!(!header.is_header_cut());
        assert_eq!(header.payload_len(), 64);
        assert_eq!(header.payload().len(), 64);
        assert!(!header.is_fragment());
    }

    #[test]
    fn echo_request_info() {
        let info = Ipv4Header::new(ip_bytes(&ICMP_ECHO_REQUEST_1))
            .unwrap()
            .info();

        assert_eq!(
            info,
            IpInfo {
                src: Ipv4Addr::new(172, 16, 133, 2).into(),
                dst: Ipv4Addr::new(172, 217, 11, 78).into(),
                protocol: 1,
                ttl: 64,
                tos: 0,
                ip_id: 0x946a,
                flow_label: 0,
                fragment: None,
                payload_len_bytes: 64,
                options: 0,
            }
        );
    }

    #[test]
    fn router_alert_option() {
        let header = Ipv4Header::new(ip_bytes(&IGMP_ROUTER_ALERT_2)).unwrap();

        assert_eq!(header.header_len(), 24);
        assert_eq!(header.total_len(), 32);
        assert_eq!(header.identification(), 0x8c62);
        assert_eq!(header.ttl(), 1);
        assert_eq!(header.protocol(), 2);
        assert_eq!(header.checksum(), 0xe692);
        assert_eq!(header.src(), Ipv4Addr::new(192, 168, 1, 64));
        assert_eq!(header.dst(), Ipv4Addr::new(239, 255, 255, 250));
        assert_eq!(header.options(), &[0x94, 0x04, 0x00, 0x00]);
        assert_eq!(header.payload_len(), 8);
        assert_eq!(header.info().options, ipv4_option::ROUTER_ALERT);
    }

    #[test]
    fn first_fragment() {
        let header = Ipv4Header::new(ip_bytes(&FRAG_IPV4_ICMP_1)).unwrap();

        assert_eq!(header.total_len(), 996);
        assert!(header.more_fragments());
        assert_eq!(header.fragment_offset_bytes(), 0);
        assert_eq!(header.payload_len(), 976);
        assert_eq!(header.payload().len(), FRAG_IPV4_ICMP_1.len() - 34);
        assert_eq!(
            header.info().fragment,
            Some(Fragment {
                offset_bytes: 0,
                more_fragments: true,
                id: 0xb5d0
            })
        );
    }

    #[test]
    fn last_fragment() {
        let header = Ipv4Header::new(ip_bytes(&FRAG_IPV4_ICMP_2)).unwrap();

        assert_eq!(header.total_len(), 452);
        assert!(!header.more_fragments());
        assert_eq!(header.fragment_offset_bytes(), 976);
        assert_eq!(header.checksum(), 0xbcea);
        assert_eq!(
            header.info().fragment,
            Some(Fragment {
                offset_bytes: 976,
                more_fragments: false,
                id: 0xb5d0
            })
        );
    }

    #[test]
    fn padding_after_total_length_is_dropped() {
        let mut bytes = ip_bytes(&TCP_SYN_1).to_vec();
        bytes.extend_from_slice(&[0; 6]);
        let header = Ipv4Header::new(&bytes).unwrap();

        assert_eq!(header.total_len(), 40);
        assert_eq!(header.payload().len(), 20);
    }

    #[test]
    fn ihl_below_five_is_rejected() {
        assert_eq!(
            Ipv4Header::new(ip_bytes(&BAD_IPV4_IHL_1)).unwrap_err(),
            DecodeError::InvalidHeaderLength(16)
        );
    }

    #[test]
    fn total_length_below_header_is_rejected() {
        assert_eq!(
            Ipv4Header::new(ip_bytes(&BAD_IPV4_TOTAL_LEN_1)).unwrap_err(),
            DecodeError::InvalidLength(0)
        );
    }

    #[test]
    fn ipv6_bytes_are_rejected() {
        assert_eq!(
            Ipv4Header::new(&RAW_IPV6_UDP_1).unwrap_err(),
            DecodeError::InvalidVersion(6)
        );
    }

    #[test]
    fn options_cut_by_capture() {
        let ip = ip_bytes(&IGMP_ROUTER_ALERT_2);
        for len in MIN_HEADER_LEN..24 {
            let header = Ipv4Header::new(&ip[..len]).unwrap();

            assert!(header.is_header_cut());
            assert_eq!(header.options(), &ip[MIN_HEADER_LEN..len]);
            assert_eq!(header.payload(), &[] as &[u8]);
            assert_eq!(header.payload_len(), 8);
        }
    }

    #[test]
    fn every_truncation_is_reported() {
        let ip = ip_bytes(&ICMP_ECHO_REQUEST_1);
        for len in 0..MIN_HEADER_LEN {
            assert_eq!(
                Ipv4Header::new(&ip[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: MIN_HEADER_LEN,
                    available_bytes: len
                }
            );
        }
        for len in MIN_HEADER_LEN..=ip.len() {
            let header = Ipv4Header::new(&ip[..len]).unwrap();

            assert_eq!(header.payload().len(), len - MIN_HEADER_LEN);
            assert_eq!(header.payload_len(), 64);
        }
    }

    #[test]
    fn every_option_type_sets_its_flag() {
        #[rustfmt::skip]
        let options = [
            option_type::NOP,
            option_type::RECORD_ROUTE, 7, 4, 0, 0, 0, 0,
            option_type::TIMESTAMP, 4, 5, 0,
            option_type::SECURITY, 3, 0,
            option_type::EXTENDED_SECURITY, 3, 0,
            option_type::LOOSE_SOURCE_ROUTE, 3, 4,
            option_type::STRICT_SOURCE_ROUTE, 3, 4,
            option_type::SATNET_ID, 4, 0, 1,
            option_type::ROUTER_ALERT, 4, 0, 0,
            25, 2,
            option_type::END,
            option_type::TIMESTAMP,
        ];

        assert_eq!(option_flags(&options), 0xff);
    }

    #[test]
    fn end_of_list_stops_the_walk() {
        assert_eq!(
            option_flags(&[option_type::END, option_type::ROUTER_ALERT, 4, 0, 0]),
            0
        );
        assert_eq!(option_flags(&[option_type::NOP, option_type::NOP]), 0);
    }

    #[test]
    fn malformed_option_lengths_stop_the_walk() {
        assert_eq!(option_flags(&[option_type::ROUTER_ALERT]), 0);
        assert_eq!(option_flags(&[option_type::ROUTER_ALERT, 1, 0, 0]), 0);
        assert_eq!(option_flags(&[option_type::ROUTER_ALERT, 0, 0, 0]), 0);
        assert_eq!(option_flags(&[option_type::ROUTER_ALERT, 5, 0, 0]), 0);
        assert_eq!(
            option_flags(&[
                option_type::RECORD_ROUTE,
                3,
                0,
                option_type::ROUTER_ALERT,
                9
            ]),
            ipv4_option::RECORD_ROUTE
        );
    }
}
