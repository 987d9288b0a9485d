//! BPF filters compiled by libpcap, run over whole corpus captures and
//! checked against tshark 4.0.17.
//!
//! tshark cannot apply a capture filter to a file, so each expected count
//! comes from `tshark -r FILE -Y DISPLAY_FILTER`. The display filter tests
//! what the BPF expression tests: the outermost headers only, and after
//! `vlan` the header that follows the first tag (`#1` selects the first
//! layer of a field). `tests/data/make-filter-counts.sh` prints the counts
//! again.

mod common;

use common::{corpus, read_all, Packet};
use naudit_engine::{LinkType, PacketSource};
use naudit_pcap::{open_inputs, BpfFilter, FilterError, FilteredSource, MappedSource};

/// A filter case: capture, BPF expression, the equivalent display filter,
/// and the number of packets tshark shows for it.
struct FilterCase {
    file_name: &'static str,
    expression: &'static str,
    display_filter: &'static str,
    expected_pkts: usize,
}

const CASES: [FilterCase; 13] = [
    FilterCase {
        file_name: "http-dns-wikipedia-multiflow.pcap",
        expression: "tcp port 80",
        display_filter: "tcp.port == 80",
        expected_pkts: 78,
    },
    FilterCase {
        file_name: "http-dns-wikipedia-multiflow.pcap",
        expression: "udp and port 53",
        display_filter: "udp.port == 53",
        expected_pkts: 28,
    },
    FilterCase {
        file_name: "http-dns-wikipedia-multiflow.pcap",
        expression: "ip6",
        display_filter: "eth.type == 0x86dd",
        expected_pkts: 5,
    },
    FilterCase {
        file_name: "http-dns-wikipedia-multiflow.pcap",
        expression: "arp",
        display_filter: "eth.type == 0x0806",
        expected_pkts: 6,
    },
    FilterCase {
        file_name: "http-dns-wikipedia-multiflow.pcap",
        expression: "icmp",
        display_filter: "ip.proto#1 == 1",
        expected_pkts: 0,
    },
    FilterCase {
        file_name: "icmp-echo-5pings.pcap",
        expression: "icmp",
        display_filter: "ip.proto#1 == 1",
        expected_pkts: 10,
    },
    FilterCase {
        file_name: "icmpv6-nd-options.pcap",
        expression: "ip6",
        display_filter: "eth.type == 0x86dd",
        expected_pkts: 20,
    },
    FilterCase {
        file_name: "vlan-id0-priority-tag-http.pcap",
        expression: "vlan and tcp",
        display_filter: "(vlan.etype#1 == 0x0800 && ip.proto#1 == 6) || (vlan.etype#1 == 0x86dd && ipv6.nxt#1 == 6)",
        expected_pkts: 14,
    },
    FilterCase {
        file_name: "vlan-8021q-icmp-arp.pcap",
        expression: "vlan and icmp",
        display_filter: "vlan.etype#1 == 0x0800 && ip.proto#1 == 1",
        expected_pkts: 9,
    },
    FilterCase {
        file_name: "vlan-8021q-icmp-arp.pcap",
        expression: "vlan and arp",
        display_filter: "vlan.etype#1 == 0x0806",
        expected_pkts: 6,
    },
    FilterCase {
        // Half of the frames are tagged, so `vlan` must also reject the rest.
        file_name: "gre-cmd-keepalive-cdp-vlan.pcap",
        expression: "vlan and ip",
        display_filter: "vlan.etype#1 == 0x0800",
        expected_pkts: 30,
    },
    FilterCase {
        // BPF's `vlan` skips one tag, so with three tags `tcp` finds the
        // second tag where it looks for IP. tshark's `vlan && tcp` shows 14
        // because it looks through every tag.
        file_name: "qinqinq-3-tags-http.pcap",
        expression: "vlan and tcp",
        display_filter: "(vlan.etype#1 == 0x0800 && ip.proto#1 == 6) || (vlan.etype#1 == 0x86dd && ipv6.nxt#1 == 6)",
        expected_pkts: 0,
    },
    FilterCase {
        file_name: "qinqinq-3-tags-http.pcap",
        expression: "vlan and vlan and vlan and tcp",
        display_filter: "(vlan.etype#3 == 0x0800 && ip.proto#1 == 6) || (vlan.etype#3 == 0x86dd && ipv6.nxt#1 == 6)",
        expected_pkts: 14,
    },
];

/// Reads a whole corpus capture without filtering.
fn read_corpus(file_name: &str) -> Vec<Packet> {
    let mut source =
        MappedSource::open(&corpus(file_name)).unwrap_or_else(|error| panic!("{error}"));
    let result = read_all(&mut source);
    assert!(result.error.is_none(), "{file_name}: {:?}", result.error);
    result.packets
}

/// Counts the packets of one link type that `filter` accepts.
fn count_matches(filter: &BpfFilter, packets: &[Packet]) -> usize {
    packets
        .iter()
        .filter(|packet| LinkType(packet.link_type) == filter.link_type())
        .filter(|packet| filter.matches(&packet.data, packet.wire_len))
        .count()
}

#[test]
fn corpus_counts_match_tshark() {
    for case in &CASES {
        let packets = read_corpus(case.file_name);
        let filter = BpfFilter::compile(case.expression, LinkType::ETHERNET, 262_144)
            .unwrap_or_else(|error| panic!("{}: {error}", case.file_name));
        assert_eq!(
            count_matches(&filter, &packets),
            case.expected_pkts,
            "{}: `{}` (tshark -Y '{}')",
            case.file_name,
            case.expression,
            case.display_filter
        );
    }
}

#[test]
fn filtered_source_delivers_exactly_matches() {
    for case in &CASES {
        let all = read_corpus(case.file_name);
        let filter =
            BpfFilter::compile(case.expression, LinkType::ETHERNET, 262_144).expect("compile");
        let expected: Vec<&Packet> = all
            .iter()
            .filter(|packet| filter.matches(&packet.data, packet.wire_len))
            .collect();

        let inner = MappedSource::open(&corpus(case.file_name)).expect("open");
        let mut source = FilteredSource::new(inner, case.expression).expect("filter");
        let result = read_all(&mut source);
        assert!(
            result.error.is_none(),
            "{}: {:?}",
            case.file_name,
            result.error
        );
        let delivered: Vec<&Packet> = result.packets.iter().collect();
        assert_eq!(
            delivered, expected,
            "{}: `{}`",
            case.file_name, case.expression
        );

        let counters = source.counters();
        assert_eq!(
            counters.received_pkts, case.expected_pkts as u64,
            "{}",
            case.file_name
        );
        let filter_counters = source.filter_counters();
        assert_eq!(filter_counters.accepted_pkts, case.expected_pkts as u64);
        assert_eq!(
            filter_counters.rejected_pkts,
            (all.len() - case.expected_pkts) as u64,
            "{}: `{}`",
            case.file_name,
            case.expression
        );
        assert_eq!(filter_counters.uncompiled_link_type_pkts, 0);
    }
}

#[test]
fn filtered_source_through_open_inputs() {
    let inner = open_inputs(&[corpus("http-dns-wikipedia-multiflow.pcap")]).expect("open");
    let mut source = FilteredSource::new(inner, "udp and port 53").expect("filter");
    let result = read_all(&mut source);
    assert!(result.error.is_none(), "{:?}", result.error);
    assert_eq!(result.packets.len(), 28);
    let bytes: usize = result.packets.iter().map(|packet| packet.data.len()).sum();
    // tshark -Y 'udp.port == 53' -T fields -e frame.len, summed.
    assert_eq!(bytes, 3573);
}

/// Counts per interface of fmt-pcapng-derived-3-linktypes.pcapng, which has
/// Ethernet (interface 0, 10 packets), Linux cooked v2 (interface 1, 6)
/// and raw IP (interface 2, 1). Expected counts per interface come from
/// `tshark -Y 'frame.interface_id == N && (DISPLAY_FILTER)'`. tshark's
/// `arp` also shows the RARP packet, so the cases test the ethertype.
const MIXED_LINK_TYPE_CASES: [(&str, &str, [usize; 3]); 5] = [
    ("icmp", "ip.proto == 1", [10, 2, 0]),
    (
        "ip6",
        "sll.etype == 0x86dd || eth.type == 0x86dd || (frame.encap_type == 7 && ipv6)",
        [0, 2, 1],
    ),
    (
        "arp",
        "sll.etype == 0x0806 || eth.type == 0x0806",
        [0, 1, 0],
    ),
    (
        "rarp",
        "sll.etype == 0x8035 || eth.type == 0x8035",
        [0, 1, 0],
    ),
    ("udp port 53", "udp.port == 53", [0, 0, 1]),
];

#[test]
fn mixed_link_types_filter_each_type() {
    let file_name = "fmt-pcapng-derived-3-linktypes.pcapng";
    let all = read_corpus(file_name);
    let link_types = [LinkType::ETHERNET, LinkType::LINUX_SLL2, LinkType::RAW];
    for (port, link_type) in link_types.iter().enumerate() {
        assert!(
            all.iter()
                .filter(|packet| packet.port == port as u16)
                .all(|packet| LinkType(packet.link_type) == *link_type),
            "interface {port} must be {link_type:?}"
        );
    }

    for (expression, display_filter, expected) in MIXED_LINK_TYPE_CASES {
        for (port, link_type) in link_types.iter().enumerate() {
            let context = format!(
                "`{expression}` on interface {port} ({link_type:?}), tshark -Y '{display_filter}'"
            );
            match BpfFilter::compile(expression, *link_type, 262_144) {
                Ok(filter) => assert_eq!(count_matches(&filter, &all), expected[port], "{context}"),
                // libpcap's optimiser reports a program that can never
                // accept as an error, as for `arp` on raw IP.
                Err(error) => {
                    assert!(
                        error.to_string().contains("expression rejects all packets"),
                        "{context}: {error}"
                    );
                    assert_eq!(expected[port], 0, "{context}: {error}");
                }
            }
        }

        let inner = MappedSource::open(&corpus(file_name)).expect("open");
        let mut source = FilteredSource::new(inner, expression).expect("filter");
        let result = read_all(&mut source);
        assert!(result.error.is_none(), "{:?}", result.error);
        let per_port: Vec<usize> = (0..3)
            .map(|port| {
                result
                    .packets
                    .iter()
                    .filter(|packet| packet.port == port)
                    .count()
            })
            .collect();
        assert_eq!(per_port, expected, "FilteredSource with `{expression}`");
    }
}

#[test]
fn invalid_expression_names_it() {
    let error = BpfFilter::compile("udp and port fifty-three", LinkType::ETHERNET, 262_144)
        .expect_err("the port is not a number or a service name");
    let message = error.to_string();
    assert!(matches!(error, FilterError::Invalid { .. }), "{error:?}");
    assert!(
        message.contains("\"udp and port fifty-three\""),
        "{message}"
    );

    let inner = MappedSource::open(&corpus("icmp-echo-5pings.pcap")).expect("open");
    let Err(error) = FilteredSource::new(inner, "tcp and (") else {
        panic!("an unbalanced parenthesis must be rejected before reading");
    };
    assert!(error.to_string().contains("\"tcp and (\""), "{error}");
    assert!(error.to_string().contains("syntax error"), "{error}");
}
