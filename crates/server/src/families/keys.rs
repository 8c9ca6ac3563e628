//! Commands on keys of any type (Redis's db.c, expire.c, object.c and the DUMP/RESTORE part of
//! cluster.c): DEL UNLINK EXISTS TYPE KEYS SCAN RANDOMKEY RENAME RENAMENX COPY MOVE, the
//! EXPIRE and TTL families, PERSIST TOUCH OBJECT DUMP RESTORE.
//!
//! Propagated forms (what reaches the replication log), as Redis 7.0 writes them:
//! - EXPIRE, PEXPIRE, EXPIREAT -> `PEXPIREAT key <abs-ms> [flags as sent]`; PEXPIREAT as sent.
//!   A deadline already past deletes the key and propagates `DEL key`.
//! - RESTORE with a relative TTL -> the command as sent with the TTL replaced by the absolute
//!   deadline and `ABSTTL` appended; with TTL 0 or ABSTTL, as sent. A deadline already past
//!   restores nothing; if REPLACE removed an old value it propagates `DEL key`.
//! - DEL, UNLINK, RENAME, RENAMENX, COPY, MOVE, PERSIST: as sent, and only when they changed
//!   something (DEL/UNLINK when at least one key was deleted).
//! - Keys found expired on the way (lookups, SCAN, RANDOMKEY) are propagated as `DEL key`
//!   before the command's own form.
//! - Read-only commands propagate nothing else.

use crate::args::{self, is};
use crate::ctx::{flush_expired, Ctx};
use crate::errors::{
    CmdError, CmdResult, BUSYKEY, DB_INDEX, INT_RANGE, INVALID_CURSOR, NO_SUCH_KEY, SAME_OBJECT,
    SYNTAX,
};
use crate::glob;
use crate::table::{flags::*, CommandTable, Group, Spec};
use rand::Rng;
use tern_keyspace::db::lru_clock;
use tern_keyspace::{Entry, Key, Keyspace, Str, Value};

/// Registers the generic key commands.
pub fn register(t: &mut CommandTable) {
    let g = |name, arity, flags| Spec::new(name, arity, flags).group(Group::Generic);
    t.add(
        g("del", -2, WRITE)
            .keys(1, -1, 1)
            .doc("1.0.0", "Deletes one or more keys.")
            .handler(del),
    );
    t.add(
        g("unlink", -2, WRITE | FAST)
            .keys(1, -1, 1)
            .doc("4.0.0", "Asynchronously deletes one or more keys.")
            .handler(del),
    );
    t.add(
        g("exists", -2, READONLY | FAST)
            .keys(1, -1, 1)
            .doc("1.0.0", "Determines whether one or more keys exist.")
            .handler(exists),
    );
    t.add(
        g("type", 2, READONLY | FAST)
            .keys(1, 1, 1)
            .doc("1.0.0", "Determines the type of value stored at a key.")
            .handler(type_cmd),
    );
    t.add(
        g("keys", 2, READONLY)
            .acl(&["@dangerous"])
            .doc("1.0.0", "Returns all key names that match a pattern.")
            .handler(keys),
    );
    t.add(
        g("scan", -2, READONLY)
            .doc("2.8.0", "Iterates over the key names in the database.")
            .handler(scan),
    );
    t.add(
        g("randomkey", 1, READONLY)
            .doc("1.0.0", "Returns a random key name from the database.")
            .handler(randomkey),
    );
    t.add(
        g("rename", 3, WRITE)
            .keys(1, 2, 1)
            .doc("1.0.0", "Renames a key and overwrites the destination.")
            .handler(rename),
    );
    t.add(
        g("renamenx", 3, WRITE | FAST)
            .keys(1, 2, 1)
            .doc(
                "1.0.0",
                "Renames a key only when the target key name doesn't exist.",
            )
            .handler(renamenx),
    );
    t.add(
        g("copy", -3, WRITE | DENYOOM)
            .keys(1, 2, 1)
            .doc("6.2.0", "Copies the value of a key to a new key.")
            .handler(copy),
    );
    t.add(
        g("move", 3, WRITE | FAST)
            .keys(1, 1, 1)
            .doc("1.0.0", "Moves a key to another database.")
            .handler(move_cmd),
    );
    t.add(
        g("expire", -3, WRITE | FAST)
            .keys(1, 1, 1)
            .doc("1.0.0", "Sets the expiration time of a key in seconds.")
            .handler(expire),
    );
    t.add(
        g("pexpire", -3, WRITE | FAST)
            .keys(1, 1, 1)
            .doc(
                "2.6.0",
                "Sets the expiration time of a key in milliseconds.",
            )
            .handler(pexpire),
    );
    t.add(
        g("expireat", -3, WRITE | FAST)
            .keys(1, 1, 1)
            .doc(
                "1.2.0",
                "Sets the expiration time of a key to a Unix timestamp.",
            )
            .handler(expireat),
    );
    t.add(
        g("pexpireat", -3, WRITE | FAST)
            .keys(1, 1, 1)
            .doc(
                "2.6.0",
                "Sets the expiration time of a key to a Unix milliseconds timestamp.",
            )
            .handler(pexpireat),
    );
    t.add(
        g("ttl", 2, READONLY | FAST)
            .keys(1, 1, 1)
            .doc("1.0.0", "Returns the expiration time in seconds of a key.")
            .handler(ttl),
    );
    t.add(
        g("pttl", 2, READONLY | FAST)
            .keys(1, 1, 1)
            .doc(
                "2.6.0",
                "Returns the expiration time in milliseconds of a key.",
            )
            .handler(pttl),
    );
    t.add(
        g("expiretime", 2, READONLY | FAST)
            .keys(1, 1, 1)
            .doc(
                "7.0.0",
                "Returns the expiration time of a key as a Unix timestamp.",
            )
            .handler(expiretime),
    );
    t.add(
        g("pexpiretime", 2, READONLY | FAST)
            .keys(1, 1, 1)
            .doc(
                "7.0.0",
                "Returns the expiration time of a key as a Unix milliseconds timestamp.",
            )
            .handler(pexpiretime),
    );
    t.add(
        g("persist", 2, WRITE | FAST)
            .keys(1, 1, 1)
            .doc("2.2.0", "Removes the expiration time of a key.")
            .handler(persist),
    );
    t.add(
        g("touch", -2, READONLY | FAST)
            .keys(1, -1, 1)
            .doc("3.2.1", "Returns the number of existing keys out of those specified after updating the time they were last accessed.")
            .handler(touch),
    );
    t.add(
        g("object", -2, 0)
            .doc("2.2.3", "A container for object introspection commands.")
            .subcommand(
                Spec::new("encoding", 3, READONLY)
                    .keys(2, 2, 1)
                    .doc("2.2.3", "Returns the internal encoding of a Redis object.")
                    .handler(object_encoding),
            )
            .subcommand(
                Spec::new("freq", 3, READONLY)
                    .keys(2, 2, 1)
                    .doc(
                        "4.0.0",
                        "Returns the logarithmic access frequency counter of a Redis object.",
                    )
                    .handler(object_freq),
            )
            .subcommand(
                Spec::new("idletime", 3, READONLY)
                    .keys(2, 2, 1)
                    .doc(
                        "2.2.3",
                        "Returns the time since the last access to a Redis object.",
                    )
                    .handler(object_idletime),
            )
            .subcommand(
                Spec::new("refcount", 3, READONLY)
                    .keys(2, 2, 1)
                    .doc("2.2.3", "Returns the reference count of a value of a key.")
                    .handler(object_refcount),
            )
            .subcommand(
                Spec::new("help", 2, LOADING | STALE)
                    .doc(
                        "6.2.0",
                        "Returns helpful text about the different subcommands.",
                    )
                    .handler(object_help),
            ),
    );
    t.add(
        g("dump", 2, READONLY)
            .keys(1, 1, 1)
            .doc(
                "2.6.0",
                "Returns a serialized representation of the value stored at a key.",
            )
            .handler(dump),
    );
    t.add(
        g("restore", -4, WRITE | DENYOOM)
            .keys(1, 1, 1)
            .acl(&["@dangerous"])
            .doc(
                "2.6.0",
                "Creates a key from the serialized representation of a value.",
            )
            .handler(restore),
    );
}

/// Marks an entry as just accessed (what Redis's lookups do unless asked not to touch).
#[inline]
fn touch_entry(e: &mut Entry) {
    e.lru = lru_clock();
}

/// Parses a database index the way `getIntFromObjectOrReply` then `selectDb` do.
fn parse_db(cx: &Ctx, arg: &[u8]) -> Result<usize, CmdError> {
    let n = args::int(arg)?;
    if i32::try_from(n).is_err() {
        return Err(INT_RANGE.into());
    }
    if n < 0 || n as usize >= cx.srv.keyspace.databases() {
        return Err(DB_INDEX.into());
    }
    Ok(n as usize)
}

/// DEL key [key ...] / UNLINK key [key ...]
fn del(cx: &mut Ctx) -> CmdResult {
    let keys = &cx.args[1..];
    let db = cx.db();
    let mut ml = cx.lock_keys(keys);
    let mut deleted = 0;
    for (i, k) in keys.iter().enumerate() {
        let h = ml.hashes[i];
        let lk = ml.shard(h);
        // The lookup first removes the key if it has expired: that is not a deletion.
        if lk.lookup(db, h, k, cx.now_ms).is_some() {
            lk.db(db).remove(h, k);
            deleted += 1;
        }
    }
    if deleted > 0 {
        ml.flush_expired();
        cx.propagate(ml.first(), cx.args);
    }
    cx.out.int(deleted);
    Ok(())
}

/// EXISTS key [key ...]
fn exists(cx: &mut Ctx) -> CmdResult {
    let keys = &cx.args[1..];
    let db = cx.db();
    let mut ml = cx.lock_keys(keys);
    let mut n = 0;
    for (i, k) in keys.iter().enumerate() {
        let h = ml.hashes[i];
        if ml.shard(h).lookup(db, h, k, cx.now_ms).is_some() {
            n += 1;
        }
    }
    cx.out.int(n);
    Ok(())
}

/// TYPE key
fn type_cmd(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let name = match lk.lookup(cx.db(), h, key, cx.now_ms) {
        Some(e) => e.value.type_name(),
        None => "none",
    };
    cx.out.simple(name);
    Ok(())
}

/// KEYS pattern
fn keys(cx: &mut Ctx) -> CmdResult {
    let pat = cx.arg(1);
    let all = pat == b"*";
    let db = cx.db();
    let now = cx.now_ms;
    // All shards at once, so the reply is one point in time (Redis runs KEYS atomically).
    // Expired keys are skipped, not deleted, as Redis's KEYS does.
    let guards = cx.srv.keyspace.lock_all();
    let mut found: Vec<&[u8]> = Vec::new();
    for g in &guards {
        for (k, e) in g.dbs[db].keys.iter() {
            if !e.is_expired(now) && (all || glob::matches(pat, k)) {
                found.push(k);
            }
        }
    }
    cx.out.array(found.len());
    for k in found {
        cx.out.bulk(k);
    }
    Ok(())
}

/// Parses a SCAN cursor as Redis does (`strtoul`, refusing leading spaces, trailing bytes and
/// overflow): a leading `-` wraps around, and the empty string is cursor 0.
pub(crate) fn parse_cursor(a: &[u8]) -> Result<u64, CmdError> {
    let bad = || CmdError::Static(INVALID_CURSOR);
    if a.is_empty() {
        return Ok(0);
    }
    let (neg, digits) = match a[0] {
        b'-' => (true, &a[1..]),
        b'+' => (false, &a[1..]),
        _ => (false, a),
    };
    if digits.is_empty() {
        return Err(bad());
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(bad());
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((c - b'0') as u64))
            .ok_or_else(bad)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// The cursor combines a shard and that shard's table cursor:
/// `(table_cursor << shard_bits) | shard`. Shards are walked in order, each until its table
/// cursor wraps to 0; with one shard the cursor is exactly Redis's.
fn scan(cx: &mut Ctx) -> CmdResult {
    let cursor = parse_cursor(cx.arg(1))?;
    let mut count: usize = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_name: Option<&[u8]> = None;
    let mut i = 2;
    while i < cx.argc() {
        let a = cx.arg(i);
        let has_value = cx.argc() - i >= 2;
        if is(a, "COUNT") && has_value {
            let n = args::int(cx.arg(i + 1))?;
            if n < 1 {
                return Err(SYNTAX.into());
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is(a, "MATCH") && has_value {
            let p = cx.arg(i + 1);
            pattern = (p != b"*").then_some(p);
        } else if is(a, "TYPE") && has_value {
            type_name = Some(cx.arg(i + 1));
        } else {
            return Err(SYNTAX.into());
        }
        i += 2;
    }

    let ks = &cx.srv.keyspace;
    let db = cx.db();
    let now = cx.now_ms;
    let shards = ks.shard_count();
    let bits = shards.trailing_zeros();
    let mut shard = (cursor & (shards as u64 - 1)) as usize;
    let mut table_cursor = cursor >> bits;
    // As Redis: at most 10 * COUNT table steps, so sparse tables cannot stall the server.
    let mut steps_left = count.saturating_mul(10);
    let mut gathered = 0usize;
    let mut found: Vec<Key> = Vec::new();
    let next = loop {
        let mut g = ks.lock(shard);
        let s = &mut *g;
        let mut batch: Vec<Key> = Vec::new();
        loop {
            table_cursor = s.dbs[db]
                .keys
                .scan(table_cursor, |k, _| batch.push(k.clone()));
            if table_cursor == 0 || gathered + batch.len() >= count || steps_left == 0 {
                break;
            }
            steps_left -= 1;
        }
        gathered += batch.len();
        // Filter under the same lock: pattern, then expiry (deleting the expired keys, as
        // Redis's SCAN does), then type.
        for k in batch {
            if pattern.is_some_and(|p| !glob::matches(p, &k)) {
                continue;
            }
            let h = Keyspace::hash(&k);
            let d = &mut s.dbs[db];
            if d.expire_if_needed(h, &k, now, &mut s.expired, db) {
                continue;
            }
            if let Some(t) = type_name {
                let actual = d
                    .keys
                    .get(h, &k)
                    .map_or("none", |(_, e)| e.value.type_name());
                if !t.eq_ignore_ascii_case(actual.as_bytes()) {
                    continue;
                }
            }
            found.push(k);
        }
        flush_expired(cx.srv, s);
        drop(g);
        if table_cursor != 0 {
            break (table_cursor << bits) | shard as u64;
        }
        shard += 1;
        if shard == shards {
            break 0;
        }
        if gathered >= count || steps_left == 0 {
            // The next shard from its start; never 0 since shard >= 1.
            break shard as u64;
        }
        steps_left -= 1;
        table_cursor = 0;
    };
    cx.out.array(2);
    cx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    cx.out.array(found.len());
    for k in &found {
        cx.out.bulk(k);
    }
    Ok(())
}

/// RANDOMKEY
fn randomkey(cx: &mut Ctx) -> CmdResult {
    let ks = &cx.srv.keyspace;
    let db = cx.db();
    let now = cx.now_ms;
    let mut rng = rand::thread_rng();
    // Each round either answers or deletes an expired key, as Redis's dbRandomKey does; the
    // bound only guards against a keyspace that keeps changing under us.
    for _ in 0..10_000 {
        let sizes: Vec<usize> = (0..ks.shard_count())
            .map(|i| ks.lock(i).dbs[db].len())
            .collect();
        let total: usize = sizes.iter().sum();
        if total == 0 {
            break;
        }
        let mut pick = rng.gen_range(0..total);
        let mut shard = 0;
        while pick >= sizes[shard] {
            pick -= sizes[shard];
            shard += 1;
        }
        let mut g = ks.lock(shard);
        let s = &mut *g;
        let Some((k, e)) = s.dbs[db].keys.random_entry(&mut rng) else {
            continue;
        };
        if !e.is_expired(now) {
            cx.out.bulk(k);
            return Ok(());
        }
        let k = k.clone();
        s.dbs[db].expire_if_needed(Keyspace::hash(&k), &k, now, &mut s.expired, db);
        flush_expired(cx.srv, s);
    }
    cx.out.null();
    Ok(())
}

/// RENAME key newkey
fn rename(cx: &mut Ctx) -> CmdResult {
    rename_generic(cx, false)
}

/// RENAMENX key newkey
fn renamenx(cx: &mut Ctx) -> CmdResult {
    rename_generic(cx, true)
}

fn rename_generic(cx: &mut Ctx, nx: bool) -> CmdResult {
    let (src, dst) = (cx.arg(1), cx.arg(2));
    let db = cx.db();
    let mut ml = cx.lock_keys(&[src, dst]);
    let (hs, hd) = (ml.hashes[0], ml.hashes[1]);
    match ml.shard(hs).lookup(db, hs, src, cx.now_ms) {
        Some(e) => touch_entry(e),
        None => return Err(NO_SUCH_KEY.into()),
    }
    if src == dst {
        if nx {
            cx.out.int(0);
        } else {
            cx.out.ok();
        }
        return Ok(());
    }
    if ml.shard(hd).lookup(db, hd, dst, cx.now_ms).is_some() {
        if nx {
            cx.out.int(0);
            return Ok(());
        }
        ml.shard(hd).db(db).remove(hd, dst);
    }
    let (_, entry) = ml
        .shard(hs)
        .db(db)
        .remove(hs, src)
        .expect("looked up under the same lock");
    ml.shard(hd).db(db).insert(hd, dst, entry);
    ml.flush_expired();
    cx.propagate(ml.first(), cx.args);
    if nx {
        cx.out.int(1);
    } else {
        cx.out.ok();
    }
    Ok(())
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(cx: &mut Ctx) -> CmdResult {
    let (src, dst) = (cx.arg(1), cx.arg(2));
    let db = cx.db();
    let mut dst_db = db;
    let mut replace = false;
    let mut j = 3;
    while j < cx.argc() {
        let a = cx.arg(j);
        if is(a, "REPLACE") {
            replace = true;
        } else if is(a, "DB") && j + 1 < cx.argc() {
            dst_db = parse_db(cx, cx.arg(j + 1))?;
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    if dst_db == db && src == dst {
        return Err(SAME_OBJECT.into());
    }
    let mut ml = cx.lock_keys(&[src, dst]);
    let (hs, hd) = (ml.hashes[0], ml.hashes[1]);
    let (value, expire_at) = match ml.shard(hs).lookup(db, hs, src, cx.now_ms) {
        Some(e) => {
            touch_entry(e);
            (e.value.clone(), e.expire_at)
        }
        None => {
            cx.out.int(0);
            return Ok(());
        }
    };
    let dl = ml.shard(hd);
    if dl.lookup(dst_db, hd, dst, cx.now_ms).is_some() {
        if !replace {
            cx.out.int(0);
            return Ok(());
        }
        dl.db(dst_db).remove(hd, dst);
    }
    let mut entry = Entry::new(value);
    entry.expire_at = expire_at;
    dl.db(dst_db).insert(hd, dst, entry);
    ml.flush_expired();
    cx.propagate(ml.first(), cx.args);
    cx.out.int(1);
    Ok(())
}

/// MOVE key db
fn move_cmd(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let db = cx.db();
    let dst_db = parse_db(cx, cx.arg(2))?;
    if dst_db == db {
        return Err(SAME_OBJECT.into());
    }
    let (mut lk, h) = cx.lock_key(key);
    match lk.lookup(db, h, key, cx.now_ms) {
        Some(e) => touch_entry(e),
        None => {
            cx.out.int(0);
            return Ok(());
        }
    }
    if lk.lookup(dst_db, h, key, cx.now_ms).is_some() {
        cx.out.int(0);
        return Ok(());
    }
    let (_, entry) = lk.db(db).remove(h, key).expect("looked up under this lock");
    lk.db(dst_db).insert(h, key, entry);
    cx.propagate(&mut lk, cx.args);
    drop(lk);
    // Dispatch touches the key in the current database; the destination changed too.
    cx.srv.key_changed(dst_db, key, Some(cx.cl.info.id));
    cx.signal_ready(dst_db, key);
    cx.out.int(1);
    Ok(())
}

/// How an EXPIRE-family command reads its time argument.
#[derive(Clone, Copy)]
enum ExpireArg {
    /// Seconds from now (EXPIRE).
    Sec,
    /// Milliseconds from now (PEXPIRE).
    Ms,
    /// Unix seconds (EXPIREAT).
    UnixSec,
    /// Unix milliseconds (PEXPIREAT).
    UnixMs,
}

/// EXPIRE key seconds [NX | XX | GT | LT]
fn expire(cx: &mut Ctx) -> CmdResult {
    expire_generic(cx, ExpireArg::Sec)
}

/// PEXPIRE key milliseconds [NX | XX | GT | LT]
fn pexpire(cx: &mut Ctx) -> CmdResult {
    expire_generic(cx, ExpireArg::Ms)
}

/// EXPIREAT key unix-time-seconds [NX | XX | GT | LT]
fn expireat(cx: &mut Ctx) -> CmdResult {
    expire_generic(cx, ExpireArg::UnixSec)
}

/// PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]
fn pexpireat(cx: &mut Ctx) -> CmdResult {
    expire_generic(cx, ExpireArg::UnixMs)
}

fn expire_generic(cx: &mut Ctx, kind: ExpireArg) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &cx.args[3..] {
        if is(a, "NX") {
            nx = true;
        } else if is(a, "XX") {
            xx = true;
        } else if is(a, "GT") {
            gt = true;
        } else if is(a, "LT") {
            lt = true;
        } else {
            return Err(CmdError::Msg(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(a)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err("ERR NX and XX, GT or LT options at the same time are not compatible".into());
    }
    if gt && lt {
        return Err("ERR GT and LT options at the same time are not compatible".into());
    }
    let mut when = args::int(cx.arg(2))?;
    let invalid = || CmdError::invalid_expire(&cx.spec.name);
    if matches!(kind, ExpireArg::Sec | ExpireArg::UnixSec) {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(invalid());
        }
        when *= 1000;
    }
    let base = match kind {
        ExpireArg::Sec | ExpireArg::Ms => cx.now_ms,
        ExpireArg::UnixSec | ExpireArg::UnixMs => 0,
    };
    if when > i64::MAX - base {
        return Err(invalid());
    }
    when += base;

    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let current = match lk.lookup(db, h, key, cx.now_ms) {
        Some(e) => {
            touch_entry(e);
            e.expire_at
        }
        None => {
            cx.out.int(0);
            return Ok(());
        }
    };
    // No deadline counts as an infinite TTL: GT never beats it, LT always does.
    let refused = (nx && current != 0)
        || (xx && current == 0)
        || (gt && (current == 0 || when <= current))
        || (lt && current != 0 && when >= current);
    if refused {
        cx.out.int(0);
        return Ok(());
    }
    if when <= cx.now_ms {
        lk.db(db).remove(h, key);
        cx.propagate(&mut lk, &[b"DEL", key]);
    } else {
        lk.db(db).set_expire(h, key, when);
        if matches!(kind, ExpireArg::UnixMs) {
            cx.propagate(&mut lk, cx.args);
        } else {
            let mut b = itoa::Buffer::new();
            let mut argv: Vec<&[u8]> = vec![b"PEXPIREAT", key, b.format(when).as_bytes()];
            argv.extend_from_slice(&cx.args[3..]);
            cx.propagate(&mut lk, &argv);
        }
    }
    cx.out.int(1);
    Ok(())
}

/// TTL key
fn ttl(cx: &mut Ctx) -> CmdResult {
    ttl_generic(cx, false, false)
}

/// PTTL key
fn pttl(cx: &mut Ctx) -> CmdResult {
    ttl_generic(cx, true, false)
}

/// EXPIRETIME key
fn expiretime(cx: &mut Ctx) -> CmdResult {
    ttl_generic(cx, false, true)
}

/// PEXPIRETIME key
fn pexpiretime(cx: &mut Ctx) -> CmdResult {
    ttl_generic(cx, true, true)
}

/// -2 for no key, -1 for no deadline, else the remaining (or absolute) time; seconds are
/// rounded to the nearest, as Redis does.
fn ttl_generic(cx: &mut Ctx, ms: bool, absolute: bool) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let at = match lk.lookup(cx.db(), h, key, cx.now_ms) {
        Some(e) => e.expire_at,
        None => {
            cx.out.int(-2);
            return Ok(());
        }
    };
    if at == 0 {
        cx.out.int(-1);
        return Ok(());
    }
    let t = if absolute { at } else { at - cx.now_ms }.max(0);
    // Rounded in i128: a deadline near i64::MAX must not overflow.
    cx.out.int(if ms {
        t
    } else {
        ((t as i128 + 500) / 1000) as i64
    });
    Ok(())
}

/// PERSIST key
fn persist(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let had_ttl = match lk.lookup(db, h, key, cx.now_ms) {
        Some(e) => {
            touch_entry(e);
            e.expire_at != 0
        }
        None => false,
    };
    if had_ttl {
        lk.db(db).set_expire(h, key, 0);
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.int(had_ttl as i64);
    Ok(())
}

/// TOUCH key [key ...]
fn touch(cx: &mut Ctx) -> CmdResult {
    let keys = &cx.args[1..];
    let db = cx.db();
    let mut ml = cx.lock_keys(keys);
    let mut n = 0;
    for (i, k) in keys.iter().enumerate() {
        let h = ml.hashes[i];
        if let Some(e) = ml.shard(h).lookup(db, h, k, cx.now_ms) {
            touch_entry(e);
            n += 1;
        }
    }
    cx.out.int(n);
    Ok(())
}

/// What OBJECT needs from the eviction settings.
struct Policy {
    lfu: bool,
    /// Redis shares the integers 0..9999 unless maxmemory is set with an LRU/LFU policy.
    shared_integers: bool,
}

fn policy(cx: &Ctx) -> Policy {
    let c = cx.srv.config.read();
    let p = c.maxmemory_policy();
    let lru_or_lfu = p.contains("lru") || p.contains("lfu");
    Policy {
        lfu: p.contains("lfu"),
        shared_integers: c.maxmemory() == 0 || !lru_or_lfu,
    }
}

/// Runs `f` on the entry of OBJECT's key (argument 2) without touching it; replies null if
/// the key does not exist (before any other check, as Redis does).
fn with_object(cx: &mut Ctx, f: impl FnOnce(&mut Ctx, &Entry) -> CmdResult) -> CmdResult {
    let key = cx.arg(2);
    let (mut lk, h) = cx.lock_key(key);
    match lk.peek(cx.db(), h, key, cx.now_ms) {
        Some(e) => f(cx, e),
        None => {
            cx.out.null();
            Ok(())
        }
    }
}

/// OBJECT ENCODING key
fn object_encoding(cx: &mut Ctx) -> CmdResult {
    with_object(cx, |cx, e| {
        cx.out.bulk(e.value.encoding().as_bytes());
        Ok(())
    })
}

/// Seconds since the entry was last accessed, on the wrapping LRU clock.
fn idle_secs(e: &Entry) -> u32 {
    lru_clock().wrapping_sub(e.lru)
}

/// OBJECT FREQ key
///
/// Access frequency is not tracked per key yet: under an LFU policy this reports Redis's
/// initial counter (5) decayed by one per idle minute, which is what Redis reports for a key
/// that was written once and then read rarely.
fn object_freq(cx: &mut Ctx) -> CmdResult {
    // The config is read before the shard is locked: never the other way round.
    let lfu = policy(cx).lfu;
    with_object(cx, |cx, e| {
        if !lfu {
            return Err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.".into());
        }
        let c = tern_keyspace::db::lfu::decayed(e.lfu, e.lfu_ldt);
        cx.out.int(c as i64);
        Ok(())
    })
}

/// OBJECT IDLETIME key
fn object_idletime(cx: &mut Ctx) -> CmdResult {
    let lfu = policy(cx).lfu;
    with_object(cx, |cx, e| {
        if lfu {
            return Err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.".into());
        }
        cx.out.int(idle_secs(e) as i64);
        Ok(())
    })
}

/// OBJECT REFCOUNT key
fn object_refcount(cx: &mut Ctx) -> CmdResult {
    let shared = policy(cx).shared_integers;
    with_object(cx, |cx, e| {
        let n = match &e.value {
            Value::Str(Str::Int(i)) if shared && (0..10_000).contains(i) => i32::MAX as i64,
            _ => 1,
        };
        cx.out.int(n);
        Ok(())
    })
}

/// OBJECT HELP
fn object_help(cx: &mut Ctx) -> CmdResult {
    const HELP: &[&str] = &[
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
    ];
    reply_help(cx, HELP);
    Ok(())
}

/// Writes a HELP reply as Redis's `addReplyHelp` does: a header naming the command as typed
/// (uppercased), the lines, then the HELP entry, all as status replies.
pub fn reply_help(cx: &mut Ctx, lines: &[&str]) {
    let name = String::from_utf8_lossy(cx.arg(0)).to_ascii_uppercase();
    cx.out.array(lines.len() + 3);
    cx.out.simple(&format!(
        "{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        cx.out.simple(l);
    }
    cx.out.simple("HELP");
    cx.out.simple("    Prints this help.");
}

/// DUMP key
fn dump(cx: &mut Ctx) -> CmdResult {
    let compress = cx
        .srv
        .config
        .read()
        .get_bool("rdbcompression")
        .unwrap_or(true);
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    match lk.lookup(cx.db(), h, key, cx.now_ms) {
        Some(e) => {
            touch_entry(e);
            cx.out
                .bulk(&tern_persist::dump::dump_with(&e.value, compress));
        }
        None => cx.out.null(),
    }
    Ok(())
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
fn restore(cx: &mut Ctx) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < cx.argc() {
        let a = cx.arg(j);
        let has_value = j + 1 < cx.argc();
        if is(a, "REPLACE") {
            replace = true;
        } else if is(a, "ABSTTL") {
            absttl = true;
        } else if is(a, "IDLETIME") && has_value && freq.is_none() {
            let v = args::int(cx.arg(j + 1))?;
            if v < 0 {
                return Err("ERR Invalid IDLETIME value, must be >= 0".into());
            }
            idle = Some(v);
            j += 1;
        } else if is(a, "FREQ") && has_value && idle.is_none() {
            let v = args::int(cx.arg(j + 1))?;
            if !(0..=255).contains(&v) {
                return Err("ERR Invalid FREQ value, must be >= 0 and <= 255".into());
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    // Frequency is not tracked yet, so FREQ is validated and otherwise ignored.
    let _ = freq;
    let lfu = idle.is_some() && policy(cx).lfu;
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    if !replace && lk.lookup(db, h, key, cx.now_ms).is_some() {
        return Err(BUSYKEY.into());
    }
    let ttl = args::int(cx.arg(2))?;
    if ttl < 0 {
        return Err("ERR Invalid TTL value, must be >= 0".into());
    }
    let value = tern_persist::restore(cx.arg(3)).map_err(|e| CmdError::Msg(e.to_string()))?;
    // REPLACE removes whatever is there, even a value whose deadline has passed.
    let deleted = replace && lk.db(db).remove(h, key).is_some();
    let at = if ttl != 0 && !absttl {
        ttl.saturating_add(cx.now_ms)
    } else {
        ttl
    };
    if at != 0 && at <= cx.now_ms {
        if deleted {
            cx.propagate(&mut lk, &[b"DEL", key]);
        }
        cx.out.ok();
        return Ok(());
    }
    let mut entry = Entry::new(value);
    entry.expire_at = at;
    if let (Some(secs), false) = (idle, lfu) {
        entry.lru = lru_clock().wrapping_sub(secs.min(u32::MAX as i64) as u32);
    }
    lk.db(db).insert(h, key, entry);
    if ttl != 0 && !absttl {
        let mut b = itoa::Buffer::new();
        let mut argv: Vec<&[u8]> = cx.args.to_vec();
        argv[2] = b.format(at).as_bytes();
        argv.push(b"ABSTTL");
        cx.propagate(&mut lk, &argv);
    } else {
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.ok();
    Ok(())
}

#[cfg(test)]
mod tests;
