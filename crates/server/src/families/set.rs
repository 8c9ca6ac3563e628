//! Set commands (Redis's t_set.c): SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SRANDMEMBER
//! SPOP SMOVE SINTER SINTERCARD SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN.
//!
//! Replies follow Redis 7.0 exactly, RESP3 included: SMEMBERS, SINTER, SUNION, SDIFF and
//! SPOP with a count reply with a set (`~`), SRANDMEMBER with a count with an array.
//!
//! Propagated forms (what reaches the replication log):
//! - SPOP key -> `SREM key member`
//! - SPOP key count, popping part of the set -> `SREM key member` per popped member, wrapped in
//!   `MULTI` ... `EXEC` when there are several (Redis 7.0 wraps a command's multiple
//!   propagated writes in a transaction)
//! - SPOP key count, popping the whole set -> `DEL key`
//! - SADD, SREM, SMOVE, S*STORE -> themselves, only when they changed something.
//!
//! Multi-key commands lock every key's shard for the whole command (atomicity) but read the
//! sets one at a time, building an owned result, because a [`MultiLocked`] hands out one
//! shard at a time.

use crate::args::{self, is};
use crate::ctx::{Ctx, MultiLocked};
use crate::errors::{CmdError, CmdResult, SYNTAX, WRONG_TYPE};
use crate::families::debug::{xor_digest, Digest20};
use crate::glob;
use crate::table::{flags::*, CommandTable, Group, Spec};
use rand::Rng;
use smallvec::SmallVec;
use tern_keyspace::set::Member;
use tern_keyspace::value::SmallBytes;
use tern_keyspace::{Entry, Set, Value};
use tern_resp::ReplyWriter;

#[cfg(test)]
#[path = "set_tests.rs"]
mod tests;

/// Registers the set commands.
pub fn register(t: &mut CommandTable) {
    let s = |name, arity, flags| {
        Spec::new(name, arity, flags)
            .group(Group::Set)
            .keys(1, 1, 1)
    };
    t.add(
        s("sadd", -3, WRITE | DENYOOM | FAST)
            .doc(
                "1.0.0",
                "Adds one or more members to a set. Creates the key if it doesn't exist.",
            )
            .handler(sadd),
    );
    t.add(
        s("srem", -3, WRITE | FAST)
            .doc("1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed.")
            .handler(srem),
    );
    t.add(
        s("scard", 2, READONLY | FAST)
            .doc("1.0.0", "Returns the number of members in a set.")
            .handler(scard),
    );
    t.add(
        s("sismember", 3, READONLY | FAST)
            .doc("1.0.0", "Determines whether a member belongs to a set.")
            .handler(sismember),
    );
    t.add(
        s("smismember", -3, READONLY | FAST)
            .doc(
                "6.2.0",
                "Determines whether multiple members belong to a set.",
            )
            .handler(smismember),
    );
    t.add(
        s("smembers", 2, READONLY)
            .doc("1.0.0", "Returns all members of a set.")
            .handler(sinter),
    );
    t.add(
        s("srandmember", -2, READONLY)
            .doc("1.0.0", "Get one or multiple random members from a set")
            .handler(srandmember),
    );
    t.add(
        s("spop", -2, WRITE | FAST)
            .doc("1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.")
            .handler(spop),
    );
    t.add(
        s("smove", 4, WRITE | FAST)
            .keys(1, 2, 1)
            .doc("1.0.0", "Moves a member from one set to another.")
            .handler(smove),
    );
    t.add(
        s("sinter", -2, READONLY)
            .keys(1, -1, 1)
            .doc("1.0.0", "Returns the intersect of multiple sets.")
            .handler(sinter),
    );
    t.add(
        s("sintercard", -3, READONLY | MOVABLE_KEYS)
            .keys(0, 0, 0)
            .doc(
                "7.0.0",
                "Returns the number of members of the intersect of multiple sets.",
            )
            .handler(sintercard),
    );
    t.add(
        s("sunion", -2, READONLY)
            .keys(1, -1, 1)
            .doc("1.0.0", "Returns the union of multiple sets.")
            .handler(sunion),
    );
    t.add(
        s("sdiff", -2, READONLY)
            .keys(1, -1, 1)
            .doc("1.0.0", "Returns the difference of multiple sets.")
            .handler(sdiff),
    );
    t.add(
        s("sinterstore", -3, WRITE | DENYOOM)
            .keys(1, -1, 1)
            .doc("1.0.0", "Stores the intersect of multiple sets in a key.")
            .handler(sinterstore),
    );
    t.add(
        s("sunionstore", -3, WRITE | DENYOOM)
            .keys(1, -1, 1)
            .doc("1.0.0", "Stores the union of multiple sets in a key.")
            .handler(sunionstore),
    );
    t.add(
        s("sdiffstore", -3, WRITE | DENYOOM)
            .keys(1, -1, 1)
            .doc("1.0.0", "Stores the difference of multiple sets in a key.")
            .handler(sdiffstore),
    );
    t.add(
        s("sscan", -3, READONLY)
            .doc("2.8.0", "Iterates over members of a set.")
            .handler(sscan),
    );
}

/// Mixes a set value into a DEBUG DIGEST(-VALUE) digest, as Redis's `xorObjectDigest` does: the
/// members are xored in (so their order does not matter).
pub fn digest(d: &mut Digest20, v: &Set) {
    v.for_each(|m| xor_digest(d, m));
}

/// The set in an entry, or WRONGTYPE.
#[inline]
fn as_set(e: &mut Entry) -> Result<&mut Set, CmdError> {
    match &mut e.value {
        Value::Set(s) => Ok(s),
        _ => Err(CmdError::Static(WRONG_TYPE)),
    }
}

/// Writes one member as a bulk string.
#[inline]
fn reply_member(out: &mut ReplyWriter, m: Member<'_>) {
    match m {
        Member::Int(v) => out.bulk_int(v),
        Member::Bytes(b) => out.bulk(b),
    }
}

/// A member copied out of a set (integers stay integers, as an intset yields them).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Owned {
    Int(i64),
    Bytes(SmallBytes),
}

impl Owned {
    fn of(m: Member<'_>) -> Owned {
        match m {
            Member::Int(v) => Owned::Int(v),
            Member::Bytes(b) => Owned::Bytes(SmallBytes::new(b)),
        }
    }

    fn member(&self) -> Member<'_> {
        match self {
            Owned::Int(v) => Member::Int(*v),
            Owned::Bytes(b) => Member::Bytes(b),
        }
    }
}

/// SADD key member [member ...]
fn sadd(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let db = cx.db();
    let max = cx.limits().set_max_intset_entries;
    let (mut lk, h) = cx.lock_key(key);
    let members = &cx.args[2..];
    let added = match lk.lookup(db, h, key, cx.now_ms) {
        Some(e) => {
            let s = as_set(e)?;
            members.iter().filter(|m| s.insert(m, max)).count()
        }
        None => {
            let mut s = Set::new_for(members[0]);
            let n = members.iter().filter(|m| s.insert(m, max)).count();
            lk.db(db).insert(h, key, Entry::new(Value::Set(s)));
            n
        }
    };
    if added > 0 {
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.int(added as i64);
    Ok(())
}

/// SREM key member [member ...]
fn srem(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(e) = lk.lookup(db, h, key, cx.now_ms) else {
        cx.out.int(0);
        return Ok(());
    };
    let s = as_set(e)?;
    let mut deleted = 0;
    for m in &cx.args[2..] {
        if s.remove(m) {
            deleted += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    if s.is_empty() {
        lk.db(db).remove(h, key);
    }
    if deleted > 0 {
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.int(deleted);
    Ok(())
}

/// Runs `f` on the set at `key` for a read command, counting a keyspace hit or miss. Replies
/// `missing` (through `f(None)`) when the key does not exist.
fn read_set<R>(
    cx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&mut ReplyWriter, Option<&Set>) -> R,
) -> Result<R, CmdError> {
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let r = match lk.lookup(db, h, key, cx.now_ms) {
        None => {
            cx.hit(false);
            f(cx.out, None)
        }
        Some(e) => {
            e.lru = tern_keyspace::db::lru_clock();
            let s = as_set(e)?;
            cx.hit(true);
            f(cx.out, Some(&*s))
        }
    };
    Ok(r)
}

/// SCARD key
fn scard(cx: &mut Ctx) -> CmdResult {
    read_set(cx, cx.arg(1), |out, s| {
        out.int(s.map_or(0, |s| s.len() as i64))
    })
}

/// SISMEMBER key member
fn sismember(cx: &mut Ctx) -> CmdResult {
    let m = cx.arg(2);
    read_set(cx, cx.arg(1), |out, s| {
        out.int(s.is_some_and(|s| s.contains(m)) as i64)
    })
}

/// SMISMEMBER key member [member ...]
fn smismember(cx: &mut Ctx) -> CmdResult {
    let ms = &cx.args[2..];
    read_set(cx, cx.arg(1), |out, s| {
        out.array(ms.len());
        for m in ms {
            out.int(s.is_some_and(|s| s.contains(m)) as i64);
        }
    })
}

/// SRANDMEMBER key [count]
fn srandmember(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 3 {
        return Err(SYNTAX.into());
    }
    if cx.argc() == 2 {
        return read_set(cx, cx.arg(1), |out, s| match s {
            None => out.null(),
            Some(s) => reply_member(out, s.random(&mut rand::thread_rng()).expect("non-empty")),
        });
    }
    let l = args::int(cx.arg(2))?;
    if l == i64::MIN {
        return Err(CmdError::Msg(format!(
            "ERR value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    let (count, uniq) = (l.unsigned_abs(), l >= 0);
    read_set(cx, cx.arg(1), |out, s| {
        let Some(s) = s else {
            out.array(0);
            return;
        };
        let mut rng = rand::thread_rng();
        let size = s.len() as u64;
        if count == 0 {
            out.array(0);
        } else if !uniq {
            // CASE 1: repeats allowed, each pick independent.
            out.array(count as usize);
            for _ in 0..count {
                reply_member(out, s.random(&mut rng).expect("non-empty"));
            }
        } else if count >= size {
            // CASE 2: the whole set.
            out.array(size as usize);
            s.for_each_member(|m| reply_member(out, m));
        } else if count * 3 > size {
            // CASE 3: copy everything, then drop random members down to `count`.
            let mut all: Vec<Member<'_>> = s.members();
            while all.len() as u64 > count {
                let i = rng.gen_range(0..all.len());
                all.swap_remove(i);
            }
            out.array(all.len());
            for m in all {
                reply_member(out, m);
            }
        } else {
            // CASE 4: random picks until `count` distinct members.
            let mut seen = std::collections::HashSet::with_capacity(count as usize);
            let mut picked = Vec::with_capacity(count as usize);
            while (picked.len() as u64) < count {
                let m = s.random(&mut rng).expect("non-empty");
                if seen.insert(m) {
                    picked.push(m);
                }
            }
            out.array(picked.len());
            for m in picked {
                reply_member(out, m);
            }
        }
    })
}

/// SPOP key [count]
fn spop(cx: &mut Ctx) -> CmdResult {
    if cx.argc() > 3 {
        return Err(SYNTAX.into());
    }
    let key = cx.arg(1);
    let db = cx.db();
    let count = if cx.argc() == 3 {
        // Redis 7.0 replies the same error for a negative count and for a non-integer one.
        match args::int(cx.arg(2)) {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return Err(CmdError::Static(
                    "ERR value is out of range, must be positive",
                ))
            }
        }
    } else {
        None
    };
    let (mut lk, h) = cx.lock_key(key);
    let Some(e) = lk.lookup(db, h, key, cx.now_ms) else {
        match count {
            None => cx.out.null(),
            Some(_) => cx.out.set(0),
        }
        return Ok(());
    };
    let s = as_set(e)?;
    let mut rng = rand::thread_rng();
    let Some(count) = count else {
        let m = Owned::of(s.random(&mut rng).expect("non-empty"));
        match &m {
            Owned::Int(v) => s.remove_int(*v),
            Owned::Bytes(b) => s.remove(b),
        };
        let empty = s.is_empty();
        if empty {
            lk.db(db).remove(h, key);
        }
        m.member()
            .with_bytes(|b| cx.propagate(&mut lk, &[b"SREM", key, b]));
        reply_member(cx.out, m.member());
        return Ok(());
    };
    let count = count as u64;
    if count == 0 {
        cx.out.set(0);
        return Ok(());
    }
    let size = s.len() as u64;
    if count >= size {
        // CASE 1: the whole set goes; propagated as DEL.
        cx.out.set(size as usize);
        s.for_each_member(|m| reply_member(cx.out, m));
        lk.db(db).remove(h, key);
        cx.propagate(&mut lk, &[b"DEL", key]);
        return Ok(());
    }
    // CASES 2 and 3: pop `count` random members, each propagated as an SREM.
    let mut popped: Vec<Owned> = Vec::with_capacity(count as usize);
    let remaining = size - count;
    if remaining * 5 > count {
        for _ in 0..count {
            let m = Owned::of(s.random(&mut rng).expect("non-empty"));
            match &m {
                Owned::Int(v) => s.remove_int(*v),
                Owned::Bytes(b) => s.remove(b),
            };
            popped.push(m);
        }
    } else {
        // Most of the set goes: pick the members that stay instead, then pop the rest.
        let mut keep: Vec<Owned> = Vec::with_capacity(remaining as usize);
        for _ in 0..remaining {
            let m = Owned::of(s.random(&mut rng).expect("non-empty"));
            match &m {
                Owned::Int(v) => s.remove_int(*v),
                Owned::Bytes(b) => s.remove(b),
            };
            keep.push(m);
        }
        s.for_each_member(|m| popped.push(Owned::of(m)));
        let max = cx.limits().set_max_intset_entries;
        let mut rest = keep[0].member().with_bytes(Set::new_for);
        for m in &keep {
            m.member().with_bytes(|b| rest.insert(b, max));
        }
        *s = rest;
    }
    cx.out.set(popped.len());
    for m in &popped {
        reply_member(cx.out, m.member());
    }
    cx.propagate_wrapped(&mut lk, popped.len(), |cx, lk| {
        for m in &popped {
            m.member()
                .with_bytes(|b| cx.propagate(lk, &[b"SREM", key, b]));
        }
    });
    Ok(())
}

/// SMOVE source destination member
fn smove(cx: &mut Ctx) -> CmdResult {
    let (src, dst, member) = (cx.arg(1), cx.arg(2), cx.arg(3));
    let db = cx.db();
    let now = cx.now_ms;
    let max = cx.limits().set_max_intset_entries;
    let mut ml = cx.lock_keys(&[src, dst]);
    let (hs, hd) = (ml.hashes[0], ml.hashes[1]);
    let src_present = match ml.shard(hs).lookup(db, hs, src, now) {
        None => false,
        Some(e) => {
            as_set(e)?;
            true
        }
    };
    let dst_present = match ml.shard(hd).lookup(db, hd, dst, now) {
        None => false,
        Some(e) => {
            if src_present {
                as_set(e)?;
            }
            true
        }
    };
    if !src_present {
        cx.out.int(0);
        return Ok(());
    }
    if src == dst {
        let e = ml.shard(hs).lookup(db, hs, src, now).expect("present");
        let found = as_set(e)?.contains(member);
        cx.out.int(found as i64);
        return Ok(());
    }
    let lk = ml.shard(hs);
    let s = as_set(lk.lookup(db, hs, src, now).expect("present"))?;
    if !s.remove(member) {
        cx.out.int(0);
        return Ok(());
    }
    if s.is_empty() {
        lk.db(db).remove(hs, src);
    }
    let lk = ml.shard(hd);
    if dst_present {
        as_set(lk.lookup(db, hd, dst, now).expect("present"))?.insert(member, max);
    } else {
        let mut s = Set::new_for(member);
        s.insert(member, max);
        lk.db(db).insert(hd, dst, Entry::new(Value::Set(s)));
    }
    ml.flush_expired();
    cx.propagate(ml.first(), cx.args);
    cx.out.int(1);
    Ok(())
}

/// Looks up every key of a multi-key read (lazily expiring, counting hits), checking types.
/// Returns each key's set size, None for a missing key.
fn sizes(
    cx: &Ctx,
    ml: &mut MultiLocked<'_>,
    keys: &[&[u8]],
    first_hash: usize,
) -> Result<Vec<Option<usize>>, CmdError> {
    let db = cx.db();
    let mut v = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let h = ml.hashes[first_hash + i];
        match ml.shard(h).lookup(db, h, k, cx.now_ms) {
            None => {
                cx.hit(false);
                v.push(None);
            }
            Some(e) => {
                let n = as_set(e)?.len();
                cx.hit(true);
                v.push(Some(n));
            }
        }
    }
    Ok(v)
}

/// Runs `f` on the (existing) set at `key`.
fn with_set<R>(
    cx: &Ctx,
    ml: &mut MultiLocked<'_>,
    h: u64,
    key: &[u8],
    f: impl FnOnce(&Set) -> R,
) -> R {
    let e = ml
        .shard(h)
        .lookup(cx.db(), h, key, cx.now_ms)
        .expect("looked up under the same lock");
    match &e.value {
        Value::Set(s) => f(s),
        _ => unreachable!("type checked under the same lock"),
    }
}

/// What a set-algebra command does with its result.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Reply with the members (a RESP3 set).
    Members,
    /// Reply with the count, stopping at `limit` (0 = no limit): SINTERCARD.
    Card(u64),
    /// Store into the first key; reply with the count.
    Store,
}

/// The intersection of the sets at `keys` (Redis's `sinterGenericCommand`): iterates the
/// smallest set and keeps the members every other set holds. Returns the members in the
/// smallest set's order, or None if a key is missing (the intersection is then empty).
fn inter(
    cx: &Ctx,
    ml: &mut MultiLocked<'_>,
    keys: &[&[u8]],
    first_hash: usize,
    limit: u64,
) -> Result<Option<Vec<Owned>>, CmdError> {
    let sz = sizes(cx, ml, keys, first_hash)?;
    if sz.iter().any(Option::is_none) {
        return Ok(None);
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| sz[i]);
    let first = order[0];
    let mut cand: Vec<Owned> = with_set(cx, ml, ml.hashes[first_hash + first], keys[first], |s| {
        let mut v = Vec::with_capacity(s.len());
        s.for_each_member(|m| v.push(Owned::of(m)));
        v
    });
    for &j in &order[1..] {
        if keys[j] == keys[first] || cand.is_empty() {
            continue;
        }
        let h = ml.hashes[first_hash + j];
        with_set(cx, ml, h, keys[j], |s| {
            cand.retain(|m| s.contains_member(m.member()))
        });
    }
    if limit > 0 && cand.len() as u64 > limit {
        cand.truncate(limit as usize);
    }
    Ok(Some(cand))
}

/// SINTER key [key ...], and SMEMBERS key.
fn sinter(cx: &mut Ctx) -> CmdResult {
    let a = cx.args;
    inter_generic(cx, &a[1..], Output::Members)
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(cx: &mut Ctx) -> CmdResult {
    let a = cx.args;
    inter_generic(cx, &a[1..], Output::Store)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(cx: &mut Ctx) -> CmdResult {
    let numkeys_err = || CmdError::Static("ERR numkeys should be greater than 0");
    let n = args::int(cx.arg(1)).map_err(|_| numkeys_err())?;
    if n < 1 {
        return Err(numkeys_err());
    }
    if n > (cx.argc() - 2) as i64 {
        return Err(CmdError::Static(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let n = n as usize;
    let mut limit = 0u64;
    let mut i = 2 + n;
    while i < cx.argc() {
        if is(cx.arg(i), "LIMIT") && i + 1 < cx.argc() {
            let bad = || CmdError::Static("ERR LIMIT can't be negative");
            let l = args::int(cx.arg(i + 1)).map_err(|_| bad())?;
            if l < 0 {
                return Err(bad());
            }
            limit = l as u64;
            i += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    let a = cx.args;
    inter_generic(cx, &a[2..2 + n], Output::Card(limit))
}

/// The shared body of SINTER, SMEMBERS, SINTERCARD and SINTERSTORE. `args` is the keys, the
/// destination first for [`Output::Store`].
fn inter_generic(cx: &mut Ctx, args: &[&[u8]], output: Output) -> CmdResult {
    let mut ml = cx.lock_keys(args);
    let first_hash = usize::from(output == Output::Store);
    let keys = &args[first_hash..];
    let limit = match output {
        Output::Card(l) => l,
        _ => 0,
    };
    let result = inter(cx, &mut ml, keys, first_hash, limit)?;
    let members = result.unwrap_or_default();
    match output {
        Output::Members => {
            cx.out.set(members.len());
            for m in &members {
                reply_member(cx.out, m.member());
            }
        }
        Output::Card(_) => cx.out.int(members.len() as i64),
        Output::Store => {
            let max = cx.limits().set_max_intset_entries;
            let mut dst = Set::new_intset();
            for m in &members {
                m.member().with_bytes(|b| dst.insert(b, max));
            }
            store(cx, &mut ml, args[0], dst);
        }
    }
    ml.flush_expired();
    Ok(())
}

/// Stores the result of an S*STORE command into `dst` (deleting `dst` when the result is
/// empty), replies with its size and propagates the command when something changed.
fn store(cx: &mut Ctx, ml: &mut MultiLocked<'_>, dst: &[u8], set: Set) {
    let db = cx.db();
    let h = ml.hashes[0];
    let lk = ml.shard(h);
    let n = set.len();
    let changed = if n > 0 {
        lk.db(db).insert(h, dst, Entry::new(Value::Set(set)));
        true
    } else {
        lk.db(db).remove(h, dst).is_some()
    };
    ml.flush_expired();
    if changed {
        cx.propagate(ml.first(), cx.args);
    }
    cx.out.int(n as i64);
}

/// SUNION key [key ...]
fn sunion(cx: &mut Ctx) -> CmdResult {
    union_diff(cx, false, false)
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(cx: &mut Ctx) -> CmdResult {
    union_diff(cx, false, true)
}

/// SDIFF key [key ...]
fn sdiff(cx: &mut Ctx) -> CmdResult {
    union_diff(cx, true, false)
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(cx: &mut Ctx) -> CmdResult {
    union_diff(cx, true, true)
}

/// The shared body of SUNION, SDIFF and their STORE forms (Redis's
/// `sunionDiffGenericCommand`): the result is built as a new set (intset first, converting as
/// members arrive), which is what is stored or replied.
fn union_diff(cx: &mut Ctx, diff: bool, store_it: bool) -> CmdResult {
    let all = cx.args;
    let args = &all[1..];
    let mut ml = cx.lock_keys(args);
    let first_hash = usize::from(store_it);
    let keys = &args[first_hash..];
    let sz = sizes(cx, &mut ml, keys, first_hash)?;
    let max = cx.limits().set_max_intset_entries;
    let mut dst = Set::new_intset();
    if !diff {
        for (j, k) in keys.iter().enumerate() {
            if sz[j].is_none() {
                continue;
            }
            let h = ml.hashes[first_hash + j];
            with_set(cx, &mut ml, h, k, |s| {
                s.for_each_member(|m| {
                    m.with_bytes(|b| dst.insert(b, max));
                })
            });
        }
    } else if sz[0].is_some() && !keys[1..].contains(&keys[0]) {
        // Redis picks between "check each member of the first set against the others" and
        // "copy the first set and remove the others' members" by estimated work; the result
        // is the same set, so this picks by the same estimate only for speed.
        let first_len = sz[0].unwrap_or(0) as u64;
        let present = sz.iter().flatten().count() as u64;
        let algo_one = first_len * present / 2;
        let algo_two: u64 = sz.iter().flatten().map(|&n| n as u64).sum();
        let h0 = ml.hashes[first_hash];
        if algo_one <= algo_two {
            let mut cand: Vec<Owned> = with_set(cx, &mut ml, h0, keys[0], |s| {
                let mut v = Vec::with_capacity(s.len());
                s.for_each_member(|m| v.push(Owned::of(m)));
                v
            });
            let mut others: SmallVec<[usize; 8]> =
                (1..keys.len()).filter(|&j| sz[j].is_some()).collect();
            others.sort_by_key(|&j| std::cmp::Reverse(sz[j]));
            for j in others {
                if cand.is_empty() {
                    break;
                }
                let h = ml.hashes[first_hash + j];
                with_set(cx, &mut ml, h, keys[j], |s| {
                    cand.retain(|m| !s.contains_member(m.member()))
                });
            }
            for m in &cand {
                m.member().with_bytes(|b| dst.insert(b, max));
            }
        } else {
            with_set(cx, &mut ml, h0, keys[0], |s| {
                s.for_each_member(|m| {
                    m.with_bytes(|b| dst.insert(b, max));
                })
            });
            for j in 1..keys.len() {
                if sz[j].is_none() || dst.is_empty() {
                    continue;
                }
                let h = ml.hashes[first_hash + j];
                with_set(cx, &mut ml, h, keys[j], |s| {
                    s.for_each_member(|m| {
                        m.with_bytes(|b| dst.remove(b));
                    })
                });
            }
        }
    }
    if store_it {
        store(cx, &mut ml, args[0], dst);
    } else {
        cx.out.set(dst.len());
        dst.for_each_member(|m| reply_member(cx.out, m));
        ml.flush_expired();
    }
    Ok(())
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(cx: &mut Ctx) -> CmdResult {
    let cursor = crate::families::keys::parse_cursor(cx.arg(2))?;
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(e) = lk.lookup(db, h, key, cx.now_ms) else {
        cx.hit(false);
        cx.out.array(2);
        cx.out.bulk(b"0");
        cx.out.array(0);
        return Ok(());
    };
    let s = as_set(e)?;
    cx.hit(true);
    // Options are parsed after the key lookup, as Redis's scanGenericCommand does.
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
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
        } else {
            return Err(SYNTAX.into());
        }
        i += 2;
    }
    let mut found: Vec<Owned> = Vec::new();
    let mut c = cursor;
    let mut steps = count.saturating_mul(10);
    loop {
        c = s.scan(c, |m| found.push(Owned::of(m)));
        if c == 0 || steps == 0 || found.len() >= count {
            break;
        }
        steps -= 1;
    }
    if let Some(p) = pattern {
        found.retain(|m| m.member().with_bytes(|b| glob::matches(p, b)));
    }
    cx.out.array(2);
    cx.out.bulk(itoa::Buffer::new().format(c).as_bytes());
    cx.out.array(found.len());
    for m in &found {
        reply_member(cx.out, m.member());
    }
    Ok(())
}
