#!/usr/bin/env python3
"""Writes seed inputs for the fuzz targets from the test corpus and the
tcpdump test captures.

decode:       2-byte little-endian link type, then one packet.
flows:        per packet a 4-byte time step in microseconds, a 2-byte length
              and the bytes, for the Ethernet captures.
capture_file: the capture files themselves, when under 64 KiB.
"""
import os
import struct
import sys

TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")
# Capture folders, each with the number of packets per capture that seed the
# decode target: tcpdump's 830 captures get fewer, to keep the seed set small.
SOURCES = [
    (os.path.join(TESTS, "corpus", "pcap"), 20),
    (os.path.join(TESTS, "tcpdump-captures"), 5),
]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
MAX_FILE_BYTES = 64 * 1024


def classic_pcap_packets(data):
    """Yields (link type, time in microseconds, packet) of a classic pcap file."""
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return
    link_type = struct.unpack(endian + "I", data[20:24])[0] & 0xFFFF
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, captured, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        packet = data[offset + 16:offset + 16 + captured]
        if len(packet) < captured:
            return
        yield link_type, seconds * 1_000_000 + fraction, packet
        offset += 16 + captured


def write(target, name, payload):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(payload)


def main():
    for folder, decode_packets in SOURCES:
        for name in sorted(os.listdir(folder)):
            if name.endswith((".pcap", ".pcapng", ".erf")):
                with open(os.path.join(folder, name), "rb") as handle:
                    write_seeds(name, handle.read(), decode_packets)
    return 0


def write_seeds(name, data, decode_packets):
    """Writes the seeds of one capture file for every target."""
    if len(data) <= MAX_FILE_BYTES:
        write("capture_file", name, data)
    packets = list(classic_pcap_packets(data))
    for index, (link_type, _, packet) in enumerate(packets[:decode_packets]):
        write("decode", f"{name}-{index}", struct.pack("<H", link_type) + packet)
    if packets and packets[0][0] == 1:
        sequence = b""
        previous = packets[0][1]
        for _, time_us, packet in packets[:64]:
            step = max(0, min(time_us - previous, 0xFFFFFFFF))
            previous = time_us
            sequence += struct.pack("<IH", step, min(len(packet), 0xFFFF)) + packet[:0xFFFF]
        write("flows", name, sequence)


if __name__ == "__main__":
    sys.exit(main())
