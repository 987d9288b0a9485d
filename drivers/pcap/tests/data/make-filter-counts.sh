#!/usr/bin/env bash
# Prints the packet counts that tests/filter.rs expects: for each corpus
# capture and display filter, the number of packets tshark shows. Each
# display filter tests what the BPF expression beside it tests.
#
# Usage: drivers/pcap/tests/data/make-filter-counts.sh
set -euo pipefail
corpus="$(dirname -- "$0")/../../../../tests/corpus/pcap"
echo "# $(tshark --version 2>/dev/null | head -n 1)"
printf 'file\tbpf_expression\tdisplay_filter\tpackets\n'

count() {
    local file=$1 expression=$2 display_filter=$3
    local packets
    packets=$(tshark -r "$corpus/$file" -Y "$display_filter" 2>/dev/null | wc -l)
    printf '%s\t%s\t%s\t%s\n' "$file" "$expression" "$display_filter" "$packets"
}

count http-dns-wikipedia-multiflow.pcap 'tcp port 80' 'tcp.port == 80'
count http-dns-wikipedia-multiflow.pcap 'udp and port 53' 'udp.port == 53'
count http-dns-wikipedia-multiflow.pcap 'ip6' 'eth.type == 0x86dd'
count http-dns-wikipedia-multiflow.pcap 'arp' 'eth.type == 0x0806'
count http-dns-wikipedia-multiflow.pcap 'icmp' 'ip.proto#1 == 1'
count icmp-echo-5pings.pcap 'icmp' 'ip.proto#1 == 1'
count icmpv6-nd-options.pcap 'ip6' 'eth.type == 0x86dd'
count vlan-id0-priority-tag-http.pcap 'vlan and tcp' \
    '(vlan.etype#1 == 0x0800 && ip.proto#1 == 6) || (vlan.etype#1 == 0x86dd && ipv6.nxt#1 == 6)'
count vlan-8021q-icmp-arp.pcap 'vlan and icmp' 'vlan.etype#1 == 0x0800 && ip.proto#1 == 1'
count vlan-8021q-icmp-arp.pcap 'vlan and arp' 'vlan.etype#1 == 0x0806'
count gre-cmd-keepalive-cdp-vlan.pcap 'vlan and ip' 'vlan.etype#1 == 0x0800'
count qinqinq-3-tags-http.pcap 'vlan and tcp' \
    '(vlan.etype#1 == 0x0800 && ip.proto#1 == 6) || (vlan.etype#1 == 0x86dd && ipv6.nxt#1 == 6)'
count qinqinq-3-tags-http.pcap 'vlan and vlan and vlan and tcp' \
    '(vlan.etype#3 == 0x0800 && ip.proto#1 == 6) || (vlan.etype#3 == 0x86dd && ipv6.nxt#1 == 6)'

mixed=fmt-pcapng-derived-3-linktypes.pcapng
for interface in 0 1 2; do
    count "$mixed" "icmp (interface $interface)" "frame.interface_id == $interface && ip.proto == 1"
    count "$mixed" "ip6 (interface $interface)" \
        "frame.interface_id == $interface && (sll.etype == 0x86dd || eth.type == 0x86dd || (frame.encap_type == 7 && ipv6))"
    count "$mixed" "arp (interface $interface)" \
        "frame.interface_id == $interface && (sll.etype == 0x0806 || eth.type == 0x0806)"
    count "$mixed" "rarp (interface $interface)" \
        "frame.interface_id == $interface && (sll.etype == 0x8035 || eth.type == 0x8035)"
    count "$mixed" "udp port 53 (interface $interface)" "frame.interface_id == $interface && udp.port == 53"
done

printf 'http-dns-wikipedia-multiflow.pcap\tudp and port 53\tudp.port == 53 (sum of frame.len)\t%s\n' \
    "$(tshark -r "$corpus/http-dns-wikipedia-multiflow.pcap" -Y 'udp.port == 53' -T fields -e frame.len 2>/dev/null |
        awk '{ sum += $1 } END { print sum }')"
