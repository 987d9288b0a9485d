//! Teredo (RFC 4380 section 5.1.1): IPv6 in UDP, optionally after an
//! authentication indicator and an origin indication.

use super::bytes::{check_len, tail, u8_at};
use super::DecodeError;

/// Length of the origin indication.
const ORIGIN_LEN: usize = 8;
/// Length of the fixed part of the authentication indicator.
const AUTH_FIXED_LEN: usize = 13;

/// Returns the IPv6 packet inside a Teredo payload, or `None` when the
/// payload is not a Teredo packet (no IPv6 version nibble after the
/// indicators).
pub fn ipv6_payload(data: &[u8]) -> Result<Option<&[u8]>, DecodeError> {
    let mut rest = data;
    if rest.starts_with(&[0x00, 0x01]) {
        check_len(rest, AUTH_FIXED_LEN)?;
        let len = AUTH_FIXED_LEN + usize::from(u8_at(rest, 2)) + usize::from(u8_at(rest, 3));
        check_len(rest, len)?;
        rest = tail(rest, len);
    }
    if rest.starts_with(&[0x00, 0x00]) {
        check_len(rest, ORIGIN_LEN)?;
        rest = tail(rest, ORIGIN_LEN);
    }
    Ok(rest.first().is_some_and(|byte| byte >> 4 == 6).then_some(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_then_ipv6() {
        let data = [0, 0, 0x12, 0x34, 1, 2, 3, 4, 0x60, 0];
        assert_eq!(ipv6_payload(&data), Ok(Some(&data[8..])));
        for len in 2..8 {
            assert!(matches!(ipv6_payload(&data[..len]), Err(DecodeError::Truncated { .. })), "cut at {len}");
        }
    }

    #[test]
    fn auth_then_ipv6() {
        let mut data = vec![0, 1, 1, 0];
        data.extend_from_slice(&[0xaa; 10]);
        data.push(0x60);
        assert_eq!(ipv6_payload(&data), Ok(Some(&data[14..])));
    }

    #[test]
    fn not_teredo() {
        assert_eq!(ipv6_payload(&[0x45, 0]), Ok(None));
        assert_eq!(ipv6_payload(&[]), Ok(None));
    }
}
