//! Propagated forms of the string commands (see the `string` module docs).

use crate::testkit::frames::{bulk, int, ok};
use crate::testkit::TestDb;
use tern_resp::Frame;

const T0: i64 = 1_700_000_000_000;

fn log(items: &[&[&str]]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

/// Runs `cmd` at T0 and returns what it propagated.
fn propagated(t: &mut TestDb, cmd: &[&str]) -> Vec<Vec<String>> {
    let off = t.log_offset();
    t.run(cmd);
    t.writes_since(off)
}

fn at() -> TestDb {
    let mut t = TestDb::new();
    t.clock = Some(T0);
    t
}

#[test]
fn set_with_relative_or_absolute_expiry_becomes_set_pxat() {
    let mut t = at();
    for (opt, v, abs) in [
        ("EX", "10", "1700000010000"),
        ("PX", "1500", "1700000001500"),
        ("EXAT", "1800000000", "1800000000000"),
        ("PXAT", "1800000000001", "1800000000001"),
    ] {
        assert_eq!(
            propagated(&mut t, &["SET", "k", "v", opt, v]),
            log(&[&["SET", "k", "v", "PXAT", abs]]),
            "{opt}"
        );
    }
    assert_eq!(
        propagated(&mut t, &["SET", "k", "v"]),
        log(&[&["SET", "k", "v"]])
    );
    assert_eq!(
        propagated(&mut t, &["SET", "k", "w", "KEEPTTL"]),
        log(&[&["SET", "k", "w", "KEEPTTL"]])
    );
    // A refused SET NX propagates nothing.
    assert_eq!(propagated(&mut t, &["SET", "k", "x", "NX"]), log(&[]));
}

#[test]
fn setex_and_psetex_become_set_pxat() {
    let mut t = at();
    assert_eq!(
        propagated(&mut t, &["SETEX", "k", "10", "v"]),
        log(&[&["SET", "k", "v", "PXAT", "1700000010000"]])
    );
    assert_eq!(
        propagated(&mut t, &["PSETEX", "k", "10", "v"]),
        log(&[&["SET", "k", "v", "PXAT", "1700000000010"]])
    );
    assert_eq!(t.run(&["PTTL", "k"]), int(10));
}

#[test]
fn getset_becomes_set_and_getdel_becomes_del() {
    let mut t = at();
    t.run(&["SET", "k", "old", "EX", "100"]);
    let off = t.log_offset();
    assert_eq!(t.run(&["GETSET", "k", "new"]), bulk("old"));
    assert_eq!(t.run(&["GETDEL", "k"]), bulk("new"));
    assert_eq!(t.run(&["GETDEL", "k"]), Frame::Null);
    assert_eq!(
        t.writes_since(off),
        log(&[&["SET", "k", "new"], &["DEL", "k"]])
    );
}

#[test]
fn getex_becomes_pexpireat_persist_or_del() {
    let mut t = at();
    t.run(&["SET", "k", "v"]);
    assert_eq!(
        propagated(&mut t, &["GETEX", "k", "EX", "10"]),
        log(&[&["PEXPIREAT", "k", "1700000010000"]])
    );
    assert_eq!(
        propagated(&mut t, &["GETEX", "k", "PXAT", "1800000000000"]),
        log(&[&["PEXPIREAT", "k", "1800000000000"]])
    );
    assert_eq!(
        propagated(&mut t, &["GETEX", "k", "PERSIST"]),
        log(&[&["PERSIST", "k"]])
    );
    // PERSIST on a key without a TTL changes nothing; plain GETEX is a read.
    assert_eq!(propagated(&mut t, &["GETEX", "k", "PERSIST"]), log(&[]));
    assert_eq!(propagated(&mut t, &["GETEX", "k"]), log(&[]));
    assert_eq!(
        propagated(&mut t, &["GETEX", "k", "PXAT", "1000"]),
        log(&[&["DEL", "k"]])
    );
    assert_eq!(t.run(&["EXISTS", "k"]), int(0));
}

#[test]
fn incrbyfloat_becomes_set_keepttl() {
    let mut t = at();
    t.run(&["SET", "f", "10.5", "EX", "100"]);
    assert_eq!(
        propagated(&mut t, &["INCRBYFLOAT", "f", "0.1"]),
        log(&[&["SET", "f", "10.6", "KEEPTTL"]])
    );
    assert_eq!(t.run(&["PTTL", "f"]), int(100_000));
    assert_eq!(
        propagated(&mut t, &["INCRBYFLOAT", "new", "3"]),
        log(&[&["SET", "new", "3", "KEEPTTL"]])
    );
}

#[test]
fn other_string_writes_propagate_as_sent() {
    let mut t = at();
    for cmd in [
        &["INCR", "n"][..],
        &["INCRBY", "n", "5"],
        &["DECR", "n"],
        &["DECRBY", "n", "2"],
        &["APPEND", "s", "abc"],
        &["SETRANGE", "s", "1", "X"],
        &["MSET", "a", "1", "b", "2"],
        &["MSETNX", "c", "1", "d", "2"],
    ] {
        assert_eq!(propagated(&mut t, cmd), log(&[cmd]), "{cmd:?}");
    }
    // Redis 7.0 propagates SETNX as sent; tern sends the equivalent plain SET (string.rs),
    // which replays the same since it is only propagated when the key was set.
    assert_eq!(
        propagated(&mut t, &["SETNX", "e", "1"]),
        log(&[&["SET", "e", "1"]])
    );
    assert_eq!(t.run(&["GET", "s"]), bulk("aXc"));
    assert_eq!(t.run(&["SETNX", "e", "2"]), int(0));
    assert_eq!(t.run(&["MSETNX", "c", "1", "z", "2"]), int(0));
    assert_eq!(propagated(&mut t, &["SETNX", "e", "2"]), log(&[]));
    assert_eq!(t.run(&["SET", "k", "v"]), ok());
}
