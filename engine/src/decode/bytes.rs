//! Big-endian field reads shared by the header views.
//!
//! Each view checks in its constructor that the bytes it reads are present,
//! and a `const` assertion in each module proves that its fixed fields lie
//! inside that checked length (see [`ranges_fit`]). The reads below still go
//! through `slice::get`, so no read can panic: a range that is out of bounds
//! or of the wrong width reads as zero, and the tests of each module would
//! show it.

use std::ops::Range;

/// Returns true when every range in `ranges` ends at or before `len`, for the
/// `const` assertions that a view's fields fit its checked length.
pub(crate) const fn ranges_fit(ranges: &[Range<usize>], len: usize) -> bool {
    let mut index = 0;
    while index < ranges.len() {
        if ranges[index].end > len {
            return false;
        }
        index += 1;
    }
    true
}

/// Returns true when every offset in `offsets` is below `len`, for the
/// `const` assertions that a view's 1-byte fields fit its checked length.
pub(crate) const fn offsets_fit(offsets: &[usize], len: usize) -> bool {
    let mut index = 0;
    while index < offsets.len() {
        if offsets[index] >= len {
            return false;
        }
        index += 1;
    }
    true
}

/// Reads the byte at `index`.
pub(crate) fn u8_at(data: &[u8], index: usize) -> u8 {
    data.get(index).copied().unwrap_or(0)
}

/// Reads the big-endian `u16` in `range`, which must be 2 bytes wide.
pub(crate) fn u16_at(data: &[u8], range: Range<usize>) -> u16 {
    match data.get(range) {
        Some(&[b0, b1]) => u16::from_be_bytes([b0, b1]),
        _ => 0,
    }
}

/// Reads the big-endian `u32` in `range`, which must be 4 bytes wide.
pub(crate) fn u32_at(data: &[u8], range: Range<usize>) -> u32 {
    match data.get(range) {
        Some(&[b0, b1, b2, b3]) => u32::from_be_bytes([b0, b1, b2, b3]),
        _ => 0,
    }
}

/// Copies the `N` bytes in `range`, which must be `N` bytes wide.
pub(crate) fn array_at<const N: usize>(data: &[u8], range: Range<usize>) -> [u8; N] {
    data.get(range)
        .and_then(|bytes| <[u8; N]>::try_from(bytes).ok())
        .unwrap_or([0; N])
}

/// Returns the bytes from `start` to the end of `data`, or an empty slice
/// when `start` is past the end.
pub(crate) fn tail(data: &[u8], start: usize) -> &[u8] {
    data.get(start..).unwrap_or(&[])
}

/// Returns the bytes in `start..end`, cut to what `data` holds.
#[inline]
pub(crate) fn clamped(data: &[u8], start: usize, end: usize) -> &[u8] {
    let end = end.min(data.len());
    data.get(start..end).unwrap_or(&[])
}

/// Returns `Truncated` when `data` is shorter than the `needed_bytes` a
/// header needs from its first byte.
pub(crate) fn check_len(data: &[u8], needed_bytes: usize) -> Result<(), super::DecodeError> {
    if data.len() < needed_bytes {
        return Err(super::DecodeError::Truncated {
            needed_bytes,
            available_bytes: data.len(),
        });
    }
    Ok(())
}

/// Checks that `parse` accepts `header` and rejects every shorter prefix
/// of it with `Truncated`, naming the captured length.
#[cfg(test)]
pub(crate) fn assert_every_cut_truncated(
    header: &[u8],
    parse: impl Fn(&[u8]) -> Result<(), super::DecodeError>,
) {
    assert_eq!(parse(header), Ok(()), "the whole header parses");
    for len in 0..header.len() {
        match parse(&header[..len]) {
            Err(super::DecodeError::Truncated { needed_bytes, available_bytes }) => {
                assert_eq!(available_bytes, len, "cut at {len}");
                assert!(needed_bytes > len, "cut at {len}");
            }
            other => panic!("cut at {len}: expected Truncated, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_network_order() {
        let data = [0x12, 0x34, 0x56, 0x78, 0x9a];

        assert_eq!(u8_at(&data, 4), 0x9a);
        assert_eq!(u16_at(&data, 1..3), 0x3456);
        assert_eq!(u32_at(&data, 0..4), 0x1234_5678);
        assert_eq!(array_at::<3>(&data, 2..5), [0x56, 0x78, 0x9a]);
    }

    #[test]
    fn out_of_bounds_reads_zero() {
        let data = [0xff, 0xff];

        assert_eq!(u8_at(&data, 2), 0);
        assert_eq!(u16_at(&data, 1..3), 0);
        assert_eq!(u32_at(&data, 0..4), 0);
        assert_eq!(array_at::<2>(&data, 1..3), [0, 0]);
        assert_eq!(tail(&data, 3), &[] as &[u8]);
        assert_eq!(clamped(&data, 1, 9), &[0xff]);
        assert_eq!(clamped(&data, 3, 9), &[] as &[u8]);
    }

    #[test]
    fn wrong_width_reads_zero() {
        let data = [0xff; 8];

        assert_eq!(u16_at(&data, 0..3), 0);
        assert_eq!(u32_at(&data, 0..2), 0);
    }

    #[test]
    fn fit_checks() {
        assert!(ranges_fit(&[0..2, 2..4], 4));
        assert!(!ranges_fit(&[0..2, 2..5], 4));
        assert!(offsets_fit(&[0, 3], 4));
        assert!(!offsets_fit(&[4], 4));
    }

    #[test]
    fn check_len_reports_both_sizes() {
        assert_eq!(check_len(&[0; 3], 3), Ok(()));
        assert_eq!(
            check_len(&[0; 3], 4),
            Err(crate::decode::DecodeError::Truncated {
                needed_bytes: 4,
                available_bytes: 3
            })
        );
    }
}
