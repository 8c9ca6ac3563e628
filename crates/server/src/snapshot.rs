//! Point-in-time snapshots in Redis's RDB format: SAVE, BGSAVE, the `save` points, and the
//! save at SHUTDOWN.
//!
//! Redis forks and lets the child write the parent's frozen memory. Tern is threaded and does
//! not fork; instead every [`tern_keyspace::Db`] takes part in the snapshot (see
//! [`tern_keyspace::DbSnap`]): under every shard's lock the snapshot *begins* in all Dbs at one
//! instant (and the replication offset of that instant is recorded); then a walker (a thread of
//! its own for BGSAVE, the caller for SAVE) visits the shards one at a time, a batch of entries
//! per lock, while writes go on. A write about to change an entry the walker has not reached
//! serializes it first, so each key is written as it was at the start instant, exactly once.
//!
//! What it costs: no pause beyond taking every lock once, and memory only for the records that
//! writes serialized ahead of the walker and the walker has not yet written out. The walker
//! drains those from every shard whenever they exceed [`DRAIN_AT`] bytes. Redis's fork instead
//! costs a copy of every 4 KiB page a write touches during the save.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Weak;
use std::time::Instant;

use parking_lot::Mutex;
use tern_keyspace::{Db, Entry, Keyspace};
use tern_persist::rdb::file::{
    encode_key_record, FileOptions, KeyMeta, RdbFileWriter, ReplAux, StandardAux,
};
use tern_persist::rdb::RDB_VERSION_7_0;

use crate::server::{now_ms, Server};

/// Entries the walker visits per shard-lock acquisition.
const BATCH: usize = 256;
/// With `rdb-key-save-delay`, one entry per lock, so the delay applies per key.
const SLOW_BATCH: usize = 1;
/// Pending records (bytes, all shards) above which the walker drains every shard.
const DRAIN_AT: u64 = 1 << 20;
/// After a failed background save, automatic saves wait this long before retrying (Redis's
/// CONFIG_BGSAVE_RETRY_DELAY).
const RETRY_DELAY_SECS: i64 = 5;

/// Why a save could not start or did not complete.
#[derive(Debug)]
pub enum SaveError {
    /// Another save is running.
    InProgress,
    /// Writing the file failed.
    Io(io::Error),
}

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaveError::InProgress => f.write_str("a save is already in progress"),
            SaveError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Snapshot state shared by the commands, the cron and INFO.
pub struct Saver {
    me: std::sync::OnceLock<Weak<Server>>,
    running: AtomicBool,
    /// A BGSAVE SCHEDULE is waiting for the running save to end.
    pub scheduled: AtomicBool,
    /// Dbs that FLUSHDB/FLUSHALL took out of the keyspace while their snapshot was running;
    /// the walker finishes them.
    orphans: Mutex<Vec<Db>>,
    /// Records serialized by the write path not yet written out, at their peak in this save.
    peak_pending: AtomicU64,
    /// Keys written by the running save.
    pub keys_processed: AtomicU64,
    /// Keys in the keyspace when the running save began.
    pub keys_total: AtomicU64,
    st: Mutex<SaveStats>,
    /// Keys the last load inserted.
    pub loaded_keys: AtomicU64,
    /// Keys the last load skipped as expired.
    pub loaded_expired: AtomicU64,
}

/// What INFO persistence reports about saves.
#[derive(Clone, Debug)]
pub struct SaveStats {
    /// When the running save started.
    pub started: Option<Instant>,
    /// The last background save succeeded (or none ran).
    pub last_ok: bool,
    /// Unix seconds of the last failed attempt (automatic saves wait before retrying).
    pub last_try: i64,
    /// Duration of the last save, seconds (-1: none yet).
    pub last_time_sec: i64,
    /// Completed saves.
    pub saves: u64,
    /// The peak of the previous save's pending records (INFO rdb_last_cow_size).
    pub last_cow: u64,
}

impl Default for Saver {
    fn default() -> Saver {
        Saver {
            me: Default::default(),
            running: AtomicBool::new(false),
            scheduled: AtomicBool::new(false),
            orphans: Mutex::new(Vec::new()),
            peak_pending: AtomicU64::new(0),
            keys_processed: AtomicU64::new(0),
            keys_total: AtomicU64::new(0),
            loaded_keys: AtomicU64::new(0),
            loaded_expired: AtomicU64::new(0),
            st: Mutex::new(SaveStats {
                started: None,
                last_ok: true,
                last_try: 0,
                last_time_sec: -1,
                saves: 0,
                last_cow: 0,
            }),
        }
    }
}

impl Saver {
    /// The server, for work that outlives a command (a background save's thread).
    pub fn server(&self) -> Option<std::sync::Arc<Server>> {
        self.me.get().and_then(Weak::upgrade)
    }

    /// Records what the last load read (INFO rdb_last_load_keys_*).
    pub fn record_load(&self, keys: u64, expired: u64) {
        self.loaded_keys.store(keys, Relaxed);
        self.loaded_expired.store(expired, Relaxed);
    }

    /// Lets background saves hold the server.
    pub fn set_server(&self, srv: Weak<Server>) {
        let _ = self.me.set(srv);
    }

    /// True while a save runs.
    pub fn in_progress(&self) -> bool {
        self.running.load(Relaxed)
    }

    /// A copy of the save statistics.
    pub fn stats(&self) -> SaveStats {
        self.st.lock().clone()
    }

    /// Record bytes the write path has serialized ahead of the walker right now.
    pub fn current_pending(&self) -> u64 {
        tern_keyspace::db::SNAPSHOT_PENDING.load(Relaxed)
    }

    /// Peak of pending records during the running save.
    pub fn peak_pending(&self) -> u64 {
        self.peak_pending.load(Relaxed)
    }

    /// Takes over Dbs removed from the keyspace (FLUSHDB, FLUSHALL) whose snapshot is still
    /// running; returns the others to be freed by the caller.
    pub fn adopt(&self, dbs: Vec<Db>) -> Vec<Db> {
        if !self.in_progress() {
            return dbs;
        }
        let (running, rest): (Vec<Db>, Vec<Db>) =
            dbs.into_iter().partition(|d| d.snapshot().is_some());
        if !running.is_empty() {
            self.orphans.lock().extend(running);
        }
        rest
    }
}

/// The RDB file's path from `dir` and `dbfilename`.
pub fn rdb_path(srv: &Server) -> PathBuf {
    let c = srv.config.read();
    c.dir().join(c.dbfilename())
}

/// SAVE: takes a snapshot and writes it on the calling thread; other clients keep being
/// served (they wait only for the shard a batch is being read from).
pub fn save(srv: &Server) -> Result<(), SaveError> {
    let job = begin(srv, Kind::Rdb, rdb_path(srv), |_| Ok(()))?;
    job.run(srv)
}

/// Writes the dataset as an AOF base file at `path`, on the calling thread (AOF start-up).
pub fn write_aof_base(srv: &Server, path: &Path, rdb: bool) -> Result<(), SaveError> {
    let job = begin(
        srv,
        Kind::AofBase(String::new(), 0, rdb),
        path.to_path_buf(),
        |_| Ok(()),
    )?;
    job.run(srv)
}

/// BGREWRITEAOF: at the snapshot's instant a new incr file starts; a thread writes the new
/// base, then the manifest switches to it.
pub fn bgrewriteaof(srv: &Server) -> Result<(), SaveError> {
    let Some(me) = srv.saver.me.get().and_then(Weak::upgrade) else {
        return Err(SaveError::Io(io::Error::other("server is going away")));
    };
    // With the AOF off, a rewrite writes a base only (as Redis 7.0 does).
    let on = srv.aof.on();
    let (dir, (name, seq)) = {
        let mut layout = srv.aof_layout.lock();
        if !on {
            *layout = crate::aof::configured_layout(srv);
            std::fs::create_dir_all(&layout.dir).map_err(SaveError::Io)?;
        }
        let (n, seq) = (layout.next_base(preamble(srv)), layout.m.curr_base_seq + 1);
        (layout.dir.clone(), (n, seq as u64))
    };
    let rdb = preamble(srv);
    let path = dir.join(&name);
    let job = begin(srv, Kind::AofBase(name, seq, rdb), path, |srv| {
        if !on {
            return Ok(());
        }
        let mut layout = srv.aof_layout.lock();
        crate::aof::switch_incr(srv, &mut layout)
    })?;
    srv.aof.rewrite_in_progress.store(true, Relaxed);
    std::thread::Builder::new()
        .name("tern-aofrw".into())
        .spawn(move || {
            let _ = job.run(&me);
        })
        .map_err(SaveError::Io)?;
    Ok(())
}

/// BGSAVE: begins a snapshot now and writes it from a thread of its own.
pub fn bgsave(srv: &Server) -> Result<(), SaveError> {
    let Some(me) = srv.saver.me.get().and_then(Weak::upgrade) else {
        return save(srv);
    };
    let job = begin(srv, Kind::Rdb, rdb_path(srv), |_| Ok(()))?;
    std::thread::Builder::new()
        .name("tern-bgsave".into())
        .spawn(move || {
            let _ = job.run(&me);
            // A BGSAVE SCHEDULE that arrived meanwhile starts from the cron.
        })
        .map_err(SaveError::Io)?;
    Ok(())
}

/// `aof-use-rdb-preamble`: AOF base files in RDB format (else commands).
fn preamble(srv: &Server) -> bool {
    srv.config
        .read()
        .get_bool("aof-use-rdb-preamble")
        .unwrap_or(true)
}

/// Called from the cron: starts a BGSAVE when a `save` point is reached or one was scheduled.
pub fn cron(srv: &Server) {
    if srv.saver.in_progress() {
        return;
    }
    if srv.saver.scheduled.swap(false, Relaxed) {
        tracing::info!("Background saving started by scheduled BGSAVE");
        let _ = bgsave(srv);
        return;
    }
    let params = srv.config.read().save_params();
    if params.is_empty() {
        return;
    }
    let dirty = srv.dirty.load(Relaxed);
    let now = now_ms() / 1000;
    let elapsed = now - srv.lastsave.load(Relaxed);
    let st = srv.saver.stats();
    if !st.last_ok && now - st.last_try <= RETRY_DELAY_SECS {
        return;
    }
    if let Some((secs, changes)) = params
        .iter()
        .find(|(secs, changes)| dirty >= *changes && elapsed >= *secs as i64)
    {
        tracing::info!("{changes} changes in {secs} seconds. Saving...");
        if let Err(e) = bgsave(srv) {
            tracing::warn!("Can't save in background: {e}");
        }
    }
}

/// Whether the save before exiting happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalSave {
    /// When save points are configured (SIGTERM, plain SHUTDOWN).
    Default,
    /// SHUTDOWN SAVE.
    Yes,
    /// SHUTDOWN NOSAVE.
    No,
}

/// The save before exiting (SHUTDOWN, SIGTERM, SIGINT): with every shard held, so that
/// nothing is acknowledged after the snapshot's instant, and the shards stay held (the process
/// is about to exit) when it succeeds. `force_save` is SHUTDOWN SAVE; otherwise the save
/// happens only when save points are configured. A save already running is waited for.
pub fn final_save(srv: &Server, mode: FinalSave) -> Result<(), SaveError> {
    match mode {
        FinalSave::No => return Ok(()),
        FinalSave::Default if srv.config.read().save_params().is_empty() => return Ok(()),
        _ => {}
    }
    while srv.saver.in_progress() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    tracing::info!("Saving the final RDB snapshot before exiting.");
    let hold = srv.keyspace.hold_all();
    match save(srv) {
        Ok(()) => {
            std::mem::forget(hold);
            Ok(())
        }
        Err(e) => {
            tracing::warn!("Error trying to save the DB, can't exit.");
            Err(e)
        }
    }
}

/// A snapshot begun for a replica's full sync: the stream continues after `offset`.
pub struct ReplicaSnapshot {
    job: Job,
}

impl ReplicaSnapshot {
    /// The replication offset of the snapshot's instant.
    pub fn offset(&self) -> u64 {
        self.job.repl_offset
    }

    /// The replication id at the snapshot's instant.
    pub fn replid(&self) -> &str {
        &self.job.replid
    }

    /// Writes the RDB to `w` (a replica's socket, or a file for a disk-based sync).
    pub fn run_to(self, srv: &Server, w: Box<dyn std::io::Write + Send>) -> io::Result<()> {
        let job = self.job;
        let opts = FileOptions {
            version: RDB_VERSION_7_0,
            compress: job.compress,
            checksum: job.checksum,
        };
        let mut out = Out {
            w: None,
            err: None,
            db: None,
            sizes: job.sizes.clone(),
        };
        match RdbFileWriter::new(w, opts).and_then(|mut w| header(srv, &job, &mut w).map(|()| w)) {
            Ok(w) => out.w = Some(Sink::Stream(w)),
            Err(e) => out.fail(e),
        }
        walk(srv, &mut out, job.key_delay_us);
        let result = match (out.err, out.w) {
            (Some(e), _) => Err(e),
            (None, Some(Sink::Stream(w))) => w.finish().map(drop),
            _ => Err(io::Error::other("no output")),
        };
        srv.saver.st.lock().started = None;
        srv.saver.running.store(false, Relaxed);
        result
    }
}

/// Begins a snapshot for a replica's full sync (fails while another snapshot runs).
pub fn begin_for_replica(srv: &Server) -> Result<ReplicaSnapshot, SaveError> {
    let job = begin(srv, Kind::Replica, PathBuf::new(), |_| Ok(()))?;
    Ok(ReplicaSnapshot { job })
}

/// What a snapshot is for.
enum Kind {
    /// A replica's full sync.
    Replica,
    /// The RDB file (`dir`/`dbfilename`): SAVE, BGSAVE, save points, shutdown.
    Rdb,
    /// A new AOF base file: its name, sequence number, and whether it is RDB-formatted.
    AofBase(String, u64, bool),
}

/// A snapshot that has begun: every Db holds its start-instant state.
struct Job {
    kind: Kind,
    started: Instant,
    dirty_at_start: u64,
    repl_offset: u64,
    replid: String,
    path: PathBuf,
    compress: bool,
    checksum: bool,
    /// `rdb-key-save-delay`: microseconds to sleep per key written (tests use it to keep a
    /// save running, as Redis's test suite does).
    key_delay_us: u64,
    /// Keys and expires per database at the start instant (RESIZEDB hints).
    sizes: Vec<(u64, u64)>,
    /// The function libraries' code at the start instant.
    functions: Vec<Vec<u8>>,
}

/// Begins a snapshot in every Db at one instant (all shards locked, or already held by this
/// thread inside EXEC or a script).
fn begin(
    srv: &Server,
    kind: Kind,
    path: PathBuf,
    at_instant: impl FnOnce(&Server) -> io::Result<()>,
) -> Result<Job, SaveError> {
    let sv = &srv.saver;
    if sv.running.swap(true, Relaxed) {
        return Err(SaveError::InProgress);
    }
    let (compress, checksum, key_delay_us, mut encode) = {
        let c = srv.config.read();
        let compress = c.get_bool("rdbcompression").unwrap_or(true);
        let policy = c.maxmemory_policy();
        (
            compress,
            c.get_bool("rdbchecksum").unwrap_or(true),
            c.get_i64("rdb-key-save-delay").unwrap_or(0).max(0) as u64,
            encoder(compress, policy),
        )
    };
    if matches!(kind, Kind::AofBase(_, _, false)) {
        encode = crate::aof::encode_key_commands;
    }
    let ks = &srv.keyspace;
    let hold = if ks.held_here() {
        None
    } else {
        Some(ks.hold_all())
    };
    if let Err(e) = at_instant(srv) {
        drop(hold);
        sv.running.store(false, Relaxed);
        return Err(SaveError::Io(e));
    }
    let mut keys = 0u64;
    let mut sizes = vec![(0u64, 0u64); ks.databases()];
    for i in 0..ks.shard_count() {
        let mut g = ks.lock(i);
        for (index, db) in g.dbs.iter_mut().enumerate() {
            keys += db.len() as u64;
            sizes[index].0 += db.len() as u64;
            sizes[index].1 += db.expires.len() as u64;
            db.snapshot_begin(index, encode);
        }
    }
    // The libraries and the offset at one instant (see `Functions::codes_and`).
    let (functions, repl_offset) = srv.scripts.functions.codes_and(|| srv.log.offset());
    let job = Job {
        kind,
        started: Instant::now(),
        dirty_at_start: srv.dirty.load(Relaxed),
        repl_offset,
        replid: srv.replid.read().clone(),
        path,
        compress,
        checksum,
        key_delay_us,
        sizes,
        functions: functions.iter().map(|c| c.to_vec()).collect(),
    };
    drop(hold);
    sv.keys_total.store(keys, Relaxed);
    sv.keys_processed.store(0, Relaxed);
    sv.peak_pending.store(0, Relaxed);
    sv.st.lock().started = Some(job.started);
    Ok(job)
}

/// The metadata Redis 7.0 writes with a key: its expire time, and its LRU idle time or LFU
/// counter when the eviction policy uses them (`META`: 0 none, 1 LRU, 2 LFU).
fn meta_of<const META: u8>(e: &Entry) -> KeyMeta {
    KeyMeta {
        expire_ms: (e.expire_at != 0).then_some(e.expire_at),
        lru_idle_secs: (META == 1)
            .then(|| u64::from(tern_keyspace::db::lru_clock().saturating_sub(e.lru))),
        lfu_freq: (META == 2).then(|| tern_keyspace::db::lfu::decayed(e.lfu, e.lfu_ldt)),
    }
}

/// One key as Redis's `rdbSaveKeyValuePair` writes it.
fn encode<const COMPRESS: bool, const META: u8>(out: &mut Vec<u8>, key: &[u8], e: &Entry) {
    encode_key_record(out, key, &e.value, meta_of::<META>(e), COMPRESS);
}

/// The encoder for the compression setting and the eviction policy's metadata.
fn encoder(compress: bool, policy: &str) -> tern_keyspace::EncodeFn {
    let meta = if policy.contains("lfu") {
        2
    } else if policy.contains("lru") {
        1
    } else {
        0
    };
    match (compress, meta) {
        (true, 0) => encode::<true, 0>,
        (true, 1) => encode::<true, 1>,
        (true, _) => encode::<true, 2>,
        (false, 0) => encode::<false, 0>,
        (false, 1) => encode::<false, 1>,
        (false, _) => encode::<false, 2>,
    }
}

/// Where records go: an RDB file, or an AOF base in command form.
enum Sink {
    Rdb(RdbFileWriter<File>),
    Stream(RdbFileWriter<Box<dyn std::io::Write + Send>>),
    Commands(std::io::BufWriter<File>),
}

/// The file being written, or nothing once a write failed (the walk still finishes so that
/// every Db leaves snapshot mode).
struct Out {
    w: Option<Sink>,
    err: Option<io::Error>,
    db: Option<usize>,
    sizes: Vec<(u64, u64)>,
}

impl Out {
    fn fail(&mut self, e: io::Error) {
        self.err.get_or_insert(e);
        self.w = None;
    }

    /// Writes records of database `index`, switching database first if needed.
    fn records(&mut self, index: usize, bytes: &[u8]) {
        use std::io::Write;
        if bytes.is_empty() {
            return;
        }
        let Some(w) = self.w.as_mut() else {
            return;
        };
        let switch = self.db != Some(index);
        self.db = Some(index);
        let (keys, expires) = self.sizes.get(index).copied().unwrap_or_default();
        let select = switch.then_some((index as u64, keys, expires));
        let r = match w {
            Sink::Rdb(w) => rdb_records(w, select, bytes),
            Sink::Stream(w) => rdb_records(w, select, bytes),
            Sink::Commands(w) => {
                let mut sel = Vec::new();
                if switch {
                    crate::log::encode_select(&mut sel, index);
                }
                w.write_all(&sel).and_then(|()| w.write_all(bytes))
            }
        };
        if let Err(e) = r {
            self.fail(e);
        }
    }
}

/// Records into an RDB sink, after SELECTDB + RESIZEDB when `select` says the database changes.
fn rdb_records<W: std::io::Write>(
    w: &mut RdbFileWriter<W>,
    select: Option<(u64, u64, u64)>,
    bytes: &[u8],
) -> io::Result<()> {
    if let Some((db, keys, expires)) = select {
        w.select_db(db, keys, expires)?;
    }
    w.raw(bytes)
}

impl Job {
    /// Walks every Db, writes the file, renames it into place and records the outcome.
    fn run(mut self, srv: &Server) -> Result<(), SaveError> {
        let tmp = self.path.with_file_name(format!(
            "temp-{}-{}.rdb",
            std::process::id(),
            rand::random::<u32>()
        ));
        let mut out = Out {
            w: None,
            err: None,
            db: None,
            sizes: std::mem::take(&mut self.sizes),
        };
        let opts = FileOptions {
            version: RDB_VERSION_7_0,
            compress: self.compress,
            checksum: self.checksum,
        };
        let commands = matches!(self.kind, Kind::AofBase(_, _, false));
        match File::create(&tmp) {
            Ok(f) if commands => {
                let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
                // The libraries first, as FUNCTION LOAD commands (Redis's rewriteFunctions).
                let r = self.functions.iter().try_for_each(|code| {
                    use std::io::Write;
                    write!(
                        w,
                        "*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n${}\r\n",
                        code.len()
                    )?;
                    w.write_all(code)?;
                    w.write_all(b"\r\n")
                });
                match r {
                    Ok(()) => out.w = Some(Sink::Commands(w)),
                    Err(e) => out.fail(e),
                }
            }
            Ok(f) => match RdbFileWriter::new(f, opts)
                .and_then(|mut w| header(srv, &self, &mut w).map(|()| w))
            {
                Ok(w) => out.w = Some(Sink::Rdb(w)),
                Err(e) => out.fail(e),
            },
            Err(e) => out.fail(e),
        }
        walk(srv, &mut out, self.key_delay_us);
        let mut result = finish(out, &tmp, &self.path);
        let sv = &srv.saver;
        let secs = self.started.elapsed().as_secs() as i64;
        if let Kind::AofBase(name, seq, rdb) = &self.kind {
            if result.is_ok() && !name.is_empty() {
                let _ = seq;
                result = crate::aof::finish_rewrite(srv, name, *rdb);
            }
            let ok = result.is_ok();
            match &result {
                Ok(()) => {
                    srv.aof.rewrites.fetch_add(1, Relaxed);
                    tracing::info!("Background AOF rewrite finished successfully");
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    tracing::warn!("Background AOF rewrite failed: {e}");
                }
            }
            // As for an RDB save: whoever sees the rewrite over (INFO aof_rewrite_in_progress,
            // its status) can start the next save at once, so the saver is free first.
            srv.aof.last_rewrite_ok.store(ok, Relaxed);
            srv.aof.last_rewrite_secs.store(secs, Relaxed);
            sv.st.lock().started = None;
            sv.running
                .store(false, std::sync::atomic::Ordering::Release);
            srv.aof
                .rewrite_in_progress
                .store(false, std::sync::atomic::Ordering::Release);
            return result.map_err(SaveError::Io);
        }
        // Writes are refused (MISCONF) before anyone can see the failed status.
        srv.refresh_misconf_with(result.is_ok());
        match &result {
            Ok(()) => {
                let _ = srv.dirty.fetch_update(Relaxed, Relaxed, |d| {
                    Some(d.saturating_sub(self.dirty_at_start))
                });
                srv.lastsave.store(now_ms() / 1000, Relaxed);
                tracing::info!("DB saved on disk");
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                tracing::warn!("Failed saving the DB: {e}");
            }
        }
        // The status and the end of the save become visible together: whoever sees the
        // outcome (INFO, LASTSAVE) can start the next save at once.
        let mut st = sv.st.lock();
        st.started = None;
        st.last_time_sec = secs;
        st.last_cow = sv.peak_pending.load(Relaxed);
        match &result {
            Ok(()) => {
                st.last_ok = true;
                st.saves += 1;
            }
            Err(_) => {
                st.last_ok = false;
                st.last_try = now_ms() / 1000;
            }
        }
        sv.running.store(false, Relaxed);
        drop(st);
        result.map_err(SaveError::Io)
    }
}

/// The aux fields Redis 7.0 writes, then the function libraries.
fn header<W: std::io::Write>(srv: &Server, job: &Job, w: &mut RdbFileWriter<W>) -> io::Result<()> {
    w.standard_aux(&StandardAux {
        redis_ver: crate::server::REDIS_VERSION,
        redis_bits: 64,
        ctime: now_ms() / 1000,
        used_mem: crate::families::info::used_memory() as i64,
        repl: Some(ReplAux {
            stream_db: 0,
            repl_id: &job.replid,
            repl_offset: job.repl_offset as i64,
        }),
        aof_base: matches!(job.kind, Kind::AofBase(..)),
    })?;
    for code in &job.functions {
        w.function(code)?;
    }
    let _ = srv;
    Ok(())
}

/// Visits every shard until none of its Dbs is still in the snapshot, then the orphans.
fn walk(srv: &Server, out: &mut Out, key_delay_us: u64) {
    let ks: &Keyspace = &srv.keyspace;
    let sv = &srv.saver;
    let mut buf = Vec::with_capacity(1 << 16);
    for i in 0..ks.shard_count() {
        loop {
            let (index, n) = {
                let mut g = ks.lock(i);
                let Some(db) = g.dbs.iter_mut().find(|d| d.snapshot().is_some()) else {
                    break;
                };
                let index = db.snapshot().map_or(0, |s| s.index);
                let batch = if key_delay_us > 0 { SLOW_BATCH } else { BATCH };
                let (n, _) = db.snapshot_step(&mut buf, batch);
                (index, n)
            };
            out.records(index, &buf);
            buf.clear();
            sv.keys_processed.fetch_add(n, Relaxed);
            if key_delay_us > 0 && n > 0 {
                std::thread::sleep(std::time::Duration::from_micros(key_delay_us * n));
            }
            let pending = sv.current_pending();
            sv.peak_pending.fetch_max(pending, Relaxed);
            if pending > DRAIN_AT {
                drain_all(ks, out, &mut buf, sv);
            }
        }
    }
    // Dbs flushed away mid-save: nobody else can reach them now.
    let orphans = std::mem::take(&mut *sv.orphans.lock());
    for mut db in orphans {
        while db.snapshot().is_some() {
            let index = db.snapshot().map_or(0, |s| s.index);
            let (n, _) = db.snapshot_step(&mut buf, 4096);
            out.records(index, &buf);
            buf.clear();
            sv.keys_processed.fetch_add(n, Relaxed);
        }
    }
}

/// Takes the records that writes serialized ahead of the walker out of every shard.
fn drain_all(ks: &Keyspace, out: &mut Out, buf: &mut Vec<u8>, sv: &Saver) {
    for i in 0..ks.shard_count() {
        let mut taken: Vec<(usize, Vec<u8>)> = Vec::new();
        {
            let mut g = ks.lock(i);
            for db in g.dbs.iter_mut() {
                let Some(index) = db.snapshot().map(|s| s.index) else {
                    continue;
                };
                let (n, _) = db.snapshot_step(buf, 0);
                sv.keys_processed.fetch_add(n, Relaxed);
                if !buf.is_empty() {
                    taken.push((index, std::mem::take(buf)));
                }
            }
        }
        for (index, bytes) in taken {
            out.records(index, &bytes);
        }
    }
}

/// EOF, checksum, fsync, and the atomic rename over the old file.
fn finish(out: Out, tmp: &Path, path: &Path) -> io::Result<()> {
    if let Some(e) = out.err {
        return Err(e);
    }
    let file = match out.w {
        Some(Sink::Rdb(w)) => w.finish()?,
        Some(Sink::Commands(w)) => w.into_inner().map_err(|e| e.into_error())?,
        Some(Sink::Stream(_)) => return Err(io::Error::other("a stream has no file")),
        None => return Err(io::Error::other("no file")),
    };
    file.sync_all()?;
    drop(file);
    std::fs::rename(tmp, path)?;
    if let Some(dir) = path.parent() {
        crate::aof::sync_dir(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        });
    }
    Ok(())
}

/// Used by tests and DEBUG: the number of snapshots running Dbs still hold (0 when idle).
pub fn running_dbs(ks: &Keyspace) -> usize {
    (0..ks.shard_count())
        .map(|i| {
            ks.lock(i)
                .dbs
                .iter()
                .filter(|d| d.snapshot().is_some())
                .count()
        })
        .sum()
}
