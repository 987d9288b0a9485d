//! IPv6 addresses in the RFC 5952 text form, written without `core::fmt`.

use std::net::Ipv6Addr;

use crate::fast_text::{push_ascii, write_ipv4, HEX_DIGITS};

/// Appends `address` in the RFC 5952 form, as `Ipv6Addr`'s `Display`
/// writes it. Groups are lower-case hex without leading zeros, and the
/// longest run of two or more zero groups (the first of equal runs) becomes
/// `::`. An IPv4-mapped address (`::ffff:0:0/96`) ends in dotted decimal.
pub fn write_ipv6(out: &mut String, address: Ipv6Addr) {
    if let Some(v4) = address.to_ipv4_mapped() {
        out.push_str("::ffff:");
        write_ipv4(out, v4.octets());
        return;
    }

    let groups = address.segments();
    // Eight groups of four digits and seven colons are the longest form.
    let mut buffer = [0u8; 39];
    let (zeros_start, zeros_len) = longest_zero_run(&groups);
    let end = if zeros_len > 1 {
        let mut end = put_groups(&mut buffer, 0, &groups[..zeros_start]);
        buffer[end] = b':';
        buffer[end + 1] = b':';
        end += 2;
        put_groups(&mut buffer, end, &groups[zeros_start + zeros_len..])
    } else {
        put_groups(&mut buffer, 0, &groups)
    };
    push_ascii(out, &buffer[..end]);
}

/// Returns the start and length of the first longest run of zero groups,
/// `(0, 0)` when no group is zero.
fn longest_zero_run(groups: &[u16; 8]) -> (usize, usize) {
    let (mut best_start, mut best_len) = (0, 0);
    let (mut run_start, mut run_len) = (0, 0);
    for (index, &group) in groups.iter().enumerate() {
        if group != 0 {
            run_len = 0;
            continue;
        }
        if run_len == 0 {
            run_start = index;
        }
        run_len += 1;
        if run_len > best_len {
            (best_start, best_len) = (run_start, run_len);
        }
    }
    (best_start, best_len)
}

/// Writes `groups` in hex separated by colons at `buffer[at..]` and returns
/// the index after the last digit.
fn put_groups(buffer: &mut [u8], at: usize, groups: &[u16]) -> usize {
    let mut end = at;
    for (index, &group) in groups.iter().enumerate() {
        if index > 0 {
            buffer[end] = b':';
            end += 1;
        }
        end = put_hex_group(buffer, end, group);
    }
    end
}

/// Writes one group in hex without leading zeros at `buffer[at..]` and
/// returns the index after its last digit.
fn put_hex_group(buffer: &mut [u8], at: usize, group: u16) -> usize {
    let digits = (4 - group.leading_zeros() as usize / 4).max(1);
    for index in 0..digits {
        let shift = 4 * (digits - 1 - index);
        buffer[at + index] = HEX_DIGITS[usize::from((group >> shift) & 0xf)];
    }
    at + digits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(address: Ipv6Addr) -> String {
        let mut out = String::from("prefix,");
        write_ipv6(&mut out, address);
        out.strip_prefix("prefix,").expect("the writer only appends").to_string()
    }

    #[test]
    fn edge_cases_match_rfc_5952_and_std() {
        let cases: [([u16; 8], &str); 22] = [
            ([0, 0, 0, 0, 0, 0, 0, 0], "::"),
            ([0, 0, 0, 0, 0, 0, 0, 1], "::1"),
            ([1, 0, 0, 0, 0, 0, 0, 0], "1::"),
            ([1, 0, 0, 0, 0, 0, 0, 1], "1::1"),
            // IPv4-mapped addresses keep the dotted quad.
            ([0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203], "::ffff:10.1.2.3"),
            ([0, 0, 0, 0, 0, 0xffff, 0, 0], "::ffff:0.0.0.0"),
            ([0, 0, 0, 0, 0, 0xffff, 0xffff, 0xffff], "::ffff:255.255.255.255"),
            // IPv4-compatible, SIIT and NAT64 addresses are plain hex.
            ([0, 0, 0, 0, 0, 0, 0x0a01, 0x0203], "::a01:203"),
            ([0, 0, 0, 0, 0xffff, 0, 0x0a01, 0x0203], "::ffff:0:a01:203"),
            ([0x64, 0xff9b, 0, 0, 0, 0, 0x0a01, 0x0203], "64:ff9b::a01:203"),
            ([0, 0, 0, 1, 2, 3, 4, 5], "::1:2:3:4:5"),
            ([0x2001, 0xdb8, 1, 0, 0, 0, 0, 0], "2001:db8:1::"),
            ([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], "2001:db8::1:0:0:1"),
            ([0x2001, 0xdb8, 0, 0, 0, 1, 0, 0], "2001:db8::1:0:0"),
            ([0x2001, 0, 0, 1, 0, 0, 0, 1], "2001:0:0:1::1"),
            ([1, 0, 0, 2, 0, 0, 0, 0], "1:0:0:2::"),
            // A single zero group is not shortened.
            ([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], "2001:db8:0:1:1:1:1:1"),
            ([0, 1, 0, 1, 0, 1, 0, 1], "0:1:0:1:0:1:0:1"),
            ([0x2001, 0x0db8, 0x00a0, 0x0001, 0x0010, 0x0100, 0x1000, 0xabcd], "2001:db8:a0:1:10:100:1000:abcd"),
            ([0xfe80, 0, 0, 0, 0x0217, 0xf2ff, 0xfed7, 0xcf65], "fe80::217:f2ff:fed7:cf65"),
            (
                [0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff],
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            ),
            ([0xff02, 0, 0, 0, 0, 1, 0xff00, 0], "ff02::1:ff00:0"),
        ];
        for (groups, expected) in cases {
            let address = Ipv6Addr::from(groups);
            assert_eq!(text(address), expected, "{groups:x?}");
            assert_eq!(address.to_string(), expected, "std disagrees on {groups:x?}");
        }
    }

    /// SplitMix64, so that the sweep is the same on every run.
    struct SplitMix64(u64);

    impl SplitMix64 {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, bound: u64) -> usize {
            (self.next() % bound) as usize
        }
    }

    /// Returns a group of 1 to 4 hex digits, so every width occurs.
    fn random_group(random: &mut SplitMix64) -> u16 {
        let digits = 1 + random.below(4) as u32;
        (random.next() as u16) >> (16 - 4 * digits)
    }

    #[test]
    fn random_sweep_matches_std() {
        let mut random = SplitMix64(0x6e61_7564_6974_6476);
        for _ in 0..200_000 {
            let mut groups = [0u16; 8];
            for group in &mut groups {
                *group = random_group(&mut random);
            }
            // Up to three zero runs of random length and place, which may
            // overlap, touch the ends or tie.
            for _ in 0..random.below(4) {
                let start = random.below(8);
                let len = 1 + random.below(8 - start as u64);
                groups[start..start + len].fill(0);
            }
            // Some addresses in the IPv4-mapped and IPv4-compatible ranges.
            match random.below(16) {
                0 => groups[..6].copy_from_slice(&[0, 0, 0, 0, 0, 0xffff]),
                1 => groups[..6].fill(0),
                _ => {}
            }
            let address = Ipv6Addr::from(groups);
            assert_eq!(text(address), address.to_string(), "{groups:x?}");
        }
    }
}
