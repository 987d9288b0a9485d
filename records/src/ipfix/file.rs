//! IPFIX files (RFC 5655): a sequence of messages, templates first.

use std::io::{self, Write};

use naudit_engine::flow::FlowRecord;

use super::exporter::record_counts;
use super::message::MAX_MESSAGE_LENGTH;
use super::session::{export_time_now, ExportSession};

/// Writes flow records to an IPFIX file. Messages use the full 64 KiB,
/// and the templates come once, at the start of the first message.
pub struct IpfixFileWriter<W: Write> {
    output: W,
    session: ExportSession,
    messages: Vec<Vec<u8>>,
    records_written: u64,
    counts: IpfixFileCounts,
}

/// Counts of the messages and records an [`IpfixFileWriter`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpfixFileCounts {
    /// Messages written.
    pub messages: u64,
    /// Data records in the messages written.
    pub data_records: u64,
    /// Template records in the messages written.
    pub template_records: u64,
    /// Records of a kind that no template carries, not written.
    pub records_without_template: u64,
}

impl<W: Write> IpfixFileWriter<W> {
    /// Creates a writer whose messages carry `observation_domain_id`.
    pub fn new(output: W, observation_domain_id: u32) -> IpfixFileWriter<W> {
        let mut session =
            ExportSession::new(observation_domain_id, MAX_MESSAGE_LENGTH).expect("every template fits in 64 KiB");
        let mut messages = Vec::new();
        session.add_templates(export_time_now(), &mut messages);
        IpfixFileWriter { output, session, messages, records_written: 0, counts: IpfixFileCounts::default() }
    }

    /// Encodes one record, writing each message as it fills. Returns
    /// false for a record that no template carries, which is counted and
    /// not written.
    pub fn write_flow(&mut self, record: &FlowRecord) -> io::Result<bool> {
        let encoded = self.session.add_flow(record, export_time_now(), &mut self.messages);
        if encoded {
            self.records_written += 1;
        } else {
            self.counts.records_without_template += 1;
        }
        self.write_messages()?;
        Ok(encoded)
    }

    /// Returns the count of records written or waiting in the last message.
    pub fn records_written(&self) -> u64 {
        self.records_written
    }

    /// Finishes the message being built, writes it and flushes the output,
    /// so that a reader can read every record written so far.
    pub fn flush(&mut self) -> io::Result<()> {
        self.session.flush(export_time_now(), &mut self.messages);
        self.write_messages()?;
        self.output.flush()
    }

    /// Returns the counts of what reached the output so far.
    pub fn counts(&self) -> IpfixFileCounts {
        self.counts
    }

    /// Writes the last message and flushes. Returns the counts of what
    /// was written.
    pub fn finish(mut self) -> io::Result<IpfixFileCounts> {
        self.session.flush(export_time_now(), &mut self.messages);
        self.write_messages()?;
        self.output.flush()?;
        Ok(self.counts)
    }

    fn write_messages(&mut self) -> io::Result<()> {
        for message in self.messages.drain(..) {
            self.output.write_all(&message)?;
            let records = record_counts(&message);
            self.counts.messages += 1;
            self.counts.data_records += records.data_records;
            self.counts.template_records += records.template_records;
        }
        Ok(())
    }
}
