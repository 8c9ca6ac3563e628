//! A chained hash table with incremental rehashing: the main key table of each database.
//!
//! # Structure
//!
//! A [`Dict`] owns up to two tables of buckets. A table is a power-of-two array of bucket
//! heads, each the start of a singly linked chain of boxed nodes holding `key`, `value` and
//! `next` — nothing else: the hash is not cached in nodes (it is recomputed with
//! [`hash_bytes`] when a node moves to a bigger table), which keeps each entry at one
//! allocation of `size_of::<K>() + size_of::<V>() + 8` bytes.
//!
//! Callers hash a key once with [`hash_bytes`] and pass the hash to every call. Bucket indexes
//! use the hash's *low* bits (`hash & (buckets - 1)`), leaving the high bits free for the
//! server to pick a shard.
//!
//! While idle only the first table (`t0`) is used. When an insert finds `len >= buckets`
//! (load factor 1), a second table (`t1`) of the next power of two above `len` is allocated
//! and the dict enters *rehashing*: every mutating call (`insert`, `remove`, `get_mut`,
//! `get_or_insert_with`) first moves one bucket of `t0` (skipping at most 10 empty buckets)
//! into `t1`, and new entries go to `t1`. Lookups during a rehash check both tables; reads
//! (`&self`) never move anything. When `t0` is empty, `t1` becomes `t0`. Shrinking works the
//! same way in reverse: [`Dict::shrink_if_sparse`] (called from the server's cron, like
//! Redis's `htNeedsResize`) starts a rehash into a smaller table when the dict is under 1/8
//! full. [`Dict::rehash_steps`] lets the cron push a rehash forward without mutations. If,
//! mid-rehash, the target table ever holds 5 entries per bucket (only possible when a large
//! shrink is refilled before it finishes), the rehash is completed at once and the table grows.
//!
//! # SCAN guarantee
//!
//! [`Dict::scan`] implements Redis's stateless cursor: the cursor is a bucket index whose bits
//! are incremented in *reverse* order (most significant mask bit first). Because table sizes
//! are powers of two, the buckets of a bigger table that a smaller table's bucket `i` expands
//! into all share `i`'s low bits, and incrementing from the high end means that every index
//! already visited in one table size corresponds exactly to a set of indexes already visited
//! in any other size. Hence an element that is present for the whole iteration is returned at
//! least once even if the table grows, shrinks or is mid-rehash between calls. An element may
//! be returned more than once (chiefly when the table shrank between calls); callers dedupe if
//! they must. While rehashing, one call visits bucket `cursor & small_mask` of the smaller
//! table and all of its expansions in the larger one. Each call visits at least one bucket and
//! returns the next cursor; `0` means done.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::mem;
use std::sync::OnceLock;

use rand::Rng;
use smallvec::SmallVec;

/// Keys stored in a [`Dict`] expose their bytes, which are hashed and compared.
pub trait DictKey {
    /// The key's bytes.
    fn key_bytes(&self) -> &[u8];
}

impl<const N: usize> DictKey for SmallVec<[u8; N]> {
    #[inline]
    fn key_bytes(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DictKey for compact_bytes::CompactBytes {
    #[inline]
    fn key_bytes(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DictKey for Vec<u8> {
    #[inline]
    fn key_bytes(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DictKey for Box<[u8]> {
    #[inline]
    fn key_bytes(&self) -> &[u8] {
        self
    }
}

/// The process-wide hash state, seeded randomly the first time a key is hashed.
static HASH_STATE: OnceLock<foldhash::quality::RandomState> = OnceLock::new();

/// The hash used by every [`Dict`]: foldhash (quality variant), seeded randomly once per
/// process so that bucket placement cannot be predicted by clients (hash-flooding resistance).
/// Stable within a process, different between processes.
#[inline]
pub fn hash_bytes(key: &[u8]) -> u64 {
    let mut h = HASH_STATE.get_or_init(Default::default).build_hasher();
    h.write(key);
    h.finish()
}

/// Size of the first table allocated by the first insert.
const INITIAL_SIZE: usize = 4;
/// Mid-rehash, a target table holding this many entries per bucket forces the rehash to finish
/// so the table can grow.
const FORCE_RESIZE_RATIO: usize = 5;
/// Empty buckets a single rehash step may skip before giving up for this call.
const EMPTY_VISITS_PER_STEP: usize = 10;
/// A table less than 1/SHRINK_FILL full is shrunk by [`Dict::shrink_if_sparse`].
const SHRINK_FILL: usize = 8;
/// How many entries [`Dict::random_entry`] samples before picking one of them.
const FAIR_SAMPLE: usize = 15;
/// Random bucket probes [`Dict::random_entry`]'s fallback makes before sweeping linearly.
const RANDOM_PROBES: usize = 256;

struct Node<K, V> {
    key: K,
    value: V,
    next: Link<K, V>,
}

type Link<K, V> = Option<Box<Node<K, V>>>;

/// One table: a power-of-two array of chains (or no array at all) and its entry count.
struct Table<K, V> {
    buckets: Box<[Link<K, V>]>,
    used: usize,
}

impl<K, V> Table<K, V> {
    fn empty() -> Self {
        Table {
            buckets: Box::default(),
            used: 0,
        }
    }

    fn with_size(size: usize) -> Self {
        debug_assert!(size.is_power_of_two());
        let mut v = Vec::with_capacity(size);
        v.resize_with(size, || None);
        Table {
            buckets: v.into_boxed_slice(),
            used: 0,
        }
    }

    #[inline]
    fn size(&self) -> usize {
        self.buckets.len()
    }

    /// `size - 1`; only meaningful when the table is allocated.
    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }

    /// Drops every chain node by node, so long chains cannot overflow the stack.
    fn drop_chains(&mut self) {
        for bucket in self.buckets.iter_mut() {
            drop_chain(bucket.take());
        }
        self.used = 0;
    }
}

/// Drops a chain iteratively (the default drop of `Option<Box<Node>>` would recurse).
fn drop_chain<K, V>(mut link: Link<K, V>) {
    while let Some(mut node) = link {
        link = node.next.take();
    }
}

#[inline]
fn bucket_index(hash: u64, mask: usize) -> usize {
    (hash as usize) & mask
}

#[inline]
fn chain_find<'a, K: DictKey, V>(mut link: &'a Link<K, V>, key: &[u8]) -> Option<&'a Node<K, V>> {
    while let Some(node) = link {
        if node.key.key_bytes() == key {
            return Some(node);
        }
        link = &node.next;
    }
    None
}

#[inline]
fn chain_find_mut<'a, K: DictKey, V>(
    mut link: &'a mut Link<K, V>,
    key: &[u8],
) -> Option<&'a mut Node<K, V>> {
    while let Some(node) = link {
        if node.key.key_bytes() == key {
            return Some(node);
        }
        link = &mut node.next;
    }
    None
}

/// Position of `key` in a chain: `Some(depth)` (0 = the bucket head).
#[inline]
fn chain_depth<K: DictKey, V>(mut link: &Link<K, V>, key: &[u8]) -> Option<usize> {
    let mut depth = 0;
    while let Some(node) = link {
        if node.key.key_bytes() == key {
            return Some(depth);
        }
        depth += 1;
        link = &node.next;
    }
    None
}

/// Unlinks and returns the node holding `key`, if any.
#[inline]
fn chain_remove<K: DictKey, V>(link: &mut Link<K, V>, key: &[u8]) -> Option<Box<Node<K, V>>> {
    let mut link = link;
    while link.as_ref().is_some_and(|n| n.key.key_bytes() != key) {
        link = &mut link.as_mut().expect("checked just above").next;
    }
    let mut node = link.take()?;
    *link = node.next.take();
    Some(node)
}

#[inline]
fn visit_chain<K, V>(mut link: &Link<K, V>, f: &mut impl FnMut(&K, &V)) {
    while let Some(node) = link {
        f(&node.key, &node.value);
        link = &node.next;
    }
}

#[inline]
fn visit_chain_mut<K, V>(mut link: &mut Link<K, V>, f: &mut impl FnMut(&K, &mut V)) {
    while let Some(node) = link {
        f(&node.key, &mut node.value);
        link = &mut node.next;
    }
}

/// Increments a SCAN cursor in reverse-bit order over `mask`'s bits.
#[inline]
fn next_cursor(v: u64, mask: u64) -> u64 {
    (v | !mask).reverse_bits().wrapping_add(1).reverse_bits()
}

/// A chained hash table with Redis-style incremental rehashing; see the [module docs](self).
pub struct Dict<K: DictKey, V> {
    /// The main table; during a rehash, the one being emptied.
    t0: Table<K, V>,
    /// Empty unless rehashing: the table entries are moving into.
    t1: Table<K, V>,
    /// While rehashing: buckets of `t0` below this index have been moved (are empty).
    /// Always 0 when not rehashing.
    rehash_idx: usize,
}

/// Where a key lives: (table 0 or 1, bucket index, depth in the chain).
type Loc = (u8, usize, usize);

impl<K: DictKey, V> Dict<K, V> {
    /// An empty dict; allocates nothing until the first insert.
    pub fn new() -> Self {
        Dict {
            t0: Table::empty(),
            t1: Table::empty(),
            rehash_idx: 0,
        }
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.t0.used + self.t1.used
    }

    /// True when the dict holds no entries.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True while an incremental rehash (grow or shrink) is in progress.
    #[inline]
    pub fn is_rehashing(&self) -> bool {
        !self.t1.buckets.is_empty()
    }

    /// Total buckets allocated across both tables (for INFO / DEBUG HTSTATS-style reports).
    pub fn bucket_count(&self) -> usize {
        self.t0.size() + self.t1.size()
    }

    /// The entry for `key` (whose hash is `hash`), if present.
    #[inline]
    pub fn get(&self, hash: u64, key: &[u8]) -> Option<(&K, &V)> {
        self.find(hash, key).map(|n| (&n.key, &n.value))
    }

    /// The value for `key`, mutably. Performs one rehash step first.
    #[inline]
    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut V> {
        self.rehash_step();
        self.find_mut(hash, key).map(|n| &mut n.value)
    }

    /// True if `key` is present.
    #[inline]
    pub fn contains(&self, hash: u64, key: &[u8]) -> bool {
        self.find(hash, key).is_some()
    }

    /// Inserts or replaces; returns the old value if the key existed (the stored key is kept
    /// and `key` is dropped). Performs one rehash step first.
    pub fn insert(&mut self, hash: u64, key: K, value: V) -> Option<V> {
        self.rehash_step();
        if let Some(node) = self.find_mut(hash, key.key_bytes()) {
            return Some(mem::replace(&mut node.value, value));
        }
        self.insert_new(hash, key, value);
        None
    }

    /// Returns the value for `key`, inserting `make()` if absent; the bool is true when it was
    /// inserted. `make` must return a key whose bytes equal `key`. Performs one rehash step
    /// first.
    pub fn get_or_insert_with(
        &mut self,
        hash: u64,
        key: &[u8],
        make: impl FnOnce() -> (K, V),
    ) -> (&mut V, bool) {
        self.rehash_step();
        if let Some((t, i, depth)) = self.locate(hash, key) {
            let table = if t == 0 { &mut self.t0 } else { &mut self.t1 };
            let mut node = table.buckets[i].as_deref_mut().expect("located node");
            for _ in 0..depth {
                node = node.next.as_deref_mut().expect("located node");
            }
            return (&mut node.value, false);
        }
        let (k, v) = make();
        debug_assert_eq!(
            k.key_bytes(),
            key,
            "get_or_insert_with: make() returned another key"
        );
        (self.insert_new(hash, k, v), true)
    }

    /// Removes `key`, returning the stored key and value. Performs one rehash step first.
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<(K, V)> {
        self.rehash_step();
        if self.t0.used > 0 {
            let i = bucket_index(hash, self.t0.mask());
            if i >= self.rehash_idx {
                if let Some(node) = chain_remove(&mut self.t0.buckets[i], key) {
                    self.t0.used -= 1;
                    let Node { key, value, .. } = *node;
                    return Some((key, value));
                }
            }
        }
        if self.t1.used > 0 {
            let i = bucket_index(hash, self.t1.mask());
            if let Some(node) = chain_remove(&mut self.t1.buckets[i], key) {
                self.t1.used -= 1;
                let Node { key, value, .. } = *node;
                return Some((key, value));
            }
        }
        None
    }

    /// Sizes an empty dict's table for `n` entries at once (Redis's `dictExpand` on RESIZEDB), so
    /// loading `n` keys does not grow and rehash the table step by step. Does nothing unless
    /// the dict is empty and the table smaller.
    pub fn reserve(&mut self, n: usize) {
        if self.is_empty() && !self.is_rehashing() && n > self.t0.size() {
            self.t0 = Table::with_size(n.next_power_of_two().max(INITIAL_SIZE));
        }
    }

    /// Removes every entry and frees both tables.
    pub fn clear(&mut self) {
        self.t0.drop_chains();
        self.t1.drop_chains();
        self.t0 = Table::empty();
        self.t1 = Table::empty();
        self.rehash_idx = 0;
    }

    /// One step of Redis SCAN. Cursor 0 starts an iteration; returns the next cursor, 0 when
    /// done. Every element present for the whole iteration is visited at least once even if
    /// the table grows, shrinks or is mid-rehash between calls (reverse-binary cursor
    /// increment over the smaller table's mask, visiting the expansions in the larger table).
    /// Each call visits at least one bucket, and all entries of the buckets it visits; the
    /// caller loops until it has gathered COUNT entries, like Redis's `scanGenericCommand`.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&K, &V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let mut v = cursor;
        if !self.is_rehashing() {
            let m0 = self.t0.mask() as u64;
            visit_chain(&self.t0.buckets[(v & m0) as usize], &mut f);
            return next_cursor(v, m0);
        }
        let (small, large) = if self.t0.size() <= self.t1.size() {
            (&self.t0, &self.t1)
        } else {
            (&self.t1, &self.t0)
        };
        let m0 = small.mask() as u64;
        let m1 = large.mask() as u64;
        visit_chain(&small.buckets[(v & m0) as usize], &mut f);
        // Visit every bucket of the larger table that expands the small table's bucket,
        // incrementing only the extra high bits; when they wrap, the carry has advanced the
        // small-table part of the cursor.
        loop {
            visit_chain(&large.buckets[(v & m1) as usize], &mut f);
            v = next_cursor(v, m1);
            if v & (m0 ^ m1) == 0 {
                break;
            }
        }
        v
    }

    /// [`Dict::scan`] with mutable access to the values.
    pub fn scan_mut(&mut self, cursor: u64, mut f: impl FnMut(&K, &mut V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let mut v = cursor;
        if !self.is_rehashing() {
            let m0 = self.t0.mask() as u64;
            visit_chain_mut(&mut self.t0.buckets[(v & m0) as usize], &mut f);
            return next_cursor(v, m0);
        }
        let (small, large) = if self.t0.size() <= self.t1.size() {
            (&mut self.t0, &mut self.t1)
        } else {
            (&mut self.t1, &mut self.t0)
        };
        let m0 = small.mask() as u64;
        let m1 = large.mask() as u64;
        visit_chain_mut(&mut small.buckets[(v & m0) as usize], &mut f);
        loop {
            visit_chain_mut(&mut large.buckets[(v & m1) as usize], &mut f);
            v = next_cursor(v, m1);
            if v & (m0 ^ m1) == 0 {
                break;
            }
        }
        v
    }

    /// Visits every entry mutably, in no particular order.
    pub fn scan_all_mut(&mut self, mut f: impl FnMut(&K, &mut V)) {
        for table in [&mut self.t0, &mut self.t1] {
            for bucket in table.buckets.iter_mut() {
                visit_chain_mut(bucket, &mut f);
            }
        }
    }

    /// A uniformly-ish random entry (like Redis's `dictGetFairRandomKey`): samples up to 15
    /// entries from a random place and picks one of them; `None` if empty.
    pub fn random_entry(&self, rng: &mut impl Rng) -> Option<(&K, &V)> {
        if self.is_empty() {
            return None;
        }
        let mut picked: SmallVec<[(&K, &V); FAIR_SAMPLE]> = SmallVec::new();
        self.sample_refs(rng, FAIR_SAMPLE, |k, v| picked.push((k, v)));
        if !picked.is_empty() {
            return Some(picked[rng.gen_range(0..picked.len())]);
        }
        self.random_bucket_entry(rng)
    }

    /// Calls `f` for up to `count` entries taken from random places (like Redis's
    /// `dictGetSomeKeys`): runs of consecutive buckets from random starting points, used by
    /// active expiry and eviction sampling. May visit fewer than `count` entries (it gives up
    /// after `10 * count` bucket probes, so it always terminates, even on a sparse table) and
    /// may visit an entry twice.
    pub fn sample(&self, rng: &mut impl Rng, count: usize, f: impl FnMut(&K, &V)) {
        self.sample_refs(rng, count, f)
    }

    /// [`Dict::sample`] with the entries' lifetime exposed, so callers can keep them.
    fn sample_refs<'a>(
        &'a self,
        rng: &mut impl Rng,
        count: usize,
        mut f: impl FnMut(&'a K, &'a V),
    ) {
        let len = self.len();
        if len == 0 || count == 0 {
            return;
        }
        let count = count.min(len);
        let rehashing = self.is_rehashing();
        let tables: [&Table<K, V>; 2] = [&self.t0, &self.t1];
        let ntables = if rehashing { 2 } else { 1 };
        let max_mask = if rehashing {
            self.t0.mask().max(self.t1.mask())
        } else {
            self.t0.mask()
        };
        let mut max_steps = count.saturating_mul(10);
        let mut i = bucket_index(rng.gen(), max_mask);
        let mut empty_run = 0usize;
        let mut stored = 0usize;
        while stored < count && max_steps > 0 {
            max_steps -= 1;
            for (t, table) in tables.iter().enumerate().take(ntables) {
                if t == 0 && i < self.rehash_idx {
                    // This t0 bucket was already moved. If the target table (when shrinking)
                    // is too small to have index i either, jump to the first unmoved bucket.
                    if i >= self.t1.size() {
                        i = self.rehash_idx;
                    } else {
                        continue;
                    }
                }
                if i >= table.size() {
                    continue;
                }
                match &table.buckets[i] {
                    None => {
                        empty_run += 1;
                        if empty_run >= 5 && empty_run > count {
                            i = bucket_index(rng.gen(), max_mask);
                            empty_run = 0;
                        }
                    }
                    head @ Some(_) => {
                        empty_run = 0;
                        let mut link = head;
                        while let Some(node) = link {
                            f(&node.key, &node.value);
                            stored += 1;
                            if stored == count {
                                return;
                            }
                            link = &node.next;
                        }
                    }
                }
            }
            i = (i + 1) & max_mask;
        }
    }

    /// Iterates over all entries in bucket order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            tables: [&self.t0.buckets, &self.t1.buckets],
            table: 0,
            bucket: 0,
            node: None,
            remaining: self.len(),
        }
    }

    /// Keeps the entries for which `f` returns true, dropping the others.
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        for table in [&mut self.t0, &mut self.t1] {
            if table.used == 0 {
                continue;
            }
            let mut removed = 0;
            for bucket in table.buckets.iter_mut() {
                let mut link = bucket;
                while let Some(node) = link {
                    if f(&node.key, &mut node.value) {
                        link = &mut link.as_mut().expect("non-empty link").next;
                    } else {
                        let mut node = link.take().expect("non-empty link");
                        *link = node.next.take();
                        removed += 1;
                    }
                }
            }
            table.used -= removed;
        }
    }

    /// Performs up to `n` incremental rehash bucket moves (skipping at most `10 * n` empty
    /// buckets); returns true if more remain.
    pub fn rehash_steps(&mut self, n: usize) -> bool {
        self.rehash(n)
    }

    /// Starts a shrink if the table is under 1/8 full (Redis resizes in its cron): the new
    /// table is the smallest power of two holding `len` entries (at least 4). An empty dict
    /// frees its table. Does nothing while a rehash is in progress.
    pub fn shrink_if_sparse(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let used = self.t0.used;
        let size = self.t0.size();
        if used == 0 {
            if size != 0 {
                self.t0 = Table::empty();
            }
            return;
        }
        if size > INITIAL_SIZE && used * SHRINK_FILL < size {
            self.start_resize(used.next_power_of_two().max(INITIAL_SIZE));
        }
    }

    /// Bytes this table allocates for bucket arrays and nodes (an estimate for INFO memory:
    /// excludes allocator overhead and whatever keys and values allocate themselves).
    pub fn allocated_bytes(&self) -> usize {
        self.bucket_count() * mem::size_of::<Link<K, V>>()
            + self.len() * mem::size_of::<Node<K, V>>()
    }

    // ---- internals ----

    #[inline]
    fn find(&self, hash: u64, key: &[u8]) -> Option<&Node<K, V>> {
        if self.t0.used > 0 {
            let i = bucket_index(hash, self.t0.mask());
            if i >= self.rehash_idx {
                if let Some(n) = chain_find(&self.t0.buckets[i], key) {
                    return Some(n);
                }
            }
        }
        if self.t1.used > 0 {
            return chain_find(&self.t1.buckets[bucket_index(hash, self.t1.mask())], key);
        }
        None
    }

    #[inline]
    fn find_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Node<K, V>> {
        if self.t0.used > 0 {
            let i = bucket_index(hash, self.t0.mask());
            if i >= self.rehash_idx {
                if let Some(n) = chain_find_mut(&mut self.t0.buckets[i], key) {
                    return Some(n);
                }
            }
        }
        if self.t1.used > 0 {
            let i = bucket_index(hash, self.t1.mask());
            return chain_find_mut(&mut self.t1.buckets[i], key);
        }
        None
    }

    #[inline]
    fn locate(&self, hash: u64, key: &[u8]) -> Option<Loc> {
        if self.t0.used > 0 {
            let i = bucket_index(hash, self.t0.mask());
            if i >= self.rehash_idx {
                if let Some(d) = chain_depth(&self.t0.buckets[i], key) {
                    return Some((0, i, d));
                }
            }
        }
        if self.t1.used > 0 {
            let i = bucket_index(hash, self.t1.mask());
            if let Some(d) = chain_depth(&self.t1.buckets[i], key) {
                return Some((1, i, d));
            }
        }
        None
    }

    /// Adds an entry known to be absent, growing first if needed.
    fn insert_new(&mut self, hash: u64, key: K, value: V) -> &mut V {
        self.expand_if_needed();
        let table = if self.is_rehashing() {
            &mut self.t1
        } else {
            &mut self.t0
        };
        let i = bucket_index(hash, table.mask());
        table.used += 1;
        let slot = &mut table.buckets[i];
        let next = slot.take();
        &mut slot.insert(Box::new(Node { key, value, next })).value
    }

    fn expand_if_needed(&mut self) {
        if self.is_rehashing() {
            if self.len() < FORCE_RESIZE_RATIO * self.t1.size() {
                return;
            }
            // The target table is badly overloaded (a big shrink refilled before it
            // finished): finish the rehash now so the table can grow.
            while self.rehash(usize::MAX / (2 * EMPTY_VISITS_PER_STEP)) {}
        }
        let size = self.t0.size();
        if size == 0 {
            self.t0 = Table::with_size(INITIAL_SIZE);
        } else if self.t0.used >= size {
            self.start_resize((self.t0.used + 1).next_power_of_two());
        }
    }

    /// Allocates a table of `new_size` buckets and starts rehashing into it.
    fn start_resize(&mut self, new_size: usize) {
        debug_assert!(!self.is_rehashing());
        let table = Table::with_size(new_size);
        if self.t0.used == 0 {
            self.t0 = table;
        } else {
            self.t1 = table;
            self.rehash_idx = 0;
        }
    }

    #[inline]
    fn rehash_step(&mut self) {
        if self.is_rehashing() {
            self.rehash(1);
        }
    }

    /// Moves up to `n` buckets from t0 to t1; returns true if the rehash is still unfinished.
    fn rehash(&mut self, n: usize) -> bool {
        if !self.is_rehashing() {
            return false;
        }
        let mut empty_visits = n.saturating_mul(EMPTY_VISITS_PER_STEP);
        // Shrinking: a node's new index is its old index under the smaller mask, since both
        // are low bits of the same hash; no need to rehash the key.
        let shrinking = self.t1.size() < self.t0.size();
        let mask1 = self.t1.mask();
        let mut n = n;
        while n > 0 && self.t0.used > 0 {
            // Entries remain in t0, all at indexes >= rehash_idx, so this stays in bounds.
            while self.t0.buckets[self.rehash_idx].is_none() {
                self.rehash_idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    return true;
                }
            }
            let from = self.rehash_idx;
            let mut chain = self.t0.buckets[from].take();
            while let Some(mut node) = chain {
                chain = node.next.take();
                let to = if shrinking {
                    from & mask1
                } else {
                    bucket_index(hash_bytes(node.key.key_bytes()), mask1)
                };
                let slot = &mut self.t1.buckets[to];
                node.next = slot.take();
                *slot = Some(node);
                self.t0.used -= 1;
                self.t1.used += 1;
            }
            self.rehash_idx += 1;
            n -= 1;
        }
        if self.t0.used == 0 {
            self.t0 = mem::replace(&mut self.t1, Table::empty());
            self.rehash_idx = 0;
            false
        } else {
            true
        }
    }

    /// Fallback for [`Dict::random_entry`]: a random non-empty bucket (random probes, then a
    /// linear sweep from a random point so it always terminates), then a random chain entry.
    fn random_bucket_entry(&self, rng: &mut impl Rng) -> Option<(&K, &V)> {
        if self.is_empty() {
            return None;
        }
        // Live buckets are t0[rehash_idx..] followed by all of t1, numbered lo..total.
        let s0 = self.t0.size();
        let lo = self.rehash_idx;
        let total = s0 + self.t1.size();
        let bucket_at = |i: usize| -> &Link<K, V> {
            if i < s0 {
                &self.t0.buckets[i]
            } else {
                &self.t1.buckets[i - s0]
            }
        };
        let mut head = None;
        for _ in 0..RANDOM_PROBES {
            let b = bucket_at(rng.gen_range(lo..total));
            if b.is_some() {
                head = Some(b);
                break;
            }
        }
        let head = match head {
            Some(h) => h,
            None => {
                let start = rng.gen_range(lo..total);
                (start..total)
                    .chain(lo..start)
                    .map(bucket_at)
                    .find(|b| b.is_some())?
            }
        };
        let mut chain_len = 0;
        let mut link = head;
        while let Some(node) = link {
            chain_len += 1;
            link = &node.next;
        }
        let mut node = head.as_deref()?;
        for _ in 0..rng.gen_range(0..chain_len) {
            node = node.next.as_deref()?;
        }
        Some((&node.key, &node.value))
    }
}

impl<K: DictKey + Clone, V: Clone> Clone for Dict<K, V> {
    /// A deep copy (COPY of a collection), rehashed into one table.
    fn clone(&self) -> Self {
        let mut d = Dict::new();
        for (k, v) in self.iter() {
            d.insert(hash_bytes(k.key_bytes()), k.clone(), v.clone());
        }
        d
    }
}

impl<K: DictKey, V> Default for Dict<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: DictKey, V> Drop for Dict<K, V> {
    fn drop(&mut self) {
        self.t0.drop_chains();
        self.t1.drop_chains();
    }
}

impl<K: DictKey, V> fmt::Debug for Dict<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dict")
            .field("len", &self.len())
            .field("buckets", &(self.t0.size(), self.t1.size()))
            .field("rehashing", &self.is_rehashing())
            .finish()
    }
}

impl<'a, K: DictKey, V> IntoIterator for &'a Dict<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

/// Iterator over a [`Dict`]'s entries, from [`Dict::iter`].
pub struct Iter<'a, K, V> {
    tables: [&'a [Link<K, V>]; 2],
    table: usize,
    bucket: usize,
    node: Option<&'a Node<K, V>>,
    remaining: usize,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(node) = self.node {
                self.node = node.next.as_deref();
                self.remaining -= 1;
                return Some((&node.key, &node.value));
            }
            if self.remaining == 0 {
                return None;
            }
            let buckets = self.tables[self.table];
            if self.bucket < buckets.len() {
                self.node = buckets[self.bucket].as_deref();
                self.bucket += 1;
            } else if self.table == 0 {
                self.table = 1;
                self.bucket = 0;
            } else {
                return None;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::SmallRng;
    use rand::{Rng, SeedableRng};
    use std::collections::{HashMap, HashSet};

    type Key = SmallVec<[u8; 16]>;

    fn k(i: u64) -> Key {
        SmallVec::from_slice(format!("key:{i:012}").as_bytes())
    }

    fn ins(d: &mut Dict<Key, u64>, i: u64) -> Option<u64> {
        let key = k(i);
        d.insert(hash_bytes(&key), key, i)
    }

    fn get(d: &Dict<Key, u64>, i: u64) -> Option<u64> {
        let key = k(i);
        d.get(hash_bytes(&key), &key).map(|(sk, v)| {
            assert_eq!(sk.as_slice(), key.as_slice());
            *v
        })
    }

    fn rem(d: &mut Dict<Key, u64>, i: u64) -> Option<u64> {
        let key = k(i);
        d.remove(hash_bytes(&key), &key).map(|(_, v)| v)
    }

    /// Full scan from cursor 0; returns every visited value (with duplicates).
    fn full_scan(d: &Dict<Key, u64>) -> Vec<u64> {
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = d.scan(cursor, |_, v| seen.push(*v));
            if cursor == 0 {
                break;
            }
        }
        seen
    }

    /// Checks internal invariants: counts, placement, moved buckets empty.
    fn check_invariants<K: DictKey, V>(d: &Dict<K, V>) {
        let mut n = [0usize; 2];
        for (t, table) in [&d.t0, &d.t1].into_iter().enumerate() {
            if table.size() > 0 {
                assert!(table.size().is_power_of_two());
            }
            for (i, b) in table.buckets.iter().enumerate() {
                if t == 0 && i < d.rehash_idx {
                    assert!(b.is_none(), "moved bucket {i} not empty");
                }
                let mut link = b;
                while let Some(node) = link {
                    assert_eq!(
                        bucket_index(hash_bytes(node.key.key_bytes()), table.mask()),
                        i
                    );
                    n[t] += 1;
                    link = &node.next;
                }
            }
        }
        assert_eq!(n[0], d.t0.used);
        assert_eq!(n[1], d.t1.used);
        if !d.is_rehashing() {
            assert_eq!(d.rehash_idx, 0);
        }
        assert_eq!(d.iter().count(), d.len());
    }

    #[test]
    fn new_allocates_nothing() {
        let d: Dict<Key, u64> = Dict::new();
        assert_eq!(d.allocated_bytes(), 0);
        assert_eq!(d.bucket_count(), 0);
        assert!(d.is_empty());
        assert_eq!(d.scan(0, |_, _| panic!()), 0);
        assert!(d.get(hash_bytes(b"x"), b"x").is_none());
        let mut rng = SmallRng::seed_from_u64(1);
        assert!(d.random_entry(&mut rng).is_none());
        d.sample(&mut rng, 10, |_, _| panic!());
        assert_eq!(d.iter().next(), None);
        let d2: Dict<Vec<u8>, ()> = Dict::default();
        assert_eq!(
            format!("{d2:?}"),
            "Dict { len: 0, buckets: (0, 0), rehashing: false }"
        );
    }

    #[test]
    fn basics() {
        let mut d: Dict<Key, u64> = Dict::new();
        assert_eq!(ins(&mut d, 1), None);
        assert_eq!(ins(&mut d, 2), None);
        assert_eq!(d.len(), 2);
        assert_eq!(get(&d, 1), Some(1));
        assert_eq!(get(&d, 3), None);
        assert!(d.contains(hash_bytes(&k(2)), &k(2)));
        // replace keeps the stored key, returns the old value
        let key = k(1);
        assert_eq!(d.insert(hash_bytes(&key), key.clone(), 100), Some(1));
        assert_eq!(d.len(), 2);
        assert_eq!(get(&d, 1), Some(100));
        *d.get_mut(hash_bytes(&key), &key).unwrap() += 1;
        assert_eq!(get(&d, 1), Some(101));
        assert!(d.get_mut(hash_bytes(&k(9)), &k(9)).is_none());
        // get_or_insert_with: existing and new
        let (v, inserted) = d.get_or_insert_with(hash_bytes(&key), &key, || unreachable!());
        assert!(!inserted);
        assert_eq!(*v, 101);
        let key7 = k(7);
        let (v, inserted) = d.get_or_insert_with(hash_bytes(&key7), &key7, || (k(7), 70));
        assert!(inserted);
        *v += 1;
        assert_eq!(get(&d, 7), Some(71));
        assert_eq!(d.len(), 3);
        // remove
        let (rk, rv) = d.remove(hash_bytes(&key), &key).unwrap();
        assert_eq!((rk, rv), (k(1), 101));
        assert_eq!(rem(&mut d, 1), None);
        assert_eq!(d.len(), 2);
        assert!(d.allocated_bytes() > 0);
        check_invariants(&d);
        d.clear();
        assert!(d.is_empty());
        assert_eq!(d.allocated_bytes(), 0);
        assert_eq!(get(&d, 2), None);
        assert_eq!(ins(&mut d, 2), None);
        assert_eq!(get(&d, 2), Some(2));
    }

    #[test]
    fn key_types() {
        let mut a: Dict<Vec<u8>, i32> = Dict::new();
        a.insert(hash_bytes(b"abc"), b"abc".to_vec(), 1);
        assert_eq!(a.get(hash_bytes(b"abc"), b"abc").map(|(_, v)| *v), Some(1));
        let mut b: Dict<Box<[u8]>, i32> = Dict::new();
        b.insert(hash_bytes(b""), Box::from(&b""[..]), 2);
        assert_eq!(b.get(hash_bytes(b""), b"").map(|(_, v)| *v), Some(2));
        let long = vec![b'x'; 100];
        let mut c: Dict<SmallVec<[u8; 16]>, i32> = Dict::new();
        c.insert(hash_bytes(&long), SmallVec::from_slice(&long), 3);
        assert_eq!(c.get(hash_bytes(&long), &long).map(|(_, v)| *v), Some(3));
        assert_eq!(hash_bytes(b"same"), hash_bytes(b"same"));
        assert_ne!(hash_bytes(b"a"), hash_bytes(b"b"));
    }

    #[test]
    fn grows_through_many_rehashes() {
        let n = 100_000u64;
        let mut d: Dict<Key, u64> = Dict::new();
        let mut mid_rehash_checks = 0;
        for i in 0..n {
            assert_eq!(ins(&mut d, i), None);
            if d.is_rehashing() && i % 101 == 0 {
                mid_rehash_checks += 1;
                for j in (0..=i).step_by(97) {
                    assert_eq!(get(&d, j), Some(j), "lookup of {j} after inserting {i}");
                }
                assert_eq!(get(&d, i + 1), None);
            }
            if i % 9973 == 0 {
                check_invariants(&d);
            }
        }
        assert!(
            mid_rehash_checks > 10,
            "too few checks mid-rehash: {mid_rehash_checks}"
        );
        assert_eq!(d.len(), n as usize);
        for i in 0..n {
            assert_eq!(get(&d, i), Some(i));
        }
        // Load factor stays near 1.
        assert!(d.bucket_count() >= n as usize);
        assert!(d.bucket_count() <= 4 * n as usize);
        check_invariants(&d);
        // Remove half while any rehash finishes.
        for i in (0..n).step_by(2) {
            assert_eq!(rem(&mut d, i), Some(i));
        }
        assert_eq!(d.len(), n as usize / 2);
        for i in 0..n {
            assert_eq!(get(&d, i), if i % 2 == 1 { Some(i) } else { None });
        }
        check_invariants(&d);
    }

    #[test]
    fn shrinks() {
        let mut d: Dict<Key, u64> = Dict::new();
        for i in 0..10_000 {
            ins(&mut d, i);
        }
        while d.rehash_steps(100) {}
        assert_eq!(d.bucket_count(), 16384);
        for i in 100..10_000 {
            assert_eq!(rem(&mut d, i), Some(i));
        }
        // Not sparse enough while a grow may be in progress: finish it first.
        while d.rehash_steps(100) {}
        d.shrink_if_sparse();
        assert!(d.is_rehashing());
        assert_eq!(d.t1.size(), 128);
        // Lookups, inserts and removes mid-shrink.
        let mut steps = 0;
        while d.rehash_steps(1) {
            steps += 1;
            for i in 0..100 {
                assert_eq!(get(&d, i), Some(i));
            }
            if steps % 7 == 0 {
                check_invariants(&d);
            }
        }
        assert!(steps > 0);
        assert_eq!(d.bucket_count(), 128);
        check_invariants(&d);
        // Not sparse: no shrink.
        d.shrink_if_sparse();
        assert!(!d.is_rehashing());
        for i in 0..100 {
            assert_eq!(rem(&mut d, i), Some(i));
        }
        d.shrink_if_sparse();
        assert_eq!(d.bucket_count(), 0);
        assert_eq!(d.allocated_bytes(), 0);
        ins(&mut d, 5);
        assert_eq!(get(&d, 5), Some(5));
    }

    #[test]
    fn mutations_during_shrink() {
        let mut d: Dict<Key, u64> = Dict::new();
        for i in 0..5000 {
            ins(&mut d, i);
        }
        while d.rehash_steps(100) {}
        for i in 50..5000 {
            rem(&mut d, i);
        }
        d.shrink_if_sparse();
        assert!(d.is_rehashing());
        // Refill faster than the shrink progresses: the target overloads and the dict must
        // finish the shrink and grow rather than chaining without bound.
        for i in 5000..20_000 {
            ins(&mut d, i);
            if i % 1000 == 0 {
                check_invariants(&d);
            }
        }
        for i in (0..50).chain(5000..20_000) {
            assert_eq!(get(&d, i), Some(i));
        }
        assert_eq!(d.len(), 50 + 15_000);
        while d.rehash_steps(100) {}
        assert!(d.bucket_count() >= d.len());
        check_invariants(&d);
    }

    #[test]
    fn forced_grow_when_shrink_target_overloads() {
        let mut d: Dict<Key, u64> = Dict::new();
        for i in 0..100_000 {
            ins(&mut d, i);
        }
        while d.rehash_steps(1000) {}
        for i in 4..100_000 {
            rem(&mut d, i);
        }
        d.shrink_if_sparse();
        assert_eq!(d.t1.size(), 4);
        let mut max_ratio = 0;
        for i in 100_000..100_100 {
            ins(&mut d, i);
            let target = if d.is_rehashing() {
                d.t1.size()
            } else {
                d.t0.size()
            };
            max_ratio = max_ratio.max(d.len() / target);
        }
        assert!(max_ratio <= FORCE_RESIZE_RATIO, "ratio {max_ratio}");
        check_invariants(&d);
    }

    #[test]
    fn hash_spreads_low_bits() {
        // 2^16 sequential keys in 2^16 buckets (load 1): chains should look Poisson(1).
        let mut d: Dict<Key, u64> = Dict::new();
        for i in 0..65_536 {
            ins(&mut d, i);
        }
        while d.rehash_steps(1000) {}
        assert_eq!(d.bucket_count(), 65_536);
        let max_chain =
            d.t0.buckets
                .iter()
                .map(|b| {
                    let mut n = 0;
                    let mut l = b;
                    while let Some(node) = l {
                        n += 1;
                        l = &node.next;
                    }
                    n
                })
                .max()
                .unwrap();
        assert!(max_chain <= 12, "max chain {max_chain}");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u32),
        Remove(u8),
        Get(u8),
        GetMut(u8, u32),
        GetOrInsert(u8, u32),
        Retain(u8),
        Shrink,
        Steps(u8),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            30 => (any::<u8>(), any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            20 => any::<u8>().prop_map(Op::Remove),
            10 => any::<u8>().prop_map(Op::Get),
            5 => (any::<u8>(), any::<u32>()).prop_map(|(k, v)| Op::GetMut(k, v)),
            10 => (any::<u8>(), any::<u32>()).prop_map(|(k, v)| Op::GetOrInsert(k, v)),
            2 => (1..8u8).prop_map(Op::Retain),
            3 => Just(Op::Shrink),
            3 => any::<u8>().prop_map(Op::Steps),
            1 => Just(Op::Clear),
        ]
    }

    fn pk(x: u8) -> Vec<u8> {
        // Vary the lengths (0..=40 bytes) so both short and long hashing paths run.
        let len = (x as usize * 7) % 41;
        let mut v = vec![x; len];
        v.push(x);
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn matches_hashmap_model(ops in proptest::collection::vec(op(), 1..600)) {
            let mut d: Dict<Vec<u8>, u32> = Dict::new();
            let mut m: HashMap<Vec<u8>, u32> = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(x, v) => {
                        let key = pk(x);
                        prop_assert_eq!(d.insert(hash_bytes(&key), key.clone(), v), m.insert(key, v));
                    }
                    Op::Remove(x) => {
                        let key = pk(x);
                        let got = d.remove(hash_bytes(&key), &key);
                        let want = m.remove_entry(&key);
                        prop_assert_eq!(got, want);
                    }
                    Op::Get(x) => {
                        let key = pk(x);
                        let got = d.get(hash_bytes(&key), &key).map(|(k, v)| (k.clone(), *v));
                        let want = m.get_key_value(&key).map(|(k, v)| (k.clone(), *v));
                        prop_assert_eq!(got, want);
                        prop_assert_eq!(d.contains(hash_bytes(&key), &key), m.contains_key(&key));
                    }
                    Op::GetMut(x, v) => {
                        let key = pk(x);
                        let got = d.get_mut(hash_bytes(&key), &key).map(|r| { *r = v; });
                        let want = m.get_mut(&key).map(|r| { *r = v; });
                        prop_assert_eq!(got, want);
                    }
                    Op::GetOrInsert(x, v) => {
                        let key = pk(x);
                        let existed = m.contains_key(&key);
                        let mv = *m.entry(key.clone()).or_insert(v);
                        let (dv, inserted) =
                            d.get_or_insert_with(hash_bytes(&key), &key, || (key.clone(), v));
                        prop_assert_eq!(*dv, mv);
                        prop_assert_eq!(inserted, !existed);
                    }
                    Op::Retain(modulus) => {
                        let keep = |k: &Vec<u8>, v: &u32| {
                            let rest = (k[0] as u32 + *v) % modulus as u32;
                            rest != 0
                        };
                        d.retain(|k, v| keep(k, v));
                        m.retain(|k, v| keep(k, v));
                    }
                    Op::Shrink => d.shrink_if_sparse(),
                    Op::Steps(n) => { d.rehash_steps(n as usize); }
                    Op::Clear => { d.clear(); m.clear(); }
                }
                prop_assert_eq!(d.len(), m.len());
            }
            check_invariants(&d);
            let mut all: Vec<(Vec<u8>, u32)> = d.iter().map(|(k, v)| (k.clone(), *v)).collect();
            all.sort();
            let mut want: Vec<(Vec<u8>, u32)> = m.into_iter().collect();
            want.sort();
            prop_assert_eq!(all, want);
        }
    }

    #[test]
    fn full_scan_without_changes_visits_each_once() {
        for n in [1u64, 3, 4, 5, 100, 1000, 4097] {
            let mut d: Dict<Key, u64> = Dict::new();
            for i in 0..n {
                ins(&mut d, i);
            }
            while d.rehash_steps(100) {}
            let mut seen = full_scan(&d);
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }

    #[test]
    fn full_scan_mid_rehash_visits_all() {
        // Growing.
        let mut d: Dict<Key, u64> = Dict::new();
        let mut i = 0;
        while !(d.is_rehashing() && d.len() > 1000) {
            ins(&mut d, i);
            i += 1;
        }
        let seen: HashSet<u64> = full_scan(&d).into_iter().collect();
        assert_eq!(seen, (0..i).collect());
        // Shrinking.
        for j in 0..i {
            if j % 20 != 0 {
                rem(&mut d, j);
            }
        }
        while d.rehash_steps(100) {}
        d.shrink_if_sparse();
        d.rehash_steps(3);
        assert!(d.is_rehashing());
        assert!(d.t1.size() < d.t0.size());
        let seen: HashSet<u64> = full_scan(&d).into_iter().collect();
        assert_eq!(seen, (0..i).filter(|j| j % 20 == 0).collect());
    }

    /// Scans while `between` mutates the dict after every call; asserts that every key of
    /// `stable` (which `between` must never remove) is visited.
    fn scan_with_changes(
        d: &mut Dict<Key, u64>,
        stable: &HashSet<u64>,
        mut between: impl FnMut(&mut Dict<Key, u64>, usize),
    ) -> usize {
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut calls = 0;
        loop {
            cursor = d.scan(cursor, |_, v| {
                seen.insert(*v);
            });
            calls += 1;
            if cursor == 0 {
                break;
            }
            between(d, calls);
            assert!(calls < 2_000_000, "scan does not terminate");
        }
        let missing: Vec<_> = stable.iter().filter(|x| !seen.contains(x)).collect();
        assert!(
            missing.is_empty(),
            "{} stable keys never visited",
            missing.len()
        );
        calls
    }

    #[test]
    fn scan_survives_growth() {
        let mut d: Dict<Key, u64> = Dict::new();
        let stable: HashSet<u64> = (0..1000).collect();
        for &i in &stable {
            ins(&mut d, i);
        }
        let mut next = 1_000_000u64;
        scan_with_changes(&mut d, &stable, |d, _| {
            // Growth is capped: a scan advances about one bucket per call, so a table that
            // kept growing would never let it finish.
            for _ in 0..200 {
                if d.len() < 150_000 {
                    ins(d, next);
                    next += 1;
                }
            }
        });
        assert!(
            d.len() > 100_000,
            "the table should have grown a lot: {}",
            d.len()
        );
    }

    #[test]
    fn scan_survives_shrink() {
        let mut d: Dict<Key, u64> = Dict::new();
        let stable: HashSet<u64> = (0..300).collect();
        for i in 0..60_000 {
            ins(&mut d, i);
        }
        while d.rehash_steps(1000) {}
        let mut victims: Vec<u64> = (300..60_000).collect();
        let calls = scan_with_changes(&mut d, &stable, |d, _| {
            for _ in 0..2000 {
                if let Some(v) = victims.pop() {
                    rem(d, v);
                }
            }
            d.shrink_if_sparse();
            d.rehash_steps(5);
        });
        assert!(victims.is_empty(), "scan ended too early ({calls} calls)");
        assert!(d.bucket_count() < 65_536);
    }

    #[test]
    fn scan_survives_random_resizes() {
        let (mut saw_grow, mut saw_shrink) = (0, 0);
        for seed in 0..16u64 {
            let mut rng = SmallRng::seed_from_u64(seed);
            let mut d: Dict<Key, u64> = Dict::new();
            let n_stable = rng.gen_range(1..500u64);
            let stable: HashSet<u64> = (0..n_stable).collect();
            for &i in &stable {
                ins(&mut d, i);
            }
            let mut extra: Vec<u64> = Vec::new();
            let mut next = 1u64 << 40;
            scan_with_changes(&mut d, &stable, |d, _| {
                if d.is_rehashing() {
                    if d.t1.size() > d.t0.size() {
                        saw_grow += 1;
                    } else {
                        saw_shrink += 1;
                    }
                }
                match rng.gen_range(0..4) {
                    0 if d.len() < 12_000 => {
                        for _ in 0..rng.gen_range(0..400) {
                            ins(d, next);
                            extra.push(next);
                            next += 1;
                        }
                    }
                    1 => {
                        let drop_n = rng.gen_range(0..=extra.len());
                        for v in extra.drain(..drop_n) {
                            rem(d, v);
                        }
                        d.shrink_if_sparse();
                    }
                    2 => {
                        d.rehash_steps(rng.gen_range(0..50));
                    }
                    _ => {}
                }
            });
        }
        assert!(
            saw_grow > 100 && saw_shrink > 100,
            "grow {saw_grow}, shrink {saw_shrink}"
        );
    }

    #[test]
    fn random_entry_and_sample_return_live_entries() {
        let mut rng = SmallRng::seed_from_u64(7);
        let mut d: Dict<Key, u64> = Dict::new();
        for i in 0..20 {
            ins(&mut d, i);
        }
        let mut hits = [0usize; 20];
        for _ in 0..20_000 {
            let (key, v) = d.random_entry(&mut rng).unwrap();
            assert_eq!(key.as_slice(), k(*v).as_slice());
            hits[*v as usize] += 1;
        }
        for (i, &h) in hits.iter().enumerate() {
            assert!(h > 300, "key {i} picked {h} times of 20000");
        }
        let mut got = Vec::new();
        d.sample(&mut rng, 5, |_, v| got.push(*v));
        assert!(!got.is_empty() && got.len() <= 5);
        assert!(got.iter().all(|v| *v < 20));
        let mut got = 0;
        d.sample(&mut rng, 1000, |_, _| got += 1);
        assert!(got <= 20);
        // Mid-rehash, both growing and shrinking.
        for i in 20..5000 {
            ins(&mut d, i);
        }
        for _ in 0..1000 {
            let (_, v) = d.random_entry(&mut rng).unwrap();
            assert!(*v < 5000);
            d.sample(&mut rng, 20, |key, v| {
                assert_eq!(key.as_slice(), k(*v).as_slice())
            });
        }
        while d.rehash_steps(100) {}
        for i in 10..5000 {
            rem(&mut d, i);
        }
        d.shrink_if_sparse();
        assert!(d.is_rehashing());
        for _ in 0..1000 {
            let (_, v) = d.random_entry(&mut rng).unwrap();
            assert!(*v < 10);
            let mut got = 0;
            d.sample(&mut rng, 3, |_, v| {
                assert!(*v < 10);
                got += 1;
            });
            assert!(got <= 3);
        }
    }

    #[test]
    fn sample_on_sparse_table_terminates() {
        let mut rng = SmallRng::seed_from_u64(3);
        let mut d: Dict<Key, u64> = Dict::new();
        for i in 0..200_000 {
            ins(&mut d, i);
        }
        while d.rehash_steps(1000) {}
        for i in 3..200_000 {
            rem(&mut d, i);
        }
        assert!(d.bucket_count() >= 262_144);
        let mut total = 0;
        for _ in 0..1000 {
            d.sample(&mut rng, 20, |_, v| {
                assert!(*v < 3);
                total += 1;
            });
        }
        // Sampling may find nothing, but random_entry always finds something.
        let _ = total;
        for _ in 0..200 {
            let (_, v) = d.random_entry(&mut rng).unwrap();
            assert!(*v < 3);
        }
        // The last entry, wherever it is.
        rem(&mut d, 0);
        rem(&mut d, 1);
        for _ in 0..50 {
            assert_eq!(d.random_entry(&mut rng).map(|(_, v)| *v), Some(2));
        }
    }

    #[test]
    fn iter_and_retain() {
        let mut d: Dict<Key, u64> = Dict::new();
        for i in 0..3000 {
            ins(&mut d, i);
        }
        assert!(d.is_rehashing() || d.len() == 3000);
        let it = d.iter();
        assert_eq!(it.len(), 3000);
        let mut all: Vec<u64> = it.map(|(_, v)| *v).collect();
        all.sort_unstable();
        assert_eq!(all, (0..3000).collect::<Vec<_>>());
        let mut n = 0;
        for (_k, _v) in &d {
            n += 1;
        }
        assert_eq!(n, 3000);
        d.retain(|_, v| {
            *v += 1;
            *v % 3 != 0
        });
        assert_eq!(d.len(), 2000);
        for i in 0..3000 {
            assert_eq!(
                get(&d, i),
                if (i + 1) % 3 != 0 { Some(i + 1) } else { None }
            );
        }
        check_invariants(&d);
        d.retain(|_, _| false);
        assert!(d.is_empty());
        check_invariants(&d);
    }

    /// Builds a dict whose single bucket holds `n` chained entries.
    fn one_long_chain(n: u64) -> Dict<Key, u64> {
        let mut d: Dict<Key, u64> = Dict::new();
        d.t0 = Table::with_size(1);
        for i in 0..n {
            let next = d.t0.buckets[0].take();
            d.t0.buckets[0] = Some(Box::new(Node {
                key: k(i),
                value: i,
                next,
            }));
            d.t0.used += 1;
        }
        d
    }

    #[test]
    fn long_chains_drop_without_recursion() {
        let d = one_long_chain(1_000_000);
        assert_eq!(d.len(), 1_000_000);
        assert_eq!(get(&d, 0), Some(0));
        drop(d);
        let mut d = one_long_chain(1_000_000);
        d.clear();
        assert!(d.is_empty());
        let mut d = one_long_chain(1_000_000);
        d.retain(|_, v| *v % 2 == 0);
        assert_eq!(d.len(), 500_000);
        drop(d);
        // A big dict built the normal way drops fine too.
        let mut d: Dict<Key, u64> = Dict::new();
        for i in 0..1_000_000 {
            ins(&mut d, i);
        }
        drop(d);
    }

    #[test]
    fn removal_from_long_chain_keeps_rest() {
        let mut d = one_long_chain(1000);
        for i in (0..1000).step_by(3) {
            assert_eq!(rem(&mut d, i), Some(i));
        }
        for i in 0..1000 {
            assert_eq!(get(&d, i), if i % 3 == 0 { None } else { Some(i) });
        }
        assert_eq!(d.len(), 666);
    }

    #[test]
    #[ignore = "timing report; run with --release -- --ignored --nocapture"]
    fn timing_1m_16_byte_keys() {
        use std::time::Instant;
        let n = 1_000_000u64;
        let keys: Vec<Key> = (0..n)
            .map(|i| SmallVec::from_slice(format!("key:{i:012}").as_bytes()))
            .collect();
        assert!(keys.iter().all(|k| k.len() == 16));
        let t = Instant::now();
        let hashes: Vec<u64> = keys.iter().map(|k| hash_bytes(k)).collect();
        let t_hash = t.elapsed();
        let mut d: Dict<Key, u64> = Dict::new();
        let t = Instant::now();
        for (i, key) in keys.iter().enumerate() {
            d.insert(hash_bytes(key), key.clone(), i as u64);
        }
        let t_insert = t.elapsed();
        let t = Instant::now();
        let mut found = 0u64;
        for (key, &h) in keys.iter().zip(&hashes) {
            found += d.get(h, key).map(|(_, v)| *v).unwrap_or(0);
        }
        let t_get = t.elapsed();
        assert_eq!(found, n * (n - 1) / 2);
        let t = Instant::now();
        let mut cursor = 0;
        let mut scanned = 0;
        loop {
            cursor = d.scan(cursor, |_, _| scanned += 1);
            if cursor == 0 {
                break;
            }
        }
        let t_scan = t.elapsed();
        let t = Instant::now();
        for key in &keys {
            d.remove(hash_bytes(key), key);
        }
        let t_remove = t.elapsed();
        // For context: std's HashMap (SwissTable) with the same hash state type.
        let t = Instant::now();
        let mut m: HashMap<Key, u64, foldhash::quality::RandomState> = HashMap::default();
        for (i, key) in keys.iter().enumerate() {
            m.insert(key.clone(), i as u64);
        }
        let t_std_insert = t.elapsed();
        let t = Instant::now();
        let found_std: u64 = keys.iter().map(|key| m[key]).sum();
        let t_std_get = t.elapsed();
        assert_eq!(found_std, found);
        println!("std HashMap for comparison: insert {t_std_insert:?}, get {t_std_get:?}");
        println!(
            "1M 16-byte keys: hash {t_hash:?}, insert {t_insert:?}, get {t_get:?}, \
             scan {t_scan:?} ({scanned} visits), remove {t_remove:?}; node = {} bytes",
            mem::size_of::<Node<Key, u64>>()
        );
    }
}
