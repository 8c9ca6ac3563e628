//! String commands (Redis's t_string.c): GET SET and friends, counters, ranges.
//!
//! Propagated forms (what reaches the replication log), which make replicas and the AOF
//! deterministic whatever the clock says when they replay:
//! - SET with EX/PX/EXAT, SETEX, PSETEX -> `SET key value PXAT <abs-ms>`
//! - GETSET -> `SET key value`; GETDEL -> `DEL key`
//! - GETEX EX/PX/EXAT/PXAT -> `PEXPIREAT key <abs-ms>`; GETEX PERSIST -> `PERSIST key`
//! - INCRBYFLOAT -> `SET key <result> KEEPTTL`
//! - everything else is propagated as the client sent it.

use crate::args::{self, is};
use crate::ctx::Ctx;
use crate::errors::{
    CmdError, CmdResult, OFFSET_RANGE, OVERFLOW, STRING_TOO_LONG, SYNTAX, WRONG_TYPE,
};
use crate::table::{flags::*, CommandTable, Group, Spec};
use smallvec::SmallVec;
use std::sync::atomic::Ordering::Relaxed;
use tern_keyspace::value::SmallBytes;
use tern_keyspace::{Entry, Str, Value};
use tern_resp::ReplyWriter;

/// Registers the string commands.
pub fn register(t: &mut CommandTable) {
    let s = |name, arity, flags| {
        Spec::new(name, arity, flags)
            .group(Group::String)
            .keys(1, 1, 1)
    };
    t.add(
        s("get", 2, READONLY | FAST)
            .doc("1.0.0", "Returns the string value of a key.")
            .handler(get),
    );
    t.add(
        s("set", -3, WRITE | DENYOOM)
            .doc(
                "1.0.0",
                "Sets the string value of a key, ignoring its type.",
            )
            .handler(set),
    );
    t.add(
        s("setnx", 3, WRITE | DENYOOM | FAST)
            .doc(
                "1.0.0",
                "Set the string value of a key only when the key doesn't exist.",
            )
            .handler(setnx),
    );
    t.add(
        s("setex", 4, WRITE | DENYOOM)
            .doc(
                "2.0.0",
                "Sets the string value and expiration time of a key.",
            )
            .handler(setex),
    );
    t.add(
        s("psetex", 4, WRITE | DENYOOM)
            .doc(
                "2.6.0",
                "Sets both string value and expiration time in milliseconds of a key.",
            )
            .handler(psetex),
    );
    t.add(
        s("getset", 3, WRITE | DENYOOM | FAST)
            .doc(
                "1.0.0",
                "Returns the previous string value of a key after setting it to a new value.",
            )
            .handler(getset),
    );
    t.add(
        s("getdel", 2, WRITE | FAST)
            .doc(
                "6.2.0",
                "Returns the string value of a key after deleting the key.",
            )
            .handler(getdel),
    );
    t.add(
        s("getex", -2, WRITE | FAST)
            .doc(
                "6.2.0",
                "Returns the string value of a key after setting its expiration time.",
            )
            .handler(getex),
    );
    t.add(
        s("mget", -2, READONLY | FAST)
            .keys(1, -1, 1)
            .doc(
                "1.0.0",
                "Atomically returns the string values of one or more keys.",
            )
            .handler(mget),
    );
    t.add(
        s("mset", -3, WRITE | DENYOOM)
            .keys(1, -1, 2)
            .doc(
                "1.0.1",
                "Atomically creates or modifies the string values of one or more keys.",
            )
            .handler(mset),
    );
    t.add(s("msetnx", -3, WRITE | DENYOOM).keys(1, -1, 2).doc("1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist.").handler(msetnx));
    t.add(
        s("append", 3, WRITE | DENYOOM | FAST)
            .doc(
                "2.0.0",
                "Appends a string to the value of a key. Creates the key if it doesn't exist.",
            )
            .handler(append),
    );
    t.add(
        s("strlen", 2, READONLY | FAST)
            .doc("2.2.0", "Returns the length of a string value.")
            .handler(strlen),
    );
    t.add(
        s("getrange", 4, READONLY)
            .doc(
                "2.4.0",
                "Returns a substring of the string stored at a key.",
            )
            .handler(getrange),
    );
    t.add(
        s("substr", 4, READONLY)
            .doc("1.0.0", "Returns a substring from a string value.")
            .handler(getrange),
    );
    t.add(s("setrange", 4, WRITE | DENYOOM).doc("2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.").handler(setrange));
    t.add(s("incr", 2, WRITE | DENYOOM | FAST).doc("1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.").handler(incr));
    t.add(s("decr", 2, WRITE | DENYOOM | FAST).doc("1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.").handler(decr));
    t.add(s("incrby", 3, WRITE | DENYOOM | FAST).doc("1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.").handler(incrby));
    t.add(s("decrby", 3, WRITE | DENYOOM | FAST).doc("1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.").handler(decrby));
    t.add(s("incrbyfloat", 3, WRITE | DENYOOM | FAST).doc("2.6.0", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.").handler(incrbyfloat));
}

/// Writes a string value as a bulk reply.
#[inline]
pub fn reply_str(out: &mut ReplyWriter, s: &Str) {
    match s {
        Str::Int(i) => out.bulk_int(*i),
        Str::Bytes { data, .. } => out.bulk(data),
    }
}

/// The string in an entry, or WRONGTYPE.
#[inline]
fn as_str(e: &Entry) -> Result<&Str, CmdError> {
    match &e.value {
        Value::Str(s) => Ok(s),
        #[allow(unreachable_patterns)]
        _ => Err(CmdError::Static(WRONG_TYPE)),
    }
}

/// GET key
fn get(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    match lk.lookup(cx.db(), h, key, cx.now_ms) {
        None => {
            cx.cl.stats.misses.add(1);
            cx.out.null();
        }
        Some(e) => {
            e.lru = tern_keyspace::db::lru_clock();
            reply_str(cx.out, as_str(e)?);
            cx.cl.stats.hits.add(1);
        }
    }
    Ok(())
}

/// How a SET-like command sets the expiry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ttl {
    /// Remove any TTL (the default for SET).
    Clear,
    /// Keep the existing TTL (KEEPTTL).
    Keep,
    /// Set this absolute deadline in ms.
    At(i64),
}

/// Unit and base of an expiry argument.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpUnit {
    Sec,
    Ms,
    UnixSec,
    UnixMs,
}

/// Converts an expiry argument to absolute ms the way Redis's `getExpireMillisecondsOrReply`
/// does, with its errors.
fn expire_at(arg: &[u8], unit: ExpUnit, now_ms: i64, cmd: &str) -> Result<i64, CmdError> {
    let v = args::int(arg)?;
    let secs = matches!(unit, ExpUnit::Sec | ExpUnit::UnixSec);
    if v <= 0 || (secs && v > i64::MAX / 1000) {
        return Err(CmdError::invalid_expire(cmd));
    }
    let ms = if secs { v * 1000 } else { v };
    match unit {
        ExpUnit::Sec | ExpUnit::Ms => ms
            .checked_add(now_ms)
            .ok_or_else(|| CmdError::invalid_expire(cmd)),
        _ => Ok(ms),
    }
}

/// The options shared by SET and GETEX, as Redis's `parseExtendedStringArgumentsOrReply`
/// accepts them: NX/XX exclude each other, an expiry excludes KEEPTTL/PERSIST and the other
/// expiry kinds, and repeating the same option is allowed (the last value wins).
#[derive(Default)]
struct ExtOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(ExpUnit, &'a [u8])>,
}

/// Parses `args` (the options after the key, or key and value). `set` selects SET's options
/// (NX XX GET KEEPTTL) rather than GETEX's (PERSIST). Only syntax is checked here: expiry
/// values are validated later, in the same order as Redis.
fn parse_ext_opts<'a>(args: &[&'a [u8]], set: bool) -> Result<ExtOpts<'a>, CmdError> {
    let mut o = ExtOpts::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        let unit = if is(a, "EX") {
            Some(ExpUnit::Sec)
        } else if is(a, "PX") {
            Some(ExpUnit::Ms)
        } else if is(a, "EXAT") {
            Some(ExpUnit::UnixSec)
        } else if is(a, "PXAT") {
            Some(ExpUnit::UnixMs)
        } else {
            None
        };
        if set && is(a, "NX") && !o.xx {
            o.nx = true;
        } else if set && is(a, "XX") && !o.nx {
            o.xx = true;
        } else if set && is(a, "GET") {
            o.get = true;
        } else if set && is(a, "KEEPTTL") && o.expire.is_none() {
            o.keepttl = true;
        } else if !set && is(a, "PERSIST") && o.expire.is_none() {
            o.persist = true;
        } else if let (Some(u), Some(&v)) = (unit, args.get(i + 1)) {
            if o.keepttl || o.persist || o.expire.is_some_and(|(prev, _)| prev != u) {
                return Err(SYNTAX.into());
            }
            o.expire = Some((u, v));
            i += 1;
        } else {
            return Err(SYNTAX.into());
        }
        i += 1;
    }
    Ok(o)
}

/// SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | KEEPTTL]
fn set(cx: &mut Ctx) -> CmdResult {
    let o = parse_ext_opts(&cx.args[3..], true)?;
    let ttl = match o.expire {
        Some((unit, v)) => Ttl::At(expire_at(v, unit, cx.now_ms, "set")?),
        None if o.keepttl => Ttl::Keep,
        None => Ttl::Clear,
    };
    let done = set_generic(cx, cx.arg(1), cx.arg(2), o.nx, o.xx, o.get, ttl)?;
    if !o.get {
        if done {
            cx.out.ok();
        } else {
            cx.out.null();
        }
    }
    Ok(())
}

/// The shared body of SET, SETNX, SETEX, PSETEX and GETSET. Returns whether the key was set.
/// With `get` it replies with the old value (or WRONGTYPE before changing anything); otherwise
/// the caller writes the reply.
fn set_generic(
    cx: &mut Ctx,
    key: &[u8],
    val: &[u8],
    nx: bool,
    xx: bool,
    get: bool,
    ttl: Ttl,
) -> Result<bool, CmdError> {
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let (found, old_ttl) = match lk.lookup(db, h, key, cx.now_ms) {
        Some(e) => {
            if get {
                reply_str(cx.out, as_str(e)?);
            }
            (true, e.expire_at)
        }
        None => {
            if get {
                cx.out.null();
            }
            (false, 0)
        }
    };
    if (nx && found) || (xx && !found) {
        return Ok(false);
    }
    let mut entry = Entry::new(Value::Str(Str::from_bytes(val)));
    entry.expire_at = match ttl {
        Ttl::Clear => 0,
        Ttl::Keep => old_ttl,
        Ttl::At(at) => at,
    };
    lk.db(db).insert(h, key, entry);
    match ttl {
        Ttl::At(at) => {
            let mut b = itoa::Buffer::new();
            cx.propagate(
                &mut lk,
                &[b"SET", key, val, b"PXAT", b.format(at).as_bytes()],
            );
        }
        Ttl::Keep => cx.propagate(&mut lk, &[b"SET", key, val, b"KEEPTTL"]),
        Ttl::Clear => cx.propagate(&mut lk, &[b"SET", key, val]),
    }
    Ok(true)
}

/// SETNX key value
fn setnx(cx: &mut Ctx) -> CmdResult {
    let done = set_generic(cx, cx.arg(1), cx.arg(2), true, false, false, Ttl::Clear)?;
    cx.out.int(done as i64);
    Ok(())
}

/// SETEX key seconds value
fn setex(cx: &mut Ctx) -> CmdResult {
    let at = expire_at(cx.arg(2), ExpUnit::Sec, cx.now_ms, "setex")?;
    set_generic(cx, cx.arg(1), cx.arg(3), false, false, false, Ttl::At(at))?;
    cx.out.ok();
    Ok(())
}

/// PSETEX key milliseconds value
fn psetex(cx: &mut Ctx) -> CmdResult {
    let at = expire_at(cx.arg(2), ExpUnit::Ms, cx.now_ms, "psetex")?;
    set_generic(cx, cx.arg(1), cx.arg(3), false, false, false, Ttl::At(at))?;
    cx.out.ok();
    Ok(())
}

/// GETSET key value
fn getset(cx: &mut Ctx) -> CmdResult {
    set_generic(cx, cx.arg(1), cx.arg(2), false, false, true, Ttl::Clear)?;
    Ok(())
}

/// GETDEL key
fn getdel(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    match lk.lookup(db, h, key, cx.now_ms) {
        None => cx.out.null(),
        Some(e) => {
            reply_str(cx.out, as_str(e)?);
            lk.db(db).remove(h, key);
            cx.propagate(&mut lk, &[b"DEL", key]);
        }
    }
    Ok(())
}

/// GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]
fn getex(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let o = parse_ext_opts(&cx.args[2..], false)?;
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    // Redis looks the key up and checks its type before it validates the expiry value.
    let Some(e) = lk.lookup(db, h, key, cx.now_ms) else {
        cx.out.null();
        return Ok(());
    };
    as_str(e)?;
    let at = match o.expire {
        Some((unit, v)) => Some(expire_at(v, unit, cx.now_ms, "getex")?),
        None => None,
    };
    reply_str(cx.out, as_str(e)?);
    let had_ttl = e.expire_at != 0;
    match at {
        None if o.persist && had_ttl => {
            lk.db(db).set_expire(h, key, 0);
            cx.propagate(&mut lk, &[b"PERSIST", key]);
        }
        None => {}
        Some(at) if at <= cx.now_ms => {
            // A deadline already past deletes the key, as Redis does.
            lk.db(db).remove(h, key);
            cx.propagate(&mut lk, &[b"DEL", key]);
        }
        Some(at) => {
            lk.db(db).set_expire(h, key, at);
            let mut b = itoa::Buffer::new();
            cx.propagate(&mut lk, &[b"PEXPIREAT", key, b.format(at).as_bytes()]);
        }
    }
    Ok(())
}

/// MGET key [key ...]
fn mget(cx: &mut Ctx) -> CmdResult {
    let keys = &cx.args[1..];
    let db = cx.db();
    let mut ml = cx.lock_keys(keys);
    cx.out.array(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let h = ml.hashes[i];
        match ml.shard(h).lookup(db, h, k, cx.now_ms) {
            Some(Entry {
                value: Value::Str(s),
                ..
            }) => {
                reply_str(cx.out, s);
                cx.cl.stats.hits.add(1);
            }
            #[allow(unreachable_patterns)]
            Some(_) => cx.out.null(),
            None => {
                cx.out.null();
                cx.cl.stats.misses.add(1);
            }
        }
    }
    Ok(())
}

/// MSET key value [key value ...]
fn mset(cx: &mut Ctx) -> CmdResult {
    mset_generic(cx, false)
}

/// MSETNX key value [key value ...]
fn msetnx(cx: &mut Ctx) -> CmdResult {
    mset_generic(cx, true)
}

fn mset_generic(cx: &mut Ctx, nx: bool) -> CmdResult {
    if cx.argc().is_multiple_of(2) {
        return Err(CmdError::arity(&cx.spec.name));
    }
    let db = cx.db();
    let keys: SmallVec<[&[u8]; 16]> = cx.args[1..].iter().step_by(2).copied().collect();
    let mut ml = cx.lock_keys(&keys);
    if nx {
        for (i, k) in keys.iter().enumerate() {
            let h = ml.hashes[i];
            if ml.shard(h).lookup(db, h, k, cx.now_ms).is_some() {
                cx.out.int(0);
                return Ok(());
            }
        }
    }
    for (i, k) in keys.iter().enumerate() {
        let h = ml.hashes[i];
        let v = cx.arg(2 + 2 * i);
        ml.shard(h)
            .db(db)
            .insert(h, k, Entry::new(Value::Str(Str::from_bytes(v))));
    }
    ml.flush_expired();
    cx.propagate(ml.first(), cx.args);
    if nx {
        cx.out.int(1);
    } else {
        cx.out.ok();
    }
    Ok(())
}

/// The largest string a command may create (`proto-max-bulk-len`).
fn check_len(cx: &Ctx, len: u64) -> CmdResult {
    if len > cx.srv.hot.proto_max_bulk_len.load(Relaxed) {
        return Err(STRING_TOO_LONG.into());
    }
    Ok(())
}

/// APPEND key value
fn append(cx: &mut Ctx) -> CmdResult {
    let (key, val) = (cx.arg(1), cx.arg(2));
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let new_len = match lk.lookup(db, h, key, cx.now_ms) {
        None => {
            check_len(cx, val.len() as u64)?;
            let len = val.len();
            lk.db(db).insert(
                h,
                key,
                // Redis encodes a new key's value as SET would (int/embstr), not as raw.
                Entry::new(Value::Str(Str::from_bytes(val))),
            );
            len
        }
        Some(e) => {
            let s = as_str(e)?;
            check_len(cx, (s.len() + val.len()) as u64)?;
            let mut data: SmallBytes = match s {
                Str::Int(i) => SmallBytes::new(itoa::Buffer::new().format(*i).as_bytes()),
                Str::Bytes { data, .. } => data.clone(),
            };
            data.extend_from_slice(val);
            let len = data.len();
            e.value = Value::Str(Str::raw(data));
            len
        }
    };
    cx.propagate(&mut lk, cx.args);
    cx.out.int(new_len as i64);
    Ok(())
}

/// STRLEN key
fn strlen(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let (mut lk, h) = cx.lock_key(key);
    let n = match lk.lookup(cx.db(), h, key, cx.now_ms) {
        None => 0,
        Some(e) => as_str(e)?.len(),
    };
    cx.out.int(n as i64);
    Ok(())
}

/// GETRANGE key start end
fn getrange(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let mut start = args::int(cx.arg(2))?;
    let mut end = args::int(cx.arg(3))?;
    let (mut lk, h) = cx.lock_key(key);
    let Some(e) = lk.lookup(cx.db(), h, key, cx.now_ms) else {
        cx.out.bulk(b"");
        return Ok(());
    };
    let s = as_str(e)?;
    let out = &mut *cx.out;
    s.with_bytes(|b| {
        let len = b.len() as i64;
        // Same clamping as Redis's getrangeCommand.
        if start < 0 && end < 0 && start > end {
            out.bulk(b"");
            return;
        }
        if start < 0 {
            start += len;
        }
        if end < 0 {
            end += len;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= len {
            end = len - 1;
        }
        if start > end || len == 0 {
            out.bulk(b"");
        } else {
            out.bulk(&b[start as usize..=end as usize]);
        }
    });
    Ok(())
}

/// SETRANGE key offset value
fn setrange(cx: &mut Ctx) -> CmdResult {
    let (key, val) = (cx.arg(1), cx.arg(3));
    let offset = args::int(cx.arg(2))?;
    if offset < 0 {
        return Err(OFFSET_RANGE.into());
    }
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let new_len = match lk.lookup(db, h, key, cx.now_ms) {
        None => {
            if val.is_empty() {
                cx.out.int(0);
                return Ok(());
            }
            check_len(cx, offset as u64 + val.len() as u64)?;
            let mut data = vec![0u8; offset as usize];
            data.extend_from_slice(val);
            let data = SmallBytes::from(data);
            let n = data.len();
            lk.db(db)
                .insert(h, key, Entry::new(Value::Str(Str::raw(data))));
            n
        }
        Some(e) => {
            let s = as_str(e)?;
            if val.is_empty() {
                cx.out.int(s.len() as i64);
                return Ok(());
            }
            check_len(cx, offset as u64 + val.len() as u64)?;
            let mut data: Vec<u8> = s.to_vec();
            let end = offset as usize + val.len();
            if data.len() < end {
                data.resize(end, 0);
            }
            data[offset as usize..end].copy_from_slice(val);
            let n = data.len();
            e.value = Value::Str(Str::raw(SmallBytes::from(data)));
            n
        }
    };
    cx.propagate(&mut lk, cx.args);
    cx.out.int(new_len as i64);
    Ok(())
}

fn incr(cx: &mut Ctx) -> CmdResult {
    incr_generic(cx, 1)
}

fn decr(cx: &mut Ctx) -> CmdResult {
    incr_generic(cx, -1)
}

fn incrby(cx: &mut Ctx) -> CmdResult {
    let by = args::int(cx.arg(2))?;
    incr_generic(cx, by)
}

fn decrby(cx: &mut Ctx) -> CmdResult {
    let by = args::int(cx.arg(2))?;
    if by == i64::MIN {
        return Err("ERR decrement would overflow".into());
    }
    incr_generic(cx, -by)
}

/// The shared body of INCR, DECR, INCRBY and DECRBY.
fn incr_generic(cx: &mut Ctx, by: i64) -> CmdResult {
    let key = cx.arg(1);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    let new = match lk.lookup(db, h, key, cx.now_ms) {
        None => {
            lk.db(db)
                .insert(h, key, Entry::new(Value::Str(Str::Int(by))));
            by
        }
        Some(e) => {
            let cur = match as_str(e)? {
                Str::Int(i) => *i,
                Str::Bytes { data, .. } => tern_resp::request::parse_i64(data)
                    .ok_or(CmdError::Static(crate::errors::NOT_INTEGER))?,
            };
            let new = cur.checked_add(by).ok_or(CmdError::Static(OVERFLOW))?;
            e.value = Value::Str(Str::Int(new));
            new
        }
    };
    cx.propagate(&mut lk, cx.args);
    cx.out.int(new);
    Ok(())
}

/// INCRBYFLOAT key increment
///
/// Redis computes in C `long double` (x87 extended precision) and prints `%.17Lf` with
/// trailing zeros trimmed, so replies show extended-precision digits (1000 + 0.1 gives
/// "1000.09999999999999998"); `tern_keyspace::longdouble` reproduces that exactly.
fn incrbyfloat(cx: &mut Ctx) -> CmdResult {
    let key = cx.arg(1);
    let incr = cx.arg(2);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    // Redis checks the type, then parses the stored value, then the increment.
    let (cur, ttl) = match lk.lookup(db, h, key, cx.now_ms) {
        None => (b"0".to_vec(), 0),
        Some(e) => (as_str(e)?.to_vec(), e.expire_at),
    };
    let text = match tern_keyspace::longdouble::incr_by_float(&cur, incr) {
        None => return Err(crate::errors::NOT_FLOAT.into()),
        Some(Err(())) => return Err("ERR increment would produce NaN or Infinity".into()),
        Some(Ok(text)) => text,
    };
    let mut entry = Entry::new(Value::Str(Str::from_bytes_unencoded(text.as_bytes())));
    entry.expire_at = ttl;
    lk.db(db).insert(h, key, entry);
    cx.propagate(&mut lk, &[b"SET", key, text.as_bytes(), b"KEEPTTL"]);
    cx.out.bulk(text.as_bytes());
    Ok(())
}
