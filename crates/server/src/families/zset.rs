//! Sorted set commands (Redis's t_zset.c): ZADD and friends, ranges by rank, score and lex,
//! pops, set algebra (ZUNION/ZINTER/ZDIFF and their STORE forms), ZRANDMEMBER, ZSCAN.
//!
//! Scores are parsed with C's `strtod` and Redis's checks (`getDoubleFromObject` for scores and
//! increments, `zslParseRange` for range bounds), so hex floats, `inf` and Redis's error texts
//! all match. Replies use `ReplyWriter::double` (`%.17g` in RESP2, `,` doubles in RESP3).
//!
//! Propagated forms (Redis 7.0's):
//! - ZMPOP (and BZMPOP, which runs it) -> `ZPOPMIN|ZPOPMAX key <popped>`
//! - ZPOPMIN/ZPOPMAX (and BZPOPMIN/BZPOPMAX, which run them) -> as sent
//! - everything else as sent, and only when something changed (a ZADD that changes nothing,
//!   a ZINCRBY by 0, a ZREM of absent members propagate nothing).
//!
//! The blocking commands (families/blocking_cmds.rs) serve waiters by running [`zpopmin`],
//! [`zpopmax`] and [`zmpop`] on the key they found ready.

use crate::args::is;
use crate::ctx::Ctx;
use crate::errors::{CmdError, CmdResult, NOT_FLOAT, NOT_INTEGER, SYNTAX, WRONG_TYPE};
use crate::families::debug::{mix_digest, xor_digest, Digest20};
use crate::glob;
use crate::table::{flags::*, CommandTable, Group, Spec};
use rand::Rng;
use std::collections::HashMap;
use tern_keyspace::zset::ScanScore;
use tern_keyspace::{EncodingLimits, Entry, LpValue, Value, ZSet};
use tern_resp::reply::format_double;
use tern_resp::ReplyWriter;

#[cfg(test)]
mod tests;

const RANGE_NOT_FLOAT: &str = "ERR min or max is not a float";
const RANGE_NOT_LEX: &str = "ERR min or max not valid string range item";
const NAN_RESULT: &str = "ERR resulting score is not a number (NaN)";
const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";

/// Registers the sorted set commands.
pub fn register(t: &mut CommandTable) {
    let z = |name, arity, flags| {
        Spec::new(name, arity, flags)
            .group(Group::SortedSet)
            .keys(1, 1, 1)
    };
    let add = |t: &mut CommandTable, s: Spec| t.add(s);
    add(t, z("zadd", -4, WRITE | DENYOOM | FAST).doc("1.2.0", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.").handler(zadd));
    add(
        t,
        z("zincrby", 4, WRITE | DENYOOM | FAST)
            .doc("1.2.0", "Increments the score of a member in a sorted set.")
            .handler(zincrby),
    );
    add(t, z("zrem", -3, WRITE | FAST).doc("1.2.0", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.").handler(zrem));
    add(
        t,
        z("zcard", 2, READONLY | FAST)
            .doc("1.2.0", "Returns the number of members in a sorted set.")
            .handler(zcard),
    );
    add(
        t,
        z("zscore", 3, READONLY | FAST)
            .doc("1.2.0", "Returns the score of a member in a sorted set.")
            .handler(zscore),
    );
    add(
        t,
        z("zmscore", -3, READONLY | FAST)
            .doc(
                "6.2.0",
                "Returns the score of one or more members in a sorted set.",
            )
            .handler(zmscore),
    );
    add(
        t,
        z("zrank", -3, READONLY | FAST)
            .doc(
                "2.0.0",
                "Returns the index of a member in a sorted set ordered by ascending scores.",
            )
            .handler(zrank),
    );
    add(
        t,
        z("zrevrank", -3, READONLY | FAST)
            .doc(
                "2.0.0",
                "Returns the index of a member in a sorted set ordered by descending scores.",
            )
            .handler(zrevrank),
    );
    add(
        t,
        z("zcount", 4, READONLY | FAST)
            .doc(
                "2.0.0",
                "Returns the count of members in a sorted set that have scores within a range.",
            )
            .handler(zcount),
    );
    add(
        t,
        z("zlexcount", 4, READONLY | FAST)
            .doc(
                "2.8.9",
                "Returns the number of members in a sorted set within a lexicographical range.",
            )
            .handler(zlexcount),
    );
    add(
        t,
        z("zrange", -4, READONLY)
            .doc(
                "1.2.0",
                "Returns members in a sorted set within a range of indexes.",
            )
            .handler(zrange),
    );
    add(
        t,
        z("zrangestore", -5, WRITE | DENYOOM)
            .keys(1, 2, 1)
            .doc(
                "6.2.0",
                "Stores a range of members from sorted set in a key.",
            )
            .handler(zrangestore),
    );
    add(
        t,
        z("zrangebyscore", -4, READONLY)
            .doc(
                "1.0.5",
                "Returns members in a sorted set within a range of scores.",
            )
            .handler(zrangebyscore),
    );
    add(
        t,
        z("zrevrangebyscore", -4, READONLY)
            .doc(
                "2.2.0",
                "Returns members in a sorted set within a range of scores in reverse order.",
            )
            .handler(zrevrangebyscore),
    );
    add(
        t,
        z("zrangebylex", -4, READONLY)
            .doc(
                "2.8.9",
                "Returns members in a sorted set within a lexicographical range.",
            )
            .handler(zrangebylex),
    );
    add(
        t,
        z("zrevrangebylex", -4, READONLY)
            .doc(
                "2.8.9",
                "Returns members in a sorted set within a lexicographical range in reverse order.",
            )
            .handler(zrevrangebylex),
    );
    add(
        t,
        z("zrevrange", -4, READONLY)
            .doc(
                "1.2.0",
                "Returns members in a sorted set within a range of indexes in reverse order.",
            )
            .handler(zrevrange),
    );
    add(t, z("zremrangebyscore", 4, WRITE).doc("1.2.0", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.").handler(zremrangebyscore));
    add(t, z("zremrangebyrank", 4, WRITE).doc("2.0.0", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.").handler(zremrangebyrank));
    add(t, z("zremrangebylex", 4, WRITE).doc("2.8.9", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.").handler(zremrangebylex));
    add(t, z("zpopmin", -2, WRITE | FAST).doc("5.0.0", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.").handler(zpopmin));
    add(t, z("zpopmax", -2, WRITE | FAST).doc("5.0.0", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.").handler(zpopmax));
    add(t, z("zmpop", -4, WRITE | MOVABLE_KEYS).keys(0, 0, 0).doc("7.0.0", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.").handler(zmpop));
    add(
        t,
        z("zunion", -3, READONLY | MOVABLE_KEYS)
            .keys(0, 0, 0)
            .doc("6.2.0", "Returns the union of multiple sorted sets.")
            .handler(zunion),
    );
    add(
        t,
        z("zinter", -3, READONLY | MOVABLE_KEYS)
            .keys(0, 0, 0)
            .doc("6.2.0", "Returns the intersect of multiple sorted sets.")
            .handler(zinter),
    );
    add(
        t,
        z("zdiff", -3, READONLY | MOVABLE_KEYS)
            .keys(0, 0, 0)
            .doc(
                "6.2.0",
                "Returns the difference between multiple sorted sets.",
            )
            .handler(zdiff),
    );
    add(
        t,
        z("zunionstore", -4, WRITE | DENYOOM | MOVABLE_KEYS)
            .doc(
                "2.0.0",
                "Stores the union of multiple sorted sets in a key.",
            )
            .handler(zunionstore),
    );
    add(
        t,
        z("zinterstore", -4, WRITE | DENYOOM | MOVABLE_KEYS)
            .doc(
                "2.0.0",
                "Stores the intersect of multiple sorted sets in a key.",
            )
            .handler(zinterstore),
    );
    add(
        t,
        z("zdiffstore", -4, WRITE | DENYOOM | MOVABLE_KEYS)
            .doc(
                "6.2.0",
                "Stores the difference of multiple sorted sets in a key.",
            )
            .handler(zdiffstore),
    );
    add(
        t,
        z("zintercard", -3, READONLY | MOVABLE_KEYS)
            .keys(0, 0, 0)
            .doc(
                "7.0.0",
                "Returns the number of members of the intersect of multiple sorted sets.",
            )
            .handler(zintercard),
    );
    add(
        t,
        z("zrandmember", -2, READONLY)
            .doc(
                "6.2.0",
                "Returns one or more random members from a sorted set.",
            )
            .handler(zrandmember),
    );
    add(
        t,
        z("zscan", -3, READONLY)
            .doc("2.8.0", "Iterates over members and scores of a sorted set.")
            .handler(zscan),
    );
}

/// Mixes a zset value into a DEBUG DIGEST(-VALUE) digest as Redis's `xorObjectDigest` does:
/// each element's `SHA1(member, "%.17g" score)` chain is XORed in, so order does not matter.
pub fn digest(d: &mut Digest20, v: &ZSet) {
    v.for_each(|m, s| {
        let mut e: Digest20 = [0; 20];
        mix_digest(&mut e, m);
        mix_digest(&mut e, format_double(s).as_bytes());
        xor_digest(d, &e);
    });
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// A score or increment, as Redis's `getDoubleFromObject`: the whole string must parse, no
/// leading space, no overflow (or underflow to zero), no NaN.
pub(crate) fn parse_score(arg: &[u8]) -> Result<f64, CmdError> {
    parse_score_opt(arg).ok_or(CmdError::Static(NOT_FLOAT))
}

fn parse_score_opt(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || matches!(arg[0], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        return None;
    }
    let (v, used, erange) = crate::args::strtod(arg);
    if used != arg.len() || (erange && (v.is_infinite() || v == 0.0)) || v.is_nan() {
        return None;
    }
    Some(v)
}

/// A score range bound (`zslParseRange`): `(` makes it exclusive; the rest must parse fully.
fn parse_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (ex, rest) = match arg.first() {
        Some(b'(') => (true, &arg[1..]),
        _ => (false, arg),
    };
    let c_len = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let (v, used, _) = crate::args::strtod(rest);
    if used != c_len || v.is_nan() {
        return None;
    }
    Some((v, ex))
}

/// A score range.
#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        let (min, minex) = parse_bound(min).ok_or(CmdError::Static(RANGE_NOT_FLOAT))?;
        let (max, maxex) = parse_bound(max).ok_or(CmdError::Static(RANGE_NOT_FLOAT))?;
        Ok(ScoreRange {
            min,
            minex,
            max,
            maxex,
        })
    }

    fn gte_min(&self, s: f64) -> bool {
        if self.minex {
            s > self.min
        } else {
            s >= self.min
        }
    }

    fn lte_max(&self, s: f64) -> bool {
        if self.maxex {
            s < self.max
        } else {
            s <= self.max
        }
    }

    /// The ranks `start..end` of the elements in range.
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let start = z.partition_point(|s, _| !self.gte_min(s));
        let end = z.partition_point(|s, _| self.lte_max(s));
        (start, end.max(start))
    }
}

/// One end of a lex range.
#[derive(Clone, Debug)]
enum Lex {
    /// `-`
    Min,
    /// `+`
    Max,
    /// `[x`
    Incl(Vec<u8>),
    /// `(x`
    Excl(Vec<u8>),
}

impl Lex {
    fn parse(a: &[u8]) -> Option<Lex> {
        let single = a.len() == 1 || a.get(1) == Some(&0);
        match a.first()? {
            b'+' if single => Some(Lex::Max),
            b'-' if single => Some(Lex::Min),
            b'[' => Some(Lex::Incl(a[1..].to_vec())),
            b'(' => Some(Lex::Excl(a[1..].to_vec())),
            _ => None,
        }
    }
}

/// A lex range (`zslParseLexRange`).
#[derive(Clone, Debug)]
struct LexRange {
    min: Lex,
    max: Lex,
}

impl LexRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
        match (Lex::parse(min), Lex::parse(max)) {
            (Some(min), Some(max)) => Ok(LexRange { min, max }),
            _ => Err(RANGE_NOT_LEX.into()),
        }
    }

    fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            Lex::Min => true,
            Lex::Max => false,
            Lex::Incl(s) => m >= s.as_slice(),
            Lex::Excl(s) => m > s.as_slice(),
        }
    }

    fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            Lex::Max => true,
            Lex::Min => false,
            Lex::Incl(s) => m <= s.as_slice(),
            Lex::Excl(s) => m < s.as_slice(),
        }
    }

    /// The ranks `start..end` of the elements in range: the first element at or above min,
    /// then the run of elements at or below max (Redis walks forward from the first).
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let start = z.partition_point(|_, m| !self.gte_min(m));
        let mut end = start;
        if z.encoding() == "listpack" {
            let mut stop = false;
            z.range(start, z.len(), false, |m, _| {
                if !stop && self.lte_max(m) {
                    end += 1;
                } else {
                    stop = true;
                }
            });
        } else {
            end = z.partition_point(|_, m| self.lte_max(m)).max(start);
        }
        (start, end)
    }
}

/// Redis's `getLongFromObjectOrReply`.
fn long(arg: &[u8]) -> Result<i64, CmdError> {
    tern_resp::request::parse_i64(arg).ok_or(CmdError::Static(NOT_INTEGER))
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// The zset in an entry, or WRONGTYPE.
fn as_zset(e: &mut Entry) -> Result<&mut ZSet, CmdError> {
    match &mut e.value {
        Value::ZSet(z) => Ok(z),
        _ => Err(CmdError::Static(WRONG_TYPE)),
    }
}

/// Writes `(member, score)` pairs: flat in RESP2, `[member, score]` arrays in RESP3 when
/// `withscores`; members only otherwise. `n` is the number of pairs that follow.
fn pairs_header(out: &mut ReplyWriter, n: usize, withscores: bool) {
    if withscores && !out.resp3() {
        out.array(2 * n);
    } else {
        out.array(n);
    }
}

/// Writes a score as Redis's `addReplyDouble` does (`%.17g`), with a fast path for integral
/// scores (timestamps, counters), which `%.17g` prints as plain integers below 1e17.
fn double(out: &mut ReplyWriter, s: f64) {
    if s == s.trunc() && s.abs() < 1e17 && !(s == 0.0 && s.is_sign_negative()) {
        let mut b = itoa::Buffer::new();
        let t = b.format(s as i64).as_bytes();
        if out.resp3() {
            out.raw(b",");
            out.raw(t);
            out.raw(b"\r\n");
        } else {
            out.bulk(t);
        }
    } else {
        out.double(s);
    }
}

fn pair(out: &mut ReplyWriter, m: &[u8], s: f64, withscores: bool) {
    if withscores {
        if out.resp3() {
            out.array(2);
        }
        out.bulk(m);
        double(out, s);
    } else {
        out.bulk(m);
    }
}

/// Builds a zset from sorted-or-not pairs with the encoding Redis's *STORE commands give
/// (`zsetConvertToListpackIfNeeded`: listpack if it fits the limits).
fn build(pairs: &[(Vec<u8>, f64)], limits: &EncodingLimits) -> ZSet {
    let fits = pairs.len() <= limits.zset_max_listpack_entries
        && pairs
            .iter()
            .all(|(m, _)| m.len() <= limits.zset_max_listpack_value);
    let mut z = if fits {
        ZSet::new_listpack()
    } else {
        ZSet::new_skiplist()
    };
    let big = EncodingLimits {
        zset_max_listpack_entries: usize::MAX,
        zset_max_listpack_value: usize::MAX,
        ..*limits
    };
    for (m, s) in pairs {
        z.insert(m, *s, &big);
    }
    z
}

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
fn zadd(cx: &mut Ctx) -> CmdResult {
    let mut f = AddFlags::default();
    let mut i = 2;
    while i < cx.argc() {
        let a = cx.arg(i);
        if is(a, "nx") {
            f.nx = true;
        } else if is(a, "xx") {
            f.xx = true;
        } else if is(a, "ch") {
            f.ch = true;
        } else if is(a, "incr") {
            f.incr = true;
        } else if is(a, "gt") {
            f.gt = true;
        } else if is(a, "lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    zadd_generic(cx, i, f)
}

/// ZINCRBY key increment member
fn zincrby(cx: &mut Ctx) -> CmdResult {
    zadd_generic(
        cx,
        2,
        AddFlags {
            incr: true,
            ..Default::default()
        },
    )
}

fn zadd_generic(cx: &mut Ctx, scoreidx: usize, f: AddFlags) -> CmdResult {
    let elements = cx.argc() - scoreidx;
    if !elements.is_multiple_of(2) || elements == 0 {
        return Err(SYNTAX.into());
    }
    let elements = elements / 2;
    if f.nx && f.xx {
        return Err("ERR XX and NX options at the same time are not compatible".into());
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        return Err("ERR GT, LT, and/or NX options at the same time are not compatible".into());
    }
    if f.incr && elements > 1 {
        return Err("ERR INCR option supports a single increment-element pair".into());
    }
    let mut scores = Vec::with_capacity(elements);
    for j in 0..elements {
        scores.push(parse_score(cx.arg(scoreidx + 2 * j))?);
    }
    let key = cx.arg(1);
    let db = cx.db();
    let limits = cx.limits();
    let (mut lk, h) = cx.lock_key(key);
    let exists = match lk.lookup(db, h, key, cx.now_ms) {
        Some(e) => {
            as_zset(e)?;
            true
        }
        None => false,
    };
    if !exists {
        if f.xx {
            if f.incr {
                cx.out.null();
            } else {
                cx.out.int(0);
            }
            return Ok(());
        }
        let first = cx.arg(scoreidx + 1);
        let z = ZSet::for_new_key(first.len(), &limits);
        lk.db(db).insert(h, key, Entry::new(Value::ZSet(z)));
    }
    let e = lk.lookup(db, h, key, cx.now_ms).expect("present");
    let z = as_zset(e)?;
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0);
    let mut last = 0.0;
    let mut nan = false;
    for (j, &score) in scores.iter().enumerate() {
        let member = cx.arg(scoreidx + 1 + 2 * j);
        match z.score(member) {
            Some(cur) => {
                if f.nx {
                    continue;
                }
                let mut new = score;
                if f.incr {
                    new += cur;
                    if new.is_nan() {
                        nan = true;
                        break;
                    }
                }
                if (f.lt && new >= cur) || (f.gt && new <= cur) {
                    continue;
                }
                processed += 1;
                last = new;
                if new != cur {
                    z.insert(member, new, &limits);
                    updated += 1;
                }
            }
            None if !f.xx => {
                z.insert(member, score, &limits);
                added += 1;
                processed += 1;
                last = score;
            }
            None => {}
        }
    }
    // A key created for nothing (cannot happen without XX, kept for safety) is not stored.
    let empty = z.is_empty();
    if empty {
        lk.db(db).remove(h, key);
    }
    if added + updated > 0 {
        cx.propagate(&mut lk, cx.args);
    }
    if nan {
        return Err(NAN_RESULT.into());
    }
    if f.incr {
        if processed > 0 {
            double(cx.out, last);
        } else {
            cx.out.null();
        }
    } else {
        cx.out.int(if f.ch { added + updated } else { added });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZCOUNT, ZLEXCOUNT

/// ZREM key member [member ...]
fn zrem(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(e) = lk.lookup(db, h, key, cx.now_ms) else {
        cx.out.int(0);
        return Ok(());
    };
    let z = as_zset(e)?;
    let mut deleted = 0;
    for m in &cx.args[2..] {
        if z.remove(m).is_some() {
            deleted += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    if z.is_empty() {
        lk.db(db).remove(h, key);
    }
    if deleted > 0 {
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.int(deleted);
    Ok(())
}

/// Runs `f` on the zset at `key` for a read-only command; `missing` replies when absent.
fn read_zset(
    cx: &mut Ctx,
    key: &[u8],
    missing: impl FnOnce(&mut ReplyWriter),
    f: impl FnOnce(&ZSet, &mut ReplyWriter) -> CmdResult,
) -> CmdResult {
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    match lk.lookup(db, h, key, cx.now_ms) {
        None => {
            cx.hit(false);
            missing(cx.out);
            Ok(())
        }
        Some(e) => {
            e.lru = tern_keyspace::db::lru_clock();
            let z = as_zset(e)?;
            cx.hit(true);
            f(z, cx.out)
        }
    }
}

/// ZCARD key
fn zcard(cx: &mut Ctx) -> CmdResult {
    read_zset(
        cx,
        cx.arg(1),
        |o| o.int(0),
        |z, o| {
            o.int(z.len() as i64);
            Ok(())
        },
    )
}

/// ZSCORE key member
fn zscore(cx: &mut Ctx) -> CmdResult {
    let m = cx.arg(2);
    read_zset(
        cx,
        cx.arg(1),
        |o| o.null(),
        |z, o| {
            match z.score(m) {
                Some(s) => double(o, s),
                None => o.null(),
            }
            Ok(())
        },
    )
}

/// ZMSCORE key member [member ...]
fn zmscore(cx: &mut Ctx) -> CmdResult {
    let members = &cx.args[2..];
    read_zset(
        cx,
        cx.arg(1),
        |o| {
            o.array(members.len());
            for _ in members {
                o.null();
            }
        },
        |z, o| {
            o.array(members.len());
            for m in members {
                match z.score(m) {
                    Some(s) => double(o, s),
                    None => o.null(),
                }
            }
            Ok(())
        },
    )
}

/// ZRANK key member [WITHSCORE]
fn zrank(cx: &mut Ctx) -> CmdResult {
    zrank_generic(cx, false)
}

/// ZREVRANK key member [WITHSCORE]
fn zrevrank(cx: &mut Ctx) -> CmdResult {
    zrank_generic(cx, true)
}

fn zrank_generic(cx: &mut Ctx, rev: bool) -> CmdResult {
    let withscore = match cx.argc() {
        3 => false,
        4 if is(cx.arg(3), "withscore") => true,
        4 => return Err(SYNTAX.into()),
        _ => return Err(CmdError::arity(&cx.spec.name)),
    };
    let m = cx.arg(2);
    let missing = move |o: &mut ReplyWriter| {
        if withscore {
            o.null_array()
        } else {
            o.null()
        }
    };
    read_zset(cx, cx.arg(1), missing, |z, o| {
        match z.rank(m) {
            None => missing(o),
            Some((r, s)) => {
                let r = if rev { z.len() - 1 - r } else { r } as i64;
                if withscore {
                    o.array(2);
                    o.int(r);
                    double(o, s);
                } else {
                    o.int(r);
                }
            }
        }
        Ok(())
    })
}

/// ZCOUNT key min max
fn zcount(cx: &mut Ctx) -> CmdResult {
    let r = ScoreRange::parse(cx.arg(2), cx.arg(3))?;
    read_zset(
        cx,
        cx.arg(1),
        |o| o.int(0),
        |z, o| {
            let (a, b) = r.ranks(z);
            o.int((b - a) as i64);
            Ok(())
        },
    )
}

/// ZLEXCOUNT key min max
fn zlexcount(cx: &mut Ctx) -> CmdResult {
    let r = LexRange::parse(cx.arg(2), cx.arg(3))?;
    read_zset(
        cx,
        cx.arg(1),
        |o| o.int(0),
        |z, o| {
            let (a, b) = r.ranks(z);
            o.int((b - a) as i64);
            Ok(())
        },
    )
}

// ---------------------------------------------------------------------------------------------
// ZRANGE and friends

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Direction {
    Auto,
    Forward,
    Reverse,
}

/// A parsed range request, ready to be resolved against a zset.
enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

struct RangeReq {
    range: Range,
    rev: bool,
    offset: i64,
    limit: i64,
    withscores: bool,
}

impl RangeReq {
    /// The ranks to emit: `(lo, hi, rev)` meaning ranks `lo..hi`, reversed when `rev`.
    fn resolve(&self, z: &ZSet) -> (usize, usize) {
        let len = z.len() as i64;
        match &self.range {
            Range::Rank(start, end) => {
                let (mut s, mut e) = (*start, *end);
                if s < 0 {
                    s += len;
                }
                if e < 0 {
                    e += len;
                }
                if s < 0 {
                    s = 0;
                }
                if s > e || s >= len {
                    return (0, 0);
                }
                if e >= len {
                    e = len - 1;
                }
                if self.rev {
                    ((len - 1 - e) as usize, (len - s) as usize)
                } else {
                    (s as usize, (e + 1) as usize)
                }
            }
            Range::Score(r) => self.limit_ranks(r.ranks(z)),
            Range::Lex(r) => self.limit_ranks(r.ranks(z)),
        }
    }

    fn limit_ranks(&self, (start, end): (usize, usize)) -> (usize, usize) {
        if self.offset < 0 || start >= end {
            return (0, 0);
        }
        let avail = end - start;
        let off = (self.offset as u64).min(avail as u64) as usize;
        let n = if self.limit < 0 {
            avail - off
        } else {
            (self.limit as u64).min((avail - off) as u64) as usize
        };
        if self.rev {
            (end - off - n, end - off)
        } else {
            (start + off, start + off + n)
        }
    }
}

/// Parses `<min> <max> [BYSCORE|BYLEX] [REV] [LIMIT o c] [WITHSCORES]` starting at the min
/// argument, as Redis's `zrangeGenericCommand` does (options first, then the range).
fn parse_range(
    args: &[&[u8]],
    minidx: usize,
    mut rtype: RangeType,
    mut dir: Direction,
    store: bool,
) -> Result<RangeReq, CmdError> {
    let mut withscores = false;
    let mut offset = 0;
    let mut limit = -1;
    let mut j = minidx + 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args[j];
        if !store && is(a, "withscores") {
            withscores = true;
        } else if is(a, "limit") && left >= 2 {
            offset = long(args[j + 1])?;
            limit = long(args[j + 2])?;
            j += 2;
        } else if dir == Direction::Auto && is(a, "rev") {
            dir = Direction::Reverse;
        } else if rtype == RangeType::Auto && is(a, "bylex") {
            rtype = RangeType::Lex;
        } else if rtype == RangeType::Auto && is(a, "byscore") {
            rtype = RangeType::Score;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    if dir == Direction::Auto {
        dir = Direction::Forward;
    }
    if rtype == RangeType::Auto {
        rtype = RangeType::Rank;
    }
    // Redis tests the count, not whether LIMIT was given: `LIMIT 5 -1` passes with a rank range.
    if limit != -1 && rtype == RangeType::Rank {
        return Err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
                .into(),
        );
    }
    if withscores && rtype == RangeType::Lex {
        return Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX".into());
    }
    let rev = dir == Direction::Reverse;
    let (mut lo, mut hi) = (args[minidx], args[minidx + 1]);
    if rev && rtype != RangeType::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let range = match rtype {
        RangeType::Rank | RangeType::Auto => Range::Rank(long(lo)?, long(hi)?),
        RangeType::Score => Range::Score(ScoreRange::parse(lo, hi)?),
        RangeType::Lex => Range::Lex(LexRange::parse(lo, hi)?),
    };
    Ok(RangeReq {
        range,
        rev,
        offset,
        limit,
        withscores,
    })
}

fn zrange_reply(cx: &mut Ctx, req: RangeReq) -> CmdResult {
    read_zset(
        cx,
        cx.arg(1),
        |o| o.array(0),
        |z, o| {
            let (lo, hi) = req.resolve(z);
            pairs_header(o, hi - lo, req.withscores);
            z.range(lo, hi, req.rev, |m, s| pair(o, m, s, req.withscores));
            Ok(())
        },
    )
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(cx: &mut Ctx) -> CmdResult {
    let req = parse_range(cx.args, 2, RangeType::Auto, Direction::Auto, false)?;
    zrange_reply(cx, req)
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(cx: &mut Ctx) -> CmdResult {
    let req = parse_range(cx.args, 2, RangeType::Rank, Direction::Reverse, false)?;
    zrange_reply(cx, req)
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(cx: &mut Ctx) -> CmdResult {
    let req = parse_range(cx.args, 2, RangeType::Score, Direction::Forward, false)?;
    zrange_reply(cx, req)
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(cx: &mut Ctx) -> CmdResult {
    let req = parse_range(cx.args, 2, RangeType::Score, Direction::Reverse, false)?;
    zrange_reply(cx, req)
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(cx: &mut Ctx) -> CmdResult {
    let req = parse_range(cx.args, 2, RangeType::Lex, Direction::Forward, false)?;
    zrange_reply(cx, req)
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(cx: &mut Ctx) -> CmdResult {
    let req = parse_range(cx.args, 2, RangeType::Lex, Direction::Reverse, false)?;
    zrange_reply(cx, req)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(cx: &mut Ctx) -> CmdResult {
    let req = parse_range(cx.args, 3, RangeType::Auto, Direction::Auto, true)?;
    let (dst, src) = (cx.arg(1), cx.arg(2));
    let db = cx.db();
    let limits = cx.limits();
    let mut ml = cx.lock_keys(&[dst, src]);
    let (hd, hs) = (ml.hashes[0], ml.hashes[1]);
    let mut pairs = Vec::new();
    if let Some(e) = ml.shard(hs).lookup(db, hs, src, cx.now_ms) {
        let z = as_zset(e)?;
        let (lo, hi) = req.resolve(z);
        pairs.reserve(hi - lo);
        z.range(lo, hi, req.rev, |m, s| pairs.push((m.to_vec(), s)));
    }
    let n = pairs.len();
    // Redis creates the destination from the count alone (listpack when it fits) and adds the
    // elements in order; while it is a listpack a -0 score is stored as 0, until an element too
    // long for a listpack converts it. The scores keep that history.
    if n <= limits.zset_max_listpack_entries {
        for (m, s) in pairs.iter_mut() {
            if m.len() > limits.zset_max_listpack_value {
                break;
            }
            if *s == 0.0 {
                *s = 0.0;
            }
        }
    }
    let lk = ml.shard(hd);
    if n > 0 {
        let z = build(&pairs, &limits);
        lk.db(db).insert(hd, dst, Entry::new(Value::ZSet(z)));
        cx.propagate(lk, cx.args);
    } else if lk.lookup(db, hd, dst, cx.now_ms).is_some() {
        lk.db(db).remove(hd, dst);
        cx.propagate(lk, cx.args);
    }
    ml.flush_expired();
    cx.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBY*

fn zremrange(cx: &mut Ctx, range: Range) -> CmdResult {
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(e) = lk.lookup(db, h, key, cx.now_ms) else {
        cx.out.int(0);
        return Ok(());
    };
    let z = as_zset(e)?;
    let req = RangeReq {
        range,
        rev: false,
        offset: 0,
        limit: -1,
        withscores: false,
    };
    let (lo, hi) = req.resolve(z);
    let mut victims = Vec::with_capacity(hi - lo);
    z.range(lo, hi, false, |m, _| victims.push(m.to_vec()));
    for m in &victims {
        z.remove(m);
    }
    if z.is_empty() {
        lk.db(db).remove(h, key);
    }
    if !victims.is_empty() {
        cx.propagate(&mut lk, cx.args);
    }
    cx.out.int(victims.len() as i64);
    Ok(())
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(cx: &mut Ctx) -> CmdResult {
    let r = Range::Rank(long(cx.arg(2))?, long(cx.arg(3))?);
    zremrange(cx, r)
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(cx: &mut Ctx) -> CmdResult {
    let r = Range::Score(ScoreRange::parse(cx.arg(2), cx.arg(3))?);
    zremrange(cx, r)
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(cx: &mut Ctx) -> CmdResult {
    let r = Range::Lex(LexRange::parse(cx.arg(2), cx.arg(3))?);
    zremrange(cx, r)
}

// ---------------------------------------------------------------------------------------------
// Pops

/// Owned `(member, score)` pairs.
pub(crate) type Pairs = Vec<(Vec<u8>, f64)>;

/// Pops up to `count` elements from the min (or max) end of the zset at `key` (already known
/// to the caller to be the key to pop from), deleting the key when it empties. Returns the
/// popped pairs; `Ok(None)` if the key does not exist; WRONGTYPE if it is not a zset.
pub(crate) fn pop_from_key(
    cx: &mut Ctx,
    key: &[u8],
    max: bool,
    count: usize,
) -> Result<Option<Pairs>, CmdError> {
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let Some(e) = lk.lookup(db, h, key, cx.now_ms) else {
        return Ok(None);
    };
    let z = as_zset(e)?;
    let n = count.min(z.len());
    let mut out = Vec::with_capacity(n);
    if max {
        let len = z.len();
        z.range(len - n, len, true, |m, s| out.push((m.to_vec(), s)));
    } else {
        z.range(0, n, false, |m, s| out.push((m.to_vec(), s)));
    }
    for (m, _) in &out {
        z.remove(m);
    }
    if z.is_empty() {
        lk.db(db).remove(h, key);
    }
    if !out.is_empty() {
        if cx.arg(0).eq_ignore_ascii_case(b"zmpop") {
            let c = out.len().to_string();
            let cmd: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
            cx.propagate(&mut lk, &[cmd, key, c.as_bytes()]);
        } else {
            cx.propagate(&mut lk, cx.args);
        }
    }
    Ok(Some(out))
}

/// ZPOPMIN key [count]: the blocking BZPOPMIN serves its waiters through this handler.
pub(crate) fn zpopmin(cx: &mut Ctx) -> CmdResult {
    zpop_generic(cx, false)
}

/// ZPOPMAX key [count]: the blocking BZPOPMAX serves its waiters through this handler.
pub(crate) fn zpopmax(cx: &mut Ctx) -> CmdResult {
    zpop_generic(cx, true)
}

fn zpop_generic(cx: &mut Ctx, max: bool) -> CmdResult {
    if cx.argc() > 3 {
        return Err(SYNTAX.into());
    }
    let count = if cx.argc() == 3 {
        let c = long(cx.arg(2)).map_err(|_| CmdError::Static(NOT_POSITIVE))?;
        if c < 0 {
            return Err(NOT_POSITIVE.into());
        }
        if c == 0 {
            // Redis checks the key's type before it notices there is nothing to pop.
            return read_zset(
                cx,
                cx.arg(1),
                |o| o.array(0),
                |_, o| {
                    o.array(0);
                    Ok(())
                },
            );
        }
        Some(c as usize)
    } else {
        None
    };
    let key = cx.arg(1);
    match pop_from_key(cx, key, max, count.unwrap_or(1))? {
        None => cx.out.array(0),
        Some(popped) => {
            // Without a count the reply is flat; with one, RESP3 nests the pairs.
            let nested = count.is_some();
            if nested {
                pairs_header(cx.out, popped.len(), true);
                for (m, s) in &popped {
                    pair(cx.out, m, *s, true);
                }
            } else {
                cx.out.array(2 * popped.len());
                for (m, s) in &popped {
                    cx.out.bulk(m);
                    double(cx.out, *s);
                }
            }
        }
    }
    Ok(())
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]: BZMPOP serves its waiters through this
/// handler (as `ZMPOP 1 key MIN|MAX COUNT n`). Propagated as `ZPOPMIN|ZPOPMAX key <popped>`.
pub(crate) fn zmpop(cx: &mut Ctx) -> CmdResult {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    const COUNT: &str = "ERR count should be greater than 0";
    let args = cx.args;
    let numkeys = tern_resp::request::parse_i64(args[1])
        .filter(|&n| n > 0)
        .ok_or(NUMKEYS)? as usize;
    if numkeys > args.len().saturating_sub(3) {
        return Err(SYNTAX.into());
    }
    let where_idx = 2 + numkeys;
    let max = if is(args[where_idx], "max") {
        true
    } else if is(args[where_idx], "min") {
        false
    } else {
        return Err(SYNTAX.into());
    };
    let mut count = None;
    let mut i = where_idx + 1;
    while i < args.len() {
        if is(args[i], "count") && i + 1 < args.len() && count.is_none() {
            let c = tern_resp::request::parse_i64(args[i + 1])
                .filter(|&c| c > 0)
                .ok_or(COUNT)?;
            count = Some(c as usize);
            i += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    let count = count.unwrap_or(1);
    for key in &args[2..where_idx] {
        if let Some(popped) = pop_from_key(cx, key, max, count)? {
            // An existing zset is never empty, so this popped something.
            cx.out.array(2);
            cx.out.bulk(key);
            cx.out.array(popped.len());
            for (m, s) in &popped {
                cx.out.array(2);
                cx.out.bulk(m);
                double(cx.out, *s);
            }
            return Ok(());
        }
    }
    cx.out.null_array();
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF (+STORE), ZINTERCARD

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// One input of a set operation, copied out of the keyspace (elements in the source's
/// order, plain set members with score 1) with a member index for lookups.
struct Source {
    elems: Vec<(Vec<u8>, f64)>,
    index: Option<HashMap<Vec<u8>, f64>>,
    weight: f64,
}

impl Source {
    fn find(&mut self, m: &[u8]) -> Option<f64> {
        let elems = &self.elems;
        self.index
            .get_or_insert_with(|| elems.iter().cloned().collect())
            .get(m)
            .copied()
    }
}

/// The shared body of ZUNION/ZINTER/ZDIFF, their STORE forms and ZINTERCARD
/// (Redis's `zunionInterDiffGenericCommand`). `numkeys_idx` is the numkeys argument.
fn setop_generic(cx: &mut Ctx, op: SetOp, store: bool, cardinality_only: bool) -> CmdResult {
    let numkeys_idx = if store { 2 } else { 1 };
    let args = cx.args;
    let setnum = long(args[numkeys_idx])?;
    if setnum < 1 {
        return Err(CmdError::Msg(format!(
            "ERR at least 1 input key is needed for '{}' command",
            cx.spec.name.to_ascii_lowercase()
        )));
    }
    if setnum as u64 > (args.len() - numkeys_idx - 1) as u64 {
        return Err(SYNTAX.into());
    }
    let setnum = setnum as usize;
    let keys = &args[numkeys_idx + 1..numkeys_idx + 1 + setnum];
    let db = cx.db();
    let limits = cx.limits();
    let mut all: Vec<&[u8]> = Vec::with_capacity(setnum + 1);
    if store {
        all.push(args[1]);
    }
    all.extend_from_slice(keys);
    let mut ml = cx.lock_keys(&all);
    let off = store as usize;
    // Read the inputs (type errors come before option errors, as in Redis).
    let mut srcs: Vec<Source> = Vec::with_capacity(setnum);
    for (i, k) in keys.iter().enumerate() {
        let h = ml.hashes[off + i];
        let mut elems = Vec::new();
        match ml.shard(h).lookup(db, h, k, cx.now_ms).map(|e| &e.value) {
            None => {}
            Some(Value::ZSet(z)) => {
                elems.reserve(z.len());
                z.for_each(|m, s| elems.push((m.to_vec(), s)));
            }
            Some(Value::Set(s)) => {
                elems.reserve(s.len());
                s.for_each(|m| elems.push((m.to_vec(), 1.0)));
            }
            Some(_) => return Err(WRONG_TYPE.into()),
        }
        srcs.push(Source {
            elems,
            index: None,
            weight: 1.0,
        });
    }
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: usize = 0;
    let mut j = numkeys_idx + 1 + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = args[j];
        if op != SetOp::Diff && !cardinality_only && remaining > setnum && is(a, "weights") {
            j += 1;
            for s in srcs.iter_mut() {
                s.weight = parse_score_opt(args[j])
                    .ok_or(CmdError::Static("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != SetOp::Diff && !cardinality_only && remaining >= 2 && is(a, "aggregate") {
            let v = args[j + 1];
            agg = if is(v, "sum") {
                Aggregate::Sum
            } else if is(v, "min") {
                Aggregate::Min
            } else if is(v, "max") {
                Aggregate::Max
            } else {
                return Err(SYNTAX.into());
            };
            j += 2;
        } else if !store && !cardinality_only && is(a, "withscores") {
            withscores = true;
            j += 1;
        } else if cardinality_only && remaining >= 2 && is(a, "limit") {
            const NEG: &str = "ERR LIMIT can't be negative";
            let l = long(args[j + 1]).map_err(|_| CmdError::Static(NEG))?;
            if l < 0 {
                return Err(NEG.into());
            }
            limit = l as usize;
            j += 2;
        } else {
            return Err(SYNTAX.into());
        }
    }
    if op != SetOp::Diff {
        // Smallest first (a stable sort, as glibc's merge-sort qsort is).
        srcs.sort_by_key(|s| s.elems.len());
    }
    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut cardinality = 0usize;
    match op {
        SetOp::Inter => {
            if !srcs[0].elems.is_empty() {
                let (first, rest) = srcs.split_first_mut().expect("at least one source");
                'outer: for (m, s) in &first.elems {
                    let mut score = first.weight * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    for other in rest.iter_mut() {
                        match other.find(m) {
                            Some(v) => aggregate(&mut score, v * other.weight, agg),
                            None => continue 'outer,
                        }
                    }
                    if cardinality_only {
                        cardinality += 1;
                        if limit != 0 && cardinality == limit {
                            break;
                        }
                    } else {
                        result.push((m.clone(), score));
                    }
                }
            }
        }
        SetOp::Union => {
            let mut acc: HashMap<Vec<u8>, usize> = HashMap::new();
            for src in &srcs {
                for (m, s) in &src.elems {
                    let mut score = src.weight * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get(m) {
                        Some(&i) => aggregate(&mut result[i].1, score, agg),
                        None => {
                            acc.insert(m.clone(), result.len());
                            result.push((m.clone(), score));
                        }
                    }
                }
            }
        }
        SetOp::Diff => {
            let (first, rest) = srcs.split_first_mut().expect("at least one source");
            for (m, s) in &first.elems {
                if rest.iter_mut().all(|o| o.find(m).is_none()) {
                    result.push((m.clone(), *s));
                }
            }
        }
    }
    if cardinality_only {
        cx.out.int(cardinality as i64);
        return Ok(());
    }
    if store {
        let dst = args[1];
        let hd = ml.hashes[0];
        let lk = ml.shard(hd);
        if !result.is_empty() {
            let z = build(&result, &limits);
            let n = z.len();
            lk.db(db).insert(hd, dst, Entry::new(Value::ZSet(z)));
            cx.propagate(lk, cx.args);
            cx.out.int(n as i64);
        } else {
            if lk.lookup(db, hd, dst, cx.now_ms).is_some() {
                lk.db(db).remove(hd, dst);
                cx.propagate(lk, cx.args);
            }
            cx.out.int(0);
        }
        ml.flush_expired();
        return Ok(());
    }
    drop(ml);
    result.sort_by(|a, b| tern_keyspace::zset::cmp(a.1, &a.0, b.1, &b.0));
    pairs_header(cx.out, result.len(), withscores);
    for (m, s) in &result {
        pair(cx.out, m, *s, withscores);
    }
    Ok(())
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zunion(cx: &mut Ctx) -> CmdResult {
    setop_generic(cx, SetOp::Union, false, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zinter(cx: &mut Ctx) -> CmdResult {
    setop_generic(cx, SetOp::Inter, false, false)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(cx: &mut Ctx) -> CmdResult {
    setop_generic(cx, SetOp::Diff, false, false)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE ...]
fn zunionstore(cx: &mut Ctx) -> CmdResult {
    setop_generic(cx, SetOp::Union, true, false)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE ...]
fn zinterstore(cx: &mut Ctx) -> CmdResult {
    setop_generic(cx, SetOp::Inter, true, false)
}

/// ZDIFFSTORE destination numkeys key [key ...]
fn zdiffstore(cx: &mut Ctx) -> CmdResult {
    setop_generic(cx, SetOp::Diff, true, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(cx: &mut Ctx) -> CmdResult {
    setop_generic(cx, SetOp::Inter, false, true)
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(cx: &mut Ctx) -> CmdResult {
    if cx.argc() == 2 {
        return read_zset(
            cx,
            cx.arg(1),
            |o| o.null(),
            |z, o| {
                let r = rand::thread_rng().gen_range(0..z.len());
                let (m, _) = z.get_by_rank(r).expect("in range");
                o.bulk(&m);
                Ok(())
            },
        );
    }
    let l = long(cx.arg(2))?;
    let withscores = match cx.argc() {
        3 => false,
        4 if is(cx.arg(3), "withscores") => true,
        _ => return Err(SYNTAX.into()),
    };
    if l == i64::MIN {
        return Err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
                .into(),
        );
    }
    // The reply would have 2 * |count| entries.
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err("ERR value is out of range".into());
    }
    read_zset(
        cx,
        cx.arg(1),
        |o| o.array(0),
        |z, o| {
            let mut rng = rand::thread_rng();
            let len = z.len();
            if l < 0 {
                // With repetitions.
                let n = l.unsigned_abs() as usize;
                pairs_header(o, n, withscores);
                for _ in 0..n {
                    let (m, s) = z.get_by_rank(rng.gen_range(0..len)).expect("in range");
                    pair(o, &m, s, withscores);
                }
                return Ok(());
            }
            let n = (l as usize).min(len);
            pairs_header(o, n, withscores);
            if n == len {
                z.for_each(|m, s| pair(o, m, s, withscores));
                return Ok(());
            }
            let ranks = rand::seq::index::sample(&mut rng, len, n);
            for r in ranks.iter() {
                let (m, s) = z.get_by_rank(r).expect("in range");
                pair(o, &m, s, withscores);
            }
            Ok(())
        },
    )
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(cx: &mut Ctx) -> CmdResult {
    let cursor = crate::families::keys::parse_cursor(cx.arg(2))?;
    let mut count: usize = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < cx.argc() {
        let a = cx.arg(i);
        let has_value = cx.argc() - i >= 2;
        if is(a, "count") && has_value {
            let n = long(cx.arg(i + 1))?;
            if n < 1 {
                return Err(SYNTAX.into());
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is(a, "match") && has_value {
            let p = cx.arg(i + 1);
            pattern = (p != b"*").then_some(p);
        } else {
            return Err(SYNTAX.into());
        }
        i += 2;
    }
    read_zset(
        cx,
        cx.arg(1),
        |o| {
            o.array(2);
            o.bulk(b"0");
            o.array(0);
        },
        |z, o| {
            let mut items: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            // Redis counts the raw member and score entries it gathered (before MATCH).
            let mut raw = 0usize;
            let mut c = cursor;
            let mut steps = count.saturating_mul(10);
            loop {
                c = z.scan(c, |m: &[u8], s: ScanScore<'_>| {
                    raw += 2;
                    if pattern.is_some_and(|p| !glob::matches(p, m)) {
                        return;
                    }
                    let score = match s {
                        ScanScore::Stored(LpValue::Int(i)) => i.to_string().into_bytes(),
                        ScanScore::Stored(LpValue::Str(b)) => b.to_vec(),
                        ScanScore::Double(d) => format_double(d).into_bytes(),
                    };
                    items.push((m.to_vec(), score));
                });
                if c == 0 || raw >= count || steps == 0 {
                    break;
                }
                steps -= 1;
            }
            o.array(2);
            o.bulk(c.to_string().as_bytes());
            o.array(2 * items.len());
            for (m, s) in &items {
                o.bulk(m);
                o.bulk(s);
            }
            Ok(())
        },
    )
}
