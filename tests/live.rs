//! Live capture end to end: a capture replayed with tcpreplay into a veth
//! pair inside a network namespace the test creates gives the same flows
//! (packets and bytes per flow) as reading the file, with the libpcap
//! driver and with the AF_PACKET driver and two workers, SIGTERM during
//! capture loses no record, and on a quiet link records reach the `-w`
//! file, `--rotate-seconds` rotates it and SIGHUP reopens it.
//!
//! The veths have no addresses and IPv6 is off on both ends, so the kernel
//! sends nothing of its own on them, and no traffic leaves the pair.
//! These tests need root (CI runs as root), `ip` and `tcpreplay`.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{corpus_capture, nauditd_csv, ScratchDir};

/// How long to wait for nauditd to open its capture.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a test waits after the replay before it stops nauditd.
const SETTLE_TIME: Duration = Duration::from_millis(700);

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A network namespace with one end of a veth pair; the other end stays in
/// the test's namespace. Removed on drop.
struct VethPair {
    namespace: String,
    host_end: String,
    namespace_end: String,
}

impl VethPair {
    fn create(tag: &str) -> VethPair {
        let uid = unsafe_free_uid();
        assert_eq!(uid, 0, "live capture tests need root (or CAP_NET_ADMIN and CAP_NET_RAW); CI runs them as root");
        let id = std::process::id() % 100_000;
        let pair = VethPair {
            namespace: format!("nauditd-{tag}-{id}"),
            host_end: format!("nd{tag}{id}h"),
            namespace_end: format!("nd{tag}{id}n"),
        };
        run("ip", &["netns", "add", &pair.namespace]);
        run("ip", &["link", "add", &pair.host_end, "type", "veth", "peer", "name", &pair.namespace_end]);
        run("ip", &["link", "set", &pair.namespace_end, "netns", &pair.namespace]);
        run("sysctl", &["-q", "-w", &format!("net.ipv6.conf.{}.disable_ipv6=1", pair.host_end)]);
        run("ip", &["link", "set", &pair.host_end, "up"]);
        let in_namespace = ["netns", "exec", pair.namespace.as_str()];
        let disable = format!("net.ipv6.conf.{}.disable_ipv6=1", pair.namespace_end);
        run("ip", &[&in_namespace[..], &["sysctl", "-q", "-w", disable.as_str()]].concat());
        run("ip", &[&in_namespace[..], &["ip", "link", "set", pair.namespace_end.as_str(), "up"]].concat());
        pair
    }

    /// Waits until both ends report carrier, so that no replayed packet is
    /// dropped by a link still coming up.
    fn wait_until_up(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let host_up = std::fs::read_to_string(format!("/sys/class/net/{}/operstate", self.host_end))
                .is_ok_and(|state| state.trim() == "up");
            let peer = Command::new("ip")
                .args(["netns", "exec", &self.namespace, "cat"])
                .arg(format!("/sys/class/net/{}/operstate", self.namespace_end))
                .output()
                .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "up")
                .unwrap_or(false);
            if host_up && peer {
                return;
            }
            assert!(Instant::now() < deadline, "the veth pair did not come up within {START_TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn replay(&self, capture: &std::path::Path) {
        let interface = format!("--intf1={}", self.namespace_end);
        run(
            "ip",
            &["netns", "exec", &self.namespace, "tcpreplay", "-q", "--pps=2000", &interface, capture.to_str().unwrap()],
        );
    }
}

impl Drop for VethPair {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.host_end]).output();
        let _ = Command::new("ip").args(["netns", "del", &self.namespace]).output();
    }
}

/// The effective user id, read from /proc so the test needs no libc call.
fn unsafe_free_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| line.strip_prefix("Uid:").and_then(|ids| ids.split_whitespace().nth(1)?.parse().ok()))
        })
        .unwrap_or(u32::MAX)
}

/// Packets and bytes per flow, whichever side is the source, summed over
/// the flow's records.
fn flow_totals(csv: &str) -> BTreeMap<String, (u64, u64)> {
    let mut totals = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let ends = [format!("{}/{}", fields[3], fields[4]), format!("{}/{}", fields[6], fields[7])];
        let (low, high) = if ends[0] <= ends[1] { (&ends[0], &ends[1]) } else { (&ends[1], &ends[0]) };
        let key = format!("{} {low} {high}", fields[2]);
        let number = |index: usize| fields[index].parse::<u64>().expect("count");
        let entry = totals.entry(key).or_insert((0, 0));
        entry.0 += number(8) + number(9);
        entry.1 += number(10) + number(11);
    }
    totals
}

/// A nauditd capturing on a pair's host end, and the thread that collects
/// its log.
struct RunningCapture {
    child: std::process::Child,
    log_reader: std::thread::JoinHandle<String>,
    started_at: Instant,
}

/// Starts nauditd on the pair's host end with `args`, after `-i` and
/// before any filter, and returns once it captures and the pair is up.
fn start_capture(pair: &VethPair, args: &[&str]) -> RunningCapture {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .args(["-i", &pair.host_end])
        .args(args)
        .env("NAUDITD_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nauditd");

    let stderr = child.stderr.take().expect("stderr");
    let (started, started_signal) = mpsc::channel();
    let log_reader = std::thread::spawn(move || {
        let mut log = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("capture started") {
                let _ = started.send(());
            }
            log.push_str(&line);
            log.push('\n');
        }
        log
    });

    let started_at = Instant::now();
    if started_signal.recv_timeout(START_TIMEOUT).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("nauditd did not start capturing within {START_TIMEOUT:?}: {}", log_reader.join().unwrap_or_default());
    }
    pair.wait_until_up();
    // The log line comes once the driver has opened its sockets; give the
    // workers a moment to enter their loops as well.
    std::thread::sleep(Duration::from_millis(500));
    RunningCapture { child, log_reader, started_at }
}

/// Stops nauditd with SIGTERM, checks that it ended cleanly, and returns
/// its log.
fn stop_capture(mut running: RunningCapture) -> String {
    run("kill", &["-TERM", &running.child.id().to_string()]);
    let status = running.child.wait().expect("wait for nauditd");
    let log = running.log_reader.join().expect("log reader");
    assert!(status.success(), "nauditd exit {status:?} after SIGTERM:\n{log}");
    assert!(log.contains("capture ended: stop signal"), "{log}");
    assert!(running.started_at.elapsed() < Duration::from_secs(120), "bounded run");
    log
}

/// Captures on the pair's host end with `args` while the capture is
/// replayed, stops nauditd with SIGTERM and returns its CSV.
fn capture_replay(pair: &VethPair, capture: &std::path::Path, args: &[&str]) -> String {
    let mut running = start_capture(pair, &[&["--format", "csv"], args].concat());
    let stdout = running.child.stdout.take().expect("stdout");
    let output_reader = std::thread::spawn(move || std::io::read_to_string(stdout).expect("read CSV"));
    pair.replay(capture);
    std::thread::sleep(SETTLE_TIME);
    stop_capture(running);
    output_reader.join().expect("output reader")
}

fn assert_same_flows(live: &str, capture: &std::path::Path) {
    let expected = flow_totals(&nauditd_csv(capture, &[]));
    let captured = flow_totals(live);
    assert_eq!(captured, expected, "flows captured live differ from the file's");
}

#[test]
fn libpcap_driver_captures_like_file() {
    let pair = VethPair::create("pc");
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let live = capture_replay(&pair, &capture, &["--driver", "pcap", "--workers", "1"]);
    assert_same_flows(&live, &capture);
}

#[test]
fn afpacket_two_workers_capture_like_file() {
    let pair = VethPair::create("af");
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let live = capture_replay(&pair, &capture, &["--driver", "afpacket", "--workers", "2"]);
    assert_same_flows(&live, &capture);
}

#[test]
fn live_filter_keeps_matching_flows() {
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let expected: BTreeMap<String, (u64, u64)> = flow_totals(&nauditd_csv(&capture, &["udp", "port", "53"]));
    assert!(!expected.is_empty());
    for driver in ["pcap", "afpacket"] {
        let pair = VethPair::create(if driver == "pcap" { "fp" } else { "fa" });
        let live = capture_replay(&pair, &capture, &["--driver", driver, "--workers", "2", "udp", "port", "53"]);
        assert_eq!(flow_totals(&live), expected, "driver {driver}");
    }
}

/// How long the quiet-link test waits for the records to reach the file.
const FLUSH_WAIT: Duration = Duration::from_secs(20);

#[test]
fn quiet_link_flushes_records_to_file() {
    let capture = corpus_capture("http-dns-wikipedia-multiflow.pcap");
    let expected = flow_totals(&nauditd_csv(&capture, &[]));
    for workers in ["1", "2"] {
        let pair = VethPair::create(&format!("q{workers}"));
        let scratch = ScratchDir::new("live", &format!("quiet-{workers}"));
        let records_path = scratch.0.join("records.csv");
        // Short timeouts end every flow soon after the replay, and then the
        // link stays quiet: no further record comes to push them out.
        let timeouts = ["--tcp-timeout", "1", "--ip-timeout", "1", "--icmp-timeout", "1", "--other-timeout", "1"];
        let args = [&["--workers", workers, "--format", "csv", "-w", records_path.to_str().unwrap()], &timeouts[..]].concat();
        let mut running = start_capture(&pair, &args);
        pair.replay(&capture);

        let deadline = Instant::now() + FLUSH_WAIT;
        let mut written = String::new();
        while Instant::now() < deadline {
            written = std::fs::read_to_string(&records_path).unwrap_or_default();
            if flow_totals(&written) == expected {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(running.child.try_wait().expect("poll nauditd").is_none(), "nauditd must still be capturing");
        let log = stop_capture(running);
        assert_eq!(flow_totals(&written), expected, "records in the file before the stop, {workers} workers:\n{log}");
    }
}

/// How long the quiet-link rotation test waits for a file to appear.
const ROTATION_WAIT: Duration = Duration::from_secs(10);

/// Waits up to [`ROTATION_WAIT`] for `found` to return true.
fn wait_for(mut found: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + ROTATION_WAIT;
    while Instant::now() < deadline {
        if found() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    found()
}

#[test]
fn quiet_link_rotates_and_reopens_file() {
    let pair = VethPair::create("rq");
    let scratch = ScratchDir::new("live", "quiet-rotation");
    let records_path = scratch.0.join("records.csv");
    let stamped_count = || {
        std::fs::read_dir(&scratch.0)
            .expect("scratch folder")
            .filter(|entry| entry.as_ref().is_ok_and(|entry| entry.file_name().to_string_lossy().starts_with("records.csv.")))
            .count()
    };
    let output_args = ["--workers", "1", "--format", "csv", "-w", records_path.to_str().unwrap()];

    // No packet arrives, yet each second's file is closed and stamped.
    let running = start_capture(&pair, &[&output_args[..], &["--rotate-seconds", "1"]].concat());
    assert!(wait_for(|| stamped_count() >= 2), "no file was rotated on the quiet link");
    stop_capture(running);

    // After a rename and SIGHUP, FILE comes back without a record.
    let mut running = start_capture(&pair, &output_args);
    assert!(wait_for(|| records_path.exists()), "the output file was not created");
    let renamed = scratch.0.join("moved-away.csv");
    std::fs::rename(&records_path, &renamed).expect("rename the output file");
    run("kill", &["-HUP", &running.child.id().to_string()]);
    assert!(wait_for(|| records_path.exists()), "SIGHUP did not reopen the file on the quiet link");
    assert!(running.child.try_wait().expect("poll nauditd").is_none(), "nauditd must still be capturing");
    stop_capture(running);
}
