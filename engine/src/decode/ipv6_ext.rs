//! IPv6 extension headers and the walk along their chain (RFC 8200).
//!
//! Hop-by-hop options, routing and destination options headers share one
//! layout: a next-header byte and a length in 8-byte units, not counting the
//! first 8 bytes. The authentication header (RFC 4302) counts its length in
//! 4-byte units, not counting the first 8. The fragment header is always 8
//! bytes.
//!
//! [`walk_chain`] follows the chain from the fixed header to the upper-layer
//! protocol. It looks through AH to the protocol it carries, as argus does for
//! IPv6. It ends at ESP, at "no next header" and at a mobility header, whose
//! payload protocol is always "no next header". It also ends at a fragment
//! that is not the first, and at any protocol that is not an extension
//! header.

use super::bytes::{check_len, clamped, offsets_fit, ranges_fit, tail, u16_at, u32_at, u8_at};
use super::{DecodeError, Fragment};

mod field {
    use std::ops::Range;

    pub const NEXT_HEADER: usize = 0;
    pub const LENGTH: usize = 1;

    /// Fragment header fields.
    pub const FRAGMENT_OFFSET_FLAGS: Range<usize> = 2..4;
    pub const FRAGMENT_IDENTIFICATION: Range<usize> = 4..8;

    /// Routing header fields.
    pub const ROUTING_TYPE: usize = 2;
    pub const SEGMENTS_LEFT: usize = 3;
}

/// Length of the smallest extension header, and of every fragment header.
pub const MIN_HEADER_LEN: usize = 8;

/// Length of a fragment header in bytes.
pub const FRAGMENT_HEADER_LEN: usize = field::FRAGMENT_IDENTIFICATION.end;

/// Most extension headers [`walk_chain`] follows before it stops with
/// `TooDeep`.
///
/// RFC 8200 section 4.1 recommends at most one of each header, the
/// destination options header twice: hop-by-hop, destination options,
/// routing, fragment, AH, ESP, destination options. Eight adds one for a
/// mobility header and bounds the work on a packet built of nothing but
/// extension headers.
pub const MAX_EXTENSION_HEADERS: usize = 8;

const _: () = assert!(offsets_fit(
    &[
        field::NEXT_HEADER,
        field::LENGTH,
        field::ROUTING_TYPE,
        field::SEGMENTS_LEFT
    ],
    MIN_HEADER_LEN
));
const _: () = assert!(ranges_fit(
    &[field::FRAGMENT_OFFSET_FLAGS, field::FRAGMENT_IDENTIFICATION],
    FRAGMENT_HEADER_LEN
));

/// Next-header values the chain walk acts on.
pub mod next_header {
    /// Hop-by-hop options header.
    pub const HOP_BY_HOP: u8 = 0;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// Routing header.
    pub const ROUTING: u8 = 43;
    /// Fragment header.
    pub const FRAGMENT: u8 = 44;
    /// Encapsulating security payload: the rest is encrypted.
    pub const ESP: u8 = 50;
    /// Authentication header.
    pub const AH: u8 = 51;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// No next header: nothing follows.
    pub const NO_NEXT_HEADER: u8 = 59;
    /// Destination options header.
    pub const DESTINATION_OPTIONS: u8 = 60;
    /// Mobility header (RFC 6275).
    pub const MOBILITY: u8 = 135;
}

/// Hop-by-hop option types the decoder reads.
pub mod option_type {
    /// One byte of padding, with no length byte.
    pub const PAD1: u8 = 0x00;
    /// Jumbo payload (RFC 2675), a 4-byte payload length.
    pub const JUMBO_PAYLOAD: u8 = 0xc2;
}

/// Returns true for the next-header values [`walk_chain`] walks through.
pub fn is_walked_extension(value: u8) -> bool {
    matches!(
        value,
        next_header::HOP_BY_HOP
            | next_header::ROUTING
            | next_header::FRAGMENT
            | next_header::AH
            | next_header::DESTINATION_OPTIONS
    )
}

/// A borrowed hop-by-hop, routing, destination options or authentication
/// header.
#[derive(Clone, Copy, Debug)]
pub struct ExtensionHeader<'a> {
    /// The header from its first byte, exactly `header_len()` bytes long.
    data: &'a [u8],
}

impl<'a> ExtensionHeader<'a> {
    /// Checks that `data` contains the whole header of type `kind`, whose length
    /// field is in 4-byte units for [`next_header::AH`] and in 8-byte units
    /// for the other types.
    pub fn new(data: &'a [u8], kind: u8) -> Result<Self, DecodeError> {
        check_len(data, field::LENGTH + 1)?;
        let length = usize::from(u8_at(data, field::LENGTH));
        let header_len = if kind == next_header::AH {
            (length + 2) * 4
        } else {
            (length + 1) * 8
        };
        check_len(data, header_len)?;
        Ok(ExtensionHeader {
            data: clamped(data, 0, header_len),
        })
    }

    /// Type of the header that follows.
    pub fn next_header(&self) -> u8 {
        u8_at(self.data, field::NEXT_HEADER)
    }

    /// Header length in bytes.
    pub fn header_len(&self) -> usize {
        self.data.len()
    }

    /// Returns the options of a hop-by-hop or destination options header:
    /// the bytes after the next-header and length bytes.
    pub fn options(&self) -> &'a [u8] {
        tail(self.data, field::LENGTH + 1)
    }

    /// Routing type of a routing header.
    pub fn routing_type(&self) -> u8 {
        u8_at(self.data, field::ROUTING_TYPE)
    }

    /// Segments left of a routing header.
    pub fn segments_left(&self) -> u8 {
        u8_at(self.data, field::SEGMENTS_LEFT)
    }
}

/// Finds the jumbo payload option in the options of a hop-by-hop header and
/// returns its payload length in bytes.
///
/// The walk stops at a length byte that is missing or runs past the end;
/// each step consumes at least one byte.
pub fn jumbo_payload_len(options: &[u8]) -> Option<u32> {
    let mut rest = options;

    while let Some(&kind) = rest.first() {
        if kind == option_type::PAD1 {
            rest = tail(rest, 1);
            continue;
        }
        let data_len = usize::from(*rest.get(1)?);
        let data = rest.get(2..2 + data_len)?;
        if kind == option_type::JUMBO_PAYLOAD && data_len == 4 {
            return Some(u32_at(data, 0..4));
        }
        rest = tail(rest, 2 + data_len);
    }
    None
}

/// A borrowed fragment header.
#[derive(Clone, Copy, Debug)]
pub struct FragmentHeader<'a> {
    /// The header from its first byte, at least [`FRAGMENT_HEADER_LEN`] bytes.
    data: &'a [u8],
}

impl<'a> FragmentHeader<'a> {
    /// Checks that `data` contains a whole fragment header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, FRAGMENT_HEADER_LEN)?;
        Ok(FragmentHeader { data })
    }

    /// Type of the header that follows, in the first fragment.
    pub fn next_header(&self) -> u8 {
        u8_at(self.data, field::NEXT_HEADER)
    }

    /// Offset of this fragment's data in the fragmentable part, in bytes.
    pub fn fragment_offset_bytes(&self) -> u32 {
        u32::from(u16_at(self.data, field::FRAGMENT_OFFSET_FLAGS) & 0xfff8)
    }

    /// More-fragments flag.
    pub fn more_fragments(&self) -> bool {
        u16_at(self.data, field::FRAGMENT_OFFSET_FLAGS) & 0x0001 != 0
    }

    /// Identification of the original packet.
    pub fn identification(&self) -> u32 {
        u32_at(self.data, field::FRAGMENT_IDENTIFICATION)
    }

    /// Builds the summary of the fragment.
    pub fn fragment(&self) -> Fragment {
        Fragment {
            offset_bytes: self.fragment_offset_bytes(),
            more_fragments: self.more_fragments(),
            id: self.identification(),
        }
    }
}

/// The result of walking the extension chain of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtensionChain<'a> {
    /// The last next-header value: the upper-layer protocol, or the type of
    /// the header the walk stopped at.
    pub protocol: u8,
    /// The first fragment header of the chain, if any.
    pub fragment: Option<Fragment>,
    /// Bytes of extension headers walked.
    pub extension_len_bytes: usize,
    /// Payload length after the extension headers, as the payload length
    /// field (or the jumbo payload option) gives it.
    pub payload_len_bytes: u32,
    /// Captured bytes of the upper-layer payload, cut to the payload length;
    /// empty when the walk stopped.
    pub payload: &'a [u8],
    /// True when a jumbo payload option gave the payload length.
    pub is_jumbogram: bool,
    /// True when the walk ended at a fragment header with a nonzero offset,
    /// so that what follows is fragment data and not a header.
    pub is_later_fragment: bool,
    /// The error that stopped the walk before the upper layer, if any.
    pub stop: Option<DecodeError>,
}

/// Walks the extension headers that follow an IPv6 fixed header.
///
/// `first_header` and `payload_len_field` are the fixed header's next header
/// and payload length, and `captured` is every captured byte after the fixed
/// header. A header that runs past the payload length stops the walk with
/// `InvalidLength` (the payload length), one that runs past the captured
/// bytes with `Truncated`, and the header after the
/// [`MAX_EXTENSION_HEADERS`]th with `TooDeep`.
pub fn walk_chain(first_header: u8, payload_len_field: u16, captured: &[u8]) -> ExtensionChain<'_> {
    let mut payload_len = u32::from(payload_len_field);
    let mut is_jumbogram = false;

    // A jumbogram has a payload length of 0 and a jumbo payload option in a
    // hop-by-hop header. Its payload then runs to the end of the capture.
    if payload_len_field == 0 && first_header == next_header::HOP_BY_HOP {
        match ExtensionHeader::new(captured, next_header::HOP_BY_HOP) {
            Ok(header) => {
                if let Some(jumbo_len) = jumbo_payload_len(header.options()) {
                    payload_len = jumbo_len;
                    is_jumbogram = true;
                }
            }
            Err(error) => {
                return ExtensionChain {
                    protocol: first_header,
                    fragment: None,
                    extension_len_bytes: 0,
                    payload_len_bytes: 0,
                    payload: &[],
                    is_jumbogram: false,
                    is_later_fragment: false,
                    stop: Some(error),
                };
            }
        }
    }

    let region = clamped(
        captured,
        0,
        usize::try_from(payload_len).unwrap_or(usize::MAX),
    );
    let mut chain = ExtensionChain {
        protocol: first_header,
        fragment: None,
        extension_len_bytes: 0,
        payload_len_bytes: payload_len,
        payload: region,
        is_jumbogram,
        is_later_fragment: false,
        stop: None,
    };

    let mut walked = 0;
    while is_walked_extension(chain.protocol) {
        if walked == MAX_EXTENSION_HEADERS {
            return chain.stopped(DecodeError::TooDeep(MAX_EXTENSION_HEADERS));
        }
        let offset = chain.extension_len_bytes;
        let bytes = tail(region, offset);

        let (next, header_len, fragment) = match read_extension(chain.protocol, bytes) {
            Ok(read) => read,
            Err(DecodeError::Truncated { needed_bytes, .. })
                if (offset + needed_bytes) as u64 > u64::from(payload_len) =>
            {
                return chain.stopped(DecodeError::InvalidLength(payload_len));
            }
            Err(error) => return chain.stopped(error),
        };

        walked += 1;
        chain.protocol = next;
        chain.extension_len_bytes += header_len;
        chain.payload = tail(region, chain.extension_len_bytes);
        let extension_len = u32::try_from(chain.extension_len_bytes).unwrap_or(u32::MAX);
        chain.payload_len_bytes = payload_len.saturating_sub(extension_len);
        if let Some(fragment) = fragment {
            chain.fragment.get_or_insert(fragment);
            if fragment.offset_bytes != 0 {
                chain.is_later_fragment = true;
                break;
            }
        }
    }
    chain
}

/// Reads the extension header of type `kind` at the start of `bytes` and
/// returns its next header, its length and, for a fragment header, the
/// fragment.
fn read_extension(kind: u8, bytes: &[u8]) -> Result<(u8, usize, Option<Fragment>), DecodeError> {
    if kind == next_header::FRAGMENT {
        let header = FragmentHeader::new(bytes)?;
        return Ok((
            header.next_header(),
            FRAGMENT_HEADER_LEN,
            Some(header.fragment()),
        ));
    }
    let header = ExtensionHeader::new(bytes, kind)?;
    Ok((header.next_header(), header.header_len(), None))
}

impl<'a> ExtensionChain<'a> {
    /// Marks the walk as stopped at the current header.
    fn stopped(mut self, error: DecodeError) -> Self {
        self.payload = &[];
        self.stop = Some(error);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ipv6::{self, Ipv6Header};
    use crate::decode::test_frames::{
        BAD_IPV6_FRAG_LEN_1, IPV6_229_FRAG_TCP_1, IPV6_229_FRAG_TCP_3, IPV6_AH_OSPF_1,
        IPV6_DSTOPT_TCP_1, IPV6_ESP_2, IPV6_FRAG_ICMPV6_7, IPV6_HBH_DST_RH_VLAN_UDP_1,
        IPV6_HBH_ROUTING0_DNS_1, IPV6_JUMBO_ICMPV6_1, IPV6_NESTED_FRAG_6, IPV6_NO_NEXT_HEADER_1,
    };

    /// Walks the chain of the IPv6 packet that starts `ip_offset` bytes into
    /// `frame`.
    fn walk(frame: &[u8], ip_offset: usize) -> ExtensionChain<'_> {
        let header = Ipv6Header::new(&frame[ip_offset..]).unwrap();
        walk_chain(
            header.next_header(),
            header.payload_len(),
            header.captured_payload(),
        )
    }

    #[test]
    fn hop_by_hop_destination_routing() {
        let chain = walk(&IPV6_HBH_DST_RH_VLAN_UDP_1, 18);

        assert_eq!(chain.protocol, next_header::UDP);
        assert_eq!(chain.extension_len_bytes, 24);
        assert_eq!(chain.payload_len_bytes, 8);
        assert_eq!(chain.payload.len(), 8);
        assert_eq!(chain.payload[..4], [0x00, 0x35, 0x00, 0x50]);
        assert_eq!(chain.fragment, None);
        assert_eq!(chain.stop, None);
    }

    #[test]
    fn hop_by_hop_then_type_0_routing() {
        let chain = walk(&IPV6_HBH_ROUTING0_DNS_1, 14);

        assert_eq!(chain.protocol, next_header::UDP);
        assert_eq!(chain.extension_len_bytes, 48);
        assert_eq!(chain.payload_len_bytes, 11);
        assert_eq!(chain.payload.len(), 11);
        assert_eq!(chain.stop, None);

        let routing = ExtensionHeader::new(
            &IPV6_HBH_ROUTING0_DNS_1[14 + 40 + 8..],
            next_header::ROUTING,
        )
        .unwrap();
        assert_eq!(routing.next_header(), next_header::UDP);
        assert_eq!(routing.header_len(), 40);
        assert_eq!(routing.routing_type(), 0);
        assert_eq!(routing.segments_left(), 2);
    }

    #[test]
    fn destination_options_then_tcp() {
        let chain = walk(&IPV6_DSTOPT_TCP_1, 14);

        assert_eq!(chain.protocol, next_header::TCP);
        assert_eq!(chain.extension_len_bytes, 24);
        assert_eq!(chain.payload_len_bytes, 20);
    }

    #[test]
    fn authentication_header_is_looked_through() {
        let chain = walk(&IPV6_AH_OSPF_1, 14);

        assert_eq!(chain.protocol, 89);
        assert_eq!(chain.extension_len_bytes, 24);
        assert_eq!(chain.payload_len_bytes, 36);
        assert_eq!(chain.stop, None);
    }

    #[test]
    fn esp_ends_the_chain() {
        let chain = walk(&IPV6_ESP_2, 14);

        assert_eq!(chain.protocol, next_header::ESP);
        assert_eq!(chain.extension_len_bytes, 0);
        assert_eq!(chain.payload_len_bytes, 116);
        assert_eq!(chain.stop, None);
    }

    #[test]
    fn no_next_header_ends_the_chain() {
        let chain = walk(&IPV6_NO_NEXT_HEADER_1, 14);

        assert_eq!(chain.protocol, next_header::NO_NEXT_HEADER);
        assert_eq!(chain.payload_len_bytes, 20);
        assert_eq!(chain.stop, None);
    }

    #[test]
    fn mobility_header_ends_the_chain() {
        let payload = [59, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let chain = walk_chain(next_header::MOBILITY, 16, &payload);

        assert_eq!(chain.protocol, next_header::MOBILITY);
        assert_eq!(chain.extension_len_bytes, 0);
        assert_eq!(chain.payload_len_bytes, 16);
        assert_eq!(chain.stop, None);
    }

    #[test]
    fn first_fragment_continues_to_tcp() {
        let chain = walk(&IPV6_229_FRAG_TCP_1, 0);

        assert_eq!(chain.protocol, next_header::TCP);
        assert_eq!(
            chain.fragment,
            Some(Fragment {
                offset_bytes: 0,
                more_fragments: true,
                id: 0xa1bc_6572
            })
        );
        assert!(!chain.is_later_fragment);
        assert_eq!(chain.extension_len_bytes, 8);
        assert_eq!(chain.payload_len_bytes, 464);
        assert_eq!(chain.payload.len(), IPV6_229_FRAG_TCP_1.len() - 48);
    }

    #[test]
    fn later_fragment_ends_the_chain() {
        let chain = walk(&IPV6_229_FRAG_TCP_3, 0);

        assert_eq!(chain.protocol, next_header::TCP);
        assert_eq!(
            chain.fragment,
            Some(Fragment {
                offset_bytes: 928,
                more_fragments: false,
                id: 0xa1bc_6572
            })
        );
        assert!(chain.is_later_fragment);
        assert_eq!(chain.payload_len_bytes, 92);

        let chain = walk(&IPV6_FRAG_ICMPV6_7, 14);
        assert_eq!(chain.protocol, next_header::ICMPV6);
        assert_eq!(
            chain.fragment,
            Some(Fragment {
                offset_bytes: 216,
                more_fragments: false,
                id: 0x0002_aaaa
            })
        );
        assert!(chain.is_later_fragment);
    }

    #[test]
    fn nested_fragment_headers_keep_the_first() {
        let chain = walk(&IPV6_NESTED_FRAG_6, 14);

        assert_eq!(chain.protocol, next_header::ICMPV6);
        assert_eq!(
            chain.fragment,
            Some(Fragment {
                offset_bytes: 0,
                more_fragments: true,
                id: 0x0002_aaaa
            })
        );
        assert_eq!(chain.extension_len_bytes, 24);
        assert_eq!(chain.payload_len_bytes, 200);
        assert_eq!(chain.payload[..2], [128, 0]);
    }

    #[test]
    fn jumbogram_payload_runs_to_end_of_capture() {
        let chain = walk(&IPV6_JUMBO_ICMPV6_1, 14);

        assert!(chain.is_jumbogram);
        assert_eq!(chain.protocol, next_header::ICMPV6);
        assert_eq!(chain.extension_len_bytes, 8);
        assert_eq!(chain.payload_len_bytes, 65_528);
        assert_eq!(chain.payload.len(), IPV6_JUMBO_ICMPV6_1.len() - 14 - 40 - 8);
        assert_eq!(chain.stop, None);
    }

    #[test]
    fn zero_payload_length_without_jumbo_option() {
        let chain = walk_chain(next_header::HOP_BY_HOP, 0, &[59, 0, 1, 4, 0, 0, 0, 0]);

        assert!(!chain.is_jumbogram);
        assert_eq!(chain.protocol, next_header::HOP_BY_HOP);
        assert_eq!(chain.stop, Some(DecodeError::InvalidLength(0)));
    }

    #[test]
    fn fragment_header_past_zero_payload_length() {
        let chain = walk(&BAD_IPV6_FRAG_LEN_1, 14);

        assert_eq!(chain.protocol, next_header::FRAGMENT);
        assert_eq!(chain.fragment, None);
        assert_eq!(chain.payload, &[] as &[u8]);
        assert_eq!(chain.stop, Some(DecodeError::InvalidLength(0)));
    }

    #[test]
    fn header_length_past_payload_length() {
        let mut frame = IPV6_HBH_DST_RH_VLAN_UDP_1;
        // The destination options header starts 8 bytes after the fixed header.
        frame[18 + ipv6::HEADER_LEN + 8 + 1] = 3;
        let chain = walk(&frame, 18);

        assert_eq!(chain.protocol, next_header::DESTINATION_OPTIONS);
        assert_eq!(chain.extension_len_bytes, 8);
        assert_eq!(chain.payload_len_bytes, 24);
        assert_eq!(chain.stop, Some(DecodeError::InvalidLength(32)));
    }

    #[test]
    fn too_many_headers() {
        let mut payload = Vec::new();
        for _ in 0..MAX_EXTENSION_HEADERS + 1 {
            payload.extend_from_slice(&[next_header::DESTINATION_OPTIONS, 0, 1, 4, 0, 0, 0, 0]);
        }
        let chain = walk_chain(
            next_header::DESTINATION_OPTIONS,
            payload.len() as u16,
            &payload,
        );

        assert_eq!(chain.extension_len_bytes, 8 * MAX_EXTENSION_HEADERS);
        assert_eq!(
            chain.stop,
            Some(DecodeError::TooDeep(MAX_EXTENSION_HEADERS))
        );
    }

    #[test]
    fn every_truncation_is_reported() {
        let ip = &IPV6_HBH_ROUTING0_DNS_1[14..];
        let header = Ipv6Header::new(ip).unwrap();
        let payload = header.captured_payload();

        for len in 0..payload.len() {
            let chain = walk_chain(header.next_header(), header.payload_len(), &payload[..len]);
            let (protocol, header_start, header_len) = if len < 8 {
                (next_header::HOP_BY_HOP, 0, 8)
            } else if len < 48 {
                (next_header::ROUTING, 8, 40)
            } else {
                (next_header::UDP, 48, 0)
            };

            assert_eq!(chain.protocol, protocol, "cut at {len}");
            if header_len == 0 {
                assert_eq!(chain.stop, None, "cut at {len}");
                assert_eq!(chain.payload.len(), len - header_start);
                continue;
            }
            let available_bytes = len - header_start;
            let needed_bytes = if available_bytes < 2 { 2 } else { header_len };
            assert_eq!(
                chain.stop,
                Some(DecodeError::Truncated {
                    needed_bytes,
                    available_bytes
                }),
                "cut at {len}"
            );
        }
    }

    #[test]
    fn jumbo_option_search() {
        assert_eq!(jumbo_payload_len(&[0xc2, 4, 0, 1, 0, 0]), Some(65_536));
        assert_eq!(
            jumbo_payload_len(&[0, 0xc2, 4, 0, 1, 0, 0, 0]),
            Some(65_536)
        );
        assert_eq!(
            jumbo_payload_len(&[1, 0, 0xc2, 4, 0, 2, 0, 0]),
            Some(131_072)
        );
        assert_eq!(jumbo_payload_len(&[1, 4, 0, 0, 0, 0]), None);
        assert_eq!(jumbo_payload_len(&[0xc2, 4, 0, 1]), None);
        assert_eq!(jumbo_payload_len(&[0xc2]), None);
        assert_eq!(jumbo_payload_len(&[]), None);
    }

    #[test]
    fn fragment_header_fields() {
        let header = FragmentHeader::new(&IPV6_FRAG_ICMPV6_7[14 + 40..]).unwrap();

        assert_eq!(header.next_header(), next_header::ICMPV6);
        assert_eq!(header.fragment_offset_bytes(), 216);
        assert!(!header.more_fragments());
        assert_eq!(header.identification(), 0x0002_aaaa);
        assert_eq!(
            FragmentHeader::new(&[0; 7]).unwrap_err(),
            DecodeError::Truncated {
                needed_bytes: 8,
                available_bytes: 7
            }
        );
    }
}
