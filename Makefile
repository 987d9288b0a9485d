# The two entry points of the README: `make demo` and `make test`.

SAMPLE := tests/corpus/pcap/http-dns-wikipedia-multiflow.pcap

.PHONY: demo test build deps deps-build

deps:
	scripts/install-deps.sh

deps-build:
	scripts/install-deps.sh --build-only

build: deps-build
	cargo build --release

# Prints the flows of a capture shipped in the repository as a table.
demo: build
	target/release/nauditd -r $(SAMPLE) --format text

# Runs every test; the corpus comparison prints its match rate per capture.
test: deps
	cargo test --workspace --release -- --show-output
