//! Set command tests through the socket-free harness: replies, encodings and propagated forms.

use crate::testkit::frames::{bulk, bulks, err, int, ok};
use crate::testkit::TestDb;
use tern_resp::Frame;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn log(items: &[&[&str]]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

fn propagated(t: &mut TestDb, cmd: &[&str]) -> Vec<Vec<String>> {
    let off = t.log_offset();
    t.run(cmd);
    t.writes_since(off)
}

/// The members of an array or set reply, sorted.
fn sorted(f: Frame) -> Vec<String> {
    let items = match f {
        Frame::Array(v) | Frame::Set(v) => v,
        other => panic!("not a collection: {other:?}"),
    };
    let mut v: Vec<String> = items
        .iter()
        .map(|f| String::from_utf8(f.as_bytes().unwrap().to_vec()).unwrap())
        .collect();
    v.sort();
    v
}

fn encoding(t: &mut TestDb, k: &str) -> Frame {
    t.run(&["OBJECT", "ENCODING", k])
}

#[test]
fn sadd_srem_scard_and_membership() {
    let mut t = TestDb::new();
    assert_eq!(t.run(&["SADD", "s", "1", "2", "2", "3"]), int(3));
    assert_eq!(t.run(&["SADD", "s", "3"]), int(0));
    assert_eq!(t.run(&["SCARD", "s"]), int(3));
    assert_eq!(encoding(&mut t, "s"), bulk("intset"));
    assert_eq!(t.run(&["SISMEMBER", "s", "2"]), int(1));
    assert_eq!(t.run(&["SISMEMBER", "s", "02"]), int(0));
    assert_eq!(
        t.run(&["SMISMEMBER", "s", "1", "x", "3"]),
        Frame::Array(vec![int(1), int(0), int(1)])
    );
    assert_eq!(t.run(&["SMEMBERS", "s"]), bulks(&["1", "2", "3"]));
    assert_eq!(t.run(&["SREM", "s", "1", "9"]), int(1));
    assert_eq!(t.run(&["SREM", "s", "2", "3", "4"]), int(2));
    assert_eq!(t.run(&["EXISTS", "s"]), int(0));
    assert_eq!(t.run(&["SCARD", "s"]), int(0));
    assert_eq!(t.run(&["SREM", "s", "1"]), int(0));
    t.run(&["SET", "str", "v"]);
    for cmd in [
        &["SADD", "str", "1"][..],
        &["SREM", "str", "1"],
        &["SCARD", "str"],
        &["SISMEMBER", "str", "1"],
        &["SMEMBERS", "str"],
        &["SPOP", "str"],
        &["SRANDMEMBER", "str"],
        &["SSCAN", "str", "0"],
    ] {
        assert_eq!(t.run(cmd), err(WRONGTYPE), "{cmd:?}");
    }
}

#[test]
fn encodings_convert_at_the_configured_threshold() {
    let mut t = TestDb::new();
    assert_eq!(
        t.run(&["CONFIG", "SET", "set-max-intset-entries", "3"]),
        ok()
    );
    t.run(&["SADD", "s", "1", "2", "3"]);
    assert_eq!(encoding(&mut t, "s"), bulk("intset"));
    t.run(&["SADD", "s", "4"]);
    assert_eq!(encoding(&mut t, "s"), bulk("hashtable"));
    t.run(&["SREM", "s", "4", "3"]);
    assert_eq!(encoding(&mut t, "s"), bulk("hashtable"));
    t.run(&["SADD", "n", "abc"]);
    assert_eq!(encoding(&mut t, "n"), bulk("hashtable"));
    t.run(&["SADD", "m", "1", "x"]);
    assert_eq!(encoding(&mut t, "m"), bulk("hashtable"));
}

#[test]
fn algebra_and_store_commands() {
    let mut t = TestDb::new();
    t.run(&["SADD", "a", "1", "2", "3", "x"]);
    t.run(&["SADD", "b", "2", "3", "4"]);
    t.run(&["SADD", "c", "3", "x"]);
    assert_eq!(sorted(t.run(&["SINTER", "a", "b"])), ["2", "3"]);
    assert_eq!(sorted(t.run(&["SINTER", "a", "b", "c"])), ["3"]);
    assert_eq!(
        sorted(t.run(&["SINTER", "a", "nokey"])),
        Vec::<String>::new()
    );
    assert_eq!(t.run(&["SINTERCARD", "2", "a", "b"]), int(2));
    assert_eq!(t.run(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]), int(1));
    assert_eq!(t.run(&["SINTERCARD", "1", "a", "LIMIT", "0"]), int(4));
    assert_eq!(
        sorted(t.run(&["SUNION", "a", "b", "nokey"])),
        ["1", "2", "3", "4", "x"]
    );
    assert_eq!(sorted(t.run(&["SDIFF", "a", "b"])), ["1", "x"]);
    assert_eq!(sorted(t.run(&["SDIFF", "a", "b", "c"])), ["1"]);
    assert_eq!(sorted(t.run(&["SDIFF", "a", "a"])), Vec::<String>::new());
    assert_eq!(t.run(&["SINTERSTORE", "d", "a", "b"]), int(2));
    assert_eq!(encoding(&mut t, "d"), bulk("intset"));
    assert_eq!(t.run(&["SUNIONSTORE", "d", "a", "b"]), int(5));
    assert_eq!(encoding(&mut t, "d"), bulk("hashtable"));
    assert_eq!(t.run(&["SDIFFSTORE", "d", "b", "a"]), int(1));
    assert_eq!(t.run(&["SMEMBERS", "d"]), bulks(&["4"]));
    // An empty result deletes the destination.
    let off = t.log_offset();
    assert_eq!(t.run(&["SINTERSTORE", "d", "a", "nokey"]), int(0));
    assert_eq!(t.run(&["EXISTS", "d"]), int(0));
    assert_eq!(
        t.writes_since(off),
        log(&[&["SINTERSTORE", "d", "a", "nokey"]])
    );
    // Nothing changed: nothing propagated.
    assert_eq!(
        propagated(&mut t, &["SDIFFSTORE", "d", "nokey", "a"]),
        log(&[])
    );
    // The destination may be a source.
    assert_eq!(t.run(&["SUNIONSTORE", "a", "a", "b"]), int(5));
    t.run(&["SET", "str", "v"]);
    assert_eq!(t.run(&["SINTER", "nokey", "str"]), err(WRONGTYPE));
    assert_eq!(t.run(&["SUNION", "a", "str"]), err(WRONGTYPE));
    assert_eq!(t.run(&["SDIFFSTORE", "d", "nokey", "str"]), err(WRONGTYPE));
    // The destination's type does not matter: it is overwritten.
    assert_eq!(t.run(&["SUNIONSTORE", "str", "b"]), int(3));
    assert_eq!(t.run(&["TYPE", "str"]), Frame::Simple("set".into()));
}

#[test]
fn sintercard_errors() {
    let mut t = TestDb::new();
    for (cmd, e) in [
        (
            &["SINTERCARD", "0", "a"][..],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "x", "a"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "3", "a"],
            "ERR Number of keys can't be greater than number of args",
        ),
        (
            &["SINTERCARD", "1", "a", "LIMIT", "-1"],
            "ERR LIMIT can't be negative",
        ),
        (
            &["SINTERCARD", "1", "a", "LIMIT", "x"],
            "ERR LIMIT can't be negative",
        ),
        (&["SINTERCARD", "1", "a", "LIMIT"], "ERR syntax error"),
        (&["SINTERCARD", "1", "a", "FOO"], "ERR syntax error"),
    ] {
        assert_eq!(t.run(cmd), err(e), "{cmd:?}");
    }
}

#[test]
fn smove_moves_and_propagates() {
    let mut t = TestDb::new();
    t.run(&["SADD", "src", "a", "b"]);
    assert_eq!(
        propagated(&mut t, &["SMOVE", "src", "dst", "a"]),
        log(&[&["SMOVE", "src", "dst", "a"]])
    );
    assert_eq!(t.run(&["SMEMBERS", "dst"]), bulks(&["a"]));
    assert_eq!(t.run(&["SMOVE", "src", "dst", "zz"]), int(0));
    assert_eq!(t.run(&["SMOVE", "src", "src", "b"]), int(1));
    assert_eq!(t.run(&["SMOVE", "src", "src", "zz"]), int(0));
    assert_eq!(t.run(&["SMOVE", "src", "dst", "b"]), int(1));
    assert_eq!(t.run(&["EXISTS", "src"]), int(0));
    assert_eq!(t.run(&["SCARD", "dst"]), int(2));
    t.run(&["SET", "str", "v"]);
    assert_eq!(t.run(&["SMOVE", "nokey", "str", "a"]), int(0));
    assert_eq!(t.run(&["SMOVE", "dst", "str", "a"]), err(WRONGTYPE));
    assert_eq!(t.run(&["SMOVE", "str", "dst", "a"]), err(WRONGTYPE));
    // An integer moved into a new set makes an intset.
    t.run(&["SADD", "n", "5", "x"]);
    t.run(&["SMOVE", "n", "m", "5"]);
    assert_eq!(encoding(&mut t, "m"), bulk("intset"));
}

#[test]
fn spop_propagates_srem_or_del() {
    let mut t = TestDb::new();
    t.run(&[
        "SADD", "s", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
    ]);
    let off = t.log_offset();
    let popped = t.run(&["SPOP", "s"]);
    let m = String::from_utf8(popped.as_bytes().unwrap().to_vec()).unwrap();
    assert_eq!(t.writes_since(off), log(&[&["SREM", "s", &m]]));

    // Part of the set, a few members: MULTI, one SREM per member, EXEC.
    let off = t.log_offset();
    let popped = sorted(t.run(&["SPOP", "s", "3"]));
    assert_eq!(popped.len(), 3);
    let w = t.writes_since(off);
    assert_eq!(w.first().unwrap(), &vec!["MULTI".to_string()]);
    assert_eq!(w.last().unwrap(), &vec!["EXEC".to_string()]);
    let mut srems: Vec<String> = w[1..w.len() - 1]
        .iter()
        .map(|c| {
            assert_eq!(c[..2], ["SREM".to_string(), "s".to_string()]);
            c[2].clone()
        })
        .collect();
    srems.sort();
    assert_eq!(srems, popped);
    assert_eq!(t.run(&["SCARD", "s"]), int(6));

    // Most of the set (the "keep the rest" strategy): still SREMs of what was popped.
    let off = t.log_offset();
    let popped = sorted(t.run(&["SPOP", "s", "5"]));
    assert_eq!(t.writes_since(off).len(), 7);
    assert_eq!(t.run(&["SCARD", "s"]), int(1));
    for p in &popped {
        assert_eq!(t.run(&["SISMEMBER", "s", p]), int(0));
    }

    // The whole set: DEL.
    t.run(&["SADD", "s", "1", "2"]);
    assert_eq!(
        propagated(&mut t, &["SPOP", "s", "100"]),
        log(&[&["DEL", "s"]])
    );
    assert_eq!(t.run(&["EXISTS", "s"]), int(0));
    // One member of an intset: the key goes.
    t.run(&["SADD", "i", "7"]);
    assert_eq!(t.run(&["SPOP", "i"]), bulk("7"));
    assert_eq!(t.run(&["EXISTS", "i"]), int(0));
    assert_eq!(t.run(&["SPOP", "i"]), Frame::Null);
    assert_eq!(t.run(&["SPOP", "i", "2"]), Frame::Array(vec![]));
    assert_eq!(propagated(&mut t, &["SPOP", "i", "0"]), log(&[]));
    for bad in ["-1", "x"] {
        assert_eq!(
            t.run(&["SPOP", "i", bad]),
            err("ERR value is out of range, must be positive")
        );
    }
    assert_eq!(t.run(&["SPOP", "i", "1", "2"]), err("ERR syntax error"));
}

#[test]
fn srandmember_counts() {
    let mut t = TestDb::new();
    t.run(&[
        "SADD", "s", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
    ]);
    assert_eq!(t.run(&["SRANDMEMBER", "nokey"]), Frame::Null);
    assert_eq!(t.run(&["SRANDMEMBER", "nokey", "3"]), Frame::Array(vec![]));
    assert_eq!(t.run(&["SRANDMEMBER", "s", "0"]), Frame::Array(vec![]));
    for n in [1usize, 2, 5, 9, 10] {
        let v = sorted(t.run(&["SRANDMEMBER", "s", &n.to_string()]));
        assert_eq!(v.len(), n);
        let mut d = v.clone();
        d.dedup();
        assert_eq!(d, v, "distinct");
    }
    assert_eq!(sorted(t.run(&["SRANDMEMBER", "s", "100"])).len(), 10);
    assert_eq!(sorted(t.run(&["SRANDMEMBER", "s", "-25"])).len(), 25);
    assert_eq!(
        t.run(&["SRANDMEMBER", "s", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        t.run(&["SRANDMEMBER", "s", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        t.run(&["SRANDMEMBER", "s", "1", "2"]),
        err("ERR syntax error")
    );
    assert_eq!(t.run(&["SCARD", "s"]), int(10));
}

#[test]
fn sscan_walks_everything_and_filters() {
    let mut t = TestDb::new();
    t.run(&["SADD", "i", "1", "2", "10"]);
    assert_eq!(
        t.run(&["SSCAN", "i", "0", "MATCH", "1*", "COUNT", "1"]),
        Frame::Array(vec![bulk("0"), bulks(&["1", "10"])])
    );
    let members: Vec<String> = (0..500).map(|i| format!("m{i}")).collect();
    let mut cmd = vec!["SADD".to_string(), "h".to_string()];
    cmd.extend(members.iter().cloned());
    t.run(&cmd);
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let Frame::Array(v) = t.run(&["SSCAN", "h", &cursor, "COUNT", "20"]) else {
            panic!()
        };
        cursor = String::from_utf8(v[0].as_bytes().unwrap().to_vec()).unwrap();
        for m in sorted(v[1].clone()) {
            seen.insert(m);
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 500);
    assert_eq!(
        t.run(&["SSCAN", "nokey", "0", "COUNT", "0"]),
        Frame::Array(vec![bulk("0"), Frame::Array(vec![])])
    );
    assert_eq!(
        t.run(&["SSCAN", "h", "0", "COUNT", "0"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.run(&["SSCAN", "h", "0", "TYPE", "set"]),
        err("ERR syntax error")
    );
    assert_eq!(t.run(&["SSCAN", "h", "x"]), err("ERR invalid cursor"));
}

#[test]
fn resp3_replies_are_sets() {
    let mut t = TestDb::new();
    t.run(&["HELLO", "3"]);
    t.run(&["SADD", "s", "1", "2"]);
    assert_eq!(
        t.run(&["SMEMBERS", "s"]),
        Frame::Set(vec![bulk("1"), bulk("2")])
    );
    assert_eq!(t.run(&["SUNION", "nokey"]), Frame::Set(vec![]));
    assert_eq!(t.run(&["SPOP", "nokey", "2"]), Frame::Set(vec![]));
    assert!(matches!(t.run(&["SRANDMEMBER", "s", "2"]), Frame::Array(_)));
    assert_eq!(t.run(&["SPOP", "nokey"]), Frame::Null);
}

#[test]
fn digest_matches_redis_for_a_known_set() {
    // Order-independent: two sets with the same members in different encodings agree.
    let mut t = TestDb::new();
    t.run(&["SADD", "a", "1", "2", "3"]);
    t.run(&["SADD", "b", "x", "1", "2", "3"]);
    t.run(&["SREM", "b", "x"]);
    let Frame::Array(d) = t.run(&["DEBUG", "DIGEST-VALUE", "a", "b"]) else {
        panic!()
    };
    assert_eq!(d[0], d[1]);
    assert_ne!(d[0], Frame::Simple("0".repeat(40)));
}

#[test]
fn dump_restore_round_trips_both_encodings() {
    let mut t = TestDb::new();
    t.run(&["SADD", "i", "1", "-70000"]);
    t.run(&["SADD", "h", "a", "b", "3"]);
    for k in ["i", "h"] {
        let dump = t.run(&["DUMP", k]);
        let payload = dump.as_bytes().unwrap().to_vec();
        let restored = format!("{k}2");
        assert_eq!(
            t.run(&[b"RESTORE".as_slice(), restored.as_bytes(), b"0", &payload]),
            ok()
        );
        assert_eq!(
            sorted(t.run(&["SMEMBERS", &restored])),
            sorted(t.run(&["SMEMBERS", k]))
        );
        assert_eq!(encoding(&mut t, &restored), encoding(&mut t, k));
    }
}
