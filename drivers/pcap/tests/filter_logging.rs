//! The warning of a filtered file input whose expression does not compile
//! for some of its link types: one per link type, never one per packet.
//!
//! This test has a binary of its own because tracing-core (0.1.36) caches,
//! per log call site, whether the call site is enabled. While only one
//! subscriber is registered, it decides from the subscriber of the thread
//! that reaches the call site first, so another test's thread with no
//! subscriber would disable the call site for the one this test installs.

mod common;
mod recorder;

use common::{corpus, read_all};
use naudit_pcap::{FilteredSource, MappedSource};
use recorder::Recorder;

#[test]
fn expression_valid_for_one_link_type_is_accepted() {
    // libpcap has no `vlan` for Linux cooked capture or raw IP, so the
    // expression compiles only for the pcapng's Ethernet interface. The
    // other link types' packets are rejected and counted, with one warning
    // per link type. (`vlan` comes after `icmp` because it moves the
    // offsets of the primitives that follow it.)
    let recorder = Recorder::default();
    let file_name = "fmt-pcapng-derived-3-linktypes.pcapng";
    let (packets, filter_counters) = tracing::subscriber::with_default(recorder.clone(), || {
        let inner = MappedSource::open(&corpus(file_name)).expect("open");
        let mut source = FilteredSource::new(inner, "icmp or vlan").expect("filter");
        let result = read_all(&mut source);
        assert!(result.error.is_none(), "{:?}", result.error);
        (result.packets, source.filter_counters())
    });

    assert_eq!(packets.len(), 10, "the ten Ethernet ICMP packets");
    assert!(packets.iter().all(|packet| packet.port == 0));
    assert_eq!(filter_counters.accepted_pkts, 10, "{filter_counters:?}");
    assert_eq!(filter_counters.rejected_pkts, 0, "{filter_counters:?}");
    assert_eq!(
        filter_counters.uncompiled_link_type_pkts, 7,
        "{filter_counters:?}"
    );

    let lines = recorder.lines();
    let warnings: Vec<&String> = lines
        .iter()
        .filter(|line| line.starts_with("WARN"))
        .collect();
    assert_eq!(warnings.len(), 2, "{lines:#?}");
    assert!(warnings[0].contains("link_type=276"), "{}", warnings[0]);
    assert!(warnings[0].contains("no VLAN support"), "{}", warnings[0]);
    assert!(warnings[1].contains("link_type=101"), "{}", warnings[1]);
}
