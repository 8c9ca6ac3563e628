//! Eviction (Redis's evict.c): keeping `used_memory` under `maxmemory` by deleting keys
//! chosen by `maxmemory-policy`, with Redis's sampled approximations.
//!
//! Before each command, when `maxmemory` is set, dispatch calls [`perform`]. Memory is the
//! jemalloc "allocated" figure INFO reports as used_memory, re-read at most once a millisecond
//! (reading it means advancing jemalloc's stats epoch, which merges every arena's statistics);
//! in between, the last figure less an estimate of what evictions freed stands in. Over the limit,
//! keys are evicted one at a time: each round samples `maxmemory-samples` keys of every
//! non-empty database part (all keys, or only keys with a TTL for the volatile policies) into
//! a pool of the 16 best candidates (Redis's EVPOOL), and deletes the best: the longest idle
//! (LRU), the least frequently used (LFU, the decayed logarithmic counter), the nearest
//! deadline (volatile-ttl), or a random one. Each eviction is propagated as DEL, reported to
//! WATCH and tracking, published as an `evicted` keyspace event, and counted in
//! `evicted_keys`. If nothing can be evicted and memory is still over the limit, commands
//! flagged `denyoom` get Redis's OOM error.

use crate::server::Server;
use rand::Rng;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, Ordering::Relaxed};
use tern_keyspace::db::{lfu, lru_clock};
use tern_keyspace::{Entry, Key, Keyspace};

/// The OOM error.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// `maxmemory-policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    /// Parses a `maxmemory-policy` value.
    pub fn parse(s: &str) -> Policy {
        match s {
            "allkeys-lru" => Policy::AllKeysLru,
            "allkeys-lfu" => Policy::AllKeysLfu,
            "allkeys-random" => Policy::AllKeysRandom,
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    fn volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    fn random(self) -> bool {
        matches!(self, Policy::AllKeysRandom | Policy::VolatileRandom)
    }

    /// True for the LFU policies (lookups then maintain the LFU counter).
    pub fn lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(c: u8) -> Policy {
        [
            Policy::NoEviction,
            Policy::AllKeysLru,
            Policy::AllKeysLfu,
            Policy::AllKeysRandom,
            Policy::VolatileLru,
            Policy::VolatileLfu,
            Policy::VolatileRandom,
            Policy::VolatileTtl,
        ][c as usize % 8]
    }
}

/// The eviction settings and state, copied from the config.
#[derive(Default)]
pub struct Evictor {
    /// `maxmemory` (0: unlimited).
    pub maxmemory: AtomicU64,
    policy: AtomicU8,
    /// `maxmemory-samples`.
    pub samples: AtomicU64,
    /// Keys evicted (INFO evicted_keys).
    pub evicted: AtomicU64,
    /// When used memory was last read, and what it was.
    checked_at_us: AtomicI64,
    last_used: AtomicU64,
}

impl Evictor {
    /// Sets the policy (and whether lookups keep LFU counters).
    pub fn set_policy(&self, p: Policy) {
        self.policy.store(p.code(), Relaxed);
        lfu::ENABLED.store(p.lfu(), Relaxed);
    }

    /// The policy.
    pub fn policy(&self) -> Policy {
        Policy::from_code(self.policy.load(Relaxed))
    }
}

/// Used memory as INFO reports it (jemalloc's allocated bytes), re-read now.
fn used_now() -> u64 {
    crate::families::info::used_memory()
}

/// Makes room if memory is over `maxmemory`. Returns false when memory is still over the limit
/// (nothing, or not enough, could be evicted): the caller refuses `denyoom` commands.
pub fn perform(srv: &Server, now_ms: i64) -> bool {
    let ev = &srv.evict;
    let max = ev.maxmemory.load(Relaxed);
    if max == 0 {
        return true;
    }
    // Reading the allocator's figure means merging jemalloc's statistics of every arena, which
    // costs more than a SET: read it at most once a millisecond, and in between work from the
    // last figure minus what evictions freed (estimated). Writes in between are not counted
    // until the next reading, so memory can pass the limit by at most a millisecond of writes,
    // which the next reading sees and evicts.
    let now_us = crate::server::now_us();
    let fresh = now_us - ev.checked_at_us.load(Relaxed) < 1000;
    let mut used = if fresh {
        ev.last_used.load(Relaxed)
    } else {
        let u = used_now();
        ev.checked_at_us.store(now_us, Relaxed);
        ev.last_used.store(u, Relaxed);
        u
    };
    if used <= max {
        return true;
    }
    let policy = ev.policy();
    if policy == Policy::NoEviction {
        return false;
    }
    let samples = ev.samples.load(Relaxed).max(1) as usize;
    let mut rng = rand::thread_rng();
    // Bounded: each round evicts one key or gives up.
    for round in 0..100_000 {
        let Some((shard, db, key)) = pick(srv, policy, samples, now_ms, &mut rng) else {
            break;
        };
        let mut g = srv.keyspace.lock(shard);
        let h = Keyspace::hash(&key);
        if let Some((_, entry)) = g.dbs[db].remove(h, &key) {
            crate::ctx::flush_expired(srv, &mut g);
            srv.log.append(db, &[b"DEL", &key]);
            drop(g);
            used = used.saturating_sub(estimated_size(&key, &entry));
            drop(entry);
            ev.evicted.fetch_add(1, Relaxed);
            srv.key_changed(db, &key, None);
            crate::notify::emit(
                srv,
                tern_config::notify::EVICTED,
                "evicted",
                &key,
                db,
                now_ms,
            );
        }
        // A long run of evictions re-reads the real figure now and then.
        if round % 64 == 63 {
            let now_us = crate::server::now_us();
            if now_us - ev.checked_at_us.load(Relaxed) >= 1000 {
                used = used_now();
                ev.checked_at_us.store(now_us, Relaxed);
            }
        }
        ev.last_used.store(used, Relaxed);
        if used <= max {
            return true;
        }
    }
    used = used_now();
    ev.checked_at_us.store(crate::server::now_us(), Relaxed);
    ev.last_used.store(used, Relaxed);
    used <= max
}

/// About what deleting a key frees: its node and key, and its value's elements (the figure
/// only has to be near: the next reading of the allocator's figure corrects it).
fn estimated_size(key: &[u8], e: &Entry) -> u64 {
    use tern_keyspace::Value;
    let value = match &e.value {
        Value::Str(s) => s.len(),
        Value::List(l) => l.len() * 24,
        Value::Hash(h) => h.len() * 48,
        Value::Set(s) => s.len() * 32,
        Value::ZSet(z) => z.len() * 56,
    };
    (80 + key.len() + value) as u64
}

/// A candidate: (score: higher is evicted first, shard, db, key).
type Candidate = (u64, usize, usize, Key);

/// Samples every non-empty database part and returns the best candidate.
fn pick(
    srv: &Server,
    policy: Policy,
    samples: usize,
    now_ms: i64,
    rng: &mut impl Rng,
) -> Option<(usize, usize, Key)> {
    let ks = &srv.keyspace;
    let mut pool: Vec<Candidate> = Vec::with_capacity(16);
    let clock = lru_clock();
    for shard in 0..ks.shard_count() {
        let g = ks.lock(shard);
        for (db, d) in g.dbs.iter().enumerate() {
            let score = |e: &Entry| -> u64 {
                match policy {
                    Policy::AllKeysLfu | Policy::VolatileLfu => {
                        255 - lfu::decayed(e.lfu, e.lfu_ldt) as u64
                    }
                    Policy::VolatileTtl => u64::MAX - e.expire_at.max(0) as u64,
                    // LRU (the random policies pick without scoring, below).
                    _ => clock.wrapping_sub(e.lru) as u64,
                }
            };
            let mut add = |c: Candidate| {
                if pool.len() < 16 {
                    pool.push(c);
                } else if let Some(min) = pool.iter_mut().min_by_key(|c| c.0) {
                    if c.0 > min.0 {
                        *min = c;
                    }
                }
            };
            if policy.volatile() {
                if d.expires.is_empty() {
                    continue;
                }
                if policy.random() {
                    if let Some((k, _)) = d.expires.random_entry(rng) {
                        add((rng.gen(), shard, db, k.clone()));
                    }
                    continue;
                }
                d.expires.sample(rng, samples, |k, _| {
                    if let Some((_, e)) = d.keys.get(Keyspace::hash(k), k) {
                        if !e.is_expired(now_ms) || policy == Policy::VolatileTtl {
                            add((score(e), shard, db, k.clone()));
                        }
                    }
                });
            } else {
                if d.keys.is_empty() {
                    continue;
                }
                if policy.random() {
                    if let Some((k, _)) = d.keys.random_entry(rng) {
                        add((rng.gen(), shard, db, k.clone()));
                    }
                    continue;
                }
                d.keys
                    .sample(rng, samples, |k, e| add((score(e), shard, db, k.clone())));
            }
        }
    }
    pool.into_iter()
        .max_by_key(|c| c.0)
        .map(|(_, shard, db, key)| (shard, db, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse() {
        assert_eq!(Policy::parse("allkeys-lru"), Policy::AllKeysLru);
        assert_eq!(Policy::parse("volatile-ttl"), Policy::VolatileTtl);
        assert_eq!(Policy::parse("noeviction"), Policy::NoEviction);
        for p in [
            "allkeys-lfu",
            "volatile-lfu",
            "volatile-random",
            "allkeys-random",
            "volatile-lru",
        ] {
            let parsed = Policy::parse(p);
            assert_eq!(Policy::from_code(parsed.code()), parsed);
        }
    }
}
