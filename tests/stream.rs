//! End-to-end tests of the Argus record stream (`-P`) with the real clients
//! of Debian's argus-client package: `ra` and `radium` (3.0.8.2).
//!
//! Every server and client binds or connects to 127.0.0.1 only. Every wait
//! has a deadline, and every process a test starts is killed when the test
//! ends, whether it passed or not.
//!
//! The clients run with `-X` (ignore `/etc/ra.conf`) and a `-F` file that
//! sets `RA_RELIABLE_CONNECT=no`: by default ra 3.0.8 reconnects every few
//! seconds after a stream ends instead of exiting.

use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

mod common;

use common::ScratchDir;

/// Maximum time any single wait in these tests may take.
const TIMEOUT: Duration = Duration::from_secs(60);
/// How often a wait checks its condition.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// The capture replayed through the stream.
const CAPTURE: &str = "http-dns-wikipedia-multiflow.pcap";
/// Flow records nauditd writes for [`CAPTURE`].
const CAPTURE_RECORDS: usize = 42;
/// Packets in [`CAPTURE`].
const CAPTURE_PACKETS: u64 = 136;
/// Columns printed by ra for the comparisons, comma-separated with numeric
/// addresses and Unix times, so that rows compare as plain strings.
const RA_COLUMNS: &[&str] = &[
    "-n", "-u", "-c", ",", "-s", "stime", "ltime", "proto", "saddr", "sport", "dir", "daddr", "dport", "spkts", "dpkts",
    "sbytes", "dbytes", "state",
];
/// Length of every management record (MAR).
const MAR_BYTES: usize = 128;
/// Filter expressions that each select a proper, non-empty subset of the
/// capture's records, covering every operator and primitive kind.
const FILTERS: &[&str] = &[
    "tcp",
    "udp and port 53",
    "not tcp and not udp",
    "host 141.142.220.118 and dst port 80",
    "src net 141.142.220.0/24 or arp",
    "ipv6 or icmp",
    "udp or tcp and port 53",
    "port 53 or 80",
    "dst port 80 || !ip",
    "src and dst net 141.142.220.0/24",
    "rarp",
    "net 208.80.152.0 mask 255.255.255.0",
    "port 53-80",
    "port domain",
    "ip proto 17 && !(port 5353)",
    "dst 224.0.0.251",
    "src 141.142.220.118 or 141.142.220.1",
    "ipv4 and not udp",
];

// ---------------------------------------------------------------- helpers

fn capture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/pcap").join(CAPTURE)
}

/// Finds a program of the argus-client package, or fails the test with the
/// package to install.
fn argus_client_tool(name: &str) -> PathBuf {
    let path_dirs = std::env::var_os("PATH").map(|path| std::env::split_paths(&path).collect::<Vec<_>>()).unwrap_or_default();
    let sbin_dirs = [PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin"), PathBuf::from("/sbin")];
    path_dirs
        .iter()
        .chain(sbin_dirs.iter())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("{name} not found in PATH or /usr/sbin: install the Debian package argus-client (apt-get install argus-client)")
        })
}

/// Creates an empty scratch folder for one test, removed when it ends.
fn scratch_dir(test: &str) -> ScratchDir {
    ScratchDir::new("stream", test)
}

/// Writes the ra configuration the clients read with `-F`.
fn ra_config(dir: &Path) -> PathBuf {
    let path = dir.join("ra.conf");
    fs::write(&path, "RA_RELIABLE_CONNECT=no\n").expect("write ra.conf");
    path
}

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A child process that is killed when the guard is dropped.
struct ChildGuard {
    name: String,
    child: Child,
}

impl ChildGuard {
    fn spawn(name: &str, command: &mut Command) -> ChildGuard {
        let child = command.spawn().unwrap_or_else(|error| panic!("start {name}: {error}"));
        ChildGuard { name: name.to_string(), child }
    }

    /// Waits for the process to exit, or kills it and fails the test after
    /// `timeout`.
    fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll child") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("{} did not exit within {timeout:?}", self.name);
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// Sends SIGTERM.
    fn terminate(&self) {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().expect("run kill");
        assert!(status.success(), "kill -TERM {} failed", self.child.id());
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines a background thread reads from a child's pipe.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn collect(pipe: impl Read + Send + 'static) -> (Lines, JoinHandle<()>) {
        let lines = Lines::default();
        let sink = lines.clone();
        let reader = thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                sink.0.lock().unwrap().push(line);
            }
        });
        (lines, reader)
    }

    fn snapshot(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    fn text(&self) -> String {
        self.snapshot().join("\n")
    }

    /// Waits until `condition` is true for the lines so far.
    fn wait_until(&self, description: &str, condition: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + TIMEOUT;
        while !condition(&self.snapshot()) {
            assert!(
                Instant::now() < deadline,
                "timed out after {TIMEOUT:?} waiting for {description}; lines so far:\n{}",
                self.text()
            );
            thread::sleep(POLL_INTERVAL);
        }
    }
}

/// A running nauditd with its standard output and error collected.
struct Sensor {
    process: ChildGuard,
    stdout: Lines,
    stderr: Lines,
    readers: Vec<JoinHandle<()>>,
    port: u16,
}

impl Sensor {
    /// Starts nauditd serving the stream on `port` with `args`, and waits
    /// until it listens.
    fn start(port: u16, args: &[&str]) -> Sensor {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nauditd"));
        command
            .args(["-P", &port.to_string()])
            .args(args)
            .env("NAUDITD_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut process = ChildGuard::spawn("nauditd", &mut command);
        let (stdout, stdout_reader) = Lines::collect(process.child.stdout.take().expect("stdout pipe"));
        let (stderr, stderr_reader) = Lines::collect(process.child.stderr.take().expect("stderr pipe"));
        let sensor = Sensor { process, stdout, stderr, readers: vec![stdout_reader, stderr_reader], port };
        sensor.wait_for_log("record stream listening");
        sensor
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn wait_for_log(&self, needle: &str) {
        self.stderr.wait_until(&format!("nauditd to log {needle:?}"), |lines| lines.iter().any(|line| line.contains(needle)));
    }

    /// Waits for nauditd to exit and returns its status and standard error.
    fn finish(mut self) -> (ExitStatus, String, String) {
        let status = self.process.wait(TIMEOUT);
        for reader in self.readers.drain(..) {
            reader.join().expect("pipe reader");
        }
        (status, self.stdout.text(), self.stderr.text())
    }
}

/// Runs a command to its end with a deadline and returns its status,
/// standard output and standard error.
fn run_with_timeout(name: &str, command: &mut Command) -> (ExitStatus, String, String) {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut process = ChildGuard::spawn(name, command);
    let (stdout, stdout_reader) = Lines::collect(process.child.stdout.take().expect("stdout pipe"));
    let (stderr, stderr_reader) = Lines::collect(process.child.stderr.take().expect("stderr pipe"));
    let status = process.wait(TIMEOUT);
    stdout_reader.join().expect("stdout reader");
    stderr_reader.join().expect("stderr reader");
    (status, stdout.text(), stderr.text())
}

/// Builds an ra command that reads the stream at `address`.
fn ra_stream_command(config: &Path, address: &str, filter: Option<&str>) -> Command {
    let mut command = Command::new(argus_client_tool("ra"));
    command.arg("-X").arg("-F").arg(config).args(["-S", address]).args(RA_COLUMNS);
    if let Some(filter) = filter {
        command.arg("-").args(filter.split_whitespace());
    }
    command
}

/// Returns ra's data rows, sorted, without the header.
fn data_rows(ra_output: &str) -> Vec<String> {
    let mut rows: Vec<String> =
        ra_output.lines().filter(|line| !line.starts_with("StartTime") && !line.trim().is_empty()).map(str::to_string).collect();
    rows.sort();
    rows
}

/// Reads an Argus file with ra, with an optional filter, and returns the
/// sorted rows.
fn ra_file_rows(config: &Path, file: &Path, filter: Option<&str>) -> Vec<String> {
    let mut command = Command::new(argus_client_tool("ra"));
    command.arg("-X").arg("-F").arg(config).arg("-r").arg(file).args(RA_COLUMNS);
    if let Some(filter) = filter {
        command.arg("-").args(filter.split_whitespace());
    }
    let (status, stdout, stderr) = run_with_timeout("ra -r", &mut command);
    assert!(status.success(), "ra -r {} failed: {stderr}", file.display());
    data_rows(&stdout)
}

/// Writes the capture's records to an Argus file with `nauditd -w` and
/// returns the file's path.
fn reference_file(dir: &Path) -> PathBuf {
    let path = dir.join("reference.argus");
    let mut command = Command::new(env!("CARGO_BIN_EXE_nauditd"));
    command.arg("-r").arg(capture_path()).arg("-w").arg(&path).arg("-q");
    let (status, _, stderr) = run_with_timeout("nauditd -w", &mut command);
    assert!(status.success(), "nauditd -w failed: {stderr}");
    path
}

/// A minimal stream client that speaks the protocol by hand.
struct RawClient {
    connection: TcpStream,
}

impl RawClient {
    fn connect(address: &str) -> RawClient {
        let connection = TcpStream::connect(address).unwrap_or_else(|error| panic!("connect to {address}: {error}"));
        connection.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
        connection.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
        RawClient { connection }
    }

    fn read_exact(&mut self, length: usize) -> Vec<u8> {
        let mut bytes = vec![0; length];
        self.connection.read_exact(&mut bytes).unwrap_or_else(|error| panic!("read {length} bytes: {error}"));
        bytes
    }

    fn send(&mut self, message: &str) {
        self.connection.write_all(message.as_bytes()).unwrap_or_else(|error| panic!("send {message:?}: {error}"));
    }

    /// Reads until the server closes the connection.
    fn read_to_end(&mut self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.connection.read_to_end(&mut bytes).expect("read the stream to its end");
        bytes
    }
}

/// Checks the fixed fields of an initial MAR and returns its `now` time in
/// microseconds.
fn check_initial_mar(mar: &[u8]) -> u64 {
    assert_eq!(mar.len(), MAR_BYTES);
    assert_eq!(&mar[0..4], [0x83, 0x10, 0x00, 0x20], "MAR version 3, cause START, 32 words");
    assert_eq!(&mar[8..12], [0xe5, 0x71, 0x2d, 0xcb], "Argus 3 cookie");
    assert_eq!(mar[40], 3, "major version");
    let seconds = u64::from(u32::from_be_bytes(mar[32..36].try_into().unwrap()));
    let microseconds = u64::from(u32::from_be_bytes(mar[36..40].try_into().unwrap()));
    seconds * 1_000_000 + microseconds
}

/// Returns the record types and causes (the first two header bytes) of
/// a stream's records after the initial MAR.
fn record_headers(stream: &[u8]) -> Vec<[u8; 2]> {
    let mut headers = Vec::new();
    let mut offset = 0;
    while offset + 4 <= stream.len() {
        let words = usize::from(u16::from_be_bytes([stream[offset + 2], stream[offset + 3]]));
        assert!(words > 0, "record of length 0 at offset {offset}");
        headers.push([stream[offset], stream[offset + 1]]);
        offset += words * 4;
    }
    assert_eq!(offset, stream.len(), "records fill the stream exactly");
    headers
}

/// True when /proc/net/tcp lists a socket on 127.0.0.1 with local port
/// `port` in TCP state `state` (`0A` listening, `01` established).
fn local_socket_in_state(port: u16, state: &str) -> bool {
    let table = fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
    let local = format!("0100007F:{port:04X}");
    table.lines().skip(1).any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.len() > 3 && fields[1] == local && fields[3] == state
    })
}

fn wait_for_socket(port: u16, state: &str, description: &str) {
    let deadline = Instant::now() + TIMEOUT;
    while !local_socket_in_state(port, state) {
        assert!(Instant::now() < deadline, "timed out after {TIMEOUT:?} waiting for {description}");
        thread::sleep(POLL_INTERVAL);
    }
}

/// Writes a pcap of `flows` UDP packets, each its own flow.
fn write_many_flows_capture(path: &Path, flows: u32) {
    const FRAME_BYTES: u32 = 60;
    let file = fs::File::create(path).unwrap_or_else(|error| panic!("create {}: {error}", path.display()));
    let mut out = BufWriter::new(file);
    // pcap header: magic, version 2.4, zone, accuracy, snap length, Ethernet.
    let mut header = Vec::new();
    header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    for value in [0u32, 0, 65535, 1] {
        header.extend_from_slice(&value.to_le_bytes());
    }
    out.write_all(&header).unwrap();

    for index in 0..flows {
        let mut record = Vec::with_capacity(16 + FRAME_BYTES as usize);
        for value in [1_600_000_000 + index / 1_000_000, index % 1_000_000, FRAME_BYTES, FRAME_BYTES] {
            record.extend_from_slice(&value.to_le_bytes());
        }
        // Ethernet: destination, source, IPv4.
        record.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00]);
        // IPv4: 46 bytes, TTL 64, UDP, checksum left 0, source 10.x.y.z.
        let source = (0x0a00_0000 | index).to_be_bytes();
        record.extend_from_slice(&[0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0]);
        record.extend_from_slice(&source);
        record.extend_from_slice(&[192, 0, 2, 1]);
        // UDP: port 40000 to port 9 (discard), 26 bytes, then 18 zero bytes.
        record.extend_from_slice(&[0x9c, 0x40, 0, 9, 0, 26, 0, 0]);
        record.extend_from_slice(&[0; 18]);
        out.write_all(&record).unwrap();
    }
    out.flush().unwrap();
}

// ------------------------------------------------------------------ tests

#[test]
fn ra_receives_every_record() {
    let dir = scratch_dir("every-record");
    let config = ra_config(&dir);
    let reference = ra_file_rows(&config, &reference_file(&dir), None);
    assert_eq!(reference.len(), CAPTURE_RECORDS, "reference rows:\n{}", reference.join("\n"));

    let port = free_port();
    let written = dir.join("written.argus");
    let capture = capture_path();
    let sensor = Sensor::start(
        port,
        &["-r", capture.to_str().unwrap(), "-w", written.to_str().unwrap(), "--wait-clients", "1"],
    );
    let (status, stdout, stderr) = run_with_timeout("ra -S", &mut ra_stream_command(&config, &sensor.address(), None));
    assert!(status.success(), "ra -S failed: {stderr}");
    assert_eq!(data_rows(&stdout), reference, "stream rows differ from the file's");

    let (status, sensor_stdout, sensor_stderr) = sensor.finish();
    assert!(status.success(), "nauditd failed: {sensor_stderr}");
    assert!(sensor_stdout.is_empty(), "records written to standard output: {sensor_stdout}");
    assert_eq!(ra_file_rows(&config, &written, None), reference, "-w file written alongside the stream");
}

#[test]
fn ra_filters_select_matching_subset() {
    let dir = scratch_dir("filters");
    let config = ra_config(&dir);
    let reference = reference_file(&dir);
    let filters = &FILTERS[..6];

    // One sensor serves every filter at once: it waits for all the clients.
    let port = free_port();
    let capture = capture_path();
    let client_count = filters.len().to_string();
    let sensor = Sensor::start(port, &["-r", capture.to_str().unwrap(), "--wait-clients", &client_count]);
    let clients: Vec<_> = filters
        .iter()
        .map(|filter| {
            let mut command = ra_stream_command(&config, &sensor.address(), Some(filter));
            thread::spawn(move || run_with_timeout("ra -S with a filter", &mut command))
        })
        .collect();

    for (filter, client) in filters.iter().zip(clients) {
        let (status, stdout, stderr) = client.join().expect("ra thread");
        assert!(status.success(), "ra -S - {filter} failed: {stderr}");
        let expected = ra_file_rows(&config, &reference, Some(filter));
        assert!(!expected.is_empty(), "filter {filter:?} selects nothing in the capture");
        assert!(expected.len() < CAPTURE_RECORDS, "filter {filter:?} selects everything");
        assert_eq!(data_rows(&stdout), expected, "rows for filter {filter:?}");
    }
    let (status, _, stderr) = sensor.finish();
    assert!(status.success(), "nauditd failed: {stderr}");
}

/// Reads one filtered stream by hand and returns the bytes received,
/// initial MAR included: an Argus file of what the server sent.
fn read_filtered_stream(address: &str, filter: &str) -> Vec<u8> {
    let mut client = RawClient::connect(address);
    let initial = client.read_exact(MAR_BYTES);
    check_initial_mar(&initial);
    client.send(&format!("FILTER: man or ({filter})"));
    assert_eq!(client.read_exact(2), b"OK", "reply to filter {filter:?}");
    client.send("START: ");
    let stream = client.read_to_end();
    let headers = record_headers(&stream);
    assert_eq!(headers.last(), Some(&[0x83, 0x30]), "the stream for {filter:?} ends with the closing MAR");
    [initial, stream].concat()
}

#[test]
fn server_sends_exactly_matching_records() {
    // ra filters a stream again on its side, so only a client that does not
    // filter shows what the server selected.
    let dir = scratch_dir("server-filter");
    let config = ra_config(&dir);
    let reference = reference_file(&dir);
    let port = free_port();
    let capture = capture_path();
    let client_count = FILTERS.len().to_string();
    let sensor = Sensor::start(port, &["-r", capture.to_str().unwrap(), "--wait-clients", &client_count]);
    let clients: Vec<_> = FILTERS
        .iter()
        .map(|filter| {
            let address = sensor.address();
            thread::spawn(move || read_filtered_stream(&address, filter))
        })
        .collect();

    for (index, (filter, client)) in FILTERS.iter().zip(clients).enumerate() {
        let received = dir.join(format!("received-{index}.argus"));
        fs::write(&received, client.join().expect("client thread")).expect("write received stream");
        let expected = ra_file_rows(&config, &reference, Some(filter));
        assert!(!expected.is_empty(), "filter {filter:?} selects nothing in the capture");
        assert!(expected.len() < CAPTURE_RECORDS, "filter {filter:?} selects everything");
        assert_eq!(ra_file_rows(&config, &received, None), expected, "records the server sent for {filter:?}");
    }
    let (status, _, stderr) = sensor.finish();
    assert!(status.success(), "nauditd failed: {stderr}");
}

#[test]
fn radium_relays_records_to_ra() {
    let dir = scratch_dir("radium");
    let config = ra_config(&dir);
    let expected = ra_file_rows(&config, &reference_file(&dir), None);
    let sensor_port = free_port();
    let radium_port = free_port();
    let sensor_address = format!("127.0.0.1:{sensor_port}");
    let radium_address = format!("127.0.0.1:{radium_port}");

    // radium first: it retries the sensor every 5 s, which leaves ra time to
    // connect to radium before any record flows.
    let mut radium_command = Command::new(argus_client_tool("radium"));
    radium_command
        .arg("-X")
        .arg("-F")
        .arg(&config)
        .args(["-S", &sensor_address, "-P", &radium_port.to_string(), "-B", "127.0.0.1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let radium = ChildGuard::spawn("radium", &mut radium_command);
    wait_for_socket(radium_port, "0A", "radium to listen");

    let mut ra_command = ra_stream_command(&config, &radium_address, None);
    ra_command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut ra = ChildGuard::spawn("ra -S radium", &mut ra_command);
    let (ra_stdout, ra_stdout_reader) = Lines::collect(ra.child.stdout.take().expect("stdout pipe"));
    wait_for_socket(radium_port, "01", "ra to connect to radium");

    let capture = capture_path();
    let sensor = Sensor::start(sensor_port, &["-r", capture.to_str().unwrap(), "--wait-clients", "1"]);
    ra_stdout.wait_until("ra to print every record relayed by radium", |lines| data_rows(&lines.join("\n")).len() >= expected.len());
    let (status, _, stderr) = sensor.finish();
    assert!(status.success(), "nauditd failed: {stderr}");

    // radium keeps retrying its source; stopping it ends ra's stream.
    drop(radium);
    ra.wait(TIMEOUT);
    ra_stdout_reader.join().expect("ra stdout reader");
    assert_eq!(data_rows(&ra_stdout.text()), expected, "rows relayed by radium");
}

#[test]
fn stalled_client_is_disconnected_and_counted() {
    let dir = scratch_dir("stalled-client");
    let capture = dir.join("many-flows.pcap");
    // About 50 MB of records: more than the kernel's socket buffers hold for
    // a client that reads nothing.
    write_many_flows_capture(&capture, 300_000);
    let port = free_port();
    let started = Instant::now();
    let sensor = Sensor::start(port, &["-r", capture.to_str().unwrap(), "--wait-clients", "1", "--stream-queue", "64"]);

    let mut client = RawClient::connect(&sensor.address());
    check_initial_mar(&client.read_exact(MAR_BYTES));
    client.send("START: ");
    // The client now reads nothing while the sensor runs.
    let (status, _, stderr) = sensor.finish();
    assert!(status.success(), "nauditd failed: {stderr}");
    assert!(started.elapsed() < TIMEOUT, "the run took {:?}", started.elapsed());
    assert!(stderr.contains("fell behind and disconnected 1"), "summary:\n{stderr}");
    let local = client.connection.local_addr().expect("client address");
    assert!(
        stderr.lines().any(|line| line.contains("fell behind") && line.contains(&local.to_string())),
        "no log line names the client {local}:\n{stderr}"
    );
}

#[test]
fn reconnecting_client_gets_fresh_initial_mar() {
    let dir = scratch_dir("reconnect");
    let config = ra_config(&dir);
    let port = free_port();
    let capture = capture_path();
    let sensor = Sensor::start(port, &["-r", capture.to_str().unwrap(), "--wait-clients", "1"]);

    let first = check_initial_mar(&RawClient::connect(&sensor.address()).read_exact(MAR_BYTES));
    thread::sleep(Duration::from_millis(10));
    let second = check_initial_mar(&RawClient::connect(&sensor.address()).read_exact(MAR_BYTES));
    assert!(second > first, "second initial MAR generated at {second} us, the first at {first} us");

    // ra's poll mode connects, prints the initial MAR and disconnects.
    for attempt in 1..=2 {
        let mut command = Command::new(argus_client_tool("ra"));
        command.arg("-X").arg("-F").arg(&config).args(["-M", "poll", "-M", "man", "-S", &sensor.address()]);
        command.args(["-n", "-c", ",", "-s", "proto", "state"]);
        let (status, stdout, stderr) = run_with_timeout("ra -M poll", &mut command);
        assert!(status.success(), "ra -M poll, attempt {attempt}, failed: {stderr}");
        assert!(stdout.lines().any(|line| line == "man,STA"), "attempt {attempt} printed:\n{stdout}");
    }

    let (status, stdout, stderr) = run_with_timeout("ra -S", &mut ra_stream_command(&config, &sensor.address(), None));
    assert!(status.success(), "ra -S failed: {stderr}");
    assert_eq!(data_rows(&stdout).len(), CAPTURE_RECORDS);
    let (status, _, stderr) = sensor.finish();
    assert!(status.success(), "nauditd failed: {stderr}");
    assert!(stderr.contains("stream clients     5 (started 1"), "summary:\n{stderr}");
}

#[test]
fn sigterm_ends_stream_with_closing_mar() {
    let dir = scratch_dir("sigterm");
    let config = ra_config(&dir);
    let port = free_port();
    let capture = capture_path();
    // A status MAR every second; after the input, the stream stays open
    // until the signal.
    let sensor =
        Sensor::start(port, &["-r", capture.to_str().unwrap(), "--wait-clients", "1", "--linger", "300", "-M", "1"]);

    let mut command = Command::new(argus_client_tool("ra"));
    command.arg("-X").arg("-F").arg(&config).args(["-M", "man", "-S", &sensor.address()]);
    command.args(["-n", "-c", ",", "-s", "proto", "spkts", "dpkts", "state"]);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut ra = ChildGuard::spawn("ra -S", &mut command);
    let (ra_stdout, ra_stdout_reader) = Lines::collect(ra.child.stdout.take().expect("stdout pipe"));

    let flow_rows = |lines: &[String]| lines.iter().filter(|line| !line.starts_with("man,") && !line.starts_with("Proto")).count();
    ra_stdout.wait_until("every record and a status MAR", |lines| {
        flow_rows(lines) >= CAPTURE_RECORDS && lines.iter().any(|line| line.starts_with("man,") && line.ends_with(",CON"))
    });
    sensor.process.terminate();

    let ra_status = ra.wait(TIMEOUT);
    ra_stdout_reader.join().expect("ra stdout reader");
    let (status, _, stderr) = sensor.finish();
    assert!(status.success(), "nauditd failed after SIGTERM: {stderr}");
    assert!(stderr.contains("capture ended: end of input"), "log:\n{stderr}");
    assert!(ra_status.success(), "ra exited with {ra_status}");

    let lines = ra_stdout.snapshot();
    assert_eq!(flow_rows(&lines), CAPTURE_RECORDS);
    let last = lines.last().expect("ra printed lines");
    assert!(last.starts_with("man,"), "last line {last:?} is not a MAR, all:\n{}", lines.join("\n"));
    assert!(last.ends_with(",STP"), "last MAR {last:?} is not the closing MAR");

    // The MARs' packet and record counts are deltas that add up to the
    // totals of the run: SrcPkts is the packets and DstPkts the records.
    let management: Vec<Vec<&str>> = lines.iter().filter(|line| line.starts_with("man,")).map(|line| line.split(',').collect()).collect();
    let packets: u64 = management.iter().map(|fields| fields[1].trim().parse::<u64>().unwrap()).sum();
    let records: u64 = management.iter().map(|fields| fields[2].trim().parse::<u64>().unwrap()).sum();
    assert_eq!(packets, CAPTURE_PACKETS, "packets reported in MARs:\n{}", lines.join("\n"));
    assert_eq!(records, CAPTURE_RECORDS as u64, "records reported in MARs:\n{}", lines.join("\n"));
}

#[test]
fn invalid_filter_gets_syntax_error_reply() {
    let dir = scratch_dir("invalid-filter");
    let config = ra_config(&dir);
    let port = free_port();
    let capture = capture_path();
    let sensor = Sensor::start(port, &["-r", capture.to_str().unwrap(), "--wait-clients", "1"]);

    let mut client = RawClient::connect(&sensor.address());
    check_initial_mar(&client.read_exact(MAR_BYTES));
    client.send("FILTER: man or (tcp and (");
    assert_eq!(client.read_exact(2), b"SY");
    assert!(client.read_to_end().is_empty(), "the server closes after the syntax error");

    // ra accepts `src pkts gt 5`, which this sensor does not support.
    let (status, stdout, stderr) = run_with_timeout("ra -S", &mut ra_stream_command(&config, &sensor.address(), Some("src pkts gt 5")));
    assert!(!status.success(), "ra succeeded with a rejected filter: {stdout}");
    assert!(stderr.contains("remote filter syntax error"), "ra stderr: {stderr}");

    // The sensor still serves a client with a valid filter.
    let (status, stdout, stderr) = run_with_timeout("ra -S", &mut ra_stream_command(&config, &sensor.address(), Some("tcp")));
    assert!(status.success(), "ra -S - tcp failed: {stderr}");
    assert!(!data_rows(&stdout).is_empty(), "no TCP rows");
    let (status, _, stderr) = sensor.finish();
    assert!(status.success(), "nauditd failed: {stderr}");
    assert!(stderr.contains("filters rejected 2"), "summary:\n{stderr}");
}

#[test]
fn stream_options_require_port() {
    let capture = capture_path();
    for option in [["--wait-clients", "1"], ["--linger", "1"], ["--bind", "127.0.0.1"]] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nauditd"));
        command.arg("-r").arg(&capture).args(option);
        let (status, _, stderr) = run_with_timeout("nauditd", &mut command);
        assert!(!status.success(), "{option:?} without -P was accepted");
        assert!(stderr.contains("--port"), "{option:?}: {stderr}");
    }
}

#[test]
fn port_in_use_is_reported() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let port = listener.local_addr().map(|address: SocketAddr| address.port()).expect("port");
    let mut command = Command::new(env!("CARGO_BIN_EXE_nauditd"));
    command.arg("-r").arg(capture_path()).args(["-P", &port.to_string()]);
    let (status, _, stderr) = run_with_timeout("nauditd", &mut command);
    assert!(!status.success(), "nauditd served on a port in use");
    assert!(stderr.contains(&format!("cannot serve the record stream on 127.0.0.1:{port}")), "stderr: {stderr}");
}
