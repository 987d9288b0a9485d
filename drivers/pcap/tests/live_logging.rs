//! The log lines of a live capture: one when it opens, one when it closes.
//!
//! This test has a binary of its own because tracing-core (0.1.36) caches,
//! per log call site, whether the call site is enabled. While only one
//! subscriber is registered, it decides from the subscriber of the thread
//! that reaches the call site first, so another test's thread with no
//! subscriber would disable the call site for the one this test installs.
//!
//! It needs root, as the other live capture tests do.

mod common;
mod netns;
mod recorder;

use common::corpus;
use naudit_pcap::{LiveConfig, LiveSource};
use netns::{capture, TestLink, REPLAYED_FILE};
use recorder::Recorder;

#[test]
fn open_and_close_are_logged() {
    let link = TestLink::create(true);
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        let config = LiveConfig {
            filter: Some("udp port 53".to_owned()),
            ..link.config()
        };
        let mut source = LiveSource::open(&config).unwrap_or_else(|error| panic!("{error}"));
        link.replay(&corpus(REPLAYED_FILE), 1, 136);
        capture(&mut source, 28);
    });

    let lines = recorder.lines();
    let info: Vec<&String> = lines
        .iter()
        .filter(|line| line.starts_with("INFO"))
        .collect();
    assert_eq!(info.len(), 2, "{lines:#?}");
    let opened = info[0];
    assert!(opened.contains("opened live capture"), "{opened}");
    assert!(
        opened.contains(&format!("interface=\"{}\"", link.host)),
        "{opened}"
    );
    assert!(opened.contains("snaplen_bytes=262144"), "{opened}");
    assert!(opened.contains("buffer_size_bytes=16777216"), "{opened}");
    assert!(opened.contains("filter=\"udp port 53\""), "{opened}");
    assert!(opened.contains("timestamps=\"nanoseconds\""), "{opened}");
    let closed = info[1];
    assert!(closed.contains("closed live capture"), "{closed}");
    assert!(closed.contains("received_packets=28"), "{closed}");
    assert!(closed.contains("kernel_dropped_packets=0"), "{closed}");
    assert!(
        lines.iter().all(|line| !line.starts_with("WARN")),
        "no warning on a clean capture: {lines:#?}"
    );
}
