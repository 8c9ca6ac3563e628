//! Key-space and database commands (Redis's db.c, expire.c, object.c, cluster.c DUMP/RESTORE)
//! with Redis 7.0 replies and error texts.

use crate::harness::*;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const DB_RANGE: &str = "ERR DB index is out of range";

#[test]
fn del_and_unlink_count_the_keys_they_removed() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(ok(&mut c, &["DEL", "a", "b", "missing", "a"]), int(2));
    assert_eq!(ok(&mut c, &["UNLINK", "c", "missing"]), int(1));
    assert_eq!(ok(&mut c, &["DEL", "a"]), int(0));
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(0));
    assert_eq!(
        err(&mut c, &["DEL"]),
        "ERR wrong number of arguments for 'del' command"
    );
    assert_eq!(
        err(&mut c, &["UNLINK"]),
        "ERR wrong number of arguments for 'unlink' command"
    );
}

#[test]
fn exists_counts_every_argument_including_repeats() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "a", "1"]);
    assert_eq!(ok(&mut c, &["EXISTS", "a"]), int(1));
    assert_eq!(ok(&mut c, &["EXISTS", "a", "a", "b"]), int(2));
    assert_eq!(ok(&mut c, &["EXISTS", "b"]), int(0));
    assert_eq!(
        err(&mut c, &["EXISTS"]),
        "ERR wrong number of arguments for 'exists' command"
    );
}

#[test]
fn type_reports_string_or_none() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "a", "1"]);
    ok(&mut c, &["SET", "b", "text"]);
    assert_eq!(
        ok(&mut c, &["TYPE", "a"]),
        Value::SimpleString("string".into())
    );
    assert_eq!(
        ok(&mut c, &["TYPE", "b"]),
        Value::SimpleString("string".into())
    );
    assert_eq!(
        ok(&mut c, &["TYPE", "missing"]),
        Value::SimpleString("none".into())
    );
}

#[test]
fn keys_matches_glob_patterns() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(
        &mut c,
        &[
            "MSET", "hello", "1", "hallo", "1", "hxllo", "1", "hllo", "1", "heeeello", "1",
            "other", "1", "h*llo", "1",
        ],
    );
    let keys = |c: &mut redis::Connection, p: &str| sorted_texts(&ok(c, &["KEYS", p]));
    assert_eq!(keys(&mut c, "h?llo"), ["h*llo", "hallo", "hello", "hxllo"]);
    assert_eq!(
        keys(&mut c, "h*llo"),
        ["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]
    );
    assert_eq!(keys(&mut c, "h[ae]llo"), ["hallo", "hello"]);
    assert_eq!(keys(&mut c, "h[^e]llo"), ["h*llo", "hallo", "hxllo"]);
    assert_eq!(keys(&mut c, "h[a-b]llo"), ["hallo"]);
    assert_eq!(keys(&mut c, "h\\*llo"), ["h*llo"]);
    assert_eq!(keys(&mut c, "*").len(), 7);
    assert_eq!(keys(&mut c, "nomatch*"), Vec::<String>::new());
    // Expired keys are not listed.
    ok(&mut c, &["SET", "gone", "1", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(keys(&mut c, "gone"), Vec::<String>::new());
}

/// Runs a full SCAN iteration (bounded) and returns the keys seen.
fn scan_all(c: &mut redis::Connection, extra: &[&str]) -> BTreeSet<String> {
    let mut cursor = "0".to_string();
    let mut seen = BTreeSet::new();
    for _ in 0..10_000 {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let reply = items(&ok(c, &args));
        assert_eq!(reply.len(), 2, "SCAN replies [cursor, keys]");
        let next = text(&reply[0]);
        for k in items(&reply[1]) {
            seen.insert(text(&k));
        }
        if next == "0" {
            return seen;
        }
        cursor = next;
    }
    panic!("SCAN did not finish in 10,000 calls");
}

#[test]
fn scan_visits_every_key_and_honours_match_count_and_type() {
    let s = TestServer::start();
    let mut c = s.client();
    let mut p = redis::pipe();
    for i in 0..500 {
        p.cmd("SET").arg(format!("key:{i}")).arg(i).ignore();
    }
    for i in 0..50 {
        p.cmd("SET").arg(format!("other:{i}")).arg(i).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let all = scan_all(&mut c, &[]);
    assert_eq!(all.len(), 550);
    let matched = scan_all(&mut c, &["MATCH", "other:*", "COUNT", "7"]);
    assert_eq!(matched.len(), 50);
    assert!(matched.iter().all(|k| k.starts_with("other:")));
    let strings = scan_all(&mut c, &["COUNT", "1000", "TYPE", "string"]);
    assert_eq!(strings.len(), 550);
    let lists = scan_all(&mut c, &["TYPE", "list"]);
    assert!(lists.is_empty());
    // COUNT is a hint: a large count on a small db returns everything in one call.
    let reply = items(&ok(&mut c, &["SCAN", "0", "COUNT", "100000"]));
    assert_eq!(text(&reply[0]), "0");
    assert_eq!(items(&reply[1]).len(), 550);
}

#[test]
fn scan_rejects_bad_cursors_counts_and_options() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(err(&mut c, &["SCAN", "abc"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["SCAN", "1x"]), "ERR invalid cursor");
    assert_eq!(
        err(&mut c, &["SCAN", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    assert_eq!(err(&mut c, &["SCAN", "0", "COUNT", "x"]), NOT_INT);
    assert_eq!(err(&mut c, &["SCAN", "0", "FOO", "1"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["SCAN", "0", "MATCH"]), "ERR syntax error");
    // On an empty database the first call ends the iteration.
    assert_eq!(
        ok(&mut c, &["SCAN", "0"]),
        Value::Array(vec![bulk("0"), Value::Array(vec![])])
    );
}

#[test]
fn randomkey_returns_nil_on_an_empty_db_and_an_existing_key_otherwise() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["RANDOMKEY"]), Value::Nil);
    ok(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]);
    for _ in 0..20 {
        let k = text(&ok(&mut c, &["RANDOMKEY"]));
        assert!(["a", "b", "c"].contains(&k.as_str()), "{k}");
    }
}

#[test]
fn rename_moves_the_value_and_its_ttl_and_fails_on_missing_keys() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "a", "1", "EX", "100"]);
    ok(&mut c, &["SET", "b", "old"]);
    assert_eq!(ok(&mut c, &["RENAME", "a", "b"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "b"]), bulk("1"));
    assert_eq!(ok(&mut c, &["EXISTS", "a"]), int(0));
    assert!(ttl(&mut c, "b") > 90);
    assert_eq!(err(&mut c, &["RENAME", "a", "z"]), "ERR no such key");
    // Renaming a key to itself is fine when it exists.
    assert_eq!(ok(&mut c, &["RENAME", "b", "b"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "b"]), bulk("1"));
    // A plain destination loses its own TTL to the source's (none).
    ok(&mut c, &["SET", "x", "1"]);
    ok(&mut c, &["SET", "y", "2", "EX", "100"]);
    ok(&mut c, &["RENAME", "x", "y"]);
    assert_eq!(ttl(&mut c, "y"), -1);
}

#[test]
fn renamenx_renames_only_onto_a_missing_key() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(ok(&mut c, &["RENAMENX", "a", "b"]), int(0));
    assert_eq!(ok(&mut c, &["GET", "a"]), bulk("1"));
    assert_eq!(ok(&mut c, &["RENAMENX", "a", "c"]), int(1));
    assert_eq!(ok(&mut c, &["GET", "c"]), bulk("1"));
    assert_eq!(err(&mut c, &["RENAMENX", "a", "d"]), "ERR no such key");
    assert_eq!(ok(&mut c, &["RENAMENX", "c", "c"]), int(0));
}

#[test]
fn copy_duplicates_values_with_their_ttl_across_databases() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "a", "1", "EX", "100"]);
    ok(&mut c, &["SET", "b", "2"]);
    assert_eq!(ok(&mut c, &["COPY", "a", "new"]), int(1));
    assert_eq!(ok(&mut c, &["GET", "new"]), bulk("1"));
    assert!(ttl(&mut c, "new") > 90);
    assert_eq!(ok(&mut c, &["COPY", "a", "b"]), int(0));
    assert_eq!(ok(&mut c, &["GET", "b"]), bulk("2"));
    assert_eq!(ok(&mut c, &["COPY", "a", "b", "REPLACE"]), int(1));
    assert_eq!(ok(&mut c, &["GET", "b"]), bulk("1"));
    assert_eq!(ok(&mut c, &["COPY", "missing", "x"]), int(0));
    assert_eq!(ok(&mut c, &["COPY", "a", "a", "DB", "1"]), int(1));
    ok(&mut c, &["SELECT", "1"]);
    assert_eq!(ok(&mut c, &["GET", "a"]), bulk("1"));
    ok(&mut c, &["SELECT", "0"]);
    assert_eq!(
        err(&mut c, &["COPY", "a", "a"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(err(&mut c, &["COPY", "a", "z", "DB", "99"]), DB_RANGE);
    assert_eq!(err(&mut c, &["COPY", "a", "z", "DB", "x"]), NOT_INT);
    assert_eq!(err(&mut c, &["COPY", "a", "z", "FOO"]), "ERR syntax error");
}

#[test]
fn move_transfers_a_key_to_another_database_unless_it_exists_there() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "a", "1", "EX", "100"]);
    assert_eq!(ok(&mut c, &["MOVE", "a", "1"]), int(1));
    assert_eq!(ok(&mut c, &["EXISTS", "a"]), int(0));
    ok(&mut c, &["SELECT", "1"]);
    assert_eq!(ok(&mut c, &["GET", "a"]), bulk("1"));
    assert!(ttl(&mut c, "a") > 90);
    ok(&mut c, &["SELECT", "0"]);
    ok(&mut c, &["SET", "a", "0"]);
    assert_eq!(ok(&mut c, &["MOVE", "a", "1"]), int(0));
    assert_eq!(ok(&mut c, &["GET", "a"]), bulk("0"));
    assert_eq!(ok(&mut c, &["MOVE", "missing", "1"]), int(0));
    assert_eq!(
        err(&mut c, &["MOVE", "a", "0"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(err(&mut c, &["MOVE", "a", "99"]), DB_RANGE);
    assert_eq!(err(&mut c, &["MOVE", "a", "x"]), NOT_INT);
}

#[test]
fn expire_family_sets_relative_and_absolute_deadlines() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "100"]), int(1));
    assert!((99..=100).contains(&ttl(&mut c, "k")));
    assert_eq!(ok(&mut c, &["PEXPIRE", "k", "50000"]), int(1));
    assert!((49_000..=50_000).contains(&pttl(&mut c, "k")));
    let at = now_secs() + 300;
    assert_eq!(ok(&mut c, &["EXPIREAT", "k", &at.to_string()]), int(1));
    assert_eq!(ok(&mut c, &["EXPIRETIME", "k"]), int(at));
    assert_eq!(ok(&mut c, &["PEXPIRETIME", "k"]), int(at * 1000));
    let pat = now_ms() + 400_000;
    assert_eq!(ok(&mut c, &["PEXPIREAT", "k", &pat.to_string()]), int(1));
    assert_eq!(ok(&mut c, &["PEXPIRETIME", "k"]), int(pat));
    assert_eq!(ok(&mut c, &["EXPIRETIME", "k"]), int((pat + 500) / 1000));
    assert_eq!(ok(&mut c, &["EXPIRE", "missing", "100"]), int(0));
    assert_eq!(ok(&mut c, &["PEXPIREAT", "missing", "1"]), int(0));
}

#[test]
fn ttl_pttl_expiretime_report_minus_one_without_ttl_and_minus_two_when_missing() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(ok(&mut c, &[cmd, "k"]), int(-1), "{cmd} k");
        assert_eq!(ok(&mut c, &[cmd, "missing"]), int(-2), "{cmd} missing");
    }
}

#[test]
fn expire_with_a_non_positive_time_deletes_the_key() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["MSET", "a", "1", "b", "1", "c", "1"]);
    assert_eq!(ok(&mut c, &["EXPIRE", "a", "0"]), int(1));
    assert_eq!(ok(&mut c, &["PEXPIRE", "b", "-5"]), int(1));
    assert_eq!(ok(&mut c, &["EXPIREAT", "c", "1"]), int(1));
    assert_eq!(ok(&mut c, &["EXISTS", "a", "b", "c"]), int(0));
}

#[test]
fn expire_options_nx_xx_gt_lt_follow_redis_rules() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    // No TTL yet: XX and GT do nothing (no TTL counts as infinite), NX and LT set it.
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "100", "XX"]), int(0));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "100", "LT"]), int(1));
    ok(&mut c, &["PERSIST", "k"]);
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "100", "NX"]), int(1));
    // With a TTL of 100: NX does nothing, XX sets, GT only raises, LT only lowers.
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "200", "NX"]), int(0));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "200", "XX"]), int(1));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "100", "GT"]), int(0));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "300", "GT"]), int(1));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "400", "LT"]), int(0));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "50", "lt"]), int(1));
    assert!((49..=50).contains(&ttl(&mut c, "k")));
    assert_eq!(ok(&mut c, &["EXPIRE", "k", "60", "XX", "GT"]), int(1));
    assert_eq!(ok(&mut c, &["PEXPIRE", "k", "1000", "GT"]), int(0));
}

#[test]
fn expire_rejects_incompatible_options_and_bad_times() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "10", "NX", "XX"]),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "10", "NX", "GT"]),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "10", "GT", "LT"]),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "10", "FOO"]),
        "ERR Unsupported option FOO"
    );
    assert_eq!(err(&mut c, &["EXPIRE", "k", "abc"]), NOT_INT);
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err(&mut c, &["PEXPIRE", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'pexpire' command"
    );
    assert_eq!(
        err(&mut c, &["EXPIREAT", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'expireat' command"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k"]),
        "ERR wrong number of arguments for 'expire' command"
    );
    assert_eq!(ttl(&mut c, "k"), -1);
}

#[test]
fn persist_removes_a_ttl_and_reports_whether_it_did() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v", "EX", "100"]);
    assert_eq!(ok(&mut c, &["PERSIST", "k"]), int(1));
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(ok(&mut c, &["PERSIST", "k"]), int(0));
    assert_eq!(ok(&mut c, &["PERSIST", "missing"]), int(0));
}

#[test]
fn touch_counts_existing_keys() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["MSET", "a", "1", "b", "2"]);
    assert_eq!(ok(&mut c, &["TOUCH", "a", "b", "c"]), int(2));
    assert_eq!(ok(&mut c, &["TOUCH", "c"]), int(0));
}

#[test]
fn object_encoding_distinguishes_int_embstr_and_raw() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "i", "12345"]);
    ok(&mut c, &["SET", "neg", "-7"]);
    ok(&mut c, &["SET", "e", "hello"]);
    ok(&mut c, &["SET", "e44", &"x".repeat(44)]);
    ok(&mut c, &["SET", "r45", &"x".repeat(45)]);
    ok(&mut c, &["SET", "lead0", "012"]);
    ok(&mut c, &["SET", "big", "12345678901234567890"]);
    let enc = |c: &mut redis::Connection, k: &str| text(&ok(c, &["OBJECT", "ENCODING", k]));
    assert_eq!(enc(&mut c, "i"), "int");
    assert_eq!(enc(&mut c, "neg"), "int");
    assert_eq!(enc(&mut c, "e"), "embstr");
    assert_eq!(enc(&mut c, "e44"), "embstr");
    assert_eq!(enc(&mut c, "r45"), "raw");
    assert_eq!(enc(&mut c, "lead0"), "embstr");
    assert_eq!(enc(&mut c, "big"), "embstr");
    // APPEND and SETRANGE make raw strings; INCR makes an int.
    ok(&mut c, &["APPEND", "e", "!"]);
    assert_eq!(enc(&mut c, "e"), "raw");
    ok(&mut c, &["INCR", "n"]);
    assert_eq!(enc(&mut c, "n"), "int");
    assert_eq!(ok(&mut c, &["OBJECT", "ENCODING", "missing"]), Value::Nil);
}

#[test]
fn object_encoding_of_values_made_by_append_and_incrbyfloat_matches_redis() {
    let s = TestServer::start();
    let mut c = s.client();
    let enc = |c: &mut redis::Connection, k: &str| text(&ok(c, &["OBJECT", "ENCODING", k]));
    // APPEND to a missing key stores the argument as SET would: int, embstr.
    ok(&mut c, &["APPEND", "n", "123"]);
    assert_eq!(enc(&mut c, "n"), "int");
    ok(&mut c, &["APPEND", "e", ""]);
    assert_eq!(enc(&mut c, "e"), "embstr");
    ok(&mut c, &["APPEND", "h", "hello"]);
    assert_eq!(enc(&mut c, "h"), "embstr");
    // INCRBYFLOAT stores its result as a string, even when it is integral.
    ok(&mut c, &["SET", "f", "10.5"]);
    assert_eq!(ok(&mut c, &["INCRBYFLOAT", "f", "0.5"]), bulk("11"));
    assert_eq!(enc(&mut c, "f"), "embstr");
}

#[test]
fn object_refcount_idletime_and_freq_report_like_redis() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "hello"]);
    assert_eq!(ok(&mut c, &["OBJECT", "REFCOUNT", "k"]), int(1));
    let idle = as_int(&ok(&mut c, &["OBJECT", "IDLETIME", "k"]));
    assert!((0..=2).contains(&idle), "idle {idle}");
    assert_eq!(
        err(&mut c, &["OBJECT", "FREQ", "k"]),
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    );
    ok(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    );
    let f = as_int(&ok(&mut c, &["OBJECT", "FREQ", "k"]));
    assert!((0..=255).contains(&f), "freq {f}");
    assert_eq!(
        err(&mut c, &["OBJECT", "IDLETIME", "k"]),
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    );
    for sub in ["REFCOUNT", "IDLETIME", "FREQ", "ENCODING"] {
        assert_eq!(ok(&mut c, &["OBJECT", sub, "missing"]), Value::Nil, "{sub}");
    }
    assert_eq!(
        err(&mut c, &["OBJECT", "FOO", "k"]),
        "ERR unknown subcommand 'FOO'. Try OBJECT HELP."
    );
    assert!(!items(&ok(&mut c, &["OBJECT", "HELP"])).is_empty());
}

#[test]
fn dump_and_restore_round_trip_values_and_ttls() {
    let s = TestServer::start();
    let mut c = s.client();
    for (k, v) in [
        ("s", "hello"),
        ("i", "12345"),
        ("l", &"abc".repeat(100)[..]),
    ] {
        ok(&mut c, &["SET", k, v]);
        let payload = ok(&mut c, &["DUMP", k]);
        let Value::BulkString(p) = payload else {
            panic!("DUMP should reply a bulk string, got {payload:?}")
        };
        let dst = format!("{k}-copy");
        let r: Value = redis::cmd("RESTORE")
            .arg(&dst)
            .arg(0)
            .arg(&p)
            .query(&mut c)
            .unwrap();
        assert_eq!(r, Value::Okay);
        assert_eq!(ok(&mut c, &["GET", &dst]), bulk(v));
        assert_eq!(ttl(&mut c, &dst), -1);
        // An existing target needs REPLACE.
        let e = redis::cmd("RESTORE")
            .arg(&dst)
            .arg(0)
            .arg(&p)
            .query::<Value>(&mut c)
            .unwrap_err();
        assert_eq!(
            server_error_text(&e).unwrap(),
            "BUSYKEY Target key name already exists."
        );
        let r: Value = redis::cmd("RESTORE")
            .arg(&dst)
            .arg(5000)
            .arg(&p)
            .arg("REPLACE")
            .query(&mut c)
            .unwrap();
        assert_eq!(r, Value::Okay);
        let p5 = pttl(&mut c, &dst);
        assert!((4000..=5000).contains(&p5), "pttl {p5}");
        let at = now_ms() + 60_000;
        let r: Value = redis::cmd("RESTORE")
            .arg(&dst)
            .arg(at)
            .arg(&p)
            .arg("REPLACE")
            .arg("ABSTTL")
            .query(&mut c)
            .unwrap();
        assert_eq!(r, Value::Okay);
        assert_eq!(ok(&mut c, &["PEXPIRETIME", &dst]), int(at));
    }
    assert_eq!(ok(&mut c, &["DUMP", "missing"]), Value::Nil);
}

#[test]
fn restore_rejects_corrupt_payloads_and_bad_arguments() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(
        err(&mut c, &["RESTORE", "k", "0", "garbage"]),
        "ERR DUMP payload version or checksum are wrong"
    );
    ok(&mut c, &["SET", "s", "hello"]);
    let Value::BulkString(mut p) = ok(&mut c, &["DUMP", "s"]) else {
        panic!("DUMP")
    };
    let last = p.len() - 1;
    p[last] ^= 0xff;
    let e = redis::cmd("RESTORE")
        .arg("k")
        .arg(0)
        .arg(&p)
        .query::<Value>(&mut c)
        .unwrap_err();
    assert_eq!(
        server_error_text(&e).unwrap(),
        "ERR DUMP payload version or checksum are wrong"
    );
    p[last] ^= 0xff;
    let e = redis::cmd("RESTORE")
        .arg("k")
        .arg(-1)
        .arg(&p)
        .query::<Value>(&mut c)
        .unwrap_err();
    assert_eq!(
        server_error_text(&e).unwrap(),
        "ERR Invalid TTL value, must be >= 0"
    );
    let e = redis::cmd("RESTORE")
        .arg("k")
        .arg(0)
        .arg(&p)
        .arg("FOO")
        .query::<Value>(&mut c)
        .unwrap_err();
    assert_eq!(server_error_text(&e).unwrap(), "ERR syntax error");
    assert_eq!(ok(&mut c, &["EXISTS", "k"]), int(0));
}

/// DUMPs `k` (set to `v`) on `from` and RESTOREs it on `to`.
fn transfer(from: &mut redis::Connection, to: &mut redis::Connection, k: &str, v: &str, dir: &str) {
    ok(from, &["SET", k, v]);
    let Value::BulkString(p) = ok(from, &["DUMP", k]) else {
        panic!("DUMP")
    };
    let res = redis::cmd("RESTORE")
        .arg(k)
        .arg(0)
        .arg(&p)
        .arg("REPLACE")
        .query::<Value>(to);
    assert_eq!(
        res.map_err(|e| e.to_string()),
        Ok(Value::Okay),
        "{dir}: RESTORE of {v:?} (payload {p:?})"
    );
    assert_eq!(ok(to, &["GET", k]), bulk(v), "{dir}");
}

#[test]
fn dump_payloads_are_interchangeable_with_real_redis() {
    let tern = TestServer::start();
    let redis = RedisServer::start();
    let mut t = tern.client();
    let mut r = redis.client();
    let long = "xyz".repeat(50);
    let values = ["hello", "12345", "-1", "", "9223372036854775807", &long];
    for (i, v) in values.iter().enumerate() {
        let k = format!("k{i}");
        transfer(&mut t, &mut r, &k, v, "tern->redis");
        transfer(&mut r, &mut t, &k, v, "redis->tern");
    }
}

#[test]
fn select_switches_databases_and_rejects_bad_indexes() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "db0"]);
    assert_eq!(ok(&mut c, &["SELECT", "15"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "k"]), Value::Nil);
    ok(&mut c, &["SET", "k", "db15"]);
    ok(&mut c, &["SELECT", "0"]);
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("db0"));
    assert_eq!(err(&mut c, &["SELECT", "16"]), DB_RANGE);
    assert_eq!(err(&mut c, &["SELECT", "-1"]), DB_RANGE);
    assert_eq!(err(&mut c, &["SELECT", "x"]), NOT_INT);
}

#[test]
fn dbsize_flushdb_and_flushall_act_on_one_or_all_databases() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["MSET", "a", "1", "b", "2"]);
    ok(&mut c, &["SELECT", "1"]);
    ok(&mut c, &["SET", "c", "3"]);
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(1));
    ok(&mut c, &["SELECT", "0"]);
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(2));
    assert_eq!(ok(&mut c, &["FLUSHDB"]), Value::Okay);
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(0));
    ok(&mut c, &["SELECT", "1"]);
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(1));
    ok(&mut c, &["SET", "d", "4"]);
    ok(&mut c, &["SELECT", "0"]);
    ok(&mut c, &["SET", "e", "5"]);
    assert_eq!(ok(&mut c, &["FLUSHALL"]), Value::Okay);
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(0));
    ok(&mut c, &["SELECT", "1"]);
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(0));
    assert_eq!(ok(&mut c, &["FLUSHDB", "ASYNC"]), Value::Okay);
    assert_eq!(ok(&mut c, &["FLUSHALL", "SYNC"]), Value::Okay);
    assert_eq!(err(&mut c, &["FLUSHALL", "FOO"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["FLUSHDB", "FOO"]), "ERR syntax error");
}

#[test]
fn swapdb_exchanges_two_databases_for_every_client() {
    let s = TestServer::start();
    let mut c = s.client();
    let mut other = s.client();
    ok(&mut c, &["SET", "k", "in0"]);
    ok(&mut other, &["SELECT", "1"]);
    ok(&mut other, &["MSET", "k", "in1", "x", "1"]);
    assert_eq!(ok(&mut c, &["SWAPDB", "0", "1"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("in1"));
    assert_eq!(ok(&mut c, &["DBSIZE"]), int(2));
    assert_eq!(ok(&mut other, &["GET", "k"]), bulk("in0"));
    assert_eq!(
        err(&mut c, &["SWAPDB", "0", "99"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut c, &["SWAPDB", "x", "1"]),
        "ERR invalid first DB index"
    );
    assert_eq!(
        err(&mut c, &["SWAPDB", "0", "y"]),
        "ERR invalid second DB index"
    );
}

#[test]
fn active_expiry_removes_a_thousand_untouched_keys_within_two_seconds() {
    let s = TestServer::start();
    let mut c = s.client();
    let mut p = redis::pipe();
    for i in 0..1000 {
        p.cmd("SET")
            .arg(format!("exp:{i}"))
            .arg("v")
            .arg("PX")
            .arg(50)
            .ignore();
    }
    ok(&mut c, &["SET", "keeper", "v"]);
    let _: () = p.query(&mut c).unwrap();
    let t0 = Instant::now();
    let mut size = -1;
    let emptied = wait_for(
        || {
            size = as_int(&ok(&mut c, &["DBSIZE"]));
            size == 1
        },
        Duration::from_secs(2),
    );
    assert!(
        emptied,
        "DBSIZE still {size} after {:?}: active expiry did not remove the keys",
        t0.elapsed()
    );
    assert_eq!(ok(&mut c, &["GET", "keeper"]), bulk("v"));
}
