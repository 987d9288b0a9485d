//! Running a program as a measured child: CPU time, wall time and peak
//! resident memory from `wait4`, and instruction and cycle counts from
//! `perf stat` where the CPU and the kernel expose them.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A program and its arguments, printable as a shell command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    /// The program: a path, or a name looked up in `PATH`.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
}

impl CommandLine {
    /// Creates a command line from a program and its arguments.
    pub fn new<I, S>(program: impl Into<PathBuf>, args: I) -> CommandLine
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        CommandLine { program: program.into(), args: args.into_iter().map(Into::into).collect() }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        command
    }
}

impl fmt::Display for CommandLine {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", shell_word(&self.program.to_string_lossy()))?;
        for arg in &self.args {
            write!(formatter, " {}", shell_word(&arg.to_string_lossy()))?;
        }
        Ok(())
    }
}

/// Quotes a word for a POSIX shell when it contains anything but safe
/// characters.
fn shell_word(word: &str) -> String {
    let safe = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The end of a child: an exit code or a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

impl ExitStatus {
    /// True for exit code 0.
    pub fn success(self) -> bool {
        self == ExitStatus::Code(0)
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Code(code) => write!(formatter, "exit code {code}"),
            ExitStatus::Signal(signal) => write!(formatter, "killed by signal {signal}"),
        }
    }
}

/// Resource use and output of one child run.
#[derive(Clone, Debug)]
pub struct ChildRun {
    /// CPU time in user mode, all threads.
    pub user: Duration,
    /// CPU time in the kernel, all threads.
    pub system: Duration,
    /// Time from spawn to reaping.
    pub wall: Duration,
    /// Peak resident set size (`ru_maxrss`), in bytes.
    pub max_rss_bytes: u64,
    /// The child's exit code or signal.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl ChildRun {
    /// User plus system CPU time.
    pub fn cpu(&self) -> Duration {
        self.user + self.system
    }
}

/// Runs `command` to its end and measures it with `wait4`, which reports
/// the resource use of exactly that child (its own reaped children
/// included).
pub fn run_child(command: &CommandLine) -> io::Result<ChildRun> {
    let started = Instant::now();
    let mut child = command.command().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut stdout_pipe = child.stdout.take().expect("stdout is piped");
    let mut stderr_pipe = child.stderr.take().expect("stderr is piped");
    let stderr_reader = thread::spawn(move || {
        let mut bytes = Vec::new();
        stderr_pipe.read_to_end(&mut bytes).map(|_| bytes)
    });
    let mut stdout = Vec::new();
    stdout_pipe.read_to_end(&mut stdout)?;

    let pid = child.id() as libc::pid_t;
    let mut raw_status: libc::c_int = 0;
    // SAFETY: rusage is plain old data, so all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is the child spawned above. Nothing has reaped it,
        // because std's `Child` waits only when asked to. Both pointers are
        // to live locals.
        let result = unsafe { libc::wait4(pid, &mut raw_status, 0, &mut usage) };
        if result == pid {
            break;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    let wall = started.elapsed();
    let stderr = stderr_reader.join().expect("stderr reader thread panicked")?;

    let status = if libc::WIFEXITED(raw_status) {
        ExitStatus::Code(libc::WEXITSTATUS(raw_status))
    } else {
        ExitStatus::Signal(libc::WTERMSIG(raw_status))
    };
    Ok(ChildRun {
        user: timeval_duration(usage.ru_utime),
        system: timeval_duration(usage.ru_stime),
        wall,
        // Linux reports ru_maxrss in kibibytes (getrusage(2)).
        max_rss_bytes: usage.ru_maxrss.max(0) as u64 * 1024,
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

fn timeval_duration(time: libc::timeval) -> Duration {
    Duration::from_secs(time.tv_sec.max(0) as u64) + Duration::from_micros(time.tv_usec.max(0) as u64)
}

/// Instructions and cycles one run executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventCounts {
    /// Retired instructions.
    pub instructions: u64,
    /// CPU cycles.
    pub cycles: u64,
}

/// Checks whether `perf stat` can count instructions here. The error gives
/// the reason: no `perf` program, or a count that the kernel or the CPU
/// does not support (virtual machines often expose no hardware counters).
pub fn probe_event_counting() -> Result<(), String> {
    let output = Command::new("perf")
        .args(["stat", "-x,", "-e", "instructions", "--", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .map_err(|error| format!("perf not runnable ({error})"))?;
    let text = String::from_utf8_lossy(&output.stderr);
    match parse_perf_value(&text, "instructions") {
        Ok(_) => Ok(()),
        Err(reason) => Err(format!("perf stat -e instructions: {reason}")),
    }
}

/// Runs `command` under `perf stat` and returns its instruction and cycle
/// counts. This run's times are not used: perf itself adds work.
pub fn count_events(command: &CommandLine, scratch_file: &std::path::Path) -> Result<EventCounts, String> {
    let mut args: Vec<OsString> = ["stat", "-x,", "-e", "instructions,cycles", "-o"].map(OsString::from).to_vec();
    args.push(scratch_file.as_os_str().to_owned());
    args.push("--".into());
    args.push(command.program.as_os_str().to_owned());
    args.extend(command.args.iter().cloned());
    let run = run_child(&CommandLine::new("perf", args)).map_err(|error| format!("perf not runnable ({error})"))?;
    if !run.status.success() {
        return Err(format!("perf stat failed with {}: {}", run.status, last_line(&run.stderr)));
    }
    let text = std::fs::read_to_string(scratch_file).map_err(|error| format!("cannot read perf output {}: {error}", scratch_file.display()))?;
    Ok(EventCounts { instructions: parse_perf_value(&text, "instructions")?, cycles: parse_perf_value(&text, "cycles")? })
}

/// Reads the count of `event` from `perf stat -x,` output, whose lines are
/// `value,unit,event,...`; the event may carry a modifier such as `:u`.
pub fn parse_perf_value(text: &str, event: &str) -> Result<u64, String> {
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let fields: Vec<&str> = line.split(',').collect();
        let Some(name) = fields.get(2) else { continue };
        if name.split(':').next() != Some(event) {
            continue;
        }
        return fields[0].trim().parse().map_err(|_| format!("{event} {}", fields[0].trim()));
    }
    Err(format!("{event} missing from perf output"))
}

/// Returns the last non-empty line of a program's output, for error messages.
pub fn last_line(text: &str) -> &str {
    text.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("(no output)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_times_and_output() {
        let run = run_child(&CommandLine::new("sh", ["-c", "echo out; echo err >&2; exit 3"])).unwrap();
        assert_eq!(run.stdout, "out\n");
        assert_eq!(run.stderr, "err\n");
        assert_eq!(run.status, ExitStatus::Code(3));
        assert!(run.max_rss_bytes > 0);
    }

    #[test]
    fn missing_program_is_an_error() {
        assert!(run_child(&CommandLine::new("/nonexistent/program", Vec::<String>::new())).is_err());
    }

    #[test]
    fn perf_values_parsed() {
        let text = "# started on Mon\n\n1234567,,instructions:u,1000,100.00,,\n<not supported>,,cycles,0,100.00,,\n";
        assert_eq!(parse_perf_value(text, "instructions"), Ok(1_234_567));
        assert_eq!(parse_perf_value(text, "cycles"), Err("cycles <not supported>".to_string()));
        assert_eq!(parse_perf_value(text, "branches"), Err("branches missing from perf output".to_string()));
    }

    #[test]
    fn command_line_quotes_words() {
        let command = CommandLine::new("argus", ["-r", "a b.pcap", "-w", "/dev/null"]);
        assert_eq!(command.to_string(), "argus -r 'a b.pcap' -w /dev/null");
    }
}
