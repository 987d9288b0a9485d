//! The pcap driver: reads pcap, pcapng and ERF capture files, and live captures
//! through libpcap, and hands their packets to the engine through
//! [`PacketSource`].
//!
//! [`open_inputs`] is the entry point. It detects each input's format from
//! its magic number, or for ERF, which has none, from its first records,
//! never from its name, and picks a reader:
//!
//! - a regular file is memory-mapped and read without copying
//!   ([`MappedSource`]);
//! - `-` (standard input) and named pipes are read through a refill buffer
//!   ([`StreamSource`]);
//! - several regular files are merged into one input in timestamp order
//!   ([`MergeSource`]).
//!
//! Formats read: classic pcap in either byte order with microsecond or
//! nanosecond timestamps (and the modified 0xa1b2cd34 variant that libpcap
//! also reads), and pcapng with any number of sections and interfaces, with
//! enhanced, simple and obsolete packet blocks, and ERF files (see the `erf`
//! module). A frame whose FCS the file keeps (the FCS bits of the pcap
//! header, pcapng's `if_fcslen`) is delivered without it, in its data and
//! its wire length. Timestamps become nanoseconds since 1970. A pcapng
//! packet's [`PacketView::port`] is its interface id, and its link type is
//! that of its interface. An ERF packet's port is the card's interface
//! (0 to 3), and a pcap packet's port is 0.
//!
//! A damaged input yields every packet before the damage and then
//! [`SourceError::Corrupt`] with the byte offset of the damaged record.
//!
//! Live capture goes through libpcap: [`LiveSource`] reads an interface
//! that [`list_devices`] lists, with a filter set in the kernel.
//! [`BpfFilter`] compiles a filter expression with libpcap for any driver,
//! and [`FilteredSource`] applies one to a capture file in user space.
//!
//! [`PacketView::port`]: naudit_engine::PacketView::port

#![deny(unsafe_code)]

mod arena;
mod devices;
mod dlt;
mod drops;
mod endian;
mod erf;
mod ffi;
mod filter;
mod filtered;
mod format;
mod interface;
mod live;
mod live_errors;
mod mapped;
mod merge;
mod pcap;
mod pcapng;
mod records;
mod stream;

use std::path::{Path, PathBuf};

use naudit_engine::{BatchStatus, PacketSource, PacketView, SourceCounters, SourceError};

pub use devices::{list_devices, DeviceAddress, DeviceInfo};
pub use filter::{BpfFilter, FilterError, SockFilter};
pub use filtered::{FilterCounters, FilteredSource};
pub use live::{
    LiveConfig, LiveSource, DEFAULT_BUFFER_SIZE_BYTES, DEFAULT_SNAPLEN_BYTES, DEFAULT_TIMEOUT_MS,
};
pub use mapped::MappedSource;
pub use merge::MergeSource;
pub use pcapng::MAX_BLOCK_LEN_BYTES;
pub use records::MAX_CAPTURED_LEN_BYTES;
pub use stream::{StreamSource, DEFAULT_STREAM_BUFFER_BYTES};

/// The input name that stands for standard input.
pub const STDIN_NAME: &str = "-";

/// The capture input that [`open_inputs`] returns.
pub enum CaptureSource {
    /// One regular file, memory-mapped.
    Mapped(MappedSource),
    /// Standard input or a named pipe.
    Stream(StreamSource),
    /// Several regular files merged by timestamp.
    Merged(MergeSource),
}

impl CaptureSource {
    /// Returns another source that reads the same input from its start and
    /// shares its memory mapping. Only one mapped file that has not been
    /// read yet can be shared; other inputs return `None`.
    pub fn share(&self) -> Option<CaptureSource> {
        match self {
            CaptureSource::Mapped(source) => source.share().map(CaptureSource::Mapped),
            CaptureSource::Stream(_) | CaptureSource::Merged(_) => None,
        }
    }
}

/// Opens the capture inputs named by `paths` as one packet source.
///
/// A path of `-` is standard input. One regular file is memory-mapped;
/// several are merged by timestamp. Standard input or a named pipe must be
/// the only input, because the merge reads every file ahead. Each input's
/// format comes from its first bytes. The file header is read here, so this
/// blocks until a pipe's writer has sent it.
pub fn open_inputs(paths: &[PathBuf]) -> Result<CaptureSource, SourceError> {
    let Some(first) = paths.first() else {
        return Err(SourceError::Unsupported {
            input: "(no input)".to_owned(),
            what: "no capture input was given. Name one or more capture files, or - for standard input".to_owned(),
        });
    };

    let mut kinds = Vec::with_capacity(paths.len());
    for path in paths {
        kinds.push(input_kind(path)?);
    }
    if paths.len() > 1 {
        if let Some(stream_index) = kinds
            .iter()
            .position(|kind| *kind != InputKind::RegularFile)
        {
            let stream = &paths[stream_index];
            let described = if kinds[stream_index] == InputKind::Stdin {
                "standard input (-)"
            } else {
                "a pipe or device, not a regular file"
            };
            return Err(SourceError::Unsupported {
                input: stream.to_string_lossy().into_owned(),
                what: format!(
                    "this input is {described}, which can only be read as the only input, but {} inputs were given. \
                     Read it on its own, or save it to a file first",
                    paths.len()
                ),
            });
        }
        return Ok(CaptureSource::Merged(MergeSource::open(paths)?));
    }

    match kinds[0] {
        InputKind::Stdin => {
            let reader = Box::new(std::io::stdin());
            Ok(CaptureSource::Stream(StreamSource::from_reader(
                STDIN_NAME,
                reader,
                DEFAULT_STREAM_BUFFER_BYTES,
            )?))
        }
        InputKind::Stream => Ok(CaptureSource::Stream(StreamSource::open_pipe(
            first,
            DEFAULT_STREAM_BUFFER_BYTES,
        )?)),
        InputKind::RegularFile => Ok(CaptureSource::Mapped(MappedSource::open(first)?)),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InputKind {
    Stdin,
    /// A named pipe, character device or socket: read as a stream.
    Stream,
    RegularFile,
}

fn input_kind(path: &Path) -> Result<InputKind, SourceError> {
    if path.as_os_str() == STDIN_NAME {
        return Ok(InputKind::Stdin);
    }
    let name = || path.to_string_lossy().into_owned();
    let metadata = std::fs::metadata(path).map_err(|source| SourceError::Io {
        input: name(),
        context: "failed to open the capture input",
        source,
    })?;
    if metadata.is_dir() {
        return Err(SourceError::Unsupported {
            input: name(),
            what: "this is a directory, not a capture file. Name the capture files in it instead"
                .to_owned(),
        });
    }
    if metadata.is_file() {
        Ok(InputKind::RegularFile)
    } else {
        Ok(InputKind::Stream)
    }
}

impl PacketSource for CaptureSource {
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        match self {
            CaptureSource::Mapped(source) => source.next_batch(process),
            CaptureSource::Stream(source) => source.next_batch(process),
            CaptureSource::Merged(source) => source.next_batch(process),
        }
    }

    fn next_batch_kept<K, F>(&mut self, keep: K, process: F) -> Result<BatchStatus, SourceError>
    where
        K: FnMut(&PacketView<'_>) -> bool,
        F: FnOnce(&[PacketView<'_>]),
    {
        match self {
            CaptureSource::Mapped(source) => source.next_batch_kept(keep, process),
            CaptureSource::Stream(source) => source.next_batch_kept(keep, process),
            CaptureSource::Merged(source) => source.next_batch_kept(keep, process),
        }
    }

    fn counters(&self) -> SourceCounters {
        match self {
            CaptureSource::Mapped(source) => source.counters(),
            CaptureSource::Stream(source) => source.counters(),
            CaptureSource::Merged(source) => source.counters(),
        }
    }

    fn name(&self) -> &str {
        match self {
            CaptureSource::Mapped(source) => source.name(),
            CaptureSource::Stream(source) => source.name(),
            CaptureSource::Merged(source) => source.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CaptureSource;

    #[test]
    fn capture_source_is_send() {
        // Workers run on their own threads, so the source must move there.
        fn assert_send<T: Send>() {}
        assert_send::<CaptureSource>();
    }
}
