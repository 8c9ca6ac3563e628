//! Keyspace notifications (Redis's notify.c): with `notify-keyspace-events` set, changes are
//! published on `__keyspace@<db>__:<key>` (message: the event) and/or
//! `__keyevent@<db>__:<event>` (message: the key).
//!
//! Events come from one place instead of every handler: dispatch, after a write command that
//! changed something, looks the command up in [`events`] (which keys get which event and
//! class, Redis 7.0's names: `set`, `expire`, `lpush`, `rename_from`, `zincr`, ...), and
//! compares each key before and after to add `del` (a key that went away, e.g. the last
//! element popped) and `new` (a key that appeared). Expiry publishes `expired`. `keymiss`
//! (flag `m`) is derived the same way: before a command, dispatch notes which of the keys it
//! reads ([`read_key_positions`]) are missing, and publishes `keymiss` for them after it ran.
//! With no flags set (the default), the cost is one atomic load per command.

use crate::server::Server;
use std::sync::atomic::Ordering::Relaxed;
use tern_config::notify::*;
use tern_keyspace::Value;

/// Publishes one event for `key` in `db` if its class is enabled.
pub fn emit(srv: &Server, class: u32, event: &str, key: &[u8], db: usize, now_ms: i64) {
    let flags = srv.hot.notify.load(Relaxed);
    if flags & class == 0 {
        return;
    }
    if flags & KEYSPACE != 0 {
        let mut ch = format!("__keyspace@{db}__:").into_bytes();
        ch.extend_from_slice(key);
        srv.publish(crate::pubsub::Kind::Channel, &ch, event.as_bytes(), now_ms);
    }
    if flags & KEYEVENT != 0 {
        let ch = format!("__keyevent@{db}__:{event}").into_bytes();
        srv.publish(crate::pubsub::Kind::Channel, &ch, key, now_ms);
    }
}

/// True if any notification class is enabled.
#[inline]
pub fn enabled(srv: &Server) -> bool {
    srv.hot.notify.load(Relaxed) != 0
}

/// What a key looked like before a command: present, and its length (elements or bytes).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KeyState {
    pub exists: bool,
    pub len: usize,
}

/// The state of `key` in `db` now (an expired key counts as absent).
pub fn key_state(srv: &Server, db: usize, key: &[u8], now_ms: i64) -> KeyState {
    let h = tern_keyspace::Keyspace::hash(key);
    let g = srv.keyspace.lock(srv.keyspace.shard_of(h));
    match g.dbs[db].keys.get(h, key) {
        Some((_, e)) if !e.is_expired(now_ms) => KeyState {
            exists: true,
            len: match &e.value {
                Value::Str(s) => s.len(),
                Value::List(l) => l.len(),
                Value::Hash(h) => h.len(),
                Value::Set(s) => s.len(),
                Value::ZSet(z) => z.len(),
            },
        },
        _ => KeyState {
            exists: false,
            len: 0,
        },
    }
}

/// The arguments of `args` that the command looks up as Redis's `lookupKeyRead` does, so a
/// missing one publishes `keymiss` (class `m`): every key of a read-only command but OBJECT
/// and MEMORY USAGE (which look without notifying) and scripts (whose commands publish their
/// own), and the source keys of the writes that read them that way (GETSET, SET ... GET,
/// GETDEL, GETEX, COPY, SORT, the *STORE commands, BITOP, PFMERGE and PFCOUNT).
pub fn read_key_positions(
    spec: &crate::table::Spec,
    args: &[&[u8]],
) -> smallvec::SmallVec<[usize; 4]> {
    use smallvec::smallvec;
    let name = spec.name.as_str();
    match name {
        "getset" | "getdel" | "getex" | "copy" | "sort" | "georadius" | "georadiusbymember" => {
            smallvec![1]
        }
        "set" if args.iter().skip(3).any(|a| is(a, "GET")) => smallvec![1],
        "sinterstore" | "sunionstore" | "sdiffstore" => (2..args.len()).collect(),
        "bitop" => (3..args.len()).collect(),
        "zrangestore" | "geosearchstore" => smallvec![2],
        "zunionstore" | "zinterstore" | "zdiffstore" => {
            spec.key_positions_in(args).into_iter().skip(1).collect()
        }
        "pfmerge" | "pfcount" => spec.key_positions_in(args).into_iter().collect(),
        "eval_ro" | "evalsha_ro" | "fcall_ro" => smallvec::SmallVec::new(),
        _ if name.starts_with("object|") || name.starts_with("memory|") => {
            smallvec::SmallVec::new()
        }
        _ if spec.has(crate::table::flags::READONLY) => {
            spec.key_positions_in(args).into_iter().collect()
        }
        _ => smallvec::SmallVec::new(),
    }
}

/// Before a command runs: the arguments naming keys it will look up and not find (see
/// [`read_key_positions`]). Empty, at the cost of one atomic load, unless `keymiss` events
/// are enabled.
#[inline]
pub fn misses_before(
    srv: &Server,
    db: usize,
    spec: &crate::table::Spec,
    args: &[&[u8]],
    now_ms: i64,
) -> smallvec::SmallVec<[usize; 4]> {
    if srv.hot.notify.load(Relaxed) & KEY_MISS == 0 {
        return smallvec::SmallVec::new();
    }
    read_key_positions(spec, args)
        .into_iter()
        .filter(|&i| !key_state(srv, db, args[i], now_ms).exists)
        .collect()
}

/// After the command: publishes `keymiss` for each key [`misses_before`] found missing, in
/// argument order (Redis publishes them as it looks the keys up, before the command's own
/// events, and after the `expired` event of a key the lookup found expired).
pub fn keymiss(srv: &Server, db: usize, args: &[&[u8]], misses: &[usize], now_ms: i64) {
    for &i in misses {
        emit(srv, KEY_MISS, "keymiss", args[i], db, now_ms);
    }
}

/// One event a command produces: for the key at argument `arg`, `event` in `class`.
pub type Event = (usize, u32, &'static str);

fn is(a: &[u8], w: &str) -> bool {
    a.eq_ignore_ascii_case(w.as_bytes())
}

/// The events of a write command that changed something, per key argument, in Redis 7.0's
/// naming. `changed(i)` says whether the key at argument `i` changed (length or existence), for
/// commands that pick one of several keys (LMPOP, ZMPOP). Keys that disappear also get `del`,
/// keys that appear `new` (added by the caller).
pub fn events(name: &str, args: &[&[u8]], changed: &dyn Fn(usize) -> bool) -> Vec<Event> {
    let n = args.len();
    let all = |from: usize, step: usize, class: u32, ev: &'static str| -> Vec<Event> {
        (from..n).step_by(step).map(|i| (i, class, ev)).collect()
    };
    let first = |class: u32, ev: &'static str| vec![(1, class, ev)];
    let side = |a: &[u8], left: &'static str, right: &'static str| {
        if is(a, "left") {
            left
        } else {
            right
        }
    };
    let expire_opts = |from: usize| {
        args[from.min(n)..]
            .iter()
            .any(|a| is(a, "ex") || is(a, "px") || is(a, "exat") || is(a, "pxat"))
    };
    match name {
        // Strings.
        "set" => {
            let mut v = first(STRING, "set");
            if expire_opts(3) {
                v.push((1, GENERIC, "expire"));
            }
            v
        }
        "setnx" | "getset" => first(STRING, "set"),
        "setex" | "psetex" => vec![(1, STRING, "set"), (1, GENERIC, "expire")],
        "mset" | "msetnx" => all(1, 2, STRING, "set"),
        "append" => first(STRING, "append"),
        "setrange" => first(STRING, "setrange"),
        "incr" | "decr" | "incrby" | "decrby" => first(STRING, "incrby"),
        "incrbyfloat" => first(STRING, "incrbyfloat"),
        "getex" => {
            if args[2..].iter().any(|a| is(a, "persist")) {
                first(GENERIC, "persist")
            } else {
                first(GENERIC, "expire")
            }
        }
        "getdel" => vec![],
        "setbit" | "bitfield" => first(STRING, "setbit"),
        "bitop" => vec![(2, STRING, "set")],
        "pfadd" | "pfmerge" => first(STRING, "pfadd"),
        // Keys.
        "expire" | "pexpire" | "expireat" | "pexpireat" => first(GENERIC, "expire"),
        "persist" => first(GENERIC, "persist"),
        "rename" | "renamenx" => vec![(1, GENERIC, "rename_from"), (2, GENERIC, "rename_to")],
        "copy" => vec![(2, GENERIC, "copy_to")],
        "restore" => first(GENERIC, "restore"),
        "sort" => {
            let store = args.iter().position(|a| is(a, "store"));
            store.map_or(vec![], |i| vec![(i + 1, LIST, "sortstore")])
        }
        // Lists.
        "lpush" | "lpushx" => first(LIST, "lpush"),
        "rpush" | "rpushx" => first(LIST, "rpush"),
        "lpop" | "blpop" => {
            if name == "blpop" {
                (1..n - 1)
                    .filter(|&i| changed(i))
                    .take(1)
                    .map(|i| (i, LIST, "lpop"))
                    .collect()
            } else {
                first(LIST, "lpop")
            }
        }
        "rpop" | "brpop" => {
            if name == "brpop" {
                (1..n - 1)
                    .filter(|&i| changed(i))
                    .take(1)
                    .map(|i| (i, LIST, "rpop"))
                    .collect()
            } else {
                first(LIST, "rpop")
            }
        }
        "linsert" => first(LIST, "linsert"),
        "lset" => first(LIST, "lset"),
        "lrem" => first(LIST, "lrem"),
        "ltrim" => first(LIST, "ltrim"),
        // The push to the destination is reported before the pop from the source.
        "rpoplpush" | "brpoplpush" => vec![(2, LIST, "lpush"), (1, LIST, "rpop")],
        "lmove" | "blmove" => vec![
            (2, LIST, side(args[4], "lpush", "rpush")),
            (1, LIST, side(args[3], "lpop", "rpop")),
        ],
        "lmpop" | "blmpop" => mpop(
            args,
            if name == "lmpop" { 1 } else { 2 },
            changed,
            LIST,
            |w| side(w, "lpop", "rpop"),
        ),
        // Hashes.
        "hset" | "hmset" | "hsetnx" => first(HASH, "hset"),
        "hdel" => first(HASH, "hdel"),
        "hincrby" => first(HASH, "hincrby"),
        "hincrbyfloat" => first(HASH, "hincrbyfloat"),
        // Sets.
        "sadd" => first(SET, "sadd"),
        "srem" => first(SET, "srem"),
        "spop" => first(SET, "spop"),
        "smove" => vec![(1, SET, "srem"), (2, SET, "sadd")],
        "sinterstore" => first(SET, "sinterstore"),
        "sunionstore" => first(SET, "sunionstore"),
        "sdiffstore" => first(SET, "sdiffstore"),
        // Sorted sets.
        "zadd" => {
            if args[2..].iter().any(|a| is(a, "incr")) {
                first(ZSET, "zincr")
            } else {
                first(ZSET, "zadd")
            }
        }
        "zincrby" => first(ZSET, "zincr"),
        "zrem" => first(ZSET, "zrem"),
        "zremrangebyscore" => first(ZSET, "zremrangebyscore"),
        "zremrangebyrank" => first(ZSET, "zremrangebyrank"),
        "zremrangebylex" => first(ZSET, "zremrangebylex"),
        "zpopmin" => first(ZSET, "zpopmin"),
        "zpopmax" => first(ZSET, "zpopmax"),
        "bzpopmin" | "bzpopmax" => (1..n - 1)
            .filter(|&i| changed(i))
            .take(1)
            .map(|i| {
                (
                    i,
                    ZSET,
                    if name == "bzpopmin" {
                        "zpopmin"
                    } else {
                        "zpopmax"
                    },
                )
            })
            .collect(),
        "zmpop" | "bzmpop" => mpop(
            args,
            if name == "zmpop" { 1 } else { 2 },
            changed,
            ZSET,
            |w| {
                if is(w, "min") {
                    "zpopmin"
                } else {
                    "zpopmax"
                }
            },
        ),
        "zunionstore" => first(ZSET, "zunionstore"),
        "zinterstore" => first(ZSET, "zinterstore"),
        "zdiffstore" => first(ZSET, "zdiffstore"),
        "zrangestore" => first(ZSET, "zrangestore"),
        _ => vec![],
    }
}

/// LMPOP/ZMPOP: the event for the one key that changed among `numkeys` keys.
fn mpop(
    args: &[&[u8]],
    numkeys_at: usize,
    changed: &dyn Fn(usize) -> bool,
    class: u32,
    event: impl Fn(&[u8]) -> &'static str,
) -> Vec<Event> {
    let Some(nk) = args
        .get(numkeys_at)
        .and_then(|a| std::str::from_utf8(a).ok())
        .and_then(|s| s.parse::<usize>().ok())
    else {
        return vec![];
    };
    let first_key = numkeys_at + 1;
    let Some(w) = args.get(first_key + nk) else {
        return vec![];
    };
    (first_key..first_key + nk)
        .filter(|&i| changed(i))
        .take(1)
        .map(|i| (i, class, event(w)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str, args: &[&str]) -> Vec<Event> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        events(name, &a, &|i| i == 3)
    }

    #[test]
    fn events_follow_redis_names() {
        assert_eq!(ev("set", &["SET", "k", "v"]), vec![(1, STRING, "set")]);
        assert_eq!(
            ev("set", &["SET", "k", "v", "EX", "10"]),
            vec![(1, STRING, "set"), (1, GENERIC, "expire")]
        );
        assert_eq!(
            ev("mset", &["MSET", "a", "1", "b", "2"]),
            vec![(1, STRING, "set"), (3, STRING, "set")]
        );
        assert_eq!(
            ev("incrbyfloat", &["INCRBYFLOAT", "k", "1"]),
            vec![(1, STRING, "incrbyfloat")]
        );
        assert_eq!(
            ev("rename", &["RENAME", "a", "b"]),
            vec![(1, GENERIC, "rename_from"), (2, GENERIC, "rename_to")]
        );
        assert_eq!(
            ev("lmove", &["LMOVE", "a", "b", "LEFT", "RIGHT"]),
            vec![(2, LIST, "rpush"), (1, LIST, "lpop")]
        );
        assert_eq!(
            ev("lmpop", &["LMPOP", "2", "a", "b", "RIGHT"]),
            vec![(3, LIST, "rpop")]
        );
        assert_eq!(
            ev("zadd", &["ZADD", "z", "INCR", "1", "m"]),
            vec![(1, ZSET, "zincr")]
        );
        assert_eq!(ev("zpopmin", &["ZPOPMIN", "z"]), vec![(1, ZSET, "zpopmin")]);
        assert_eq!(
            ev("sinterstore", &["SINTERSTORE", "d", "a"]),
            vec![(1, SET, "sinterstore")]
        );
        assert_eq!(
            ev("sort", &["SORT", "l", "STORE", "d"]),
            vec![(3, LIST, "sortstore")]
        );
    }
}
