//! Cases with known right answers, on captures built by the test.

mod common;

use common::builder::{self, TestPacket, ACK, FIN, RST, SYN};
use common::{csv_rows, nauditd_csv, scratch_file};

const CLIENT: [u8; 4] = [192, 0, 2, 1];
const SERVER: [u8; 4] = [192, 0, 2, 2];
const SECOND_NS: u64 = 1_000_000_000;
const BASE_NS: u64 = 1_600_000_000 * SECOND_NS;

fn tcp_packet(time_ns: u64, from_client: bool, seq: u32, ack: u32, flags: u8) -> TestPacket {
    let (src, dst, src_port, dst_port) =
        if from_client { (CLIENT, SERVER, 40000, 80) } else { (SERVER, CLIENT, 80, 40000) };
    let segment = builder::tcp(src_port, dst_port, seq, ack, flags, 0);
    TestPacket { time_ns, data: builder::ipv4_frame(src, dst, 6, &segment, !from_client) }
}

/// A full connection: handshake, then both sides close with FIN.
fn closed_connection(start_ns: u64, isn: u32) -> Vec<TestPacket> {
    let step = 1_000_000;
    vec![
        tcp_packet(start_ns, true, isn, 0, SYN),
        tcp_packet(start_ns + step, false, 7000, isn + 1, SYN | ACK),
        tcp_packet(start_ns + 2 * step, true, isn + 1, 7001, ACK),
        tcp_packet(start_ns + 3 * step, true, isn + 1, 7001, FIN | ACK),
        tcp_packet(start_ns + 4 * step, false, 7001, isn + 2, FIN | ACK),
        tcp_packet(start_ns + 5 * step, true, isn + 2, 7002, ACK),
    ]
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0].iter().position(|field| field == name).unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn tcp_five_tuple_reused_two_seconds_apart() {
    let mut packets = closed_connection(BASE_NS, 1000);
    packets.extend(closed_connection(BASE_NS + 2 * SECOND_NS, 5000));
    let capture = scratch_file("tcp-reuse.pcap", &builder::pcap_file(1, &packets));

    let rows = csv_rows(&nauditd_csv(&capture, &[]));
    assert_eq!(rows.len(), 3, "header and two records: {rows:?}");
    let (stime, spkts, dpkts, state) =
        (column(&rows, "stime"), column(&rows, "spkts"), column(&rows, "dpkts"), column(&rows, "state"));
    assert_eq!(rows[1][stime], "1600000000.000000");
    assert_eq!(rows[2][stime], "1600000002.000000");
    for record in &rows[1..] {
        assert_eq!(record[spkts], "4");
        assert_eq!(record[dpkts], "2");
        assert_eq!(record[state], "FIN");
    }
}

#[test]
fn tcp_new_syn_after_reset_starts_new_flow() {
    let mut packets = vec![
        tcp_packet(BASE_NS, true, 1000, 0, SYN),
        tcp_packet(BASE_NS + 1_000_000, false, 0, 1001, RST | ACK),
    ];
    packets.push(tcp_packet(BASE_NS + 2 * SECOND_NS, true, 9000, 0, SYN));
    let capture = scratch_file("tcp-reset-reuse.pcap", &builder::pcap_file(1, &packets));

    let rows = csv_rows(&nauditd_csv(&capture, &[]));
    assert_eq!(rows.len(), 3, "header and two records: {rows:?}");
    let (state, spkts, dpkts) = (column(&rows, "state"), column(&rows, "spkts"), column(&rows, "dpkts"));
    assert_eq!(rows[1][state], "RST");
    assert_eq!((rows[1][spkts].as_str(), rows[1][dpkts].as_str()), ("1", "1"));
    // The second connection is still open at the end of the capture, so its
    // record has cause "shutdown", which ra shows as TIM.
    assert_eq!(rows[2][state], "TIM");
    assert_eq!((rows[2][spkts].as_str(), rows[2][dpkts].as_str()), ("1", "0"));
}

#[test]
fn ipv6_flow_never_merges_with_padded_ipv4() {
    let mut v6_src = [0u8; 16];
    v6_src[..4].copy_from_slice(&CLIENT);
    let mut v6_dst = [0u8; 16];
    v6_dst[..4].copy_from_slice(&SERVER);
    let datagram = builder::udp(1000, 53, 20);
    let packets = vec![
        TestPacket { time_ns: BASE_NS, data: builder::ipv4_frame(CLIENT, SERVER, 17, &datagram, false) },
        TestPacket { time_ns: BASE_NS + 1000, data: builder::ipv6_frame(v6_src, v6_dst, 17, &datagram, false) },
    ];
    let capture = scratch_file("v4-v6-padded.pcap", &builder::pcap_file(1, &packets));

    let rows = csv_rows(&nauditd_csv(&capture, &[]));
    assert_eq!(rows.len(), 3, "header and two records: {rows:?}");
    let (saddr, spkts) = (column(&rows, "saddr"), column(&rows, "spkts"));
    let addresses: Vec<&str> = rows[1..].iter().map(|row| row[saddr].as_str()).collect();
    assert!(addresses.contains(&"192.0.2.1"), "{addresses:?}");
    assert!(addresses.contains(&"c000:201::"), "{addresses:?}");
    assert!(rows[1..].iter().all(|row| row[spkts] == "1"));
}

#[test]
fn linux_cooked_jumbo_frame_decoded() {
    const FRAME_BYTES: usize = 9000;
    const SLL_HEADER_BYTES: usize = 16;
    let payload_len = FRAME_BYTES - SLL_HEADER_BYTES - 20 - 8;
    let datagram = builder::udp(5000, 6000, payload_len);
    let mut frame = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0x0a, 0, 0, 0x08, 0x00];
    frame.extend(builder::ipv4(CLIENT, SERVER, 17, datagram.len()));
    frame.extend(datagram);
    assert_eq!(frame.len(), FRAME_BYTES);
    let capture = scratch_file("sll-jumbo.pcap", &builder::pcap_file(113, &[TestPacket { time_ns: BASE_NS, data: frame }]));

    let rows = csv_rows(&nauditd_csv(&capture, &[]));
    assert_eq!(rows.len(), 2, "{rows:?}");
    let record = &rows[1];
    assert_eq!(record[column(&rows, "proto")], "udp");
    assert_eq!(record[column(&rows, "sport")], "5000");
    assert_eq!(record[column(&rows, "sbytes")], (FRAME_BYTES - SLL_HEADER_BYTES).to_string());
    assert_eq!(record[column(&rows, "sappbytes")], payload_len.to_string());
}

#[test]
fn pcapng_two_link_types_nanosecond_times() {
    const LINKTYPE_ETHERNET: u16 = 1;
    const LINKTYPE_RAW: u16 = 101;
    let udp = builder::udp(1000, 2000, 10);
    let ethernet_frame = builder::ipv4_frame(CLIENT, SERVER, 17, &udp, false);
    let syn = builder::tcp(3000, 443, 1, 0, SYN, 0);
    let mut raw_packet = builder::ipv4(SERVER, CLIENT, 6, syn.len());
    raw_packet.extend(syn);
    let packets = vec![
        (0, TestPacket { time_ns: BASE_NS + 123_456_789, data: ethernet_frame }),
        (1, TestPacket { time_ns: BASE_NS + 987_654_321, data: raw_packet }),
    ];
    let capture =
        scratch_file("two-interfaces.pcapng", &builder::pcapng_file(&[LINKTYPE_ETHERNET, LINKTYPE_RAW], &packets));

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .arg("-r")
        .arg(&capture)
        .args(["--format", "json", "-q"])
        .output()
        .expect("run nauditd");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let records: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(records.len(), 2, "{records:?}");
    let udp_record = records.iter().find(|record| record["proto"] == "udp").expect("UDP record");
    assert_eq!(udp_record["stime_ns"], BASE_NS + 123_456_789);
    assert_eq!(udp_record["sbytes"], 14 + 20 + 8 + 10);
    let tcp_record = records.iter().find(|record| record["proto"] == "tcp").expect("TCP record");
    assert_eq!(tcp_record["stime_ns"], BASE_NS + 987_654_321);
    assert_eq!(tcp_record["saddr"], "192.0.2.2");
    assert_eq!(tcp_record["sbytes"], 20 + 20);
}

/// Returns an ICMP or ICMPv6 echo message (`echo_type` 8 or 128 for a request, 0
/// or 129 for a reply) with 8 bytes of data. The checksum is left 0.
fn echo_message(echo_type: u8, id: u16, seq: u16) -> Vec<u8> {
    let mut message = vec![echo_type, 0, 0, 0];
    message.extend_from_slice(&id.to_be_bytes());
    message.extend_from_slice(&seq.to_be_bytes());
    message.extend_from_slice(&[0x61; 8]);
    message
}

#[test]
fn echo_keys_follow_argus() {
    // Five pings of one identifier: argus 3.0.8 writes one ICMPv6 record,
    // whose key has no room for the sequence number, and one ICMP record
    // per ping.
    let mut v6_client = [0u8; 16];
    v6_client[..2].copy_from_slice(&[0x20, 0x01]);
    v6_client[15] = 1;
    let mut v6_server = v6_client;
    v6_server[15] = 2;
    let mut packets = Vec::new();
    for seq in 0..5u16 {
        let time_ns = BASE_NS + u64::from(seq) * SECOND_NS / 10;
        packets.push(TestPacket { time_ns, data: builder::ipv6_frame(v6_client, v6_server, 58, &echo_message(128, 0x1234, seq), false) });
        packets.push(TestPacket { time_ns: time_ns + 1000, data: builder::ipv6_frame(v6_server, v6_client, 58, &echo_message(129, 0x1234, seq), true) });
        packets.push(TestPacket { time_ns: time_ns + 2000, data: builder::ipv4_frame(CLIENT, SERVER, 1, &echo_message(8, 0x1234, seq), false) });
        packets.push(TestPacket { time_ns: time_ns + 3000, data: builder::ipv4_frame(SERVER, CLIENT, 1, &echo_message(0, 0x1234, seq), true) });
    }
    let capture = scratch_file("echo-keys.pcap", &builder::pcap_file(1, &packets));

    let rows = csv_rows(&nauditd_csv(&capture, &["--workers", "1"]));
    let (proto, spkts, dpkts) = (column(&rows, "proto"), column(&rows, "spkts"), column(&rows, "dpkts"));
    let icmpv6: Vec<&Vec<String>> = rows[1..].iter().filter(|row| row[proto] == "ipv6-icmp").collect();
    assert_eq!(icmpv6.len(), 1, "one ICMPv6 echo record: {rows:?}");
    assert_eq!((icmpv6[0][spkts].as_str(), icmpv6[0][dpkts].as_str()), ("5", "5"));
    let icmp: Vec<&Vec<String>> = rows[1..].iter().filter(|row| row[proto] == "icmp").collect();
    assert_eq!(icmp.len(), 5, "one ICMP record per ping: {rows:?}");
    assert!(icmp.iter().all(|row| row[spkts] == "1" && row[dpkts] == "1"), "{rows:?}");
}
