//! Packet timestamps: the device's completion timestamps when its CQ
//! offers them, the system clock otherwise, all in nanoseconds since the
//! Unix epoch.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NS_PER_MS: u128 = 1_000_000;
/// How often the cycle clock is anchored to the system clock again. The
/// device oscillator's drift against the system clock stays small, and a
/// timestamp counter narrower than 64 bits converts correctly when it takes
/// more than twice this interval to wrap.
pub(crate) const CYCLE_CLOCK_REANCHOR_INTERVAL: Duration = Duration::from_secs(10);

/// Nanoseconds since the Unix epoch, from the system clock.
pub(crate) fn system_clock_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos() as u64)
}

/// Converts device clock cycles to nanoseconds since the Unix epoch from an
/// anchor: a cycle count and the system time read together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CycleClock {
    anchor_cycles: u64,
    anchor_ns: u64,
    /// Clock frequency in kilohertz (`hca_core_clock` of the device).
    frequency_khz: u64,
    /// Valid bits of a timestamp (`completion_timestamp_mask`).
    mask: u64,
}

impl CycleClock {
    pub(crate) fn new(anchor_cycles: u64, anchor_ns: u64, frequency_khz: u64, mask: u64) -> CycleClock {
        CycleClock { anchor_cycles: anchor_cycles & mask, anchor_ns, frequency_khz: frequency_khz.max(1), mask }
    }

    /// Returns the same clock anchored at device time `cycles` and system time `ns`.
    pub(crate) fn reanchored(&self, cycles: u64, ns: u64) -> CycleClock {
        CycleClock::new(cycles, ns, self.frequency_khz, self.mask)
    }

    /// Nanoseconds since the Unix epoch at device time `cycles`. A
    /// timestamp up to half the counter's range before the anchor counts as
    /// earlier, not as a wrap of the counter.
    pub(crate) fn to_ns(self, cycles: u64) -> u64 {
        let forward = (cycles & self.mask).wrapping_sub(self.anchor_cycles) & self.mask;
        let elapsed_cycles = if forward > self.mask / 2 {
            -i128::from((self.anchor_cycles.wrapping_sub(cycles & self.mask)) & self.mask)
        } else {
            i128::from(forward)
        };
        let elapsed_ns = elapsed_cycles * NS_PER_MS as i128 / i128::from(self.frequency_khz);
        (i128::from(self.anchor_ns) + elapsed_ns).clamp(0, i128::from(u64::MAX)) as u64
    }
}

/// Source of a queue's packet timestamps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PacketClock {
    /// The device writes nanoseconds since the Unix epoch from its real-time
    /// clock (`IBV_WC_EX_WITH_COMPLETION_TIMESTAMP_WALLCLOCK`).
    DeviceWallClock,
    /// The device writes cycles of its free-running clock
    /// (`IBV_WC_EX_WITH_COMPLETION_TIMESTAMP`), converted with the anchor
    /// of `anchored_at`.
    DeviceCycles { clock: CycleClock, anchored_at: Instant },
    /// No completion timestamps: the system clock, read once per batch.
    System,
}

impl PacketClock {
    /// Returns a short description for logs.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            PacketClock::DeviceWallClock => "device real-time clock",
            PacketClock::DeviceCycles { .. } => "device cycle counter anchored to the system clock",
            PacketClock::System => "system clock per batch",
        }
    }

    /// Timestamp of a completion that carries `device_timestamp`, polled in
    /// a batch read at system time `batch_ns`.
    pub(crate) fn packet_ns(&self, device_timestamp: u64, batch_ns: u64) -> u64 {
        match self {
            PacketClock::DeviceWallClock => device_timestamp,
            PacketClock::DeviceCycles { clock, .. } => clock.to_ns(device_timestamp),
            PacketClock::System => batch_ns,
        }
    }

    /// True when the cycle clock's anchor is older than
    /// [`CYCLE_CLOCK_REANCHOR_INTERVAL`].
    pub(crate) fn needs_anchor(&self) -> bool {
        matches!(self, PacketClock::DeviceCycles { anchored_at, .. } if anchored_at.elapsed() >= CYCLE_CLOCK_REANCHOR_INTERVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH_NS: u64 = 1_700_000_000_000_000_000;

    #[test]
    fn cycles_convert_at_clock_frequency() {
        // A 156.25 MHz clock.
        let clock = CycleClock::new(1_000_000, EPOCH_NS, 156_250, u64::MAX);
        assert_eq!(clock.to_ns(1_000_000), EPOCH_NS);
        assert_eq!(clock.to_ns(1_156_250), EPOCH_NS + 1_000_000);
        assert_eq!(clock.to_ns(1_000_000 + 156_250_000), EPOCH_NS + 1_000_000_000);
    }

    #[test]
    fn cycles_before_anchor_count_back() {
        let clock = CycleClock::new(1_000_000, EPOCH_NS, 1_000_000, u64::MAX);
        assert_eq!(clock.to_ns(999_000), EPOCH_NS - 1_000);
    }

    #[test]
    fn narrow_counter_wraps_forward() {
        // A 48-bit counter at 1 GHz whose anchor is 10 cycles before the wrap.
        let mask = (1u64 << 48) - 1;
        let clock = CycleClock::new(mask - 9, EPOCH_NS, 1_000_000, mask);
        assert_eq!(clock.to_ns(5), EPOCH_NS + 15);
        assert_eq!(clock.to_ns(mask - 19), EPOCH_NS - 10);
        // Bits above the mask are ignored.
        assert_eq!(clock.to_ns((1 << 48) | 5), EPOCH_NS + 15);
    }

    #[test]
    fn system_clock_uses_batch_time() {
        assert_eq!(PacketClock::System.packet_ns(12345, EPOCH_NS), EPOCH_NS);
        assert_eq!(PacketClock::DeviceWallClock.packet_ns(EPOCH_NS + 7, 0), EPOCH_NS + 7);
    }
}
