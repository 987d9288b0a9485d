//! A build without the `ibverbs` feature rejects the verbs sniffer with a
//! clear message.

#![cfg(not(feature = "ibverbs"))]

use std::process::Command;

fn nauditd_stderr(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_nauditd")).args(args).output().expect("run nauditd");
    assert_eq!(output.status.code(), Some(1));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn ibverbs_driver_needs_feature() {
    let stderr = nauditd_stderr(&["-i", "mlx5_0", "--driver", "ibverbs", "-q"]);
    assert!(stderr.contains("built without the InfiniBand verbs sniffer; build with --features ibverbs"), "{stderr}");
}

#[test]
fn ibverbs_listing_needs_feature() {
    let stderr = nauditd_stderr(&["-D", "--driver", "ibverbs"]);
    assert!(stderr.contains("built without the InfiniBand verbs sniffer; build with --features ibverbs"), "{stderr}");
}
