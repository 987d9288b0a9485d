//! The flow index: which slot of a shard contains the flow of a key.
//!
//! An open-addressing table with linear probing. Each 8-byte entry contains
//! a tag from the key's hash and the number of the slot with the flow.
//! The key itself stays in the slot, so a lookup confirms a tag match with
//! a closure that compares the slot's key.
//!
//! A key's home entry is given by the top bits of its hash, and the tag is
//! the hash's top 32 bits. Doubling the table therefore places every entry
//! from its tag alone, without reading a slot. Removal shifts the rest of
//! the probe run back over the freed entry (no tombstones), so probe
//! lengths depend only on the keys held.
//!
//! The table is allocated once, at twice the most keys it may hold rounded
//! up to a power of two, so it never rehashes while packets flow. An empty
//! entry is all zero bits, so the allocation takes zeroed pages from the
//! operating system, made resident at once and on huge pages where the
//! system offers them (16 bytes for each flow of the shard's capacity:
//! 4 MiB under the default limit of 262,144 flows).

use crate::prefetch::prefetch_read;

/// One index entry: a tag from the key's hash and the slot of its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    tag: u32,
    slot: u32,
}

/// The slot number that marks an unused entry.
const EMPTY_SLOT: u32 = u32::MAX;
const EMPTY: Entry = Entry { tag: 0, slot: EMPTY_SLOT };
/// The smallest table: eight cache lines.
const MIN_ENTRY_BITS: u32 = 6;

impl Entry {
    /// Packs the entry into 64 bits, the slot inverted so that an empty
    /// entry is zero.
    #[inline(always)]
    fn to_bits(self) -> u64 {
        (u64::from(self.tag) << 32) | u64::from(!self.slot)
    }

    /// Unpacks an entry that [`Entry::to_bits`] packed.
    #[inline(always)]
    fn from_bits(bits: u64) -> Entry {
        Entry { tag: (bits >> 32) as u32, slot: !(bits as u32) }
    }
}
/// The home entry comes from the tag, so the table has at most 2^32 entries
/// (fewer where `usize` has fewer than 64 bits).
const MAX_ENTRY_BITS: u32 = if usize::BITS > 32 { 32 } else { usize::BITS - 4 };

/// Maps key hashes to slot numbers; see the module documentation.
#[derive(Debug)]
pub struct FlowIndex {
    /// The entries, packed by [`Entry::to_bits`].
    entries: Vec<u64>,
    /// The table has `1 << entry_bits` entries.
    entry_bits: u32,
    len: usize,
}

/// Returns the `entry_bits` of an index for at most `max_len` keys.
fn entry_bits_for(max_len: usize) -> u32 {
    let bits_for_max_len = max_len
        .max(1)
        .saturating_mul(2)
        .checked_next_power_of_two()
        .map_or(usize::BITS, |entries| entries.trailing_zeros());
    bits_for_max_len.clamp(MIN_ENTRY_BITS, MAX_ENTRY_BITS)
}

/// Returns `count` empty entries. Zero is the empty entry, so they come
/// from zeroed memory without being written. They are then made resident
/// for writing, because a probe reads an entry before an insert writes it
/// (see [`crate::resident`] for what that costs).
fn zeroed_entries(count: usize) -> Vec<u64> {
    let mut entries = vec![EMPTY.to_bits(); count];
    crate::resident::populate_for_write(&mut entries);
    entries
}

/// Returns the tag of a hash: its top 32 bits.
#[inline(always)]
fn tag_of(hash: u64) -> u32 {
    (hash >> 32) as u32
}

impl FlowIndex {
    /// Creates an empty index for at most `max_len` keys, with `2 * max_len`
    /// entries rounded up to a power of two, which keeps the load factor at
    /// or below 1/2 for up to 2^31 keys. Past that the table has 2^32
    /// entries (32 GiB) and fills further.
    pub fn new(max_len: usize) -> FlowIndex {
        let entry_bits = entry_bits_for(max_len);
        FlowIndex { entries: zeroed_entries(1 << entry_bits), entry_bits, len: 0 }
    }

    /// Removes every key in one pass over the table.
    pub fn clear(&mut self) {
        self.entries.fill(EMPTY.to_bits());
        self.len = 0;
    }

    /// Returns the entry at `position`.
    #[inline(always)]
    fn at(&self, position: usize) -> Entry {
        Entry::from_bits(self.entries[position])
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns true when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline(always)]
    fn mask(&self) -> usize {
        self.entries.len() - 1
    }

    /// Returns the home entry of a tag: its top `entry_bits` bits.
    #[inline(always)]
    fn home(&self, tag: u32) -> usize {
        (u64::from(tag) >> (32 - self.entry_bits)) as usize
    }

    /// Returns the slot of the key with `hash`, or `None`. `is_key` is
    /// called with the slot of each entry whose tag matches and returns
    /// whether that slot contains the key.
    #[inline]
    pub fn find(&self, hash: u64, mut is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        let tag = tag_of(hash);
        let mask = self.mask();
        let mut position = self.home(tag);
        loop {
            let entry = self.at(position);
            if entry.slot == EMPTY_SLOT {
                return None;
            }
            if entry.tag == tag && is_key(entry.slot) {
                return Some(entry.slot);
            }
            position = (position + 1) & mask;
        }
    }

    /// Returns the slot of the first entry whose tag matches `hash`, without
    /// confirming the key: a guess at the slot to prefetch.
    #[inline]
    pub fn first_candidate(&self, hash: u64) -> Option<u32> {
        self.find(hash, |_| true)
    }

    /// Starts loading the cache line of the home entry of `hash`.
    #[inline(always)]
    pub fn prefetch(&self, hash: u64) {
        let position = self.home(tag_of(hash));
        prefetch_read(self.entries.as_ptr().wrapping_add(position));
    }

    /// Adds `slot` as the slot of a key with `hash`, which the index must
    /// not hold already. Past the `max_len` given to [`FlowIndex::new`] the
    /// load factor rises above 1/2.
    ///
    /// # Panics
    ///
    /// When the table would have no empty entry left, which takes more than
    /// 2^32 - 1 keys, or `slot` is `u32::MAX`.
    pub fn insert(&mut self, hash: u64, slot: u32) {
        assert_ne!(slot, EMPTY_SLOT, "slot {slot} is reserved for empty index entries");
        assert!(self.len + 1 < self.entries.len(), "flow index full at {} keys", self.len);
        self.place(Entry { tag: tag_of(hash), slot });
        self.len += 1;
    }

    /// Puts an entry in the first empty entry from its home on.
    fn place(&mut self, entry: Entry) {
        let mask = self.mask();
        let mut position = self.home(entry.tag);
        while self.at(position).slot != EMPTY_SLOT {
            position = (position + 1) & mask;
        }
        self.entries[position] = entry.to_bits();
    }

    /// Removes the entry of `slot`, filed under `hash`, and returns whether
    /// it was there. Slot numbers are unique, so no key is compared.
    pub fn remove(&mut self, hash: u64, slot: u32) -> bool {
        let mask = self.mask();
        let mut hole = self.home(tag_of(hash));
        loop {
            let entry = self.at(hole);
            if entry.slot == EMPTY_SLOT {
                return false;
            }
            if entry.slot == slot {
                break;
            }
            hole = (hole + 1) & mask;
        }

        // Backward shift: move each later entry of the run into the hole
        // when the hole lies between that entry's home and its position, so
        // that every entry stays reachable from its home without a gap.
        let mut position = hole;
        loop {
            position = (position + 1) & mask;
            let entry = self.at(position);
            if entry.slot == EMPTY_SLOT {
                break;
            }
            let home = self.home(entry.tag);
            let entry_distance = position.wrapping_sub(home) & mask;
            let hole_distance = position.wrapping_sub(hole) & mask;
            if entry_distance >= hole_distance {
                self.entries[hole] = entry.to_bits();
                hole = position;
            }
        }
        self.entries[hole] = EMPTY.to_bits();
        self.len -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A splitmix64 generator: a fixed stream for reproducible sequences.
    struct SplitMix64(u64);

    impl SplitMix64 {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
    }

    /// Returns a hash whose home entry in a table of `1 << entry_bits`
    /// entries is `home`, with `low` in the bits below the home bits.
    fn hash_at(home: u64, entry_bits: u32, low: u64) -> u64 {
        (home << (64 - entry_bits)) | (low & ((1u64 << (64 - entry_bits)) - 1))
    }

    /// Checks every key of `model` against the index, and that every entry
    /// is reachable from its home without crossing an empty entry.
    fn check_against(index: &FlowIndex, model: &BTreeMap<u32, u64>) {
        assert_eq!(index.len(), model.len());
        for (&slot, &hash) in model {
            assert_eq!(index.find(hash, |found| found == slot), Some(slot), "slot {slot} not found");
        }
        let occupied = (0..index.entries.len()).filter(|&position| index.at(position).slot != EMPTY_SLOT).count();
        assert_eq!(occupied, model.len());
        let mask = index.mask();
        for position in 0..index.entries.len() {
            let entry = index.at(position);
            if entry.slot == EMPTY_SLOT {
                continue;
            }
            let mut probe = index.home(entry.tag);
            while probe != position {
                assert_ne!(index.at(probe).slot, EMPTY_SLOT, "gap before entry {position}");
                probe = (probe + 1) & mask;
            }
        }
    }

    #[test]
    fn empty_index_finds_nothing() {
        let index = FlowIndex::new(100);
        assert_eq!(index.find(0x1234_5678_9abc_def0, |_| true), None);
        assert_eq!(index.first_candidate(0), None);
        assert!(index.is_empty());
    }

    #[test]
    fn find_confirms_through_closure() {
        let mut index = FlowIndex::new(100);
        // Two keys with the same hash, as two keys whose hashes collide.
        index.insert(42, 1);
        index.insert(42, 2);
        assert_eq!(index.find(42, |slot| slot == 2), Some(2));
        assert_eq!(index.find(42, |slot| slot == 1), Some(1));
        assert_eq!(index.find(42, |_| false), None);
        assert_eq!(index.first_candidate(42), Some(1));
    }

    #[test]
    fn removal_chain_wraps_table_end() {
        let mut index = FlowIndex::new(16);
        let bits = index.entry_bits;
        let last = (1u64 << bits) - 1;
        // Three keys at home `last - 1` fill the last two entries and wrap
        // to entry 0; a key at home 0 lands on entry 1.
        let wrapped = [hash_at(last - 1, bits, 1), hash_at(last - 1, bits, 2), hash_at(last - 1, bits, 3)];
        let at_zero = hash_at(0, bits, 4);
        let mut model = BTreeMap::new();
        for (slot, &hash) in wrapped.iter().chain([at_zero].iter()).enumerate() {
            index.insert(hash, slot as u32);
            model.insert(slot as u32, hash);
        }
        assert_eq!(index.at(0).slot, 2, "third key wraps to entry 0");
        assert_eq!(index.at(1).slot, 3, "key at home 0 lands after it");

        // Removing the first key shifts the wrapped key back across the end
        // and the home-0 key back to its home.
        assert!(index.remove(wrapped[0], 0));
        model.remove(&0);
        assert_eq!(index.at(last as usize).slot, 2);
        assert_eq!(index.at(0).slot, 3);
        assert_eq!(index.at(1).slot, EMPTY_SLOT);
        check_against(&index, &model);

        // Removing a key that sits at its home with a wrapped run behind it
        // must not move the run's entries before their homes.
        assert!(index.remove(wrapped[1], 1));
        model.remove(&1);
        assert_eq!(index.at((last - 1) as usize).slot, 2);
        assert_eq!(index.at(last as usize).slot, EMPTY_SLOT);
        assert_eq!(index.at(0).slot, 3);
        check_against(&index, &model);

        assert!(!index.remove(wrapped[1], 1), "a removed slot is gone");
    }

    #[test]
    fn removal_keeps_entries_at_home() {
        let mut index = FlowIndex::new(16);
        let bits = index.entry_bits;
        // Homes 5, 5, 6, 8: removing the first key at 5 moves the second
        // back to 5 and the key of home 6 back to 6, but leaves the key of
        // home 8 where it is.
        let hashes = [hash_at(5, bits, 1), hash_at(5, bits, 2), hash_at(6, bits, 3), hash_at(8, bits, 4)];
        let mut model = BTreeMap::new();
        for (slot, &hash) in hashes.iter().enumerate() {
            index.insert(hash, slot as u32);
            model.insert(slot as u32, hash);
        }
        assert_eq!(index.at(7).slot, 2);
        assert!(index.remove(hashes[0], 0));
        model.remove(&0);
        assert_eq!(index.at(5).slot, 1);
        assert_eq!(index.at(6).slot, 2);
        assert_eq!(index.at(7).slot, EMPTY_SLOT);
        assert_eq!(index.at(8).slot, 3);
        check_against(&index, &model);
    }

    #[test]
    fn sized_for_max_len_at_start() {
        let mut index = FlowIndex::new(1000);
        assert_eq!(index.entries.len(), 2048);
        let mut model = BTreeMap::new();
        let mut random = SplitMix64(7);
        for slot in 0..1000u32 {
            let hash = random.next_u64();
            index.insert(hash, slot);
            model.insert(slot, hash);
        }
        assert_eq!(index.entries.len(), 2048, "the table never grows");
        check_against(&index, &model);

        // Past its `max_len` the index fills its table beyond half.
        let mut small = FlowIndex::new(100);
        let mut model = BTreeMap::new();
        for slot in 0..250u32 {
            let hash = random.next_u64();
            small.insert(hash, slot);
            model.insert(slot, hash);
        }
        assert_eq!(small.entries.len(), 256);
        check_against(&small, &model);

        assert_eq!(entry_bits_for(usize::MAX), MAX_ENTRY_BITS);
        assert_eq!(entry_bits_for(0), MIN_ENTRY_BITS);
    }

    #[test]
    fn empty_entry_is_zero() {
        // The table is allocated as zeroed memory, which the operating
        // system hands out without touching it, only while this holds.
        assert_eq!(EMPTY.to_bits(), 0);
        let entry = Entry { tag: 0xdead_beef, slot: 7 };
        assert_eq!(Entry::from_bits(entry.to_bits()), entry);
    }

    #[test]
    fn random_sequence_matches_model() {
        let mut random = SplitMix64(0x5eed);
        // Each case keeps the hash bits in `keep` and sets those in `set`:
        // uniform homes, homes crowded on eight entries, and homes crowded
        // on the last entries, whose runs wrap past the end of the table.
        let cases = [(u64::MAX, 0), (!(u64::MAX >> 3) | 0xffff, 0), (u64::MAX, !(u64::MAX >> 8))];
        for (keep, set) in cases {
            let max_len = 300;
            let mut index = FlowIndex::new(max_len);
            let mut model: BTreeMap<u32, u64> = BTreeMap::new();
            let mut free: Vec<u32> = (0..max_len as u32).rev().collect();
            for step in 0..20_000 {
                let remove = free.is_empty() || (!model.is_empty() && random.next_u64() % 100 < 45);
                if remove {
                    let nth = (random.next_u64() % model.len() as u64) as usize;
                    let victim = *model.keys().nth(nth).unwrap();
                    let hash = model.remove(&victim).unwrap();
                    assert!(index.remove(hash, victim), "step {step}: slot {victim} not removed");
                    free.push(victim);
                } else {
                    let slot = free.pop().unwrap();
                    let hash = (random.next_u64() & keep) | set;
                    index.insert(hash, slot);
                    model.insert(slot, hash);
                }
                if step % 97 == 0 {
                    check_against(&index, &model);
                }
            }
            check_against(&index, &model);
            let wrapped = index.at(0).slot != EMPTY_SLOT && index.at(index.mask()).slot != EMPTY_SLOT;
            if set != 0 {
                assert!(wrapped, "the end-crowded case must wrap a run past the table end");
            }
        }
    }
}
