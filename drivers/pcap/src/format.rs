//! Capture format detection from the first bytes of an input.

use naudit_engine::SourceError;

use crate::erf::{self, ErfParser, Probe};
use crate::pcap::{self, PcapParser};
use crate::pcapng::{self, PcapngParser, SECTION_HEADER_TYPE_BYTES};
use crate::records::{cut_short_error, HeaderError, RecordParser};

/// Number of bytes that [`open_parser`] needs unless the input is shorter.
/// It is the length of the pcap file header, which also covers the start of
/// a pcapng section header up to its byte-order magic.
pub(crate) const DETECTION_BYTES: usize = pcap::FILE_HEADER_LEN;

/// Hint for an input with no bytes.
const HINT_EMPTY: &str = "so check that the capture was written and that the right file was given";

/// Result of [`open_parser`].
#[derive(Debug)]
pub(crate) enum Detected {
    /// The input's parser and the offset of its first record.
    Parser(RecordParser, usize),
    /// The input may be an ERF file, and telling needs this many bytes from
    /// its start.
    NeedMore(usize),
}

/// Detects the format of an input from its first bytes and returns its
/// parser and the offset of its first record.
///
/// `first_bytes` contains at least the input's first [`DETECTION_BYTES`]
/// bytes, or the whole input when it is shorter, and `input_ends` is true
/// when it is the whole input. The format comes from the magic number,
/// never from the file name. ERF files have none: an input without a pcap
/// or pcapng magic is read as ERF when its first records are valid ERF
/// records, and checking them may need more bytes.
pub(crate) fn open_parser(
    input: &str,
    first_bytes: &[u8],
    input_ends: bool,
) -> Result<Detected, SourceError> {
    if first_bytes.is_empty() {
        return Err(SourceError::Corrupt {
            input: input.to_owned(),
            offset_bytes: 0,
            packet_number: 1,
            reason: "the input is empty (0 bytes) and has no pcap or pcapng file header".to_owned(),
            hint: HINT_EMPTY,
        });
    }
    let Some(magic) = first_bytes
        .get(..4)
        .and_then(|magic| <[u8; 4]>::try_from(magic).ok())
    else {
        return Err(cut_short_error(
            input,
            0,
            1,
            "capture file header",
            4,
            first_bytes.len(),
        ));
    };

    if pcap::byte_order_of_magic(magic).is_some() {
        let parser = PcapParser::from_file_header(first_bytes)
            .map_err(|error| header_error(input, first_bytes, error))?;
        parser.log_opened(input);
        return Ok(Detected::Parser(
            RecordParser::Pcap(parser),
            pcap::FILE_HEADER_LEN,
        ));
    }

    if magic == SECTION_HEADER_TYPE_BYTES {
        // The section header block itself is read as the first record.
        let byte_order = first_bytes
            .get(8..12)
            .and_then(pcapng::byte_order_of_section_magic);
        tracing::info!(
            input,
            format = "pcapng",
            byte_order = %byte_order.map_or("unreadable".to_owned(), |order| order.to_string()),
            "opened capture file"
        );
        return Ok(Detected::Parser(
            RecordParser::Pcapng(PcapngParser::new(input)),
            0,
        ));
    }

    let not_erf = match erf::probe(first_bytes, input_ends) {
        Probe::Erf => {
            ErfParser::log_opened(input);
            return Ok(Detected::Parser(RecordParser::Erf(ErfParser::new()), 0));
        }
        Probe::NeedMore(needed) => return Ok(Detected::NeedMore(needed)),
        Probe::NotErf(reason) => reason,
    };

    Err(SourceError::Unsupported {
        input: input.to_owned(),
        what: format!(
            "unknown capture format: the input starts with the bytes {:02x} {:02x} {:02x} {:02x}, \
             but only pcap (magic a1b2c3d4, a1b23c4d or a1b2cd34 in either byte order), pcapng \
             (0a0d0d0a) and ERF are read, and the input is no ERF file either ({not_erf}). \
             Convert other formats with `editcap -F pcapng INPUT OUTPUT`",
            magic[0], magic[1], magic[2], magic[3]
        ),
    })
}

fn header_error(input: &str, first_bytes: &[u8], error: HeaderError) -> SourceError {
    match error {
        HeaderError::CutShort {
            needed,
            record_name,
        } => cut_short_error(input, 0, 1, record_name, needed, first_bytes.len()),
        HeaderError::Unsupported(description) => SourceError::Unsupported {
            input: input.to_owned(),
            what: description,
        },
    }
}
