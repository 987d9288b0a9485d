//! L2TP version 3 data messages (RFC 3931 section 4.1), directly over IP
//! (protocol 115) and over UDP (port 1701, distinguished from version 2 by
//! the version field).
//!
//! A data message starts with the 32-bit session id, which over UDP follows
//! a 4-byte header with the T bit and the version. A session id of 0 over
//! IP, and the T bit over UDP, mark a control message. After the session id
//! come a cookie of 0, 4 or 8 bytes and an optional 4-byte L2-specific
//! sublayer, whose lengths the control connection agreed and the data
//! message does not state. [`payload_start`] therefore guesses them from
//! what follows.

use super::bytes::{check_len, u16_at, u32_at, u8_at};
use super::ethernet::ethertype;
use super::DecodeError;

/// Length of the session id.
pub const SESSION_ID_LEN: usize = 4;

/// Length of the header in front of the session id over UDP.
pub const UDP_HEADER_LEN: usize = 4;

/// Bit of the UDP header's first 16 bits that marks a control message.
const UDP_CONTROL: u16 = 0x8000;

/// Offsets after the session id tried for the pseudowire payload: every
/// sum of a cookie (0, 4, 8 bytes) and a sublayer (0, 4 bytes).
const PAYLOAD_OFFSETS: [usize; 4] = [0, 4, 8, 12];

/// A borrowed L2TPv3 data message, from its session id on.
#[derive(Clone, Copy, Debug)]
pub struct L2tpv3Data<'a> {
    /// The bytes from the session id on.
    data: &'a [u8],
}

/// Reads an L2TPv3 message carried directly in IP; `None` for a control
/// message.
pub fn over_ip(data: &[u8]) -> Result<Option<L2tpv3Data<'_>>, DecodeError> {
    check_len(data, SESSION_ID_LEN)?;
    if u32_at(data, 0..4) == 0 {
        return Ok(None);
    }
    Ok(Some(L2tpv3Data { data }))
}

/// Reads an L2TPv3 message carried in UDP; `None` for a control message.
/// The version must be 3.
pub fn over_udp(data: &[u8]) -> Result<Option<L2tpv3Data<'_>>, DecodeError> {
    check_len(data, UDP_HEADER_LEN)?;
    let flags = u16_at(data, 0..2);
    let version = (flags & 0x000f) as u8;
    if version != 3 {
        return Err(DecodeError::InvalidVersion(version));
    }
    if flags & UDP_CONTROL != 0 {
        return Ok(None);
    }
    check_len(data, UDP_HEADER_LEN + SESSION_ID_LEN)?;
    Ok(Some(L2tpv3Data { data: &data[UDP_HEADER_LEN..] }))
}

/// Contents of an L2TPv3 pseudowire, as far as [`L2tpv3Data::payload`]
/// can recognise them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L2tpv3Payload<'a> {
    /// An Ethernet frame.
    Ethernet(&'a [u8]),
    /// An IPv4 or IPv6 packet (an IP pseudowire).
    Ip(&'a [u8]),
    /// Neither was found after any cookie and sublayer length.
    Unknown,
}

impl<'a> L2tpv3Data<'a> {
    /// The session id, chosen by the receiving end.
    pub fn session_id(&self) -> u32 {
        u32_at(self.data, 0..4)
    }

    /// Finds the pseudowire payload: the first offset after the session id
    /// (0, 4, 8 or 12 bytes of cookie and sublayer) where an Ethernet
    /// frame with a known EtherType, or an IP header whose length field
    /// matches the bytes left, starts.
    ///
    /// NOTE: this is a guess, because the cookie and sublayer lengths are
    /// agreed in the control connection. A cookie whose bytes happen to
    /// look like such a header is read as one.
    pub fn payload(&self) -> L2tpv3Payload<'a> {
        for offset in PAYLOAD_OFFSETS {
            let Some(rest) = self.data.get(SESSION_ID_LEN + offset..) else {
                break;
            };
            if looks_like_ethernet(rest) {
                return L2tpv3Payload::Ethernet(rest);
            }
            if looks_like_ip(rest) {
                return L2tpv3Payload::Ip(rest);
            }
        }
        L2tpv3Payload::Unknown
    }
}

/// Returns true when `data` starts with an Ethernet header whose EtherType
/// is IPv4, IPv6, ARP, a VLAN tag or MPLS. For IP, the byte after the
/// header must contain the matching version.
fn looks_like_ethernet(data: &[u8]) -> bool {
    if check_len(data, 15).is_err() {
        return false;
    }
    let version = u8_at(data, 14) >> 4;
    match u16_at(data, 12..14) {
        ethertype::IPV4 => version == 4,
        ethertype::IPV6 => version == 6,
        ethertype::ARP | ethertype::VLAN | ethertype::SERVICE_VLAN | ethertype::MPLS_UNICAST => true,
        _ => false,
    }
}

/// Returns true when `data` starts with an IPv4 or IPv6 header whose length
/// field counts exactly the bytes of `data`.
fn looks_like_ip(data: &[u8]) -> bool {
    match data.first().map(|byte| byte >> 4) {
        Some(4) if data.len() >= 20 => usize::from(u16_at(data, 2..4)) == data.len(),
        Some(6) if data.len() >= 40 => usize::from(u16_at(data, 4..6)) + 40 == data.len(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ethernet_ipv4() -> Vec<u8> {
        let mut frame = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45];
        frame.resize(34, 0);
        frame
    }

    #[test]
    fn ip_data_with_cookie_finds_ethernet() {
        let mut message = vec![0, 0, 0x12, 0x34];
        message.extend([0xde, 0xad, 0xbe, 0xef]);
        message.extend(ethernet_ipv4());
        let data = over_ip(&message).unwrap().expect("data message");
        assert_eq!(data.session_id(), 0x1234);
        assert_eq!(data.payload(), L2tpv3Payload::Ethernet(&message[8..]));
    }

    #[test]
    fn session_zero_and_t_bit_are_control() {
        assert!(over_ip(&[0, 0, 0, 0, 0xc8, 3]).unwrap().is_none());
        assert!(over_udp(&[0xc0, 0x03, 0, 0]).unwrap().is_none());
        assert_eq!(over_udp(&[0x00, 0x02, 0, 0]).err(), Some(DecodeError::InvalidVersion(2)));
        assert!(matches!(over_ip(&[0, 0, 1]), Err(DecodeError::Truncated { .. })));
    }

    #[test]
    fn udp_data_with_sublayer_finds_ip() {
        let mut message = vec![0x00, 0x03, 0, 0, 0, 0, 0, 7, 0x40, 0, 0, 1];
        let mut ip = vec![0x45, 0, 0, 20];
        ip.resize(20, 0);
        message.extend(&ip);
        let data = over_udp(&message).unwrap().expect("data message");
        assert_eq!(data.session_id(), 7);
        assert_eq!(data.payload(), L2tpv3Payload::Ip(&ip[..]));
    }

    #[test]
    fn unrecognised_payload_is_unknown() {
        let message = [0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(over_ip(&message).unwrap().unwrap().payload(), L2tpv3Payload::Unknown);
    }
}
