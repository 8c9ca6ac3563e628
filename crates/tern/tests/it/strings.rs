//! String commands through the `redis` crate, every option and error, with Redis 7.0's exact
//! replies and error texts.

use crate::harness::*;
use std::time::{Duration, Instant};

const INVALID_SET_EXPIRE: &str = "ERR invalid expire time in 'set' command";

#[test]
fn set_then_get_returns_the_value_and_get_of_a_missing_key_is_nil() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["SET", "k", "hello"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("hello"));
    assert_eq!(ok(&mut c, &["GET", "missing"]), Value::Nil);
    // Binary-safe values and an empty value.
    let bin: Vec<u8> = (0u8..=255).collect();
    let _: () = redis::cmd("SET")
        .arg("bin")
        .arg(&bin)
        .query(&mut c)
        .unwrap();
    assert_eq!(ok(&mut c, &["GET", "bin"]), Value::BulkString(bin));
    ok(&mut c, &["SET", "empty", ""]);
    assert_eq!(ok(&mut c, &["GET", "empty"]), bulk(""));
    // Command names are case-insensitive.
    assert_eq!(ok(&mut c, &["sEt", "k", "v2"]), Value::Okay);
    assert_eq!(ok(&mut c, &["get", "k"]), bulk("v2"));
}

#[test]
fn set_nx_sets_only_missing_keys_and_xx_only_existing_ones() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["SET", "k", "1", "NX"]), Value::Okay);
    assert_eq!(ok(&mut c, &["SET", "k", "2", "NX"]), Value::Nil);
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("1"));
    assert_eq!(ok(&mut c, &["SET", "other", "1", "XX"]), Value::Nil);
    assert_eq!(ok(&mut c, &["EXISTS", "other"]), int(0));
    assert_eq!(ok(&mut c, &["SET", "k", "3", "xx"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("3"));
    assert_eq!(
        err(&mut c, &["SET", "k", "4", "NX", "XX"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["SET", "k", "4", "XX", "NX"]),
        "ERR syntax error"
    );
}

#[test]
fn set_get_returns_the_old_value_and_combines_with_nx_and_xx() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["SET", "k", "a", "GET"]), Value::Nil);
    assert_eq!(ok(&mut c, &["SET", "k", "b", "GET"]), bulk("a"));
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("b"));
    // NX GET on an existing key: not set, replies with the current value.
    assert_eq!(ok(&mut c, &["SET", "k", "c", "NX", "GET"]), bulk("b"));
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("b"));
    // XX GET on a missing key: not set, nil.
    assert_eq!(ok(&mut c, &["SET", "new", "c", "XX", "GET"]), Value::Nil);
    assert_eq!(ok(&mut c, &["EXISTS", "new"]), int(0));
}

#[test]
fn set_with_ex_px_exat_pxat_sets_a_ttl_and_plain_set_clears_it() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v", "EX", "100"]);
    let t = ttl(&mut c, "k");
    assert!((99..=100).contains(&t), "ttl {t}");
    ok(&mut c, &["SET", "k", "v", "PX", "100000"]);
    let p = pttl(&mut c, "k");
    assert!((99_000..=100_000).contains(&p), "pttl {p}");
    let at = now_secs() + 1000;
    ok(&mut c, &["SET", "k", "v", "EXAT", &at.to_string()]);
    let t = ttl(&mut c, "k");
    assert!((998..=1000).contains(&t), "ttl {t}");
    assert_eq!(ok(&mut c, &["EXPIRETIME", "k"]), int(at));
    let pat = now_ms() + 50_000;
    ok(&mut c, &["SET", "k", "v", "PXAT", &pat.to_string()]);
    assert_eq!(ok(&mut c, &["PEXPIRETIME", "k"]), int(pat));
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(ttl(&mut c, "k"), -1);
}

#[test]
fn set_keepttl_keeps_the_existing_ttl() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v", "EX", "100"]);
    ok(&mut c, &["SET", "k", "v2", "KEEPTTL"]);
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("v2"));
    assert!(ttl(&mut c, "k") > 90);
    // KEEPTTL on a key without TTL (or missing) leaves no TTL.
    ok(&mut c, &["SET", "n", "v", "KEEPTTL"]);
    assert_eq!(ttl(&mut c, "n"), -1);
}

#[test]
fn set_rejects_bad_option_combinations_with_syntax_errors() {
    let s = TestServer::start();
    let mut c = s.client();
    for args in [
        &["SET", "k", "v", "EX", "10", "PX", "100"][..],
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        &["SET", "k", "v", "KEEPTTL", "PX", "100"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "PXAT"],
        &["SET", "k", "v", "FOO"],
        &["SET", "k", "v", "NX", "NX", "XX"],
        &["SET", "k", "v", "EX", "10", "EXAT", "10"],
    ] {
        assert_eq!(err(&mut c, args), "ERR syntax error", "{args:?}");
    }
    assert_eq!(ok(&mut c, &["EXISTS", "k"]), int(0));
}

#[test]
fn set_rejects_invalid_expire_times_with_redis_text() {
    let s = TestServer::start();
    let mut c = s.client();
    for args in [
        &["SET", "k", "v", "EX", "0"][..],
        &["SET", "k", "v", "EX", "-1"],
        &["SET", "k", "v", "PX", "0"],
        &["SET", "k", "v", "PX", "-100"],
        &["SET", "k", "v", "EXAT", "0"],
        &["SET", "k", "v", "PXAT", "-5"],
        &["SET", "k", "v", "EX", "9223372036854775807"],
        &["SET", "k", "v", "PX", "9223372036854775807"],
    ] {
        assert_eq!(err(&mut c, args), INVALID_SET_EXPIRE, "{args:?}");
    }
    assert_eq!(err(&mut c, &["SET", "k", "v", "EX", "ten"]), NOT_INT);
    assert_eq!(err(&mut c, &["SET", "k", "v", "PX", "1.5"]), NOT_INT);
    assert_eq!(ok(&mut c, &["EXISTS", "k"]), int(0));
}

#[test]
fn set_with_a_deadline_in_the_past_replies_ok_but_the_key_is_gone() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["SET", "k", "v", "EXAT", "1"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "k"]), Value::Nil);
    assert_eq!(ok(&mut c, &["SET", "k", "v", "PXAT", "1000"]), Value::Okay);
    assert_eq!(ok(&mut c, &["EXISTS", "k"]), int(0));
}

#[test]
fn a_key_set_with_px_100_is_present_at_first_and_gone_after_150_ms() {
    let s = TestServer::start();
    let mut c = s.client();
    let t0 = Instant::now();
    ok(&mut c, &["SET", "k", "v", "PX", "100"]);
    let got = ok(&mut c, &["GET", "k"]);
    let p = pttl(&mut c, "k");
    let exists = ok(&mut c, &["EXISTS", "k"]);
    // The "still there" checks only mean something if the machine was not too slow for them.
    if t0.elapsed() < Duration::from_millis(80) {
        assert_eq!(got, bulk("v"));
        assert!((20..=100).contains(&p), "pttl {p}");
        assert_eq!(exists, int(1));
    }
    std::thread::sleep(Duration::from_millis(150).saturating_sub(t0.elapsed()));
    assert_eq!(ok(&mut c, &["GET", "k"]), Value::Nil);
    assert_eq!(ok(&mut c, &["EXISTS", "k"]), int(0));
    assert_eq!(pttl(&mut c, "k"), -2);
}

#[test]
fn setnx_replies_one_when_it_sets_and_zero_when_the_key_exists() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["SETNX", "k", "a"]), int(1));
    assert_eq!(ok(&mut c, &["SETNX", "k", "b"]), int(0));
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("a"));
    assert_eq!(
        err(&mut c, &["SETNX", "k"]),
        "ERR wrong number of arguments for 'setnx' command"
    );
}

#[test]
fn setex_and_psetex_set_value_and_ttl_and_reject_bad_times() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["SETEX", "k", "100", "v"]), Value::Okay);
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("v"));
    assert!((99..=100).contains(&ttl(&mut c, "k")));
    assert_eq!(ok(&mut c, &["PSETEX", "p", "100000", "v"]), Value::Okay);
    assert!((99_000..=100_000).contains(&pttl(&mut c, "p")));
    assert_eq!(
        err(&mut c, &["SETEX", "k", "0", "v"]),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        err(&mut c, &["SETEX", "k", "-10", "v"]),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        err(&mut c, &["PSETEX", "k", "0", "v"]),
        "ERR invalid expire time in 'psetex' command"
    );
    assert_eq!(err(&mut c, &["SETEX", "k", "abc", "v"]), NOT_INT);
    assert_eq!(
        err(&mut c, &["SETEX", "k", "10"]),
        "ERR wrong number of arguments for 'setex' command"
    );
}

#[test]
fn getset_returns_the_old_value_and_clears_the_ttl() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["GETSET", "k", "a"]), Value::Nil);
    ok(&mut c, &["EXPIRE", "k", "100"]);
    assert_eq!(ok(&mut c, &["GETSET", "k", "b"]), bulk("a"));
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("b"));
    assert_eq!(ttl(&mut c, "k"), -1);
}

#[test]
fn getdel_returns_the_value_and_deletes_the_key() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(ok(&mut c, &["GETDEL", "k"]), bulk("v"));
    assert_eq!(ok(&mut c, &["EXISTS", "k"]), int(0));
    assert_eq!(ok(&mut c, &["GETDEL", "k"]), Value::Nil);
}

#[test]
fn getex_sets_or_removes_the_ttl_and_returns_the_value() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(ok(&mut c, &["GETEX", "k"]), bulk("v"));
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(ok(&mut c, &["GETEX", "k", "EX", "100"]), bulk("v"));
    assert!((99..=100).contains(&ttl(&mut c, "k")));
    assert_eq!(ok(&mut c, &["GETEX", "k", "PX", "50000"]), bulk("v"));
    assert!((49_000..=50_000).contains(&pttl(&mut c, "k")));
    let at = now_secs() + 500;
    assert_eq!(
        ok(&mut c, &["GETEX", "k", "EXAT", &at.to_string()]),
        bulk("v")
    );
    assert_eq!(ok(&mut c, &["EXPIRETIME", "k"]), int(at));
    let pat = now_ms() + 70_000;
    assert_eq!(
        ok(&mut c, &["GETEX", "k", "PXAT", &pat.to_string()]),
        bulk("v")
    );
    assert_eq!(ok(&mut c, &["PEXPIRETIME", "k"]), int(pat));
    assert_eq!(ok(&mut c, &["GETEX", "k", "PERSIST"]), bulk("v"));
    assert_eq!(ttl(&mut c, "k"), -1);
    assert_eq!(ok(&mut c, &["GETEX", "missing", "EX", "10"]), Value::Nil);
    assert_eq!(ok(&mut c, &["EXISTS", "missing"]), int(0));
}

#[test]
fn getex_rejects_bad_options_and_invalid_times() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(
        err(&mut c, &["GETEX", "k", "EX", "10", "PERSIST"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["GETEX", "k", "PERSIST", "EX", "10"]),
        "ERR syntax error"
    );
    assert_eq!(err(&mut c, &["GETEX", "k", "EX"]), "ERR syntax error");
    assert_eq!(err(&mut c, &["GETEX", "k", "FOO"]), "ERR syntax error");
    assert_eq!(
        err(&mut c, &["GETEX", "k", "EX", "0"]),
        "ERR invalid expire time in 'getex' command"
    );
    assert_eq!(
        err(&mut c, &["GETEX", "k", "PX", "-1"]),
        "ERR invalid expire time in 'getex' command"
    );
    assert_eq!(err(&mut c, &["GETEX", "k", "EX", "x"]), NOT_INT);
    assert_eq!(ttl(&mut c, "k"), -1);
}

#[test]
fn getex_with_a_past_deadline_deletes_the_key_after_returning_it() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "v"]);
    assert_eq!(ok(&mut c, &["GETEX", "k", "EXAT", "1"]), bulk("v"));
    assert_eq!(ok(&mut c, &["EXISTS", "k"]), int(0));
}

#[test]
fn mset_sets_every_pair_and_mget_returns_nil_for_missing_keys() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(
        ok(&mut c, &["MSET", "a", "1", "b", "2", "a", "3"]),
        Value::Okay
    );
    assert_eq!(
        ok(&mut c, &["MGET", "a", "b", "nope", "a"]),
        Value::Array(vec![bulk("3"), bulk("2"), Value::Nil, bulk("3")])
    );
    assert_eq!(
        err(&mut c, &["MSET", "a", "1", "b"]),
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        err(&mut c, &["MSET", "a"]),
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        err(&mut c, &["MGET"]),
        "ERR wrong number of arguments for 'mget' command"
    );
}

#[test]
fn msetnx_sets_all_keys_or_none() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["MSETNX", "a", "1", "b", "2"]), int(1));
    assert_eq!(ok(&mut c, &["MSETNX", "b", "x", "c", "3"]), int(0));
    assert_eq!(ok(&mut c, &["EXISTS", "c"]), int(0));
    assert_eq!(ok(&mut c, &["GET", "b"]), bulk("2"));
    assert_eq!(
        err(&mut c, &["MSETNX", "a", "1", "b"]),
        "ERR wrong number of arguments for 'msetnx' command"
    );
}

#[test]
fn append_creates_or_extends_and_returns_the_new_length() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["APPEND", "k", "Hello"]), int(5));
    assert_eq!(ok(&mut c, &["APPEND", "k", " World"]), int(11));
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("Hello World"));
    // Appending to an integer-encoded value works on its decimal text.
    ok(&mut c, &["SET", "n", "12"]);
    assert_eq!(ok(&mut c, &["APPEND", "n", "34"]), int(4));
    assert_eq!(ok(&mut c, &["INCR", "n"]), int(1235));
    assert_eq!(ok(&mut c, &["APPEND", "k", ""]), int(11));
}

#[test]
fn strlen_counts_bytes_and_is_zero_for_missing_keys() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "héllo"]);
    assert_eq!(ok(&mut c, &["STRLEN", "k"]), int(6));
    ok(&mut c, &["SET", "n", "-12345"]);
    assert_eq!(ok(&mut c, &["STRLEN", "n"]), int(6));
    assert_eq!(ok(&mut c, &["STRLEN", "missing"]), int(0));
}

#[test]
fn getrange_clamps_indexes_and_supports_negative_ones() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "Hello World"]);
    let cases: &[(&str, &str, &str)] = &[
        ("0", "4", "Hello"),
        ("-5", "-1", "World"),
        ("0", "-1", "Hello World"),
        ("-100", "4", "Hello"),
        ("6", "100", "World"),
        ("5", "3", ""),
        ("-1", "-5", ""),
        ("20", "30", ""),
        ("10", "10", "d"),
        ("-1", "-1", "d"),
    ];
    for (a, b, want) in cases {
        assert_eq!(
            ok(&mut c, &["GETRANGE", "k", a, b]),
            bulk(want),
            "GETRANGE k {a} {b}"
        );
    }
    assert_eq!(ok(&mut c, &["SUBSTR", "k", "0", "4"]), bulk("Hello"));
    assert_eq!(ok(&mut c, &["GETRANGE", "missing", "0", "-1"]), bulk(""));
    ok(&mut c, &["SET", "n", "12345"]);
    assert_eq!(ok(&mut c, &["GETRANGE", "n", "1", "2"]), bulk("23"));
    assert_eq!(err(&mut c, &["GETRANGE", "k", "a", "1"]), NOT_INT);
}

#[test]
fn setrange_overwrites_pads_with_zero_bytes_and_rejects_bad_offsets() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "k", "Hello World"]);
    assert_eq!(ok(&mut c, &["SETRANGE", "k", "6", "Redis"]), int(11));
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk("Hello Redis"));
    assert_eq!(ok(&mut c, &["SETRANGE", "k", "13", "!"]), int(14));
    assert_eq!(ok(&mut c, &["GET", "k"]), bulk(b"Hello Redis\0\0!"));
    assert_eq!(ok(&mut c, &["SETRANGE", "pad", "3", "x"]), int(4));
    assert_eq!(ok(&mut c, &["GET", "pad"]), bulk(b"\0\0\0x"));
    // An empty value never creates the key, and reports the current length.
    assert_eq!(ok(&mut c, &["SETRANGE", "none", "5", ""]), int(0));
    assert_eq!(ok(&mut c, &["EXISTS", "none"]), int(0));
    assert_eq!(ok(&mut c, &["SETRANGE", "k", "100", ""]), int(14));
    assert_eq!(
        err(&mut c, &["SETRANGE", "k", "-1", "x"]),
        "ERR offset is out of range"
    );
    assert_eq!(
        err(&mut c, &["SETRANGE", "k", "536870912", "x"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(
        err(&mut c, &["SETRANGE", "big", "536870911", "xy"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
    assert_eq!(ok(&mut c, &["EXISTS", "big"]), int(0));
    assert_eq!(err(&mut c, &["SETRANGE", "k", "x", "y"]), NOT_INT);
    // Integer-encoded values are edited as text.
    ok(&mut c, &["SET", "n", "1234"]);
    assert_eq!(ok(&mut c, &["SETRANGE", "n", "1", "9"]), int(4));
    assert_eq!(ok(&mut c, &["GET", "n"]), bulk("1934"));
}

#[test]
fn incr_decr_incrby_decrby_count_from_zero() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["INCR", "n"]), int(1));
    assert_eq!(ok(&mut c, &["INCRBY", "n", "10"]), int(11));
    assert_eq!(ok(&mut c, &["DECR", "n"]), int(10));
    assert_eq!(ok(&mut c, &["DECRBY", "n", "15"]), int(-5));
    assert_eq!(ok(&mut c, &["INCRBY", "n", "-5"]), int(-10));
    assert_eq!(ok(&mut c, &["GET", "n"]), bulk("-10"));
    assert_eq!(ok(&mut c, &["DECR", "fresh"]), int(-1));
    ok(&mut c, &["SET", "s", "41"]);
    assert_eq!(ok(&mut c, &["INCR", "s"]), int(42));
    // INCR keeps the TTL.
    ok(&mut c, &["SET", "t", "1", "EX", "100"]);
    ok(&mut c, &["INCR", "t"]);
    assert!(ttl(&mut c, "t") > 90);
}

#[test]
fn incr_family_rejects_non_integers_and_overflow() {
    let s = TestServer::start();
    let mut c = s.client();
    for v in [
        "abc",
        "1.5",
        " 1",
        "1 ",
        "",
        "99999999999999999999",
        "0x10",
        "+1",
    ] {
        ok(&mut c, &["SET", "k", v]);
        assert_eq!(err(&mut c, &["INCR", "k"]), NOT_INT, "INCR on {v:?}");
    }
    assert_eq!(err(&mut c, &["INCRBY", "n", "abc"]), NOT_INT);
    assert_eq!(err(&mut c, &["DECRBY", "n", "1.0"]), NOT_INT);
    ok(&mut c, &["SET", "max", "9223372036854775807"]);
    assert_eq!(
        err(&mut c, &["INCR", "max"]),
        "ERR increment or decrement would overflow"
    );
    ok(&mut c, &["SET", "min", "-9223372036854775808"]);
    assert_eq!(
        err(&mut c, &["DECR", "min"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        err(&mut c, &["INCRBY", "max", "1"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        err(&mut c, &["DECRBY", "z", "-9223372036854775808"]),
        "ERR decrement would overflow"
    );
    assert_eq!(ok(&mut c, &["GET", "max"]), bulk("9223372036854775807"));
}

#[test]
fn incrbyfloat_adds_decimals_like_redis_and_rejects_nan_and_infinity() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "f", "10.5"]);
    assert_eq!(ok(&mut c, &["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
    assert_eq!(ok(&mut c, &["INCRBYFLOAT", "f", "-5"]), bulk("5.6"));
    assert_eq!(ok(&mut c, &["GET", "f"]), bulk("5.6"));
    ok(&mut c, &["SET", "g", "5.0e3"]);
    assert_eq!(ok(&mut c, &["INCRBYFLOAT", "g", "2.0e2"]), bulk("5200"));
    assert_eq!(ok(&mut c, &["INCRBYFLOAT", "new", "3"]), bulk("3"));
    assert_eq!(ok(&mut c, &["INCRBYFLOAT", "new", "1.5"]), bulk("4.5"));
    assert_eq!(
        err(&mut c, &["INCRBYFLOAT", "f", "abc"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        err(&mut c, &["INCRBYFLOAT", "f", "nan"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        err(&mut c, &["INCRBYFLOAT", "f", "inf"]),
        "ERR increment would produce NaN or Infinity"
    );
    ok(&mut c, &["SET", "s", "hello"]);
    assert_eq!(
        err(&mut c, &["INCRBYFLOAT", "s", "1"]),
        "ERR value is not a valid float"
    );
    // INCRBYFLOAT keeps the TTL.
    ok(&mut c, &["SET", "t", "1", "EX", "100"]);
    assert_eq!(ok(&mut c, &["INCRBYFLOAT", "t", "0.5"]), bulk("1.5"));
    assert!(ttl(&mut c, "t") > 90);
}

#[test]
fn commands_with_the_wrong_number_of_arguments_name_themselves_in_the_error() {
    let s = TestServer::start();
    let mut c = s.client();
    let cases: &[&[&str]] = &[
        &["GET"],
        &["GET", "a", "b"],
        &["SET", "k"],
        &["GETSET", "k"],
        &["GETDEL"],
        &["GETEX"],
        &["APPEND", "k"],
        &["STRLEN"],
        &["GETRANGE", "k", "0"],
        &["SETRANGE", "k", "0"],
        &["INCR"],
        &["DECR", "a", "b"],
        &["INCRBY", "k"],
        &["DECRBY", "k"],
        &["INCRBYFLOAT", "k"],
        &["PSETEX", "k", "1"],
    ];
    for args in cases {
        assert_eq!(
            err(&mut c, args),
            format!(
                "ERR wrong number of arguments for '{}' command",
                args[0].to_lowercase()
            ),
            "{args:?}"
        );
    }
}

#[test]
fn unknown_commands_are_reported_with_their_first_arguments() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(
        err(&mut c, &["FOO", "a", "b c"]),
        "ERR unknown command 'FOO', with args beginning with: 'a' 'b c' "
    );
    assert_eq!(
        err(&mut c, &["nosuchcmd"]),
        "ERR unknown command 'nosuchcmd', with args beginning with: "
    );
}

#[test]
fn large_values_round_trip_intact() {
    let s = TestServer::start();
    let mut c = s.client();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(&big)
        .query(&mut c)
        .unwrap();
    assert_eq!(ok(&mut c, &["STRLEN", "big"]), int(big.len() as i64));
    assert_eq!(ok(&mut c, &["GET", "big"]), Value::BulkString(big.clone()));
    assert_eq!(
        ok(&mut c, &["GETRANGE", "big", "1000", "1004"]),
        Value::BulkString(big[1000..=1004].to_vec())
    );
}

#[test]
fn set_accepts_a_repeated_expire_option_and_the_last_one_wins() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(
        ok(&mut c, &["SET", "k", "v", "EX", "1000", "EX", "2000"]),
        Value::Okay
    );
    assert!((1999..=2000).contains(&ttl(&mut c, "k")));
    assert_eq!(
        ok(&mut c, &["SET", "k", "v", "PX", "5000000", "PX", "3000000"]),
        Value::Okay
    );
    assert!((2_999_000..=3_000_000).contains(&pttl(&mut c, "k")));
    // Different expire kinds still conflict.
    assert_eq!(
        err(&mut c, &["SET", "k", "v", "EX", "10", "PX", "10000"]),
        "ERR syntax error"
    );
}

#[test]
fn set_reports_syntax_errors_before_checking_the_expire_value() {
    let s = TestServer::start();
    let mut c = s.client();
    // Redis parses every option first, then validates the time.
    assert_eq!(
        err(&mut c, &["SET", "k", "v", "EX", "0", "BOGUS"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["SET", "k", "v", "EX", "0", "PX", "100"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["SET", "k", "v", "EX", "abc", "KEEPTTL"]),
        "ERR syntax error"
    );
}

#[test]
fn getex_on_a_missing_key_replies_nil_before_checking_the_expire_value() {
    let s = TestServer::start();
    let mut c = s.client();
    assert_eq!(ok(&mut c, &["GETEX", "missing", "EX", "0"]), Value::Nil);
    assert_eq!(ok(&mut c, &["GETEX", "missing", "PXAT", "-1"]), Value::Nil);
    assert_eq!(ok(&mut c, &["GETEX", "missing", "EX", "abc"]), Value::Nil);
    // Syntax errors still come first.
    assert_eq!(
        err(&mut c, &["GETEX", "missing", "EX", "10", "PERSIST"]),
        "ERR syntax error"
    );
}

#[test]
fn incrbyfloat_rounds_like_a_long_double_near_the_64_bit_limits() {
    let s = TestServer::start();
    let mut c = s.client();
    ok(&mut c, &["SET", "big", "9223372036854775807"]);
    assert_eq!(
        ok(&mut c, &["INCRBYFLOAT", "big", "0.1"]),
        bulk("9223372036854775807")
    );
    ok(&mut c, &["SET", "small", "-9223372036854775807"]);
    assert_eq!(
        ok(&mut c, &["INCRBYFLOAT", "small", "-2.25"]),
        bulk("-9223372036854775809")
    );
}
