//! The few libpcap functions that the `pcap` crate (2.5) does not wrap, and
//! `poll` for waiting on a capture handle.
//!
//! The `pcap` crate's build script links libpcap, so these declarations
//! resolve against the same library as the crate's own calls.

#![allow(unsafe_code)]

use std::io;
use std::os::raw::{c_int, c_uchar, c_uint, c_void};
use std::os::unix::io::RawFd;

use pcap::{Active, Capture};

use crate::filter::SockFilter;

/// libpcap's `PCAP_TSTAMP_PRECISION_NANO`.
const PCAP_TSTAMP_PRECISION_NANO: c_int = 1;

#[link(name = "pcap")]
extern "C" {
    fn bpf_filter(
        program: *const SockFilter,
        packet: *const c_uchar,
        wire_len: c_uint,
        captured_len: c_uint,
    ) -> c_uint;
    fn pcap_get_tstamp_precision(handle: *mut c_void) -> c_int;
    fn pcap_snapshot(handle: *mut c_void) -> c_int;
}

/// Runs a BPF program over one packet with libpcap's interpreter and
/// returns its result: 0 rejects the packet, any other value accepts it.
/// libpcap 1.10 exports the interpreter as `bpf_filter`, an alias of the
/// `pcap_filter` that `pcap_offline_filter` calls.
///
/// `wire_len` is the packet's length on the wire, which the `len`,
/// `greater` and `less` primitives test. It may exceed `packet.len()`.
///
/// # Panics
///
/// Panics if `program` is empty, because libpcap's interpreter reads at
/// least one instruction.
pub(crate) fn run_bpf(program: &[SockFilter], packet: &[u8], wire_len: u32) -> u32 {
    assert!(
        !program.is_empty(),
        "a BPF program has at least one instruction"
    );
    let captured_len = c_uint::try_from(packet.len()).unwrap_or(c_uint::MAX);
    // SAFETY: `program` points to `program.len()` initialised instructions
    // with the C layout of `struct bpf_insn`, and it comes from
    // `pcap_compile`, whose programs end in a return and only jump forward
    // inside the program. libpcap's `bpf_filter` checks every packet load
    // against `captured_len`, which is the exact length of `packet`, and
    // keeps no pointer after it returns.
    unsafe { bpf_filter(program.as_ptr(), packet.as_ptr(), wire_len, captured_len) }
}

/// Returns true when libpcap delivers nanosecond timestamps for `capture`.
pub(crate) fn has_nanosecond_timestamps(capture: &Capture<Active>) -> bool {
    // SAFETY: `as_ptr` returns the capture's live `pcap_t`, which stays open
    // while `capture` is borrowed, and the call only reads a field of it.
    unsafe { pcap_get_tstamp_precision(capture.as_ptr().cast()) == PCAP_TSTAMP_PRECISION_NANO }
}

/// Returns the snapshot length that libpcap applies to `capture`, in bytes,
/// which libpcap may have changed from the requested value.
pub(crate) fn snapshot_len_bytes(capture: &Capture<Active>) -> u32 {
    // SAFETY: as in `has_nanosecond_timestamps`, the handle is open and the
    // call only reads a field of it.
    let snapshot = unsafe { pcap_snapshot(capture.as_ptr().cast()) };
    u32::try_from(snapshot).unwrap_or(0)
}

/// Waits until `fd` is readable or has an error to report, for at most
/// `timeout_ms` milliseconds. Returns false when the time ran out or a
/// signal interrupted the wait.
pub(crate) fn wait_readable(fd: RawFd, timeout_ms: i32) -> io::Result<bool> {
    let mut request = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `request` is one initialised `pollfd` that outlives the call,
    // and the count passed is 1.
    let ready = unsafe { libc::poll(&mut request, 1, timeout_ms) };
    if ready < 0 {
        let error = io::Error::last_os_error();
        if error.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(error);
    }
    Ok(ready > 0)
}
