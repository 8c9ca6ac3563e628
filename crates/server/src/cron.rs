//! The periodic cron (Redis's `serverCron`): `hz` times a second it advances the LRU clock,
//! samples ops/sec, tracks peak memory, moves incremental rehashing forward, and runs the
//! active expiry cycle.
//!
//! Active expiry follows Redis's adaptive sampling: for each database part of each shard, take
//! 20 random keys that have a TTL, delete the expired ones, and repeat while more than 10% of a
//! sample was expired, within a CPU budget of 25% of the cron period. Shards are locked one at
//! a time and briefly, so clients on other shards never wait, and a shard is released between
//! rounds so no client waits long on any shard.

use crate::ctx::flush_expired;
use crate::server::{now_ms, Server};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Keys sampled per round (Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
const KEYS_PER_ROUND: usize = 20;
/// Repeat while more than this percentage of a sample had expired.
const ACCEPTABLE_STALE_PERCENT: usize = 10;
/// Share of the cron period the cycle may use (Redis's ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC).
const TIME_PERCENT: u64 = 25;

/// Runs until the task is aborted.
pub async fn run(srv: Arc<Server>) {
    let mut rng = SmallRng::from_entropy();
    loop {
        let hz = srv.config.read().hz().clamp(1, 500) as u64;
        tokio::time::sleep(Duration::from_millis(1000 / hz)).await;
        tern_keyspace::db::tick_lru_clock();
        sample_ops(&srv);
        track_memory(&srv);
        // A running script holds every shard: skip this tick's shard work instead of
        // stalling the cron (and signal handling, which shares its runtime) behind it.
        if srv.scripts.running() {
            continue;
        }
        // A replica leaves expiry to its primary's DELs.
        if srv.hot.active_expire.load(Relaxed) && !srv.repl.is_replica() {
            let budget = Duration::from_micros(1_000_000 * TIME_PERCENT / 100 / hz);
            let t = Instant::now();
            active_expire_cycle(&srv, &mut rng, budget);
            srv.stats
                .expire_cycle_us
                .fetch_add(t.elapsed().as_micros() as u64, Relaxed);
        }
        background_rehash(&srv);
        crate::snapshot::cron(&srv);
        crate::aof::cron(&srv);
        crate::repl::primary::cron(&srv);
        if srv.repl.is_replica() {
            crate::repl::replica::expire_local_keys(&srv, crate::server::now_ms());
        }
    }
}

/// One active expiry cycle over every shard and database, within `budget`.
pub fn active_expire_cycle(srv: &Server, rng: &mut SmallRng, budget: Duration) {
    let start = Instant::now();
    let ks = &srv.keyspace;
    for shard_i in 0..ks.shard_count() {
        for db in 0..ks.databases() {
            loop {
                if start.elapsed() > budget {
                    return;
                }
                let mut g = ks.lock(shard_i);
                let now = now_ms();
                let shard = &mut *g;
                let d = &mut shard.dbs[db];
                if d.expires.is_empty() {
                    break;
                }
                // Collect candidates first: the sample borrows the table we delete from.
                let mut candidates: Vec<(u64, tern_keyspace::Key)> =
                    Vec::with_capacity(KEYS_PER_ROUND);
                d.expires.sample(rng, KEYS_PER_ROUND, |k, _| {
                    candidates.push((tern_keyspace::Keyspace::hash(k), k.clone()));
                });
                let sampled = candidates.len();
                let mut expired = 0;
                for (h, k) in candidates {
                    if d.expire_if_needed(h, &k, now, &mut shard.expired, db) {
                        expired += 1;
                    }
                }
                flush_expired(srv, shard);
                drop(g);
                if sampled == 0 || expired * 100 <= sampled * ACCEPTABLE_STALE_PERCENT {
                    break;
                }
            }
        }
    }
}

fn background_rehash(srv: &Server) {
    let ks = &srv.keyspace;
    for i in 0..ks.shard_count() {
        let mut g = ks.lock(i);
        for d in g.dbs.iter_mut() {
            d.keys.shrink_if_sparse();
            d.expires.shrink_if_sparse();
            // About a millisecond of work per shard, as Redis's activerehashing does.
            d.keys.rehash_steps(100);
            d.expires.rehash_steps(100);
        }
    }
}

fn sample_ops(srv: &Server) {
    let total = srv.stats.sum(|w| w.commands.get());
    let now = now_ms();
    let mut s = srv.stats.ops_samples.lock();
    s.push_back((now, total));
    while s.len() > 16 {
        s.pop_front();
    }
}

fn track_memory(srv: &Server) {
    let used = crate::families::info::used_memory();
    srv.stats.peak_memory.fetch_max(used, Relaxed);
}
