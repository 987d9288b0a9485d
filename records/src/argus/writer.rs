//! A writer of complete Argus files: initial MAR, records, closing MAR.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use naudit_engine::flow::FlowRecord;

use super::mar::MarCounters;
use super::source_id::SourceId;
use super::ArgusEncoder;

/// Initial capacity of the record buffer. A MAR (128 bytes) and the longest
/// flow record this encoder builds (312 bytes: IPv6 TCP with 64-bit counts,
/// VLAN tags and MACs) fit without growing it.
const RECORD_BUFFER_BYTES: usize = 512;

/// Error of an [`ArgusFileWriter`], with the path of the file.
#[derive(Debug, thiserror::Error)]
pub enum ArgusFileError {
    /// The file could not be created.
    #[error("{}: failed to create the Argus output file: {source}", path.display())]
    Create {
        /// The file's path.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Writing or flushing failed. Records written before may be incomplete.
    #[error("{}: failed to write Argus records: {source}", path.display())]
    Write {
        /// The file's path.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

impl ArgusFileError {
    /// Returns the path of the file that failed.
    pub fn path(&self) -> &Path {
        match self {
            ArgusFileError::Create { path, .. } | ArgusFileError::Write { path, .. } => path,
        }
    }
}

/// Writes an Argus file: the initial MAR when created, flow records and
/// status MARs as they come, and the closing MAR on [`finish`].
///
/// A writer dropped without `finish` leaves a file without the closing MAR,
/// which ra still reads completely. A [`BufWriter`] output then flushes on
/// drop and ignores any error.
///
/// [`finish`]: ArgusFileWriter::finish
#[derive(Debug)]
pub struct ArgusFileWriter<W: Write> {
    output: W,
    path: PathBuf,
    encoder: ArgusEncoder,
    /// One encoded record; reused so that writing allocates nothing.
    buffer: Vec<u8>,
}

impl ArgusFileWriter<BufWriter<File>> {
    /// Creates or truncates the file at `path` and writes the initial MAR.
    pub fn create(
        path: impl AsRef<Path>,
        source_id: SourceId,
        initial: &MarCounters,
    ) -> Result<ArgusFileWriter<BufWriter<File>>, ArgusFileError> {
        let path = path.as_ref();
        let file = File::create(path).map_err(|source| ArgusFileError::Create { path: path.to_owned(), source })?;
        ArgusFileWriter::new(BufWriter::new(file), path, source_id, initial)
    }
}

impl<W: Write> ArgusFileWriter<W> {
    /// Wraps `output` and writes the initial MAR to it. `path` names the
    /// output in errors.
    pub fn new(
        output: W,
        path: impl Into<PathBuf>,
        source_id: SourceId,
        initial: &MarCounters,
    ) -> Result<ArgusFileWriter<W>, ArgusFileError> {
        let mut writer = ArgusFileWriter {
            output,
            path: path.into(),
            encoder: ArgusEncoder::new(source_id),
            buffer: Vec::with_capacity(RECORD_BUFFER_BYTES),
        };
        writer.encoder.encode_initial_mar(initial, &mut writer.buffer);
        writer.write_buffer()?;
        Ok(writer)
    }

    /// Writes one flow record.
    pub fn write_flow(&mut self, record: &FlowRecord) -> Result<(), ArgusFileError> {
        self.encoder.encode_flow(record, &mut self.buffer);
        self.write_buffer()
    }

    /// Writes a status MAR with the counts of the interval since the
    /// previous MAR.
    pub fn write_status_mar(&mut self, counters: &MarCounters) -> Result<(), ArgusFileError> {
        self.encoder.encode_status_mar(counters, &mut self.buffer);
        self.write_buffer()
    }

    /// Flushes buffered records to the output.
    pub fn flush(&mut self) -> Result<(), ArgusFileError> {
        self.output.flush().map_err(|source| self.write_error(source))
    }

    /// Writes the closing MAR with the counts of the last interval, flushes,
    /// and returns the output.
    pub fn finish(mut self, counters: &MarCounters) -> Result<W, ArgusFileError> {
        self.encoder.encode_closing_mar(counters, &mut self.buffer);
        self.write_buffer()?;
        self.flush()?;
        Ok(self.output)
    }

    /// Returns the path given when the writer was created.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the encoder, for its source id and last sequence number.
    pub fn encoder(&self) -> &ArgusEncoder {
        &self.encoder
    }

    fn write_buffer(&mut self) -> Result<(), ArgusFileError> {
        let result = self.output.write_all(&self.buffer);
        self.buffer.clear();
        result.map_err(|source| self.write_error(source))
    }

    fn write_error(&self, source: io::Error) -> ArgusFileError {
        ArgusFileError::Write { path: self.path.clone(), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::mar::ARGUS_V3_COOKIE;
    use naudit_engine::flow::{DirectionStats, FlowKey, RecordCause};
    use std::net::{IpAddr, Ipv4Addr};

    fn udp_record() -> FlowRecord {
        let address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        FlowRecord {
            key: FlowKey::Ip { src: address, dst: address, protocol: 17, src_port: 1, dst_port: 2, tunnel: Default::default() },
            cause: RecordCause::Start,
            start_ns: 1_000_000_000,
            last_ns: 2_000_000_000,
            src: DirectionStats { pkts: 1, bytes: 60, ..DirectionStats::default() },
            dst: DirectionStats::default(),
            tcp: None,
            arp_reply_mac: None,
            icmp_error: None,
            encapsulation: [0; 2],
            mpls_label: [None; 2],
            report_index: 0,
            worker_id: 0,
            tunnel: None,
            ib: None,
        }
    }

    /// A writer that fails every write after `accept` bytes.
    #[derive(Debug)]
    struct FailingWriter {
        accept: usize,
    }

    impl Write for FailingWriter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.accept == 0 {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            let written = buf.len().min(self.accept);
            self.accept -= written;
            Ok(written)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn file_layout_is_initial_records_closing() {
        let counters = MarCounters::default();
        let mut writer = ArgusFileWriter::new(Vec::new(), "memory", SourceId::Integer(5), &counters).unwrap();
        writer.write_flow(&udp_record()).unwrap();
        writer.write_status_mar(&counters).unwrap();
        writer.write_flow(&udp_record()).unwrap();
        assert_eq!(writer.encoder().last_sequence(), 2);
        let bytes = writer.finish(&counters).unwrap();

        assert_eq!(&bytes[..4], [0x83, 0x10, 0x00, 0x20]);
        assert_eq!(&bytes[8..12], ARGUS_V3_COOKIE);
        let mut offset = 128;
        let mut headers = Vec::new();
        while offset < bytes.len() {
            let words = u16::from_be_bytes([bytes[offset + 2], bytes[offset + 3]]);
            headers.push([bytes[offset], bytes[offset + 1]]);
            offset += usize::from(words) * 4;
        }
        assert_eq!(offset, bytes.len(), "records fill the file exactly");
        assert_eq!(headers, [[0x13, 0x10], [0x83, 0x20], [0x13, 0x10], [0x83, 0x30]]);
        assert_eq!(
            &bytes[bytes.len() - 128 + 20..bytes.len() - 128 + 24],
            2u32.to_be_bytes(),
            "last sequence in the closing MAR"
        );
    }

    #[test]
    fn create_error_names_the_path() {
        let path = Path::new("/nonexistent-directory-for-naudit-tests/flows.argus");
        let error = ArgusFileWriter::create(path, SourceId::default(), &MarCounters::default()).unwrap_err();
        assert!(matches!(error, ArgusFileError::Create { .. }), "error {error:?}");
        assert_eq!(error.path(), path);
        let message = error.to_string();
        assert!(
            message.starts_with("/nonexistent-directory-for-naudit-tests/flows.argus: failed to create"),
            "message {message}"
        );
    }

    #[test]
    fn write_error_names_the_path() {
        let counters = MarCounters::default();
        let output = FailingWriter { accept: 128 };
        let mut writer = ArgusFileWriter::new(output, "/var/log/flows.argus", SourceId::default(), &counters).unwrap();
        let error = writer.write_flow(&udp_record()).unwrap_err();
        assert!(matches!(error, ArgusFileError::Write { .. }), "error {error:?}");
        assert_eq!(error.path(), Path::new("/var/log/flows.argus"));
        assert_eq!(error.to_string(), "/var/log/flows.argus: failed to write Argus records: disk full");
    }

    #[test]
    fn initial_mar_error_names_the_path() {
        let error = ArgusFileWriter::new(
            FailingWriter { accept: 10 },
            "out.argus",
            SourceId::default(),
            &MarCounters::default(),
        )
        .unwrap_err();
        assert_eq!(error.path(), Path::new("out.argus"));
    }
}
