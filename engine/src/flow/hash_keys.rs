//! The secret keys of the flow index hash.
//!
//! The index hash mixes each key's words with five constants. When they are
//! fixed and public, anyone who can send traffic past the sensor can craft
//! flows whose hashes collide, and each packet of such flows then walks a
//! long probe run in its shard's index. nauditd draws the constants from the
//! operating system's randomness when it starts ([`draw_index_hash_keys`]),
//! so the collisions cannot be computed from outside. Records do not depend
//! on the keys: the index only decides where a flow's entry sits.
//!
//! Until the keys are drawn, and in programs that never draw them (tests,
//! fuzzers, benchmarks), the hash uses fixed constants, so it is the same
//! from run to run.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

/// The fixed constants: the first 320 bits of the fractional part of pi, a
/// choice with no structure of its own.
const FIXED_KEYS: [u64; 5] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
    0x4528_21e6_38d0_1377,
];

/// The keys in use, in the order of [`IndexHashKeys`]'s fields.
static KEYS: [AtomicU64; 5] = [
    AtomicU64::new(FIXED_KEYS[0]),
    AtomicU64::new(FIXED_KEYS[1]),
    AtomicU64::new(FIXED_KEYS[2]),
    AtomicU64::new(FIXED_KEYS[3]),
    AtomicU64::new(FIXED_KEYS[4]),
];

static DRAWN: Once = Once::new();

/// The five keys of the index hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct IndexHashKeys {
    /// Key mixed into the lower of a flow key's two endpoint words.
    pub low: u64,
    /// Key mixed into the higher endpoint word.
    pub high: u64,
    /// Key mixed into the tunnel word.
    pub tunnel: u64,
    /// Key mixed into the low half of an IPv6 address.
    pub wide_low: u64,
    /// Key mixed into the high half of an IPv6 address.
    pub wide_high: u64,
}

impl IndexHashKeys {
    /// Returns the keys in use.
    #[inline(always)]
    pub fn current() -> IndexHashKeys {
        // Relaxed suffices: the keys change once, before any worker starts,
        // and starting a thread orders that change before its loads.
        let load = |index: usize| KEYS[index].load(Ordering::Relaxed);
        IndexHashKeys { low: load(0), high: load(1), tunnel: load(2), wide_low: load(3), wide_high: load(4) }
    }
}

/// Replaces the index hash's fixed constants with keys drawn from the
/// operating system's randomness. Call it once at start, before any flow
/// shard is created; later calls do nothing.
pub fn draw_index_hash_keys() {
    DRAWN.call_once(|| {
        // std's RandomState seeds itself from the operating system.
        let random = RandomState::new();
        for (index, key) in KEYS.iter().enumerate() {
            let mut hasher = random.build_hasher();
            hasher.write_usize(index);
            key.store(hasher.finish(), Ordering::Relaxed);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_until_drawn() {
        // No test of this crate draws the keys, so they stay fixed here.
        let keys = IndexHashKeys::current();
        assert_eq!([keys.low, keys.high, keys.tunnel, keys.wide_low, keys.wide_high], FIXED_KEYS);
    }
}
