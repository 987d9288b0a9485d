//! Every capture of the test corpus and of tcpdump's test suite, read by the
//! nauditd binary as a child process, once as a memory-mapped file and once
//! from standard input. Each run must end without a crash signal or panic,
//! within a generous time limit that only guards against hangs, with peak
//! memory under a fixed bound, and with an error naming the input when the
//! capture is rejected.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{repo_root, ScratchDir};

/// Time after which a run counts as hung and is killed. No capture here
/// needs more than a fraction of a second.
const HANG_LIMIT: Duration = Duration::from_secs(60);

/// Bound on a run's peak resident memory. It does not depend on the capture:
/// the readers map or buffer a file instead of loading it, and the flow
/// table of these small captures stays small.
const MAX_RSS_KIB: i64 = 128 * 1024;

/// How a child run ended.
#[derive(Debug, PartialEq)]
enum Outcome {
    Exited(i32),
    Signaled(i32),
    Hung,
}

struct Run {
    outcome: Outcome,
    max_rss_kib: i64,
    stderr: String,
}

/// Runs nauditd with `args` and `stdin`, waits for it with `wait4` to read
/// its peak memory, and kills it after [`HANG_LIMIT`].
fn run_bounded(args: &[&str], stdin: Stdio, stderr_path: &Path) -> Run {
    let stderr_file = File::create(stderr_path).expect("create stderr file");
    let child = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(stderr_file)
        .spawn()
        .expect("start nauditd");

    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data, for which all-zero bytes are valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut hung = false;
    loop {
        let flags = if hung { 0 } else { libc::WNOHANG };
        // SAFETY: pid is our own child, not yet reaped, and status and usage
        // are valid for writes. std's Child is never used to wait, so the pid
        // is reaped exactly once, here.
        let reaped = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        if reaped == pid {
            break;
        }
        assert_eq!(reaped, 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if started.elapsed() > HANG_LIMIT {
            // SAFETY: the child has not been reaped, so pid still names it.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            hung = true;
        } else {
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    let outcome = if hung {
        Outcome::Hung
    } else if libc::WIFSIGNALED(status) {
        Outcome::Signaled(libc::WTERMSIG(status))
    } else {
        Outcome::Exited(libc::WEXITSTATUS(status))
    };
    let stderr = String::from_utf8_lossy(&std::fs::read(stderr_path).expect("read stderr file")).into_owned();
    Run {
        outcome,
        max_rss_kib: usage.ru_maxrss,
        stderr,
    }
}

/// Returns what is wrong with `run` of the input named `input_name`.
fn problems(run: &Run, input_name: &str) -> Vec<String> {
    let mut found = Vec::new();
    match run.outcome {
        Outcome::Exited(0) => {}
        Outcome::Exited(1) => {
            if !run.stderr.contains(&format!("nauditd: {input_name}: ")) {
                found.push("rejected without naming the input".to_string());
            }
        }
        ref other => found.push(format!("ended with {other:?}")),
    }
    if run.stderr.contains("panicked") {
        found.push("panicked".to_string());
    }
    if run.max_rss_kib > MAX_RSS_KIB {
        found.push(format!("peak memory {} KiB, above {MAX_RSS_KIB} KiB", run.max_rss_kib));
    }
    found
}

/// What reading a set of captures found.
struct Findings {
    /// One line per problem, with the input's standard error.
    failures: Vec<String>,
    /// Captures that nauditd rejected with an error.
    rejected: usize,
    /// The largest peak memory of any run.
    max_rss_kib: i64,
}

/// Reads every capture as a file and from standard input.
fn check_captures(captures: &[PathBuf], label: &str) -> Findings {
    let scratch = ScratchDir::new("robustness", label);
    let stderr_path = scratch.join("stderr.txt");
    let mut failures = Vec::new();
    let mut rejected = 0;
    let mut max_rss_kib = 0;
    for capture in captures {
        let path = capture.to_str().expect("UTF-8 path");
        let from_file = run_bounded(&["-r", path, "-w", "/dev/null", "-q"], Stdio::null(), &stderr_path);
        for problem in problems(&from_file, path) {
            failures.push(format!("{path} (file): {problem}\n{}", from_file.stderr));
        }

        let stdin = File::open(capture).expect("open capture");
        let from_stdin = run_bounded(&["-r", "-", "--format", "csv", "-q"], Stdio::from(stdin), &stderr_path);
        for problem in problems(&from_stdin, "-") {
            failures.push(format!("{path} (standard input): {problem}\n{}", from_stdin.stderr));
        }
        if from_file.outcome != from_stdin.outcome {
            failures.push(format!(
                "{path}: the file run ended with {:?}, the standard input run with {:?}",
                from_file.outcome, from_stdin.outcome
            ));
        }
        if from_file.outcome != Outcome::Exited(0) {
            rejected += 1;
        }
        max_rss_kib = max_rss_kib.max(from_file.max_rss_kib).max(from_stdin.max_rss_kib);
    }
    Findings {
        failures,
        rejected,
        max_rss_kib,
    }
}

/// Lists the files in `folder` whose names end with one of `extensions`.
fn captures_in(folder: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut captures: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap_or_else(|error| panic!("read {}: {error}", folder.display()))
        .map(|entry| entry.expect("folder entry").path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            extensions.iter().any(|extension| name.ends_with(extension))
        })
        .collect();
    captures.sort();
    captures
}

#[test]
fn tcpdump_captures_read_safely() {
    let captures = captures_in(&repo_root().join("tests/tcpdump-captures"), &[".pcap", ".pcapng"]);
    // tests/tcpdump-captures/MANIFEST.tsv lists the 830 captures.
    assert_eq!(captures.len(), 830, "captures in tests/tcpdump-captures");
    let findings = check_captures(&captures, "tcpdump");
    println!(
        "tcpdump captures: {} read, {} rejected with an error, peak memory at most {} KiB",
        captures.len(),
        findings.rejected,
        findings.max_rss_kib
    );
    assert!(findings.max_rss_kib > 0, "wait4 reported the peak memory");
    assert!(
        findings.failures.is_empty(),
        "{} problems:\n{}",
        findings.failures.len(),
        findings.failures.join("\n")
    );
}

#[test]
fn corpus_captures_read_safely() {
    let captures = captures_in(&repo_root().join("tests/corpus/pcap"), &[".pcap", ".pcapng", ".erf"]);
    assert!(captures.len() >= 150, "captures in tests/corpus/pcap: {}", captures.len());
    let findings = check_captures(&captures, "corpus");
    println!(
        "corpus captures: {} read, {} rejected with an error, peak memory at most {} KiB",
        captures.len(),
        findings.rejected,
        findings.max_rss_kib
    );
    assert!(findings.max_rss_kib > 0, "wait4 reported the peak memory");
    assert!(
        findings.failures.is_empty(),
        "{} problems:\n{}",
        findings.failures.len(),
        findings.failures.join("\n")
    );
}
