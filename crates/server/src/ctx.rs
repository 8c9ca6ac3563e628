//! What a command handler works with: the server, the calling client, the reply writer, the
//! arguments, and the helpers that lock shards and propagate writes.
//!
//! The write rule every handler follows (see ARCHITECTURE.md, "The write path"):
//! lock the shard(s) of the keys, apply the change, call [`Ctx::propagate`] with the
//! deterministic form of the change, and only then let the guard go. [`Locked`] also propagates
//! DELs for keys that expiry removed while the lock was held, before anything else is logged,
//! and when it is dropped.

use crate::clients::ClientInfo;
use crate::server::Server;
use crate::stats::WorkerStats;
use crate::table::Spec;
use smallvec::SmallVec;
use std::sync::Arc;
use tern_keyspace::{Db, Entry, Keyspace, Shard, ShardGuard};
use tern_resp::ReplyWriter;

/// How the client wants replies (CLIENT REPLY).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    /// Normal.
    On,
    /// No replies at all.
    Off,
    /// Skip the reply of the next command.
    SkipNext,
    /// Currently skipping this command's reply.
    Skip,
}

/// A connection's private state.
pub struct Client {
    /// Published view (CLIENT LIST).
    pub info: Arc<ClientInfo>,
    /// The selected database.
    pub db: usize,
    /// True once AUTH succeeded (or when no password is required).
    pub authenticated: bool,
    /// The user this client runs as (the default user until AUTH says otherwise).
    pub user: Arc<crate::acl::User>,
    /// `Acl::epoch` when `user` was last read; dispatch re-reads the user when it moved.
    pub acl_epoch: u64,
    /// The user may run everything: dispatch skips the ACL check.
    pub acl_all: bool,
    /// An internal client (scripts, the AOF loader, a primary's stream): never checked.
    pub acl_internal: bool,
    /// CLIENT REPLY mode.
    pub reply_mode: ReplyMode,
    /// Set by QUIT and fatal errors: close after writing pending replies.
    pub close_after_reply: bool,
    /// True after MONITOR.
    pub monitor: bool,
    /// Set while the connection queues scripts pipelined behind a script it already queued:
    /// they skip the busy check (the script running may be its own).
    pub script_batch: bool,
    /// The worker's counters.
    pub stats: Arc<WorkerStats>,
    /// MONITOR output waiting to be written, once the client is a monitor.
    pub monitor_rx: Option<tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>>,
    /// Set by a blocking command that found nothing: the connection waits on it.
    pub blocked: Option<crate::blocking::BlockedWait>,
    /// Keys a blocked-client serve function made ready (BLMOVE's destination).
    pub pending_ready: Vec<(usize, Vec<u8>)>,
    /// Commands queued since MULTI (None outside a transaction).
    pub multi: Option<crate::families::multi::MultiState>,
    /// True while EXEC runs this client's queued commands (all shards held).
    pub in_exec: bool,
    /// While EXEC (or a script) runs: its writes on their way to the replication log.
    pub tx_log: crate::log::TxLog,
    /// A writable replica's own write went to the AOF only: the reply waits for the AOF.
    pub aof_only_write: bool,
    /// WATCHed keys and the flag that says one of them changed.
    pub watching: crate::watch::Watching,
    /// Pub/sub: the client's subscriber (once it subscribed) and its message queue.
    pub pubsub: Option<std::sync::Arc<crate::pubsub::Subscriber>>,
    /// Messages published to this client, written by the connection between commands.
    pub push_rx: Option<crate::pubsub::PushRx>,
    /// Subscribed channels, patterns and shard channels, in subscription order.
    pub subs: Vec<Vec<u8>>,
    /// See `subs`.
    pub psubs: Vec<Vec<u8>>,
    /// See `subs`.
    pub ssubs: Vec<Vec<u8>>,
    /// CLIENT TRACKING settings.
    pub tracking: crate::tracking::Mode,
    /// What a replica said with REPLCONF (primary side).
    pub repl_conf: crate::repl::primary::ReplConf,
    /// Set by PSYNC/SYNC: the connection becomes a replica link after this command.
    pub handoff: Option<crate::repl::primary::Handoff>,
    /// The primary's link (on a replica): the stream bytes of the commands applied but not yet
    /// passed on to this server's log. They are appended by the first write the command
    /// propagates, under its shard lock, so a snapshot never holds a command's effect without
    /// its bytes (or the reverse); a transaction's bytes wait for its EXEC.
    pub master_pending: Option<Vec<u8>>,
    /// Set by WAIT: the connection waits for replica acknowledgements.
    pub wait_repl: Option<WaitRepl>,
    /// The AOF loader's client: its writes are neither propagated nor counted as changes,
    /// and maxmemory, MISCONF and CLIENT PAUSE do not apply to it.
    pub replaying: bool,
    /// The replication log offset after this client's last write (replies wait until the AOF
    /// holds it).
    pub last_write: u64,
    /// Number of writes this client propagated (dispatch compares it around a command to
    /// know whether the command changed anything).
    pub propagated: u64,
    /// Since when (Unix ms) this client's output has been over the soft
    /// `client-output-buffer-limit` of its class; 0 when it is not.
    pub obuf_soft_since: i64,
}

impl Client {
    /// A new client state for a connection.
    pub fn new(info: Arc<ClientInfo>, stats: Arc<WorkerStats>, authenticated: bool) -> Client {
        Client {
            info,
            db: 0,
            authenticated,
            // The default user, read at the first command (epoch 0 is never current): a client
            // is checked unless it is made internal on purpose.
            user: crate::acl::superuser(),
            acl_epoch: 0,
            acl_all: false,
            acl_internal: false,
            reply_mode: ReplyMode::On,
            script_batch: false,
            close_after_reply: false,
            monitor: false,
            stats,
            monitor_rx: None,
            blocked: None,
            pending_ready: Vec::new(),
            multi: None,
            in_exec: false,
            tx_log: Default::default(),
            aof_only_write: false,
            watching: Default::default(),
            propagated: 0,
            obuf_soft_since: 0,
            replaying: false,
            last_write: 0,
            repl_conf: Default::default(),
            handoff: None,
            wait_repl: None,
            master_pending: None,
            pubsub: None,
            push_rx: None,
            tracking: Default::default(),
            subs: Vec::new(),
            psubs: Vec::new(),
            ssubs: Vec::new(),
        }
    }
}

impl Client {
    /// Marks an internal client (scripts' own client, the AOF loader, a primary's stream on a
    /// replica): ACL rules never apply to it.
    pub fn internal(mut self) -> Client {
        self.acl_internal = true;
        self.acl_all = true;
        self
    }

    /// Makes the client run as `u` (AUTH, HELLO AUTH, RESET, a new connection). `epoch` is
    /// `Acl::epoch` read before `u` was looked up.
    pub fn set_user(&mut self, u: Arc<crate::acl::User>, epoch: u64) {
        self.acl_all = u.unrestricted();
        self.acl_internal = false;
        self.acl_epoch = epoch;
        if self.info.user.lock().as_slice() != u.name.as_slice() {
            *self.info.user.lock() = u.name.clone();
        }
        self.user = u;
    }
}

/// A WAIT in progress.
#[derive(Debug, Clone, Copy)]
pub struct WaitRepl {
    /// Replicas wanted.
    pub numreplicas: usize,
    /// The offset they must acknowledge.
    pub offset: u64,
    /// When to give up, Unix ms (None: never).
    pub deadline_ms: Option<i64>,
}

/// A handler's view of one command invocation.
pub struct Ctx<'a> {
    /// The server.
    pub srv: &'a Server,
    /// The calling client.
    pub cl: &'a mut Client,
    /// Where the reply goes.
    pub out: &'a mut ReplyWriter,
    /// The arguments, command name first.
    pub args: &'a [&'a [u8]],
    /// The command being run.
    pub spec: &'a Spec,
    /// The time the command runs at, Unix milliseconds (fixed for the whole command).
    pub now_ms: i64,
}

impl<'a> Ctx<'a> {
    /// Argument `i` (0 is the command name).
    #[inline]
    pub fn arg(&self, i: usize) -> &'a [u8] {
        self.args[i]
    }

    /// The number of arguments, the command name included.
    #[inline]
    pub fn argc(&self) -> usize {
        self.args.len()
    }

    /// The selected database.
    #[inline]
    pub fn db(&self) -> usize {
        self.cl.db
    }

    /// Locks shard `i` (SCAN, DBSIZE, RANDOMKEY: code that walks shards).
    #[inline]
    pub fn lock_shard(&self, i: usize) -> Locked<'a> {
        Locked {
            g: self.srv.keyspace.lock(i),
            srv: self.srv,
        }
    }

    /// Locks every shard in ascending order (FLUSHALL, SWAPDB, KEYS).
    pub fn lock_all(&self) -> Vec<Locked<'a>> {
        (0..self.srv.keyspace.shard_count())
            .map(|i| self.lock_shard(i))
            .collect()
    }

    /// Locks the shard that holds `key`.
    #[inline]
    pub fn lock_key(&self, key: &[u8]) -> (Locked<'a>, u64) {
        let hash = Keyspace::hash(key);
        let i = self.srv.keyspace.shard_of(hash);
        (self.lock_shard(i), hash)
    }

    /// Locks the shards of several keys, in ascending shard order.
    pub fn lock_keys(&self, keys: &[&[u8]]) -> MultiLocked<'a> {
        let ks = &self.srv.keyspace;
        // Stack-allocated for the common case: multi-key commands rarely name more than 16 keys.
        let hashes: SmallVec<[u64; 16]> = keys.iter().map(|k| Keyspace::hash(k)).collect();
        let mut idx: SmallVec<[usize; 16]> = hashes.iter().map(|&h| ks.shard_of(h)).collect();
        idx.sort_unstable();
        idx.dedup();
        let guards = idx.iter().map(|&i| (i, self.lock_shard(i))).collect();
        MultiLocked {
            guards,
            hashes,
            srv: self.srv,
        }
    }

    /// Appends the propagated form of a write on the current database to the replication log.
    /// Call while the shard guard is still held.
    #[inline]
    pub fn propagate(&mut self, lk: &mut Shard, argv: &[&[u8]]) {
        let db = self.cl.db;
        self.propagate_db(lk, db, argv);
    }

    /// Propagates the `n` writes `f` makes for one command wrapped in MULTI ... EXEC when
    /// there are several (Redis 7.0 wraps a command's multiple effects, e.g. SPOP with a count),
    /// unless a transaction or script already wraps everything.
    pub fn propagate_wrapped(
        &mut self,
        lk: &mut Shard,
        n: usize,
        f: impl FnOnce(&mut Self, &mut Shard),
    ) {
        let wrap = n > 1 && !self.cl.in_exec;
        if wrap {
            self.propagate(lk, &[b"MULTI"]);
        }
        f(self, lk);
        if wrap {
            self.propagate(lk, &[b"EXEC"]);
        }
    }

    /// Like [`Ctx::propagate`] for an explicit database.
    pub fn propagate_db(&mut self, lk: &mut Shard, db: usize, argv: &[&[u8]]) {
        if !self.cl.replaying && self.srv.repl.is_replica() {
            // A writable replica's own writes stay local: never upstream, never to its own
            // replicas (whose stream is the primary's), but in its AOF, as in Redis.
            self.cl.propagated += 1;
            if self.srv.aof.on() {
                if self.cl.in_exec {
                    self.cl.tx_log.write_aof_only(&self.srv.log, db, argv);
                } else {
                    self.srv.log.append_aof_only(db, argv);
                }
                self.cl.aof_only_write = true;
            }
            return;
        }
        if self.cl.replaying {
            lk.expired.clear();
            self.cl.propagated += 1;
            if let Some(p) = self.cl.master_pending.as_mut().filter(|p| !p.is_empty()) {
                self.cl.last_write = self.srv.log.append_raw(p, Some(db));
                p.clear();
            }
            return;
        }
        flush_expired(self.srv, lk);
        self.cl.propagated += 1;
        if self.cl.in_exec {
            // A transaction's writes reach replicas wrapped in MULTI ... EXEC when there are
            // several, as in Redis.
            if let Some(offset) = self.cl.tx_log.write(&self.srv.log, db, argv) {
                self.cl.last_write = offset;
            }
        } else {
            self.cl.last_write = self.srv.log.append(db, argv);
        }
        self.srv
            .dirty
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Marks `key` of `db` as having received data, for clients blocked on it. Commands run by
    /// clients are covered by dispatch (it serves the keys of every write command); only code
    /// that pushes to a key outside its command's key list (a blocked BLMOVE being served)
    /// calls this.
    pub fn signal_ready(&mut self, db: usize, key: &[u8]) {
        if self.srv.blocking.any() {
            self.cl.pending_ready.push((db, key.to_vec()));
        }
    }

    /// The collection encoding thresholds in force (`hash-max-listpack-entries` and friends).
    #[inline]
    pub fn limits(&self) -> tern_keyspace::EncodingLimits {
        *self.srv.hot.limits.read()
    }

    /// Counts a keyspace hit or miss (INFO keyspace_hits / keyspace_misses).
    #[inline]
    pub fn hit(&self, found: bool) {
        if found {
            self.cl.stats.hits.add(1);
        } else {
            self.cl.stats.misses.add(1);
        }
    }
}

/// Propagates DEL for keys expiry removed, in the order they were removed.
pub fn flush_expired(srv: &Server, shard: &mut Shard) {
    if shard.expired.is_empty() {
        return;
    }
    for e in shard.expired.drain(..) {
        srv.key_changed(e.db, &e.key, None);
        if crate::notify::enabled(srv) {
            let now = crate::server::now_ms();
            crate::notify::emit(
                srv,
                tern_config::notify::EXPIRED,
                "expired",
                &e.key,
                e.db,
                now,
            );
        }
        srv.log.append(e.db, &[b"DEL", &e.key]);
        srv.stats
            .expired_keys
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A locked shard that propagates pending expiry DELs when released.
pub struct Locked<'a> {
    g: ShardGuard<'a>,
    srv: &'a Server,
}

impl Locked<'_> {
    /// Looks up a live key in database `db` (deleting it first if expired).
    #[inline]
    pub fn lookup(&mut self, db: usize, hash: u64, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        let s = &mut *self.g;
        s.dbs[db].lookup(hash, key, now_ms, &mut s.expired, db)
    }

    /// Like [`Locked::lookup`] without counting an access (OBJECT, TYPE-like inspection):
    /// the LFU counter is left alone.
    pub fn peek(&mut self, db: usize, hash: u64, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        let s = &mut *self.g;
        s.dbs[db].peek(hash, key, now_ms, &mut s.expired, db)
    }

    /// Database `db` of this shard.
    #[inline]
    pub fn db(&mut self, db: usize) -> &mut Db {
        &mut self.g.dbs[db]
    }
}

impl std::ops::Deref for Locked<'_> {
    type Target = Shard;
    fn deref(&self) -> &Shard {
        &self.g
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Shard {
        &mut self.g
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        flush_expired(self.srv, &mut self.g);
    }
}

/// Several locked shards (for multi-key commands), each found by a key's hash.
pub struct MultiLocked<'a> {
    guards: SmallVec<[(usize, Locked<'a>); 4]>,
    /// The hashes of the keys, in the order given to `lock_keys`.
    pub hashes: SmallVec<[u64; 16]>,
    srv: &'a Server,
}

impl<'a> MultiLocked<'a> {
    /// The locked shard holding the key with this hash.
    pub fn shard(&mut self, hash: u64) -> &mut Locked<'a> {
        let i = self.srv.keyspace.shard_of(hash);
        let pos = self
            .guards
            .iter()
            .position(|(j, _)| *j == i)
            .expect("shard was locked");
        &mut self.guards[pos].1
    }

    /// Any one locked shard, to propagate a multi-key write through.
    pub fn first(&mut self) -> &mut Locked<'a> {
        &mut self.guards[0].1
    }

    /// Propagates pending expiry DELs of every locked shard.
    pub fn flush_expired(&mut self) {
        for (_, g) in &mut self.guards {
            flush_expired(self.srv, g);
        }
    }
}
