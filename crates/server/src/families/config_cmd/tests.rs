//! Tests for CONFIG.

use crate::families::command::test_support::*;
use crate::testkit::frames::*;
use crate::testkit::TestDb;
use std::sync::atomic::Ordering::Relaxed;
use tern_resp::Frame;

#[test]
fn get_set_round_trip() {
    let mut t = TestDb::new();
    assert_eq!(
        t.run(&["CONFIG", "GET", "maxmemory"]),
        bulks(&["maxmemory", "0"])
    );
    assert_eq!(
        t.run(&["CONFIG", "SET", "maxmemory", "10mb", "slowlog-max-len", "7"]),
        ok()
    );
    assert_eq!(
        t.run(&["CONFIG", "GET", "maxmemory", "slowlog-max-len"]),
        bulks(&["maxmemory", "10485760", "slowlog-max-len", "7"])
    );
    let many = must_strings(t.run(&["CONFIG", "GET", "maxmemory*"]));
    assert!(many.len() >= 8);
    assert!(many.chunks(2).all(|p| p[0].starts_with("maxmemory")));
    assert_eq!(t.run(&["CONFIG", "GET", "nosuch"]), Frame::Array(vec![]));
}

#[test]
fn resp3_get_is_a_map() {
    let mut t = TestDb::new();
    t.run(&["HELLO", "3"]);
    assert_eq!(
        t.run(&["CONFIG", "GET", "hz"]),
        Frame::Map(vec![(bulk("hz"), bulk("10"))])
    );
}

#[test]
fn set_errors_are_redis_texts() {
    let mut t = TestDb::new();
    let e = |t: &mut TestDb, a: &[&str]| must_err(t.run(a));
    assert_eq!(
        e(&mut t, &["CONFIG", "SET", "a", "b", "c"]),
        "ERR syntax error"
    );
    assert_eq!(
        e(&mut t, &["CONFIG", "SET", "foo", "bar"]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(
        e(&mut t, &["CONFIG", "SET", "maxmemory", "foo"]),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    assert_eq!(
        e(&mut t, &["CONFIG", "SET", "databases", "3"]),
        "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"
    );
    assert_eq!(
        e(
            &mut t,
            &["CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"]
        ),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter"
    );
    assert_eq!(
        e(&mut t, &["CONFIG", "GET"]),
        "ERR wrong number of arguments for 'config|get' command"
    );
    assert_eq!(
        e(&mut t, &["CONFIG", "foo"]),
        "ERR unknown subcommand 'foo'. Try CONFIG HELP."
    );
    assert_eq!(
        e(&mut t, &["CONFIG"]),
        "ERR wrong number of arguments for 'config' command"
    );
    assert_eq!(
        e(&mut t, &["CONFIG", "REWRITE"]),
        "ERR The server is running without a config file"
    );
}

#[test]
fn set_refreshes_hot_settings() {
    let mut t = TestDb::new();
    t.run(&[
        "CONFIG",
        "SET",
        "slowlog-log-slower-than",
        "0",
        "requirepass",
        "pw",
    ]);
    assert_eq!(t.srv.hot.slowlog_slower_than.load(Relaxed), 0);
    assert!(t.srv.hot.requirepass_set.load(Relaxed));
    // A new connection must now authenticate.
    let mut other = TestDb::connect(t.srv.clone());
    other.cl.authenticated = !t.srv.hot.requirepass_set.load(Relaxed);
    assert_eq!(
        must_err(other.run(&["GET", "a"])),
        "NOAUTH Authentication required."
    );
}

#[test]
fn resetstat_clears_counters_but_not_the_slowlog() {
    let mut t = TestDb::new();
    t.run(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    t.run(&["GET", "a"]);
    t.run(&["NOSUCH"]);
    assert_eq!(t.run(&["CONFIG", "RESETSTAT"]), ok());
    let info = must_str(t.run(&["INFO", "commandstats", "errorstats", "stats"]));
    assert!(!info.contains("cmdstat_get"), "{info}");
    assert!(!info.contains("errorstat_ERR"));
    assert!(info.contains("keyspace_misses:0\r\n"));
    assert!(matches!(t.run(&["SLOWLOG", "LEN"]), Frame::Integer(n) if n > 0));
    let help = must_strings(t.run(&["CONFIG", "HELP"]));
    assert_eq!(help.len(), 11);
}
