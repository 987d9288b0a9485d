//! Output rotation as logrotate drives it. nauditd reads a capture through
//! a pipe, and the test renames the -w file and sends SIGHUP half-way. The
//! two files together must contain every record of a reference run
//! exactly once, and each file must be complete and readable on its own.
//! Also checks --rotate-seconds.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::builder::{ipv4_frame, pcap_file, udp, TestPacket};
use common::{ChildGuard, ScratchDir};

/// One-packet UDP flows in the generated capture, 10 ms apart.
const FLOW_COUNT: usize = 6000;
/// Limit of every wait on nauditd or ra.
const WAIT_LIMIT: Duration = Duration::from_secs(60);
/// Options of every run: the flows time out one second of packet time
/// after their packet, so records come out steadily as the input goes on.
const RUN_ARGS: &[&str] = &["--workers", "1", "--ip-timeout", "1", "-q"];


/// Generates the capture and splits it into the pcap header with the
/// first half of the packets, and the second half.
fn capture_halves() -> (Vec<u8>, Vec<u8>) {
    let packets: Vec<TestPacket> = (0..FLOW_COUNT)
        .map(|index| {
            let port = 10_000 + index as u16;
            let datagram = udp(port, 53, 20);
            TestPacket {
                time_ns: 1_700_000_000_000_000_000 + index as u64 * 10_000_000,
                data: ipv4_frame([10, 0, 0, 1], [10, 0, 0, 2], 17, &datagram, false),
            }
        })
        .collect();
    let file = pcap_file(1, &packets);
    let record_bytes = (file.len() - 24) / FLOW_COUNT;
    let middle = 24 + record_bytes * (FLOW_COUNT / 2);
    (file[..middle].to_vec(), file[middle..].to_vec())
}

/// Runs nauditd on the whole capture from a file and returns what it
/// writes to `path`.
fn reference_output(scratch: &Path, format: &str) -> Vec<u8> {
    let (first, second) = capture_halves();
    let capture = scratch.join("reference.pcap");
    std::fs::write(&capture, [first, second].concat()).unwrap();
    let path = scratch.join(format!("reference.{format}"));
    let status = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .args(["-r", capture.to_str().unwrap(), "-w", path.to_str().unwrap(), "--format", format])
        .args(RUN_ARGS)
        .status()
        .expect("run nauditd");
    assert!(status.success(), "the reference run failed");
    std::fs::read(&path).unwrap()
}

/// Starts nauditd reading the capture from its standard input and writing
/// `format` to `path`, with `extra` options.
fn start_from_pipe(path: &Path, format: &str, extra: &[&str]) -> (ChildGuard, ChildStdin) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .args(["-r", "-", "-w", path.to_str().unwrap(), "--format", format])
        .args(RUN_ARGS)
        .args(extra)
        .stdin(Stdio::piped())
        .spawn()
        .expect("start nauditd");
    let stdin = child.stdin.take().unwrap();
    (ChildGuard(Some(child)), stdin)
}

/// Waits until `path` has content on disk, which shows that nauditd has
/// written records of the first half before the file is rotated.
fn wait_for_content(path: &Path) {
    let deadline = Instant::now() + WAIT_LIMIT;
    while std::fs::metadata(path).map_or(0, |metadata| metadata.len()) == 0 {
        assert!(Instant::now() < deadline, "nauditd wrote nothing to {} within {WAIT_LIMIT:?}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Closes nauditd's input and waits for it to exit successfully.
fn finish(mut nauditd: ChildGuard, stdin: ChildStdin) {
    drop(stdin);
    let mut child = nauditd.0.take().unwrap();
    let deadline = Instant::now() + WAIT_LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("poll nauditd") {
            assert!(status.success(), "nauditd exited with {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nauditd did not exit within {WAIT_LIMIT:?} of the end of its input");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Feeds the first half, renames the file and sends SIGHUP once records
/// are on disk, then feeds the second half. Returns the renamed file's and
/// the new file's paths.
fn run_with_logrotate(scratch: &Path, format: &str) -> (PathBuf, PathBuf) {
    run_with_rotation(scratch, format, |path, rotated, pid| {
        std::fs::rename(path, rotated).expect("rename the output file");
        // SAFETY: `pid` is the test's own child, which has not been reaped.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0, "send SIGHUP");
    })
}

/// Feeds the first half, calls `rotate` with the file's path, the path it
/// is to be renamed to and nauditd's process id once records are on disk,
/// then feeds the second half. Returns the renamed file's and the new
/// file's paths.
fn run_with_rotation(
    scratch: &Path,
    format: &str,
    rotate: impl FnOnce(&Path, &Path, libc::pid_t),
) -> (PathBuf, PathBuf) {
    let (first, second) = capture_halves();
    let path = scratch.join(format!("flows.{format}"));
    let rotated = scratch.join(format!("flows.{format}.1"));
    let (nauditd, mut stdin) = start_from_pipe(&path, format, &[]);
    stdin.write_all(&first).expect("write the first half");
    stdin.flush().unwrap();
    wait_for_content(&path);

    rotate(&path, &rotated, nauditd.0.as_ref().unwrap().id() as libc::pid_t);
    assert!(rotated.exists(), "{} was not renamed to {}", path.display(), rotated.display());

    stdin.write_all(&second).expect("write the second half");
    finish(nauditd, stdin);
    assert!(path.exists(), "nauditd did not create a new {} after SIGHUP", path.display());
    (rotated, path)
}

/// Parses every line of a JSON lines file, failing on a partial line.
fn json_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "{} ends inside a line", path.display());
    for line in text.lines() {
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(line);
        assert!(parsed.is_ok(), "{}: invalid JSON line {line}", path.display());
    }
    text.lines().map(str::to_string).collect()
}

#[test]
fn sighup_reopens_json_without_loss() {
    let scratch = ScratchDir::new("rotation", "json");
    let mut expected: Vec<String> =
        String::from_utf8(reference_output(&scratch.0, "json")).unwrap().lines().map(str::to_string).collect();
    assert_eq!(expected.len(), FLOW_COUNT, "one record per generated flow");

    let (rotated, current) = run_with_logrotate(&scratch.0, "json");
    let before = json_lines(&rotated);
    let after = json_lines(&current);
    assert!(!before.is_empty(), "the renamed file holds the records before SIGHUP");
    assert!(!after.is_empty(), "the new file holds the records after SIGHUP");

    let mut received: Vec<String> = before.into_iter().chain(after).collect();
    received.sort();
    expected.sort();
    assert_eq!(received.len(), expected.len(), "records in both files together");
    assert!(received == expected, "the two files hold other records than the reference run");
}

#[test]
fn logrotate_rotates_json_output() {
    let scratch = ScratchDir::new("rotation", "logrotate");
    let mut expected: Vec<String> =
        String::from_utf8(reference_output(&scratch.0, "json")).unwrap().lines().map(str::to_string).collect();
    let config = scratch.0.join("logrotate.conf");
    let state = scratch.0.join("logrotate.state");
    let (rotated, current) = run_with_rotation(&scratch.0, "json", |path, _, pid| {
        let rules = format!(
            "{} {{\n    rotate 2\n    postrotate\n        kill -HUP {pid}\n    endscript\n}}\n",
            path.display()
        );
        std::fs::write(&config, rules).unwrap();
        let output = Command::new("logrotate")
            .args(["-f", "-s", state.to_str().unwrap(), config.to_str().unwrap()])
            .output()
            .unwrap_or_else(|error| panic!("logrotate not found ({error}): install the Debian package logrotate"));
        assert!(output.status.success(), "logrotate failed: {}", String::from_utf8_lossy(&output.stderr));
    });
    let before = json_lines(&rotated);
    let after = json_lines(&current);
    assert!(!before.is_empty(), "the rotated file holds the records before SIGHUP");
    assert!(!after.is_empty(), "the new file holds the records after SIGHUP");
    let mut received: Vec<String> = before.into_iter().chain(after).collect();
    received.sort();
    expected.sort();
    assert!(received == expected, "the two files hold other records than the reference run");
}

#[test]
fn sighup_reopens_csv_with_header() {
    let scratch = ScratchDir::new("rotation", "csv");
    let reference = String::from_utf8(reference_output(&scratch.0, "csv")).unwrap();
    let header = reference.lines().next().unwrap().to_string();
    let mut expected: Vec<&str> = reference.lines().skip(1).collect();

    let (rotated, current) = run_with_logrotate(&scratch.0, "csv");
    let mut received = Vec::new();
    let texts = [std::fs::read_to_string(&rotated).unwrap(), std::fs::read_to_string(&current).unwrap()];
    for (path, text) in [&rotated, &current].iter().zip(&texts) {
        assert!(text.ends_with('\n'), "{} ends inside a line", path.display());
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(header.as_str()), "{} starts with the header", path.display());
        let rows: Vec<&str> = lines.collect();
        assert!(!rows.is_empty(), "{} holds records", path.display());
        for row in &rows {
            assert_eq!(row.split(',').count(), header.split(',').count(), "{}: partial row {row}", path.display());
        }
        received.extend(rows);
    }
    received.sort_unstable();
    expected.sort_unstable();
    assert!(received == expected, "the two files hold other rows than the reference run");
}

/// Returns the flow lines `ra` prints for an Argus file, without the
/// header line and the management records.
fn ra_flows(path: &Path) -> Vec<String> {
    let output = Command::new("ra")
        .args(["-r", path.to_str().unwrap(), "-n", "-u", "-c", ","])
        .args(["-s", "stime", "saddr", "sport", "daddr", "dport", "spkts", "sbytes", "-", "not", "man"])
        .output()
        .unwrap_or_else(|error| panic!("ra not found ({error}): install the Debian package argus-client"));
    assert!(output.status.success(), "ra failed on {}: {}", path.display(), String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    text.lines().filter(|line| !line.starts_with("StartTime")).map(str::to_string).collect()
}

#[test]
fn sighup_reopens_argus_file() {
    let scratch = ScratchDir::new("rotation", "argus");
    let reference_path = scratch.0.join("reference.argus");
    std::fs::write(&reference_path, reference_output(&scratch.0, "argus")).unwrap();
    let mut expected = ra_flows(&reference_path);
    assert_eq!(expected.len(), FLOW_COUNT, "ra reads one record per generated flow");

    let (rotated, current) = run_with_logrotate(&scratch.0, "argus");
    let before = ra_flows(&rotated);
    let after = ra_flows(&current);
    assert!(!before.is_empty(), "the renamed file holds the records before SIGHUP");
    assert!(!after.is_empty(), "the new file holds the records after SIGHUP");
    let mut received: Vec<String> = before.into_iter().chain(after).collect();
    received.sort();
    expected.sort();
    assert!(received == expected, "ra reads other records from the two files than from the reference run");
}

#[test]
fn rotate_seconds_stamps_closed_files() {
    let scratch = ScratchDir::new("rotation", "rotate-seconds");
    let mut expected: Vec<String> =
        String::from_utf8(reference_output(&scratch.0, "json")).unwrap().lines().map(str::to_string).collect();
    let (first, second) = capture_halves();
    let path = scratch.0.join("flows.json");
    let (nauditd, mut stdin) = start_from_pipe(&path, "json", &["--rotate-seconds", "1"]);
    stdin.write_all(&first).expect("write the first half");
    stdin.flush().unwrap();
    wait_for_content(&path);
    // Let the wall clock enter the next second, so that the next record
    // closes the first file.
    let second_now = || SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let started = second_now();
    while second_now() == started {
        std::thread::sleep(Duration::from_millis(20));
    }
    stdin.write_all(&second).expect("write the second half");
    finish(nauditd, stdin);

    assert!(!path.exists(), "the last file is renamed with its interval at the end");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&scratch.0)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|file| file.file_name().unwrap().to_string_lossy().starts_with("flows.json."))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "expected a file per interval, found {files:?}");
    let mut received = Vec::new();
    for file in &files {
        let stamp = file.file_name().unwrap().to_string_lossy()["flows.json.".len()..].to_string();
        assert_eq!(stamp.len(), "20261205T002500Z".len(), "stamp of {}", file.display());
        assert!(stamp.ends_with('Z'), "stamp of {} ends with Z", file.display());
        assert_eq!(stamp.as_bytes()[8], b'T', "stamp of {} has T after the date", file.display());
        received.extend(json_lines(file));
    }
    received.sort();
    expected.sort();
    assert!(received == expected, "the stamped files hold other records than the reference run");
}

/// Returns the data records of an IPFIX file, checking that the file
/// splits into whole messages and starts with a template set.
fn ipfix_data_records(path: &Path) -> Vec<Vec<u8>> {
    let file = std::fs::read(path).unwrap();
    let mut record_lengths = std::collections::BTreeMap::new();
    let mut records = Vec::new();
    let mut offset = 0;
    while offset < file.len() {
        assert!(offset + 16 <= file.len(), "{}: partial message header at offset {offset}", path.display());
        let length = usize::from(u16::from_be_bytes([file[offset + 2], file[offset + 3]]));
        assert!(offset + length <= file.len(), "{}: partial message at offset {offset}", path.display());
        let message = &file[offset..offset + length];
        let mut set_offset = 16;
        while set_offset < message.len() {
            let set_id = u16::from_be_bytes([message[set_offset], message[set_offset + 1]]);
            let set_length = usize::from(u16::from_be_bytes([message[set_offset + 2], message[set_offset + 3]]));
            let body = &message[set_offset + 4..set_offset + set_length];
            if offset == 0 && set_offset == 16 {
                assert_eq!(set_id, 2, "{} starts with the templates", path.display());
            }
            if set_id == 2 {
                record_lengths.extend(template_record_lengths(body));
            } else {
                let record_length = record_lengths[&set_id];
                records.extend(body.chunks(record_length).map(<[u8]>::to_vec));
            }
            set_offset += set_length;
        }
        offset += length;
    }
    records
}

/// Returns the data record length of each template record in a template
/// set body.
fn template_record_lengths(body: &[u8]) -> Vec<(u16, usize)> {
    let mut lengths = Vec::new();
    let mut offset = 0;
    while offset + 4 <= body.len() {
        let template_id = u16::from_be_bytes([body[offset], body[offset + 1]]);
        let field_count = usize::from(u16::from_be_bytes([body[offset + 2], body[offset + 3]]));
        offset += 4;
        let mut length = 0;
        for _ in 0..field_count {
            let enterprise = body[offset] & 0x80 != 0;
            length += usize::from(u16::from_be_bytes([body[offset + 2], body[offset + 3]]));
            offset += if enterprise { 8 } else { 4 };
        }
        lengths.push((template_id, length));
    }
    lengths
}

#[test]
fn sighup_reopens_ipfix_file() {
    let scratch = ScratchDir::new("rotation", "ipfix");
    let reference_path = scratch.0.join("reference.ipfix");
    std::fs::write(&reference_path, reference_output(&scratch.0, "ipfix")).unwrap();
    let mut expected = ipfix_data_records(&reference_path);
    assert_eq!(expected.len(), FLOW_COUNT, "one data record per generated flow");

    let (rotated, current) = run_with_logrotate(&scratch.0, "ipfix");
    let before = ipfix_data_records(&rotated);
    let after = ipfix_data_records(&current);
    assert!(!before.is_empty(), "the renamed file holds the records before SIGHUP");
    assert!(!after.is_empty(), "the new file holds the records after SIGHUP");
    let mut received: Vec<Vec<u8>> = before.into_iter().chain(after).collect();
    received.sort();
    expected.sort();
    assert!(received == expected, "the two files hold other data records than the reference run");
}
