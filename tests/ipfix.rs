//! IPFIX export checked against real collectors and decoders over
//! loopback: nfdump's nfcapd receives the UDP export, tshark decodes the
//! messages of an IPFIX file and a capture of the UDP export on lo, and a
//! TCP listener in the test checks the per-connection templates and their
//! withdrawal. Also checks the run summary's IPFIX counts, one run feeding
//! a file, the record stream and a collector, and that the JSON lines
//! carry every CSV field.
//!
//! The tests fail, and do not skip, when nfcapd, nfdump, tshark or ra is
//! missing; scripts/install-deps.sh installs them. Capturing on lo needs
//! root or CAP_NET_RAW, as the live capture tests do.

mod common;

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read};
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::builder::{ethernet, ipv4, pcap_file, TestPacket, ETHERTYPE_IPV4};
use common::{corpus_capture, csv_rows, ChildGuard, ScratchDir};

/// Captures compared between nauditd's CSV and nfdump. The flows of
/// vxlan-http.pcap go out in a tunnel template.
const NFDUMP_CAPTURES: &[&str] =
    &["http-dns-wikipedia-multiflow.pcap", "lt-sll-kakaotalk-tcp-udp.pcap", "lt-raw-ipv6-udp-dns.pcap", "vxlan-http.pcap"];
/// Every template id nauditd exports: four key kinds, then the same in a
/// tunnel over IPv4 and over IPv6.
const TEMPLATE_IDS: std::ops::Range<u16> = 256..268;
/// Limit of every wait for an external program.
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(30);
/// IPFIX port that tshark decodes as cflow in the wrapped capture.
const WRAPPED_IPFIX_PORT: u16 = 4739;

fn spawn_or_fail(command: &mut Command, program: &str, package: &str) -> Child {
    match command.spawn() {
        Ok(child) => child,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            panic!("{program} not found: install the Debian package {package} (scripts/install-deps.sh does)")
        }
        Err(error) => panic!("starting {program} failed: {error}"),
    }
}

fn output_or_fail(command: &mut Command, program: &str, package: &str) -> Output {
    let child = spawn_or_fail(command.stdout(Stdio::piped()).stderr(Stdio::piped()), program, package);
    let mut guard = ChildGuard(Some(child));
    let deadline = Instant::now() + PROGRAM_TIMEOUT;
    loop {
        let child = guard.0.as_mut().unwrap();
        if child.try_wait().expect("poll child").is_some() {
            return guard.0.take().unwrap().wait_with_output().expect("collect output");
        }
        assert!(Instant::now() < deadline, "{program} did not finish within {PROGRAM_TIMEOUT:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Binds a collector socket on 127.0.0.1 and reads it on a thread until it
/// is quiet for 2 seconds, so that its receive buffer never overflows
/// while nauditd sends. Returns the collector's URL and the thread, which
/// returns the datagrams.
fn start_udp_collector() -> (String, std::thread::JoinHandle<Vec<Vec<u8>>>) {
    let collector = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
    collector.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let url = format!("udp://{}", collector.local_addr().unwrap());
    let reader = std::thread::spawn(move || {
        let mut datagrams = Vec::new();
        let mut buffer = [0u8; 65_536];
        while let Ok(length) = collector.recv(&mut buffer) {
            datagrams.push(buffer[..length].to_vec());
        }
        datagrams
    });
    (url, reader)
}

/// Returns a UDP port on 127.0.0.1 that was free a moment ago.
fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").expect("bind UDP").local_addr().unwrap().port()
}

fn run_nauditd(args: &[&str]) -> Output {
    let output = output_or_fail(Command::new(env!("CARGO_BIN_EXE_nauditd")).args(args), "nauditd", "nauditd");
    assert!(output.status.success(), "nauditd {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// nfcapd listening on 127.0.0.1:`port`, writing into `folder`.
fn start_nfcapd(port: u16, folder: &Path) -> ChildGuard {
    let log = std::fs::File::create(folder.join("nfcapd.log")).expect("create nfcapd log");
    let flows = folder.join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    let child = spawn_or_fail(
        Command::new("nfcapd")
            .args(["-b", "127.0.0.1", "-p", &port.to_string(), "-t", "3600", "-w"])
            .arg(&flows)
            .stdout(log.try_clone().unwrap())
            .stderr(log),
        "nfcapd",
        "nfdump",
    );
    let guard = ChildGuard(Some(child));
    // nfcapd is ready once it has bound the port.
    let deadline = Instant::now() + PROGRAM_TIMEOUT;
    while UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "nfcapd did not bind 127.0.0.1:{port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    guard
}

/// Stops nfcapd with SIGTERM, which makes it close its flow file.
fn stop_nfcapd(mut guard: ChildGuard) {
    let mut child = guard.0.take().unwrap();
    let pid = child.id() as libc::pid_t;
    // SAFETY: `pid` is the test's own child, which has not been reaped.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + PROGRAM_TIMEOUT;
    while child.try_wait().expect("poll nfcapd").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nfcapd did not stop within {PROGRAM_TIMEOUT:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Per flow key (proto, saddr, sport, daddr, dport): packets and bytes of
/// each direction, summed over the flow's records.
type FlowTotals = BTreeMap<(String, String, String, String, String), [u64; 4]>;

fn add_totals(totals: &mut FlowTotals, key: (String, String, String, String, String), counts: [u64; 4]) {
    let entry = totals.entry(key).or_default();
    for (total, count) in entry.iter_mut().zip(counts) {
        *total += count;
    }
}

fn number(field: &str) -> u64 {
    field.trim().parse().unwrap_or_else(|_| panic!("not a number: {field:?}"))
}

/// Reads nauditd CSV into totals of its TCP and UDP flows, and returns the
/// record count.
fn nauditd_totals(csv: &str) -> (FlowTotals, usize) {
    let rows = csv_rows(csv);
    let header = &rows[0];
    let column = |name: &str| header.iter().position(|field| field == name).unwrap();
    let mut totals = FlowTotals::new();
    for row in &rows[1..] {
        let proto = row[column("proto")].clone();
        if proto != "tcp" && proto != "udp" {
            continue;
        }
        let key = (
            proto,
            row[column("saddr")].clone(),
            row[column("sport")].clone(),
            row[column("daddr")].clone(),
            row[column("dport")].clone(),
        );
        let counts = ["spkts", "dpkts", "sbytes", "dbytes"].map(|name| number(&row[column(name)]));
        add_totals(&mut totals, key, counts);
    }
    (totals, rows.len() - 1)
}

/// Reads `nfdump -o csv` output the same way: nfdump 1.7 shows the RFC
/// 5103 reverse counts as opkt and obyt.
fn nfdump_totals(csv: &str) -> (FlowTotals, usize) {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("nfdump header").split(',').collect();
    let column = |name: &str| header.iter().position(|field| *field == name).unwrap_or_else(|| panic!("no {name} column"));
    let mut totals = FlowTotals::new();
    let mut records = 0;
    for line in lines {
        let row: Vec<&str> = line.split(',').collect();
        if row.len() < header.len() {
            continue;
        }
        records += 1;
        let proto = row[column("pr")].trim().to_lowercase();
        if proto != "tcp" && proto != "udp" {
            continue;
        }
        let key = (
            proto,
            row[column("sa")].trim().to_string(),
            row[column("sp")].trim().to_string(),
            row[column("da")].trim().to_string(),
            row[column("dp")].trim().to_string(),
        );
        let counts = ["ipkt", "opkt", "ibyt", "obyt"].map(|name| number(row[column(name)]));
        add_totals(&mut totals, key, counts);
    }
    (totals, records)
}

/// Exports a capture over UDP to nfcapd while writing CSV in the same
/// run, and returns both sides' totals.
fn export_to_nfcapd(capture: &str) -> ((FlowTotals, usize), (FlowTotals, usize)) {
    let scratch = ScratchDir::new("ipfix", &format!("nfcapd-{capture}"));
    let port = free_udp_port();
    let collector = start_nfcapd(port, &scratch.0);
    let url = format!("udp://127.0.0.1:{port}");
    let path = corpus_capture(capture);
    let nauditd = run_nauditd(&["-r", path.to_str().unwrap(), "--format", "csv", "-q", "--ipfix", &url]);
    // Give nfcapd time to read the last datagrams before it stops.
    std::thread::sleep(Duration::from_millis(500));
    stop_nfcapd(collector);
    let log = std::fs::read_to_string(scratch.0.join("nfcapd.log")).unwrap_or_default();
    assert!(log.contains("Sequence Errors: 0"), "{capture}: nfcapd counted sequence errors or no flows:\n{log}");

    let flow_files: Vec<PathBuf> = std::fs::read_dir(scratch.0.join("flows"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().unwrap().to_string_lossy().starts_with("nfcapd.2"))
        .collect();
    assert_eq!(flow_files.len(), 1, "expected one nfcapd flow file, found {flow_files:?}");
    let nfdump = output_or_fail(Command::new("nfdump").arg("-r").arg(&flow_files[0]).args(["-o", "csv"]), "nfdump", "nfdump");
    assert!(nfdump.status.success(), "nfdump failed: {}", String::from_utf8_lossy(&nfdump.stderr));

    let nauditd_csv = String::from_utf8(nauditd.stdout).unwrap();
    (nauditd_totals(&nauditd_csv), nfdump_totals(&String::from_utf8_lossy(&nfdump.stdout)))
}

#[test]
fn nfcapd_receives_same_flows_as_csv() {
    for capture in NFDUMP_CAPTURES {
        let ((expected, expected_records), (received, received_records)) = export_to_nfcapd(capture);
        assert!(!expected.is_empty(), "{capture}: nauditd reported no TCP or UDP flow");
        assert_eq!(received_records, expected_records, "{capture}: nfdump lists another number of records");
        for (key, counts) in &expected {
            assert_eq!(received.get(key), Some(counts), "{capture}: flow {key:?} differs in nfdump");
        }
        assert_eq!(received.len(), expected.len(), "{capture}: nfdump lists flows nauditd did not report");
    }
}

/// Splits an IPFIX file into its messages, checking each header.
fn split_messages(file: &[u8]) -> Vec<&[u8]> {
    let mut messages = Vec::new();
    let mut offset = 0;
    while offset < file.len() {
        assert!(file.len() - offset >= 16, "truncated message header at offset {offset}");
        assert_eq!(u16::from_be_bytes([file[offset], file[offset + 1]]), 10, "version at offset {offset}");
        let length = usize::from(u16::from_be_bytes([file[offset + 2], file[offset + 3]]));
        assert!(length >= 16, "message length {length} below the header length at offset {offset}");
        assert!(offset + length <= file.len(), "message length {length} at offset {offset} runs past the file end");
        messages.push(&file[offset..offset + length]);
        offset += length;
    }
    messages
}

/// Returns (set id, set body) of each set of a message.
fn sets(message: &[u8]) -> Vec<(u16, &[u8])> {
    let mut sets = Vec::new();
    let mut offset = 16;
    while offset < message.len() {
        let id = u16::from_be_bytes([message[offset], message[offset + 1]]);
        let length = usize::from(u16::from_be_bytes([message[offset + 2], message[offset + 3]]));
        assert!(length >= 4, "set length {length} below the set header length");
        assert!(offset + length <= message.len(), "set length {length} runs past the message end");
        sets.push((id, &message[offset + 4..offset + length]));
        offset += length;
    }
    sets
}

/// Wraps IPFIX messages in UDP datagrams from 127.0.0.1 to 127.0.0.1, in a
/// pcap file that tshark can read.
fn wrap_in_pcap(messages: &[&[u8]]) -> Vec<u8> {
    let packets: Vec<TestPacket> = messages
        .iter()
        .enumerate()
        .map(|(index, message)| {
            assert!(message.len() <= 65_507, "a {}-byte message does not fit in one UDP datagram", message.len());
            let mut datagram = Vec::new();
            datagram.extend_from_slice(&40_000u16.to_be_bytes());
            datagram.extend_from_slice(&WRAPPED_IPFIX_PORT.to_be_bytes());
            datagram.extend_from_slice(&((8 + message.len()) as u16).to_be_bytes());
            datagram.extend_from_slice(&[0, 0]);
            datagram.extend_from_slice(message);
            let mut frame = ethernet(ETHERTYPE_IPV4, false);
            frame.extend(ipv4([127, 0, 0, 1], [127, 0, 0, 1], 17, datagram.len()));
            frame.extend(datagram);
            TestPacket { time_ns: 1_700_000_000_000_000_000 + index as u64 * 1_000_000, data: frame }
        })
        .collect();
    pcap_file(1, &packets)
}

/// Returns the flowset ids of a `tshark -T fields -e cflow.template_id -e
/// cflow.flowset_id` line: the second column, comma-separated.
fn flowset_ids(line: &str) -> impl Iterator<Item = &str> {
    line.split('\t').nth(1).unwrap_or("").split(',')
}

fn tshark(args: &[&str]) -> String {
    let output = output_or_fail(Command::new("tshark").args(args), "tshark", "tshark");
    assert!(output.status.success(), "tshark {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn tshark_decodes_ipfix_file() {
    let scratch = ScratchDir::new("ipfix", "tshark");
    let cases: &[(&str, &[&str])] = &[
        ("http-dns-wikipedia-multiflow.pcap", &["256"]),
        ("lt-raw-ipv6-udp-dns.pcap", &["257"]),
        ("arp-who-has.pcap", &["259"]),
        ("l2-stp-8021d.pcap", &["258"]),
        // IPv4 in VXLAN over IPv4, and IPv4 in IPv6.
        ("vxlan-http.pcap", &["260"]),
        ("ipip-4in6-tcp.pcap", &["264"]),
        // IPv4, IPv6 and ARP in GRE over IPv4, and IPv6 in IPv6 in IPv6.
        ("gre-teb-ethernet-outer-frags.pcap", &["260", "261", "263"]),
        ("ipip-6in6in6-udp.pcap", &["265"]),
    ];
    for (capture, data_template_ids) in cases {
        let ipfix_path = scratch.0.join(format!("{capture}.ipfix"));
        let path = corpus_capture(capture);
        run_nauditd(&["-r", path.to_str().unwrap(), "-q", "-w", ipfix_path.to_str().unwrap(), "--format", "ipfix", "--source-id", "77"]);
        let file = std::fs::read(&ipfix_path).unwrap();
        let messages = split_messages(&file);
        assert!(!messages.is_empty(), "{capture}: empty IPFIX file");
        for message in &messages {
            let domain = u32::from_be_bytes(message[12..16].try_into().unwrap());
            assert_eq!(domain, 77, "{capture}: observation domain from --source-id");
        }
        let wrapped = scratch.0.join(format!("{capture}.pcap"));
        std::fs::write(&wrapped, wrap_in_pcap(&messages)).unwrap();
        let decode_as = format!("udp.port=={WRAPPED_IPFIX_PORT},cflow");
        let wrapped_name = wrapped.to_str().unwrap();

        let expert = tshark(&["-r", wrapped_name, "-d", &decode_as, "-q", "-z", "expert,warn"]);
        assert!(!expert.contains("Malformed"), "{capture}: tshark reports malformed packets:\n{expert}");
        assert!(!expert.contains("Warnings ("), "{capture}: tshark expert warnings:\n{expert}");
        assert!(!expert.contains("Errors ("), "{capture}: tshark expert errors:\n{expert}");

        let fields = tshark(&["-r", wrapped_name, "-d", &decode_as, "-T", "fields", "-e", "cflow.template_id", "-e", "cflow.flowset_id"]);
        for id in TEMPLATE_IDS {
            assert!(fields.contains(&id.to_string()), "{capture}: tshark shows no template {id}:\n{fields}");
        }
        for id in *data_template_ids {
            let data_sets = fields.lines().filter(|line| flowset_ids(line).any(|field| field == *id)).count();
            assert!(data_sets > 0, "{capture}: tshark shows no data set of template {id}");
        }
    }
}

/// Returns the values tshark shows for `field` in the data records of an
/// IPFIX file that nauditd writes for `capture`, one line per record.
fn tshark_field_values(scratch: &ScratchDir, capture: &str, fields: &[&str]) -> Vec<String> {
    let ipfix_path = scratch.0.join(format!("{capture}.ipfix"));
    let path = corpus_capture(capture);
    run_nauditd(&["-r", path.to_str().unwrap(), "-q", "-w", ipfix_path.to_str().unwrap(), "--format", "ipfix"]);
    let file = std::fs::read(&ipfix_path).unwrap();
    let wrapped = scratch.0.join(format!("{capture}.pcap"));
    std::fs::write(&wrapped, wrap_in_pcap(&split_messages(&file))).unwrap();
    let decode_as = format!("udp.port=={WRAPPED_IPFIX_PORT},cflow");
    let mut args = vec!["-r", wrapped.to_str().unwrap(), "-d", &decode_as, "-T", "fields", "-E", "occurrence=a"];
    for field in fields {
        args.extend(["-e", field]);
    }
    tshark(&args).lines().filter(|line| !line.trim().is_empty()).map(str::to_string).collect()
}

#[test]
fn tunnel_fields_decoded_by_tshark() {
    let scratch = ScratchDir::new("ipfix", "tunnel-fields");
    // vxlan-http.pcap: one TCP connection in VXLAN segment 1 between VTEPs
    // 10.1.200.131 and 10.1.1.172. layer2SegmentId carries the VXLAN type
    // (1) in its top byte and the VNI below.
    let lines = tshark_field_values(&scratch, "vxlan-http.pcap", &["cflow.srcaddr", "cflow.layer2_segment_id", "cflow.enterprise_private_entry"]);
    let vxlan_line = lines
        .iter()
        .find(|line| line.starts_with("172.16.11.201"))
        .unwrap_or_else(|| panic!("tshark shows no record of 172.16.11.201:\n{lines:?}"));
    let columns: Vec<&str> = vxlan_line.split('\t').collect();
    assert_eq!(columns[1], (1u64 << 56 | 1).to_string(), "layer2SegmentId of VNI 1");
    let private_entries = columns[2];
    // Enterprise elements in template order: report index, TCP status,
    // tunnel type 7 (VXLAN), outer source, outer destination, tunnel id 1,
    // depth 1.
    for expected in ["07", "0a01c883", "0a0101ac", "00000001", "01"] {
        assert!(private_entries.split(',').any(|entry| entry == expected), "no enterprise value {expected} in {private_entries}");
    }
}

/// Starts tshark capturing UDP to `port` and `probe_port` on the loopback
/// interface into `path`, and waits until it reports that capture has
/// started.
fn start_loopback_capture(port: u16, probe_port: u16, path: &Path) -> ChildGuard {
    let filter = format!("udp and (dst port {port} or dst port {probe_port})");
    let mut child = spawn_or_fail(
        Command::new("tshark")
            .args(["-i", "lo", "-f", &filter, "-w", path.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
        "tshark",
        "tshark",
    );
    let stderr = child.stderr.take().unwrap();
    let guard = ChildGuard(Some(child));
    let (ready_sender, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("Capturing on") {
                let _ = ready_sender.send(Ok(()));
            }
            lines.push(line);
        }
        let _ = ready_sender.send(Err(lines.join("\n")));
    });
    match ready.recv_timeout(PROGRAM_TIMEOUT) {
        Ok(Ok(())) => guard,
        Ok(Err(output)) => panic!("tshark could not capture on lo (it needs root or CAP_NET_RAW):\n{output}"),
        Err(_) => panic!("tshark did not start capturing on lo within {PROGRAM_TIMEOUT:?}"),
    }
}

/// Stops a tshark capture with SIGINT, which makes it write what it
/// captured and exit.
fn stop_capture(mut guard: ChildGuard) {
    let mut child = guard.0.take().unwrap();
    // SAFETY: the pid is the test's own child, which has not been reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let deadline = Instant::now() + PROGRAM_TIMEOUT;
    while child.try_wait().expect("poll tshark").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tshark did not stop within {PROGRAM_TIMEOUT:?} of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tshark_decodes_captured_udp_export() {
    let scratch = ScratchDir::new("ipfix", "loopback-capture");
    let port = free_udp_port();
    let capture_path = scratch.0.join("export.pcapng");
    let capture_name = capture_path.to_str().unwrap();
    // Datagrams to another port show when the capture really runs: tshark
    // reports that it started a moment before packets reach it.
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    let probe_port = probe.local_addr().unwrap().port();
    let capture = start_loopback_capture(port, probe_port, &capture_path);
    let count_frames = |filter: String| tshark(&["-r", capture_name, "-Y", &filter, "-T", "fields", "-e", "frame.number"]).lines().count();
    let deadline = Instant::now() + PROGRAM_TIMEOUT;
    while count_frames(format!("udp.dstport=={probe_port}")) == 0 {
        assert!(Instant::now() < deadline, "tshark captured none of the probe datagrams");
        probe.send_to(b"probe", ("127.0.0.1", probe_port)).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }

    let collector = UdpSocket::bind(("127.0.0.1", port)).expect("bind the collector port");
    collector.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let reader = std::thread::spawn(move || {
        let mut buffer = [0u8; 65_536];
        std::iter::from_fn(|| collector.recv(&mut buffer).ok()).count()
    });
    let url = format!("udp://127.0.0.1:{port}");
    for capture_name in ["http-dns-wikipedia-multiflow.pcap", "vxlan-http.pcap", "ipip-4in6-tcp.pcap"] {
        let path = corpus_capture(capture_name);
        run_nauditd(&["-r", path.to_str().unwrap(), "--format", "csv", "-q", "--ipfix", &url]);
    }
    let received = reader.join().unwrap();
    assert!(received >= 3, "the collector received {received} datagrams");
    // The capture writes each packet as it comes; wait until every
    // datagram is in the file before stopping it.
    let captured = || count_frames(format!("udp.dstport=={port}"));
    let deadline = Instant::now() + PROGRAM_TIMEOUT;
    while captured() < received {
        assert!(Instant::now() < deadline, "tshark captured {} of {received} datagrams", captured());
        std::thread::sleep(Duration::from_millis(100));
    }
    stop_capture(capture);

    let decode_as = format!("udp.port=={port},cflow");
    assert_eq!(captured(), received, "tshark captured another number of datagrams than the collector received");
    let expert = tshark(&["-r", capture_name, "-d", &decode_as, "-q", "-z", "expert,warn"]);
    assert!(!expert.contains("Malformed"), "tshark reports malformed packets:\n{expert}");
    assert!(!expert.contains("Warnings ("), "tshark expert warnings:\n{expert}");
    assert!(!expert.contains("Errors ("), "tshark expert errors:\n{expert}");
    let fields = tshark(&["-r", capture_name, "-d", &decode_as, "-T", "fields", "-E", "occurrence=a", "-e", "cflow.template_id", "-e", "cflow.flowset_id"]);
    let shown_ids: Vec<&str> = fields.split(['\t', ',', '\n']).collect();
    for id in TEMPLATE_IDS {
        assert!(shown_ids.contains(&id.to_string().as_str()), "tshark shows no template {id}");
    }
    for data_set in ["256", "260", "264"] {
        assert!(fields.lines().any(|line| flowset_ids(line).any(|field| field == data_set)), "tshark shows no data set {data_set}");
    }
}

/// Accepts one connection on `listener` and reads it to the end.
fn read_connection(listener: &TcpListener) -> Vec<u8> {
    let (mut connection, _) = listener.accept().expect("accept the exporter");
    connection.set_read_timeout(Some(PROGRAM_TIMEOUT)).unwrap();
    let mut bytes = Vec::new();
    connection.read_to_end(&mut bytes).expect("read the export");
    bytes
}

#[test]
fn tcp_export_sends_templates_then_withdraws() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("tcp://{}", listener.local_addr().unwrap());
    let reader = std::thread::spawn(move || read_connection(&listener));
    let path = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let nauditd = run_nauditd(&["-r", path.to_str().unwrap(), "--format", "csv", "-q", "--ipfix", &url]);
    let expected_records = csv_rows(&String::from_utf8(nauditd.stdout).unwrap()).len() - 1;
    let bytes = reader.join().unwrap();

    let messages = split_messages(&bytes);
    assert!(messages.len() >= 2, "expected templates, data and a withdrawal");
    let first_sets = sets(messages[0]);
    assert_eq!(first_sets[0].0, 2, "the first set carries the templates");
    let template_sets = messages.iter().flat_map(|message| sets(message)).filter(|(id, _)| *id == 2).count();
    assert_eq!(template_sets, 2, "one template set per connection, plus the withdrawal");
    let last_sets = sets(messages[messages.len() - 1]);
    assert_eq!(last_sets, [(2, &[0, 2, 0, 0][..])], "the last message withdraws all templates");

    let record_lengths = template_record_lengths(messages[0]);
    assert_eq!(record_lengths.keys().copied().collect::<Vec<_>>(), TEMPLATE_IDS.collect::<Vec<_>>(), "template ids");
    let mut data_records = 0u32;
    for message in &messages {
        let sequence = u32::from_be_bytes(message[8..12].try_into().unwrap());
        assert_eq!(sequence, data_records, "sequence number counts earlier data records");
        for (id, body) in sets(message) {
            if let Some(length) = record_lengths.get(&id) {
                assert_eq!(body.len() % length, 0, "data set {id} holds whole records");
                data_records += (body.len() / length) as u32;
            }
        }
    }
    assert_eq!(data_records as usize, expected_records, "every CSV record arrives as a data record");
}

/// Returns the data record length of each template in the first set of
/// `message`.
fn template_record_lengths(message: &[u8]) -> BTreeMap<u16, usize> {
    let (set_id, body) = sets(message)[0];
    assert_eq!(set_id, 2, "the first set is a template set");
    template_set_record_lengths(body)
}

/// Returns the data record length of each template defined anywhere in
/// `messages`: over UDP with a small MTU the templates span several
/// messages.
fn all_template_record_lengths(messages: &[Vec<u8>]) -> BTreeMap<u16, usize> {
    let mut lengths = BTreeMap::new();
    for message in messages {
        for (set_id, body) in sets(message) {
            if set_id == 2 {
                lengths.extend(template_set_record_lengths(body).into_iter().filter(|(_, length)| *length > 0));
            }
        }
    }
    lengths
}

/// Returns the data record length of each template record in a template
/// set body.
fn template_set_record_lengths(body: &[u8]) -> BTreeMap<u16, usize> {
    let mut lengths = BTreeMap::new();
    let mut offset = 0;
    while offset + 4 <= body.len() {
        let template_id = u16::from_be_bytes([body[offset], body[offset + 1]]);
        let field_count = usize::from(u16::from_be_bytes([body[offset + 2], body[offset + 3]]));
        offset += 4;
        let mut length = 0;
        for _ in 0..field_count {
            let id = u16::from_be_bytes([body[offset], body[offset + 1]]);
            length += usize::from(u16::from_be_bytes([body[offset + 2], body[offset + 3]]));
            offset += if id & 0x8000 != 0 { 8 } else { 4 };
        }
        lengths.insert(template_id, length);
    }
    lengths
}

#[test]
fn absent_collectors_do_not_stall_capture() {
    // Ports that were free a moment ago: UDP sends fail with ICMP port
    // unreachable, TCP connections are refused.
    let udp_url = format!("udp://127.0.0.1:{}", free_udp_port());
    let tcp_port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tcp_url = format!("tcp://127.0.0.1:{tcp_port}");
    let path = corpus_capture("lt-sll-kakaotalk-tcp-udp.pcap");
    let started = Instant::now();
    let output = run_nauditd(&["-r", path.to_str().unwrap(), "--format", "csv", "-q", "--ipfix", &udp_url, "--ipfix", &tcp_url]);
    assert!(started.elapsed() < Duration::from_secs(15), "the run took {:?}", started.elapsed());
    assert!(csv_rows(&String::from_utf8(output.stdout).unwrap()).len() > 1, "CSV output still written");
}

/// Returns true when a JSON value equals a CSV field: strings as text,
/// numbers by value, because serde_json prints 1.50 as 1.5.
fn json_matches_csv(value: &serde_json::Value, field: &str) -> bool {
    match value {
        serde_json::Value::String(text) => text == field,
        serde_json::Value::Number(number) if number.is_f64() => field.parse::<f64>().ok() == number.as_f64(),
        serde_json::Value::Number(number) => number.to_string() == field,
        _ => false,
    }
}

/// Captures whose CSV and JSON lines are compared: the nfdump set, plus
/// tunnels over IPv6 and GTP-U, ARP, and layer-2 flows with VLAN tags.
const JSON_CAPTURES: &[&str] = &[
    "http-dns-wikipedia-multiflow.pcap",
    "lt-sll-kakaotalk-tcp-udp.pcap",
    "lt-raw-ipv6-udp-dns.pcap",
    "vxlan-http.pcap",
    "ipip-4in6-tcp.pcap",
    "gtpu-extension-header.pcap",
    "arp-who-has.pcap",
    "gre-cmd-keepalive-cdp-vlan.pcap",
];
/// JSON keys with no CSV column: the times in other forms.
const JSON_ONLY_KEYS: &[&str] = &["stime_ns", "ltime_ns", "stime_rfc3339", "ltime_rfc3339"];

/// Returns the JSON value of a CSV column. A column `OBJECT_MEMBER` is a
/// member of the nested object `OBJECT`, for example `tunnel_src` is
/// `tunnel.src`, and the column `tunnel` is `tunnel.kind`.
fn json_value_of_column<'a>(object: &'a serde_json::Value, column: &str) -> Option<&'a serde_json::Value> {
    if column == "tunnel" {
        return object.get("tunnel")?.get("kind");
    }
    if let Some((outer, member)) = column.split_once('_') {
        if let Some(nested) = object.get(outer).filter(|value| value.is_object()) {
            return nested.get(member);
        }
    }
    object.get(column)
}

/// Returns the CSV column names of every JSON key, the members of nested
/// objects included.
fn json_key_columns(object: &serde_json::Value) -> Vec<String> {
    let mut columns = Vec::new();
    for (key, value) in object.as_object().expect("a JSON object") {
        match value.as_object() {
            Some(members) => {
                for member in members.keys() {
                    let is_tunnel_kind = key == "tunnel" && member == "kind";
                    columns.push(if is_tunnel_kind { key.clone() } else { format!("{key}_{member}") });
                }
            }
            None => columns.push(key.clone()),
        }
    }
    columns
}

#[test]
fn json_lines_carry_every_csv_field() {
    for capture in JSON_CAPTURES {
        let path = corpus_capture(capture);
        let csv = run_nauditd(&["-r", path.to_str().unwrap(), "--workers", "1", "--format", "csv", "-q"]).stdout;
        let json = run_nauditd(&["-r", path.to_str().unwrap(), "--workers", "1", "--format", "json", "-q"]).stdout;
        let rows = csv_rows(&String::from_utf8(csv).unwrap());
        let lines: Vec<serde_json::Value> = String::from_utf8(json)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{capture}: invalid JSON {line}: {error}")))
            .collect();
        assert_eq!(lines.len(), rows.len() - 1, "{capture}: one JSON line per CSV row");
        let header = &rows[0];
        for (row, object) in rows[1..].iter().zip(&lines) {
            for (name, field) in header.iter().zip(row) {
                match json_value_of_column(object, name) {
                    Some(value) => assert!(json_matches_csv(value, field), "{capture}: column {name}: JSON {value} vs CSV {field}"),
                    None => assert!(field.is_empty(), "{capture}: JSON lacks {name}={field}"),
                }
            }
            for column in json_key_columns(object) {
                let in_csv = header.contains(&column) || JSON_ONLY_KEYS.contains(&column.as_str());
                assert!(in_csv, "{capture}: JSON key {column} has no CSV column");
            }
            let stime_ns = object["stime_ns"].as_u64().unwrap();
            let rfc3339 = object["stime_rfc3339"].as_str().unwrap();
            assert_eq!(rfc3339.len(), "2011-03-18T19:06:07.096535000Z".len(), "{capture}: {rfc3339}");
            assert!(rfc3339.ends_with(&format!("{:09}Z", stime_ns % 1_000_000_000)), "{capture}: {rfc3339} vs {stime_ns}");
            assert!(object["ltime_rfc3339"].as_str().unwrap() >= rfc3339, "{capture}: ltime before stime");
        }
        let tunnelled = lines.iter().filter(|object| object.get("tunnel").is_some()).count();
        let tunnel_capture = ["vxlan", "ipip", "gtpu"].iter().any(|kind| capture.starts_with(kind));
        assert_eq!(tunnelled > 0, tunnel_capture, "{capture}: {tunnelled} records with a tunnel object");
    }
}

/// Returns the number after `name ` in a summary line.
fn summary_count(line: &str, name: &str) -> u64 {
    let start = line.find(&format!("{name} ")).unwrap_or_else(|| panic!("no {name} in {line}")) + name.len() + 1;
    number(line[start..].split(|c: char| !c.is_ascii_digit()).next().unwrap())
}

#[test]
fn summary_counts_ipfix_per_collector() {
    let (udp_url, udp_reader) = start_udp_collector();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_url = format!("tcp://{}", listener.local_addr().unwrap());
    let reader = std::thread::spawn(move || read_connection(&listener));
    let path = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let args = ["--ipfix-template-refresh-messages", "2", "--ipfix-mtu", "576", "--workers", "1"];
    let nauditd =
        run_nauditd(&[&["-r", path.to_str().unwrap(), "--format", "csv", "--ipfix", &udp_url, "--ipfix", &tcp_url][..], &args].concat());
    let records = (csv_rows(&String::from_utf8(nauditd.stdout).unwrap()).len() - 1) as u64;
    let tcp_messages = split_messages(&reader.join().unwrap()).len() as u64;
    let datagrams = udp_reader.join().unwrap().len() as u64;

    let summary = String::from_utf8(nauditd.stderr).unwrap();
    let line_of = |url: &str| {
        summary.lines().find(|line| line.contains(&format!("ipfix {url}:"))).unwrap_or_else(|| panic!("no summary line for {url}:\n{summary}")).to_string()
    };
    let udp = line_of(&udp_url);
    assert_eq!(summary_count(&udp, "messages"), datagrams, "{udp}");
    assert_eq!(summary_count(&udp, "data records"), records, "{udp}");
    let udp_templates = summary_count(&udp, "template records");
    assert!(udp_templates >= 24, "UDP sends the 12 templates at least twice: {udp}");
    assert_eq!(udp_templates % 12, 0, "UDP always sends all 12 templates: {udp}");
    assert_eq!(summary_count(&udp, "withdrawals"), 0, "{udp}");
    assert_eq!(summary_count(&udp, "send errors"), 0, "{udp}");

    let tcp = line_of(&tcp_url);
    assert_eq!(summary_count(&tcp, "messages"), tcp_messages, "{tcp}");
    assert_eq!(summary_count(&tcp, "data records"), records, "{tcp}");
    assert_eq!(summary_count(&tcp, "template records"), 12, "{tcp}");
    assert_eq!(summary_count(&tcp, "withdrawals"), 1, "{tcp}");
    assert_eq!(summary_count(&tcp, "connections"), 1, "{tcp}");
}

#[test]
fn udp_export_fits_mtu_and_refreshes_templates() {
    let (url, receiver) = start_udp_collector();
    let path = corpus_capture("lt-sll-kakaotalk-tcp-udp.pcap");
    let args = ["--ipfix-mtu", "576", "--ipfix-template-refresh-messages", "2", "--workers", "1"];
    let nauditd = run_nauditd(&[&["-r", path.to_str().unwrap(), "--format", "csv", "-q", "--ipfix", &url][..], &args].concat());
    let expected_records = csv_rows(&String::from_utf8(nauditd.stdout).unwrap()).len() - 1;
    let datagrams = receiver.join().unwrap();
    assert!(datagrams.len() > 2, "expected several datagrams, got {}", datagrams.len());
    let record_lengths = all_template_record_lengths(&datagrams);
    assert_eq!(record_lengths.keys().copied().collect::<Vec<_>>(), TEMPLATE_IDS.collect::<Vec<_>>(), "template ids");
    let mut data_records = 0u32;
    let mut template_sets = 0;
    for datagram in &datagrams {
        assert!(datagram.len() <= 576 - 28, "a {}-byte message exceeds the path MTU of 576", datagram.len());
        let sequence = u32::from_be_bytes(datagram[8..12].try_into().unwrap());
        assert_eq!(sequence, data_records, "sequence number counts earlier data records");
        for (id, body) in sets(datagram) {
            if id == 2 {
                template_sets += 1;
                assert_ne!(&body[..4], &[0, 2, 0, 0], "no template withdrawal over UDP");
            }
            if let Some(length) = record_lengths.get(&id) {
                data_records += (body.len() / length) as u32;
            }
        }
    }
    assert!(template_sets >= 2, "templates were sent {template_sets} times; the refresh resends them");
    assert_eq!(data_records as usize, expected_records, "every CSV record arrives once");
}

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Returns the flow rows `ra` prints for an Argus file, without the
/// header and the management records.
fn ra_flow_rows(path: &Path) -> Vec<String> {
    let columns = ["-s", "stime", "proto", "saddr", "sport", "daddr", "dport", "spkts", "dpkts", "sbytes", "dbytes"];
    let output = output_or_fail(
        Command::new("ra").args(["-r", path.to_str().unwrap(), "-n", "-u", "-c", ","]).args(columns).args(["-", "not", "man"]),
        "ra",
        "argus-client",
    );
    assert!(output.status.success(), "ra failed on {}: {}", path.display(), String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().skip(1).map(str::to_string).collect()
}

#[test]
fn one_run_feeds_file_stream_and_ipfix() {
    let scratch = ScratchDir::new("ipfix", "combined");
    let (url, udp_reader) = start_udp_collector();
    let port = free_tcp_port();
    let written = scratch.0.join("flows.argus");
    let path = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let args = ["-r", path.to_str().unwrap(), "-w", written.to_str().unwrap(), "-P", &port.to_string(), "--wait-clients", "1"];
    let child = spawn_or_fail(
        Command::new(env!("CARGO_BIN_EXE_nauditd")).args(args).args(["--ipfix", &url, "-q"]).stderr(Stdio::piped()),
        "nauditd",
        "nauditd",
    );
    let mut nauditd = ChildGuard(Some(child));

    // The stream client: the initial management record, START, then every
    // record until the sensor closes the stream.
    let deadline = Instant::now() + PROGRAM_TIMEOUT;
    let mut client = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(client) => break client,
            Err(error) => assert!(Instant::now() < deadline, "the record stream did not open: {error}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    client.set_read_timeout(Some(PROGRAM_TIMEOUT)).unwrap();
    let mut stream = vec![0; 128];
    client.read_exact(&mut stream).expect("read the initial management record");
    std::io::Write::write_all(&mut client, b"START: ").unwrap();
    client.read_to_end(&mut stream).expect("read the record stream");

    let status = nauditd.0.take().unwrap().wait().expect("wait for nauditd");
    assert!(status.success(), "nauditd failed");
    let received = scratch.0.join("stream.argus");
    std::fs::write(&received, &stream).unwrap();
    let file_rows = ra_flow_rows(&written);
    assert!(!file_rows.is_empty(), "ra reads no flow from the file");
    assert_eq!(ra_flow_rows(&received), file_rows, "the stream carries the file's records");

    let datagrams = udp_reader.join().unwrap();
    let record_lengths = all_template_record_lengths(&datagrams);
    let mut data_records = 0;
    for datagram in &datagrams {
        for (id, body) in sets(datagram) {
            if let Some(length) = record_lengths.get(&id) {
                data_records += body.len() / length;
            }
        }
    }
    assert_eq!(data_records, file_rows.len(), "IPFIX data records against the file's records");
}
