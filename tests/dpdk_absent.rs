//! A build without the `dpdk` feature rejects the DPDK driver with a clear
//! message.

#![cfg(not(feature = "dpdk"))]

use std::process::Command;

#[test]
fn dpdk_driver_needs_feature() {
    let output = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .args(["--driver", "dpdk", "--dpdk-args", "--no-pci", "-q"])
        .output()
        .expect("run nauditd");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("built without DPDK; build with --features dpdk"), "{stderr}");
}
