//! pcapng interfaces: what an interface description block states about the
//! packets captured on it, and the conversion of their timestamps.

use naudit_engine::LinkType;

use crate::endian::ByteOrder;

/// Option code of the end of an option list.
const OPT_END_OF_OPTIONS: u16 = 0;
/// Option code of `if_tsresol`, the timestamp unit.
const OPT_IF_TSRESOL: u16 = 9;
/// Option code of `if_fcslen`, the FCS length.
const OPT_IF_FCSLEN: u16 = 13;
/// Option code of `if_tsoffset`, seconds to add to every timestamp.
const OPT_IF_TSOFFSET: u16 = 14;

/// Offset of the first option in an interface description block.
const OPTIONS_START: usize = 16;

/// One interface of a pcapng section.
#[derive(Clone, Debug)]
pub(crate) struct Interface {
    pub link_type: LinkType,
    /// Snapshot length; 0 means no limit.
    pub snaplen: u32,
    /// The `if_fcslen` value as written. The pcapng draft defines it in bits,
    /// but writers have disagreed on the unit (see [`Interface::fcs_len_bytes`]).
    pub if_fcslen: Option<u8>,
    clock: TimestampClock,
}

impl Interface {
    /// FCS bytes at the end of this interface's packets, which the reader
    /// cuts from their data and wire length. An `if_fcslen` of 16 or 32 is
    /// read in bits, as the pcapng draft defines it, and 2 or 4 in bytes, as
    /// some writers put it. Other values (0 among them) mean no FCS.
    pub(crate) fn fcs_len_bytes(&self) -> u32 {
        match self.if_fcslen {
            Some(16 | 2) => 2,
            Some(32 | 4) => 4,
            _ => 0,
        }
    }

    /// Parses an interface description block, given whole with its 8-byte
    /// block header and 4-byte trailer. Returns the reason when an option is
    /// malformed.
    pub(crate) fn parse(order: ByteOrder, block: &[u8]) -> Result<Interface, String> {
        let too_short = || {
            format!(
                "interface description block of {} bytes is too short",
                block.len()
            )
        };
        let link_type = LinkType(order.read_u16(block, 8).ok_or_else(too_short)?).normalized();
        let snaplen = order.read_u32(block, 12).ok_or_else(too_short)?;

        let mut resolution = Resolution::DEFAULT;
        let mut offset_seconds = 0i64;
        let mut if_fcslen = None;
        let options_end = block.len().saturating_sub(4);
        let mut at = OPTIONS_START;
        while at + 4 <= options_end {
            let code = order.read_u16(block, at).ok_or_else(too_short)?;
            let value_len = usize::from(order.read_u16(block, at + 2).ok_or_else(too_short)?);
            if code == OPT_END_OF_OPTIONS {
                break;
            }
            let value_start = at + 4;
            let value_end = value_start + value_len;
            if value_end > options_end {
                return Err(format!(
                    "option {code} of the interface description block has a length of {value_len} bytes, which runs past the end of the block"
                ));
            }
            let value = &block[value_start..value_end];
            match code {
                OPT_IF_TSRESOL => {
                    let &[byte] = value else {
                        return Err(format!(
                            "if_tsresol option has a length of {value_len} bytes instead of 1"
                        ));
                    };
                    resolution = Resolution::from_option(byte);
                }
                OPT_IF_TSOFFSET => {
                    offset_seconds = match order.read_i64(value, 0) {
                        Some(seconds) if value_len == 8 => seconds,
                        _ => {
                            return Err(format!(
                                "if_tsoffset option has a length of {value_len} bytes instead of 8"
                            ))
                        }
                    };
                }
                OPT_IF_FCSLEN => {
                    let &[byte] = value else {
                        return Err(format!(
                            "if_fcslen option has a length of {value_len} bytes instead of 1"
                        ));
                    };
                    if_fcslen = Some(byte);
                }
                _ => {}
            }
            // Option values are padded to a multiple of 4 bytes.
            at = value_start + value_len.next_multiple_of(4);
        }

        Ok(Interface {
            link_type,
            snaplen,
            if_fcslen,
            clock: TimestampClock::new(resolution, offset_seconds),
        })
    }

    /// Converts a timestamp in this interface's units to nanoseconds since
    /// 1970, or returns `None` when the result is before 1970 or after the
    /// year 2554, which 64-bit nanoseconds cannot hold.
    pub(crate) fn timestamp_ns(&self, units: u64) -> Option<u64> {
        self.clock.to_ns(units)
    }

    /// Logs what the interface description block states.
    pub(crate) fn log_described(&self, input: &str, section: u64, interface_id: usize) {
        tracing::debug!(
            input,
            section,
            interface_id,
            link_type = self.link_type.0,
            snaplen = self.snaplen,
            timestamp_unit = %self.clock.resolution,
            timestamp_offset_seconds = self.clock.offset_seconds,
            if_fcslen = ?self.if_fcslen,
            "pcapng interface described"
        );
    }
}

/// Timestamp unit of an interface, from the `if_tsresol` option byte: with
/// the top bit clear the unit is 10^-n seconds, with it set 2^-n seconds,
/// where n is the low 7 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resolution {
    NegativePowerOfTen(u8),
    NegativePowerOfTwo(u8),
}

impl Resolution {
    /// Microseconds, the unit when the option is absent.
    const DEFAULT: Resolution = Resolution::NegativePowerOfTen(6);

    fn from_option(byte: u8) -> Resolution {
        let exponent = byte & 0x7f;
        if byte & 0x80 == 0 {
            Resolution::NegativePowerOfTen(exponent)
        } else {
            Resolution::NegativePowerOfTwo(exponent)
        }
    }
}

impl std::fmt::Display for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resolution::NegativePowerOfTen(n) => write!(f, "10^-{n} s"),
            Resolution::NegativePowerOfTwo(n) => write!(f, "2^-{n} s"),
        }
    }
}

/// How to turn a timestamp in interface units into nanoseconds.
#[derive(Clone, Copy, Debug)]
enum Scale {
    /// Units of 10^-n seconds with n <= 9: multiply by 10^(9-n).
    Multiply(u64),
    /// Units of 10^-n seconds with n > 9: divide by 10^(n-9).
    Divide(u128),
    /// Units of 2^-n seconds: multiply by 10^9, then shift right by n.
    ShiftRight(u32),
    /// Units so small that every 64-bit timestamp is below 1 ns.
    Zero,
}

#[derive(Clone, Debug)]
struct TimestampClock {
    resolution: Resolution,
    scale: Scale,
    offset_seconds: i64,
}

impl TimestampClock {
    fn new(resolution: Resolution, offset_seconds: i64) -> TimestampClock {
        let scale = match resolution {
            Resolution::NegativePowerOfTen(n) if n <= 9 => {
                Scale::Multiply(10u64.pow(9 - u32::from(n)))
            }
            // 10^39 does not fit a u128, and any u64 divided by 10^20 or more is 0.
            Resolution::NegativePowerOfTen(n) => match 10u128.checked_pow(u32::from(n) - 9) {
                Some(divisor) => Scale::Divide(divisor),
                None => Scale::Zero,
            },
            Resolution::NegativePowerOfTwo(n) => Scale::ShiftRight(u32::from(n)),
        };
        TimestampClock {
            resolution,
            scale,
            offset_seconds,
        }
    }

    fn to_ns(&self, units: u64) -> Option<u64> {
        // A u64 times 10^9 is below 2^94, so no step below overflows a u128.
        let since_offset: u128 = match self.scale {
            Scale::Multiply(factor) => u128::from(units) * u128::from(factor),
            Scale::Divide(divisor) => u128::from(units) / divisor,
            Scale::ShiftRight(shift) => (u128::from(units) * 1_000_000_000) >> shift,
            Scale::Zero => 0,
        };
        let total =
            i128::try_from(since_offset).ok()? + i128::from(self.offset_seconds) * 1_000_000_000;
        u64::try_from(total).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(option_byte: u8, offset_seconds: i64) -> TimestampClock {
        TimestampClock::new(Resolution::from_option(option_byte), offset_seconds)
    }

    /// Builds a big-endian interface description block with the given options.
    fn block(link_type: u16, snaplen: u32, options: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = link_type.to_be_bytes().to_vec();
        body.extend(0u16.to_be_bytes());
        body.extend(snaplen.to_be_bytes());
        for (code, value) in options {
            body.extend(code.to_be_bytes());
            body.extend((value.len() as u16).to_be_bytes());
            body.extend(*value);
            body.resize(body.len().next_multiple_of(4), 0);
        }
        body.extend([0; 4]);
        let total = (body.len() + 12) as u32;
        let mut out = 1u32.to_be_bytes().to_vec();
        out.extend(total.to_be_bytes());
        out.extend(body);
        out.extend(total.to_be_bytes());
        out
    }

    #[test]
    fn options_are_read() {
        let offset = 3_600i64.to_be_bytes();
        let bytes = block(
            276,
            9_000,
            &[
                (2, b"eth0"),
                (OPT_IF_TSRESOL, &[0x80 | 16]),
                (OPT_IF_TSOFFSET, &offset),
                (OPT_IF_FCSLEN, &[32]),
            ],
        );
        let interface = Interface::parse(ByteOrder::Big, &bytes).expect("valid block");
        assert_eq!(interface.link_type, LinkType::LINUX_SLL2);
        assert_eq!(interface.snaplen, 9_000);
        assert_eq!(interface.if_fcslen, Some(32));
        assert_eq!(
            interface.clock.resolution,
            Resolution::NegativePowerOfTwo(16)
        );
        // 65536 units of 2^-16 s are one second, plus the one-hour offset.
        assert_eq!(interface.timestamp_ns(65_536), Some(3_601_000_000_000));
    }

    #[test]
    fn missing_options_mean_microseconds() {
        let interface = Interface::parse(ByteOrder::Big, &block(1, 0, &[])).expect("valid block");
        assert_eq!(interface.clock.resolution, Resolution::DEFAULT);
        assert_eq!(interface.timestamp_ns(1_500_000), Some(1_500_000_000));
        assert_eq!(interface.if_fcslen, None);
    }

    #[test]
    fn offset_option_of_wrong_length_is_rejected() {
        let bytes = block(1, 0, &[(OPT_IF_TSOFFSET, &[0; 4])]);
        let reason = Interface::parse(ByteOrder::Big, &bytes).expect_err("invalid option");
        assert!(
            reason.contains("if_tsoffset option has a length of 4 bytes instead of 8"),
            "{reason}"
        );
    }

    #[test]
    fn decimal_units_convert() {
        assert_eq!(
            clock(6, 0).to_ns(1_500_000_000_123_456),
            Some(1_500_000_000_123_456_000)
        );
        assert_eq!(
            clock(9, 0).to_ns(1_500_000_000_123_456_789),
            Some(1_500_000_000_123_456_789)
        );
        assert_eq!(clock(0, 0).to_ns(7), Some(7_000_000_000));
        assert_eq!(clock(3, 0).to_ns(1_234), Some(1_234_000_000));
        // Picoseconds: 10^-12 s units lose their last three digits.
        assert_eq!(clock(12, 0).to_ns(1_000_000_123_456), Some(1_000_000_123));
        assert_eq!(clock(127, 0).to_ns(u64::MAX), Some(0));
    }

    #[test]
    fn binary_units_convert() {
        // 2^-10 s units: 1024 units are one second, 512 half of one.
        assert_eq!(clock(0x80 | 10, 0).to_ns(1024), Some(1_000_000_000));
        assert_eq!(clock(0x80 | 10, 0).to_ns(512), Some(500_000_000));
        // 2^-30 s units: 3 units are 2.79 ns, rounded down to 2.
        assert_eq!(clock(0x80 | 30, 0).to_ns(3), Some(2));
        // 2^-32 s units with the seconds in the upper 32 bits.
        assert_eq!(
            clock(0x80 | 32, 0).to_ns((1_600_000_000u64 << 32) | (1 << 31)),
            Some(1_600_000_000_500_000_000)
        );
        assert_eq!(clock(0x80, 0).to_ns(5), Some(5_000_000_000));
    }

    #[test]
    fn offset_adds_seconds() {
        assert_eq!(clock(6, 1_000).to_ns(2_000_000), Some(1_002_000_000_000));
        assert_eq!(clock(6, -1).to_ns(3_000_000), Some(2_000_000_000));
    }

    #[test]
    fn out_of_range_timestamps_are_none() {
        assert_eq!(clock(6, -10).to_ns(1_000_000), None);
        assert_eq!(clock(0, 0).to_ns(u64::MAX), None);
        assert_eq!(clock(9, 1).to_ns(u64::MAX), None);
    }
}
