//! ZSet command tests through the socket-free harness: replies, errors, encodings and the
//! propagated forms (checked against what redis-server 7.0.15 writes to its AOF).

use crate::testkit::frames::{bulk, bulks, err, int};
use crate::testkit::TestDb;
use tern_resp::Frame;

fn log(items: &[&[&str]]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

/// Runs `cmd` and returns what it propagated.
fn propagated(t: &mut TestDb, cmd: &[&str]) -> Vec<Vec<String>> {
    let off = t.log_offset();
    t.run(cmd);
    t.writes_since(off)
}

fn enc(t: &mut TestDb, k: &str) -> Frame {
    t.run(&["OBJECT", "ENCODING", k])
}

#[test]
fn writes_that_change_nothing_propagate_nothing() {
    let mut t = TestDb::new();
    assert_eq!(
        propagated(&mut t, &["ZADD", "z", "1", "a", "2", "b"]),
        log(&[&["ZADD", "z", "1", "a", "2", "b"]])
    );
    t.run(&["ZADD", "n", "inf", "i"]);
    for cmd in [
        &["ZADD", "z", "1", "a"][..],
        &["ZADD", "z", "GT", "0", "a"],
        &["ZADD", "z", "NX", "5", "a"],
        &["ZADD", "z", "XX", "5", "nope"],
        &["ZADD", "z", "INCR", "0", "a"],
        &["ZINCRBY", "z", "0", "a"],
        &["ZREM", "z", "nope"],
        &["ZREMRANGEBYSCORE", "z", "100", "200"],
        &["ZREMRANGEBYRANK", "z", "5", "6"],
        &["ZREMRANGEBYLEX", "z", "[x", "[y"],
        &["ZPOPMIN", "z", "0"],
        &["ZPOPMIN", "nokey"],
        &["ZRANGESTORE", "d", "z", "5", "10"],
        &["ZUNIONSTORE", "u", "1", "nokey"],
        &["ZADD", "n", "INCR", "-inf", "i"],
    ] {
        assert_eq!(propagated(&mut t, cmd), log(&[]), "{cmd:?}");
    }
}

#[test]
fn pops_propagate_as_redis_rewrites_them() {
    let mut t = TestDb::new();
    t.run(&[
        "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f",
    ]);
    assert_eq!(
        propagated(&mut t, &["ZPOPMIN", "z", "2"]),
        log(&[&["ZPOPMIN", "z", "2"]])
    );
    assert_eq!(
        propagated(&mut t, &["ZPOPMAX", "z"]),
        log(&[&["ZPOPMAX", "z"]])
    );
    // ZMPOP becomes ZPOPMIN/ZPOPMAX with the number actually popped.
    assert_eq!(
        propagated(&mut t, &["ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "2"]),
        log(&[&["ZPOPMAX", "z", "2"]])
    );
    assert_eq!(
        propagated(&mut t, &["ZMPOP", "1", "z", "MIN", "COUNT", "10"]),
        log(&[&["ZPOPMIN", "z", "1"]])
    );
    assert_eq!(t.run(&["EXISTS", "z"]), int(0));
    // A pop past the end still propagates as sent.
    t.run(&["ZADD", "w", "1", "a", "2", "b"]);
    assert_eq!(
        propagated(&mut t, &["ZPOPMIN", "w", "5"]),
        log(&[&["ZPOPMIN", "w", "5"]])
    );
}

#[test]
fn other_writes_propagate_as_sent() {
    let mut t = TestDb::new();
    for cmd in [
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"][..],
        &["ZADD", "z", "INCR", "1.5", "x"],
        &["ZINCRBY", "z", "0.1", "x"],
        &["ZADD", "z", "GT", "CH", "5", "a"],
        &["ZREM", "z", "b", "nope"],
        &["ZRANGESTORE", "d", "z", "0", "-1"],
        &["ZUNIONSTORE", "u", "2", "z", "d", "WEIGHTS", "1", "2"],
        &["ZINTERSTORE", "i", "2", "z", "d"],
        &["ZDIFFSTORE", "f", "2", "z", "nokey"],
        &["ZREMRANGEBYRANK", "z", "0", "0"],
        &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"],
    ] {
        assert_eq!(propagated(&mut t, cmd), log(&[cmd]), "{cmd:?}");
    }
    assert_eq!(t.run(&["EXISTS", "z"]), int(0));
    // A STORE with an empty result deletes the destination, and says so.
    assert_eq!(
        propagated(&mut t, &["ZINTERSTORE", "u", "2", "u", "nokey"]),
        log(&[&["ZINTERSTORE", "u", "2", "u", "nokey"]])
    );
    assert_eq!(t.run(&["EXISTS", "u"]), int(0));
}

#[test]
fn replies_use_redis_double_formatting() {
    let mut t = TestDb::new();
    t.run(&["ZADD", "z", "0.1", "a", "1e20", "b", "-inf", "c", "3", "d"]);
    assert_eq!(t.run(&["ZSCORE", "z", "a"]), bulk("0.10000000000000001"));
    assert_eq!(t.run(&["ZSCORE", "z", "b"]), bulk("1e+20"));
    assert_eq!(t.run(&["ZSCORE", "z", "c"]), bulk("-inf"));
    assert_eq!(
        t.run(&["ZINCRBY", "z", "0.2", "a"]),
        bulk("0.30000000000000004")
    );
    assert_eq!(
        t.run(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        bulks(&["c", "-inf", "a", "0.30000000000000004"])
    );
}

#[test]
fn zrank_withscore_is_the_redis_7_2_form() {
    let mut t = TestDb::new();
    t.run(&["ZADD", "z", "1", "a", "2.5", "b"]);
    assert_eq!(
        t.run(&["ZRANK", "z", "b", "WITHSCORE"]),
        Frame::Array(vec![int(1), bulk("2.5")])
    );
    assert_eq!(
        t.run(&["ZREVRANK", "z", "b", "withscore"]),
        Frame::Array(vec![int(0), bulk("2.5")])
    );
    assert_eq!(t.run(&["ZRANK", "z", "x", "WITHSCORE"]), Frame::Null);
    assert_eq!(
        t.run(&["ZRANK", "z", "b", "BOGUS"]),
        err("ERR syntax error")
    );
    assert_eq!(t.run(&["ZRANK", "z", "b"]), int(1));
}

#[test]
fn big_sets_convert_and_stay_consistent() {
    let mut t = TestDb::new();
    for i in 0..300 {
        t.run(&["ZADD", "z", &(i % 50).to_string(), &format!("m{i:03}")]);
    }
    assert_eq!(enc(&mut t, "z"), bulk("skiplist"));
    assert_eq!(t.run(&["ZCARD", "z"]), int(300));
    assert_eq!(t.run(&["ZCOUNT", "z", "10", "(20"]), int(60));
    assert_eq!(t.run(&["ZRANK", "z", "m050"]), int(1));
    assert_eq!(t.run(&["ZRANK", "z", "m001"]), int(6));
    assert_eq!(
        t.run(&["ZRANGE", "z", "0", "2"]),
        bulks(&["m000", "m050", "m100"])
    );
    assert_eq!(
        t.run(&["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "0", "2"]),
        bulks(&["m299", "m249"])
    );
    assert_eq!(t.run(&["ZREMRANGEBYSCORE", "z", "0", "(49"]), int(294));
    assert_eq!(enc(&mut t, "z"), bulk("skiplist"));
    let Frame::Array(popped) = t.run(&["ZPOPMIN", "z", "10"]) else {
        panic!("array")
    };
    assert_eq!(popped.len(), 12);
    assert_eq!(t.run(&["EXISTS", "z"]), int(0));
}

#[test]
fn wrong_types_and_arity() {
    let mut t = TestDb::new();
    t.run(&["SET", "s", "v"]);
    let wt = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [
        &["ZADD", "s", "1", "a"][..],
        &["ZINCRBY", "s", "1", "a"],
        &["ZREM", "s", "a"],
        &["ZRANGE", "s", "0", "1"],
        &["ZRANGESTORE", "d", "s", "0", "1"],
        &["ZPOPMIN", "s"],
        &["ZPOPMIN", "s", "0"],
        &["ZMPOP", "1", "s", "MIN"],
        &["ZUNIONSTORE", "d", "1", "s"],
        &["ZRANDMEMBER", "s"],
        &["ZSCAN", "s", "0"],
        &["ZREMRANGEBYRANK", "s", "0", "1"],
    ] {
        assert_eq!(t.run(cmd), wt, "{cmd:?}");
    }
    assert_eq!(
        t.run(&["ZRANGESTORE", "d", "z"]),
        err("ERR wrong number of arguments for 'zrangestore' command")
    );
}

#[test]
fn integral_score_fast_path_matches_printf_g17() {
    use tern_resp::{Proto, ReplyWriter};
    let mut vals = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        1e15,
        1e16,
        9.999999999999999e16,
        1e17,
        2e17,
    ];
    vals.extend((0..2000).map(|i| (i as f64) * 7919.0 - 5e6));
    vals.extend((0..64).map(|i| 2f64.powi(i)));
    vals.extend((0..64).map(|i| -(2f64.powi(i)) + 1.0));
    for proto in [Proto::Resp2, Proto::Resp3] {
        for &v in &vals {
            let mut a = ReplyWriter::new();
            a.proto = proto;
            let mut b = ReplyWriter::new();
            b.proto = proto;
            super::double(&mut a, v);
            b.double(v);
            assert_eq!(a.buf, b.buf, "{v}");
        }
    }
}

#[test]
fn blocking_pops_served_at_once_propagate_as_pops() {
    let mut t = TestDb::new();
    t.run(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(
        t.run(&["BZPOPMIN", "nokey", "z", "0"]),
        Frame::Array(vec![bulk("z"), bulk("a"), bulk("1")])
    );
    assert_eq!(
        propagated(&mut t, &["BZPOPMAX", "z", "0"]),
        log(&[&["ZPOPMAX", "z"]])
    );
    assert_eq!(
        propagated(&mut t, &["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"]),
        log(&[&["ZPOPMIN", "z", "1"]])
    );
    assert_eq!(t.run(&["EXISTS", "z"]), int(0));
}
