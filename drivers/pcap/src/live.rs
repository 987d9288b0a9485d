//! Live capture from a network interface through libpcap.
//!
//! The handle is non-blocking. `next_batch` takes what libpcap has buffered
//! and, when that is nothing, waits in `poll` for at most
//! [`LiveConfig::timeout_ms`] before it returns [`BatchStatus::Idle`]. So on
//! a quiet link each call returns after about that long.
//!
//! Packets are copied from libpcap's buffer into a batch arena (see
//! `arena.rs`): libpcap passes one packet at a time to a callback and may
//! give its memory back to the kernel before the batch is complete. The copy
//! costs one `memcpy` per packet and no allocation. A zero-copy batch of one
//! packet would not save it on Linux either, because libpcap's
//! `pcap_next_ex` copies the packet into a buffer of its own there
//! (`pcap_oneshot_linux`, pcap-linux.c, libpcap 1.10).
//!
//! NOTE: libpcap gives one handle per interface, so this source is one
//! queue. Spreading one interface over several workers needs the AF_PACKET
//! fanout of the tilera-compat driver.

use std::os::unix::io::{AsRawFd, RawFd};
use std::time::Instant;

use naudit_engine::{BatchStatus, LinkType, PacketSource, PacketView, SourceCounters, SourceError};
use pcap::{Active, Capture, Precision};

use crate::arena::BatchArena;
use crate::dlt::link_type_from_dlt;
use crate::drops::DropCounters;
use crate::ffi::{has_nanosecond_timestamps, snapshot_len_bytes, wait_readable};
use crate::filter::{libpcap_message, FilterError};
use crate::live_errors::{
    activation_error, capture_error, invalid_config, invalid_filter, setfilter_error,
};
use crate::records::MAX_CAPTURED_LEN_BYTES;

/// Default snapshot length: whole packets up to libpcap's maximum, so that
/// every tunnel layer can be decoded.
pub const DEFAULT_SNAPLEN_BYTES: u32 = MAX_CAPTURED_LEN_BYTES;

/// Default size of the kernel capture buffer: 16 MiB, which has room for
/// about 0.13 s of traffic at 1 Gbit/s line rate (16 MiB divided by
/// 125 MB/s).
pub const DEFAULT_BUFFER_SIZE_BYTES: u32 = 16 << 20;

/// Default maximum wait for packets, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: i32 = 100;

/// libpcap's pseudo-device that captures on every interface.
const ANY_DEVICE: &str = "any";

/// Settings of one live capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveConfig {
    /// Interface to capture on, as `nauditd -D` lists it, or `any` for all
    /// interfaces (Linux only; packets then have Linux cooked headers).
    pub interface: String,
    /// Largest number of bytes kept of each packet, from 1 to 262144.
    /// Longer packets are truncated and counted in `truncated_pkts`.
    /// Default [`DEFAULT_SNAPLEN_BYTES`].
    pub snaplen_bytes: u32,
    /// Whether to put the interface in promiscuous mode, so that packets
    /// addressed to other hosts (on a mirror port, for example) are seen.
    /// Ignored on `any`, which has no such mode. Default true.
    pub promiscuous: bool,
    /// Whether libpcap hands over each packet as soon as it arrives instead
    /// of letting the kernel fill a buffer block first. It lowers latency
    /// and costs a wakeup per packet. On Linux, libpcap 1.10 then uses
    /// TPACKET_V2, whose buffer has one fixed-size slot per packet: the
    /// snapshot length, capped at the MTU (or at 64 KiB on interfaces with
    /// segmentation offload). So the same buffer has room for fewer packets.
    /// Default false.
    pub immediate_mode: bool,
    /// Size of the kernel buffer that keeps packets until they are read, in
    /// bytes, at least `snaplen_bytes`. A larger buffer rides out longer
    /// bursts before the kernel drops packets. Default
    /// [`DEFAULT_BUFFER_SIZE_BYTES`].
    pub buffer_size_bytes: u32,
    /// Maximum wait for packets in one `next_batch` call, in milliseconds,
    /// at least 1. It is also libpcap's packet buffer timeout: without
    /// immediate mode, the kernel holds packets for up to this long to fill
    /// a buffer block. libpcap on Linux reads 0 as "wait until a block is
    /// full", which would hold the packets of a quiet link indefinitely, so
    /// 0 is rejected. Default [`DEFAULT_TIMEOUT_MS`].
    pub timeout_ms: i32,
    /// Filter expression in tcpdump's syntax (pcap-filter(7)), run in the
    /// kernel. Default none: every packet is captured.
    pub filter: Option<String>,
}

impl LiveConfig {
    /// Returns the default settings for capture on `interface`.
    pub fn new(interface: impl Into<String>) -> LiveConfig {
        LiveConfig {
            interface: interface.into(),
            snaplen_bytes: DEFAULT_SNAPLEN_BYTES,
            promiscuous: true,
            immediate_mode: false,
            buffer_size_bytes: DEFAULT_BUFFER_SIZE_BYTES,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            filter: None,
        }
    }

    /// Checks the ranges documented on the fields.
    fn validate(&self) -> Result<(), SourceError> {
        let interface = self.interface.as_str();
        if interface.is_empty() {
            return Err(invalid_config(
                "(no interface)",
                "the interface name is empty; list the devices with `nauditd -D`".to_owned(),
            ));
        }
        if self.snaplen_bytes == 0 || self.snaplen_bytes > MAX_CAPTURED_LEN_BYTES {
            return Err(invalid_config(
                interface,
                format!(
                    "snapshot length {} bytes is not between 1 and {MAX_CAPTURED_LEN_BYTES}",
                    self.snaplen_bytes
                ),
            ));
        }
        if self.buffer_size_bytes < self.snaplen_bytes
            || i32::try_from(self.buffer_size_bytes).is_err()
        {
            return Err(invalid_config(
                interface,
                format!(
                    "buffer size {} bytes is not between the snapshot length ({} bytes) and {} bytes",
                    self.buffer_size_bytes,
                    self.snaplen_bytes,
                    i32::MAX
                ),
            ));
        }
        if self.timeout_ms < 1 {
            return Err(invalid_config(
                interface,
                format!("timeout {} ms is less than 1 ms", self.timeout_ms),
            ));
        }
        Ok(())
    }
}

/// A live capture on one interface, read in batches.
///
/// Views are valid inside the `next_batch` closure only; the next call
/// overwrites the arena behind them. [`PacketView::port`] is 0.
pub struct LiveSource {
    interface: String,
    capture: Capture<Active>,
    fd: RawFd,
    link_type: LinkType,
    /// Nanoseconds per unit of libpcap's sub-second timestamp field: 1 with
    /// nanosecond precision, 1000 with microseconds.
    timestamp_unit_ns: u64,
    timeout_ms: i32,
    arena: BatchArena,
    counters: SourceCounters,
    drops: DropCounters,
}

impl LiveSource {
    /// Opens and starts a capture as `config` sets it.
    ///
    /// Fails with [`SourceError::Io`], whose message tells the fix, when:
    ///
    /// - a setting is out of range (kind `InvalidInput`);
    /// - the interface does not exist (`NotFound`);
    /// - the thread may not capture (`PermissionDenied`);
    /// - the interface is down (`Other`);
    /// - the filter does not compile for the interface (`InvalidInput`, with
    ///   a [`FilterError`] as the source).
    pub fn open(config: &LiveConfig) -> Result<LiveSource, SourceError> {
        config.validate()?;
        let interface = config.interface.as_str();

        // libpcap warns when promiscuous mode is requested on `any`, and the
        // `pcap` crate (2.5) turns an activation warning into an error.
        let promiscuous = config.promiscuous && interface != ANY_DEVICE;
        if config.promiscuous && !promiscuous {
            tracing::debug!(
                interface,
                "promiscuous mode does not apply to the any device, so it is not requested"
            );
        }
        let inactive = Capture::from_device(interface)
            .map_err(|error| activation_error(interface, &error))?
            .snaplen(config.snaplen_bytes as i32)
            .promisc(promiscuous)
            .immediate_mode(config.immediate_mode)
            .buffer_size(config.buffer_size_bytes as i32)
            .timeout(config.timeout_ms)
            .precision(Precision::Nano);
        let capture = inactive
            .open()
            .map_err(|error| activation_error(interface, &error))?;
        let mut capture = capture.setnonblock().map_err(|error| {
            capture_error(interface, "failed to switch to non-blocking reads", &error)
        })?;

        let link_type = link_type_from_dlt(capture.get_datalink().0).ok_or_else(|| {
            SourceError::Unsupported {
                input: interface.to_owned(),
                what: format!(
                    "libpcap reports link-layer type {}, which has no pcap LINKTYPE number; \
                     capture on another interface",
                    capture.get_datalink().0
                ),
            }
        })?;
        if let Some(expression) = &config.filter {
            set_kernel_filter(&mut capture, interface, link_type, expression)?;
        }

        let nanosecond_timestamps = has_nanosecond_timestamps(&capture);
        if !nanosecond_timestamps {
            tracing::warn!(
                interface,
                "libpcap gives only microsecond timestamps on this interface"
            );
        }
        let snaplen_bytes = snapshot_len_bytes(&capture).clamp(1, MAX_CAPTURED_LEN_BYTES);
        let fd = capture.as_raw_fd();
        tracing::info!(
            interface,
            snaplen_bytes,
            buffer_size_bytes = config.buffer_size_bytes,
            promiscuous,
            immediate_mode = config.immediate_mode,
            timeout_ms = config.timeout_ms,
            filter = config.filter.as_deref().unwrap_or("none"),
            link_type = link_type.0,
            timestamps = if nanosecond_timestamps {
                "nanoseconds"
            } else {
                "microseconds"
            },
            "opened live capture"
        );

        let mut source = LiveSource {
            interface: interface.to_owned(),
            capture,
            fd,
            link_type,
            timestamp_unit_ns: if nanosecond_timestamps { 1 } else { 1_000 },
            timeout_ms: config.timeout_ms,
            arena: BatchArena::new(snaplen_bytes as usize),
            counters: SourceCounters::default(),
            drops: DropCounters::default(),
        };
        source.refresh_drop_counters();
        Ok(source)
    }

    /// Returns the link type of the captured packets.
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// Reads libpcap's drop counters now. `next_batch` reads them at most
    /// once per second, so [`counters`](PacketSource::counters) may lag by
    /// up to a second unless this is called first.
    pub fn refresh_drop_counters(&mut self) {
        self.drops
            .refresh(&mut self.capture, &self.interface, Instant::now());
        self.store_drop_counters();
    }

    fn store_drop_counters(&mut self) {
        self.counters.kernel_dropped_pkts = self.drops.kernel_dropped_pkts;
        self.counters.nic_dropped_pkts = self.drops.nic_dropped_pkts;
    }

    /// Copies up to a batch of the packets that libpcap has ready into the
    /// arena, without waiting. Returns the number of packets copied.
    fn fill_arena(&mut self) -> Result<usize, SourceError> {
        self.arena.clear();
        let arena = &mut self.arena;
        let counters = &mut self.counters;
        let timestamp_unit_ns = self.timestamp_unit_ns;

        let requested = arena.free_slots();
        self.capture
            .dispatch(Some(requested), |packet| {
                let header = packet.header;
                // `time_t` and `suseconds_t` are 32 bits wide on some targets.
                #[allow(clippy::useless_conversion)]
                let timestamp_ns = timestamp_ns(
                    i64::from(header.ts.tv_sec),
                    i64::from(header.ts.tv_usec),
                    timestamp_unit_ns,
                );
                if arena.push(packet.data, timestamp_ns, header.len) {
                    counters.received_pkts += 1;
                    if header.caplen < header.len {
                        counters.truncated_pkts += 1;
                    }
                } else {
                    // libpcap never hands over more packets than requested
                    // or more bytes than the snapshot length, so this
                    // counts a broken promise rather than a normal drop.
                    counters.driver_dropped_pkts += 1;
                }
            })
            .map_err(|error| capture_error(&self.interface, "failed to read packets", &error))?;
        Ok(self.arena.len())
    }
}

impl PacketSource for LiveSource {
    fn next_batch<F>(&mut self, process: F) -> Result<BatchStatus, SourceError>
    where
        F: FnOnce(&[PacketView<'_>]),
    {
        self.drops
            .refresh_if_due(&mut self.capture, &self.interface, Instant::now());
        self.store_drop_counters();

        let mut count = self.fill_arena()?;
        if count == 0 {
            let readable =
                wait_readable(self.fd, self.timeout_ms).map_err(|source| SourceError::Io {
                    input: self.interface.clone(),
                    context: "failed to wait for packets",
                    source,
                })?;
            if !readable {
                return Ok(BatchStatus::Idle);
            }
            count = self.fill_arena()?;
            if count == 0 {
                return Ok(BatchStatus::Idle);
            }
        }

        self.arena.with_views(self.link_type, process);
        Ok(BatchStatus::Packets(count))
    }

    fn counters(&self) -> SourceCounters {
        self.counters
    }

    fn name(&self) -> &str {
        &self.interface
    }
}

impl Drop for LiveSource {
    fn drop(&mut self) {
        self.refresh_drop_counters();
        tracing::info!(
            interface = self.interface,
            received_packets = self.counters.received_pkts,
            kernel_dropped_packets = self.counters.kernel_dropped_pkts,
            nic_dropped_packets = self.counters.nic_dropped_pkts,
            driver_dropped_packets = self.counters.driver_dropped_pkts,
            truncated_packets = self.counters.truncated_pkts,
            "closed live capture"
        );
    }
}

/// Compiles `expression` for the open capture and sets it in the kernel.
///
/// The expression is compiled once on its own before `pcap_setfilter`, so
/// that a compile error (the user's mistake) is distinguished from the
/// kernel rejecting the program.
fn set_kernel_filter(
    capture: &mut Capture<Active>,
    interface: &str,
    link_type: LinkType,
    expression: &str,
) -> Result<(), SourceError> {
    if let Err(error) = capture.compile(expression, true) {
        let dlt = capture.get_datalink();
        return Err(invalid_filter(
            interface,
            FilterError::Invalid {
                expression: expression.to_owned(),
                link_type: link_type.0,
                link_type_name: dlt.get_name().unwrap_or_else(|_| "unknown".to_owned()),
                message: libpcap_message(&error),
            },
        ));
    }
    capture
        .filter(expression, true)
        .map_err(|error| setfilter_error(interface, expression, &error))
}

/// Converts libpcap's timestamp to nanoseconds since 1970. Times before
/// 1970, which no capture clock gives, become 0.
fn timestamp_ns(seconds: i64, fraction: i64, unit_ns: u64) -> u64 {
    let seconds = u64::try_from(seconds).unwrap_or(0);
    let fraction = u64::try_from(fraction).unwrap_or(0);
    seconds
        .saturating_mul(1_000_000_000)
        .saturating_add(fraction.saturating_mul(unit_ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_source_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<LiveSource>();
    }

    #[test]
    fn timestamps_become_nanoseconds() {
        assert_eq!(timestamp_ns(1, 5, 1), 1_000_000_005);
        assert_eq!(timestamp_ns(1, 5, 1_000), 1_000_005_000);
        assert_eq!(timestamp_ns(-1, 5, 1), 5);
    }

    #[test]
    fn defaults_are_valid() {
        assert!(LiveConfig::new("eth0").validate().is_ok());
    }

    /// A change that puts one setting out of range.
    type BreakSetting = fn(&mut LiveConfig);

    #[test]
    fn out_of_range_settings_are_rejected() {
        let cases: [(&str, BreakSetting); 5] = [
            ("snapshot length 0 bytes", |config| config.snaplen_bytes = 0),
            ("snapshot length 262145 bytes", |config| {
                config.snaplen_bytes = 262_145
            }),
            ("buffer size 100 bytes", |config| {
                config.buffer_size_bytes = 100
            }),
            ("timeout 0 ms", |config| config.timeout_ms = 0),
            ("interface name is empty", |config| config.interface.clear()),
        ];
        for (expected, change) in cases {
            let mut config = LiveConfig::new("eth0");
            change(&mut config);
            let error = config.validate().expect_err(expected);
            assert!(error.to_string().contains(expected), "{expected}: {error}");
        }
    }
}
