//! The shared server state every connection and background task sees.

use crate::clients::Clients;
use crate::log::ReplLog;
use crate::slowlog::SlowLog;
use crate::stats::Stats;
use crate::table::CommandTable;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tern_config::Config;
use tern_keyspace::Keyspace;

/// The Redis release whose behaviour tern matches; clients gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";
/// Tern's own version.
pub const TERN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Settings read on hot paths, copied out of the config so that no lock is taken per command.
#[derive(Debug)]
pub struct Hot {
    /// `proto-max-bulk-len`.
    pub proto_max_bulk_len: AtomicU64,
    /// `client-query-buffer-limit`.
    pub query_buffer_limit: AtomicU64,
    /// `slowlog-log-slower-than` in microseconds (negative disables).
    pub slowlog_slower_than: AtomicI64,
    /// `timeout` in seconds (0 disables).
    pub idle_timeout: AtomicU64,
    /// `replica-read-only`.
    pub replica_read_only: AtomicBool,
    /// `min-replicas-to-write` (0: off).
    pub min_replicas: AtomicU64,
    /// `min-replicas-max-lag`, seconds.
    pub min_replicas_lag: AtomicU64,
    /// `maxclients`.
    pub maxclients: AtomicU64,
    /// True when new connections must authenticate: the default user has a password (no
    /// `nopass`, as `requirepass` sets it) or is off.
    pub requirepass_set: AtomicBool,
    /// Active expiry enabled (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire: AtomicBool,
    /// `notify-keyspace-events` flag bits.
    pub notify: std::sync::atomic::AtomicU32,
    /// Collection encoding thresholds (`hash-max-listpack-entries` and friends).
    pub limits: parking_lot::RwLock<tern_keyspace::EncodingLimits>,
    /// Writes are refused with MISCONF (a failed background save; see `refresh_misconf`).
    pub misconf: AtomicBool,
    /// `client-output-buffer-limit normal`.
    pub obuf_normal: crate::outlimit::ClassLimits,
    /// `client-output-buffer-limit replica`.
    pub obuf_replica: crate::outlimit::ClassLimits,
    /// `protected-mode` is in force: `protected-mode yes`, no `requirepass`, and no `bind`
    /// given by the user (see `net.rs`).
    pub protected: AtomicBool,
}

/// Everything shared between connections.
pub struct Server {
    /// The configuration (CONFIG GET/SET); hot values are mirrored in `hot`.
    pub config: RwLock<Config>,
    /// Mirrors of config values read per command.
    pub hot: Hot,
    /// All databases.
    pub keyspace: Keyspace,
    /// The replication log.
    pub log: ReplLog,
    /// The command table.
    pub table: CommandTable,
    /// ACL users and the ACL log.
    pub acl: crate::acl::Acl,
    /// Connected clients.
    pub clients: Clients,
    /// Counters for INFO.
    pub stats: Stats,
    /// SLOWLOG entries.
    pub slowlog: SlowLog,
    /// 40 hex characters identifying this run (INFO run_id) and the replication history.
    pub run_id: String,
    /// The replication id (master_replid); DEBUG CHANGE-REPL-ID replaces it.
    pub replid: RwLock<String>,
    /// When the server started.
    pub started: Instant,
    /// The TCP port actually bound (useful with --port 0).
    pub port: AtomicU64,
    /// The TLS contexts (`tls-*`), swapped whole by CONFIG SET.
    pub tls: crate::tls::Tls,
    /// Set when SHUTDOWN or a signal asks the server to stop.
    pub shutdown: tokio::sync::Notify,
    /// True once shutdown has been requested.
    pub shutting_down: AtomicBool,
    /// A SHUTDOWN command waiting for the main thread's final save.
    pub shutdown_req: parking_lot::Mutex<Option<ShutdownReq>>,
    /// Writes since the last save (rdb_changes_since_last_save).
    pub dirty: AtomicU64,
    /// CLIENT PAUSE state.
    pub pause: crate::clients::Pause,
    /// Number of worker threads serving connections.
    pub workers: usize,
    /// The config file path, if any.
    pub config_file: Option<String>,
    /// The executable path (INFO executable).
    pub executable: String,
    /// MONITOR clients' queues.
    pub monitors: parking_lot::Mutex<Vec<tokio::sync::mpsc::UnboundedSender<Vec<u8>>>>,
    /// The number of MONITOR clients, checked on every command.
    pub monitor_count: std::sync::atomic::AtomicUsize,
    /// Unix time in seconds of the last successful save (LASTSAVE); the start time until then.
    pub lastsave: AtomicI64,
    /// Clients blocked on keys (BLPOP and friends).
    pub blocking: crate::blocking::Blocking,
    /// WATCHed keys.
    pub watch: crate::watch::Watches,
    /// Pub/sub subscriptions.
    pub pubsub: crate::pubsub::PubSub,
    /// Client-side caching: keys read by tracking clients.
    pub tracking: crate::tracking::Tracker,
    /// `maxmemory` and eviction.
    pub evict: crate::evict::Evictor,
    /// Lua scripting: the script cache, the busy-script state, the libraries.
    pub scripts: crate::scripting::Scripts,
    /// RDB snapshots: SAVE, BGSAVE, save points.
    pub saver: crate::snapshot::Saver,
    /// The append-only file.
    pub aof: crate::aof::Aof,
    /// Replication: replicas of this server, and our primary.
    pub repl: crate::repl::Replication,
    /// The workers' runtimes (a replica's link runs on the first, like a connection).
    pub worker_handles: parking_lot::Mutex<Vec<tokio::runtime::Handle>>,
    /// The AOF directory's files (the manifest).
    pub aof_layout: parking_lot::Mutex<crate::aof::Layout>,
    /// Memory in use once the server state was built (INFO used_memory_startup).
    pub used_memory_startup: u64,
}

impl Server {
    /// Builds the server state from a config.
    pub fn new(config: Config, workers: usize) -> Arc<Server> {
        let shard_bits = if workers <= 1 {
            0
        } else {
            (workers.next_power_of_two().trailing_zeros() + 2).min(10)
        };
        let hot = Hot {
            proto_max_bulk_len: AtomicU64::new(config.proto_max_bulk_len()),
            query_buffer_limit: AtomicU64::new(config.client_query_buffer_limit()),
            slowlog_slower_than: AtomicI64::new(config.slowlog_log_slower_than()),
            idle_timeout: AtomicU64::new(config.timeout()),
            replica_read_only: AtomicBool::new(
                config.get_bool("replica-read-only").unwrap_or(true),
            ),
            min_replicas: AtomicU64::new(config.get_u64("min-replicas-to-write").unwrap_or(0)),
            min_replicas_lag: AtomicU64::new(config.get_u64("min-replicas-max-lag").unwrap_or(10)),
            maxclients: AtomicU64::new(config.maxclients()),
            requirepass_set: AtomicBool::new(config.requirepass().is_some()),
            active_expire: AtomicBool::new(true),
            limits: parking_lot::RwLock::new(tern_keyspace::EncodingLimits::default()),
            notify: std::sync::atomic::AtomicU32::new(0),
            misconf: AtomicBool::new(false),
            obuf_normal: Default::default(),
            obuf_replica: Default::default(),
            protected: AtomicBool::new(false),
        };
        // The memory ring holds up to `repl-backlog-memory`; the rest of `repl-backlog-size`
        // goes to disk (net.rs turns that on once the dataset is loaded).
        let backlog = config
            .get_u64("repl-backlog-size")
            .unwrap_or(1 << 20)
            .min(config.get_u64("repl-backlog-memory").unwrap_or(16 << 20))
            as usize;
        let slowlog_len = config.slowlog_max_len();
        let table = CommandTable::new();
        let acl = crate::acl::Acl::new(&table);
        let srv = Arc::new(Server {
            keyspace: Keyspace::new(config.databases(), shard_bits),
            config_file: config.config_file().map(|p| p.display().to_string()),
            config: RwLock::new(config),
            hot,
            log: ReplLog::new(backlog),
            table,
            acl,
            clients: Clients::default(),
            stats: Stats::default(),
            slowlog: SlowLog::new(slowlog_len as usize),
            run_id: random_hex40(),
            replid: RwLock::new(random_hex40()),
            started: Instant::now(),
            port: AtomicU64::new(0),
            tls: Default::default(),
            shutdown: tokio::sync::Notify::new(),
            shutting_down: AtomicBool::new(false),
            shutdown_req: Default::default(),
            dirty: AtomicU64::new(0),
            pause: Default::default(),
            workers,
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            monitors: Default::default(),
            monitor_count: Default::default(),
            lastsave: AtomicI64::new(now_ms() / 1000),
            blocking: Default::default(),
            watch: Default::default(),
            pubsub: Default::default(),
            tracking: Default::default(),
            evict: Default::default(),
            scripts: Default::default(),
            saver: Default::default(),
            aof: Default::default(),
            repl: Default::default(),
            worker_handles: Default::default(),
            aof_layout: Default::default(),
            used_memory_startup: crate::families::info::used_memory(),
        });
        srv.refresh_hot();
        let pass = srv.config.read().requirepass();
        srv.set_requirepass(pass.as_deref());
        // A script job holds a strong reference to the server.
        srv.scripts.set_server(Arc::downgrade(&srv));
        srv.saver.set_server(Arc::downgrade(&srv));
        srv
    }

    /// Re-reads the hot settings from the config after CONFIG SET.
    pub fn refresh_hot(&self) {
        self.aof.refresh_mode(self);
        let c = self.config.read();
        self.hot.replica_read_only.store(
            c.get_bool("replica-read-only").unwrap_or(true),
            Ordering::Relaxed,
        );
        self.hot.min_replicas.store(
            c.get_u64("min-replicas-to-write").unwrap_or(0),
            Ordering::Relaxed,
        );
        self.hot.min_replicas_lag.store(
            c.get_u64("min-replicas-max-lag").unwrap_or(10),
            Ordering::Relaxed,
        );
        self.hot
            .proto_max_bulk_len
            .store(c.proto_max_bulk_len(), Ordering::Relaxed);
        self.hot
            .query_buffer_limit
            .store(c.client_query_buffer_limit(), Ordering::Relaxed);
        self.hot
            .slowlog_slower_than
            .store(c.slowlog_log_slower_than(), Ordering::Relaxed);
        self.hot.idle_timeout.store(c.timeout(), Ordering::Relaxed);
        self.hot.maxclients.store(c.maxclients(), Ordering::Relaxed);
        self.hot
            .protected
            .store(c.protected_mode(), Ordering::Relaxed);
        self.slowlog.set_max_len(c.slowlog_max_len() as usize);
        self.hot
            .notify
            .store(c.notify_keyspace_events(), Ordering::Relaxed);
        self.evict.maxmemory.store(c.maxmemory(), Ordering::Relaxed);
        self.evict
            .set_policy(crate::evict::Policy::parse(c.maxmemory_policy()));
        self.evict.samples.store(
            c.get_i64("maxmemory-samples").unwrap_or(5).max(1) as u64,
            Ordering::Relaxed,
        );
        tern_keyspace::db::lfu::LOG_FACTOR.store(
            c.get_i64("lfu-log-factor").unwrap_or(10) as u32,
            Ordering::Relaxed,
        );
        tern_keyspace::db::lfu::DECAY_TIME.store(
            c.get_i64("lfu-decay-time").unwrap_or(1) as u32,
            Ordering::Relaxed,
        );
        self.hot
            .obuf_normal
            .set(c.client_output_buffer_limit(tern_config::ClientClass::Normal));
        self.hot
            .obuf_replica
            .set(c.client_output_buffer_limit(tern_config::ClientClass::Replica));
        let obl = c.client_output_buffer_limit(tern_config::ClientClass::PubSub);
        let l = &self.pubsub.limits;
        l.hard.store(obl.hard, Ordering::Relaxed);
        l.soft.store(obl.soft, Ordering::Relaxed);
        l.soft_seconds.store(obl.soft_seconds, Ordering::Relaxed);
        let n = |name: &str| c.get_i64(name).unwrap_or(0);
        *self.hot.limits.write() = tern_keyspace::EncodingLimits {
            hash_max_listpack_entries: n("hash-max-listpack-entries") as usize,
            hash_max_listpack_value: n("hash-max-listpack-value") as usize,
            list_max_listpack_size: n("list-max-listpack-size"),
            list_compress_depth: n("list-compress-depth") as usize,
            set_max_intset_entries: n("set-max-intset-entries") as usize,
            zset_max_listpack_entries: n("zset-max-listpack-entries") as usize,
            zset_max_listpack_value: n("zset-max-listpack-value") as usize,
        };
    }

    /// `requirepass` (at start-up and by CONFIG SET) is the default user's password: `resetpass
    /// >password`, or `nopass` when empty, as Redis's ACLUpdateDefaultUserPassword.
    pub fn set_requirepass(&self, pass: Option<&[u8]>) {
        let mut u = (*self.acl.default_user()).clone();
        let pubsub_all = self.acl_pubsub_default_all();
        let _ = u.apply(&self.table, b"resetpass", pubsub_all);
        match pass {
            Some(p) => {
                let mut op = b">".to_vec();
                op.extend_from_slice(p);
                let _ = u.apply(&self.table, &op, pubsub_all);
            }
            None => {
                let _ = u.apply(&self.table, b"nopass", pubsub_all);
            }
        }
        self.acl.put(u);
        self.acl_changed();
    }

    /// `acl-pubsub-default` is `allchannels`.
    pub fn acl_pubsub_default_all(&self) -> bool {
        self.config.read().get_enum("acl-pubsub-default") == Some("allchannels")
    }

    /// Re-derives what depends on the users after any change: whether new connections must
    /// authenticate.
    pub fn acl_changed(&self) {
        let d = self.acl.default_user();
        self.hot
            .requirepass_set
            .store(!(d.nopass && d.on), Ordering::Relaxed);
    }

    /// Makes `cl` see the current version of its user (after `Acl::epoch` moved). A client whose
    /// user was deleted (and is being disconnected) is left with no permissions.
    pub fn refresh_client_user(&self, cl: &mut crate::ctx::Client) {
        cl.acl_epoch = self.acl.epoch.load(Ordering::Acquire);
        if cl.acl_internal {
            return;
        }
        match self.acl.get(&cl.user.name) {
            Some(u) => {
                cl.acl_all = u.unrestricted();
                cl.user = u;
            }
            None => {
                let mut u = crate::acl::User::new(&self.table, &cl.user.name, false);
                u.on = false;
                cl.acl_all = false;
                cl.user = Arc::new(u);
            }
        }
    }

    /// Publishes `msg` on `channel` and closes the subscribers that went over their output
    /// buffer limit; returns the number of receivers.
    pub fn publish(
        &self,
        kind: crate::pubsub::Kind,
        channel: &[u8],
        msg: &[u8],
        now_ms: i64,
    ) -> usize {
        let (n, dropped) = self.pubsub.publish(kind, channel, msg, now_ms);
        for id in dropped {
            self.clients.kill_where(|c| c.id == id);
        }
        n
    }

    /// `key` of `db` changed (written by client `by`, or expired/evicted when None): WATCHers
    /// and tracking clients hear of it.
    pub fn key_changed(&self, db: usize, key: &[u8], by: Option<u64>) {
        self.watch.touch(db, key);
        if self.tracking.any() {
            self.tracking
                .invalidate(key, by, |id| self.listens_for_invalidations(id));
        }
    }

    /// True if client `id` subscribed to `__redis__:invalidate` (a RESP2 tracking redirect
    /// target receives invalidations only then).
    fn listens_for_invalidations(&self, id: u64) -> bool {
        self.pubsub
            .is_subscribed(crate::pubsub::Kind::Channel, crate::tracking::CHANNEL, id)
    }

    /// Every key of `db` (None: of every database) changed: FLUSHDB, FLUSHALL, SWAPDB, a full
    /// sync. WATCHers of the keys for which `affected(db, key)` holds see it.
    pub fn db_changed_where(&self, db: Option<usize>, affected: impl Fn(usize, &[u8]) -> bool) {
        self.watch.touch_db(db, affected);
        if self.tracking.any() {
            self.tracking
                .invalidate_all(|id| self.listens_for_invalidations(id));
        }
    }

    /// [`Server::db_changed_where`] for every watched key.
    pub fn db_changed(&self, db: Option<usize>) {
        self.watch.touch_db(db, |_, _| true);
        if self.tracking.any() {
            self.tracking
                .invalidate_all(|id| self.listens_for_invalidations(id));
        }
    }

    /// Asks every task to stop.
    /// Writes are refused (MISCONF) while the last background save failed, save points are
    /// configured and `stop-writes-on-bgsave-error` is on, as in Redis.
    pub fn refresh_misconf(&self) {
        self.refresh_misconf_with(self.saver.stats().last_ok);
    }

    /// [`Server::refresh_misconf`] with the outcome of the last background save given.
    pub fn refresh_misconf_with(&self, last_save_ok: bool) {
        let c = self.config.read();
        let deny = (!last_save_ok
            && !c.save_params().is_empty()
            && c.get_bool("stop-writes-on-bgsave-error").unwrap_or(true))
            || self.aof.failing();
        self.hot.misconf.store(deny, Ordering::Relaxed);
    }

    pub fn request_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.shutdown.notify_waiters();
    }
}

/// SHUTDOWN's options, handed to the main thread, which answers when the final save is done
/// (or failed: the server then keeps running and SHUTDOWN replies an error).
#[derive(Debug)]
pub struct ShutdownReq {
    /// Whether to save.
    pub save: crate::snapshot::FinalSave,
    /// FORCE: exit even if the save fails.
    pub force: bool,
    /// The outcome.
    pub reply: std::sync::mpsc::Sender<Result<(), String>>,
}

/// 40 random hex characters, as Redis's run ids and replication ids.
pub fn random_hex40() -> String {
    let bytes: [u8; 20] = rand::random();
    hex::encode(bytes)
}

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Unix time in microseconds.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}
