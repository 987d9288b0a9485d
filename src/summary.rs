//! The run summary printed on standard error at the end.

use std::time::Duration;

use naudit_engine::decode::Layer;
use naudit_engine::flow::ShardCounters;
use naudit_engine::latency::LatencySummary;
use naudit_engine::stats::WorkerStats;
use naudit_engine::SourceCounters;
use naudit_records::ipfix::ExportStats;
use naudit_records::stream::StreamStats;

use crate::file_sink::FileReport;

/// Everything the summary reports.
pub struct RunSummary {
    /// Counters of the capture driver.
    pub source: SourceCounters,
    /// Packet statistics of the workers.
    pub packets: WorkerStats,
    /// Flow events of the shards.
    pub flows: ShardCounters,
    /// Records written to the output.
    pub records_written: u64,
    /// Counts of the record stream server, when -P started one.
    pub stream: Option<StreamStats>,
    /// Counts of the -w file or standard output, when there was one.
    pub file: Option<FileReport>,
    /// Each IPFIX collector's URL and counts, in --ipfix order.
    pub ipfix_exports: Vec<(String, ExportStats)>,
    /// Per-batch processing latency, with --batch-latency.
    pub batch_latency: Option<LatencySummary>,
    /// Wall-clock time from the start of capture to the end of output.
    pub elapsed: Duration,
}

/// Formats a by-layer counter array as `ipv4 3, tcp 1`, or `none`.
fn by_layer(counts: &[u64; Layer::ALL.len()]) -> String {
    let parts: Vec<String> = Layer::ALL
        .iter()
        .zip(counts)
        .filter(|(_, &count)| count > 0)
        .map(|(layer, count)| format!("{} {count}", layer.name()))
        .collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

impl RunSummary {
    /// Renders the summary as lines of text.
    pub fn render(&self) -> String {
        let seconds = self.elapsed.as_secs_f64();
        let packets_per_second = if seconds > 0.0 { self.packets.packets as f64 / seconds } else { 0.0 };
        let packets = &self.packets;
        let flows = &self.flows;
        let mut text = format!(
            "nauditd summary:\n\
             \x20 packets read       {}\n\
             \x20 packets decoded    {}\n\
             \x20 captured short     {} (fewer bytes than on the wire)\n\
             \x20 truncated headers  {} ({})\n\
             \x20 malformed headers  {} ({})\n\
             \x20 unsupported links  {}\n\
             \x20 without a flow key {}\n\
             \x20 dropped by capture {}\n\
             \x20 flows              {} (closed {}, idle {}, evicted {})\n\
             \x20 orphan fragments   {}\n\
             \x20 records written    {}\n\
             \x20 elapsed            {:.3} s, {:.0} packets/s\n",
            packets.packets,
            packets.decoded_pkts,
            self.source.truncated_pkts,
            packets.truncated_pkts(),
            by_layer(&packets.truncated_by_layer),
            packets.malformed_pkts(),
            by_layer(&packets.malformed_by_layer),
            packets.unsupported_link_pkts,
            flows.unkeyed_pkts,
            self.source.dropped_pkts(),
            flows.flows_created,
            flows.flows_closed,
            flows.flows_idle_expired,
            flows.flows_evicted,
            flows.orphan_fragments,
            self.records_written,
            seconds,
            packets_per_second,
        );
        if let Some(latency) = &self.batch_latency {
            text.push_str(&format!(
                "  batch latency      p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns ({} batches)\n",
                latency.p50_ns, latency.p99_ns, latency.p999_ns, latency.max_ns, latency.batches,
            ));
        }
        if let Some(stream) = &self.stream {
            text.push_str(&format!(
                "  stream clients     {} (started {}, fell behind and disconnected {}, \
                 filters rejected {}, rejected for the client limit {})\n",
                stream.clients_accepted,
                stream.clients_started,
                stream.clients_fell_behind,
                stream.filters_rejected,
                stream.clients_rejected,
            ));
        }
        self.render_outputs(&mut text);
        text
    }

    /// Appends the lines of file rotations, the IPFIX file and every IPFIX
    /// collector.
    fn render_outputs(&self, text: &mut String) {
        if let Some(file) = &self.file {
            if file.rotations > 0 {
                text.push_str(&format!("  output files closed {} (SIGHUP or --rotate-seconds)\n", file.rotations));
            }
            if let Some(ipfix) = &file.ipfix {
                text.push_str(&format!(
                    "  ipfix file         messages {}, data records {}, template records {}, without a template {}\n",
                    ipfix.messages, ipfix.data_records, ipfix.template_records, ipfix.records_without_template,
                ));
            }
        }
        for (collector, stats) in &self.ipfix_exports {
            text.push_str(&format!(
                "  ipfix {collector}: messages {}, data records {}, template records {}, withdrawals {}, \
                 send errors {}, queue full drops {}, discarded {}, without a template {}",
                stats.messages_sent,
                stats.data_records_sent,
                stats.template_records_sent,
                stats.withdrawals_sent,
                stats.send_errors,
                stats.records_dropped,
                stats.records_discarded,
                stats.records_without_template,
            ));
            if collector.starts_with("tcp://") {
                text.push_str(&format!(", connections {}", stats.connections));
            }
            text.push('\n');
        }
    }
}
