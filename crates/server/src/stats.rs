//! Counters behind INFO stats and INFO commandstats.
//!
//! Per-command counters are bumped on every command, so they must not bounce a cache line
//! between cores: each worker thread owns a [`WorkerStats`] that only it writes (plain
//! load-then-store on relaxed atomics, no locked instructions), and INFO sums them.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// A counter with a single writer thread; any thread may read it.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`. Only the owning thread may call this (a racing writer would lose counts).
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }

    /// Sets the value to zero (CONFIG RESETSTAT; a concurrent add may survive, as in Redis).
    pub fn reset(&self) {
        self.0.store(0, Relaxed);
    }
}

/// Per-command counters.
#[derive(Debug, Default)]
pub struct CmdStat {
    /// Calls that ran.
    pub calls: Counter,
    /// Microseconds spent in those calls.
    pub usec: Counter,
    /// Calls refused before running (arity, auth, ...).
    pub rejected: Counter,
    /// Calls that ran and returned an error.
    pub failed: Counter,
}

/// One worker thread's counters.
#[derive(Debug)]
pub struct WorkerStats {
    /// Indexed by `Spec::id`.
    pub cmd: Vec<CmdStat>,
    /// Commands processed.
    pub commands: Counter,
    /// Bytes read from clients.
    pub net_input: Counter,
    /// Bytes written to clients.
    pub net_output: Counter,
    /// Lookups that found the key.
    pub hits: Counter,
    /// Lookups that did not.
    pub misses: Counter,
    /// Error replies sent.
    pub errors: Counter,
}

impl WorkerStats {
    fn new(commands: usize) -> WorkerStats {
        WorkerStats {
            cmd: (0..commands).map(|_| CmdStat::default()).collect(),
            commands: Counter::default(),
            net_input: Counter::default(),
            net_output: Counter::default(),
            hits: Counter::default(),
            misses: Counter::default(),
            errors: Counter::default(),
        }
    }
}

/// Server-wide counters.
#[derive(Debug, Default)]
pub struct Stats {
    workers: Mutex<Vec<Arc<WorkerStats>>>,
    /// Connections accepted.
    pub connections_received: AtomicU64,
    /// Connections refused (maxclients).
    pub rejected_connections: AtomicU64,
    /// Keys deleted because they expired.
    pub expired_keys: AtomicU64,
    /// Time the active expiry cycle spent, in microseconds.
    pub expire_cycle_us: AtomicU64,
    /// Error counts by error prefix (ERR, WRONGTYPE...), for INFO errorstats.
    pub errorstats: Mutex<BTreeMap<String, u64>>,
    /// The peak of used memory seen.
    pub peak_memory: AtomicU64,
    /// Samples of total commands for instantaneous_ops_per_sec: (ms, commands).
    pub ops_samples: Mutex<std::collections::VecDeque<(i64, u64)>>,
}

impl Stats {
    /// Registers a new worker's counters (one per worker thread, or per test harness).
    pub fn new_worker(&self, commands: usize) -> Arc<WorkerStats> {
        let w = Arc::new(WorkerStats::new(commands));
        self.workers.lock().push(w.clone());
        w
    }

    /// Sums a counter over all workers.
    pub fn sum(&self, f: impl Fn(&WorkerStats) -> u64) -> u64 {
        self.workers.lock().iter().map(|w| f(w)).sum()
    }

    /// Per-command totals: (calls, usec, rejected, failed) by command id.
    pub fn per_command(&self, commands: usize) -> Vec<(u64, u64, u64, u64)> {
        let mut v = vec![(0, 0, 0, 0); commands];
        for w in self.workers.lock().iter() {
            for (i, c) in w.cmd.iter().enumerate().take(commands) {
                v[i].0 += c.calls.get();
                v[i].1 += c.usec.get();
                v[i].2 += c.rejected.get();
                v[i].3 += c.failed.get();
            }
        }
        v
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for w in self.workers.lock().iter() {
            for c in &w.cmd {
                c.calls.reset();
                c.usec.reset();
                c.rejected.reset();
                c.failed.reset();
            }
            w.commands.reset();
            w.net_input.reset();
            w.net_output.reset();
            w.hits.reset();
            w.misses.reset();
            w.errors.reset();
        }
        self.connections_received.store(0, Relaxed);
        self.rejected_connections.store(0, Relaxed);
        self.expired_keys.store(0, Relaxed);
        self.expire_cycle_us.store(0, Relaxed);
        self.peak_memory.store(0, Relaxed);
        self.ops_samples.lock().clear();
        self.errorstats.lock().clear();
    }

    /// Counts an error reply by its prefix (the first word).
    pub fn count_error(&self, text: &str) {
        let prefix = text.split(' ').next().unwrap_or("ERR").to_string();
        *self.errorstats.lock().entry(prefix).or_default() += 1;
    }
}
