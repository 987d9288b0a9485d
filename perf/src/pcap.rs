//! Classic pcap files: a writer for the generator and a zero-copy record
//! reader for the floor programs and the tests.
//!
//! The format is libpcap's original one: a 24-byte file header, then for
//! each packet a 16-byte record header (seconds, sub-second fraction,
//! captured length, wire length) followed by the captured bytes.

use std::io::{self, Write};

use naudit_engine::read_ahead::ReadAhead;

/// Magic number of a pcap file with microsecond timestamps, as written in
/// the writer's byte order.
pub const MAGIC_MICROSECONDS: u32 = 0xa1b2_c3d4;
/// Magic number of a pcap file with nanosecond timestamps.
pub const MAGIC_NANOSECONDS: u32 = 0xa1b2_3c4d;
/// `LINKTYPE_ETHERNET`.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Bytes of the file header.
pub const FILE_HEADER_BYTES: usize = 24;
/// Bytes of each record header.
pub const RECORD_HEADER_BYTES: usize = 16;
/// Snapshot length written in the file header: larger than any frame the
/// generator writes.
pub const SNAPLEN_BYTES: u32 = 65_535;

const NS_PER_SEC: u64 = 1_000_000_000;

/// Writes a classic little-endian pcap file with microsecond timestamps.
pub struct PcapWriter<W: Write> {
    out: W,
    bytes_written: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header for Ethernet frames and returns the writer.
    pub fn new(mut out: W) -> io::Result<PcapWriter<W>> {
        let mut header = [0u8; FILE_HEADER_BYTES];
        header[0..4].copy_from_slice(&MAGIC_MICROSECONDS.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes()); // version 2.4
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // Bytes 8..16 (time zone offset and accuracy) stay zero.
        header[16..20].copy_from_slice(&SNAPLEN_BYTES.to_le_bytes());
        header[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter { out, bytes_written: FILE_HEADER_BYTES as u64 })
    }

    /// Appends one complete frame captured at `timestamp_ns` (nanoseconds
    /// since the Unix epoch; the file keeps microseconds).
    pub fn write_frame(&mut self, timestamp_ns: u64, frame: &[u8]) -> io::Result<()> {
        let length = frame.len() as u32;
        let mut header = [0u8; RECORD_HEADER_BYTES];
        header[0..4].copy_from_slice(&((timestamp_ns / NS_PER_SEC) as u32).to_le_bytes());
        header[4..8].copy_from_slice(&((timestamp_ns % NS_PER_SEC / 1000) as u32).to_le_bytes());
        header[8..12].copy_from_slice(&length.to_le_bytes());
        header[12..16].copy_from_slice(&length.to_le_bytes());
        self.out.write_all(&header)?;
        self.out.write_all(frame)?;
        self.bytes_written += (RECORD_HEADER_BYTES + frame.len()) as u64;
        Ok(())
    }

    /// Bytes written so far, the file header included.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reasons a byte slice is not a classic pcap file.
#[derive(Debug, PartialEq, Eq)]
pub enum PcapError {
    /// Fewer than 24 bytes.
    TooShort,
    /// The first four bytes are no pcap magic number in either byte order.
    UnknownMagic(u32),
}

impl std::fmt::Display for PcapError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PcapError::TooShort => write!(formatter, "file shorter than the 24-byte pcap header"),
            PcapError::UnknownMagic(magic) => {
                write!(formatter, "unknown magic number {magic:#010x}: not a classic pcap file (pcapng is not read here)")
            }
        }
    }
}

impl std::error::Error for PcapError {}

/// One packet record, borrowed from the file.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// Capture time in nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// Length on the wire.
    pub wire_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

/// Iterates over the records of a classic pcap file in memory, in either
/// byte order and either timestamp resolution.
///
/// Iteration ends at the end of the data or at a record whose header or
/// bytes are cut off. [`Records::truncated`] returns true in the second case.
pub struct Records<'a> {
    data: &'a [u8],
    offset: usize,
    /// Prefetches the file's cache lines ahead of `offset`, as nauditd's
    /// file reader does, so that a floor does not wait on each record
    /// header in turn.
    read_ahead: ReadAhead,
    big_endian: bool,
    nanoseconds: bool,
    link_type: u32,
    truncated: bool,
}

impl<'a> Records<'a> {
    /// Reads the file header of `data`.
    pub fn new(data: &'a [u8]) -> Result<Records<'a>, PcapError> {
        let Some(header) = data.get(..FILE_HEADER_BYTES) else {
            return Err(PcapError::TooShort);
        };
        let magic_le = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let (big_endian, nanoseconds) = match magic_le {
            MAGIC_MICROSECONDS => (false, false),
            MAGIC_NANOSECONDS => (false, true),
            _ if magic_le.swap_bytes() == MAGIC_MICROSECONDS => (true, false),
            _ if magic_le.swap_bytes() == MAGIC_NANOSECONDS => (true, true),
            _ => return Err(PcapError::UnknownMagic(magic_le)),
        };
        let mut records = Records { data, offset: FILE_HEADER_BYTES, read_ahead: ReadAhead::new(), big_endian, nanoseconds, link_type: 0, truncated: false };
        records.link_type = records.read_u32(20);
        Ok(records)
    }

    /// Returns the link type of every record (`LINKTYPE_*`).
    pub fn link_type(&self) -> u32 {
        self.link_type
    }

    /// True once iteration stopped at a cut-off record.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Reads a header field at `offset`; the caller checked the bounds.
    fn read_u32(&self, offset: usize) -> u32 {
        let bytes = [self.data[offset], self.data[offset + 1], self.data[offset + 2], self.data[offset + 3]];
        if self.big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        self.read_ahead.advance(self.data, self.offset);
        let header_end = self.offset + RECORD_HEADER_BYTES;
        if header_end > self.data.len() {
            self.truncated = self.offset != self.data.len();
            return None;
        }
        let seconds = u64::from(self.read_u32(self.offset));
        let fraction = u64::from(self.read_u32(self.offset + 4));
        let captured_len = self.read_u32(self.offset + 8) as usize;
        let wire_len = self.read_u32(self.offset + 12);

        let Some(data) = self.data.get(header_end..header_end + captured_len) else {
            self.truncated = true;
            self.offset = self.data.len();
            return None;
        };
        self.offset = header_end + captured_len;
        let sub_second_ns = if self.nanoseconds { fraction } else { fraction * 1000 };
        Some(Record { timestamp_ns: seconds * NS_PER_SEC + sub_second_ns, wire_len, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_records_read_back() {
        let mut writer = PcapWriter::new(Vec::new()).unwrap();
        writer.write_frame(1_700_000_000_123_456_789, &[1, 2, 3]).unwrap();
        writer.write_frame(1_700_000_001_000_000_000, &[4; 60]).unwrap();
        assert_eq!(writer.bytes_written(), 24 + 16 + 3 + 16 + 60);
        let file = writer.finish().unwrap();

        let mut records = Records::new(&file).unwrap();
        assert_eq!(records.link_type(), LINKTYPE_ETHERNET);
        let first = records.next().unwrap();
        assert_eq!(first.timestamp_ns, 1_700_000_000_123_456_000);
        assert_eq!(first.wire_len, 3);
        assert_eq!(first.data, &[1, 2, 3]);
        let second = records.next().unwrap();
        assert_eq!(second.data.len(), 60);
        assert!(records.next().is_none());
        assert!(!records.truncated());
    }

    #[test]
    fn cut_record_ends_iteration() {
        let mut writer = PcapWriter::new(Vec::new()).unwrap();
        writer.write_frame(0, &[9; 40]).unwrap();
        let file = writer.finish().unwrap();
        let cut = &file[..file.len() - 1];

        let mut records = Records::new(cut).unwrap();
        assert!(records.next().is_none());
        assert!(records.truncated());
    }

    #[test]
    fn big_endian_nanosecond_header_reads() {
        let mut file = Vec::new();
        file.extend_from_slice(&MAGIC_NANOSECONDS.to_be_bytes());
        file.extend_from_slice(&[0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 1]);
        file.extend_from_slice(&[0, 0, 0, 5, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 64, 0xab]);

        let mut records = Records::new(&file).unwrap();
        let record = records.next().unwrap();
        assert_eq!(record.timestamp_ns, 5_000_000_007);
        assert_eq!(record.wire_len, 64);
        assert_eq!(record.data, &[0xab]);
    }

    #[test]
    fn unknown_magic_rejected() {
        assert_eq!(Records::new(&[0u8; 24]).err(), Some(PcapError::UnknownMagic(0)));
        assert_eq!(Records::new(&[0u8; 3]).err(), Some(PcapError::TooShort));
    }
}
