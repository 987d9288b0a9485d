//! A packet source that keeps only the packets a BPF filter accepts, with
//! the filter run in user space. File inputs use it, while live libpcap
//! capture filters in the kernel instead.
//!
//! A pcapng file may mix link types, and a BPF program is compiled for one
//! link type, so the expression is compiled once per link type, when the
//! first packet of that type arrives, and cached.

use naudit_engine::decode::erf::{ErfPayload, ErfRecord};
use naudit_engine::{BatchStatus, LinkType, PacketSource, PacketView, SourceCounters, SourceError};

use crate::filter::{BpfFilter, FilterError};
use crate::records::MAX_CAPTURED_LEN_BYTES;

/// Link types that [`FilteredSource::new`] tries when it checks an
/// expression, in this order: Ethernet, raw IP, Linux cooked v1 and v2,
/// BSD loopback and 802.11 (105). An expression that compiles for none of
/// them is rejected before any packet is read.
const CHECK_LINK_TYPES: [LinkType; 6] = [
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::NULL,
    LinkType(105),
];

/// Packet counts of a [`FilteredSource`], since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FilterCounters {
    /// Packets the filter accepted and the source delivered.
    pub accepted_pkts: u64,
    /// Packets the filter rejected.
    pub rejected_pkts: u64,
    /// Packets of a link type the expression does not compile for. They are
    /// rejected too, and not counted in `rejected_pkts`.
    pub uncompiled_link_type_pkts: u64,
}

/// The filter of one link type: compiled, or known not to compile.
struct LinkTypeFilter {
    link_type: LinkType,
    filter: Option<BpfFilter>,
}

/// Wraps a packet source and delivers only the packets that a filter
/// expression accepts.
///
/// [`counters`](PacketSource::counters) count the delivered packets as
/// received, and the truncated ones among them. The drop counters are the
/// inner source's. [`filter_counters`](FilteredSource::filter_counters)
/// has the accepted and rejected counts.
pub struct FilteredSource<S: PacketSource> {
    inner: S,
    expression: String,
    filters: Vec<LinkTypeFilter>,
    delivered: SourceCounters,
    filter_counters: FilterCounters,
}

impl<S: PacketSource> FilteredSource<S> {
    /// Filters `inner` with `expression` (tcpdump's filter syntax).
    ///
    /// The expression is checked before any packet is read: it must compile
    /// for at least one common link type (Ethernet, raw IP, Linux cooked
    /// capture, BSD loopback or 802.11). Otherwise this returns the error
    /// for Ethernet.
    pub fn new(inner: S, expression: &str) -> Result<FilteredSource<S>, FilterError> {
        let mut filters = Vec::with_capacity(CHECK_LINK_TYPES.len());
        let mut first_error = None;
        for link_type in CHECK_LINK_TYPES {
            match BpfFilter::compile(expression, link_type, MAX_CAPTURED_LEN_BYTES) {
                Ok(filter) => {
                    filters.push(LinkTypeFilter {
                        link_type,
                        filter: Some(filter),
                    });
                    break;
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        if filters.is_empty() {
            if let Some(error) = first_error {
                return Err(error);
            }
        }

        tracing::info!(
            input = inner.name(),
            filter = expression,
            "filtering capture input in user space"
        );
        Ok(FilteredSource {
            inner,
            expression: expression.to_owned(),
            filters,
            delivered: SourceCounters::default(),
            filter_counters: FilterCounters::default(),
        })
    }

    /// Returns the accepted and rejected packet counts.
    pub fn filter_counters(&self) -> FilterCounters {
        self.filter_counters
    }

    /// Returns the filter expression.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Returns the wrapped source.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: PacketSource> PacketSource for FilteredSource<S> {
    /// Reads batches from the inner source until one has a packet the filter
    /// accepts, and passes only the accepted packets to `process`. Idle, End
    /// and errors of the inner source are returned as they come.
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        let mut process = Some(process);
        loop {
            let status = self.next_batch_kept(
                |_| true,
                |batch| {
                    if let Some(process) = process.take() {
                        process(batch);
                    }
                },
            )?;
            match status {
                BatchStatus::Packets(0) => continue,
                other => return Ok(other),
            }
        }
    }

    /// Runs the filter only on the packets that `keep` accepts, so that the
    /// filter counters count those packets alone.
    fn next_batch_kept<K, F>(&mut self, mut keep: K, process: F) -> Result<BatchStatus, SourceError>
    where
        K: FnMut(&PacketView<'_>) -> bool,
        F: FnOnce(&[PacketView<'_>]),
    {
        let filters = &mut self.filters;
        let expression = self.expression.as_str();
        let delivered = &mut self.delivered;
        let filter_counters = &mut self.filter_counters;
        self.inner.next_batch_kept(
            |packet| {
                if !keep(packet) {
                    return false;
                }
                match accepts(filters, expression, packet) {
                    Verdict::Accept => {
                        filter_counters.accepted_pkts += 1;
                        delivered.received_pkts += 1;
                        delivered.truncated_pkts += u64::from(packet.is_truncated());
                        true
                    }
                    Verdict::Reject => {
                        filter_counters.rejected_pkts += 1;
                        false
                    }
                    Verdict::NoFilter => {
                        filter_counters.uncompiled_link_type_pkts += 1;
                        false
                    }
                }
            },
            process,
        )
    }

    fn counters(&self) -> SourceCounters {
        SourceCounters {
            received_pkts: self.delivered.received_pkts,
            truncated_pkts: self.delivered.truncated_pkts,
            ..self.inner.counters()
        }
    }

    fn name(&self) -> &str {
        self.inner.name()
    }
}

/// Filter decision for one packet.
enum Verdict {
    Accept,
    Reject,
    /// The expression does not compile for the packet's link type.
    NoFilter,
}

/// Runs the filter for the packet's link type, compiling it on first use.
fn accepts(
    filters: &mut Vec<LinkTypeFilter>,
    expression: &str,
    packet: &PacketView<'_>,
) -> Verdict {
    let (link_type, data, wire_len_bytes) = filtered_frame(packet);
    let index = match filters
        .iter()
        .position(|entry| entry.link_type == link_type)
    {
        Some(index) => index,
        None => {
            filters.push(compile_for(expression, link_type));
            filters.len() - 1
        }
    };
    match &filters[index].filter {
        Some(filter) if filter.matches(data, wire_len_bytes) => Verdict::Accept,
        Some(_) => Verdict::Reject,
        None => Verdict::NoFilter,
    }
}

/// Returns the link type, bytes and wire length the filter runs on. libpcap
/// 1.10 compiles no filter for ERF records (link type 197), so the filter
/// runs on the frame inside the record, for that frame's link type.
fn filtered_frame<'a>(packet: &PacketView<'a>) -> (LinkType, &'a [u8], u32) {
    if packet.link_type == LinkType::ERF {
        let payload = ErfRecord::new(packet.data).and_then(|record| record.payload());
        if let Ok(ErfPayload::Frame {
            link_type,
            frame,
            wire_len_bytes,
        }) = payload
        {
            return (link_type, frame, wire_len_bytes);
        }
    }
    (packet.link_type, packet.data, packet.wire_len_bytes)
}

/// Compiles the expression for a link type first seen in the input, and
/// logs once when that fails.
fn compile_for(expression: &str, link_type: LinkType) -> LinkTypeFilter {
    match BpfFilter::compile(expression, link_type, MAX_CAPTURED_LEN_BYTES) {
        Ok(filter) => {
            tracing::debug!(
                filter = expression,
                link_type = link_type.0,
                "compiled filter for another link type"
            );
            LinkTypeFilter {
                link_type,
                filter: Some(filter),
            }
        }
        Err(error) => {
            tracing::warn!(
                filter = expression,
                link_type = link_type.0,
                %error,
                "the filter does not apply to this link type, so its packets are rejected"
            );
            LinkTypeFilter {
                link_type,
                filter: None,
            }
        }
    }
}
