#!/usr/bin/env bash
# Runs each cargo-fuzz target for a bounded time on the stable toolchain,
# seeded from the test corpus (fuzz/make-seeds.py) and from the inputs kept
# under fuzz/regressions/. Installs cargo-fuzz, and g++ for libFuzzer, when
# missing.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   default: 60 seconds for each of decode, flows and capture_file.
#
# The targets are built without a sanitizer, which stable Rust does not
# offer, and with debug assertions, so integer overflow panics. libFuzzer
# treats an input that runs longer than 10 s or takes more than 2 GiB as a
# find. Each find is copied to fuzz/regressions/TARGET/, which
# tests/fuzz_regressions.rs replays in `cargo test`, and printed in base64
# so that a find in CI can be recreated from the log. Exits 1 after any find.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(decode flows capture_file)
fi

if ! command -v c++ >/dev/null; then
    run_as_root=()
    if [[ $(id -u) -ne 0 ]]; then
        run_as_root=(sudo)
    fi
    echo "fuzz: installing g++ for libFuzzer" >&2
    "${run_as_root[@]}" apt-get install -y -qq g++ >&2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz
fi

python3 make-seeds.py

finds=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "regressions/$target"
    rm -rf "artifacts/$target"
    echo "fuzz: running $target for $seconds s" >&2
    if cargo fuzz run --sanitizer none --debug-assertions "$target" \
        "corpus/$target" "regressions/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
        continue
    fi
    finds=1
    if ! compgen -G "artifacts/$target/*" >/dev/null; then
        echo "fuzz: $target failed without leaving an input; see the output above" >&2
    fi
    for find in "artifacts/$target"/*; do
        [[ -f "$find" ]] || continue
        kept="regressions/$target/$(basename "$find")"
        cp "$find" "$kept"
        echo "fuzz: $target failed on an input, kept as fuzz/$kept; base64: $(base64 -w0 "$find")" >&2
    done
done
exit "$finds"
