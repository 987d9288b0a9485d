//! Chooses and opens the record sink from the command line.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use naudit_engine::flow::{FlowRecord, RecordSink};
use naudit_records::argus::{ArgusFileError, ArgusFileWriter, MarCounters, SourceId};
use naudit_records::{Format, RecordWriter};

use crate::cli::{Cli, OutputFormat};

/// The sink records are written to.
pub enum Output {
    /// CSV, JSON lines or a text table.
    Text {
        /// The encoder and its destination.
        writer: RecordWriter<Box<dyn Write>>,
        /// The destination's name for messages.
        destination: String,
    },
    /// Argus version 3 binary records.
    Argus {
        /// The encoder and its destination.
        writer: ArgusFileWriter<Box<dyn Write>>,
        /// Records written so far.
        records_written: u64,
        /// The first write error, kept until [`Output::finish`].
        error: Option<ArgusFileError>,
    },
}

impl Output {
    /// Opens the destination `-w` names (standard output without it) in the
    /// format `--format` names. The default format is Argus binary with
    /// `-w`, otherwise a table on a terminal and CSV elsewhere.
    pub fn open(cli: &Cli, initial: &MarCounters) -> Result<Output, String> {
        let to_stdout = cli.write.as_deref().map_or(true, |path| path == Path::new("-"));
        let format = match (cli.format, &cli.write) {
            (Some(format), _) => format,
            (None, Some(_)) => OutputFormat::Argus,
            (None, None) if io::stdout().is_terminal() => OutputFormat::Text,
            (None, None) => OutputFormat::Csv,
        };

        let (output, destination): (Box<dyn Write>, String) = match &cli.write {
            Some(path) if !to_stdout => (Box::new(BufWriter::new(create_file(path)?)), path.display().to_string()),
            _ => (Box::new(io::stdout().lock()), "standard output".to_string()),
        };
        let text_format = match format {
            OutputFormat::Csv => Format::Csv,
            OutputFormat::Json => Format::Json,
            OutputFormat::Text => Format::Text,
            OutputFormat::Argus => {
                let source_id: SourceId = cli.source_id.parse().map_err(|error| format!("{error}"))?;
                let writer = ArgusFileWriter::new(output, destination, source_id, initial)
                    .map_err(|error| error.to_string())?;
                return Ok(Output::Argus { writer, records_written: 0, error: None });
            }
        };
        Ok(Output::Text { writer: RecordWriter::new(text_format, output), destination })
    }

    /// Flushes everything written, closes an Argus stream with its closing
    /// management record, and returns the number of records written, or a
    /// message naming the destination and the I/O error.
    pub fn finish(self, closing: &MarCounters) -> Result<u64, String> {
        match self {
            Output::Text { writer, destination } => {
                writer.finish().map_err(|error| format!("{destination}: writing records failed: {error}"))
            }
            Output::Argus { writer, records_written, error } => {
                if let Some(error) = error {
                    return Err(error.to_string());
                }
                writer.finish(closing).map_err(|error| error.to_string())?;
                Ok(records_written)
            }
        }
    }

    /// Records written so far.
    pub fn records_written(&self) -> u64 {
        match self {
            Output::Text { writer, .. } => writer.records_written(),
            Output::Argus { records_written, .. } => *records_written,
        }
    }
}

fn create_file(path: &Path) -> Result<File, String> {
    File::create(path).map_err(|error| {
        format!("{}: cannot create the output file: {error}; check that the folder exists and is writable", path.display())
    })
}

impl RecordSink for Output {
    fn emit(&mut self, record: &FlowRecord) {
        match self {
            Output::Text { writer, .. } => writer.emit(record),
            Output::Argus { writer, records_written, error } => {
                if error.is_some() {
                    return;
                }
                match writer.write_flow(record) {
                    Ok(()) => *records_written += 1,
                    Err(write_error) => {
                        tracing::error!(%write_error, "writing Argus records failed; no further records are written");
                        *error = Some(write_error);
                    }
                }
            }
        }
    }
}
