//! The append-only file: Redis 7's multi-part layout (a base file, incremental files and a
//! manifest in `appenddirname`), written from the replication log's byte stream.
//!
//! The AOF is not a second copy of the write path: [`crate::log::ReplLog`] copies every byte it
//! appends into an AOF buffer in the same critical section, so the AOF holds exactly the
//! replication stream (SELECTs, MULTI/EXEC, deterministic forms), in the order writes were
//! applied. Making it durable works like Redis's `beforeSleep`: before a connection writes
//! replies to commands that wrote, it makes sure the AOF holds everything up to the log offset
//! its writes reached ([`before_reply`]). The first connection to get there writes the whole
//! buffer (everyone's writes: group commit) and, with `appendfsync always`, fsyncs it; the
//! others find their offset already covered. With `everysec` a background thread fsyncs once a
//! second; with `no` the kernel decides. So an acknowledged write is in the file (and with
//! `always` on disk) before its reply leaves, and a `kill -9` never loses it.
//!
//! A failed write (full disk) is retried; meanwhile writes are refused with MISCONF and the
//! replies of the writes that were not written wait until a retry succeeds: never an
//! acknowledgement for data that is not in the file.
//!
//! Rewrites (BGREWRITEAOF, automatic growth) take a point-in-time snapshot (`snapshot.rs`) as
//! the new base; at the snapshot's instant, with every shard held, a new incremental file
//! starts, so base + new incr is exactly the dataset.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tern_persist::aof::{BaseFormat, Manifest};

use crate::server::Server;

/// `appendfsync` as a number.
pub mod fsync {
    /// Fsync after every write, before replies.
    pub const ALWAYS: u8 = 0;
    /// Fsync once a second from a background thread.
    pub const EVERYSEC: u8 = 1;
    /// Never fsync; the kernel flushes.
    pub const NO: u8 = 2;
}

/// AOF state shared by connections, the cron and INFO.
pub struct Aof {
    on: AtomicBool,
    /// Log offset up to which the stream is written to the current incr file.
    written: AtomicU64,
    /// The `ReplLog::aof_only_count` the AOF holds (a writable replica's own writes).
    aof_only_written: AtomicU64,
    /// `appendfsync`.
    mode: AtomicU8,
    /// The last write or fsync failed.
    write_err: AtomicBool,
    /// The error text of the last failure (MISCONF reply).
    pub last_error: Mutex<String>,
    file: Mutex<Option<Current>>,
    /// Number of completed rewrites.
    pub rewrites: AtomicU64,
    /// A rewrite is running.
    pub rewrite_in_progress: AtomicBool,
    /// A rewrite waits for the running save to end.
    pub rewrite_scheduled: AtomicBool,
    /// Size of the base file after the last rewrite (for auto rewrite).
    pub base_size: AtomicU64,
    /// Base + incr bytes now.
    pub current_size: AtomicU64,
    /// Duration of the last rewrite, seconds.
    pub last_rewrite_secs: std::sync::atomic::AtomicI64,
    /// The last rewrite succeeded.
    pub last_rewrite_ok: AtomicBool,
}

impl Default for Aof {
    fn default() -> Aof {
        Aof {
            on: AtomicBool::new(false),
            written: AtomicU64::new(0),
            aof_only_written: AtomicU64::new(0),
            mode: AtomicU8::new(fsync::EVERYSEC),
            write_err: AtomicBool::new(false),
            last_error: Mutex::new(String::new()),
            file: Mutex::new(None),
            rewrites: AtomicU64::new(0),
            rewrite_in_progress: AtomicBool::new(false),
            rewrite_scheduled: AtomicBool::new(false),
            base_size: AtomicU64::new(0),
            current_size: AtomicU64::new(0),
            last_rewrite_secs: std::sync::atomic::AtomicI64::new(-1),
            last_rewrite_ok: AtomicBool::new(true),
        }
    }
}

/// The incr file being appended to.
struct Current {
    file: File,
    /// Bytes in the file known to be good (a failed write is truncated back to this).
    size: u64,
    /// Bytes taken from the log but not yet written (kept across a failed write).
    pending: Vec<u8>,
    /// Log offset at which the file was last fsynced.
    synced: u64,
}

/// The AOF directory: where it is, the file name prefix, and its manifest (Redis 7's format,
/// parsed and written by `tern_persist::aof::Manifest`).
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// `appenddirname` under `dir`.
    pub dir: PathBuf,
    /// `appendfilename`.
    pub prefix: String,
    /// The manifest: base, incremental and history files.
    pub m: Manifest,
}

/// The base format `aof-use-rdb-preamble` asks for.
pub fn base_format(rdb: bool) -> BaseFormat {
    if rdb {
        BaseFormat::Rdb
    } else {
        BaseFormat::Aof
    }
}

impl Layout {
    /// Writes the manifest atomically.
    pub fn persist(&self) -> io::Result<()> {
        self.m.persist(&self.dir, &self.prefix)
    }

    /// The name the next base file gets.
    pub fn next_base(&self, rdb: bool) -> String {
        tern_persist::aof::manifest::base_name(
            &self.prefix,
            self.m.curr_base_seq + 1,
            base_format(rdb),
        )
    }
}

/// Fsyncs a directory so that a rename in it is durable.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The layout the config names (without reading the directory).
pub fn configured_layout(srv: &Server) -> Layout {
    let c = srv.config.read();
    Layout {
        dir: c.dir().join(c.appenddirname()),
        prefix: c.appendfilename(),
        m: Manifest::new(),
    }
}

fn mode_of(name: &str) -> u8 {
    match name {
        "always" => fsync::ALWAYS,
        "no" => fsync::NO,
        _ => fsync::EVERYSEC,
    }
}

impl Aof {
    /// True while the AOF is written.
    #[inline]
    pub fn on(&self) -> bool {
        self.on.load(Relaxed)
    }

    /// The log offset written to the file so far.
    #[inline]
    pub fn written(&self) -> u64 {
        self.written.load(Relaxed)
    }

    /// The last write failed: writes are refused with MISCONF.
    pub fn failing(&self) -> bool {
        self.write_err.load(Relaxed)
    }

    /// Re-reads `appendfsync` (CONFIG SET).
    pub fn refresh_mode(&self, srv: &Server) {
        self.mode
            .store(mode_of(srv.config.read().appendfsync()), Relaxed);
    }

    /// The `appendfsync` policy as a number.
    pub fn mode(&self) -> u8 {
        self.mode.load(Relaxed)
    }

    /// Writes the log's AOF bytes up to at least `need` to the current file (and fsyncs them
    /// with `appendfsync always`). Whoever gets the file lock first writes everyone's bytes.
    pub fn flush_to(&self, srv: &Server, need: u64) -> io::Result<()> {
        let done = || {
            self.written() >= need
                && self.aof_only_written.load(Relaxed) >= srv.log.aof_only_count()
        };
        if done() {
            return Ok(());
        }
        let mut g = self.file.lock();
        if done() {
            return Ok(());
        }
        let Some(cur) = g.as_mut() else {
            return Ok(());
        };
        let (offset, aof_only) = srv.log.aof_take(&mut cur.pending);
        let always = self.mode() == fsync::ALWAYS;
        let result = write_pending(cur).and_then(|()| {
            if always {
                cur.file.sync_data()?;
                cur.synced = offset;
            }
            Ok(())
        });
        match result {
            Ok(()) => {
                self.written.store(offset, Relaxed);
                self.aof_only_written.store(aof_only, Relaxed);
                if self.write_err.swap(false, Relaxed) {
                    tracing::warn!("AOF write error looks solved. Redis can write again.");
                    srv.refresh_misconf();
                }
                self.current_size
                    .store(cur.size + self.base_size.load(Relaxed), Relaxed);
                Ok(())
            }
            Err(e) => {
                if !self.write_err.swap(true, Relaxed) {
                    tracing::warn!("Error writing to the AOF file: {e}");
                }
                *self.last_error.lock() = strerror(&e);
                srv.refresh_misconf();
                Err(e)
            }
        }
    }

    /// Fsyncs the current file if the last fsync is behind what was written (everysec).
    fn fsync_now(&self) -> io::Result<()> {
        let mut g = self.file.lock();
        let Some(cur) = g.as_mut() else {
            return Ok(());
        };
        let written = self.written();
        if cur.synced < written {
            cur.file.sync_data()?;
            cur.synced = written;
        }
        Ok(())
    }
}

/// The C library's text for an I/O error (what Redis prints), without Rust's "(os error N)".
pub fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Writes `cur.pending` to the end of the file; on failure the file is cut back to its last
/// good size, so it never ends in half a command, and the bytes stay pending for a retry.
fn write_pending(cur: &mut Current) -> io::Result<()> {
    if cur.pending.is_empty() {
        return Ok(());
    }
    match cur.file.write_all(&cur.pending) {
        Ok(()) => {
            cur.size += cur.pending.len() as u64;
            cur.pending.clear();
            if cur.pending.capacity() > 1 << 20 {
                cur.pending = Vec::new();
            }
            Ok(())
        }
        Err(e) => {
            let _ = cur.file.set_len(cur.size);
            use std::io::Seek;
            let _ = cur.file.seek(io::SeekFrom::Start(cur.size));
            Err(e)
        }
    }
}

/// Before replies to writes leave: waits until the AOF holds everything up to `need` (the
/// log offset this client's writes reached), retrying while the disk refuses.
pub async fn before_reply(srv: &Server, need: u64) {
    loop {
        if srv.aof.flush_to(srv, need).is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens an incr file for appending; returns it and its size.
fn open_path(path: &Path) -> io::Result<(File, u64)> {
    let f = OpenOptions::new().create(true).append(true).open(path)?;
    let size = f.metadata()?.len();
    Ok((f, size))
}

/// Turns the AOF on at start-up (after the dataset was loaded): uses the layout found on
/// disk, or creates the directory with a base file of the current dataset, then opens a new
/// incremental file at the current log offset.
pub fn start(srv: &Arc<Server>, mut layout: Layout) -> io::Result<()> {
    std::fs::create_dir_all(&layout.dir)?;
    srv.aof.refresh_mode(srv);
    if layout.m.base.is_none() {
        // Like Redis 7.0 at start-up with no AOF: the base is the dataset now (loaded from
        // nothing, as Redis does not read the RDB when appendonly is on).
        let rdb = srv
            .config
            .read()
            .get_bool("aof-use-rdb-preamble")
            .unwrap_or(true);
        let name = layout.next_base(rdb);
        tracing::info!("Creating AOF base file {name} on server start");
        crate::snapshot::write_aof_base(srv, &layout.dir.join(&name), rdb)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let listed = layout
            .m
            .new_base(&layout.prefix, base_format(rdb))
            .name
            .clone();
        debug_assert_eq!(listed, name.as_bytes());
        layout.m.take_history();
    }
    // Appends continue in the last incr file, as Redis 7.0 does; a new one only when none.
    if layout.m.last_incr().is_none() {
        let name = layout.m.new_incr(&layout.prefix).name_lossy();
        tracing::info!("Creating AOF incr file {name} on server start");
    }
    let last = layout
        .m
        .last_incr()
        .expect("an incr file")
        .path(&layout.dir);
    let (file, size) = open_path(&last)?;
    layout.persist()?;
    let base_size = layout
        .m
        .base
        .as_ref()
        .and_then(|b| std::fs::metadata(b.path(&layout.dir)).ok())
        .map_or(0, |m| m.len());
    srv.aof.base_size.store(base_size, Relaxed);
    srv.aof.current_size.store(base_size + size, Relaxed);
    {
        let mut g = srv.aof.file.lock();
        let offset = srv.log.aof_switch(|_, _| {});
        *g = Some(Current {
            file,
            size,
            pending: Vec::new(),
            synced: offset,
        });
        srv.aof.written.store(offset, Relaxed);
    }
    *srv.aof_layout.lock() = layout;
    srv.aof.on.store(true, Relaxed);
    spawn_fsync_thread(srv);
    Ok(())
}

/// CONFIG SET appendonly: starts the AOF (a base of the dataset now, then a new incr file)
/// or stops it (everything written so far is flushed and fsynced).
pub fn set_enabled(srv: &Server, on: bool) -> io::Result<()> {
    if on == srv.aof.on() {
        return Ok(());
    }
    if on {
        let Some(arc) = srv.saver.server() else {
            return Err(io::Error::other("server is going away"));
        };
        let mut layout = configured_layout(srv);
        // The files of an earlier AOF are replaced by a new base of the dataset now; their
        // sequence numbers go on, so no new file takes an old one's name.
        let manifest = layout
            .dir
            .join(tern_persist::aof::manifest::manifest_name(&layout.prefix));
        if let Ok(m) = std::fs::read(&manifest)
            .map_err(|_| ())
            .and_then(|t| Manifest::parse(&t).map_err(|_| ()))
        {
            layout.m = m;
            for f in layout.m.files_to_load() {
                let _ = std::fs::remove_file(f.path(&layout.dir));
            }
            layout.m.base = None;
            layout.m.incr.clear();
        }
        return start(&arc, layout);
    }
    srv.aof.on.store(false, Relaxed);
    let rest = srv.log.aof_stop();
    let mut g = srv.aof.file.lock();
    if let Some(cur) = g.as_mut() {
        cur.pending.extend_from_slice(&rest);
        write_pending(cur)?;
        cur.file.sync_data()?;
    }
    *g = None;
    Ok(())
}

/// The everysec fsync (and the writer of stream bytes no client waits for, such as expiry
/// DELs): once a second.
fn spawn_fsync_thread(srv: &Arc<Server>) {
    let weak = Arc::downgrade(srv);
    let _ = std::thread::Builder::new()
        .name("tern-aof-fsync".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
            let Some(srv) = weak.upgrade() else { return };
            if !srv.aof.on() {
                continue;
            }
            let need = srv.log.published_offset();
            if srv.aof.flush_to(&srv, need).is_err() {
                continue;
            }
            if srv.aof.mode() == fsync::EVERYSEC {
                if let Err(e) = srv.aof.fsync_now() {
                    tracing::warn!("Error fsyncing the AOF: {e}");
                }
            }
        });
}

/// Called with every shard held at a rewrite's snapshot instant: the old incr file gets
/// everything before the instant (fsynced), and a new incr file takes everything after.
pub fn switch_incr(srv: &Server, layout: &mut Layout) -> io::Result<()> {
    let mut m = layout.m.clone();
    let path = m.start_rewrite(&layout.prefix).path(&layout.dir);
    let (file, size) = open_path(&path)?;
    let mut g = srv.aof.file.lock();
    let mut result = Ok(());
    let offset = srv.log.aof_switch(|old, _| {
        if let Some(cur) = g.as_mut() {
            cur.pending.extend_from_slice(&old);
            result = write_pending(cur).and_then(|()| cur.file.sync_data());
        }
    });
    result?;
    *g = Some(Current {
        file,
        size,
        pending: Vec::new(),
        synced: offset,
    });
    srv.aof.written.store(offset, Relaxed);
    layout.m = m;
    layout.persist()
}

/// After a rewrite's base is written (as `name`): the manifest names the new base and the
/// incr file opened at the snapshot's instant; the older files become history and are deleted.
pub fn finish_rewrite(srv: &Server, name: &str, rdb: bool) -> io::Result<()> {
    let mut layout = srv.aof_layout.lock();
    let mut m = layout.m.clone();
    let listed = m.finish_rewrite(&layout.prefix, base_format(rdb), srv.aof.on());
    if listed != name.as_bytes() {
        return Err(io::Error::other(format!(
            "rewrite wrote {name} but the manifest expects {}",
            String::from_utf8_lossy(&listed)
        )));
    }
    m.persist(&layout.dir, &layout.prefix)?;
    let history = m.take_history();
    layout.m = m;
    for f in history {
        let _ = std::fs::remove_file(f.path(&layout.dir));
    }
    layout.persist()?;
    let size = std::fs::metadata(layout.dir.join(name)).map_or(0, |m| m.len());
    srv.aof.base_size.store(size, Relaxed);
    Ok(())
}

/// Called from the cron: starts a scheduled rewrite, or an automatic one when the AOF grew by
/// `auto-aof-rewrite-percentage` over its base and is over `auto-aof-rewrite-min-size`.
pub fn cron(srv: &Server) {
    if srv.saver.in_progress() {
        return;
    }
    if srv.aof.rewrite_scheduled.swap(false, Relaxed) {
        if let Err(e) = crate::snapshot::bgrewriteaof(srv) {
            tracing::warn!("Can't rewrite append only file in background: {e}");
        }
        return;
    }
    if !srv.aof.on() {
        return;
    }
    let (perc, min) = {
        let c = srv.config.read();
        (
            c.get_u64("auto-aof-rewrite-percentage").unwrap_or(100),
            c.get_u64("auto-aof-rewrite-min-size").unwrap_or(64 << 20),
        )
    };
    let size = srv.aof.current_size.load(Relaxed);
    if perc == 0 || size < min {
        return;
    }
    let base = srv.aof.base_size.load(Relaxed).max(1);
    let growth = (size * 100 / base).saturating_sub(100);
    if growth >= perc {
        tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
        if let Err(e) = crate::snapshot::bgrewriteaof(srv) {
            tracing::warn!("Can't rewrite append only file in background: {e}");
        }
    }
}

/// Items per command in an AOF-format base (Redis's AOF_REWRITE_ITEMS_PER_CMD).
const ITEMS_PER_CMD: usize = 64;

/// One key as commands, as Redis's `rewriteAppendOnlyFileRio` writes a base file in AOF format
/// (`aof-use-rdb-preamble no`): SET, RPUSH, SADD, ZADD or HMSET in batches of 64 items, then
/// PEXPIREAT for a key with a TTL.
pub fn encode_key_commands(out: &mut Vec<u8>, key: &[u8], e: &tern_keyspace::Entry) {
    use crate::log::encode_command;
    use tern_keyspace::Value;
    fn batches(out: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: &[Vec<u8>], per: usize) {
        for chunk in items.chunks(per) {
            let mut argv: Vec<&[u8]> = Vec::with_capacity(chunk.len() + 2);
            argv.push(cmd);
            argv.push(key);
            argv.extend(chunk.iter().map(|v| v.as_slice()));
            encode_command(out, &argv);
        }
    }
    let mut items: Vec<Vec<u8>> = Vec::new();
    match &e.value {
        Value::Str(s) => s.with_bytes(|b| encode_command(out, &[b"SET", key, b])),
        Value::List(l) => {
            l.for_each(|x| items.push(x.to_vec()));
            batches(out, b"RPUSH", key, &items, ITEMS_PER_CMD);
        }
        Value::Set(s) => {
            s.for_each(|m| items.push(m.to_vec()));
            batches(out, b"SADD", key, &items, ITEMS_PER_CMD);
        }
        Value::ZSet(z) => {
            z.for_each(|m, score| {
                items.push(tern_resp::reply::format_double(score).into_bytes());
                items.push(m.to_vec());
            });
            batches(out, b"ZADD", key, &items, 2 * ITEMS_PER_CMD);
        }
        Value::Hash(h) => {
            h.for_each(|f, v| {
                items.push(f.with_bytes(|b| b.to_vec()));
                items.push(v.with_bytes(|b| b.to_vec()));
            });
            batches(out, b"HMSET", key, &items, 2 * ITEMS_PER_CMD);
        }
    }
    if e.expire_at != 0 {
        let ms = e.expire_at.to_string();
        encode_command(out, &[b"PEXPIREAT", key, ms.as_bytes()]);
    }
}
