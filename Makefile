# The two entry points of the README: `make demo` and `make test`.

SAMPLE := tests/corpus/pcap/http-dns-wikipedia-multiflow.pcap

.PHONY: demo test build deps deps-build fuzz perf

deps:
	scripts/install-deps.sh

deps-build:
	scripts/install-deps.sh --build-only

build: deps-build
	cargo build --release

# Prints the flows of a capture shipped in the repository as a table.
demo: deps-build
	cargo run --release -- -r $(SAMPLE) --format text

# Runs every test; the corpus comparison prints its match rate per capture.
test: deps
	cargo test --workspace --release --features dpdk,ibverbs --no-fail-fast -- --show-output

# Fuzzes the decoders, the flow shard and the capture-file readers for
# FUZZ_SECONDS each on the stable toolchain; installs cargo-fuzz if missing.
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

# Regenerates the benchmark captures (in perf/data, about 6 GiB, reused when
# present) and perf/RESULTS.md: nauditd against Argus 3.0.8 and the floors,
# 5 alternating runs each. Takes about 20 minutes; run it on a quiet machine.
perf: deps
	cargo run --release -p naudit-perf --bin naudit-bench -- --out perf/RESULTS.md
