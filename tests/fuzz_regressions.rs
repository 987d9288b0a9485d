//! Runs the bodies of the fuzz targets in a normal `cargo test`: on the
//! inputs kept under `fuzz/regressions/TARGET/`, so a bug the fuzzers once
//! found cannot return unnoticed, and on every capture of the test corpus and
//! of tcpdump's test suite. `scripts/fuzz.sh` copies each new find to
//! `fuzz/regressions/`.

#[path = "../fuzz/src/cases.rs"]
mod cases;

use std::path::{Path, PathBuf};

use naudit_engine::{BatchStatus, LinkType, PacketSource};

/// Packets of one capture fed to the `flows` body, which keeps its input's
/// packets in memory.
const MAX_FLOW_PACKETS: usize = 4096;

/// Lists the files in `folder`, sorted by name, or none when it is missing.
fn files_in(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(folder) {
        Ok(entries) => entries.map(|entry| entry.expect("folder entry").path()).collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => panic!("read {}: {error}", folder.display()),
    };
    files.retain(|path| path.is_file());
    files.sort();
    files
}

/// Lists the capture files of the corpus and of tcpdump's test suite.
fn captures() -> Vec<PathBuf> {
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut captures = files_in(&tests.join("corpus/pcap"));
    captures.extend(files_in(&tests.join("tcpdump-captures")));
    captures.retain(|path| path.extension().is_some_and(|extension| extension != "tsv"));
    assert!(captures.len() > 900, "captures in tests/corpus/pcap and tests/tcpdump-captures");
    captures
}

/// Runs `case` on every kept find of `target` and returns how many there were.
fn replay_finds(target: &str, case: fn(&[u8])) -> usize {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let finds = files_in(&folder);
    for path in &finds {
        let input = std::fs::read(path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
        let result = std::panic::catch_unwind(|| case(&input));
        assert!(result.is_ok(), "fuzz regression input {} fails again", path.display());
    }
    finds.len()
}

/// Reads the packets of a capture as (link type, packet) pairs, up to the
/// end or the first damaged record.
fn packets_of(capture: &Path) -> Vec<(LinkType, Vec<u8>)> {
    let Ok(mut source) = naudit_pcap::open_inputs(&[capture.to_path_buf()]) else {
        return Vec::new();
    };
    let mut packets = Vec::new();
    while let Ok(BatchStatus::Packets(_)) = source.next_batch(|batch| {
        packets.extend(batch.iter().map(|view| (view.link_type, view.data.to_vec())));
    }) {}
    packets
}

#[test]
fn decode_finds_and_captures() {
    let finds = replay_finds("decode", cases::decode);
    let mut packets = 0;
    for capture in captures() {
        for (link_type, data) in packets_of(&capture) {
            // The target reads the link type modulo 300 from two bytes.
            assert!(link_type.0 < 300, "{}: link type {}", capture.display(), link_type.0);
            let mut input = link_type.0.to_le_bytes().to_vec();
            input.extend_from_slice(&data);
            let result = std::panic::catch_unwind(|| cases::decode(&input));
            assert!(result.is_ok(), "{}: packet {} fails to decode", capture.display(), packets + 1);
            packets += 1;
        }
    }
    println!("decode: {finds} kept finds and {packets} capture packets");
    assert!(packets > 10_000, "capture packets decoded");
}

#[test]
fn flows_finds_and_captures() {
    let finds = replay_finds("flows", cases::flows);
    let mut sequences = 0;
    for capture in captures() {
        let packets = packets_of(&capture);
        if packets.is_empty() || packets.iter().any(|(link_type, _)| *link_type != LinkType::ETHERNET) {
            continue;
        }
        // Time steps of 1 ms, so flows also time out between packets.
        let mut input = Vec::new();
        for (_, data) in packets.iter().take(MAX_FLOW_PACKETS) {
            let len = data.len().min(usize::from(u16::MAX));
            input.extend_from_slice(&1_000u32.to_le_bytes());
            input.extend_from_slice(&(len as u16).to_le_bytes());
            input.extend_from_slice(&data[..len]);
        }
        let result = std::panic::catch_unwind(|| cases::flows(&input));
        assert!(result.is_ok(), "{}: the flow shard check fails", capture.display());
        sequences += 1;
    }
    println!("flows: {finds} kept finds and {sequences} Ethernet captures");
    assert!(sequences > 500, "Ethernet captures fed to the flow shard");
}

#[test]
fn capture_file_finds_and_captures() {
    let finds = replay_finds("capture_file", cases::capture_file);
    let captures = captures();
    for capture in &captures {
        let input = std::fs::read(capture).expect("read capture");
        let result = std::panic::catch_unwind(|| cases::capture_file(&input));
        assert!(result.is_ok(), "{}: the file readers disagree", capture.display());
    }
    println!("capture_file: {finds} kept finds and {} captures", captures.len());
}
