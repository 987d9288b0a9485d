//! Finds rdma-core's libibverbs with pkg-config and compiles the C shim
//! against it.

fn main() {
    println!("cargo:rerun-if-changed=shim/naudit_ibverbs_shim.c");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    let library = match pkg_config::Config::new().probe("libibverbs") {
        Ok(library) => library,
        Err(error) => panic!(
            "naudit-infiniband needs rdma-core's libibverbs and pkg-config cannot find it: {error}\n\
             Install it with `apt-get install libibverbs-dev pkg-config` (Debian 12 ships rdma-core 44), \
             or set PKG_CONFIG_PATH to the folder with libibverbs.pc, or build nauditd without `--features ibverbs`."
        ),
    };

    let mut build = cc::Build::new();
    build.file("shim/naudit_ibverbs_shim.c").warnings(true).flag_if_supported("-Wno-unused-parameter");
    for path in &library.include_paths {
        build.include(path);
    }
    build.compile("naudit_ibverbs_shim");
}
