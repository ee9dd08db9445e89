//! A bounded, sharded TTL cache of resolutions.
//!
//! - **TTL**: an entry is valid until `min(observed_at, now) + ttl` (exclusive), with the
//!   shorter negative TTL for answers without RCS and for resolutions whose pin status could
//!   not be read. Observations already past their TTL are not cached.
//! - **Precedence**: an insert for a number with a fresh entry replaces it only if the new
//!   observation is at least as recent (ties: client report > delivery event > provider).
//! - **Bound**: at most `capacity` entries, split evenly over up to 16 shards; a full shard
//!   evicts with the CLOCK algorithm (second chance), expired entries first, in amortised
//!   O(1). Numbers spread over shards by hash, so a shard can fill (and evict) while the cache
//!   as a whole holds slightly fewer than `capacity` entries; size with ~5 % headroom.
//! - **Hit path**: an exact integer key (no hashing collisions between numbers), one shard
//!   mutex, one map lookup, a clone of the resolution (reference-count bumps); no allocation.

mod entry;
pub(crate) mod single_flight;

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rcsec_core::{Msisdn, Timestamp};

use self::entry::Entry;
pub(crate) use self::entry::NumberKey;
pub use self::entry::Resolution;
pub(crate) use self::entry::supersedes;
use crate::error::ConfigError;

const MIN_TTL: Duration = Duration::from_secs(60);
const MAX_TTL: Duration = Duration::from_secs(15 * 60);
const MAX_SHARDS: usize = 16;

/// Cache TTLs and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    ttl: Duration,
    negative_ttl: Duration,
    capacity: usize,
}

impl CacheConfig {
    /// A validated configuration.
    ///
    /// # Errors
    /// [`ConfigError::TtlOutOfRange`] unless 1 min ≤ `ttl` ≤ 15 min;
    /// [`ConfigError::NegativeTtlOutOfRange`] unless 1 s ≤ `negative_ttl` ≤ `ttl`;
    /// [`ConfigError::ZeroCapacity`] for a capacity of 0.
    pub fn new(
        ttl: Duration,
        negative_ttl: Duration,
        capacity: usize,
    ) -> Result<Self, ConfigError> {
        if !(MIN_TTL..=MAX_TTL).contains(&ttl) {
            return Err(ConfigError::TtlOutOfRange(ttl));
        }
        if negative_ttl < Duration::from_secs(1) || negative_ttl > ttl {
            return Err(ConfigError::NegativeTtlOutOfRange(negative_ttl));
        }
        if capacity == 0 {
            return Err(ConfigError::ZeroCapacity);
        }
        Ok(Self {
            ttl,
            negative_ttl,
            capacity,
        })
    }

    /// How long a positive answer stays valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How long a negative answer stays valid.
    pub fn negative_ttl(&self) -> Duration {
        self.negative_ttl
    }

    /// Most entries held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The TTL that applies to `resolution`.
    fn ttl_for(&self, resolution: &Resolution) -> Duration {
        let uncertain_pin = resolution.pin() == crate::pin::PinState::Unavailable;
        if resolution.capability().is_negative() || uncertain_pin {
            self.negative_ttl
        } else {
            self.ttl
        }
    }
}

impl Default for CacheConfig {
    /// 5 minutes, 60 seconds negative, 100 000 entries.
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(5 * 60),
            negative_ttl: Duration::from_secs(60),
            capacity: 100_000,
        }
    }
}

/// What [`CapabilityCache::insert`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InsertOutcome {
    /// The resolution is now cached.
    Stored,
    /// A more recent observation is cached and was kept; here it is.
    Superseded(Resolution),
    /// The observation was already past its TTL and was not cached.
    Expired,
}

/// Hashes the exact integer keys with one seeded folded multiply (the 128-bit product's halves
/// XORed), a few nanoseconds instead of SipHash's tens. The per-cache random seed keeps
/// bucket placement unpredictable, so numbers cannot be chosen to collide; and because keys
/// are exact, a collision could only cost time, never mix up two numbers.
#[derive(Clone, Copy)]
struct KeyHasherBuilder {
    seed: u64,
}

impl KeyHasherBuilder {
    fn random() -> Self {
        // `RandomState` is seeded from the OS; one of its hashes serves as our seed.
        let mut h = RandomState::new().build_hasher();
        h.write_u64(0x5eed);
        Self { seed: h.finish() }
    }
}

impl BuildHasher for KeyHasherBuilder {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher {
            seed: self.seed,
            hash: 0,
        }
    }
}

struct KeyHasher {
    seed: u64,
    hash: u64,
}

impl KeyHasher {
    const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

    fn mix(&mut self, value: u64) {
        let full = u128::from(value ^ self.seed ^ self.hash) * u128::from(Self::MULTIPLIER);
        let low = u64::try_from(full & u128::from(u64::MAX)).unwrap_or(0);
        let high = u64::try_from(full >> 64).unwrap_or(0);
        self.hash = low ^ high;
    }
}

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.hash
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed; this generic path exists for completeness.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }
}

struct Slot {
    key: u64,
    referenced: bool,
    entry: Option<Entry>,
}

struct Shard {
    index: HashMap<u64, usize, KeyHasherBuilder>,
    slots: Vec<Slot>,
    free: Vec<usize>,
    hand: usize,
    capacity: usize,
}

impl Shard {
    fn new(capacity: usize, hasher: KeyHasherBuilder) -> Self {
        Self {
            index: HashMap::with_hasher(hasher),
            slots: Vec::new(),
            free: Vec::new(),
            hand: 0,
            capacity,
        }
    }

    fn vacate(&mut self, slot: usize) {
        if let Some(s) = self.slots.get_mut(slot)
            && s.entry.take().is_some()
        {
            self.index.remove(&s.key);
            self.free.push(slot);
        }
    }

    fn get(&mut self, key: u64, now: Timestamp) -> Option<Resolution> {
        let slot = *self.index.get(&key)?;
        let s = self.slots.get_mut(slot)?;
        match &s.entry {
            Some(entry) if entry.is_fresh(now) => {
                s.referenced = true;
                Some(entry.resolution.clone())
            }
            _ => {
                self.vacate(slot);
                None
            }
        }
    }

    /// A slot to fill: a free one, a new one, or one evicted by CLOCK.
    fn claim(&mut self, now: Timestamp) -> Option<usize> {
        if let Some(slot) = self.free.pop() {
            return Some(slot);
        }
        if self.slots.len() < self.capacity {
            self.slots.push(Slot {
                key: 0,
                referenced: false,
                entry: None,
            });
            return Some(self.slots.len() - 1);
        }
        // Every slot is occupied. One sweep clears all second chances, so two suffice.
        for _ in 0..2 * self.slots.len() {
            let slot = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            let s = self.slots.get_mut(slot)?;
            if s.entry.is_none() {
                return Some(slot);
            }
            let expired = s.entry.as_ref().is_some_and(|e| !e.is_fresh(now));
            if s.referenced && !expired {
                s.referenced = false;
                continue;
            }
            self.vacate(slot);
            return self.free.pop();
        }
        None
    }

    fn insert(&mut self, key: u64, entry: Entry, now: Timestamp) -> InsertOutcome {
        if let Some(&slot) = self.index.get(&key)
            && let Some(s) = self.slots.get_mut(slot)
        {
            if let Some(old) = s.entry.as_ref().filter(|old| old.is_fresh(now))
                && !supersedes(entry.resolution.capability(), old.resolution.capability())
            {
                s.referenced = true;
                return InsertOutcome::Superseded(old.resolution.clone());
            }
            s.entry = Some(entry);
            s.referenced = true;
            return InsertOutcome::Stored;
        }
        let Some(slot) = self.claim(now) else {
            // Unreachable with capacity >= 1; dropping the insert is the safe failure.
            return InsertOutcome::Expired;
        };
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Slot {
                key,
                referenced: false,
                entry: Some(entry),
            };
            self.index.insert(key, slot);
        }
        InsertOutcome::Stored
    }
}

/// The resolution cache. Sans-IO: the caller passes the current time.
pub struct CapabilityCache {
    config: CacheConfig,
    shards: Box<[Mutex<Shard>]>,
    mask: u64,
}

impl CapabilityCache {
    /// An empty cache.
    pub fn new(config: CacheConfig) -> Self {
        // A power of two no larger than the capacity, so that every shard holds at least one.
        Self::with_shards(config, 1usize << config.capacity.min(MAX_SHARDS).ilog2())
    }

    /// `count` must be a power of two no larger than the capacity.
    fn with_shards(config: CacheConfig, count: usize) -> Self {
        let base = config.capacity / count;
        let extra = config.capacity % count;
        let hasher = KeyHasherBuilder::random();
        let shards = (0..count)
            .map(|i| Mutex::new(Shard::new(base + usize::from(i < extra), hasher)))
            .collect();
        Self {
            config,
            shards,
            mask: u64::try_from(count - 1).unwrap_or(0),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    fn shard(&self, key: NumberKey) -> MutexGuard<'_, Shard> {
        // Fibonacci hashing spreads consecutive numbers over shards.
        let mixed = key.0.wrapping_mul(KeyHasher::MULTIPLIER) >> 32;
        let index = usize::try_from(mixed & self.mask).unwrap_or(0);
        // `index <= mask < shards.len()` by construction.
        let shard = &self.shards[index];
        // Every shard operation leaves a consistent state, so a poisoned shard is usable.
        shard.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The valid cached resolution for `number` at `now`, if any. An expired entry is
    /// removed, never returned.
    pub fn get(&self, number: &Msisdn, now: Timestamp) -> Option<Resolution> {
        self.get_key(NumberKey::of(number), now)
    }

    pub(crate) fn get_key(&self, key: NumberKey, now: Timestamp) -> Option<Resolution> {
        self.shard(key).get(key.0, now)
    }

    /// Caches `resolution` for `number`, subject to precedence and TTL (see the module docs).
    pub fn insert(&self, number: &Msisdn, resolution: Resolution, now: Timestamp) -> InsertOutcome {
        self.insert_key(NumberKey::of(number), resolution, now)
    }

    pub(crate) fn insert_key(
        &self,
        key: NumberKey,
        resolution: Resolution,
        now: Timestamp,
    ) -> InsertOutcome {
        let observed = resolution.capability().observed_at().min(now);
        let expires_at = observed.saturating_add(self.config.ttl_for(&resolution));
        if expires_at <= now {
            return InsertOutcome::Expired;
        }
        let entry = Entry {
            resolution,
            expires_at,
        };
        self.shard(key).insert(key.0, entry, now)
    }

    /// Drops the entry for `number`; returns whether there was one.
    pub fn remove(&self, number: &Msisdn) -> bool {
        self.remove_key(NumberKey::of(number))
    }

    pub(crate) fn remove_key(&self, key: NumberKey) -> bool {
        let mut shard = self.shard(key);
        match shard.index.get(&key.0) {
            Some(&slot) => {
                shard.vacate(slot);
                true
            }
            None => false,
        }
    }

    /// Entries held (valid or not yet swept).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).index.len())
            .sum()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A layout estimate of the memory one entry takes (slot + index bucket at the map's
    /// maximum load factor), excluding carrier/client strings, which are shared.
    pub fn estimated_bytes_per_entry() -> usize {
        let slot = size_of::<Slot>();
        // hashbrown: one (key, value) bucket plus one control byte, at most 7/8 full.
        let bucket = (size_of::<(u64, usize)>() + 1) * 8 / 7;
        slot + bucket
    }
}

impl fmt::Debug for CapabilityCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapabilityCache")
            .field("config", &self.config)
            .field("shards", &self.shards.len())
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests;
