//! BPF filters: a tcpdump-style expression compiled by libpcap into a BPF
//! program for one link type.
//!
//! The same program serves every driver. Live libpcap capture sets it in the
//! kernel with `pcap_setfilter` (see [`LiveSource`]), the AF_PACKET driver
//! attaches [`BpfFilter::instructions`] with `SO_ATTACH_FILTER`, and file
//! inputs run it in user space through [`BpfFilter::matches`] (see
//! [`FilteredSource`]).
//!
//! [`LiveSource`]: crate::LiveSource
//! [`FilteredSource`]: crate::FilteredSource

use naudit_engine::LinkType;
use pcap::{Capture, Linktype};

use crate::dlt::dlt_from_link_type;
use crate::ffi::run_bpf;
use crate::records::MAX_CAPTURED_LEN_BYTES;

/// One BPF instruction with the layout of libpcap's `struct bpf_insn` and
/// Linux's `struct sock_filter`, which are identical. A slice of these can
/// be passed to the kernel in a `struct sock_fprog`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SockFilter {
    /// Operation: instruction class, size, mode and source bits.
    pub code: u16,
    /// Instructions to skip when a conditional jump is taken.
    pub jt: u8,
    /// Instructions to skip when a conditional jump is not taken.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

/// `BPF_RET | BPF_K`: return the constant `k`. For a socket filter, `k` is
/// the number of bytes of the packet to keep, and 0 drops the packet.
const BPF_RET_K: u16 = 0x06;

/// Error from compiling a filter expression.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// libpcap rejected the expression: a syntax error, or a primitive that
    /// does not apply to the link type (such as `ether host` on raw IP).
    #[error(
        "invalid filter expression \"{expression}\" for link type {link_type} ({link_type_name}): {message}"
    )]
    Invalid {
        /// The expression as given.
        expression: String,
        /// The `LINKTYPE_` number the expression was compiled for.
        link_type: u16,
        /// libpcap's name of the link type, such as `EN10MB`.
        link_type_name: String,
        /// libpcap's error message.
        message: String,
    },
    /// The snapshot length is outside the range libpcap accepts.
    #[error(
        "cannot compile filter expression \"{expression}\": snapshot length {snaplen_bytes} bytes is not between 1 and {MAX_CAPTURED_LEN_BYTES}"
    )]
    InvalidSnaplen {
        /// The expression as given.
        expression: String,
        /// The snapshot length as given.
        snaplen_bytes: u32,
    },
    /// libpcap could not create the capture handle that compiles the
    /// expression (`pcap_open_dead` failed, which means it ran out of memory).
    #[error("cannot compile filter expression \"{expression}\": {message}")]
    Libpcap {
        /// The expression as given.
        expression: String,
        /// What failed.
        message: String,
    },
}

/// A filter expression compiled by libpcap for one link type.
///
/// libpcap compiles with optimisation on. The program is owned here, so a
/// filter can move to another thread and be used from several at once.
#[derive(Clone, Debug)]
pub struct BpfFilter {
    expression: String,
    link_type: LinkType,
    instructions: Box<[SockFilter]>,
}

impl BpfFilter {
    /// Compiles `expression` (tcpdump's filter syntax, see pcap-filter(7))
    /// for packets of `link_type` captured with a snapshot length of
    /// `snaplen_bytes`.
    ///
    /// The snapshot length is the value the program returns for an accepted
    /// packet, which a kernel socket filter uses as the number of bytes to
    /// keep. An empty expression accepts every packet.
    pub fn compile(
        expression: &str,
        link_type: LinkType,
        snaplen_bytes: u32,
    ) -> Result<BpfFilter, FilterError> {
        if snaplen_bytes == 0 || snaplen_bytes > MAX_CAPTURED_LEN_BYTES {
            return Err(FilterError::InvalidSnaplen {
                expression: expression.to_owned(),
                snaplen_bytes,
            });
        }

        let dlt = Linktype(dlt_from_link_type(link_type));
        let dead = Capture::dead(dlt).map_err(|error| FilterError::Libpcap {
            expression: expression.to_owned(),
            message: libpcap_message(&error),
        })?;
        let program = dead
            .compile(expression, true)
            .map_err(|error| FilterError::Invalid {
                expression: expression.to_owned(),
                link_type: link_type.0,
                link_type_name: dlt.get_name().unwrap_or_else(|_| "unknown".to_owned()),
                message: libpcap_message(&error),
            })?;

        let instructions = copy_instructions(&program, snaplen_bytes);
        Ok(BpfFilter {
            expression: expression.to_owned(),
            link_type,
            instructions,
        })
    }

    /// Returns true when the filter accepts `packet`, whose bytes start with
    /// the link-layer header and whose length on the wire is `wire_len`.
    ///
    /// The program runs in user space in libpcap's interpreter, the one that
    /// `pcap_offline_filter` runs on packets read from a file. The caller
    /// must pass packets of the link type the filter was compiled for.
    pub fn matches(&self, packet: &[u8], wire_len: u32) -> bool {
        run_bpf(&self.instructions, packet, wire_len) != 0
    }

    /// Returns the compiled program, ready to attach to a socket with
    /// `SO_ATTACH_FILTER`.
    ///
    /// NOTE: the program reads VLAN tags from the packet bytes, as they are
    /// in capture files. The Linux kernel moves the outer tag of a received
    /// packet into packet metadata before socket filters run, so an
    /// expression with `vlan` does not match those packets in the kernel.
    /// libpcap compiles such expressions differently for its own live
    /// handles, which [`LiveSource`](crate::LiveSource) uses.
    pub fn instructions(&self) -> &[SockFilter] {
        &self.instructions
    }

    /// Returns the expression this filter was compiled from.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Returns the link type this filter was compiled for.
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }
}

/// Copies the instructions out of libpcap's program and sets the value that
/// accepting returns to `snaplen_bytes`.
///
/// The `pcap` crate (2.5) opens its dead handle with a fixed snapshot length
/// of 65535 bytes, and libpcap's code generator (gencode.c, 1.10) returns
/// the handle's snapshot length to accept and 0 to reject, with no other
/// return value. So every nonzero constant return is the accept value.
#[allow(unsafe_code)]
fn copy_instructions(program: &pcap::BpfProgram, snaplen_bytes: u32) -> Box<[SockFilter]> {
    let compiled = program.get_instructions();
    // SAFETY: `pcap::BpfInstruction` is `#[repr(transparent)]` over the
    // crate's `#[repr(C)]` copy of libpcap's `struct bpf_insn` (u16, u8, u8,
    // u32), which `SockFilter` repeats field for field, so both types have
    // the same size, alignment and layout. The slice borrows `program`,
    // which outlives this function, and is only read.
    let instructions: &[SockFilter] = unsafe {
        std::slice::from_raw_parts(compiled.as_ptr().cast::<SockFilter>(), compiled.len())
    };

    instructions
        .iter()
        .map(|instruction| match instruction {
            SockFilter {
                code: BPF_RET_K, k, ..
            } if *k != 0 => SockFilter {
                k: snaplen_bytes,
                ..*instruction
            },
            _ => *instruction,
        })
        .collect()
}

// Both types are 8 bytes with 4-byte alignment. A change in the `pcap` crate
// that breaks this stops the build instead of misreading programs.
const _: () =
    assert!(std::mem::size_of::<pcap::BpfInstruction>() == std::mem::size_of::<SockFilter>());
const _: () =
    assert!(std::mem::align_of::<pcap::BpfInstruction>() == std::mem::align_of::<SockFilter>());

/// Returns libpcap's own message for errors that carry one, and the `pcap`
/// crate's description for the others.
pub(crate) fn libpcap_message(error: &pcap::Error) -> String {
    match error {
        pcap::Error::PcapError(message) => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet frame carrying IPv4 UDP from 192.0.2.1:1024 to
    /// 192.0.2.2:53, written for these tests; payload omitted.
    const UDP_DNS_FRAME: [u8; 42] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08,
        0x00, // Ethernet
        0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, // IPv4
        0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, // addresses
        0x04, 0x00, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00, // UDP
    ];

    #[test]
    fn instructions_match_pcap_crate_display() {
        // The pcap crate prints an instruction as "code jt jf k", which
        // checks the layout assumption of `copy_instructions`.
        let dead = Capture::dead(Linktype(1)).expect("dead handle");
        let program = dead.compile("udp port 53", true).expect("compile");
        let copied = copy_instructions(&program, 65_535);
        let printed: Vec<String> = program
            .get_instructions()
            .iter()
            .map(ToString::to_string)
            .collect();
        let ours: Vec<String> = copied
            .iter()
            .map(|i| format!("{} {} {} {}", i.code, i.jt, i.jf, i.k))
            .collect();
        assert_eq!(ours, printed);
    }

    #[test]
    fn accept_returns_snaplen() {
        let filter = BpfFilter::compile("udp", LinkType::ETHERNET, 1_500).expect("compile");
        let returns: Vec<u32> = filter
            .instructions()
            .iter()
            .filter(|i| i.code == BPF_RET_K)
            .map(|i| i.k)
            .collect();
        assert!(returns.contains(&1_500), "{returns:?}");
        assert!(returns.contains(&0), "{returns:?}");
        assert!(
            returns.iter().all(|k| *k == 0 || *k == 1_500),
            "{returns:?}"
        );
    }

    #[test]
    fn matches_hand_made_frame() {
        let dns = BpfFilter::compile("udp port 53", LinkType::ETHERNET, 262_144).expect("compile");
        assert!(dns.matches(&UDP_DNS_FRAME, 42));
        let tcp = BpfFilter::compile("tcp", LinkType::ETHERNET, 262_144).expect("compile");
        assert!(!tcp.matches(&UDP_DNS_FRAME, 42));
    }

    #[test]
    fn length_primitives_use_wire_len() {
        let filter =
            BpfFilter::compile("greater 1000", LinkType::ETHERNET, 262_144).expect("compile");
        assert!(!filter.matches(&UDP_DNS_FRAME, 42));
        assert!(filter.matches(&UDP_DNS_FRAME, 1_200));
    }

    #[test]
    fn short_packet_is_rejected_not_read_past() {
        // The program reads the destination port last, from bytes 36 and 37.
        const PORTS_END: usize = 38;
        let filter =
            BpfFilter::compile("udp port 53", LinkType::ETHERNET, 262_144).expect("compile");
        for len in 0..PORTS_END {
            assert!(!filter.matches(&UDP_DNS_FRAME[..len], 42), "{len} bytes");
        }
        assert!(filter.matches(&UDP_DNS_FRAME[..PORTS_END], 42));
    }

    #[test]
    fn empty_expression_accepts_all() {
        let filter = BpfFilter::compile("", LinkType::ETHERNET, 262_144).expect("compile");
        assert!(filter.matches(&UDP_DNS_FRAME, 42));
        assert!(filter.matches(&[], 0));
    }

    #[test]
    fn raw_ip_compiles_through_dlt_raw() {
        let filter = BpfFilter::compile("udp port 53", LinkType::RAW, 262_144).expect("compile");
        assert!(filter.matches(&UDP_DNS_FRAME[14..], 28));
        assert!(!filter.matches(&UDP_DNS_FRAME, 42));
    }

    #[test]
    fn invalid_expression_names_expression() {
        let error = BpfFilter::compile("tcp prt 80", LinkType::ETHERNET, 262_144)
            .expect_err("a syntax error must not compile");
        let message = error.to_string();
        assert!(matches!(error, FilterError::Invalid { .. }), "{error:?}");
        assert!(message.contains("\"tcp prt 80\""), "{message}");
        assert!(message.contains("link type 1 (EN10MB)"), "{message}");
        assert!(message.contains("syntax error"), "{message}");
    }

    #[test]
    fn link_type_mismatch_is_invalid() {
        let error = BpfFilter::compile("ether host 02:00:00:00:00:01", LinkType::RAW, 262_144)
            .expect_err("raw IP has no Ethernet header");
        assert!(
            matches!(error, FilterError::Invalid { link_type: 101, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn snaplen_zero_is_rejected() {
        let error = BpfFilter::compile("tcp", LinkType::ETHERNET, 0).expect_err("snaplen 0");
        assert!(
            matches!(
                error,
                FilterError::InvalidSnaplen {
                    snaplen_bytes: 0,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("\"tcp\""), "{error}");
    }
}
