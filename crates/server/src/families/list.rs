//! List commands (Redis's t_list.c): LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX
//! LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP. The value is a quicklist
//! (`tern_keyspace::quicklist`); this file parses arguments, checks types, writes Redis's
//! replies and propagates.
//!
//! Propagated forms (what reaches the replication log), as Redis 7.0 writes them:
//! - LMPOP -> `LPOP key n` or `RPOP key n`, n being the number of elements popped.
//! - every other write as sent, and only when it changed the list (an LREM or LTRIM that
//!   removes nothing, an LINSERT without its pivot, an LPUSHX on a missing key and a pop from
//!   a missing key propagate nothing).
//!
//! The blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) reuse the pieces that work on
//! an already-locked shard: [`pop_locked`], [`mpop_locked`] and [`move_locked`].

use crate::args::{self, is};
use crate::ctx::{Ctx, Locked};
use crate::errors::{CmdError, CmdResult, NO_SUCH_KEY, SYNTAX, WRONG_TYPE};
use crate::families::debug::{mix_digest, Digest20};
use crate::table::{flags::*, CommandTable, Group, Spec};
use tern_keyspace::listpack::LpValue;
use tern_keyspace::quicklist::End;
use tern_keyspace::{Entry, List, Value};
use tern_resp::ReplyWriter;

/// Registers the list commands.
pub fn register(t: &mut CommandTable) {
    let l = |name, arity, flags| {
        Spec::new(name, arity, flags)
            .group(Group::List)
            .keys(1, 1, 1)
    };
    t.add(
        l("lpush", -3, WRITE | DENYOOM | FAST)
            .doc(
                "1.0.0",
                "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
            )
            .handler(lpush),
    );
    t.add(
        l("rpush", -3, WRITE | DENYOOM | FAST)
            .doc(
                "1.0.0",
                "Appends one or more elements to a list. Creates the key if it doesn't exist.",
            )
            .handler(rpush),
    );
    t.add(
        l("lpushx", -3, WRITE | DENYOOM | FAST)
            .doc(
                "2.2.0",
                "Prepends one or more elements to a list only when the list exists.",
            )
            .handler(lpushx),
    );
    t.add(
        l("rpushx", -3, WRITE | DENYOOM | FAST)
            .doc(
                "2.2.0",
                "Appends an element to a list only when the list exists.",
            )
            .handler(rpushx),
    );
    t.add(
        l("lpop", -2, WRITE | FAST)
            .doc("1.0.0", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.")
            .handler(lpop),
    );
    t.add(
        l("rpop", -2, WRITE | FAST)
            .doc("1.0.0", "Returns and removes the last elements of a list. Deletes the list if the last element was popped.")
            .handler(rpop),
    );
    t.add(
        l("llen", 2, READONLY | FAST)
            .doc("1.0.0", "Returns the length of a list.")
            .handler(llen),
    );
    t.add(
        l("lrange", 4, READONLY)
            .doc("1.0.0", "Returns a range of elements from a list.")
            .handler(lrange),
    );
    t.add(
        l("lindex", 3, READONLY)
            .doc("1.0.0", "Returns an element from a list by its index.")
            .handler(lindex),
    );
    t.add(
        l("lset", 4, WRITE | DENYOOM)
            .doc(
                "1.0.0",
                "Sets the value of an element in a list by its index.",
            )
            .handler(lset),
    );
    t.add(
        l("linsert", 5, WRITE | DENYOOM)
            .doc(
                "2.2.0",
                "Inserts an element before or after another element in a list.",
            )
            .handler(linsert),
    );
    t.add(
        l("lrem", 4, WRITE)
            .doc(
                "1.0.0",
                "Removes elements from a list. Deletes the list if the last element was removed.",
            )
            .handler(lrem),
    );
    t.add(
        l("ltrim", 4, WRITE)
            .doc("1.0.0", "Removes elements from both ends a list. Deletes the list if all elements were trimmed.")
            .handler(ltrim),
    );
    t.add(
        l("lpos", -3, READONLY)
            .doc("6.0.6", "Returns the index of matching elements in a list.")
            .handler(lpos),
    );
    t.add(
        l("lmove", 5, WRITE | DENYOOM)
            .keys(1, 2, 1)
            .doc("6.2.0", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.")
            .handler(lmove),
    );
    t.add(
        l("rpoplpush", 3, WRITE | DENYOOM)
            .keys(1, 2, 1)
            .doc("1.2.0", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.")
            .handler(rpoplpush),
    );
    t.add(
        l("lmpop", -4, WRITE | MOVABLE_KEYS)
            .keys(0, 0, 0)
            .doc("7.0.0", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.")
            .handler(lmpop),
    );
}

/// Mixes a list value into a DEBUG DIGEST(-VALUE) digest, as Redis's `xorObjectDigest` does:
/// every element, head to tail, mixed in as a string.
pub fn digest(d: &mut Digest20, v: &List) {
    v.for_each(|e| mix_digest(d, e));
}

/// The list in an entry, or WRONGTYPE.
#[inline]
fn as_list(e: &mut Entry) -> Result<&mut List, CmdError> {
    match &mut e.value {
        Value::List(l) => Ok(l),
        _ => Err(CmdError::Static(WRONG_TYPE)),
    }
}

/// Looks `key` up in a locked shard: None if absent (or expired), WRONGTYPE if not a list.
#[inline]
fn lookup_list<'l>(
    lk: &'l mut Locked<'_>,
    db: usize,
    h: u64,
    key: &[u8],
    now_ms: i64,
) -> Result<Option<&'l mut List>, CmdError> {
    match lk.lookup(db, h, key, now_ms) {
        None => Ok(None),
        Some(e) => as_list(e).map(Some),
    }
}

/// Like [`lookup_list`] for read commands: counts a keyspace hit or miss first, as Redis's
/// `lookupKeyRead` does (a key of another type is a hit, then WRONGTYPE).
#[inline]
fn read_list<'l>(
    cx: &Ctx,
    lk: &'l mut Locked<'_>,
    h: u64,
    key: &[u8],
) -> Result<Option<&'l mut List>, CmdError> {
    let e = lk.lookup(cx.db(), h, key, cx.now_ms);
    cx.hit(e.is_some());
    match e {
        None => Ok(None),
        Some(e) => as_list(e).map(Some),
    }
}

/// Writes one list element as a bulk string.
#[inline]
pub(crate) fn reply_elem(out: &mut ReplyWriter, v: LpValue<'_>) {
    match v {
        LpValue::Int(i) => out.bulk_int(i),
        LpValue::Str(s) => out.bulk(s),
    }
}

/// Gives a restored list (which carries no fill) the configured `list-max-listpack-size`.
#[inline]
fn ensure_fill(cx: &Ctx, l: &mut List) {
    if !l.quicklist().has_fill() {
        l.ensure_fill(cx.limits().list_max_listpack_size);
    }
}

/// A new, empty list with the configured node fill.
fn new_list(cx: &Ctx) -> List {
    List::new(cx.limits().list_max_listpack_size)
}

/// The end a LEFT/RIGHT argument names, or a syntax error.
fn parse_end(arg: &[u8]) -> Result<End, CmdError> {
    if is(arg, "left") {
        Ok(End::Head)
    } else if is(arg, "right") {
        Ok(End::Tail)
    } else {
        Err(SYNTAX.into())
    }
}

/// An integer argument in `[min, i64::MAX]`; `msg` is the whole error for anything else
/// (Redis's `getRangeLongFromObjectOrReply` with a message).
fn int_at_least(arg: &[u8], min: i64, msg: &'static str) -> Result<i64, CmdError> {
    match tern_resp::request::parse_i64(arg) {
        Some(v) if v >= min => Ok(v),
        _ => Err(CmdError::Static(msg)),
    }
}

/// `getPositiveLongFromObjectOrReply` without a message.
const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";

/// LPUSH key element [element ...]
fn lpush(cx: &mut Ctx) -> CmdResult {
    push_generic(cx, End::Head, false)
}

/// RPUSH key element [element ...]
fn rpush(cx: &mut Ctx) -> CmdResult {
    push_generic(cx, End::Tail, false)
}

/// LPUSHX key element [element ...]
fn lpushx(cx: &mut Ctx) -> CmdResult {
    push_generic(cx, End::Head, true)
}

/// RPUSHX key element [element ...]
fn rpushx(cx: &mut Ctx) -> CmdResult {
    push_generic(cx, End::Tail, true)
}

/// The shared body of the four push commands; `xx` only pushes onto an existing list.
fn push_generic(cx: &mut Ctx, end: End, xx: bool) -> CmdResult {
    let key = cx.arg(1);
    let elems = &cx.args[2..];
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let len = match lookup_list(&mut lk, db, h, key, cx.now_ms)? {
        Some(l) => {
            ensure_fill(cx, l);
            for e in elems {
                l.quicklist_mut().push(end, e);
            }
            l.len()
        }
        None if xx => {
            cx.out.int(0);
            return Ok(());
        }
        None => {
            let mut l = new_list(cx);
            for e in elems {
                l.quicklist_mut().push(end, e);
            }
            let n = l.len();
            lk.db(db).insert(h, key, Entry::new(Value::List(l)));
            n
        }
    };
    cx.propagate(&mut lk, cx.args);
    cx.out.int(len as i64);
    Ok(())
}

/// LPOP key [count]
fn lpop(cx: &mut Ctx) -> CmdResult {
    pop_generic(cx, End::Head)
}

/// RPOP key [count]
fn rpop(cx: &mut Ctx) -> CmdResult {
    pop_generic(cx, End::Tail)
}

/// The shared body of LPOP and RPOP: without a count the reply is one bulk (or null), with a
/// count an array (or a null array for a missing key, an empty one for a count of 0).
fn pop_generic(cx: &mut Ctx, end: End) -> CmdResult {
    if cx.argc() > 3 {
        return Err(CmdError::arity(&cx.spec.name));
    }
    let count = match cx.args.get(2) {
        Some(a) => Some(int_at_least(a, 0, NOT_POSITIVE)? as usize),
        None => None,
    };
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(l) = lookup_list(&mut lk, db, h, key, cx.now_ms)? else {
        match count {
            Some(_) => cx.out.null_array(),
            None => cx.out.null(),
        }
        return Ok(());
    };
    if count == Some(0) {
        cx.out.array(0);
        return Ok(());
    }
    pop_into_reply(cx.out, l, end, count);
    let empty = l.is_empty();
    if empty {
        lk.db(db).remove(h, key);
    }
    cx.propagate(&mut lk, cx.args);
    Ok(())
}

/// Pops from `l` at `end` and writes the reply: one bulk without a count, else an array of
/// up to `count` elements in popping order. Returns how many were popped.
fn pop_into_reply(out: &mut ReplyWriter, l: &mut List, end: End, count: Option<usize>) -> usize {
    let ql = l.quicklist_mut();
    match count {
        None => {
            if let Some(v) = ql.pop(end) {
                out.bulk(&v);
                1
            } else {
                out.null();
                0
            }
        }
        Some(n) => {
            let n = n.min(ql.len());
            out.array(n);
            let start = match end {
                End::Head => 0,
                End::Tail => ql.len() - n,
            };
            match end {
                End::Head => ql
                    .iter_from(0, false)
                    .take(n)
                    .for_each(|v| reply_elem(out, v)),
                End::Tail => ql
                    .iter_from(ql.len().saturating_sub(1), true)
                    .take(n)
                    .for_each(|v| reply_elem(out, v)),
            }
            ql.del_range(start, n);
            n
        }
    }
}

/// Pops one element (`count` None, reply `[key, element]` as BLPOP's) or up to `count`
/// elements (reply `[key, [elements...]]` as LMPOP's) from the list at `key` of a locked
/// shard, deletes the key if it became empty and propagates `LPOP|RPOP key [n]`.
/// Returns false, writing nothing, if the key holds no list (missing or empty); WRONGTYPE
/// for another type. For the blocking commands, which serve a client once a key has data.
pub(crate) fn pop_locked(
    cx: &mut Ctx,
    lk: &mut Locked<'_>,
    db: usize,
    h: u64,
    key: &[u8],
    end: End,
    count: Option<usize>,
) -> Result<bool, CmdError> {
    let Some(l) = lookup_list(lk, db, h, key, cx.now_ms)? else {
        return Ok(false);
    };
    if l.is_empty() {
        return Ok(false);
    }
    cx.out.array(2);
    cx.out.bulk(key);
    let n = pop_into_reply(cx.out, l, end, count);
    if l.is_empty() {
        lk.db(db).remove(h, key);
    }
    let cmd: &[u8] = match end {
        End::Head => b"LPOP",
        End::Tail => b"RPOP",
    };
    match count {
        None => cx.propagate_db(lk, db, &[cmd, key]),
        Some(_) => {
            let mut b = itoa::Buffer::new();
            cx.propagate_db(lk, db, &[cmd, key, b.format(n).as_bytes()])
        }
    }
    Ok(true)
}

/// LMPOP's work on the keys in order (also BLMPOP's once woken): pops from the first
/// non-empty list, replying `[key, [elements]]`; WRONGTYPE stops at the first non-list.
/// Returns false, writing nothing, if no key holds a list.
pub(crate) fn mpop_locked(
    cx: &mut Ctx,
    keys: &[&[u8]],
    end: End,
    count: usize,
) -> Result<bool, CmdError> {
    let db = cx.db();
    let mut ml = cx.lock_keys(keys);
    for (i, key) in keys.iter().enumerate() {
        let h = ml.hashes[i];
        let lk = ml.shard(h);
        if pop_locked(cx, lk, db, h, key, end, Some(count))? {
            ml.flush_expired();
            return Ok(true);
        }
    }
    Ok(false)
}

/// Moves one element from the list at `src` (its `from` end) to the list at `dst` (its `to`
/// end), creating `dst` if needed and deleting `src` if emptied; replies with the element
/// (or null if `src` is missing) and propagates `prop`. WRONGTYPE, before changing anything,
/// if either key holds another type. Shared with BLMOVE and BRPOPLPUSH.
pub(crate) fn move_locked(
    cx: &mut Ctx,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    prop: &[&[u8]],
) -> Result<bool, CmdError> {
    let db = cx.db();
    let now = cx.now_ms;
    let mut ml = cx.lock_keys(&[src, dst]);
    let (hs, hd) = (ml.hashes[0], ml.hashes[1]);
    match lookup_list(ml.shard(hs), db, hs, src, now)? {
        Some(l) if !l.is_empty() => {}
        _ => {
            cx.out.null();
            return Ok(false);
        }
    }
    let dst_exists = lookup_list(ml.shard(hd), db, hd, dst, now)?.is_some();
    let src_list = lookup_list(ml.shard(hs), db, hs, src, now)?.expect("looked up above");
    let v = src_list.quicklist_mut().pop(from).expect("not empty");
    let src_empty = src_list.is_empty();
    // With src == dst the element goes back into the same list, which then is not empty.
    if src_empty && src != dst {
        ml.shard(hs).db(db).remove(hs, src);
    }
    if dst_exists || src == dst {
        let l = lookup_list(ml.shard(hd), db, hd, dst, now)?.expect("looked up above");
        ensure_fill(cx, l);
        l.quicklist_mut().push(to, &v);
    } else {
        let mut l = new_list(cx);
        l.quicklist_mut().push(to, &v);
        ml.shard(hd)
            .db(db)
            .insert(hd, dst, Entry::new(Value::List(l)));
    }
    ml.flush_expired();
    cx.propagate(ml.first(), prop);
    cx.out.bulk(&v);
    Ok(true)
}

/// LLEN key
fn llen(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let n = match read_list(cx, &mut lk, h, key)? {
        Some(l) => l.len(),
        None => 0,
    };
    cx.out.int(n as i64);
    Ok(())
}

/// Clamps a start/end pair as Redis's `addListRangeReply` and LTRIM do: None if empty.
fn clamp_range(mut start: i64, mut end: i64, len: i64) -> Option<(usize, usize)> {
    if start < 0 {
        start = start.saturating_add(len);
    }
    if end < 0 {
        end = end.saturating_add(len);
    }
    start = start.max(0);
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, (end - start + 1) as usize))
}

/// LRANGE key start stop
fn lrange(cx: &mut Ctx) -> CmdResult {
    let start = args::int(cx.arg(2))?;
    let end = args::int(cx.arg(3))?;
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let found = read_list(cx, &mut lk, h, key)?;
    let Some(l) = found else {
        cx.out.array(0);
        return Ok(());
    };
    match clamp_range(start, end, l.len() as i64) {
        None => cx.out.array(0),
        Some((s, n)) => {
            cx.out.array(n);
            let out = &mut *cx.out;
            l.quicklist()
                .iter_from(s, false)
                .take(n)
                .for_each(|v| reply_elem(out, v));
        }
    }
    Ok(())
}

/// LINDEX key index
fn lindex(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let found = read_list(cx, &mut lk, h, key)?;
    let Some(l) = found else {
        cx.out.null();
        return Ok(());
    };
    // Redis checks the key and its type before the index.
    let index = args::int(cx.arg(2))?;
    match l.get(index) {
        Some(v) => reply_elem(cx.out, v),
        None => cx.out.null(),
    }
    Ok(())
}

/// LSET key index element
fn lset(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(l) = lookup_list(&mut lk, db, h, key, cx.now_ms)? else {
        return Err(NO_SUCH_KEY.into());
    };
    let index = args::int(cx.arg(2))?;
    ensure_fill(cx, l);
    if !l.quicklist_mut().set(index, cx.arg(3)) {
        return Err("ERR index out of range".into());
    }
    cx.propagate(&mut lk, cx.args);
    cx.out.ok();
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element
fn linsert(cx: &mut Ctx) -> CmdResult {
    let after = if is(cx.arg(2), "after") {
        true
    } else if is(cx.arg(2), "before") {
        false
    } else {
        return Err(SYNTAX.into());
    };
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(l) = lookup_list(&mut lk, db, h, key, cx.now_ms)? else {
        cx.out.int(0);
        return Ok(());
    };
    ensure_fill(cx, l);
    if !l
        .quicklist_mut()
        .insert_at_pivot(cx.arg(3), cx.arg(4), after)
    {
        cx.out.int(-1);
        return Ok(());
    }
    let n = l.len();
    cx.propagate(&mut lk, cx.args);
    cx.out.int(n as i64);
    Ok(())
}

/// LREM key count element
fn lrem(cx: &mut Ctx) -> CmdResult {
    let count = args::int(cx.arg(2))?;
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(l) = lookup_list(&mut lk, db, h, key, cx.now_ms)? else {
        cx.out.int(0);
        return Ok(());
    };
    // A negative count scans from the tail; i64::MIN stays negative after negation in
    // Redis too, which then removes every match.
    let (from, limit) = if count < 0 {
        let n = count.wrapping_neg();
        (End::Tail, if n < 0 { 0 } else { n as usize })
    } else {
        (End::Head, count as usize)
    };
    let removed = l.quicklist_mut().remove(cx.arg(3), limit, from);
    let empty = l.is_empty();
    if empty {
        lk.db(db).remove(h, key);
    }
    if removed > 0 {
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.int(removed as i64);
    Ok(())
}

/// LTRIM key start stop
fn ltrim(cx: &mut Ctx) -> CmdResult {
    let start = args::int(cx.arg(2))?;
    let end = args::int(cx.arg(3))?;
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(l) = lookup_list(&mut lk, db, h, key, cx.now_ms)? else {
        cx.out.ok();
        return Ok(());
    };
    let len = l.len();
    let (ltrim, rtrim) = match clamp_range(start, end, len as i64) {
        None => (len, 0),
        Some((s, n)) => (s, len - s - n),
    };
    let ql = l.quicklist_mut();
    ql.del_range(0, ltrim);
    ql.del_range(ql.len() - rtrim, rtrim);
    let empty = l.is_empty();
    if empty {
        lk.db(db).remove(h, key);
    }
    if ltrim + rtrim > 0 {
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.ok();
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(cx: &mut Ctx) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    let mut j = 3;
    while j < cx.argc() {
        let opt = cx.arg(j);
        let more = j + 1 < cx.argc();
        if is(opt, "RANK") && more {
            j += 1;
            rank = args::int(cx.arg(j))?;
            if rank == 0 {
                return Err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list".into());
            }
        } else if is(opt, "COUNT") && more {
            j += 1;
            count = Some(int_at_least(cx.arg(j), 0, "ERR COUNT can't be negative")? as usize);
        } else if is(opt, "MAXLEN") && more {
            j += 1;
            maxlen = int_at_least(cx.arg(j), 0, "ERR MAXLEN can't be negative")? as usize;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    // A negative rank searches from the tail; i64::MIN stays negative, as in Redis, where it
    // then accepts the first match.
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let found = read_list(cx, &mut lk, h, key)?;
    let Some(l) = found else {
        match count {
            Some(_) => cx.out.array(0),
            None => cx.out.null(),
        }
        return Ok(());
    };
    let ele = cx.arg(2);
    let ql = l.quicklist();
    let len = ql.len();
    let iter = if from_tail { ql.iter_rev() } else { ql.iter() };
    let mut matches: i64 = 0;
    let mut out: Vec<i64> = Vec::new();
    for (index, v) in iter.enumerate() {
        if maxlen != 0 && index >= maxlen {
            break;
        }
        if v.eq_bytes(ele) {
            matches += 1;
            if matches >= rank {
                let at = if from_tail { len - index - 1 } else { index };
                out.push(at as i64);
                match count {
                    None => break,
                    Some(c) if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c as i64 => {
                        break
                    }
                    Some(_) => {}
                }
            }
        }
    }
    match count {
        Some(_) => {
            cx.out.array(out.len());
            for i in out {
                cx.out.int(i);
            }
        }
        None => match out.first() {
            Some(&i) => cx.out.int(i),
            None => cx.out.null(),
        },
    }
    Ok(())
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(cx: &mut Ctx) -> CmdResult {
    let from = parse_end(cx.arg(3))?;
    let to = parse_end(cx.arg(4))?;
    move_locked(cx, cx.arg(1), cx.arg(2), from, to, cx.args)?;
    Ok(())
}

/// RPOPLPUSH source destination
fn rpoplpush(cx: &mut Ctx) -> CmdResult {
    move_locked(cx, cx.arg(1), cx.arg(2), End::Tail, End::Head, cx.args)?;
    Ok(())
}

/// The parsed arguments of LMPOP (and BLMPOP from `numkeys_idx` on).
pub(crate) struct MpopArgs<'a> {
    /// The keys, in order.
    pub keys: &'a [&'a [u8]],
    /// Which end to pop from.
    pub end: End,
    /// How many elements at most (1 by default).
    pub count: usize,
}

/// Parses `numkeys key [key ...] LEFT|RIGHT [COUNT count]` starting at `numkeys_idx`, with
/// Redis's errors (`lmpopGenericCommand`).
pub(crate) fn parse_mpop<'a>(
    args: &'a [&'a [u8]],
    numkeys_idx: usize,
) -> Result<MpopArgs<'a>, CmdError> {
    let numkeys = int_at_least(args[numkeys_idx], 1, "ERR numkeys should be greater than 0")?;
    let where_idx = (numkeys_idx as u64)
        .saturating_add(numkeys as u64)
        .saturating_add(1);
    if where_idx >= args.len() as u64 {
        return Err(SYNTAX.into());
    }
    let where_idx = where_idx as usize;
    let end = parse_end(args[where_idx])?;
    let mut count: Option<usize> = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && is(args[j], "COUNT") && j + 1 < args.len() {
            j += 1;
            count = Some(int_at_least(args[j], 1, "ERR count should be greater than 0")? as usize);
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    Ok(MpopArgs {
        keys: &args[numkeys_idx + 1..where_idx],
        end,
        count: count.unwrap_or(1),
    })
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(cx: &mut Ctx) -> CmdResult {
    let a = parse_mpop(cx.args, 1)?;
    if !mpop_locked(cx, a.keys, a.end, a.count)? {
        cx.out.null_array();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
