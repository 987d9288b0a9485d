//! The transport DSR (`0x01`): the sensor's source id and the record's
//! sequence number.

use super::header::put_dsr_header;
use super::source_id::SourceId;

const TRANSPORT_DSR: u8 = 0x01;
/// Subtype bits: source id present (`0x01`) and sequence number present
/// (`0x02`).
const SUBTYPE_ID_AND_SEQUENCE: u8 = 0x03;

/// Appends the transport DSR. ra shows the two fields as `srcid` and `seq`.
pub fn put_transport_dsr(out: &mut Vec<u8>, source_id: SourceId, sequence: u32) {
    put_dsr_header(out, TRANSPORT_DSR, SUBTYPE_ID_AND_SEQUENCE, source_id.transport_qualifier(), 3);
    out.extend_from_slice(&source_id.to_bytes());
    out.extend_from_slice(&sequence.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argus::test_hex::parse as hex;
    use std::net::Ipv4Addr;

    #[test]
    fn ipv4_id_matches_argus_layout() {
        // Argus 3.0.8.2 without a configured id writes `01030003 00000000
        // 00000001`; an IPv4 id adds qualifier 0x01.
        let mut out = Vec::new();
        put_transport_dsr(&mut out, SourceId::Ipv4(Ipv4Addr::UNSPECIFIED), 1);
        assert_eq!(out, hex("01030103 00000000 00000001"));
    }

    #[test]
    fn integer_and_text_ids() {
        let mut out = Vec::new();
        put_transport_dsr(&mut out, SourceId::Integer(0x0102_0304), 0xfffe_fdfc);
        put_transport_dsr(&mut out, SourceId::Text(*b"nd01"), 2);
        assert_eq!(out, hex("01032003 01020304 fffefdfc 01032103 6e643031 00000002"));
    }
}
