//! The ACK extended transport header's syndrome (IBTA volume 1, section
//! 9.7.5.1): a positive ACK, a receiver-not-ready NAK or a NAK code.

/// The report of an AETH syndrome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Syndrome {
    /// Positive acknowledgment (bits 6-5 are 00).
    Ack,
    /// Receiver not ready (01), with the RNR timer in the low 5 bits.
    ReceiverNotReady,
    /// A NAK (11) with one of the codes in [`Nak`].
    Nak(Nak),
    /// The reserved value 10.
    Reserved,
}

/// Negative acknowledgment codes, plus receiver not ready, as counted per
/// flow direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Nak {
    /// Receiver not ready (RNR NAK).
    ReceiverNotReady,
    /// PSN sequence error (code 0): the responder saw a PSN gap.
    PsnSequenceError,
    /// Invalid request (code 1).
    InvalidRequest,
    /// Remote access error (code 2).
    RemoteAccessError,
    /// Remote operational error (code 3).
    RemoteOperationalError,
    /// Invalid RD request (code 4) and reserved codes.
    Other,
}

impl Nak {
    /// Every kind, in the order records list them.
    pub const ALL: [Nak; 6] = [
        Nak::ReceiverNotReady,
        Nak::PsnSequenceError,
        Nak::InvalidRequest,
        Nak::RemoteAccessError,
        Nak::RemoteOperationalError,
        Nak::Other,
    ];

    /// Lower-case name for records.
    pub fn name(self) -> &'static str {
        match self {
            Nak::ReceiverNotReady => "rnr",
            Nak::PsnSequenceError => "seq_err",
            Nak::InvalidRequest => "inv_req",
            Nak::RemoteAccessError => "rem_access",
            Nak::RemoteOperationalError => "rem_op",
            Nak::Other => "other",
        }
    }

    /// Position in [`Nak::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Syndrome {
    /// Reads the syndrome byte of an AETH.
    pub fn from_byte(syndrome: u8) -> Syndrome {
        match (syndrome >> 5) & 0x03 {
            0b00 => Syndrome::Ack,
            0b01 => Syndrome::ReceiverNotReady,
            0b10 => Syndrome::Reserved,
            _ => Syndrome::Nak(match syndrome & 0x1f {
                0 => Nak::PsnSequenceError,
                1 => Nak::InvalidRequest,
                2 => Nak::RemoteAccessError,
                3 => Nak::RemoteOperationalError,
                _ => Nak::Other,
            }),
        }
    }

    /// Returns the NAK this syndrome reports, counting an RNR NAK as one.
    pub fn nak(self) -> Option<Nak> {
        match self {
            Syndrome::Nak(nak) => Some(nak),
            Syndrome::ReceiverNotReady => Some(Nak::ReceiverNotReady),
            Syndrome::Ack | Syndrome::Reserved => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syndrome_kinds() {
        assert_eq!(Syndrome::from_byte(0x1f), Syndrome::Ack);
        assert_eq!(Syndrome::from_byte(0x2e).nak(), Some(Nak::ReceiverNotReady));
        assert_eq!(Syndrome::from_byte(0x60).nak(), Some(Nak::PsnSequenceError));
        assert_eq!(Syndrome::from_byte(0x61).nak(), Some(Nak::InvalidRequest));
        assert_eq!(Syndrome::from_byte(0x62).nak(), Some(Nak::RemoteAccessError));
        assert_eq!(Syndrome::from_byte(0x63).nak(), Some(Nak::RemoteOperationalError));
        assert_eq!(Syndrome::from_byte(0x64).nak(), Some(Nak::Other));
        assert_eq!(Syndrome::from_byte(0x40), Syndrome::Reserved);
    }
}
