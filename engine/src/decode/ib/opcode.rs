//! BTH operation codes (IBTA volume 1, table 35; RoCEv2 congestion
//! notification from annex A17): which extension headers follow the BTH
//! and which class of operation a packet belongs to.

/// Transport service, the high 3 bits of the opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// Reliable connection.
    ReliableConnection,
    /// Unreliable connection.
    UnreliableConnection,
    /// Reliable datagram.
    ReliableDatagram,
    /// Unreliable datagram.
    UnreliableDatagram,
    /// Congestion notification packet (opcode 0x81 in RoCEv2).
    CongestionNotification,
    /// Extended reliable connection.
    ExtendedReliableConnection,
    /// Reserved or manufacturer-specific services.
    Other,
}

impl Service {
    /// Returns the service of `opcode`.
    pub fn of(opcode: u8) -> Service {
        match opcode >> 5 {
            0 => Service::ReliableConnection,
            1 => Service::UnreliableConnection,
            2 => Service::ReliableDatagram,
            3 => Service::UnreliableDatagram,
            4 => Service::CongestionNotification,
            5 => Service::ExtendedReliableConnection,
            _ => Service::Other,
        }
    }

    /// Returns true for the datagram services, whose packets carry the
    /// source queue pair in a DETH.
    pub fn is_datagram(self) -> bool {
        matches!(self, Service::UnreliableDatagram | Service::ReliableDatagram)
    }
}

/// Classes of operation counted per flow direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpClass {
    /// SEND first, middle, last or only, with or without immediate data or
    /// invalidate.
    Send,
    /// RDMA WRITE first, middle, last or only.
    RdmaWrite,
    /// RDMA READ request.
    RdmaReadRequest,
    /// RDMA READ response first, middle, last or only.
    RdmaReadResponse,
    /// Compare-and-swap or fetch-and-add, and their acknowledgment.
    Atomic,
    /// Acknowledge (positive or negative).
    Ack,
    /// Congestion notification packet.
    Cnp,
    /// Reserved or unknown operation.
    Other,
}

impl OpClass {
    /// Every class, in the order records list them.
    pub const ALL: [OpClass; 8] = [
        OpClass::Send,
        OpClass::RdmaWrite,
        OpClass::RdmaReadRequest,
        OpClass::RdmaReadResponse,
        OpClass::Atomic,
        OpClass::Ack,
        OpClass::Cnp,
        OpClass::Other,
    ];

    /// Lower-case name for records.
    pub fn name(self) -> &'static str {
        match self {
            OpClass::Send => "send",
            OpClass::RdmaWrite => "write",
            OpClass::RdmaReadRequest => "read_req",
            OpClass::RdmaReadResponse => "read_resp",
            OpClass::Atomic => "atomic",
            OpClass::Ack => "ack",
            OpClass::Cnp => "cnp",
            OpClass::Other => "other",
        }
    }

    /// Position in [`OpClass::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The opcode of a RoCEv2 congestion notification packet.
pub const CNP: u8 = 0x81;

/// Extension headers that follow the BTH, as bits.
pub mod ext {
    /// Reliable datagram extended transport header (4 bytes).
    pub const RDETH: u16 = 1 << 0;
    /// Datagram extended transport header (8 bytes).
    pub const DETH: u16 = 1 << 1;
    /// XRC extended transport header (4 bytes).
    pub const XRCETH: u16 = 1 << 2;
    /// RDMA extended transport header (16 bytes).
    pub const RETH: u16 = 1 << 3;
    /// Atomic extended transport header (28 bytes).
    pub const ATOMIC_ETH: u16 = 1 << 4;
    /// ACK extended transport header (4 bytes).
    pub const AETH: u16 = 1 << 5;
    /// Atomic acknowledge extended transport header (8 bytes).
    pub const ATOMIC_ACK_ETH: u16 = 1 << 6;
    /// Immediate data (4 bytes).
    pub const IMMDT: u16 = 1 << 7;
    /// Invalidate extended transport header (4 bytes).
    pub const IETH: u16 = 1 << 8;
}

/// Extension headers in wire order with their lengths in bytes.
pub const EXT_ORDER: [(u16, usize); 9] = [
    (ext::RDETH, 4),
    (ext::DETH, 8),
    (ext::XRCETH, 4),
    (ext::RETH, 16),
    (ext::ATOMIC_ETH, 28),
    (ext::AETH, 4),
    (ext::ATOMIC_ACK_ETH, 8),
    (ext::IMMDT, 4),
    (ext::IETH, 4),
];

/// Returns the class of `opcode` and the extension headers that follow its
/// BTH. A reserved operation gets [`OpClass::Other`] and no extension
/// header, so its bytes count as payload.
pub fn describe(opcode: u8) -> (OpClass, u16) {
    let service = Service::of(opcode);
    if opcode == CNP {
        return (OpClass::Cnp, 0);
    }
    let service_headers = match service {
        Service::ReliableDatagram => ext::RDETH | ext::DETH,
        Service::UnreliableDatagram => ext::DETH,
        Service::ExtendedReliableConnection => ext::XRCETH,
        _ => 0,
    };
    let (class, headers) = match opcode & 0x1f {
        0x00..=0x02 | 0x04 => (OpClass::Send, 0),
        0x03 | 0x05 => (OpClass::Send, ext::IMMDT),
        0x06 | 0x0a => (OpClass::RdmaWrite, ext::RETH),
        0x07 | 0x08 => (OpClass::RdmaWrite, 0),
        0x09 => (OpClass::RdmaWrite, ext::IMMDT),
        0x0b => (OpClass::RdmaWrite, ext::RETH | ext::IMMDT),
        0x0c => (OpClass::RdmaReadRequest, ext::RETH),
        0x0d | 0x0f | 0x10 => (OpClass::RdmaReadResponse, ext::AETH),
        0x0e => (OpClass::RdmaReadResponse, 0),
        0x11 => (OpClass::Ack, ext::AETH),
        0x12 => (OpClass::Atomic, ext::AETH | ext::ATOMIC_ACK_ETH),
        0x13 | 0x14 => (OpClass::Atomic, ext::ATOMIC_ETH),
        0x16 | 0x17 => (OpClass::Send, ext::IETH),
        _ => return (OpClass::Other, service_headers),
    };
    // Responses of the datagram and XRC services carry no DETH or XRCETH.
    let is_response = matches!(class, OpClass::Ack | OpClass::RdmaReadResponse)
        || (class == OpClass::Atomic && headers & ext::AETH != 0);
    let service_headers = if is_response { service_headers & ext::RDETH } else { service_headers };
    (class, service_headers | headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcode_classes_and_headers() {
        assert_eq!(describe(0x04), (OpClass::Send, 0));
        assert_eq!(describe(0x0a), (OpClass::RdmaWrite, ext::RETH));
        assert_eq!(describe(0x0b), (OpClass::RdmaWrite, ext::RETH | ext::IMMDT));
        assert_eq!(describe(0x0c), (OpClass::RdmaReadRequest, ext::RETH));
        assert_eq!(describe(0x0e), (OpClass::RdmaReadResponse, 0));
        assert_eq!(describe(0x10), (OpClass::RdmaReadResponse, ext::AETH));
        assert_eq!(describe(0x11), (OpClass::Ack, ext::AETH));
        assert_eq!(describe(0x13), (OpClass::Atomic, ext::ATOMIC_ETH));
        assert_eq!(describe(0x17), (OpClass::Send, ext::IETH));
        assert_eq!(describe(0x64), (OpClass::Send, ext::DETH));
        assert_eq!(describe(0x65), (OpClass::Send, ext::DETH | ext::IMMDT));
        assert_eq!(describe(0x44), (OpClass::Send, ext::RDETH | ext::DETH));
        assert_eq!(describe(0x51), (OpClass::Ack, ext::RDETH | ext::AETH));
        assert_eq!(describe(0xa0 | 0x06), (OpClass::RdmaWrite, ext::XRCETH | ext::RETH));
        assert_eq!(describe(CNP), (OpClass::Cnp, 0));
        assert_eq!(describe(0x15).0, OpClass::Other);
    }
}
