#!/usr/bin/env bash
# Installs the Debian packages nauditd's build and tests need: libpcap for
# the capture driver, DPDK 22.11 for the DPDK driver (`--features dpdk`, and
# `cargo test --workspace` builds it), rdma-core's libibverbs and its
# providers for the InfiniBand verbs sniffer (`--features ibverbs`, also built
# by `cargo test --workspace`), and the real programs the tests compare against
# (argus and its clients, tshark, tcpreplay, nfdump, logrotate). Does
# nothing when all are present. Runs apt-get as root, or through sudo for
# other users.
set -euo pipefail

packages=(libpcap-dev pkg-config python3 argus-server argus-client tshark tcpreplay iproute2 procps nfdump logrotate dpdk libdpdk-dev libibverbs-dev ibverbs-providers kmod)
if [[ "${1:-}" == "--build-only" ]]; then
    packages=(libpcap-dev pkg-config)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

run_as_root=()
if [[ $(id -u) -ne 0 ]]; then
    run_as_root=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${run_as_root[@]}" apt-get update -qq
"${run_as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
