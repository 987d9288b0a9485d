//! Message and set framing (RFC 7011 section 3): packs template and data
//! records into messages no longer than a maximum size.

/// IPFIX version number in the message header.
pub const IPFIX_VERSION: u16 = 10;
/// Length of the message header, in bytes.
pub const MESSAGE_HEADER_LENGTH: usize = 16;
/// Length of a set header, in bytes.
pub const SET_HEADER_LENGTH: usize = 4;
/// Largest message the 16-bit length field allows.
pub const MAX_MESSAGE_LENGTH: usize = 65_535;

/// Builds messages for one observation domain and numbers them.
///
/// The sequence number of a message is the count of data records sent in
/// earlier messages of the domain, modulo 2^32 (RFC 7011 section 3.1), so
/// a message with templates only leaves it unchanged.
#[derive(Debug)]
pub struct MessageBuilder {
    observation_domain_id: u32,
    max_message_length: usize,
    data_records_sent: u32,
    message: Vec<u8>,
    /// The set id and start offset of the set being filled.
    open_set: Option<(u16, usize)>,
    data_records_in_message: u32,
}

impl MessageBuilder {
    /// Creates a builder for `observation_domain_id` whose messages are at
    /// most `max_message_length` bytes (clamped to the 16-bit limit).
    pub fn new(observation_domain_id: u32, max_message_length: usize) -> MessageBuilder {
        MessageBuilder {
            observation_domain_id,
            max_message_length: max_message_length.min(MAX_MESSAGE_LENGTH),
            data_records_sent: 0,
            message: Vec::new(),
            open_set: None,
            data_records_in_message: 0,
        }
    }

    /// Returns the observation domain id.
    pub fn observation_domain_id(&self) -> u32 {
        self.observation_domain_id
    }

    /// Returns the count of data records in finished messages, modulo 2^32.
    pub fn data_records_sent(&self) -> u32 {
        self.data_records_sent
    }

    /// Returns true when no record waits in an unfinished message.
    pub fn is_empty(&self) -> bool {
        self.message.is_empty()
    }

    /// Returns the most bytes one record can have and still fit in a
    /// message of its own.
    pub fn max_record_length(&self) -> usize {
        self.max_message_length.saturating_sub(MESSAGE_HEADER_LENGTH + SET_HEADER_LENGTH)
    }

    /// Adds one record to the set `set_id` (2 for templates, the template id
    /// for data). When the record does not fit in the current message, that
    /// message is finished with `export_time_secs` and returned, and the
    /// record starts the next one.
    ///
    /// # Panics
    ///
    /// When the record is longer than [`MessageBuilder::max_record_length`].
    pub fn add_record(&mut self, set_id: u16, record: &[u8], export_time_secs: u32) -> Option<Vec<u8>> {
        assert!(record.len() <= self.max_record_length(), "record of {} bytes exceeds the message size", record.len());
        let same_set = matches!(self.open_set, Some((open_id, _)) if open_id == set_id);
        let needed = record.len() + if same_set { 0 } else { SET_HEADER_LENGTH };
        let finished = if !self.message.is_empty() && self.message.len() + needed > self.max_message_length {
            self.finish(export_time_secs)
        } else {
            None
        };

        if self.message.is_empty() {
            self.message.resize(MESSAGE_HEADER_LENGTH, 0);
        }
        if !matches!(self.open_set, Some((open_id, _)) if open_id == set_id) {
            self.close_set();
            self.open_set = Some((set_id, self.message.len()));
            self.message.extend_from_slice(&set_id.to_be_bytes());
            self.message.extend_from_slice(&[0, 0]);
        }
        self.message.extend_from_slice(record);
        if set_id >= 256 {
            self.data_records_in_message += 1;
        }
        finished
    }

    /// Finishes the current message with the export time and returns it,
    /// or `None` when it contains no record.
    pub fn finish(&mut self, export_time_secs: u32) -> Option<Vec<u8>> {
        if self.message.is_empty() {
            return None;
        }
        self.close_set();
        let mut message = std::mem::take(&mut self.message);
        let length = message.len() as u16;
        message[0..2].copy_from_slice(&IPFIX_VERSION.to_be_bytes());
        message[2..4].copy_from_slice(&length.to_be_bytes());
        message[4..8].copy_from_slice(&export_time_secs.to_be_bytes());
        message[8..12].copy_from_slice(&self.data_records_sent.to_be_bytes());
        message[12..16].copy_from_slice(&self.observation_domain_id.to_be_bytes());
        self.data_records_sent = self.data_records_sent.wrapping_add(self.data_records_in_message);
        self.data_records_in_message = 0;
        Some(message)
    }

    /// Writes the length of the open set into its header.
    fn close_set(&mut self) {
        if let Some((_, start)) = self.open_set.take() {
            let length = (self.message.len() - start) as u16;
            self.message[start + 2..start + 4].copy_from_slice(&length.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_field(message: &[u8], offset: usize) -> u32 {
        u32::from_be_bytes(message[offset..offset + 4].try_into().unwrap())
    }

    #[test]
    fn message_header_and_set_lengths() {
        let mut builder = MessageBuilder::new(7, 1400);
        assert!(builder.add_record(256, &[1; 10], 100).is_none());
        assert!(builder.add_record(256, &[2; 10], 100).is_none());
        let message = builder.finish(100).unwrap();
        assert_eq!(message.len(), 16 + 4 + 20);
        assert_eq!(u16::from_be_bytes([message[0], message[1]]), 10);
        assert_eq!(usize::from(u16::from_be_bytes([message[2], message[3]])), message.len());
        assert_eq!(header_field(&message, 4), 100);
        assert_eq!(header_field(&message, 8), 0);
        assert_eq!(header_field(&message, 12), 7);
        assert_eq!(u16::from_be_bytes([message[16], message[17]]), 256);
        assert_eq!(u16::from_be_bytes([message[18], message[19]]), 24);
    }

    #[test]
    fn sequence_counts_data_records_not_templates() {
        let mut builder = MessageBuilder::new(1, 1400);
        builder.add_record(2, &[0; 8], 0);
        builder.add_record(256, &[0; 10], 0);
        builder.add_record(257, &[0; 10], 0);
        let first = builder.finish(0).unwrap();
        assert_eq!(header_field(&first, 8), 0);
        builder.add_record(2, &[0; 8], 0);
        let templates_only = builder.finish(0).unwrap();
        assert_eq!(header_field(&templates_only, 8), 2);
        builder.add_record(256, &[0; 10], 0);
        let third = builder.finish(0).unwrap();
        assert_eq!(header_field(&third, 8), 2);
        assert_eq!(builder.data_records_sent(), 3);
    }

    #[test]
    fn full_message_is_returned_and_next_starts() {
        let mut builder = MessageBuilder::new(1, 16 + 4 + 30);
        assert!(builder.add_record(256, &[0; 10], 0).is_none());
        assert!(builder.add_record(256, &[0; 10], 0).is_none());
        assert!(builder.add_record(256, &[0; 10], 0).is_none());
        let full = builder.add_record(256, &[0; 10], 0).expect("fourth record overflows");
        assert_eq!(full.len(), 50);
        let next = builder.finish(0).unwrap();
        assert_eq!(next.len(), 30);
        assert_eq!(header_field(&next, 8), 3);
    }
}
