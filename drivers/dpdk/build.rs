//! Finds the system DPDK with pkg-config and compiles the C shim against it.

/// The DPDK release the shim and `src/sys.rs` are written for.
const DPDK_VERSION_PREFIX: &str = "22.11";

fn main() {
    println!("cargo:rerun-if-changed=shim/naudit_dpdk_shim.c");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    let library = match pkg_config::Config::new().probe("libdpdk") {
        Ok(library) => library,
        Err(error) => panic!(
            "naudit-dpdk needs DPDK {DPDK_VERSION_PREFIX} and pkg-config cannot find libdpdk: {error}\n\
             Install it with `apt-get install libdpdk-dev pkg-config` (Debian 12), or set PKG_CONFIG_PATH \
             to the folder with libdpdk.pc, or build nauditd without `--features dpdk`."
        ),
    };
    if !library.version.starts_with(DPDK_VERSION_PREFIX) {
        panic!(
            "naudit-dpdk is written for DPDK {DPDK_VERSION_PREFIX}, but pkg-config found libdpdk {}; \
             install DPDK {DPDK_VERSION_PREFIX} (Debian 12's libdpdk-dev) or point PKG_CONFIG_PATH at it",
            library.version
        );
    }

    // pkg-config's cflags for libdpdk carry `-include rte_config.h` and a
    // `-march` flag besides the include paths; the shim needs all of them.
    let output = std::process::Command::new("pkg-config")
        .args(["--cflags", "libdpdk"])
        .output()
        .expect("run pkg-config --cflags libdpdk");
    assert!(output.status.success(), "pkg-config --cflags libdpdk failed: {}", String::from_utf8_lossy(&output.stderr));
    let cflags = String::from_utf8_lossy(&output.stdout).into_owned();

    let mut build = cc::Build::new();
    build.file("shim/naudit_dpdk_shim.c").warnings(true).flag_if_supported("-Wno-unused-parameter");
    for flag in cflags.split_whitespace() {
        build.flag(flag);
    }
    build.compile("naudit_dpdk_shim");
}
