//! InfiniBand and RoCE end to end, on one composed capture of three
//! conversations. The first is an RC connection set up by the connection
//! manager (writes, sends, an RNR NAK, a read with a PSN sequence error
//! NAK and retransmissions, an atomic). The second is an RC connection
//! seen without its setup, carrying congestion marks, and the third a UD
//! exchange.
//!
//! The capture is written natively (link type 247), as ERF records in pcap
//! (link type 197) and in an ERF file, as RoCEv1, and as RoCEv2 over IPv4
//! and IPv6. tshark's dissector checks the bytes. nauditd's records are
//! checked against the values written here, which are the same in every
//! form except for the addresses and the RoCEv2 ECN marks.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::ib_builder::{aeth, atomic_eth, capture, cm_mad, deth, opcode, reth, Form, IbPacket, Port};

const A: Port =
    Port { lid: 1, gid: gid(1), ipv4: [10, 0, 0, 1], ipv6: documentation_ipv6(1), mac: [0x02, 0, 0, 0, 0, 0x01] };
const B: Port =
    Port { lid: 2, gid: gid(2), ipv4: [10, 0, 0, 2], ipv6: documentation_ipv6(2), mac: [0x02, 0, 0, 0, 0, 0x02] };

/// Returns the link-local GID fe80::`host`.
const fn gid(host: u8) -> [u8; 16] {
    [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, host]
}

/// Returns the address 2001:db8::`host` of the IPv6 documentation prefix.
const fn documentation_ipv6(host: u8) -> [u8; 16] {
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, host]
}

/// Queue pairs: the CM-connected pair, the pair seen without its setup, and
/// the datagram pair.
const RC_QP_A: u32 = 0x11;
const RC_QP_B: u32 = 0x22;
const UNPAIRED_QP_A: u32 = 0x33;
const UNPAIRED_QP_B: u32 = 0x44;
const UD_QP_A: u32 = 0x50;
const UD_QP_B: u32 = 0x60;
const GSI_QP: u32 = 1;
const GSI_Q_KEY: u32 = 0x8001_0000;
const UD_Q_KEY: u32 = 0x0000_1111;

/// AETH syndromes: ACK with 31 credits, RNR NAK with timer 14, PSN
/// sequence error NAK.
const SYNDROME_ACK: u8 = 0x1f;
const SYNDROME_RNR: u8 = 0x2e;
const SYNDROME_PSN_SEQUENCE_ERROR: u8 = 0x60;

const START_NS: u64 = 1_700_000_000_000_000_000;

fn at(step: u64) -> u64 {
    START_NS + step * 1_000_000
}

fn with(mut packet: IbPacket, extension: Vec<u8>, payload_len: usize) -> IbPacket {
    packet.extension = extension;
    packet.payload = (0..payload_len).map(|index| index as u8).collect();
    packet
}

/// Builds the CM handshake: REQ, REP, RTU between the two GSI queue pairs.
fn cm_handshake() -> Vec<IbPacket> {
    let mad = |step, src, dst, psn, attribute, local, remote, qpn| {
        let mut packet = IbPacket::new(at(step), src, dst, opcode::UD_SEND_ONLY, GSI_QP, GSI_QP, psn);
        packet.extension = deth(GSI_Q_KEY, GSI_QP);
        packet.payload = cm_mad(attribute, local, remote, qpn);
        packet
    };
    vec![
        mad(1, A, B, 1, 0x10, 0x1001, 0, RC_QP_A),
        mad(2, B, A, 1, 0x13, 0x2002, 0x1001, RC_QP_B),
        mad(3, A, B, 2, 0x14, 0x1001, 0x2002, 0),
    ]
}

/// Builds the RC conversation on the CM-connected queue pairs. The write with PSN
/// 103 is lost before the capture point the first time.
fn rc_conversation() -> Vec<IbPacket> {
    let request = |step, op, psn| IbPacket::new(at(step), A, B, op, RC_QP_A, RC_QP_B, psn);
    let response = |step, op, psn| IbPacket::new(at(step), B, A, op, RC_QP_B, RC_QP_A, psn);
    let mut write_last = with(request(11, opcode::RC_WRITE_LAST, 101), vec![], 512);
    write_last.ack_request = true;
    vec![
        with(request(10, opcode::RC_WRITE_FIRST, 100), reth(1024), 512),
        write_last,
        with(response(12, opcode::RC_ACK, 101), aeth(SYNDROME_ACK, 1), 0),
        with(request(13, opcode::RC_SEND_ONLY, 102), vec![], 64),
        with(response(14, opcode::RC_ACK, 102), aeth(SYNDROME_RNR, 1), 0),
        with(request(15, opcode::RC_SEND_ONLY, 102), vec![], 64),
        with(response(16, opcode::RC_ACK, 102), aeth(SYNDROME_ACK, 2), 0),
        with(request(17, opcode::RC_READ_REQUEST, 104), reth(1024), 0),
        with(response(18, opcode::RC_ACK, 103), aeth(SYNDROME_PSN_SEQUENCE_ERROR, 2), 0),
        with(request(19, opcode::RC_WRITE_ONLY, 103), reth(130), 130),
        with(request(20, opcode::RC_READ_REQUEST, 104), reth(1024), 0),
        with(response(21, opcode::RC_ACK, 103), aeth(SYNDROME_ACK, 3), 0),
        with(response(22, opcode::RC_READ_RESPONSE_ONLY, 104), aeth(SYNDROME_ACK, 4), 1024),
        with(request(23, opcode::RC_FETCH_ADD, 105), atomic_eth(1), 0),
        with(response(24, opcode::RC_ATOMIC_ACK, 105), [aeth(SYNDROME_ACK, 5), vec![0; 8]].concat(), 0),
    ]
}

/// Builds an RC conversation whose setup was not captured, with
/// congestion marks: FECN (and in RoCEv2 ECN CE) on two writes, BECN on the
/// acknowledgment, and a congestion notification packet.
fn congested_conversation() -> Vec<IbPacket> {
    let write = |step, psn, marked: bool| {
        let mut packet = with(
            IbPacket::new(at(step), A, B, opcode::RC_WRITE_ONLY, UNPAIRED_QP_A, UNPAIRED_QP_B, psn),
            reth(256),
            256,
        );
        packet.fecn = marked;
        packet.ecn_ce = marked;
        packet
    };
    let mut cnp = IbPacket::new(at(33), B, A, opcode::CNP, UNPAIRED_QP_B, UNPAIRED_QP_A, 0);
    cnp.becn = true;
    cnp.extension = vec![0; 16];
    let mut ack =
        with(IbPacket::new(at(34), B, A, opcode::RC_ACK, UNPAIRED_QP_B, UNPAIRED_QP_A, 202), aeth(SYNDROME_ACK, 3), 0);
    ack.becn = true;
    vec![write(30, 200, true), write(31, 201, true), write(32, 202, false), cnp, ack]
}

/// Builds a UD exchange: two sends from A, one send with immediate data
/// from B.
fn ud_exchange() -> Vec<IbPacket> {
    let send = |step, src, dst, op, src_qp, dest_qp, psn, payload_len| {
        let mut extension = deth(UD_Q_KEY, src_qp);
        if op == opcode::UD_SEND_ONLY_IMM {
            extension.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        }
        with(IbPacket::new(at(step), src, dst, op, src_qp, dest_qp, psn), extension, payload_len)
    };
    vec![
        send(40, A, B, opcode::UD_SEND_ONLY, UD_QP_A, UD_QP_B, 300, 100),
        send(41, B, A, opcode::UD_SEND_ONLY_IMM, UD_QP_B, UD_QP_A, 400, 202),
        send(42, A, B, opcode::UD_SEND_ONLY, UD_QP_A, UD_QP_B, 301, 100),
    ]
}

fn all_packets() -> Vec<IbPacket> {
    [cm_handshake(), rc_conversation(), congested_conversation(), ud_exchange()].concat()
}

/// A folder of one test's files, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let folder = std::env::temp_dir().join(format!("nauditd-infiniband-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("create scratch folder");
        Scratch(folder)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_capture(folder: &Path, form: Form) -> PathBuf {
    let path = folder.join(format!("{}.pcap", form.name()));
    std::fs::write(&path, capture(form, &all_packets())).expect("write capture");
    path
}

// ---- tshark agrees with the generated bytes ----

/// Runs tshark on `capture` and returns one row of `fields` per
/// InfiniBand packet.
fn tshark_fields(capture: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut command = Command::new("tshark");
    command.arg("-r").arg(capture).args(["-Y", "infiniband", "-T", "fields", "-E", "separator=/t"]);
    for field in fields {
        command.args(["-e", field]);
    }
    let output = command.output().expect("run tshark");
    assert!(output.status.success(), "tshark failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .expect("tshark output is UTF-8")
        .lines()
        .map(|line| line.split('\t').map(str::to_string).collect())
        .collect()
}

/// Returns the BTH fields tshark prints for each generated packet: opcode in
/// decimal, destination queue pair in hex, PSN in decimal.
fn expected_bth_rows() -> Vec<Vec<String>> {
    all_packets()
        .iter()
        .map(|packet| vec![packet.opcode.to_string(), format!("0x{:06x}", packet.dest_qp), packet.psn.to_string()])
        .collect()
}

#[test]
fn tshark_reads_erf_forms() {
    let scratch = Scratch::new("tshark_reads_erf_forms");
    let folder = &scratch.0;
    let fields = [
        "infiniband.lrh.slid",
        "infiniband.lrh.dlid",
        "infiniband.bth.opcode",
        "infiniband.bth.destqp",
        "infiniband.bth.psn",
    ];
    let expected: Vec<Vec<String>> = all_packets()
        .iter()
        .zip(expected_bth_rows())
        .map(|(packet, bth)| [vec![packet.src.lid.to_string(), packet.dst.lid.to_string()], bth].concat())
        .collect();
    for form in [Form::ErfInPcap, Form::ErfFile] {
        let capture = write_capture(folder, form);
        let rows = tshark_fields(&capture, &fields);
        assert_eq!(rows, expected, "{} form", form.name());
    }
}

#[test]
fn tshark_reads_roce_forms() {
    let scratch = Scratch::new("tshark_reads_roce_forms");
    let folder = &scratch.0;
    for form in [Form::RoceV1, Form::RoceV2, Form::RoceV2Ipv6] {
        let capture = write_capture(folder, form);
        let rows = tshark_fields(&capture, &["infiniband.bth.opcode", "infiniband.bth.destqp", "infiniband.bth.psn"]);
        assert_eq!(rows, expected_bth_rows(), "{} form", form.name());
    }
}

#[test]
fn tshark_reads_datagram_and_ack_headers() {
    let scratch = Scratch::new("tshark_reads_datagram_and_ack_headers");
    let folder = &scratch.0;
    let capture = write_capture(folder, Form::ErfInPcap);
    let rows = tshark_fields(&capture, &["infiniband.deth.srcqp", "infiniband.aeth.syndrome"]);
    let source_qps: Vec<&str> = rows.iter().map(|row| row[0].as_str()).filter(|qp| !qp.is_empty()).collect();
    let expected_qps = [GSI_QP, GSI_QP, GSI_QP, UD_QP_A, UD_QP_B, UD_QP_A].map(|qp| format!("0x{qp:08x}"));
    assert_eq!(source_qps, expected_qps, "DETH source queue pairs");
    let syndromes: Vec<&str> = rows.iter().map(|row| row[1].as_str()).filter(|value| !value.is_empty()).collect();
    assert_eq!(syndromes, ["31", "46", "31", "96", "31", "31", "31", "31"], "AETH syndromes");
}

// ---- nauditd's records ----

/// Runs nauditd with JSON output and returns the records.
fn nauditd_json(capture: &Path) -> Vec<serde_json::Value> {
    nauditd_json_with(capture, &[])
}

/// Runs nauditd with JSON output and extra `args`, and returns the records.
fn nauditd_json_with(capture: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .arg("-r")
        .arg(capture)
        .args(["--format", "json", "-q"])
        .args(args)
        .output()
        .expect("run nauditd");
    assert!(output.status.success(), "nauditd failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .expect("JSON is UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("invalid JSON {line}: {error}")))
        .collect()
}

/// The values of one record that are the same in every form.
#[derive(Debug, PartialEq, Eq)]
struct FlowFacts {
    sqp: Option<u64>,
    dqp: Option<u64>,
    unpaired: bool,
    pkts: (u64, u64),
    app_bytes: (u64, u64),
    /// Per side: name and count of every nonzero InfiniBand counter.
    src: BTreeMap<String, u64>,
    dst: BTreeMap<String, u64>,
}

fn nonzero_counters(side: &serde_json::Value) -> BTreeMap<String, u64> {
    let mut counters = BTreeMap::new();
    for (name, value) in side.as_object().expect("side object") {
        if name == "udp_sport" {
            continue;
        }
        if let Some(naks) = value.as_object() {
            for (nak, count) in naks {
                let count = count.as_u64().expect("NAK count");
                if count > 0 {
                    counters.insert(format!("nak_{nak}"), count);
                }
            }
        } else if value.as_u64().expect("counter") > 0 {
            counters.insert(name.clone(), value.as_u64().unwrap());
        }
    }
    counters
}

fn facts(record: &serde_json::Value) -> FlowFacts {
    let ib = &record["ib"];
    FlowFacts {
        sqp: ib["sqp"].as_u64(),
        dqp: ib["dqp"].as_u64(),
        unpaired: ib["unpaired"].as_bool().expect("unpaired"),
        pkts: (record["spkts"].as_u64().unwrap(), record["dpkts"].as_u64().unwrap()),
        app_bytes: (record["sappbytes"].as_u64().unwrap(), record["dappbytes"].as_u64().unwrap()),
        src: nonzero_counters(&ib["src"]),
        dst: nonzero_counters(&ib["dst"]),
    }
}

fn counters(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(name, count)| (name.to_string(), *count)).collect()
}

/// The records every form must give, in time order of their first packet.
fn expected_flows(form: Form) -> Vec<FlowFacts> {
    let ecn = |count| if form.is_roce_v2() { vec![("ecn_ce", count)] } else { vec![] };
    vec![
        FlowFacts {
            sqp: Some(1),
            dqp: Some(1),
            unpaired: false,
            pkts: (2, 1),
            app_bytes: (512, 256),
            src: counters(&[("send", 2), ("mads", 2)]),
            dst: counters(&[("send", 1), ("mads", 1)]),
        },
        FlowFacts {
            sqp: Some(u64::from(RC_QP_A)),
            dqp: Some(u64::from(RC_QP_B)),
            unpaired: false,
            pkts: (8, 7),
            app_bytes: (512 + 512 + 64 + 64 + 130, 1024),
            src: counters(&[
                ("write", 3),
                ("send", 2),
                ("read_req", 2),
                ("atomic", 1),
                ("psn_gaps", 1),
                ("psn_repeats", 3),
            ]),
            dst: counters(&[("ack", 5), ("read_resp", 1), ("atomic", 1), ("nak_rnr", 1), ("nak_seq_err", 1)]),
        },
        FlowFacts {
            sqp: None,
            dqp: Some(u64::from(UNPAIRED_QP_B)),
            unpaired: true,
            pkts: (3, 0),
            app_bytes: (768, 0),
            src: counters(&[&[("write", 3), ("fecn", 2)][..], &ecn(2)].concat()),
            dst: counters(&[]),
        },
        FlowFacts {
            sqp: None,
            dqp: Some(u64::from(UNPAIRED_QP_A)),
            unpaired: true,
            pkts: (2, 0),
            app_bytes: (0, 0),
            src: counters(&[("cnp", 1), ("ack", 1), ("becn", 2)]),
            dst: counters(&[]),
        },
        FlowFacts {
            sqp: Some(u64::from(UD_QP_A)),
            dqp: Some(u64::from(UD_QP_B)),
            unpaired: false,
            pkts: (2, 1),
            app_bytes: (200, 202),
            src: counters(&[("send", 2)]),
            dst: counters(&[("send", 1)]),
        },
    ]
}

fn sorted_by_start(mut records: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    records.sort_by_key(|record| record["stime_ns"].as_u64());
    records
}

fn check_form(form: Form, link: &str, proto: &str, addresses: (&str, &str)) {
    let scratch = Scratch::new(form.name());
    let capture = write_capture(&scratch.0, form);
    let records = sorted_by_start(nauditd_json(&capture));
    let actual: Vec<FlowFacts> = records.iter().map(facts).collect();
    assert_eq!(actual, expected_flows(form), "{} form", form.name());
    for record in &records {
        assert_eq!(record["ib"]["link"], link);
        assert_eq!(record["ib"]["pkey"], 0x7fff);
        assert_eq!(record["proto"], proto);
    }
    let (a, b) = addresses;
    let endpoints: Vec<(&str, &str)> =
        records.iter().map(|record| (record["saddr"].as_str().unwrap(), record["daddr"].as_str().unwrap())).collect();
    assert_eq!(endpoints, [(a, b), (a, b), (a, b), (b, a), (a, b)]);
}

#[test]
fn native_form_flows() {
    check_form(Form::Native, "ib", "ib", ("1", "2"));
}

#[test]
fn erf_form_flows() {
    check_form(Form::ErfInPcap, "ib", "ib", ("1", "2"));
}

#[test]
fn erf_file_flows() {
    check_form(Form::ErfFile, "ib", "ib", ("1", "2"));
}

#[test]
fn roce_v1_form_flows() {
    check_form(Form::RoceV1, "rocev1", "rocev1", ("fe80::1", "fe80::2"));
}

#[test]
fn roce_v2_form_flows() {
    check_form(Form::RoceV2, "rocev2", "udp", ("10.0.0.1", "10.0.0.2"));
}

#[test]
fn roce_v2_ipv6_form_flows() {
    check_form(Form::RoceV2Ipv6, "rocev2", "udp", ("2001:db8::1", "2001:db8::2"));
}

#[test]
fn roce_v2_ports_are_udp_ports() {
    let scratch = Scratch::new("roce_v2_ports_are_udp_ports");
    let folder = &scratch.0;
    let capture = write_capture(folder, Form::RoceV2);
    let records = sorted_by_start(nauditd_json(&capture));
    let ports: Vec<(&str, &str)> =
        records.iter().map(|record| (record["sport"].as_str().unwrap(), record["dport"].as_str().unwrap())).collect();
    assert_eq!(ports, [("49153", "4791"), ("49169", "4791"), ("49203", "4791"), ("49220", "4791"), ("49232", "4791")]);
}

#[test]
fn native_ports_are_queue_pairs() {
    let scratch = Scratch::new("native_ports_are_queue_pairs");
    let folder = &scratch.0;
    let capture = write_capture(folder, Form::Native);
    let records = sorted_by_start(nauditd_json(&capture));
    let ports: Vec<(&str, &str)> =
        records.iter().map(|record| (record["sport"].as_str().unwrap(), record["dport"].as_str().unwrap())).collect();
    assert_eq!(
        ports,
        [
            ("0x000001", "0x000001"),
            ("0x000011", "0x000022"),
            ("", "0x000044"),
            ("", "0x000033"),
            ("0x000050", "0x000060")
        ]
    );
}

// ---- Argus records and the real ra ----

/// Runs nauditd with Argus output and returns the file's bytes and path.
fn nauditd_argus(capture: &Path, name: &str) -> (Vec<u8>, PathBuf) {
    let path = capture.with_file_name(format!("{name}.argus"));
    let status = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .arg("-r")
        .arg(capture)
        .arg("-w")
        .arg(&path)
        .arg("-q")
        .status()
        .expect("run nauditd");
    assert!(status.success(), "nauditd failed writing {}", path.display());
    (std::fs::read(&path).expect("read Argus file"), path)
}

/// Splits each flow record of an Argus file into its DSRs: (type,
/// qualifier, body).
fn flow_record_dsrs(file: &[u8]) -> Vec<Vec<(u8, u8, Vec<u8>)>> {
    let mut records = Vec::new();
    let mut offset = 0;
    while offset + 4 <= file.len() {
        let length_bytes = usize::from(u16::from_be_bytes([file[offset + 2], file[offset + 3]])) * 4;
        let record = &file[offset..offset + length_bytes];
        if record[0] == 0x13 {
            let mut dsrs = Vec::new();
            let mut position = 4;
            while position + 4 <= record.len() {
                let dsr_bytes = usize::from(record[position + 3]) * 4;
                dsrs.push((
                    record[position],
                    record[position + 2],
                    record[position + 4..position + dsr_bytes].to_vec(),
                ));
                position += dsr_bytes;
            }
            records.push(dsrs);
        }
        offset += length_bytes;
    }
    records
}

fn dsr(dsrs: &[(u8, u8, Vec<u8>)], dsr_type: u8) -> (u8, Vec<u8>) {
    let (_, qualifier, body) = dsrs.iter().find(|(kind, _, _)| *kind == dsr_type).expect("DSR present");
    (*qualifier, body.clone())
}

fn be32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes(bytes[offset..offset + 4].try_into().unwrap())
}

#[test]
fn argus_native_keys_and_infiniband_dsr() {
    let scratch = Scratch::new("argus_native_keys_and_infiniband_dsr");
    let folder = &scratch.0;
    let capture = write_capture(folder, Form::Native);
    let (file, _) = nauditd_argus(&capture, "native");
    let records = flow_record_dsrs(&file);
    assert_eq!(records.len(), 5);

    // The RC record: local key with LIDs 1 and 2 and both queue pairs.
    let (qualifier, key) = dsr(&records[1], 0x02);
    assert_eq!(qualifier, 0x0b, "InfiniBand local key");
    assert_eq!(&key[..4], &[0, 1, 0, 2], "LIDs");
    assert_eq!((be32(&key, 4), be32(&key, 8)), (RC_QP_A, RC_QP_B));
    assert_eq!(&key[12..14], &[0x7f, 0xff], "partition");

    let (link, ib) = dsr(&records[1], 0x35);
    assert_eq!(link, 0, "native link");
    assert_eq!((be32(&ib, 0), be32(&ib, 4)), (RC_QP_A, RC_QP_B));
    assert_eq!(ib[10], 0, "paired");
    // Each side: 8 operation classes, 6 NAK kinds, then gaps and repeats.
    let side_bytes = 21 * 4;
    let (src, dst) = (12, 12 + side_bytes);
    assert_eq!(be32(&ib, src + 4), 3, "source RDMA writes");
    assert_eq!(be32(&ib, src + 14 * 4), 1, "source PSN gaps");
    assert_eq!(be32(&ib, src + 15 * 4), 3, "source PSN repeats");
    assert_eq!(be32(&ib, dst + 8 * 4), 1, "destination RNR NAKs");
    assert_eq!(be32(&ib, dst + 9 * 4), 1, "destination PSN sequence error NAKs");

    // An unpaired half: unknown source queue pair and the flag.
    let (_, ib) = dsr(&records[2], 0x35);
    assert_eq!(be32(&ib, 0), 0xffff_ffff);
    assert_eq!(ib[10], 1, "unpaired");

    // The encapsulation DSR marks the LRH.
    let (_, encapsulation) = dsr(&records[1], 0x20);
    assert_eq!(be32(&encapsulation, 0), 0x0010_0000);
}

/// Runs `ra -n` on an Argus file with the given fields and returns its
/// output lines without the management records (state `STA` and `STP`),
/// checking that ra printed no error.
fn ra_lines(path: &Path, fields: &[&str]) -> Vec<String> {
    let output =
        Command::new("ra").arg("-r").arg(path).args(["-n", "-c", ",", "-s"]).args(fields).output().expect("run ra");
    assert!(output.status.success(), "ra failed on {}", path.display());
    assert_eq!(String::from_utf8_lossy(&output.stderr), "", "ra printed errors");
    String::from_utf8(output.stdout)
        .expect("ra output is UTF-8")
        .lines()
        .skip(1)
        .map(|line| line.split(',').map(str::trim).collect::<Vec<_>>().join(","))
        .filter(|line| !line.ends_with(",STA") && !line.ends_with(",STP"))
        .collect()
}

#[test]
fn ra_prints_roce_v2_as_udp() {
    let scratch = Scratch::new("ra_prints_roce_v2_as_udp");
    let folder = &scratch.0;
    let capture = write_capture(folder, Form::RoceV2);
    let (_, path) = nauditd_argus(&capture, "rocev2");
    let lines = ra_lines(&path, &["proto", "saddr", "sport", "daddr", "dport", "spkts", "dpkts", "state"]);
    assert_eq!(
        lines,
        [
            "udp,10.0.0.1,49153,10.0.0.2,4791,2,1,CON",
            "udp,10.0.0.1,49169,10.0.0.2,4791,8,7,CON",
            "udp,10.0.0.1,49203,10.0.0.2,4791,3,0,REQ",
            "udp,10.0.0.2,49220,10.0.0.1,4791,2,0,REQ",
            "udp,10.0.0.1,49232,10.0.0.2,4791,2,1,CON",
        ]
    );
}

#[test]
fn ra_reads_native_records() {
    let scratch = Scratch::new("ra_reads_native_records");
    let folder = &scratch.0;
    for form in [Form::Native, Form::ErfInPcap, Form::RoceV1] {
        let capture = write_capture(folder, form);
        let (_, path) = nauditd_argus(&capture, form.name());
        // ra 3.0.8 has no printer for InfiniBand addresses: it reads the
        // records and prints their counts and state, and "(null)" for the
        // addresses.
        let lines = ra_lines(&path, &["saddr", "daddr", "spkts", "dpkts", "state"]);
        let expected =
            ["2,1,CON", "8,7,CON", "3,0,REQ", "2,0,REQ", "2,1,CON"].map(|counts| format!("(null),(null),{counts}"));
        assert_eq!(lines, expected, "{} form", form.name());
    }
}

#[test]
fn argus_roce_v1_global_key() {
    let scratch = Scratch::new("argus_roce_v1_global_key");
    let capture = write_capture(&scratch.0, Form::RoceV1);
    let (file, _) = nauditd_argus(&capture, "rocev1");
    let records = flow_record_dsrs(&file);
    let (qualifier, key) = dsr(&records[1], 0x02);
    assert_eq!(qualifier, 0x0c, "InfiniBand global key");
    assert_eq!(key.len(), 44);
    assert_eq!(&key[..16], &gid(1), "source GID");
    assert_eq!(&key[16..32], &gid(2), "destination GID");
    assert_eq!((be32(&key, 32), be32(&key, 36)), (RC_QP_A, RC_QP_B));
    assert_eq!(key[42], 1, "RoCEv1 link code");
    let (link, _) = dsr(&records[1], 0x35);
    assert_eq!(link, 1, "RoCEv1 link code");
}

#[test]
fn csv_and_text_carry_infiniband_columns() {
    let scratch = Scratch::new("csv_and_text_carry_infiniband_columns");
    let capture = write_capture(&scratch.0, Form::Native);
    let csv = common::nauditd_csv(&capture, &[]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("CSV header").split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    assert!(rows.iter().all(|row| row.len() == header.len()), "every row has every column");
    let column = |row: &[&str], name: &str| -> String {
        let index = header.iter().position(|field| *field == name).unwrap_or_else(|| panic!("no column {name}"));
        row[index].to_string()
    };
    let rc = rows.iter().find(|row| column(row, "ib_dqp") == "0x000022").expect("RC record");
    let checks = [
        ("proto", "ib"),
        ("ib_link", "ib"),
        ("ib_pkey", "0x7fff"),
        ("ib_sqp", "0x000011"),
        ("ib_unpaired", "0"),
        ("sib_write", "3"),
        ("sib_psn_gaps", "1"),
        ("sib_psn_repeats", "3"),
        ("dib_ack", "5"),
        ("dib_nak_rnr", "1"),
        ("dib_nak_seq_err", "1"),
    ];
    for (name, value) in checks {
        assert_eq!(column(rc, name), value, "column {name}");
    }
    let unpaired = rows.iter().filter(|row| column(row, "ib_unpaired") == "1").count();
    assert_eq!(unpaired, 2);

    let output = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .arg("-r")
        .arg(&capture)
        .args(["--format", "text", "-q"])
        .output()
        .expect("run nauditd");
    let text = String::from_utf8(output.stdout).expect("text is UTF-8");
    let rc_line = text.lines().find(|line| line.contains("1:0x000011")).expect("RC line in the table");
    assert!(rc_line.contains("2:0x000022"), "{rc_line}");
    assert_eq!(text.lines().filter(|line| line.contains(" ib ")).count(), 5);
}

#[test]
fn several_workers_pair_connections() {
    let scratch = Scratch::new("several_workers_pair_connections");
    for form in [Form::Native, Form::RoceV2] {
        let capture = write_capture(&scratch.0, form);
        let records = sorted_by_start(nauditd_json_with(&capture, &["--workers", "3"]));
        let actual: Vec<FlowFacts> = records.iter().map(facts).collect();
        assert_eq!(actual, expected_flows(form), "{} form with 3 workers", form.name());
    }
}
