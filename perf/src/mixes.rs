//! The standard traffic mixes of the performance table.

use std::path::{Path, PathBuf};

use crate::traffic::{SizeMix, TrafficConfig};

/// Capture time between packets of every standard mix: 1 million packets
/// per second. With the 5-second status interval of Argus and nauditd, a
/// flow that lasts the whole capture is reported several times.
pub const STANDARD_RATE_PPS: u64 = 1_000_000;

/// One standard mix at full size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StandardMix {
    /// Name in the table and in capture file names.
    pub name: &'static str,
    /// The load the mix puts on a sensor, for the page.
    pub purpose: &'static str,
    /// The generator settings at scale 1.
    pub config: TrafficConfig,
    /// True when the flow count stays fixed whatever the scale (the
    /// 16-flow mix, which is the memory baseline).
    pub fixed_flows: bool,
}

/// Settings every standard mix shares; each mix overrides the rest.
const BASE: TrafficConfig = TrafficConfig {
    packets: 0,
    flows: 0,
    concurrent_sessions: None,
    size_mix: SizeMix::Imix,
    ipv6_share: 0.0,
    vlan_share: 0.0,
    vxlan_share: 0.0,
    udp_share: 0.0,
    seed: 0,
    rate_pps: STANDARD_RATE_PPS,
};

/// The four standard mixes, in table order.
pub const STANDARD_MIXES: [StandardMix; 4] = [
    StandardMix {
        name: "small64",
        purpose: "64-byte frames over 1M concurrent flows: per-packet cost and flow-table misses",
        config: TrafficConfig {
            size_mix: SizeMix::Small64,
            packets: 10_000_000,
            flows: 1_000_000,
            ipv6_share: 0.1,
            vlan_share: 0.1,
            udp_share: 0.3,
            seed: 1,
            ..BASE
        },
        fixed_flows: false,
    },
    StandardMix {
        name: "imix",
        purpose: "IMIX 7:4:1 over 100k flows, with IPv6, VLAN and VXLAN",
        config: TrafficConfig {
            size_mix: SizeMix::Imix,
            packets: 5_000_000,
            flows: 100_000,
            ipv6_share: 0.2,
            vlan_share: 0.2,
            vxlan_share: 0.05,
            udp_share: 0.3,
            seed: 2,
            ..BASE
        },
        fixed_flows: false,
    },
    StandardMix {
        name: "sessions",
        purpose: "500k complete TCP sessions and DNS exchanges: flow creation and teardown",
        config: TrafficConfig {
            size_mix: SizeMix::Sessions,
            packets: 5_000_000,
            flows: 500_000,
            ipv6_share: 0.2,
            vlan_share: 0.1,
            udp_share: 0.2,
            seed: 3,
            ..BASE
        },
        fixed_flows: false,
    },
    StandardMix {
        name: "elephant",
        purpose: "IMIX over 16 TCP flows: hot flow table, and the memory baseline",
        config: TrafficConfig { size_mix: SizeMix::Imix, packets: 5_000_000, flows: 16, seed: 4, ..BASE },
        fixed_flows: true,
    },
];

/// Name of the mix whose runs give the memory baseline for bytes per flow.
pub const BASELINE_MIX: &str = "elephant";

impl StandardMix {
    /// Finds a standard mix by name.
    pub fn named(name: &str) -> Option<StandardMix> {
        STANDARD_MIXES.iter().copied().find(|mix| mix.name == name)
    }

    /// The generator settings shrunk or grown by `scale`: packets always,
    /// flows unless fixed. Counts never drop below 16 flows and 1000
    /// packets, so a tiny scale still gives a usable capture.
    pub fn scaled(&self, scale: f64) -> TrafficConfig {
        let mut config = self.config;
        config.packets = ((config.packets as f64 * scale).round() as u64).max(1000);
        if !self.fixed_flows {
            config.flows = ((f64::from(config.flows) * scale).round() as u32).clamp(16, crate::traffic::MAX_FLOWS);
        }
        config
    }

    /// Path of this mix's capture at `scale` under `folder`. The name
    /// carries the counts and the seed, so captures of different settings
    /// never share a file.
    pub fn capture_path(&self, folder: &Path, scale: f64) -> PathBuf {
        let config = self.scaled(scale);
        folder.join(format!("{}-{}p-{}f-seed{}.pcap", self.name, config.packets, config.flows, config.seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_counts() {
        let small = StandardMix::named("small64").unwrap().scaled(0.2);
        assert_eq!(small.packets, 2_000_000);
        assert_eq!(small.flows, 200_000);
        let elephant = StandardMix::named("elephant").unwrap().scaled(0.2);
        assert_eq!(elephant.flows, 16);
        let tiny = StandardMix::named("imix").unwrap().scaled(1e-9);
        assert_eq!((tiny.packets, tiny.flows), (1000, 16));
    }

    #[test]
    fn standard_mixes_valid() {
        for mix in STANDARD_MIXES {
            assert_eq!(mix.config.validate(), Ok(()), "{}", mix.name);
        }
        assert!(StandardMix::named(BASELINE_MIX).is_some());
    }

    #[test]
    fn capture_path_names_counts() {
        let path = StandardMix::named("imix").unwrap().capture_path(Path::new("/data"), 0.5);
        assert_eq!(path, Path::new("/data/imix-2500000p-50000f-seed2.pcap"));
    }
}
