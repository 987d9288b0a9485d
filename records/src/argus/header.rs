//! Record headers, record causes and DSR headers.
//!
//! Every Argus record starts with one word: type and version, cause, and the
//! record length in 32-bit words. Every DSR inside a flow record starts with
//! one word too: type, subtype, qualifier and the DSR length in words.

use naudit_engine::flow::RecordCause;

/// First header byte of a management record (MAR): type `0x8`, version 3.
pub const MAR_TYPE_VERSION: u8 = 0x83;
/// First header byte of a flow record (FAR): type `0x1`, version 3.
pub const FAR_TYPE_VERSION: u8 = 0x13;

/// Bytes in one Argus word, the unit of every length field.
pub const WORD_BYTES: usize = 4;

/// The cause of a record, written in the high nibble of the header's second
/// byte (the low nibble, the options, is always 0 here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ArgusCause {
    /// First report of a flow, and the initial MAR. ra prints `Start`.
    Start = 0x10,
    /// Periodic report of an open flow, and a periodic MAR. ra prints `Status`.
    Status = 0x20,
    /// Final report of a flow that ended, and the closing MAR. ra prints `Stop`.
    Stop = 0x30,
    /// Final report of a flow that went idle. ra prints `Timeout`.
    Timeout = 0x40,
    /// Flows flushed because the sensor is stopping. ra prints `Shutdown`.
    Shutdown = 0x60,
}

impl ArgusCause {
    /// Returns the header byte value.
    pub fn to_byte(self) -> u8 {
        self as u8
    }
}

impl From<RecordCause> for ArgusCause {
    /// Maps a flow record's cause. An evicted flow is reported as a timeout,
    /// because to an analyst an eviction looks like a flow that stopped
    /// being tracked, and ra shows `Timeout` and the TCP state `TIM` for it.
    fn from(cause: RecordCause) -> Self {
        match cause {
            RecordCause::Start => ArgusCause::Start,
            RecordCause::Status => ArgusCause::Status,
            RecordCause::Closed => ArgusCause::Stop,
            RecordCause::IdleTimeout | RecordCause::Evicted => ArgusCause::Timeout,
            RecordCause::Shutdown => ArgusCause::Shutdown,
        }
    }
}

/// Appends a record header.
///
/// # Panics
///
/// Panics if `length_words` exceeds the 16-bit length field. The records
/// this module builds are at most a few hundred bytes long.
pub fn put_record_header(out: &mut Vec<u8>, type_version: u8, cause: ArgusCause, length_words: usize) {
    out.extend_from_slice(&record_header(type_version, cause, length_words));
}

/// Returns a record header. Panics as [`put_record_header`] does.
pub fn record_header(type_version: u8, cause: ArgusCause, length_words: usize) -> [u8; WORD_BYTES] {
    let length = u16::try_from(length_words).expect("Argus record longer than 65535 words");
    let [high, low] = length.to_be_bytes();
    [type_version, cause.to_byte(), high, low]
}

/// Appends a DSR header in the normal form, with the length in byte 3.
///
/// Bit `0x80` of the subtype byte would switch the reader to the 16-bit
/// length form, so callers never set it.
pub fn put_dsr_header(out: &mut Vec<u8>, dsr_type: u8, subtype: u8, qualifier: u8, length_words: u8) {
    debug_assert_eq!(subtype & 0x80, 0, "subtype bit 0x80 selects the 16-bit length form");
    debug_assert_ne!(length_words, 0, "a DSR of length 0 makes the reader stop");
    out.extend_from_slice(&[dsr_type, subtype, qualifier, length_words]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_mapping_matches_argus_values() {
        let cases = [
            (RecordCause::Start, 0x10),
            (RecordCause::Status, 0x20),
            (RecordCause::Closed, 0x30),
            (RecordCause::IdleTimeout, 0x40),
            (RecordCause::Evicted, 0x40),
            (RecordCause::Shutdown, 0x60),
        ];
        for (cause, byte) in cases {
            assert_eq!(ArgusCause::from(cause).to_byte(), byte, "cause {cause:?}");
        }
    }

    #[test]
    fn record_header_bytes() {
        let mut out = Vec::new();
        put_record_header(&mut out, MAR_TYPE_VERSION, ArgusCause::Start, 32);
        put_record_header(&mut out, FAR_TYPE_VERSION, ArgusCause::Stop, 0x0135);
        assert_eq!(out, [0x83, 0x10, 0x00, 0x20, 0x13, 0x30, 0x01, 0x35]);
    }

    #[test]
    fn dsr_header_bytes() {
        let mut out = Vec::new();
        put_dsr_header(&mut out, 0x30, 0x05, 0x00, 30);
        assert_eq!(out, [0x30, 0x05, 0x00, 0x1e]);
    }
}
