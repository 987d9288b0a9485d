//! Chooses and opens the record sinks from the command line, and hands
//! every record to each of them.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use naudit_engine::flow::{FlowRecord, RecordSink};
use naudit_records::argus::{ArgusFileError, ArgusFileWriter, MarCounters, SourceId};
use naudit_records::ipfix::{IpfixExporter, IpfixFileWriter};
use naudit_records::stream::{RecordStream, StreamStats};
use naudit_records::{Format, RecordWriter};

use crate::cli::{Cli, OutputFormat};

/// One destination of records.
enum Sink {
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
    /// The Argus record stream server.
    Stream(RecordStream),
    /// An IPFIX file or IPFIX on standard output.
    IpfixFile {
        /// The encoder and its destination.
        writer: IpfixFileWriter<Box<dyn Write>>,
        /// The destination's name for messages.
        destination: String,
        /// The first write error, kept until [`Output::finish`].
        error: Option<std::io::Error>,
    },
    /// An IPFIX collector over UDP or TCP.
    IpfixExport(IpfixExporter),
}

/// Counts from the sinks, for the run summary.
#[derive(Clone, Copy, Debug)]
pub struct OutputReport {
    /// Records written to the file or standard output, or, without such a
    /// sink, records handed to the stream.
    pub records_written: u64,
    /// The stream server's counts, when it ran.
    pub stream: Option<StreamStats>,
}

/// Every sink of the run; each record goes to all of them.
pub struct Output {
    sinks: Vec<Sink>,
    records_emitted: u64,
}

impl Output {
    /// Opens the destination `-w` names (standard output without it) in the
    /// format `--format` names. The default format is Argus binary with
    /// `-w`, otherwise a table on a terminal and CSV elsewhere.
    ///
    /// With -P and neither -w nor --format, no file or standard output sink
    /// is opened: the records go to the stream only, which
    /// [`Output::add_stream`] adds.
    pub fn open(cli: &Cli, initial: &MarCounters) -> Result<Output, String> {
        let mut output = Output { sinks: Vec::new(), records_emitted: 0 };
        let network_only = (cli.stream_port.is_some() || !cli.ipfix.is_empty()) && cli.write.is_none() && cli.format.is_none();
        if !network_only {
            output.sinks.push(open_file_sink(cli, initial)?);
        }
        for url in &cli.ipfix {
            output.sinks.push(Sink::IpfixExport(crate::ipfix::open_exporter(cli, url)?));
        }
        Ok(output)
    }

    /// Adds the record stream server as a sink.
    pub fn add_stream(&mut self, stream: RecordStream) {
        self.sinks.push(Sink::Stream(stream));
    }

    /// Returns the record stream server, if there is one.
    pub fn stream(&self) -> Option<&RecordStream> {
        self.sinks.iter().find_map(|sink| match sink {
            Sink::Stream(stream) => Some(stream),
            _ => None,
        })
    }

    /// Flushes everything written, closes an Argus file with its closing
    /// management record, sends the stream's closing MAR and closes its
    /// connections. Returns the counts for the summary, or a message naming
    /// the destination and the I/O error.
    ///
    /// Every sink is finished even when an earlier one fails; the first
    /// error is returned.
    pub fn finish(self, closing: &MarCounters) -> Result<OutputReport, String> {
        let mut report = OutputReport { records_written: self.records_emitted, stream: None };
        let mut first_error = None;
        for sink in self.sinks {
            let result = match sink {
                Sink::Text { writer, destination } => {
                    writer.finish().map_err(|error| format!("{destination}: writing records failed: {error}"))
                }
                Sink::Argus { writer, records_written, error } => match error {
                    Some(error) => Err(error.to_string()),
                    None => writer.finish(closing).map(|_| records_written).map_err(|error| error.to_string()),
                },
                Sink::Stream(stream) => {
                    report.stream = Some(stream.shutdown());
                    continue;
                }
                Sink::IpfixFile { writer, destination, error } => match error {
                    Some(error) => Err(format!("{destination}: writing IPFIX messages failed: {error}")),
                    None => writer.finish().map_err(|error| format!("{destination}: writing IPFIX messages failed: {error}")),
                },
                Sink::IpfixExport(exporter) => {
                    crate::ipfix::log_export_stats(exporter.finish());
                    continue;
                }
            };
            match result {
                Ok(records_written) => report.records_written = records_written,
                Err(message) => {
                    first_error.get_or_insert(message);
                }
            }
        }
        match first_error {
            Some(message) => Err(message),
            None => Ok(report),
        }
    }

    /// Records written so far to the file or standard output, or handed to
    /// the stream when there is no such sink.
    pub fn records_written(&self) -> u64 {
        self.sinks
            .iter()
            .find_map(|sink| match sink {
                Sink::Text { writer, .. } => Some(writer.records_written()),
                Sink::Argus { records_written, .. } => Some(*records_written),
                Sink::IpfixFile { writer, .. } => Some(writer.records_written()),
                Sink::Stream(_) | Sink::IpfixExport(_) => None,
            })
            .unwrap_or(self.records_emitted)
    }
}

/// Opens the file or standard output sink that -w and --format choose.
fn open_file_sink(cli: &Cli, initial: &MarCounters) -> Result<Sink, String> {
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
        OutputFormat::Ipfix => {
            let writer = IpfixFileWriter::new(output, crate::ipfix::observation_domain_id(cli)?);
            return Ok(Sink::IpfixFile { writer, destination, error: None });
        }
        OutputFormat::Argus => {
            let source_id: SourceId = cli.source_id.parse().map_err(|error| format!("{error}"))?;
            let writer =
                ArgusFileWriter::new(output, destination, source_id, initial).map_err(|error| error.to_string())?;
            return Ok(Sink::Argus { writer, records_written: 0, error: None });
        }
    };
    Ok(Sink::Text { writer: RecordWriter::new(text_format, output), destination })
}

fn create_file(path: &Path) -> Result<File, String> {
    File::create(path).map_err(|error| {
        format!("{}: cannot create the output file: {error}; check that the folder exists and is writable", path.display())
    })
}

impl RecordSink for Sink {
    fn emit(&mut self, record: &FlowRecord) {
        match self {
            Sink::Text { writer, .. } => writer.emit(record),
            Sink::Argus { writer, records_written, error } => {
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
            Sink::Stream(stream) => stream.publish(record),
            Sink::IpfixFile { writer, destination, error } => {
                if error.is_some() {
                    return;
                }
                if let Err(write_error) = writer.write_flow(record) {
                    tracing::error!(%write_error, %destination, "writing IPFIX messages failed; no further records are written");
                    *error = Some(write_error);
                }
            }
            Sink::IpfixExport(exporter) => exporter.export(record),
        }
    }
}

impl RecordSink for Output {
    fn emit(&mut self, record: &FlowRecord) {
        self.records_emitted += 1;
        for sink in &mut self.sinks {
            sink.emit(record);
        }
    }
}
