//! DEBUG: the testing aids Redis's test suite and replication checks lean on: SLEEP,
//! SET-ACTIVE-EXPIRE, OBJECT, DIGEST, DIGEST-VALUE, CHANGE-REPL-ID, LOG, ERROR, POPULATE, HELP.
//!
//! Digests follow Redis's scheme so that a tern dataset and a Redis dataset holding the same
//! data have the same DEBUG DIGEST. For each key: start from 20 zero bytes, mix in the key,
//! mix in the value type and the value, and xor SHA1("!!expire!!") if the key has a TTL. For
//! the dataset: per non-empty database, mix in the database number, then xor in the SHA1 of
//! every key's digest (so key order does not matter). "Mix" xors SHA1(data) into the digest and replaces
//! the digest by its own SHA1.
//!
//! DEBUG is allowed as `enable-debug-command` says (tern's default is `yes`).

use crate::args::{self, is};
use crate::ctx::Ctx;
use crate::errors::{CmdError, CmdResult};
use crate::families::client::is_local;
use crate::families::command::reply_help;
use crate::server::random_hex40;
use crate::table::{flags::*, CommandTable, Group, Spec};
use sha1::{Digest, Sha1};
use std::sync::atomic::Ordering::Relaxed;
use tern_keyspace::{Entry, Str, Value};

/// Registers DEBUG.
pub fn register(t: &mut CommandTable) {
    t.add(
        Spec::new("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE)
            .group(Group::Server)
            .doc("1.0.0", "A container for debugging commands")
            .handler(debug),
    );
}

const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is \
     set to \"local\", you can run it from a local connection, otherwise you need to set this \
     option in the configuration file, and then restart the server.";

/// A SHA1-sized digest.
pub type Digest20 = [u8; 20];

/// Xors SHA1(data) into the digest.
pub fn xor_digest(d: &mut Digest20, data: &[u8]) {
    let h = Sha1::digest(data);
    for (a, b) in d.iter_mut().zip(h.iter()) {
        *a ^= b;
    }
}

/// Xors SHA1(data) into the digest, then replaces the digest by its own SHA1, so that the order
/// of mixed-in items matters.
pub fn mix_digest(d: &mut Digest20, data: &[u8]) {
    xor_digest(d, data);
    let h = Sha1::digest(&d[..]);
    d.copy_from_slice(&h);
}

/// Redis's type numbers, as mixed into digests (string 0, list 1, set 2, zset 3, hash 4,
/// stream 6).
fn type_code(v: &Value) -> u32 {
    match v {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
    }
}

/// Mixes a value (and whether it has a TTL) into a key's digest.
fn mix_value(d: &mut Digest20, e: &Entry) {
    mix_digest(d, &type_code(&e.value).to_be_bytes());
    match &e.value {
        Value::Str(s) => s.with_bytes(|b| mix_digest(d, b)),
        Value::List(l) => super::list::digest(d, l),
        Value::Hash(h) => super::hash::digest(d, h),
        Value::Set(s) => super::set::digest(d, s),
        Value::ZSet(z) => super::zset::digest(d, z),
    }
    if e.expire_at != 0 {
        xor_digest(d, b"!!expire!!");
    }
}

/// The digest of one key and its value, as DEBUG DIGEST combines them.
fn key_digest(key: &[u8], e: &Entry) -> Digest20 {
    let mut d = [0u8; 20];
    mix_digest(&mut d, key);
    mix_value(&mut d, e);
    d
}

/// DEBUG DIGEST of the whole dataset: 40 zeros when it is empty. Shards are locked one at a
/// time; databases are combined afterwards in Redis's order.
pub fn dataset_digest(srv: &crate::server::Server) -> String {
    let ks = &srv.keyspace;
    let mut per_db = vec![([0u8; 20], false); ks.databases()];
    for i in 0..ks.shard_count() {
        let g = ks.lock(i);
        for (db, d) in g.dbs.iter().enumerate() {
            for (k, e) in d.keys.iter() {
                // Redis xors in the SHA1 of each key's digest, not the digest itself.
                xor_digest(&mut per_db[db].0, &key_digest(k, e));
                per_db[db].1 = true;
            }
        }
    }
    let mut fin = [0u8; 20];
    for (db, (acc, nonempty)) in per_db.into_iter().enumerate() {
        if !nonempty {
            continue;
        }
        mix_digest(&mut fin, &(db as u32).to_be_bytes());
        for (a, b) in fin.iter_mut().zip(acc.iter()) {
            *a ^= b;
        }
    }
    hex::encode(fin)
}

/// The length RDB would use for a string: an integer encoding when the value is a small
/// canonical integer, else a length prefix and the bytes (LZF compression is not modelled).
fn serialized_len(s: &Str) -> usize {
    fn int_len(v: i64) -> Option<usize> {
        if (-(1 << 7)..1 << 7).contains(&v) {
            Some(2)
        } else if (-(1 << 15)..1 << 15).contains(&v) {
            Some(3)
        } else if (-(1 << 31)..1 << 31).contains(&v) {
            Some(5)
        } else {
            None
        }
    }
    fn len_len(n: usize) -> usize {
        if n < 1 << 6 {
            1
        } else if n < 1 << 14 {
            2
        } else if n as u64 <= u32::MAX as u64 {
            5
        } else {
            9
        }
    }
    s.with_bytes(|b| {
        let as_int = if b.len() <= 11 {
            tern_keyspace::value::parse_canonical_i64(b).and_then(int_len)
        } else {
            None
        };
        as_int.unwrap_or_else(|| len_len(b.len()) + b.len())
    })
}

/// DEBUG subcommand [args...]
fn debug(cx: &mut Ctx) -> CmdResult {
    let allowed = cx.srv.config.read().enable_debug_command();
    if !allowed.allows(is_local(&cx.cl.info.addr)) {
        return Err(NOT_ALLOWED.into());
    }
    let sub = cx.arg(1);
    let argc = cx.argc();
    if is(sub, "HELP") && argc == 2 {
        help(cx)
    } else if is(sub, "SLEEP") && argc == 3 {
        // Like Redis (strtod), an unparsable duration sleeps for 0 seconds.
        let secs = args::parse_float(cx.arg(2)).unwrap_or(0.0);
        if secs.is_finite() && secs > 0.0 {
            // This blocks the worker thread on purpose: DEBUG SLEEP stalls the server.
            std::thread::sleep(std::time::Duration::from_secs_f64(secs));
        }
        cx.out.ok();
        Ok(())
    } else if is(sub, "SET-ACTIVE-EXPIRE") && argc == 3 {
        let on = args::int(cx.arg(2)).unwrap_or(0) != 0;
        cx.srv.hot.active_expire.store(on, Relaxed);
        cx.out.ok();
        Ok(())
    } else if is(sub, "OBJECT") && argc == 3 {
        object(cx)
    } else if is(sub, "DIGEST-VALUE") && argc >= 2 {
        digest_value(cx)
    } else if is(sub, "DIGEST") && argc == 2 {
        let d = dataset_digest(cx.srv);
        cx.out.simple(&d);
        Ok(())
    } else if is(sub, "CHANGE-REPL-ID") && argc == 2 {
        *cx.srv.replid.write() = random_hex40();
        tracing::warn!("Changed replication IDs after receiving DEBUG change-repl-id");
        cx.out.ok();
        Ok(())
    } else if is(sub, "LOG") && argc == 3 {
        tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(cx.arg(2)));
        cx.out.ok();
        Ok(())
    } else if is(sub, "ERROR") && argc == 3 {
        // The message is sent as is: the caller chooses the error code.
        Err(CmdError::Msg(
            String::from_utf8_lossy(cx.arg(2)).into_owned(),
        ))
    } else if is(sub, "POPULATE") && (3..=5).contains(&argc) {
        populate(cx)
    } else if is(sub, "RELOAD") {
        reload(cx)
    } else {
        Err(CmdError::Msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(sub)
        )))
    }
}

/// DEBUG OBJECT key: low-level facts about a key's value. Does not touch or expire the key.
fn object(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(2);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some((_, e)) = lk.db(db).keys.get(h, key) else {
        return Err(crate::errors::NO_SUCH_KEY.into());
    };
    let (encoding, serialized, shared) = match &e.value {
        Value::Str(s) => (
            s.encoding(),
            serialized_len(s),
            // Redis shares the integers 0..10000 between keys.
            matches!(s, Str::Int(i) if (0..10_000).contains(i)),
        ),
        v => (
            v.encoding(),
            tern_persist::dump::dump(v).len().saturating_sub(11),
            false,
        ),
    };
    let refcount: i64 = if shared { i32::MAX as i64 } else { 1 };
    let lru = e.lru;
    let idle = tern_keyspace::db::lru_clock().saturating_sub(lru);
    let line = format!(
        "Value at:{:p} refcount:{refcount} encoding:{encoding} serializedlength:{serialized} \
         lru:{lru} lru_seconds_idle:{idle}",
        e as *const Entry
    );
    drop(lk);
    cx.out.simple(&line);
    Ok(())
}

/// DEBUG DIGEST-VALUE key [key ...]: a digest of each value (40 zeros for a missing key).
/// Logically expired keys still count, as in Redis.
fn digest_value(cx: &mut Ctx) -> CmdResult {
    let db = cx.db();
    let mut digests = Vec::with_capacity(cx.argc() - 2);
    for key in &cx.args[2..] {
        let (mut lk, h) = cx.lock_key(key);
        let mut d = [0u8; 20];
        if let Some((_, e)) = lk.db(db).keys.get(h, key) {
            mix_value(&mut d, e);
        }
        digests.push(hex::encode(d));
    }
    cx.out.array(digests.len());
    for d in digests {
        cx.out.simple(&d);
    }
    Ok(())
}

/// DEBUG POPULATE count [prefix] [size]: creates `prefix:N` keys holding `value:N` (padded
/// with zero bytes or cut to `size`), skipping keys that exist. Like Redis, the keys are not
/// propagated: this is a test aid that makes replicas diverge.
fn populate(cx: &mut Ctx) -> CmdResult {
    const RANGE: &str = "ERR value is out of range, must be positive";
    let count = args::int(cx.arg(2))?;
    if count < 0 {
        return Err(RANGE.into());
    }
    let prefix = cx.args.get(3).copied().unwrap_or(b"key");
    let size = match cx.args.get(4) {
        Some(a) => {
            let n = args::int(a)?;
            if n < 0 {
                return Err(RANGE.into());
            }
            Some(n as usize)
        }
        None => None,
    };
    let db = cx.db();
    for j in 0..count {
        let mut key = prefix.to_vec();
        key.extend_from_slice(format!(":{j}").as_bytes());
        let (mut lk, h) = cx.lock_key(&key);
        if lk.lookup(db, h, &key, cx.now_ms).is_some() {
            continue;
        }
        let mut val = format!("value:{j}").into_bytes();
        if let Some(n) = size.filter(|&n| n > 0) {
            val.resize(n, 0);
        }
        lk.db(db)
            .insert(h, &key, Entry::new(Value::Str(Str::from_bytes(&val))));
    }
    cx.out.ok();
    Ok(())
}

/// DEBUG HELP
fn help(cx: &mut Ctx) -> CmdResult {
    reply_help(
        cx.out,
        "DEBUG",
        &[
            "CHANGE-REPL-ID",
            "    Change the replication IDs of the instance.",
            "    Dangerous: should be used only for testing the replication subsystem.",
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "ERROR <string>",
            "    Return a Redis protocol error with <string> as message. Useful for clients",
            "    unit tests to simulate Redis errors.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>. If <prefix> is specified then",
            "    it is used instead of the 'key' prefix. These are not propagated to",
            "    replicas. Cluster slots are not respected so keys not belonging to the",
            "    current node can be created in cluster mode.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests;

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves the RDB file, empties the keyspace and loads
/// the file back, all while holding every shard (no other client sees the keyspace between).
fn reload(cx: &mut Ctx) -> CmdResult {
    let (mut flush, mut save) = (true, true);
    for a in &cx.args[2..] {
        if is(a, "MERGE") || is(a, "NOFLUSH") {
            flush = false;
        } else if is(a, "NOSAVE") {
            save = false;
        } else {
            return Err(CmdError::Static(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
            ));
        }
    }
    let srv = cx.srv;
    let hold = if srv.keyspace.held_here() {
        None
    } else {
        Some(srv.keyspace.hold_all())
    };
    if save {
        crate::snapshot::save(srv)
            .map_err(|e| CmdError::Msg(format!("ERR Error trying to save: {e}")))?;
    }
    if flush {
        crate::loader::clear_keyspace(srv);
        // Redis's emptyData drops the function libraries too; the file brings its own back.
        srv.scripts.functions.flush(|| {});
    }
    let path = crate::snapshot::rdb_path(srv);
    let loaded = crate::loader::load_rdb_file(srv, &path, false).map_err(|e| {
        CmdError::Msg(format!(
            "ERR Error trying to load the RDB dump, check server logs. ({e})"
        ))
    })?;
    crate::loader::load_functions(srv, &loaded.functions);
    drop(hold);
    tracing::info!("DB reloaded by DEBUG RELOAD");
    cx.out.ok();
    Ok(())
}
