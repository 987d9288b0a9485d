//! TCP headers (RFC 9293) and their options.
//!
//! The constructor needs the 20-byte fixed header and a data offset of at
//! least 5. It accepts a capture that ends inside the options, because
//! snapshot lengths often cut a SYN's options. The option accessors then
//! return the captured part, and [`TcpHeader::is_header_cut`] returns true.

use super::bytes::{check_len, clamped, offsets_fit, ranges_fit, u16_at, u32_at, u8_at};
use super::{tcp_option, DecodeError, TcpInfo};

mod field {
    use std::ops::Range;

    pub const SOURCE_PORT: Range<usize> = 0..2;
    pub const DESTINATION_PORT: Range<usize> = 2..4;
    pub const SEQUENCE: Range<usize> = 4..8;
    pub const ACKNOWLEDGMENT: Range<usize> = 8..12;
    pub const DATA_OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT_POINTER: Range<usize> = 18..20;
}

/// Length of the header without options, in bytes.
pub const MIN_HEADER_LEN: usize = field::URGENT_POINTER.end;

const _: () = assert!(ranges_fit(
    &[
        field::SOURCE_PORT,
        field::DESTINATION_PORT,
        field::SEQUENCE,
        field::ACKNOWLEDGMENT,
        field::WINDOW,
        field::CHECKSUM,
        field::URGENT_POINTER,
    ],
    MIN_HEADER_LEN
));
const _: () = assert!(offsets_fit(
    &[field::DATA_OFFSET, field::FLAGS],
    MIN_HEADER_LEN
));

/// TCP option kinds the decoder reads.
pub mod option_kind {
    /// End of the option list.
    pub const END: u8 = 0;
    /// No operation, a 1-byte pad.
    pub const NOP: u8 = 1;
    /// Maximum segment size.
    pub const MSS: u8 = 2;
    /// Window scale (RFC 7323).
    pub const WINDOW_SCALE: u8 = 3;
    /// SACK permitted (RFC 2018).
    pub const SACK_PERMITTED: u8 = 4;
    /// SACK blocks (RFC 2018).
    pub const SACK: u8 = 5;
    /// Timestamps (RFC 7323).
    pub const TIMESTAMP: u8 = 8;
}

/// One TCP option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// Maximum segment size in bytes.
    Mss(u16),
    /// Window scale shift count, as sent (RFC 7323 caps its use at 14).
    WindowScale(u8),
    /// SACK permitted.
    SackPermitted,
    /// SACK blocks: pairs of 32-bit left and right edges.
    Sack(&'a [u8]),
    /// Timestamp value and echo reply.
    Timestamps {
        /// Sender's timestamp value.
        value: u32,
        /// Timestamp echoed from the peer.
        echo_reply: u32,
    },
    /// An option of another kind, or a known kind with an unexpected length.
    Other {
        /// Option kind.
        kind: u8,
        /// Option data after the kind and length bytes.
        data: &'a [u8],
    },
}

impl TcpOption<'_> {
    /// Returns the [`tcp_option`] flag of the option, or 0 for other options.
    pub fn flag(&self) -> u16 {
        match self {
            TcpOption::Mss(_) => tcp_option::MSS,
            TcpOption::WindowScale(_) => tcp_option::WINDOW_SCALE,
            TcpOption::SackPermitted => tcp_option::SACK_PERMITTED,
            TcpOption::Sack(_) => tcp_option::SACK,
            TcpOption::Timestamps { .. } => tcp_option::TIMESTAMP,
            TcpOption::Other { .. } => 0,
        }
    }
}

/// Iterator over the options of a TCP header.
///
/// It skips no-operation bytes and ends at an end-of-list option, and at an
/// option whose length byte is missing, below 2 or past the end of the
/// captured options. Each step consumes at least one byte.
#[derive(Clone, Debug)]
pub struct TcpOptions<'a> {
    /// Option bytes not walked yet.
    rest: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    /// Starts a walk over the option bytes `options`.
    pub fn new(options: &'a [u8]) -> Self {
        TcpOptions { rest: options }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = TcpOption<'a>;

    fn next(&mut self) -> Option<TcpOption<'a>> {
        loop {
            let kind = *self.rest.first()?;
            match kind {
                option_kind::END => {
                    self.rest = &[];
                    return None;
                }
                option_kind::NOP => {
                    self.rest = self.rest.get(1..).unwrap_or(&[]);
                    continue;
                }
                _ => {}
            }

            let len = usize::from(*self.rest.get(1)?);
            let option = match self.rest.get(..len) {
                Some(option) if len >= 2 => option,
                _ => {
                    self.rest = &[];
                    return None;
                }
            };
            self.rest = self.rest.get(len..).unwrap_or(&[]);
            return Some(parse_option(kind, clamped(option, 2, len)));
        }
    }
}

/// Reads the option of `kind` whose data (after kind and length) is `data`.
fn parse_option(kind: u8, data: &[u8]) -> TcpOption<'_> {
    match (kind, data.len()) {
        (option_kind::MSS, 2) => TcpOption::Mss(u16_at(data, 0..2)),
        (option_kind::WINDOW_SCALE, 1) => TcpOption::WindowScale(u8_at(data, 0)),
        (option_kind::SACK_PERMITTED, 0) => TcpOption::SackPermitted,
        (option_kind::SACK, len) if len > 0 && len % 8 == 0 => TcpOption::Sack(data),
        (option_kind::TIMESTAMP, 8) => TcpOption::Timestamps {
            value: u32_at(data, 0..4),
            echo_reply: u32_at(data, 4..8),
        },
        _ => TcpOption::Other { kind, data },
    }
}

/// A borrowed TCP header.
#[derive(Clone, Copy, Debug)]
pub struct TcpHeader<'a> {
    /// The segment from its first byte, at least [`MIN_HEADER_LEN`] bytes
    /// long, with a data offset of 5 or more.
    data: &'a [u8],
}

impl<'a> TcpHeader<'a> {
    /// Checks the fixed header of the segment in `data`.
    ///
    /// Returns `Truncated` when fewer than 20 bytes are captured and
    /// `InvalidHeaderLength` when the data offset is below 5. Options cut by
    /// the capture are not an error here.
    pub fn new(data: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(data, MIN_HEADER_LEN)?;
        let header = TcpHeader { data };
        if header.header_len() < MIN_HEADER_LEN {
            return Err(DecodeError::InvalidHeaderLength(header.header_len()));
        }
        Ok(header)
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        u16_at(self.data, field::SOURCE_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        u16_at(self.data, field::DESTINATION_PORT)
    }

    /// Sequence number.
    pub fn seq(&self) -> u32 {
        u32_at(self.data, field::SEQUENCE)
    }

    /// Acknowledgment number.
    pub fn ack(&self) -> u32 {
        u32_at(self.data, field::ACKNOWLEDGMENT)
    }

    /// Header length in bytes, options included (data offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(u8_at(self.data, field::DATA_OFFSET) >> 4) * 4
    }

    /// Returns the eight flag bits CWR to FIN, as [`super::tcp_flag`] bits.
    pub fn flags(&self) -> u8 {
        u8_at(self.data, field::FLAGS)
    }

    /// Advertised window in bytes, before window scaling.
    pub fn window(&self) -> u16 {
        u16_at(self.data, field::WINDOW)
    }

    /// Checksum, as sent (not verified).
    pub fn checksum(&self) -> u16 {
        u16_at(self.data, field::CHECKSUM)
    }

    /// Urgent pointer, an offset in bytes from the sequence number.
    pub fn urgent_pointer(&self) -> u16 {
        u16_at(self.data, field::URGENT_POINTER)
    }

    /// Returns true when the capture ends before the options do.
    pub fn is_header_cut(&self) -> bool {
        self.data.len() < self.header_len()
    }

    /// Returns the option bytes as captured.
    pub fn options_bytes(&self) -> &'a [u8] {
        clamped(self.data, MIN_HEADER_LEN, self.header_len())
    }

    /// Returns an iterator over the options, in order. An option cut by the
    /// capture is not returned.
    pub fn options(&self) -> TcpOptions<'a> {
        TcpOptions::new(self.options_bytes())
    }

    /// Builds the summary of the header.
    #[inline]
    pub fn info(&self) -> TcpInfo {
        let mut options = 0;
        let mut window_scale = None;
        for option in self.options() {
            options |= option.flag();
            if let TcpOption::WindowScale(shift) = option {
                window_scale = Some(shift);
            }
        }
        TcpInfo {
            src_port: self.src_port(),
            dst_port: self.dst_port(),
            seq: self.seq(),
            ack: self.ack(),
            flags: self.flags(),
            window: self.window(),
            // At most 60: the data offset has 4 bits.
            header_len_bytes: self.header_len() as u8,
            options,
            window_scale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tcp_flag;
    use crate::decode::test_frames::{
        BAD_TCP_HEADER_1, SNAPLEN68_SYN_1, TCP_RST_2, TCP_SACK_29, TCP_SYN_1, TCP_SYN_OPTIONS_1,
    };

    /// Bytes before the TCP header in an Ethernet frame with a 20-byte IPv4
    /// header.
    const TCP_OFFSET: usize = 34;

    #[test]
    fn syn_without_options() {
        let header = TcpHeader::new(&TCP_SYN_1[TCP_OFFSET..]).unwrap();

        assert_eq!(header.src_port(), 13131);
        assert_eq!(header.dst_port(), 31313);
        assert_eq!(header.seq(), 0);
        assert_eq!(header.ack(), 0);
        assert_eq!(header.header_len(), 20);
        assert_eq!(header.flags(), tcp_flag::SYN);
        assert_eq!(header.window(), 8192);
        assert_eq!(header.checksum(), 0xde41);
        assert_eq!(header.urgent_pointer(), 0);
        assert_eq!(header.options_bytes(), &[] as &[u8]);
        assert!(!header.is_header_cut());
        assert_eq!(
            header.info(),
            TcpInfo {
                src_port: 13131,
                dst_port: 31313,
                seq: 0,
                ack: 0,
                flags: tcp_flag::SYN,
                window: 8192,
                header_len_bytes: 20,
                options: 0,
                window_scale: None,
            }
        );
    }

    #[test]
    fn reset_flag() {
        let header = TcpHeader::new(&TCP_RST_2[TCP_OFFSET..]).unwrap();

        assert_eq!(header.flags(), tcp_flag::RST);
        assert_eq!(header.checksum(), 0xde3f);
    }

    #[test]
    fn syn_ack_with_options() {
        let header = TcpHeader::new(&TCP_SYN_OPTIONS_1[TCP_OFFSET..]).unwrap();

        assert_eq!(header.src_port(), 80);
        assert_eq!(header.dst_port(), 59856);
        assert_eq!(header.seq(), 2_779_762_238);
        assert_eq!(header.ack(), 4_263_588_411);
        assert_eq!(header.header_len(), 40);
        assert_eq!(header.flags(), tcp_flag::SYN | tcp_flag::ACK);
        assert_eq!(header.window(), 14480);
        assert_eq!(header.checksum(), 0x2e50);

        let options: Vec<_> = header.options().collect();
        assert_eq!(
            options,
            [
                TcpOption::Mss(1460),
                TcpOption::SackPermitted,
                TcpOption::Timestamps {
                    value: 797_524_569,
                    echo_reply: 374_005_024
                },
                TcpOption::WindowScale(7),
            ]
        );

        let info = header.info();
        assert_eq!(
            info.options,
            tcp_option::MSS
                | tcp_option::SACK_PERMITTED
                | tcp_option::TIMESTAMP
                | tcp_option::WINDOW_SCALE
        );
        assert_eq!(info.window_scale, Some(7));
        assert_eq!(info.header_len_bytes, 40);
    }

    #[test]
    fn sack_block() {
        let header = TcpHeader::new(&TCP_SACK_29[TCP_OFFSET..]).unwrap();

        assert_eq!(header.src_port(), 50368);
        assert_eq!(header.dst_port(), 80);
        assert_eq!(header.seq(), 414_291_861);
        assert_eq!(header.ack(), 4_249_398_646);
        assert_eq!(header.header_len(), 32);
        assert_eq!(header.flags(), tcp_flag::ACK);
        assert_eq!(header.window(), 65535);

        let options: Vec<_> = header.options().collect();
        assert_eq!(
            options,
            [TcpOption::Sack(&[
                0xfd, 0x48, 0xb3, 0x0c, 0xfd, 0x48, 0xb8, 0xa2
            ])]
        );
        assert_eq!(u32_at(&[0xfd, 0x48, 0xb3, 0x0c], 0..4), 4_249_400_076);
        assert_eq!(header.info().options, tcp_option::SACK);
        assert_eq!(header.info().window_scale, None);
    }

    #[test]
    fn options_cut_by_snapshot_length() {
        let header = TcpHeader::new(&SNAPLEN68_SYN_1[TCP_OFFSET..]).unwrap();

        assert_eq!(header.src_port(), 60827);
        assert_eq!(header.dst_port(), 25);
        assert_eq!(header.seq(), 1_041_724_894);
        assert_eq!(
            header.flags(),
            tcp_flag::SYN | tcp_flag::ECE | tcp_flag::CWR
        );
        assert_eq!(header.window(), 5840);
        assert_eq!(header.header_len(), 40);
        assert!(header.is_header_cut());
        assert_eq!(header.options_bytes().len(), 14);

        let options: Vec<_> = header.options().collect();
        assert_eq!(
            options,
            [
                TcpOption::Mss(1460),
                TcpOption::SackPermitted,
                TcpOption::Other {
                    kind: option_kind::TIMESTAMP,
                    data: &[0, 0, 0, 1, 0, 0]
                },
            ]
        );
        assert_eq!(
            header.info().options,
            tcp_option::MSS | tcp_option::SACK_PERMITTED
        );
    }

    #[test]
    fn data_offset_below_five_is_rejected() {
        let mut segment = TCP_SYN_1[TCP_OFFSET..].to_vec();
        segment[field::DATA_OFFSET] = 0x40;

        assert_eq!(
            TcpHeader::new(&segment).unwrap_err(),
            DecodeError::InvalidHeaderLength(16)
        );
    }

    #[test]
    fn header_cut_at_12_bytes() {
        assert_eq!(
            TcpHeader::new(&BAD_TCP_HEADER_1[TCP_OFFSET..]).unwrap_err(),
            DecodeError::Truncated {
                needed_bytes: MIN_HEADER_LEN,
                available_bytes: 12
            }
        );
    }

    #[test]
    fn every_truncation_is_reported() {
        let segment = &TCP_SYN_OPTIONS_1[TCP_OFFSET..];
        for len in 0..MIN_HEADER_LEN {
            assert_eq!(
                TcpHeader::new(&segment[..len]).unwrap_err(),
                DecodeError::Truncated {
                    needed_bytes: MIN_HEADER_LEN,
                    available_bytes: len
                }
            );
        }
        for len in MIN_HEADER_LEN..segment.len() {
            let header = TcpHeader::new(&segment[..len]).unwrap();

            assert!(header.is_header_cut());
            assert_eq!(header.src_port(), 80);
            assert!(header.options().count() <= 3);
        }
    }

    #[test]
    fn unexpected_option_lengths_are_other() {
        let options = [2, 3, 0, 3, 2, 4, 3, 0, 5, 4, 0, 0, 8, 2, 30, 4, 1, 2];
        let parsed: Vec<_> = TcpOptions::new(&options).collect();

        assert_eq!(
            parsed,
            [
                TcpOption::Other {
                    kind: 2,
                    data: &[0]
                },
                TcpOption::Other { kind: 3, data: &[] },
                TcpOption::Other {
                    kind: 4,
                    data: &[0]
                },
                TcpOption::Other {
                    kind: 5,
                    data: &[0, 0]
                },
                TcpOption::Other { kind: 8, data: &[] },
                TcpOption::Other {
                    kind: 30,
                    data: &[1, 2]
                },
            ]
        );
        assert!(parsed.iter().all(|option| option.flag() == 0));
    }

    #[test]
    fn malformed_lengths_end_the_walk() {
        assert_eq!(TcpOptions::new(&[2]).count(), 0);
        assert_eq!(TcpOptions::new(&[2, 0, 5, 0]).count(), 0);
        assert_eq!(TcpOptions::new(&[2, 1, 5, 0]).count(), 0);
        assert_eq!(
            TcpOptions::new(&[4, 2, 2, 9, 0]).collect::<Vec<_>>(),
            [TcpOption::SackPermitted]
        );
        assert_eq!(TcpOptions::new(&[1, 1, 1, 0, 4, 2]).count(), 0);
    }
}
