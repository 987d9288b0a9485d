//! Byte order of a capture file and bounds-checked integer reads.

use std::fmt;

/// Byte order in which a capture file's writer stored its integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ByteOrder {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

impl ByteOrder {
    /// Reads a `u16` at `at`, or returns `None` when `bytes` is too short.
    pub(crate) fn read_u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        let raw: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            ByteOrder::Little => u16::from_le_bytes(raw),
            ByteOrder::Big => u16::from_be_bytes(raw),
        })
    }

    /// Reads a `u32` at `at`, or returns `None` when `bytes` is too short.
    pub(crate) fn read_u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            ByteOrder::Little => u32::from_le_bytes(raw),
            ByteOrder::Big => u32::from_be_bytes(raw),
        })
    }

    /// Reads an `i64` at `at`, or returns `None` when `bytes` is too short.
    pub(crate) fn read_i64(self, bytes: &[u8], at: usize) -> Option<i64> {
        let raw: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(match self {
            ByteOrder::Little => i64::from_le_bytes(raw),
            ByteOrder::Big => i64::from_be_bytes(raw),
        })
    }
}

impl fmt::Display for ByteOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ByteOrder::Little => "little-endian",
            ByteOrder::Big => "big-endian",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ByteOrder;

    #[test]
    fn reads_both_orders() {
        let bytes = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
        assert_eq!(ByteOrder::Little.read_u16(&bytes, 1), Some(0x0302));
        assert_eq!(ByteOrder::Big.read_u16(&bytes, 1), Some(0x0203));
        assert_eq!(ByteOrder::Little.read_u32(&bytes, 0), Some(0x0403_0201));
        assert_eq!(ByteOrder::Big.read_u32(&bytes, 0), Some(0x0102_0304));
        assert_eq!(
            ByteOrder::Little.read_i64(&bytes, 0),
            Some(0x0807_0605_0403_0201)
        );
        assert_eq!(
            ByteOrder::Big.read_i64(&bytes, 0),
            Some(0x0102_0304_0506_0708)
        );
    }

    #[test]
    fn short_input_reads_none() {
        let bytes = [0u8; 5];
        assert_eq!(ByteOrder::Little.read_u32(&bytes, 2), None);
        assert_eq!(ByteOrder::Big.read_u16(&bytes, 4), None);
        assert_eq!(ByteOrder::Big.read_i64(&bytes, 0), None);
        assert_eq!(ByteOrder::Little.read_u32(&bytes, usize::MAX), None);
    }
}
