//! The transport-independent part of an exporting process: templates,
//! encoding and message packing for one observation domain.

use std::time::{SystemTime, UNIX_EPOCH};

use naudit_engine::flow::FlowRecord;

use super::encoder::{template_id, write_data_record};
use super::message::MessageBuilder;
use super::template::{all_templates, write_withdraw_all, Template, TEMPLATE_SET_ID};

/// Returns the current time in seconds since the Unix epoch, as the export
/// time field carries it (it wraps in 2106).
pub fn export_time_now() -> u32 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs() as u32)
}

/// Encodes records and templates into messages of one observation domain.
/// Finished messages are appended to the caller's list, to be sent in
/// order.
#[derive(Debug)]
pub struct ExportSession {
    builder: MessageBuilder,
    templates: Vec<Template>,
    scratch: Vec<u8>,
}

impl ExportSession {
    /// Creates a session for `observation_domain_id` whose messages are at
    /// most `max_message_length` bytes. Returns an error message when the
    /// largest template or data record does not fit.
    pub fn new(observation_domain_id: u32, max_message_length: usize) -> Result<ExportSession, String> {
        let builder = MessageBuilder::new(observation_domain_id, max_message_length);
        let templates = all_templates();
        let mut largest = 0;
        for template in &templates {
            let mut record = Vec::new();
            template.write(&mut record);
            largest = largest.max(record.len()).max(template.record_length());
        }
        if largest > builder.max_record_length() {
            return Err(format!(
                "IPFIX messages of at most {max_message_length} bytes cannot hold a {largest}-byte template or record"
            ));
        }
        Ok(ExportSession { builder, templates, scratch: Vec::new() })
    }

    /// Returns the count of data records in finished messages.
    pub fn data_records_sent(&self) -> u32 {
        self.builder.data_records_sent()
    }

    /// Adds every template to the message being built.
    pub fn add_templates(&mut self, export_time_secs: u32, messages: &mut Vec<Vec<u8>>) {
        for index in 0..self.templates.len() {
            self.scratch.clear();
            self.templates[index].write(&mut self.scratch);
            messages.extend(self.builder.add_record(TEMPLATE_SET_ID, &self.scratch, export_time_secs));
        }
    }

    /// Adds the data record of `record`. Returns false, and adds nothing,
    /// for a record that no template carries.
    pub fn add_flow(&mut self, record: &FlowRecord, export_time_secs: u32, messages: &mut Vec<Vec<u8>>) -> bool {
        let Some(id) = template_id(record) else { return false };
        let Some(template) = self.templates.iter().find(|template| template.id == id) else {
            return false;
        };
        self.scratch.clear();
        write_data_record(&mut self.scratch, template, record);
        messages.extend(self.builder.add_record(id, &self.scratch, export_time_secs));
        true
    }

    /// Finishes the message being built, if it contains any record.
    pub fn flush(&mut self, export_time_secs: u32, messages: &mut Vec<Vec<u8>>) {
        messages.extend(self.builder.finish(export_time_secs));
    }

    /// Returns true when records wait in an unfinished message.
    pub fn has_pending(&self) -> bool {
        !self.builder.is_empty()
    }

    /// Flushes, then appends a message withdrawing every template. RFC 7011
    /// section 8.1 allows withdrawal only over reliable transports, so only
    /// the TCP exporter calls it.
    pub fn withdraw_templates(&mut self, export_time_secs: u32, messages: &mut Vec<Vec<u8>>) {
        self.flush(export_time_secs, messages);
        self.scratch.clear();
        write_withdraw_all(&mut self.scratch);
        messages.extend(self.builder.add_record(TEMPLATE_SET_ID, &self.scratch, export_time_secs));
        self.flush(export_time_secs, messages);
    }
}
