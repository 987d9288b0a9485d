//! Splitting a capture by nauditd's worker hash: one file per worker, with
//! exactly the packets that worker keeps when nauditd reads the capture with
//! that many workers.
//!
//! One-worker runs on these files, all at once, are the ceiling for
//! `--workers N` on this machine: the same packets per core, in the same
//! order, and nothing spent on passing over the other workers' packets.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use naudit_engine::fanout::{packet_worker_hash, worker_index};
use naudit_engine::LinkType;

use crate::floor::map_capture;
use crate::pcap::{PcapWriter, Records, LINKTYPE_ETHERNET};

/// Bytes of each output file's write buffer.
const WRITE_BUFFER_BYTES: usize = 1 << 20;

/// Returns the path of worker `index`'s share of `capture` among `workers`.
fn share_path(capture: &Path, index: usize, workers: usize) -> PathBuf {
    let stem = capture.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    capture.with_file_name(format!("{stem}.worker-{}-of-{workers}.pcap", index + 1))
}

/// Writes the share of each of `workers` workers next to `capture` and
/// returns the paths with each file's packet count.
///
/// The capture must be a classic pcap file of Ethernet frames, with
/// microsecond timestamps and nothing cut off, as the generator writes.
pub fn split_by_worker(capture: &Path, workers: usize) -> Result<Vec<(PathBuf, u64)>, String> {
    let map = map_capture(capture).map_err(|error| format!("{}: {error}", capture.display()))?;
    let mut records = Records::new(&map).map_err(|error| format!("{}: {error}", capture.display()))?;
    if records.link_type() != LINKTYPE_ETHERNET {
        return Err(format!(
            "{}: invalid capture: link type {}, expected Ethernet (1); regenerate it with naudit-gen",
            capture.display(),
            records.link_type()
        ));
    }

    let mut outputs = Vec::with_capacity(workers);
    for index in 0..workers {
        let path = share_path(capture, index, workers);
        let file = File::create(&path).map_err(|error| format!("{}: {error}", path.display()))?;
        let writer = PcapWriter::new(BufWriter::with_capacity(WRITE_BUFFER_BYTES, file)).map_err(|error| format!("{}: {error}", path.display()))?;
        outputs.push((path, writer, 0u64));
    }
    for record in &mut records {
        if record.data.len() != record.wire_len as usize {
            return Err(format!(
                "{}: invalid capture: a frame is shorter than its wire length; regenerate it with naudit-gen",
                capture.display()
            ));
        }
        let index = worker_index(packet_worker_hash(LinkType::ETHERNET, record.data), workers);
        let (path, writer, packets) = &mut outputs[index];
        writer.write_frame(record.timestamp_ns, record.data).map_err(|error| format!("{}: {error}", path.display()))?;
        *packets += 1;
    }
    if records.truncated() {
        return Err(format!("{}: invalid capture: the last record is cut off; regenerate it with naudit-gen", capture.display()));
    }
    outputs
        .into_iter()
        .map(|(path, writer, packets)| {
            writer.finish().map_err(|error| format!("{}: {error}", path.display()))?;
            Ok((path, packets))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mixes::StandardMix;
    use crate::traffic;

    #[test]
    fn shares_contain_each_packet_once() {
        let dir = std::env::temp_dir().join(format!("naudit-split-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        let capture = dir.join("imix.pcap");
        let mix = StandardMix::named("imix").expect("imix is standard").scaled(0.0005);
        let summary = traffic::write_capture_file(&mix, &capture).expect("capture written");

        let shares = split_by_worker(&capture, 2).expect("split");
        assert_eq!(shares.len(), 2);
        assert_eq!(shares.iter().map(|(_, packets)| packets).sum::<u64>(), summary.packets);
        for (index, (path, packets)) in shares.iter().enumerate() {
            assert!(*packets > 0, "worker {index} got no packet");
            let bytes = std::fs::read(path).expect("share readable");
            let mut last_ns = 0;
            for record in Records::new(&bytes).expect("a pcap file") {
                assert_eq!(worker_index(packet_worker_hash(LinkType::ETHERNET, record.data), 2), index);
                assert!(record.timestamp_ns >= last_ns, "packets out of order");
                last_ns = record.timestamp_ns;
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
