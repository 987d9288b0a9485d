//! A small, fast, seeded pseudo-random number generator.
//!
//! SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
//! generators", OOPSLA 2014): one 64-bit add and a three-step mixer per
//! output. Its quality is far beyond what synthetic traffic needs, and the
//! same seed gives the same sequence on every platform.

/// Adds this odd constant (2^64 divided by the golden ratio) to the state
/// for every output, so the state runs through all 2^64 values.
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// Scrambles a 64-bit value into a well-mixed one.
///
/// This is SplitMix64's output function. It is a bijection, so distinct
/// inputs give distinct outputs. The generator uses it as a stateless hash
/// of (seed, index) to derive a flow's addresses from its number.
pub fn mix64(value: u64) -> u64 {
    let mut z = value;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hashes a seed, a stream tag and an index into 64 well-mixed bits.
///
/// Different `stream` values give independent-looking values for the same
/// index, which the generator uses to draw unrelated per-flow properties.
pub fn hash3(seed: u64, stream: u64, index: u64) -> u64 {
    mix64(seed ^ mix64(stream.wrapping_mul(GOLDEN_GAMMA) ^ mix64(index)))
}

/// Converts 64 random bits to a uniform `f64` in `[0, 1)`.
pub fn unit_interval(bits: u64) -> f64 {
    // The top 53 bits fill an f64 mantissa exactly.
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Maps 64 random bits to `[0, bound)` without division (Lemire's
/// multiply-shift). The bias is below `bound / 2^64`, negligible here.
pub fn below(bits: u64, bound: u64) -> u64 {
    ((u128::from(bits) * u128::from(bound)) >> 64) as u64
}

/// The SplitMix64 generator.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Creates a generator; equal seeds give equal sequences.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }

    /// Returns a uniform integer in `[0, bound)`; `bound` 0 returns 0.
    pub fn below(&mut self, bound: u64) -> u64 {
        below(self.next_u64(), bound)
    }

    /// Returns a uniform `f64` in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        unit_interval(self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut first = SplitMix64::new(42);
        let mut second = SplitMix64::new(42);
        for _ in 0..100 {
            assert_eq!(first.next_u64(), second.next_u64());
        }
    }

    #[test]
    fn splitmix64_reference_values() {
        // Outputs of the reference C implementation for seed 1234567.
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn below_stays_in_bounds() {
        let mut rng = SplitMix64::new(7);
        for bound in [1, 2, 3, 12, 1000, u64::MAX] {
            for _ in 0..1000 {
                assert!(rng.below(bound) < bound);
            }
        }
        assert_eq!(below(u64::MAX, 0), 0);
    }

    #[test]
    fn unit_interval_is_half_open() {
        assert_eq!(unit_interval(0), 0.0);
        assert!(unit_interval(u64::MAX) < 1.0);
    }
}
