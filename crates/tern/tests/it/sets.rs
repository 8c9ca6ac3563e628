//! Set commands through the `redis` crate and redis-cli: every command, option and error with
//! Redis 7.0's exact replies, RESP3 sets, encodings, DUMP payloads byte-identical with
//! redis-server's, DEBUG DIGEST-VALUE equal to redis-server's, and a differential proptest
//! against the real redis-server. Run with `TERN_IT_SERVER=redis` to check the expectations
//! against Redis itself.

use crate::differential::{differential_with, int_arg, key, op, pick, with, Op};
use crate::harness::*;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use std::process::Command;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn sorted(v: &Value) -> Vec<String> {
    let items = match v {
        Value::Set(items) | Value::Array(items) => items.clone(),
        other => panic!("not a collection: {other:?}"),
    };
    let mut out: Vec<String> = items.iter().map(text).collect();
    out.sort();
    out
}

fn sadd(c: &mut redis::Connection, k: &str, ms: &[&str]) -> i64 {
    let mut a = vec!["SADD", k];
    a.extend_from_slice(ms);
    as_int(&ok(c, &a))
}

#[test]
fn sadd_srem_scard_sismember_smismember_smembers() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(sadd(&mut c, "s", &["a", "b", "b", "c"]), 3);
    assert_eq!(sadd(&mut c, "s", &["c", "d"]), 1);
    assert_eq!(ok(&mut c, &["SCARD", "s"]), int(4));
    assert_eq!(ok(&mut c, &["SCARD", "nokey"]), int(0));
    assert_eq!(ok(&mut c, &["SISMEMBER", "s", "a"]), int(1));
    assert_eq!(ok(&mut c, &["SISMEMBER", "s", "z"]), int(0));
    assert_eq!(ok(&mut c, &["SISMEMBER", "nokey", "a"]), int(0));
    assert_eq!(
        ok(&mut c, &["SMISMEMBER", "s", "a", "z", "d"]),
        Value::Array(vec![int(1), int(0), int(1)])
    );
    assert_eq!(
        ok(&mut c, &["SMISMEMBER", "nokey", "a"]),
        Value::Array(vec![int(0)])
    );
    assert_eq!(
        sorted(&ok(&mut c, &["SMEMBERS", "s"])),
        strs(&["a", "b", "c", "d"])
    );
    assert_eq!(ok(&mut c, &["SMEMBERS", "nokey"]), Value::Array(vec![]));
    assert_eq!(ok(&mut c, &["SREM", "s", "a", "z"]), int(1));
    assert_eq!(ok(&mut c, &["SREM", "nokey", "a"]), int(0));
    assert_eq!(ok(&mut c, &["SREM", "s", "b", "c", "d"]), int(3));
    assert_eq!(ok(&mut c, &["EXISTS", "s"]), int(0));
    // Binary-safe members.
    let bin: Vec<u8> = (0u8..=255).collect();
    let n: i64 = redis::cmd("SADD").arg("b").arg(&bin).query(&mut c).unwrap();
    assert_eq!(n, 1);
    let yes: i64 = redis::cmd("SISMEMBER")
        .arg("b")
        .arg(&bin)
        .query(&mut c)
        .unwrap();
    assert_eq!(yes, 1);
}

#[test]
fn wrong_type_and_arity_errors() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "str", "v"]);
    ok(&mut c, &["SADD", "s", "1"]);
    for cmd in [
        &["SADD", "str", "a"][..],
        &["SREM", "str", "a"],
        &["SCARD", "str"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SMEMBERS", "str"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "2"],
        &["SPOP", "str"],
        &["SPOP", "str", "2"],
        &["SMOVE", "str", "s", "a"],
        &["SMOVE", "s", "str", "1"],
        &["SINTER", "s", "str"],
        &["SINTER", "nokey", "str"],
        &["SINTERCARD", "2", "nokey", "str"],
        &["SUNION", "s", "str"],
        &["SDIFF", "nokey", "str"],
        &["SINTERSTORE", "d", "s", "str"],
        &["SUNIONSTORE", "d", "str"],
        &["SDIFFSTORE", "d", "s", "str"],
        &["SSCAN", "str", "0"],
    ] {
        assert_eq!(err(&mut c, cmd), WRONGTYPE, "{cmd:?}");
    }
    for cmd in [
        &["SADD", "s"][..],
        &["SREM", "s"],
        &["SCARD"],
        &["SISMEMBER", "s"],
        &["SMISMEMBER", "s"],
        &["SMEMBERS"],
        &["SRANDMEMBER"],
        &["SPOP"],
        &["SMOVE", "a", "b"],
        &["SINTER"],
        &["SINTERCARD", "1"],
        &["SUNION"],
        &["SDIFF"],
        &["SINTERSTORE", "d"],
        &["SUNIONSTORE", "d"],
        &["SDIFFSTORE", "d"],
        &["SSCAN", "s"],
    ] {
        let name = cmd[0].to_ascii_lowercase();
        assert_eq!(
            err(&mut c, cmd),
            format!("ERR wrong number of arguments for '{name}' command"),
            "{cmd:?}"
        );
    }
}

#[test]
fn encodings_follow_the_config_and_convert_one_way() {
    let s = TestServer::start();
    let mut c = s.client();
    sadd(&mut c, "i", &["1", "2", "-3"]);
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "i"]), bulk("intset"));
    assert_eq!(
        ok(&mut c, &["TYPE", "i"]),
        Value::SimpleString("set".into())
    );
    // Intsets reply in ascending order.
    assert_eq!(
        ok(&mut c, &["SMEMBERS", "i"]),
        Value::Array(vec![bulk("-3"), bulk("1"), bulk("2")])
    );
    sadd(&mut c, "h", &["1", "01"]);
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "h"]), bulk("hashtable"));
    ok(&mut c, &["CONFIG", "SET", "set-max-intset-entries", "4"]);
    sadd(&mut c, "t", &["1", "2", "3", "4"]);
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "t"]), bulk("intset"));
    sadd(&mut c, "t", &["5"]);
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "t"]), bulk("hashtable"));
    ok(&mut c, &["SREM", "t", "5", "4", "3"]);
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "t"]), bulk("hashtable"));
    // Stored results get the encoding their content calls for.
    assert_eq!(ok(&mut c, &["SUNIONSTORE", "u", "t", "i"]), int(3));
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "u"]), bulk("intset"));
    ok(&mut c, &["CONFIG", "SET", "set-max-intset-entries", "512"]);
}

#[test]
fn srandmember_and_spop_with_and_without_count() {
    let s = TestServer::start();
    let mut c = s.client();
    let members: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = members.iter().map(|s| s.as_str()).collect();
    sadd(&mut c, "s", &refs);
    let one = text(&ok(&mut c, &["SRANDMEMBER", "s"]));
    assert!(members.contains(&one));
    assert_eq!(ok(&mut c, &["SRANDMEMBER", "nokey"]), Value::Nil);
    for n in [1, 5, 7, 15, 19, 20, 100] {
        let got = sorted(&ok(&mut c, &["SRANDMEMBER", "s", &n.to_string()]));
        assert_eq!(got.len(), n.min(20));
        let mut d = got.clone();
        d.dedup();
        assert_eq!(d, got);
        assert!(got.iter().all(|m| members.contains(m)));
    }
    assert_eq!(sorted(&ok(&mut c, &["SRANDMEMBER", "s", "-50"])).len(), 50);
    assert_eq!(ok(&mut c, &["SRANDMEMBER", "s", "0"]), Value::Array(vec![]));
    assert_eq!(
        ok(&mut c, &["SRANDMEMBER", "nokey", "-3"]),
        Value::Array(vec![])
    );
    assert_eq!(
        err(&mut c, &["SRANDMEMBER", "s", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        err(&mut c, &["SRANDMEMBER", "s", "1.5"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["SRANDMEMBER", "s", "1", "2"]),
        "ERR syntax error"
    );

    let p = text(&ok(&mut c, &["SPOP", "s"]));
    assert_eq!(ok(&mut c, &["SISMEMBER", "s", &p]), int(0));
    assert_eq!(ok(&mut c, &["SCARD", "s"]), int(19));
    let popped = sorted(&ok(&mut c, &["SPOP", "s", "4"]));
    assert_eq!(popped.len(), 4);
    assert_eq!(ok(&mut c, &["SCARD", "s"]), int(15));
    let popped = sorted(&ok(&mut c, &["SPOP", "s", "14"]));
    assert_eq!(popped.len(), 14);
    assert_eq!(ok(&mut c, &["SCARD", "s"]), int(1));
    assert_eq!(sorted(&ok(&mut c, &["SPOP", "s", "10"])).len(), 1);
    assert_eq!(ok(&mut c, &["EXISTS", "s"]), int(0));
    assert_eq!(ok(&mut c, &["SPOP", "s"]), Value::Nil);
    assert_eq!(ok(&mut c, &["SPOP", "s", "3"]), Value::Array(vec![]));
    assert_eq!(ok(&mut c, &["SPOP", "s", "0"]), Value::Array(vec![]));
    for bad in ["-1", "x", "9223372036854775808"] {
        assert_eq!(
            err(&mut c, &["SPOP", "s", bad]),
            "ERR value is out of range, must be positive"
        );
    }
    assert_eq!(err(&mut c, &["SPOP", "s", "1", "2"]), "ERR syntax error");
}

#[test]
fn smove_between_sets() {
    let s = TestServer::start();
    let mut c = s.client();
    sadd(&mut c, "a", &["1", "2", "x"]);
    assert_eq!(ok(&mut c, &["SMOVE", "a", "b", "1"]), int(1));
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "b"]), bulk("intset"));
    assert_eq!(ok(&mut c, &["SMOVE", "a", "b", "1"]), int(0));
    assert_eq!(ok(&mut c, &["SMOVE", "nokey", "b", "1"]), int(0));
    assert_eq!(ok(&mut c, &["SMOVE", "a", "a", "2"]), int(1));
    assert_eq!(ok(&mut c, &["SMOVE", "a", "a", "9"]), int(0));
    assert_eq!(ok(&mut c, &["SMOVE", "a", "b", "x"]), int(1));
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "b"]), bulk("hashtable"));
    assert_eq!(ok(&mut c, &["SMOVE", "a", "b", "2"]), int(1));
    assert_eq!(ok(&mut c, &["EXISTS", "a"]), int(0));
    assert_eq!(
        sorted(&ok(&mut c, &["SMEMBERS", "b"])),
        strs(&["1", "2", "x"])
    );
    ok(&mut c, &["SET", "str", "v"]);
    assert_eq!(ok(&mut c, &["SMOVE", "nokey", "str", "1"]), int(0));
}

#[test]
fn sinter_sunion_sdiff_and_their_store_forms() {
    let s = TestServer::start();
    let mut c = s.client();
    sadd(&mut c, "a", &["1", "2", "3", "x", "y"]);
    sadd(&mut c, "b", &["2", "3", "4", "x"]);
    sadd(&mut c, "c", &["3", "x", "z"]);
    assert_eq!(
        sorted(&ok(&mut c, &["SINTER", "a", "b", "c"])),
        strs(&["3", "x"])
    );
    assert_eq!(
        sorted(&ok(&mut c, &["SINTER", "a"])),
        sorted(&ok(&mut c, &["SMEMBERS", "a"]))
    );
    assert_eq!(ok(&mut c, &["SINTER", "a", "nokey"]), Value::Array(vec![]));
    assert_eq!(
        sorted(&ok(&mut c, &["SUNION", "a", "c", "nokey"])),
        strs(&["1", "2", "3", "x", "y", "z"])
    );
    assert_eq!(sorted(&ok(&mut c, &["SDIFF", "a", "b"])), strs(&["1", "y"]));
    assert_eq!(
        sorted(&ok(&mut c, &["SDIFF", "a", "b", "c"])),
        strs(&["1", "y"])
    );
    assert_eq!(ok(&mut c, &["SDIFF", "nokey", "a"]), Value::Array(vec![]));
    assert_eq!(sorted(&ok(&mut c, &["SDIFF", "a", "nokey"])).len(), 5);
    assert_eq!(ok(&mut c, &["SDIFF", "a", "a"]), Value::Array(vec![]));

    assert_eq!(ok(&mut c, &["SINTERCARD", "3", "a", "b", "c"]), int(2));
    assert_eq!(
        ok(&mut c, &["SINTERCARD", "2", "a", "b", "LIMIT", "1"]),
        int(1)
    );
    assert_eq!(
        ok(&mut c, &["SINTERCARD", "2", "a", "b", "limit", "0"]),
        int(3)
    );
    assert_eq!(ok(&mut c, &["SINTERCARD", "2", "a", "nokey"]), int(0));
    for (cmd, e) in [
        (
            &["SINTERCARD", "0", "a"][..],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "-1", "a"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "x", "a"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "2", "a"],
            "ERR Number of keys can't be greater than number of args",
        ),
        (
            &["SINTERCARD", "1", "a", "LIMIT", "-1"],
            "ERR LIMIT can't be negative",
        ),
        (
            &["SINTERCARD", "1", "a", "LIMIT", "1.5"],
            "ERR LIMIT can't be negative",
        ),
        (&["SINTERCARD", "1", "a", "LIMIT"], "ERR syntax error"),
        (&["SINTERCARD", "1", "a", "b"], "ERR syntax error"),
    ] {
        assert_eq!(err(&mut c, cmd), e, "{cmd:?}");
    }

    assert_eq!(ok(&mut c, &["SINTERSTORE", "d", "a", "b"]), int(3));
    assert_eq!(
        sorted(&ok(&mut c, &["SMEMBERS", "d"])),
        strs(&["2", "3", "x"])
    );
    ok(&mut c, &["EXPIRE", "d", "100"]);
    assert_eq!(ok(&mut c, &["SUNIONSTORE", "d", "b", "c"]), int(5));
    // Storing replaces the key, TTL included.
    assert_eq!(ok(&mut c, &["TTL", "d"]), int(-1));
    assert_eq!(ok(&mut c, &["SDIFFSTORE", "d", "a", "b"]), int(2));
    assert_eq!(sorted(&ok(&mut c, &["SMEMBERS", "d"])), strs(&["1", "y"]));
    assert_eq!(ok(&mut c, &["SDIFFSTORE", "d", "a", "a"]), int(0));
    assert_eq!(ok(&mut c, &["EXISTS", "d"]), int(0));
    ok(&mut c, &["SET", "d", "string"]);
    assert_eq!(ok(&mut c, &["SINTERSTORE", "d", "a", "nokey"]), int(0));
    assert_eq!(ok(&mut c, &["EXISTS", "d"]), int(0));
    // The destination can be one of the sources.
    assert_eq!(ok(&mut c, &["SUNIONSTORE", "a", "a", "c"]), int(6));
}

#[test]
fn sscan_with_match_and_count() {
    let s = TestServer::start();
    let mut c = s.client();
    sadd(&mut c, "i", &["1", "2", "10", "11"]);
    // An intset is returned whole, cursor 0, whatever COUNT says.
    let r = items(&ok(
        &mut c,
        &["SSCAN", "i", "0", "COUNT", "1", "MATCH", "1*"],
    ));
    assert_eq!(r[0], bulk("0"));
    assert_eq!(sorted(&r[1]), strs(&["1", "10", "11"]));
    let members: Vec<String> = (0..1000).map(|i| format!("member:{i}")).collect();
    let refs: Vec<&str> = members.iter().map(|s| s.as_str()).collect();
    sadd(&mut c, "h", &refs);
    let mut seen = std::collections::BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = items(&ok(
            &mut c,
            &["SSCAN", "h", &cursor, "MATCH", "member:1*", "COUNT", "50"],
        ));
        cursor = text(&r[0]);
        seen.extend(sorted(&r[1]));
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    assert!(calls > 1);
    assert_eq!(seen.len(), 1 + 10 + 100);
    assert!(seen.iter().all(|m| m.starts_with("member:1")));
    assert_eq!(
        ok(&mut c, &["SSCAN", "nokey", "0"]),
        Value::Array(vec![bulk("0"), Value::Array(vec![])])
    );
    assert_eq!(err(&mut c, &["SSCAN", "h", "abc"]), "ERR invalid cursor");
    assert_eq!(
        err(&mut c, &["SSCAN", "h", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["SSCAN", "h", "0", "COUNT", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["SSCAN", "h", "0", "MATCH"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["SSCAN", "h", "0", "TYPE", "set"]),
        "ERR syntax error"
    );
}

#[test]
fn resp3_replies_use_sets_and_nulls() {
    let s = TestServer::start();
    let mut c = s.client_resp3();
    sadd(&mut c, "s", &["1", "2"]);
    assert_eq!(
        ok(&mut c, &["SMEMBERS", "s"]),
        Value::Set(vec![bulk("1"), bulk("2")])
    );
    assert_eq!(ok(&mut c, &["SMEMBERS", "nokey"]), Value::Set(vec![]));
    assert_eq!(ok(&mut c, &["SINTER", "s", "nokey"]), Value::Set(vec![]));
    assert!(matches!(ok(&mut c, &["SUNION", "s"]), Value::Set(v) if v.len() == 2));
    assert!(matches!(ok(&mut c, &["SDIFF", "s"]), Value::Set(v) if v.len() == 2));
    assert!(matches!(ok(&mut c, &["SRANDMEMBER", "s", "2"]), Value::Array(v) if v.len() == 2));
    assert_eq!(
        ok(&mut c, &["SRANDMEMBER", "nokey", "2"]),
        Value::Array(vec![])
    );
    assert_eq!(ok(&mut c, &["SRANDMEMBER", "nokey"]), Value::Nil);
    assert_eq!(ok(&mut c, &["SPOP", "nokey"]), Value::Nil);
    assert_eq!(ok(&mut c, &["SPOP", "nokey", "1"]), Value::Set(vec![]));
    assert!(matches!(ok(&mut c, &["SPOP", "s", "1"]), Value::Set(v) if v.len() == 1));
}

#[test]
fn redis_cli_reads_set_replies() {
    let s = TestServer::start();
    let run = |args: &[&str]| {
        let out = Command::new(require_tool(REDIS_CLI))
            .arg("-p")
            .arg(s.port().to_string())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(run(&["SADD", "s", "3", "1", "2"]), "3\n");
    assert_eq!(run(&["SMEMBERS", "s"]), "1\n2\n3\n");
    assert_eq!(run(&["-3", "SMEMBERS", "s"]), "1\n2\n3\n");
    assert_eq!(run(&["SCARD", "s"]), "3\n");
    assert_eq!(run(&["SISMEMBER", "s", "2"]), "1\n");
    assert_eq!(run(&["OBJECT", "ENCODING", "s"]), "intset\n");
}

/// Fills the same sets on both servers.
fn fill(c: &mut redis::Connection) {
    sadd(c, "small", &["1", "2", "3", "-70000", "5000000000"]);
    sadd(c, "neg", &["-1"]);
    let big: Vec<String> = (0..600).map(|i| (i * 7).to_string()).collect();
    let refs: Vec<&str> = big.iter().map(|s| s.as_str()).collect();
    sadd(c, "bigint", &refs);
    let long = "z".repeat(100);
    sadd(c, "strs", &["a", "b", "12", &long]);
}

#[test]
fn dump_payloads_match_redis_byte_for_byte_and_restore_across() {
    let t = TestServer::start();
    let r = RedisServer::start();
    let (mut tc, mut rc) = (t.client(), r.client());
    fill(&mut tc);
    fill(&mut rc);
    // Intsets dump as their bytes: identical payloads.
    for k in ["small", "neg"] {
        assert_eq!(ok(&mut tc, &["DUMP", k]), ok(&mut rc, &["DUMP", k]), "{k}");
    }
    // Hashtables dump in table order, which differs: compare by restoring into the other
    // server, both ways.
    for k in ["small", "neg", "bigint", "strs"] {
        for dir in 0..2 {
            let (from, to) = if dir == 0 {
                (&mut tc, &mut rc)
            } else {
                (&mut rc, &mut tc)
            };
            let Value::BulkString(p) = ok(from, &["DUMP", k]) else {
                panic!("DUMP")
            };
            let res: Value = redis::cmd("RESTORE")
                .arg("copy")
                .arg(0)
                .arg(&p)
                .arg("REPLACE")
                .query(to)
                .unwrap();
            assert_eq!(res, Value::Okay);
            assert_eq!(
                sorted(&ok(to, &["SMEMBERS", "copy"])),
                sorted(&ok(from, &["SMEMBERS", k])),
                "{k}"
            );
            assert_eq!(
                ok(to, &["OBJECT", "ENCODING", "copy"]),
                ok(from, &["OBJECT", "ENCODING", k]),
                "{k}"
            );
        }
    }
}

#[test]
fn debug_digest_value_matches_redis() {
    let t = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let r = TestServer::start_redis(None, &["--enable-debug-command", "yes"]);
    let (mut tc, mut rc) = (t.client(), r.client());
    fill(&mut tc);
    fill(&mut rc);
    let args = [
        "DEBUG",
        "DIGEST-VALUE",
        "small",
        "neg",
        "bigint",
        "strs",
        "nokey",
    ];
    let (a, b) = (ok(&mut tc, &args), ok(&mut rc, &args));
    assert_eq!(items(&a).len(), 5);
    assert_eq!(a, b);
    // The whole-dataset digest agrees too.
    assert_eq!(
        ok(&mut tc, &["DEBUG", "DIGEST"]),
        ok(&mut rc, &["DEBUG", "DIGEST"])
    );
}

// ---------------------------------------------------------------------------------------------
// Differential proptest against the real redis-server.

fn member() -> BoxedStrategy<String> {
    prop_oneof![
        4 => pick(&["0", "1", "2", "3", "-1", "10", "100", "70000", "-70000", "5000000000"]),
        2 => pick(&["a", "b", "c", "x", "01", "-0", " 1", "1.0", ""]),
        1 => (0u32..40).prop_map(|i| i.to_string()),
        1 => (45usize..60).prop_map(|n| "m".repeat(n)),
    ]
    .boxed()
}

fn members(max: usize) -> BoxedStrategy<Vec<String>> {
    prop::collection::vec(member(), 1..=max).boxed()
}

fn skeys(max: usize) -> BoxedStrategy<Vec<String>> {
    prop::collection::vec(key(), 1..=max).boxed()
}

fn set_ops() -> Vec<BoxedStrategy<Op>> {
    vec![
        op((key(), members(6)).prop_map(|(k, m)| with("SADD", [vec![k], m].concat()))),
        op((key(), 0u32..40).prop_map(|(k, n)| {
            let mut a = vec![k];
            a.extend((0..n).map(|i| (i * 3).to_string()));
            a.push("0".into());
            with("SADD", a)
        })),
        op((key(), members(4)).prop_map(|(k, m)| with("SREM", [vec![k], m].concat()))),
        op(key().prop_map(|k| with("SCARD", vec![k]))),
        op((key(), member()).prop_map(|(k, m)| with("SISMEMBER", vec![k, m]))),
        op((key(), members(3)).prop_map(|(k, m)| with("SMISMEMBER", [vec![k], m].concat()))),
        op(key().prop_map(|k| with("SMEMBERS", vec![k]))),
        op((key(), key(), member()).prop_map(|(a, b, m)| with("SMOVE", vec![a, b, m]))),
        op(skeys(3).prop_map(|ks| with("SINTER", ks))),
        op(skeys(3).prop_map(|ks| with("SUNION", ks))),
        op(skeys(3).prop_map(|ks| with("SDIFF", ks))),
        op((key(), skeys(3)).prop_map(|(d, ks)| with("SINTERSTORE", [vec![d], ks].concat()))),
        op((key(), skeys(3)).prop_map(|(d, ks)| with("SUNIONSTORE", [vec![d], ks].concat()))),
        op((key(), skeys(3)).prop_map(|(d, ks)| with("SDIFFSTORE", [vec![d], ks].concat()))),
        op((skeys(3), prop::option::of(int_arg())).prop_map(|(ks, l)| {
            let mut a = vec![ks.len().to_string()];
            a.extend(ks);
            if let Some(l) = l {
                a.push("LIMIT".into());
                a.push(l);
            }
            with("SINTERCARD", a)
        })),
        op((key(), int_arg()).prop_map(|(k, n)| with("SRANDMEMBER", vec![k, n]))),
        op(key().prop_map(|k| with("SRANDMEMBER", vec![k]))),
        // Deterministic SPOPs only: the whole set, or nothing.
        op((key(), pick(&["0", "1000", "-1", "x"])).prop_map(|(k, n)| with("SPOP", vec![k, n]))),
        op((key(), pick(&["0", "1*", "*", "a"])).prop_map(|(k, p)| {
            with(
                "SSCAN",
                vec![
                    k,
                    "0".into(),
                    "MATCH".into(),
                    p,
                    "COUNT".into(),
                    "10000".into(),
                ],
            )
        })),
        op(key().prop_map(|k| with("OBJECT", vec!["ENCODING".into(), k]))),
        op(key().prop_map(|k| with("TYPE", vec![k]))),
        op(skeys(2).prop_map(|ks| with("DEL", ks))),
        op((key(), pick(&["100", "0", "-1"])).prop_map(|(k, t)| with("EXPIRE", vec![k, t]))),
        op((key(), key()).prop_map(|(a, b)| with("RENAME", vec![a, b]))),
        op((key(), key()).prop_map(|(a, b)| with("COPY", vec![a, b, "REPLACE".into()]))),
        op(key().prop_map(|k| with("SET", vec![k, "str".into()]))),
        op(pick(&["0", "3", "8", "512"]).prop_map(|n| {
            with(
                "CONFIG",
                vec!["SET".into(), "set-max-intset-entries".into(), n],
            )
        })),
        // A DUMP of an intset is byte-identical; of a hashtable, only its length is compared.
        op(key().prop_map(|k| with("DUMP", vec![k]))),
    ]
}

/// Sorts members where Redis's order is unspecified, and reduces random replies to their shape.
fn normalize_sets(op: &Op, v: Result<Value, String>) -> Result<Value, String> {
    let sort = |items: Vec<Value>| {
        let mut items = items;
        items.sort_by_key(text);
        items
    };
    let cmd = op[0].to_ascii_uppercase();
    match (cmd.as_str(), v) {
        ("SMEMBERS" | "SINTER" | "SUNION" | "SDIFF" | "SPOP", Ok(Value::Array(items))) => {
            Ok(Value::Array(sort(items)))
        }
        ("SMEMBERS" | "SINTER" | "SUNION" | "SDIFF" | "SPOP", Ok(Value::Set(items))) => {
            Ok(Value::Set(sort(items)))
        }
        ("SRANDMEMBER", Ok(Value::Array(items))) => Ok(Value::Int(items.len() as i64)),
        ("SRANDMEMBER", Ok(Value::BulkString(_))) => Ok(Value::Okay),
        ("SSCAN", Ok(Value::Array(mut parts))) if parts.len() == 2 => {
            if let Value::Array(items) = parts.pop().unwrap() {
                parts.push(Value::Array(sort(items)));
            }
            Ok(Value::Array(parts))
        }
        ("DUMP", Ok(Value::BulkString(b))) if b.first() == Some(&2) => {
            Ok(Value::Int(b.len() as i64))
        }
        (_, v) => v,
    }
}

#[test]
fn set_commands_reply_exactly_like_redis() {
    differential_with(set_ops(), false, 96, normalize_sets);
}

#[test]
fn set_commands_reply_exactly_like_redis_over_resp3() {
    differential_with(set_ops(), true, 48, normalize_sets);
}
