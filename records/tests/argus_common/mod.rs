//! Flow records and MAR counters shared by the Argus integration tests.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use naudit_engine::decode::{ipv4_option, tcp_option};
use naudit_engine::flow::record::{tcp_status, TcpDirection};
use naudit_engine::flow::{DirectionStats, FlowKey, FlowRecord, RecordCause, TcpSummary};
use naudit_records::argus::MarCounters;

/// Base time of every record: 2023-11-14 22:13:20 UTC.
pub const BASE_SECONDS: u64 = 1_700_000_000;

/// Returns the time `seconds` and `microseconds` after the base time, in
/// nanoseconds since the Unix epoch.
pub fn at(seconds: u64, microseconds: u64) -> u64 {
    (BASE_SECONDS + seconds) * 1_000_000_000 + microseconds * 1_000
}

pub const CLIENT_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
pub const SERVER_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
pub const LLDP_MULTICAST_MAC: [u8; 6] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];

pub const ESTABLISHED: u32 = tcp_status::SAW_SYN | tcp_status::SAW_SYN_ACK | tcp_status::ESTABLISHED;
pub const CLOSED_WITH_FIN: u32 = ESTABLISHED | tcp_status::FIN | tcp_status::FIN_ACKED;

pub fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

pub fn v6(text: &str) -> IpAddr {
    IpAddr::V6(text.parse::<Ipv6Addr>().expect("valid IPv6 address in a test"))
}

/// Returns what one side sent, with TTL 64 and the given MAC. Every packet is
/// `bytes / pkts` long.
pub fn side(pkts: u64, bytes: u64, app_bytes: u64, mac: [u8; 6]) -> DirectionStats {
    let size = u32::try_from(bytes / pkts.max(1)).unwrap_or(u32::MAX);
    DirectionStats {
        pkts,
        bytes,
        app_bytes,
        ttl: 64,
        mac: Some(mac),
        min_packet_bytes: size,
        max_packet_bytes: size,
        ..DirectionStats::default()
    }
}

/// Returns a side that sent nothing.
pub fn silent() -> DirectionStats {
    DirectionStats::default()
}

pub fn record(
    key: FlowKey,
    cause: RecordCause,
    start_ns: u64,
    last_ns: u64,
    src: DirectionStats,
    dst: DirectionStats,
) -> FlowRecord {
    FlowRecord {
        key,
        cause,
        start_ns,
        last_ns,
        src,
        dst,
        tcp: None,
        arp_reply_mac: None,
        icmp_error: None,
        encapsulation: [0; 2],
        mpls_label: [None; 2],
        report_index: 0,
        worker_id: 0,
        tunnel: None,
        ib: None,
    }
}

pub fn tcp_key(src: IpAddr, src_port: u16, dst: IpAddr, dst_port: u16) -> FlowKey {
    FlowKey::Ip { src, dst, protocol: 6, src_port, dst_port, tunnel: Default::default() }
}

pub fn udp_key(src: IpAddr, src_port: u16, dst: IpAddr, dst_port: u16) -> FlowKey {
    FlowKey::Ip { src, dst, protocol: 17, src_port, dst_port, tunnel: Default::default() }
}

/// Returns a TCP record with `status`, handshake times of 1.5 ms and
/// 0.5 ms, initial sequence numbers 1000 and 5000, windows 502 and 509
/// with scale 7.
pub fn tcp_record(
    key: FlowKey,
    cause: RecordCause,
    (start_ns, last_ns): (u64, u64),
    src: DirectionStats,
    dst: DirectionStats,
    status: u32,
) -> FlowRecord {
    let options = tcp_option::MSS | tcp_option::WINDOW_SCALE | tcp_option::SACK_PERMITTED | tcp_option::TIMESTAMP;
    let direction = |base_seq: u32, window: u16| TcpDirection {
        flags: 0x1b,
        options,
        base_seq,
        next_seq: base_seq.wrapping_add(1),
        last_ack: 0,
        window,
        window_scale: Some(7),
        retransmitted_pkts: 0,
        out_of_order_pkts: 0,
        last_ns,
    };
    let mut flow = record(key, cause, start_ns, last_ns, src, dst);
    flow.tcp = Some(TcpSummary {
        status,
        syn_to_syn_ack_ns: Some(1_500_000),
        syn_ack_to_ack_ns: Some(500_000),
        src: direction(1000, 502),
        dst: direction(5000, 509),
    });
    flow
}

/// One flow record of the test file and the columns ra prints for it.
pub struct Case {
    /// Short description for failure messages.
    pub name: &'static str,
    pub record: FlowRecord,
    /// Expected `ra -n -u -c ,` output for [`FLOW_FIELDS`], comma-separated,
    /// each field trimmed.
    pub row: &'static str,
    /// Expected output for [`ATTRIBUTE_FIELDS`].
    pub attributes: &'static str,
}

/// The default columns, as `ra -s` field names.
pub const FLOW_FIELDS: &[&str] = &[
    "stime", "ltime", "proto", "saddr", "sport", "dir", "daddr", "dport", "spkts", "dpkts", "sbytes", "dbytes", "state",
];

/// Columns from the DSRs beyond the default ones.
pub const ATTRIBUTE_FIELDS: &[&str] = &[
    "saddr",
    "sport",
    "flgs",
    "sttl",
    "dttl",
    "stos",
    "dtos",
    "sipid",
    "dipid",
    "smac",
    "dmac",
    "svlan",
    "svid",
    "dvlan",
    "dvid",
    "sappbytes",
    "dappbytes",
    "sminsz",
    "smaxsz",
    "dminsz",
    "dmaxsz",
    "srcid",
    "seq",
    "cause",
];

/// Counters of the initial MAR: the sensor started at the base time.
pub fn initial_counters() -> MarCounters {
    MarCounters { interval_start_ns: at(0, 0), now_ns: at(0, 500_000), ..MarCounters::default() }
}

/// Counters of the status MAR written after the first [`STATUS_MAR_AFTER`]
/// flow records.
pub fn status_counters() -> MarCounters {
    MarCounters {
        interval_start_ns: at(0, 500_000),
        now_ns: at(60, 0),
        packets: 1234,
        bytes: 567_890,
        dropped_packets: 3,
        new_flows: 5,
        records: 6,
        active_flows: 7,
        clients: 1,
        ..MarCounters::default()
    }
}

/// Counters of the closing MAR.
pub fn closing_counters() -> MarCounters {
    MarCounters {
        interval_start_ns: at(60, 0),
        now_ns: at(700, 0),
        packets: 6_006_000_000,
        bytes: 9_000_000_000,
        new_flows: 9,
        records: 12,
        clients: 1,
        ..MarCounters::default()
    }
}

/// Number of flow records written before the status MAR.
pub const STATUS_MAR_AFTER: usize = 6;

/// Expected [`FLOW_FIELDS`] rows of the three MARs. ra shows a MAR's
/// `now` as StartTime and its interval start as LastTime, then active
/// flows, drops, buffers, clients, packets, records, bytes and drops again.
pub const INITIAL_MAR_ROW: &str = "1700000000.500000,1700000000.000000,man,0,0,,0,0,0,0,0,0,STA";
pub const STATUS_MAR_ROW: &str = "1700000060.000000,1700000000.500000,man,7,3,,0,1,1234,6,567890,3,CON";
pub const CLOSING_MAR_ROW: &str = "1700000700.000000,1700000060.000000,man,0,0,,0,1,6006000000,12,9000000000,0,STP";

/// Returns the flow records of the test file with their expected rows.
pub fn cases() -> Vec<Case> {
    let client = v4(10, 0, 0, 1);
    let server = v4(10, 0, 0, 2);
    let mut cases = Vec::new();

    let mut src = side(20, 3000, 1800, CLIENT_MAC);
    src.tos = 0x10;
    src.ip_id = 0x1234;
    let mut dst = side(18, 4000, 2800, SERVER_MAC);
    dst.ttl = 63;
    dst.tos = 0x28;
    dst.ip_id = 0x4321;
    cases.push(Case {
        name: "TCP handshake and FIN",
        record: tcp_record(tcp_key(client, 40004, server, 22), RecordCause::Closed, (at(4, 500_000), at(9, 750_000)), src, dst, CLOSED_WITH_FIN),
        row: "1700000004.500000,1700000009.750000,tcp,10.0.0.1,40004,->,10.0.0.2,22,20,18,3000,4000,FIN",
        attributes: "10.0.0.1,40004,e,64,63,16,40,0x1234,0x4321,02:00:00:00:00:01,02:00:00:00:00:02,,,,,1800,2800,150,150,222,222,192.0.2.7,1,Stop",
    });

    cases.push(Case {
        name: "UDP both directions",
        record: record(udp_key(client, 5353, v4(10, 0, 0, 53), 53), RecordCause::IdleTimeout, at(10, 0), at(10, 20_000), side(1, 70, 28, CLIENT_MAC), side(1, 130, 88, SERVER_MAC)),
        row: "1700000010.000000,1700000010.020000,udp,10.0.0.1,5353,<->,10.0.0.53,53,1,1,70,130,CON",
        attributes: "10.0.0.1,5353,e,64,64,0,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,,,,,28,88,70,70,130,130,192.0.2.7,2,Timeout",
    });

    cases.push(Case {
        name: "one-way UDP, first report",
        record: record(
            udp_key(client, 5000, v4(10, 0, 0, 9), 9999),
            RecordCause::Start,
            at(11, 0),
            at(12, 0),
            side(2, 200, 116, CLIENT_MAC),
            silent(),
        ),
        row: "1700000011.000000,1700000012.000000,udp,10.0.0.1,5000,->,10.0.0.9,9999,2,0,200,0,INT",
        attributes:
            "10.0.0.1,5000,e,64,,0,,0x0000,,02:00:00:00:00:01,00:00:00:00:00:00,,,,,116,0,100,100,,,192.0.2.7,3,Start",
    });

    cases.push(Case {
        name: "one-way UDP, idle timeout",
        record: record(udp_key(client, 5001, v4(10, 0, 0, 9), 9999), RecordCause::IdleTimeout, at(12, 0), at(14, 0), side(3, 300, 216, CLIENT_MAC), silent()),
        row: "1700000012.000000,1700000014.000000,udp,10.0.0.1,5001,->,10.0.0.9,9999,3,0,300,0,REQ",
        attributes: "10.0.0.1,5001,e,64,,0,,0x0000,,02:00:00:00:00:01,00:00:00:00:00:00,,,,,216,0,100,100,,,192.0.2.7,4,Timeout",
    });

    let echo = FlowKey::Icmp { src: client, dst: server, icmp_type: 8, code: 0, id: 0x1234, seq: 7, tunnel: Default::default() };
    cases.push(Case {
        name: "ICMP echo",
        record: record(echo, RecordCause::IdleTimeout, at(13, 0), at(13, 500), side(1, 98, 56, CLIENT_MAC), side(1, 98, 56, SERVER_MAC)),
        row: "1700000013.000000,1700000013.000500,icmp,10.0.0.1,0x0008,<->,10.0.0.2,0x1234,1,1,98,98,ECO",
        attributes: "10.0.0.1,0x0008,e,64,64,0,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,,,,,56,56,98,98,98,98,192.0.2.7,5,Timeout",
    });

    let echo6 =
        FlowKey::Icmp { src: v6("2001:db8::1"), dst: v6("2001:db8::2"), icmp_type: 128, code: 0, id: 0x42, seq: 1, tunnel: Default::default() };
    cases.push(Case {
        name: "ICMPv6 echo",
        record: record(echo6, RecordCause::IdleTimeout, at(14, 0), at(14, 1000), side(1, 118, 64, CLIENT_MAC), side(1, 118, 64, SERVER_MAC)),
        row: "1700000014.000000,1700000014.001000,ipv6-icmp,2001:db8::1,128,<->,2001:db8::2,0,1,1,118,118,ECO",
        attributes: "2001:db8::1,128,e,64,64,0,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,,,,,64,64,118,118,118,118,192.0.2.7,6,Timeout",
    });

    // The status MAR goes here (after STATUS_MAR_AFTER records).

    let mut src = side(8, 900, 500, CLIENT_MAC);
    src.tos = 0xb8;
    let mut dst = side(7, 7000, 6400, SERVER_MAC);
    dst.ttl = 57;
    cases.push(Case {
        name: "IPv6 TCP",
        record: tcp_record(tcp_key(v6("2001:db8::1"), 40010, v6("2001:db8::2"), 443), RecordCause::Closed, (at(15, 0), at(16, 0)), src, dst, CLOSED_WITH_FIN),
        row: "1700000015.000000,1700000016.000000,tcp,2001:db8::1,40010,->,2001:db8::2,443,8,7,900,7000,FIN",
        attributes: "2001:db8::1,40010,e,64,57,184,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,,,,,500,6400,112,112,1000,1000,192.0.2.7,7,Stop",
    });

    let mut arp = record(
        FlowKey::Arp { sender_ip: [10, 0, 0, 1], target_ip: [10, 0, 0, 254] },
        RecordCause::IdleTimeout,
        at(17, 0),
        at(17, 200),
        side(1, 42, 0, CLIENT_MAC),
        side(1, 60, 0, SERVER_MAC),
    );
    arp.src.ttl = 0;
    arp.dst.ttl = 0;
    arp.arp_reply_mac = Some(SERVER_MAC);
    cases.push(Case {
        name: "ARP request and reply",
        record: arp,
        row: "1700000017.000000,1700000017.000200,arp,10.0.0.1,,who,10.0.0.254,,1,1,42,60,CON",
        attributes: "10.0.0.1,,e,,,,,,,02:00:00:00:00:01,02:00:00:00:00:02,,,,,0,0,42,42,60,60,192.0.2.7,8,Timeout",
    });

    let lldp =
        FlowKey::Layer2 { src_mac: CLIENT_MAC, dst_mac: LLDP_MULTICAST_MAC, ethertype: 0x88cc, ssap: 0, dsap: 0 };
    let mut lldp_src = side(2, 240, 0, CLIENT_MAC);
    lldp_src.ttl = 0;
    cases.push(Case {
        name: "LLDP layer-2 flow",
        record: record(lldp, RecordCause::Start, at(18, 0), at(48, 0), lldp_src, silent()),
        row: "1700000018.000000,1700000048.000000,lldp,02:00:00:00:00:01,0,->,01:80:c2:00:00:0e,0,2,0,240,0,INT",
        attributes:
            "02:00:00:00:00:01,0,e,,,,,,,02:00:00:00:00:01,01:80:c2:00:00:0e,,,,,0,0,120,120,,,192.0.2.7,9,Start",
    });

    // Three reports of one TCP flow: racluster merges them.
    let long_flow = tcp_key(client, 40003, server, 443);
    cases.push(Case {
        name: "TCP first report",
        record: tcp_record(long_flow, RecordCause::Start, (at(3, 0), at(5, 0)), side(4, 400, 160, CLIENT_MAC), side(4, 3000, 2760, SERVER_MAC), ESTABLISHED),
        row: "1700000003.000000,1700000005.000000,tcp,10.0.0.1,40003,->,10.0.0.2,443,4,4,400,3000,CON",
        attributes: "10.0.0.1,40003,e,64,64,0,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,,,,,160,2760,100,100,750,750,192.0.2.7,10,Start",
    });
    cases.push(Case {
        name: "TCP status report",
        record: tcp_record(long_flow, RecordCause::Status, (at(5, 100_000), at(8, 0)), side(6, 1100, 740, CLIENT_MAC), side(8, 6000, 5520, SERVER_MAC), ESTABLISHED),
        row: "1700000005.100000,1700000008.000000,tcp,10.0.0.1,40003,->,10.0.0.2,443,6,8,1100,6000,CON",
        attributes: "10.0.0.1,40003,e,64,64,0,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,,,,,740,5520,183,183,750,750,192.0.2.7,11,Status",
    });
    cases.push(Case {
        name: "TCP closing report",
        record: tcp_record(long_flow, RecordCause::Closed, (at(8, 200_000), at(12, 0)), side(5, 700, 400, CLIENT_MAC), side(6, 5000, 4640, SERVER_MAC), CLOSED_WITH_FIN),
        row: "1700000008.200000,1700000012.000000,tcp,10.0.0.1,40003,->,10.0.0.2,443,5,6,700,5000,FIN",
        attributes: "10.0.0.1,40003,e,64,64,0,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,,,,,400,4640,140,140,833,833,192.0.2.7,12,Stop",
    });

    cases.push(Case {
        name: "TCP with 64-bit counters",
        record: tcp_record(
            tcp_key(client, 40020, v4(10, 0, 0, 7), 873),
            RecordCause::Closed,
            (at(23, 0), at(623, 0)),
            side(4_000_000, 6_000_000_000, 5_840_000_000, CLIENT_MAC),
            side(2_000_000, 120_000_000, 40_000_000, SERVER_MAC),
            CLOSED_WITH_FIN,
        ),
        row: "1700000023.000000,1700000623.000000,tcp,10.0.0.1,40020,->,10.0.0.7,873,4000000,2000000,6000000000,120000000,FIN",
        attributes: "10.0.0.1,40020,e,64,64,0,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,,,,,5840000000,40000000,1500,1500,60,60,192.0.2.7,13,Stop",
    });

    cases.push(Case {
        name: "TCP reset by the destination",
        record: tcp_record(
            tcp_key(client, 40006, v4(10, 0, 0, 3), 8080),
            RecordCause::Closed,
            (at(26, 0), at(26, 1000)),
            side(1, 74, 0, CLIENT_MAC),
            side(1, 60, 0, SERVER_MAC),
            tcp_status::SAW_SYN | tcp_status::DST_RESET,
        ),
        row: "1700000026.000000,1700000026.001000,tcp,10.0.0.1,40006,->,10.0.0.3,8080,1,1,74,60,RST",
        attributes: "10.0.0.1,40006,e,64,64,0,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,,,,,0,0,74,74,60,60,192.0.2.7,14,Stop",
    });

    cases.push(Case {
        name: "TCP with only a SYN",
        record: tcp_record(
            tcp_key(client, 40008, server, 25),
            RecordCause::Start,
            (at(27, 0), at(27, 0)),
            side(1, 74, 0, CLIENT_MAC),
            silent(),
            tcp_status::SAW_SYN,
        ),
        row: "1700000027.000000,1700000027.000000,tcp,10.0.0.1,40008,->,10.0.0.2,25,1,0,74,0,REQ",
        attributes:
            "10.0.0.1,40008,e,64,,0,,0x0000,,02:00:00:00:00:01,00:00:00:00:00:00,,,,,0,0,74,74,,,192.0.2.7,15,Start",
    });

    cases.push(Case {
        name: "TCP evicted while established",
        record: tcp_record(tcp_key(client, 40007, server, 80), RecordCause::Evicted, (at(28, 0), at(58, 0)), side(3, 200, 20, CLIENT_MAC), side(2, 120, 0, SERVER_MAC), ESTABLISHED),
        row: "1700000028.000000,1700000058.000000,tcp,10.0.0.1,40007,->,10.0.0.2,80,3,2,200,120,TIM",
        attributes: "10.0.0.1,40007,e,64,64,0,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,,,,,20,0,66,66,60,60,192.0.2.7,16,Timeout",
    });

    cases.push(Case {
        name: "TCP open at shutdown",
        record: tcp_record(tcp_key(client, 40009, server, 80), RecordCause::Shutdown, (at(29, 0), at(31, 0)), side(3, 200, 20, CLIENT_MAC), side(2, 120, 0, SERVER_MAC), ESTABLISHED),
        row: "1700000029.000000,1700000031.000000,tcp,10.0.0.1,40009,->,10.0.0.2,80,3,2,200,120,TIM",
        attributes: "10.0.0.1,40009,e,64,64,0,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,,,,,20,0,66,66,60,60,192.0.2.7,17,Shutdown",
    });

    let mut src = side(1, 80, 38, CLIENT_MAC);
    src.vlan_tci = Some(0x0064);
    let mut dst = side(1, 90, 48, SERVER_MAC);
    dst.vlan_tci = Some(0x2065);
    cases.push(Case {
        name: "UDP with VLAN tags",
        record: record(udp_key(client, 5002, v4(10, 0, 0, 10), 161), RecordCause::IdleTimeout, at(32, 0), at(32, 300), src, dst),
        row: "1700000032.000000,1700000032.000300,udp,10.0.0.1,5002,<->,10.0.0.10,161,1,1,80,90,CON",
        attributes: "10.0.0.1,5002,v,64,64,0,0,0x0000,0x0000,02:00:00:00:00:01,02:00:00:00:00:02,0x0064,100,0x2065,101,38,48,80,80,90,90,192.0.2.7,18,Timeout",
    });

    let mut src = side(2, 1600, 1500, CLIENT_MAC);
    src.ip_options = ipv4_option::ROUTER_ALERT;
    src.fragments = true;
    cases.push(Case {
        name: "UDP fragments with router alert",
        record: record(udp_key(client, 5003, v4(224, 0, 0, 22), 5003), RecordCause::Start, at(33, 0), at(33, 10), src, silent()),
        row: "1700000033.000000,1700000033.000010,udp,10.0.0.1,5003,->,224.0.0.22,5003,2,0,1600,0,INT",
        attributes: "10.0.0.1,5003,e    FA,64,,0,,0x0000,,02:00:00:00:00:01,00:00:00:00:00:00,,,,,1500,0,800,800,,,192.0.2.7,19,Start",
    });

    // More than 1000 packets within one microsecond: ra would print an
    // error record with zero counts if the duration were 0.
    cases.push(Case {
        name: "burst of 1001 packets in one microsecond",
        record: record(
            udp_key(client, 5004, server, 9),
            RecordCause::Start,
            at(34, 0),
            at(34, 0),
            side(1001, 64064, 18018, CLIENT_MAC),
            silent(),
        ),
        row: "1700000034.000000,1700000034.000001,udp,10.0.0.1,5004,->,10.0.0.2,9,1001,0,64064,0,INT",
        attributes:
            "10.0.0.1,5004,e,64,,0,,0x0000,,02:00:00:00:00:01,00:00:00:00:00:00,,,,,18018,0,64,64,,,192.0.2.7,20,Start",
    });

    cases
}
