//! The streaming reader (standard input, named pipes) against the
//! memory-mapped reader, and the rules for choosing one in `open_inputs`.

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{corpus, read_all, temp_path, ReadResult};
use naudit_engine::{PacketSource, SourceError};
use naudit_pcap::{
    open_inputs, CaptureSource, MappedSource, StreamSource, DEFAULT_STREAM_BUFFER_BYTES,
};

/// Captures of both formats, both byte orders, both pcap resolutions, many
/// interfaces, skipped blocks, a 64 KiB frame and two damaged files.
const FILES: [&str; 12] = [
    "fmt-pcap-bigendian-sctp.pcap",
    "fmt-pcap-bigendian-nfsv3-udp.pcap",
    "fmt-pcap-nsec-ppi-eth-dns.pcap",
    "fmt-pcapng-22-interfaces-web.pcapng",
    "fmt-pcapng-126-idbs-mixed-linktypes.pcapng",
    "fmt-pcapng-derived-3-linktypes.pcapng",
    "fmt-pcapng-custom-block.pcapng",
    "fmt-pcapng-dsb-2if-qinq-gtp.pcapng",
    "ipv6-jumbogram.pcap",
    "snaplen-sliced-tcp-timestamps.pcap",
    "bad-pcap-record-cut-short.pcap",
    "bad-pcap-record-len-16MB.pcap",
];

/// A reader that returns at most `chunk_len` bytes per read, as a pipe may.
struct ChunkedReader {
    bytes: Vec<u8>,
    position: usize,
    chunk_len: usize,
}

impl Read for ChunkedReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let len = out
            .len()
            .min(self.chunk_len)
            .min(self.bytes.len() - self.position);
        out[..len].copy_from_slice(&self.bytes[self.position..self.position + len]);
        self.position += len;
        Ok(len)
    }
}

fn read_mapped(file_name: &str) -> ReadResult {
    let mut source = MappedSource::open(&corpus(file_name)).expect("open mapped");
    read_all(&mut source)
}

fn read_stream(file_name: &str, buffer_bytes: usize, chunk_len: usize) -> ReadResult {
    let reader = ChunkedReader {
        bytes: std::fs::read(corpus(file_name)).expect("read corpus file"),
        position: 0,
        chunk_len,
    };
    let mut source =
        StreamSource::from_reader(file_name, Box::new(reader), buffer_bytes).expect("open stream");
    let result = read_all(&mut source);
    assert_eq!(
        source.counters().received_pkts,
        result.packets.len() as u64,
        "{file_name}: received_pkts"
    );
    result
}

/// Returns the error message without the input name, which differs between
/// readers.
fn message_without_name(error: &Option<SourceError>, name: &str) -> Option<String> {
    error
        .as_ref()
        .map(|error| error.to_string().replace(name, "INPUT"))
}

#[test]
fn stream_matches_mapped_file() {
    for file_name in FILES {
        let mapped = read_mapped(file_name);
        let mapped_error =
            message_without_name(&mapped.error, &corpus(file_name).to_string_lossy());
        for (buffer_bytes, chunk_len) in [
            (1, 1),
            (3, 7),
            (64, 4096),
            (1_500, 1_000),
            (DEFAULT_STREAM_BUFFER_BYTES, usize::MAX),
        ] {
            let label =
                format!("{file_name} with a {buffer_bytes}-byte buffer and {chunk_len}-byte reads");
            let streamed = read_stream(file_name, buffer_bytes, chunk_len);
            assert_eq!(
                streamed.packets.len(),
                mapped.packets.len(),
                "{label}: packet count"
            );
            assert!(
                streamed.packets == mapped.packets,
                "{label}: timestamps, lengths, bytes, link types or ports differ"
            );
            assert_eq!(
                message_without_name(&streamed.error, file_name),
                mapped_error,
                "{label}: error"
            );
        }
    }
}

#[test]
fn named_pipe_reads_as_stream() {
    let fifo = temp_path(&format!("{}-capture.fifo", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let status = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo failed");

    let file_name = "fmt-pcapng-22-interfaces-web.pcapng";
    let bytes = std::fs::read(corpus(file_name)).expect("read corpus file");
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut pipe = std::fs::OpenOptions::new()
            .write(true)
            .open(writer_path)
            .expect("open fifo for writing");
        pipe.write_all(&bytes).expect("write to fifo");
    });

    let mut source = open_inputs(std::slice::from_ref(&fifo)).expect("open fifo");
    assert!(
        matches!(source, CaptureSource::Stream(_)),
        "a FIFO is read as a stream"
    );
    assert_eq!(source.name(), fifo.to_string_lossy());
    let streamed = read_all(&mut source);
    writer.join().expect("writer thread");
    std::fs::remove_file(&fifo).expect("remove fifo");

    assert!(streamed.error.is_none());
    assert!(
        streamed.packets == read_mapped(file_name).packets,
        "FIFO packets differ from the mapped file"
    );
    assert_eq!(source.counters().received_pkts, 699);
}

/// Environment variable that makes `stdin_helper` read standard input.
const STDIN_HELPER_VARIABLE: &str = "NAUDIT_PCAP_STDIN_HELPER";

/// Reads `-` and prints a summary; run by `dash_reads_standard_input` in a
/// child process whose standard input is a pipe.
#[test]
#[ignore = "helper for dash_reads_standard_input"]
fn stdin_helper() {
    if std::env::var_os(STDIN_HELPER_VARIABLE).is_none() {
        return;
    }
    let mut source = open_inputs(&[PathBuf::from("-")]).expect("open standard input");
    assert!(matches!(source, CaptureSource::Stream(_)));
    let result = read_all(&mut source);
    let total_bytes: usize = result.packets.iter().map(|packet| packet.data.len()).sum();
    println!(
        "STDIN-SUMMARY name={} packets={} bytes={} first_ns={} error={}",
        source.name(),
        result.packets.len(),
        total_bytes,
        result
            .packets
            .first()
            .map_or(0, |packet| packet.timestamp_ns),
        result.error.is_some()
    );
}

#[test]
fn dash_reads_standard_input() {
    let mut child = Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "stdin_helper",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(STDIN_HELPER_VARIABLE, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the helper");
    let bytes =
        std::fs::read(corpus("fmt-pcap-nsec-sll-tcp-handshake.pcap")).expect("read corpus file");
    let mut stdin = child.stdin.take().expect("child stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&bytes).expect("write to the helper"));
    let output = child.wait_with_output().expect("wait for the helper");
    writer.join().expect("writer thread");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "helper failed: {stdout}");
    // tshark: 3 packets of 76, 76 and 68 bytes; the first at 1418145369.924505488.
    assert!(
        stdout.contains(
            "STDIN-SUMMARY name=- packets=3 bytes=220 first_ns=1418145369924505488 error=false"
        ),
        "{stdout}"
    );
}

#[test]
fn pipe_with_other_inputs_is_rejected() {
    let Err(error) = open_inputs(&[corpus("arp-who-has.pcap"), PathBuf::from("-")]) else {
        panic!("standard input with a file must be rejected");
    };
    let message = error.to_string();
    assert!(
        matches!(error, SourceError::Unsupported { .. }),
        "{message}"
    );
    assert!(message.starts_with("-: "), "{message}");
    assert!(message.contains("standard input"), "{message}");
    assert!(message.contains("only input"), "{message}");

    let fifo = temp_path(&format!("{}-rejected.fifo", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo")
        .success());
    let result = open_inputs(&[corpus("arp-who-has.pcap"), fifo.clone()]);
    std::fs::remove_file(&fifo).expect("remove fifo");
    let Err(error) = result else {
        panic!("a FIFO with a file must be rejected");
    };
    let message = error.to_string();
    assert!(message.contains("pipe"), "{message}");
    assert!(message.contains(&*fifo.to_string_lossy()), "{message}");
}

#[test]
fn directory_is_rejected() {
    let directory = corpus("");
    let Err(error) = open_inputs(&[directory]) else {
        panic!("a directory must be rejected");
    };
    assert!(error.to_string().contains("directory"), "{error}");
}

#[test]
fn missing_file_names_the_path() {
    let path = corpus("no-such-capture.pcap");
    let Err(error) = open_inputs(std::slice::from_ref(&path)) else {
        panic!("a missing file must be an error");
    };
    let message = error.to_string();
    assert!(matches!(error, SourceError::Io { .. }), "{message}");
    assert!(message.contains(&*path.to_string_lossy()), "{message}");
}

#[test]
fn no_inputs_is_an_error() {
    let Err(error) = open_inputs(&[]) else {
        panic!("no inputs must be an error");
    };
    assert!(
        error.to_string().contains("no capture input was given"),
        "{error}"
    );
}
