//! Text writers for the numbers and addresses of the text formats that do
//! not go through `core::fmt`. Each appends the same bytes as the `format!`
//! spelling named in its documentation.

use std::net::IpAddr;

pub(crate) const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes`, which must all be ASCII.
///
/// Every caller (this file, `ipv6_text` and `rfc3339`) passes a stack
/// buffer that holds only [`HEX_DIGITS`], `b'0'..=b'9'` and the ASCII
/// punctuation of its format.
pub(crate) fn push_ascii(out: &mut String, bytes: &[u8]) {
    debug_assert!(bytes.is_ascii());
    // SAFETY: the bytes are ASCII (see the callers named above), and a run of
    // ASCII bytes is valid UTF-8 on its own, so `out` stays valid UTF-8.
    unsafe { out.as_mut_vec() }.extend_from_slice(bytes);
}

/// Appends an integer in decimal, as `{}` writes it.
pub fn write_int<I: itoa::Integer>(out: &mut String, value: I) {
    out.push_str(itoa::Buffer::new().format(value));
}

/// Writes the low `digits` decimal digits of `value` at
/// `buffer[at..at + digits]`, with leading zeros: `{value:0N}` for
/// N = `digits` when `value` is below 10^N.
pub(crate) fn put_fixed_decimal(buffer: &mut [u8], at: usize, value: u64, digits: usize) {
    let mut rest = value;
    for index in (at..at + digits).rev() {
        buffer[index] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
}

/// Appends `value` in lower-case hex with at least `min_digits` digits,
/// padded with leading zeros, as `{value:0Nx}` writes it for
/// N = `min_digits`.
pub fn write_hex_zero_padded(out: &mut String, value: u32, min_digits: usize) {
    let mut buffer = [0u8; 8];
    let mut start = buffer.len();
    let mut rest = value;
    loop {
        start -= 1;
        buffer[start] = HEX_DIGITS[(rest & 0xf) as usize];
        rest >>= 4;
        if rest == 0 {
            break;
        }
    }
    for _ in buffer.len() - start..min_digits {
        out.push('0');
    }
    push_ascii(out, &buffer[start..]);
}

/// Writes `value` in decimal at `buffer[at..]` and returns the index after
/// its last digit.
fn put_u8_decimal(buffer: &mut [u8], at: usize, value: u8) -> usize {
    if value >= 100 {
        buffer[at] = b'0' + value / 100;
        buffer[at + 1] = b'0' + value / 10 % 10;
        buffer[at + 2] = b'0' + value % 10;
        at + 3
    } else if value >= 10 {
        buffer[at] = b'0' + value / 10;
        buffer[at + 1] = b'0' + value % 10;
        at + 2
    } else {
        buffer[at] = b'0' + value;
        at + 1
    }
}

/// Appends an IPv4 address in dotted decimal, as `Ipv4Addr`'s `Display`
/// writes it.
pub fn write_ipv4(out: &mut String, octets: [u8; 4]) {
    let mut buffer = [0u8; 15];
    let mut end = put_u8_decimal(&mut buffer, 0, octets[0]);
    for &octet in &octets[1..] {
        buffer[end] = b'.';
        end = put_u8_decimal(&mut buffer, end + 1, octet);
    }
    push_ascii(out, &buffer[..end]);
}

/// Appends an IP address as `IpAddr`'s `Display` writes it: IPv4 in dotted
/// decimal, IPv6 in the RFC 5952 form.
pub fn write_ip(out: &mut String, address: IpAddr) {
    match address {
        IpAddr::V4(v4) => write_ipv4(out, v4.octets()),
        IpAddr::V6(v6) => crate::ipv6_text::write_ipv6(out, v6),
    }
}

/// Appends a MAC address as six two-digit lower-case hex bytes separated by
/// colons (`{:02x}:{:02x}:...`).
pub fn write_mac(out: &mut String, mac: &[u8; 6]) {
    let mut buffer = [b':'; 17];
    for (index, &byte) in mac.iter().enumerate() {
        buffer[3 * index] = HEX_DIGITS[usize::from(byte >> 4)];
        buffer[3 * index + 1] = HEX_DIGITS[usize::from(byte & 0xf)];
    }
    push_ascii(out, &buffer);
}

/// Appends a time in nanoseconds since the epoch as seconds, a dot and six
/// digits of microseconds, truncated as argus truncates
/// (`{seconds}.{micros:06}`).
pub fn write_epoch_us(out: &mut String, time_ns: u64) {
    write_int(out, time_ns / 1_000_000_000);
    let mut fraction = *b".000000";
    put_fixed_decimal(&mut fraction, 1, time_ns % 1_000_000_000 / 1_000, 6);
    push_ascii(out, &fraction);
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn text(write: impl FnOnce(&mut String)) -> String {
        let mut out = String::from("prefix,");
        write(&mut out);
        out.strip_prefix("prefix,").expect("the writers only append").to_string()
    }

    #[test]
    fn integers_match_display() {
        assert_eq!(text(|out| write_int(out, 0u8)), "0");
        assert_eq!(text(|out| write_int(out, u8::MAX)), "255");
        assert_eq!(text(|out| write_int(out, u16::MAX)), "65535");
        assert_eq!(text(|out| write_int(out, u32::MAX)), "4294967295");
        assert_eq!(text(|out| write_int(out, u64::MAX)), "18446744073709551615");
    }

    #[test]
    fn fixed_decimal_matches_format() {
        for value in [0u64, 7, 42, 999, 2024, 999_999, 123_456_789] {
            for digits in [1, 2, 4, 6, 9, 20] {
                let mut buffer = [b'x'; 22];
                put_fixed_decimal(&mut buffer, 1, value, digits);
                let written = std::str::from_utf8(&buffer[1..1 + digits]).expect("digits are ASCII");
                let expected = format!("{value:0digits$}");
                // Only the low `digits` digits are written.
                assert_eq!(written, &expected[expected.len() - digits..], "{value} {digits}");
                assert_eq!(buffer[0], b'x', "{value} {digits}");
                assert!(buffer[1 + digits..].iter().all(|&byte| byte == b'x'), "{value} {digits}");
            }
        }
    }

    #[test]
    fn zero_padded_hex_matches_format() {
        for value in [0u32, 0x1, 0xab, 0x0800, 0x1234, 0xfffff, 0x00ff_ffff, 0x0100_0000, u32::MAX] {
            for min_digits in [0, 1, 2, 4, 6, 8, 10] {
                let expected = format!("{value:0min_digits$x}");
                assert_eq!(text(|out| write_hex_zero_padded(out, value, min_digits)), expected, "{value} {min_digits}");
            }
        }
    }

    #[test]
    fn ipv4_matches_display_for_every_octet() {
        for value in 0..=255u8 {
            let octets = [value, 255 - value, value / 10, value % 100];
            let expected = Ipv4Addr::from(octets).to_string();
            assert_eq!(text(|out| write_ipv4(out, octets)), expected);
        }
        assert_eq!(text(|out| write_ipv4(out, [0, 0, 0, 0])), "0.0.0.0");
        assert_eq!(text(|out| write_ipv4(out, [255, 255, 255, 255])), "255.255.255.255");
        assert_eq!(text(|out| write_ip(out, IpAddr::from([10, 1, 2, 3]))), "10.1.2.3");
    }

    #[test]
    fn mac_matches_hex_format() {
        let macs = [[0u8; 6], [0xff; 6], [0x00, 0x13, 0x7f, 0x4f, 0x8e, 0xf2], [0x0a, 0xb0, 0x01, 0x10, 0xc3, 0x3c]];
        for mac in macs {
            let expected =
                format!("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
            assert_eq!(text(|out| write_mac(out, &mac)), expected);
        }
    }

    #[test]
    fn epoch_us_truncates_to_microseconds() {
        assert_eq!(text(|out| write_epoch_us(out, 0)), "0.000000");
        assert_eq!(text(|out| write_epoch_us(out, 1_300_475_167_096_535_999)), "1300475167.096535");
        assert_eq!(text(|out| write_epoch_us(out, 1_000_000_999)), "1.000000");
        assert_eq!(text(|out| write_epoch_us(out, 999_999_999)), "0.999999");
        assert_eq!(text(|out| write_epoch_us(out, u64::MAX)), "18446744073.709551");
    }
}
