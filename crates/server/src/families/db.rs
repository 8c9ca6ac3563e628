//! Whole-database commands (Redis's db.c): DBSIZE FLUSHDB FLUSHALL SWAPDB. SELECT lives with
//! the connection commands.
//!
//! Propagated forms: FLUSHDB, FLUSHALL and SWAPDB as sent, always (even when nothing was
//! removed, as Redis forces their propagation). They lock every shard, in ascending order,
//! and propagate the expiry DELs pending in each shard before their own form.
//!
//! FLUSHDB/FLUSHALL swap the tables out under the locks and free the old ones after releasing
//! them: inline for SYNC, on a background thread for ASYNC (the default for neither when
//! `lazyfree-lazy-user-flush` is yes), so other clients never wait for the memory to be freed.

use crate::args::{self, is};
use crate::ctx::{flush_expired, Ctx};
use crate::errors::{CmdError, CmdResult, DB_INDEX, SYNTAX};
use crate::table::{flags::*, CommandTable, Group, Spec};
use std::sync::atomic::Ordering::Relaxed;
use tern_keyspace::{Db, ShardGuard};

/// Registers the database commands.
pub fn register(t: &mut CommandTable) {
    let s = |name, arity, flags| {
        Spec::new(name, arity, flags)
            .group(Group::Server)
            .acl(&["@keyspace"])
    };
    t.add(
        s("dbsize", 1, READONLY | FAST)
            .doc("1.0.0", "Returns the number of keys in the database.")
            .handler(dbsize),
    );
    t.add(
        s("flushdb", -1, WRITE)
            .acl(&["@keyspace", "@dangerous"])
            .doc("1.0.0", "Remove all keys from the current database.")
            .handler(flushdb),
    );
    t.add(
        s("flushall", -1, WRITE)
            .acl(&["@keyspace", "@dangerous"])
            .doc("1.0.0", "Removes all keys from all databases.")
            .handler(flushall),
    );
    t.add(
        s("swapdb", 3, WRITE | FAST)
            .acl(&["@keyspace", "@dangerous"])
            .doc("4.0.0", "Swaps two Redis databases.")
            .handler(swapdb),
    );
}

/// DBSIZE
fn dbsize(cx: &mut Ctx) -> CmdResult {
    let ks = &cx.srv.keyspace;
    let db = cx.db();
    let n: usize = (0..ks.shard_count())
        .map(|i| ks.lock(i).dbs[db].len())
        .sum();
    cx.out.int(n as i64);
    Ok(())
}

/// Parses FLUSHDB/FLUSHALL's `[ASYNC | SYNC]`; true for ASYNC.
fn flush_async(cx: &Ctx) -> Result<bool, CmdError> {
    match cx.argc() {
        1 => Ok(cx
            .srv
            .config
            .read()
            .get_bool("lazyfree-lazy-user-flush")
            .unwrap_or(false)),
        2 if is(cx.arg(1), "SYNC") => Ok(false),
        2 if is(cx.arg(1), "ASYNC") => Ok(true),
        _ => Err(SYNTAX.into()),
    }
}

/// Locks every shard and propagates the expiry DELs pending in each.
fn lock_all_flushed<'a>(cx: &Ctx<'a>) -> Vec<ShardGuard<'a>> {
    let mut guards = cx.srv.keyspace.lock_all();
    for g in guards.iter_mut() {
        flush_expired(cx.srv, g);
    }
    guards
}

/// True if `key` exists (expired or not) in database `db`, with every shard locked.
fn key_in(ks: &tern_keyspace::Keyspace, guards: &[ShardGuard<'_>], db: usize, key: &[u8]) -> bool {
    let h = tern_keyspace::Keyspace::hash(key);
    guards[ks.shard_of(h)].dbs[db].keys.contains(h, key)
}

/// Frees removed databases: now, or on a background thread.
fn free(old: Vec<Db>, background: bool) {
    if background {
        std::thread::spawn(move || drop(old));
    } else {
        drop(old);
    }
}

/// FLUSHDB [ASYNC | SYNC]
fn flushdb(cx: &mut Ctx) -> CmdResult {
    let background = flush_async(cx)?;
    let db = cx.db();
    let mut guards = lock_all_flushed(cx);
    cx.srv
        .db_changed_where(Some(db), |d, k| key_in(&cx.srv.keyspace, &guards, d, k));
    let old: Vec<Db> = guards
        .iter_mut()
        .map(|g| std::mem::take(&mut g.dbs[db]))
        .collect();
    let removed: usize = old.iter().map(|d| d.len()).sum();
    cx.srv.dirty.fetch_add(removed as u64, Relaxed);
    cx.propagate(&mut guards[0], cx.args);
    // A running snapshot still needs what it has not written of these; it takes them over
    // before the shards are released, so its walker cannot miss them.
    let old = cx.srv.saver.adopt(old);
    drop(guards);
    free(old, background);
    cx.out.ok();
    Ok(())
}

/// FLUSHALL [ASYNC | SYNC]
fn flushall(cx: &mut Ctx) -> CmdResult {
    let background = flush_async(cx)?;
    let mut guards = lock_all_flushed(cx);
    cx.srv
        .db_changed_where(None, |d, k| key_in(&cx.srv.keyspace, &guards, d, k));
    let mut old: Vec<Db> = Vec::new();
    for g in guards.iter_mut() {
        for d in g.dbs.iter_mut() {
            if !d.is_empty() {
                old.push(std::mem::take(d));
            }
        }
    }
    let removed: usize = old.iter().map(|d| d.len()).sum();
    cx.srv.dirty.fetch_add(removed as u64, Relaxed);
    cx.propagate(&mut guards[0], cx.args);
    // A running snapshot still needs what it has not written of these; it takes them over
    // before the shards are released, so its walker cannot miss them.
    let old = cx.srv.saver.adopt(old);
    drop(guards);
    free(old, background);
    cx.out.ok();
    Ok(())
}

/// SWAPDB index1 index2
fn swapdb(cx: &mut Ctx) -> CmdResult {
    let parse = |arg: &[u8], msg: &'static str| -> Result<i64, CmdError> {
        match args::int(arg) {
            Ok(n) if i32::try_from(n).is_ok() => Ok(n),
            _ => Err(CmdError::Static(msg)),
        }
    };
    let a = parse(cx.arg(1), "ERR invalid first DB index")?;
    let b = parse(cx.arg(2), "ERR invalid second DB index")?;
    let dbs = cx.srv.keyspace.databases() as i64;
    if !(0..dbs).contains(&a) || !(0..dbs).contains(&b) {
        return Err(DB_INDEX.into());
    }
    let mut guards = lock_all_flushed(cx);
    if a != b {
        let (a, b) = (a as usize, b as usize);
        // A watched key of either database is touched if it exists in either one.
        let either = |_: usize, k: &[u8]| {
            key_in(&cx.srv.keyspace, &guards, a, k) || key_in(&cx.srv.keyspace, &guards, b, k)
        };
        cx.srv.db_changed_where(Some(a), either);
        cx.srv.db_changed_where(Some(b), either);
        for g in guards.iter_mut() {
            g.dbs.swap(a, b);
        }
    }
    cx.propagate(&mut guards[0], cx.args);
    drop(guards);
    cx.out.ok();
    Ok(())
}

#[cfg(test)]
mod tests;
