//! IPFIX files (RFC 5655): a sequence of messages, templates first.

use std::io::{self, Write};

use naudit_engine::flow::FlowRecord;

use super::message::MAX_MESSAGE_LENGTH;
use super::session::{export_time_now, ExportSession};

/// Writes flow records to an IPFIX file. Messages use the full 64 KiB,
/// and the templates come once, at the start of the first message.
pub struct IpfixFileWriter<W: Write> {
    output: W,
    session: ExportSession,
    messages: Vec<Vec<u8>>,
    records_written: u64,
}

impl<W: Write> IpfixFileWriter<W> {
    /// Creates a writer whose messages carry `observation_domain_id`.
    pub fn new(output: W, observation_domain_id: u32) -> IpfixFileWriter<W> {
        let mut session =
            ExportSession::new(observation_domain_id, MAX_MESSAGE_LENGTH).expect("every template fits in 64 KiB");
        let mut messages = Vec::new();
        session.add_templates(export_time_now(), &mut messages);
        IpfixFileWriter { output, session, messages, records_written: 0 }
    }

    /// Encodes one record, writing each message as it fills.
    pub fn write_flow(&mut self, record: &FlowRecord) -> io::Result<()> {
        self.session.add_flow(record, export_time_now(), &mut self.messages);
        self.records_written += 1;
        self.write_messages()
    }

    /// Returns the count of records written or waiting in the last message.
    pub fn records_written(&self) -> u64 {
        self.records_written
    }

    /// Writes the last message and flushes. Returns the count of records.
    pub fn finish(mut self) -> io::Result<u64> {
        self.session.flush(export_time_now(), &mut self.messages);
        self.write_messages()?;
        self.output.flush()?;
        Ok(self.records_written)
    }

    fn write_messages(&mut self) -> io::Result<()> {
        for message in self.messages.drain(..) {
            self.output.write_all(&message)?;
        }
        Ok(())
    }
}
