//! A record sink that encodes records in one format and writes them to any
//! `io::Write`.

use std::io::{self, Write};

use naudit_engine::flow::{FlowRecord, RecordSink};

use crate::{csv, json, text};

/// Output formats of the text sinks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// An aligned table for reading on a terminal.
    Text,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Json,
}

/// Bytes buffered before a write to the underlying writer.
const FLUSH_THRESHOLD_BYTES: usize = 64 * 1024;

/// Encodes records in a text format and writes them in large chunks.
///
/// An I/O error stops further writing; it is kept and returned by
/// [`RecordWriter::finish`], so the caller reports it once.
pub struct RecordWriter<W: Write> {
    format: Format,
    output: W,
    buffer: String,
    scratch: String,
    records_written: u64,
    error: Option<io::Error>,
}

impl<W: Write> RecordWriter<W> {
    /// Creates a writer and writes the format's header, if it has one.
    pub fn new(format: Format, output: W) -> RecordWriter<W> {
        let mut buffer = String::with_capacity(FLUSH_THRESHOLD_BYTES * 2);
        match format {
            Format::Csv => {
                buffer.push_str(&csv::csv_header());
                buffer.push('\n');
            }
            Format::Text => {
                buffer.push_str(text::TEXT_HEADER);
                buffer.push('\n');
            }
            Format::Json => {}
        }
        RecordWriter { format, output, buffer, scratch: String::new(), records_written: 0, error: None }
    }

    /// Creates a writer that writes no header, for a file that already
    /// has one, such as a log file reopened for appending.
    pub fn without_header(format: Format, output: W) -> RecordWriter<W> {
        let mut writer = RecordWriter::new(format, output);
        writer.buffer.clear();
        writer
    }

    /// Records written so far.
    pub fn records_written(&self) -> u64 {
        self.records_written
    }

    fn flush_buffer(&mut self) {
        if self.error.is_none() {
            if let Err(error) = self.output.write_all(self.buffer.as_bytes()) {
                self.error = Some(error);
            }
        }
        self.buffer.clear();
    }

    /// Writes what is buffered and flushes the writer, so that a reader of
    /// the output can read every record emitted so far. An I/O error is kept
    /// for [`RecordWriter::finish`].
    pub fn flush(&mut self) {
        self.flush_buffer();
        if self.error.is_none() {
            if let Err(error) = self.output.flush() {
                self.error = Some(error);
            }
        }
    }

    /// Writes what is buffered and flushes the writer. Returns the first
    /// I/O error met since the writer was created.
    pub fn finish(mut self) -> io::Result<u64> {
        self.flush_buffer();
        if self.error.is_none() {
            if let Err(error) = self.output.flush() {
                self.error = Some(error);
            }
        }
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.records_written),
        }
    }
}

impl<W: Write> RecordSink for RecordWriter<W> {
    fn emit(&mut self, record: &FlowRecord) {
        match self.format {
            Format::Csv => csv::write_csv_line(&mut self.buffer, record),
            Format::Json => json::write_json_line(&mut self.buffer, &mut self.scratch, record),
            Format::Text => text::write_text_line(&mut self.buffer, &mut self.scratch, record),
        }
        self.records_written += 1;
        if self.buffer.len() >= FLUSH_THRESHOLD_BYTES {
            self.flush_buffer();
        }
    }
}
