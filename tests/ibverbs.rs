//! The InfiniBand verbs sniffer (`--driver ibverbs`) from the command line:
//! listing RDMA devices, and the errors for a missing or unusable device.
//!
//! Capturing needs an adapter with sniffer flow steering, which CI does not
//! have. The listing is checked against the kernel's own list in
//! /sys/class/infiniband, so these tests pass on machines with and without
//! RDMA devices. The soft-RoCE test needs root, as CI runs it, and the
//! rdma_rxe kernel module. It is skipped, with the reason printed, only
//! when that module cannot be loaded.

#![cfg(feature = "ibverbs")]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

/// Serializes the tests of this file: the soft-RoCE test adds a device that
/// the others would see, between their own reads of the device list.
static DEVICE_LIST_LOCK: Mutex<()> = Mutex::new(());

fn lock_device_list() -> MutexGuard<'static, ()> {
    DEVICE_LIST_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn run_nauditd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nauditd")).args(args).output().expect("run nauditd")
}

/// RDMA devices the kernel has, by name.
fn kernel_rdma_devices() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/sys/class/infiniband") else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|entry| entry.expect("read /sys/class/infiniband").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn list_matches_kernel_devices() {
    let _lock = lock_device_list();
    let output = run_nauditd(&["-D", "--driver", "ibverbs"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let devices = kernel_rdma_devices();
    if devices.is_empty() {
        assert_eq!(output.status.code(), Some(1), "stdout: {stdout}");
        assert!(stderr.starts_with("nauditd: no RDMA device found"), "{stderr}");
        assert!(stderr.contains("`ibv_devices`"), "{stderr}");
        assert!(stderr.contains("rdma_rxe"), "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        return;
    }
    assert!(output.status.success(), "{stderr}");
    for device in &devices {
        assert!(stdout.lines().any(|line| line.starts_with(&format!("{device}:"))), "{device} not listed:\n{stdout}");
    }
}

#[test]
fn missing_device_is_an_error() {
    let _lock = lock_device_list();
    let output = run_nauditd(&["-i", "naudit_missing0", "--driver", "ibverbs", "-q"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("RDMA device \"naudit_missing0\" not found; available devices: "), "{stderr}");
    if kernel_rdma_devices().is_empty() {
        assert!(stderr.contains("available devices: none ("), "{stderr}");
    }
}

#[test]
fn port_zero_is_invalid() {
    let output = run_nauditd(&["-i", "mlx5_0:0", "--driver", "ibverbs", "-q"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid RDMA device \"mlx5_0:0\": ports are numbered from 1"), "{stderr}");
}

fn run(program: &str, args: &[&str]) -> Output {
    let output =
        Command::new(program).args(args).output().unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    assert!(output.status.success(), "{program} {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// Reads the effective user id from /proc, so the test needs no libc call.
fn effective_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:").and_then(|ids| ids.split_whitespace().nth(1)?.parse().ok()))
        })
        .unwrap_or(u32::MAX)
}

/// Loads the soft-RoCE module, or returns why it cannot be loaded.
fn load_rdma_rxe() -> Result<(), String> {
    if Path::new("/sys/module/rdma_rxe").exists() {
        return Ok(());
    }
    match Command::new("modprobe").arg("rdma_rxe").output() {
        Ok(output) if output.status.success() => Ok(()),
        Ok(output) => Err(format!("modprobe rdma_rxe failed: {}", String::from_utf8_lossy(&output.stderr).trim())),
        Err(error) => Err(format!("rdma_rxe is not loaded and modprobe cannot run: {error}")),
    }
}

/// A network namespace with a veth pair and a soft-RoCE device on one end.
/// Removed on drop.
struct SoftRoce {
    namespace: String,
    device: String,
}

impl SoftRoce {
    fn create() -> SoftRoce {
        let id = std::process::id() % 100_000;
        let soft_roce = SoftRoce { namespace: format!("nauditd-rxe-{id}"), device: format!("nrxe{id}") };
        let (end_a, end_b) = (format!("ndrxe{id}a"), format!("ndrxe{id}b"));
        run("ip", &["netns", "add", &soft_roce.namespace]);
        soft_roce.exec("ip", &["link", "add", &end_a, "type", "veth", "peer", "name", &end_b]);
        soft_roce.exec("ip", &["link", "set", &end_a, "up"]);
        soft_roce.exec("ip", &["link", "set", &end_b, "up"]);
        soft_roce.exec("rdma", &["link", "add", &soft_roce.device, "type", "rxe", "netdev", &end_a]);
        soft_roce
    }

    /// Runs `program` inside the namespace and asserts it succeeded.
    fn exec(&self, program: &str, args: &[&str]) -> Output {
        run("ip", &[&["netns", "exec", self.namespace.as_str(), program][..], args].concat())
    }

    /// Runs nauditd inside the namespace.
    fn nauditd(&self, args: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.namespace, env!("CARGO_BIN_EXE_nauditd")])
            .args(args)
            .output()
            .expect("run nauditd in the namespace")
    }
}

impl Drop for SoftRoce {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "exec", &self.namespace, "rdma", "link", "delete", &self.device])
            .output();
        let _ = Command::new("ip").args(["netns", "del", &self.namespace]).output();
    }
}

#[test]
fn soft_roce_is_listed_and_rejected() {
    let _lock = lock_device_list();
    assert_eq!(
        effective_uid(),
        0,
        "the soft-RoCE test needs root to load rdma_rxe and create a namespace; CI runs it as root"
    );
    if let Err(reason) = load_rdma_rxe() {
        println!("skipped: the soft-RoCE kernel module is not available: {reason}");
        return;
    }
    let soft_roce = SoftRoce::create();

    let listing = soft_roce.nauditd(&["-D", "--driver", "ibverbs"]);
    let stdout = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.status.success(), "{}", String::from_utf8_lossy(&listing.stderr));
    let prefix = format!("{}:1 (Ethernet, ", soft_roce.device);
    assert!(stdout.lines().any(|line| line.starts_with(&prefix)), "no line starts with {prefix:?}:\n{stdout}");

    // rxe offers no raw packet QP, so opening stops at the QP, or else at
    // the sniffer rule. Either way the message names the device.
    let capture = soft_roce.nauditd(&["-i", &soft_roce.device, "--driver", "ibverbs", "-q"]);
    let stderr = String::from_utf8_lossy(&capture.stderr);
    println!("nauditd -i {}: {stderr}", soft_roce.device);
    assert_eq!(capture.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("RDMA device {} port 1", soft_roce.device)), "{stderr}");
    let rejected_qp = stderr.contains("ibv_create_qp of a raw packet QP failed");
    let rejected_rule =
        stderr.contains("rejected the sniffer flow steering rule (ibv_create_flow with IBV_FLOW_ATTR_SNIFFER)");
    assert!(rejected_qp || rejected_rule, "{stderr}");
}
