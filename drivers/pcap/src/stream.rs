//! Captures read as a byte stream, from standard input or a named pipe.
//!
//! The records are parsed in a buffer that is refilled between batches. A
//! record that the buffer ends inside is moved to the front and completed by
//! the next read, so no packet is copied elsewhere or allocated on its own.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use naudit_engine::source::MAX_BATCH_PACKETS;
use naudit_engine::{BatchStatus, PacketSource, PacketView, SourceCounters, SourceError};

use crate::format::{open_parser, Detected, DETECTION_BYTES};
use crate::mapped::log_input_end;
use crate::records::{
    count_packet, cut_short_error, damaged_error, unsupported_error, Next, RecordParser,
};

/// Initial size of the refill buffer. The buffer grows only when one record
/// is larger, up to the largest record the parsers accept.
pub const DEFAULT_STREAM_BUFFER_BYTES: usize = 1 << 20;

/// A capture read from a stream of bytes.
///
/// Reads block until the writer sends more bytes or closes the stream, so
/// `next_batch` never returns [`BatchStatus::Idle`]. After the first error it
/// returns [`BatchStatus::End`].
pub struct StreamSource {
    name: String,
    buffer: RefillBuffer,
    parser: RecordParser,
    counters: SourceCounters,
    /// An error found after the packets of the last batch, returned next.
    pending_error: Option<SourceError>,
    finished: bool,
}

impl StreamSource {
    /// Opens the named pipe (or other non-seekable file) at `path`. Opening
    /// a FIFO blocks until a writer opens it.
    pub fn open_pipe(path: &Path, buffer_bytes: usize) -> Result<StreamSource, SourceError> {
        let name = path.to_string_lossy().into_owned();
        let file = File::open(path).map_err(|source| SourceError::Io {
            input: name.clone(),
            context: "failed to open the pipe",
            source,
        })?;
        StreamSource::from_reader(name, Box::new(file), buffer_bytes)
    }

    /// Reads a capture from `reader`, whose name is `name` in messages. The
    /// refill buffer starts at `buffer_bytes` and grows when one record needs
    /// more. This blocks until the file header has been read.
    pub fn from_reader(
        name: impl Into<String>,
        reader: Box<dyn Read + Send>,
        buffer_bytes: usize,
    ) -> Result<StreamSource, SourceError> {
        let name = name.into();
        let mut buffer = RefillBuffer::new(reader, buffer_bytes);
        let mut needed = DETECTION_BYTES;
        let mut input_ends = false;
        let (parser, first_record_offset) = loop {
            while !input_ends && buffer.unconsumed().len() < needed {
                input_ends = !buffer.read_more(needed, &name)?;
            }
            match open_parser(&name, buffer.unconsumed(), input_ends)? {
                Detected::Parser(parser, offset) => break (parser, offset),
                // Only the ERF check requests more, and always more than
                // it had, up to a few records of at most 64 KiB each.
                Detected::NeedMore(more) => needed = more,
            }
        };
        buffer.consume(first_record_offset);
        Ok(StreamSource {
            name,
            buffer,
            parser,
            counters: SourceCounters::default(),
            pending_error: None,
            finished: false,
        })
    }
}

impl PacketSource for StreamSource {
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        if let Some(error) = self.pending_error.take() {
            return Err(error);
        }
        if self.finished {
            return Ok(BatchStatus::End);
        }

        loop {
            let bytes = self.buffer.unconsumed();
            let buffer_offset = self.buffer.input_offset();
            let mut batch = [PacketView::EMPTY; MAX_BATCH_PACKETS];
            let mut count = 0;
            let mut parsed_len = 0;
            let mut stop = BatchStop::Full;
            while count < MAX_BATCH_PACKETS {
                let record_bytes = &bytes[parsed_len..];
                let offset_bytes = buffer_offset + parsed_len as u64;
                match self.parser.next(record_bytes) {
                    Next::Packet(record) => {
                        let packet = record.view(record_bytes);
                        count_packet(&mut self.counters, &packet);
                        batch[count] = packet;
                        count += 1;
                        parsed_len += record.record_len;
                    }
                    Next::Skip(record_len) => parsed_len += record_len,
                    Next::NeedMore {
                        needed,
                        record_name,
                    } => {
                        stop = BatchStop::NeedMore {
                            needed,
                            record_name,
                        };
                        break;
                    }
                    Next::Corrupt(reason) => {
                        let packet_number = self.counters.received_pkts + 1;
                        let error = damaged_error(&self.name, offset_bytes, packet_number, reason);
                        stop = BatchStop::Failed(error);
                        break;
                    }
                    Next::Unsupported(description) => {
                        let error = unsupported_error(&self.name, offset_bytes, description);
                        stop = BatchStop::Failed(error);
                        break;
                    }
                }
            }

            // Deliver the packets parsed so far without waiting for more
            // bytes, and keep an error for the next call.
            if count > 0 {
                process(&batch[..count]);
                self.buffer.consume(parsed_len);
                if let BatchStop::Failed(error) = stop {
                    self.finished = true;
                    self.pending_error = Some(error);
                }
                return Ok(BatchStatus::Packets(count));
            }

            self.buffer.consume(parsed_len);
            let (needed, record_name) = match stop {
                BatchStop::NeedMore {
                    needed,
                    record_name,
                } => (needed, record_name),
                BatchStop::Failed(error) => {
                    self.finished = true;
                    return Err(error);
                }
                // A full batch contains packets, so it has returned above.
                BatchStop::Full => continue,
            };
            match self.buffer.read_more(needed, &self.name) {
                Ok(true) => {}
                Ok(false) => {
                    self.finished = true;
                    let available = self.buffer.unconsumed().len();
                    if available == 0 {
                        log_input_end(&self.name, &self.counters, self.buffer.input_offset());
                        return Ok(BatchStatus::End);
                    }
                    let packet_number = self.counters.received_pkts + 1;
                    let offset_bytes = self.buffer.input_offset();
                    return Err(cut_short_error(
                        &self.name,
                        offset_bytes,
                        packet_number,
                        record_name,
                        needed,
                        available,
                    ));
                }
                Err(error) => {
                    self.finished = true;
                    return Err(error);
                }
            }
        }
    }

    fn counters(&self) -> SourceCounters {
        self.counters
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// Reason the parsing of one batch stopped.
enum BatchStop {
    /// The batch contains `MAX_BATCH_PACKETS` packets.
    Full,
    /// The next record needs `needed` bytes from its start.
    NeedMore {
        needed: usize,
        record_name: &'static str,
    },
    /// The next record is damaged or unsupported.
    Failed(SourceError),
}

/// A read buffer whose unconsumed bytes move to the front before each refill.
struct RefillBuffer {
    reader: Box<dyn Read + Send>,
    bytes: Vec<u8>,
    /// First byte not yet parsed.
    start: usize,
    /// End of the bytes read so far.
    end: usize,
    /// Input offset of `bytes[0]`.
    offset_of_first_byte: u64,
}

impl RefillBuffer {
    fn new(reader: Box<dyn Read + Send>, capacity: usize) -> RefillBuffer {
        RefillBuffer {
            reader,
            bytes: vec![0; capacity.max(1)],
            start: 0,
            end: 0,
            offset_of_first_byte: 0,
        }
    }

    fn unconsumed(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }

    /// Input offset of the first unconsumed byte.
    fn input_offset(&self) -> u64 {
        self.offset_of_first_byte + self.start as u64
    }

    fn consume(&mut self, len: usize) {
        self.start += len;
        debug_assert!(self.start <= self.end);
    }

    /// Reads once into the free space after the unconsumed bytes. First moves
    /// those bytes to the front, and grows the buffer when it cannot hold
    /// `needed` of them. Returns false at the end of the input.
    fn read_more(&mut self, needed: usize, input: &str) -> Result<bool, SourceError> {
        if self.start > 0 {
            self.bytes.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.offset_of_first_byte += self.start as u64;
            self.start = 0;
        }
        // A read into no free space would return 0 and look like the end.
        let min_len = needed.max(self.end + 1);
        if self.bytes.len() < min_len {
            self.bytes.resize(min_len, 0);
        }
        loop {
            match self.reader.read(&mut self.bytes[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(read_len) => {
                    self.end += read_len;
                    return Ok(true);
                }
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(SourceError::Io {
                        input: input.to_owned(),
                        context: "failed to read the capture stream",
                        source,
                    })
                }
            }
        }
    }
}
