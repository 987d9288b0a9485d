//! The driver hands over every packet of a replayed capture unchanged and
//! in order, then ends the input. One test per file: EAL starts once per
//! process.

use std::path::PathBuf;

use naudit_engine::{BatchStatus, PacketSource};

const CAPTURE: &str = "http-dns-wikipedia-multiflow.pcap";

fn capture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/pcap").join(CAPTURE)
}

/// Reads `source` to its end: (wire length, bytes, port) of every packet.
fn read_all(source: &mut impl PacketSource) -> Vec<(u32, Vec<u8>, u16)> {
    let mut packets = Vec::new();
    loop {
        let status = source
            .next_batch(|views| {
                packets.extend(views.iter().map(|view| (view.wire_len_bytes, view.data.to_vec(), view.port)));
            })
            .expect("read packets");
        if status == BatchStatus::End {
            return packets;
        }
    }
}

#[test]
fn replay_delivers_every_packet() {
    let capture = capture_path();
    let mut file = naudit_pcap::open_inputs(&[capture.clone()]).expect("open capture");
    let expected = read_all(&mut file);
    assert!(!expected.is_empty());

    let eal_args = format!(
        "--no-huge --no-pci -m 256 --no-telemetry -l 0 --file-prefix naudit-dpdk-replay-{} --vdev=net_pcap0,rx_pcap={}",
        std::process::id(),
        capture.display()
    );
    let mut input = naudit_dpdk::open(&naudit_dpdk::DpdkConfig::new(eal_args)).expect("open the DPDK driver");
    assert!(input.replays_capture_files);
    assert_eq!(input.queues.len(), 1);
    let mut queue = input.queues.pop().unwrap();
    assert_eq!(queue.name(), "dpdk:0/0");

    let received = read_all(&mut queue);
    assert_eq!(received.len(), expected.len());
    assert_eq!(received, expected);

    let counters = queue.counters();
    assert_eq!(counters.received_pkts, expected.len() as u64);
    assert_eq!(counters.dropped_pkts(), 0);
    assert_eq!(counters.truncated_pkts, 0);

    // Dropping the last queue stops the port and cleans up EAL; a second
    // start in this process is rejected.
    drop(queue);
    let again = naudit_dpdk::open(&naudit_dpdk::DpdkConfig::new("--no-pci"));
    assert!(matches!(again, Err(naudit_dpdk::DpdkError::AlreadyStarted)));
}
