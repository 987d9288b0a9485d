//! Chooses and opens the record sinks from the command line, and hands
//! every record to each of them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use naudit_engine::flow::{FlowRecord, RecordSink};
use naudit_records::argus::MarCounters;
use naudit_records::ipfix::{ExportStats, IpfixExporter};
use naudit_records::stream::{RecordStream, StreamStats};

use crate::cli::Cli;
use crate::file_sink::{FileOutput, FileReport};

/// One destination of records.
enum Sink {
    /// The file or standard output: CSV, JSON lines, a text table, Argus
    /// binary records or an IPFIX file.
    File(Box<FileOutput>),
    /// The Argus record stream server.
    Stream(RecordStream),
    /// An IPFIX collector over UDP or TCP.
    IpfixExport(IpfixExporter),
}

/// Counts from the sinks, for the run summary.
#[derive(Clone, Debug)]
pub struct OutputReport {
    /// Records written to the file or standard output, or, without such a
    /// sink, records handed to the other sinks.
    pub records_written: u64,
    /// The file sink's counts, when there was one.
    pub file: Option<FileReport>,
    /// The stream server's counts, when it ran.
    pub stream: Option<StreamStats>,
    /// Each IPFIX collector's URL and counts, in --ipfix order.
    pub ipfix_exports: Vec<(String, ExportStats)>,
}

/// Every sink of the run; each record goes to all of them.
pub struct Output {
    sinks: Vec<Sink>,
    records_emitted: u64,
    /// Raised by SIGHUP: the file sink reopens its file before the next
    /// record, or while the input is idle.
    reopen: Arc<AtomicBool>,
}

impl Output {
    /// Opens the destination `-w` names (standard output without it) in the
    /// format `--format` names. The default format is Argus binary with
    /// `-w`, otherwise a table on a terminal and CSV elsewhere.
    ///
    /// With -P and neither -w nor --format, no file or standard output sink
    /// is opened: the records go to the stream only, which
    /// [`Output::add_stream`] adds.
    ///
    /// SIGHUP makes the file sink reopen its file (see
    /// [`FileOutput::reopen`]) before the next record, while the input is
    /// idle, or at the end of the run when no record follows.
    pub fn open(cli: &Cli, initial: &MarCounters) -> Result<Output, String> {
        let reopen = Arc::new(AtomicBool::new(false));
        signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&reopen))
            .map_err(|error| format!("cannot install the handler for SIGHUP: {error}"))?;
        let mut output = Output { sinks: Vec::new(), records_emitted: 0, reopen };
        let network_only = (cli.stream_port.is_some() || !cli.ipfix.is_empty()) && cli.write.is_none() && cli.format.is_none();
        if !network_only {
            output.sinks.push(Sink::File(Box::new(FileOutput::open(cli, initial)?)));
        } else if cli.rotate_secs.is_some() {
            return Err("--rotate-seconds needs -w FILE".to_string());
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
    pub fn finish(mut self, closing: &MarCounters) -> Result<OutputReport, String> {
        self.reopen_if_requested();
        let mut report =
            OutputReport { records_written: self.records_emitted, file: None, stream: None, ipfix_exports: Vec::new() };
        let mut first_error = None;
        for sink in self.sinks {
            match sink {
                Sink::File(file) => match file.finish(closing) {
                    Ok(file_report) => {
                        report.records_written = file_report.records_written;
                        report.file = Some(file_report);
                    }
                    Err(message) => {
                        first_error.get_or_insert(message);
                    }
                },
                Sink::Stream(stream) => report.stream = Some(stream.shutdown()),
                Sink::IpfixExport(exporter) => {
                    let destination = exporter.destination().to_string();
                    let stats = exporter.finish();
                    crate::ipfix::log_export_stats(&destination, stats);
                    report.ipfix_exports.push((destination, stats));
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
                Sink::File(file) => Some(file.records_written()),
                Sink::Stream(_) | Sink::IpfixExport(_) => None,
            })
            .unwrap_or(self.records_emitted)
    }

    /// Reopens the file sink's file when SIGHUP arrived since the last
    /// check.
    fn reopen_if_requested(&mut self) {
        if !self.reopen.swap(false, Ordering::Relaxed) {
            return;
        }
        for sink in &mut self.sinks {
            if let Sink::File(file) = sink {
                file.reopen();
            }
        }
    }
}

impl RecordSink for Sink {
    fn emit(&mut self, record: &FlowRecord) {
        match self {
            Sink::File(file) => file.emit(record),
            Sink::Stream(stream) => stream.publish(record),
            Sink::IpfixExport(exporter) => exporter.export(record),
        }
    }
}

impl RecordSink for Output {
    fn idle(&mut self) {
        if self.reopen.load(Ordering::Relaxed) {
            self.reopen_if_requested();
        }
        for sink in &mut self.sinks {
            if let Sink::File(file) = sink {
                file.idle();
            }
        }
    }

    fn emit(&mut self, record: &FlowRecord) {
        if self.reopen.load(Ordering::Relaxed) {
            self.reopen_if_requested();
        }
        self.records_emitted += 1;
        for sink in &mut self.sinks {
            sink.emit(record);
        }
    }
}
