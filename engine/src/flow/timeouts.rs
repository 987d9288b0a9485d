//! Idle timeouts and the status interval.

use crate::flow::key::FlowKey;

/// Nanoseconds in one second.
pub const NS_PER_SEC: u64 = 1_000_000_000;

/// When flows are reported and expired, all in nanoseconds of packet time.
///
/// The defaults follow argus's recommended configuration (the
/// `ARGUS_FLOW_STATUS_INTERVAL` of the `argus.conf` shipped with argus
/// 3.0.8, and its per-protocol idle timers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// A flow open longer than this is reported once per interval.
    pub status_interval_ns: u64,
    /// Idle timeout of TCP flows.
    pub tcp_idle_ns: u64,
    /// Idle timeout of UDP and every IP protocol other than TCP and ICMP.
    pub ip_idle_ns: u64,
    /// Idle timeout of ICMP and ICMPv6 flows.
    pub icmp_idle_ns: u64,
    /// How long an unfinished IP datagram's fragments are kept.
    pub fragment_idle_ns: u64,
    /// Idle timeout of ARP flows.
    pub arp_idle_ns: u64,
    /// Idle timeout of non-IP layer-2 flows.
    pub other_idle_ns: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            status_interval_ns: 5 * NS_PER_SEC,
            tcp_idle_ns: 60 * NS_PER_SEC,
            ip_idle_ns: 30 * NS_PER_SEC,
            icmp_idle_ns: 5 * NS_PER_SEC,
            fragment_idle_ns: 5 * NS_PER_SEC,
            arp_idle_ns: 5 * NS_PER_SEC,
            other_idle_ns: 30 * NS_PER_SEC,
        }
    }
}

impl Timeouts {
    /// The idle timeout that applies to a flow with this key.
    pub fn idle_ns(&self, key: &FlowKey) -> u64 {
        match key {
            FlowKey::Ip { protocol: 6, .. } => self.tcp_idle_ns,
            FlowKey::Ip { .. } => self.ip_idle_ns,
            FlowKey::Icmp { .. } => self.icmp_idle_ns,
            FlowKey::Arp { .. } => self.arp_idle_ns,
            FlowKey::Infiniband { link: crate::decode::ib::IbLink::RoceV2, .. } => self.ip_idle_ns,
            FlowKey::Layer2 { .. } | FlowKey::Infiniband { .. } => self.other_idle_ns,
        }
    }
}

/// Timeout classes: each has one idle timeout, so a list of its flows
/// ordered by last activity is also ordered by expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutClass {
    /// TCP flows.
    Tcp = 0,
    /// UDP, RoCEv2 and every IP protocol other than TCP and ICMP.
    OtherIp = 1,
    /// ICMP and ICMPv6.
    Icmp = 2,
    /// ARP.
    Arp = 3,
    /// Non-IP layer-2 flows and native InfiniBand.
    Layer2 = 4,
    /// Closed flows, whatever their protocol, lingering for stray packets.
    Closed = 5,
}

impl TimeoutClass {
    /// Number of classes.
    pub const COUNT: usize = 6;

    /// Every class, in the order their lists are scanned.
    pub const ALL: [TimeoutClass; TimeoutClass::COUNT] = [
        TimeoutClass::Tcp,
        TimeoutClass::OtherIp,
        TimeoutClass::Icmp,
        TimeoutClass::Arp,
        TimeoutClass::Layer2,
        TimeoutClass::Closed,
    ];

    /// Returns the class of an open flow with `key`.
    pub fn of(key: &FlowKey) -> TimeoutClass {
        match key {
            FlowKey::Ip { protocol: 6, .. } => TimeoutClass::Tcp,
            FlowKey::Ip { .. } => TimeoutClass::OtherIp,
            FlowKey::Icmp { .. } => TimeoutClass::Icmp,
            FlowKey::Arp { .. } => TimeoutClass::Arp,
            FlowKey::Infiniband { link: crate::decode::ib::IbLink::RoceV2, .. } => TimeoutClass::OtherIp,
            FlowKey::Layer2 { .. } | FlowKey::Infiniband { .. } => TimeoutClass::Layer2,
        }
    }
}
