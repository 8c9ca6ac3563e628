//! Databases and shards: where keys live.
//!
//! The keyspace is split into a fixed number of [`Shard`]s by the top bits of each key's hash.
//! Each shard holds one [`Db`] per logical database (SELECT 0..15), so a key stays in the same
//! shard whatever database it is in: MOVE and SWAPDB never cross shards. A shard is guarded by
//! one mutex; a command locks the shards of the keys it touches (in ascending shard order when
//! it touches several, so two commands can never deadlock), applies its change, and appends its
//! propagated form to the replication log before unlocking. That makes the log's order agree
//! with the order in which writes to the same key were applied.
//!
//! Expiry times are absolute Unix milliseconds. A key with a TTL is recorded twice: its
//! [`Entry`] carries the deadline (so reads check it without a second lookup) and the db's
//! `expires` table lists it (so the active expiry cycle samples only keys that can expire).

use crate::dict::{hash_bytes, Dict};
use crate::value::{SmallBytes, Value};
use parking_lot::{Mutex, MutexGuard};
use std::sync::atomic::{AtomicU64, Ordering};

/// A key: up to 23 bytes inline, longer on the heap.
pub type Key = SmallBytes;

/// What a key maps to: its value, its expiry deadline, and its access metadata.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// Absolute expiry in Unix milliseconds, or 0 for none.
    pub expire_at: i64,
    /// Last access in seconds of the LRU clock (OBJECT IDLETIME, LRU eviction).
    pub lru: u32,
    /// LFU: the logarithmic access counter (OBJECT FREQ, LFU eviction), as Redis's 8 bits.
    pub lfu: u8,
    /// LFU: when the counter was last decremented, in minutes (Redis's 16-bit LDT).
    pub lfu_ldt: u16,
    /// The snapshot mark: equal to the owning [`Db`]'s epoch once a running snapshot holds
    /// this entry (or the entry was created after the snapshot started); see [`DbSnap`].
    pub snap: u8,
}

/// What a new key's LFU counter starts at, so new keys are not evicted at once (Redis's
/// `LFU_INIT_VAL`).
pub const LFU_INIT_VAL: u8 = 5;

/// The LFU settings, set by the server from `maxmemory-policy`, `lfu-log-factor` and
/// `lfu-decay-time`.
pub mod lfu {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};

    /// An LFU policy is selected: lookups update the counter.
    pub static ENABLED: AtomicBool = AtomicBool::new(false);
    /// `lfu-log-factor`.
    pub static LOG_FACTOR: AtomicU32 = AtomicU32::new(10);
    /// `lfu-decay-time` in minutes.
    pub static DECAY_TIME: AtomicU32 = AtomicU32::new(1);

    /// Minutes, as the 16 bits Redis keeps.
    pub fn now_minutes() -> u16 {
        (super::lru_clock() / 60) as u16
    }

    /// Minutes elapsed since `ldt`, with wrap-around (Redis's `LFUTimeElapsed`).
    pub fn elapsed(ldt: u16) -> u32 {
        let now = now_minutes();
        if now >= ldt {
            (now - ldt) as u32
        } else {
            65535 - ldt as u32 + now as u32
        }
    }

    /// The counter after decay (Redis's `LFUDecrAndReturn`).
    pub fn decayed(counter: u8, ldt: u16) -> u8 {
        let decay = DECAY_TIME.load(Relaxed);
        let periods = elapsed(ldt).checked_div(decay).unwrap_or(0);
        counter.saturating_sub(periods.min(255) as u8)
    }

    /// One logarithmic increment (Redis's `LFULogIncr`).
    pub fn log_incr(counter: u8) -> u8 {
        if counter == 255 {
            return 255;
        }
        let r: f64 = rand::random();
        let base = counter.saturating_sub(super::LFU_INIT_VAL) as f64;
        let p = 1.0 / (base * LOG_FACTOR.load(Relaxed) as f64 + 1.0);
        if r < p {
            counter + 1
        } else {
            counter
        }
    }
}

impl Entry {
    /// A new entry without expiry, touched now.
    pub fn new(value: Value) -> Entry {
        Entry {
            value,
            expire_at: 0,
            lru: lru_clock(),
            lfu: LFU_INIT_VAL,
            lfu_ldt: lfu::now_minutes(),
            snap: 0,
        }
    }

    /// Records an access for LFU eviction (decay, then a logarithmic increment).
    #[inline]
    pub fn touch_lfu(&mut self) {
        let c = lfu::decayed(self.lfu, self.lfu_ldt);
        self.lfu = lfu::log_incr(c);
        self.lfu_ldt = lfu::now_minutes();
    }

    /// True if the entry has a deadline at or before `now_ms`.
    #[inline]
    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expire_at != 0 && self.expire_at <= now_ms
    }
}

/// One logical database's part of a shard.
#[derive(Default)]
pub struct Db {
    /// Every key of this database in this shard. Change entries through `Db`'s methods,
    /// which keep `expires` and a running snapshot in step.
    pub keys: Dict<Key, Entry>,
    /// The keys of `keys` that have a deadline.
    pub expires: Dict<Key, ()>,
    /// Bumped when a snapshot starts; entries whose `snap` mark differs are not yet in it.
    epoch: u8,
    /// The running snapshot of this Db, if any.
    snap: Option<Box<DbSnap>>,
}

/// Serializes one entry (as an RDB key record) into a buffer; the server supplies it.
pub type EncodeFn = fn(&mut Vec<u8>, &[u8], &Entry);

/// A point-in-time snapshot of one [`Db`] in progress.
///
/// The snapshot holds the Db as it was when [`Db::snapshot_begin`] ran (under every shard's
/// lock, so all Dbs start at the same instant). Each entry is written exactly once, by
/// whichever comes first:
/// - the walker ([`Db::snapshot_step`]), which SCANs the table and serializes every entry
///   whose mark differs from the Db's epoch, then marks it;
/// - the write path: before an unmarked entry is changed, replaced or removed, `Db`'s
///   mutating methods serialize it into `pending` and mark it. Entries created after the
///   start are marked at birth, so the walker skips them.
///
/// SCAN visits every entry present for the whole walk at least once whatever the table does
/// (grow, shrink, rehash), and the mark skips second visits; an entry not present for the
/// whole walk was either created later (marked) or removed (serialized first). So the records
/// equal the Db at the start instant while writes go on, and the memory it costs is only what
/// writes serialized ahead of the walker and the file writer has not yet drained.
pub struct DbSnap {
    /// The database index this Db had when the snapshot started (SWAPDB moves Dbs).
    pub index: usize,
    /// The walker's SCAN cursor.
    cursor: u64,
    /// The walker has not started (cursor 0 also means "done" once started).
    started: bool,
    /// Records serialized by the write path, waiting for the walker to take them.
    pub pending: Vec<u8>,
    /// Number of records in `pending`.
    pub pending_keys: u64,
    encode: EncodeFn,
}

/// Bytes of records the write path has serialized ahead of running snapshots' walkers and the
/// walkers have not taken yet (the memory a snapshot costs beyond the dataset).
pub static SNAPSHOT_PENDING: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// False while a read-only command runs: its lookups change nothing a snapshot must
    /// preserve. Only consulted while a snapshot runs.
    static WRITE_INTENT: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Replica expiry (Redis's rule): a replica never deletes expired keys itself, it waits for
/// its primary's DEL. Lookups by its clients see an expired key as missing without deleting
/// it; its primary's commands (applied by the master client) see it as present.
static REPLICA_EXPIRY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

thread_local! {
    static MASTER_CLIENT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Turns replica expiry on (this server follows a primary) or off.
pub fn set_replica_expiry(on: bool) {
    REPLICA_EXPIRY.store(on, Ordering::Relaxed);
}

/// True while replica expiry is on.
pub fn replica_expiry() -> bool {
    REPLICA_EXPIRY.load(Ordering::Relaxed)
}

/// Marks the commands this thread runs next as its primary's (see [`set_replica_expiry`]).
pub fn set_master_client(on: bool) {
    MASTER_CLIENT.with(|m| m.set(on));
}

/// Declares whether the command this thread is about to run may change what it looks up
/// (dispatch sets it from the command's flags; everything else counts as a write).
#[inline]
pub fn set_write_intent(write: bool) {
    WRITE_INTENT.with(|w| w.set(write));
}

/// A key deleted because its deadline passed, waiting to be propagated as DEL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    /// The database index.
    pub db: usize,
    /// The key.
    pub key: Key,
}

/// One shard: a part of every database, under one lock.
pub struct Shard {
    /// One `Db` per logical database.
    pub dbs: Vec<Db>,
    /// Keys deleted by expiry since the last drain. The server propagates them as DEL, before
    /// the write that noticed them, while it still holds this shard's lock.
    pub expired: Vec<Expired>,
}

impl Shard {
    fn new(databases: usize) -> Shard {
        Shard {
            dbs: (0..databases).map(|_| Db::default()).collect(),
            expired: Vec::new(),
        }
    }
}

/// Lookup results that distinguish "absent" from "present".
impl Db {
    /// Looks a key up for reading or writing, deleting it first if it has expired.
    /// Returns None if the key is absent (or just expired). `expired` collects deletions.
    pub fn lookup(
        &mut self,
        hash: u64,
        key: &[u8],
        now_ms: i64,
        expired: &mut Vec<Expired>,
        db: usize,
    ) -> Option<&mut Entry> {
        let e = self.peek(hash, key, now_ms, expired, db)?;
        if lfu::ENABLED.load(Ordering::Relaxed) {
            e.touch_lfu();
        }
        Some(e)
    }

    /// Like [`Db::lookup`] without counting an access (the LFU counter is left alone).
    pub fn peek(
        &mut self,
        hash: u64,
        key: &[u8],
        now_ms: i64,
        expired: &mut Vec<Expired>,
        db: usize,
    ) -> Option<&mut Entry> {
        if self.expire_if_needed(hash, key, now_ms, expired, db) {
            return None;
        }
        if self.snap.is_some() && WRITE_INTENT.with(|w| w.get()) {
            self.preserve(hash, key);
        }
        self.keys.get_mut(hash, key)
    }

    /// Looks a key up without modifying anything except the expiry of that key.
    pub fn get(
        &mut self,
        hash: u64,
        key: &[u8],
        now_ms: i64,
        expired: &mut Vec<Expired>,
        db: usize,
    ) -> Option<&Entry> {
        self.lookup(hash, key, now_ms, expired, db).map(|e| &*e)
    }

    /// Deletes the key if its deadline has passed. Returns true if it did.
    pub fn expire_if_needed(
        &mut self,
        hash: u64,
        key: &[u8],
        now_ms: i64,
        expired: &mut Vec<Expired>,
        db: usize,
    ) -> bool {
        let is_expired = match self.keys.get(hash, key) {
            Some((_, e)) => e.is_expired(now_ms),
            None => false,
        };
        if is_expired && REPLICA_EXPIRY.load(Ordering::Relaxed) {
            // A replica: missing for its clients, present for its primary; never deleted here.
            return !MASTER_CLIENT.with(|m| m.get());
        }
        if is_expired {
            if let Some((k, _)) = self.remove(hash, key) {
                expired.push(Expired { db, key: k });
            }
        }
        is_expired
    }

    /// Inserts or replaces a key's entry, keeping the `expires` index in step.
    /// Returns the previous entry if there was one.
    pub fn insert(&mut self, hash: u64, key: &[u8], mut entry: Entry) -> Option<Entry> {
        if self.snap.is_some() {
            self.preserve(hash, key);
        }
        entry.snap = self.epoch;
        let has_ttl = entry.expire_at != 0;
        let old = self.keys.insert(hash, Key::new(key), entry);
        let had_ttl = old.as_ref().is_some_and(|o| o.expire_at != 0);
        if has_ttl && !had_ttl {
            self.expires.insert(hash, Key::new(key), ());
        } else if had_ttl && !has_ttl {
            self.expires.remove(hash, key);
        }
        old
    }

    /// Removes a key (and its deadline), returning it.
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<(Key, Entry)> {
        if self.snap.is_some() {
            self.preserve(hash, key);
        }
        let removed = self.keys.remove(hash, key)?;
        if removed.1.expire_at != 0 {
            self.expires.remove(hash, key);
        }
        Some(removed)
    }

    /// Sets or clears (0) the deadline of an existing key. Returns false if the key is absent.
    pub fn set_expire(&mut self, hash: u64, key: &[u8], at_ms: i64) -> bool {
        if self.snap.is_some() {
            self.preserve(hash, key);
        }
        let Some(e) = self.keys.get_mut(hash, key) else {
            return false;
        };
        let had = e.expire_at != 0;
        e.expire_at = at_ms;
        if at_ms != 0 && !had {
            self.expires.insert(hash, Key::new(key), ());
        } else if at_ms == 0 && had {
            self.expires.remove(hash, key);
        }
        true
    }

    /// The number of keys, expired-but-not-yet-reclaimed ones included (as Redis's DBSIZE).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when the database part holds no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Removes every key (a running snapshot first takes what it has not written yet).
    pub fn clear(&mut self) {
        if let Some(s) = self.snap.as_deref_mut() {
            let epoch = self.epoch;
            self.keys.scan_all_mut(|k, e| {
                if e.snap != epoch {
                    let before = s.pending.len();
                    (s.encode)(&mut s.pending, k, e);
                    SNAPSHOT_PENDING
                        .fetch_add((s.pending.len() - before) as u64, Ordering::Relaxed);
                    s.pending_keys += 1;
                    e.snap = epoch;
                }
            });
        }
        self.keys.clear();
        self.expires.clear();
    }

    /// Serializes `key`'s entry into the running snapshot if the snapshot does not hold it
    /// yet; called before anything changes, replaces or removes the entry.
    #[cold]
    #[inline(never)]
    fn preserve(&mut self, hash: u64, key: &[u8]) {
        let Some(s) = self.snap.as_deref_mut() else {
            return;
        };
        if let Some(e) = self.keys.get_mut(hash, key) {
            if e.snap != self.epoch {
                let before = s.pending.len();
                (s.encode)(&mut s.pending, key, e);
                SNAPSHOT_PENDING.fetch_add((s.pending.len() - before) as u64, Ordering::Relaxed);
                s.pending_keys += 1;
                e.snap = self.epoch;
            }
        }
    }

    /// Starts a point-in-time snapshot of this Db (see [`DbSnap`]), known as database `index`
    /// in the output. The caller holds every shard's lock, so all Dbs start at one instant.
    /// Does nothing and returns false when the Db is empty.
    pub fn snapshot_begin(&mut self, index: usize, encode: EncodeFn) -> bool {
        debug_assert!(self.snap.is_none(), "snapshot already running");
        if self.keys.is_empty() {
            return false;
        }
        self.epoch = self.epoch.wrapping_add(1);
        self.snap = Some(Box::new(DbSnap {
            index,
            cursor: 0,
            started: false,
            pending: Vec::new(),
            pending_keys: 0,
            encode,
        }));
        true
    }

    /// The running snapshot, if any.
    pub fn snapshot(&self) -> Option<&DbSnap> {
        self.snap.as_deref()
    }

    /// Advances the running snapshot: appends to `out` the records the write path serialized,
    /// then walks about `budget` more entries. Returns the number of records appended and
    /// whether the snapshot of this Db is complete (it is then detached).
    pub fn snapshot_step(&mut self, out: &mut Vec<u8>, budget: usize) -> (u64, bool) {
        let Some(s) = self.snap.as_deref_mut() else {
            return (0, true);
        };
        out.extend_from_slice(&s.pending);
        SNAPSHOT_PENDING.fetch_sub(s.pending.len() as u64, Ordering::Relaxed);
        s.pending.clear();
        let mut n = std::mem::take(&mut s.pending_keys);
        let epoch = self.epoch;
        let mut visited = 0;
        while visited < budget && !(s.started && s.cursor == 0) {
            s.started = true;
            s.cursor = self.keys.scan_mut(s.cursor, |k, e| {
                visited += 1;
                if e.snap != epoch {
                    (s.encode)(out, k, e);
                    n += 1;
                    e.snap = epoch;
                }
            });
        }
        let done = s.started && s.cursor == 0;
        if done {
            self.snap = None;
        }
        (n, done)
    }
}

/// All shards of all databases.
pub struct Keyspace {
    shards: Box<[Mutex<Shard>]>,
    shift: u32,
    databases: usize,
}

/// A locked shard, as handed to the code that operates on it: locked by the caller, or
/// borrowed from the [`HoldAll`] that the same thread holds (a running MULTI/EXEC).
pub enum ShardGuard<'a> {
    /// Locked for this caller.
    Owned(MutexGuard<'a, Shard>),
    /// Held by this thread's [`HoldAll`].
    Held(&'a mut Shard),
}

impl std::ops::Deref for ShardGuard<'_> {
    type Target = Shard;
    #[inline]
    fn deref(&self) -> &Shard {
        match self {
            ShardGuard::Owned(g) => g,
            ShardGuard::Held(s) => s,
        }
    }
}

impl std::ops::DerefMut for ShardGuard<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Shard {
        match self {
            ShardGuard::Owned(g) => &mut *g,
            ShardGuard::Held(s) => s,
        }
    }
}

/// What [`HoldAll`] publishes to its thread: which keyspace it holds.
#[derive(Clone, Copy)]
struct Held {
    keyspace: *const Keyspace,
}

thread_local! {
    static HELD: std::cell::Cell<Option<Held>> = const { std::cell::Cell::new(None) };
}

/// Every shard of a keyspace, locked by one thread for the duration of a transaction
/// (MULTI/EXEC, later scripts). While it lives, [`Keyspace::lock`] on the same thread hands out
/// the held shards instead of locking, so the commands of the transaction run unchanged and no
/// other thread sees the keyspace between them. It owns the shards' locks without guards (no
/// allocation per transaction or script); it is not `Send`, as the guards were not.
pub struct HoldAll<'a> {
    keyspace: &'a Keyspace,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for HoldAll<'_> {
    fn drop(&mut self) {
        HELD.with(|h| h.set(None));
        for s in self.keyspace.shards.iter() {
            // SAFETY: `hold_all` locked every shard and forgot the guards, so this value owns
            // the locks and releases each once. The `ShardGuard::Held` borrows handed out
            // meanwhile belong to the commands of the transaction this value spans, which have
            // returned (the same rule the guards this replaced relied on).
            unsafe { s.force_unlock() };
        }
    }
}

impl Keyspace {
    /// Creates a keyspace with `databases` logical databases split into `2^shard_bits` shards.
    pub fn new(databases: usize, shard_bits: u32) -> Keyspace {
        assert!((1..=16).contains(&shard_bits) || shard_bits == 0);
        let n = 1usize << shard_bits;
        Keyspace {
            shards: (0..n).map(|_| Mutex::new(Shard::new(databases))).collect(),
            shift: 64 - shard_bits,
            databases,
        }
    }

    /// The number of logical databases.
    pub fn databases(&self) -> usize {
        self.databases
    }

    /// The number of shards.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The hash of a key, used both for picking its shard and inside the shard's tables.
    #[inline]
    pub fn hash(key: &[u8]) -> u64 {
        hash_bytes(key)
    }

    /// The shard index of a hash.
    #[inline]
    pub fn shard_of(&self, hash: u64) -> usize {
        if self.shards.len() == 1 {
            0
        } else {
            (hash >> self.shift) as usize
        }
    }

    /// Locks shard `i` (or hands out the held shard inside this thread's [`HoldAll`]).
    #[inline]
    pub fn lock(&self, i: usize) -> ShardGuard<'_> {
        if let Some(h) = HELD.with(|h| h.get()) {
            if std::ptr::eq(h.keyspace, self) {
                // SAFETY: the HoldAll that published this keyspace locked every shard and is
                // alive (it clears HELD before releasing them); it lives on this thread, and
                // code never holds two guards of the same shard at once (the invariant that
                // also makes plain locking deadlock-free), so this `&mut` is unique.
                return ShardGuard::Held(unsafe { &mut *self.shards[i].data_ptr() });
            }
        }
        ShardGuard::Owned(self.shards[i].lock())
    }

    /// Locks every shard in ascending order (FLUSHALL, SWAPDB, KEYS).
    pub fn lock_all(&self) -> Vec<ShardGuard<'_>> {
        (0..self.shards.len()).map(|i| self.lock(i)).collect()
    }

    /// Locks every shard for this thread until the returned value is dropped; meanwhile
    /// [`Keyspace::lock`] on this thread returns the held shards. Not reentrant: panics if this
    /// thread already holds a keyspace.
    pub fn hold_all(&self) -> HoldAll<'_> {
        assert!(
            HELD.with(|h| h.get()).is_none(),
            "hold_all while already holding"
        );
        for s in self.shards.iter() {
            // The lock stays taken; the HoldAll releases it when dropped.
            std::mem::forget(s.lock());
        }
        HELD.with(|h| h.set(Some(Held { keyspace: self })));
        HoldAll {
            keyspace: self,
            _not_send: std::marker::PhantomData,
        }
    }

    /// True if this thread holds this keyspace with [`Keyspace::hold_all`].
    pub fn held_here(&self) -> bool {
        HELD.with(|h| h.get())
            .is_some_and(|h| std::ptr::eq(h.keyspace, self))
    }
}

static LRU_BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
static LRU_CACHED: AtomicU64 = AtomicU64::new(0);

/// The LRU clock: seconds since the process started, as a u32.
pub fn lru_clock() -> u32 {
    LRU_CACHED.load(Ordering::Relaxed) as u32
}

/// Advances the LRU clock; the server calls this from its periodic tick.
pub fn tick_lru_clock() {
    let base = LRU_BASE.get_or_init(std::time::Instant::now);
    LRU_CACHED.store(base.elapsed().as_secs(), Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Str;

    fn v(s: &str) -> Entry {
        Entry::new(Value::Str(Str::from_bytes(s.as_bytes())))
    }

    #[test]
    fn entries_stay_small_and_lfu_counts_logarithmically() {
        // The LFU fields live in what was padding.
        assert_eq!(std::mem::size_of::<Entry>(), 48);
        let mut e = v("x");
        assert_eq!(e.lfu, LFU_INIT_VAL);
        for _ in 0..1_000 {
            e.touch_lfu();
        }
        // With lfu-log-factor 10, Redis's table (redis.conf) gives 18 after 1000 hits.
        assert!((13..=25).contains(&e.lfu), "{}", e.lfu);
        assert_eq!(lfu::decayed(100, lfu::now_minutes()), 100);
    }

    #[test]
    fn expired_keys_vanish_on_lookup_and_are_reported() {
        let mut db = Db::default();
        let h = hash_bytes(b"k");
        let mut e = v("x");
        e.expire_at = 1000;
        db.insert(h, b"k", e);
        assert_eq!(db.expires.len(), 1);
        let mut exp = Vec::new();
        assert!(db.lookup(h, b"k", 999, &mut exp, 0).is_some());
        assert!(exp.is_empty());
        assert!(db.lookup(h, b"k", 1000, &mut exp, 3).is_none());
        assert_eq!(
            exp,
            vec![Expired {
                db: 3,
                key: Key::new(b"k")
            }]
        );
        assert_eq!(db.len(), 0);
        assert_eq!(db.expires.len(), 0);
    }

    #[test]
    fn expires_index_follows_inserts_and_persist() {
        let mut db = Db::default();
        let h = hash_bytes(b"k");
        db.insert(h, b"k", v("x"));
        assert!(db.set_expire(h, b"k", 5));
        assert_eq!(db.expires.len(), 1);
        assert!(db.set_expire(h, b"k", 0));
        assert_eq!(db.expires.len(), 0);
        let mut e = v("y");
        e.expire_at = 9;
        db.insert(h, b"k", e);
        assert_eq!(db.expires.len(), 1);
        db.insert(h, b"k", v("z"));
        assert_eq!(db.expires.len(), 0);
        assert!(!db.set_expire(hash_bytes(b"nope"), b"nope", 5));
    }

    #[test]
    fn hold_all_hands_the_held_shards_to_its_thread_and_releases_them_when_dropped() {
        let ks = Keyspace::new(1, 2);
        for round in 0..2 {
            let hold = ks.hold_all();
            assert!(ks.held_here());
            for i in 0..ks.shard_count() {
                // Locking on the holding thread gets the held shard instead of deadlocking.
                let mut g = ks.lock(i);
                assert!(matches!(g, ShardGuard::Held(_)));
                g.expired.clear();
            }
            std::thread::scope(|s| {
                s.spawn(|| {
                    assert!(!ks.held_here());
                    for sh in ks.shards.iter() {
                        assert!(
                            sh.try_lock().is_none(),
                            "shard free while held (round {round})"
                        );
                    }
                });
            });
            drop(hold);
            assert!(!ks.held_here());
            std::thread::scope(|s| {
                s.spawn(|| {
                    for i in 0..ks.shard_count() {
                        assert!(matches!(ks.lock(i), ShardGuard::Owned(_)));
                    }
                });
            });
        }
    }

    #[test]
    fn shards_partition_by_top_hash_bits() {
        let ks = Keyspace::new(16, 4);
        assert_eq!(ks.shard_count(), 16);
        let mut seen = std::collections::HashSet::new();
        for i in 0..1000 {
            let k = format!("key:{i}");
            seen.insert(ks.shard_of(Keyspace::hash(k.as_bytes())));
        }
        assert_eq!(seen.len(), 16);
    }
}
