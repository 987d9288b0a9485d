//! Packet timestamps: the NIC's clock when the port stamps packets, else
//! the TSC, both converted to nanoseconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::ffi::{self, TimestampSource};

/// Name of DPDK's pcap driver, which replays capture files.
const NET_PCAP_DRIVER: &str = "net_pcap";

const NS_PER_SEC: u128 = 1_000_000_000;
/// How long the device clock is watched to measure its frequency.
const DEVICE_CLOCK_CALIBRATION: Duration = Duration::from_millis(50);

fn wall_clock_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos() as u64)
}

/// Converts counter ticks to wall-clock nanoseconds from one anchor: the
/// counter value and wall-clock time read together at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AnchoredClock {
    anchor_ticks: u64,
    anchor_wall_ns: u64,
    ticks_per_sec: u64,
}

impl AnchoredClock {
    pub(crate) fn new(anchor_ticks: u64, anchor_wall_ns: u64, ticks_per_sec: u64) -> AnchoredClock {
        AnchoredClock { anchor_ticks, anchor_wall_ns, ticks_per_sec: ticks_per_sec.max(1) }
    }

    /// Nanoseconds since the Unix epoch at counter value `ticks`.
    pub(crate) fn to_ns(&self, ticks: u64) -> u64 {
        let elapsed_ticks = i128::from(ticks) - i128::from(self.anchor_ticks);
        let elapsed_ns = elapsed_ticks * NS_PER_SEC as i128 / i128::from(self.ticks_per_sec);
        (i128::from(self.anchor_wall_ns) + elapsed_ns).clamp(0, i128::from(u64::MAX)) as u64
    }
}

/// Source of a port's packet timestamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PacketClock {
    /// The driver writes microseconds since the Unix epoch: net_pcap's
    /// capture time of each replayed packet.
    DriverUnixMicros,
    /// The NIC writes ticks of its own clock.
    Nic(AnchoredClock),
    /// No usable packet timestamps: the TSC read once per burst.
    Tsc(AnchoredClock),
}

impl PacketClock {
    /// The TSC clock, anchored to the wall clock now.
    pub(crate) fn tsc() -> PacketClock {
        PacketClock::Tsc(AnchoredClock::new(ffi::tsc_cycles(), wall_clock_ns(), ffi::tsc_hz()))
    }

    /// Returns the clock of `port`, whose `driver` fills packet timestamps
    /// from `source` (None when packets carry none).
    pub(crate) fn for_port(port: u16, driver: &str, source: Option<TimestampSource>) -> PacketClock {
        match source {
            Some(TimestampSource::Offload) => PacketClock::nic(port).unwrap_or_else(|| {
                tracing::warn!(port, driver, "the NIC stamps packets but its clock cannot be read; using the TSC");
                PacketClock::tsc()
            }),
            Some(TimestampSource::Driver) if driver == NET_PCAP_DRIVER => PacketClock::DriverUnixMicros,
            Some(TimestampSource::Driver) => {
                tracing::debug!(port, driver, "timestamps in the driver's own unit are ignored; using the TSC");
                PacketClock::tsc()
            }
            None => PacketClock::tsc(),
        }
    }

    /// Calibrates the device clock of `port` against the wall clock. Returns
    /// None when the driver cannot read its clock.
    fn nic(port: u16) -> Option<PacketClock> {
        let start_ticks = ffi::read_device_clock(port).ok()?;
        let start_wall_ns = wall_clock_ns();
        std::thread::sleep(DEVICE_CLOCK_CALIBRATION);
        let end_ticks = ffi::read_device_clock(port).ok()?;
        let end_wall_ns = wall_clock_ns();
        let elapsed_ns = u128::from(end_wall_ns.saturating_sub(start_wall_ns)).max(1);
        let ticks_per_sec = u128::from(end_ticks.wrapping_sub(start_ticks)) * NS_PER_SEC / elapsed_ns;
        Some(PacketClock::Nic(AnchoredClock::new(start_ticks, start_wall_ns, ticks_per_sec as u64)))
    }

    /// Timestamp in nanoseconds since the epoch of a packet that carries
    /// `timestamp` (in this clock's unit), received at TSC value `burst_tsc`.
    pub(crate) fn packet_ns(&self, timestamp: Option<u64>, burst_tsc: u64, tsc: &AnchoredClock) -> u64 {
        match (self, timestamp) {
            (PacketClock::DriverUnixMicros, Some(micros)) => micros.saturating_mul(1_000),
            (PacketClock::Nic(clock), Some(ticks)) => clock.to_ns(ticks),
            (PacketClock::Tsc(clock), _) => clock.to_ns(burst_tsc),
            (_, None) => tsc.to_ns(burst_tsc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_clock_converts_ticks() {
        let clock = AnchoredClock::new(1_000, 1_700_000_000_000_000_000, 2_000_000_000);
        assert_eq!(clock.to_ns(1_000), 1_700_000_000_000_000_000);
        assert_eq!(clock.to_ns(3_000), 1_700_000_000_000_001_000);
        assert_eq!(clock.to_ns(0), 1_699_999_999_999_999_500);
    }
}

#[cfg(test)]
mod packet_clock_tests {
    use super::*;

    #[test]
    fn driver_micros_become_nanoseconds() {
        let tsc = AnchoredClock::new(0, 0, 1);
        let ns = PacketClock::DriverUnixMicros.packet_ns(Some(1_700_000_000_123_456), 5, &tsc);
        assert_eq!(ns, 1_700_000_000_123_456_000);
    }

    #[test]
    fn packet_without_timestamp_gets_burst_time() {
        let tsc = AnchoredClock::new(0, 1_000, 1_000_000_000);
        assert_eq!(PacketClock::DriverUnixMicros.packet_ns(None, 7, &tsc), 1_007);
    }
}
