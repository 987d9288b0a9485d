//! Live tests of the AF_PACKET driver on a veth pair in a network namespace
//! that each test creates and removes. They need root, `ip`, `sysctl` and
//! `tcpreplay`, and fail with instructions without them.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::thread;
use std::time::{Duration, Instant};

use common::{
    capture_during, corpus, flow_key, frame_differences, hex_prefix, now_ns, read_capture_file,
    require_live_environment, Captured, FilePacket, LogCapture, QueueResult, TestNetwork,
};
use naudit_engine::{BatchStatus, LinkType, PacketSource, SourceError};
use naudit_tilera_compat::{list_interfaces, AfPacketConfig, AfPacketDriver, OperState};

/// Wikipedia page load with DNS, five HTTP connections, NetBIOS, mDNS, LLMNR,
/// ARP and STP frames: 136 Ethernet frames.
const MULTIFLOW_CAPTURE: &str = "http-dns-wikipedia-multiflow.pcap";

/// Captures with 802.1Q and 802.1ad tags, including stacked tags and a
/// priority tag with VLAN id 0.
const VLAN_CAPTURES: [&str; 4] = [
    "vlan-8021q-icmp-arp.pcap",
    "qinq-8100-8100-http.pcap",
    "qinq-88a8-arp.pcap",
    "vlan-id0-priority-tag-http.pcap",
];

/// Returns a configuration with a small ring for tests: 4 blocks of 1 MiB
/// per queue, each large enough for one frame of the default 256 KiB
/// snapshot length.
fn test_config(network: &TestNetwork, queues: usize) -> AfPacketConfig {
    AfPacketConfig {
        queues,
        block_size_bytes: 1 << 20,
        block_count: 4,
        ..AfPacketConfig::for_interface(network.host_interface.clone())
    }
}

/// Returns every packet the queues captured except frames the veth ends
/// sent by themselves, and prints how many of those there were.
fn replayed_packets<'a>(network: &TestNetwork, results: &'a [QueueResult]) -> Vec<&'a Captured> {
    let all: Vec<&Captured> = results
        .iter()
        .flat_map(|result| result.packets.iter())
        .collect();
    let (chatter, replayed): (Vec<&Captured>, Vec<&Captured>) = all
        .into_iter()
        .partition(|packet| network.is_local_chatter(&packet.data));
    if !chatter.is_empty() {
        eprintln!(
            "left out {} frames that the veth ends sent by themselves",
            chatter.len()
        );
    }
    replayed
}

fn assert_no_queue_errors(results: &[QueueResult]) {
    for result in results {
        assert_eq!(result.error, None, "queue {} failed", result.queue);
    }
}

/// Asserts that the captured frames are exactly the file's frames, each once.
fn assert_same_frames(file: &[FilePacket], captured: &[&Captured]) {
    let (missing, extra) = frame_differences(
        file.iter().map(|packet| packet.data.as_slice()),
        captured.iter().map(|packet| packet.data.as_slice()),
    );
    let missing_shown: Vec<String> = missing
        .iter()
        .take(5)
        .map(|frame| hex_prefix(frame))
        .collect();
    let extra_shown: Vec<String> = extra
        .iter()
        .take(5)
        .map(|frame| hex_prefix(frame))
        .collect();
    assert!(
        missing.is_empty(),
        "{} replayed frames were not captured, such as {missing_shown:#?}",
        missing.len()
    );
    assert!(
        extra.is_empty(),
        "{} captured frames were not in the capture file, such as {extra_shown:#?}",
        extra.len()
    );
}

#[test]
fn replay_reaches_each_queue_once() {
    let _lock = require_live_environment();
    let file = read_capture_file(&corpus(MULTIFLOW_CAPTURE));
    let network = TestNetwork::create(true);
    let queues = AfPacketDriver::open(&test_config(&network, 2))
        .expect("AF_PACKET capture opens on the veth");
    assert_eq!(queues.len(), 2);
    let group_ids: BTreeSet<u16> = queues.iter().map(|queue| queue.fanout_group_id()).collect();
    assert_eq!(
        group_ids.len(),
        1,
        "both queues must share one fanout group"
    );

    let start_ns = now_ns();
    let results = capture_during(queues, file.len() as u64, || {
        network.replay(&corpus(MULTIFLOW_CAPTURE));
    });
    let end_ns = now_ns();
    assert_no_queue_errors(&results);
    let captured = replayed_packets(&network, &results);

    // Every replayed packet arrived exactly once across the queues.
    let file_bytes: u64 = file.iter().map(|packet| u64::from(packet.wire_len)).sum();
    let captured_bytes: u64 = captured
        .iter()
        .map(|packet| u64::from(packet.wire_len))
        .sum();
    assert_eq!(captured.len(), file.len(), "packet count across queues");
    assert_eq!(captured_bytes, file_bytes, "wire bytes across queues");
    assert_same_frames(&file, &captured);

    // A few packets byte for byte, at the start, middle and end of the file.
    for index in [0, 1, file.len() / 2, file.len() - 1] {
        let matches = captured
            .iter()
            .filter(|packet| packet.data == file[index].data)
            .count();
        assert!(
            matches >= 1,
            "file packet {index} ({}) was not captured",
            hex_prefix(&file[index].data)
        );
    }

    for packet in &captured {
        assert_eq!(packet.link_type, LinkType::ETHERNET.0);
        assert_eq!(
            usize::from(packet.port),
            packet.queue,
            "port is the queue index"
        );
        assert_eq!(
            packet.wire_len as usize,
            packet.data.len(),
            "no packet is cut at the default snapshot length"
        );
        assert!(
            packet.timestamp_ns >= start_ns.saturating_sub(1_000_000_000)
                && packet.timestamp_ns <= end_ns + 1_000_000_000,
            "timestamp {} is outside the test's run {start_ns}..{end_ns}",
            packet.timestamp_ns
        );
    }

    // Both directions of each TCP and UDP flow reached the same queue.
    let mut flow_queues: BTreeMap<common::FlowKey, (BTreeSet<usize>, BTreeSet<bool>)> =
        BTreeMap::new();
    for packet in &captured {
        if let Some((key, forward)) = flow_key(&packet.data) {
            let entry = flow_queues.entry(key).or_default();
            entry.0.insert(packet.queue);
            entry.1.insert(forward);
        }
    }
    let two_way_flows = flow_queues
        .values()
        .filter(|(_, directions)| directions.len() == 2)
        .count();
    assert!(
        two_way_flows >= 20,
        "the capture has 5 TCP and 15 DNS flows seen both ways, found {two_way_flows}"
    );
    for (key, (queues, _)) in &flow_queues {
        assert_eq!(
            queues.len(),
            1,
            "flow {key:?} was split across queues {queues:?}"
        );
    }

    // The kernel's hash spread the flows over both queues.
    let per_queue: Vec<usize> = results.iter().map(|result| result.packets.len()).collect();
    let flows_per_queue: Vec<usize> = (0..2)
        .map(|queue| {
            flow_queues
                .values()
                .filter(|(queues, _)| queues.contains(&queue))
                .count()
        })
        .collect();
    eprintln!(
        "per-queue packets {per_queue:?}, TCP/UDP flows per queue {flows_per_queue:?}, batches {:?}, idle calls {:?}",
        results.iter().map(|result| result.batches).collect::<Vec<_>>(),
        results.iter().map(|result| result.idle_calls).collect::<Vec<_>>()
    );
    assert!(
        per_queue.iter().all(|count| *count > 0),
        "one queue got no packet: {per_queue:?}"
    );

    // The counters agree with what was delivered.
    for result in &results {
        assert_eq!(
            result.counters.received_pkts,
            result.packets.len() as u64,
            "queue {} received",
            result.queue
        );
        assert_eq!(
            result.counters.kernel_dropped_pkts, 0,
            "queue {} kernel drops",
            result.queue
        );
        assert_eq!(
            result.counters.driver_dropped_pkts, 0,
            "queue {} driver drops",
            result.queue
        );
        assert_eq!(
            result.counters.truncated_pkts, 0,
            "queue {} truncated",
            result.queue
        );
    }
}

#[test]
fn snaplen_cuts_and_counts_truncated() {
    let _lock = require_live_environment();
    const SNAPLEN: u32 = 96;
    let file = read_capture_file(&corpus(MULTIFLOW_CAPTURE));
    let network = TestNetwork::create(true);
    let config = AfPacketConfig {
        frame_size_bytes: SNAPLEN,
        ..test_config(&network, 2)
    };
    let queues = AfPacketDriver::open(&config).expect("AF_PACKET capture opens on the veth");

    let results = capture_during(queues, file.len() as u64, || {
        network.replay(&corpus(MULTIFLOW_CAPTURE));
    });
    assert_no_queue_errors(&results);
    let captured = replayed_packets(&network, &results);

    let expected_cut: Vec<Vec<u8>> = file
        .iter()
        .map(|packet| packet.data[..packet.data.len().min(SNAPLEN as usize)].to_vec())
        .collect();
    let (missing, extra) = frame_differences(
        expected_cut.iter().map(Vec::as_slice),
        captured.iter().map(|packet| packet.data.as_slice()),
    );
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} cut frames missing, {} extra",
        missing.len(),
        extra.len()
    );

    let file_bytes: u64 = file.iter().map(|packet| u64::from(packet.wire_len)).sum();
    let captured_bytes: u64 = captured
        .iter()
        .map(|packet| u64::from(packet.wire_len))
        .sum();
    assert_eq!(captured_bytes, file_bytes, "wire lengths survive the cut");

    let longer_than_snaplen = file
        .iter()
        .filter(|packet| packet.wire_len > SNAPLEN)
        .count() as u64;
    let truncated: u64 = results
        .iter()
        .map(|result| result.counters.truncated_pkts)
        .sum();
    assert!(
        longer_than_snaplen > 0,
        "the capture has packets longer than {SNAPLEN} bytes"
    );
    assert_eq!(
        truncated, longer_than_snaplen,
        "truncated_pkts counts every packet longer than the snapshot length"
    );
}

#[test]
fn host_sent_packets_are_captured() {
    let _lock = require_live_environment();
    let file = read_capture_file(&corpus(MULTIFLOW_CAPTURE));
    let network = TestNetwork::create(true);
    let queues = AfPacketDriver::open(&test_config(&network, 2))
        .expect("AF_PACKET capture opens on the veth");

    let results = capture_during(queues, file.len() as u64, || {
        network.replay_from_host(&corpus(MULTIFLOW_CAPTURE));
    });
    assert_no_queue_errors(&results);
    let captured = replayed_packets(&network, &results);

    assert_eq!(
        captured.len(),
        file.len(),
        "outgoing packet count across queues"
    );
    assert_same_frames(&file, &captured);
}

#[test]
fn vlan_tags_are_restored() {
    let _lock = require_live_environment();
    let files: Vec<FilePacket> = VLAN_CAPTURES
        .iter()
        .flat_map(|name| read_capture_file(&corpus(name)))
        .collect();
    let network = TestNetwork::create(true);
    let queues = AfPacketDriver::open(&test_config(&network, 2))
        .expect("AF_PACKET capture opens on the veth");

    let results = capture_during(queues, files.len() as u64, || {
        for name in VLAN_CAPTURES {
            network.replay(&corpus(name));
        }
    });
    assert_no_queue_errors(&results);
    let captured = replayed_packets(&network, &results);

    assert_eq!(captured.len(), files.len(), "packet count across queues");
    assert_same_frames(&files, &captured);
    for packet in &captured {
        assert_eq!(
            packet.wire_len as usize,
            packet.data.len(),
            "wire length includes the restored tag"
        );
    }
}

#[test]
fn full_ring_counts_kernel_drops() {
    let _lock = require_live_environment();
    let file = read_capture_file(&corpus(MULTIFLOW_CAPTURE));
    let network = TestNetwork::create(true);
    // Two 8 KiB blocks hold a few dozen of the capture's frames.
    let config = AfPacketConfig {
        block_size_bytes: 8192,
        block_count: 2,
        frame_size_bytes: 2048,
        ..test_config(&network, 1)
    };
    let logs = LogCapture::default();

    let (received, counters, freezes) = logs.run(|| {
        let mut queues =
            AfPacketDriver::open(&config).expect("AF_PACKET capture opens on the veth");
        let mut queue = queues.pop().expect("one queue");

        // Nothing reads while the whole file arrives, so the ring fills.
        network.replay(&corpus(MULTIFLOW_CAPTURE));
        thread::sleep(Duration::from_millis(300));

        let mut received = 0u64;
        let deadline = Instant::now() + common::DELIVERY_TIMEOUT;
        let mut idle_since: Option<Instant> = None;
        while Instant::now() < deadline {
            match queue
                .next_batch(|batch| received += batch.len() as u64)
                .expect("queue reads")
            {
                BatchStatus::Packets(_) => idle_since = None,
                BatchStatus::Idle => {
                    let since = *idle_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_millis(500) {
                        break;
                    }
                }
                BatchStatus::End => panic!("a live queue returned End"),
            }
        }
        let counters = queue.counters();
        let freezes = queue.queue_freezes();
        (received, counters, freezes)
    });

    eprintln!(
        "received {received}, kernel dropped {}, ring freezes {freezes}",
        counters.kernel_dropped_pkts
    );
    assert!(
        counters.kernel_dropped_pkts > 0,
        "a 16 KiB ring cannot hold the whole capture"
    );
    assert_eq!(received, counters.received_pkts);
    assert_eq!(
        counters.received_pkts + counters.kernel_dropped_pkts,
        file.len() as u64,
        "every replayed packet is either received or counted as dropped"
    );
    assert!(freezes >= 1, "the kernel froze the full ring at least once");

    let text = logs.text();
    assert!(
        text.contains("opened AF_PACKET capture"),
        "open is logged:\n{text}"
    );
    assert_eq!(
        text.matches("kernel dropped packets because the ring was full")
            .count(),
        1,
        "drops are logged once:\n{text}"
    );
    assert!(
        text.contains("closed AF_PACKET queue"),
        "close is logged:\n{text}"
    );
}

#[test]
fn capture_resumes_after_interface_down() {
    let _lock = require_live_environment();
    let file = read_capture_file(&corpus(MULTIFLOW_CAPTURE));
    let network = TestNetwork::create(true);
    let queues = AfPacketDriver::open(&test_config(&network, 2))
        .expect("AF_PACKET capture opens on the veth");

    let results = capture_during(queues, file.len() as u64, || {
        common::run("ip", &["link", "set", &network.host_interface, "down"]);
        // Long enough for both readers to see the socket error.
        thread::sleep(Duration::from_millis(500));
        common::run("ip", &["link", "set", &network.host_interface, "up"]);
        network.replay(&corpus(MULTIFLOW_CAPTURE));
    });
    assert_no_queue_errors(&results);
    let captured = replayed_packets(&network, &results);

    assert_eq!(
        captured.len(),
        file.len(),
        "packet count across queues after the interface came back"
    );
    assert_same_frames(&file, &captured);
    for result in &results {
        assert!(
            !result.packets.is_empty(),
            "queue {} rejoined the fanout group",
            result.queue
        );
    }
}

#[test]
fn removed_interface_ends_capture() {
    let _lock = require_live_environment();
    let network = TestNetwork::create(true);
    let mut queues = AfPacketDriver::open(&test_config(&network, 1))
        .expect("AF_PACKET capture opens on the veth");
    let mut queue = queues.pop().expect("one queue");

    network.delete_veth();

    let deadline = Instant::now() + Duration::from_secs(10);
    let error = loop {
        assert!(
            Instant::now() < deadline,
            "the queue did not report the removed interface within 10 s"
        );
        match queue.next_batch(|_| {}) {
            Ok(BatchStatus::Idle) => {}
            Ok(status) => panic!("expected no packets from a removed interface, got {status:?}"),
            Err(error) => break error,
        }
    };
    let message = error.to_string();
    assert!(matches!(error, SourceError::Io { .. }), "{message}");
    assert!(
        message.contains("the capture interface was removed"),
        "{message}"
    );
    assert!(
        message.starts_with(&format!("{} queue 0:", network.host_interface)),
        "{message}"
    );
}

#[test]
fn down_interface_is_rejected() {
    let _lock = require_live_environment();
    let network = TestNetwork::create(false);

    let error = AfPacketDriver::open(&test_config(&network, 2))
        .err()
        .expect("open fails on a down interface");

    let message = error.to_string();
    assert!(message.contains("the interface is down"), "{message}");
}

#[test]
fn missing_interface_is_reported() {
    let _lock = require_live_environment();
    let config = AfPacketConfig::for_interface("nd-missing0");

    let error = AfPacketDriver::open(&config)
        .err()
        .expect("open fails on a missing interface");

    let message = error.to_string();
    assert!(
        message.starts_with("nd-missing0: network interface not found"),
        "{message}"
    );
}

#[test]
fn interface_list_shows_test_veth() {
    let _lock = require_live_environment();
    let network = TestNetwork::create(true);

    let interfaces = list_interfaces().expect("/sys/class/net is readable");

    let veth = interfaces
        .iter()
        .find(|interface| interface.name == network.host_interface)
        .expect("the test's veth is listed");
    assert!(veth.admin_up);
    assert_eq!(veth.arphrd, 1, "a veth is an Ethernet device");
    assert_eq!(veth.link_type, Some(LinkType::ETHERNET));
    assert!(veth.index > 1);
    assert!(matches!(
        veth.oper_state,
        OperState::Up | OperState::LowerLayerDown | OperState::Unknown
    ));
}
