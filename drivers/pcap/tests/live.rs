//! Live capture through libpcap on a veth pair that each test creates (see
//! `netns/mod.rs`): tcpreplay sends a corpus capture from a network
//! namespace of the test's own, and `LiveSource` captures on the other end.
//!
//! These tests need root, because they create namespaces and links and open
//! packet sockets. Run as another user they fail with a message that names
//! the cause. Every link and namespace is removed when its test ends,
//! whether it passes or fails.

mod common;
mod netns;

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use common::{corpus, Packet};
use naudit_engine::{BatchStatus, LinkType, PacketSource, SourceError};
use naudit_pcap::{list_devices, BpfFilter, FilterError, LiveConfig, LiveSource};
use netns::{
    capture, data_of, now_ns, read_corpus, require_root, total_bytes, TestLink, REPLAYED_FILE,
    TIMEOUT_MS,
};

#[test]
fn replay_arrives_complete() {
    let link = TestLink::create(true);
    let sent = read_corpus(REPLAYED_FILE);
    let mut source = LiveSource::open(&link.config()).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(source.link_type(), LinkType::ETHERNET);
    assert_eq!(source.name(), link.host);

    let replay_start_ns = now_ns();
    link.replay(&corpus(REPLAYED_FILE), 1, sent.len());
    let replay_end_ns = now_ns();
    let received = capture(&mut source, sent.len());

    assert_eq!(received.len(), 136);
    assert_eq!(received.len(), sent.len());
    assert_eq!(total_bytes(&received), 25_260);
    assert_eq!(total_bytes(&received), total_bytes(&sent));
    assert_eq!(
        data_of(&received),
        data_of(&sent),
        "packets must arrive whole and in order"
    );
    for packet in &received {
        assert_eq!(packet.wire_len as usize, packet.data.len());
        assert_eq!(packet.link_type, LinkType::ETHERNET.0);
        assert_eq!(packet.port, 0);
    }

    // Timestamps are capture times in nanoseconds since 1970.
    let timestamps: Vec<u64> = received.iter().map(|packet| packet.timestamp_ns).collect();
    assert!(
        timestamps.windows(2).all(|pair| pair[0] <= pair[1]),
        "{timestamps:?}"
    );
    assert!(
        timestamps[0] >= replay_start_ns,
        "{} < {replay_start_ns}",
        timestamps[0]
    );
    assert!(timestamps[timestamps.len() - 1] <= replay_end_ns);
    assert!(
        timestamps.iter().any(|ns| ns % 1_000 != 0),
        "every timestamp is a whole microsecond, so nanosecond precision was not applied"
    );

    source.refresh_drop_counters();
    let counters = source.counters();
    assert_eq!(counters.received_pkts, 136);
    assert_eq!(counters.truncated_pkts, 0);
    assert_eq!(counters.kernel_dropped_pkts, 0);
    assert_eq!(counters.nic_dropped_pkts, 0);
    assert_eq!(counters.driver_dropped_pkts, 0);
}

#[test]
fn kernel_filter_keeps_dns_only() {
    let link = TestLink::create(true);
    let sent = read_corpus(REPLAYED_FILE);
    let dns = BpfFilter::compile("udp port 53", LinkType::ETHERNET, 262_144).expect("compile");
    let expected: Vec<Packet> = sent
        .into_iter()
        .filter(|packet| dns.matches(&packet.data, packet.wire_len))
        .collect();
    // tshark -r http-dns-wikipedia-multiflow.pcap -Y 'udp.port == 53'
    assert_eq!(expected.len(), 28);

    let config = LiveConfig {
        filter: Some("udp port 53".to_owned()),
        ..link.config()
    };
    let mut source = LiveSource::open(&config).unwrap_or_else(|error| panic!("{error}"));
    link.replay(&corpus(REPLAYED_FILE), 1, 136);
    let received = capture(&mut source, expected.len());

    assert_eq!(received.len(), 28);
    assert_eq!(total_bytes(&received), 3_573);
    assert_eq!(data_of(&received), data_of(&expected));
    assert_eq!(source.counters().received_pkts, 28);
}

#[test]
fn short_snaplen_truncates_and_counts() {
    const SNAPLEN_BYTES: u32 = 64;
    let link = TestLink::create(true);
    let sent = read_corpus(REPLAYED_FILE);
    let longer = sent
        .iter()
        .filter(|packet| packet.data.len() > SNAPLEN_BYTES as usize)
        .count();

    let config = LiveConfig {
        snaplen_bytes: SNAPLEN_BYTES,
        ..link.config()
    };
    let mut source = LiveSource::open(&config).unwrap_or_else(|error| panic!("{error}"));
    link.replay(&corpus(REPLAYED_FILE), 1, sent.len());
    let received = capture(&mut source, sent.len());

    assert_eq!(received.len(), sent.len());
    for (got, original) in received.iter().zip(&sent) {
        let kept = original.data.len().min(SNAPLEN_BYTES as usize);
        assert_eq!(got.data, original.data[..kept]);
        assert_eq!(got.wire_len as usize, original.data.len());
    }
    assert_eq!(source.counters().truncated_pkts, longer as u64);
    assert!(
        longer > 0,
        "the replayed capture has packets longer than {SNAPLEN_BYTES} bytes"
    );
}

#[test]
fn full_buffer_counts_kernel_drops() {
    // One 256 KiB ring block (libpcap 1.10's TPACKET_V3 block for this
    // buffer size), not read while 20 copies of the capture arrive: the
    // kernel fills the block and drops the rest.
    const LOOPS: u32 = 20;
    let link = TestLink::create(true);
    let sent_pkts = read_corpus(REPLAYED_FILE).len() * LOOPS as usize;
    let config = LiveConfig {
        buffer_size_bytes: 262_144,
        ..link.config()
    };
    let mut source = LiveSource::open(&config).unwrap_or_else(|error| panic!("{error}"));
    link.replay(&corpus(REPLAYED_FILE), LOOPS, sent_pkts);
    let received = capture(&mut source, 1);

    source.refresh_drop_counters();
    let counters = source.counters();
    assert!(counters.kernel_dropped_pkts > 0, "{counters:?}");
    assert_eq!(counters.received_pkts, received.len() as u64);
    assert_eq!(
        counters.received_pkts + counters.kernel_dropped_pkts,
        sent_pkts as u64,
        "every sent packet is either received or counted as dropped: {counters:?}"
    );
}

#[test]
fn quiet_link_returns_idle() {
    let link = TestLink::create(true);
    let mut source = LiveSource::open(&link.config()).unwrap_or_else(|error| panic!("{error}"));
    for _ in 0..3 {
        let start = Instant::now();
        let mut called = false;
        let status = source
            .next_batch(|_| called = true)
            .unwrap_or_else(|error| panic!("{error}"));
        let waited = start.elapsed();
        assert_eq!(status, BatchStatus::Idle);
        assert!(!called, "Idle must not call the closure");
        assert!(
            waited >= Duration::from_millis(TIMEOUT_MS as u64 / 2),
            "returned Idle after {waited:?}, so it did not wait for packets"
        );
        assert!(
            waited < Duration::from_secs(5),
            "waited {waited:?} for a {TIMEOUT_MS} ms timeout"
        );
    }
}

#[test]
fn missing_interface_is_not_found() {
    require_root();
    let Err(error) = LiveSource::open(&LiveConfig::new("nauditd-none0")) else {
        panic!("an interface that does not exist must not open");
    };
    let message = error.to_string();
    let SourceError::Io { source, .. } = &error else {
        panic!("expected an I/O error, got {error:?}");
    };
    assert_eq!(source.kind(), ErrorKind::NotFound, "{message}");
    assert!(message.starts_with("nauditd-none0: "), "{message}");
    assert!(message.contains("no such capture device"), "{message}");
    assert!(message.contains("nauditd -D"), "{message}");
}

#[test]
fn down_interface_is_reported() {
    let link = TestLink::create(false);
    let Err(error) = LiveSource::open(&link.config()) else {
        panic!("an interface that is down must not open");
    };
    let message = error.to_string();
    assert!(message.contains("the interface is down"), "{message}");
    assert!(
        message.contains(&format!("ip link set dev {} up", link.host)),
        "{message}"
    );
}

/// Removes `CAP_NET_RAW` from the calling thread's effective capabilities.
/// Capabilities belong to threads on Linux, so other threads keep theirs.
fn drop_cap_net_raw_in_this_thread() {
    /// `_LINUX_CAPABILITY_VERSION_3` (linux/capability.h): 64-bit sets in
    /// two 32-bit halves.
    const CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    const CAP_NET_RAW: usize = 13;

    #[repr(C)]
    struct CapabilityHeader {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct CapabilityData {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }

    let mut header = CapabilityHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapabilityData::default(); 2];
    // SAFETY: the header and the two data structures are the layout that
    // capget and capset take for version 3, and they outlive both calls.
    let got = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    assert_eq!(got, 0, "capget: {}", std::io::Error::last_os_error());
    data[0].effective &= !(1 << CAP_NET_RAW);
    // SAFETY: as above.
    let set = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    assert_eq!(set, 0, "capset: {}", std::io::Error::last_os_error());
}

#[test]
fn missing_capability_is_permission_denied() {
    require_root();
    let result = std::thread::spawn(|| {
        drop_cap_net_raw_in_this_thread();
        LiveSource::open(&LiveConfig::new("lo")).map(|_| ())
    })
    .join()
    .expect("capture thread");
    let Err(error) = result else {
        panic!("capture without CAP_NET_RAW must fail");
    };
    let message = error.to_string();
    let SourceError::Io { source, .. } = &error else {
        panic!("expected an I/O error, got {error:?}");
    };
    assert_eq!(source.kind(), ErrorKind::PermissionDenied, "{message}");
    assert!(message.contains("run nauditd as root"), "{message}");
    assert!(
        message.contains("CAP_NET_RAW and CAP_NET_ADMIN"),
        "{message}"
    );
}

#[test]
fn invalid_filter_names_expression() {
    let link = TestLink::create(true);
    let config = LiveConfig {
        filter: Some("udp port domian".to_owned()),
        ..link.config()
    };
    let Err(error) = LiveSource::open(&config) else {
        panic!("a misspelt service name must not compile");
    };
    let message = error.to_string();
    let SourceError::Io { source, .. } = &error else {
        panic!("expected an I/O error, got {error:?}");
    };
    assert_eq!(source.kind(), ErrorKind::InvalidInput, "{message}");
    let filter_error = source
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<FilterError>())
        .unwrap_or_else(|| panic!("the source must be a FilterError: {message}"));
    assert!(
        matches!(filter_error, FilterError::Invalid { link_type: 1, .. }),
        "{filter_error:?}"
    );
    assert!(message.contains("invalid capture filter"), "{message}");
    assert!(message.contains("\"udp port domian\""), "{message}");
    assert!(
        message.contains("domian"),
        "libpcap's message names the unknown port: {message}"
    );
}

#[test]
fn device_list_shows_link() {
    let link = TestLink::create(true);
    let devices = list_devices().unwrap_or_else(|error| panic!("{error}"));
    let device = devices
        .iter()
        .find(|device| device.name == link.host)
        .unwrap_or_else(|| panic!("{} is not in {devices:#?}", link.host));
    assert!(device.up, "{device:?}");
    assert!(device.running, "{device:?}");
    assert!(!device.loopback, "{device:?}");
    assert!(device.addresses.is_empty(), "{device:?}");
    assert!(
        device
            .to_string()
            .starts_with(&format!("{} [up, running]", link.host)),
        "{device}"
    );
}

#[test]
fn any_device_opens_with_default_settings() {
    // libpcap warns about promiscuous mode on `any`, and the pcap crate
    // turns that warning into an error, so the source leaves the mode off.
    require_root();
    let source =
        LiveSource::open(&LiveConfig::new("any")).unwrap_or_else(|error| panic!("{error}"));
    assert!(
        [LinkType::LINUX_SLL, LinkType::LINUX_SLL2].contains(&source.link_type()),
        "{:?}",
        source.link_type()
    );
}
