//! Messages of the Argus 3 record stream ("port 561") that a client sends,
//! and the server's 2-byte replies.
//!
//! A message is ASCII text with no terminator, sent in one write: `FILTER:
//! <expression>`, `START: `, `DONE: `, `FILE: <path>`, and radium's `MODEL:
//! ` and `PROJECT: `. ra 3.0.8 sends `FILTER: man or (<expression>)` when the
//! user gave a filter, waits for the 2-byte reply, then sends `START: `. On
//! any reply other than `OK` it prints "remote filter syntax error." for `SY`
//! (checked with Debian's 3.0.8.2) and closes the connection.

/// Reply to an accepted filter.
pub const REPLY_OK: &[u8; 2] = b"OK";
/// Reply to a filter that does not parse; argus 3.0.8 sends the same.
pub const REPLY_SYNTAX_ERROR: &[u8; 2] = b"SY";

const FILTER_PREFIX: &str = "FILTER: ";
const START_PREFIX: &str = "START: ";
const DONE_PREFIX: &str = "DONE: ";
const FILE_PREFIX: &str = "FILE: ";
const MODEL_PREFIX: &str = "MODEL: ";
const PROJECT_PREFIX: &str = "PROJECT: ";

/// Every message prefix. A message's argument ends where the next prefix
/// starts, in case a client sent two messages before reading a reply.
const PREFIXES: [&str; 6] = [FILTER_PREFIX, START_PREFIX, DONE_PREFIX, FILE_PREFIX, MODEL_PREFIX, PROJECT_PREFIX];

/// One message from a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientMessage<'a> {
    /// `FILTER: <expression>`: select the records to send.
    Filter(&'a str),
    /// `START: `: begin sending records.
    Start,
    /// `DONE: `: the client is closing.
    Done,
    /// `FILE: <path>`: replay a file held by the server.
    File(&'a str),
    /// `MODEL: ` or `PROJECT: `: radium extensions with no meaning here.
    Ignored(&'a str),
    /// Text that is not a known message.
    Unknown(&'a str),
}

/// Splits the text of one read into messages.
///
/// NOTE: a message split over two reads is taken as two messages. Clients
/// send each message in one small write and wait for the reply, so on a
/// loopback or LAN connection one read contains one message.
pub fn parse_messages(chunk: &[u8]) -> Vec<ClientMessage<'_>> {
    let text = match std::str::from_utf8(chunk) {
        Ok(text) => text,
        Err(error) => std::str::from_utf8(&chunk[..error.valid_up_to()]).unwrap_or_default(),
    };
    let mut messages = Vec::new();
    let mut rest = text.trim_start_matches(['\0', '\r', '\n']);

    while !rest.is_empty() {
        let Some(prefix) = PREFIXES.iter().find(|prefix| rest.starts_with(*prefix)) else {
            messages.push(ClientMessage::Unknown(trim_argument(rest)));
            break;
        };
        let after_prefix = &rest[prefix.len()..];
        let argument_len = PREFIXES.iter().filter_map(|next| after_prefix.find(next)).min().unwrap_or(after_prefix.len());
        let argument = trim_argument(&after_prefix[..argument_len]);

        messages.push(match *prefix {
            FILTER_PREFIX => ClientMessage::Filter(argument),
            START_PREFIX => ClientMessage::Start,
            DONE_PREFIX => ClientMessage::Done,
            FILE_PREFIX => ClientMessage::File(argument),
            _ => ClientMessage::Ignored(prefix.trim_end()),
        });
        rest = after_prefix[argument_len..].trim_start_matches(['\0', '\r', '\n']);
    }
    messages
}

/// Removes the NUL bytes and line ends some clients append.
fn trim_argument(argument: &str) -> &str {
    argument.trim_matches(|character: char| character == '\0' || character.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_ra_sends() {
        assert_eq!(parse_messages(b"FILTER: man or (tcp and port 80)"), [ClientMessage::Filter("man or (tcp and port 80)")]);
        assert_eq!(parse_messages(b"START: "), [ClientMessage::Start]);
        assert_eq!(parse_messages(b"DONE: "), [ClientMessage::Done]);
    }

    #[test]
    fn two_messages_in_one_read() {
        assert_eq!(parse_messages(b"FILTER: tcpSTART: "), [ClientMessage::Filter("tcp"), ClientMessage::Start]);
        assert_eq!(parse_messages(b"START: DONE: "), [ClientMessage::Start, ClientMessage::Done]);
    }

    #[test]
    fn other_messages() {
        assert_eq!(parse_messages(b"FILE: /tmp/x.argus"), [ClientMessage::File("/tmp/x.argus")]);
        assert_eq!(parse_messages(b"MODEL: "), [ClientMessage::Ignored("MODEL:")]);
        assert_eq!(parse_messages(b"PROJECT: "), [ClientMessage::Ignored("PROJECT:")]);
        assert_eq!(parse_messages(b"HELLO"), [ClientMessage::Unknown("HELLO")]);
    }

    #[test]
    fn trailing_nul_and_newline_are_trimmed() {
        assert_eq!(parse_messages(b"FILTER: udp\0"), [ClientMessage::Filter("udp")]);
        assert_eq!(parse_messages(b"START: \r\n"), [ClientMessage::Start]);
        assert_eq!(parse_messages(b"\0"), []);
    }

    #[test]
    fn invalid_utf8_keeps_the_valid_start() {
        assert_eq!(parse_messages(b"START: \xff\xfe"), [ClientMessage::Start]);
        assert_eq!(parse_messages(b"\xff"), []);
    }
}
