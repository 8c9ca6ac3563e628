//! Hash commands (Redis's t_hash.c): HSET HSETNX HGET HMGET HMSET HDEL HLEN HSTRLEN HEXISTS
//! HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN.
//!
//! The data structure (listpack, then hashtable) is `tern_keyspace::Hash`; this file parses
//! arguments, checks types, applies Redis's conversion rules through it and builds replies.
//!
//! Propagated forms:
//! - HINCRBYFLOAT -> `HSET key field <result>` (the result's exact text, as Redis does, so
//!   replicas never recompute a float);
//! - HSET, HMSET, HSETNX (when it sets), HDEL (when it deletes something), HINCRBY -> as sent.
//!   The key is deleted when its last field goes, and the replica does the same on HDEL.
//!
//! Keyspace hits and misses are counted by the read commands, as Redis's `lookupKeyRead`.

use crate::args::{self, is};
use crate::ctx::{Ctx, Locked};
use crate::errors::{CmdError, CmdResult, NOT_FLOAT, OVERFLOW, SYNTAX, WRONG_TYPE};
use crate::families::debug::{mix_digest, xor_digest, Digest20};
use crate::families::keys::parse_cursor;
use crate::glob;
use crate::table::{flags::*, CommandTable, Group, Spec};
use tern_keyspace::longdouble;
use tern_keyspace::{Entry, Hash, LpValue, Value};
use tern_resp::ReplyWriter;

/// Registers the hash commands.
pub fn register(t: &mut CommandTable) {
    let s = |name, arity, flags| {
        Spec::new(name, arity, flags)
            .group(Group::Hash)
            .keys(1, 1, 1)
    };
    t.add(
        s("hset", -4, WRITE | DENYOOM | FAST)
            .doc(
                "2.0.0",
                "Creates or modifies the value of a field in a hash.",
            )
            .handler(hset),
    );
    t.add(
        s("hsetnx", 4, WRITE | DENYOOM | FAST)
            .doc(
                "2.0.0",
                "Sets the value of a field in a hash only when the field doesn't exist.",
            )
            .handler(hsetnx),
    );
    t.add(
        s("hmset", -4, WRITE | DENYOOM | FAST)
            .doc("2.0.0", "Sets the values of multiple fields.")
            .handler(hmset),
    );
    t.add(
        s("hget", 3, READONLY | FAST)
            .doc("2.0.0", "Returns the value of a field in a hash.")
            .handler(hget),
    );
    t.add(
        s("hmget", -3, READONLY | FAST)
            .doc("2.0.0", "Returns the values of all fields in a hash.")
            .handler(hmget),
    );
    t.add(s("hdel", -3, WRITE | FAST).doc("2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.").handler(hdel));
    t.add(
        s("hlen", 2, READONLY | FAST)
            .doc("2.0.0", "Returns the number of fields in a hash.")
            .handler(hlen),
    );
    t.add(
        s("hstrlen", 3, READONLY | FAST)
            .doc("3.2.0", "Returns the length of the value of a field.")
            .handler(hstrlen),
    );
    t.add(
        s("hexists", 3, READONLY | FAST)
            .doc("2.0.0", "Determines whether a field exists in a hash.")
            .handler(hexists),
    );
    t.add(
        s("hkeys", 2, READONLY)
            .doc("2.0.0", "Returns all fields in a hash.")
            .handler(hkeys),
    );
    t.add(
        s("hvals", 2, READONLY)
            .doc("2.0.0", "Returns all values in a hash.")
            .handler(hvals),
    );
    t.add(
        s("hgetall", 2, READONLY)
            .doc("2.0.0", "Returns all fields and values in a hash.")
            .handler(hgetall),
    );
    t.add(s("hincrby", 4, WRITE | DENYOOM | FAST).doc("2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.").handler(hincrby));
    t.add(s("hincrbyfloat", 4, WRITE | DENYOOM | FAST).doc("2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.").handler(hincrbyfloat));
    t.add(
        s("hrandfield", -2, READONLY)
            .doc("6.2.0", "Returns one or more random fields from a hash.")
            .handler(hrandfield),
    );
    t.add(
        s("hscan", -3, READONLY)
            .doc("2.8.0", "Iterates over fields and values of a hash.")
            .handler(hscan),
    );
}

/// Mixes a hash value into a DEBUG DIGEST(-VALUE) digest, as Redis's `xorObjectDigest` does:
/// each pair gets its own digest (mix field, mix value), xored into the key's digest, so the
/// order of the pairs does not matter.
pub fn digest(d: &mut Digest20, v: &Hash) {
    v.for_each(|f, val| {
        let mut e = [0u8; 20];
        f.with_bytes(|b| mix_digest(&mut e, b));
        val.with_bytes(|b| mix_digest(&mut e, b));
        xor_digest(d, &e);
    });
}

/// Writes a field or value as a bulk string.
#[inline]
fn reply_lp(out: &mut ReplyWriter, v: LpValue<'_>) {
    match v {
        LpValue::Int(i) => out.bulk_int(i),
        LpValue::Str(s) => out.bulk(s),
    }
}

/// The hash in an entry, or WRONGTYPE.
#[inline]
fn as_hash(e: &Entry) -> Result<&Hash, CmdError> {
    match &e.value {
        Value::Hash(h) => Ok(h),
        _ => Err(CmdError::Static(WRONG_TYPE)),
    }
}

/// The hash in an entry, mutably, or WRONGTYPE.
#[inline]
fn as_hash_mut(e: &mut Entry) -> Result<&mut Hash, CmdError> {
    match &mut e.value {
        Value::Hash(h) => Ok(h),
        _ => Err(CmdError::Static(WRONG_TYPE)),
    }
}

/// Looks `key` up for a read command: counts the hit or miss and refreshes the LRU clock.
/// `Ok(None)` if missing, WRONGTYPE if not a hash.
fn read_hash<'l>(
    cx: &Ctx,
    lk: &'l mut Locked<'_>,
    h: u64,
    key: &[u8],
) -> Result<Option<&'l Hash>, CmdError> {
    match lk.lookup(cx.db(), h, key, cx.now_ms) {
        None => {
            cx.hit(false);
            Ok(None)
        }
        Some(e) => {
            cx.hit(true);
            e.lru = tern_keyspace::db::lru_clock();
            as_hash(e).map(Some)
        }
    }
}

/// Runs `f` on the hash at `key`, creating an empty one if the key is missing (Redis's
/// `hashTypeLookupWriteOrCreate`). A created hash is stored only if `f` left it non-empty.
fn write_hash<R>(
    cx: &Ctx,
    lk: &mut Locked<'_>,
    h: u64,
    key: &[u8],
    f: impl FnOnce(&mut Hash) -> Result<R, CmdError>,
) -> Result<R, CmdError> {
    let db = cx.db();
    match lk.lookup(db, h, key, cx.now_ms) {
        Some(e) => f(as_hash_mut(e)?),
        None => {
            let mut hash = Hash::new();
            let r = f(&mut hash);
            if !hash.is_empty() {
                lk.db(db).insert(h, key, Entry::new(Value::Hash(hash)));
            }
            r
        }
    }
}

/// The shared body of HSET and HMSET; returns the number of new fields.
fn hset_generic(cx: &mut Ctx) -> Result<i64, CmdError> {
    if cx.argc() % 2 == 1 {
        return Err(CmdError::arity(&cx.spec.name));
    }
    let key = cx.arg(1);
    let limits = cx.limits();
    let pairs = &cx.args[2..];
    let (mut lk, h) = cx.lock_key(key);
    let created = write_hash(cx, &mut lk, h, key, |hash| {
        // As Redis's hashTypeTryConversion: any long argument converts before the writes.
        hash.convert_for(pairs.iter().map(|a| a.len()), &limits);
        Ok(pairs
            .chunks_exact(2)
            .filter(|p| hash.set(p[0], p[1], &limits))
            .count() as i64)
    })?;
    cx.propagate(&mut lk, cx.args);
    Ok(created)
}

/// HSET key field value [field value ...]
fn hset(cx: &mut Ctx) -> CmdResult {
    let n = hset_generic(cx)?;
    cx.out.int(n);
    Ok(())
}

/// HMSET key field value [field value ...]
fn hmset(cx: &mut Ctx) -> CmdResult {
    hset_generic(cx)?;
    cx.out.ok();
    Ok(())
}

/// HSETNX key field value
fn hsetnx(cx: &mut Ctx) -> CmdResult {
    let (key, field, value) = (cx.arg(1), cx.arg(2), cx.arg(3));
    let limits = cx.limits();
    let (mut lk, h) = cx.lock_key(key);
    let set = write_hash(cx, &mut lk, h, key, |hash| {
        Ok(!hash.contains(field) && hash.set(field, value, &limits))
    })?;
    if set {
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.int(set as i64);
    Ok(())
}

/// HGET key field
fn hget(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    match read_hash(cx, &mut lk, h, key)?.and_then(|hash| hash.get(cx.arg(2))) {
        Some(v) => reply_lp(cx.out, v),
        None => cx.out.null(),
    }
    Ok(())
}

/// HMGET key field [field ...]
fn hmget(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let hash = read_hash(cx, &mut lk, h, key)?;
    let fields = &cx.args[2..];
    cx.out.array(fields.len());
    for f in fields {
        match hash.and_then(|hash| hash.get(f)) {
            Some(v) => reply_lp(cx.out, v),
            None => cx.out.null(),
        }
    }
    Ok(())
}

/// HDEL key field [field ...]
fn hdel(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(e) = lk.lookup(db, h, key, cx.now_ms) else {
        cx.out.int(0);
        return Ok(());
    };
    let hash = as_hash_mut(e)?;
    let mut deleted = 0;
    for f in &cx.args[2..] {
        if hash.remove(f) {
            deleted += 1;
            if hash.is_empty() {
                break;
            }
        }
    }
    if hash.is_empty() {
        lk.db(db).remove(h, key);
    }
    if deleted > 0 {
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.int(deleted);
    Ok(())
}

/// HLEN key
fn hlen(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let n = read_hash(cx, &mut lk, h, key)?.map_or(0, |hash| hash.len());
    cx.out.int(n as i64);
    Ok(())
}

/// HSTRLEN key field
fn hstrlen(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let n = read_hash(cx, &mut lk, h, key)?
        .and_then(|hash| hash.get(cx.arg(2)))
        .map_or(0, |v| v.with_bytes(|b| b.len()));
    cx.out.int(n as i64);
    Ok(())
}

/// HEXISTS key field
fn hexists(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let found = read_hash(cx, &mut lk, h, key)?.is_some_and(|hash| hash.contains(cx.arg(2)));
    cx.out.int(found as i64);
    Ok(())
}

/// What HKEYS, HVALS and HGETALL reply with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Keys,
    Vals,
    Both,
}

/// The shared body of HKEYS, HVALS and HGETALL (Redis's `genericHgetallCommand`).
fn getall_generic(cx: &mut Ctx, part: Part) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let hash = read_hash(cx, &mut lk, h, key)?;
    let n = hash.map_or(0, |hash| hash.len());
    match part {
        Part::Both => cx.out.map(n),
        _ => cx.out.array(n),
    }
    if let Some(hash) = hash {
        let out = &mut *cx.out;
        hash.for_each(|f, v| {
            if part != Part::Vals {
                reply_lp(out, f);
            }
            if part != Part::Keys {
                reply_lp(out, v);
            }
        });
    }
    Ok(())
}

/// HKEYS key
fn hkeys(cx: &mut Ctx) -> CmdResult {
    getall_generic(cx, Part::Keys)
}

/// HVALS key
fn hvals(cx: &mut Ctx) -> CmdResult {
    getall_generic(cx, Part::Vals)
}

/// HGETALL key
fn hgetall(cx: &mut Ctx) -> CmdResult {
    getall_generic(cx, Part::Both)
}

/// HINCRBY key field increment
fn hincrby(cx: &mut Ctx) -> CmdResult {
    let (key, field) = (cx.arg(1), cx.arg(2));
    let incr = args::int(cx.arg(3))?;
    let limits = cx.limits();
    let (mut lk, h) = cx.lock_key(key);
    let value = write_hash(cx, &mut lk, h, key, |hash| {
        let old = match hash.get(field) {
            None => 0,
            Some(LpValue::Int(i)) => i,
            Some(LpValue::Str(s)) => tern_keyspace::value::parse_canonical_i64(s)
                .ok_or(CmdError::Static("ERR hash value is not an integer"))?,
        };
        let new = old.checked_add(incr).ok_or(CmdError::Static(OVERFLOW))?;
        hash.set(field, itoa::Buffer::new().format(new).as_bytes(), &limits);
        Ok(new)
    })?;
    cx.propagate(&mut lk, cx.args);
    cx.out.int(value);
    Ok(())
}

/// HINCRBYFLOAT key field increment
///
/// Computed in x87 long double and printed as Redis's `ld2string(LD_STR_HUMAN)`, like
/// INCRBYFLOAT; propagated as `HSET key field <result>`.
fn hincrbyfloat(cx: &mut Ctx) -> CmdResult {
    let (key, field) = (cx.arg(1), cx.arg(2));
    // Redis's order: the increment parses, is finite, then the type, then the stored value.
    let incr = longdouble::parse(cx.arg(3)).ok_or(CmdError::Static(NOT_FLOAT))?;
    if !incr.is_finite() {
        return Err("ERR value is NaN or Infinity".into());
    }
    let limits = cx.limits();
    let (mut lk, h) = cx.lock_key(key);
    let text = write_hash(cx, &mut lk, h, key, |hash| {
        let old = match hash.get(field) {
            None => longdouble::parse(b"0"),
            Some(v) => v.with_bytes(longdouble::parse),
        }
        .ok_or(CmdError::Static("ERR hash value is not a float"))?;
        let sum = old.add(&incr);
        if !sum.is_finite() {
            return Err("ERR increment would produce NaN or Infinity".into());
        }
        let text = sum.to_human_string();
        hash.set(field, text.as_bytes(), &limits);
        Ok(text)
    })?;
    cx.propagate(&mut lk, &[b"HSET", key, field, text.as_bytes()]);
    cx.out.bulk(text.as_bytes());
    Ok(())
}

/// HRANDFIELD key [count [WITHVALUES]]
///
/// With a negative count fields may repeat and exactly |count| come back; with a positive
/// count they are distinct and at most the hash's size. WITHVALUES replies with pairs: a flat
/// array in RESP2, an array of two-element arrays in RESP3 (Redis 7.0).
fn hrandfield(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let mut count = None;
    let mut withvalues = false;
    if cx.argc() >= 3 {
        let l = args::int(cx.arg(2))?;
        if l == i64::MIN {
            return Err(CmdError::Msg(format!(
                "ERR value is out of range, value must between {} and {}",
                -i64::MAX,
                i64::MAX
            )));
        }
        if cx.argc() > 4 || (cx.argc() == 4 && !is(cx.arg(3), "WITHVALUES")) {
            return Err(SYNTAX.into());
        }
        if cx.argc() == 4 {
            withvalues = true;
            if !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
                return Err("ERR value is out of range".into());
            }
        }
        count = Some(l);
    }
    let (mut lk, h) = cx.lock_key(key);
    let hash = read_hash(cx, &mut lk, h, key)?;
    let mut rng = rand::thread_rng();
    let Some(l) = count else {
        match hash.and_then(|hash| hash.random_pair(&mut rng)) {
            Some((f, _)) => reply_lp(cx.out, f),
            None => cx.out.null(),
        }
        return Ok(());
    };
    let resp3 = cx.out.resp3();
    let out = &mut *cx.out;
    let Some(hash) = hash else {
        out.array(0);
        return Ok(());
    };
    let size = hash.len();
    let n = l.unsigned_abs() as usize;
    if n == 0 {
        out.array(0);
        return Ok(());
    }
    let picks = if l < 0 || n == 1 { n } else { n.min(size) };
    out.array(if withvalues && !resp3 {
        2 * picks
    } else {
        picks
    });
    let mut pair = |f: LpValue<'_>, v: LpValue<'_>| {
        if withvalues && resp3 {
            out.array(2);
        }
        reply_lp(out, f);
        if withvalues {
            reply_lp(out, v);
        }
    };
    if l < 0 || n == 1 {
        // With repetitions (and a single pick, which cannot repeat).
        for _ in 0..n {
            let (f, v) = hash.random_pair(&mut rng).expect("hash is not empty");
            pair(f, v);
        }
    } else if n >= size {
        hash.for_each(&mut pair);
    } else {
        hash.random_distinct(&mut rng, n, &mut pair);
    }
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let cursor = parse_cursor(cx.arg(2))?;
    let (mut lk, h) = cx.lock_key(key);
    let Some(hash) = read_hash(cx, &mut lk, h, key)? else {
        cx.out.array(2);
        cx.out.bulk(b"0");
        cx.out.array(0);
        return Ok(());
    };
    // Options are parsed once the key is known to be a hash, as in Redis.
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
    // The pairs are encoded into a scratch buffer first: the array header needs their count.
    let mut pairs = ReplyWriter::new();
    let mut n = 0usize;
    let next = hash.scan(cursor, count, |f, v| {
        if pattern.is_none_or(|p| f.with_bytes(|b| glob::matches(p, b))) {
            n += 1;
            reply_lp(&mut pairs, f);
            reply_lp(&mut pairs, v);
        }
    });
    cx.out.array(2);
    cx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    cx.out.array(n * 2);
    cx.out.raw(&pairs.buf);
    Ok(())
}

#[cfg(test)]
mod tests;
