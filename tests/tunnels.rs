//! Inner flows of encapsulated traffic: link types other than Ethernet,
//! MPLS, PPPoE and tunnels, on corpus captures, checked against the
//! conversations Wireshark 4 lists (`tshark -q -z conv,tcp -z conv,udp
//! -z conv,ip`, stored in tests/corpus/tshark).

mod common;

use common::builder::{self, TestPacket, ACK, SYN};
use common::{corpus_capture, csv_rows, nauditd_csv, scratch_file};

/// One CSV record, by column name.
struct Row<'a> {
    header: &'a [String],
    fields: &'a [String],
}

impl Row<'_> {
    fn get(&self, name: &str) -> &str {
        let index = self.header.iter().position(|field| field == name).unwrap_or_else(|| panic!("no column {name}"));
        &self.fields[index]
    }

    fn pkts(&self) -> u64 {
        self.get("spkts").parse::<u64>().unwrap() + self.get("dpkts").parse::<u64>().unwrap()
    }

    /// Returns true when the record's endpoints are `a` and `b` in either
    /// order, each as address and port ("*" for any port, as for ICMP,
    /// whose port columns hold type and code).
    fn joins(&self, a: (&str, &str), b: (&str, &str)) -> bool {
        let source = (self.get("saddr"), self.get("sport"));
        let destination = (self.get("daddr"), self.get("dport"));
        let matches = |endpoint: (&str, &str), expected: (&str, &str)| {
            endpoint.0 == expected.0 && (expected.1 == "*" || endpoint.1 == expected.1)
        };
        (matches(source, a) && matches(destination, b)) || (matches(source, b) && matches(destination, a))
    }
}

/// The CSV records of a corpus capture.
fn records(capture: &str) -> Vec<Vec<String>> {
    csv_rows(&nauditd_csv(&corpus_capture(capture), &[]))
}

/// An expected conversation: protocol, the two endpoints as address and
/// port, and packets in both directions.
struct Conversation {
    proto: &'static str,
    a: (&'static str, &'static str),
    b: (&'static str, &'static str),
    pkts: u64,
}

const fn conversation(
    proto: &'static str,
    a: (&'static str, &'static str),
    b: (&'static str, &'static str),
    pkts: u64,
) -> Conversation {
    Conversation { proto, a, b, pkts }
}

/// Finds the record of `expected` in `rows` (summing the records of one
/// flow) and checks its packet count; returns the first matching record's
/// fields.
fn assert_conversation<'a>(rows: &'a [Vec<String>], expected: &Conversation) -> Row<'a> {
    let header = &rows[0];
    let matching: Vec<Row<'a>> = rows[1..]
        .iter()
        .map(|fields| Row { header, fields })
        .filter(|row| row.get("proto") == expected.proto && row.joins(expected.a, expected.b))
        .collect();
    assert!(
        !matching.is_empty(),
        "no {} record between {:?} and {:?} in {rows:?}",
        expected.proto,
        expected.a,
        expected.b
    );
    let pkts: u64 = matching.iter().map(Row::pkts).sum();
    assert_eq!(pkts, expected.pkts, "packets between {:?} and {:?}", expected.a, expected.b);
    matching.into_iter().next().unwrap()
}

/// Checks the tunnel columns of a record.
fn assert_tunnel(row: &Row<'_>, kind: &str, outer: (&str, &str), id: &str) {
    assert_eq!(row.get("tunnel"), kind);
    let (source, destination) = (row.get("tunnel_src"), row.get("tunnel_dst"));
    assert!(
        (source, destination) == outer || (destination, source) == outer,
        "tunnel endpoints {source}, {destination}, expected {outer:?}"
    );
    assert_eq!(row.get("tunnel_id"), id);
}

fn assert_no_tunnel(row: &Row<'_>) {
    assert_eq!(row.get("tunnel"), "");
    assert_eq!(row.get("tunnel_id"), "");
}

// ---- Link types ----

#[test]
fn ppp_link_type_ipv4_udp() {
    let rows = records("lt-ppp-quic-ipv4-ipv6.pcap");
    let quic = conversation("udp", ("193.167.0.100", "42834"), ("193.167.100.100", "443"), 22);
    assert_no_tunnel(&assert_conversation(&rows, &quic));
}

#[test]
fn ppp_link_type_mpls_labelled_ipv4() {
    let rows = records("lt-ppp-mpls-lspping.pcap");
    for expected in [
        conversation("udp", ("12.4.4.4", "4786"), ("127.0.0.1", "3503"), 5),
        conversation("udp", ("10.20.0.1", "3503"), ("12.4.4.4", "4786"), 5),
        conversation("tcp", ("12.4.4.4", "2006"), ("12.1.1.1", "179"), 2),
        conversation("tcp", ("12.4.4.4", "4100"), ("12.8.8.8", "179"), 1),
    ] {
        assert_conversation(&rows, &expected);
    }
}

#[test]
fn ppp_hdlc_frame_with_unknown_protocol() {
    // The frame's protocol field reads 0x7e08, which Wireshark does not
    // decode either: no IP conversation.
    let rows = records("lt-ppp-hdlc-dns.pcap");
    assert_eq!(rows.len(), 1, "header only: {rows:?}");
}

#[test]
fn cisco_hdlc_tcp() {
    let rows = records("lt-chdlc-http.pcap");
    let http = conversation("tcp", ("192.168.2.7", "4938"), ("65.55.116.183", "80"), 17);
    assert_conversation(&rows, &http);
}

#[test]
fn radiotap_80211_llc_snap() {
    let rows = records("lt-radiotap-80211-dns.pcap");
    assert_conversation(&rows, &conversation("udp", ("172.17.156.76", "61738"), ("208.67.220.220", "53"), 2));
    assert_conversation(&rows, &conversation("udp", ("fe80::a667:6ff:fef7:ec54", "5353"), ("ff02::fb", "5353"), 1));
}

#[test]
fn plain_80211_llc_snap() {
    let rows = records("lt-80211-plain-dns.pcap");
    assert_conversation(&rows, &conversation("udp", ("172.17.156.76", "61738"), ("208.67.220.220", "53"), 2));
    assert_conversation(&rows, &conversation("udp", ("fe80::a667:6ff:fef7:ec54", "5353"), ("ff02::fb", "5353"), 1));
}

#[test]
fn nflog_payload_attribute() {
    let rows = records("lt-nflog-http.pcap");
    assert_conversation(&rows, &conversation("tcp", ("10.0.2.15", "49762"), ("93.184.216.34", "80"), 13));
}

#[test]
fn ip_over_infiniband() {
    let rows = records("lt-ipoib-ssh.pcap");
    assert_conversation(&rows, &conversation("tcp", ("192.168.56.10", "34170"), ("192.168.56.24", "22"), 15));
    assert_conversation(&rows, &conversation("tcp", ("192.168.56.10", "52289"), ("192.168.56.24", "8"), 1));
}

#[test]
fn juniper_ethernet() {
    let rows = records("lt-juniper-ether-bgp.pcap");
    assert_conversation(&rows, &conversation("tcp", ("172.16.20.5", "59631"), ("172.16.20.3", "179"), 1));
}

// ---- MPLS and PPPoE ----

#[test]
fn mpls_under_vlan() {
    let rows = records("mpls-in-vlan-http.pcap");
    for expected in [
        conversation("tcp", ("65.65.65.65", "19244"), ("65.65.65.65", "80"), 1),
        conversation("tcp", ("65.65.65.65", "80"), ("65.65.65.65", "32828"), 1),
        conversation("tcp", ("65.65.65.65", "61193"), ("65.65.65.65", "80"), 1),
    ] {
        assert_no_tunnel(&assert_conversation(&rows, &expected));
    }
}

#[test]
fn pppoe_session_over_qinq() {
    let rows = records("pppoe-session-qinq-tls.pcap");
    let tls = conversation("tcp", ("1.1.1.1", "20394"), ("2.2.2.2", "443"), 86);
    assert_conversation(&rows, &tls);
}

#[test]
fn pppoe_session_ipv6() {
    let rows = records("pppoe-discovery-session-ipv6.pcap");
    let dhcp = conversation("udp", ("fe80::ce05:eff:fe88:0", "546"), ("ff02::1:2", "547"), 2);
    assert_conversation(&rows, &dhcp);
    let reply = conversation("udp", ("fe80::c801:eff:fe88:8", "547"), ("fe80::ce05:eff:fe88:0", "546"), 2);
    assert_conversation(&rows, &reply);
}

// ---- Tunnels ----

#[test]
fn vxlan_inner_tcp() {
    let rows = records("vxlan-http.pcap");
    let http = conversation("tcp", ("172.16.11.201", "40354"), ("54.86.237.188", "80"), 12);
    let row = assert_conversation(&rows, &http);
    assert_tunnel(&row, "vxlan", ("10.1.200.131", "10.1.1.172"), "1");
    assert_eq!(rows.len(), 2, "the inner flow only: {rows:?}");
}

#[test]
fn vxlan_three_deep() {
    let rows = records("vxlan-triple-nested-dns.pcap");
    let dns = conversation("udp", ("4.4.4.4", "53"), ("4.4.4.9", "53"), 1);
    let row = assert_conversation(&rows, &dns);
    assert_tunnel(&row, "vxlan", ("3.3.3.3", "3.3.3.9"), "3");
}

#[test]
fn vxlan_gpe_with_nsh() {
    let rows = records("vxlan-gpe-nsh.pcap");
    let inner = conversation("udp", ("192.168.0.1", "10000"), ("192.168.0.2", "20000"), 1);
    let row = assert_conversation(&rows, &inner);
    assert_eq!(row.get("tunnel"), "vxlan-gpe");
}

#[test]
fn geneve_with_options() {
    let rows = records("geneve-options-http.pcap");
    let http = conversation("tcp", ("10.0.0.226", "39088"), ("95.217.228.176", "80"), 10);
    let row = assert_conversation(&rows, &http);
    assert_tunnel(&row, "geneve", ("192.168.33.179", "192.168.179.33"), &0x0c012e.to_string());
}

#[test]
fn geneve_ipv6_without_ethernet() {
    let rows = records("geneve-ipv6-no-inner-eth.pcap");
    let inner = conversation("udp", ("fd00::1", "40000"), ("fd00::2", "40001"), 2);
    let row = assert_conversation(&rows, &inner);
    assert_tunnel(&row, "geneve", ("10.0.0.1", "10.0.0.2"), &0x123456.to_string());
}

#[test]
fn vxlan_inside_geneve() {
    let rows = records("geneve-vxlan-nested-dns.pcap");
    let dns = conversation("udp", ("172.16.11.201", "36872"), ("1.1.1.1", "53"), 2);
    let row = assert_conversation(&rows, &dns);
    assert_tunnel(&row, "vxlan", ("127.0.0.1", "127.0.0.1"), "4242");
}

#[test]
fn gre_inner_ssh() {
    let rows = records("gre-ipv4-ssh-icmp.pcap");
    let ssh = conversation("tcp", ("66.59.111.190", "40264"), ("172.28.2.3", "22"), 22);
    let row = assert_conversation(&rows, &ssh);
    assert_tunnel(&row, "gre", ("172.27.1.66", "66.59.109.137"), "0");
    assert_conversation(&rows, &conversation("udp", ("66.59.111.190", "123"), ("18.26.4.105", "123"), 2));
}

#[test]
fn gre_in_udp() {
    let rows = records("gre-in-udp-4754.pcap");
    let http = conversation("tcp", ("172.17.0.2", "36518"), ("192.0.78.150", "80"), 10);
    assert_eq!(assert_conversation(&rows, &http).get("tunnel"), "gre-udp");
    let dns = conversation("udp", ("172.17.0.2", "51714"), ("1.1.1.1", "53"), 4);
    assert_eq!(assert_conversation(&rows, &dns).get("tunnel"), "gre-udp");
}

#[test]
fn pptp_gre_ppp_over_ipv6_over_ipv4() {
    let rows = records("gre-pptp-ppp-4in6.pcap");
    let dns = conversation("udp", ("172.16.44.3", "40768"), ("8.8.8.8", "53"), 2);
    assert_eq!(assert_conversation(&rows, &dns).get("tunnel"), "pptp");
}

#[test]
fn gre_inside_gre() {
    let rows = records("gre-within-gre.pcap");
    let rip = conversation("udp", ("3.3.3.1", "520"), ("224.0.0.9", "520"), 2);
    assert_eq!(assert_conversation(&rows, &rip).get("tunnel"), "gre");
}

#[test]
fn erspan_type_1() {
    let rows = records("erspan-type1.pcap");
    let ping = conversation("icmp", ("172.16.133.2", "*"), ("172.217.11.78", "*"), 10);
    let row = assert_conversation(&rows, &ping);
    assert_tunnel(&row, "erspan1", ("192.168.1.1", "192.168.1.2"), "0");
}

#[test]
fn erspan_type_2() {
    let rows = records("erspan-type2.pcap");
    let ping = conversation("icmp", ("23.0.0.2", "*"), ("23.0.0.3", "*"), 4);
    let row = assert_conversation(&rows, &ping);
    assert_tunnel(&row, "erspan2", ("2.2.2.2", "1.1.1.1"), "100");
}

#[test]
fn erspan_type_3() {
    let rows = records("erspan-type3.pcap");
    let ping = conversation("icmp", ("192.168.15.47", "*"), ("1.1.1.1", "*"), 2);
    let row = assert_conversation(&rows, &ping);
    assert_tunnel(&row, "erspan3", ("10.0.0.1", "10.0.0.2"), "0");
}

#[test]
fn gtpu_with_extension_header() {
    let rows = records("gtpu-extension-header.pcap");
    let inner = conversation("tcp", ("10.155.182.202", "41511"), ("10.155.186.57", "6005"), 1);
    let row = assert_conversation(&rows, &inner);
    assert_tunnel(&row, "gtpu", ("10.155.148.149", "10.155.148.157"), &0x0010_0657.to_string());
}

#[test]
fn gtpu_inner_ipv6() {
    let rows = records("gtpu-inner-ipv6.pcap");
    let llmnr = conversation("udp", ("fe80::224c:4fff:fe43:414c", "1234"), ("ff02::1:3", "5355"), 1);
    let row = assert_conversation(&rows, &llmnr);
    assert_tunnel(&row, "gtpu", ("118.92.124.41", "118.92.124.72"), &0x9136_4467u32.to_string());
}

#[test]
fn gtpu_over_outer_fragments() {
    // nauditd does not reassemble: the inner TCP header is read from each
    // first fragment. Wireshark agrees with ip.defragment off (72 frames,
    // 27 and 45); with reassembly it lists 68.
    let rows = records("gtpu-outer-frag-http.pcap");
    let http = conversation("tcp", ("10.131.47.185", "1923"), ("79.101.110.141", "80"), 72);
    let row = assert_conversation(&rows, &http);
    assert_eq!(row.get("tunnel"), "gtpu");
}

#[test]
fn ip_in_ip_four_combinations() {
    let rows = records("ipip-4in4-udp.pcap");
    assert_eq!(
        assert_conversation(&rows, &conversation("udp", ("10.0.0.1", "30000"), ("10.0.0.2", "13000"), 1)).get("tunnel"),
        "ipip"
    );

    let rows = records("ipip-4in6-tcp.pcap");
    assert_eq!(
        assert_conversation(&rows, &conversation("tcp", ("70.55.213.211", "31337"), ("192.88.99.1", "80"), 1))
            .get("tunnel"),
        "ipip"
    );

    let rows = records("ipip-6in4-mixed.pcap");
    let tls = conversation(
        "tcp",
        ("2001:470:1f17:13f:3e97:eff:fe73:4dec", "53234"),
        ("2a03:2880:1010:6f03:face:b00c:0:2", "443"),
        33,
    );
    assert_eq!(assert_conversation(&rows, &tls).get("tunnel"), "ipip");

    let rows = records("ipip-6in6in6-udp.pcap");
    let row = assert_conversation(&rows, &conversation("udp", ("dead::beef", "30000"), ("cafe::babe", "13000"), 1));
    assert_tunnel(&row, "ipip", ("babe::beef", "dead::babe"), "0");
}

#[test]
fn teredo_server_packets() {
    let rows = records("teredo-ipv6.pcap");
    let header = &rows[0];
    let teredo = rows[1..].iter().map(|fields| Row { header, fields }).filter(|row| row.get("tunnel") == "teredo");
    let pkts: u64 = teredo.map(|row| row.pkts()).sum();
    // Wireshark finds IPv6 in the 4 datagrams to and from the Teredo
    // server's port 3544.
    assert_eq!(pkts, 4);
}

#[test]
fn capwap_80211_data() {
    let rows = records("capwap-data-80211-qinq.pcapng");
    let tls = conversation("tcp", ("10.1.3.68", "47025"), ("74.125.130.188", "443"), 14);
    let row = assert_conversation(&rows, &tls);
    assert_tunnel(&row, "capwap", ("172.50.100.155", "172.16.100.87"), "0");
}

#[test]
fn l2tp_control_messages_stay_outer() {
    let rows = records("l2tp-control-truncated.pcap");
    let control = conversation("udp", ("127.0.0.229", "12416"), ("127.236.0.1", "1701"), 14);
    assert_no_tunnel(&assert_conversation(&rows, &control));
}

#[test]
fn mpls_in_udp() {
    let rows = records("mpls-over-udp-icmp.pcap");
    let ping = conversation("icmp", ("10.3.0.10", "*"), ("10.1.0.10", "*"), 2);
    assert_eq!(assert_conversation(&rows, &ping).get("tunnel"), "mpls-udp");
}

#[test]
fn mpls_pseudowire_loop_stops_at_depth_limit() {
    // Ethernet frames nested in MPLS pseudowires with a control word, over
    // and over; Wireshark reports the packet as malformed. The walk stops
    // at its depth limit and the packet is a layer-2 flow.
    let rows = records("mpls-pw-controlword-nested.pcap");
    assert_eq!(rows.len(), 2, "header and one record: {rows:?}");
    let row = Row { header: &rows[0], fields: &rows[1] };
    assert_eq!(row.get("proto"), "mplsu", "EtherType 0x8847, named as ra names it");
    assert_no_tunnel(&row);
}

#[test]
fn gre_key_in_one_direction_only() {
    // The GRE tunnel keys one direction 0 and the other 0x02000000, and echo
    // replies still join their requests.
    let rows = records("gre-teb-ethernet-outer-frags.pcap");
    let header = &rows[0];
    let pings: Vec<Row<'_>> = rows[1..]
        .iter()
        .map(|fields| Row { header, fields })
        .filter(|row| row.get("proto") == "icmp" && row.joins(("192.168.69.10", "*"), ("192.168.69.2", "*")))
        .collect();
    assert!(!pings.is_empty());
    assert!(pings.iter().any(|row| row.get("spkts") != "0" && row.get("dpkts") != "0"), "no two-way ping");
}

// ---- Tenants ----

/// A VXLAN packet between two fixed tunnel endpoints carrying a TCP
/// segment between two fixed hosts.
fn vxlan_tcp_packet(time_ns: u64, vni: u32, from_client: bool, flags: u8) -> TestPacket {
    let (client, server) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let (src, dst, src_port, dst_port) =
        if from_client { (client, server, 40000, 80) } else { (server, client, 80, 40000) };
    let segment = builder::tcp(src_port, dst_port, 1, 1, flags, 0);
    let inner = builder::ipv4_frame(src, dst, 6, &segment, !from_client);

    let mut vxlan = vec![0x08, 0, 0, 0];
    vxlan.extend_from_slice(&(vni << 8).to_be_bytes());
    vxlan.extend_from_slice(&inner);
    let mut datagram = builder::udp(49152, 4789, 0);
    datagram.extend_from_slice(&vxlan);
    let length = datagram.len() as u16;
    datagram[4..6].copy_from_slice(&length.to_be_bytes());

    let (vtep_a, vtep_b) = ([192, 0, 2, 1], [192, 0, 2, 2]);
    let (outer_src, outer_dst) = if from_client { (vtep_a, vtep_b) } else { (vtep_b, vtep_a) };
    TestPacket { time_ns, data: builder::ipv4_frame(outer_src, outer_dst, 17, &datagram, !from_client) }
}

#[test]
fn same_five_tuple_in_two_vnis() {
    let base_ns = 1_600_000_000_000_000_000;
    let packets = vec![
        vxlan_tcp_packet(base_ns, 100, true, SYN),
        vxlan_tcp_packet(base_ns + 1_000, 200, true, SYN),
        vxlan_tcp_packet(base_ns + 2_000, 100, false, SYN | ACK),
        vxlan_tcp_packet(base_ns + 3_000, 200, false, SYN | ACK),
        vxlan_tcp_packet(base_ns + 4_000, 100, true, ACK),
    ];
    let capture = scratch_file("vxlan-two-vnis.pcap", &builder::pcap_file(1, &packets));

    let rows = csv_rows(&nauditd_csv(&capture, &[]));
    assert_eq!(rows.len(), 3, "header and one record per VNI: {rows:?}");
    let header = &rows[0];
    let mut by_vni: Vec<(String, u64)> = rows[1..]
        .iter()
        .map(|fields| Row { header, fields })
        .map(|row| {
            assert!(row.joins(("10.0.0.1", "40000"), ("10.0.0.2", "80")));
            assert_eq!(row.get("tunnel"), "vxlan");
            assert_eq!(row.get("tunnel_src"), "192.0.2.1");
            assert_eq!(row.get("tunnel_dst"), "192.0.2.2");
            (row.get("tunnel_id").to_string(), row.pkts())
        })
        .collect();
    by_vni.sort();
    assert_eq!(by_vni, vec![("100".to_string(), 3), ("200".to_string(), 2)]);
}

/// A GRE packet with `key` between two fixed tunnel endpoints, carrying a
/// TCP segment between two fixed hosts.
fn gre_tcp_packet(time_ns: u64, key: u32, from_client: bool, flags: u8) -> TestPacket {
    let (client, server) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let (src, dst, src_port, dst_port) =
        if from_client { (client, server, 40000, 80) } else { (server, client, 80, 40000) };
    let segment = builder::tcp(src_port, dst_port, 1, 1, flags, 0);
    let mut gre = vec![0x20, 0x00, 0x08, 0x00];
    gre.extend_from_slice(&key.to_be_bytes());
    gre.extend(builder::ipv4(src, dst, 6, segment.len()));
    gre.extend(segment);

    let (end_a, end_b) = ([198, 51, 100, 1], [198, 51, 100, 2]);
    let (outer_src, outer_dst) = if from_client { (end_a, end_b) } else { (end_b, end_a) };
    TestPacket { time_ns, data: builder::ipv4_frame(outer_src, outer_dst, 47, &gre, !from_client) }
}

#[test]
fn same_five_tuple_in_two_gre_keys() {
    // Tenants 100 and 200 key both directions alike; tenant 300 keys its
    // answers 301. tshark -q -z conv,tcp,gre.key==N lists 10.0.0.1:40000
    // <-> 10.0.0.2:80 with 1 frame of 82 bytes each way for keys 100 and
    // 200, 1 frame of 82 bytes from 10.0.0.1 for key 300, and 1 frame of 82
    // bytes from 10.0.0.2 for key 301.
    let base_ns = 1_600_000_000_000_000_000;
    let packets = vec![
        gre_tcp_packet(base_ns, 100, true, SYN),
        gre_tcp_packet(base_ns + 1_000, 200, true, SYN),
        gre_tcp_packet(base_ns + 2_000, 300, true, SYN),
        gre_tcp_packet(base_ns + 3_000, 200, false, SYN | ACK),
        gre_tcp_packet(base_ns + 4_000, 100, false, SYN | ACK),
        gre_tcp_packet(base_ns + 5_000, 301, false, SYN | ACK),
    ];
    let capture = scratch_file("gre-three-keys.pcap", &builder::pcap_file(1, &packets));

    let rows = csv_rows(&nauditd_csv(&capture, &[]));
    assert_eq!(rows.len(), 4, "header and one record per tenant: {rows:?}");
    let header = &rows[0];
    let mut by_key: Vec<(String, String, String)> = rows[1..]
        .iter()
        .map(|fields| Row { header, fields })
        .map(|row| {
            assert!(row.joins(("10.0.0.1", "40000"), ("10.0.0.2", "80")));
            assert_eq!(row.get("tunnel"), "gre");
            assert_eq!((row.get("sbytes"), row.get("dbytes")), ("82", "82"));
            (row.get("tunnel_id").to_string(), row.get("spkts").to_string(), row.get("dpkts").to_string())
        })
        .collect();
    by_key.sort();
    // The record of tenant 300 carries the key of its first packet.
    let expected = [("100", "1", "1"), ("200", "1", "1"), ("300", "1", "1")];
    let expected: Vec<(String, String, String)> =
        expected.iter().map(|(key, s, d)| (key.to_string(), s.to_string(), d.to_string())).collect();
    assert_eq!(by_key, expected);
}
