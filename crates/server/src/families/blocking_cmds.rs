//! The blocking commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP.
//!
//! Each is its non-blocking form (LPOP, LMOVE, LMPOP, ZPOPMIN, ZMPOP...) run on the first key
//! that has data, with the reply reshaped where Redis's differs (BLPOP adds the key). The
//! non-blocking handler does the pop, the reply and the propagation, so what replicas see is
//! exactly Redis 7.0's rewrite (BLPOP -> LPOP key, BLMOVE -> LMOVE, BZPOPMIN -> ZPOPMIN key, ...).
//! When no key has data the client blocks (see [`crate::blocking`]) and the same serve function
//! runs later, in the thread of the client whose write made a key ready.

use crate::args::is;
use crate::blocking::{self, null_array_reply, ServeFn};
use crate::ctx::Ctx;
use crate::errors::{CmdResult, SYNTAX, WRONG_TYPE};
use crate::table::{flags::*, CommandTable, Group, Spec};
use tern_keyspace::Value;
use tern_resp::ReplyWriter;

/// Registers the blocking commands.
pub fn register(t: &mut CommandTable) {
    let list = |name, arity, first: i32, last: i32| {
        Spec::new(name, arity, WRITE | NOSCRIPT | BLOCKING)
            .group(Group::List)
            .keys(first, last, 1)
    };
    let zset = |name, arity, first: i32, last: i32| {
        Spec::new(name, arity, WRITE | NOSCRIPT | FAST | BLOCKING)
            .group(Group::SortedSet)
            .keys(first, last, 1)
    };
    t.add(
        list("blpop", -3, 1, -2)
            .doc("2.0.0", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.")
            .handler(blpop),
    );
    t.add(
        list("brpop", -3, 1, -2)
            .doc("2.0.0", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.")
            .handler(brpop),
    );
    t.add(
        Spec::new("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING)
            .group(Group::List)
            .keys(1, 2, 1)
            .doc("6.2.0", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.")
            .handler(blmove),
    );
    t.add(
        Spec::new("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING)
            .group(Group::List)
            .keys(1, 2, 1)
            .doc("2.2.0", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.")
            .handler(brpoplpush),
    );
    t.add(
        Spec::new("blmpop", -5, WRITE | BLOCKING | MOVABLE_KEYS)
            .group(Group::List)
            .keys(3, -2, 1)
            .doc("7.0.0", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.")
            .handler(blmpop),
    );
    t.add(
        zset("bzpopmin", -3, 1, -2)
            .doc("5.0.0", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.")
            .handler(bzpopmin),
    );
    t.add(
        zset("bzpopmax", -3, 1, -2)
            .doc("5.0.0", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise. Deletes the sorted set if the last element was popped.")
            .handler(bzpopmax),
    );
    t.add(
        Spec::new("bzmpop", -5, WRITE | BLOCKING | MOVABLE_KEYS)
            .group(Group::SortedSet)
            .keys(3, -2, 1)
            .doc("7.0.0", "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.")
            .handler(bzmpop),
    );
}

/// Which type a blocking command waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    ZSet,
}

/// True if `key` holds a non-empty value of `kind`; WRONGTYPE if it holds another type.
fn has_data(cx: &mut Ctx, key: &[u8], kind: Kind) -> Result<bool, &'static str> {
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(key);
    match lk.lookup(db, h, key, cx.now_ms).map(|e| &e.value) {
        None => Ok(false),
        Some(Value::List(l)) if kind == Kind::List => Ok(!l.is_empty()),
        Some(Value::ZSet(z)) if kind == Kind::ZSet => Ok(!z.is_empty()),
        Some(_) => Err(WRONG_TYPE),
    }
}

/// Runs the non-blocking command `argv` (its handler, as if the client had sent it) into a
/// fresh reply writer in the client's protocol. Returns the reply bytes and whether the
/// handler succeeded.
fn run_inner(cx: &mut Ctx, argv: &[&[u8]]) -> (Vec<u8>, bool) {
    let spec = cx
        .srv
        .table
        .get(argv[0])
        .expect("the non-blocking form of a blocking command is registered");
    let handler = spec.handler.expect("registered with a handler");
    let mut out = ReplyWriter::new();
    out.proto = cx.out.proto;
    let ok = {
        let mut inner = Ctx {
            srv: cx.srv,
            cl: &mut *cx.cl,
            out: &mut out,
            args: argv,
            spec,
            now_ms: cx.now_ms,
        };
        handler(&mut inner).is_ok()
    };
    (out.buf, ok)
}

/// Strips a RESP array header (`*N\r\n`) off `reply`, returning N and the rest.
fn split_array_header(reply: &[u8]) -> Option<(usize, &[u8])> {
    let rest = reply.strip_prefix(b"*")?;
    let end = rest.iter().position(|&b| b == b'\r')?;
    let n = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
    Some((n, &rest[end + 2..]))
}

// ---------------------------------------------------------------------------------------------
// Serve functions: pop for a waiter from `key` (its data checked under the lock by the inner
// command), write its reply; false if the key has nothing for it.

/// BLPOP/BRPOP: `[key, element]` from LPOP/RPOP key.
fn serve_pop(cx: &mut Ctx, key: &[u8], pop: &'static [u8]) -> bool {
    if !matches!(has_data(cx, key, Kind::List), Ok(true)) {
        return false;
    }
    let (reply, ok) = run_inner(cx, &[pop, key]);
    if !ok || reply.starts_with(b"$-1") || reply.starts_with(b"_") {
        return false;
    }
    cx.out.array(2);
    cx.out.bulk(key);
    cx.out.raw(&reply);
    true
}

fn serve_blpop(cx: &mut Ctx, key: &[u8]) -> bool {
    serve_pop(cx, key, b"LPOP")
}

fn serve_brpop(cx: &mut Ctx, key: &[u8]) -> bool {
    serve_pop(cx, key, b"RPOP")
}

/// BLMOVE/BRPOPLPUSH: the element, from LMOVE src dst from to.
fn serve_move(cx: &mut Ctx, key: &[u8]) -> bool {
    if !matches!(has_data(cx, key, Kind::List), Ok(true)) {
        return false;
    }
    let (dst, from, to): (&[u8], &[u8], &[u8]) = if is(cx.args[0], "brpoplpush") {
        (cx.args[2], b"RIGHT", b"LEFT")
    } else {
        (cx.args[2], cx.args[3], cx.args[4])
    };
    let (dst, from, to) = (dst.to_vec(), from.to_vec(), to.to_vec());
    let (reply, ok) = run_inner(cx, &[b"LMOVE", key, &dst, &from, &to]);
    // A destination of another type fails the LMOVE: Redis 7.0 leaves the client blocked.
    if !ok || reply.starts_with(b"$-1") || reply.starts_with(b"_") {
        return false;
    }
    cx.out.raw(&reply);
    let db = cx.db();
    cx.signal_ready(db, &dst);
    true
}

/// BLMPOP/BZMPOP: LMPOP/ZMPOP 1 key where [COUNT n] (same reply shape).
fn serve_mpop(cx: &mut Ctx, key: &[u8]) -> bool {
    let (kind, cmd): (Kind, &[u8]) = if is(cx.args[0], "blmpop") {
        (Kind::List, b"LMPOP")
    } else {
        (Kind::ZSet, b"ZMPOP")
    };
    if !matches!(has_data(cx, key, kind), Ok(true)) {
        return false;
    }
    let Ok(p) = parse_mpop(cx.args) else {
        return false;
    };
    let where_ = cx.args[p.where_idx].to_vec();
    let count = p.count.to_string();
    let (reply, ok) = run_inner(cx, &[cmd, b"1", key, &where_, b"COUNT", count.as_bytes()]);
    if !ok || reply.starts_with(b"*-1") || reply.starts_with(b"_") {
        return false;
    }
    cx.out.raw(&reply);
    true
}

/// BZPOPMIN/BZPOPMAX: `[key, member, score]` from ZPOPMIN/ZPOPMAX key.
fn serve_zpop(cx: &mut Ctx, key: &[u8], pop: &'static [u8]) -> bool {
    if !matches!(has_data(cx, key, Kind::ZSet), Ok(true)) {
        return false;
    }
    let (reply, ok) = run_inner(cx, &[pop, key]);
    if !ok {
        return false;
    }
    match split_array_header(&reply) {
        Some((2, rest)) => {
            cx.out.array(3);
            cx.out.bulk(key);
            cx.out.raw(rest);
            true
        }
        _ => false,
    }
}

fn serve_bzpopmin(cx: &mut Ctx, key: &[u8]) -> bool {
    serve_zpop(cx, key, b"ZPOPMIN")
}

fn serve_bzpopmax(cx: &mut Ctx, key: &[u8]) -> bool {
    serve_zpop(cx, key, b"ZPOPMAX")
}

// ---------------------------------------------------------------------------------------------
// Handlers

/// Tries each key in order; if none has data, blocks on all of them.
fn block_or_serve(
    cx: &mut Ctx,
    keys: &[&[u8]],
    kind: Kind,
    deadline: Option<i64>,
    serve: ServeFn,
    timeout_reply: fn(&mut ReplyWriter),
) -> CmdResult {
    for key in keys {
        if has_data(cx, key, kind)? && serve(cx, key) {
            return Ok(());
        }
    }
    if cx.cl.in_exec {
        // Inside a transaction nothing blocks: the command times out at once.
        timeout_reply(cx.out);
        return Ok(());
    }
    let db = cx.db();
    let resp3 = cx.out.resp3();
    let wait = cx.srv.blocking.block(
        cx.cl,
        db,
        keys.iter().map(|k| k.to_vec()).collect(),
        cx.args.iter().map(|a| a.to_vec()).collect(),
        serve,
        resp3,
        deadline,
        timeout_reply,
    );
    cx.cl.blocked = Some(wait);
    // Data may have arrived between the look above and the registration.
    let now = cx.now_ms;
    cx.srv.blocking.serve_keys(cx.srv, cx.cl, db, keys, now);
    Ok(())
}

fn blpop(cx: &mut Ctx) -> CmdResult {
    bpop(cx, serve_blpop)
}

fn brpop(cx: &mut Ctx) -> CmdResult {
    bpop(cx, serve_brpop)
}

fn bpop(cx: &mut Ctx, serve: ServeFn) -> CmdResult {
    let n = cx.argc();
    let deadline = blocking::parse_timeout(cx.arg(n - 1), cx.now_ms)?;
    let keys: Vec<&[u8]> = cx.args[1..n - 1].to_vec();
    block_or_serve(cx, &keys, Kind::List, deadline, serve, null_array_reply)
}

fn bzpopmin(cx: &mut Ctx) -> CmdResult {
    bzpop(cx, serve_bzpopmin)
}

fn bzpopmax(cx: &mut Ctx) -> CmdResult {
    bzpop(cx, serve_bzpopmax)
}

fn bzpop(cx: &mut Ctx, serve: ServeFn) -> CmdResult {
    let n = cx.argc();
    let deadline = blocking::parse_timeout(cx.arg(n - 1), cx.now_ms)?;
    let keys: Vec<&[u8]> = cx.args[1..n - 1].to_vec();
    block_or_serve(cx, &keys, Kind::ZSet, deadline, serve, null_array_reply)
}

fn is_side(a: &[u8]) -> bool {
    is(a, "left") || is(a, "right")
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(cx: &mut Ctx) -> CmdResult {
    if !is_side(cx.arg(3)) || !is_side(cx.arg(4)) {
        return Err(SYNTAX.into());
    }
    let deadline = blocking::parse_timeout(cx.arg(5), cx.now_ms)?;
    let (src, dst, from, to) = (cx.arg(1), cx.arg(2), cx.arg(3), cx.arg(4));
    move_or_block(cx, [src, dst, from, to], deadline)
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(cx: &mut Ctx) -> CmdResult {
    let deadline = blocking::parse_timeout(cx.arg(3), cx.now_ms)?;
    let (src, dst) = (cx.arg(1), cx.arg(2));
    move_or_block(cx, [src, dst, b"RIGHT", b"LEFT"], deadline)
}

/// With data in the source, BLMOVE is LMOVE, errors included (a destination of the wrong
/// type is WRONGTYPE at once); otherwise it blocks.
fn move_or_block(
    cx: &mut Ctx,
    [src, dst, from, to]: [&[u8]; 4],
    deadline: Option<i64>,
) -> CmdResult {
    if has_data(cx, src, Kind::List)? {
        let (reply, _) = run_inner(cx, &[b"LMOVE", src, dst, from, to]);
        if !(reply.starts_with(b"$-1") || reply.starts_with(b"_")) {
            cx.out.raw(&reply);
            return Ok(());
        }
    }
    // Redis 7.0 answers a timed-out BLMOVE with a null array too.
    block_or_serve(
        cx,
        &[src],
        Kind::List,
        deadline,
        serve_move,
        null_array_reply,
    )
}

/// The parsed tail of BLMPOP/BZMPOP: `timeout numkeys key... where [COUNT n]`.
struct MPop {
    numkeys: usize,
    where_idx: usize,
    count: i64,
}

/// Parses BLMPOP/BZMPOP arguments with Redis 7.0's checks and their order (numkeys, then the
/// keys, direction and COUNT; the timeout is checked last, by the caller).
fn parse_mpop(args: &[&[u8]]) -> Result<MPop, &'static str> {
    const NUMKEYS: &str = "ERR numkeys should be greater than 0";
    const COUNT: &str = "ERR count should be greater than 0";
    let numkeys = tern_resp::request::parse_i64(args[2])
        .filter(|&n| n > 0)
        .ok_or(NUMKEYS)? as usize;
    if numkeys > args.len().saturating_sub(4) {
        return Err(SYNTAX);
    }
    let where_idx = 3 + numkeys;
    let w = args[where_idx];
    let ok = if is(args[0], "blmpop") {
        is(w, "left") || is(w, "right")
    } else {
        is(w, "min") || is(w, "max")
    };
    if !ok {
        return Err(SYNTAX);
    }
    let mut count = None;
    let mut i = where_idx + 1;
    while i < args.len() {
        if is(args[i], "count") && i + 1 < args.len() && count.is_none() {
            let c = tern_resp::request::parse_i64(args[i + 1])
                .filter(|&c| c > 0)
                .ok_or(COUNT)?;
            count = Some(c);
            i += 2;
        } else {
            return Err(SYNTAX);
        }
    }
    Ok(MPop {
        numkeys,
        where_idx,
        count: count.unwrap_or(1),
    })
}

fn mpop(cx: &mut Ctx, kind: Kind) -> CmdResult {
    let p = parse_mpop(cx.args)?;
    let deadline = blocking::parse_timeout(cx.arg(1), cx.now_ms)?;
    let keys: Vec<&[u8]> = cx.args[3..3 + p.numkeys].to_vec();
    block_or_serve(cx, &keys, kind, deadline, serve_mpop, null_array_reply)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn blmpop(cx: &mut Ctx) -> CmdResult {
    mpop(cx, Kind::List)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
fn bzmpop(cx: &mut Ctx) -> CmdResult {
    mpop(cx, Kind::ZSet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpop_arguments_are_checked_in_redis_order() {
        let p = |s: &str| {
            let v: Vec<&[u8]> = s.split(' ').map(|a| a.as_bytes()).collect();
            parse_mpop(&v).map(|m| (m.numkeys, m.where_idx, m.count))
        };
        assert_eq!(p("BLMPOP 0 1 a LEFT"), Ok((1, 4, 1)));
        assert_eq!(p("BLMPOP 0 2 a b right COUNT 5"), Ok((2, 5, 5)));
        assert_eq!(p("BZMPOP 0 1 a MAX"), Ok((1, 4, 1)));
        assert_eq!(
            p("BLMPOP 0 0 a LEFT"),
            Err("ERR numkeys should be greater than 0")
        );
        assert_eq!(
            p("BLMPOP 0 x a LEFT"),
            Err("ERR numkeys should be greater than 0")
        );
        assert_eq!(p("BLMPOP 0 2 a LEFT"), Err(SYNTAX));
        assert_eq!(p("BLMPOP 0 1 a MIN"), Err(SYNTAX));
        assert_eq!(p("BZMPOP 0 1 a LEFT"), Err(SYNTAX));
        assert_eq!(
            p("BLMPOP 0 1 a LEFT COUNT 0"),
            Err("ERR count should be greater than 0")
        );
        assert_eq!(p("BLMPOP 0 1 a LEFT COUNT"), Err(SYNTAX));
        assert_eq!(p("BLMPOP 0 1 a LEFT COUNT 1 COUNT 2"), Err(SYNTAX));
        assert_eq!(p("BLMPOP 0 1 a LEFT FOO"), Err(SYNTAX));
    }

    #[test]
    fn array_headers_split() {
        assert_eq!(
            split_array_header(b"*2\r\n$1\r\na\r\n"),
            Some((2, &b"$1\r\na\r\n"[..]))
        );
        assert_eq!(split_array_header(b"$1\r\na\r\n"), None);
    }
}
