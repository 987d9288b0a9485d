//! IEEE 802.2 LLC headers and the SNAP extension (RFC 1042).
//!
//! LLC follows an 802.3 length field. Its control field is 1 byte for
//! unnumbered (U-format) frames and 2 bytes for information and supervisory
//! frames. A UI frame between the SNAP service access points (0xAA) carries a
//! 5-byte SNAP header: a 3-byte OUI and a 2-byte protocol ID, which is an
//! EtherType when the OUI is 00-00-00 (RFC 1042) or 00-00-F8 (IEEE 802.1H).

use super::bytes::{array_at, check_len, offsets_fit, ranges_fit, tail, u16_at, u8_at};
use super::DecodeError;

mod field {
    use std::ops::Range;

    pub const DSAP: usize = 0;
    pub const SSAP: usize = 1;
    pub const CONTROL: usize = 2;
    pub const CONTROL_16: Range<usize> = 2..4;

    /// OUI and protocol ID, counted from the start of the SNAP header.
    pub const SNAP_OUI: Range<usize> = 0..3;
    pub const SNAP_PROTOCOL_ID: Range<usize> = 3..5;
}

/// Length of an LLC header with a 1-byte (U-format) control field.
pub const U_FORMAT_HEADER_LEN: usize = field::CONTROL + 1;

/// Length of an LLC header with a 2-byte (I- or S-format) control field.
pub const LONG_HEADER_LEN: usize = field::CONTROL_16.end;

/// Length of a SNAP header in bytes.
pub const SNAP_HEADER_LEN: usize = field::SNAP_PROTOCOL_ID.end;

/// The SNAP service access point.
pub const SAP_SNAP: u8 = 0xaa;

/// The control field of an unnumbered information (UI) frame.
pub const CONTROL_UI: u8 = 0x03;

/// SNAP OUI whose protocol ID is an EtherType (RFC 1042).
pub const OUI_ENCAPSULATED_ETHERNET: u32 = 0x00_0000;

/// SNAP OUI of IEEE 802.1H bridge tunnelling, whose protocol ID is also an
/// EtherType.
pub const OUI_BRIDGE_TUNNEL: u32 = 0x00_00f8;

const _: () = assert!(offsets_fit(
    &[field::DSAP, field::SSAP, field::CONTROL],
    U_FORMAT_HEADER_LEN
));
const _: () = assert!(ranges_fit(&[field::CONTROL_16], LONG_HEADER_LEN));
const _: () = assert!(ranges_fit(
    &[field::SNAP_OUI, field::SNAP_PROTOCOL_ID],
    SNAP_HEADER_LEN
));

/// Returns true when an 802.3 payload is a Novell "raw 802.3" IPX packet,
/// which has no LLC header: its first 2 bytes are the IPX checksum, always
/// 0xFFFF, which no LLC header starts with.
pub fn is_novell_raw_ipx(payload: &[u8]) -> bool {
    payload.starts_with(&[0xff, 0xff])
}

/// A borrowed LLC header.
#[derive(Clone, Copy, Debug)]
pub struct LlcHeader<'a> {
    /// The header from its first byte, at least `header_len()` bytes long.
    data: &'a [u8],
}

impl<'a> LlcHeader<'a> {
    /// Checks that `data` contains a whole LLC header, control field included.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, U_FORMAT_HEADER_LEN)?;
        let header = LlcHeader { data };
        check_len(data, header.header_len())?;
        Ok(header)
    }

    /// Destination service access point, the individual/group bit included.
    pub fn dsap(&self) -> u8 {
        u8_at(self.data, field::DSAP)
    }

    /// Source service access point, the command/response bit included.
    pub fn ssap(&self) -> u8 {
        u8_at(self.data, field::SSAP)
    }

    /// Returns true for an unnumbered frame, whose control field is 1 byte.
    pub fn is_u_format(&self) -> bool {
        u8_at(self.data, field::CONTROL) & 0x03 == 0x03
    }

    /// Returns the control field: 1 byte for U-format frames, else 2 bytes.
    pub fn control(&self) -> u16 {
        if self.is_u_format() {
            u16::from(u8_at(self.data, field::CONTROL))
        } else {
            u16_at(self.data, field::CONTROL_16)
        }
    }

    /// Header length in bytes, 3 or 4.
    pub fn header_len(&self) -> usize {
        if self.is_u_format() {
            U_FORMAT_HEADER_LEN
        } else {
            LONG_HEADER_LEN
        }
    }

    /// Returns true when a SNAP header follows: a UI frame between SNAP
    /// service access points (the low bits of the SAPs are ignored).
    pub fn is_snap(&self) -> bool {
        self.dsap() & 0xfe == SAP_SNAP
            && self.ssap() & 0xfe == SAP_SNAP
            && self.control() == u16::from(CONTROL_UI)
    }

    /// Returns the bytes after the LLC header as captured.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, self.header_len())
    }
}

/// A borrowed SNAP header.
#[derive(Clone, Copy, Debug)]
pub struct SnapHeader<'a> {
    /// The header from its first byte, at least [`SNAP_HEADER_LEN`] bytes.
    data: &'a [u8],
}

impl<'a> SnapHeader<'a> {
    /// Checks that `data` contains a whole SNAP header.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, SNAP_HEADER_LEN)?;
        Ok(SnapHeader { data })
    }

    /// Organizationally unique identifier, in the low 24 bits.
    pub fn oui(&self) -> u32 {
        let [b0, b1, b2] = array_at::<3>(self.data, field::SNAP_OUI);
        u32::from_be_bytes([0, b0, b1, b2])
    }

    /// Protocol ID, defined by the OUI's owner.
    pub fn protocol_id(&self) -> u16 {
        u16_at(self.data, field::SNAP_PROTOCOL_ID)
    }

    /// Returns the protocol ID when it is an EtherType (OUI 00-00-00 or
    /// 00-00-F8).
    pub fn ethertype(&self) -> Option<u16> {
        match self.oui() {
            OUI_ENCAPSULATED_ETHERNET | OUI_BRIDGE_TUNNEL => Some(self.protocol_id()),
            _ => None,
        }
    }

    /// Returns the bytes after the SNAP header as captured.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, SNAP_HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ethernet;
    use crate::decode::test_frames::{IPX_LLC_1, LLC_SNAP_TCP_1, STP_8021D_1};

    #[test]
    fn stp_bpdu_is_plain_llc() {
        let llc = LlcHeader::new(&STP_8021D_1[ethernet::HEADER_LEN..]).unwrap();

        assert_eq!(llc.dsap(), 0x42);
        assert_eq!(llc.ssap(), 0x42);
        assert!(llc.is_u_format());
        assert_eq!(llc.control(), 0x03);
        assert_eq!(llc.header_len(), 3);
        assert!(!llc.is_snap());
        assert_eq!(llc.payload()[..4], [0x00, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn ipx_over_llc() {
        let payload = &IPX_LLC_1[ethernet::HEADER_LEN..];
        let llc = LlcHeader::new(payload).unwrap();

        assert_eq!((llc.dsap(), llc.ssap()), (0xe0, 0xe0));
        assert!(!llc.is_snap());
        assert!(!is_novell_raw_ipx(payload));
        assert!(is_novell_raw_ipx(llc.payload()));
    }

    #[test]
    fn snap_carries_ipv4() {
        let llc = LlcHeader::new(&LLC_SNAP_TCP_1[ethernet::HEADER_LEN..]).unwrap();
        assert!(llc.is_snap());

        let snap = SnapHeader::new(llc.payload()).unwrap();
        assert_eq!(snap.oui(), 0);
        assert_eq!(snap.protocol_id(), 0x0800);
        assert_eq!(snap.ethertype(), Some(0x0800));
        assert_eq!(snap.payload()[0], 0x45);
    }

    #[test]
    fn snap_with_vendor_oui_has_no_ethertype() {
        let bytes = [0x00, 0x00, 0x0c, 0x20, 0x00];
        let snap = SnapHeader::new(&bytes).unwrap();

        assert_eq!(snap.oui(), 0x00_000c);
        assert_eq!(snap.protocol_id(), 0x2000);
        assert_eq!(snap.ethertype(), None);
    }

    #[test]
    fn information_frame_has_two_byte_control() {
        let bytes = [0xf0, 0xf0, 0x0a, 0x01, 0x99];
        let llc = LlcHeader::new(&bytes).unwrap();

        assert!(!llc.is_u_format());
        assert_eq!(llc.control(), 0x0a01);
        assert_eq!(llc.header_len(), 4);
        assert_eq!(llc.payload(), &[0x99]);
        assert_eq!(
            LlcHeader::new(&bytes[..3]).unwrap_err(),
            DecodeError::Truncated {
                needed_bytes: 4,
                available_bytes: 3
            }
        );
    }

    #[test]
    fn every_truncation_is_reported() {
        let llc = &LLC_SNAP_TCP_1[ethernet::HEADER_LEN..];
        for len in 0..U_FORMAT_HEADER_LEN {
            assert_eq!(
                LlcHeader::new(&llc[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: U_FORMAT_HEADER_LEN,
                    available_bytes: len
                }
            );
        }
        let snap = &llc[U_FORMAT_HEADER_LEN..];
        for len in 0..SNAP_HEADER_LEN {
            assert_eq!(
                SnapHeader::new(&snap[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: SNAP_HEADER_LEN,
                    available_bytes: len
                }
            );
        }
    }
}
