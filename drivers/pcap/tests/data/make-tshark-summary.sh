#!/usr/bin/env bash
# Writes tshark-summary.tsv: per corpus capture, the packet count, the sums of
# captured and wire lengths, the number of truncated packets, the first and
# last timestamp and the sum of all timestamps (nanoseconds, modulo 2^64), as
# Wireshark's tshark reads the file. The corpus tests compare the reader with
# these values. The two damaged captures are left out: they end in an error,
# which the corpus tests check on their own, and Wireshark reads
# bad-pcap-record-len-16MB.pcap with a format guess that libpcap does not make.
#
# Usage: drivers/pcap/tests/data/make-tshark-summary.sh > drivers/pcap/tests/data/tshark-summary.tsv
set -euo pipefail
corpus="$(dirname -- "$0")/../../../../tests/corpus/pcap"
echo "# $(tshark --version | head -n 1)"
printf 'file\tpackets\tcaptured_bytes\twire_bytes\ttruncated\tfirst_ns\tlast_ns\tsum_ns_mod_2_64\n'
for path in "$corpus"/*.pcap "$corpus"/*.pcapng; do
    file=$(basename -- "$path")
    case "$file" in bad-pcap-record-*) continue ;; esac
    tshark -r "$path" -T fields -e frame.time_epoch -e frame.cap_len -e frame.len 2>/dev/null |
        python3 -c '
import sys
name = sys.argv[1]
count = captured = wire = truncated = total = 0
first = last = None
for line in sys.stdin:
    epoch, cap_len, wire_len = line.split("\t")
    seconds, fraction = epoch.split(".")
    ns = int(seconds) * 1_000_000_000 + int(fraction.ljust(9, "0")[:9])
    count += 1
    captured += int(cap_len)
    wire += int(wire_len)
    truncated += int(cap_len) < int(wire_len)
    total = (total + ns) % 2**64
    first = ns if first is None else first
    last = ns
print(name, count, captured, wire, truncated, first if first is not None else "-", last if last is not None else "-", total, sep="\t")
' "$file"
done
