//! BSD loopback headers: `LINKTYPE_NULL` (0) and `LINKTYPE_LOOP` (108).
//!
//! Both are a 4-byte address family (`AF_*`) before an IP packet. `NULL`
//! stores it in the byte order of the host that wrote the capture and `LOOP`
//! in network byte order. The IPv6 family has a different number on each BSD
//! (see <https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html>).

use super::bytes::{check_len, ranges_fit, tail, u32_at};
use super::DecodeError;

mod field {
    use std::ops::Range;

    pub const FAMILY: Range<usize> = 0..4;
}

/// Length of the header in bytes.
pub const HEADER_LEN: usize = field::FAMILY.end;

const _: () = assert!(ranges_fit(&[field::FAMILY], HEADER_LEN));

/// Address family values of loopback headers.
pub mod family {
    /// `AF_INET` on every BSD.
    pub const INET: u32 = 2;
    /// `AF_INET6` on NetBSD and OpenBSD.
    pub const INET6_NETBSD_OPENBSD: u32 = 24;
    /// `AF_INET6` on FreeBSD and DragonFly BSD.
    pub const INET6_FREEBSD: u32 = 28;
    /// `AF_INET6` on macOS and iOS.
    pub const INET6_DARWIN: u32 = 30;
}

/// Returns true for any of the BSDs' `AF_INET6` values.
pub fn is_inet6(family: u32) -> bool {
    matches!(
        family,
        family::INET6_NETBSD_OPENBSD | family::INET6_FREEBSD | family::INET6_DARWIN
    )
}

/// A borrowed loopback header.
#[derive(Clone, Copy, Debug)]
pub struct LoopbackHeader<'a> {
    /// The packet from its first byte, at least [`HEADER_LEN`] bytes long.
    data: &'a [u8],
}

impl<'a> LoopbackHeader<'a> {
    /// Checks that `data` contains a whole header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, HEADER_LEN)?;
        Ok(LoopbackHeader { data })
    }

    /// Reads the address family in network byte order, as `LINKTYPE_LOOP`
    /// stores it.
    pub fn family_network_order(&self) -> u32 {
        u32_at(self.data, field::FAMILY)
    }

    /// Reads the address family in whichever byte order the writer used, as
    /// `LINKTYPE_NULL` needs.
    ///
    /// Every family value fits in 16 bits, so a value with any of its upper
    /// 16 bits set was written in the other byte order and is swapped. This is
    /// the test libpcap and Wireshark make.
    pub fn family_either_order(&self) -> u32 {
        let value = self.family_network_order();
        if value & 0xffff_0000 != 0 {
            value.swap_bytes()
        } else {
            value
        }
    }

    /// Returns the bytes after the header as captured.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_frames::{NULL_AF28_ICMPV6_1, NULL_AF2_TCP_3, NULL_AF30_TCP_1};

    #[test]
    fn little_endian_families() {
        let cases = [
            (&NULL_AF2_TCP_3[..], family::INET),
            (&NULL_AF30_TCP_1[..], family::INET6_DARWIN),
            (&NULL_AF28_ICMPV6_1[..], family::INET6_FREEBSD),
        ];
        for (frame, expected) in cases {
            let header = LoopbackHeader::new(frame).unwrap();

            assert_eq!(header.family_either_order(), expected);
            assert_eq!(header.family_network_order(), expected.swap_bytes());
        }
    }

    #[test]
    fn big_endian_family() {
        let header = LoopbackHeader::new(&[0, 0, 0, 24, 0x60]).unwrap();

        assert_eq!(header.family_either_order(), 24);
        assert_eq!(header.family_network_order(), 24);
        assert!(is_inet6(header.family_either_order()));
        assert_eq!(header.payload(), &[0x60]);
    }

    #[test]
    fn inet6_values() {
        assert!(is_inet6(24));
        assert!(is_inet6(28));
        assert!(is_inet6(30));
        assert!(!is_inet6(family::INET));
        assert!(!is_inet6(10));
    }

    #[test]
    fn every_truncation_is_reported() {
        for len in 0..HEADER_LEN {
            assert_eq!(
                LoopbackHeader::new(&NULL_AF2_TCP_3[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: HEADER_LEN,
                    available_bytes: len
                }
            );
        }
    }
}
