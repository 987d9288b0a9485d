//! EAL arguments and the once-per-process EAL start.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::DpdkError;
use crate::ffi;

/// Program name passed to EAL as `argv[0]`.
const PROGRAM_NAME: &str = "nauditd";

/// Set by the first EAL start. DPDK 22.11 cannot start EAL twice in one
/// process, not even after `rte_eal_cleanup`.
static EAL_STARTED: AtomicBool = AtomicBool::new(false);

/// Splits `--dpdk-args` as a POSIX shell would (quotes and backslashes)
/// and puts the program name first.
pub fn split_eal_args(text: &str) -> Result<Vec<String>, DpdkError> {
    let words = shlex::split(text).ok_or_else(|| DpdkError::InvalidArguments {
        args: text.to_string(),
        reason: "unbalanced quote or trailing backslash".to_string(),
    })?;
    let mut args = Vec::with_capacity(words.len() + 1);
    args.push(PROGRAM_NAME.to_string());
    args.extend(words);
    Ok(args)
}

/// Returns true when the EAL arguments make every port replay capture
/// files: `--no-pci` and only `net_pcap` virtual devices reading `rx_pcap`
/// files. Such ports carry the files' timestamps and stop delivering at the
/// end of their files.
pub fn replays_capture_files(args: &[String]) -> bool {
    let no_pci = args.iter().any(|arg| arg == "--no-pci");
    let mut vdevs = Vec::new();
    let mut words = args.iter();
    while let Some(arg) = words.next() {
        if let Some(value) = arg.strip_prefix("--vdev=") {
            vdevs.push(value.to_string());
        } else if arg == "--vdev" {
            vdevs.extend(words.next().cloned());
        }
    }
    let replays = |vdev: &String| {
        vdev.starts_with("net_pcap") && vdev.contains("rx_pcap=") && !vdev.contains("rx_iface") && !vdev.contains("iface=")
    };
    no_pci && !vdevs.is_empty() && vdevs.iter().all(replays)
}

/// Starts EAL with `args` (program name first). Fails when EAL was started
/// before in this process.
pub(crate) fn start(args: &[String]) -> Result<(), DpdkError> {
    if EAL_STARTED.swap(true, Ordering::SeqCst) {
        return Err(DpdkError::AlreadyStarted);
    }
    tracing::info!(args = ?args, version = %ffi::version(), "starting DPDK EAL");
    ffi::eal_init(args).map_err(|reason| DpdkError::EalInit { args: args[1..].join(" "), reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_puts_program_first() {
        let args = split_eal_args("--no-huge -m 256 --vdev='net_pcap0,rx_pcap=/tmp/a b.pcap'").unwrap();
        assert_eq!(args, ["nauditd", "--no-huge", "-m", "256", "--vdev=net_pcap0,rx_pcap=/tmp/a b.pcap"]);
    }

    #[test]
    fn split_rejects_open_quote() {
        assert!(matches!(split_eal_args("--vdev='net_pcap0"), Err(DpdkError::InvalidArguments { .. })));
    }

    #[test]
    fn replay_needs_no_pci_and_pcap_files() {
        let replay = split_eal_args("--no-pci --vdev=net_pcap0,rx_pcap=a.pcap --vdev net_pcap1,rx_pcap=b.pcap").unwrap();
        assert!(replays_capture_files(&replay));
        let with_pci = split_eal_args("--vdev=net_pcap0,rx_pcap=a.pcap").unwrap();
        assert!(!replays_capture_files(&with_pci));
        let live = split_eal_args("--no-pci --vdev=net_pcap0,rx_pcap=a.pcap --vdev=net_pcap1,iface=eth0").unwrap();
        assert!(!replays_capture_files(&live));
        assert!(!replays_capture_files(&split_eal_args("--no-pci").unwrap()));
    }
}
