//! The 4-byte Argus source id that names the sensor in every record.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// MAR status bit: the source id is a 4-character string.
const MAR_STATUS_ID_IS_STRING: u32 = 0x0020_0000;
/// MAR status bit: the source id is a 32-bit integer.
const MAR_STATUS_ID_IS_INTEGER: u32 = 0x0040_0000;
/// MAR status bit: the source id is an IPv4 address.
const MAR_STATUS_ID_IS_IPV4: u32 = 0x0080_0000;

/// Transport DSR qualifier for an IPv4 source id.
const TRANSPORT_ID_IPV4: u8 = 0x01;
/// Transport DSR qualifier for an integer source id.
const TRANSPORT_ID_INTEGER: u8 = 0x20;
/// Transport DSR qualifier for a 4-character string source id.
const TRANSPORT_ID_STRING: u8 = 0x21;

/// Maximum length of a string source id, in bytes.
const MAX_STRING_LEN: usize = 4;

/// The sensor's Argus source id, one of the three 4-byte forms that Argus 3
/// clients can print.
///
/// `racluster` merges only records with equal source ids, so a sensor keeps
/// one id for its whole life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceId {
    /// An IPv4 address, usually one of the sensor's own.
    Ipv4(Ipv4Addr),
    /// An unsigned 32-bit integer.
    Integer(u32),
    /// One to four ASCII characters, padded with NUL bytes to four.
    ///
    /// NOTE: ra 3.0.8 prints this id correctly for flow records, but for
    /// MARs it converts the 4 bytes from network to host order first, so on
    /// little-endian hosts it shows the characters reversed.
    Text([u8; 4]),
}

impl SourceId {
    /// Returns the 4 bytes written in MARs and in the transport DSR:
    /// big-endian for addresses and integers, the characters in order for
    /// text.
    pub fn to_bytes(self) -> [u8; 4] {
        match self {
            SourceId::Ipv4(address) => address.octets(),
            SourceId::Integer(value) => value.to_be_bytes(),
            SourceId::Text(characters) => characters,
        }
    }

    /// Returns the MAR status bit of the id's kind, which ra uses to format
    /// the id.
    pub(crate) fn mar_status_bit(self) -> u32 {
        match self {
            SourceId::Ipv4(_) => MAR_STATUS_ID_IS_IPV4,
            SourceId::Integer(_) => MAR_STATUS_ID_IS_INTEGER,
            SourceId::Text(_) => MAR_STATUS_ID_IS_STRING,
        }
    }

    /// Returns the transport DSR qualifier for the id's kind.
    pub(crate) fn transport_qualifier(self) -> u8 {
        match self {
            SourceId::Ipv4(_) => TRANSPORT_ID_IPV4,
            SourceId::Integer(_) => TRANSPORT_ID_INTEGER,
            SourceId::Text(_) => TRANSPORT_ID_STRING,
        }
    }
}

impl Default for SourceId {
    /// Returns the IPv4 address 0.0.0.0, which is also what clients print
    /// for a record without a source id.
    fn default() -> Self {
        SourceId::Ipv4(Ipv4Addr::UNSPECIFIED)
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceId::Ipv4(address) => write!(f, "{address}"),
            SourceId::Integer(value) => write!(f, "{value}"),
            SourceId::Text(characters) => {
                let len = characters.iter().position(|&byte| byte == 0).unwrap_or(MAX_STRING_LEN);
                // Parsing admits only ASCII, so the bytes are valid UTF-8.
                f.write_str(std::str::from_utf8(&characters[..len]).unwrap_or("?"))
            }
        }
    }
}

/// Error for text that is not a valid Argus source id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid Argus source id {input:?}: expected an IPv4 address (192.0.2.1), \
     a decimal integer from 0 to 4294967295, or 1 to 4 printable ASCII characters"
)]
pub struct InvalidSourceId {
    /// The rejected text.
    pub input: String,
}

impl FromStr for SourceId {
    type Err = InvalidSourceId;

    /// Parses a dotted-quad IPv4 address, a decimal integer, or else a string
    /// of 1 to 4 printable ASCII characters.
    ///
    /// Text of digits only is always an integer, and text of digits and dots
    /// must be a valid address, so a string id cannot consist of those
    /// characters alone.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidSourceId { input: input.to_owned() };

        if input.is_empty() {
            return Err(invalid());
        }
        if input.bytes().all(|byte| byte.is_ascii_digit()) {
            return input.parse::<u32>().map(SourceId::Integer).map_err(|_| invalid());
        }
        if input.bytes().all(|byte| byte.is_ascii_digit() || byte == b'.') {
            return input.parse::<Ipv4Addr>().map(SourceId::Ipv4).map_err(|_| invalid());
        }

        let printable = input.bytes().all(|byte| byte.is_ascii_graphic() || byte == b' ');
        if input.len() > MAX_STRING_LEN || !printable {
            return Err(invalid());
        }
        let mut characters = [0u8; 4];
        characters[..input.len()].copy_from_slice(input.as_bytes());
        Ok(SourceId::Text(characters))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ipv4_address() {
        let id: SourceId = "192.0.2.7".parse().unwrap();
        assert_eq!(id, SourceId::Ipv4(Ipv4Addr::new(192, 0, 2, 7)));
        assert_eq!(id.to_bytes(), [192, 0, 2, 7]);
        assert_eq!(id.transport_qualifier(), 0x01);
        assert_eq!(id.mar_status_bit(), 0x0080_0000);
    }

    #[test]
    fn parses_integer() {
        let id: SourceId = "4294967295".parse().unwrap();
        assert_eq!(id, SourceId::Integer(u32::MAX));
        assert_eq!("258".parse::<SourceId>().unwrap().to_bytes(), [0, 0, 1, 2]);
        assert_eq!(id.transport_qualifier(), 0x20);
        assert_eq!(id.mar_status_bit(), 0x0040_0000);
    }

    #[test]
    fn parses_short_and_full_strings() {
        let full: SourceId = "nd01".parse().unwrap();
        assert_eq!(full, SourceId::Text(*b"nd01"));
        assert_eq!(full.transport_qualifier(), 0x21);
        assert_eq!(full.mar_status_bit(), 0x0020_0000);

        let short: SourceId = "ab".parse().unwrap();
        assert_eq!(short.to_bytes(), [b'a', b'b', 0, 0]);
        assert_eq!(short.to_string(), "ab");
    }

    #[test]
    fn rejects_invalid_text() {
        for input in ["", "4294967296", "1.2.3", "1.2.3.256", "abcde", "a\tb", "é"] {
            let error = input.parse::<SourceId>().unwrap_err();
            assert_eq!(error.input, input, "input {input:?}");
            assert!(error.to_string().contains("invalid Argus source id"), "message {error}");
        }
    }

    #[test]
    fn display_round_trips() {
        for input in ["10.1.2.3", "77", "x9"] {
            assert_eq!(input.parse::<SourceId>().unwrap().to_string(), input);
        }
    }
}
