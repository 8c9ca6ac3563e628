//! Loading the dataset at start-up (and for DEBUG RELOAD): an RDB file, or the AOF's base and
//! incremental files. The server does not accept connections until loading ends, and never
//! starts half-loaded: a file that cannot be read completely stops start-up with the offset of
//! the problem, unless the configuration says to load what is valid (`aof-load-truncated` for
//! the AOF's tail, `rdb-load-truncated` for an RDB file cut short).

use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tern_keyspace::{Entry, Keyspace};
use tern_persist::rdb::file::{RdbFileReader, RdbItem};

use crate::server::{now_ms, Server};

/// What a load found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Keys inserted.
    pub keys: u64,
    /// Keys skipped because their expire time had passed.
    pub expired: u64,
    /// Bytes read.
    pub bytes: u64,
    /// The replication id and offset recorded in the file's aux fields.
    pub repl: Option<(String, u64)>,
    /// Function libraries found (their code).
    pub functions: Vec<Vec<u8>>,
    /// The file was cut short and only its valid prefix was loaded.
    pub truncated_at: Option<usize>,
}

/// Why a load failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not a valid RDB file at `offset`.
    #[error("{what} at offset {offset}: {detail}")]
    Bad {
        /// "Short read" (truncated) or "Bad data format" (corrupt) or a checksum message.
        what: &'static str,
        /// Byte offset of the item that could not be read.
        offset: usize,
        /// The reader's message.
        detail: String,
    },
    /// The file needs more databases than `databases` allows.
    #[error("Data file was created with a Redis server configured to handle more than {0} databases. Exiting")]
    TooManyDbs(usize),
}

/// Loads an RDB file into the (empty) keyspace.
pub fn load_rdb_file(
    srv: &Server,
    path: &Path,
    allow_truncated: bool,
) -> Result<Loaded, LoadError> {
    let file = std::fs::File::open(path)?;
    // SAFETY: the file is opened read-only and only read through this map; a concurrent
    // truncation by another process would fault, as reading a file under a writer can.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    load_rdb_bytes(srv, &map, allow_truncated, &path.display().to_string())
}

/// Loads RDB bytes (a file, an AOF base with an RDB preamble, or a replica's transfer).
pub fn load_rdb_bytes(
    srv: &Server,
    bytes: &[u8],
    allow_truncated: bool,
    name: &str,
) -> Result<Loaded, LoadError> {
    let ks: &Keyspace = &srv.keyspace;
    let out = read_rdb(
        bytes,
        allow_truncated,
        true,
        name,
        ks.databases(),
        &mut |db, key, e| {
            let h = Keyspace::hash(key);
            ks.lock(ks.shard_of(h)).dbs[db].insert(h, key, e);
        },
        &mut |db, keys, expires| {
            let n = ks.shard_count() as u64;
            for i in 0..ks.shard_count() {
                let mut g = ks.lock(i);
                g.dbs[db].keys.reserve((keys / n) as usize);
                g.dbs[db].expires.reserve((expires / n) as usize);
            }
        },
    )?;
    srv.saver.record_load(out.keys, out.expired);
    Ok(out)
}

/// Loads RDB bytes into new databases, without touching the keyspace: one `Vec<Db>` per
/// shard, laid out as the keyspace's, to be swapped in at once (a replica's full sync).
pub fn load_rdb_aside(
    srv: &Server,
    bytes: &[u8],
    name: &str,
) -> Result<(Vec<Vec<tern_keyspace::Db>>, Loaded), LoadError> {
    let ks: &Keyspace = &srv.keyspace;
    let shards: std::cell::RefCell<Vec<Vec<tern_keyspace::Db>>> = std::cell::RefCell::new(
        (0..ks.shard_count())
            .map(|_| (0..ks.databases()).map(|_| Default::default()).collect())
            .collect(),
    );
    // A replica keeps keys that are already expired: its primary's DELs remove them.
    let out = read_rdb(
        bytes,
        false,
        false,
        name,
        ks.databases(),
        &mut |db, key, e| {
            let h = Keyspace::hash(key);
            shards.borrow_mut()[ks.shard_of(h)][db].insert(h, key, e);
        },
        &mut |db, keys, expires| {
            let n = ks.shard_count() as u64;
            for s in shards.borrow_mut().iter_mut() {
                s[db].keys.reserve((keys / n) as usize);
                s[db].expires.reserve((expires / n) as usize);
            }
        },
    )?;
    Ok((shards.into_inner(), out))
}

/// Reads an RDB image, handing each live key to `insert(db, key, entry)`.
fn read_rdb(
    bytes: &[u8],
    allow_truncated: bool,
    drop_expired: bool,
    name: &str,
    databases: usize,
    insert: &mut dyn FnMut(usize, &[u8], Entry),
    reserve: &mut dyn FnMut(usize, u64, u64),
) -> Result<Loaded, LoadError> {
    let started = Instant::now();
    let mut out = Loaded {
        bytes: bytes.len() as u64,
        ..Default::default()
    };
    let mut r = RdbFileReader::new(bytes).map_err(|e| bad(&e))?;
    let now = now_ms();
    let mut db = 0usize;
    let mut last_report = Instant::now();
    let mut repl_id = None;
    let mut repl_offset = None;
    loop {
        let item = match r.next() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) if e.is_truncation() && allow_truncated => {
                tracing::warn!(
                    "Short read loading {name} at offset {}: {e}. Loaded the valid part because truncated loading is enabled.",
                    e.offset
                );
                out.truncated_at = Some(e.offset);
                break;
            }
            Err(e) => return Err(bad(&e)),
        };
        match item {
            RdbItem::SelectDb(n) => {
                if n as usize >= databases {
                    return Err(LoadError::TooManyDbs(databases));
                }
                db = n as usize;
            }
            RdbItem::Aux { key, value } => match &key[..] {
                b"repl-id" => repl_id = Some(String::from_utf8_lossy(&value).into_owned()),
                b"repl-offset" => {
                    repl_offset = std::str::from_utf8(&value)
                        .ok()
                        .and_then(|s| s.parse().ok())
                }
                _ => {}
            },
            RdbItem::Function(code) => out.functions.push(code.into_owned()),
            RdbItem::Key { key, value, meta } => {
                let expire_at = meta.expire_ms.unwrap_or(0);
                if drop_expired && expire_at != 0 && expire_at < now {
                    out.expired += 1;
                    continue;
                }
                let mut e = Entry::new(value);
                e.expire_at = expire_at;
                if let Some(idle) = meta.lru_idle_secs {
                    e.lru = tern_keyspace::db::lru_clock()
                        .saturating_sub(idle.min(u32::MAX as u64) as u32);
                }
                if let Some(freq) = meta.lfu_freq {
                    e.lfu = freq;
                }
                insert(db, &key, e);
                out.keys += 1;
                if out.keys.is_multiple_of(1024) && last_report.elapsed() >= Duration::from_secs(1)
                {
                    last_report = Instant::now();
                    let pos = r.position();
                    tracing::info!(
                        "Loading {name}: {} keys, {:.1} MB of {:.1} MB ({:.0}%)",
                        out.keys,
                        pos as f64 / 1e6,
                        bytes.len() as f64 / 1e6,
                        100.0 * pos as f64 / bytes.len().max(1) as f64
                    );
                }
            }
            RdbItem::ResizeDb { keys, expires } => {
                // The sizes are hints from the file: never reserve for more entries than the
                // bytes left could hold (a key record takes at least 3 bytes), so a corrupt
                // hint cannot ask for gigabytes (found by fuzzing).
                let fit = bytes.len().saturating_sub(r.position()) as u64 / 3;
                reserve(db, keys.min(fit), expires.min(fit))
            }
            RdbItem::SlotInfo { .. } => {}
        }
    }
    if let (Some(id), Some(off)) = (repl_id, repl_offset) {
        out.repl = Some((id, off));
    }
    tracing::info!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        out.keys,
        out.expired
    );
    tracing::info!(
        "DB loaded from disk: {:.3} seconds",
        started.elapsed().as_secs_f64()
    );
    Ok(out)
}

fn bad(e: &tern_persist::rdb::RdbError) -> LoadError {
    use tern_persist::rdb::ErrorClass;
    let what = match e.class() {
        ErrorClass::Truncated => "Short read or OOM loading DB. Unrecoverable error, aborting now",
        ErrorClass::Checksum => "Wrong RDB checksum. Aborting now",
        _ => "Bad data format loading DB. Unrecoverable error, aborting now",
    };
    LoadError::Bad {
        what,
        offset: e.offset,
        detail: e.to_string(),
    }
}

/// Loads what is on disk at start-up, as Redis's `loadDataFromDisk`: the AOF when
/// `appendonly yes`, otherwise the RDB file if there is one.
pub fn load_at_startup(srv: &std::sync::Arc<Server>) -> anyhow::Result<()> {
    let (aof_on, rdb_truncated) = {
        let c = srv.config.read();
        (
            c.appendonly(),
            c.get_bool("rdb-load-truncated").unwrap_or(false),
        )
    };
    if aof_on {
        let layout = crate::aof_load::load(srv)?;
        crate::aof::start(srv, layout)?;
        return Ok(());
    }
    let path = crate::snapshot::rdb_path(srv);
    if !path.exists() {
        return Ok(());
    }
    match load_rdb_file(srv, &path, rdb_truncated) {
        Ok(l) => {
            load_functions(srv, &l.functions);
            // The replication history continues where the snapshot was taken, so replicas
            // (and, as a replica, our primary) can resume with a partial resync.
            if let Some((id, off)) = l.repl.filter(|(id, _)| id.len() == 40) {
                *srv.replid.write() = id;
                srv.log.reset(off);
            }
            Ok(())
        }
        Err(e) => {
            tracing::error!("{e} ({})", path.display());
            Err(anyhow::anyhow!("{e} ({})", path.display()))
        }
    }
}

/// Registers function libraries read from a file (a library of the same name is replaced).
pub fn load_functions(srv: &Server, libs: &[Vec<u8>]) {
    for code in libs {
        if let Err(e) = srv.scripts.functions.load_code(code, true) {
            tracing::warn!("a function library in the file was not loaded: {e}");
        }
    }
}

/// Replaces every function library with `libs` (a replica's full sync: the primary's
/// libraries, no others, as Redis's emptyData drops them before loading).
pub fn replace_functions(srv: &Server, libs: &[Vec<u8>]) {
    srv.scripts.functions.flush(|| {});
    load_functions(srv, libs);
}

/// Empties the keyspace (DEBUG RELOAD, a replica's full sync).
pub fn clear_keyspace(srv: &Server) {
    let ks = &srv.keyspace;
    let mut guards = ks.lock_all();
    for g in guards.iter_mut() {
        for d in g.dbs.iter_mut() {
            d.clear();
        }
    }
    srv.db_changed(None);
    srv.dirty.store(0, Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_resizedb_hint_is_not_reserved() {
        // RESIZEDB announcing 2^32-1 keys and 1.3 billion expires, then the end of the file:
        // loading it used to reserve tables for all of them (a fuzzer's out-of-memory).
        let mut rdb = b"REDIS0010".to_vec();
        rdb.extend_from_slice(&[0xfe, 0x00, 0xfb, 0x80, 0xff, 0xff, 0xff, 0xff]);
        rdb.extend_from_slice(&[0x80, 0x50, 0x40, 0x04, 0x6d, 0xff]);
        rdb.extend_from_slice(&[0; 8]);
        let srv = crate::testkit::TestDb::new().srv;
        let before = crate::families::info::used_memory();
        let loaded = load_rdb_bytes(&srv, &rdb, false, "test").unwrap();
        assert_eq!(loaded.keys, 0);
        let after = crate::families::info::used_memory();
        assert!(after < before + (64 << 20), "{before} -> {after}");
        let (_, loaded) = load_rdb_aside(&srv, &rdb, "test").unwrap();
        assert_eq!(loaded.keys, 0);
    }
}
