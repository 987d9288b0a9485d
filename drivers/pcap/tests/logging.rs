//! Log lines: one when an input is opened, one when it ends, and for pcapng
//! one per section and interface, but none per packet.

mod common;

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use common::{corpus, read_all};
use naudit_pcap::open_inputs;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// A subscriber that stores each event as "LEVEL message field=value ...".
#[derive(Clone, Default)]
struct Recorder {
    lines: Arc<Mutex<Vec<String>>>,
}

struct LineVisitor<'a>(&'a mut String);

impl Visit for LineVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            self.0.push_str(&format!(" {value:?}"));
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().level().to_string();
        event.record(&mut LineVisitor(&mut line));
        self.lines.lock().expect("log lock").push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Reads one corpus capture and returns its log lines.
fn log_of_reading(file_name: &str) -> Vec<String> {
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        let mut source = open_inputs(&[corpus(file_name)]).expect("open");
        let result = read_all(&mut source);
        assert!(result.error.is_none());
    });
    let lines = recorder.lines.lock().expect("log lock").clone();
    lines
}

#[test]
fn pcap_logs_open_and_end() {
    let lines = log_of_reading("fmt-pcap-nsec-sll-tcp-handshake.pcap");
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let opened = &lines[0];
    assert!(opened.starts_with("INFO opened capture file "), "{opened}");
    assert!(opened.contains("format=\"pcap\""), "{opened}");
    assert!(opened.contains("byte_order=little-endian"), "{opened}");
    assert!(opened.contains("link_type=113"), "{opened}");
    assert!(opened.contains("timestamps=\"nanoseconds\""), "{opened}");
    let ended = &lines[1];
    assert!(ended.starts_with("INFO end of capture input "), "{ended}");
    assert!(ended.contains("packets=3"), "{ended}");
}

#[test]
fn pcapng_logs_sections_and_interfaces() {
    // Six packets, but only open, section, two interfaces and end are logged.
    let lines = log_of_reading("fmt-pcapng-2-interfaces.pcapng");
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert!(lines[0].contains("format=\"pcapng\""), "{}", lines[0]);
    assert!(
        lines[1].starts_with("DEBUG pcapng section header "),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("interface_id=0"), "{}", lines[2]);
    assert!(lines[2].contains("timestamp_unit=10^-9 s"), "{}", lines[2]);
    assert!(lines[3].contains("interface_id=1"), "{}", lines[3]);
    assert!(lines[3].contains("timestamp_unit=10^-6 s"), "{}", lines[3]);
    assert!(lines[4].contains("packets=6"), "{}", lines[4]);
}
