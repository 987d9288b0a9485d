//! The file or standard output sink that -w and --format choose, and its
//! rotation: reopening the file on SIGHUP after a tool such as logrotate
//! renamed it, and closing it at each --rotate-seconds boundary.
//!
//! A file is switched only between records, and every encoder writes whole
//! records, so no record is split between two files. The old file is
//! flushed before the new one gets its first record, so none is lost.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use naudit_engine::flow::FlowRecord;
use naudit_engine::flow::RecordSink;
use naudit_records::argus::{ArgusFileWriter, MarCounters, SourceId};
use naudit_records::ipfix::{IpfixFileCounts, IpfixFileWriter};
use naudit_records::{Format, RecordWriter};

use crate::cli::{Cli, OutputFormat};

/// Maximum time a record waits in a buffer, so that a reader such as
/// `tail -F` gets records soon after they are emitted. The check runs when
/// a record arrives and while the input is idle.
const FLUSH_INTERVAL: coarsetime::Duration = coarsetime::Duration::from_secs(1);

/// The encoder of the file being written.
enum FileWriter {
    /// CSV, JSON lines or a text table.
    Text(RecordWriter<Box<dyn Write>>),
    /// Argus version 3 binary records.
    Argus(ArgusFileWriter<Box<dyn Write>>),
    /// IPFIX messages.
    Ipfix(IpfixFileWriter<Box<dyn Write>>),
}

/// Counts of a [`FileOutput`], for the run summary.
#[derive(Clone, Copy, Debug, Default)]
pub struct FileReport {
    /// Records written, over every file of the run.
    pub records_written: u64,
    /// Files closed by SIGHUP or --rotate-seconds.
    pub rotations: u64,
    /// For --format ipfix: messages and records written, over every file.
    pub ipfix: Option<IpfixFileCounts>,
}

/// Time-based rotation: the file is closed and renamed with the UTC start
/// of its interval when the wall clock enters the next interval.
struct Rotation {
    interval_secs: u64,
    /// Start of the current file's interval, in seconds since the epoch,
    /// a multiple of `interval_secs`.
    interval_start_secs: u64,
}

/// The file or standard output sink.
pub struct FileOutput {
    /// The file's path, `None` for standard output.
    path: Option<PathBuf>,
    /// The name of the destination in messages.
    destination: String,
    format: OutputFormat,
    source_id: SourceId,
    observation_domain_id: u32,
    initial: MarCounters,
    writer: Option<FileWriter>,
    rotation: Option<Rotation>,
    report: FileReport,
    /// When the writer was last flushed, on the coarse clock, because it is
    /// read for every record and a precise clock read cost about 2 % of a
    /// run that writes many records.
    last_flush: coarsetime::Instant,
    /// True when bytes were written since the last flush.
    unflushed: bool,
    /// The first write error, kept until [`FileOutput::finish`]. No record
    /// is written after it.
    error: Option<String>,
}

/// Returns the wall-clock time in whole seconds since the epoch.
fn wall_clock_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

/// Warns when `-w` names a file as text (`.csv`, `.json`, `.jsonl`,
/// `.txt`) but no `--format` was given, so Argus binary records would go
/// into it.
fn warn_if_text_name(path: &Path) {
    let extension = path.extension().and_then(|extension| extension.to_str()).map(str::to_ascii_lowercase);
    let suggested = match extension.as_deref() {
        Some("csv") => "csv",
        Some("json" | "jsonl") => "json",
        Some("txt") => "text",
        _ => return,
    };
    tracing::warn!(
        path = %path.display(),
        "writing Argus binary records, the default with -w; add --format {suggested} for {suggested} output"
    );
}

/// Returns `path` with `.YYYYMMDDTHHMMSSZ` (the UTC time `secs`) appended.
pub fn stamped_path(path: &Path, secs: u64) -> PathBuf {
    let mut rfc3339 = String::new();
    naudit_records::rfc3339::write_rfc3339_ns(&mut rfc3339, secs * 1_000_000_000);
    // 2026-12-05T00:25:00.000000000Z becomes 20261205T002500Z.
    let stamp: String = rfc3339[..19].chars().filter(|character| *character != '-' && *character != ':').collect();
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{stamp}Z"));
    PathBuf::from(name)
}

impl FileOutput {
    /// Opens the destination `-w` names (standard output without it) in the
    /// format `--format` names. The default format is Argus binary with
    /// `-w`, otherwise a table on a terminal and CSV elsewhere. A file that
    /// exists is truncated.
    pub fn open(cli: &Cli, initial: &MarCounters) -> Result<FileOutput, String> {
        let to_stdout = cli.write.as_deref().map_or(true, |path| path == Path::new("-"));
        let format = match (cli.format, &cli.write) {
            (Some(format), _) => format,
            (None, Some(path)) => {
                warn_if_text_name(path);
                OutputFormat::Argus
            }
            (None, None) if io::stdout().is_terminal() => OutputFormat::Text,
            (None, None) => OutputFormat::Csv,
        };
        let path = if to_stdout { None } else { cli.write.clone() };
        let rotation = match (cli.rotate_secs, &path) {
            (None, _) => None,
            (Some(0), _) => {
                return Err("invalid value 0 for --rotate-seconds: give a positive number of seconds".to_string())
            }
            (Some(_), None) => {
                return Err("--rotate-seconds needs -w FILE: standard output cannot be rotated".to_string());
            }
            (Some(interval_secs), Some(_)) => {
                let now = wall_clock_secs();
                Some(Rotation { interval_secs, interval_start_secs: now - now % interval_secs })
            }
        };
        let mut output = FileOutput {
            destination: path.as_ref().map_or("standard output".to_string(), |path| path.display().to_string()),
            path,
            format,
            source_id: cli.source_id.parse().map_err(|error| format!("{error}"))?,
            observation_domain_id: crate::ipfix::observation_domain_id(cli)?,
            initial: *initial,
            writer: None,
            rotation,
            report: FileReport::default(),
            last_flush: coarsetime::Instant::now(),
            unflushed: true,
            error: None,
        };
        let destination: Box<dyn Write> = match &output.path {
            Some(path) => Box::new(BufWriter::new(create_file(path)?)),
            None => Box::new(io::stdout().lock()),
        };
        output.writer = Some(output.new_writer(destination, true)?);
        if output.format == OutputFormat::Ipfix {
            output.report.ipfix = Some(IpfixFileCounts::default());
        }
        Ok(output)
    }

    /// Creates the encoder for a newly opened destination. `empty` is false
    /// when the file already has content, so a CSV or text header is not
    /// repeated in the middle of it.
    fn new_writer(&self, destination: Box<dyn Write>, empty: bool) -> Result<FileWriter, String> {
        let text_format = match self.format {
            OutputFormat::Csv => Format::Csv,
            OutputFormat::Json => Format::Json,
            OutputFormat::Text => Format::Text,
            OutputFormat::Ipfix => {
                return Ok(FileWriter::Ipfix(IpfixFileWriter::new(destination, self.observation_domain_id)));
            }
            OutputFormat::Argus => {
                let initial = MarCounters { now_ns: crate::workers::wall_clock_ns(), ..self.initial };
                let writer = ArgusFileWriter::new(destination, self.destination.clone(), self.source_id, &initial)
                    .map_err(|error| error.to_string())?;
                return Ok(FileWriter::Argus(writer));
            }
        };
        let writer = if empty {
            RecordWriter::new(text_format, destination)
        } else {
            RecordWriter::without_header(text_format, destination)
        };
        Ok(FileWriter::Text(writer))
    }

    /// Returns the count of records written so far, over every file.
    pub fn records_written(&self) -> u64 {
        self.report.records_written
    }

    /// Reopens the file at its path after SIGHUP. The current file is
    /// flushed and closed, then the path is opened for appending. So a file
    /// renamed away (the logrotate pattern) is replaced by a new one, and a
    /// file still in place is not truncated. When the path cannot be
    /// opened, the current file stays open and the error is logged.
    pub fn reopen(&mut self) {
        let Some(path) = self.path.clone() else {
            tracing::info!("SIGHUP: standard output is not reopened");
            return;
        };
        let file = match OpenOptions::new().create(true).append(true).open(&path) {
            Ok(file) => file,
            Err(error) => {
                tracing::error!(path = %path.display(), %error, "SIGHUP: reopening the output file failed; writing on to the open file");
                return;
            }
        };
        let empty = file.metadata().map_or(true, |metadata| metadata.len() == 0);
        if self.close_writer().is_ok() {
            self.install_writer(Box::new(BufWriter::new(file)), empty);
            tracing::info!(path = %path.display(), "SIGHUP: output file reopened");
        }
    }

    /// Closes the current file when the wall clock has left its
    /// --rotate-seconds interval: renames it to `FILE.YYYYMMDDTHHMMSSZ`
    /// (the UTC start of the interval) and starts a new FILE.
    fn rotate_if_due(&mut self) {
        let Some(rotation) = &mut self.rotation else { return };
        let now = wall_clock_secs();
        if now < rotation.interval_start_secs + rotation.interval_secs {
            return;
        }
        let finished_start_secs = rotation.interval_start_secs;
        rotation.interval_start_secs = now - now % rotation.interval_secs;
        if self.close_and_stamp(finished_start_secs).is_err() {
            return;
        }
        let Some(path) = self.path.clone() else { return };
        match create_file(&path) {
            Ok(file) => self.install_writer(Box::new(BufWriter::new(file)), true),
            Err(message) => self.note_error(message),
        }
    }

    /// Flushes and closes the current file, then renames it with the UTC
    /// time `interval_start_secs`.
    fn close_and_stamp(&mut self, interval_start_secs: u64) -> Result<(), ()> {
        self.close_writer()?;
        let Some(path) = &self.path else { return Ok(()) };
        let stamped = stamped_path(path, interval_start_secs);
        if let Err(error) = std::fs::rename(path, &stamped) {
            let message =
                format!("{}: renaming the output file to {} failed: {error}", path.display(), stamped.display());
            self.note_error(message);
            return Err(());
        }
        tracing::info!(path = %stamped.display(), "output file closed for --rotate-seconds");
        Ok(())
    }

    fn install_writer(&mut self, destination: Box<dyn Write>, empty: bool) {
        match self.new_writer(destination, empty) {
            Ok(writer) => self.writer = Some(writer),
            Err(message) => self.note_error(message),
        }
    }

    /// Flushes and closes the current file without a closing management
    /// record (ra reads an Argus file without one completely), and adds
    /// its counts to the report.
    fn close_writer(&mut self) -> Result<(), ()> {
        let Some(writer) = self.writer.take() else { return Err(()) };
        let result = match writer {
            FileWriter::Text(writer) => writer.finish().map(|_| ()).map_err(|error| error.to_string()),
            FileWriter::Argus(mut writer) => writer.flush().map_err(|error| error.to_string()),
            FileWriter::Ipfix(writer) => {
                writer.finish().map(|counts| self.add_ipfix_counts(counts)).map_err(|error| error.to_string())
            }
        };
        self.report.rotations += 1;
        result.map_err(|error| self.note_error(format!("{}: writing records failed: {error}", self.destination)))
    }

    fn add_ipfix_counts(&mut self, counts: IpfixFileCounts) {
        if let Some(total) = &mut self.report.ipfix {
            total.messages += counts.messages;
            total.data_records += counts.data_records;
            total.template_records += counts.template_records;
            total.records_without_template += counts.records_without_template;
        }
    }

    /// Keeps the first error and logs it. Nothing more is written.
    fn note_error(&mut self, message: String) {
        tracing::error!(%message, "no further records are written to the output file");
        self.writer = None;
        self.error.get_or_insert(message);
    }

    /// Flushes everything written and closes an Argus file with its closing
    /// management record. With --rotate-seconds the last file is renamed
    /// with its interval's start like the others. Returns the counts, or
    /// the first error.
    pub fn finish(mut self, closing: &MarCounters) -> Result<FileReport, String> {
        let result = match self.writer.take() {
            None => Ok(()),
            Some(FileWriter::Text(writer)) => writer.finish().map(|_| ()).map_err(|error| error.to_string()),
            Some(FileWriter::Argus(writer)) => writer.finish(closing).map(|_| ()).map_err(|error| error.to_string()),
            Some(FileWriter::Ipfix(writer)) => {
                writer.finish().map(|counts| self.add_ipfix_counts(counts)).map_err(|error| error.to_string())
            }
        };
        if let Err(error) = result {
            self.error.get_or_insert(format!("{}: writing records failed: {error}", self.destination));
        }
        if let (Some(rotation), None) = (&self.rotation, &self.error) {
            let (start, path) = (rotation.interval_start_secs, self.path.clone());
            if let Some(path) = path {
                let stamped = stamped_path(&path, start);
                if let Err(error) = std::fs::rename(&path, &stamped) {
                    self.error = Some(format!(
                        "{}: renaming the output file to {} failed: {error}",
                        path.display(),
                        stamped.display()
                    ));
                }
            }
        }
        match self.error {
            Some(message) => Err(message),
            None => Ok(self.report),
        }
    }
}

impl RecordSink for FileOutput {
    fn emit(&mut self, record: &FlowRecord) {
        if self.rotation.is_some() {
            self.rotate_if_due();
        }
        let Some(writer) = &mut self.writer else { return };
        let result = match writer {
            FileWriter::Text(writer) => {
                writer.emit(record);
                Ok(true)
            }
            FileWriter::Argus(writer) => writer.write_flow(record).map(|()| true).map_err(|error| error.to_string()),
            FileWriter::Ipfix(writer) => writer
                .write_flow(record)
                .map_err(|error| format!("{}: writing IPFIX messages failed: {error}", self.destination)),
        };
        match result {
            Ok(true) => self.report.records_written += 1,
            Ok(false) => {}
            Err(message) => self.note_error(message),
        }
        self.unflushed = true;
        if self.last_flush.elapsed() >= FLUSH_INTERVAL {
            self.flush();
        }
    }

    fn idle(&mut self) {
        if self.rotation.is_some() {
            self.rotate_if_due();
        }
        if self.unflushed && self.last_flush.elapsed() >= FLUSH_INTERVAL {
            self.flush();
        }
    }
}

impl FileOutput {
    /// Writes out buffered records. Text formats keep an error for
    /// [`FileOutput::finish`], and an Argus or IPFIX error stops the output.
    fn flush(&mut self) {
        self.last_flush = coarsetime::Instant::now();
        self.unflushed = false;
        let result = match &mut self.writer {
            None => Ok(()),
            Some(FileWriter::Text(writer)) => {
                writer.flush();
                Ok(())
            }
            Some(FileWriter::Argus(writer)) => writer.flush().map_err(|error| error.to_string()),
            Some(FileWriter::Ipfix(writer)) => {
                writer.flush().map_err(|error| format!("{}: writing IPFIX messages failed: {error}", self.destination))
            }
        };
        if let Err(message) = result {
            self.note_error(message);
        }
    }
}

fn create_file(path: &Path) -> Result<File, String> {
    File::create(path).map_err(|error| {
        format!(
            "{}: cannot create the output file: {error}; check that the folder exists and is writable",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamped_path_appends_utc_time() {
        let stamped = stamped_path(Path::new("/var/log/flows.json"), 1_764_894_300);
        assert_eq!(stamped, PathBuf::from("/var/log/flows.json.20251205T002500Z"));
    }
}
