//! Memory-mapped capture files: the packets are read in place, without
//! copying, from a shared read-only mapping of the whole file.

use std::fs::File;
use std::path::Path;

use std::sync::Arc;

use memmap2::Mmap;
use naudit_engine::read_ahead::ReadAhead;
use naudit_engine::source::MAX_BATCH_PACKETS;
use naudit_engine::{BatchStatus, PacketSource, PacketView, SourceCounters, SourceError};

use crate::format::{open_parser, Detected};
use crate::pcap::PcapFastLayout;
use crate::records::{
    count_packet, cut_short_error, damaged_error, unsupported_error, Next, PacketRecord,
    RecordParser,
};

/// A capture file read through a memory mapping.
///
/// After the first error, `next_batch` returns [`BatchStatus::End`].
pub struct MappedSource {
    name: String,
    /// The mapping, shared with the sources that [`MappedSource::share`]
    /// made, so that every worker reading the file uses one set of pages.
    map: Arc<Mmap>,
    cursor: FileCursor,
    counters: SourceCounters,
    /// An error found after the packets of the last batch, returned next.
    pending_error: Option<SourceError>,
    finished: bool,
}

impl MappedSource {
    /// Maps the capture file at `path` and reads its file header.
    pub fn open(path: &Path) -> Result<MappedSource, SourceError> {
        let name = path.to_string_lossy().into_owned();
        let (map, cursor) = map_file(path, &name)?;
        Ok(MappedSource {
            name,
            map: Arc::new(map),
            cursor,
            counters: SourceCounters::default(),
            pending_error: None,
            finished: false,
        })
    }
}

impl MappedSource {
    /// Returns another source that reads the same mapping from the first
    /// record, or `None` once this source has started reading. Workers that
    /// each read the whole file share its pages this way instead of each
    /// faulting them into a mapping of its own.
    pub fn share(&self) -> Option<MappedSource> {
        if self.counters.received_pkts > 0 || self.finished || self.pending_error.is_some() {
            return None;
        }
        Some(MappedSource {
            name: self.name.clone(),
            map: Arc::clone(&self.map),
            cursor: self.cursor.clone(),
            counters: SourceCounters::default(),
            pending_error: None,
            finished: false,
        })
    }
}

/// The maximum number of packets [`MappedSource::next_batch_kept`] reads
/// for one batch, so that a worker whose share of a file is small still
/// returns to its loop, and its timers, often.
const MAX_READ_PER_BATCH: usize = 8 * MAX_BATCH_PACKETS;

impl PacketSource for MappedSource {
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        self.next_batch_kept(|_| true, process)
    }

    /// Reads until [`MAX_BATCH_PACKETS`] packets are kept, or
    /// [`MAX_READ_PER_BATCH`] are read. A packet that is not kept costs the
    /// read of its record header and `keep`. The counters count the
    /// delivered packets only.
    fn next_batch_kept<K, F>(&mut self, mut keep: K, process: F) -> Result<BatchStatus, SourceError>
    where
        K: FnMut(&PacketView<'_>) -> bool,
        F: FnOnce(&[PacketView<'_>]),
    {
        if let Some(error) = self.pending_error.take() {
            return Err(error);
        }
        if self.finished {
            return Ok(BatchStatus::End);
        }

        let bytes: &[u8] = &self.map;
        let mut batch = [PacketView::EMPTY; MAX_BATCH_PACKETS];
        let mut count = 0;
        let mut read = 0;
        while count < MAX_BATCH_PACKETS && read < MAX_READ_PER_BATCH {
            match self.cursor.next_packet(&self.name, bytes) {
                Ok(Some((start, record))) => {
                    let packet = record.view(&bytes[start..]);
                    read += 1;
                    if keep(&packet) {
                        count_packet(&mut self.counters, &packet);
                        batch[count] = packet;
                        count += 1;
                    }
                }
                Ok(None) => {
                    self.finished = true;
                    log_input_end(&self.name, &self.counters, self.cursor.offset as u64);
                    break;
                }
                Err(error) => {
                    self.finished = true;
                    self.pending_error = Some(error);
                    break;
                }
            }
        }

        if count > 0 {
            process(&batch[..count]);
            return Ok(BatchStatus::Packets(count));
        }
        match self.pending_error.take() {
            Some(error) => Err(error),
            None if read > 0 => Ok(BatchStatus::Packets(0)),
            None => Ok(BatchStatus::End),
        }
    }

    fn counters(&self) -> SourceCounters {
        self.counters
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// Maps a regular file and opens the parser for its format.
pub(crate) fn map_file(path: &Path, name: &str) -> Result<(Mmap, FileCursor), SourceError> {
    let file = File::open(path).map_err(|source| SourceError::Io {
        input: name.to_owned(),
        context: "failed to open the capture file",
        source,
    })?;
    let map = map_read_only(&file, name)?;
    #[cfg(unix)]
    if let Err(error) = map.advise(memmap2::Advice::Sequential) {
        tracing::debug!(input = name, %error, "madvise(MADV_SEQUENTIAL) failed; reading on without it");
    }

    // The whole file is mapped, so detection never needs more bytes.
    let (parser, first_record_offset) = match open_parser(name, &map, true)? {
        Detected::Parser(parser, offset) => (parser, offset),
        Detected::NeedMore(needed) => {
            return Err(cut_short_error(name, 0, 1, "ERF record", needed, map.len()))
        }
    };
    let cursor = FileCursor {
        fast: parser.fast_layout(),
        parser,
        offset: first_record_offset,
        packets_parsed: 0,
        read_ahead: ReadAhead::new(),
    };
    Ok((map, cursor))
}

/// Maps the whole of `file` read-only and shared.
#[allow(unsafe_code)]
fn map_read_only(file: &File, name: &str) -> Result<Mmap, SourceError> {
    // SAFETY: memmap2 cannot stop another process from changing the file
    // while it is mapped. If the file is truncated, reading a page past its
    // new end raises SIGBUS and ends this process. If it is written, the bytes
    // behind the packet slices change although Rust treats those slices as
    // immutable. That is undefined behaviour, and in practice a packet may mix
    // old and new bytes. Bounds checks use the length at mapping time, so a
    // file that grows is read up to that length. This reader therefore
    // requires capture files to stay unchanged while they are read.
    let mapped = unsafe { Mmap::map(file) };
    mapped.map_err(|source| SourceError::Io {
        input: name.to_owned(),
        context: "failed to memory-map the capture file",
        source,
    })
}

/// Position of a parser in a file that is wholly in memory.
#[derive(Clone)]
pub(crate) struct FileCursor {
    /// The direct layout of a classic pcap file, tried before the parser.
    fast: Option<PcapFastLayout>,
    parser: RecordParser,
    /// Offset of the next record from the start of the file.
    offset: usize,
    /// Packets parsed so far; the next packet's 1-based number is one more.
    packets_parsed: u64,
    /// Prefetches the file's cache lines ahead of `offset`.
    read_ahead: ReadAhead,
}

impl FileCursor {
    /// Parses records from the file's bytes until the next packet. Returns the
    /// packet record with its start offset, or `None` at the end of the file.
    ///
    /// A whole classic pcap record is read inline. Everything else goes
    /// through the parser, out of line.
    #[inline(always)]
    pub(crate) fn next_packet(
        &mut self,
        input: &str,
        file_bytes: &[u8],
    ) -> Result<Option<(usize, PacketRecord)>, SourceError> {
        self.read_ahead.advance(file_bytes, self.offset);
        if let Some(fast) = self.fast {
            if let Some(record) = fast.packet(file_bytes.get(self.offset..).unwrap_or_default()) {
                let start = self.offset;
                self.offset += record.record_len;
                self.packets_parsed += 1;
                return Ok(Some((start, record)));
            }
        }
        self.next_parsed_packet(input, file_bytes)
    }

    /// Parses records until the next packet: the slow path of
    /// [`FileCursor::next_packet`].
    #[inline(never)]
    fn next_parsed_packet(
        &mut self,
        input: &str,
        file_bytes: &[u8],
    ) -> Result<Option<(usize, PacketRecord)>, SourceError> {
        loop {
            let remaining = file_bytes.get(self.offset..).unwrap_or_default();
            if remaining.is_empty() {
                return Ok(None);
            }
            let offset_bytes = self.offset as u64;
            let packet_number = self.packets_parsed + 1;
            match self.parser.next(remaining) {
                Next::Packet(record) => {
                    let start = self.offset;
                    self.offset += record.record_len;
                    self.packets_parsed += 1;
                    return Ok(Some((start, record)));
                }
                Next::Skip(record_len) => self.offset += record_len,
                Next::NeedMore {
                    needed,
                    record_name,
                } => {
                    return Err(cut_short_error(
                        input,
                        offset_bytes,
                        packet_number,
                        record_name,
                        needed,
                        remaining.len(),
                    ))
                }
                Next::Corrupt(reason) => {
                    return Err(damaged_error(input, offset_bytes, packet_number, reason))
                }
                Next::Unsupported(description) => {
                    return Err(unsupported_error(input, offset_bytes, description))
                }
            }
        }
    }

    /// Offset of the next record from the start of the file.
    pub(crate) fn offset(&self) -> usize {
        self.offset
    }
}

/// Logs the end of one input with its totals.
pub(crate) fn log_input_end(input: &str, counters: &SourceCounters, bytes_read: u64) {
    tracing::info!(
        input,
        packets = counters.received_pkts,
        truncated_packets = counters.truncated_pkts,
        bytes_read,
        "end of capture input"
    );
}
