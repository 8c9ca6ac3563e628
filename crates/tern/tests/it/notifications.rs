//! Keyspace notifications (`notify-keyspace-events`): the events a sequence of commands
//! publishes, compared with the list redis-server 7.0 publishes for the same sequence (this
//! test passes against it too: `TERN_IT_SERVER=redis`).

use crate::harness::*;
use std::time::Duration;

/// Runs `cmds` with notifications `flags` on and returns the (channel, message) pairs seen by a
/// PSUBSCRIBE `__key*__:*` client, in order.
fn collect(flags: &str, cmds: &[&[&str]]) -> Vec<(String, String)> {
    let srv = TestServer::start_with(&["--enable-debug-command", "yes"]);
    collect_on(&srv, flags, cmds)
}

fn collect_on(srv: &TestServer, flags: &str, cmds: &[&[&str]]) -> Vec<(String, String)> {
    let mut c = srv.client();
    ok(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    ok(&mut c, &["CONFIG", "SET", "notify-keyspace-events", flags]);
    let mut s = srv.raw_conn();
    let p: Vec<&[u8]> = vec![b"PSUBSCRIBE", b"__key*__:*"];
    s.send(&encode(&p));
    s.read_reply();
    for cmd in cmds {
        if cmd[0] == "SLEEP" {
            std::thread::sleep(Duration::from_millis(cmd[1].parse().unwrap()));
            continue;
        }
        let _ = q(&mut c, cmd);
    }
    // A marker event ends the stream.
    ok(&mut c, &["SET", "__end__", "1"]);
    let mut out = Vec::new();
    loop {
        match s.read_reply() {
            Resp::Array(Some(v)) if v.len() == 4 => {
                let (ch, msg) = (v[2].text(), v[3].text());
                if msg == "__end__" || ch.ends_with("__end__") {
                    break;
                }
                out.push((ch, msg));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

fn ev(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(e, k)| (format!("__keyevent@0__:{e}"), k.to_string()))
        .collect()
}

#[test]
fn keyevent_notifications_match_redis() {
    let got = collect(
        "E$gxhsn",
        &[
            &["SET", "k", "v"],
            &["SET", "k", "v", "EX", "100"],
            &["APPEND", "k", "x"],
            &["INCR", "c"],
            &["INCRBYFLOAT", "c", "1.5"],
            &["EXPIRE", "k", "100"],
            &["PERSIST", "k"],
            &["RENAME", "k", "k2"],
            &["DEL", "k2", "nokey"],
            &["HSET", "h", "f", "v"],
            &["HINCRBY", "h", "n", "1"],
            &["HDEL", "h", "f", "n"],
            &["SADD", "s", "a", "b"],
            &["SREM", "s", "a", "b"],
            &["SADD", "s1", "x"],
            &["SINTERSTORE", "d", "s1", "nothing"],
            &["SUNIONSTORE", "d", "s1"],
            &["SET", "t", "v", "PX", "1"],
            &["SLEEP", "20"],
            &["GET", "t"],
            &["MSET", "a", "1", "b", "2"],
            &["EXPIRE", "a", "-1"],
            &["GETDEL", "b"],
            &["SET", "nx", "1", "NX"],
            &["SET", "nx", "2", "NX"],
        ],
    );
    let want = ev(&[
        ("new", "k"),
        ("set", "k"),
        ("set", "k"),
        ("expire", "k"),
        ("append", "k"),
        ("new", "c"),
        ("incrby", "c"),
        ("incrbyfloat", "c"),
        ("expire", "k"),
        ("persist", "k"),
        ("new", "k2"),
        ("rename_from", "k"),
        ("rename_to", "k2"),
        ("del", "k2"),
        ("new", "h"),
        ("hset", "h"),
        ("hincrby", "h"),
        ("hdel", "h"),
        ("del", "h"),
        ("new", "s"),
        ("sadd", "s"),
        ("srem", "s"),
        ("del", "s"),
        ("new", "s1"),
        ("sadd", "s1"),
        ("new", "d"),
        ("sunionstore", "d"),
        ("new", "t"),
        ("set", "t"),
        ("expire", "t"),
        ("expired", "t"),
        ("new", "a"),
        ("set", "a"),
        ("new", "b"),
        ("set", "b"),
        ("del", "a"),
        ("del", "b"),
        ("new", "nx"),
        ("set", "nx"),
    ]);
    assert_eq!(got, want);
}

#[test]
fn keyspace_channel_carries_the_event_name() {
    let got = collect(
        "K$",
        &[&["SET", "k", "v"], &["DEL", "k"], &["APPEND", "k", "x"]],
    );
    let want: Vec<(String, String)> = [("k", "set"), ("k", "append")]
        .iter()
        .map(|(k, e)| (format!("__keyspace@0__:{k}"), e.to_string()))
        .collect();
    assert_eq!(got, want);
}

/// Every command family at once, on tern and on redis-server side by side: the same events in
/// the same order.
#[test]
fn events_of_every_family_match_redis_side_by_side() {
    let cmds: &[&[&str]] = &[
        &["RPUSH", "l", "a", "b", "c"],
        &["LPUSHX", "l", "z"],
        &["LINSERT", "l", "BEFORE", "a", "x"],
        &["LSET", "l", "0", "y"],
        &["LREM", "l", "1", "x"],
        &["LTRIM", "l", "0", "2"],
        &["LPOP", "l"],
        &["RPOP", "l", "5"],
        &["RPUSH", "src", "1"],
        &["LMOVE", "src", "dst", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "dst", "dst2"],
        &["LMPOP", "2", "none", "dst2", "LEFT"],
        &["BLPOP", "none", "dst2", "0.01"],
        &["HSET", "h", "a", "1", "b", "2"],
        &["HSETNX", "h", "c", "3"],
        &["HINCRBYFLOAT", "h", "a", "0.5"],
        &["HDEL", "h", "a", "b", "c"],
        &["SADD", "one", "x"],
        &["SPOP", "one"],
        &["SADD", "s", "1", "2", "3"],
        &["SMOVE", "s", "t", "2"],
        &["SREM", "s", "1", "3"],
        &["SINTERSTORE", "u", "t", "t"],
        &["SDIFFSTORE", "u", "t", "t"],
        &["SETBIT", "b", "7", "1"],
        &["BITFIELD", "b", "SET", "u8", "0", "255"],
        &["BITOP", "NOT", "nb", "b"],
        &["PFADD", "hll", "a", "b"],
        &["PFMERGE", "hll2", "hll"],
        &["SETEX", "e", "100", "v"],
        &["GETEX", "e", "PERSIST"],
        &["GETSET", "e", "w"],
        &["SETRANGE", "e", "5", "x"],
        &["DECRBY", "n", "3"],
        &["COPY", "e", "e2"],
        &["SORT", "nolist", "STORE", "sorted"],
        &["RPUSH", "nums", "3", "1"],
        &["SORT", "nums", "STORE", "sorted"],
        &["UNLINK", "e", "e2", "sorted", "nums", "missing"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["ZADD", "z", "INCR", "5", "a"],
        &["ZINCRBY", "z", "1", "b"],
        &["ZREM", "z", "c"],
        &["ZPOPMIN", "z"],
        &["ZMPOP", "2", "none", "z", "MAX"],
        &["ZADD", "z2", "1", "x", "2", "y"],
        &["ZUNIONSTORE", "zu", "1", "z2"],
        &["ZREMRANGEBYSCORE", "zu", "2", "2"],
        &["ZREMRANGEBYRANK", "zu", "0", "0"],
        &["ZRANGESTORE", "zr", "z2", "0", "0"],
        &["BZPOPMAX", "z2", "0.01"],
        &["MSETNX", "m1", "1", "m2", "2"],
        &["PEXPIRE", "m1", "0"],
    ];
    let flags = "KEA";
    let tern = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let got = collect_on(&tern, flags, cmds);
    let redis = TestServer::start_redis(None, &["--enable-debug-command", "yes"]);
    let want = collect_on(&redis, flags, cmds);
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            a,
            b,
            "event #{i} differs; tern {:?}\nredis {:?}",
            &got[i..],
            &want[i..]
        );
    }
    assert_eq!(got.len(), want.len(), "tern {got:?}\nredis {want:?}");
}

/// `keymiss` (flag `m`, not part of `A`): reads of missing keys, the source keys of writes
/// that read them (GETSET, SET ... GET, COPY, SORT, the *STORE commands, BITOP, PFMERGE),
/// none for writes that look keys up for writing, none for OBJECT, and the order against
/// `expired` and the command's own events; on tern and redis-server side by side.
#[test]
fn keymiss_events_match_redis_side_by_side() {
    let cmds: &[&[&str]] = &[
        &["GET", "m"],
        &["MGET", "m1", "m2", "m1"],
        &["EXISTS", "m", "m"],
        &["TYPE", "m"],
        &["TTL", "m"],
        &["STRLEN", "m"],
        &["GETRANGE", "m", "0", "1"],
        &["GETDEL", "m"],
        &["GETEX", "m"],
        &["GETSET", "g", "v"],
        &["SET", "g2", "v", "GET"],
        &["SET", "g3", "v"],
        &["TOUCH", "m", "g3"],
        &["DUMP", "m"],
        &["OBJECT", "ENCODING", "m"],
        &["LRANGE", "m", "0", "1"],
        &["LPOP", "m"],
        &["RPOPLPUSH", "m", "d"],
        &["SINTER", "m", "n"],
        &["SINTERSTORE", "d", "m", "n"],
        &["SMOVE", "m", "d", "a"],
        &["HGET", "m", "f"],
        &["HINCRBY", "h", "f", "1"],
        &["ZRANGE", "m", "0", "1"],
        &["ZUNIONSTORE", "d", "2", "m", "n"],
        &["ZRANGESTORE", "d", "m", "0", "1"],
        &["BITOP", "AND", "d", "m", "n"],
        &["PFCOUNT", "m", "n"],
        &["PFMERGE", "d", "m", "n"],
        &["COPY", "m", "d"],
        &["SORT", "m"],
        &["SORT", "m", "STORE", "d"],
        &["INCR", "c"],
        &["DEL", "m"],
        &["EXPIRE", "m", "10"],
        &["SET", "t", "v", "PX", "1"],
        &["SLEEP", "20"],
        &["GET", "t"],
        &["MULTI"],
        &["GET", "m"],
        &["SET", "m", "1"],
        &["GET", "m"],
        &["EXEC"],
        &["EVAL", "return redis.call('get', KEYS[1])", "1", "nothere"],
        &[
            "EVAL_RO",
            "return redis.call('exists', KEYS[1])",
            "1",
            "nothere",
        ],
    ];
    // Every set includes `$` or `A`: the end marker is a SET.
    for flags in ["KEAm", "E$m", "K$m", "KEA"] {
        let tern = TestServer::start_with(&["--enable-debug-command", "yes"]);
        let got = collect_on(&tern, flags, cmds);
        let redis = TestServer::start_redis(None, &["--enable-debug-command", "yes"]);
        let want = collect_on(&redis, flags, cmds);
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert_eq!(
                a,
                b,
                "flags {flags}: event #{i} differs; tern {:?}\nredis {:?}",
                &got[i..],
                &want[i..]
            );
        }
        assert_eq!(
            got.len(),
            want.len(),
            "flags {flags}: tern {got:?}\nredis {want:?}"
        );
        let misses = got
            .iter()
            .filter(|(c, m)| c.ends_with(":keymiss") || m == "keymiss");
        if flags.contains('m') {
            assert!(misses.count() > 20, "flags {flags}: {got:?}");
        } else {
            assert_eq!(misses.count(), 0);
        }
    }
}
