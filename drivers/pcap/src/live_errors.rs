//! Errors of live capture, worded so that the user can act on them.
//!
//! The `pcap` crate (2.5) reports a failed `pcap_activate` with libpcap's
//! message only, not with its status code (`PCAP_ERROR_NO_SUCH_DEVICE`,
//! `PCAP_ERROR_PERM_DENIED`, `PCAP_ERROR_IFACE_NOT_UP`). So after a failure
//! the cause is found again from the device list and, on Linux, from the
//! process's capabilities, and libpcap's message is kept in the error.

use std::io;

use naudit_engine::SourceError;

use crate::filter::{libpcap_message, FilterError};

/// Cause of a failed activation, as far as it can be found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ActivationFailure {
    NoSuchDevice,
    PermissionDenied,
    InterfaceDown,
    Other,
}

/// Builds the error for a configuration value that live capture rejects.
pub(crate) fn invalid_config(interface: &str, problem: String) -> SourceError {
    SourceError::Io {
        input: interface.to_owned(),
        context: "invalid live capture configuration",
        source: io::Error::new(io::ErrorKind::InvalidInput, problem),
    }
}

/// Builds the error for a failed `pcap_create` or `pcap_activate`, with its
/// cause and what to do about it.
pub(crate) fn activation_error(interface: &str, error: &pcap::Error) -> SourceError {
    let message = libpcap_message(error);
    let (kind, detail) = match diagnose_activation(interface) {
        ActivationFailure::NoSuchDevice => (
            io::ErrorKind::NotFound,
            format!("no such capture device; list the devices with `nauditd -D` (libpcap: {message})"),
        ),
        ActivationFailure::PermissionDenied => (
            io::ErrorKind::PermissionDenied,
            format!(
                "permission denied; run nauditd as root, or grant it the CAP_NET_RAW and CAP_NET_ADMIN \
                 capabilities, for example with `setcap cap_net_raw,cap_net_admin=eip /path/to/nauditd` \
                 (libpcap: {message})"
            ),
        ),
        ActivationFailure::InterfaceDown => (
            io::ErrorKind::Other,
            format!(
                "the interface is down; bring it up, for example with `ip link set dev {interface} up`, \
                 and start again (libpcap: {message})"
            ),
        ),
        ActivationFailure::Other => (io::ErrorKind::Other, message),
    };
    SourceError::Io {
        input: interface.to_owned(),
        context: "failed to start live capture",
        source: io::Error::new(kind, detail),
    }
}

/// Builds the error for a filter expression that does not compile for the
/// interface. The source is the [`FilterError`], which names the expression
/// and contains libpcap's message.
pub(crate) fn invalid_filter(interface: &str, error: FilterError) -> SourceError {
    SourceError::Io {
        input: interface.to_owned(),
        context: "invalid capture filter",
        source: io::Error::new(io::ErrorKind::InvalidInput, error),
    }
}

/// Builds the error for a compiled filter that the kernel did not accept.
pub(crate) fn setfilter_error(
    interface: &str,
    expression: &str,
    error: &pcap::Error,
) -> SourceError {
    SourceError::Io {
        input: interface.to_owned(),
        context: "failed to set the capture filter",
        source: io::Error::other(format!(
            "filter \"{expression}\": {}",
            libpcap_message(error)
        )),
    }
}

/// Builds the error for a failed libpcap call on an open capture.
pub(crate) fn capture_error(
    interface: &str,
    context: &'static str,
    error: &pcap::Error,
) -> SourceError {
    SourceError::Io {
        input: interface.to_owned(),
        context,
        source: io::Error::other(libpcap_message(error)),
    }
}

/// Finds why activation failed on `interface`: it is not in libpcap's
/// device list, the thread lacks `CAP_NET_RAW`, or the interface is down.
fn diagnose_activation(interface: &str) -> ActivationFailure {
    let device = match pcap::Device::list() {
        Ok(devices) => devices.into_iter().find(|device| device.name == interface),
        Err(error) => {
            tracing::debug!(
                interface,
                error = libpcap_message(&error),
                "failed to list capture devices"
            );
            None
        }
    };
    let Some(device) = device else {
        return ActivationFailure::NoSuchDevice;
    };
    if lacks_raw_socket_capability() {
        return ActivationFailure::PermissionDenied;
    }
    if !device.flags.is_up() {
        return ActivationFailure::InterfaceDown;
    }
    ActivationFailure::Other
}

/// Returns true when the calling thread's effective capabilities lack
/// `CAP_NET_RAW`, which opening a packet socket needs on Linux.
/// Capabilities belong to threads, so the thread's own status is read
/// (`/proc/thread-self`, Linux 3.17 and later), or the process's before that.
#[cfg(target_os = "linux")]
fn lacks_raw_socket_capability() -> bool {
    /// Bit of `CAP_NET_RAW` in the capability sets (linux/capability.h).
    const CAP_NET_RAW_BIT: u32 = 13;

    let Ok(status) = std::fs::read_to_string("/proc/thread-self/status")
        .or_else(|_| std::fs::read_to_string("/proc/self/status"))
    else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|effective| effective & (1 << CAP_NET_RAW_BIT) == 0)
}

/// Other systems control capture with device permissions, which libpcap's
/// message already names.
#[cfg(not(target_os = "linux"))]
fn lacks_raw_socket_capability() -> bool {
    false
}
