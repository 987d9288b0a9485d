//! Helpers shared by the end-to-end tests: paths, running the binary, and
//! reading CSV.

#![allow(dead_code)]

pub mod builder;
pub mod ib_builder;
pub mod reference;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's top folder.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Path of a capture in the test corpus.
pub fn corpus_capture(name: &str) -> PathBuf {
    repo_root().join("tests/corpus/pcap").join(name)
}

/// Runs nauditd on `capture` with CSV output and extra `args`, asserts it
/// succeeded, and returns the CSV text.
pub fn nauditd_csv(capture: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_nauditd"))
        .arg("-r")
        .arg(capture)
        .args(["--format", "csv", "-q"])
        .args(args)
        .output()
        .expect("run nauditd");
    assert!(
        output.status.success(),
        "nauditd failed on {}: {}",
        capture.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("CSV is UTF-8")
}

/// Reads a CSV file without quoting: the header and the rows, fields
/// trimmed.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    let mut lines = text.lines().map(|line| line.split(',').map(|field| field.trim().to_string()).collect());
    let header = lines.next().unwrap_or_default();
    (header, lines.collect())
}

/// Writes a header and rows as CSV.
pub fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let mut text = header.join(",");
    text.push('\n');
    for row in rows {
        text.push_str(&row.join(","));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
}

/// Lets a scratch file or folder stand wherever a path is taken: `&file`
/// as a `&Path`, and as a command argument.
macro_rules! path_like {
    ($guard:ident) => {
        impl AsRef<std::ffi::OsStr> for $guard {
            fn as_ref(&self) -> &std::ffi::OsStr {
                self.0.as_os_str()
            }
        }

        impl AsRef<Path> for $guard {
            fn as_ref(&self) -> &Path {
                &self.0
            }
        }

        impl std::ops::Deref for $guard {
            type Target = Path;

            fn deref(&self) -> &Path {
                &self.0
            }
        }
    };
}

/// Writes `bytes` to a new file in the system temp folder, named after the
/// process, a sequence number and `name`, and returns it. The file is
/// removed when the returned value is dropped.
pub fn scratch_file(name: &str, bytes: &[u8]) -> ScratchFile {
    // Tests run in parallel threads and may write files of the same name.
    static CREATED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let sequence = CREATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("nauditd-test-{}-{sequence}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
    ScratchFile(path)
}

/// A file under the system temp folder, removed at the end of the test.
pub struct ScratchFile(pub PathBuf);

path_like!(ScratchFile);

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Parses nauditd CSV into rows of fields, header first.
pub fn csv_rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines().map(|line| line.split(',').map(str::to_string).collect()).collect()
}

/// A scratch folder under the system temp folder, removed at the end of the
/// test.
pub struct ScratchDir(pub PathBuf);

impl ScratchDir {
    /// Creates an empty folder named after the test file (`suite`), the
    /// process and `name`.
    pub fn new(suite: &str, name: &str) -> ScratchDir {
        let path = std::env::temp_dir().join(format!("nauditd-{suite}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create scratch folder");
        ScratchDir(path)
    }
}

path_like!(ScratchDir);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed when the test ends, even by a panic.
pub struct ChildGuard(pub Option<std::process::Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
