//! Management datagrams (IBTA volume 1, section 13.4) sent to queue pairs
//! 0 and 1, and the communication manager messages among them (section
//! 12.6) that set up reliable connections.

use super::super::bytes::{u16_at, u32_at, u8_at};

/// Length of the common MAD header.
pub const HEADER_LEN: usize = 24;

/// Management class of the communication manager.
pub const CLASS_CM: u8 = 0x07;

/// CM attribute ids of the connection setup messages.
pub mod attribute {
    /// Connection request.
    pub const REQ: u16 = 0x0010;
    /// Connection reply.
    pub const REP: u16 = 0x0013;
    /// Ready to use.
    pub const RTU: u16 = 0x0014;
}

/// The facts of a CM message that pair the two halves of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmMessage {
    /// The attribute id: [`attribute::REQ`], [`attribute::REP`] or
    /// [`attribute::RTU`].
    pub attribute: u16,
    /// The sender's communication id.
    pub local_comm_id: u32,
    /// The peer's communication id (0 in a REQ).
    pub remote_comm_id: u32,
    /// The sender's queue pair number (0 in an RTU).
    pub local_qpn: u32,
}

/// Returns the management class of a MAD, or `None` when `payload` is
/// shorter than the MAD header.
pub fn management_class(payload: &[u8]) -> Option<u8> {
    (payload.len() >= HEADER_LEN).then(|| u8_at(payload, 1))
}

/// Reads a CM REQ, REP or RTU from a MAD; `None` for other classes and
/// attributes, or when the capture cut the fields.
pub fn cm_message(payload: &[u8]) -> Option<CmMessage> {
    if management_class(payload)? != CLASS_CM {
        return None;
    }
    let attribute = u16_at(payload, 16..18);
    let data = payload.get(HEADER_LEN..)?;
    // The local QPN is a 24-bit field: at data offset 32 in a REQ and 12 in
    // a REP.
    let (remote_comm_id, qpn_offset) = match attribute {
        attribute::REQ => (0, Some(32)),
        attribute::REP => (u32_at(data, 4..8), Some(12)),
        attribute::RTU => (u32_at(data, 4..8), None),
        _ => return None,
    };
    let needed_bytes = qpn_offset.map_or(8, |offset| offset + 4);
    if data.len() < needed_bytes {
        return None;
    }
    let local_qpn = qpn_offset.map_or(0, |offset| u32_at(data, offset..offset + 4) >> 8);
    Some(CmMessage { attribute, local_comm_id: u32_at(data, 0..4), remote_comm_id, local_qpn })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mad(class: u8, attribute: u16, data: &[(usize, &[u8])]) -> Vec<u8> {
        let mut bytes = vec![0u8; 256];
        bytes[0] = 1;
        bytes[1] = class;
        bytes[2] = 2;
        bytes[3] = 0x03;
        bytes[16..18].copy_from_slice(&attribute.to_be_bytes());
        for (offset, value) in data {
            bytes[HEADER_LEN + offset..HEADER_LEN + offset + value.len()].copy_from_slice(value);
        }
        bytes
    }

    #[test]
    fn cm_req_rep_rtu() {
        let req = mad(CLASS_CM, attribute::REQ, &[(0, &[0, 0, 0x10, 0x01]), (32, &[0, 0x01, 0x23, 0x7f])]);
        assert_eq!(
            cm_message(&req),
            Some(CmMessage { attribute: attribute::REQ, local_comm_id: 0x1001, remote_comm_id: 0, local_qpn: 0x123 })
        );
        let rep = mad(
            CLASS_CM,
            attribute::REP,
            &[(0, &[0, 0, 0x20, 0x02]), (4, &[0, 0, 0x10, 0x01]), (12, &[0, 0x04, 0x56, 0])],
        );
        assert_eq!(
            cm_message(&rep),
            Some(CmMessage {
                attribute: attribute::REP,
                local_comm_id: 0x2002,
                remote_comm_id: 0x1001,
                local_qpn: 0x456
            })
        );
        let rtu = mad(CLASS_CM, attribute::RTU, &[(0, &[0, 0, 0x10, 0x01]), (4, &[0, 0, 0x20, 0x02])]);
        assert_eq!(cm_message(&rtu).map(|message| message.remote_comm_id), Some(0x2002));
        assert_eq!(cm_message(&mad(0x01, attribute::REQ, &[])), None);
        assert_eq!(cm_message(&req[..HEADER_LEN + 35]), None);
        assert_eq!(management_class(&req[..10]), None);
    }
}
