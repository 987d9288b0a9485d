//! `next_batch_kept`: every source delivers exactly the packets its `keep`
//! closure accepts, shows `keep` every packet in file order, and counts
//! what it delivers. Workers that share a capture file read it this way.

mod common;

use common::{corpus, read_all, Packet};
use naudit_engine::{BatchStatus, PacketSource};
use naudit_pcap::{open_inputs, FilteredSource, MappedSource};

/// What one pass of `next_batch_kept` over a whole source returned.
struct KeptPass {
    /// Timestamps of the packets `keep` saw, in order.
    seen_ns: Vec<u64>,
    /// The packets delivered to `process`.
    delivered: Vec<Packet>,
    /// How many calls returned `Packets(0)`.
    empty_batches: usize,
}

/// Reads `source` to its end, keeping the packets whose 0-based number
/// `keep_number` accepts.
fn read_kept<S: PacketSource>(source: &mut S, keep_number: impl Fn(usize) -> bool) -> KeptPass {
    let mut pass = KeptPass { seen_ns: Vec::new(), delivered: Vec::new(), empty_batches: 0 };
    loop {
        let mut delivered_now = 0;
        let seen_ns = &mut pass.seen_ns;
        let delivered = &mut pass.delivered;
        let status = source
            .next_batch_kept(
                |packet| {
                    let number = seen_ns.len();
                    seen_ns.push(packet.timestamp_ns);
                    keep_number(number)
                },
                |batch| {
                    assert!(!batch.is_empty(), "process must not get an empty batch");
                    delivered_now = batch.len();
                    delivered.extend(batch.iter().map(Packet::from_view));
                },
            )
            .expect("a corpus capture reads without error");
        match status {
            BatchStatus::Packets(0) => {
                assert_eq!(delivered_now, 0, "Packets(0) must not call process");
                pass.empty_batches += 1;
            }
            BatchStatus::Packets(count) => assert_eq!(count, delivered_now),
            BatchStatus::Idle => panic!("a capture file never returns Idle"),
            BatchStatus::End => return pass,
        }
    }
}

/// Returns every packet of a corpus capture, read with `next_batch`.
fn all_packets(file_name: &str) -> Vec<Packet> {
    let mut source = open_inputs(&[corpus(file_name)]).expect("open corpus capture");
    let result = read_all(&mut source);
    assert!(result.error.is_none(), "{file_name}: {:?}", result.error);
    result.packets
}

fn every_third(packets: &[Packet]) -> Vec<Packet> {
    packets.iter().step_by(3).cloned().collect()
}

#[test]
fn mapped_file_delivers_kept_packets() {
    let file_name = "http-dns-wikipedia-multiflow.pcap";
    let all = all_packets(file_name);
    assert!(all.len() > 100, "{file_name} has only {} packets", all.len());

    let mut source = MappedSource::open(&corpus(file_name)).expect("open corpus capture");
    let pass = read_kept(&mut source, |number| number % 3 == 0);

    let all_ns: Vec<u64> = all.iter().map(|packet| packet.timestamp_ns).collect();
    assert_eq!(pass.seen_ns, all_ns, "keep must see every packet in order");
    assert_eq!(pass.delivered, every_third(&all));
    assert_eq!(source.counters().received_pkts, pass.delivered.len() as u64);
}

#[test]
fn mapped_file_keeping_nothing_reports_empty_batches() {
    let file_name = "http-dns-wikipedia-multiflow.pcap";
    let all = all_packets(file_name);

    let mut source = MappedSource::open(&corpus(file_name)).expect("open corpus capture");
    let pass = read_kept(&mut source, |_| false);

    assert_eq!(pass.seen_ns.len(), all.len());
    assert!(pass.delivered.is_empty());
    assert!(pass.empty_batches > 0, "reading packets and keeping none must return Packets(0)");
    assert_eq!(source.counters().received_pkts, 0);
}

#[test]
fn merged_files_deliver_kept_packets() {
    // Two files are merged by time, and the merge uses the trait's default
    // `next_batch_kept`, which filters whole batches.
    let paths = [corpus("icmp-echo-5pings.pcap"), corpus("http-dns-wikipedia-multiflow.pcap")];
    let mut merged = open_inputs(&paths).expect("open two corpus captures");
    let all = read_all(&mut merged).packets;

    let mut merged = open_inputs(&paths).expect("open two corpus captures");
    let pass = read_kept(&mut merged, |number| number % 3 == 0);

    assert_eq!(pass.seen_ns.len(), all.len());
    assert_eq!(pass.delivered, every_third(&all));
}

#[test]
fn filter_runs_on_kept_packets_only() {
    let file_name = "http-dns-wikipedia-multiflow.pcap";
    let all = all_packets(file_name);
    let mut expected_filter = FilteredSource::new(MappedSource::open(&corpus(file_name)).unwrap(), "tcp port 80").unwrap();
    let matching: Vec<Packet> = read_all(&mut expected_filter).packets;
    assert!(!matching.is_empty());

    let mut source = FilteredSource::new(MappedSource::open(&corpus(file_name)).unwrap(), "tcp port 80").unwrap();
    let pass = read_kept(&mut source, |number| number % 2 == 0);

    let even: Vec<Packet> = all.iter().step_by(2).cloned().collect();
    let expected: Vec<Packet> = even.iter().filter(|packet| matching.contains(packet)).cloned().collect();
    assert_eq!(pass.seen_ns.len(), all.len(), "keep must see every packet");
    assert_eq!(pass.delivered, expected);

    let counters = source.filter_counters();
    assert_eq!(counters.accepted_pkts, expected.len() as u64);
    assert_eq!(counters.accepted_pkts + counters.rejected_pkts, even.len() as u64);
    assert_eq!(source.counters().received_pkts, expected.len() as u64);
}
