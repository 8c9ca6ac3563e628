//! Tests of the generic key commands: replies, errors, and propagated forms.

use crate::testkit::frames::{bulk, err, int, ok};
use crate::testkit::TestDb;
use std::collections::HashMap;
use tern_resp::Frame;

/// A fixed clock far from zero, so relative and absolute times differ.
const T0: i64 = 1_700_000_000_000;

fn at(t: i64) -> TestDb {
    let mut db = TestDb::new();
    db.clock = Some(t);
    db
}

fn log(items: &[&[&str]]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

fn sorted(f: Frame) -> Vec<Vec<u8>> {
    let Frame::Array(items) = f else {
        panic!("not an array: {f:?}")
    };
    let mut v: Vec<Vec<u8>> = items
        .into_iter()
        .map(|i| i.as_bytes().unwrap().to_vec())
        .collect();
    v.sort();
    v
}

/// Runs SCAN to completion; returns every key returned (with repeats) and the call count.
fn scan_all(t: &mut TestDb, extra: &[&str]) -> (Vec<Vec<u8>>, usize) {
    let mut cursor = "0".to_string();
    let mut all = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let Frame::Array(reply) = t.run(&args) else {
            panic!("SCAN reply is not an array")
        };
        calls += 1;
        assert_eq!(reply.len(), 2);
        let next = String::from_utf8(reply[0].as_bytes().unwrap().to_vec()).unwrap();
        let Frame::Array(keys) = &reply[1] else {
            panic!("SCAN keys are not an array")
        };
        all.extend(keys.iter().map(|k| k.as_bytes().unwrap().to_vec()));
        if next == "0" {
            break;
        }
        cursor = next;
        assert!(calls < 100_000, "SCAN does not terminate");
    }
    (all, calls)
}

#[test]
fn del_and_unlink_count_deleted_keys_and_propagate_as_sent() {
    let mut t = TestDb::new();
    t.run(&["SET", "a", "1"]);
    t.run(&["SET", "b", "2"]);
    let off = t.log_offset();
    assert_eq!(t.run(&["DEL", "a", "b", "c", "a"]), int(2));
    assert_eq!(t.run(&["DEL", "x", "y"]), int(0));
    t.run(&["SET", "a", "1"]);
    assert_eq!(t.run(&["UNLINK", "q", "a"]), int(1));
    assert_eq!(t.run(&["UNLINK", "q"]), int(0));
    assert_eq!(
        t.writes_since(off),
        log(&[
            &["DEL", "a", "b", "c", "a"],
            &["SET", "a", "1"],
            &["UNLINK", "q", "a"]
        ])
    );
    assert_eq!(
        t.run(&["DEL"]),
        err("ERR wrong number of arguments for 'del' command")
    );
}

#[test]
fn expired_keys_are_not_deleted_by_del_but_propagated_as_del() {
    let mut t = at(T0);
    t.run(&["SET", "k", "v", "PX", "100"]);
    t.clock = Some(T0 + 100);
    let off = t.log_offset();
    assert_eq!(t.run(&["DEL", "k", "other"]), int(0));
    assert_eq!(t.writes_since(off), log(&[&["DEL", "k"]]));
}

#[test]
fn lazy_expiry_propagates_del_before_the_next_write() {
    let mut t = at(T0);
    t.run(&["SET", "k", "v", "PX", "100"]);
    t.clock = Some(T0 + 200);
    let off = t.log_offset();
    assert_eq!(t.run(&["SET", "k", "v2"]), ok());
    assert_eq!(
        t.writes_since(off),
        log(&[&["DEL", "k"], &["SET", "k", "v2"]])
    );
    // A read that finds an expired key propagates the DEL too.
    t.run(&["SET", "j", "v", "PX", "100"]);
    t.clock = Some(T0 + 400);
    let off = t.log_offset();
    assert_eq!(t.run(&["EXISTS", "j"]), int(0));
    assert_eq!(t.writes_since(off), log(&[&["DEL", "j"]]));
}

#[test]
fn exists_counts_repeats_and_type_names_values() {
    let mut t = TestDb::with_workers(4);
    t.run(&["SET", "a", "1"]);
    t.run(&["SET", "b", "x"]);
    assert_eq!(t.run(&["EXISTS", "a", "b", "a", "nope"]), int(3));
    assert_eq!(t.run(&["EXISTS", "nope"]), int(0));
    assert_eq!(t.run(&["TYPE", "a"]), Frame::Simple("string".into()));
    assert_eq!(t.run(&["TYPE", "nope"]), Frame::Simple("none".into()));
    assert_eq!(
        t.run(&["TYPE", "a", "b"]),
        err("ERR wrong number of arguments for 'type' command")
    );
}

#[test]
fn keys_matches_globs_across_shards_and_skips_expired_keys() {
    let mut t = TestDb::with_workers(4);
    t.clock = Some(T0);
    for i in 0..200 {
        t.run(&["SET", &format!("user:{i}"), "x"]);
    }
    t.run(&["SET", "other", "x"]);
    t.run(&["SET", "gone", "x", "PX", "10"]);
    assert_eq!(sorted(t.run(&["KEYS", "*"])).len(), 202);
    assert_eq!(sorted(t.run(&["KEYS", "user:*"])).len(), 200);
    assert_eq!(
        sorted(t.run(&["KEYS", "user:1?"])),
        (10..20)
            .map(|i| format!("user:{i}").into_bytes())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        sorted(t.run(&["KEYS", "o[st]her"])),
        vec![b"other".to_vec()]
    );
    t.clock = Some(T0 + 10);
    let off = t.log_offset();
    assert_eq!(sorted(t.run(&["KEYS", "g*"])), Vec::<Vec<u8>>::new());
    // KEYS skips expired keys without deleting them: nothing is propagated.
    assert!(t.writes_since(off).is_empty());
    assert_eq!(t.run(&["DBSIZE"]), int(202));
}

#[test]
fn scan_visits_every_key_across_shards() {
    let mut t = TestDb::with_workers(4);
    assert_eq!(t.srv.keyspace.shard_count(), 16);
    let n = 1000;
    for i in 0..n {
        t.run(&["SET", &format!("key:{i}"), "v"]);
    }
    for count in ["1", "7", "10", "100", "5000"] {
        let (keys, calls) = scan_all(&mut t, &["COUNT", count]);
        let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
        for k in keys {
            *seen.entry(k).or_default() += 1;
        }
        assert_eq!(seen.len(), n, "COUNT {count}");
        // Tables do not change during the scan, so nothing is returned twice.
        assert!(seen.values().all(|&c| c == 1), "COUNT {count}");
        if count == "5000" {
            assert_eq!(calls, 1);
        }
    }
}

#[test]
fn scan_returns_keys_present_throughout_even_while_tables_grow() {
    let mut t = TestDb::with_workers(4);
    for i in 0..300 {
        t.run(&["SET", &format!("old:{i}"), "v"]);
    }
    let mut cursor = "0".to_string();
    let mut seen = std::collections::HashSet::new();
    let mut added = 0;
    loop {
        let Frame::Array(reply) = t.run(&["SCAN", &cursor, "COUNT", "20"]) else {
            panic!()
        };
        let Frame::Array(keys) = &reply[1] else {
            panic!()
        };
        for k in keys {
            seen.insert(k.as_bytes().unwrap().to_vec());
        }
        for _ in 0..50 {
            t.run(&["SET", &format!("new:{added}"), "v"]);
            added += 1;
        }
        cursor = String::from_utf8(reply[0].as_bytes().unwrap().to_vec()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    for i in 0..300 {
        assert!(seen.contains(format!("old:{i}").as_bytes()), "old:{i}");
    }
}

#[test]
fn scan_with_one_shard_uses_plain_table_cursors() {
    let mut t = TestDb::new();
    for i in 0..100 {
        t.run(&["SET", &format!("k{i}"), "v"]);
    }
    let (keys, _) = scan_all(&mut t, &["COUNT", "3"]);
    let uniq: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(uniq.len(), 100);
    // An empty database answers cursor 0 and no keys.
    t.run(&["FLUSHALL"]);
    assert_eq!(
        t.run(&["SCAN", "0"]),
        Frame::Array(vec![bulk("0"), Frame::Array(vec![])])
    );
}

#[test]
fn scan_filters_by_match_and_type_and_drops_expired_keys() {
    let mut t = TestDb::with_workers(4);
    t.clock = Some(T0);
    for i in 0..50 {
        t.run(&["SET", &format!("a:{i}"), "v"]);
        t.run(&["SET", &format!("b:{i}"), "v"]);
    }
    t.run(&["SET", "a:exp", "v", "PX", "5"]);
    let (keys, _) = scan_all(&mut t, &["MATCH", "a:*", "COUNT", "10"]);
    assert_eq!(keys.len(), 51);
    let (keys, _) = scan_all(&mut t, &["TYPE", "string", "MATCH", "b:1*"]);
    assert_eq!(keys.len(), 11);
    let (keys, _) = scan_all(&mut t, &["TYPE", "STRING"]);
    assert_eq!(keys.len(), 101);
    let (keys, _) = scan_all(&mut t, &["TYPE", "hash"]);
    assert!(keys.is_empty());
    let (keys, _) = scan_all(&mut t, &["MATCH", "*"]);
    assert_eq!(keys.len(), 101);

    t.clock = Some(T0 + 5);
    let off = t.log_offset();
    let (keys, _) = scan_all(&mut t, &["MATCH", "a:*"]);
    assert_eq!(keys.len(), 50);
    // SCAN deletes the expired keys it meets, and propagates them.
    assert_eq!(t.writes_since(off), log(&[&["DEL", "a:exp"]]));
    assert_eq!(t.run(&["DBSIZE"]), int(100));
}

#[test]
fn scan_errors() {
    let mut t = TestDb::new();
    for bad in ["abc", " 1", "1x", "-", "18446744073709551616", "0x1"] {
        assert_eq!(t.run(&["SCAN", bad]), err("ERR invalid cursor"), "{bad}");
    }
    // strtoul accepts these.
    for good in ["", "+0", "-0", "-1", "18446744073709551615"] {
        assert!(matches!(t.run(&["SCAN", good]), Frame::Array(_)), "{good}");
    }
    assert_eq!(t.run(&["SCAN", "0", "COUNT", "0"]), err("ERR syntax error"));
    assert_eq!(
        t.run(&["SCAN", "0", "COUNT", "-1"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.run(&["SCAN", "0", "COUNT", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(t.run(&["SCAN", "0", "COUNT"]), err("ERR syntax error"));
    assert_eq!(t.run(&["SCAN", "0", "MATCH"]), err("ERR syntax error"));
    assert_eq!(t.run(&["SCAN", "0", "FOO", "bar"]), err("ERR syntax error"));
    assert_eq!(
        t.run(&["SCAN"]),
        err("ERR wrong number of arguments for 'scan' command")
    );
}

#[test]
fn randomkey_returns_live_keys_and_reclaims_expired_ones() {
    let mut t = TestDb::with_workers(4);
    t.clock = Some(T0);
    assert_eq!(t.run(&["RANDOMKEY"]), Frame::Null);
    t.run(&["SET", "only", "v"]);
    assert_eq!(t.run(&["RANDOMKEY"]), bulk("only"));
    for i in 0..20 {
        t.run(&["SET", &format!("e{i}"), "v", "PX", "10"]);
    }
    t.clock = Some(T0 + 10);
    for _ in 0..5 {
        assert_eq!(t.run(&["RANDOMKEY"]), bulk("only"));
    }
    t.run(&["DEL", "only"]);
    let off = t.log_offset();
    assert_eq!(t.run(&["RANDOMKEY"]), Frame::Null);
    assert_eq!(t.run(&["DBSIZE"]), int(0));
    // Every expired key it met was propagated as DEL.
    assert!(t.writes_since(off).iter().all(|c| c[0] == "DEL"));
}

#[test]
fn rename_and_renamenx() {
    let mut t = TestDb::with_workers(4);
    t.clock = Some(T0);
    assert_eq!(t.run(&["RENAME", "nope", "x"]), err("ERR no such key"));
    assert_eq!(t.run(&["RENAMENX", "nope", "x"]), err("ERR no such key"));
    assert_eq!(t.run(&["RENAME", "nope", "nope"]), err("ERR no such key"));
    t.run(&["SET", "a", "1", "PX", "5000"]);
    t.run(&["SET", "b", "2"]);
    let off = t.log_offset();
    assert_eq!(t.run(&["RENAME", "a", "a"]), ok());
    assert_eq!(t.run(&["RENAMENX", "a", "a"]), int(0));
    assert_eq!(t.run(&["RENAMENX", "a", "b"]), int(0));
    // Nothing changed so far, so nothing was propagated.
    assert!(t.writes_since(off).is_empty());
    // Renames keep the TTL, across shards too.
    for i in 0..20 {
        let (from, to) = if i == 0 {
            ("a".to_string(), "c0".to_string())
        } else {
            (format!("c{}", i - 1), format!("c{i}"))
        };
        assert_eq!(t.run(&["RENAME", &from, &to]), ok());
    }
    assert_eq!(t.run(&["PTTL", "c19"]), int(5000));
    assert_eq!(t.run(&["RENAMENX", "c19", "d"]), int(1));
    assert_eq!(t.run(&["RENAME", "d", "b"]), ok());
    assert_eq!(t.run(&["GET", "b"]), bulk("1"));
    assert_eq!(t.run(&["PTTL", "b"]), int(5000));
    assert_eq!(t.run(&["EXISTS", "a", "d", "c19"]), int(0));
    let w = t.writes_since(off);
    assert_eq!(w.len(), 22);
    assert_eq!(w[0], ["RENAME", "a", "c0"]);
    assert_eq!(w[20], ["RENAMENX", "c19", "d"]);
    assert_eq!(w[21], ["RENAME", "d", "b"]);
    // Renaming onto an expired key is a plain rename; the expired key goes as DEL first.
    t.run(&["SET", "x", "1", "PX", "10"]);
    t.run(&["SET", "y", "2"]);
    t.clock = Some(T0 + 10);
    let off = t.log_offset();
    assert_eq!(t.run(&["RENAMENX", "y", "x"]), int(1));
    assert_eq!(
        t.writes_since(off),
        log(&[&["DEL", "x"], &["RENAMENX", "y", "x"]])
    );
}

#[test]
fn copy_within_and_across_databases() {
    let mut t = TestDb::with_workers(4);
    t.clock = Some(T0);
    t.run(&["SET", "src", "hello", "PX", "3000"]);
    t.run(&["SET", "n", "12"]);
    let off = t.log_offset();
    assert_eq!(t.run(&["COPY", "src", "dst"]), int(1));
    assert_eq!(t.run(&["GET", "dst"]), bulk("hello"));
    assert_eq!(t.run(&["PTTL", "dst"]), int(3000));
    assert_eq!(t.run(&["COPY", "n", "dst"]), int(0));
    assert_eq!(t.run(&["COPY", "n", "dst", "REPLACE"]), int(1));
    assert_eq!(t.run(&["GET", "dst"]), bulk("12"));
    assert_eq!(t.run(&["PTTL", "dst"]), int(-1));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "dst"]), bulk("int"));
    assert_eq!(t.run(&["COPY", "src", "src", "DB", "3"]), int(1));
    assert_eq!(t.run(&["COPY", "src", "src", "db", "3"]), int(0));
    assert_eq!(t.run(&["COPY", "nope", "x"]), int(0));
    t.run(&["SELECT", "3"]);
    assert_eq!(t.run(&["GET", "src"]), bulk("hello"));
    assert_eq!(t.run(&["PTTL", "src"]), int(3000));
    t.run(&["SELECT", "0"]);
    assert_eq!(
        t.log_since(off),
        log(&[
            &["COPY", "src", "dst"],
            &["COPY", "n", "dst", "REPLACE"],
            &["COPY", "src", "src", "DB", "3"],
        ])
    );
    let same = err("ERR source and destination objects are the same");
    assert_eq!(t.run(&["COPY", "src", "src"]), same);
    assert_eq!(t.run(&["COPY", "src", "src", "DB", "0"]), same);
    assert_eq!(t.run(&["COPY", "nope", "nope"]), same);
    assert_eq!(t.run(&["COPY", "src", "x", "DB"]), err("ERR syntax error"));
    assert_eq!(t.run(&["COPY", "src", "x", "FOO"]), err("ERR syntax error"));
    assert_eq!(
        t.run(&["COPY", "src", "x", "DB", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        t.run(&["COPY", "src", "x", "DB", "99999999999"]),
        err("ERR value is out of range, value must between -2147483648 and 2147483647")
    );
    assert_eq!(
        t.run(&["COPY", "src", "x", "DB", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        t.run(&["COPY", "src", "x", "DB", "-1"]),
        err("ERR DB index is out of range")
    );
}

#[test]
fn move_between_databases() {
    let mut t = at(T0);
    t.run(&["SET", "k", "v", "PX", "700"]);
    let off = t.log_offset();
    assert_eq!(t.run(&["MOVE", "k", "2"]), int(1));
    assert_eq!(t.run(&["EXISTS", "k"]), int(0));
    assert_eq!(t.run(&["MOVE", "k", "2"]), int(0));
    t.run(&["SET", "k", "other"]);
    assert_eq!(t.run(&["MOVE", "k", "2"]), int(0));
    t.run(&["SELECT", "2"]);
    assert_eq!(t.run(&["GET", "k"]), bulk("v"));
    assert_eq!(t.run(&["PTTL", "k"]), int(700));
    assert_eq!(
        t.log_since(off),
        log(&[&["MOVE", "k", "2"], &["SET", "k", "other"]])
    );
    let same = err("ERR source and destination objects are the same");
    assert_eq!(t.run(&["MOVE", "k", "2"]), same);
    assert_eq!(t.run(&["MOVE", "nope", "2"]), same);
    assert_eq!(
        t.run(&["MOVE", "k", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        t.run(&["MOVE", "k", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        t.run(&["MOVE", "k", "4294967296"]),
        err("ERR value is out of range, value must between -2147483648 and 2147483647")
    );
}

#[test]
fn expire_family_propagates_pexpireat_with_flags() {
    let mut t = at(T0);
    t.run(&["SET", "k", "v"]);
    let off = t.log_offset();
    assert_eq!(t.run(&["EXPIRE", "k", "100"]), int(1));
    assert_eq!(t.run(&["PEXPIRE", "k", "5000", "lt"]), int(1));
    assert_eq!(t.run(&["EXPIREAT", "k", "1800000000", "GT"]), int(1));
    assert_eq!(t.run(&["pexpireat", "k", "1800000000001", "xx"]), int(1));
    assert_eq!(
        t.writes_since(off),
        log(&[
            &["PEXPIREAT", "k", "1700000100000"],
            &["PEXPIREAT", "k", "1700000005000", "lt"],
            &["PEXPIREAT", "k", "1800000000000", "GT"],
            &["pexpireat", "k", "1800000000001", "xx"],
        ])
    );
    assert_eq!(t.run(&["PEXPIRETIME", "k"]), int(1800000000001));
}

#[test]
fn expire_options_follow_redis() {
    let mut t = at(T0);
    t.run(&["SET", "k", "v"]);
    // Without a TTL: GT never applies (no TTL is infinite), LT always does.
    assert_eq!(t.run(&["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(t.run(&["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(t.run(&["EXPIRE", "k", "100", "LT"]), int(1));
    assert_eq!(t.run(&["TTL", "k"]), int(100));
    assert_eq!(t.run(&["EXPIRE", "k", "100", "LT"]), int(0));
    assert_eq!(t.run(&["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(t.run(&["EXPIRE", "k", "50", "LT"]), int(1));
    assert_eq!(t.run(&["EXPIRE", "k", "200", "GT"]), int(1));
    assert_eq!(t.run(&["EXPIRE", "k", "10", "NX"]), int(0));
    assert_eq!(t.run(&["EXPIRE", "k", "300", "XX"]), int(1));
    assert_eq!(t.run(&["EXPIRE", "k", "400", "XX", "GT"]), int(1));
    assert_eq!(t.run(&["TTL", "k"]), int(400));
    t.run(&["PERSIST", "k"]);
    assert_eq!(t.run(&["EXPIRE", "k", "10", "NX"]), int(1));
    assert_eq!(t.run(&["EXPIRE", "nope", "10"]), int(0));
    assert_eq!(t.run(&["EXPIRE", "nope", "10", "LT"]), int(0));

    let nx = err("ERR NX and XX, GT or LT options at the same time are not compatible");
    assert_eq!(t.run(&["EXPIRE", "k", "10", "NX", "XX"]), nx);
    assert_eq!(t.run(&["EXPIRE", "k", "10", "nx", "gt"]), nx);
    assert_eq!(t.run(&["EXPIRE", "nope", "10", "LT", "NX"]), nx);
    assert_eq!(
        t.run(&["EXPIRE", "k", "10", "GT", "LT"]),
        err("ERR GT and LT options at the same time are not compatible")
    );
    assert_eq!(
        t.run(&["EXPIRE", "k", "10", "foo"]),
        err("ERR Unsupported option foo")
    );
    assert_eq!(
        t.run(&["EXPIRE", "k", "abc", "foo"]),
        err("ERR Unsupported option foo")
    );
    assert_eq!(
        t.run(&["EXPIRE", "k", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    for (cmd, v) in [
        ("EXPIRE", "9223372036854775807"),
        ("EXPIRE", "-9223372036854775808"),
        ("PEXPIRE", "9223372036854775807"),
        ("EXPIREAT", "9223372036854776"),
    ] {
        assert_eq!(
            t.run(&[cmd, "k", v]),
            err(&format!(
                "ERR invalid expire time in '{}' command",
                cmd.to_lowercase()
            ))
        );
    }
    // The largest representable deadline is accepted.
    assert_eq!(t.run(&["PEXPIREAT", "k", "9223372036854775807"]), int(1));
    assert_eq!(t.run(&["EXPIRETIME", "k"]), int(9223372036854776));
    assert_eq!(t.run(&["PEXPIRETIME", "k"]), int(i64::MAX));
}

#[test]
fn expire_in_the_past_deletes_and_propagates_del() {
    let mut t = at(T0);
    for (cmd, v) in [
        ("EXPIRE", "-1"),
        ("EXPIRE", "0"),
        ("PEXPIRE", "0"),
        ("EXPIREAT", "1"),
        ("PEXPIREAT", "1700000000000"),
    ] {
        t.run(&["SET", "k", "v"]);
        let off = t.log_offset();
        assert_eq!(t.run(&[cmd, "k", v]), int(1), "{cmd} {v}");
        assert_eq!(t.run(&["EXISTS", "k"]), int(0));
        assert_eq!(t.writes_since(off), log(&[&["DEL", "k"]]), "{cmd} {v}");
    }
    // Conditions are checked before the deletion.
    t.run(&["SET", "k", "v"]);
    assert_eq!(t.run(&["EXPIRE", "k", "-1", "GT"]), int(0));
    assert_eq!(t.run(&["EXISTS", "k"]), int(1));
}

#[test]
fn ttl_family_rounds_like_redis() {
    let mut t = at(T0);
    t.run(&["SET", "k", "v", "PX", "1500"]);
    assert_eq!(t.run(&["TTL", "k"]), int(2));
    assert_eq!(t.run(&["PTTL", "k"]), int(1500));
    assert_eq!(t.run(&["EXPIRETIME", "k"]), int((T0 + 1500 + 500) / 1000));
    assert_eq!(t.run(&["PEXPIRETIME", "k"]), int(T0 + 1500));
    t.clock = Some(T0 + 1001);
    assert_eq!(t.run(&["TTL", "k"]), int(0));
    assert_eq!(t.run(&["PTTL", "k"]), int(499));
    t.run(&["SET", "p", "v"]);
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(t.run(&[cmd, "p"]), int(-1), "{cmd}");
        assert_eq!(t.run(&[cmd, "nope"]), int(-2), "{cmd}");
    }
    t.clock = Some(T0 + 1500);
    assert_eq!(t.run(&["TTL", "k"]), int(-2));
}

#[test]
fn persist_removes_a_ttl_only_when_there_is_one() {
    let mut t = at(T0);
    t.run(&["SET", "k", "v", "EX", "100"]);
    t.run(&["SET", "p", "v"]);
    let off = t.log_offset();
    assert_eq!(t.run(&["PERSIST", "k"]), int(1));
    assert_eq!(t.run(&["PERSIST", "k"]), int(0));
    assert_eq!(t.run(&["PERSIST", "p"]), int(0));
    assert_eq!(t.run(&["PERSIST", "nope"]), int(0));
    assert_eq!(t.run(&["TTL", "k"]), int(-1));
    assert_eq!(t.writes_since(off), log(&[&["PERSIST", "k"]]));
}

#[test]
fn touch_counts_existing_keys_and_updates_access_time() {
    let mut t = TestDb::with_workers(4);
    t.run(&["SET", "a", "1"]);
    let p = dump_of(&mut t, "a");
    run_p(&mut t, &["RESTORE", "b", "0"], &p, &["IDLETIME", "1000"]);
    assert!(idle(&mut t, "b") >= 1000);
    let off = t.log_offset();
    assert_eq!(t.run(&["TOUCH", "a", "b", "a", "nope"]), int(3));
    assert!(idle(&mut t, "b") < 1000);
    assert!(t.writes_since(off).is_empty());
}

/// Runs `before.. payload after..` (a command with one binary argument).
fn run_p(t: &mut TestDb, before: &[&str], payload: &[u8], after: &[&str]) -> Frame {
    let mut args: Vec<Vec<u8>> = before.iter().map(|a| a.as_bytes().to_vec()).collect();
    args.push(payload.to_vec());
    args.extend(after.iter().map(|a| a.as_bytes().to_vec()));
    t.run(&args)
}

fn idle(t: &mut TestDb, key: &str) -> i64 {
    match t.run(&["OBJECT", "IDLETIME", key]) {
        Frame::Integer(n) => n,
        f => panic!("{f:?}"),
    }
}

fn dump_of(t: &mut TestDb, key: &str) -> Vec<u8> {
    match t.run(&["DUMP", key]) {
        Frame::Bulk(b) => b,
        f => panic!("{f:?}"),
    }
}

#[test]
fn object_subcommands() {
    let mut t = TestDb::new();
    t.run(&["SET", "i", "5"]);
    t.run(&["SET", "big", "123456"]);
    t.run(&["SET", "s", "abc"]);
    t.run(&["SET", "r", &"x".repeat(45)]);
    assert_eq!(t.run(&["OBJECT", "ENCODING", "i"]), bulk("int"));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "s"]), bulk("embstr"));
    assert_eq!(t.run(&["object", "encoding", "r"]), bulk("raw"));
    assert_eq!(t.run(&["OBJECT", "ENCODING", "nope"]), Frame::Null);
    assert_eq!(t.run(&["OBJECT", "REFCOUNT", "i"]), int(2147483647));
    assert_eq!(t.run(&["OBJECT", "REFCOUNT", "big"]), int(1));
    assert_eq!(t.run(&["OBJECT", "REFCOUNT", "s"]), int(1));
    assert_eq!(t.run(&["OBJECT", "REFCOUNT", "nope"]), Frame::Null);
    assert_eq!(t.run(&["OBJECT", "IDLETIME", "nope"]), Frame::Null);
    assert!((0..5).contains(&idle(&mut t, "s")));
    assert_eq!(t.run(&["OBJECT", "FREQ", "nope"]), Frame::Null);
    assert_eq!(
        t.run(&["OBJECT", "FREQ", "s"]),
        err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    );
    assert_eq!(
        t.run(&["OBJECT"]),
        err("ERR wrong number of arguments for 'object' command")
    );
    assert_eq!(
        t.run(&["OBJECT", "ENCODING"]),
        err("ERR wrong number of arguments for 'object|encoding' command")
    );
    assert_eq!(
        t.run(&["OBJECT", "ENCODING", "a", "b"]),
        err("ERR wrong number of arguments for 'object|encoding' command")
    );
    assert_eq!(
        t.run(&["OBJECT", "foo", "k"]),
        err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
    );
    let Frame::Array(help) = t.run(&["object", "help"]) else {
        panic!()
    };
    assert_eq!(
        help[0],
        Frame::Simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
    );
    assert_eq!(help[1], Frame::Simple("ENCODING <key>".into()));
    assert_eq!(help.len(), 15);
    assert_eq!(help[14], Frame::Simple("    Prints this help.".into()));
}

#[test]
fn object_under_lfu_and_lru_policies() {
    let mut t = TestDb::new();
    t.run(&["SET", "i", "5"]);
    t.srv
        .config
        .write()
        .set(&[(&b"maxmemory-policy"[..], &b"allkeys-lfu"[..])])
        .unwrap();
    assert_eq!(t.run(&["OBJECT", "FREQ", "i"]), int(5));
    assert_eq!(
        t.run(&["OBJECT", "IDLETIME", "i"]),
        err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    );
    // Integers are shared unless maxmemory is set with an LRU or LFU policy.
    assert_eq!(t.run(&["OBJECT", "REFCOUNT", "i"]), int(2147483647));
    t.srv
        .config
        .write()
        .set(&[(&b"maxmemory"[..], &b"100mb"[..])])
        .unwrap();
    assert_eq!(t.run(&["OBJECT", "REFCOUNT", "i"]), int(1));
}

#[test]
fn dump_and_restore_round_trip() {
    let mut t = TestDb::with_workers(4);
    t.clock = Some(T0);
    t.run(&["SET", "s", "hello"]);
    let p = dump_of(&mut t, "s");
    // Byte-identical with redis-server 7.0.15.
    assert_eq!(p, b"\x00\x05hello\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a");
    assert_eq!(t.run(&["DUMP", "nope"]), Frame::Null);
    for v in [
        "",
        "0",
        "-42",
        "9999999999",
        &"y".repeat(45),
        &"ab".repeat(100),
    ] {
        t.run(&["SET", "v", v]);
        let enc = t.run(&["OBJECT", "ENCODING", "v"]);
        let p = dump_of(&mut t, "v");
        assert_eq!(
            run_p(&mut t, &["RESTORE", "w", "0"], &p, &["REPLACE"]),
            ok()
        );
        assert_eq!(t.run(&["GET", "w"]), bulk(v));
        assert_eq!(t.run(&["OBJECT", "ENCODING", "w"]), enc);
    }
}

#[test]
fn restore_propagates_absolute_ttls() {
    let mut t = at(T0);
    t.run(&["SET", "s", "hello"]);
    let p = dump_of(&mut t, "s");
    let ps = String::from_utf8_lossy(&p).into_owned();
    let off = t.log_offset();
    assert_eq!(run_p(&mut t, &["RESTORE", "a", "0"], &p, &[]), ok());
    assert_eq!(run_p(&mut t, &["RESTORE", "b", "5000"], &p, &[]), ok());
    assert_eq!(t.run(&["PTTL", "b"]), int(5000));
    assert_eq!(
        run_p(&mut t, &["RESTORE", "b", "6000"], &p, &["REPLACE"]),
        ok()
    );
    assert_eq!(
        run_p(&mut t, &["RESTORE", "c", "1800000000000"], &p, &["ABSTTL"]),
        ok()
    );
    assert_eq!(t.run(&["PEXPIRETIME", "c"]), int(1800000000000));
    assert_eq!(
        run_p(&mut t, &["RESTORE", "d", "7000"], &p, &["IDLETIME", "5"]),
        ok()
    );
    assert_eq!(
        t.writes_since(off),
        log(&[
            &["RESTORE", "a", "0", &ps],
            &["RESTORE", "b", "1700000005000", &ps, "ABSTTL"],
            &["RESTORE", "b", "1700000006000", &ps, "REPLACE", "ABSTTL"],
            &["RESTORE", "c", "1800000000000", &ps, "ABSTTL"],
            &[
                "RESTORE",
                "d",
                "1700000007000",
                &ps,
                "IDLETIME",
                "5",
                "ABSTTL"
            ],
        ])
    );
    assert!((5..10).contains(&idle(&mut t, "d")));
}

#[test]
fn restore_with_a_past_deadline_restores_nothing() {
    let mut t = at(T0);
    t.run(&["SET", "s", "hello"]);
    let p = dump_of(&mut t, "s");
    let off = t.log_offset();
    // Nothing was there: no effect at all.
    assert_eq!(run_p(&mut t, &["RESTORE", "x", "1"], &p, &["ABSTTL"]), ok());
    assert_eq!(t.run(&["EXISTS", "x"]), int(0));
    assert!(t.writes_since(off).is_empty());
    // REPLACE removed the old value: that is propagated as DEL.
    assert_eq!(
        run_p(&mut t, &["RESTORE", "s", "1"], &p, &["ABSTTL", "REPLACE"]),
        ok()
    );
    assert_eq!(t.run(&["EXISTS", "s"]), int(0));
    assert_eq!(t.writes_since(off), log(&[&["DEL", "s"]]));
}

#[test]
fn restore_errors_in_redis_order() {
    let mut t = TestDb::new();
    t.run(&["SET", "s", "hello"]);
    let p = dump_of(&mut t, "s");
    let busy = err("BUSYKEY Target key name already exists.");
    // Options are parsed first, then the existing key, then the TTL, then the payload.
    assert_eq!(
        t.run(&["RESTORE", "s", "0", "junk", "FOO"]),
        err("ERR syntax error")
    );
    assert_eq!(t.run(&["RESTORE", "s", "0", "junk"]), busy);
    assert_eq!(t.run(&["RESTORE", "s", "-1", "junk"]), busy);
    assert_eq!(
        t.run(&["RESTORE", "n", "-1", "junk"]),
        err("ERR Invalid TTL value, must be >= 0")
    );
    assert_eq!(
        t.run(&["RESTORE", "n", "x", "junk"]),
        err("ERR value is not an integer or out of range")
    );
    let footer = err("ERR DUMP payload version or checksum are wrong");
    assert_eq!(t.run(&["RESTORE", "n", "0", "junk"]), footer);
    assert_eq!(t.run(&["RESTORE", "n", "0", ""]), footer);
    let mut bad_crc = p.clone();
    *bad_crc.last_mut().unwrap() ^= 1;
    assert_eq!(run_p(&mut t, &["RESTORE", "n", "0"], &bad_crc, &[]), footer);
    assert_eq!(
        t.run(&["RESTORE", "n", "0", "junk", "IDLETIME", "-1"]),
        err("ERR Invalid IDLETIME value, must be >= 0")
    );
    assert_eq!(
        t.run(&["RESTORE", "n", "0", "junk", "IDLETIME", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        t.run(&["RESTORE", "n", "0", "junk", "IDLETIME"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.run(&["RESTORE", "n", "0", "junk", "FREQ", "256"]),
        err("ERR Invalid FREQ value, must be >= 0 and <= 255")
    );
    assert_eq!(
        t.run(&["RESTORE", "n", "0", "junk", "IDLETIME", "1", "FREQ", "2"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.run(&["RESTORE", "n", "0", "junk", "FREQ", "1", "IDLETIME", "2"]),
        err("ERR syntax error")
    );
    assert_eq!(
        t.run(&["RESTORE", "n", "0"]),
        err("ERR wrong number of arguments for 'restore' command")
    );
    // A body that does not decode.
    let mut body = vec![0x07u8];
    body.extend_from_slice(&p[1..]);
    let mut with_footer = body[..body.len() - 8].to_vec();
    let crc = tern_persist::crc64::crc64(&with_footer);
    with_footer.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(
        run_p(&mut t, &["RESTORE", "n", "0"], &with_footer, &[]),
        err("ERR Bad data format")
    );
    // REPLACE on a failed restore leaves the old value.
    assert_eq!(t.run(&["RESTORE", "s", "0", "junk", "REPLACE"]), footer);
    assert_eq!(t.run(&["GET", "s"]), bulk("hello"));
}
