//! Hash commands through the socket-free harness: replies, encodings at the thresholds, and
//! the propagated forms (see the `hash` module docs).

use crate::testkit::frames::{bulk, bulks, err, int, ok};
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

const WRONG: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

#[test]
fn hset_counts_new_fields_and_hgetall_keeps_listpack_order() {
    let mut t = TestDb::new();
    assert_eq!(t.run(&["HSET", "h", "a", "1", "b", "2"]), int(2));
    assert_eq!(t.run(&["HSET", "h", "a", "3", "c", "x"]), int(1));
    assert_eq!(
        t.run(&["HGETALL", "h"]),
        bulks(&["a", "3", "b", "2", "c", "x"])
    );
    assert_eq!(t.run(&["HKEYS", "h"]), bulks(&["a", "b", "c"]));
    assert_eq!(t.run(&["HVALS", "h"]), bulks(&["3", "2", "x"]));
    assert_eq!(t.run(&["HLEN", "h"]), int(3));
    assert_eq!(t.run(&["HGET", "h", "c"]), bulk("x"));
    assert_eq!(t.run(&["HGET", "h", "zz"]), Frame::Null);
    assert_eq!(t.run(&["HGET", "nokey", "a"]), Frame::Null);
    assert_eq!(
        t.run(&["HMGET", "h", "a", "zz"]),
        Frame::Array(vec![bulk("3"), Frame::Null])
    );
    assert_eq!(t.run(&["HSTRLEN", "h", "a"]), int(1));
    assert_eq!(t.run(&["HEXISTS", "h", "b"]), int(1));
    assert_eq!(t.run(&["HEXISTS", "h", "zz"]), int(0));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    assert_eq!(t.run(&["TYPE", "h"]), Frame::Simple("hash".into()));
    assert_eq!(t.run(&["HMSET", "h", "d", "4"]), ok());
    assert_eq!(
        t.run(&["HSET", "h", "odd"]),
        err("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(
        t.run(&["HMSET", "h", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'hmset' command")
    );
}

#[test]
fn hash_commands_refuse_other_types() {
    let mut t = TestDb::new();
    t.run(&["SET", "s", "x"]);
    for cmd in [
        &["HSET", "s", "a", "1"][..],
        &["HSETNX", "s", "a", "1"],
        &["HGET", "s", "a"],
        &["HMGET", "s", "a"],
        &["HDEL", "s", "a"],
        &["HLEN", "s"],
        &["HSTRLEN", "s", "a"],
        &["HEXISTS", "s", "a"],
        &["HKEYS", "s"],
        &["HVALS", "s"],
        &["HGETALL", "s"],
        &["HINCRBY", "s", "a", "1"],
        &["HINCRBYFLOAT", "s", "a", "1"],
        &["HRANDFIELD", "s"],
        &["HRANDFIELD", "s", "0"],
        &["HSCAN", "s", "0"],
    ] {
        assert_eq!(t.run(cmd), err(WRONG), "{cmd:?}");
    }
    t.run(&["HSET", "h", "a", "1"]);
    assert_eq!(t.run(&["GET", "h"]), err(WRONG));
}

#[test]
fn encoding_converts_past_the_configured_thresholds_and_never_back() {
    let mut t = TestDb::new();
    t.run(&["CONFIG", "SET", "hash-max-listpack-entries", "2"]);
    t.run(&["CONFIG", "SET", "hash-max-listpack-value", "4"]);
    t.run(&["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "h"]), bulk("listpack"));
    t.run(&["HSET", "h", "c", "3"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    t.run(&["HDEL", "h", "a", "b"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    // A long value, a long field, and HINCRBY's long field all convert.
    t.run(&["HSET", "v", "a", "12345"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "v"]), bulk("hashtable"));
    t.run(&["HSET", "f", "abcde", "1"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "f"]), bulk("hashtable"));
    t.run(&["HINCRBY", "i", "abcde", "1"]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "i"]), bulk("hashtable"));
    // HSETNX on an existing field changes nothing, encoding included.
    t.run(&["HSET", "n", "a", "1"]);
    assert_eq!(t.run(&["HSETNX", "n", "a", "123456789"]), int(0));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "n"]), bulk("listpack"));
}

#[test]
fn hdel_of_the_last_field_deletes_the_key_and_propagates_hdel() {
    let mut t = TestDb::new();
    t.run(&["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(
        propagated(&mut t, &["HDEL", "h", "a", "zz", "b"]),
        log(&[&["HDEL", "h", "a", "zz", "b"]])
    );
    assert_eq!(t.run(&["EXISTS", "h"]), int(0));
    // Nothing deleted: nothing propagated.
    assert_eq!(propagated(&mut t, &["HDEL", "h", "a"]), log(&[]));
    assert_eq!(t.run(&["HDEL", "h", "a"]), int(0));
}

#[test]
fn writes_propagate_as_sent_except_hincrbyfloat() {
    let mut t = TestDb::new();
    assert_eq!(
        propagated(&mut t, &["HSET", "h", "a", "1"]),
        log(&[&["HSET", "h", "a", "1"]])
    );
    assert_eq!(
        propagated(&mut t, &["HMSET", "h", "b", "2"]),
        log(&[&["HMSET", "h", "b", "2"]])
    );
    assert_eq!(
        propagated(&mut t, &["HSETNX", "h", "c", "3"]),
        log(&[&["HSETNX", "h", "c", "3"]])
    );
    assert_eq!(propagated(&mut t, &["HSETNX", "h", "c", "4"]), log(&[]));
    assert_eq!(
        propagated(&mut t, &["HINCRBY", "h", "a", "5"]),
        log(&[&["HINCRBY", "h", "a", "5"]])
    );
    assert_eq!(
        propagated(&mut t, &["HINCRBYFLOAT", "h", "a", "0.1"]),
        log(&[&["HSET", "h", "a", "6.1"]])
    );
    assert_eq!(
        propagated(&mut t, &["HINCRBYFLOAT", "h", "n", "1000"]),
        log(&[&["HSET", "h", "n", "1000"]])
    );
    // Errors and reads propagate nothing.
    assert_eq!(propagated(&mut t, &["HINCRBY", "h", "a", "x"]), log(&[]));
    assert_eq!(propagated(&mut t, &["HGETALL", "h"]), log(&[]));
    assert_eq!(t.run(&["HGET", "h", "a"]), bulk("6.1"));
}

#[test]
fn hincrby_and_hincrbyfloat_check_values_and_overflow_like_redis() {
    let mut t = TestDb::new();
    t.run(&[
        "HSET",
        "h",
        "s",
        "abc",
        "max",
        "9223372036854775807",
        "f",
        "1.5",
    ]);
    assert_eq!(t.run(&["HINCRBY", "h", "new", "-3"]), int(-3));
    assert_eq!(
        t.run(&["HINCRBY", "h", "s", "1"]),
        err("ERR hash value is not an integer")
    );
    assert_eq!(
        t.run(&["HINCRBY", "h", "f", "1"]),
        err("ERR hash value is not an integer")
    );
    assert_eq!(
        t.run(&["HINCRBY", "h", "max", "1"]),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        t.run(&["HINCRBY", "h", "max", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(t.run(&["HINCRBYFLOAT", "h", "f", "1"]), bulk("2.5"));
    assert_eq!(
        t.run(&["HINCRBYFLOAT", "h", "s", "1"]),
        err("ERR hash value is not a float")
    );
    assert_eq!(
        t.run(&["HINCRBYFLOAT", "h", "f", "x"]),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        t.run(&["HINCRBYFLOAT", "h", "f", "inf"]),
        err("ERR value is NaN or Infinity")
    );
    // Long double range: 1e4000 is fine, twice 1.1e4932 overflows.
    let big = t.run(&["HINCRBYFLOAT", "h", "big", "1e4000"]);
    assert_eq!(big.as_bytes().map(|b| b.len()), Some(4000));
    t.run(&["HINCRBYFLOAT", "h", "huge", "1.1e4932"]);
    assert_eq!(
        t.run(&["HINCRBYFLOAT", "h", "huge", "1.1e4932"]),
        err("ERR increment would produce NaN or Infinity")
    );
    // A failed increment on a missing key leaves no empty hash behind.
    assert_eq!(
        t.run(&["HINCRBYFLOAT", "nokey", "f", "inf"]),
        err("ERR value is NaN or Infinity")
    );
    assert_eq!(t.run(&["EXISTS", "nokey"]), int(0));
}

#[test]
fn hrandfield_counts_and_shapes() {
    let mut t = TestDb::new();
    t.run(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    let len = |f: Frame| match f {
        Frame::Array(v) => v.len(),
        other => panic!("not an array: {other:?}"),
    };
    assert_eq!(len(t.run(&["HRANDFIELD", "h", "2"])), 2);
    assert_eq!(len(t.run(&["HRANDFIELD", "h", "10"])), 3);
    assert_eq!(len(t.run(&["HRANDFIELD", "h", "-10"])), 10);
    assert_eq!(len(t.run(&["HRANDFIELD", "h", "-2", "WITHVALUES"])), 4);
    assert_eq!(len(t.run(&["HRANDFIELD", "h", "0"])), 0);
    assert_eq!(len(t.run(&["HRANDFIELD", "nokey", "5"])), 0);
    assert_eq!(t.run(&["HRANDFIELD", "nokey"]), Frame::Null);
    assert_eq!(
        t.run(&["HRANDFIELD", "h", "10", "WITHVALUES"]),
        bulks(&["a", "1", "b", "2", "c", "3"])
    );
    assert_eq!(
        t.run(&["HRANDFIELD", "h", "1", "WITHSCORES"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.run(&["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"]),
        err("ERR value is out of range")
    );
    assert_eq!(
        t.run(&["HRANDFIELD", "h", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    // Every pick is a field, its value matching.
    for _ in 0..20 {
        let Frame::Array(v) = t.run(&["HRANDFIELD", "h", "-1", "WITHVALUES"]) else {
            panic!()
        };
        let (f, val) = (v[0].as_bytes().unwrap(), v[1].as_bytes().unwrap());
        assert_eq!(
            t.run(&["HGET", "h", std::str::from_utf8(f).unwrap()]),
            bulk(val)
        );
    }
}

#[test]
fn hscan_of_a_hashtable_visits_every_field_once_in_a_full_iteration() {
    let mut t = TestDb::new();
    t.run(&["CONFIG", "SET", "hash-max-listpack-entries", "4"]);
    for i in 0..200 {
        t.run(&["HSET", "h", &format!("f{i}"), &i.to_string()]);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let Frame::Array(v) = t.run(&["HSCAN", "h", &cursor, "COUNT", "7"]) else {
            panic!()
        };
        cursor = String::from_utf8(v[0].as_bytes().unwrap().to_vec()).unwrap();
        let Frame::Array(items) = &v[1] else { panic!() };
        for p in items.chunks(2) {
            seen.insert(p[0].as_bytes().unwrap().to_vec());
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 200);
    // MATCH filters fields; a listpack comes back whole with cursor 0.
    t.run(&["HSET", "small", "ab", "1", "cd", "2"]);
    assert_eq!(
        t.run(&["HSCAN", "small", "0", "MATCH", "a*"]),
        Frame::Array(vec![bulk("0"), bulks(&["ab", "1"])])
    );
    assert_eq!(
        t.run(&["HSCAN", "nokey", "0", "BOGUS"]),
        Frame::Array(vec![bulk("0"), Frame::Array(vec![])])
    );
    assert_eq!(
        t.run(&["HSCAN", "small", "0", "COUNT", "0"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.run(&["HSCAN", "small", "0", "TYPE", "hash"]),
        err("ERR syntax error")
    );
    assert_eq!(t.run(&["HSCAN", "small", "x"]), err("ERR invalid cursor"));
}

#[test]
fn resp3_hgetall_is_a_map_and_hrandfield_withvalues_pairs() {
    let mut t = TestDb::new();
    t.run(&["HELLO", "3"]);
    t.run(&["HSET", "h", "a", "1"]);
    assert_eq!(
        t.run(&["HGETALL", "h"]),
        Frame::Map(vec![(bulk("a"), bulk("1"))])
    );
    assert_eq!(
        t.run(&["HRANDFIELD", "h", "5", "WITHVALUES"]),
        Frame::Array(vec![bulks(&["a", "1"])])
    );
    assert_eq!(
        t.run(&["HRANDFIELD", "h", "-2", "WITHVALUES"]),
        Frame::Array(vec![bulks(&["a", "1"]), bulks(&["a", "1"])])
    );
}

#[test]
fn expired_hash_is_gone_and_propagates_del() {
    let mut t = TestDb::new();
    t.clock = Some(1_700_000_000_000);
    t.run(&["HSET", "node:1", "addr", "10.0.0.1", "load", "3"]);
    t.run(&["PEXPIRE", "node:1", "100"]);
    assert_eq!(t.run(&["HLEN", "node:1"]), int(2));
    t.clock = Some(1_700_000_000_200);
    let off = t.log_offset();
    assert_eq!(t.run(&["HGETALL", "node:1"]), Frame::Array(vec![]));
    assert_eq!(t.writes_since(off), log(&[&["DEL", "node:1"]]));
}
