//! List commands against the real binary: every command with its options and errors (the
//! `redis` crate, raw RESP2/RESP3, redis-cli), DUMP payloads byte-identical with redis-server's
//! for the same node layout, DEBUG DIGEST-VALUE equal to Redis's, the capped-log pattern under
//! concurrent writers, and a differential proptest against redis-server. All of it passes
//! against redis-server too (`TERN_IT_SERVER=redis`).

use crate::differential::{differential_with, int_arg, key, op, pick, with, Op};
use crate::harness::*;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use std::process::Command;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn bulks(items: &[&str]) -> Value {
    Value::Array(items.iter().map(bulk).collect())
}

fn lrange(c: &mut redis::Connection, k: &str) -> Value {
    ok(c, &["LRANGE", k, "0", "-1"])
}

fn dump(c: &mut redis::Connection, k: &str) -> Vec<u8> {
    match ok(c, &["DUMP", k]) {
        Value::BulkString(b) => b,
        other => panic!("DUMP {k}: {other:?}"),
    }
}

fn restore(c: &mut redis::Connection, k: &str, payload: &[u8]) -> Result<Value, String> {
    query(
        c,
        redis::cmd("RESTORE")
            .arg(k)
            .arg(0)
            .arg(payload)
            .arg("REPLACE"),
    )
}

#[test]
fn push_pop_and_length_commands() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["RPUSH", "l", "a", "b", "c"]), int(3));
    assert_eq!(ok(&mut c, &["LPUSH", "l", "y", "z"]), int(5));
    assert_eq!(lrange(&mut c, "l"), bulks(&["z", "y", "a", "b", "c"]));
    assert_eq!(ok(&mut c, &["LPUSHX", "l", "0"]), int(6));
    assert_eq!(ok(&mut c, &["RPUSHX", "l", "9", "10"]), int(8));
    assert_eq!(ok(&mut c, &["LPUSHX", "nokey", "0"]), int(0));
    assert_eq!(ok(&mut c, &["RPUSHX", "nokey", "0"]), int(0));
    assert_eq!(ok(&mut c, &["EXISTS", "nokey"]), int(0));
    assert_eq!(ok(&mut c, &["LLEN", "l"]), int(8));
    assert_eq!(ok(&mut c, &["LLEN", "nokey"]), int(0));
    assert_eq!(ok(&mut c, &["LPOP", "l"]), bulk("0"));
    assert_eq!(ok(&mut c, &["RPOP", "l"]), bulk("10"));
    assert_eq!(ok(&mut c, &["LPOP", "l", "2"]), bulks(&["z", "y"]));
    assert_eq!(ok(&mut c, &["RPOP", "l", "2"]), bulks(&["9", "c"]));
    assert_eq!(ok(&mut c, &["LPOP", "l", "0"]), Value::Array(vec![]));
    assert_eq!(ok(&mut c, &["RPOP", "l", "100"]), bulks(&["b", "a"]));
    assert_eq!(ok(&mut c, &["EXISTS", "l"]), int(0));
    assert_eq!(ok(&mut c, &["LPOP", "l"]), Value::Nil);
    assert_eq!(ok(&mut c, &["RPOP", "l", "3"]), Value::Nil);
    assert_eq!(
        ok(&mut c, &["TYPE", "l"]),
        Value::SimpleString("none".into())
    );
    ok(&mut c, &["RPUSH", "l", "x"]);
    assert_eq!(
        ok(&mut c, &["TYPE", "l"]),
        Value::SimpleString("list".into())
    );
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "l"]), bulk("quicklist"));
    // Binary-safe elements, empty elements and integers.
    let bin: Vec<u8> = (0u8..=255).collect();
    let n: Value = redis::cmd("RPUSH")
        .arg("b")
        .arg(&bin)
        .arg("")
        .arg("-42")
        .query(&mut c)
        .unwrap();
    assert_eq!(n, int(3));
    assert_eq!(
        ok(&mut c, &["LRANGE", "b", "0", "-1"]),
        Value::Array(vec![Value::BulkString(bin), bulk(""), bulk("-42")])
    );
}

#[test]
fn pop_null_replies_in_resp2_and_resp3() {
    let s = TestServer::start();
    let mut r = s.raw_conn();
    r.cmd(&["RPUSH", "l", "a"]);
    assert_eq!(r.cmd(&["LPOP", "nokey"]), Resp::Bulk(None));
    assert_eq!(r.cmd(&["LPOP", "nokey", "2"]), Resp::Array(None));
    assert_eq!(r.cmd(&["RPOP", "l", "0"]), Resp::Array(Some(vec![])));
    assert_eq!(r.cmd(&["LMPOP", "1", "nokey", "LEFT"]), Resp::Array(None));
    assert_eq!(r.cmd(&["LINDEX", "l", "5"]), Resp::Bulk(None));
    assert_eq!(r.cmd(&["LPOS", "l", "zz"]), Resp::Bulk(None));
    assert_eq!(
        r.cmd(&["LMOVE", "nokey", "l", "LEFT", "LEFT"]),
        Resp::Bulk(None)
    );
    assert!(matches!(r.cmd(&["HELLO", "3"]), Resp::Map(_)));
    assert_eq!(r.cmd(&["LPOP", "nokey"]), Resp::Null);
    assert_eq!(r.cmd(&["RPOP", "nokey", "2"]), Resp::Null);
    assert_eq!(r.cmd(&["LMPOP", "1", "nokey", "LEFT"]), Resp::Null);
    assert_eq!(r.cmd(&["LINDEX", "l", "5"]), Resp::Null);
    assert_eq!(r.cmd(&["LPOS", "l", "zz"]), Resp::Null);
    assert_eq!(
        r.cmd(&["LPOS", "l", "zz", "COUNT", "0"]),
        Resp::Array(Some(vec![]))
    );
    assert_eq!(r.cmd(&["RPOPLPUSH", "nokey", "l"]), Resp::Null);
    assert_eq!(
        r.cmd(&["LMPOP", "1", "l", "RIGHT"]),
        Resp::Array(Some(vec![
            Resp::bulk("l"),
            Resp::Array(Some(vec![Resp::bulk("a")]))
        ]))
    );
}

#[test]
fn lindex_lset_lrange_and_ltrim_with_every_kind_of_index() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(ok(&mut c, &["LINDEX", "l", "0"]), bulk("a"));
    assert_eq!(ok(&mut c, &["LINDEX", "l", "-1"]), bulk("e"));
    assert_eq!(ok(&mut c, &["LINDEX", "l", "-5"]), bulk("a"));
    assert_eq!(ok(&mut c, &["LINDEX", "l", "-6"]), Value::Nil);
    assert_eq!(ok(&mut c, &["LINDEX", "l", "5"]), Value::Nil);
    assert_eq!(ok(&mut c, &["LINDEX", "nokey", "abc"]), Value::Nil);
    assert_eq!(err(&mut c, &["LINDEX", "l", "abc"]), NOT_INT);
    assert_eq!(
        ok(&mut c, &["LINDEX", "l", "9223372036854775807"]),
        Value::Nil
    );
    assert_eq!(
        ok(&mut c, &["LINDEX", "l", "-9223372036854775808"]),
        Value::Nil
    );
    assert_eq!(ok(&mut c, &["LSET", "l", "1", "B"]), Value::Okay);
    assert_eq!(ok(&mut c, &["LSET", "l", "-1", "E"]), Value::Okay);
    assert_eq!(
        err(&mut c, &["LSET", "l", "5", "x"]),
        "ERR index out of range"
    );
    assert_eq!(
        err(&mut c, &["LSET", "l", "-6", "x"]),
        "ERR index out of range"
    );
    assert_eq!(err(&mut c, &["LSET", "nokey", "0", "x"]), "ERR no such key");
    assert_eq!(err(&mut c, &["LSET", "l", "x", "x"]), NOT_INT);
    assert_eq!(lrange(&mut c, "l"), bulks(&["a", "B", "c", "d", "E"]));
    assert_eq!(ok(&mut c, &["LRANGE", "l", "1", "2"]), bulks(&["B", "c"]));
    assert_eq!(ok(&mut c, &["LRANGE", "l", "-2", "-1"]), bulks(&["d", "E"]));
    assert_eq!(ok(&mut c, &["LRANGE", "l", "-100", "0"]), bulks(&["a"]));
    assert_eq!(ok(&mut c, &["LRANGE", "l", "3", "100"]), bulks(&["d", "E"]));
    assert_eq!(ok(&mut c, &["LRANGE", "l", "3", "2"]), bulks(&[]));
    assert_eq!(ok(&mut c, &["LRANGE", "l", "5", "10"]), bulks(&[]));
    assert_eq!(
        ok(
            &mut c,
            &["LRANGE", "l", "-9223372036854775808", "9223372036854775807"]
        ),
        bulks(&["a", "B", "c", "d", "E"])
    );
    assert_eq!(ok(&mut c, &["LRANGE", "nokey", "0", "-1"]), bulks(&[]));
    assert_eq!(err(&mut c, &["LRANGE", "l", "0", "x"]), NOT_INT);
    assert_eq!(err(&mut c, &["LRANGE", "l", "1.5", "2"]), NOT_INT);
    assert_eq!(ok(&mut c, &["LTRIM", "l", "1", "-2"]), Value::Okay);
    assert_eq!(lrange(&mut c, "l"), bulks(&["B", "c", "d"]));
    assert_eq!(ok(&mut c, &["LTRIM", "l", "-100", "100"]), Value::Okay);
    assert_eq!(lrange(&mut c, "l"), bulks(&["B", "c", "d"]));
    assert_eq!(ok(&mut c, &["LTRIM", "nokey", "0", "1"]), Value::Okay);
    assert_eq!(err(&mut c, &["LTRIM", "l", "a", "1"]), NOT_INT);
    assert_eq!(ok(&mut c, &["LTRIM", "l", "2", "1"]), Value::Okay);
    assert_eq!(ok(&mut c, &["EXISTS", "l"]), int(0));
}

#[test]
fn linsert_lrem_and_lpos() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["RPUSH", "l", "a", "b", "a", "c", "a"]);
    assert_eq!(ok(&mut c, &["LINSERT", "l", "BEFORE", "b", "x"]), int(6));
    assert_eq!(ok(&mut c, &["LINSERT", "l", "after", "c", "y"]), int(7));
    assert_eq!(ok(&mut c, &["LINSERT", "l", "AFTER", "nope", "y"]), int(-1));
    assert_eq!(ok(&mut c, &["LINSERT", "nokey", "AFTER", "a", "y"]), int(0));
    assert_eq!(
        err(&mut c, &["LINSERT", "l", "NEAR", "a", "y"]),
        "ERR syntax error"
    );
    assert_eq!(
        lrange(&mut c, "l"),
        bulks(&["a", "x", "b", "a", "c", "y", "a"])
    );
    assert_eq!(ok(&mut c, &["LPOS", "l", "a"]), int(0));
    assert_eq!(ok(&mut c, &["LPOS", "l", "a", "RANK", "2"]), int(3));
    assert_eq!(ok(&mut c, &["LPOS", "l", "a", "RANK", "-1"]), int(6));
    assert_eq!(ok(&mut c, &["LPOS", "l", "a", "RANK", "4"]), Value::Nil);
    assert_eq!(
        ok(&mut c, &["LPOS", "l", "a", "COUNT", "0"]),
        Value::Array(vec![int(0), int(3), int(6)])
    );
    assert_eq!(
        ok(&mut c, &["LPOS", "l", "a", "COUNT", "2", "RANK", "-1"]),
        Value::Array(vec![int(6), int(3)])
    );
    assert_eq!(
        ok(&mut c, &["LPOS", "l", "a", "COUNT", "0", "MAXLEN", "4"]),
        Value::Array(vec![int(0), int(3)])
    );
    assert_eq!(
        ok(&mut c, &["LPOS", "l", "y", "RANK", "-1", "MAXLEN", "1"]),
        Value::Nil
    );
    assert_eq!(ok(&mut c, &["LPOS", "nokey", "a"]), Value::Nil);
    assert_eq!(
        ok(&mut c, &["LPOS", "nokey", "a", "COUNT", "1"]),
        Value::Array(vec![])
    );
    assert_eq!(
        err(&mut c, &["LPOS", "l", "a", "RANK", "0"]),
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
    );
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "RANK", "x"]), NOT_INT);
    assert_eq!(
        err(&mut c, &["LPOS", "l", "a", "COUNT", "-1"]),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        err(&mut c, &["LPOS", "l", "a", "MAXLEN", "-1"]),
        "ERR MAXLEN can't be negative"
    );
    assert_eq!(
        err(&mut c, &["LPOS", "l", "a", "COUNT"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["LPOS", "l", "a", "FOO", "1"]),
        "ERR syntax error"
    );
    // Redis negates the rank, which stays negative: the first match from the tail.
    assert_eq!(
        ok(&mut c, &["LPOS", "l", "a", "RANK", "-9223372036854775808"]),
        int(6)
    );
    assert_eq!(ok(&mut c, &["LREM", "l", "-1", "a"]), int(1));
    assert_eq!(ok(&mut c, &["LREM", "l", "1", "a"]), int(1));
    assert_eq!(lrange(&mut c, "l"), bulks(&["x", "b", "a", "c", "y"]));
    assert_eq!(ok(&mut c, &["LREM", "l", "0", "nope"]), int(0));
    assert_eq!(ok(&mut c, &["LREM", "nokey", "0", "a"]), int(0));
    assert_eq!(err(&mut c, &["LREM", "l", "x", "a"]), NOT_INT);
    ok(&mut c, &["RPUSH", "n", "1", "01", "1", "1"]);
    assert_eq!(
        ok(&mut c, &["LREM", "n", "-9223372036854775808", "1"]),
        int(3)
    );
    assert_eq!(ok(&mut c, &["LREM", "n", "0", "01"]), int(1));
    assert_eq!(ok(&mut c, &["EXISTS", "n"]), int(0));
}

#[test]
fn lmove_rpoplpush_and_lmpop() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["RPUSH", "src", "a", "b", "c"]);
    assert_eq!(
        ok(&mut c, &["LMOVE", "src", "dst", "LEFT", "RIGHT"]),
        bulk("a")
    );
    assert_eq!(
        ok(&mut c, &["LMOVE", "src", "dst", "right", "left"]),
        bulk("c")
    );
    assert_eq!(ok(&mut c, &["RPOPLPUSH", "src", "dst"]), bulk("b"));
    assert_eq!(ok(&mut c, &["EXISTS", "src"]), int(0));
    assert_eq!(lrange(&mut c, "dst"), bulks(&["b", "c", "a"]));
    assert_eq!(
        ok(&mut c, &["LMOVE", "dst", "dst", "LEFT", "RIGHT"]),
        bulk("b")
    );
    assert_eq!(lrange(&mut c, "dst"), bulks(&["c", "a", "b"]));
    assert_eq!(ok(&mut c, &["RPOPLPUSH", "nokey", "dst"]), Value::Nil);
    assert_eq!(
        ok(&mut c, &["LMOVE", "nokey", "dst", "LEFT", "LEFT"]),
        Value::Nil
    );
    assert_eq!(
        err(&mut c, &["LMOVE", "dst", "x", "UP", "LEFT"]),
        "ERR syntax error"
    );
    ok(&mut c, &["SET", "str", "v"]);
    assert_eq!(
        err(&mut c, &["LMOVE", "dst", "str", "LEFT", "LEFT"]),
        WRONGTYPE
    );
    assert_eq!(err(&mut c, &["RPOPLPUSH", "str", "dst"]), WRONGTYPE);
    assert_eq!(ok(&mut c, &["LLEN", "dst"]), int(3));
    assert_eq!(
        ok(
            &mut c,
            &["LMPOP", "3", "none", "dst", "str", "LEFT", "COUNT", "2"]
        ),
        Value::Array(vec![bulk("dst"), bulks(&["c", "a"])])
    );
    assert_eq!(
        ok(&mut c, &["LMPOP", "1", "dst", "RIGHT"]),
        Value::Array(vec![bulk("dst"), bulks(&["b"])])
    );
    assert_eq!(
        ok(&mut c, &["LMPOP", "2", "dst", "none", "RIGHT"]),
        Value::Nil
    );
    assert_eq!(
        err(&mut c, &["LMPOP", "2", "str", "dst", "LEFT"]),
        WRONGTYPE
    );
    assert_eq!(
        err(&mut c, &["LMPOP", "0", "dst", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        err(&mut c, &["LMPOP", "-1", "dst", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        err(&mut c, &["LMPOP", "3", "dst", "LEFT"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["LMPOP", "1", "dst", "MIDDLE"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["LMPOP", "1", "dst", "LEFT", "COUNT", "0"]),
        "ERR count should be greater than 0"
    );
    assert_eq!(
        err(&mut c, &["LMPOP", "1", "dst", "LEFT", "COUNT"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["LMPOP", "1", "dst", "LEFT", "FOO", "1"]),
        "ERR syntax error"
    );
}

#[test]
fn wrong_types_arity_and_argument_errors() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "s", "v"]);
    ok(&mut c, &["RPUSH", "l", "a"]);
    for args in [
        &["LPUSH", "s", "a"][..],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "2"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "-1"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "a"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LMOVE", "s", "l", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "l", "s"],
        &["LMPOP", "1", "s", "LEFT"],
    ] {
        assert_eq!(err(&mut c, args), WRONGTYPE, "{args:?}");
    }
    assert_eq!(ok(&mut c, &["GET", "s"]), bulk("v"));
    assert_eq!(lrange(&mut c, "l"), bulks(&["a"]));
    for args in [
        &["LPUSH", "l"][..],
        &["RPUSH", "l"],
        &["LPUSHX", "l"],
        &["RPUSHX", "l"],
        &["LPOP"],
        &["RPOP", "l", "1", "2"],
        &["LLEN"],
        &["LRANGE", "l", "0"],
        &["LINDEX", "l"],
        &["LSET", "l", "0"],
        &["LINSERT", "l", "BEFORE", "a"],
        &["LREM", "l", "0"],
        &["LTRIM", "l", "0"],
        &["LPOS", "l"],
        &["LMOVE", "l", "m", "LEFT"],
        &["RPOPLPUSH", "l"],
        &["LMPOP", "1", "l"],
    ] {
        let name = args[0].to_ascii_lowercase();
        assert_eq!(
            err(&mut c, args),
            format!("ERR wrong number of arguments for '{name}' command"),
            "{args:?}"
        );
    }
    assert_eq!(
        err(&mut c, &["LPOP", "l", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        err(&mut c, &["RPOP", "l", "x"]),
        "ERR value is out of range, must be positive"
    );
}

#[test]
fn an_expired_list_is_gone_for_every_command() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["RPUSH", "l", "a", "b"]);
    ok(&mut c, &["PEXPIRE", "l", "20"]);
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(ok(&mut c, &["LLEN", "l"]), int(0));
    assert_eq!(ok(&mut c, &["LPUSHX", "l", "x"]), int(0));
    assert_eq!(ok(&mut c, &["RPUSH", "l", "c"]), int(1));
    assert_eq!(ok(&mut c, &["TTL", "l"]), int(-1));
}

/// Builds the same lists on tern and redis-server with the same commands and compares their
/// DUMP payloads byte for byte, their digests, and restores each server's payload on the other.
#[test]
fn dump_payloads_and_digests_are_identical_to_redis() {
    let debug = ["--enable-debug-command", "yes"];
    let tern = TestServer::start_with(&debug);
    let redis = TestServer::start_redis(None, &debug);
    let mut t = tern.client();
    let mut r = redis.client();
    let big = "v".repeat(3000);
    let huge = "h".repeat(9000);
    let mut script: Vec<Vec<String>> = Vec::new();
    let mut push = |v: &[&str]| script.push(v.iter().map(|s| s.to_string()).collect());
    // Small lists, integers, several 8 KiB nodes, elements bigger than a node, LINSERT splits
    // and merges, trims and removals that empty nodes, and small per-entry node fills.
    push(&["RPUSH", "small", "a", "1", "-2", "12345678901", "x"]);
    for i in 0..1500 {
        let e = format!("element:{i:06}");
        push(&["RPUSH", "many", &e]);
    }
    push(&["LINSERT", "many", "BEFORE", "element:000700", "inserted"]);
    push(&["LINSERT", "many", "AFTER", "element:000510", &big]);
    push(&["LTRIM", "many", "3", "-4"]);
    push(&["LREM", "many", "0", "element:000100"]);
    push(&["LSET", "many", "700", &big]);
    push(&["RPUSH", "bigs", &big, &big, &big, &huge, "tail"]);
    push(&["LPUSH", "bigs", &huge]);
    push(&["LINSERT", "bigs", "AFTER", "tail", "after-tail"]);
    push(&["CONFIG", "SET", "list-max-listpack-size", "3"]);
    for i in 0..20 {
        let e = i.to_string();
        push(&["RPUSH", "fill3", &e]);
    }
    push(&["LINSERT", "fill3", "AFTER", "4", "x"]);
    push(&["LINSERT", "fill3", "BEFORE", "9", "y"]);
    push(&["LINSERT", "fill3", "BEFORE", "0", "z"]);
    push(&["LINSERT", "fill3", "AFTER", "19", "w"]);
    push(&["LREM", "fill3", "0", "7"]);
    push(&["LPOP", "fill3", "2"]);
    push(&["LSET", "fill3", "5", "12345"]);
    push(&["CONFIG", "SET", "list-max-listpack-size", "-2"]);
    for cmd in &script {
        let a: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        assert_eq!(q(&mut t, &a), q(&mut r, &a), "{}", a[..2].join(" "));
    }
    for k in ["small", "many", "bigs", "fill3"] {
        assert_eq!(lrange(&mut t, k), lrange(&mut r, k), "{k}");
        let (pt, pr) = (dump(&mut t, k), dump(&mut r, k));
        assert!(pt == pr, "DUMP {k} differs:\n tern  {pt:?}\n redis {pr:?}");
        assert_eq!(
            ok(&mut t, &["DEBUG", "DIGEST-VALUE", k]),
            ok(&mut r, &["DEBUG", "DIGEST-VALUE", k]),
            "{k}"
        );
        // Each server restores the other's payload to the same list.
        let copy = format!("{k}-copy");
        assert_eq!(restore(&mut t, &copy, &pr), Ok(Value::Okay));
        assert_eq!(restore(&mut r, &copy, &pt), Ok(Value::Okay));
        assert_eq!(lrange(&mut t, &copy), lrange(&mut r, k));
        assert_eq!(lrange(&mut r, &copy), lrange(&mut t, k));
        assert_eq!(dump(&mut t, &copy), pr);
    }
    assert_eq!(
        ok(&mut t, &["DEBUG", "DIGEST"]),
        ok(&mut r, &["DEBUG", "DIGEST"])
    );
}

#[test]
fn restore_refuses_corrupt_list_payloads() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["RPUSH", "l", "a", "b", "c"]);
    let good = dump(&mut c, "l");
    // Flip a byte inside the listpack and fix the CRC so only the body is wrong: type 18,
    // one node, container 2, string length, then the listpack's first header byte.
    let mut bad = good.clone();
    bad[4] ^= 0x40;
    let body_len = bad.len() - 8;
    let crc = crc64(&bad[..body_len]);
    bad[body_len..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(
        restore(&mut c, "x", &bad),
        Err("ERR Bad data format".into())
    );
    assert_eq!(ok(&mut c, &["EXISTS", "x"]), int(0));
    assert_eq!(restore(&mut c, "x", &good), Ok(Value::Okay));
    assert_eq!(lrange(&mut c, "x"), bulks(&["a", "b", "c"]));
}

/// CRC-64/Jones as Redis's DUMP footer uses it (reflected, poly 0xad93d23594c935a9).
fn crc64(data: &[u8]) -> u64 {
    let poly: u64 = 0x95ac9329ac4bc9b5; // the reflected form of 0xad93d23594c935a9
    let mut crc: u64 = 0;
    for &b in data {
        crc ^= b as u64;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ poly
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// The capped-log pattern: several writers each LPUSH an entry and LTRIM the list to 1,000
/// entries. Afterwards the list holds exactly 1,000 entries, the newest ones: each writer's
/// entries that remain are its latest ones, newest first, with no gap.
#[test]
fn capped_log_stays_bounded_under_concurrent_writers() {
    let s = TestServer::start();
    let writers = 4;
    let per_writer = 1500;
    std::thread::scope(|scope| {
        for w in 0..writers {
            let s = &s;
            scope.spawn(move || {
                let mut c = s.client();
                for i in 0..per_writer {
                    let entry = format!("w{w}:{i:05}");
                    let n = as_int(&ok(&mut c, &["LPUSH", "log", &entry]));
                    assert!(n <= 1000 + writers as i64, "length {n} stays near the cap");
                    ok(&mut c, &["LTRIM", "log", "0", "999"]);
                }
            });
        }
    });
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["LLEN", "log"]), int(1000));
    let Value::Array(items) = lrange(&mut c, "log") else {
        panic!("LRANGE")
    };
    let items: Vec<String> = items.iter().map(text).collect();
    let mut total = 0;
    for w in 0..writers {
        let prefix = format!("w{w}:");
        let mine: Vec<usize> = items
            .iter()
            .filter_map(|e| e.strip_prefix(&prefix))
            .map(|i| i.parse().unwrap())
            .collect();
        total += mine.len();
        // Newest first and contiguous up to the writer's last entry.
        let want: Vec<usize> = (per_writer - mine.len()..per_writer).rev().collect();
        assert_eq!(mine, want, "writer {w} keeps its newest entries");
    }
    assert_eq!(total, 1000);
}

#[test]
fn redis_cli_reads_and_writes_lists() {
    let s = TestServer::start();
    let cli = |args: &[&str]| -> String {
        let out = Command::new(require_tool(REDIS_CLI))
            .arg("-p")
            .arg(s.port().to_string())
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(cli(&["RPUSH", "l", "a", "b c", "3"]), "3\n");
    assert_eq!(cli(&["LRANGE", "l", "0", "-1"]), "a\nb c\n3\n");
    assert_eq!(
        cli(&["--no-raw", "LRANGE", "l", "0", "-1"]),
        "1) \"a\"\n2) \"b c\"\n3) \"3\"\n"
    );
    assert_eq!(cli(&["--no-raw", "LPOP", "nokey"]), "(nil)\n");
    assert_eq!(cli(&["--no-raw", "LPOS", "l", "3"]), "(integer) 2\n");
    assert_eq!(
        cli(&["--no-raw", "LMPOP", "1", "l", "RIGHT", "COUNT", "2"]),
        "1) \"l\"\n2) 1) \"3\"\n   2) \"b c\"\n"
    );
    assert_eq!(
        cli(&["--no-raw", "LSET", "l", "9", "x"]),
        "(error) ERR index out of range\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Differential proptest.

fn elem() -> BoxedStrategy<String> {
    prop_oneof![
        6 => pick(&["a", "b", "c", "0", "1", "-7", "123456789012", "01", ""]),
        2 => (60usize..300).prop_map(|n| "m".repeat(n)),
        1 => (2000usize..5000).prop_map(|n| "L".repeat(n)),
    ]
    .boxed()
}

fn elems() -> BoxedStrategy<Vec<String>> {
    prop::collection::vec(elem(), 1..12).boxed()
}

fn lkey() -> BoxedStrategy<String> {
    pick(&["a", "b", "c"])
}

fn end_arg() -> BoxedStrategy<String> {
    pick(&["LEFT", "RIGHT", "left", "UP"])
}

fn list_ops() -> Vec<BoxedStrategy<Op>> {
    let push = |name: &'static str| {
        op((lkey(), elems()).prop_map(move |(k, e)| {
            let mut v = vec![k];
            v.extend(e);
            with(name, v)
        }))
    };
    vec![
        push("RPUSH"),
        push("RPUSH"),
        push("LPUSH"),
        push("LPUSHX"),
        push("RPUSHX"),
        op((
            lkey(),
            prop::option::of(pick(&["0", "1", "3", "100", "-1", "x"])),
        )
            .prop_map(|(k, n)| with("LPOP", std::iter::once(k).chain(n).collect()))),
        op((lkey(), prop::option::of(pick(&["0", "2", "7", "x"])))
            .prop_map(|(k, n)| with("RPOP", std::iter::once(k).chain(n).collect()))),
        op(lkey().prop_map(|k| with("LLEN", vec![k]))),
        op((lkey(), int_arg(), int_arg()).prop_map(|(k, a, b)| with("LRANGE", vec![k, a, b]))),
        op((lkey(), pick(&["0", "1", "-1", "-3", "5", "20", "x"]))
            .prop_map(|(k, i)| with("LINDEX", vec![k, i]))),
        op((lkey(), pick(&["0", "1", "-1", "4", "30", "x"]), elem())
            .prop_map(|(k, i, e)| with("LSET", vec![k, i, e]))),
        op((
            lkey(),
            pick(&["BEFORE", "AFTER", "after", "X"]),
            elem(),
            elem(),
        )
            .prop_map(|(k, w, p, e)| with("LINSERT", vec![k, w, p, e]))),
        op((lkey(), pick(&["0", "1", "-1", "2", "-2", "x"]), elem())
            .prop_map(|(k, n, e)| with("LREM", vec![k, n, e]))),
        op((
            lkey(),
            pick(&["0", "1", "2", "-1", "-5", "10"]),
            pick(&["0", "-1", "-2", "3", "12", "x"]),
        )
            .prop_map(|(k, a, b)| with("LTRIM", vec![k, a, b]))),
        op((
            lkey(),
            elem(),
            prop::option::of(pick(&["1", "2", "-1", "-2", "0"])),
            prop::option::of(pick(&["0", "1", "3", "-1"])),
            prop::option::of(pick(&["0", "2", "5"])),
        )
            .prop_map(|(k, e, rank, count, maxlen)| {
                let mut v = vec![k, e];
                if let Some(r) = rank {
                    v.extend(["RANK".to_string(), r]);
                }
                if let Some(c) = count {
                    v.extend(["COUNT".to_string(), c]);
                }
                if let Some(m) = maxlen {
                    v.extend(["MAXLEN".to_string(), m]);
                }
                with("LPOS", v)
            })),
        op((lkey(), lkey(), end_arg(), end_arg())
            .prop_map(|(a, b, f, t)| with("LMOVE", vec![a, b, f, t]))),
        op((lkey(), lkey()).prop_map(|(a, b)| with("RPOPLPUSH", vec![a, b]))),
        op((
            prop::collection::vec(lkey(), 1..3),
            end_arg(),
            prop::option::of(pick(&["1", "2", "10", "0"])),
        )
            .prop_map(|(ks, w, c)| {
                let mut v = vec![ks.len().to_string()];
                v.extend(ks);
                v.push(w);
                if let Some(c) = c {
                    v.extend(["COUNT".to_string(), c]);
                }
                with("LMPOP", v)
            })),
        op(lkey().prop_map(|k| with("OBJECT", vec!["ENCODING".into(), k]))),
        op(lkey().prop_map(|k| with("TYPE", vec![k]))),
        op(lkey().prop_map(|k| with("DUMP", vec![k]))),
        op(lkey().prop_map(|k| with("DEL", vec![k]))),
        op(lkey().prop_map(|k| with("EXPIRE", vec![k, "1000".into()]))),
        op((lkey(), lkey()).prop_map(|(a, b)| with("COPY", vec![a, b, "REPLACE".into()]))),
        op(key().prop_map(|k| with("SET", vec![k, "str".into()]))),
        op(pick(&["-2", "-1", "1", "2", "4"]).prop_map(|n| {
            with(
                "CONFIG",
                vec!["SET".into(), "list-max-listpack-size".into(), n],
            )
        })),
    ]
}

fn no_normalize(_: &Op, v: Result<Value, String>) -> Result<Value, String> {
    v
}

#[test]
fn list_commands_reply_exactly_like_redis() {
    differential_with(list_ops(), false, 300, no_normalize);
}

#[test]
fn list_commands_reply_exactly_like_redis_over_resp3() {
    differential_with(list_ops(), true, 64, no_normalize);
}
